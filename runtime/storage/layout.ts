import { join } from 'node:path';

/**
 * Where a node's named durable files live in a data dir, following etcd's `member/` layout:
 * the WAL under `member/wal/` and the backend under `member/snap/`, both as segments
 * (`segmentedFiles`), snapshots under `member/snap/` (etcd's `<term>-<index>.snap` files). A name
 * the layout does not know goes under `member/`.
 */
export function filePath(dataDir: string, name: string): string {
  if (segmentedFiles(dataDir).has(name)) throw new RangeError(`${name} is a series of segments: see segmentedFiles`);
  if (name.startsWith('snap')) return join(dataDir, 'member', 'snap', `${name}.snap`);
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new RangeError(`a durable file name must be lower-case letters, digits and dashes: "${name}"`);
  return join(dataDir, 'member', name);
}

/** The directories a data dir holds, created on first start (etcd creates them 0700). */
export function layoutDirectories(dataDir: string): string[] {
  return [dataDir, join(dataDir, 'member'), join(dataDir, 'member', 'wal'), join(dataDir, 'member', 'snap')];
}

/** Every file a node may have written, by name, found by walking the layout (segmented files apart: segmentedFiles). */
export function knownFiles(dataDir: string, listDir: (dir: string) => string[]): Map<string, string> {
  const found = new Map<string, string>();
  const member = join(dataDir, 'member');
  for (const entry of listDir(join(member, 'snap'))) {
    if (entry.endsWith('.snap')) found.set(entry.slice(0, -'.snap'.length), join(member, 'snap', entry));
  }
  for (const entry of listDir(member)) if (/^[a-z][a-z0-9-]*$/.test(entry) && entry !== 'wal' && entry !== 'snap') found.set(entry, join(member, entry));
  return found;
}

/** How one logical file's segments are named in their directory. */
export interface SegmentNaming {
  readonly directory: string;
  /** The temporary name prefix of segments being prepared (`<prefix>.<n>.tmp`). */
  readonly preparedPrefix: string;
  name(sequence: number, base: number): string;
  /** The sequence and base a file name stands for, or null for a file that is not a segment. */
  parse(entry: string): { readonly sequence: number; readonly base: number } | null;
}

const hex16 = (value: number) => value.toString(16).padStart(16, '0');

/**
 * The WAL's segments: `member/wal/<sequence>-<base>.wal`, both 16 hex digits, in etcd's
 * `<seq>-<index>.wal` shape. etcd's second number is the Raft index the segment starts at; the
 * store under detcd's node sees opaque records, so it names the first segment of the log the file
 * holds instead (the log starts over at each compaction, which writes a new segment that is its
 * own base): segments below the newest base are leftovers to remove. A data dir of an earlier
 * detcd, one grown file `0000000000000000-0000000000000000.wal`, reads as segment 0 of base 0.
 */
export function walSegments(dataDir: string): SegmentNaming {
  return hexSegments(join(dataDir, 'member', 'wal'), 'segment', 'wal', null);
}

/**
 * The backend's segments: `member/snap/<sequence>-<base>.db`. The backend is appended to (what
 * each commit changed) and rewritten whole now and then, like the WAL, so it is kept the same
 * way. etcd's is one bbolt file, `member/snap/db`, which bbolt also grows ahead in large steps
 * (its mmap size), so a commit's fdatasync rarely carries a new size either. A data dir of an
 * earlier detcd, one grown file `db`, reads as segment 0 of base 0.
 */
export function dbSegments(dataDir: string): SegmentNaming {
  return hexSegments(join(dataDir, 'member', 'snap'), 'db', 'db', 'db');
}

/** Every logical file kept as segments, by the node's file name. */
export function segmentedFiles(dataDir: string): ReadonlyMap<string, SegmentNaming> {
  return new Map([
    ['wal', walSegments(dataDir)],
    ['db', dbSegments(dataDir)],
  ]);
}

function hexSegments(directory: string, preparedPrefix: string, extension: string, legacyName: string | null): SegmentNaming {
  return {
    directory,
    preparedPrefix,
    name: (sequence, base) => `${hex16(sequence)}-${hex16(base)}.${extension}`,
    parse: (entry) => {
      if (entry === legacyName) return { sequence: 0, base: 0 };
      const match = /^([0-9a-f]{16})-([0-9a-f]{16})\.([a-z]+)$/.exec(entry);
      if (match === null || match[3] !== extension) return null;
      const sequence = Number.parseInt(match[1]!, 16);
      const base = Number.parseInt(match[2]!, 16);
      return Number.isSafeInteger(sequence) && Number.isSafeInteger(base) && base <= sequence ? { sequence, base } : null;
    },
  };
}

/**
 * A backend image received from the leader (an installed snapshot), written aside before the WAL
 * records the snapshot, then renamed into the backend's log: etcd's `member/snap/<index>.snap.db`
 * (SaveDBFrom; `openSnapshotBackend` renames it to `db`). `index`: the snapshot's.
 */
export function receivedDbPath(dataDir: string, index: number): string {
  if (!(Number.isSafeInteger(index) && index >= 0)) throw new RangeError(`a snapshot index must be a non-negative integer, got ${index}`);
  return join(dataDir, 'member', 'snap', `${hex16(index)}.snap.db`);
}

/** The received backend images a data dir holds (`receivedDbPath`), by index, lowest first. */
export function receivedDbFiles(dataDir: string, listDir: (dir: string) => string[]): { readonly index: number; readonly path: string }[] {
  const directory = join(dataDir, 'member', 'snap');
  return listDir(directory)
    .flatMap((entry) => {
      const match = /^([0-9a-f]{16})\.snap\.db$/.exec(entry);
      const index = match === null ? Number.NaN : Number.parseInt(match[1]!, 16);
      return Number.isSafeInteger(index) ? [{ index, path: join(directory, entry) }] : [];
    })
    .sort((a, b) => a.index - b.index);
}
