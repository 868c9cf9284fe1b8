import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { scratchFolder } from '../../runtime/_test/scratch.ts';

const launcher = join(dirname(fileURLToPath(import.meta.url)), '..', 'detcd-sim');
const folder = scratchFolder('detcd-mutants-');

function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [launcher, 'mutants', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => void (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

function patchFile(name: string, content: string): string {
  const path = join(folder, name);
  writeFileSync(path, content);
  return path;
}

/** A user's mutant: heartbeats carry the whole commit index (caught at once by Raft's own assertion). */
const heartbeatBug = JSON.stringify({
  name: 'my-heartbeat-bug',
  bug: 'heartbeats carry the whole commit index',
  file: 'core/raft/replication.ts',
  find: 'const commit = Math.min(progress.match, raft.log.committed);',
  replace: 'const commit = raft.log.committed;',
  scenarios: ['raft-leader-churn-3'],
});

for (const [name, content, message] of [
  ['missing.json', null, /missing\.json: no such file/],
  ['not-json.json', 'find: x', /not-json\.json: not JSON/],
  ['array.json', '[]', /must hold one JSON object/],
  ['unknown-field.json', '{"file":"core/raft/raft.ts","find":"x","replace":"y","colour":1}', /unknown field "colour"/],
  ['outside.json', '{"file":"../etc/passwd","find":"x","replace":"y"}', /"file" must be a path inside core\//],
  ['absent.json', '{"file":"core/raft/nothing.ts","find":"x","replace":"y"}', /does not exist in the repository/],
  ['twice.json', '{"file":"core/raft/raft.ts","find":"this.","replace":"y"}', /"find" occurs \d+ times in core\/raft\/raft.ts, not exactly once/],
  ['scenario.json', '{"file":"core/raft/raft.ts","find":"this.vote = state.vote;","replace":"y","scenarios":["raft-nowhere"]}', /unknown scenario "raft-nowhere"/],
] as const) {
  test(`--patch refuses ${name} with one line and exit 2`, async (t) => {
    const path = content === null ? join(folder, name) : patchFile(name, content);
    const { code, out, err } = await cli('--patch', path, '--seeds', '1');
    t.is(code, 2);
    t.is(out, '');
    t.regex(err, message);
    t.is(err.trimEnd().split('\n').length, 1);
  });
}

test("--patch hunts a user's mutant, with infection counts and a replay command that reproduces the catch", async (t) => {
  const path = patchFile('heartbeat.json', heartbeatBug);
  const hunt = await cli('--patch', path, '--seeds', '2', '--json');
  t.is(hunt.code, 0, hunt.err);
  const verdict = JSON.parse(hunt.out.trim().split('\n')[0]!) as Record<string, unknown>;
  t.like(verdict, { mutant: 'my-heartbeat-bug', caught: true, scenario: 'raft-leader-churn-3', seed: 0 });
  t.true((verdict['executed'] as number) >= 1, 'the run executed the patched code');
  t.is(verdict['replay'], `npx detcd-sim run --patch ${path} --scenario raft-leader-churn-3 --seed 0`);
  const replay = await cli('--patch', path, '--replay', 'raft-leader-churn-3:0');
  t.is(replay.code, 0);
  t.regex(replay.out, /raft-leader-churn-3 seed 0: violation: tocommit\(\d+\) is out of range/);
});

test('--replay wants SCENARIO:SEED and one mutant', async (t) => {
  const bad = await cli('--mutant', 'vote-forgotten-on-restart', '--replay', 'raft-swarm');
  t.is(bad.code, 2);
  t.regex(bad.err, /--replay must be SCENARIO:SEED/);
  const two = await cli('--mutant', 'vote-forgotten-on-restart', '--mutant', 'joint-quorum-one-half', '--replay', 'raft-swarm:1');
  t.is(two.code, 2);
  t.regex(two.err, /exactly one mutant/);
});

test("a scenario's expected violation is no catch: a mutant that changes nothing survives bug-heartbeat-unsynced-send, and --replay says why", async (t) => {
  // An equivalent rewrite: the expected-violation scenario fails as it does unpatched (it once counted as caught).
  const path = patchFile('equivalent.json', JSON.stringify({
    name: 'equivalent-rewrite',
    file: 'core/raft/raft.ts',
    find: 'const applied = Math.max(index, this.log.applied);',
    replace: 'const applied = Math.max(this.log.applied, index);',
    scenarios: ['bug-heartbeat-unsynced-send'],
  }));
  const hunt = await cli('--patch', path, '--seeds', '1', '--no-infection', '--json');
  t.is(hunt.code, 1, hunt.err);
  t.like(JSON.parse(hunt.out.trim().split('\n')[0]!) as Record<string, unknown>, { mutant: 'equivalent-rewrite', caught: false });
  const replay = await cli('--patch', path, '--replay', 'bug-heartbeat-unsynced-send:0');
  t.is(replay.code, 1);
  t.regex(replay.out, /not a catch: the unpatched run finds the same violation/);
});
