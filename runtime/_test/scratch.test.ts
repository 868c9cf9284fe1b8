import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const scratchModule = fileURLToPath(new URL('./scratch.ts', import.meta.url));

/** A process that makes two scratch folders, prints them, and waits to be ended (a listener of its own on `extraListener`). */
function child(extraListener: NodeJS.Signals | null): { readonly folders: Promise<string[]>; readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; kill(signal: NodeJS.Signals): void } {
  const own = extraListener === null ? '' : `process.on(${JSON.stringify(extraListener)}, () => process.exit(7));`;
  const script = `import { scratchFolder } from ${JSON.stringify(scratchModule)}; ${own} console.log(JSON.stringify([scratchFolder('detcd-scratch-a-'), scratchFolder('detcd-scratch-b-')])); setInterval(() => {}, 1000);`;
  const spawned = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const folders = new Promise<string[]>((resolve, reject) => {
    spawned.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out) as string[]);
    });
    spawned.once('exit', () => reject(new Error(`the child ended before it printed its folders: ${out}`)));
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => spawned.once('exit', (code, signal) => resolve({ code, signal })));
  return { folders, ended, kill: (signal) => spawned.kill(signal) };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`a test process ended by ${signal} removes its scratch folders and still dies of the signal`, async (t) => {
    const run = child(null);
    const folders = await run.folders;
    t.true(folders.every((folder) => existsSync(folder)));
    run.kill(signal);
    t.deepEqual(await run.ended, { code: null, signal });
    t.deepEqual(folders.filter((folder) => existsSync(folder)), []);
  });
}

test('a process with a SIGTERM listener of its own is left to it: the folders go, its exit code stays', async (t) => {
  const run = child('SIGTERM');
  const folders = await run.folders;
  run.kill('SIGTERM');
  t.deepEqual(await run.ended, { code: 7, signal: null });
  t.deepEqual(folders.filter((folder) => existsSync(folder)), []);
});
