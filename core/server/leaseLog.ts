/** What a member did with a lease, for checkers (properties/lease): numbered, bounded. */
export type LeaseLogEntry =
  | { readonly seq: number; readonly kind: 'expiring'; readonly ID: number; readonly tick: number }
  | { readonly seq: number; readonly kind: 'revoked'; readonly ID: number; readonly revision: number; readonly keys: number; readonly expired: boolean };

type Unnumbered<Entry> = Entry extends { readonly seq: number } ? Omit<Entry, 'seq'> : never;

const kept = 256;

/**
 * The member's lease actions as they happen, for checkers that must judge them at the moment they
 * happen (the simulator's true time then): the primary proposing an expiry, a revoke applied. A
 * checker reads the entries after the last sequence number it saw; the oldest are dropped.
 */
export class LeaseLog {
  private readonly entries: LeaseLogEntry[] = [];
  private next = 1;

  get lastSeq(): number {
    return this.next - 1;
  }

  expiring(ID: number, tick: number): void {
    this.push({ kind: 'expiring', ID, tick });
  }

  revoked(ID: number, revision: number, keys: number, expired: boolean): void {
    this.push({ kind: 'revoked', ID, revision, keys, expired });
  }

  /** The entries numbered after `seq`, oldest first. */
  since(seq: number): readonly LeaseLogEntry[] {
    if (seq >= this.lastSeq) return [];
    const first = this.entries.findIndex((entry) => entry.seq > seq);
    return first < 0 ? [] : this.entries.slice(first);
  }

  private push(entry: Unnumbered<LeaseLogEntry>): void {
    this.entries.push({ ...entry, seq: this.next++ } as LeaseLogEntry);
    if (this.entries.length > kept) this.entries.splice(0, this.entries.length - kept);
  }
}
