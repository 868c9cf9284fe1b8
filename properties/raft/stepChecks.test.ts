import test from 'ava';
import { confChange } from '../../core/raft/index.ts';
import { makeMessage } from '../../core/raft/message.ts';
import type { FaultAction } from '../../sim/faults.ts';
import type { LogReplica, LogReply, LogRequest } from '../../core/replica/logReplica.ts';
import { availability } from './availability.ts';
import { electionQuorum } from './electionQuorum.ts';
import { leaderBookkeeping } from './leaderBookkeeping.ts';
import { readLatency } from './readLatency.ts';
import { recoveryFidelity } from './recoveryFidelity.ts';
import { stepChecks } from './stepChecks.ts';
import { voteLedger } from './voteLedger.ts';
import { leaderOf, onceAfter, raftOf, runCluster, type RaftObserver } from './_test/sabotage.ts';

/*
 * Each check at the first wrong step (issue 7) fires on a bad step made by hand inside an
 * otherwise clean run, and stays quiet on the same run left alone. (The Raft family's sweeps run
 * them on every scenario; `npm run sweep:raft` on 2,000 seeds of each.)
 */

const availabilityOptions = { electionTimeoutUs: 1_000_000, lease: true, successPercentMin: 80, requestTimeoutUs: 1_000_000 } as const;
const crashAndRestart = [
  { atUs: 3_000_000, action: { kind: 'crash', node: 3 } },
  { atUs: 4_000_000, action: { kind: 'restart', node: 3 } },
] as const;

test('clean runs, crashes and restarts included, trip none of the step checks', (t) => {
  for (let seed = 0; seed < 4; seed++) {
    const { result } = runCluster({ seed, faults: [...crashAndRestart], observers: stepChecks(availabilityOptions) });
    t.true(result.ok, `seed ${seed}: ${result.violation?.message}`);
  }
});

test('vote ledger: a node that grants a second candidate its vote in a term it already voted in is caught at that grant', (t) => {
  const ledger = voteLedger<LogRequest, LogReply, LogReplica>();
  let first: { voter: number; candidate: number; term: number } | null = null;
  const spy: RaftObserver = {
    onSend(from, to, message) {
      if (first === null && message.type === 'MsgVoteResp' && !message.reject) first = { voter: from, candidate: to, term: message.term };
    },
  };
  const forge = onceAfter(3_000_000, (sim) => {
    if (first === null) return false;
    const other = first.candidate === 5 ? 4 : 5;
    ledger.onSend!(first.voter, other, makeMessage({ type: 'MsgVoteResp', to: other }, first.voter, first.term), sim);
    return true;
  });
  const bad = runCluster({ seed: 1, observers: [spy, forge, ledger] });
  t.false(bad.result.ok);
  t.regex(bad.result.violation!.message, /^vote ledger: node \d voted for \d in term \d+, and now for \d/);
  t.true(runCluster({ seed: 1, observers: [voteLedger()] }).result.ok);
});

test('election quorum: a node that makes itself leader on its own vote is caught when it leads', (t) => {
  const usurp = onceAfter(3_000_000, (sim) => {
    const leader = leaderOf(sim);
    const follower = sim.members.find((id) => id !== leader?.id && sim.node(id) !== null)!;
    const raft = raftOf(sim.node(follower)!);
    raft.becomeCandidate();
    raft.becomeLeader();
    return true;
  });
  const bad = runCluster({ seed: 2, observers: [usurp, electionQuorum()] });
  t.false(bad.result.ok);
  t.regex(bad.result.violation!.message, /^election quorum: node \d leads term \d+ with votes from \[\d\] only, not a quorum of voters \[1,2,3,4,5\]/);
  t.true(runCluster({ seed: 2, observers: [electionQuorum()] }).result.ok);
});

test('election quorum: a node that leads a joint configuration with a majority of the incoming voters only is caught when it leads', (t) => {
  const check = electionQuorum<LogRequest, LogReply, LogReplica>();
  let proposed = false;
  const usurp = onceAfter(3_000_000, (sim) => {
    const leader = leaderOf(sim);
    if (leader === null) return false;
    if (!proposed) {
      // Voters 1..3 become 1..5 through a joint configuration that stays joint until left explicitly.
      leader.replica.raft.proposeConfChange(confChange([{ type: 'addNode', nodeId: 4 }, { type: 'addNode', nodeId: 5 }], 'explicit'));
      proposed = true;
      return false;
    }
    const usurper = [4, 5].find((id) => id !== leader.id && sim.node(id)?.raft.status().config.votersOutgoing.length === 3);
    if (usurper === undefined) return false;
    const raft = raftOf(sim.node(usurper)!);
    raft.becomeCandidate();
    // Granted votes from the other new voter and one old voter: 3 of the 5 incoming, 1 of the 3 outgoing.
    const other = usurper === 4 ? 5 : 4;
    const oldVoter = [1, 2, 3].find((id) => id !== leader.id)!;
    for (const voter of [other, oldVoter]) check.onDeliver!(voter, usurper, makeMessage({ type: 'MsgVoteResp', to: usurper }, voter, raft.term), sim);
    raft.becomeLeader();
    return true;
  });
  const bad = runCluster({ seed: 9, voters: 3, observers: [usurp, check] });
  t.true(usurp.done(), 'the joint configuration reached a new voter');
  t.false(bad.result.ok);
  t.regex(bad.result.violation!.message, /^election quorum: node [45] leads term \d+ with votes from \[\d,\d,\d\] only, not a quorum of voters \[1,2,3,4,5\] and \[1,2,3\]/);
  t.true(runCluster({ seed: 9, voters: 3, observers: [electionQuorum()] }).result.ok);
});

test('recovery fidelity: a restarted node whose vote differs from its disk is caught at the restart', (t) => {
  const forget: RaftObserver = {
    onRestart(node, sim) {
      const raft = raftOf(sim.node(node)!);
      raft.vote = raft.vote === 1 ? 2 : 1;
    },
  };
  const bad = runCluster({ seed: 3, faults: [...crashAndRestart], observers: [forget, recoveryFidelity()] });
  t.false(bad.result.ok);
  t.regex(bad.result.violation!.message, /^recovery fidelity: node 3 restarted with vote \d where its disk holds \d/);
  t.true(runCluster({ seed: 3, faults: [...crashAndRestart], observers: [recoveryFidelity()] }).result.ok);
});

test('recovery fidelity: a restarted node whose term or commit index differs from its disk is caught at the restart', (t) => {
  const aheadOfDisk: RaftObserver = {
    onRestart(node, sim) {
      raftOf(sim.node(node)!).term += 1;
    },
  };
  const term = runCluster({ seed: 3, faults: [...crashAndRestart], observers: [aheadOfDisk, recoveryFidelity()] });
  t.regex(term.result.violation?.message ?? '', /^recovery fidelity: node 3 restarted with term (\d+) where its disk holds (?!\1)\d+/);
  const commitLost: RaftObserver = {
    onRestart(node, sim) {
      raftOf(sim.node(node)!).log.committed -= 1;
    },
  };
  const commit = runCluster({ seed: 3, faults: [...crashAndRestart], observers: [commitLost, recoveryFidelity()] });
  t.regex(commit.result.violation?.message ?? '', /^recovery fidelity: node 3 restarted with commit \d+ where its disk holds \d+/);
});

test('leader bookkeeping: a match past what the follower acknowledged in this term is caught at the leader\'s next event', (t) => {
  const overstate = onceAfter(3_500_000, (sim) => {
    const leader = leaderOf(sim);
    if (leader === null || leader.id === 3) return false;
    raftOf(leader.replica).tracker.get(3)!.match = leader.replica.storage.lastIndex();
    return true;
  });
  const bad = runCluster({ seed: 4, faults: [...crashAndRestart], observers: [overstate, leaderBookkeeping()] });
  t.false(bad.result.ok);
  t.regex(bad.result.violation!.message, /^leader bookkeeping: leader \d of term \d+ records match \d+ for node 3, which acknowledged (nothing|up to \d+) in term \d+/);
  t.true(runCluster({ seed: 4, faults: [...crashAndRestart], observers: [leaderBookkeeping()] }).result.ok);
});

test("leader bookkeeping: an acknowledged match that a crashed follower's disk does not hold is caught", (t) => {
  const check = leaderBookkeeping<LogRequest, LogReply, LogReplica>();
  const lie = onceAfter(3_500_000, (sim) => {
    const leader = leaderOf(sim);
    if (leader === null || leader.id === 3) return false;
    const term = leader.replica.hardState.term;
    const index = leader.replica.storage.lastIndex();
    // The down follower "acknowledges" what it never received, and the leader believes it.
    check.onDeliver!(3, leader.id, makeMessage({ type: 'MsgAppResp', to: leader.id, index }, 3, term), sim);
    raftOf(leader.replica).tracker.get(3)!.match = index;
    return true;
  });
  const bad = runCluster({ seed: 4, faults: [...crashAndRestart], observers: [lie, check] });
  t.false(bad.result.ok);
  t.regex(bad.result.violation!.message, /^leader bookkeeping: leader \d of term \d+ records match \d+ for node 3, whose disk holds (no entry|term \d+) there/);
});

test('leader bookkeeping: a second conf change appended while the first is unapplied is caught', (t) => {
  const twoChanges = onceAfter(3_000_000, (sim) => {
    const leader = leaderOf(sim);
    if (leader === null) return false;
    leader.replica.raft.proposeConfChange(confChange([{ type: 'addLearner', nodeId: 4 }]));
    raftOf(leader.replica).pendingConfIndex = 0; // the one-pending-change guard forgets
    leader.replica.raft.proposeConfChange(confChange([{ type: 'addLearner', nodeId: 5 }]));
    return true;
  });
  const bad = runCluster({ seed: 5, voters: 3, observers: [twoChanges, leaderBookkeeping()] });
  t.false(bad.result.ok);
  t.regex(bad.result.violation!.message, /^leader bookkeeping: leader \d of term \d+ appended a conf change at index \d+ while the one at index \d+ was not applied/);
  t.true(runCluster({ seed: 5, voters: 3, observers: [leaderBookkeeping()] }).result.ok);
});

test('availability: a follower that grants a pre-vote past the term of a leader left alone and connected is caught', (t) => {
  const check = availability<LogRequest, LogReply, LogReplica>(availabilityOptions);
  const grant = onceAfter(6_000_000, (sim) => {
    const leader = leaderOf(sim);
    if (leader === null) return false;
    const follower = sim.members.find((id) => id !== leader.id)!;
    const term = leader.replica.hardState.term + 1;
    const candidate = sim.members.find((id) => id !== leader.id && id !== follower)!;
    check.onSend!(follower, candidate, makeMessage({ type: 'MsgPreVoteResp', to: candidate }, follower, term), sim);
    return true;
  });
  const bad = runCluster({ seed: 6, observers: [grant, check] });
  t.false(bad.result.ok);
  t.regex(bad.result.violation!.message, /^availability: node \d granted a pre-vote for term \d+ to \d while leader \d of term \d+ was up, left alone and connected to it/);
  t.true(runCluster({ seed: 6, observers: [availability(availabilityOptions)] }).result.ok);
});

test('availability: a follower that campaigns past the term of a leader left alone and connected is caught', (t) => {
  const check = availability<LogRequest, LogReply, LogReplica>(availabilityOptions);
  const campaign = onceAfter(6_000_000, (sim) => {
    const leader = leaderOf(sim);
    if (leader === null) return false;
    const follower = sim.members.find((id) => id !== leader.id)!;
    const term = leader.replica.hardState.term + 1;
    check.onSend!(follower, leader.id, makeMessage({ type: 'MsgPreVote', to: leader.id }, follower, term), sim);
    return true;
  });
  const bad = runCluster({ seed: 6, observers: [campaign, check] });
  t.false(bad.result.ok);
  t.regex(bad.result.violation!.message, /^availability: node \d campaigned \(MsgPreVote for term \d+ to \d\) while leader \d of term \d+ was up, left alone and connected to it/);
});

/**
 * The check told, at 3 s, of a 4 s disk stall of the leader (its syncs, and what waits for them,
 * held until 7 s) and then of `then`; a follower grants a pre-vote past the leader's term at `grantAtUs`.
 */
function grantAfterLeaderStall(then: (leader: number) => FaultAction, grantAtUs: number) {
  const check = availability<LogRequest, LogReply, LogReplica>(availabilityOptions);
  const stall = onceAfter(3_000_000, (sim) => {
    const leader = leaderOf(sim);
    if (leader === null) return false;
    check.onFault!({ kind: 'disk-stall', node: leader.id, durationUs: 4_000_000 }, sim);
    check.onFault!(then(leader.id), sim);
    return true;
  });
  const grant = onceAfter(grantAtUs, (sim) => {
    const leader = leaderOf(sim);
    if (leader === null) return false;
    const follower = sim.members.find((id) => id !== leader.id)!;
    const candidate = sim.members.find((id) => id !== leader.id && id !== follower)!;
    check.onSend!(follower, candidate, makeMessage({ type: 'MsgPreVoteResp', to: candidate }, follower, leader.replica.hardState.term + 1), sim);
    return true;
  });
  return runCluster({ seed: 6, seconds: 12, observers: [stall, grant, check] }).result;
}

test('availability: a leader is not left alone until its disk stall ends, whatever fault follows it (task deep: raft-disk-stalls-one-way seed 160, the quiet fault)', (t) => {
  // The quiet fault lifts a stall for new syncs only; a shorter stall does not end a longer one.
  for (const then of [() => ({ kind: 'quiet' }) as const, (leader: number) => ({ kind: 'disk-stall', node: leader, durationUs: 100_000 }) as const]) {
    t.true(grantAfterLeaderStall(then, 6_500_000).ok, 'judged inside the stall');
    const late = grantAfterLeaderStall(then, 9_500_000);
    t.false(late.ok, 'judged 2.5 s after the stall ended');
    t.regex(late.violation!.message, /^availability: node \d granted a pre-vote for term \d+ to \d while leader \d of term \d+ was up, left alone and connected to it/);
  }
});

test('availability: a cluster that serves too few requests while nothing is wrong is caught at the end', (t) => {
  const drop: RaftObserver = {
    finish(sim) {
      for (const [i, entry] of sim.history.entries()) if (i % 2 === 0) entry.outcome = 'fail';
    },
  };
  const bad = runCluster({ seed: 7, observers: [drop, availability(availabilityOptions)] });
  t.false(bad.result.ok);
  t.regex(bad.result.violation!.message, /^availability: only \d+ of \d+ client requests sent in fault-free windows succeeded \(at least 80% must\)/);
  t.true(runCluster({ seed: 7, observers: [availability(availabilityOptions)] }).result.ok);
});

test('read latency: a follower that forgets the reads it accepted, while a stable leader and the whole cluster are fine, is caught once a read has waited the bound', (t) => {
  const readOptions = { boundUs: 2_000_000, electionTimeoutUs: 1_000_000 } as const;
  // A bad step by hand: from 3 s on, one follower loses every read it holds (waiting for its read
  // index or for its apply), as a replica that forgets them at each tick would (Stryker's S5).
  const forget: RaftObserver = {
    afterEvent(sim) {
      if (sim.nowUs < 3_000_000) return;
      const leader = leaderOf(sim);
      const follower = sim.members.find((id) => id !== leader?.id);
      const replica = follower === undefined ? null : sim.node(follower);
      if (leader === null || replica === null) return;
      const held = replica as unknown as { reads: Map<string, unknown>; readsAwaitingApply: unknown[] };
      held.reads.clear();
      held.readsAwaitingApply = [];
    },
  };
  const bad = runCluster({ seed: 8, observers: [forget, readLatency(readOptions)] });
  t.false(bad.result.ok);
  t.regex(bad.result.violation!.message, /^read latency: a linearizable read sent to node \d at [\d.]+ ms was not answered within 2000 ms, while leader \d of term \d+ kept leading/);
  // The violation names its cause's time, the read's invocation, for the shrinker to cut at.
  const sentMs = Number(/at ([\d.]+) ms/.exec(bad.result.violation!.message)![1]);
  t.is(bad.result.violation!.causeUs, Math.round(sentMs * 1000));
  t.true(bad.result.violation!.timeUs - bad.result.violation!.causeUs! > readOptions.boundUs);
  t.true(runCluster({ seed: 8, observers: [readLatency(readOptions)] }).result.ok);
});

test('read latency: a read that a fault touches is no longer judged (a crash of the node that holds it)', (t) => {
  const readOptions = { boundUs: 500_000, electionTimeoutUs: 1_000_000 } as const;
  const { result } = runCluster({ seed: 8, faults: [...crashAndRestart], observers: [readLatency(readOptions)] });
  t.true(result.ok, result.violation?.message);
});
