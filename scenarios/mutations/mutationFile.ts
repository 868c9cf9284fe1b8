import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { raftFamily, type Mutation } from './catalogue.ts';

/** A mutation file that cannot be used: the message is one line, naming the file. */
export class MutationFileError extends Error {
  override readonly name = 'MutationFileError';
}

/**
 * A user's own mutant, from a JSON file in the catalogue's find/replace form:
 *
 * ```json
 * { "name": "my-bug", "bug": "what it does wrong", "file": "core/raft/raftLog.ts",
 *   "find": "text that occurs exactly once", "replace": "what replaces it",
 *   "scenarios": ["raft-swarm", "raft-crashes"] }
 * ```
 *
 * `file` is relative to the repository root and must lie inside core/, sim/, properties/ or
 * scenarios/ (the folders a patched copy holds); `find` must occur exactly once in it. `name`
 * defaults to the file's base name, `bug` to "a user's mutant", `scenarios` to the whole Raft
 * family. Anything else is refused with one line.
 */
export function loadMutationFile(path: string, root: string, knownScenarios: readonly string[]): Mutation {
  const fail = (what: string): never => {
    throw new MutationFileError(`${path}: ${what}`);
  };
  if (!existsSync(path)) fail('no such file');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    fail(`not JSON (${error instanceof Error ? error.message.replace(/\s+/g, ' ') : String(error)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('must hold one JSON object with "file", "find" and "replace"');
  const object = parsed as Record<string, unknown>;
  const allowed = ['name', 'bug', 'file', 'find', 'replace', 'scenarios'];
  for (const key of Object.keys(object)) if (!allowed.includes(key)) fail(`unknown field "${key}" (fields: ${allowed.join(', ')})`);
  const text = (key: string, required: boolean): string | undefined => {
    const value = object[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string') fail(`"${key}" must be a string`);
    return value as string;
  };
  const file = text('file', true)!;
  const find = text('find', true)!;
  const replace = text('replace', true)!;
  if (find === '') fail('"find" must not be empty');
  const relative = normalize(file);
  if (isAbsolute(relative) || relative.startsWith('..') || !/^(core|sim|properties|scenarios)\//.test(relative.replace(/\\/g, '/'))) {
    fail(`"file" must be a path inside core/, sim/, properties/ or scenarios/, relative to the repository root (got "${file}")`);
  }
  if (relative.endsWith('.test.ts')) fail('"file" must not be a test: patched copies leave tests out');
  const target = join(root, relative);
  if (!existsSync(target)) fail(`"file" ${file} does not exist in the repository`);
  const occurrences = readFileSync(target, 'utf8').split(find).length - 1;
  if (occurrences !== 1) fail(`"find" occurs ${occurrences} times in ${file}, not exactly once`);
  let scenarios: readonly string[] = raftFamily;
  if (object['scenarios'] !== undefined) {
    const list = object['scenarios'];
    if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string')) fail('"scenarios" must be a non-empty array of scenario names');
    const unknown = (list as string[]).find((s) => !knownScenarios.includes(s));
    if (unknown !== undefined) fail(`unknown scenario "${unknown}"`);
    scenarios = list as string[];
  }
  const baseName = path.replace(/\\/g, '/').split('/').pop()!.replace(/\.json$/, '');
  const name = text('name', false) ?? baseName;
  if (!/^[a-z0-9][a-z0-9-]*$/i.test(name)) fail(`"name" must be letters, digits and dashes (got "${name}")`);
  return { name, bug: text('bug', false) ?? "a user's mutant", file: relative, find, replace, scenarios, caughtAt: null };
}
