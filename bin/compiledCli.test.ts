import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { scratchFolder } from '../runtime/_test/scratch.ts';

const compiledCli = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'compiledCli.mjs')).href;

/** A CommonJS bundle of one function, in a folder of its own; `answer` makes bundles of equal length. */
function bundleIn(directory: string, answer: number): string {
  const bundle = join(directory, 'bundle.cjs');
  writeFileSync(bundle, `const { join } = require('node:path');\nexports.main = function main() { return ${answer} + join('a', 'b').length; };\n`);
  return bundle;
}

/**
 * Loads the bundle in a process of its own, as the launcher does (in one process V8's own
 * compilation cache would answer before the file is looked at), runs it and keeps its code.
 */
function load(bundle: string, cacheFile: string): { used: boolean; answer: number } {
  const script = `import { loadWithCodeCache } from ${JSON.stringify(compiledCli)};
const loaded = loadWithCodeCache(${JSON.stringify(bundle)}, ${JSON.stringify(cacheFile)});
console.log(JSON.stringify({ used: loaded.usedCodeCache, answer: loaded.main() }));
loaded.keepCompiledCode();`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}

function folder(t: { teardown: (fn: () => void) => void }): string {
  const directory = scratchFolder('detcd-code-cache-');
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

test('the check bundle runs with or without a code cache; the cache is written after the first run and used by the next', (t) => {
  const directory = folder(t);
  const bundle = bundleIn(directory, 100);
  const cacheFile = join(directory, 'bundle.v8cache');
  t.deepEqual(load(bundle, cacheFile), { used: false, answer: 103 });
  t.true(statSync(cacheFile).size > 0);
  t.deepEqual(load(bundle, cacheFile), { used: true, answer: 103 });
});

test('a code cache V8 cannot use (garbage, or cut short) is harmless: the bundle is compiled as without one, and the cache rewritten', (t) => {
  const directory = folder(t);
  const bundle = bundleIn(directory, 100);
  const cacheFile = join(directory, 'bundle.v8cache');
  load(bundle, cacheFile);
  const good = readFileSync(cacheFile);
  for (const bad of [Buffer.from('not a code cache'), good.subarray(0, good.length >> 1)]) {
    writeFileSync(cacheFile, bad);
    t.deepEqual(load(bundle, cacheFile), { used: false, answer: 103 });
    t.deepEqual(load(bundle, cacheFile), { used: true, answer: 103 });
  }
});

test('V8 takes the cache of another source of the same length and runs its code: why the cache file is named by the build key', (t) => {
  // Pins the hazard that naming the file by the key guards against (bin/compiledCli.mjs,
  // codeCacheFile): should V8 start refusing such a cache, this test says so.
  const directory = folder(t);
  const cacheFile = join(directory, 'bundle.v8cache');
  load(bundleIn(directory, 100), cacheFile);
  t.deepEqual(load(bundleIn(directory, 200), cacheFile), { used: true, answer: 103 });
});
