import { assert, AssertionError } from '../base/assert.ts';

/**
 * The sliding window of MsgApp messages sent to one follower and not yet acknowledged, each
 * remembered by the last index it carried and its payload bytes. A leader in StateReplicate stops
 * sending entries when the window is full (by count or by bytes). A fixed-size ring buffer.
 *
 * Invariant: the indexes in the window ascend; 0 <= count <= capacity.
 */
export class Inflights {
  readonly capacity: number;
  readonly maxBytes: number;
  private readonly indexes: number[];
  private readonly sizes: number[];
  private start = 0;
  private length = 0;
  private totalBytes = 0;

  constructor(capacity: number, maxBytes: number) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, 'inflight capacity must be a positive integer');
    assert(maxBytes > 0, 'inflight byte limit must be positive');
    this.capacity = capacity;
    this.maxBytes = maxBytes;
    this.indexes = new Array<number>(capacity).fill(0);
    this.sizes = new Array<number>(capacity).fill(0);
  }

  get count(): number {
    return this.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Records a message whose last entry is `index`. The caller must check `full` first. */
  add(index: number, bytes: number): void {
    assert(!this.full(), 'cannot add into a full inflights window');
    const newest = this.length > 0 ? this.indexes[(this.start + this.length - 1) % this.capacity]! : -1;
    if (index <= newest) throw new AssertionError(`inflight index ${index} does not ascend past ${newest}`);
    const slot = (this.start + this.length) % this.capacity;
    this.indexes[slot] = index;
    this.sizes[slot] = bytes;
    this.length++;
    this.totalBytes += bytes;
  }

  /** Frees every message whose last index is <= `index` (they were acknowledged). */
  freeLE(index: number): void {
    while (this.length > 0 && this.indexes[this.start]! <= index) {
      this.totalBytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.capacity;
      this.length--;
    }
    if (this.length === 0) this.start = 0;
  }

  full(): boolean {
    return this.length === this.capacity || this.totalBytes >= this.maxBytes;
  }

  reset(): void {
    this.start = 0;
    this.length = 0;
    this.totalBytes = 0;
  }
}
