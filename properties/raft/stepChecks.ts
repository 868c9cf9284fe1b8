import { availability, type AvailabilityOptions } from './availability.ts';
import type { RaftHost, RaftHostObserver } from './raftHost.ts';
import { electionQuorum } from './electionQuorum.ts';
import { leaderBookkeeping } from './leaderBookkeeping.ts';
import { readLatency } from './readLatency.ts';
import { recoveryFidelity } from './recoveryFidelity.ts';
import { voteLedger } from './voteLedger.ts';

/** How long a read may wait for a stable leader in a fault-free cluster: a few slow round trips, with room to spare. */
const readBoundElectionTimeouts = 5;

/**
 * The checks at the first wrong step (issue 7): each a Raft property that a bug breaks the moment
 * it does something wrong, long before a second coincidence turns it into two leaders, diverging
 * state or a stale read. Each is cheap enough for every event.
 */
export function stepChecks<Q, R, N extends RaftHost<Q, R>>(options: AvailabilityOptions): RaftHostObserver<Q, R, N>[] {
  const reads = readLatency<Q, R, N>({ boundUs: readBoundElectionTimeouts * options.electionTimeoutUs, electionTimeoutUs: options.electionTimeoutUs });
  return [voteLedger(), electionQuorum(), recoveryFidelity(), leaderBookkeeping(), availability(options), reads];
}

/** What the checks are, for the run header. */
export function describeStepChecks(options: AvailabilityOptions): string {
  const lease = options.lease ? '; no campaign and no vote past the term of a leader left alone and connected (every vote sent)' : '';
  const served = options.successPercentMin === null ? '' : `; at least ${options.successPercentMin}% of requests in fault-free windows served (at the end)`;
  const reads = `; a read sent to a member that knows a stable leader answered within ${readBoundElectionTimeouts} election timeouts while the cluster is fault-free (every event)`;
  return `step checks: one vote per term per node across restarts (every vote sent); leaders elected by a quorum of both halves (every new leader); recovery equals the disk (every restart); matches never past what the follower durably shares, one conf change in flight (every leader event)${lease}${served}${reads}`;
}
