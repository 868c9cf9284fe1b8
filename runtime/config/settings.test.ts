import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterId, hexId, memberId } from './memberIds.ts';
import { etcdMemberConfig } from '../protocols/etcd.ts';
import { applySliceKeys, backendFileCommitsMax, serverConfig, walWriteOnLoopBytes } from './serverConfig.ts';
import { ConfigError, readSettings } from './settings.ts';
import { scratchFolder } from '../_test/scratch.ts';

const threeMembers = [
  '--name', 'infra1',
  '--listen-peer-urls', 'http://127.0.0.1:12380',
  '--initial-advertise-peer-urls', 'http://127.0.0.1:12380',
  '--listen-client-urls', 'http://127.0.0.1:2379',
  '--advertise-client-urls', 'http://127.0.0.1:2379',
  '--initial-cluster', 'infra1=http://127.0.0.1:12380,infra2=http://127.0.0.1:22380,infra3=http://127.0.0.1:32380',
];

function configOf(argv: readonly string[], env: NodeJS.ProcessEnv = {}) {
  return serverConfig(readSettings(argv, env));
}

function refusal(argv: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    configOf(argv, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return 'accepted';
}

test("etcd's defaults: one member named default on localhost, data in default.etcd, 100 ms heartbeat, 10-tick election", (t) => {
  const config = configOf([]);
  t.is(config.name, 'default');
  t.is(config.dataDir, 'default.etcd');
  t.is(config.heartbeatMs, 100);
  t.is(config.electionTicks, 10);
  t.is(config.snapshotCount, 100_000);
  t.is(config.clusterState, 'new');
  t.deepEqual(config.initialCluster.map((member) => member.name), ['default']);
  t.false(config.preVote);
  t.true(config.strictReconfigCheck);
  t.is(config.logLevel, 'info');
  t.true(etcdMemberConfig(config).coalesceAppends, "the member runs the simulator's default Raft setting");
  t.is(configOf(['--log-level', 'warn', '--logger', 'zap']).logLevel, 'warn');
});

test('flags in Go style: one or two dashes, =value or the next argument, booleans bare', (t) => {
  const config = configOf(['-name=n1', '--data-dir', '/tmp/x', '--heartbeat-interval=50', '--election-timeout', '500', '--pre-vote', '--strict-reconfig-check=false', '--initial-cluster', 'n1=http://localhost:2380']);
  t.is(config.name, 'n1');
  t.is(config.dataDir, '/tmp/x');
  t.is(config.electionTicks, 10);
  t.true(config.preVote);
  t.false(config.strictReconfigCheck);
});

test('member and cluster ids follow etcd (SHA-1 of sorted peer URLs + token; of sorted member ids), kept below 2^53', (t) => {
  const config = configOf(threeMembers);
  t.is(config.initialCluster.length, 3);
  t.is(config.memberId, memberId(['http://127.0.0.1:12380'], 'etcd-cluster'));
  t.is(config.clusterId, clusterId(config.initialCluster.map((member) => member.id)));
  for (const id of [config.memberId, config.clusterId]) t.true(Number.isSafeInteger(id) && id > 0);
  // Another token is another cluster (etcd's protection against cross-cluster traffic).
  t.not(configOf([...threeMembers, '--initial-cluster-token', 'other']).clusterId, config.clusterId);
  t.is(hexId(255), 'ff');
});

test('ETCD_* variables set what the command line does not; a variable a flag shadows is refused as etcd 3.4 does', (t) => {
  const config = configOf(['--name', 'n1', '--initial-cluster', 'n1=http://localhost:2380'], { ETCD_SNAPSHOT_COUNT: '42', ETCD_HEARTBEAT_INTERVAL: '20', ETCD_ELECTION_TIMEOUT: '200' });
  t.is(config.snapshotCount, 42);
  t.is(config.electionTicks, 10);
  t.is(
    refusal(['--name', 'n1'], { ETCD_NAME: 'n2' }),
    'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)',
  );
  t.is(refusal([], { ETCD_SNAPSHOT_COUNT: 'many' }), 'invalid value "many" for ETCD_SNAPSHOT_COUNT: parse error');
  t.deepEqual(readSettings([], { ETCD_FOO: '1' }).warnings, ['unrecognized environment variable ETCD_FOO=1']);
});

test('client-cert-auth takes every boolean Go accepts: ETCD_CLIENT_CERT_AUTH=1 and --peer-client-cert-auth=True turn mutual TLS on', (t) => {
  const tls = ['--cert-file', 'c.crt', '--key-file', 'c.key', '--trusted-ca-file', 'ca.crt', '--peer-cert-file', 'p.crt', '--peer-key-file', 'p.key', '--peer-trusted-ca-file', 'ca.crt'];
  for (const yes of ['1', 't', 'T', 'true', 'TRUE', 'True']) {
    const config = configOf([...tls, `--peer-client-cert-auth=${yes}`], { ETCD_CLIENT_CERT_AUTH: yes });
    t.true(config.clientTls?.clientCertAuth, `ETCD_CLIENT_CERT_AUTH=${yes}`);
    t.true(config.peerTls?.clientCertAuth, `--peer-client-cert-auth=${yes}`);
  }
  for (const no of ['0', 'f', 'false', 'FALSE']) t.false(configOf(tls, { ETCD_CLIENT_CERT_AUTH: no }).clientTls?.clientCertAuth, `ETCD_CLIENT_CERT_AUTH=${no}`);
});

test("unknown and malformed flags are refused with Go's flag package words", (t) => {
  t.is(refusal(['--no-such-flag']), 'flag provided but not defined: -no-such-flag');
  t.is(refusal(['--snapshot-count', 'x']), 'invalid value "x" for flag -snapshot-count: parse error');
  t.is(refusal(['--name']), 'flag needs an argument: -name');
  t.is(refusal(['--name', 'a', 'stray']), "'stray' is not a valid flag");
});

test("contradictory settings are refused with etcd 3.4's words", (t) => {
  t.is(refusal(['--heartbeat-interval', '300']), '--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]');
  t.is(refusal(['--election-timeout', '60000']), '--election-timeout[60000ms] is too long, and should be set less than 50000ms');
  t.is(refusal(['--heartbeat-interval', '0']), '--heartbeat-interval must be >0 (set to 0ms)');
  t.is(refusal(['--name', 'infra9', ...threeMembers.slice(2)]), 'couldn\'t find local name "infra9" in the initial cluster configuration');
  t.is(refusal(['--listen-client-urls', 'http://127.0.0.1:2379']), '--advertise-client-urls is required when --listen-client-urls is set explicitly');
  t.is(refusal(['--initial-cluster-state', 'maybe']), 'invalid value "maybe" for flag -initial-cluster-state: valid values are new, existing');
  t.is(refusal(['--log-level', 'verbose']), 'invalid value "verbose" for flag -log-level: valid values are debug, info, warn, error, panic, fatal');
  t.is(refusal(['--logger', 'syslog']), 'invalid value "syslog" for flag -logger: valid values are capnslog, zap');
  t.is(refusal(['--listen-peer-urls', 'ftp://127.0.0.1:2380']), 'invalid value "ftp://127.0.0.1:2380" for flag -listen-peer-urls: URL scheme must be http or https: ftp://127.0.0.1:2380');
  t.is(refusal(['--listen-peer-urls', 'http://example.com:2380']), 'expected IP in URL for binding (http://example.com:2380)');
  t.is(refusal(['--initial-advertise-peer-urls', 'http://10.0.0.1:2380', '--initial-cluster', 'default=http://localhost:2380']), '--initial-cluster has default=http://localhost:2380 but missing from --initial-advertise-peer-urls=http://10.0.0.1:2380');
  // Without --initial-cluster, etcd derives it from the name and the advertised peer URLs.
  t.is(configOf(['--initial-advertise-peer-urls', 'http://10.0.0.1:2380']).initialCluster[0]!.peerUrls.map(String).join(), 'http://10.0.0.1:2380/');
  t.is(refusal(['--listen-client-urls', 'https://127.0.0.1:2379', '--advertise-client-urls', 'https://127.0.0.1:2379']), 'TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme');
  t.is(refusal(['--cert-file', 'a.pem']), '--cert-file and --key-file must be given together');
  t.is(refusal(['--wal-dir', '/wal']), '--wal-dir is not supported by detcd yet (the WAL lives in <data-dir>/member/wal)');
});

test("a YAML config file in etcd's format decides alone: flags and variables are ignored", (t) => {
  const dir = scratchFolder('detcd-config-');
  const path = join(dir, 'etcd.conf.yml');
  writeFileSync(
    path,
    [
      'name: infra2',
      'data-dir: /var/lib/etcd',
      'heartbeat-interval: 50',
      'election-timeout: 500',
      "listen-peer-urls: 'http://127.0.0.1:22380'",
      'initial-advertise-peer-urls: http://127.0.0.1:22380',
      'listen-client-urls: http://127.0.0.1:22379',
      'advertise-client-urls: http://127.0.0.1:22379',
      'initial-cluster: infra1=http://127.0.0.1:12380,infra2=http://127.0.0.1:22380,infra3=http://127.0.0.1:32380',
      'initial-cluster-state: existing',
      'client-transport-security:',
      '  client-cert-auth: false',
      'unknown-key: ignored as etcd does',
    ].join('\n'),
  );
  const settings = readSettings(['--config-file', path, '--name', 'ignored'], { ETCD_SNAPSHOT_COUNT: '7' });
  const config = serverConfig(settings);
  t.is(config.name, 'infra2');
  t.is(config.dataDir, '/var/lib/etcd');
  t.is(config.electionTicks, 10);
  t.is(config.clusterState, 'existing');
  t.is(config.snapshotCount, 100_000);
  t.regex(settings.warnings[0]!, /other configuration command line flags and environment variables will be ignored/);
  t.is(serverConfig(readSettings([], { ETCD_CONFIG_FILE: path })).name, 'infra2');
  writeFileSync(path, 'heartbeat-interval: fast\n');
  t.is(refusal(['--config-file', path]), `${path}: heartbeat-interval: cannot unmarshal "fast" into a number`);
  writeFileSync(path, 'name: [unclosed\n');
  t.regex(refusal(['--config-file', path]), new RegExp(`^${path}: `));
  t.is(refusal(['--config-file', join(dir, 'missing.yml')]), `open ${join(dir, 'missing.yml')}: no such file or directory`);
});

test('DETCD_BACKEND_FILE_COMMITS_MAX (a test knob, not an etcd flag) sets the backend rewrite interval; unset, the default 1,000', (t) => {
  const config = serverConfig(readSettings([], {}));
  t.is(etcdMemberConfig(config).backendFileCommitsMax, 1_000);
  t.is(backendFileCommitsMax({}), undefined);
  t.is(backendFileCommitsMax({ DETCD_BACKEND_FILE_COMMITS_MAX: '' }), undefined);
  t.is(backendFileCommitsMax({ DETCD_BACKEND_FILE_COMMITS_MAX: '4' }), 4);
  t.is(etcdMemberConfig({ ...config, backendFileCommitsMax: 4 }).backendFileCommitsMax, 4);
  for (const bad of ['0', '-1', '2.5', '1e3', 'x', '1000001']) {
    t.throws(() => backendFileCommitsMax({ DETCD_BACKEND_FILE_COMMITS_MAX: bad }), { instanceOf: ConfigError, message: `DETCD_BACKEND_FILE_COMMITS_MAX=${bad} is not a whole number from 1 to 1000000` });
  }
});

test('DETCD_APPLY_SLICE_KEYS (a bench knob, not an etcd flag) sets the keys a DeleteRange deletes per loop turn; 0 applies it whole; unset, 4,096', (t) => {
  const config = serverConfig(readSettings([], {}));
  t.is(etcdMemberConfig(config).applySliceKeys, 4_096);
  t.is(applySliceKeys({}), undefined);
  t.is(applySliceKeys({ DETCD_APPLY_SLICE_KEYS: '0' }), 0);
  t.is(etcdMemberConfig({ ...config, applySliceKeys: 0 }).applySliceKeys, 0);
  for (const bad of ['-1', '2.5', 'x', '1000001']) {
    t.throws(() => applySliceKeys({ DETCD_APPLY_SLICE_KEYS: bad }), { instanceOf: ConfigError, message: `DETCD_APPLY_SLICE_KEYS=${bad} is not a whole number from 0 to 1000000` });
  }
});

test('DETCD_WAL_WRITE_ON_LOOP_BYTES (a bench knob, not an etcd flag) sets the largest lone durable WAL append written on the loop; 0 never; unset, the store default', (t) => {
  t.is(walWriteOnLoopBytes({}), undefined);
  t.is(walWriteOnLoopBytes({ DETCD_WAL_WRITE_ON_LOOP_BYTES: '' }), undefined);
  t.is(walWriteOnLoopBytes({ DETCD_WAL_WRITE_ON_LOOP_BYTES: '0' }), 0);
  t.is(walWriteOnLoopBytes({ DETCD_WAL_WRITE_ON_LOOP_BYTES: '16384' }), 16_384);
  for (const bad of ['-1', '2.5', 'x', '1048577']) {
    t.throws(() => walWriteOnLoopBytes({ DETCD_WAL_WRITE_ON_LOOP_BYTES: bad }), { instanceOf: ConfigError, message: `DETCD_WAL_WRITE_ON_LOOP_BYTES=${bad} is not a whole number from 0 to 1048576` });
  }
});
