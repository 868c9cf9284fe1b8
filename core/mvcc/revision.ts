/**
 * A revision {main, sub} (etcd's mvcc/revision.go): `main` counts the store's write
 * transactions that changed something, `sub` orders the changes inside one. The store starts at
 * main revision 1; its first change is {2, 0}.
 */
export interface Revision {
  readonly main: number;
  readonly sub: number;
}

export const zeroRevision: Revision = Object.freeze({ main: 0, sub: 0 });

export function revision(main: number, sub: number): Revision {
  return { main, sub };
}

/** a > b in (main, sub) order. */
export function revisionGreater(a: Revision, b: Revision): boolean {
  return a.main > b.main || (a.main === b.main && a.sub > b.sub);
}

export function compareRevisions(a: Revision, b: Revision): number {
  return a.main !== b.main ? a.main - b.main : a.sub - b.sub;
}

export function formatRevision(rev: Revision): string {
  return `${rev.main}.${rev.sub}`;
}

/**
 * Mains per chunk of a RevisionSet. One Map of every main a compaction keeps grew by rehashing
 * all of them at once: at 2^17 and 2^18 entries those were the longest turns of a 300k-key
 * compaction's index slices (bench compactTurn: the slice that crossed 2^18 took 186-310 ms
 * against ~50 for the others, at load 15-18). A chunk's Map rehashes at most this many.
 */
const chunkMains = 1 << 14;

/**
 * A set of revisions: what a compaction keeps (etcd's `available map[revision]struct{}`). Keyed
 * by main revision in chunks of `chunkMains` consecutive mains, each main with its sub (most
 * revisions hold one change) or its few subs.
 */
export class RevisionSet {
  private readonly chunks = new Map<number, Map<number, number | number[]>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(main: number, sub: number): void {
    const chunkKey = Math.floor(main / chunkMains);
    let chunk = this.chunks.get(chunkKey);
    if (chunk === undefined) {
      chunk = new Map();
      this.chunks.set(chunkKey, chunk);
    }
    const subs = chunk.get(main);
    if (subs === undefined) chunk.set(main, sub);
    else if (typeof subs === 'number') {
      if (subs === sub) return;
      chunk.set(main, [subs, sub]);
    } else if (subs.includes(sub)) return;
    else subs.push(sub);
    this.count++;
  }

  has(main: number, sub: number): boolean {
    const subs = this.chunks.get(Math.floor(main / chunkMains))?.get(main);
    return subs === sub || (typeof subs === 'object' && subs.includes(sub));
  }

  delete(main: number, sub: number): void {
    const chunkKey = Math.floor(main / chunkMains);
    const chunk = this.chunks.get(chunkKey);
    const subs = chunk?.get(main);
    if (subs === undefined || (typeof subs === 'number' ? subs !== sub : !subs.includes(sub))) return;
    if (typeof subs === 'number') chunk!.delete(main);
    else if (subs.length === 2) chunk!.set(main, subs[0] === sub ? subs[1]! : subs[0]!);
    else subs.splice(subs.indexOf(sub), 1);
    if (chunk!.size === 0) this.chunks.delete(chunkKey);
    this.count--;
  }
}
