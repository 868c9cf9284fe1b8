import { finalize32, mix32, mixNumber } from '../base/hash.ts';
import type { NodeProtocol } from '../host/node.ts';
import { digestMessage, type Message } from '../raft/index.ts';
import { logCodec } from './codec.ts';
import { LogReplica, type LogReplicaConfig, type LogReply, type LogRequest } from './logReplica.ts';

/** etcd's defaults in ticks (100 ms heartbeat, 1 s election) and a snapshot every 64 entries. */
export const defaultLogReplicaConfig: Omit<LogReplicaConfig, 'initialVoters'> = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxSizePerMsg: 1024,
  maxInflightMsgs: 64,
  snapshotEveryEntries: 64,
  catchUpEntries: 16,
  pendingRequestsMax: 256,
  requestTicksMax: 100,
};

const requestKinds = { append: 1, read: 2, 'conf-change': 3, 'transfer-leader': 4 } as const;
const replyKinds = { appended: 1, read: 2, 'conf-changed': 3, 'transfer-started': 4, error: 5 } as const;

export function digestLogRequest(request: LogRequest): number {
  let h = mix32(0x10a, requestKinds[request.kind]);
  if (request.kind === 'append') h = mixNumber(h, request.value);
  if (request.kind === 'transfer-leader') h = mix32(h, request.to);
  if (request.kind === 'conf-change') for (const change of request.change.changes) h = mix32(mix32(h, change.type.length), change.nodeId);
  return finalize32(h);
}

export function digestLogReply(reply: LogReply): number {
  let h = mix32(0x10b, replyKinds[reply.kind]);
  if (reply.kind === 'appended' || reply.kind === 'conf-changed') h = mixNumber(h, reply.index);
  if (reply.kind === 'read') h = mix32(mixNumber(mixNumber(h, reply.index), reply.length), reply.digest);
  if (reply.kind === 'error') h = mix32(h, reply.reason.length);
  return finalize32(h);
}

/** The replicated-log protocol, for the simulator and the runtime (which uses its codec). */
export function logProtocol(config: LogReplicaConfig): NodeProtocol<Message, LogRequest, LogReply, LogReplica> {
  return {
    name: 'raft-log',
    start: (start) => new LogReplica(start, config),
    digestMessage,
    digestRequest: digestLogRequest,
    digestReply: digestLogReply,
    codec: logCodec,
  };
}
