import { assert } from '../base/assert.ts';
import { campaignTransferContext, type Message, voteResponseType } from './message.ts';
import type { CampaignType, Raft } from './raft.ts';
import { noLimit } from './raftLog.ts';
import { None, type NodeId } from './state.ts';

/*
 * Elections (Raft §5.2, §5.4.1; pre-vote and check-quorum leases from the thesis §9.6 and §4.2.3):
 * starting a campaign, counting votes, and what a message's term and a vote request do to a node
 * of any role.
 */
/** Starts an election (a timeout, `campaign()`, or MsgTimeoutNow with 'transfer'). */
export function hup(raft: Raft, type: CampaignType): void {
  if (raft.role === 'leader') {
    raft.logger?.debug(`${raft.id} ignoring MsgHup because already leader`);
    return;
  }
  if (!raft.promotable()) {
    raft.logger?.warn(`${raft.id} is unpromotable and can not campaign`);
    return;
  }
  // A committed conf change not yet applied could change who votes: wait until it is applied.
  if (hasUnappliedConfChanges(raft)) {
    raft.logger?.warn(`${raft.id} cannot campaign at term ${raft.term} since there are still pending configuration changes to apply`);
    return;
  }
  raft.logger?.info(`${raft.id} is starting a new election at term ${raft.term}`);
  campaign(raft, type);
}

function hasUnappliedConfChanges(raft: Raft): boolean {
  if (raft.log.applied >= raft.log.committed) return false;
  // The application may have compacted its log past Raft's applied index: it applies committed
  // entries (conf changes included) as it takes a Ready, and Raft learns that only at advance(),
  // which waits for the Ready's sync. Entries below the first index are applied, so the scan starts
  // there. From applied + 1 it read below the first index and threw (etcd-io/etcd#9079, after a
  // 53 s WAL sync: a follower whose disk stalls past an election timeout; raft-disk-stalls).
  const entries = raft.log.slice(Math.max(raft.log.applied + 1, raft.log.firstIndex()), raft.log.committed + 1, noLimit);
  assert(typeof entries !== 'string', () => `error scanning unapplied entries: ${String(entries)}`);
  return entries.some((entry) => entry.type === 'confChange');
}

export function campaign(raft: Raft, type: CampaignType): void {
  let term: number;
  let voteType: 'MsgVote' | 'MsgPreVote';
  if (type === 'pre-election') {
    raft.becomePreCandidate();
    voteType = 'MsgPreVote';
    // Pre-votes ask about the next term without moving to it.
    term = raft.term + 1;
  } else {
    raft.becomeCandidate();
    voteType = 'MsgVote';
    term = raft.term;
  }
  const lastIndex = raft.log.lastIndex();
  const lastTerm = raft.log.lastTerm();
  for (const id of raft.tracker.voterIds()) {
    if (id === raft.id) {
      // Our own vote counts once it is durable: it comes back on advance.
      raft.send({ type: voteResponseType(voteType), to: id, term });
      continue;
    }
    raft.logger?.info(`${raft.id} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${voteType} request to ${id} at term ${raft.term}`);
    raft.send({
      type: voteType,
      to: id,
      term,
      index: lastIndex,
      logTerm: lastTerm,
      context: type === 'transfer' ? campaignTransferContext : '',
    });
  }
}

export function poll(raft: Raft, id: NodeId, type: Message['type'], granted: boolean): ReturnType<Raft['tracker']['tallyVotes']> {
  if (granted) raft.logger?.info(`${raft.id} received ${type} from ${id} at term ${raft.term}`);
  else raft.logger?.info(`${raft.id} received ${type} rejection from ${id} at term ${raft.term}`);
  raft.tracker.recordVote(id, granted);
  return raft.tracker.tallyVotes();
}

/** Handles the message's term (§5.1). False when the message must go no further. */
export function stepTerm(raft: Raft, m: Message): boolean {
  // Term 0: a proposal or read request, forwarded like a local one.
  if (m.term === 0) return true;
  if (m.term > raft.term) {
    if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
      const force = m.context === campaignTransferContext;
      const inLease = raft.checkQuorum && raft.lead !== None && raft.electionElapsed < raft.electionTimeout;
      if (!force && inLease) {
        // Thesis §4.2.3: a server that heard from a leader within the minimum election timeout
        // neither raises its term nor grants a vote. This keeps a removed or partitioned node
        // from disrupting a live leader.
        raft.logger?.info(
          `${raft.id} [logterm: ${raft.log.lastTerm()}, index: ${raft.log.lastIndex()}, vote: ${raft.vote}] ignored ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${raft.term}: lease is not expired (remaining ticks: ${raft.electionTimeout - raft.electionElapsed})`,
        );
        return false;
      }
    }
    if (m.type === 'MsgPreVote' || (m.type === 'MsgPreVoteResp' && !m.reject)) {
      // A pre-vote never changes our term; a granted pre-vote answer carries the term the
      // candidate will campaign for, which it reaches only if it wins the pre-vote.
      return true;
    }
    raft.logger?.info(`${raft.id} [term: ${raft.term}] received a ${m.type} message with higher term from ${m.from} [term: ${m.term}]`);
    const fromLeader = m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap';
    raft.becomeFollower(m.term, fromLeader ? m.from : None);
    return true;
  }
  if (m.term < raft.term) {
    stepLowerTerm(raft, m);
    return false;
  }
  return true;
}

function stepLowerTerm(raft: Raft, m: Message): void {
  if ((raft.checkQuorum || raft.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
    // A leader of an older term still thinks it leads. With check-quorum or pre-vote our higher
    // term may never reach it through votes (they are ignored or never sent), so tell it now:
    // the answer carries our term and makes it step down. Without this, a node that raised its
    // term while partitioned could be stuck forever.
    raft.send({ type: 'MsgAppResp', to: m.from });
  } else if (m.type === 'MsgPreVote') {
    // A pre-candidate with a stale term must learn it lost, or the cluster could deadlock.
    raft.logger?.info(
      `${raft.id} [logterm: ${raft.log.lastTerm()}, index: ${raft.log.lastIndex()}, vote: ${raft.vote}] rejected ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${raft.term}`,
    );
    raft.send({ type: 'MsgPreVoteResp', to: m.from, term: raft.term, reject: true });
  } else {
    raft.logger?.info(`${raft.id} [term: ${raft.term}] ignored a ${m.type} message with lower term from ${m.from} [term: ${m.term}]`);
  }
}

export function stepVoteRequest(raft: Raft, m: Message): void {
  const type = m.type as 'MsgVote' | 'MsgPreVote';
  // We may vote if we already voted for this candidate, or have not voted and know no leader in
  // this term, or this is a pre-vote for a later term.
  const canVote =
    raft.vote === m.from || (raft.vote === None && raft.lead === None) || (type === 'MsgPreVote' && m.term > raft.term);
  const lastIndex = raft.log.lastIndex();
  const lastTerm = raft.log.lastTerm();
  // ...and only a candidate whose log is at least as up to date as ours (§5.4.1).
  if (canVote && raft.log.isUpToDate(m.index, m.logTerm)) {
    // Learners must vote too: a learner promoted by a committed change may not have learned of
    // it yet, and its vote may be needed to elect a leader that will tell it.
    raft.logger?.info(
      `${raft.id} [logterm: ${lastTerm}, index: ${lastIndex}, vote: ${raft.vote}] cast ${type} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${raft.term}`,
    );
    // Answer with the term asked about: a pre-candidate ignores answers of other terms.
    raft.send({ type: voteResponseType(type), to: m.from, term: m.term });
    if (type === 'MsgVote') {
      // Only real votes are recorded (and persisted before the answer leaves).
      raft.electionElapsed = 0;
      raft.vote = m.from;
    }
  } else {
    raft.logger?.info(
      `${raft.id} [logterm: ${lastTerm}, index: ${lastIndex}, vote: ${raft.vote}] rejected ${type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${raft.term}`,
    );
    raft.send({ type: voteResponseType(type), to: m.from, term: raft.term, reject: true });
  }
}
