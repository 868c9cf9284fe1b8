import test from 'ava';
import { makeMessage } from '../../core/raft/message.ts';
import type { LogReplicaConfig } from '../../core/replica/logReplica.ts';
import { serverConfig } from '../config/serverConfig.ts';
import { readSettings } from '../config/settings.ts';
import { replicatedLogNode } from './replicatedLog.ts';

const cluster = ['--initial-cluster', 'a=http://127.0.0.1:1,b=http://127.0.0.1:2,c=http://127.0.0.1:3', '--name', 'a', '--initial-advertise-peer-urls', 'http://127.0.0.1:1'];

test('the flags become the replica: election in heartbeat ticks, snapshots every --snapshot-count entries; a new cluster bootstraps its voters, a joiner starts empty', (t) => {
  const config = serverConfig(readSettings([...cluster, '--heartbeat-interval', '20', '--election-timeout', '300', '--snapshot-count', '1000'], {}));
  const adapter = replicatedLogNode(config);
  const node = adapter.protocol.start({ id: config.memberId, members: config.initialCluster.map((m) => m.id), random: { uint32: () => 1, below: () => 0, between: (min) => min, chance: () => false }, durable: { files: new Map() } });
  t.is(node.raft.status().config.voters.length, 3);
  const replicaConfig = (node as unknown as { config: LogReplicaConfig }).config;
  t.like(replicaConfig, { electionTicks: 15, heartbeatTicks: 1, snapshotEveryEntries: 1000, catchUpEntries: 1000, preVote: false, checkQuorum: true });
  t.deepEqual(adapter.status(node), { leader: 0, term: 1, commitIndex: 1, appliedIndex: 1 });
  const joiner = serverConfig(readSettings([...cluster, '--initial-cluster-state', 'existing'], {}));
  const empty = replicatedLogNode(joiner).protocol.start({ id: joiner.memberId, members: [], random: { uint32: () => 1, below: () => 0, between: (min) => min, chance: () => false }, durable: { files: new Map() } });
  t.deepEqual(empty.raft.status().config.voters, []);
});

test('a message not addressed to this member, or not from the peer that sent it, is refused before it reaches the node', (t) => {
  const adapter = replicatedLogNode(serverConfig(readSettings(cluster, {})));
  t.is(adapter.refuse(makeMessage({ type: 'MsgHeartbeat', from: 2, to: 1 }), 2, 1), null);
  t.is(adapter.refuse(makeMessage({ type: 'MsgHeartbeat', from: 2, to: 7 }), 2, 1), 'addressed to 7');
  t.is(adapter.refuse(makeMessage({ type: 'MsgHeartbeat', from: 31, to: 1 }), 2, 1), 'claims to come from 1f');
});

test('appends and membership changes are proposals; reads are not (etcd_server_proposals_* count proposals only)', (t) => {
  const adapter = replicatedLogNode(serverConfig(readSettings(cluster, {})));
  t.true(adapter.isProposal({ kind: 'append', value: 1 }));
  t.false(adapter.isProposal({ kind: 'read' }));
  t.true(adapter.isFailure({ kind: 'error', reason: 'proposal-dropped' }));
  t.false(adapter.isFailure({ kind: 'appended', index: 3 }));
});
