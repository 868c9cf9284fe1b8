import test from 'ava';
import { etcdServices, loadEtcdApi } from './grpcServices.ts';

interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
}

function fields(message: string): Map<string, number> {
  const definition = loadEtcdApi()[message] as { type: { field: FieldDescriptor[] } } | undefined;
  if (definition === undefined) throw new Error(`no message ${message}`);
  return new Map(definition.type.field.map((field) => [field.name, field.number]));
}

test("the API has etcd's packages, services and methods", (t) => {
  const api = loadEtcdApi();
  const methods = (service: string) => Object.keys(api[service] as object).sort();
  t.deepEqual(etcdServices.map((service) => service), ['etcdserverpb.KV', 'etcdserverpb.Watch', 'etcdserverpb.Lease', 'etcdserverpb.Cluster', 'etcdserverpb.Maintenance', 'etcdserverpb.Auth']);
  t.deepEqual(methods('etcdserverpb.KV'), ['Compact', 'DeleteRange', 'Put', 'Range', 'Txn']);
  t.deepEqual(methods('etcdserverpb.Maintenance'), ['Alarm', 'Defragment', 'Hash', 'HashKV', 'MoveLeader', 'Snapshot', 'Status']);
  t.deepEqual(methods('etcdserverpb.Cluster'), ['MemberAdd', 'MemberList', 'MemberPromote', 'MemberRemove', 'MemberUpdate']);
  t.deepEqual(methods('etcdserverpb.Lease'), ['LeaseGrant', 'LeaseKeepAlive', 'LeaseLeases', 'LeaseRevoke', 'LeaseTimeToLive']);
  t.is(methods('etcdserverpb.Auth').length, 16);
  for (const name of ['mvccpb.KeyValue', 'mvccpb.Event', 'authpb.User', 'authpb.Permission', 'authpb.Role', 'grpc.health.v1.Health']) t.truthy(api[name], name);
});

test("field numbers are etcd's (the wire depends on them alone); names are protobufjs's camelCase, as core/api's", (t) => {
  t.deepEqual(Object.fromEntries(fields('etcdserverpb.ResponseHeader')), { clusterId: 1, memberId: 2, revision: 3, raftTerm: 4 });
  t.deepEqual(Object.fromEntries(fields('mvccpb.KeyValue')), { key: 1, createRevision: 2, modRevision: 3, version: 4, value: 5, lease: 6 });
  t.deepEqual(Object.fromEntries(fields('etcdserverpb.RangeRequest')), {
    key: 1, rangeEnd: 2, limit: 3, revision: 4, sortOrder: 5, sortTarget: 6, serializable: 7, keysOnly: 8, countOnly: 9,
    minModRevision: 10, maxModRevision: 11, minCreateRevision: 12, maxCreateRevision: 13,
  });
  t.is(fields('etcdserverpb.Compare').get('rangeEnd'), 64);
  t.is(fields('etcdserverpb.WatchResponse').get('events'), 11);
  t.is(fields('etcdserverpb.WatchCreateRequest').get('watchId'), 7);
  t.is(fields('etcdserverpb.LeaseGrantRequest').get('TTL'), 1);
  t.is(fields('etcdserverpb.StatusResponse').get('raftAppliedIndex'), 7);
  t.is(fields('etcdserverpb.Member').get('isLearner'), 5);
});
