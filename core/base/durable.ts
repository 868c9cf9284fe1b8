/*
 * The durable store's vocabulary, in core/base so that every layer that writes to disk (the
 * replica's WAL, the mvcc backend) can speak it; core/host re-exports it.
 */

/**
 * A record that the durable store kept only in part: the process crashed while writing it.
 * Recovery code must recognise it (as a WAL's checksum would) and discard it and what follows.
 */
export const tornRecord: unique symbol = Symbol('torn record');
export type DurableRecord = unknown;

/** One write to the durable store. Records are immutable once written. */
export type DurableWrite =
  | { readonly kind: 'append'; readonly file: string; readonly records: readonly DurableRecord[] }
  /** Atomically replaces a whole file (write to a temporary file, sync, rename). */
  | { readonly kind: 'replace'; readonly file: string; readonly records: readonly DurableRecord[] };
