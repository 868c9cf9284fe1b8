import { assert } from '../base/assert.ts';
import { hup } from './election.ts';
import { restore } from './membership.ts';
import type { Message } from './message.ts';
import type { Raft, StepResult } from './raft.ts';
import { None } from './state.ts';

export function stepFollower(raft: Raft, m: Message): StepResult {
  switch (m.type) {
    case 'MsgProp':
      if (raft.lead === None) {
        raft.logger?.info(`${raft.id} no leader at term ${raft.term}; dropping proposal`);
        return 'proposal-dropped';
      }
      if (raft.disableProposalForwarding) {
        raft.logger?.info(`${raft.id} not forwarding to leader ${raft.lead} at term ${raft.term}; dropping proposal`);
        return 'proposal-dropped';
      }
      raft.send({ ...m, to: raft.lead, term: 0 });
      return 'ok';
    case 'MsgApp':
    case 'MsgHeartbeat':
    case 'MsgSnap':
      // The leader of our term is alive: restart the election timeout.
      raft.electionElapsed = 0;
      raft.lead = m.from;
      handleLeaderMessage(raft, m);
      return 'ok';
    case 'MsgTransferLeader':
      if (raft.lead === None) {
        raft.logger?.info(`${raft.id} no leader at term ${raft.term}; dropping leader transfer msg`);
        return 'ok';
      }
      raft.send({ type: 'MsgTransferLeader', to: raft.lead, index: m.index });
      return 'ok';
    case 'MsgTimeoutNow':
      raft.logger?.info(`${raft.id} [term ${raft.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership.`);
      // No pre-vote: the leader asked for this election, there is no partition to recover from.
      hup(raft, 'transfer');
      return 'ok';
    case 'MsgReadIndex':
      if (raft.lead === None) {
        raft.logger?.info(`${raft.id} no leader at term ${raft.term}; dropping index reading msg`);
        return 'ok';
      }
      // Keep the original sender: the answer goes to whoever asked, not to us.
      raft.send({ ...m, to: raft.lead });
      return 'ok';
    case 'MsgReadIndexResp':
      raft.readStates.push({ index: m.index, requestContext: m.context });
      return 'ok';
    default:
      return 'ok';
  }
}

/** Handles what only a leader sends: appends, heartbeats and snapshots. */
export function handleLeaderMessage(raft: Raft, m: Message): void {
  switch (m.type) {
    case 'MsgApp':
      handleAppendEntries(raft, m);
      break;
    case 'MsgHeartbeat':
      handleHeartbeat(raft, m);
      break;
    case 'MsgSnap':
      handleSnapshot(raft, m);
      break;
    default:
      assert(false, () => `${m.type} is not a leader's message`);
  }
}

/**
 * AppendEntries (§5.3). Entries at or below our commit index are known to match: answer with the
 * commit index. Otherwise append if our log has the preceding entry; if not, reject with a hint:
 * the largest index <= the probe whose term is <= the leader's term there, which lets the
 * leader skip our whole divergent tail in one round trip.
 */
function handleAppendEntries(raft: Raft, m: Message): void {
  const log = raft.log;
  if (m.index < log.committed) {
    raft.send({ type: 'MsgAppResp', to: m.from, index: log.committed });
    return;
  }
  const lastNew = log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== null) {
    raft.send({ type: 'MsgAppResp', to: m.from, index: lastNew });
    return;
  }
  raft.logger?.debug(
    `${raft.id} [logterm: ${log.termOrZero(m.index)}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
  );
  const hint = log.findConflictByTerm(Math.min(m.index, log.lastIndex()), m.logTerm);
  raft.send({ type: 'MsgAppResp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
}

function handleHeartbeat(raft: Raft, m: Message): void {
  raft.log.commitTo(m.commit);
  raft.send({ type: 'MsgHeartbeatResp', to: m.from, context: m.context });
}

function handleSnapshot(raft: Raft, m: Message): void {
  const snapshot = m.snapshot;
  if (snapshot === null) {
    raft.logger?.warn(`${raft.id} received MsgSnap without a snapshot from ${m.from}`);
    return;
  }
  const { index, term } = snapshot.metadata;
  if (restore(raft, snapshot)) {
    raft.logger?.info(`${raft.id} [commit: ${raft.log.committed}] restored snapshot [index: ${index}, term: ${term}]`);
    raft.send({ type: 'MsgAppResp', to: m.from, index: raft.log.lastIndex() });
  } else {
    raft.logger?.info(`${raft.id} [commit: ${raft.log.committed}] ignored snapshot [index: ${index}, term: ${term}]`);
    raft.send({ type: 'MsgAppResp', to: m.from, index: raft.log.committed });
  }
}
