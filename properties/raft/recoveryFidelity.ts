import { AssertionError } from '../../core/base/assert.ts';
import { emptyConfState, isStorageError, type Message } from '../../core/raft/index.ts';
import { confStatesEqual } from '../../core/raft/state.ts';
import type { LogReplica, LogReply, LogRequest } from '../../core/replica/logReplica.ts';
import type { SimObserver } from '../../sim/observer.ts';
import { type DurableLog, durableLogOf } from './durableLog.ts';
import type { RaftSimulation } from './raftSafety.ts';

type RaftObserver = SimObserver<Message, LogRequest, LogReply, LogReplica>;

/**
 * Recovery fidelity (Raft §3.8, §5.1: term, vote and log are persistent state): right after every
 * restart, the node's term, vote, commit index, snapshot, configuration and log — as Raft itself
 * holds them, not only as the replica read them — equal what its disk durably holds. A recovery
 * that drops the vote, a term, or an entry shows here at the restart, not when a second vote or
 * a lost entry later meets a rare coincidence. (A first boot from an empty disk bootstraps and
 * is not a recovery.)
 */
export function recoveryFidelity(): RaftObserver {
  return {
    onRestart(node, sim: RaftSimulation) {
      const replica = sim.node(node);
      if (replica === null) return;
      const durable = durableLogOf(sim.disk(node));
      if (isEmptyDisk(durable)) return;
      const differences = compare(replica, durable);
      if (differences.length > 0) throw new AssertionError(`recovery fidelity: node ${node} restarted with ${differences.join('; ')}`);
    },
  };
}

function isEmptyDisk(durable: DurableLog): boolean {
  return durable.hardState.term === 0 && durable.storage.snapshot().metadata.index === 0 && durable.storage.lastIndex() === 0;
}

/** What the restarted node holds that its disk does not, one phrase each. */
export function compare(replica: LogReplica, durable: DurableLog): string[] {
  const out: string[] = [];
  const status = replica.raft.status();
  const disk = durable.hardState;
  const say = (what: string, held: unknown, onDisk: unknown): void => void out.push(`${what} ${String(held)} where its disk holds ${String(onDisk)}`);
  if (status.hardState.term !== disk.term) say('term', status.hardState.term, disk.term);
  if (status.hardState.vote !== disk.vote) say('vote', status.hardState.vote, disk.vote);
  if (status.hardState.commit !== disk.commit) say('commit', status.hardState.commit, disk.commit);
  const snapshot = durable.storage.snapshot().metadata;
  const held = replica.storage.snapshot().metadata;
  if (held.index !== snapshot.index || held.term !== snapshot.term) say('snapshot', `${held.index}/${held.term}`, `${snapshot.index}/${snapshot.term}`);
  // The boot may already have applied committed entries past the snapshot: the applied index lies
  // between the two, and the configuration is the snapshot's while nothing more is applied.
  if (status.applied !== replica.appliedIndex || status.applied < snapshot.index || status.applied > disk.commit) {
    say('applied index', `${status.applied} (replica ${replica.appliedIndex})`, `a snapshot at ${snapshot.index} and commit ${disk.commit}`);
  }
  const config = snapshot.index === 0 ? emptyConfState : snapshot.confState;
  if (status.applied === snapshot.index && !confStatesEqual(status.config, config)) say('configuration', JSON.stringify(status.config), JSON.stringify(config));
  if (status.lastIndex !== durable.storage.lastIndex()) say('last index', status.lastIndex, durable.storage.lastIndex());
  else {
    for (let index = durable.storage.firstIndex(); index <= status.lastIndex; index++) {
      const ours = replica.storage.term(index);
      const theirs = durable.storage.term(index);
      if (isStorageError(ours) || isStorageError(theirs) || ours !== theirs) {
        say(`entry ${index} of term`, ours, theirs);
        break;
      }
    }
  }
  return out;
}
