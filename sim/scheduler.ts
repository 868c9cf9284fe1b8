import { AssertionError } from '../core/base/assert.ts';

export interface SchedulerLimits {
  /** The most events that may wait at once; past it the run is broken (a protocol flooding itself). */
  readonly queuedEventsMax: number;
}

/**
 * A priority queue of events ordered by (time, insertion sequence): a binary min-heap. Virtual
 * time is an integer number of microseconds and never runs backwards; scheduling into the past is
 * an error, not a clamp, because it means a model computed a wrong time.
 *
 * This is the simulator's hottest code, so events are not objects: each lives in a slot of
 * parallel arrays (time, sequence, kind, target, source, payload), the heap orders slot numbers, and
 * freed slots are reused. `pop()` moves time forward and exposes the event as `kind`, `target`
 * and `payload` until the next pop.
 */
export class Scheduler {
  private times: Float64Array;
  private seqs: Float64Array;
  private kinds: Int32Array;
  private targets: Int32Array;
  private sources: Int32Array;
  private payloads: unknown[];
  private heap: Int32Array;
  private length = 0;
  private freeSlots: Int32Array;
  private freeCount: number;
  private nextSeq = 0;
  private currentUs = 0;
  private readonly queuedEventsMax: number;
  /** The last popped event. */
  kind = -1;
  target = -1;
  source = -1;
  payload: unknown = undefined;

  constructor(limits: SchedulerLimits) {
    this.queuedEventsMax = limits.queuedEventsMax;
    const capacity = Math.min(1024, limits.queuedEventsMax);
    this.times = new Float64Array(capacity);
    this.seqs = new Float64Array(capacity);
    this.kinds = new Int32Array(capacity);
    this.targets = new Int32Array(capacity);
    this.sources = new Int32Array(capacity);
    this.payloads = new Array<unknown>(capacity).fill(undefined);
    this.heap = new Int32Array(capacity);
    this.freeSlots = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeSlots[i] = capacity - 1 - i;
    this.freeCount = capacity;
  }

  get nowUs(): number {
    return this.currentUs;
  }

  get size(): number {
    return this.length;
  }

  /** Queues an event of `kind` for `target`, from `source` (a sender's address, or 0). */
  schedule(timeUs: number, kind: number, target: number, source: number, payload: unknown): void {
    // One cheap test on the hot path; the message is built only when it fails.
    if (!(timeUs >= this.currentUs && this.length < this.queuedEventsMax && Number.isSafeInteger(timeUs))) this.refuse(timeUs);
    if (this.freeCount === 0) this.grow();
    const slot = this.freeSlots[--this.freeCount]!;
    const seq = this.nextSeq++;
    this.times[slot] = timeUs;
    this.seqs[slot] = seq;
    this.kinds[slot] = kind;
    this.targets[slot] = target;
    this.sources[slot] = source;
    this.payloads[slot] = payload;
    // Sift up.
    const heap = this.heap;
    const times = this.times;
    const seqs = this.seqs;
    let index = this.length++;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      const parentTime = times[parent]!;
      if (parentTime < timeUs || (parentTime === timeUs && seqs[parent]! < seq)) break;
      heap[index] = parent;
      index = parentIndex;
    }
    heap[index] = slot;
  }

  private refuse(timeUs: number): never {
    if (!Number.isSafeInteger(timeUs)) throw new AssertionError(`event time ${timeUs} is not an integer`);
    if (timeUs < this.currentUs) throw new AssertionError(`event scheduled into the past: ${timeUs} < now ${this.currentUs}`);
    throw new AssertionError(`event queue is full (${this.queuedEventsMax} events)`);
  }

  /** The earliest event's time, or Infinity when nothing is queued. */
  peekTimeUs(): number {
    return this.length === 0 ? Infinity : this.times[this.heap[0]!]!;
  }

  /** Removes the earliest event, moves time to it and exposes it; false when nothing is queued. */
  pop(): boolean {
    if (this.length === 0) return false;
    const heap = this.heap;
    const times = this.times;
    const seqs = this.seqs;
    const top = heap[0]!;
    const last = heap[--this.length]!;
    const length = this.length;
    if (length > 0) {
      const lastTime = times[last]!;
      const lastSeq = seqs[last]!;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        if (left >= length) break;
        let child = left;
        let childTime = times[heap[left]!]!;
        const right = left + 1;
        if (right < length) {
          const rightTime = times[heap[right]!]!;
          if (rightTime < childTime || (rightTime === childTime && seqs[heap[right]!]! < seqs[heap[left]!]!)) {
            child = right;
            childTime = rightTime;
          }
        }
        if (childTime > lastTime || (childTime === lastTime && seqs[heap[child]!]! > lastSeq)) break;
        heap[index] = heap[child]!;
        index = child;
      }
      heap[index] = last;
    }
    this.currentUs = times[top]!;
    this.kind = this.kinds[top]!;
    this.target = this.targets[top]!;
    this.source = this.sources[top]!;
    this.payload = this.payloads[top];
    this.payloads[top] = undefined;
    this.freeSlots[this.freeCount++] = top;
    return true;
  }

  private grow(): void {
    const capacity = Math.min(this.queuedEventsMax, this.times.length * 2);
    const old = this.times.length;
    const copy = <T extends Float64Array | Int32Array>(array: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(array);
      return next;
    };
    this.times = copy(this.times, (n) => new Float64Array(n));
    this.seqs = copy(this.seqs, (n) => new Float64Array(n));
    this.kinds = copy(this.kinds, (n) => new Int32Array(n));
    this.targets = copy(this.targets, (n) => new Int32Array(n));
    this.sources = copy(this.sources, (n) => new Int32Array(n));
    this.heap = copy(this.heap, (n) => new Int32Array(n));
    this.freeSlots = new Int32Array(capacity);
    for (let i = 0; i < capacity - old; i++) this.freeSlots[i] = capacity - 1 - i;
    this.freeCount = capacity - old;
    for (let i = old; i < capacity; i++) this.payloads.push(undefined);
  }
}
