/**
 * `npm run bench [NAME...]`: runs every `bench/*.bench.ts` (or those whose name contains one of
 * the arguments), in file-name order. Each prints its own figures, and each figure as a ratio to
 * a baseline measured in the same run, so numbers from a loaded machine still compare.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchModule {
  /** Prints figures through `out`, one line each. */
  bench(out: (line: string) => void): void | Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();

if (files.length === 0) {
  process.stderr.write(`bench: no benchmark matches ${filters.join(', ')}\n`);
  process.exit(2);
}
for (const file of files) {
  console.log(`\n== ${file.replace('.bench.ts', '')} ==`);
  const module = (await import(pathToFileURL(join(here, file)).href)) as BenchModule;
  await module.bench((line) => console.log(line));
}
