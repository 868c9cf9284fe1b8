/**
 * core/server: the etcd member — Raft (core/raft), the MVCC store and backend (core/mvcc), the
 * WAL (core/replica's) and etcd's request handling — as one synchronous node for the host loop.
 */
export { defaultEtcdServerConfig, simulatedAttributes, simulatedMemberId, type EtcdServerConfig, type MemberAttributes } from './config.ts';
export { describePeerMessage, describeServerReply, describeServerRequest, inspectEtcdServer } from './describe.ts';
export { EtcdServer, type ServedRead } from './etcdServer.ts';
export { isRaftMessage, type LeaseForward, type LeaseForwardReply, type PeerMessage } from './peerMessage.ts';
export { digestServerReply, digestServerRequest, etcdProtocol, etcdServerConfig } from './protocol.ts';
export { call, isErrorReply, type RequestOf, type ResponseOf, type ServerMethod, type ServerMethods, type ServerReply, type ServerRequest } from './serverRequest.ts';
export { requestIdsFile } from './requestIds.ts';
export { serverVersion } from './maintenanceApi.ts';
