import { prefixEnd, type KeyValue, type RangeResponse, type TxnResponse } from '../../core/api/index.ts';
import type { Random } from '../../core/base/random.ts';
import type { ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { EtcdCall, EtcdTraffic } from '../../sim/etcdClient.ts';
import { createRevisionIs, del, get, modRevisionIs, opDelete, opGet, opPut, pick, responseOf, txn, UniqueValues } from './requests.ts';

/**
 * Kubernetes' use of etcd (k8s.io/apiserver storage/etcd3, and etcd's robustness traffic
 * `traffic/kubernetes.go`): objects under a prefix, each written only through a precondition —
 * created by a txn comparing create_revision = 0, updated and deleted by a txn comparing the
 * mod_revision the client last read (optimistic concurrency) — and listed in pages: the first
 * page a linearizable range with a limit, the next pages continuing after the last key at the
 * first page's revision, so the whole list is one consistent snapshot. A page that finds its
 * revision compacted restarts the list (the apiserver's "resource version too old").
 */
export class KubernetesTraffic implements EtcdTraffic {
  readonly name = 'kubernetes';
  private readonly prefix: string;
  private readonly names: readonly string[];
  private readonly values: UniqueValues;
  private readonly pageLimit: number;
  /** Each object's mod revision as this client last saw it; null when it saw it absent. */
  private readonly seen = new Map<string, number | null>();
  /** A list in progress: the revision it reads at and the key its next page starts from. */
  private listing: { readonly revision: number; readonly from: string } | null = null;

  constructor(options: { readonly tag: string; readonly prefix: string; readonly objects: number; readonly pageLimit: number }) {
    this.prefix = options.prefix;
    this.names = Array.from({ length: options.objects }, (_, i) => `${options.prefix}pod-${i}`);
    this.values = new UniqueValues(options.tag);
    this.pageLimit = options.pageLimit;
  }

  next(random: Random): EtcdCall {
    const end = prefixEnd(this.prefix);
    if (this.listing !== null) return get(this.listing.from, { rangeEnd: end, limit: this.pageLimit, revision: this.listing.revision });
    const key = pick(random, this.names);
    const roll = random.below(100);
    if (roll < 15) return get(this.prefix, { rangeEnd: end, limit: this.pageLimit });
    if (roll < 40) return get(key);
    const modRevision = this.seen.get(key);
    if (roll < 60 || modRevision === undefined) return txn([createRevisionIs(key, 0)], [opPut(key, this.values.next())], [opGet(key)]);
    if (modRevision === null) return get(key);
    if (roll < 85) return txn([modRevisionIs(key, 'EQUAL', modRevision)], [opPut(key, this.values.next())], [opGet(key)]);
    return txn([modRevisionIs(key, 'EQUAL', modRevision)], [opDelete(key)], [opGet(key)]);
  }

  onComplete(request: ServerRequest, reply: ServerReply | null): void {
    const response = responseOf(reply);
    if (request.method === 'Range') return this.onRange(request.request, response as RangeResponse | null);
    if (request.method !== 'Txn' || response === null) return;
    const result = response as TxnResponse;
    const key = request.request.compare![0]!.key;
    if (!result.succeeded) {
      this.observe(key, result.responses[0]?.responseRange?.kvs ?? []);
      return;
    }
    this.seen.set(key, result.responses[0]?.responseDeleteRange !== undefined ? null : result.header.revision);
  }

  private onRange(request: { readonly key: string; readonly rangeEnd?: string; readonly limit?: number }, response: RangeResponse | null): void {
    const isList = request.rangeEnd !== undefined;
    if (response === null) {
      if (isList) this.listing = null; // compacted, or no answer: start over
      return;
    }
    if (!isList) return this.observe(request.key, response.kvs);
    for (const kv of response.kvs) this.seen.set(kv.key, kv.modRevision);
    const last = response.kvs[response.kvs.length - 1];
    this.listing = response.more && last !== undefined ? { revision: this.listing?.revision ?? response.header.revision, from: `${last.key}\0` } : null;
  }

  private observe(key: string, kvs: readonly KeyValue[]): void {
    this.seen.set(key, kvs[0]?.modRevision ?? null);
  }
}

/**
 * Kubernetes' compactor (k8s.io/apiserver storage/etcd3/compact.go): every interval, a txn on its
 * own key elects one compactor among apiservers (compare the key's version with the one it
 * expects, put the revision it last saw); the winner then compacts at the revision it saw one
 * interval earlier, so what a list started since is never compacted under it.
 */
export class CompactorTraffic implements EtcdTraffic {
  readonly name = 'compactor';
  private readonly key: string;
  private readonly intervalUs: number;
  private readonly physical: boolean;
  /** The compact key's version this compactor expects. */
  private version = 0;
  /** The revision seen one interval ago (0: none yet, as at bootstrap). */
  private previousRevision = 0;
  private compactNext: number | null = null;

  constructor(options: { readonly key: string; readonly intervalUs: number; readonly physical: boolean }) {
    this.key = options.key;
    this.intervalUs = options.intervalUs;
    this.physical = options.physical;
  }

  next(): EtcdCall {
    if (this.compactNext !== null) {
      const revision = this.compactNext;
      this.compactNext = null;
      return { request: { method: 'Compact', request: { revision, physical: this.physical } } };
    }
    return txn([{ key: this.key, target: 'VERSION', result: 'EQUAL', version: this.version }], [opPut(this.key, String(this.previousRevision))], [opGet(this.key)]);
  }

  onComplete(request: ServerRequest, reply: ServerReply | null): void {
    if (request.method !== 'Txn') return;
    const response = responseOf(reply) as TxnResponse | null;
    if (response === null) return;
    if (!response.succeeded) {
      this.version = response.responses[0]?.responseRange?.kvs[0]?.version ?? 0;
      return;
    }
    this.version++;
    if (this.previousRevision > 0) this.compactNext = this.previousRevision;
    this.previousRevision = response.header.revision;
  }

  think(random: Random): number {
    // The compaction follows its election at once; the next election waits an interval.
    return this.compactNext !== null ? 0 : random.between(this.intervalUs / 2, this.intervalUs);
  }
}

/**
 * A compactor at the head of the history (etcd's robustness traffic compacts at the revision it
 * last saw): it puts a key, deletes it, and compacts at the delete's revision — so that the
 * store's latest revision is a tombstone at exactly the compaction revision, the case of etcd
 * #17780 and #18089 — every interval, physically every other time.
 */
export class HeadCompactor implements EtcdTraffic {
  readonly name = 'head-compactor';
  private readonly key: string;
  private readonly intervalUs: number;
  private step: 'put' | 'delete' | 'compact' = 'put';
  private revision = 0;
  private rounds = 0;

  constructor(options: { readonly key: string; readonly intervalUs: number }) {
    this.key = options.key;
    this.intervalUs = options.intervalUs;
  }

  next(): EtcdCall {
    switch (this.step) {
      case 'put':
        return { request: { method: 'Put', request: { key: this.key, value: `head.${this.rounds}` } } };
      case 'delete':
        return del(this.key);
      case 'compact':
        return { request: { method: 'Compact', request: { revision: this.revision, physical: this.rounds % 2 === 0 } } };
    }
  }

  onComplete(request: ServerRequest, reply: ServerReply | null): void {
    const response = responseOf(reply) as { header: { revision: number } } | null;
    if (request.method === 'Put') this.step = response === null ? 'put' : 'delete';
    else if (request.method === 'DeleteRange') {
      this.step = response === null ? 'put' : 'compact';
      if (response !== null) this.revision = response.header.revision;
    } else {
      this.step = 'put';
      this.rounds++;
    }
  }

  think(random: Random): number {
    return this.step === 'put' ? random.between(this.intervalUs / 2, this.intervalUs) : 0;
  }
}
