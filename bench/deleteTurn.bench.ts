/**
 * `npm run bench deleteTurn`: the member's loop turn that applies `etcdctl check perf`'s cleanup
 * (issue 10), piece by piece, in process: the member's state machine (core/server's StateMachine:
 * the store, the lessor, the forced batch commit) with the member's watchable store as its apply
 * listener, on a store as a member holds it after a second check perf run (55k keys live under
 * the prefix, run 1's 55k tombstoned beside them; 276-byte keys, 256-byte values, the runtime's
 * native byte strings). One DeleteRange of the prefix, in the order the member runs it:
 *
 * - `walk`: the range's live keys found in the index (timed on its own, before the delete, on a
 *   twin store: the delete below walks again);
 * - `apply`: `StateMachine.apply` (the delete: tombstones in the key bucket and the index, the
 *   events, the lessor's tracking, the revision checks; and the commit the 55k changes force);
 * - `notify`: the watchable store's `notify` (the apply listener), with DETCD_BENCH_TURN_WATCHERS
 *   synced watchers on an unrelated key (default 0; check perf has none);
 * - `record`: the commit's record as the runtime writes it (the family byte and the delta's
 *   bytes, then zlib's CRC-32 of them);
 * - `gc`: the collections inside those (PerformanceObserver 'gc' entries in the turn).
 *
 * The baseline measured in the same run is another checkout's core (DETCD_BENCH_BASELINE=<dir>,
 * e.g. /work/wt-base), alternated round by round, each on a fresh store built the same way.
 * DETCD_BENCH_TURN_ROUNDS (default 5), DETCD_BENCH_TURN_KEYS (default 55,000).
 * DETCD_BENCH_TURN_SLICE=<keys>: this checkout also applies the delete in slices of that many
 * keys (StateMachine.beginDeleteRange: what a member with applySliceKeys does, one slice per loop
 * turn) on a fresh store per round, and prints the longest slice (the last one ends the write
 * transaction, notifies and encodes the commit's record) and the sum of the slices.
 * DETCD_BENCH_TURN_PROFILE=<file>: a CPU profile of this checkout's turns alone (the inspector's
 * profiler started at each turn and stopped at its end; the last round's profile is written).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';
import { crc32 } from 'node:zlib';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fullGc, keyOf } from './cleanup.bench.ts';

const prefix = '/etcdctl-check-perf/';
const rangeEnd = '/etcdctl-check-perf0';
const value = 'v'.repeat(256);

interface KvLike {
  readonly revision: number;
  range(request: { key: string; rangeEnd: string; countOnly: boolean }): { count: number };
}
interface JobLike {
  step(limit: number): boolean;
}
interface StateLike {
  beginDeleteRange?(op: unknown): { job: JobLike; before: number };
  finishDeleteRange?(job: JobLike, before: number): { response: { deleted?: number }; events: readonly unknown[] };
  readonly backend: { commit(): boolean; takeWrites(): { records: readonly unknown[] }[]; setConsistentIndex(index: number, term: number): void };
  readonly kv: KvLike & { eventsCarryPrevKv: boolean };
  apply(op: unknown): { response: { deleted?: number }; events: readonly unknown[] };
}
interface StoreLike {
  notify(events: readonly unknown[], revision: number): void;
  watch(spec: unknown, startRevision: number, sink: { offer(notice: unknown): boolean }): unknown;
  readonly wantsPrevKv: boolean;
}

interface Checkout {
  readonly name: string;
  readonly open: () => StateLike;
  readonly watchable: (state: StateLike) => StoreLike;
  readonly encode: (record: unknown) => Uint8Array;
}

async function load(name: string, root: string): Promise<Checkout> {
  const url = (path: string) => pathToFileURL(join(root, ...path.split('/'))).href;
  const mvcc = (await import(url('core/mvcc/index.ts'))) as { Backend: { create(options: { batchLimit: number }): unknown } };
  const server = (await import(url('core/server/stateMachine.ts'))) as { StateMachine: { open(backend: unknown, options: unknown): StateLike } };
  const watch = (await import(url('core/watch/index.ts'))) as { WatchableStore: new (store: () => unknown) => StoreLike };
  const codec = (await import(url('core/mvcc/backendCodec.ts'))) as { encodeBackendRecord(record: unknown, leading?: number): Uint8Array };
  const native = (await import(url('runtime/nativeByteStrings.ts'))) as { useNativeByteStrings(): void };
  native.useNativeByteStrings();
  const options = {
    backend: { batchLimit: 10_000 },
    appliedRequestsWindow: 1024,
    compactionBatchLimit: 1000,
    quotaBackendBytes: 8 * 1024 ** 3,
    lessor: { minTTL: 2, ticksPerSecond: 10, checkpointIntervalTicks: null, revokeRetryTicks: 30, revokesPerSecond: 1000 },
    now: () => 0,
  };
  return {
    name,
    open: () => server.StateMachine.open(mvcc.Backend.create(options.backend), options),
    watchable: (state) => new watch.WatchableStore(() => state.kv),
    encode: (record) => codec.encodeBackendRecord(record, 0x42),
  };
}

let entryIndex = 0;

/** The inspector's CPU profiler around each turn of this checkout (DETCD_BENCH_TURN_PROFILE), or null. */
let profiler: { start(): void; stop(): void } | null = null;

function turnProfiler(file: string): { start(): void; stop(): void } {
  const session = new Session();
  session.connect();
  // The in-thread session answers synchronously: the profile covers the turn and nothing else.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 100 });
  return {
    start: () => session.post('Profiler.start'),
    stop: () =>
      session.post('Profiler.stop', (error, result) => {
        if (error === null) writeFileSync(file, JSON.stringify(result.profile));
      }),
  };
}

function applyOp(state: StateLike, op: unknown): { response: { deleted?: number }; events: readonly unknown[] } {
  state.backend.setConsistentIndex(++entryIndex, 2);
  return state.apply(op);
}

const deleteOp = { kind: 'deleteRange', request: { key: prefix, rangeEnd } };

/** A state holding run 2's keys live and run 1's tombstoned, the writes taken. */
function secondRunState(checkout: Checkout, keyCount: number): StateLike {
  const state = checkout.open();
  state.kv.eventsCarryPrevKv = false;
  for (const run of [1, 2]) {
    for (let i = 0; i < keyCount; i++) {
      applyOp(state, { kind: 'put', request: { key: keyOf(run, i), value } });
      if (i % 100 === 99) state.backend.commit();
    }
    state.backend.commit();
    if (run === 1) {
      const deleted = applyOp(state, deleteOp).response.deleted;
      if (deleted !== keyCount) throw new Error(`run 1's cleanup deleted ${deleted} of ${keyCount} keys`);
      state.backend.commit();
    }
    state.backend.takeWrites();
  }
  return state;
}

interface Round {
  readonly walk: number;
  readonly apply: number;
  readonly notify: number;
  readonly record: number;
  readonly gc: number;
  readonly turn: number;
}
const fields = ['walk', 'apply', 'notify', 'record', 'gc', 'turn'] as const;

/** A round's times (ms) but the collections', and when its turn began and ended (performance.now()). */
interface Timed {
  readonly walk: number;
  readonly apply: number;
  readonly notify: number;
  readonly record: number;
  readonly turnStarted: number;
  readonly ended: number;
  readonly bytes: number;
}

function round(checkout: Checkout, gc: () => void, keyCount: number, watchers: number): Timed {
  // The walk alone, on a twin (a read of the range's count walks the live keys as the delete does).
  const twin = secondRunState(checkout, keyCount);
  gc();
  const started = performance.now();
  const counted = twin.kv.range({ key: prefix, rangeEnd, countOnly: true }).count;
  const walk = performance.now() - started;
  if (counted !== keyCount) throw new Error(`${checkout.name}: the walk counted ${counted} of ${keyCount}`);

  const state = secondRunState(checkout, keyCount);
  const store = checkout.watchable(state);
  const sink = { offer: () => true };
  for (let w = 0; w < watchers; w++) store.watch({ key: `/elsewhere/${w}`, end: null, filters: [], prevKv: false, progressNotify: false }, 0, sink);
  gc();
  gc();
  profiler?.start();
  const turnStarted = performance.now();
  state.kv.eventsCarryPrevKv = store.wantsPrevKv;
  const outcome = applyOp(state, deleteOp);
  const applied = performance.now();
  if (outcome.response.deleted !== keyCount) throw new Error(`${checkout.name}: the cleanup deleted ${outcome.response.deleted} of ${keyCount} keys`);
  store.notify(outcome.events, state.kv.revision);
  const notified = performance.now();
  let bytes = 0;
  for (const write of state.backend.takeWrites()) {
    for (const record of write.records) {
      const encoded = checkout.encode(record);
      bytes += encoded.byteLength + (crc32(encoded) & 0);
    }
  }
  const ended = performance.now();
  profiler?.stop();
  // Under the batch limit (10,000 changes) the commit waits for the next periodic one, another turn.
  if (bytes === 0 && keyCount >= 10_000) throw new Error(`${checkout.name}: the cleanup wrote nothing`);
  return { walk, apply: applied - turnStarted, notify: notified - applied, record: ended - notified, turnStarted, ended, bytes };
}

/** One sliced apply of the cleanup (DETCD_BENCH_TURN_SLICE): each slice's ms, the last one with the end of the turn. */
function slicedRound(checkout: Checkout, gc: () => void, keyCount: number, sliceKeys: number): number[] {
  const state = secondRunState(checkout, keyCount);
  const store = checkout.watchable(state);
  gc();
  gc();
  const slices: number[] = [];
  let started = performance.now();
  state.backend.setConsistentIndex(++entryIndex, 2);
  state.kv.eventsCarryPrevKv = true;
  const { job, before } = state.beginDeleteRange!(deleteOp);
  while (!job.step(sliceKeys)) {
    const now = performance.now();
    slices.push(now - started);
    started = now;
  }
  const outcome = state.finishDeleteRange!(job, before);
  if (outcome.response.deleted !== keyCount) throw new Error(`${checkout.name}: the sliced cleanup deleted ${outcome.response.deleted} of ${keyCount} keys`);
  store.notify(outcome.events, state.kv.revision);
  for (const write of state.backend.takeWrites()) for (const record of write.records) crc32(checkout.encode(record));
  slices.push(performance.now() - started);
  return slices;
}

const least = (values: readonly number[]) => Math.min(...values);
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function bench(out: (line: string) => void): Promise<void> {
  const rounds = Number(process.env.DETCD_BENCH_TURN_ROUNDS ?? 5);
  const keyCount = Number(process.env.DETCD_BENCH_TURN_KEYS ?? 55_000);
  const watchers = Number(process.env.DETCD_BENCH_TURN_WATCHERS ?? 0);
  if (!Number.isSafeInteger(rounds) || rounds < 1 || rounds > 100) throw new Error(`DETCD_BENCH_TURN_ROUNDS must be 1-100, got ${process.env.DETCD_BENCH_TURN_ROUNDS}`);
  if (!Number.isSafeInteger(keyCount) || keyCount < 1 || keyCount > 500_000) throw new Error(`DETCD_BENCH_TURN_KEYS must be 1-500000, got ${process.env.DETCD_BENCH_TURN_KEYS}`);
  if (!Number.isSafeInteger(watchers) || watchers < 0 || watchers > 10_000) throw new Error(`DETCD_BENCH_TURN_WATCHERS must be 0-10000, got ${process.env.DETCD_BENCH_TURN_WATCHERS}`);
  const gc = fullGc();
  const collections: { start: number; duration: number }[] = [];
  const recordBytes = new Map<string, number>();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) collections.push({ start: entry.startTime, duration: entry.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  const checkouts = [await load('here', resolve(import.meta.dirname, '..'))];
  const baseline = process.env.DETCD_BENCH_BASELINE || undefined;
  if (baseline !== undefined) checkouts.push(await load('base', resolve(baseline)));
  else out('deleteTurn: set DETCD_BENCH_BASELINE=<a checkout of main with its own node_modules> to compare');
  // The gc entries arrive after the turn (the observer is called from the event loop).
  const measured = async (checkout: Checkout): Promise<Round> => {
    collections.length = 0;
    const result = round(checkout, gc, keyCount, watchers);
    await new Promise((done) => setTimeout(done, 20));
    if (process.env.DETCD_BENCH_TURN_DEBUG) console.log(collections.length, result.turnStarted, result.ended, JSON.stringify(collections.slice(-5)));
    const inTurn = collections.filter((entry) => entry.start >= result.turnStarted && entry.start < result.ended).reduce((sum, entry) => sum + entry.duration, 0);
    recordBytes.set(checkout.name, result.bytes);
    return { walk: result.walk, apply: result.apply, notify: result.notify, record: result.record, gc: inTurn, turn: result.ended - result.turnStarted };
  };
  for (const checkout of checkouts) await measured(checkout); // warm up
  const profile = process.env.DETCD_BENCH_TURN_PROFILE;
  const hereProfiler = profile === undefined || profile === '' ? null : turnProfiler(profile);
  const results = new Map(checkouts.map((checkout) => [checkout.name, [] as Round[]]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? checkouts : [...checkouts].reverse();
    for (const checkout of order) {
      profiler = checkout.name === 'here' ? hereProfiler : null;
      results.get(checkout.name)!.push(await measured(checkout));
    }
  }
  observer.disconnect();
  const sliceKeys = Number(process.env.DETCD_BENCH_TURN_SLICE ?? 0);
  if (sliceKeys > 0) {
    const longest: number[] = [];
    const sums: number[] = [];
    let count = 0;
    for (let r = 0; r < rounds; r++) {
      const slices = slicedRound(checkouts[0]!, gc, keyCount, sliceKeys);
      longest.push(Math.max(...slices));
      sums.push(slices.reduce((sum, ms) => sum + ms, 0));
      count = slices.length;
    }
    if (process.env.DETCD_BENCH_TURN_DEBUG) out(`deleteTurn slices of the last round: ${slicedRound(checkouts[0]!, gc, keyCount, sliceKeys).map((ms) => ms.toFixed(1)).join(', ')}`);
    out(`deleteTurn here in slices of ${sliceKeys} keys (${count} slices, prevKv read): longest slice ${least(longest).toFixed(1)} / ${median(longest).toFixed(1)} ms, all slices ${least(sums).toFixed(0)} / ${median(sums).toFixed(0)} ms (least / median of ${rounds}); longest per round ${longest.map((ms) => ms.toFixed(1)).join(', ')}`);
  }
  const figure = (name: string, field: keyof Round) => results.get(name)!.map((result) => result[field]);
  out(`deleteTurn: DeleteRange of ${keyCount.toLocaleString('en')} live keys (as many tombstoned beside them), ${watchers} synced watcher(s) elsewhere; ms, least / median of ${rounds}`);
  for (const checkout of checkouts) {
    out(`deleteTurn ${checkout.name.padEnd(4)} record ${((recordBytes.get(checkout.name) ?? 0) / 1e6).toFixed(1)} MB; ${fields.map((field) => `${field} ${least(figure(checkout.name, field)).toFixed(0)} / ${median(figure(checkout.name, field)).toFixed(0)}`).join('; ')}; turns ${figure(checkout.name, 'turn').map((ms) => ms.toFixed(0)).join(', ')}`);
  }
  if (baseline !== undefined) {
    const ratio = (field: keyof Round, pick: (values: readonly number[]) => number) => (pick(figure('here', field)) / Math.max(pick(figure('base', field)), 0.001)).toFixed(2);
    out(`deleteTurn here / base: ${fields.map((field) => `${field} ${ratio(field, least)} least, ${ratio(field, median)} median`).join('; ')}`);
  }
}
