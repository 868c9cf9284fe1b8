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
 * A set of revisions: what a compaction keeps (etcd's `available map[revision]struct{}`). Keyed
 * by main revision, with the few subs of each.
 */
export class RevisionSet {
  private readonly byMain = new Map<number, number[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(main: number, sub: number): void {
    const subs = this.byMain.get(main);
    if (subs === undefined) this.byMain.set(main, [sub]);
    else if (subs.includes(sub)) return;
    else subs.push(sub);
    this.count++;
  }

  has(main: number, sub: number): boolean {
    const subs = this.byMain.get(main);
    return subs !== undefined && subs.includes(sub);
  }

  delete(main: number, sub: number): void {
    const subs = this.byMain.get(main);
    const at = subs === undefined ? -1 : subs.indexOf(sub);
    if (at < 0) return;
    subs!.splice(at, 1);
    if (subs!.length === 0) this.byMain.delete(main);
    this.count--;
  }
}
