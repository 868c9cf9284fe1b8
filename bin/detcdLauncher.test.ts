import test from 'ava';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchFolder } from '../runtime/_test/scratch.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A checkout of its own to build in (a copy of the sources bin/detcd.ts is built from; node_modules
 * a folder of links to this checkout's packages, so that its build cache is its own), removed after
 * the test.
 */
function checkout(t: { teardown: (fn: () => void) => void }): string {
  const directory = scratchFolder('detcd-launcher-');
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  for (const part of ['bin', 'core', 'runtime', 'package.json']) cpSync(join(root, part), join(directory, part), { recursive: true, filter: (source) => !source.endsWith('.test.ts') });
  mkdirSync(join(directory, 'node_modules'));
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (!name.startsWith('.')) symlinkSync(join(root, 'node_modules', name), join(directory, 'node_modules', name));
  }
  return directory;
}

interface Run { readonly code: number | null; readonly stdout: string; readonly stderr: string }

function run(directory: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(directory, 'bin', 'detcd'), ...args], { env: { PATH: process.env.PATH, ...env }, cwd: directory });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The checkout's build folder (node_modules/.cache/detcd-sim/<checkout's name>-<hash>) and what it holds. */
function buildFolder(directory: string): { folder: string; files: string[] } {
  const parent = join(directory, 'node_modules', '.cache', 'detcd-sim');
  const folders = readdirSync(parent);
  if (folders.length !== 1) throw new Error(`one build folder expected, found ${folders.join(', ')}`);
  const folder = join(parent, folders[0]!);
  return { folder, files: readdirSync(folder).sort() };
}

test('the launcher runs the compiled build while it is fresh, rebuilds it when a source changes, and runs the sources under DETCD_FROM_SOURCE=1', async (t) => {
  const directory = checkout(t);
  const first = await run(directory, ['--version']);
  t.deepEqual([first.code, first.stderr], [0, '']);
  t.regex(first.stdout, /^etcd Version: 3\.4\.23\nGit SHA: detcd\n/);
  const { folder, files } = buildFolder(directory);
  t.deepEqual(files, ['detcd-manifest.json', 'detcd.cjs', 'detcd.cjs.map']);
  // The build's inputs: the sources, the packages, and how it is built.
  const { inputs } = JSON.parse(readFileSync(join(folder, 'detcd-manifest.json'), 'utf8')) as { inputs: string[] };
  t.true(['bin/compiledCli.mjs', 'bin/detcd.ts', 'runtime/version.ts'].every((input) => inputs.includes(input)));
  t.true(inputs.some((input) => input.includes('node_modules/@grpc/grpc-js/')));
  // The source map names the checkout's files (paths relative to where the map lies).
  const { sources } = JSON.parse(readFileSync(join(folder, 'detcd.cjs.map'), 'utf8')) as { sources: string[] };
  t.true(sources.map((source) => resolve(folder, source)).includes(join(directory, 'runtime', 'version.ts')));
  // Marked, the build shows that it is what runs (the sources are unchanged: no rebuild).
  const bundle = join(folder, 'detcd.cjs');
  writeFileSync(bundle, readFileSync(bundle, 'utf8').replace('"Git SHA: detcd"', '"Git SHA: detcd (the build)"'));
  t.regex((await run(directory, ['--version'])).stdout, /\nGit SHA: detcd \(the build\)\n/);
  t.regex((await run(directory, ['--version'], { DETCD_FROM_SOURCE: '1' })).stdout, /\nGit SHA: detcd\n/);
  // A source changed: built again before it runs.
  const version = join(directory, 'runtime', 'version.ts');
  writeFileSync(version, readFileSync(version, 'utf8').replace("'Git SHA: detcd'", "'Git SHA: changed'"));
  const changed = await run(directory, ['--version']);
  t.deepEqual([changed.code, changed.stderr], [0, '']);
  t.regex(changed.stdout, /\nGit SHA: changed\n/);
});

test('a build that cannot be written falls back to the sources through tsx: the same answers, and a line on stderr only under DETCD_DEBUG=1', async (t) => {
  const directory = checkout(t);
  // A file where the build cache's folder would be.
  writeFileSync(join(directory, 'node_modules', '.cache'), '');
  const version = await run(directory, ['--version']);
  t.deepEqual([version.code, version.stderr], [0, '']);
  t.regex(version.stdout, /^etcd Version: 3\.4\.23\n/);
  const bad = await run(directory, ['--bogus'], { DETCD_DEBUG: '1' });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^detcd: no compiled build \(.*\); loading the sources\nflag provided but not defined: -bogus\n$/);
});

test('members starting together build at once safely: each runs, one build is left, and no half-written file', async (t) => {
  const directory = checkout(t);
  const runs = await Promise.all([1, 2, 3].map(() => run(directory, ['--bogus'])));
  t.deepEqual(runs.map((each) => [each.code, each.stderr]), [1, 2, 3].map(() => [2, 'flag provided but not defined: -bogus\n']));
  t.deepEqual(buildFolder(directory).files, ['detcd-manifest.json', 'detcd.cjs', 'detcd.cjs.map']);
});
