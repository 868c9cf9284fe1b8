import { assert } from '../base/assert.ts';
import { tornRecord, type DurableRecord, type DurableState, type DurableWrite } from '../host/node.ts';

/** The file that holds the request id reservation. */
export const requestIdsFile = 'reqid';

/** The record of the request ids file. */
export interface Reservation {
  readonly type: 'request-ids';
  /** Every id below this may have been used by an earlier incarnation. */
  readonly reservedBelow: number;
}

export function isReservation(record: unknown): record is Reservation {
  return typeof record === 'object' && record !== null && (record as { type?: unknown }).type === 'request-ids';
}

/**
 * Request ids unique per member across restarts (etcd's reqIDGen, which takes the wall clock
 * into its ids; a deterministic node has none). Ids are handed out from blocks reserved on disk:
 * each start reserves a fresh block above whatever the last incarnation reserved, and a block is
 * extended before its last id is used. Once an id of a block is handed out, the next Ready syncs
 * unless one already did since the reservation was written: no id leaves the node before its
 * reservation is durable, and no id is ever handed out twice — an entry proposed before a crash
 * and applied after it can never answer a newer request.
 */
export class RequestIds {
  private next: number;
  private reservedBelow: number;
  private readonly blockSize: number;
  private pendingWrite: DurableWrite | null = null;
  private lastWrite: DurableWrite | null = null;
  /** The last reservation written is not yet known durable (no Ready synced since it was taken). */
  private reservationUnsynced = false;
  /** An id of an unsynced reservation was handed out: the next Ready must sync. */
  private syncDue = false;

  constructor(durable: DurableState, blockSize = 1 << 16) {
    this.blockSize = blockSize;
    let start = 1;
    for (const record of durable.files.get(requestIdsFile) ?? []) {
      if (record === tornRecord) break;
      start = Math.max(start, (record as Reservation).reservedBelow);
    }
    this.next = start;
    this.reservedBelow = start;
    this.reserve();
  }

  /** The next id (ids start at 1). */
  nextId(): number {
    if (this.next >= this.reservedBelow) this.reserve();
    if (this.reservationUnsynced && !this.syncDue) {
      this.syncDue = true;
      // Handed out unsynced earlier: written again, so the Ready that must sync has a write to sync.
      this.pendingWrite ??= this.lastWrite;
    }
    return this.next++;
  }

  /** The reservation to persist, if one is due. */
  takeWrite(): DurableWrite | null {
    const write = this.pendingWrite;
    this.pendingWrite = null;
    return write;
  }

  /** Whether the Ready being built must sync: an id left or may leave before its reservation is durable. */
  get mustSync(): boolean {
    return this.syncDue;
  }

  /** A Ready was handed out (its reservation write taken last): when it syncs, every reservation so far is durable. */
  readyTaken(synced: boolean): void {
    if (!synced) return;
    this.syncDue = false;
    this.reservationUnsynced = false;
  }

  get hasWrite(): boolean {
    return this.pendingWrite !== null;
  }

  private reserve(): void {
    this.reservedBelow += this.blockSize;
    assert(Number.isSafeInteger(this.reservedBelow), 'request ids exhausted');
    const record: Reservation = { type: 'request-ids', reservedBelow: this.reservedBelow };
    this.pendingWrite = { kind: 'replace', file: requestIdsFile, records: [record satisfies DurableRecord] };
    this.lastWrite = this.pendingWrite;
    this.reservationUnsynced = true;
  }
}
