import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/**
 * A fresh folder under the system's temporary folder, removed when this test process exits, the
 * tests passed or not. Test files that made one per store and left them behind filled /tmp: ~25
 * folders of ~5 MB (preallocated WAL segments) on every `npm test`.
 */
export function scratchFolder(prefix: string): string {
  if (made.length === 0) process.once('exit', removeScratchFolders);
  const folder = mkdtempSync(join(tmpdir(), prefix));
  made.push(folder);
  return folder;
}

function removeScratchFolders(): void {
  for (const folder of made) rmSync(folder, { recursive: true, force: true });
}
