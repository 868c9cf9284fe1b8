import test from 'ava';
import { ErrNoLeader } from '../api/index.ts';
import { TestCluster } from './_test/testCluster.ts';
import { describeServerReply, describeServerRequest, inspectEtcdServer } from './describe.ts';

test('calls and answers read as one line each, keys quoted and cut short', (t) => {
  t.is(describeServerRequest({ method: 'Put', request: { key: 'a', value: 'x'.repeat(30) } }), `Put "a" = "${'x'.repeat(24)}…"`);
  t.is(describeServerRequest({ method: 'Range', request: { key: 'a', rangeEnd: 'b', revision: 4, serializable: true } }), 'Range ["a", "b") rev=4 serializable');
  t.is(describeServerRequest({ method: 'Range', request: { key: '\0', rangeEnd: '\0' } }), 'Range all keys');
  t.is(
    describeServerRequest({ method: 'Txn', request: { compare: [{ key: 'k', target: 'MOD', result: 'EQUAL', modRevision: 3 }], success: [{ requestPut: { key: 'k' } }], failure: [{ requestRange: { key: 'k' } }] } }),
    'Txn if mod("k") EQUAL then [put "k"] else [range "k"]',
  );
  t.is(describeServerReply({ method: 'Put', error: ErrNoLeader }), 'Put error: etcdserver: no leader');
  t.is(describeServerRequest({ method: 'MemberReconfigure', request: { add: [{ peerURLs: ['http://m4:2380'] }], remove: [1] } }), 'MemberReconfigure add [http://m4:2380] remove [1] promote []');
});

test('a member inspected: role, term, commit, applied and configuration', (t) => {
  const cluster = new TestCluster({ machines: 3 });
  const leader = cluster.electLeader();
  const range = cluster.request(leader, 'Range', { key: 'a' });
  t.is(describeServerReply(range), 'Range ok rev 1: 0 keys []');
  const status = inspectEtcdServer(cluster.server(leader));
  t.like(status, { role: 'leader', config: 'Voters:[1 2 3]' });
  t.true(status.applied >= 2 && status.commit >= status.applied && status.term >= 2);
});
