/**
 * core/api: etcd's v3 KV, Cluster and Maintenance messages, errors and API-edge checks, shared by
 * mvcc, lease, watch, the server and the gRPC runtime. Imports core/base only.
 */
export * from './bytes.ts';
export * from './cluster.ts';
export * from './errors.ts';
export * from './kv.ts';
export * from './lease.ts';
export * from './maintenance.ts';
export * from './rpc.ts';
export * from './validate.ts';
