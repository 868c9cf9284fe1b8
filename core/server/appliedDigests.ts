import { finalize32, mix32, mixNumber } from '../base/hash.ts';
import { digestEntry, type Entry } from '../raft/index.ts';

/**
 * The last `size` applied entries, by index, and a digest of each on demand (what the Raft
 * checkers' state machine safety compares across members): applying costs one array write, and
 * only a checker pays for digests. Indexes covered by a snapshot install, or long past, answer
 * undefined.
 */
export class AppliedDigests {
  private readonly entries: (Entry | undefined)[];

  constructor(private readonly size = 4096) {
    this.entries = new Array<Entry | undefined>(size);
  }

  record(entry: Entry): void {
    this.entries[entry.index % this.size] = entry;
  }

  /** Forgets everything (a snapshot install jumps the applied index). */
  clear(): void {
    this.entries.fill(undefined);
  }

  get(index: number): number | undefined {
    const entry = this.entries[index % this.size];
    if (entry === undefined || entry.index !== index) return undefined;
    let digest = digestEntry(entry);
    if (entry.type === 'normal') digest = mixNumber(digest, entry.data.byteLength);
    return finalize32(mix32(digest, entry.term));
  }
}
