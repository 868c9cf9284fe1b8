import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What built a report: the package version and the commit of the checkout, for every report. */
export interface BuildInfo {
  readonly version: string;
  /** The commit id, with `-dirty` when the checkout has changes; `unknown` outside a git checkout. */
  readonly commit: string;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let cached: BuildInfo | null = null;

/** Read once per process (a `git` call of a few milliseconds). */
export function buildInfo(): BuildInfo {
  if (cached !== null) return cached;
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=40', '--match', 'no-tags-wanted'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim() || 'unknown';
  } catch {
    // Not a git checkout, or no git: the version alone identifies the code.
  }
  cached = { version, commit };
  return cached;
}
