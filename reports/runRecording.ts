import type { HostedNode, NodeId, NodeProtocol, NodeStatus } from '../core/host/node.ts';
import { EventKind } from '../sim/eventKind.ts';
import { describeFault, type FaultAction } from '../sim/faults.ts';
import type { ProcessState } from '../sim/process.ts';
import type { Simulation } from '../sim/simulation.ts';
import type { RunWatcher, WatcherObserver } from '../scenarios/scenario.ts';

/**
 * What a run page draws, gathered while the run goes: each member's role, term, commit and
 * applied index and its process state whenever they change, every fault as it fires, and at the
 * end each client's operations. Plain data, embedded in the page as JSON.
 */
export interface RunRecording {
  readonly members: readonly NodeRecording[];
  readonly faults: readonly FaultMark[];
  readonly clients: readonly ClientRecording[];
  /** When the run ended. */
  readonly endUs: number;
}

export interface NodeRecording {
  readonly id: NodeId;
  /** [timeUs, role, term, commit, applied], one per change; null where the protocol does not say. */
  readonly statuses: readonly (readonly [number, string | null, number | null, number | null, number | null])[];
  /** [timeUs, state], one per change, from `up` at time 0. */
  readonly processes: readonly (readonly [number, ProcessState])[];
}

export interface FaultMark {
  readonly atUs: number;
  readonly kind: FaultAction['kind'];
  readonly text: string;
}

export interface ClientRecording {
  readonly id: number;
  /** [invokeUs, completeUs or null, outcome, what it asked and got]. */
  readonly operations: readonly (readonly [number, number | null, 'ok' | 'fail' | 'unknown', string])[];
}

/** Most status changes kept per member; past it the page says the rest was cut. */
const statusesPerMemberMax = 200_000;

/** A watcher that records a run for its page; `recording()` once the run is over. */
export function runRecorder(): { readonly watcher: RunWatcher; recording(): RunRecording } {
  let recording: RunRecording | null = null;
  return {
    watcher: (protocol) => recordRun(protocol, (done) => void (recording = done)),
    recording() {
      if (recording === null) throw new Error('the run has not finished');
      return recording;
    },
  };
}

interface MemberTrack {
  readonly statuses: [number, string | null, number | null, number | null, number | null][];
  readonly processes: [number, ProcessState][];
  last: NodeStatus | null;
  process: ProcessState;
}

function recordRun<M, Q, R, N extends HostedNode<M, Q, R>>(protocol: NodeProtocol<M, Q, R, N>, done: (recording: RunRecording) => void): WatcherObserver<M, Q, R, N> {
  const members = new Map<NodeId, MemberTrack>();
  const faults: FaultMark[] = [];
  const member = (id: NodeId): MemberTrack => {
    let track = members.get(id);
    if (track === undefined) {
      track = { statuses: [], processes: [[0, 'up']], last: null, process: 'up' };
      members.set(id, track);
    }
    return track;
  };
  const look = (sim: Simulation<M, Q, R, N>, id: NodeId): void => {
    const track = member(id);
    const process = sim.processState(id);
    if (process !== track.process) {
      track.process = process;
      track.processes.push([sim.nowUs, process]);
    }
    const node = sim.node(id);
    if (protocol.inspect === undefined || node === null) return;
    const status = protocol.inspect(node);
    const last = track.last;
    if (last !== null && last.role === status.role && last.term === status.term && last.commit === status.commit && last.applied === status.applied) return;
    track.last = status;
    if (track.statuses.length < statusesPerMemberMax) track.statuses.push([sim.nowUs, status.role ?? null, status.term ?? null, status.commit ?? null, status.applied ?? null]);
  };
  return {
    afterEvent(sim) {
      const node = sim.lastEventNode;
      if (node !== 0) look(sim, node);
      const event = sim.lastEvent;
      if (event.kind !== EventKind.fault) return;
      const action = event.payload as FaultAction;
      faults.push({ atUs: sim.nowUs, kind: action.kind, text: describeFault(action) });
      for (const id of sim.members) look(sim, id);
    },
    afterRun(sim, result) {
      for (const id of sim.members) look(sim, id);
      const byClient = new Map<number, [number, number | null, 'ok' | 'fail' | 'unknown', string][]>();
      for (const entry of sim.history) {
        const operations = byClient.get(entry.client) ?? [];
        const asked = `op ${entry.id} on n${entry.to}: ${protocol.describeRequest?.(entry.request) ?? 'request'}`;
        const got = entry.reply === null ? '' : ` → ${protocol.describeReply?.(entry.reply) ?? 'reply'}`;
        operations.push([entry.invokeUs, entry.completeUs, entry.outcome, `${asked}${got} (${entry.outcome})`]);
        byClient.set(entry.client, operations);
      }
      done({
        members: sim.members.map((id) => ({ id, statuses: member(id).statuses, processes: member(id).processes })),
        faults,
        clients: [...byClient].sort((a, b) => a[0] - b[0]).map(([id, operations]) => ({ id, operations })),
        endUs: result.simulatedUs,
      });
    },
  };
}
