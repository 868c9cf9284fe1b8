/**
 * `npm run model:mvcc -- [--runs N] [--seed S] [--commands N]`: the mvcc model-based test for
 * longer than `npm test` runs it. A failure prints fast-check's seed and path; `--seed` replays.
 */
import fc from 'fast-check';
import { mvccModelProperty } from '../../properties/mvcc/modelCommands.ts';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value) || value < 0) {
    process.stderr.write(`model:mvcc: --${name} needs a non-negative integer, got ${process.argv[at + 1] ?? 'nothing'}\n`);
    process.exit(2);
  }
  return value;
}

const known = new Set(['--runs', '--seed', '--commands']);
for (let i = 2; i < process.argv.length; i += 2) {
  if (!known.has(process.argv[i]!)) {
    process.stderr.write(`model:mvcc: unknown argument ${process.argv[i]} (use --runs N, --seed S, --commands N)\n`);
    process.exit(2);
  }
}
const runs = flag('runs', 2000);
const seed = flag('seed', -1);
const started = performance.now();
const details = fc.check(mvccModelProperty(flag('commands', 100)), { numRuns: runs, ...(seed >= 0 ? { seed } : {}) });
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (details.failed) {
  process.stdout.write(`${fc.defaultReportMessage(details)}\n`);
  process.exit(1);
}
process.stdout.write(`mvcc model: ${details.numRuns} runs passed in ${seconds} s (seed ${details.seed})\n`);
