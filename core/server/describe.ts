import { fromKey, type KeyValue, type RangeRequest, type RequestOp } from '../api/index.ts';
import { describeConfState, describeMessage } from '../raft/index.ts';
import type { EtcdServer } from './etcdServer.ts';
import { isRaftMessage, type PeerMessage } from './peerMessage.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from './serverRequest.ts';

/*
 * One line per message, call and answer, for people (event lines, run reports, determinism
 * reports): never on a run's hot path. Keys and values are shown quoted and cut short.
 */

const textShownMax = 24;
const kvsShownMax = 3;

function quote(text: string): string {
  const shown = text.length > textShownMax ? `${text.slice(0, textShownMax)}…` : text;
  return JSON.stringify(shown);
}

/** A key range as etcd's forms read: a key, [key, end), every key from one on, everything. */
function describeRange(key: string, rangeEnd: string | undefined): string {
  if (rangeEnd === undefined || rangeEnd === '') return quote(key);
  if (rangeEnd === fromKey) return key === fromKey ? 'all keys' : `keys from ${quote(key)}`;
  return `[${quote(key)}, ${quote(rangeEnd)})`;
}

function describeRangeRequest(request: RangeRequest): string {
  const options: string[] = [];
  if ((request.revision ?? 0) > 0) options.push(`rev=${request.revision}`);
  if ((request.limit ?? 0) > 0) options.push(`limit=${request.limit}`);
  if (request.countOnly === true) options.push('count-only');
  if (request.keysOnly === true) options.push('keys-only');
  if (request.serializable === true) options.push('serializable');
  return `Range ${describeRange(request.key, request.rangeEnd)}${options.length > 0 ? ` ${options.join(' ')}` : ''}`;
}

function describeOps(ops: readonly RequestOp[] | undefined): string {
  return (ops ?? [])
    .map((op) => {
      if (op.requestPut !== undefined) return `put ${quote(op.requestPut.key)}`;
      if (op.requestDeleteRange !== undefined) return `delete ${describeRange(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd)}`;
      if (op.requestRange !== undefined) return `range ${describeRange(op.requestRange.key, op.requestRange.rangeEnd)}`;
      if (op.requestTxn !== undefined) return 'txn';
      return '?';
    })
    .join(', ');
}

export function describeServerRequest(call: ServerRequest): string {
  switch (call.method) {
    case 'Range':
      return describeRangeRequest(call.request);
    case 'Put':
      return `Put ${quote(call.request.key)} = ${quote(call.request.value ?? '')}${(call.request.lease ?? 0) !== 0 ? ` lease ${call.request.lease}` : ''}`;
    case 'DeleteRange':
      return `DeleteRange ${describeRange(call.request.key, call.request.rangeEnd)}`;
    case 'Txn':
      return `Txn if ${(call.request.compare ?? []).map((compare) => `${compare.target.toLowerCase()}(${quote(compare.key)}) ${compare.result}`).join(' and ') || 'true'} then [${describeOps(call.request.success)}] else [${describeOps(call.request.failure)}]`;
    case 'Compact':
      return `Compact rev=${call.request.revision}${call.request.physical === true ? ' physical' : ''}`;
    case 'MemberAdd':
      return `MemberAdd ${call.request.peerURLs.join(',')}${call.request.isLearner === true ? ' as learner' : ''}`;
    case 'MemberRemove':
    case 'MemberPromote':
      return `${call.method} ${call.request.ID}`;
    case 'MemberUpdate':
      return `MemberUpdate ${call.request.ID} ${call.request.peerURLs.join(',')}`;
    case 'MemberReconfigure': {
      const { add = [], remove = [], promote = [] } = call.request;
      return `MemberReconfigure add [${add.map((member) => member.peerURLs.join(',')).join(' ')}] remove [${remove.join(' ')}] promote [${promote.join(' ')}]`;
    }
    case 'MemberList':
      return `MemberList${call.request.linearizable === true ? ' linearizable' : ''}`;
    case 'HashKV':
      return `HashKV rev=${call.request.revision ?? 0}`;
    case 'Alarm':
      return `Alarm ${call.request.action} ${call.request.alarm ?? 'NONE'} member ${call.request.memberID ?? 0}`;
    case 'MoveLeader':
      return `MoveLeader to ${call.request.targetID}`;
    default:
      return call.method;
  }
}

function describeKeyValues(kvs: readonly KeyValue[]): string {
  const shown = kvs.slice(0, kvsShownMax).map((kv) => `${quote(kv.key)}=${quote(kv.value)}@${kv.modRevision}`);
  return `[${shown.join(', ')}${kvs.length > kvsShownMax ? `, … ${kvs.length - kvsShownMax} more` : ''}]`;
}

export function describeServerReply(reply: ServerReply): string {
  if (isErrorReply(reply)) return `${reply.method} error: ${reply.error.message}`;
  const revision = `rev ${reply.response.header.revision}`;
  switch (reply.method) {
    case 'Range':
      return `Range ok ${revision}: ${reply.response.count} keys ${describeKeyValues(reply.response.kvs)}${reply.response.more ? ' more' : ''}`;
    case 'DeleteRange':
      return `DeleteRange ok ${revision}: ${reply.response.deleted} deleted`;
    case 'Txn':
      return `Txn ok ${revision}: ${reply.response.succeeded ? 'then' : 'else'} branch, ${reply.response.responses.length} responses`;
    case 'HashKV':
      return `HashKV ok ${revision}: ${reply.response.hash} at ${reply.response.hashRevision} (compacted at ${reply.response.compactRevision})`;
    case 'Status':
      return `Status ok ${revision}: leader ${reply.response.leader}, term ${reply.response.raftTerm}, applied ${reply.response.raftAppliedIndex}${reply.response.errors.length > 0 ? `, errors ${reply.response.errors.join('; ')}` : ''}`;
    case 'MemberAdd':
    case 'MemberRemove':
    case 'MemberUpdate':
    case 'MemberPromote':
    case 'MemberList':
    case 'MemberReconfigure':
      return `${reply.method} ok: members ${reply.response.members.map((member) => `${member.ID}${member.isLearner ? '(learner)' : ''}`).join(' ')}`;
    default:
      return `${reply.method} ok ${revision}`;
  }
}

export function describePeerMessage(message: PeerMessage): string {
  if (!isRaftMessage(message)) {
    const what = message.type === 'LeaseForward' ? message.request.method : typeof message.reply === 'string' ? message.reply : 'error' in message.reply ? message.reply.error.message : 'ok';
    return `${message.type} #${message.forwardId} ${message.from}→${message.to}: ${what}`;
  }
  return describeMessage(message);
}

/** The member as a reader of a run should see it (the shape of the harness's NodeStatus). */
export function inspectEtcdServer(server: EtcdServer): { role: string; term: number; commit: number; applied: number; config: string } {
  const role = server.stopped ? 'stopped' : server.softState.role;
  return { role, term: server.hardState.term, commit: server.hardState.commit, applied: server.appliedIndex, config: describeConfState(server.confState) };
}
