import { finalize32, hashString32, mix32, mixNumber } from '../base/hash.ts';
import type { NodeProtocol } from '../host/node.ts';
import { etcdCodecWith } from './codec.ts';
import { ValueSlabs } from '../mvcc/index.ts';
import { describePeerMessage, describeServerReply, describeServerRequest, inspectEtcdServer } from './describe.ts';
import { defaultEtcdServerConfig, type EtcdServerConfig } from './config.ts';
import { EtcdServer } from './etcdServer.ts';
import { digestPeerMessage, keyPeerMessage, type PeerMessage } from './peerMessage.ts';
import { isErrorReply, type ServerMethod, type ServerReply, type ServerRequest } from './serverRequest.ts';

const methodNumbers: Readonly<Record<ServerMethod, number>> = {
  Range: 1,
  Put: 2,
  DeleteRange: 3,
  Txn: 4,
  Compact: 5,
  MemberAdd: 6,
  MemberRemove: 7,
  MemberUpdate: 8,
  MemberPromote: 9,
  MemberList: 10,
  MemberReconfigure: 11,
  Status: 12,
  HashKV: 13,
  Alarm: 14,
  MoveLeader: 15,
  Defragment: 16,
  Snapshot: 17,
  LeaseGrant: 18,
  LeaseRevoke: 19,
  LeaseKeepAlive: 20,
  LeaseTimeToLive: 21,
  LeaseLeases: 22,
  Watch: 23,
};

/** A request's digest: its method and the key it names, if any. Cheap: no serialization. */
export function digestServerRequest(request: ServerRequest): number {
  let h = mix32(0xe7c0, methodNumbers[request.method]);
  const key = (request.request as { readonly key?: string }).key;
  if (typeof key === 'string') h = mix32(h, hashString32(key));
  return finalize32(h);
}

/** A reply's digest: its method and either the error's message or the response header's revision. */
export function digestServerReply(reply: ServerReply): number {
  let h = mix32(0xe7c1, methodNumbers[reply.method]);
  if (isErrorReply(reply)) h = mix32(h, hashString32(reply.error.message));
  else h = mixNumber(h, (reply.response as { readonly header: { readonly revision: number } }).header.revision);
  return finalize32(h);
}

/**
 * The etcd member as a protocol, for the simulator and (with its codec) the runtime. The runtime
 * makes one per member and passes `memberValues`: that member's decoders and backends then share
 * one slab allocator, so a member restarted (its db file decoded) or sent a snapshot goes on
 * filling the slab its decoders left part full. Without it (the simulator: one protocol for every
 * member, never decoding) each backend makes its own.
 */
export function etcdProtocol(config: EtcdServerConfig, memberValues?: ValueSlabs): NodeProtocol<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
  return {
    name: 'etcd',
    start: (start) => new EtcdServer(start, config, memberValues),
    digestMessage: digestPeerMessage,
    keyMessage: keyPeerMessage,
    digestRequest: digestServerRequest,
    digestReply: digestServerReply,
    // For people only (event lines, run pages, the determinism report), never on a run's hot path.
    describeMessage: describePeerMessage,
    describeRequest: describeServerRequest,
    describeReply: describeServerReply,
    inspect: inspectEtcdServer,
    // The member's decoders' slabs (the runtime makes a protocol per member; the simulator never decodes).
    codec: etcdCodecWith(memberValues ?? new ValueSlabs()),
  };
}

/** etcd's defaults for a cluster whose first members are `initialCluster`. */
export function etcdServerConfig(initialCluster: readonly number[], overrides: Partial<EtcdServerConfig> = {}): EtcdServerConfig {
  return { ...defaultEtcdServerConfig, ...overrides, initialCluster };
}
