import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p`, one folder at a time. Node's own `mkdirSync(path, { recursive: true })` spins at
 * full CPU forever where a folder exists but cannot hold a new one and answers ENOENT — under
 * /proc, or past a dangling symlink: it reads ENOENT as "the parent is missing", makes the parent
 * (EEXIST: done) and tries again (Node 20; `--html /proc/pages` hung `check`). Made one at a time,
 * the first folder that cannot be made throws its error.
 */
export function makeFolders(path: string): void {
  const missing: string[] = [];
  for (let folder = resolve(path); !existsSync(folder); folder = dirname(folder)) {
    missing.push(folder);
    if (dirname(folder) === folder) break;
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (error) {
      // Made meanwhile by someone else, or a dangling symlink: the next level (or the check below) says what is wrong.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if (!statSync(path).isDirectory()) throw Object.assign(new Error(`${path} is not a folder`), { code: 'ENOTDIR' });
}
