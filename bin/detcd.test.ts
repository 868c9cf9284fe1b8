import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchFolder } from '../runtime/_test/scratch.ts';

const detcd = join(dirname(fileURLToPath(import.meta.url)), 'detcd');

function run(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [detcd, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 30_000, cwd: scratchFolder('detcd-bin-') });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('--version prints etcd\'s lines (scripts parse "etcd Version:") and detcd\'s own', (t) => {
  const { code, stdout } = run(['--version']);
  t.is(code, 0);
  t.regex(stdout, /^etcd Version: 3\.4\.23\nGit SHA: detcd\nGo Version: .*\nGo OS\/Arch: linux\/(amd64|arm64)\ndetcd Version: \d+\.\d+\.\d+\n$/);
});

test('--help lists the flags with their defaults and the ETCD_ variables', (t) => {
  const { code, stdout } = run(['--help']);
  t.is(code, 0);
  t.regex(stdout, /--initial-cluster-token 'etcd-cluster'/);
  t.regex(stdout, /--client-cert-auth\n/);
  t.regex(stdout, /ETCD_INITIAL_CLUSTER_TOKEN/);
});

test('bad input is one line on stderr and exit code 2, never a stack trace', (t) => {
  const unknown = run(['--bogus']);
  t.deepEqual([unknown.code, unknown.stderr], [2, 'flag provided but not defined: -bogus\n']);
  const contradictory = run(['--heartbeat-interval', '500']);
  t.deepEqual([contradictory.code, contradictory.stderr], [2, "detcd: error verifying flags, --election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[500ms]. See 'detcd --help'.\n"]);
  const missing = run(['--name', 'x', '--initial-cluster', 'y=http://localhost:2380']);
  t.deepEqual([missing.code, missing.stderr], [2, "detcd: error verifying flags, couldn't find local name \"x\" in the initial cluster configuration. See 'detcd --help'.\n"]);
  const shadowed = run(['--name', 'a'], { ETCD_NAME: 'b' });
  t.is(shadowed.code, 2);
  t.is(shadowed.stderr.split('\n').length, 2);
  const level = run(['--log-level', 'loud']);
  t.deepEqual([level.code, level.stderr], [2, 'invalid value "loud" for flag -log-level: valid values are debug, info, warn, error, panic, fatal\n']);
  const logger = run(['--logger', 'syslog']);
  t.deepEqual([logger.code, logger.stderr], [2, 'invalid value "syslog" for flag -logger: valid values are capnslog, zap\n']);
  const rewrite = run([], { DETCD_BACKEND_FILE_COMMITS_MAX: '0' });
  t.deepEqual([rewrite.code, rewrite.stderr], [2, "detcd: error verifying flags, DETCD_BACKEND_FILE_COMMITS_MAX=0 is not a whole number from 1 to 1000000. See 'detcd --help'.\n"]);
});

test('a client port already in use ends the start with one line and exit code 1', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  const result = run(['--listen-client-urls', `http://127.0.0.1:${port}`, '--advertise-client-urls', `http://127.0.0.1:${port}`, '--listen-peer-urls', 'http://127.0.0.1:0', '--initial-advertise-peer-urls', 'http://127.0.0.1:0']);
  blocker.close();
  t.is(result.code, 1);
  t.regex(result.stderr, new RegExp(`detcd: listen tcp 127\\.0\\.0\\.1:${port}: bind: address already in use\\n$`));
});
