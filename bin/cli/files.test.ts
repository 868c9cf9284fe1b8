import test from 'ava';
import { rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFolders } from '../../scenarios/folders.ts';
import { makeOutputFolder } from './files.ts';
import { scratchFolder } from '../../runtime/_test/scratch.ts';

test('folders are made level by level, and a folder that exists is fine', (t) => {
  const root = scratchFolder('detcd-files-');
  try {
    makeFolders(join(root, 'a', 'b', 'c'));
    t.true(statSync(join(root, 'a', 'b', 'c')).isDirectory());
    t.notThrows(() => makeFolders(join(root, 'a', 'b')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a folder that cannot be made is one line and exit 2 at once: under /proc (where Node’s recursive mkdir spins forever), past a dangling symlink, under a file, or a file itself', (t) => {
  const root = scratchFolder('detcd-files-');
  try {
    writeFileSync(join(root, 'a-file'), '');
    symlinkSync(join(root, 'nowhere'), join(root, 'dangling'));
    const cases: [string, RegExp][] = [
      ['/proc/detcd-no-such/pages', /: cannot create the folder: E[A-Z]+$/],
      [join(root, 'dangling', 'pages'), /: cannot create the folder: ENOENT$/],
      [join(root, 'a-file', 'pages'), /: cannot create the folder: ENOTDIR$/],
      [join(root, 'a-file'), /: cannot create the folder: ENOTDIR$/],
    ];
    for (const [path, message] of cases) {
      const error = t.throws(() => makeOutputFolder(path, '--html'), undefined, path);
      t.regex(error!.message, message, path);
      t.true(error!.message.startsWith(`--html ${path}: `));
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
