/**
 * `npm run bench snapshotInstall`: what a follower's loop spends on a leader's snapshot once its
 * bytes are in (task followersnap). For each modelled db size in DETCD_BENCH_INSTALL_MB (default
 * 64,200), a store of values of DETCD_BENCH_INSTALL_VALUE_KB (default 1: check perf's, the most
 * revisions per MiB; the quotaCluster bench's are 16) under 276-byte keys is built, its snapshot
 * message encoded, and then, alternated three times:
 * - whole: `etcdCodec.message.decode` in one go (the baseline: what the follower did before);
 * - steps: `etcdCodec.decodeMessageInSteps` run to the end, its total and its longest step (the
 *   peer transport runs steps for 5 ms a turn, so a turn is at most about 5 ms plus one step);
 * - install: `StateMachine.fromSnapshot` on the decoded image (core's install: the key index
 *   built from every revision, the lessor, membership), one step of core's: the baseline of
 * - prepare: `etcdCodec.prepareMessageInSteps` run to the end (the key index and the leased keys
 *   built from the frozen image, as the peer transport runs it in turns before handing the message
 *   on), its total and its longest step, then the install adopting that index: what is left of the
 *   install's one step (task install).
 */
import type { Steps } from '../core/base/steps.ts';
import { KvStore } from '../core/mvcc/kvStore.ts';
import { Backend } from '../core/mvcc/backend.ts';
import type { BackendImage } from '../core/mvcc/index.ts';
import { TestRandom } from '../core/raft/_test/testRandom.ts';
import { makeMessage } from '../core/raft/message.ts';
import type { Message } from '../core/raft/index.ts';
import { etcdCodec } from '../core/server/codec.ts';
import { defaultEtcdServerConfig, etcdProtocol } from '../core/server/index.ts';
import { StateMachine } from '../core/server/stateMachine.ts';
import { useNativeByteStrings } from '../runtime/nativeByteStrings.ts';
import { keyOf } from './storeHeap.bench.ts';

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

export async function bench(out: (line: string) => void): Promise<void> {
  const sizesMb = (process.env.DETCD_BENCH_INSTALL_MB ?? '64,200').split(',').map(Number);
  const valueBytes = Number(process.env.DETCD_BENCH_INSTALL_VALUE_KB ?? 1) * 1024;
  if (sizesMb.some((size) => !(size > 0)) || !(valueBytes > 0)) throw new Error(`DETCD_BENCH_INSTALL_MB must be sizes in MiB and DETCD_BENCH_INSTALL_VALUE_KB a size in KiB`);
  // As a member codes byte strings (runtime/server.ts).
  useNativeByteStrings();
  const options = etcdProtocol({ ...defaultEtcdServerConfig, initialCluster: [1] }).start({ id: 1, members: [1], random: new TestRandom(1), durable: { files: new Map() } }).stateOptions;
  for (const sizeMb of sizesMb) {
    const value = Buffer.alloc(valueBytes, 'v');
    const store = KvStore.open(Backend.create());
    let revisions = 0;
    for (let i = 0; store.backend.size < sizeMb * 2 ** 20; i++, revisions++) {
      value.writeUInt32BE(i, 0);
      store.put({ key: keyOf(i), value: value.toString('latin1') });
      if (i % 100 === 99) store.backend.commit();
    }
    const { delta: _delta, ...image } = store.backend.snapshot();
    const message: Message = makeMessage({ type: 'MsgSnap', to: 2, snapshot: { metadata: { index: revisions + 1, term: 2, confState: { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: image } }, 1, 2);
    const bytes = etcdCodec.message.encode(message);
    const rows: { whole: number; steps: number; stepsCount: number; longestStep: number; install: number; prepare: StepsRun; adopted: number }[] = [];
    for (let round = 0; round < 3; round++) {
      let started = performance.now();
      etcdCodec.message.decode(bytes);
      const whole = performance.now() - started;
      const decode = timedSteps(etcdCodec.decodeMessageInSteps!(bytes)!);
      const decoded = decode.value as Message;
      started = performance.now();
      StateMachine.fromSnapshot(decoded.snapshot!.data as BackendImage, options);
      const install = performance.now() - started;
      const prepare = timedSteps(etcdCodec.prepareMessageInSteps!(decoded)!);
      const prepared = prepare.value as Message;
      started = performance.now();
      StateMachine.fromSnapshot(prepared.snapshot!.data as BackendImage, options);
      const adopted = performance.now() - started;
      rows.push({ whole, steps: decode.ms, stepsCount: decode.steps, longestStep: decode.longestStepMs, install, prepare, adopted });
    }
    out(`db ${mb(store.backend.size)} MiB, ${revisions} revisions of ${valueBytes / 1024} KiB values, message ${mb(bytes.byteLength)} MiB:`);
    for (const [round, row] of rows.entries()) {
      out(
        `  round ${round + 1}: whole decode ${row.whole.toFixed(0)} ms (baseline); in ${row.stepsCount} steps ${row.steps.toFixed(0)} ms (${(row.steps / row.whole).toFixed(2)}x), longest step ${row.longestStep.toFixed(1)} ms; ` +
          `install (StateMachine.fromSnapshot, one step) ${row.install.toFixed(0)} ms (${(row.install / row.whole).toFixed(2)}x the whole decode); ` +
          `index prepared in ${row.prepare.steps} steps ${row.prepare.ms.toFixed(0)} ms, longest step ${row.prepare.longestStepMs.toFixed(1)} ms, then the install adopting it ${row.adopted.toFixed(1)} ms (${(row.adopted / row.install).toFixed(3)}x the one-step install)`,
      );
    }
  }
}

interface StepsRun {
  readonly value: unknown;
  readonly steps: number;
  readonly ms: number;
  readonly longestStepMs: number;
}

/** Runs steps to their end, timing each. */
function timedSteps(steps: Steps<unknown>): StepsRun {
  const started = performance.now();
  let longestStepMs = 0;
  let count = 0;
  for (;;) {
    const stepStarted = performance.now();
    const step = steps.next();
    longestStepMs = Math.max(longestStepMs, performance.now() - stepStarted);
    if (step.done === true) return { value: step.value, steps: count, ms: performance.now() - started, longestStepMs };
    count++;
  }
}
