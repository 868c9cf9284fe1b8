/**
 * `npm run bench encodePath`: the CPU a leader spends turning one Ready of etcdctl check perf's
 * puts (256-byte key, 1 kB value of zeros) into bytes, in this process: each proposal encoded, the
 * append encoded for two followers, the WAL record; and its per-put counter updates (two RPC
 * counters, four peer-byte counters). Printed as CPU µs per Ready and as a ratio to copying the
 * same bytes once (the floor any encoding pays), both measured in the same run.
 *
 * `DETCD_BENCH_BASELINE=<dir>` runs the same on another checkout's code (e.g. main's tree with
 * this one's node_modules), alternating with this one, and prints this one's ratio to it.
 */
import { join } from 'node:path';

const batch = 10;
const readiesPerTurn = 2_000;
const turns = 10;
const key = 'c'.repeat(256);
const value = '\0'.repeat(1024);

interface Tree {
  readonly name: string;
  /** One Ready's encoding; returns the bytes made. */
  ready(firstIndex: number): number;
  /** One put's counter updates. */
  counters(): void;
}

async function load(name: string, dir: string): Promise<Tree> {
  const { etcdCodec } = (await import(join(dir, 'core/server/codec.ts'))) as typeof import('../core/server/codec.ts');
  const requests = (await import(join(dir, 'core/server/internalRequest.ts'))) as Partial<typeof import('../core/server/internalRequest.ts')>;
  // A member encodes with its own RequestCodec; a tree from before it, with the module's function.
  const codec = requests.RequestCodec === undefined ? null : new requests.RequestCodec();
  const encodeRequest = codec === null ? requests.encodeInternalRequest! : (request: Parameters<typeof codec.encodeRequest>[0]) => codec.encodeRequest(request);
  const { makeMessage } = (await import(join(dir, 'core/raft/message.ts'))) as typeof import('../core/raft/message.ts');
  const { useNativeByteStrings } = (await import(join(dir, 'runtime/nativeByteStrings.ts'))) as typeof import('../runtime/nativeByteStrings.ts');
  const { ServerMetrics } = (await import(join(dir, 'runtime/client/metrics.ts'))) as typeof import('../runtime/client/metrics.ts');
  useNativeByteStrings(); // as a member does at start (its own module instance)
  const metrics = new ServerMetrics('1');
  return {
    name,
    ready(firstIndex) {
      const entries = Array.from({ length: batch }, (_, i) => ({
        type: 'normal' as const,
        term: 2,
        index: firstIndex + i,
        data: encodeRequest({ header: { member: 1, id: firstIndex + i }, op: { kind: 'put', request: { key, value, lease: 0, prevKv: false, ignoreValue: false, ignoreLease: false } } } as never),
      }));
      let bytes = 0;
      for (const to of [2, 3]) bytes += etcdCodec.message.encode(makeMessage({ type: 'MsgApp', from: 1, to, term: 2, logTerm: 2, index: firstIndex - 1, commit: firstIndex - 1, entries })).byteLength;
      return bytes + etcdCodec.record.encode({ type: 'entries', entries }).byteLength;
    },
    counters() {
      metrics.started('unary', 'etcdserverpb.KV', 'Put');
      metrics.peerBytesSent('2', 1400);
      metrics.peerBytesSent('3', 1400);
      metrics.peerBytesReceived('2', 60);
      metrics.peerBytesReceived('3', 60);
      metrics.handled('unary', 'etcdserverpb.KV', 'Put', 0);
    },
  };
}

function cpuMicros(action: () => void): number {
  const before = process.cpuUsage();
  action();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

export async function bench(out: (line: string) => void): Promise<void> {
  const trees = [await load('this', join(import.meta.dirname, '..'))];
  const baseline = process.env.DETCD_BENCH_BASELINE || undefined;
  if (baseline !== undefined) trees.push(await load('base', baseline));
  const bytesPerReady = trees[0]!.ready(100);
  const source = Buffer.alloc(bytesPerReady, 7);
  const readyUs = new Map(trees.map((tree) => [tree.name, [] as number[]]));
  const countersUs = new Map(trees.map((tree) => [tree.name, [] as number[]]));
  const copyUs: number[] = [];
  for (let turn = 0; turn < turns; turn++) {
    copyUs.push(cpuMicros(() => {
      for (let i = 0; i < readiesPerTurn; i++) Buffer.allocUnsafe(bytesPerReady).set(source);
    }) / readiesPerTurn);
    for (const tree of trees) {
      readyUs.get(tree.name)!.push(cpuMicros(() => {
        for (let i = 0; i < readiesPerTurn; i++) tree.ready(100 + i * batch);
      }) / readiesPerTurn);
      countersUs.get(tree.name)!.push(cpuMicros(() => {
        for (let i = 0; i < readiesPerTurn * batch; i++) tree.counters();
      }) / (readiesPerTurn * batch));
    }
  }
  const copy = median(copyUs);
  out(`baseline: copying one Ready's ${bytesPerReady} bytes once        ${copy.toFixed(1)} µs`);
  for (const tree of trees) {
    const ready = median(readyUs.get(tree.name)!);
    const counters = median(countersUs.get(tree.name)!);
    out(`${tree.name.padEnd(4)} one Ready of ${batch} puts encoded           ${ready.toFixed(1)} µs CPU (${(ready / copy).toFixed(1)} × the copy)`);
    out(`${tree.name.padEnd(4)} one put's counter updates             ${counters.toFixed(2)} µs CPU`);
  }
  if (baseline !== undefined) {
    out(`this / base: Ready encoded ${(median(readyUs.get('this')!) / median(readyUs.get('base')!)).toFixed(2)}, counter updates ${(median(countersUs.get('this')!) / median(countersUs.get('base')!)).toFixed(2)}`);
  }
}
