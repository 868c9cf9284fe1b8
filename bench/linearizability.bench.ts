/**
 * The checker's speed, every figure beside baselines measured in this same run:
 * - a calibration loop of fixed integer work, so figures from a loaded or slower machine compare
 *   ("units" = multiples of it);
 * - the plain algorithm: Wing & Gong's search with Lowe's cache in TypeScript (`wingGong.ts`,
 *   Porcupine's algorithm; partitioned as Porcupine's models are), to show what detcd's search
 *   and the models' inferences buy;
 * - Porcupine itself, built at bench time outside the repository (`porcupine.ts`), on the very
 *   same history files, where Go and Porcupine's source are found on this machine.
 * The generated key/value classes (`generator/`) are the ones of issue 12 plus planted anomalies
 * and repeated values. Porcupine and the plain search get a time limit (DETCD_BENCH_LIMIT_S,
 * default 30 s and 10 s); past it they say unknown.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { wingGongLinearizable } from '../properties/linearizability/_test/wingGong.ts';
import { formatJsonLines } from '../properties/linearizability/formats/jsonLines.ts';
import { generateKeyValueHistory, type KeyValueHistoryOptions } from '../properties/linearizability/generator/keyValueHistory.ts';
import { plantAnomaly, type AnomalyKind } from '../properties/linearizability/generator/plantAnomaly.ts';
import { canTimeCold, coldRun, type ColdRun } from './coldRun.ts';
import { porcupine, type PorcupineResult } from './porcupine.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';

const histories = join(import.meta.dirname, '../properties/linearizability/histories/porcupine-jepsen');
const launcher = join(import.meta.dirname, '../bin/detcd-sim');

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
  // The classes first, in a heap not yet filled by the other figures' histories (a major
  // collection marks everything alive; Porcupine's side starts a fresh process per class).
  benchClasses(out);
  if (selectedClasses() !== undefined) return;
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
  const etcdCpu: number[] = [];
  const etcdRounds = [0, 1, 2].map(() =>
    milliseconds(() => {
      const cpu = process.cpuUsage();
      const result = checkLinearizability(etcdModel, etcd as Operation<never, never>[]);
      const used = process.cpuUsage(cpu);
      etcdCpu.push((used.user + used.system) / 1000);
      verdict = result.verdict;
      steps = result.steps;
    }),
  );
  // CPU beside wall: on a shared machine the wall clock also counts the other processes' turns.
  out(
    `etcd model, ${etcd.length} ops from 20 clients with revisions (${unknown} unknown outcomes, generated in ${format(generated)}): ` +
      `${verdict}, median of 3 ${format(median(etcdRounds))} = ${inUnits(median(etcdRounds))}, CPU median ${format(median(etcdCpu))} (first run ${format(etcdCpu[0]!)}), ${steps} model steps. ` +
        `Target < 1000 ms, as CPU (process and threads): on a shared machine the wall clock also counts the other processes' turns.`,
  );
}

/** One generated class of issue 12's table (or one found since). */
interface HistoryClass {
  readonly name: string;
  readonly options: KeyValueHistoryOptions;
  readonly unpartitioned?: boolean;
  readonly plant?: AnomalyKind;
}

const tenThousand = { clients: 10, operations: 10_000, keys: 5 } as const;

export const historyClasses: readonly HistoryClass[] = [
  { name: '10k ops, 10 clients, 5 keys, 2% unknown, half take effect', options: { ...tenThousand, unknownPerTenThousand: 200, unknownEffect: 'half' } },
  { name: '10k, 2% unknown, all inside the interval', options: { ...tenThousand, unknownPerTenThousand: 200, unknownEffect: 'inside' } },
  { name: '10k, 2% unknown, all after the client gave up', options: { ...tenThousand, unknownPerTenThousand: 200, unknownEffect: 'after-give-up' } },
  { name: '10k, 2% unknown, none takes effect', options: { ...tenThousand, unknownPerTenThousand: 200, unknownEffect: 'never' } },
  { name: '10k, no unknown', options: tenThousand },
  { name: '4k, 2% unknown (the growth series)', options: { ...tenThousand, operations: 4000, unknownPerTenThousand: 200 } },
  { name: '30k ops, 20 clients, 3 keys, 2% unknown', options: { clients: 20, operations: 30_000, keys: 3, unknownPerTenThousand: 200 } },
  { name: '100k ops, 50 clients, 10 keys, 1% unknown', options: { clients: 50, operations: 100_000, keys: 10, unknownPerTenThousand: 100 } },
  { name: '100k, 50 clients, 10 keys, no unknown', options: { clients: 50, operations: 100_000, keys: 10 } },
  { name: '2k, 5 keys as one partition, 2% unknown', options: { ...tenThousand, operations: 2000, unknownPerTenThousand: 200 }, unpartitioned: true },
  { name: '2k, one partition, no unknown', options: { ...tenThousand, operations: 2000 }, unpartitioned: true },
  { name: '10k, 2% unknown, a planted stale read', options: { ...tenThousand, unknownPerTenThousand: 200 }, plant: 'stale-read' },
  { name: '10k, 2% unknown, a planted foreign read', options: { ...tenThousand, unknownPerTenThousand: 200 }, plant: 'foreign-read' },
  { name: '100k, 1% unknown, a planted stale read', options: { clients: 50, operations: 100_000, keys: 10, unknownPerTenThousand: 100 }, plant: 'stale-read' },
  { name: '2k, one partition, a planted stale read', options: { ...tenThousand, operations: 2000, unknownPerTenThousand: 200 }, unpartitioned: true, plant: 'stale-read' },
  { name: '2k, 3 repeated values per key, 2% unknown', options: { ...tenThousand, operations: 2000, unknownPerTenThousand: 200, valuesPerKey: 3 } },
  { name: '10k, 1 client at a time per key (low concurrency)', options: { clients: 5, operations: 10_000, keys: 5, unknownPerTenThousand: 200, thinkMax: 20 } },
  // Repeated written values (task checker9): the values no longer name their writes.
  { name: '10k, 3 repeated values per key, 2% unknown', options: { ...tenThousand, unknownPerTenThousand: 200, valuesPerKey: 3 } },
  { name: '10k, registers: put/get only, 3 values per key, 2% unknown', options: { ...tenThousand, unknownPerTenThousand: 200, valuesPerKey: 3, mix: { get: 1, put: 1, append: 0 } } },
  { name: '2k, registers: put/get only, 2 values, 20 clients on 2 keys (high concurrency)', options: { clients: 20, operations: 2000, keys: 2, unknownPerTenThousand: 200, valuesPerKey: 2, mix: { get: 1, put: 1, append: 0 } } },
  { name: '10k, registers: put/get only, 3 values, low concurrency', options: { clients: 5, operations: 10_000, keys: 5, unknownPerTenThousand: 200, thinkMax: 20, valuesPerKey: 3, mix: { get: 1, put: 1, append: 0 } } },
  { name: '2k, 3 repeated values, 20 clients on 2 keys (high concurrency)', options: { clients: 20, operations: 2000, keys: 2, unknownPerTenThousand: 200, valuesPerKey: 3 } },
];

/** DETCD_BENCH_CLASSES=15,17: only those classes (by index), to iterate on a few; unset: all. */
function selectedClasses(): ReadonlySet<number> | undefined {
  const given = process.env.DETCD_BENCH_CLASSES;
  if (given === undefined || given.trim() === '') return undefined;
  return new Set(given.split(',').map((part) => Number(part.trim())));
}

function limitSeconds(fallback: number): number {
  const given = Number(process.env.DETCD_BENCH_LIMIT_S);
  return Number.isFinite(given) && given > 0 ? given : fallback;
}

function coldCell(run: ColdRun | undefined): string {
  return run === undefined ? '—' : `${Math.round(run.cpuMs)} / ${Math.round(run.wallMs)}`;
}

function fixed(ms: number | undefined): string {
  if (ms === undefined) return '—';
  return ms >= 100 ? `${Math.round(ms)}` : ms.toFixed(1);
}

/** Each class: generated, written for Porcupine, checked by all three; one table row each. */
function benchClasses(out: (line: string) => void): void {
  const engine = porcupine();
  if ('skipped' in engine) out(engine.skipped);
  const porcupineLimit = limitSeconds(30);
  const plainLimit = Math.min(10, porcupineLimit);
  const directory = scratchFolder('detcd-bench-histories-');
  // Cold runs: each checker as a user runs it, a process per history (bash's time: CPU of the
  // process and all its threads, and wall). The CLI's bundle is built first, outside the timing.
  const cold = canTimeCold();
  if (cold) coldRun([launcher, 'check', '--help'], 1, 120);
  else out('cold runs: skipped, bash is not here to time them');
  // The JIT compiles the checker's hot paths on first use; Porcupine's side is compiled ahead of
  // time. Warm it up first, on histories of its own, so that the rounds compare the algorithms:
  // one with unique values and one with repeated values (their inference takes other paths,
  // which three rounds of the first left cold: the repeated-values class was 5-10x slower in its
  // first rounds than by its tenth). The cold columns show the JIT's cost. Repeated values take
  // two routes (task checker10): the plain search (appends, and puts and gets with few operations
  // in flight) and the replay (crowded puts and gets), so both are warmed.
  const warmUps = [
    generateKeyValueHistory(new SeededRandom('bench-warm-up'), { ...tenThousand, unknownPerTenThousand: 200 }),
    generateKeyValueHistory(new SeededRandom('bench-warm-up-repeated'), { ...tenThousand, operations: 2000, unknownPerTenThousand: 200, valuesPerKey: 3 }),
    generateKeyValueHistory(new SeededRandom('bench-warm-up-crowded'), { clients: 20, operations: 2000, keys: 2, unknownPerTenThousand: 200, valuesPerKey: 2, mix: { get: 1, put: 1, append: 0 } }),
  ];
  for (let round = 0; round < 8; round++) for (const warmUp of warmUps) checkLinearizability(keyValueModel, warmUp);
  out('');
  out('detcd warmed up first on histories of its own (unique values, repeated values, crowded registers; 8 rounds each); best of 5 rounds (3 above 20k operations) on each side; plain W&G: one round.');
  out('Cold, two measures, each side measured the same way in this run (the least CPU of 3 runs; 1 above 20k operations):');
  out('- whole process: `detcd-sim check --json FILE` and Porcupine\'s driver each as a process of its own, CPU ms (process and threads) / wall ms: what a user waits for, Node\'s own start included;');
  out('- check itself: parse + first check in that fresh process, CPU ms as each reports it (process and threads; detcd: cpuMs; Porcupine: reading + its first CheckOperations) / wall ms (detcd: parseMs + ms).');
  out(`| class | ops | unknown | Porcupine ms | detcd ms | plain W&G ms | verdicts (Porcupine / detcd / plain; expected) | Porcupine cold CPU / wall | detcd CLI cold CPU / wall | check itself, cold, CPU (wall): Porcupine / detcd ms |`);
  out('|---|---|---|---|---|---|---|---|---|---|');
  const coldSplit: string[] = [];
  const summary = { decidedByPorcupine: 0, agreed: 0, slower: [] as string[], wrong: [] as string[], coldCompared: 0, coldSlower: [] as string[], itselfSlower: [] as string[] };
  try {
    const selected = selectedClasses();
    historyClasses.forEach((entry, index) => {
      if (selected !== undefined && !selected.has(index)) return;
      let history = generateKeyValueHistory(new SeededRandom(`bench-class-${index}`), entry.options);
      let expected = 'linearizable';
      if (entry.plant !== undefined) {
        const planted = plantAnomaly(new SeededRandom(`bench-plant-${index}`), history, entry.plant);
        history = planted.history;
        if (planted.planted >= 0) expected = 'not-linearizable';
      }
      const file = join(directory, `class-${index}.jsonl`);
      writeFileSync(file, formatJsonLines({ model: 'kv', operations: history }));
      const model = entry.unpartitioned === true ? withoutPartition(keyValueModel) : keyValueModel;
      const rounds = history.length > 20_000 ? 3 : 5;
      const porcupineResult: PorcupineResult | undefined =
        'check' in engine ? engine.check([file], { unpartitioned: entry.unpartitioned === true, repeat: rounds, timeoutSeconds: porcupineLimit })[0] : undefined;
      let verdict = '';
      const times: number[] = [];
      for (let round = 0; round < rounds; round++) {
        times.push(milliseconds(() => (verdict = checkLinearizability(model, history, { budget: { timeoutMs: 60_000 } }).verdict)));
        if (verdict === 'unknown') break;
      }
      let plain: boolean | undefined;
      const plainMs = milliseconds(() => (plain = wingGongLinearizable(model, history, performance.now() + plainLimit * 1000)));
      const plainVerdict = plain === undefined ? 'unknown' : plain ? 'linearizable' : 'not-linearizable';
      // The best of the rounds, on both sides: on a shared machine the other processes only ever
      // add time, so the fastest round is the closest to what each checker needs.
      const detcdMs = Math.min(...times);
      const unknown = history.filter((operation) => operation.outcome === 'unknown').length;
      const porcupineMs = porcupineResult === undefined ? undefined : porcupineResult.result === 'unknown' ? undefined : porcupineResult.bestMs;
      const porcupineCell = porcupineResult === undefined ? 'skipped' : porcupineMs === undefined ? `> ${porcupineLimit * 1000}` : fixed(porcupineMs);
      const plainCell = plain === undefined ? `> ${plainLimit * 1000}` : fixed(plainMs);
      // The CLI partitions kv histories by key: the one-partition classes are the library's only.
      const coldRounds = history.length > 20_000 ? 1 : 3;
      const cliCold = cold && entry.unpartitioned !== true ? coldRun([launcher, 'check', '--json', '--timeout', String(porcupineLimit), file], coldRounds, porcupineLimit + 60) : undefined;
      const porcupineCold =
        cold && 'command' in engine && porcupineMs !== undefined ? coldRun(engine.command([file], { unpartitioned: entry.unpartitioned === true, repeat: 1, timeoutSeconds: porcupineLimit }), coldRounds, porcupineLimit + 10) : undefined;
      const cliLine = cliCold === undefined ? undefined : (JSON.parse(cliCold.stdout.trim().split('\n').at(-1) ?? '{}') as { result?: string; ms?: number; parseMs?: number; cpuMs?: number });
      const cliVerdict = cliLine?.result;
      // CPU, compared; wall beside it: on a shared machine the wall clock also counts other processes' turns.
      const cliItself = cliLine?.cpuMs;
      const cliItselfWall = cliLine?.ms === undefined || cliLine.parseMs === undefined ? undefined : cliLine.ms + cliLine.parseMs;
      const porcupineLine = porcupineCold === undefined ? undefined : (JSON.parse(porcupineCold.stdout.trim().split('\n').at(-1) ?? '{}') as Partial<PorcupineResult>);
      const porcupineItself = porcupineLine?.firstCpuMs === undefined || porcupineLine.parseCpuMs === undefined ? undefined : porcupineLine.firstCpuMs + porcupineLine.parseCpuMs;
      const porcupineItselfWall = porcupineLine?.firstMs === undefined || porcupineLine.parseMs === undefined ? undefined : porcupineLine.firstMs + porcupineLine.parseMs;
      out(
        `| ${entry.name} | ${history.length} | ${((100 * unknown) / history.length).toFixed(1)}% | ${porcupineCell} | ${fixed(detcdMs)}${porcupineMs === undefined ? '' : ` (${(porcupineMs / detcdMs).toFixed(1)}x)`} | ${plainCell} | ${porcupineResult?.result ?? '—'} / ${verdict} / ${plainVerdict}; ${expected} | ${coldCell(porcupineCold)} | ${coldCell(cliCold)}${cliVerdict !== undefined && cliVerdict !== verdict ? ` (${cliVerdict})` : ''} | ${fixed(porcupineItself)} (${fixed(porcupineItselfWall)}) / ${fixed(cliItself)} (${fixed(cliItselfWall)}) |`,
      );
      if (cliCold !== undefined && porcupineCold !== undefined) {
        summary.coldCompared++;
        if (cliCold.cpuMs > porcupineCold.cpuMs) summary.coldSlower.push(`${entry.name} ${(cliCold.cpuMs / porcupineCold.cpuMs).toFixed(1)}x`);
        if (cliItself !== undefined && porcupineItself !== undefined && cliItself > porcupineItself) summary.itselfSlower.push(`${entry.name} ${(cliItself / porcupineItself).toFixed(1)}x`);
      }
      if (index === 0 && cliCold !== undefined) coldSplit.push(`${entry.name}: whole process ${Math.round(cliCold.cpuMs)} ms CPU; of it parse + check ${fixed(cliLine?.cpuMs)} ms CPU (wall in the process: parse ${fixed(cliLine?.parseMs)} ms, check ${fixed(cliLine?.ms)} ms)`);
      if (verdict !== expected) summary.wrong.push(entry.name);
      if (porcupineResult !== undefined && porcupineResult.result !== 'unknown') {
        summary.decidedByPorcupine++;
        if (porcupineResult.result === verdict) summary.agreed++;
        if (detcdMs > porcupineResult.bestMs) summary.slower.push(entry.name);
      }
    });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  out('');
  out(
    `${historyClasses.length} classes: Porcupine decided ${summary.decidedByPorcupine}; detcd decided those with the same verdict in ${summary.agreed}, ` +
      `more slowly in ${summary.slower.length}${summary.slower.length > 0 ? ` (${summary.slower.join('; ')})` : ''}; ` +
      `detcd's verdict differed from the expected one in ${summary.wrong.length}${summary.wrong.length > 0 ? ` (${summary.wrong.join('; ')})` : ''}.`,
  );
  if (summary.coldCompared > 0) {
    out(
      `Cold, whole process: of ${summary.coldCompared} classes both decided, detcd's CLI used more CPU than Porcupine's driver in ${summary.coldSlower.length}` +
        `${summary.coldSlower.length > 0 ? ` (${summary.coldSlower.join('; ')})` : ''}.`,
    );
    out(
      `Cold, the check itself (parse + first check in a fresh process, CPU): detcd took longer than Porcupine in ${summary.itselfSlower.length} of ${summary.coldCompared}` +
        `${summary.itselfSlower.length > 0 ? ` (${summary.itselfSlower.join('; ')})` : ''}.`,
    );
    // Where a cold check's CPU goes, in steps that each add one thing to the one before.
    const nodeStart = coldRun([process.execPath, '-e', ''], 3, 60);
    const cliLoad = coldRun([launcher, 'check', '--help'], 3, 60);
    out(`Cold split: Node's own start (\`node -e ""\`) ${coldCell(nodeStart)}; + the launcher and the check bundle (\`check --help\`) ${coldCell(cliLoad)}; ${coldSplit.join('')}.`);
  }
}
