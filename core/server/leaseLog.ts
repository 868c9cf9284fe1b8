import type { LeaseCheckpoint } from '../lease/index.ts';

/** What a member did with a lease, for checkers (properties/lease): numbered, bounded. */
export type LeaseLogEntry =
  | { readonly seq: number; readonly kind: 'expiring'; readonly ID: number; readonly tick: number }
  /** A revoke (a client's, or an expiry's when `expired`) applied: the entry at `index`, its write at `revision`. */
  | { readonly seq: number; readonly kind: 'revoked'; readonly ID: number; readonly index: number; readonly revision: number; readonly keys: number; readonly expired: boolean }
  /**
   * The primary proposed the checkpoints due at its tick `tick` (tickLeases; a renewal's clear is
   * not one), as its request `requestId`: they carry remaining TTLs computed then.
   */
  | { readonly seq: number; readonly kind: 'checkpointing'; readonly requestId: number; readonly tick: number; readonly checkpoints: readonly LeaseCheckpoint[] }
  /** The primary proposed a renewal's clear (a checkpoint of 0) of lease `ID` at its tick `tick`; the renewal waits for it. */
  | { readonly seq: number; readonly kind: 'clearing'; readonly ID: number; readonly tick: number }
  /**
   * A LeaseCheckpoint entry applied (as the entry says, whatever the lessor made of it), whether the
   * lessor was the primary then, and who proposed it (the member and its request id).
   */
  | { readonly seq: number; readonly kind: 'checkpointed'; readonly index: number; readonly checkpoints: readonly LeaseCheckpoint[]; readonly primary: boolean; readonly proposer: number; readonly requestId: number }
  /** The lessor promoted when the leader applied the empty entry of its term at `index`, at its tick `tick`, extending by `extendTicks`. */
  | { readonly seq: number; readonly kind: 'promoted'; readonly index: number; readonly tick: number; readonly extendTicks: number }
  /**
   * The primary granted or renewed a lease at its tick `tick` (its expiry is judged right after),
   * its state then holding the entries up to `index` (the grant's own; for a renewal, its clear's
   * when it waited for one).
   */
  | { readonly seq: number; readonly kind: 'refreshed'; readonly ID: number; readonly tick: number; readonly index: number };

type Unnumbered<Entry> = Entry extends { readonly seq: number } ? Omit<Entry, 'seq'> : never;

/**
 * Entries kept: a checker reads them after every event, and one event may apply a long batch of
 * committed entries (a follower catching up), a third of them checkpoints under a short interval.
 */
const kept = 1024;

/**
 * The member's lease actions as they happen, for checkers that must judge them at the moment they
 * happen (the simulator's true time then): the primary proposing an expiry, checkpoints or a renewal's
 * clear, a revoke applied, a checkpoint applied, a promotion, a grant or renewal on the primary. A
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

  revoked(ID: number, index: number, revision: number, keys: number, expired: boolean): void {
    this.push({ kind: 'revoked', ID, index, revision, keys, expired });
  }

  checkpointing(requestId: number, tick: number, checkpoints: readonly LeaseCheckpoint[]): void {
    this.push({ kind: 'checkpointing', requestId, tick, checkpoints });
  }

  clearing(ID: number, tick: number): void {
    this.push({ kind: 'clearing', ID, tick });
  }

  checkpointed(index: number, checkpoints: readonly LeaseCheckpoint[], primary: boolean, proposer = 0, requestId = 0): void {
    this.push({ kind: 'checkpointed', index, checkpoints, primary, proposer, requestId });
  }

  promoted(index: number, tick: number, extendTicks: number): void {
    this.push({ kind: 'promoted', index, tick, extendTicks });
  }

  refreshed(ID: number, tick: number, index: number): void {
    this.push({ kind: 'refreshed', ID, tick, index });
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
