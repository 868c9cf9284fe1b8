import test from 'ava';
import { RandomCluster } from './_test/randomCluster.ts';
import { TestRandom } from './_test/testRandom.ts';
import { normalEntry } from './entry.ts';
import { MemoryStorage } from './memoryStorage.ts';
import { makeMessage, type Message } from './message.ts';
import { RawNode } from './rawNode.ts';

/*
 * The safety properties of the Raft paper (Figure 3), checked after every step of randomized
 * runs with message loss, duplication and reordering, partitions, crashes with restarts, and
 * compaction: election safety, leader append-only, log matching, leader completeness, state
 * machine safety — and that term and commit index never go backwards. Each run then heals and
 * must converge: a leader is elected and a new proposal is applied everywhere.
 */

const seeds = 120;
const stepsPerRun = 600;
// Fault-free steps to elect a leader and apply a proposal everywhere (the worst seen is under 4,000).
const convergeStepsMax = 20_000;

for (const [size, preVote, checkQuorum, coalesceAppends] of [
  [3, false, false, false],
  [3, true, true, false],
  [5, false, false, false],
  [5, true, true, false],
  // etcd's server configuration folds the appends queued for one follower into one message.
  [3, true, true, true],
  [5, false, false, true],
] as const) {
  test(`${size} nodes, prevote=${preVote} checkquorum=${checkQuorum}${coalesceAppends ? ' coalesced appends' : ''}: the paper's properties hold on ${seeds} random runs, which then converge`, (t) => {
    for (let seed = 1; seed <= seeds; seed++) {
      const cluster = new RandomCluster({ seed, size, preVote, checkQuorum, coalesceAppends });
      const where = `seed ${seed} (size ${size}, prevote ${preVote}, checkquorum ${checkQuorum}, coalesced appends ${coalesceAppends})`;
      let converged: boolean;
      try {
        cluster.run(stepsPerRun);
        converged = cluster.converge(convergeStepsMax);
      } catch (error) {
        t.fail(`${where} after ${cluster.steps} steps: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      if (!converged) {
        t.fail(`${where} did not converge within ${convergeStepsMax} fault-free steps`);
        return;
      }
    }
    t.pass();
  });
}

// ---------------------------------------------------------------------------------------------
// Single rules, stepped by hand.

function follower(id: number, voters: number[]): { node: RawNode; storage: MemoryStorage } {
  const storage = new MemoryStorage();
  const node = new RawNode({ id, storage, voters, random: new TestRandom(id), electionTicks: 10, heartbeatTicks: 1, maxSizePerMsg: 1024, maxInflightMsgs: 8, preVote: false, checkQuorum: false });
  return { node, storage };
}

function drain(node: RawNode, storage: MemoryStorage): Message[] {
  const sent: Message[] = [];
  while (node.hasReady()) {
    const ready = node.ready();
    storage.append(ready.entries);
    if (ready.hardState !== null) storage.setHardState(ready.hardState);
    sent.push(...ready.messages);
    node.advance();
  }
  return sent;
}

test('§5.2: a voter grants at most one vote per term, first come first served', (t) => {
  const { node, storage } = follower(1, [1, 2, 3]);
  node.step(makeMessage({ type: 'MsgVote', from: 2, to: 1, term: 1 }));
  node.step(makeMessage({ type: 'MsgVote', from: 3, to: 1, term: 1 }));
  node.step(makeMessage({ type: 'MsgVote', from: 2, to: 1, term: 1 }));
  const answers = drain(node, storage).map((m) => `${m.to}:${m.reject ? 'no' : 'yes'}`);
  t.deepEqual(answers, ['2:yes', '3:no', '2:yes']);
});

test('§5.4.1: a vote is refused to a candidate whose log is less up to date', (t) => {
  const { node, storage } = follower(1, [1, 2, 3]);
  node.step(makeMessage({ type: 'MsgApp', from: 2, to: 1, term: 2, index: 0, logTerm: 0, entries: [normalEntry(new Uint8Array(0), 2, 1)] }));
  drain(node, storage);
  const ask = (from: number, term: number, index: number, logTerm: number): boolean => {
    node.step(makeMessage({ type: 'MsgVote', from, to: 1, term, index, logTerm }));
    return !drain(node, storage).find((m) => m.type === 'MsgVoteResp')!.reject;
  };
  t.false(ask(3, 3, 5, 1), 'a longer log with an older last term is behind');
  t.false(ask(3, 4, 0, 0), 'an empty log is behind');
  t.true(ask(3, 5, 1, 2), 'the same last entry is up to date');
});

for (const size of [1, 3, 4, 5]) {
  test(`§5.2: a candidate in a ${size}-member cluster wins with a majority of votes, and loses when a majority rejects`, (t) => {
    const voters = Array.from({ length: size }, (_, i) => i + 1);
    const majority = Math.floor(size / 2) + 1;
    for (const outcome of ['win', 'lose'] as const) {
      const { node, storage } = follower(1, voters);
      node.campaign();
      drain(node, storage);
      // Its own vote counted on advance; the others answer in turn until the election is decided.
      let answers = 1;
      for (let id = 2; id <= size && node.status().softState.role === 'candidate'; id++) {
        node.step(makeMessage({ type: 'MsgVoteResp', from: id, to: 1, term: 1, reject: outcome === 'lose' }));
        drain(node, storage);
        answers++;
      }
      const role = node.status().softState.role;
      if (outcome === 'win' || size === 1) {
        t.is(role, 'leader');
        t.is(answers, majority, `won with exactly ${majority} of ${size} votes`);
      } else {
        t.is(role, 'follower');
        t.is(answers - 1, size - majority + 1, `lost once ${size - majority + 1} of ${size} rejected`);
      }
    }
  });
}

test('§5.3: a follower commits no further than the leader commit and its own matched log', (t) => {
  const { node, storage } = follower(2, [1, 2, 3]);
  const entries = [1, 2, 3].map((index) => normalEntry(new Uint8Array([index]), 1, index));
  node.step(makeMessage({ type: 'MsgApp', from: 1, to: 2, term: 1, index: 0, logTerm: 0, commit: 5, entries: entries.slice(0, 2) }));
  drain(node, storage);
  t.is(node.status().hardState.commit, 2, 'bounded by the last new entry');
  node.step(makeMessage({ type: 'MsgApp', from: 1, to: 2, term: 1, index: 2, logTerm: 1, commit: 1, entries: entries.slice(2) }));
  drain(node, storage);
  t.is(node.status().hardState.commit, 2, 'never backwards');
});
