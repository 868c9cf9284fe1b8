import type { Message } from '../core/raft/index.ts';
import type { LogReplica, LogReply, LogRequest } from '../core/replica/logReplica.ts';
import type { TypedHistory } from '../properties/linearizability/formats/typedHistory.ts';
import type { Operation } from '../properties/linearizability/history.ts';
import type { EtcdRequest, EtcdResponse } from '../properties/linearizability/models/etcdTypes.ts';
import type { Simulation } from '../sim/simulation.ts';

type RaftSimulation = Simulation<Message, LogRequest, LogReply, LogReplica>;

/** The one key the replicated log is written to, as the checker sees it. */
export const logKey = 'log';
/** Processes from here on stand for clients that lost track of an append (one each). */
const lostTrackProcess = 1_000_000;
/** And from here on for the second application of a duplicated append (one per log position). */
const duplicateProcess = 2_000_000;

/**
 * The Raft family's client history in the linearizability checker's terms, so that `check` can
 * judge and draw it: the replicated log is one etcd key whose n-th appended value is its n-th
 * version, at revision n + 1. An append is a put; a read, which answers with the log's length L,
 * is a range that saw the L-th value at revision L + 1. Values are unique, so the revisions let the
 * checker sort rather than search.
 *
 * Positions come from the replica that applied the most: an acknowledged append it does not hold
 * is written without a revision (its loss then shows as a history no order explains). An append
 * whose client gave up but which that log holds did take effect, before the run ended, at its
 * position: it is written as done by the end of the run with that revision, under a process of
 * its own (as Jepsen gives a process that lost track of its operation a new id). One the log does
 * not hold took no effect that any read could see (a read sees a position of that log), so taking
 * effect never and taking effect after everything else are the same to the checker: it is written
 * as failed. These are facts of the run the client never learned; they spare the checker guessing
 * where each unknown append went. A value the log holds twice (a duplicated request, proposed
 * twice) is a second put of its own. Membership changes and leadership transfers do not touch the
 * log's values and are left out.
 */
export function raftClientHistory(sim: RaftSimulation): TypedHistory {
  const reference = referenceLog(sim);
  const endUs = sim.nowUs;
  const positionOfIndex = new Map<number, number>();
  reference.valueIndexes.forEach((index, position) => positionOfIndex.set(index, position + 1));
  const positionsOfValue = new Map<number, number[]>();
  reference.values.forEach((value, position) => positionsOfValue.set(value, [...(positionsOfValue.get(value) ?? []), position + 1]));
  // Each position of the log is claimed by the append that put it there: an acknowledged one by
  // its reply's index, one whose client gave up by the first free position holding its value.
  const claimed = new Set<number>();
  for (const entry of sim.history) {
    if (entry.request.kind === 'append' && entry.outcome === 'ok' && entry.reply?.kind === 'appended') {
      const position = positionOfIndex.get(entry.reply.index);
      if (position !== undefined) claimed.add(position);
    }
  }
  const operations: Operation<EtcdRequest, EtcdResponse>[] = [];
  const invokedAtOfValue = new Map<number, number>();
  for (const entry of sim.history) {
    const { request, reply } = entry;
    if (request.kind !== 'append' && request.kind !== 'read') continue;
    if (request.kind === 'append') invokedAtOfValue.set(request.value, entry.invokeUs);
    const input: EtcdRequest = request.kind === 'append' ? { kind: 'put', key: logKey, value: String(request.value) } : { kind: 'range', key: logKey };
    const base = { process: entry.client, invokedAt: entry.invokeUs, input };
    if (entry.outcome === 'unknown' && request.kind === 'append') {
      const position = (positionsOfValue.get(request.value) ?? []).find((p) => !claimed.has(p));
      if (position !== undefined) claimed.add(position);
      const lost = { ...base, process: lostTrackProcess + entry.id, completedAt: Math.max(endUs, entry.invokeUs) };
      operations.push(position === undefined ? { ...lost, output: undefined, outcome: 'fail' } : { ...lost, output: { revision: position + 1 }, outcome: 'ok' });
      continue;
    }
    if (entry.outcome !== 'ok' || reply === null || entry.completeUs === null) {
      if (entry.outcome === 'fail' && entry.completeUs !== null) operations.push({ ...base, completedAt: entry.completeUs, output: undefined, outcome: 'fail' });
      // A read with no answer: open for good, so under a process of its own (as Jepsen does),
      // since its client went on with other operations.
      else operations.push({ ...base, process: lostTrackProcess + entry.id, completedAt: Infinity, output: undefined, outcome: 'unknown' });
      continue;
    }
    operations.push({ ...base, completedAt: entry.completeUs, output: outputOf(reply, positionOfIndex, reference.values), outcome: 'ok' });
  }
  // A position nobody claims holds a value appended twice: the network duplicated its request and
  // the node proposed it twice (the log is at-least-once). The second application is an operation
  // of its own, done between the request and the end of the run.
  reference.values.forEach((value, index) => {
    const position = index + 1;
    if (claimed.has(position)) return;
    const invokedAt = invokedAtOfValue.get(value) ?? 0;
    operations.push({ process: duplicateProcess + position, invokedAt, completedAt: Math.max(endUs, invokedAt), input: { kind: 'put', key: logKey, value: String(value) }, output: { revision: position + 1 }, outcome: 'ok' });
  });
  return { model: 'etcd', operations, initialRevision: 1 };
}

function outputOf(reply: LogReply, positionOfIndex: ReadonlyMap<number, number>, values: readonly number[]): EtcdResponse {
  if (reply.kind === 'appended') {
    const position = positionOfIndex.get(reply.index);
    return position === undefined ? {} : { revision: position + 1 };
  }
  if (reply.kind !== 'read') return {};
  const length = reply.length;
  if (length === 0) return { revision: 1, kvs: [], count: 0 };
  const value = values[length - 1];
  // A read longer than the reference log (logs diverged, which the safety checks report): the
  // value it saw is unknown, and only its revision is stated.
  if (value === undefined) return { revision: length + 1 };
  return { revision: length + 1, kvs: [{ key: logKey, value: String(value), createRevision: 2, modRevision: length + 1, version: length }], count: 1 };
}

/** The running or crashed replica's log that holds the most applied values (a crashed one's is gone). */
function referenceLog(sim: RaftSimulation): { values: readonly number[]; valueIndexes: readonly number[] } {
  let best: LogReplica | null = null;
  for (const id of sim.members) {
    const replica = sim.node(id);
    if (replica !== null && (best === null || replica.values.length > best.values.length)) best = replica;
  }
  return best ?? { values: [], valueIndexes: [] };
}
