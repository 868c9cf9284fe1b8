import { hexId } from '../config/memberIds.ts';
import type { RaftLogger } from '../../core/raft/index.ts';
import type { ServerLog } from './serverLog.ts';

/**
 * Raft's own lines, debug ones included (a leader's progress per follower: rejections, snapshots
 * sent, reported and covered, probes), with DETCD_RAFT_DEBUG=1; otherwise none (core builds no
 * strings without a logger). A diagnosis aid: a busy leader logs a line per rejected append.
 */
export function raftDebugLogger(env: NodeJS.ProcessEnv, log: ServerLog): RaftLogger | undefined {
  if (env.DETCD_RAFT_DEBUG !== '1') return undefined;
  return {
    debug: (text) => log.info('raft', `debug: ${text}`),
    info: (text) => log.info('raft', text),
    warn: (text) => log.info('raft', `warning: ${text}`),
  };
}

/** What the host reads of the node's Raft state after each pump (its soft state and term). */
export interface RaftView {
  readonly role: 'follower' | 'pre-candidate' | 'candidate' | 'leader';
  readonly lead: number;
  readonly term: number;
}

/**
 * The Raft events an etcd operator reads in the log, from the changes of role, term and leader
 * the host sees after each pump (the core stays silent and deterministic). etcd-io/raft logs
 * "<id> became <role> at term N" (raft.go) when a node changes role or a follower moves to a
 * newer term, and raft/node.go the leader: "elected leader", "changed leader from", "lost
 * leader". Steps within one pump collapse into the last (a pre-candidate that wins within one
 * Ready is seen as a leader): the host observes Readies, not Raft's steps.
 */
export class RaftEventLog {
  private last: RaftView | null = null;

  constructor(
    private readonly self: number,
    private readonly log: ServerLog,
    /** Called when the leader or this member's role changed (the heartbeat detector restarts, as etcd's `td.Reset()`). */
    private readonly onSoftStateChange: () => void = () => {},
  ) {}

  observe(view: RaftView): void {
    const last = this.last;
    if (last !== null && last.role === view.role && last.lead === view.lead && last.term === view.term) return;
    this.last = { role: view.role, lead: view.lead, term: view.term };
    const self = hexId(this.self);
    if (last === null || last.role !== view.role || last.term !== view.term) this.log.info('raft', `${self} became ${view.role} at term ${view.term}`);
    const lastLead = last?.lead ?? 0;
    if (lastLead !== view.lead) {
      if (view.lead === 0) this.log.info('raft.node', `${self} lost leader ${hexId(lastLead)} at term ${view.term}`);
      else if (lastLead === 0) this.log.info('raft.node', `${self} elected leader ${hexId(view.lead)} at term ${view.term}`);
      else this.log.info('raft.node', `${self} changed leader from ${hexId(lastLead)} to ${hexId(view.lead)} at term ${view.term}`);
    }
    if (last === null || last.role !== view.role || last.lead !== view.lead) this.onSoftStateChange();
  }
}
