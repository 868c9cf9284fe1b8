/**
 * The layering fence (ARCHITECTURE.md): the deterministic layers never reach for ambient time,
 * randomness, I/O or async, and no folder imports from a layer above it. A scan of the sources,
 * run with the tests; tsconfig.pure.json adds a second fence (no Node types in core/ and sim/).
 */
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = normalize(join(dirname(fileURLToPath(import.meta.url)), '..'));

/** Which project folders each layer may import from (itself always allowed). */
const allowedImports: Record<string, readonly string[]> = {
  'core/base': [],
  'core/api': ['core/base'],
  'core/raft': ['core/base'],
  'core/mvcc': ['core/base', 'core/api'],
  'core/lease': ['core/base', 'core/api', 'core/mvcc'],
  'core/watch': ['core/base', 'core/api', 'core/mvcc'],
  // The etcd member is a hosted node and keeps its log in the replica's WAL.
  'core/server': ['core/base', 'core/api', 'core/raft', 'core/mvcc', 'core/lease', 'core/watch', 'core/host', 'core/replica'],
  'core/host': ['core/base', 'core/api', 'core/raft', 'core/mvcc', 'core/lease', 'core/watch'],
  'core/replica': ['core/base', 'core/raft', 'core/host'],
  sim: ['core'],
  properties: ['core', 'sim'],
  scenarios: ['core', 'sim', 'properties'],
  reports: ['core', 'sim', 'properties', 'scenarios'],
  runtime: ['core'],
  bin: ['core', 'sim', 'properties', 'scenarios', 'reports', 'runtime'],
  bench: ['core', 'sim', 'properties', 'scenarios', 'reports', 'runtime', 'bin'],
  // The worked example of a user's own protocol: the harness module (scenarios/harness.ts) only,
  // as a user's code outside this repository would (checked below).
  'scenarios/examples': ['scenarios'],
};

/** Ambient sources of nondeterminism, banned from core/ and sim/ outside ava's test files. */
const banned: readonly [RegExp, string][] = [
  [/\bDate\b/, 'Date (wall-clock time)'],
  [/\bperformance\s*\./, 'performance (wall-clock time)'],
  [/\bprocess\s*\.\s*(hrtime|env|argv|exit|nextTick|stdout|stderr|stdin|cwd|memoryUsage|cpuUsage|uptime)\b/, 'process (the host process)'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask|clearTimeout|clearInterval)\b/, 'timers'],
  [/\bMath\s*\.\s*random\b/, 'Math.random'],
  [/\bcrypto\b/, 'crypto'],
  [/\b(async|await)\b/, 'async/await'],
  [/\bPromise\b/, 'Promise'],
  [/\brequire\s*\(/, 'require()'],
  [/\bglobalThis\b/, 'globalThis'],
  [/\bconsole\s*\./, 'console (I/O)'],
];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** The code with comments and the insides of string and template literals blanked out. */
export function codeOnly(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      out += c;
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') i++;
        else if (c === '`' && text[i] === '$' && text[i + 1] === '{') {
          // Keep interpolated code: it runs.
          let depth = 0;
          while (i < text.length) {
            if (text[i] === '{') depth++;
            if (text[i] === '}' && --depth === 0) break;
            out += text[i];
            i++;
          }
        }
        out += text[i] === '\n' ? '\n' : ' ';
        i++;
      }
      out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function layerOf(file: string): string | null {
  const path = relative(root, file).split(sep).join('/');
  const [top, second] = path.split('/');
  if (top === 'core') return second === undefined || second.endsWith('.ts') ? null : `core/${second}`;
  if (top === 'scenarios' && second === 'examples') return 'scenarios/examples';
  return top !== undefined && top in allowedImports ? top : null;
}

function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const match of text.matchAll(pattern)) specifiers.push(match[1] ?? match[2] ?? match[3]!);
  return specifiers;
}

const files = sourceFiles(root).filter((file) => layerOf(file) !== null);
const isTest = (file: string) => file.endsWith('.test.ts') || file.includes(`${sep}_test${sep}`);
/**
 * ava's test files (*.test.ts) may use the host freely. The helpers in `_test` folders are code
 * that tests, scenarios and hunts share and drive like node code, so the determinism and package
 * fences cover them too (a dev script with a stopwatch or a console belongs in scenarios/dev/, a
 * helper built on fast-check or node:assert in properties/); only the import table lets them
 * reach up to sim/ and properties/, as tests do.
 */
const isTestFile = (file: string) => file.endsWith('.test.ts');

test('core/ and sim/ use no wall clock, timers, global randomness, host process, crypto or async, their tests\' helpers (`_test`) included', (t) => {
  const violations: string[] = [];
  for (const file of files) {
    const layer = layerOf(file)!;
    if (!(layer.startsWith('core') || layer === 'sim') || isTestFile(file)) continue;
    const lines = codeOnly(readFileSync(file, 'utf8')).split('\n');
    lines.forEach((line, index) => {
      for (const [pattern, what] of banned) if (pattern.test(line)) violations.push(`${relative(root, file)}:${index + 1}: ${what}: ${line.trim()}`);
    });
  }
  t.deepEqual(violations, []);
});

test('core/ and sim/ import no node: modules and no packages but the allowed ones, their tests\' helpers (`_test`) included', (t) => {
  // crc-32's CRC-32C (SheetJS, pure JS, no dependencies): HashKV is etcd's CRC-32C, byte for byte.
  const allowedPackages = new Set(['seedrandom', 'sorted-btree', 'crc-32/crc32c.js']);
  const violations: string[] = [];
  for (const file of files) {
    const layer = layerOf(file)!;
    if (!(layer.startsWith('core') || layer === 'sim') || isTestFile(file)) continue;
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) continue;
      if (!allowedPackages.has(specifier)) violations.push(`${relative(root, file)}: imports ${specifier}`);
    }
  }
  t.deepEqual(violations, []);
});

test('no layer imports from a layer above it', (t) => {
  const violations: string[] = [];
  for (const file of files) {
    if (isTest(file)) continue;
    const layer = layerOf(file)!;
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = layerOf(join(dirname(file), specifier));
      if (layer === 'scenarios/examples' && target === 'scenarios' && relative(root, join(dirname(file), specifier)).split(sep).join('/') !== 'scenarios/harness.ts') {
        violations.push(`${relative(root, file)} (${layer}) imports ${specifier}: a user's protocol uses scenarios/harness.ts only`);
      }
      if (target === null || target === layer) continue;
      const allowed = allowedImports[layer]!.some((a) => target === a || target.startsWith(`${a}/`));
      if (!allowed) violations.push(`${relative(root, file)} (${layer}) imports ${specifier} (${target})`);
    }
  }
  t.deepEqual(violations, []);
});

test('the scanner sees through comments and strings but not through code', (t) => {
  const code = codeOnly("// Date.now()\nconst a = 'Math.random()'; /* setTimeout */ const b = Date.now();\nconst c = `x${Math.random()}`;");
  t.false(/Math\.random/.test(code.split('\n')[1]!));
  t.true(/Date\.now/.test(code.split('\n')[1]!));
  t.true(/Math\.random/.test(code.split('\n')[2]!), 'template interpolations are code');
  t.false(/Date/.test(code.split('\n')[0]!));
  t.deepEqual(importsOf("import { a } from './x.ts';\nimport type { B } from '../y.ts';\nexport { c } from 'z';\nimport 'side';\nconst m = await import('dyn');"), ['./x.ts', '../y.ts', 'z', 'side', 'dyn']);
});

test('a planted violation is caught (the fence bites)', (t) => {
  const line = codeOnly('const now = performance.now(); setTimeout(tick, 5); console.log(now);');
  const hits = banned.filter(([pattern]) => pattern.test(line)).map(([, what]) => what);
  t.deepEqual(hits, ['performance (wall-clock time)', 'timers', 'console (I/O)']);
});
