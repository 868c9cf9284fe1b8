import { finalize32, mix32, mixNumber } from '../base/hash.ts';
import type { NodeProtocol, NodeStatus } from '../host/node.ts';
import { describeConfChange, describeConfState, describeMessage, digestMessage, keyMessage, type Message } from '../raft/index.ts';
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

/** Entries shown per message in an event line; the rest are counted. */
const entriesShownMax = 3;

/** etcd-io/raft's one-line message, with long entry lists cut to their first few. */
export function describeLogMessage(message: Message): string {
  if (message.entries.length <= entriesShownMax) return describeMessage(message);
  const shown = describeMessage({ ...message, entries: message.entries.slice(0, entriesShownMax) });
  const more = message.entries.length - entriesShownMax;
  return shown.endsWith(']') ? `${shown.slice(0, -1)}, … ${more} more]` : `${shown} (+${more} entries)`;
}

export function describeLogRequest(request: LogRequest): string {
  switch (request.kind) {
    case 'append':
      return `append ${request.value}`;
    case 'read':
      return 'read';
    case 'conf-change':
      return `conf-change ${describeConfChange(request.change)}`;
    case 'transfer-leader':
      return `transfer-leader to ${request.to}`;
  }
}

export function describeLogReply(reply: LogReply): string {
  switch (reply.kind) {
    case 'appended':
      return `appended at index ${reply.index}`;
    case 'read':
      return `read at index ${reply.index}: ${reply.length} values`;
    case 'conf-changed':
      return `conf-changed at index ${reply.index}: ${describeConfState(reply.confState)}`;
    case 'transfer-started':
      return 'transfer-started';
    case 'error':
      return `error ${reply.reason}`;
  }
}

/** Role, term, commit and applied index, and the configuration, as the replica sees them. */
export function inspectLogReplica(replica: LogReplica): NodeStatus {
  return {
    role: replica.softState.role,
    term: replica.hardState.term,
    commit: replica.hardState.commit,
    applied: replica.appliedIndex,
    config: describeConfState(replica.confState),
  };
}

/** The replicated-log protocol, for the simulator and the runtime (which uses its codec). */
export function logProtocol(config: LogReplicaConfig): NodeProtocol<Message, LogRequest, LogReply, LogReplica> {
  return {
    name: 'raft-log',
    start: (start) => new LogReplica(start, config),
    digestMessage,
    keyMessage,
    digestRequest: digestLogRequest,
    digestReply: digestLogReply,
    describeMessage: describeLogMessage,
    describeRequest: describeLogRequest,
    describeReply: describeLogReply,
    inspect: inspectLogReplica,
    codec: logCodec,
  };
}
