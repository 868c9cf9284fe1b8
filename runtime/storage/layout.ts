import { join } from 'node:path';

/**
 * Where a node's named durable files live in a data dir, following etcd's `member/` layout:
 * the WAL under `member/wal/` (etcd names segments `<seq>-<index>.wal`; detcd keeps one segment,
 * replaced whole on compaction), snapshots and the backend under `member/snap/` (etcd's
 * `<term>-<index>.snap` files and `db`). A name the layout does not know goes under `member/`.
 */
export function filePath(dataDir: string, name: string): string {
  if (name === 'wal') return join(dataDir, 'member', 'wal', '0000000000000000-0000000000000000.wal');
  if (name === 'db' || name.startsWith('snap')) return join(dataDir, 'member', 'snap', name === 'db' ? 'db' : `${name}.snap`);
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new RangeError(`a durable file name must be lower-case letters, digits and dashes: "${name}"`);
  return join(dataDir, 'member', name);
}

/** The directories a data dir holds, created on first start (etcd creates them 0700). */
export function layoutDirectories(dataDir: string): string[] {
  return [dataDir, join(dataDir, 'member'), join(dataDir, 'member', 'wal'), join(dataDir, 'member', 'snap')];
}

/** Every file a node may have written, by name, found by walking the layout. */
export function knownFiles(dataDir: string, listDir: (dir: string) => string[]): Map<string, string> {
  const found = new Map<string, string>();
  const member = join(dataDir, 'member');
  for (const entry of listDir(join(member, 'wal'))) if (entry === '0000000000000000-0000000000000000.wal') found.set('wal', join(member, 'wal', entry));
  for (const entry of listDir(join(member, 'snap'))) {
    if (entry === 'db') found.set('db', join(member, 'snap', entry));
    else if (entry.endsWith('.snap')) found.set(entry.slice(0, -'.snap'.length), join(member, 'snap', entry));
  }
  for (const entry of listDir(member)) if (/^[a-z][a-z0-9-]*$/.test(entry) && entry !== 'wal' && entry !== 'snap') found.set(entry, join(member, entry));
  return found;
}
