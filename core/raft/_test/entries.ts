import { type Entry, normalEntry } from '../entry.ts';

/** Entries with the given terms at consecutive indexes from `first`, each with its index as data. */
export function entriesWithTerms(first: number, terms: readonly number[]): Entry[] {
  return terms.map((term, i) => normalEntry(new Uint8Array([(first + i) & 0xff]), term, first + i));
}

/** Entries (term, index) with payloads of `size` bytes. */
export function entriesOfSize(first: number, term: number, count: number, size: number): Entry[] {
  return Array.from({ length: count }, (_, i) => normalEntry(new Uint8Array(size), term, first + i));
}
