import test from 'ava';
import { TestRandom } from './_test/testRandom.ts';
import { confChange, confChangeEntry, normalEntry } from './entry.ts';
import { MemoryStorage } from './memoryStorage.ts';
import { makeMessage, type Message } from './message.ts';
import { RawNode } from './rawNode.ts';
import type { Ready } from './ready.ts';
import { emptyConfState } from './state.ts';

function newNode(id: number, voters: number[], overrides: Partial<ConstructorParameters<typeof RawNode>[0]> = {}): { node: RawNode; storage: MemoryStorage } {
  const storage = new MemoryStorage();
  const node = new RawNode({
    id,
    storage,
    voters,
    random: new TestRandom(id),
    electionTicks: 10,
    heartbeatTicks: 1,
    maxSizePerMsg: 1024,
    maxInflightMsgs: 16,
    preVote: false,
    checkQuorum: false,
    ...overrides,
  });
  return { node, storage };
}

/** Persists a Ready into storage and advances; returns it. */
function handle(node: RawNode, storage: MemoryStorage): Ready {
  const ready = node.ready();
  if (ready.snapshot !== null) storage.applySnapshot(ready.snapshot);
  storage.append(ready.entries);
  if (ready.hardState !== null) storage.setHardState(ready.hardState);
  node.advance();
  return ready;
}

function leaderOfOne(): { node: RawNode; storage: MemoryStorage } {
  const single = newNode(1, [1]);
  single.node.campaign();
  while (single.node.hasReady()) handle(single.node, single.storage);
  return single;
}

test('a single member commits an entry only after a Ready that persisted it (etcd #14370)', (t) => {
  const { node, storage } = leaderOfOne();
  t.is(node.status().softState.role, 'leader');
  t.is(node.propose(new Uint8Array([1])), 'ok');
  const persist = handle(node, storage);
  t.is(persist.entries.length, 1);
  t.is(persist.committedEntries.length, 0, 'not committed in the Ready that asks to persist it');
  t.true(persist.mustSync);
  const apply = handle(node, storage);
  t.deepEqual(apply.committedEntries.map((e) => e.index), [persist.entries[0]!.index]);
  t.false(apply.mustSync, 'a commit index change alone needs no sync');
});

test('hasReady is false while a Ready is handled; ready() twice without advance() throws', (t) => {
  const { node } = newNode(1, [1]);
  node.campaign();
  t.true(node.hasReady());
  node.ready();
  t.false(node.hasReady());
  t.throws(() => node.ready(), { message: /before advance/ });
  node.advance();
  t.true(node.hasReady(), 'the vote, counted on advance, made it leader');
  t.throws(() => {
    node.ready();
    node.advance();
    node.advance();
  }, { message: /without a Ready/ });
});

test('the node may be stepped between ready() and advance(); what that produces waits for the next Ready', (t) => {
  const { node, storage } = leaderOfOne();
  const ready = node.ready();
  t.is(node.propose(new Uint8Array([7])), 'ok');
  storage.append(ready.entries);
  node.advance();
  const next = handle(node, storage);
  t.is(next.entries.length, 1);
  t.is(next.entries[0]!.type === 'normal' ? next.entries[0]!.data[0] : -1, 7);
});

test('a vote is only sent in a Ready that persists it (mustSync)', (t) => {
  const { node } = newNode(2, [1, 2, 3]);
  node.step(makeMessage({ type: 'MsgVote', from: 1, to: 2, term: 5, index: 0, logTerm: 0 }));
  const ready = node.ready();
  t.deepEqual(ready.hardState, { term: 5, vote: 1, commit: 0 });
  t.true(ready.mustSync);
  t.deepEqual(ready.messages.map((m) => [m.type, m.to, m.term, m.reject]), [['MsgVoteResp', 1, 5, false]]);
});

test('answers from peers outside the configuration are refused', (t) => {
  const { node } = newNode(1, [1, 2, 3]);
  t.is(node.step(makeMessage({ type: 'MsgAppResp', from: 9, to: 1, term: 1, index: 3 })), 'peer-not-found');
});

test('proposals without a leader are dropped; a follower forwards them to its leader', (t) => {
  const { node } = newNode(2, [1, 2, 3]);
  t.is(node.propose(new Uint8Array([1])), 'proposal-dropped');
  node.step(makeMessage({ type: 'MsgHeartbeat', from: 1, to: 2, term: 1, commit: 0 }));
  t.is(node.propose(new Uint8Array([1])), 'ok');
  const forwarded = node.ready().messages.filter((m) => m.type === 'MsgProp');
  t.deepEqual(forwarded.map((m) => [m.from, m.to, m.term, m.entries.length]), [[2, 1, 0, 1]]);
});

test('received messages and entries are never mutated (they are frozen here)', (t) => {
  const { node, storage } = newNode(2, [1, 2, 3]);
  const entry = Object.freeze({ type: 'normal' as const, term: 1, index: 1, data: new Uint8Array([1]) });
  const message: Message = Object.freeze(makeMessage({ type: 'MsgApp', from: 1, to: 2, term: 1, index: 0, logTerm: 0, commit: 1, entries: Object.freeze([entry]) }));
  t.is(node.step(message), 'ok');
  t.is(node.step(message), 'ok', 'a duplicate is harmless');
  const ready = handle(node, storage);
  t.deepEqual(ready.committedEntries, [entry]);
});

test('election timeouts come from the node own Random: same seed, same election tick', (t) => {
  const electionTick = (seed: number): number => {
    const storage = new MemoryStorage();
    const node = new RawNode({ id: 1, storage, voters: [1, 2, 3], random: new TestRandom(seed), electionTicks: 10, heartbeatTicks: 1, maxSizePerMsg: 1, maxInflightMsgs: 1, preVote: false, checkQuorum: false });
    for (let tick = 1; tick <= 100; tick++) {
      node.tick();
      if (node.status().softState.role === 'candidate') return tick;
    }
    return -1;
  };
  const ticks = [1, 2, 3, 4, 5, 6, 7, 8].map(electionTick);
  t.deepEqual(ticks, [1, 2, 3, 4, 5, 6, 7, 8].map(electionTick), 'deterministic per seed');
  for (const tick of ticks) t.true(tick >= 10 && tick <= 19, `timeout ${tick} within [election, 2 * election - 1]`);
  t.true(new Set(ticks).size > 1, 'jittered across seeds');
});

test('a conf change proposal commits and is applied through applyConfChange', (t) => {
  const { node, storage } = leaderOfOne();
  t.is(node.proposeConfChange(confChange([{ type: 'addLearner', nodeId: 2 }])), 'ok');
  handle(node, storage);
  const ready = handle(node, storage);
  const entry = ready.committedEntries[0]!;
  t.is(entry.type, 'confChange');
  if (entry.type === 'confChange') t.deepEqual(node.applyConfChange(entry.change), { ...emptyConfState, voters: [1], learners: [2] });
});

test('a restarted node recovers term, vote and log from storage; the bootstrap configuration comes from the host again', (t) => {
  const { node, storage } = leaderOfOne();
  node.propose(new Uint8Array([1]));
  handle(node, storage);
  handle(node, storage);
  const before = node.status();
  const restart = (voters: number[]) =>
    new RawNode({ id: 1, storage, voters, random: new TestRandom(1), electionTicks: 10, heartbeatTicks: 1, maxSizePerMsg: 1, maxInflightMsgs: 1, preVote: false, checkQuorum: false, applied: 0 });
  const after = restart([1]).status();
  t.deepEqual(after.hardState, before.hardState);
  t.is(after.lastIndex, before.lastIndex);
  t.is(after.softState.role, 'follower');
  t.deepEqual(after.config.voters, [1]);
  // Without a snapshot the storage holds no configuration: a host that passes none starts a
  // node that knows no members (the bootstrap voters are not persisted by Raft).
  t.deepEqual(restart([]).status().config.voters, []);
  // A snapshot carries the configuration from then on.
  storage.createSnapshot(2, { ...emptyConfState, voters: [1] }, null);
  t.deepEqual(restart([]).status().config.voters, [1]);
});

test('readIndex needs a non-empty context', (t) => {
  const { node } = newNode(1, [1]);
  t.throws(() => node.readIndex(''), { message: /must not be empty/ });
});

test('configuration errors are refused at construction', (t) => {
  t.throws(() => newNode(1, [1], { heartbeatTicks: 10 }), { message: /election tick must be greater/ });
  t.throws(() => newNode(1, [1], { readOnlyOption: 'lease-based' }), { message: /CheckQuorum must be enabled/ });
  t.throws(() => newNode(0, [1]), { message: /none as id/ });
});

test('a leader drops proposals past the uncommitted-size limit, but never an empty one', (t) => {
  const single = newNode(1, [1], { maxUncommittedEntriesSize: 10 });
  single.node.campaign();
  while (single.node.hasReady()) handle(single.node, single.storage);
  t.is(single.node.propose(new Uint8Array(8)), 'ok');
  t.is(single.node.propose(new Uint8Array(8)), 'proposal-dropped');
  t.is(single.node.propose(new Uint8Array(0)), 'ok');
  // Once applied, the budget is free again.
  while (single.node.hasReady()) handle(single.node, single.storage);
  t.is(single.node.propose(new Uint8Array(8)), 'ok');
});

test('with proposal forwarding disabled a follower drops proposals', (t) => {
  const { node } = newNode(2, [1, 2, 3], { disableProposalForwarding: true });
  node.step(makeMessage({ type: 'MsgHeartbeat', from: 1, to: 2, term: 1, commit: 0 }));
  t.is(node.propose(new Uint8Array([1])), 'proposal-dropped');
});

test('a node does not campaign while a committed conf change is not yet applied: it could change who votes', (t) => {
  // Found by the mutation score (issue 7): emptying hasUnappliedConfChanges survived every test and
  // every scenario, since the replica applies a conf change while it takes the Ready.
  const storage = new MemoryStorage();
  storage.append([confChangeEntry(confChange([{ type: 'addNode', nodeId: 4 }]), 1, 1)]);
  storage.setHardState({ term: 1, vote: 0, commit: 1 });
  const node = new RawNode({ id: 1, storage, voters: [1, 2, 3], random: new TestRandom(1), electionTicks: 10, heartbeatTicks: 1, maxSizePerMsg: 1024, maxInflightMsgs: 16, preVote: false, checkQuorum: false, applied: 0 });
  node.campaign();
  t.is(node.status().softState.role, 'follower', 'it waits for the conf change to be applied');
  const ready = node.ready();
  t.is(ready.committedEntries.length, 1);
  t.false(ready.messages.some((m) => m.type === 'MsgVote'));
  node.applyConfChange(confChange([{ type: 'addNode', nodeId: 4 }]));
  node.advance();
  node.campaign();
  t.is(node.status().softState.role, 'candidate', 'applied, it campaigns');
});

/** Node 1 leading 2 and 3, both replicating (they acknowledged the leader's first entry). */
function leaderOfThree(overrides: Partial<ConstructorParameters<typeof RawNode>[0]> = {}): { node: RawNode; storage: MemoryStorage } {
  const leader = newNode(1, [1, 2, 3], overrides);
  leader.node.campaign();
  while (leader.node.hasReady()) handle(leader.node, leader.storage);
  leader.node.step(makeMessage({ type: 'MsgVoteResp', from: 2, to: 1, term: 1 }));
  while (leader.node.hasReady()) handle(leader.node, leader.storage);
  const last = leader.storage.lastIndex();
  for (const from of [2, 3]) leader.node.step(makeMessage({ type: 'MsgAppResp', from, to: 1, term: 1, index: last }));
  while (leader.node.hasReady()) handle(leader.node, leader.storage);
  return leader;
}

function appendsTo(ready: Ready, to: number): Message[] {
  return ready.messages.filter((m) => m.type === 'MsgApp' && m.to === to);
}

test('coalesceAppends: proposals taken between two Readies reach each follower as one MsgApp, answered once', (t) => {
  const { node, storage } = leaderOfThree({ coalesceAppends: true });
  const first = storage.lastIndex();
  for (let i = 0; i < 3; i++) t.is(node.propose(new Uint8Array([i])), 'ok');
  const ready = handle(node, storage);
  for (const to of [2, 3]) {
    const appends = appendsTo(ready, to);
    t.is(appends.length, 1, `one append to ${to}`);
    t.is(appends[0]!.index, first, 'anchored where the first of them was');
    t.deepEqual(appends[0]!.entries.map((e) => e.index), [first + 1, first + 2, first + 3]);
  }
  // One answer acknowledges all three: with the leader's own, they commit. The commit index the
  // followers learn then rides with the next proposal's entry in one append, not beside it.
  node.step(makeMessage({ type: 'MsgAppResp', from: 2, to: 1, term: 1, index: first + 3 }));
  t.is(node.status().progress.get(2)!.match, first + 3);
  t.is(node.propose(new Uint8Array([9])), 'ok');
  const next = handle(node, storage);
  t.deepEqual(next.committedEntries.map((e) => e.index), [first + 1, first + 2, first + 3]);
  for (const to of [2, 3]) {
    const appends = appendsTo(next, to);
    t.is(appends.length, 1, `one append to ${to}`);
    t.is(appends[0]!.commit, first + 3);
    t.deepEqual(appends[0]!.entries.map((e) => e.index), [first + 4]);
  }
});

test('coalesceAppends never changes a MsgApp a Ready handed out: later folds extend a message of their own', (t) => {
  const { node, storage } = leaderOfThree({ coalesceAppends: true });
  const first = storage.lastIndex();
  // Three proposals fold twice: the handed-out MsgApp's entries are an array the fold made.
  for (let i = 0; i < 3; i++) t.is(node.propose(new Uint8Array([i])), 'ok');
  const handedOut = appendsTo(handle(node, storage), 2)[0]!;
  const entries = handedOut.entries;
  t.deepEqual(entries.map((e) => e.index), [first + 1, first + 2, first + 3]);
  for (let i = 0; i < 3; i++) t.is(node.propose(new Uint8Array([i])), 'ok');
  const next = appendsTo(handle(node, storage), 2);
  t.is(handedOut.entries, entries, 'the message it handed out keeps its array');
  t.deepEqual(entries.map((e) => e.index), [first + 1, first + 2, first + 3], 'and the array its entries');
  t.deepEqual(next.flatMap((m) => m.entries.map((e) => e.index)), [first + 4, first + 5, first + 6]);
  t.is(next.length, 1, 'the later proposals fold into one message of their own');
});

test('without coalesceAppends each proposal is its own MsgApp per follower (etcd-io/raft)', (t) => {
  const { node, storage } = leaderOfThree();
  for (let i = 0; i < 3; i++) t.is(node.propose(new Uint8Array([i])), 'ok');
  const ready = handle(node, storage);
  t.is(appendsTo(ready, 2).length, 3);
  t.is(appendsTo(ready, 3).length, 3);
});

test('coalesceAppends keeps each MsgApp within maxSizePerMsg', (t) => {
  const { node, storage } = leaderOfThree({ coalesceAppends: true, maxSizePerMsg: 6 });
  for (let i = 0; i < 3; i++) t.is(node.propose(new Uint8Array(4)), 'ok');
  const ready = handle(node, storage);
  t.deepEqual(appendsTo(ready, 2).map((m) => m.entries.length), [1, 1, 1], 'two 4-byte payloads do not fit 6 bytes');
  const { node: roomy, storage: roomyStorage } = leaderOfThree({ coalesceAppends: true, maxSizePerMsg: 8 });
  for (let i = 0; i < 3; i++) t.is(roomy.propose(new Uint8Array(4)), 'ok');
  t.deepEqual(appendsTo(handle(roomy, roomyStorage), 2).map((m) => m.entries.length), [2, 1]);
});

test('regression: a follower whose application compacted its log past Raft\'s applied index (a Ready\'s sync still in flight) campaigns without scanning the compacted entries (etcd-io/etcd#9079)', (t) => {
  // raft-disk-stalls seed 24 (before the fix): a follower's disk stalled past an election timeout
  // while a Ready that handed out committed entries waited for its sync. The application applied
  // them and compacted its log meanwhile; Raft learns they are applied only at advance(), so the scan
  // for unapplied conf changes read from its applied index + 1, below the log's first index
  // ("compacted": an assertion), as etcd did after a 53 s WAL sync.
  const { node, storage } = newNode(2, [1, 2, 3]);
  const entries = [1, 2, 3, 4, 5].map((index) => normalEntry(new Uint8Array([index]), 1, index));
  node.step(makeMessage({ type: 'MsgApp', from: 1, to: 2, term: 1, logTerm: 0, index: 0, commit: 0, entries }));
  handle(node, storage);
  node.step(makeMessage({ type: 'MsgApp', from: 1, to: 2, term: 1, logTerm: 1, index: 5, commit: 5, entries: [] }));
  const ready = node.ready();
  t.deepEqual(ready.committedEntries.map((entry) => entry.index), [1, 2, 3, 4, 5], 'handed out to be applied; advance() waits for the sync');
  storage.createSnapshot(4, { ...emptyConfState, voters: [1, 2, 3] }, null);
  storage.compact(4);
  for (let i = 0; i < 40 && node.status().softState.role === 'follower'; i++) node.tick();
  t.is(node.status().softState.role, 'candidate', 'it campaigns once its election timeout passes');
});
