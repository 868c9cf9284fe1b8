import test from 'ava';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDataDriven } from './_test/dataDriven.ts';
import { InteractionEnv } from './_test/interactionEnv.ts';

// REWRITE=1 npx ava core/raft/interaction.test.ts rewrites the expected outputs in place.
const rewrite = process.env['REWRITE'] === '1';
const directory = join(import.meta.dirname, 'testdata');

for (const file of readdirSync(directory).filter((name) => name.endsWith('.txt')).sort()) {
  test(`interaction script ${file}`, (t) => {
    const env = new InteractionEnv();
    const path = join(directory, file);
    const { original, actual } = runDataDriven(path, readFileSync(path, 'utf8'), (command) => env.handle(command));
    if (rewrite) {
      if (actual !== original) writeFileSync(path, actual);
      t.pass();
    }
    else t.is(actual, original, `${file}: output differs (REWRITE=1 to accept)`);
  });
}
