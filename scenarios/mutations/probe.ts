import { createRequire } from 'node:module';

/**
 * @babel/parser, loaded when a probe is first placed: it costs every command line about 150 ms of
 * start-up otherwise, and only `mutants` (and a run against a mutant) needs it.
 */
let babelParse: typeof import('@babel/parser').parse | undefined;
function parse(...args: Parameters<typeof import('@babel/parser').parse>): ReturnType<typeof import('@babel/parser').parse> {
  babelParse ??= (createRequire(import.meta.url)('@babel/parser') as typeof import('@babel/parser')).parse;
  return babelParse(...args);
}

/** The global the probe counts in: how often the patched code ran in this process. */
export const probeCounter = '__detcdMutantHits';

export function resetProbe(): void {
  (globalThis as Record<string, unknown>)[probeCounter] = 0;
}

export function probeHits(): number {
  return ((globalThis as Record<string, unknown>)[probeCounter] as number | undefined) ?? 0;
}

interface AstNode {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

/**
 * Inserts a counter before the innermost statement that contains the text at [start, end) of a
 * TypeScript source (parsed with @babel/parser), or — when the text spans several statements of
 * one block — before the first of them: each time that statement runs, the global counter goes
 * up. That is how a mutation hunt learns whether a run executed the patched code. A patch inside a
 * condition counts when the condition is evaluated; one with no statement around it (a class
 * field) counts nothing.
 */
export function insertProbe(source: string, from: number, to: number): string {
  const counter = `(globalThis as unknown as Record<string, number>).${probeCounter} = ((globalThis as unknown as Record<string, number>).${probeCounter} ?? 0) + 1;`;
  let start = from;
  let end = to;
  while (start < end && /\s/.test(source[start]!)) start++;
  while (end > start && /\s/.test(source[end - 1]!)) end--;
  // A patch that deletes whole statements: the counter goes where they were.
  if (start === end) return `${source.slice(0, start)}${counter}${source.slice(start)}`;
  const program = (parse(source, { sourceType: 'module', plugins: ['typescript'] }) as unknown as { program: AstNode }).program;
  let at = -1;
  let wrap: AstNode | null = null;
  const visit = (node: AstNode): void => {
    if (node.start > start || node.end < end) return;
    if (isProbeable(node)) {
      at = node.start;
      wrap = node;
    }
    for (const list of statementLists(node)) {
      const overlapping = list.filter((child) => child.start < end && child.end > start);
      if (overlapping.length > 1) {
        at = overlapping[0]!.start;
        wrap = null;
      }
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) for (const child of value) if (isNode(child)) visit(child);
      if (isNode(value)) visit(value);
    }
  };
  visit(program);
  if (at < 0) return source;
  // A statement that is the body of an if, a loop or an else takes braces around it and the counter.
  const before = source.slice(0, at).trimEnd();
  const node = wrap as AstNode | null;
  if (node !== null && (before.endsWith('else') || before.endsWith(')'))) return `${source.slice(0, at)}{ ${counter} ${source.slice(at, node.end)} }${source.slice(node.end)}`;
  return `${source.slice(0, at)}${counter} ${source.slice(at)}`;
}

function isProbeable(node: AstNode): boolean {
  if (node.type === 'BlockStatement' || node.type === 'ClassDeclaration' || node.type === 'FunctionDeclaration' || node.type.startsWith('Export') || node.type.startsWith('TS')) return false;
  return node.type.endsWith('Statement') || node.type === 'VariableDeclaration';
}

function statementLists(node: AstNode): AstNode[][] {
  const record = node as unknown as Record<string, unknown>;
  if (node.type === 'BlockStatement' || node.type === 'Program') return [record['body'] as AstNode[]];
  if (node.type === 'SwitchCase') return [record['consequent'] as AstNode[]];
  return [];
}

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && typeof (value as AstNode).type === 'string' && typeof (value as AstNode).start === 'number';
}
