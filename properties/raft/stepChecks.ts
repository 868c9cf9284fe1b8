import type { Message } from '../../core/raft/index.ts';
import type { LogReplica, LogReply, LogRequest } from '../../core/replica/logReplica.ts';
import type { SimObserver } from '../../sim/observer.ts';
import { availability, type AvailabilityOptions } from './availability.ts';
import { electionQuorum } from './electionQuorum.ts';
import { leaderBookkeeping } from './leaderBookkeeping.ts';
import { recoveryFidelity } from './recoveryFidelity.ts';
import { voteLedger } from './voteLedger.ts';

/**
 * The checks at the first wrong step (issue 7): each a Raft property that a bug breaks the moment
 * it does something wrong, long before a second coincidence turns it into two leaders, diverging
 * state or a stale read. Each is cheap enough for every event.
 */
export function stepChecks(options: AvailabilityOptions): SimObserver<Message, LogRequest, LogReply, LogReplica>[] {
  return [voteLedger(), electionQuorum(), recoveryFidelity(), leaderBookkeeping(), availability(options)];
}

/** What the checks are, for the run header. */
export function describeStepChecks(options: AvailabilityOptions): string {
  const lease = options.lease ? '; no campaign and no vote past the term of a leader left alone and connected (every vote sent)' : '';
  const served = options.successPercentMin === null ? '' : `; at least ${options.successPercentMin}% of requests in fault-free windows served (at the end)`;
  return `step checks: one vote per term per node across restarts (every vote sent); leaders elected by a quorum of both halves (every new leader); recovery equals the disk (every restart); matches never past what the follower durably shares, one conf change in flight (every leader event)${lease}${served}`;
}
