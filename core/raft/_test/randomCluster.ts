import { assert } from '../../base/assert.ts';
import { describeEntry } from '../describe.ts';
import type { Entry } from '../entry.ts';
import { MemoryStorage } from '../memoryStorage.ts';
import type { Message } from '../message.ts';
import { RawNode } from '../rawNode.ts';
import type { NodeId, Snapshot } from '../state.ts';
import { isStorageError } from '../storage.ts';
import { TestRandom } from './testRandom.ts';

/**
 * A small randomized cluster for checking the Raft paper's safety properties on many seeds. It is
 * not the simulator: one process, no time, synchronous persistence. Each step is one random action
 * (tick, deliver, drop or duplicate a message, handle a Ready, propose, partition, crash and
 * restart, compact), and every property is checked after every step.
 */
export interface ClusterOptions {
  readonly seed: number;
  readonly size: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** RaftConfig.coalesceAppends (default false). */
  readonly coalesceAppends?: boolean;
}

interface Member {
  readonly id: NodeId;
  node: RawNode;
  readonly storage: MemoryStorage;
  /** Applied entries' keys by index (for state machine safety), and the applied index. */
  applied: number;
  /** The leader term this member leads in, and the log it had persisted when it started leading. */
  leading: { term: number; log: Map<number, number> } | null;
  lastTerm: number;
  lastCommit: number;
  persistedTerm: number;
  /** The persisted log, re-read only after the storage changed. */
  log: Map<number, { term: number; key: string }> | null;
}

export class RandomCluster {
  readonly options: ClusterOptions;
  private readonly random: TestRandom;
  private readonly members: Member[] = [];
  private network: Message[] = [];
  private readonly isolated = new Set<NodeId>();
  /** Election safety: the leader seen for each term. */
  private readonly leaders = new Map<number, NodeId>();
  /** State machine safety: what was applied at each index, by anyone. */
  private readonly appliedEntries = new Map<number, string>();
  /** Leader completeness: every entry known committed, by index (term and key). */
  private readonly committed = new Map<number, string>();
  /** Whether any persisted log changed since the last log-matching check. */
  private logsChanged = true;
  private proposals = 0;
  /** The index at which the convergence proposal was applied, once it was. */
  private finalIndex = 0;
  private finalKey = '';
  steps = 0;

  constructor(options: ClusterOptions) {
    this.options = options;
    this.random = new TestRandom(options.seed);
    const voters = Array.from({ length: options.size }, (_, i) => i + 1);
    for (const id of voters) {
      const storage = new MemoryStorage();
      this.members.push({ id, storage, node: this.start(id, storage, 0), applied: 0, leading: null, lastTerm: 0, lastCommit: 0, persistedTerm: 0, log: null });
    }
  }

  private start(id: NodeId, storage: MemoryStorage, applied: number): RawNode {
    return new RawNode({
      id,
      storage,
      voters: Array.from({ length: this.options.size }, (_, i) => i + 1),
      random: new TestRandom(this.options.seed * 31 + id),
      electionTicks: 6,
      heartbeatTicks: 2,
      maxSizePerMsg: 64,
      maxInflightMsgs: 4,
      preVote: this.options.preVote,
      checkQuorum: this.options.checkQuorum,
      coalesceAppends: this.options.coalesceAppends ?? false,
      applied,
    });
  }

  /** Runs `count` random steps with faults on. */
  run(count: number): void {
    for (let i = 0; i < count; i++) this.step(true);
  }

  /** Heals everything and runs fault-free until every member applied a final proposal. */
  converge(maxSteps: number): boolean {
    this.isolated.clear();
    this.finalKey = `data:final-${this.options.seed}`;
    for (let i = 0; i < maxSteps; i++) {
      if (this.finalIndex > 0 && this.members.every((m) => m.applied >= this.finalIndex)) return true;
      // Propose (again) at whoever leads until the proposal is applied somewhere: a proposal may
      // be dropped, or lost with a leader that is deposed.
      if (this.finalIndex === 0 && i % 50 === 0) {
        const leader = this.members.find((m) => m.node.status().softState.role === 'leader');
        leader?.node.propose(bytes(this.finalKey.slice('data:'.length)));
      }
      this.step(false);
    }
    return false;
  }

  private step(faults: boolean): void {
    this.steps++;
    const roll = this.random.below(100);
    const member = this.members[this.random.below(this.members.length)]!;
    if (roll < 25) {
      member.node.tick();
    } else if (roll < 60) {
      this.deliver(faults);
    } else if (roll < 85) {
      if (member.node.hasReady()) this.handleReady(member);
    } else if (roll < 93) {
      member.node.propose(bytes(`p${this.proposals++}`));
    } else if (!faults) {
      member.node.tick();
    } else if (roll < 95) {
      this.isolated.clear();
      if (this.random.below(2) === 0) this.isolated.add(member.id);
    } else if (roll < 97) {
      this.restart(member);
    } else {
      this.compact(member);
    }
    this.checkProperties();
  }

  private deliver(faults: boolean): void {
    if (this.network.length === 0) return;
    // Reordering: any in-flight message may go next.
    const at = this.random.below(this.network.length);
    const message = this.network[at]!;
    const fate = faults ? this.random.below(20) : 99;
    // Duplication: deliver, but keep a copy in flight.
    if (fate !== 0) this.network.splice(at, 1);
    if (fate === 1) return; // lost
    if (this.isolated.has(message.from) || this.isolated.has(message.to)) return;
    this.members[message.to - 1]!.node.step(message);
  }

  /** The host loop: persist, send, apply, advance — all at once (synchronous persistence). */
  private handleReady(member: Member): void {
    const ready = member.node.ready();
    if (ready.snapshot !== null) {
      assert(member.storage.applySnapshot(ready.snapshot) === null, 'stale snapshot in a Ready');
      member.applied = ready.snapshot.metadata.index;
    }
    member.storage.append(ready.entries);
    if (ready.hardState !== null) member.storage.setHardState(ready.hardState);
    if (ready.entries.length > 0 || ready.snapshot !== null) this.logChanged(member);
    for (const message of ready.messages) this.network.push(Object.freeze(message));
    for (const entry of ready.committedEntries) this.apply(member, entry);
    member.node.advance();
    this.checkLeaderAppendOnly(member);
  }

  private apply(member: Member, entry: Entry): void {
    assert(entry.index === member.applied + 1, () => `${member.id} applies ${entry.index} after ${member.applied}`);
    const key = entryKey(entry);
    const seen = this.appliedEntries.get(entry.index);
    // State machine safety: no two members apply different entries at one index.
    assert(seen === undefined || seen === key, () => `state machine safety: ${member.id} applies ${key} at ${entry.index}, another applied ${seen}`);
    this.appliedEntries.set(entry.index, key);
    this.committed.set(entry.index, `${entry.term}:${key}`);
    if (key === this.finalKey && this.finalIndex === 0) this.finalIndex = entry.index;
    member.applied = entry.index;
  }

  private restart(member: Member): void {
    // Volatile state is lost: the member restarts from its storage; its state machine from the snapshot.
    const snapshot: Snapshot = member.storage.snapshot();
    member.applied = snapshot.metadata.index;
    member.leading = null;
    member.node = this.start(member.id, member.storage, member.applied);
    // A restart may lose an unpersisted term or commit; nothing was promised on them.
    const { hardState } = member.storage.initialState();
    assert(hardState.term >= member.persistedTerm, () => `${member.id}'s persisted term went back`);
    member.persistedTerm = hardState.term;
    member.lastTerm = hardState.term;
    member.lastCommit = hardState.commit;
  }

  private compact(member: Member): void {
    const index = member.applied - 2;
    if (index <= member.storage.snapshot().metadata.index) return;
    const status = member.node.status();
    const created = member.storage.createSnapshot(index, status.config, `state@${index}`);
    if (typeof created !== 'string') member.storage.compact(index);
    this.logChanged(member);
  }

  private logChanged(member: Member): void {
    member.log = null;
    this.logsChanged = true;
  }

  private logOf(member: Member): Map<number, { term: number; key: string }> {
    member.log ??= persistedLogEntries(member.storage);
    return member.log;
  }

  // ---------------------------------------------------------------------------------------------
  // Properties

  private checkProperties(): void {
    for (const member of this.members) {
      const status = member.node.status();
      const { term, commit } = status.hardState;
      assert(term >= member.lastTerm, () => `${member.id}'s term went back from ${member.lastTerm} to ${term}`);
      assert(commit >= member.lastCommit, () => `${member.id}'s commit went back from ${member.lastCommit} to ${commit}`);
      member.lastTerm = term;
      member.lastCommit = commit;
      if (status.softState.role === 'leader') {
        // Election safety: at most one leader per term.
        const known = this.leaders.get(term);
        assert(known === undefined || known === member.id, () => `election safety: ${known} and ${member.id} both lead term ${term}`);
        this.leaders.set(term, member.id);
        if (member.leading?.term !== term) member.leading = { term, log: new Map() };
      } else {
        member.leading = null;
      }
    }
    this.checkLogMatching();
    this.checkLeaderCompleteness();
  }

  /** Leader append-only: while leading, a member never overwrites or deletes its persisted entries. */
  private checkLeaderAppendOnly(member: Member): void {
    if (member.leading === null) return;
    const log = this.logOf(member);
    for (const [index, term] of member.leading.log) {
      const now = log.get(index);
      assert(now === undefined ? index < member.storage.firstIndex() : now.term === term, () => `leader append-only: ${member.id} changed index ${index}`);
    }
    for (const [index, entry] of log) member.leading.log.set(index, entry.term);
  }

  /** Log matching: if two logs have an entry with the same index and term, they agree up to it. */
  private checkLogMatching(): void {
    if (!this.logsChanged) return;
    this.logsChanged = false;
    const logs = this.members.map((m) => ({ id: m.id, log: this.logOf(m) }));
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const left = logs[a]!;
        const right = logs[b]!;
        let agreed = false;
        const high = Math.min(lastKey(left.log), lastKey(right.log));
        for (let index = high; index > 0; index--) {
          const x = left.log.get(index);
          const y = right.log.get(index);
          if (x === undefined || y === undefined) break;
          if (!agreed && x.term === y.term) agreed = true;
          if (agreed) {
            assert(x.key === y.key && x.term === y.term, () => `log matching: ${left.id} and ${right.id} differ at ${index} below a common entry`);
          }
        }
      }
    }
  }

  /** Leader completeness: a leader's log holds every committed entry (that it has not compacted). */
  private checkLeaderCompleteness(): void {
    for (const member of this.members) {
      if (member.leading === null || member.node.hasReady()) continue;
      // Everything the leader has is persisted once its Ready was handled.
      const log = this.logOf(member);
      const first = member.storage.firstIndex();
      for (const [index, key] of this.committed) {
        if (index < first) continue;
        const entry = log.get(index);
        assert(entry !== undefined && `${entry.term}:${entry.key}` === key, () => `leader completeness: leader ${member.id} of term ${member.leading!.term} lacks committed ${key} at ${index}`);
      }
    }
  }
}

function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function entryKey(entry: Entry): string {
  if (entry.type === 'normal') return `data:${String.fromCharCode(...entry.data)}`;
  return describeEntry(entry);
}

function persistedLogEntries(storage: MemoryStorage): Map<number, { term: number; key: string }> {
  const map = new Map<number, { term: number; key: string }>();
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  if (last < first) return map;
  const entries = storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER);
  assert(!isStorageError(entries), 'storage failed to read its own log');
  for (const entry of entries) map.set(entry.index, { term: entry.term, key: entryKey(entry) });
  return map;
}

function lastKey(map: Map<number, unknown>): number {
  let last = 0;
  for (const key of map.keys()) last = Math.max(last, key);
  return last;
}

