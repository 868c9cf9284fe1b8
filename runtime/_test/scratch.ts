import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** The signals that end a test process (ava's timeout, a Ctrl-C, a CI job cancelled) after which its folders are removed too. */
const endingSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * A fresh folder under the system's temporary folder, removed when this test process exits, the
 * tests passed or not, or is ended by SIGINT, SIGTERM or SIGHUP. Test files that made one per
 * store and left them behind filled /tmp: ~25 folders of ~5 MB (preallocated WAL segments) on
 * every `npm test`; removed on `exit` only, they stayed behind a test process killed by a signal.
 * Benchmarks take theirs here too (and remove each when done, as several run in one process):
 * one interrupted by Ctrl-C had left its data dirs behind.
 */
export function scratchFolder(prefix: string): string {
  if (made.length === 0) {
    process.once('exit', removeScratchFolders);
    for (const signal of endingSignals) process.on(signal, onEndingSignal);
  }
  const folder = mkdtempSync(join(tmpdir(), prefix));
  made.push(folder);
  return folder;
}

function removeScratchFolders(): void {
  for (const folder of made.splice(0)) rmSync(folder, { recursive: true, force: true });
}

/**
 * Removes the folders, then lets the signal do what it would have done without this listener:
 * alone, the listener had taken over its default (the process went on); re-raised with no
 * listener left, the process dies of it (exit status 128 + its number, as the caller expects).
 * When another listener is there (it has had the signal too), the process is left to it.
 */
function onEndingSignal(signal: NodeJS.Signals): void {
  removeScratchFolders();
  for (const ending of endingSignals) process.removeListener(ending, onEndingSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
