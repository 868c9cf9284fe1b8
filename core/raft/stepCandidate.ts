import { campaign, poll } from './election.ts';
import type { Message } from './message.ts';
import type { Raft, StepResult } from './raft.ts';
import { bcastAppend } from './replication.ts';
import { None } from './state.ts';
import { handleLeaderMessage } from './stepFollower.ts';

/**
 * Candidates and pre-candidates. They count only answers to their own kind of campaign: a
 * candidate may still receive pre-vote answers from the pre-vote it just won.
 */
export function stepCandidate(raft: Raft, m: Message): StepResult {
  const myVoteResponse = raft.role === 'pre-candidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
  switch (m.type) {
    case 'MsgProp':
      raft.logger?.info(`${raft.id} no leader at term ${raft.term}; dropping proposal`);
      return 'proposal-dropped';
    // A leader of our term exists (its message passed the term check): follow it.
    case 'MsgApp':
    case 'MsgHeartbeat':
    case 'MsgSnap':
      raft.becomeFollower(m.term, m.from);
      handleLeaderMessage(raft, m);
      return 'ok';
    case 'MsgTimeoutNow':
      raft.logger?.debug(`${raft.id} [term ${raft.term} state ${raft.role}] ignored MsgTimeoutNow from ${m.from}`);
      return 'ok';
    default:
      if (m.type === myVoteResponse) countVote(raft, m);
      return 'ok';
  }
}

function countVote(raft: Raft, m: Message): void {
  const { granted, rejected, result } = poll(raft, m.from, m.type, !m.reject);
  raft.logger?.info(`${raft.id} has received ${granted} ${m.type} votes and ${rejected} vote rejections`);
  switch (result) {
    case 'won':
      if (raft.role === 'pre-candidate') {
        campaign(raft, 'election');
      } else {
        raft.becomeLeader();
        bcastAppend(raft);
      }
      break;
    case 'lost':
      // A rejected pre-vote answer carries a later term, but a pre-candidate keeps its own.
      raft.becomeFollower(raft.term, None);
      break;
    case 'pending':
      break;
  }
}
