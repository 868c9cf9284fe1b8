import { assert } from '../../base/assert.ts';
import type { RaftConfig } from '../config.ts';
import {
  describeConfState,
  describeEntry,
  describeMessage,
  describeReady,
  describeRole,
  describeSnapshot,
} from '../describe.ts';
import { type ConfChangeSingle, type ConfChangeTransition, confChange, type Entry } from '../entry.ts';
import type { RaftLogger } from '../logger.ts';
import { MemoryStorage } from '../memoryStorage.ts';
import type { Message, MessageType } from '../message.ts';
import { RawNode } from '../rawNode.ts';
import { type ConfState, emptyConfState, type NodeId, type Snapshot } from '../state.ts';
import { snapshotOnDemand } from '../snapshotOnDemand.ts';
import { isStorageError } from '../storage.ts';
import type { Command } from './dataDriven.ts';
import { TestRandom } from './testRandom.ts';

type Level = 'debug' | 'info' | 'warn' | 'none';
const levelRank: Record<Level, number> = { debug: 0, info: 1, warn: 2, none: 3 };

/** The replicated state machine of the test host: the data of every applied normal entry. */
interface AppliedState {
  readonly data: readonly string[];
  readonly confState: ConfState;
}

/** One simulated host: its node, its durable storage, and what it applied. */
interface HostNode {
  readonly id: NodeId;
  rawNode: RawNode;
  readonly storage: MemoryStorage;
  readonly options: Partial<RaftConfig>;
  /** Applied state after each applied index (for snapshots at any applied index). */
  history: Map<number, AppliedState>;
  state: AppliedState;
  appliedIndex: number;
}

/**
 * Plays the host for a cluster of RawNodes in interaction scripts (etcd-io/raft's rafttest
 * InteractionEnv): it persists each Ready into a MemoryStorage, applies committed entries to a
 * list of strings, queues messages, and delivers them when told to. Messages are deep-frozen on
 * send, so a node that mutates a received message or entry throws.
 */
export class InteractionEnv {
  private readonly nodes: HostNode[] = [];
  private messages: Message[] = [];
  private output: string[] = [];
  private indent = 0;
  private level: Level = 'info';
  /** Nodes cut off from everyone: messages to or from them are dropped on delivery. */
  private readonly isolated = new Set<NodeId>();

  handle(command: Command): string {
    this.output = [];
    this.indent = 0;
    const handler = this.handlers[command.name];
    if (handler === undefined) throw new Error(`unknown command ${command.name}`);
    handler(command);
    return this.output.join('\n');
  }

  private readonly handlers: Record<string, (command: Command) => void> = {
    'log-level': (c) => {
      this.level = parseLevel(c.positional[0] ?? '');
    },
    'add-nodes': (c) => this.addNodes(c),
    campaign: (c) => this.node(c).rawNode.campaign(),
    propose: (c) => {
      const result = this.node(c).rawNode.propose(bytes(c.positional[1] ?? ''));
      if (result !== 'ok') this.write(`raft ${result}`);
    },
    'propose-conf-change': (c) => this.proposeConfChange(c),
    'process-ready': (c) => this.forEachNode(c, (node) => this.processReady(node), 'handling Ready'),
    'deliver-msgs': (c) => this.deliverMessagesCommand(c),
    stabilize: (c) => this.stabilize(c),
    'tick-heartbeat': (c) => this.tick(c, (node) => node.options.heartbeatTicks ?? 1),
    'tick-election': (c) => this.tick(c, (node) => node.options.electionTicks ?? 3),
    tick: (c) => this.tick(c, () => Number(c.keyed.get('n')?.[0] ?? 1)),
    'raft-log': (c) => this.raftLog(this.node(c)),
    'raft-state': () => this.raftState(),
    status: (c) => this.status(this.node(c)),
    compact: (c) => this.compact(this.node(c), Number(c.positional[1])),
    'read-index': (c) => this.node(c).rawNode.readIndex(c.positional[1] ?? ''),
    'transfer-leadership': (c) => {
      const from = Number(c.keyed.get('from')?.[0]);
      const to = Number(c.keyed.get('to')?.[0]);
      this.nodeById(from).rawNode.transferLeadership(to);
    },
    isolate: (c) => {
      for (const id of c.positional) this.isolated.add(Number(id));
    },
    heal: () => this.isolated.clear(),
    'report-snapshot': (c) => {
      const status = c.positional[2] === 'failed' ? 'failed' : 'finished';
      this.nodeById(Number(c.positional[0])).rawNode.reportSnapshot(Number(c.positional[1]), status);
    },
    'report-unreachable': (c) => this.nodeById(Number(c.positional[0])).rawNode.reportUnreachable(Number(c.positional[1])),
    restart: (c) => this.restart(this.node(c)),
    'applied-state': (c) => {
      const node = this.node(c);
      this.write(`applied=${node.appliedIndex} data=[${node.state.data.join(' ')}] ${describeConfState(node.state.confState)}`);
    },
  };

  // ---------------------------------------------------------------------------------------------
  // Output

  private write(line: string): void {
    // At level none nothing is printed at all, as in etcd-io/raft's scripts (setup steps).
    if (this.level === 'none') return;
    for (const part of line.split('\n')) this.output.push(`${'  '.repeat(this.indent)}${part}`);
  }

  private withIndent(run: () => void): void {
    this.indent++;
    try {
      run();
    } finally {
      this.indent--;
    }
  }

  private loggerFor(): RaftLogger {
    const log = (level: Level, prefix: string) => (text: string) => {
      if (levelRank[level] >= levelRank[this.level]) this.write(`${prefix} ${text}`);
    };
    return { debug: log('debug', 'DEBUG'), info: log('info', 'INFO'), warn: log('warn', 'WARN') };
  }

  // ---------------------------------------------------------------------------------------------
  // Nodes

  private node(c: Command): HostNode {
    return this.nodeById(Number(c.positional[0]));
  }

  private nodeById(id: NodeId): HostNode {
    const node = this.nodes[id - 1];
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  private forEachNode(c: Command, run: (node: HostNode) => void, header: string): void {
    const ids = c.positional.length > 0 ? c.positional.map(Number) : this.nodes.map((node) => node.id);
    for (const id of ids) {
      if (ids.length > 1) {
        this.write(`> ${id} ${header}`);
        this.withIndent(() => run(this.nodeById(id)));
      } else {
        run(this.nodeById(id));
      }
    }
  }

  /**
   * `add-nodes <count> voters=(1,2,3) [learners=(4)] [index=10] [prevote=true] [checkquorum=true]
   * [max-size-per-msg=N] [max-inflight=N] [max-committed-size-per-ready=N] [read-only=lease-based]
   * [election=N] [heartbeat=N] [step-down-on-removal=false] [bootstrap=storage|config]`.
   * With index>0 the nodes start from a snapshot at that index (term 1), as etcd-io/raft's env does.
   */
  private addNodes(c: Command): void {
    const count = Number(c.positional[0]);
    const voters = (c.keyed.get('voters') ?? []).map(Number);
    const learners = (c.keyed.get('learners') ?? []).map(Number);
    const index = Number(c.keyed.get('index')?.[0] ?? 0);
    const flag = (key: string, fallback: boolean): boolean => (c.keyed.get(key)?.[0] ?? String(fallback)) === 'true';
    const number = (key: string): number | undefined => (c.keyed.has(key) ? Number(c.keyed.get(key)![0]) : undefined);
    for (let i = 0; i < count; i++) {
      const id = this.nodes.length + 1;
      const confState: ConfState = { ...emptyConfState, voters, learners };
      const storage = new MemoryStorage();
      if (index > 0) {
        const snapshot: Snapshot = { metadata: { index, term: 1, confState }, data: Object.freeze([]) };
        storage.applySnapshot(snapshot);
      }
      const options: Partial<RaftConfig> = {
        preVote: flag('prevote', false),
        checkQuorum: flag('checkquorum', false),
        stepDownOnRemoval: flag('step-down-on-removal', true),
        snapshotStatusReported: flag('snapshot-status-reported', false),
        electionTicks: number('election') ?? 3,
        heartbeatTicks: number('heartbeat') ?? 1,
        maxSizePerMsg: number('max-size-per-msg') ?? Number.MAX_SAFE_INTEGER,
        maxInflightMsgs: number('max-inflight') ?? 256,
        ...(c.keyed.has('max-committed-size-per-ready') ? { maxCommittedSizePerReady: number('max-committed-size-per-ready')! } : {}),
        ...(c.keyed.get('read-only')?.[0] === 'lease-based' ? { readOnlyOption: 'lease-based' as const } : {}),
        // Without a snapshot the configuration comes from the config, as on a first boot.
        ...(index === 0 ? { voters, learners } : {}),
      };
      const state: AppliedState = { data: Object.freeze([]), confState };
      const node: HostNode = {
        id,
        storage,
        options,
        rawNode: null as unknown as RawNode,
        history: new Map([[index, state]]),
        state,
        appliedIndex: index,
      };
      node.rawNode = this.newRawNode(node, index);
      this.nodes.push(node);
    }
  }

  private newRawNode(node: HostNode, applied: number): RawNode {
    const { id, options } = node;
    return new RawNode({
      electionTicks: 3,
      heartbeatTicks: 1,
      maxSizePerMsg: Number.MAX_SAFE_INTEGER,
      maxInflightMsgs: 256,
      preVote: false,
      checkQuorum: false,
      ...options,
      id,
      storage: snapshotOnDemand(node.storage, () => ({ index: node.appliedIndex, confState: node.state.confState, data: () => node.state.data })),
      random: new TestRandom(id),
      applied,
      logger: this.loggerFor(),
    });
  }

  /**
   * `restart <id>`: the process crashes and restarts from its storage. Everything volatile is lost
   * (messages it had not sent yet are never sent); the state machine restarts from the snapshot
   * and committed entries are applied again.
   */
  private restart(node: HostNode): void {
    const snapshot = node.storage.snapshot();
    const index = snapshot.metadata.index;
    node.state = index > 0 ? { data: snapshot.data as readonly string[], confState: snapshot.metadata.confState } : node.history.get(0)!;
    node.appliedIndex = index;
    node.history = new Map([[index, node.state]]);
    node.rawNode = this.newRawNode(node, index);
  }

  private proposeConfChange(c: Command): void {
    const node = this.node(c);
    const changes: ConfChangeSingle[] = [];
    for (const token of c.positional.slice(1)) {
      const kind = token[0];
      const nodeId = Number(token.slice(1));
      if (kind === 'v') changes.push({ type: 'addNode', nodeId });
      else if (kind === 'l') changes.push({ type: 'addLearner', nodeId });
      else if (kind === 'r') changes.push({ type: 'removeNode', nodeId });
      else throw new Error(`unknown conf change ${token}`);
    }
    const transition = (c.keyed.get('transition')?.[0] ?? 'auto') as ConfChangeTransition;
    const result = node.rawNode.proposeConfChange(confChange(changes, transition));
    if (result !== 'ok') this.write(`raft ${result}`);
  }

  // ---------------------------------------------------------------------------------------------
  // The host loop

  /** Handles one Ready: persist, send (queue), apply, advance. */
  private processReady(node: HostNode): void {
    const ready = node.rawNode.ready();
    this.write(describeReady(ready));
    if (ready.snapshot !== null) {
      assert(node.storage.applySnapshot(ready.snapshot) === null, 'snapshot out of date');
    }
    node.storage.append(ready.entries);
    if (ready.hardState !== null) node.storage.setHardState(ready.hardState);
    for (const message of ready.messages) this.messages.push(deepFreeze(message));
    if (ready.snapshot !== null) {
      const { index, confState } = ready.snapshot.metadata;
      node.state = { data: ready.snapshot.data as readonly string[], confState };
      node.appliedIndex = index;
      node.history.set(index, node.state);
    }
    for (const entry of ready.committedEntries) this.apply(node, entry);
    node.rawNode.advance();
  }

  private apply(node: HostNode, entry: Entry): void {
    assert(entry.index === node.appliedIndex + 1, () => `node ${node.id} applies ${entry.index} after ${node.appliedIndex}`);
    let state = node.state;
    if (entry.type === 'normal') {
      if (entry.data.byteLength > 0) state = { ...state, data: Object.freeze([...state.data, text(entry.data)]) };
    } else {
      state = { ...state, confState: node.rawNode.applyConfChange(entry.change) };
    }
    node.state = state;
    node.appliedIndex = entry.index;
    node.history.set(entry.index, state);
  }

  private stabilize(c: Command): void {
    const ids = c.positional.length > 0 ? c.positional.map(Number) : this.nodes.map((node) => node.id);
    for (let round = 0; ; round++) {
      assert(round < 1000, 'stabilize did not converge within 1000 rounds');
      let done = true;
      for (const id of ids) {
        const node = this.nodeById(id);
        if (!node.rawNode.hasReady()) continue;
        done = false;
        this.write(`> ${id} handling Ready`);
        this.withIndent(() => this.processReady(node));
      }
      for (const id of ids) {
        if (!this.messages.some((m) => m.to === id)) continue;
        done = false;
        this.write(`> ${id} receiving messages`);
        this.withIndent(() => this.deliverMessages([{ id, drop: false }], null));
      }
      if (done) return;
    }
  }

  /** `deliver-msgs <id>... [drop=<id>...] [type=MsgApp]` */
  private deliverMessagesCommand(c: Command): void {
    const recipients = c.positional.map((id) => ({ id: Number(id), drop: false }));
    for (const id of c.keyed.get('drop') ?? []) recipients.push({ id: Number(id), drop: true });
    const type = (c.keyed.get('type')?.[0] ?? null) as MessageType | null;
    if (this.deliverMessages(recipients, type) === 0) this.write('no messages');
  }

  private deliverMessages(recipients: readonly { id: NodeId; drop: boolean }[], type: MessageType | null): number {
    let handled = 0;
    for (const recipient of recipients) {
      const selected = this.messages.filter((m) => m.to === recipient.id && (type === null || m.type === type));
      this.messages = this.messages.filter((m) => !selected.includes(m));
      handled += selected.length;
      for (const message of selected) {
        const cut = this.isolated.has(message.from) || this.isolated.has(message.to);
        if (recipient.drop || cut) {
          this.write(`dropped: ${describeMessage(message)}`);
          continue;
        }
        this.write(describeMessage(message));
        const result = this.nodeById(message.to).rawNode.step(message);
        if (result !== 'ok') this.write(`raft ${result}`);
      }
    }
    return handled;
  }

  private tick(c: Command, ticks: (node: HostNode) => number): void {
    const node = this.node(c);
    const count = ticks(node);
    for (let i = 0; i < count; i++) node.rawNode.tick();
  }

  // ---------------------------------------------------------------------------------------------
  // Inspection

  private raftLog(node: HostNode): void {
    const storage = node.storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    if (last < first) {
      this.write(`log is empty: first index=${first}, last index=${last}`);
      return;
    }
    const entries = storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER);
    assert(!isStorageError(entries), 'storage failed to read its own log');
    for (const entry of entries) this.write(describeEntry(entry));
  }

  private raftState(): void {
    for (const node of this.nodes) {
      const status = node.rawNode.status();
      const voter = status.config.voters.includes(node.id) || status.config.votersOutgoing.includes(node.id);
      const learner = status.config.learners.includes(node.id);
      const kind = voter ? 'Voter' : learner ? 'Learner' : 'Non-Voter';
      const isolated = this.isolated.has(node.id) ? ' (isolated)' : '';
      this.write(
        `${node.id}: ${describeRole(status.softState.role)} (${kind}) Term:${status.hardState.term} Lead:${status.softState.lead}${isolated}`,
      );
    }
  }

  private status(node: HostNode): void {
    const status = node.rawNode.status();
    this.write(`${describeRole(status.softState.role)} ${status.configDescription} commit=${status.hardState.commit} applied=${status.applied}`);
    for (const [id, progress] of status.progress) this.write(`${id}: ${progress.description}`);
  }

  /** `compact <id> <index>`: snapshot the applied state at index and drop the log up to it. */
  private compact(node: HostNode, index: number): void {
    const state = node.history.get(index);
    if (state === undefined) throw new Error(`node ${node.id} has not applied ${index} (applied ${node.appliedIndex})`);
    const created = node.storage.createSnapshot(index, state.confState, state.data);
    if (typeof created === 'string') throw new Error(created);
    this.write(`snapshot ${describeSnapshot(created)}`);
    const compacted = node.storage.compact(index);
    if (compacted !== null) throw new Error(compacted);
    this.raftLog(node);
  }
}

function parseLevel(text: string): Level {
  if (text === 'debug' || text === 'info' || text === 'warn' || text === 'none') return text;
  if (text === 'error') return 'none';
  throw new Error(`unknown log level ${text}`);
}

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function text(data: Uint8Array): string {
  return String.fromCharCode(...data);
}

/** Freezes a message, its entries array and each entry: the network must not see mutation. */
function deepFreeze(message: Message): Message {
  for (const entry of message.entries) Object.freeze(entry);
  Object.freeze(message.entries);
  if (message.snapshot !== null) Object.freeze(message.snapshot);
  return Object.freeze(message);
}
