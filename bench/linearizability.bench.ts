/**
 * The checker's three performance targets (issue 4), each printed as a figure and as a ratio to
 * baselines measured in this same run:
 * - a calibration loop of fixed integer work, so figures from a loaded or slower machine compare
 *   ("units" = multiples of it);
 * - for the Jepsen set, also the plain algorithm (Wing & Gong + Lowe's cache, as Porcupine runs
 *   it) in TypeScript, to show what the prunings buy.
 * Porcupine's own times (Go, on this machine) are quoted from the issue for reference.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { finalize32, mix32 } from '../core/base/hash.ts';
import { SeededRandom } from '../sim/rng.ts';
import { checkLinearizability } from '../properties/linearizability/checker.ts';
import { parseHistory } from '../properties/linearizability/formats/parseHistory.ts';
import type { Operation } from '../properties/linearizability/history.ts';
import { withoutPartition } from '../properties/linearizability/model.ts';
import { etcdModel } from '../properties/linearizability/models/etcd.ts';
import { keyValueModel, type KeyValueInput, type KeyValueOutput } from '../properties/linearizability/models/keyValue.ts';
import { registerModel, type RegisterInput, type RegisterOutput } from '../properties/linearizability/models/register.ts';
import { atomicEtcd } from '../properties/linearizability/_test/atomicObjects.ts';
import { referenceLinearizable } from '../properties/linearizability/_test/referenceChecker.ts';
import { simulateHistory } from '../properties/linearizability/_test/simulateHistory.ts';

const histories = join(import.meta.dirname, '../properties/linearizability/histories/porcupine-jepsen');

function milliseconds(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function format(ms: number): string {
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

/** Fixed integer work (4 million hash rounds), the yardstick for every figure. */
function calibrate(): number {
  let sink = 0;
  const times = [0, 1, 2].map(() =>
    milliseconds(() => {
      let h = 1;
      for (let i = 0; i < 4_000_000; i++) h = mix32(h, i);
      sink ^= finalize32(h);
    }),
  );
  if (sink === 0x12345678) console.log('');
  return median(times);
}

function jepsenHistories(): Operation<RegisterInput, RegisterOutput>[][] {
  const rows = readFileSync(join(histories, 'expected.tsv'), 'utf8').trim().split('\n').slice(1);
  return rows
    .map((row) => row.split('\t'))
    .filter(([file, expected]) => file!.startsWith('jepsen/') && expected !== 'none')
    .map(([file]) => {
      const { history } = parseHistory(readFileSync(join(histories, file!), 'utf8'));
      return history.operations as Operation<RegisterInput, RegisterOutput>[];
    });
}

export function bench(out: (line: string) => void): void {
  const unit = calibrate();
  const inUnits = (ms: number) => `${(ms / unit).toFixed(1)} units`;
  out(`calibration: 4,000,000 hash rounds in ${format(unit)} (= 1 unit)`);

  const jepsen = jepsenHistories();
  const operationCount = jepsen.reduce((sum, history) => sum + history.length, 0);
  let steps = 0;
  const rounds = [0, 1, 2, 3, 4].map(() =>
    milliseconds(() => {
      steps = 0;
      for (const history of jepsen) steps += checkLinearizability(registerModel, history).steps;
    }),
  );
  const reference = milliseconds(() => {
    for (const history of jepsen) referenceLinearizable(registerModel, history);
  });
  out(
    `jepsen etcd register, ${jepsen.length} histories (${operationCount} ops, after parsing): first run ${format(rounds[0]!)}, ` +
      `median of 5 ${format(median(rounds))} = ${inUnits(median(rounds))}, ${steps} model steps; ` +
      `plain Wing & Gong + cache in TypeScript ${format(reference)} (${(reference / median(rounds)).toFixed(0)}x slower). ` +
      `Target < 250 ms; Porcupine ~520 ms.`,
  );

  const { history: kv } = parseHistory(readFileSync(join(histories, 'kv/c10-ok.txt'), 'utf8'));
  const kvOperations = kv.operations as Operation<KeyValueInput, KeyValueOutput>[];
  const whole = withoutPartition(keyValueModel);
  const kvRounds = [0, 1, 2].map(() => milliseconds(() => (steps = checkLinearizability(whole, kvOperations).steps)));
  out(
    `kv/c10-ok.txt as one partition (${kvOperations.length} ops): median of 3 ${format(median(kvRounds))} = ${inUnits(median(kvRounds))}, ` +
      `${steps} model steps. Target < 1000 ms; Porcupine 2,600-5,500 ms.`,
  );

  const random = new SeededRandom('bench-etcd-100k');
  let etcd: Operation<unknown, unknown>[] = [];
  const generated = milliseconds(() => {
    etcd = simulateHistory(random, { clients: 20, operations: 100_000, failPercent: 1, unknownPercent: 1, latencyMax: 40, thinkMax: 10 }, atomicEtcd(16));
  });
  const unknown = etcd.filter((operation) => operation.outcome === 'unknown').length;
  let verdict = '';
  const etcdRounds = [0, 1, 2].map(() =>
    milliseconds(() => {
      const result = checkLinearizability(etcdModel, etcd as Operation<never, never>[]);
      verdict = result.verdict;
      steps = result.steps;
    }),
  );
  out(
    `etcd model, ${etcd.length} ops from 20 clients with revisions (${unknown} unknown outcomes, generated in ${format(generated)}): ` +
      `${verdict}, median of 3 ${format(median(etcdRounds))} = ${inUnits(median(etcdRounds))}, ${steps} model steps. Target < 5000 ms.`,
  );
}
