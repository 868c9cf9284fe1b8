import type { Bytes } from '../api/bytes.ts';
import type { KeyValue } from '../api/kv.ts';
import { latin1Text, writeLatin1 } from '../base/byteCodec.ts';

/*
 * The store's long-lived values off V8's heap (issue 10, slab). A put's KeyValue lives as long as
 * its revision is not compacted: under etcdctl check perf (keys put once and deleted, nothing
 * compacted) a follower held ~80k 1 kB value strings, half its heap, and its longest full GCs were
 * evacuation copying pages of them. A value of `slabValueMin` bytes or more is copied into a
 * large append-only Uint8Array (a slab; ArrayBuffer memory is external to V8: neither marked nor
 * moved) and the KeyValue holds the slab, an offset and a length; its `value` is a string made
 * when read (a prototype getter). Hosts serving bytes read them with `valueBytes` (a view, no
 * string). Shorter values stay strings: heap + slab bytes per key are the same either way (bench
 * slabThreshold: a slab value's fields cost what a string's header does), and a short slab value
 * makes a string at every read outside the gRPC path.
 *
 * Honesty: a slab region once written is never written again (the allocator only appends, a full
 * slab is dropped, never reused), so a KeyValue referencing it is as immutable as one holding a
 * string; the simulator's disk checksums each region at the write (sim/recordFreezer.ts).
 * A slab is freed by the GC when no KeyValue references it any more. Fragmentation: a slab stays
 * alive while one of its values does; the backend counts the bytes it holds per slab and after a
 * compaction copies the survivors of slabs it holds less than a quarter of into the current slab
 * (Backend.relocateValues), so what the backend keeps alive is bounded by ~4x its live value
 * bytes plus one slab (other holders — the watch history, responses in flight — are bounded by
 * their own limits and drop theirs).
 *
 * Each backend appends to its own slabs (a `ValueSlabs` allocator per Backend, so per member and
 * per incarnation: ARCHITECTURE's determinism item 9), and so does each host-side decoder (a
 * member's codec: `etcdCodecWith`). Whether a compaction relocates depends only on the backend's
 * own slabs and writes. Module state left: the size new allocators take (`useSlabSize`, set by a
 * test or a scenario around a run, never by a member) and the relocation counter (a coverage count
 * nothing in core reads).
 */

/** Values this long or longer go into slabs. */
export const slabValueMin = 64;
/** A slab's size. Values above a quarter of it stay strings (a rare size: etcd's requests are at most 1.5 MiB by default). */
export const defaultSlabSize = 4 * 1024 * 1024;
/** The slab size of allocators made from now on. */
let slabSize = defaultSlabSize;
/** The shortest value allocators made from now on put into slabs (`slabValueMin` but for a benchmark's other thresholds). */
let valueMinSetting = slabValueMin;
/** Values copied out of sparse slabs so far in this process (`relocated`): a scenario's coverage count. */
let relocations = 0;

/** How many values `ValueSlabs.relocated` has copied in this process (a run's count is the difference across it). */
export function relocatedValues(): number {
  return relocations;
}

/** The size of the slabs of allocators made from now on (tests and scenarios: small slabs fill, go sparse and are relocated within a short run). Returns the previous size. */
export function useSlabSize(bytes: number): number {
  const previous = slabSize;
  slabSize = bytes;
  return previous;
}

/** The shortest value allocators made from now on put into slabs (bench/slabThreshold.bench.ts measures others). Returns the previous one. */
export function useSlabValueMin(bytes: number): number {
  const previous = valueMinSetting;
  valueMinSetting = bytes;
  return previous;
}

/**
 * A KeyValue whose value is in a slab. Immutable (the store freezes nothing of its own; the
 * simulated disk freezes it). `value` is a getter: a spread (`{ ...kv }`) copies the slab fields,
 * not the value; `toJSON` gives the plain KeyValue, so JSON sees what a string-valued one shows.
 */
export class SlabKeyValue implements KeyValue {
  readonly key: Bytes;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly lease: number;
  readonly slab: Uint8Array;
  readonly offset: number;
  readonly length: number;

  constructor(key: Bytes, createRevision: number, modRevision: number, version: number, lease: number, slab: Uint8Array, offset: number, length: number) {
    this.key = key;
    this.createRevision = createRevision;
    this.modRevision = modRevision;
    this.version = version;
    this.lease = lease;
    this.slab = slab;
    this.offset = offset;
    this.length = length;
  }

  get value(): Bytes {
    return latin1Text(this.slab, this.offset, this.offset + this.length);
  }

  toJSON(): KeyValue {
    return plainKeyValue(this);
  }
}

/**
 * An append-only slab allocator: one per backend (and one per member's decoders). A region once
 * handed out is never written again; a full slab is dropped, never reused (the GC frees it when no
 * KeyValue references it any more).
 */
export class ValueSlabs {
  /** The size of this allocator's slabs. */
  readonly slabSize: number;
  /** Values below this stay strings. */
  private readonly valueMin = valueMinSetting;
  /** Values above this stay strings. */
  private readonly valueMax: number;
  private current: Uint8Array | null = null;
  private used = 0;

  constructor(bytes: number = slabSize) {
    this.slabSize = bytes;
    this.valueMax = bytes / 4;
  }

  /** The KeyValue the store keeps for a put: a long value in a slab, a short one as it is. */
  keyValue(key: Bytes, createRevision: number, modRevision: number, version: number, value: Bytes, lease: number): KeyValue {
    const length = value.length;
    if (length < this.valueMin || length > this.valueMax) return { key, createRevision, modRevision, version, value, lease };
    const slab = this.reserve(length);
    const offset = this.used - length;
    writeLatin1(value, slab, offset);
    return new SlabKeyValue(key, createRevision, modRevision, version, lease, slab, offset, length);
  }

  /** `keyValue` of a value given as bytes (a decoded record's: copied, not kept). */
  keyValueOfBytes(key: Bytes, createRevision: number, modRevision: number, version: number, value: Uint8Array, lease: number): KeyValue {
    const { length } = value;
    if (length < this.valueMin || length > this.valueMax) return { key, createRevision, modRevision, version, value: latin1Text(value, 0, length), lease };
    return this.slabbed(key, createRevision, modRevision, version, lease, value);
  }

  /** The same KeyValue with its value copied into this allocator's current slab (a survivor of a sparse slab). */
  relocated(kv: SlabKeyValue): SlabKeyValue {
    relocations++;
    return this.slabbed(kv.key, kv.createRevision, kv.modRevision, kv.version, kv.lease, kv.slab.subarray(kv.offset, kv.offset + kv.length));
  }

  /** Whether `slab` is the one this allocator appends to (not a candidate for relocation). */
  isCurrent(slab: Uint8Array): boolean {
    return slab === this.current;
  }

  private slabbed(key: Bytes, createRevision: number, modRevision: number, version: number, lease: number, bytes: Uint8Array): SlabKeyValue {
    const { length } = bytes;
    const slab = this.reserve(length);
    const offset = this.used - length;
    slab.set(bytes, offset);
    return new SlabKeyValue(key, createRevision, modRevision, version, lease, slab, offset, length);
  }

  /** The slab whose last `length` bytes (ending at `used`) are now reserved, a new one started when they do not fit. */
  private reserve(length: number): Uint8Array {
    if (this.current === null || this.used + length > this.current.length) {
      // A value above a quarter of a slab never comes here, but a relocated one from a larger allocator's slab may.
      this.current = new Uint8Array(Math.max(this.slabSize, length));
      this.used = 0;
    }
    this.used += length;
    return this.current;
  }
}

/** The value's length, without making a string of a slab value. */
export function valueLength(kv: KeyValue): number {
  return kv instanceof SlabKeyValue ? kv.length : kv.value.length;
}

/** A plain KeyValue with the same fields (a string value). */
export function plainKeyValue(kv: KeyValue): KeyValue {
  return { key: kv.key, createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, value: kv.value, lease: kv.lease };
}

/** Adds a slab value's bytes to `counts` (per slab: what a key bucket holds of it). */
export function countSlabBytes(counts: Map<Uint8Array, number>, kv: SlabKeyValue): void {
  counts.set(kv.slab, (counts.get(kv.slab) ?? 0) + kv.length);
}
