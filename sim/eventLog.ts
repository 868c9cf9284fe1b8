import type { HostedNode, NodeId, NodeProtocol, NodeStatus } from '../core/host/node.ts';
import { retryIdsFrom, type ClientWake, type ReplyEnvelope, type RequestEnvelope } from './clientPool.ts';
import { streamIdsFrom, type StreamEnvelope, type StreamWake } from './streamClients.ts';
import { EventKind, eventKindNames } from './eventKind.ts';
import { describeFault, type FaultAction } from './faults.ts';
import type { RunResult, SimObserver } from './observer.ts';
import type { DeliveredEvent, Simulation, SnapshotReport } from './simulation.ts';

/**
 * A run's events as readable lines: time, who, what. Messages, requests and replies are named by
 * the protocol's `describe…` functions (a protocol without them shows kinds only), and after each
 * event the node it touched is inspected, so role changes, new terms, commits and applies get a
 * `state` line of their own. Only ever attached when someone asked: the run's hot path does not
 * know it exists.
 *
 *     2.104300s  n3  message  1->3 MsgApp Term:2 Log:2/15 Commit:14 Entries:[2/16 EntryNormal "…"]
 *     2.104300s  n3  state    follower term 2, commit 14→16, applied 16
 *     5.000000s  -   fault    partition isolate 2
 *     5.000000s  c7  client   invokes op 12 on n2: append 57
 */

/** The kinds of line, as `--kind` names them. */
export const eventLineKinds = ['message', 'request', 'reply', 'client', 'fault', 'process', 'state', 'sync', 'tick', 'probe', 'violation'] as const;
export type EventLineKind = (typeof eventLineKinds)[number];
/** What `--events` shows unless asked: everything but the ticks and liveness probes. */
export const defaultEventLineKinds: readonly EventLineKind[] = eventLineKinds.filter((kind) => kind !== 'tick' && kind !== 'probe');

export interface EventFilter {
  /** Only lines about these nodes (a node's messages in and out, its requests, replies, state). */
  readonly nodes?: readonly NodeId[];
  readonly kinds?: readonly EventLineKind[];
  readonly fromUs?: number;
  readonly toUs?: number;
}

export interface EventLine {
  readonly index: number;
  readonly timeUs: number;
  /** `n3` for a node, `c7` for a client, `-` for the world. */
  readonly who: string;
  readonly kind: EventLineKind;
  readonly text: string;
  /** The nodes the line is about, for filtering. */
  readonly nodes: readonly NodeId[];
}

/**
 * What a fault did to one process, as a `process` line names it after the fault's own line: which
 * node a leader fault (crash-leader, pause-leader, clock-jump-leader) hit, and what became of it.
 */
export type ProcessChange = 'down (crashed)' | 'up (restarted)' | 'paused' | 'resumed' | `clock jumped ${string}`;

export function clockJumped(deltaUs: number): ProcessChange {
  return `clock jumped ${deltaUs >= 0 ? '+' : ''}${deltaUs}us`;
}

/** `12.345678s`: simulated time, to the microsecond. */
export function formatSimTime(timeUs: number): string {
  return `${(timeUs / 1e6).toFixed(6)}s`;
}

export function formatEventLine(line: EventLine): string {
  return `${formatSimTime(line.timeUs).padStart(12)}  ${line.who.padEnd(4)} ${line.kind.padEnd(8)} ${line.text}`;
}

/** `follower term 2, commit 14→16`: what changed between two statuses, or null when nothing did. */
export function describeStatusChange(before: NodeStatus | undefined, after: NodeStatus): string | null {
  const parts: string[] = [];
  const changed = (key: keyof NodeStatus): boolean => before === undefined || before[key] !== after[key];
  if (after.role !== undefined && changed('role')) parts.push(before?.role === undefined ? `${after.role}` : `${before.role}→${after.role}`);
  if (after.term !== undefined && changed('term')) parts.push(`term ${before?.term === undefined ? '' : `${before.term}→`}${after.term}`);
  if (after.commit !== undefined && changed('commit')) parts.push(`commit ${before?.commit === undefined ? '' : `${before.commit}→`}${after.commit}`);
  if (after.applied !== undefined && changed('applied')) parts.push(`applied ${after.applied}`);
  if (after.config !== undefined && changed('config')) parts.push(`config ${after.config}`);
  if (parts.length === 0) return null;
  // Say who the node is when its role did not change, so every state line reads alone.
  if (after.role !== undefined && !changed('role')) parts.unshift(after.role);
  return parts.join(', ');
}

/** Names events as lines, keeping what it needs between them (each node's last status). */
export class EventDescriber<M, Q, R, N extends HostedNode<M, Q, R>> {
  private readonly protocol: NodeProtocol<M, Q, R, N>;
  private readonly statuses = new Map<NodeId, NodeStatus>();
  private historyLength = 0;
  private invoked = false;
  /** Client attempts, mirrored from the client events (see `attemptsSeen`). */
  private readonly attempts = new ClientAttempts();
  /** Processes that went down or came back during the event being delivered. */
  private processChanges: { node: NodeId; what: string }[] = [];

  constructor(protocol: NodeProtocol<M, Q, R, N>) {
    this.protocol = protocol;
  }

  /** Remembers every running node's state now, so that the next event's state lines are exact. */
  prime(sim: Simulation<M, Q, R, N>): void {
    const inspect = this.protocol.inspect;
    if (inspect === undefined) return;
    for (const id of sim.members) {
      const node = sim.node(id);
      if (node !== null) this.statuses.set(id, inspect(node));
    }
    this.historyLength = sim.history.length;
  }

  /**
   * The lines for the event just delivered: the event itself, then the state it changed. `wanted`
   * says which kinds of line are wanted at all: the others are not built (describing every
   * message of a long run costs more than running it), though state is still followed.
   */
  describe(sim: Simulation<M, Q, R, N>, event: DeliveredEvent, wanted: (kind: EventLineKind) => boolean = () => true): EventLine[] {
    const lines: EventLine[] = [];
    const kind = lineKindOf[event.kind] ?? 'probe';
    if (kind === 'client') this.historySeen(sim, event);
    if (wanted(kind)) {
      const main = this.describeEvent(sim, event);
      if (main !== null) lines.push(main);
    }
    for (const { node, what } of this.processChanges) {
      if (what.startsWith('down')) this.statuses.delete(node);
      if (wanted('process')) lines.push({ index: event.index, timeUs: event.timeUs, who: `n${node}`, kind: 'process', text: what, nodes: [node] });
    }
    this.processChanges = [];
    if (!wanted('state')) return lines;
    const node = sim.lastEventNode;
    if (node !== 0) {
      const state = this.stateLine(sim, node, event);
      if (state !== null) lines.push(state);
    }
    if (event.kind === EventKind.fault) {
      // A fault may change any node (a quiet restarts them all; a resume drains an inbox).
      for (const id of sim.members) {
        const state = this.stateLine(sim, id, event);
        if (state !== null) lines.push(state);
      }
    }
    return lines;
  }

  /** Whether the client event just delivered invoked an operation (the history grew), and which attempt it sent. */
  private historySeen(sim: Simulation<M, Q, R, N>, event: DeliveredEvent): void {
    this.invoked = sim.history.length > this.historyLength;
    this.historyLength = sim.history.length;
    const wake = event.payload as ClientWake;
    if (this.invoked) this.attempts.invoked(sim.history.length - 1);
    else if (wake.kind === 'retry') this.attempts.retried(wake.entry, sim.history[wake.entry]!.attempts);
    else if (wake.kind === 'timeout') this.attempts.gaveUp(wake.entry);
  }

  /**
   * A process went down or came back while an event was being delivered (the fault line says what
   * was asked, this what happened: which node `crash-leader` hit); described after that event.
   */
  processChanged(node: NodeId, what: ProcessChange): void {
    this.processChanges.push({ node, what });
  }

  private stateLine(sim: Simulation<M, Q, R, N>, node: NodeId, event: DeliveredEvent): EventLine | null {
    const inspect = this.protocol.inspect;
    const replica = sim.node(node);
    if (inspect === undefined || replica === null) return null;
    const status = inspect(replica);
    const text = describeStatusChange(this.statuses.get(node), status);
    this.statuses.set(node, status);
    return text === null ? null : { index: event.index, timeUs: event.timeUs, who: `n${node}`, kind: 'state', text, nodes: [node] };
  }

  private describeEvent(sim: Simulation<M, Q, R, N>, event: DeliveredEvent): EventLine | null {
    const at = (who: string, kind: EventLineKind, text: string, nodes: readonly NodeId[]): EventLine => ({ index: event.index, timeUs: event.timeUs, who, kind, text, nodes });
    const { target, source } = event;
    switch (event.kind) {
      case EventKind.tick:
        return at(`n${target}`, 'tick', 'tick', [target]);
      case EventKind.deliver: {
        const message = event.payload as M;
        // Say who sent it, unless the protocol's description does (etcd-io/raft's "1->2 MsgApp").
        const described = this.protocol.describeMessage?.(message) ?? 'message';
        const text = described.startsWith(`${source}->`) ? described : `${source}->${target} ${described}`;
        return at(`n${target}`, 'message', sim.processState(target) === 'paused' ? `${text} (queued: paused)` : text, [source, target]);
      }
      case EventKind.request: {
        const envelope = event.payload as RequestEnvelope<Q> & StreamEnvelope<Q>;
        if (envelope.close === true) return at(`n${target}`, 'request', `c${source} leaves stream ${envelope.stream}`, [target]);
        if (envelope.stream !== undefined || envelope.id >= streamIdsFrom) {
          const on = envelope.stream === undefined ? ' (opens a stream)' : ` on stream ${envelope.stream}`;
          return at(`n${target}`, 'request', `op ${envelope.id} from c${source}${on}: ${this.describeRequest(envelope.request)}`, [target]);
        }
        return at(`n${target}`, 'request', `${this.attempts.describeId(envelope.id)} from c${source}: ${this.describeRequest(envelope.request)}`, [target]);
      }
      case EventKind.reply:
        return this.describeReplyEvent(sim, event);
      case EventKind.sync:
        // A sync that comes while its disk is stalled is held until the stall ends (Simulation.onSync).
        if (sim.diskStalled(target)) return at(`n${target}`, 'sync', 'sync held: the disk is stalled, it completes when the stall ends', [target]);
        return at(`n${target}`, 'sync', 'sync done: what was written is durable', [target]);
      case EventKind.fault: {
        const action = event.payload as FaultAction;
        // A leader fault names its target in the process line that follows; with none, say so.
        const missed = leaderFaults.has(action.kind) && this.processChanges.length === 0 ? ' (no leader to hit: nothing happened)' : '';
        return at('-', 'fault', `${describeFault(action)}${missed}`, faultNodes(action));
      }
      case EventKind.client:
        return this.describeClientEvent(sim, event);
      case EventKind.probe:
        return at('-', 'probe', 'liveness probe', []);
      case EventKind.work:
        return at(`n${target}`, 'tick', 'deferred work: its next slice', [target]);
      case EventKind.diskLag:
        return at(`n${target}`, 'sync', 'disk lag over: the writes it held that a sync covered are durable, the rest wait for the next', [target]);
      case EventKind.refusal:
        return at(`n${target}`, 'message', `${source}->${target} refused: ${target} was removed from the cluster`, [source, target]);
      case EventKind.snapshotReport: {
        const { status } = event.payload as SnapshotReport;
        const paused = sim.processState(target) === 'paused' ? ' (queued: paused)' : '';
        return at(`n${target}`, 'message', `snapshot ${target}->${source} reported ${status === 'finished' ? 'finished (handed on)' : 'failed (unreachable)'}${paused}`, [source, target]);
      }
      case EventKind.unreachableReport: {
        const paused = sim.processState(target) === 'paused' ? ' (queued: paused)' : '';
        return at(`n${target}`, 'message', `${target}->${source} reported unreachable (not handed to the connection)${paused}`, [source, target]);
      }
      default:
        return at('-', 'probe', `event kind ${event.kind}`, []);
    }
  }

  private describeReplyEvent(sim: Simulation<M, Q, R, N>, event: DeliveredEvent): EventLine {
    const envelope = event.payload as ReplyEnvelope<R>;
    if (envelope.stream !== undefined || envelope.id >= streamIdsFrom) {
      const text = envelope.refused === true ? 'refused: the member is down' : (this.protocol.describeReply?.(envelope.reply) ?? 'reply');
      const frame = envelope.stream === undefined ? '' : ` #${envelope.stream.sequence}${envelope.stream.end ? ' (ends it)' : ''}`;
      return { index: event.index, timeUs: event.timeUs, who: `c${event.target}`, kind: 'reply', text: `stream ${envelope.id}${frame} from n${event.source}: ${text}`, nodes: [event.source] };
    }
    const entryIndex = this.attempts.entryOf(envelope.id);
    const entry = entryIndex === undefined ? undefined : sim.history[entryIndex];
    const text = envelope.refused === true ? 'connection refused (the process is down)' : (this.protocol.describeReply?.(envelope.reply) ?? 'reply');
    const taken = entry !== undefined && entry.completeUs === event.timeUs && (entry.reply === envelope.reply || (envelope.refused === true && entry.reply === null));
    let verdict: string;
    if (taken) verdict = entry.outcome;
    else if (entry !== undefined && entry.completeUs === null && this.attempts.answered(envelope.id)) verdict = 'the client retries';
    else if (entry === undefined && envelope.id >= retryIdsFrom) verdict = 'an answer to a retry';
    else verdict = entryIndex !== undefined && this.attempts.hasGivenUp(entryIndex) ? 'ignored: the client gave up' : 'ignored: late or duplicate';
    return { index: event.index, timeUs: event.timeUs, who: `c${event.target}`, kind: 'reply', text: `${this.attempts.describeId(envelope.id)} from n${event.source}: ${text} (${verdict})`, nodes: [event.source] };
  }

  private describeClientEvent(sim: Simulation<M, Q, R, N>, event: DeliveredEvent): EventLine {
    const wake = event.payload as ClientWake | StreamWake;
    const history = sim.history;
    const line = (text: string, nodes: readonly NodeId[]): EventLine => ({ index: event.index, timeUs: event.timeUs, who: `c${event.target}`, kind: 'client', text, nodes });
    if (wake.kind === 'stream-wake') return line('stream client wakes (its timer)', []);
    if (wake.kind === 'stream-broken') return line(`stream ${wake.token} broke: the client opens another`, []);
    if (wake.kind === 'timeout') {
      const entry = history[wake.entry]!;
      return line(`gives up on op ${entry.id} to n${entry.lastTo}: outcome ${entry.outcome}`, [entry.lastTo]);
    }
    if (wake.kind === 'retry') {
      const entry = history[wake.entry]!;
      return line(`retries op ${entry.id} on n${wake.to} (attempt ${entry.attempts}): ${this.describeRequest(entry.request)}`, [wake.to!]);
    }
    if (!this.invoked) return line('done: no more operations', []);
    const entry = history[history.length - 1]!;
    return line(`invokes op ${entry.id} on n${entry.to}: ${this.describeRequest(entry.request)}`, [entry.to]);
  }

  private describeRequest(request: Q): string {
    return this.protocol.describeRequest?.(request) ?? 'request';
  }
}

/**
 * Which operation each request id belongs to. The client pool gives a first attempt its history
 * index as request id and each retry the next id from `retryIdsFrom` on, in the order the retries
 * are sent; the describer sees every client event, so it numbers them the same way and can say of
 * an answer to a retry which operation it answers. (A describer that saw only some events, as the
 * determinism report's, does not know a retry's operation and says so.)
 */
class ClientAttempts {
  private nextRetryId = retryIdsFrom;
  private readonly entryOfRetry = new Map<number, number>();
  private readonly attemptNumberOfRetry = new Map<number, number>();
  private readonly attemptsSent = new Map<number, number>();
  private readonly latest = new Map<number, number>();
  private readonly answeredIds = new Set<number>();
  private readonly givenUp = new Set<number>();

  invoked(entry: number): void {
    this.attemptsSent.set(entry, 1);
    this.latest.set(entry, entry);
  }

  /** A retry wake of `entry` fired; `attempts` is the entry's count after it (unchanged when the pool dropped it). */
  retried(entry: number, attempts: number): void {
    if (attempts <= (this.attemptsSent.get(entry) ?? 1)) return;
    const id = this.nextRetryId++;
    this.attemptsSent.set(entry, attempts);
    this.entryOfRetry.set(id, entry);
    this.attemptNumberOfRetry.set(id, attempts);
    this.latest.set(entry, id);
  }

  /** The client gave up on `entry`: later answers are ignored. */
  gaveUp(entry: number): void {
    this.givenUp.add(entry);
  }

  hasGivenUp(entry: number): boolean {
    return this.givenUp.has(entry);
  }

  entryOf(id: number): number | undefined {
    return id < retryIdsFrom ? id : this.entryOfRetry.get(id);
  }

  /** `op 12` for a first attempt, `op 12 (attempt 2)` for a retry, `request 1099511627776 (a retry)` for one not seen sent. */
  describeId(id: number): string {
    if (id < retryIdsFrom) return `op ${id}`;
    const entry = this.entryOfRetry.get(id);
    return entry === undefined ? `request ${id} (a retry)` : `op ${entry} (attempt ${this.attemptNumberOfRetry.get(id)})`;
  }

  /** Whether an answer with request id `id` is the first to the operation's latest attempt (then the pool took it). */
  answered(id: number): boolean {
    const entry = this.entryOf(id);
    if (entry === undefined || this.givenUp.has(entry) || this.latest.get(entry) !== id || this.answeredIds.has(id)) return false;
    this.answeredIds.add(id);
    return true;
  }
}

/** The line kind of each event kind, by name: a new event kind does not compile until it has one. */
const lineKindByName: Readonly<Record<(typeof eventKindNames)[number], EventLineKind>> = {
  tick: 'tick',
  deliver: 'message',
  request: 'request',
  reply: 'reply',
  sync: 'sync',
  fault: 'fault',
  client: 'client',
  probe: 'probe',
  refusal: 'message',
  'snapshot-report': 'message',
  work: 'tick',
  'unreachable-report': 'message',
  'disk-lag': 'sync',
};
/** The same in EventKind order, for the per-event lookup. */
const lineKindOf: readonly EventLineKind[] = eventKindNames.map((name) => lineKindByName[name]);

/**
 * Faults aimed at whoever leads: the process lines after them name the node they hit. (A
 * disk-stall-leader's is the disk-stall fault line that follows it, absent when none led.)
 */
const leaderFaults = new Set<FaultAction['kind']>(['crash-leader', 'pause-leader', 'clock-jump-leader']);

/** The nodes a fault names (none for world-wide ones: heal, quiet, weather, leader faults). */
function faultNodes(action: FaultAction): NodeId[] {
  if ('node' in action) return [action.node];
  if (action.kind !== 'partition') return [];
  const shape = action.shape;
  switch (shape.kind) {
    case 'isolate':
      return [shape.node];
    case 'one-way':
      return [shape.from, shape.to];
    case 'split':
      return [...shape.side];
    case 'bridge':
      return [shape.bridge, ...shape.side];
    default:
      return [];
  }
}

/** Whether a line passes a filter. World lines (faults that name no node) pass any node filter. */
export function lineMatches(line: EventLine, filter: EventFilter): boolean {
  if (filter.fromUs !== undefined && line.timeUs < filter.fromUs) return false;
  if (filter.toUs !== undefined && line.timeUs > filter.toUs) return false;
  if (!(filter.kinds ?? defaultEventLineKinds).includes(line.kind)) return false;
  if (filter.nodes === undefined || filter.nodes.length === 0) return true;
  if (line.kind === 'fault' && line.nodes.length === 0) return true;
  return line.nodes.some((node) => filter.nodes!.includes(node));
}

/**
 * An observer that hands every matching line to `emit` as the run goes. Before the filter's
 * window, state is still followed, so that the first state line inside it says what changed since
 * the last event, not since the start. When the run ends in a violation, the event being
 * delivered when a check rejected it (never recorded: the run stopped inside it) is described
 * too, then the violation itself — whatever the filter.
 */
export function eventLog<M, Q, R, N extends HostedNode<M, Q, R>>(
  protocol: NodeProtocol<M, Q, R, N>,
  filter: EventFilter,
  emit: (line: EventLine) => void,
): SimObserver<M, Q, R, N> & { afterRun(sim: Simulation<M, Q, R, N>, result: RunResult): void } {
  const describer = new EventDescriber(protocol);
  const kinds = new Set(filter.kinds ?? defaultEventLineKinds);
  const beforeWindow = (kind: EventLineKind): boolean => kind === 'state' && kinds.has('state');
  let lastSeen: DeliveredEvent | null = null;
  return {
    afterEvent(sim) {
      const event = sim.lastEvent;
      lastSeen = event;
      if (filter.toUs !== undefined && event.timeUs > filter.toUs) return;
      // Before the window only state is followed, so that the first state line in it is exact.
      const inWindow = filter.fromUs === undefined || event.timeUs >= filter.fromUs;
      const lines = describer.describe(sim, event, inWindow ? (kind) => kinds.has(kind) : beforeWindow);
      if (inWindow) for (const line of lines) if (lineMatches(line, filter)) emit(line);
    },
    afterRun(sim, result) {
      const violation = result.violation;
      if (violation === null) return;
      const event = sim.lastEvent;
      const seen = lastSeen !== null && lastSeen.timeUs === event.timeUs && lastSeen.kind === event.kind && lastSeen.target === event.target && lastSeen.payload === event.payload;
      if (!seen && event.kind >= 0) for (const line of describer.describe(sim, { ...event, index: violation.event })) emit(line);
      emit({ index: violation.event, timeUs: violation.timeUs, who: '-', kind: 'violation', text: violation.message, nodes: [] });
    },
    onCrash(node) {
      describer.processChanged(node, 'down (crashed)');
    },
    onRestart(node) {
      describer.processChanged(node, 'up (restarted)');
    },
    onPause(node) {
      describer.processChanged(node, 'paused');
    },
    onResume(node) {
      describer.processChanged(node, 'resumed');
    },
    onClockJump(node, deltaUs) {
      describer.processChanged(node, clockJumped(deltaUs));
    },
  };
}
