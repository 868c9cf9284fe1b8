import type { NodeId } from '../host/node.ts';
import type { Backend } from '../mvcc/index.ts';
import type { RequestHeader } from './internalRequest.ts';

const bucket = 'applied_requests';

interface MemberWindow {
  /** Ids at or below this are taken as applied already (they fell out of the window). */
  floor: number;
  readonly ids: Set<number>;
}

type Saved = readonly { readonly member: NodeId; readonly floor: number; readonly ids: readonly number[] }[];

/**
 * Which requests the state machine has applied, by proposing member and request id, so that an
 * entry proposed once but appended twice applies once (Raft §6.3: a state machine that filters
 * duplicates). etcd relies on its TCP transport never duplicating a proposal; the simulator's
 * network does duplicate messages, MsgProp included, and a put applied twice makes a revision no
 * client asked for. Beyond etcd, then, and deterministic: the windows change only by applying
 * entries, and are saved with every backend commit (a pre-commit hook), so a restart, a snapshot
 * or another member decides each entry the same way.
 *
 * Per member, the last `windowSize` ids applied are remembered, and anything at or below the
 * oldest of them counts as applied: a proposal that arrives that late is dropped — its client
 * sees a timeout, an unknown outcome, never a second effect.
 */
export class AppliedRequests {
  private readonly windows = new Map<NodeId, MemberWindow>();

  private constructor(private readonly windowSize: number) {}

  static fromBackend(backend: Backend, windowSize: number): AppliedRequests {
    const applied = new AppliedRequests(windowSize);
    for (const { member, floor, ids } of (backend.bucket(bucket) as Saved | undefined) ?? []) applied.windows.set(member, { floor, ids: new Set(ids) });
    return applied;
  }

  /** Saves the windows into the backend's current batch (the pre-commit hook). */
  save(backend: Backend): void {
    const saved: Saved = [...this.windows.entries()]
      .sort(([a], [b]) => a - b)
      .map(([member, window]) => Object.freeze({ member, floor: window.floor, ids: Object.freeze([...window.ids].sort((a, b) => a - b)) }));
    backend.setBucket(bucket, Object.freeze(saved));
  }

  /** Whether the request is new; if so it is remembered as applied from now on. */
  admit(header: RequestHeader): boolean {
    let window = this.windows.get(header.member);
    if (window === undefined) {
      window = { floor: 0, ids: new Set() };
      this.windows.set(header.member, window);
    }
    if (header.id <= window.floor || window.ids.has(header.id)) return false;
    window.ids.add(header.id);
    if (window.ids.size > this.windowSize) {
      // The first remembered (a Set keeps insertion order) goes; everything up to it counts as applied.
      const oldest = window.ids.values().next().value as number;
      window.ids.delete(oldest);
      window.floor = Math.max(window.floor, oldest);
    }
    return true;
  }
}
