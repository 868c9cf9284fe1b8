import type { Compare, KeyValue, RangeRequest, RangeResponse, RequestOp, TxnRequest } from '../../core/api/index.ts';
import { isErrorReply, type ServerReply, type ServerRequest } from '../../core/server/index.ts';
import type { EtcdCall } from '../../sim/etcdClient.ts';

/*
 * The calls the simulated clients make, spelled as etcd's Go client spells them (clientv3's
 * OpGet, OpPut, OpDelete, Compare and Txn builders), and what they read back from the answers.
 */

export function get(key: string, options: Omit<RangeRequest, 'key'> = {}): EtcdCall {
  return { request: { method: 'Range', request: { key, ...options } } };
}

export function put(key: string, value: string, prevKv = false): EtcdCall {
  return { request: { method: 'Put', request: prevKv ? { key, value, prevKv } : { key, value } } };
}

export function del(key: string, rangeEnd?: string, prevKv = false): EtcdCall {
  return { request: { method: 'DeleteRange', request: { key, ...(rangeEnd === undefined ? {} : { rangeEnd }), ...(prevKv ? { prevKv } : {}) } } };
}

export function txn(compare: readonly Compare[], success: readonly RequestOp[], failure: readonly RequestOp[]): EtcdCall {
  return { request: { method: 'Txn', request: { compare, success, failure } satisfies TxnRequest } };
}

export const opGet = (key: string, options: Omit<RangeRequest, 'key'> = {}): RequestOp => ({ requestRange: { key, ...options } });
export const opPut = (key: string, value: string): RequestOp => ({ requestPut: { key, value } });
export const opDelete = (key: string, rangeEnd?: string): RequestOp => ({ requestDeleteRange: rangeEnd === undefined ? { key } : { key, rangeEnd } });

export const valueIs = (key: string, value: string): Compare => ({ key, target: 'VALUE', result: 'EQUAL', value });
export const versionIs = (key: string, result: Compare['result'], version: number): Compare => ({ key, target: 'VERSION', result, version });
export const createRevisionIs = (key: string, createRevision: number): Compare => ({ key, target: 'CREATE', result: 'EQUAL', createRevision });
export const modRevisionIs = (key: string, result: Compare['result'], modRevision: number): Compare => ({ key, target: 'MOD', result, modRevision });

/** A successful answer's response, or null (an error, or no answer). */
export function responseOf(reply: ServerReply | null): unknown {
  return reply === null || isErrorReply(reply) ? null : reply.response;
}

/** The header revision of a successful answer, or null. */
export function revisionOf(reply: ServerReply | null): number | null {
  const response = responseOf(reply) as { header?: { revision: number } } | null;
  return response?.header?.revision ?? null;
}

/** The kvs a successful Range answer or a txn's ranges returned, in order. */
export function keyValuesOf(request: ServerRequest, reply: ServerReply | null): readonly KeyValue[] {
  const response = responseOf(reply);
  if (response === null) return [];
  if (request.method === 'Range') return (response as RangeResponse).kvs;
  if (request.method !== 'Txn') return [];
  const kvs: KeyValue[] = [];
  for (const op of (response as { responses: readonly { responseRange?: RangeResponse }[] }).responses) if (op.responseRange !== undefined) kvs.push(...op.responseRange.kvs);
  return kvs;
}

/** Values unique in the run, so that the checker can tell every write apart: the client's tag and a count. */
export class UniqueValues {
  private count = 0;
  private readonly tag: string;

  constructor(tag: string) {
    this.tag = tag;
  }

  next(): string {
    return `${this.tag}.${++this.count}`;
  }
}

/** One of `items`, drawn. */
export function pick<T>(random: { below(n: number): number }, items: readonly T[]): T {
  return items[random.below(items.length)]!;
}
