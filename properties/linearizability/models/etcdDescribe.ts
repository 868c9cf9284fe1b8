/** How etcd requests, responses and the keys they touch read in witnesses and the HTML view. */
import type { EtcdState } from './etcdState.ts';
import { rangeHigh, rangeToEnd, type EtcdCompare, type EtcdKeyValue, type EtcdRequest, type EtcdResponse } from './etcdTypes.ts';
import { mapForRange } from './persistentSortedMap.ts';

/** `put("a", "1") → revision 5`; `?` for an unknown outcome. */
export function describeEtcdRequest(request: EtcdRequest, response: EtcdResponse | undefined): string {
  const result = response === undefined ? '?' : describeResponse(request, response);
  return `${describeRequest(request)} → ${result}`;
}

function describeRequest(request: EtcdRequest): string {
  switch (request.kind) {
    case 'range': {
      const options = [
        request.limit ? `limit ${request.limit}` : '',
        request.revision ? `at revision ${request.revision}` : '',
        request.keysOnly === true ? 'keys only' : '',
        request.countOnly === true ? 'count only' : '',
        request.serializable === true ? 'serializable' : '',
      ].filter(Boolean);
      return `range(${describeKeys(request.key, request.rangeEnd)}${options.map((option) => `, ${option}`).join('')})`;
    }
    case 'put':
      return `put(${JSON.stringify(request.key)}, ${JSON.stringify(request.value)}${request.lease ? `, lease ${request.lease}` : ''})`;
    case 'delete':
      return `delete(${describeKeys(request.key, request.rangeEnd)})`;
    case 'txn': {
      const branch = (requests: readonly EtcdRequest[]) => requests.map(describeRequest).join('; ') || 'nothing';
      return `txn(if ${request.compare.map(describeCompare).join(' and ') || 'true'} then ${branch(request.success)} else ${branch(request.failure)})`;
    }
    case 'compact':
      return `compact(${request.revision})`;
    case 'unobservedWrite':
      return 'a write nothing observes';
    case 'leaseGrant':
    case 'leaseRevoke':
      return `${request.kind}(${request.lease})`;
  }
}

function describeResponse(request: EtcdRequest, response: EtcdResponse): string {
  if (response.error !== undefined) return `error ${JSON.stringify(response.error.message)} (code ${response.error.code})`;
  const parts: string[] = [];
  if (request.kind === 'range' && response.kvs !== undefined) parts.push(`[${response.kvs.map(describeKeyValue).join(', ')}]`);
  if (response.count !== undefined && request.kind === 'range') parts.push(`count ${response.count}`);
  if (response.deleted !== undefined) parts.push(`deleted ${response.deleted}`);
  if (response.prevKv !== undefined) parts.push(`prev ${response.prevKv === null ? 'absent' : describeKeyValue(response.prevKv)}`);
  if (response.succeeded !== undefined) parts.push(response.succeeded ? 'succeeded' : 'failed');
  if (request.kind === 'txn' && response.responses !== undefined && response.succeeded !== undefined) {
    const branch = response.succeeded ? request.success : request.failure;
    const inner = response.responses.map((innerResponse, index) => (branch[index] === undefined ? '' : describeResponse(branch[index], innerResponse)));
    if (inner.some((text) => text !== 'ok')) parts.push(`[${inner.join('; ')}]`);
  }
  if (response.revision !== undefined) parts.push(`revision ${response.revision}`);
  return parts.join(', ') || 'ok';
}

function describeKeys(key: string, rangeEnd: string | undefined): string {
  if (rangeEnd === undefined || rangeEnd === '') return JSON.stringify(key);
  return `${JSON.stringify(key)}..${rangeEnd === rangeToEnd ? 'end' : JSON.stringify(rangeEnd)}`;
}

function describeCompare(compare: EtcdCompare): string {
  return `${compare.target}(${describeKeys(compare.key, compare.rangeEnd)}) ${compare.result} ${JSON.stringify(compare.operand)}`;
}

function describeKeyValue(kv: EtcdKeyValue): string {
  const revisions = [kv.createRevision === undefined ? '' : `c${kv.createRevision}`, kv.modRevision === undefined ? '' : `m${kv.modRevision}`, kv.version === undefined ? '' : `v${kv.version}`].filter(Boolean);
  if (kv.lease !== undefined && kv.lease !== 0) revisions.push(`lease ${kv.lease}`);
  return `${JSON.stringify(kv.key)}${kv.value === undefined ? '' : `=${JSON.stringify(kv.value)}`}${revisions.length > 0 ? `@${revisions.join(',')}` : ''}`;
}

/** The keys a request reads or writes in `state` (ranges expanded to the keys present). */
export function keysTouched(request: EtcdRequest, state: EtcdState): string[] {
  const keys = new Set<string>();
  const visit = (inner: EtcdRequest) => {
    switch (inner.kind) {
      case 'txn':
        inner.compare.forEach((compare) => keys.add(compare.key));
        [...inner.success, ...inner.failure].forEach(visit);
        return;
      case 'put':
        keys.add(inner.key);
        return;
      case 'range':
      case 'delete':
        if (inner.rangeEnd === undefined || inner.rangeEnd === '') keys.add(inner.key);
        else mapForRange(state.keys, inner.key, rangeHigh(inner.key, inner.rangeEnd), (key) => keys.add(key).size < 64);
        return;
      default:
        return;
    }
  };
  visit(request);
  return [...keys].sort();
}
