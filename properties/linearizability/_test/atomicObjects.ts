/**
 * Plain, obviously sequential implementations of the three objects the models describe, written
 * independently of the models so that histories generated from them test the models too. Each
 * applies one request atomically and returns the response a client would see.
 */
import type { Random } from '../../../core/base/random.ts';
import type { EtcdCompare, EtcdKeyValue, EtcdRequest, EtcdResponse } from '../models/etcdTypes.ts';
import type { KeyValueInput, KeyValueOutput } from '../models/keyValue.ts';
import type { RegisterInput, RegisterOutput, RegisterValue } from '../models/register.ts';

export interface AtomicObject<Input, Output> {
  apply(input: Input): Output;
  /** A random request that contends with others (few values, few keys). */
  randomInput(random: Random): Input;
}

export function atomicRegister(values = 3): AtomicObject<RegisterInput, RegisterOutput> {
  let current: RegisterValue = null;
  return {
    apply(input) {
      if (input.kind === 'read') return { value: current };
      if (input.kind === 'write') {
        current = input.value;
        return {};
      }
      const succeeded = current === input.expected;
      if (succeeded) current = input.value;
      return { succeeded };
    },
    randomInput(random) {
      const choice = random.below(3);
      if (choice === 0) return { kind: 'read' };
      if (choice === 1) return { kind: 'write', value: random.below(values) };
      return { kind: 'cas', expected: random.below(values), value: random.below(values) };
    },
  };
}

export function atomicKeyValue(keys = 2): AtomicObject<KeyValueInput, KeyValueOutput> {
  const store = new Map<string, string>();
  let serial = 0;
  return {
    apply(input) {
      const current = store.get(input.key) ?? '';
      if (input.kind === 'get') return { value: current };
      store.set(input.key, input.kind === 'put' ? input.value : current + input.value);
      return {};
    },
    randomInput(random) {
      const key = `k${random.below(keys)}`;
      const choice = random.below(3);
      if (choice === 0) return { kind: 'get', key };
      return { kind: choice === 1 ? 'put' : 'append', key, value: `${serial++ % 5}` };
    },
  };
}

interface Stored {
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: number;
}

const compacted = { code: 11, message: 'etcdserver: mvcc: required revision has been compacted' };
const futureRevision = { code: 11, message: 'etcdserver: mvcc: required revision is a future revision' };

/**
 * etcd's KV semantics over Maps, written plainly from etcd's documentation: one revision per
 * changing request; a copy of the store kept per revision for historical reads; compaction and
 * its errors; serializable reads answered from a random earlier revision, as a lagging member
 * would.
 */
/**
 * `leases`: lease requests and puts with leases (default true); `values`: draw values from this
 * many (default: every value unique); `unreadKeys`: a quarter of the requests also write (or
 * delete) keys /u/0… that only the rare whole-keyspace range reads; `serializableReads`: most
 * single-key ranges are serializable, a third of them at an earlier revision; `compactions`: a
 * quarter of the requests compact, to revisions spread over the whole history (see below);
 * `deletes`: a third of the requests delete a key or a range, or list the whole range (a complete
 * listing shows which keys are absent), or put with the previous kv.
 */
export function atomicEtcd(
  keys = 8,
  options: { readonly leases?: boolean; readonly values?: number; readonly unreadKeys?: number; readonly serializableReads?: boolean; readonly compactions?: boolean; readonly heldCompares?: boolean; readonly deletes?: boolean } = {},
): AtomicObject<EtcdRequest, EtcdResponse> {
  const leases = options.leases ?? true;
  let store = new Map<string, Stored>();
  const snapshots = new Map<number, Map<string, Stored>>([[1, new Map()]]);
  let revision = 1;
  let compactRevision = -1;
  let serial = 0;
  let stale = 0;
  // Per key, the value last drawn for a put of it (`heldCompares`).
  const lastPut = new Map<string, string>();
  // Requests drawn so far. `simulateHistory` draws every request before applying any, so
  // `revision` is still 1 while it draws: revisions meant to follow the history come from this.
  let drawn = 0;
  // The revision the store has about reached by the request being drawn: about half the requests
  // write. Reads at a revision and compactions draw below it (and a little past it), so they ask
  // the whole history's revisions, not only the first two.
  const reached = () => Math.max(revision, Math.ceil(drawn / 2) + 1);
  const shown = (key: string, stored: Stored, keysOnly = false): EtcdKeyValue => ({ key, ...stored, ...(keysOnly ? { value: '' } : {}) });
  const inRange = (key: string, start: string, end: string | undefined) =>
    end === undefined || end === '' ? key === start : key >= start && (end === '\u0000' || key < end);
  const keysIn = (from: Map<string, Stored>, start: string, end: string | undefined) => [...from.keys()].filter((key) => inRange(key, start, end)).sort();
  const range = (request: Extract<EtcdRequest, { kind: 'range' }>, from: Map<string, Stored>): EtcdResponse => {
    const found = keysIn(from, request.key, request.rangeEnd);
    const limit = request.limit !== undefined && request.limit > 0 ? request.limit : found.length;
    const kvs = request.countOnly === true ? [] : found.slice(0, limit).map((key) => shown(key, from.get(key)!, request.keysOnly === true));
    return { kvs, count: found.length, more: request.countOnly !== true && found.length > limit };
  };
  const holds = (compare: EtcdCompare, stored: Stored | undefined): boolean => {
    if (compare.target === 'value' && stored === undefined) return false;
    const field = { value: 'value', version: 'version', create: 'createRevision', mod: 'modRevision', lease: 'lease' } as const;
    const actual = stored === undefined ? 0 : stored[field[compare.target]];
    const operand = compare.operand;
    return compare.result === '=' ? actual === operand : compare.result === '!=' ? actual !== operand : compare.result === '<' ? actual < operand : actual > operand;
  };
  const compareRange = (compare: EtcdCompare): boolean => {
    const found = keysIn(store, compare.key, compare.rangeEnd);
    return found.length === 0 ? holds(compare, undefined) : found.every((key) => holds(compare, store.get(key)));
  };
  class Failed extends Error {
    constructor(readonly response: EtcdResponse) {
      super('failed');
    }
  }
  const run = (request: EtcdRequest, next: number, changed: { value: boolean }): EtcdResponse => {
    switch (request.kind) {
      case 'range': {
        const current = changed.value ? next : revision;
        const at = request.revision ?? 0;
        if (at > current) throw new Failed({ error: futureRevision });
        if (at > 0 && at < compactRevision) throw new Failed({ error: compacted });
        return range(request, at > 0 && at < current ? snapshots.get(at)! : store);
      }
      case 'put': {
        const previous = store.get(request.key);
        store.set(request.key, {
          value: request.value,
          createRevision: previous?.createRevision ?? next,
          modRevision: next,
          version: (previous?.version ?? 0) + 1,
          lease: request.lease ?? 0,
        });
        changed.value = true;
        return { prevKv: previous === undefined ? null : shown(request.key, previous) };
      }
      case 'delete': {
        const found = keysIn(store, request.key, request.rangeEnd);
        const prevKvs = found.map((key) => shown(key, store.get(key)!));
        found.forEach((key) => store.delete(key));
        if (found.length > 0) changed.value = true;
        return { deleted: found.length, prevKvs };
      }
      case 'txn': {
        const succeeded = request.compare.every(compareRange);
        const responses = (succeeded ? request.success : request.failure).map((inner) => run(inner, next, changed));
        return { succeeded, responses };
      }
      case 'leaseGrant':
        return {};
      case 'leaseRevoke': {
        const attached = [...store.keys()].filter((key) => store.get(key)!.lease === request.lease);
        attached.forEach((key) => store.delete(key));
        if (attached.length > 0) changed.value = true;
        return {};
      }
      case 'compact':
        if (request.revision <= compactRevision) throw new Failed({ error: compacted });
        if (request.revision > revision) throw new Failed({ error: futureRevision });
        compactRevision = request.revision;
        return {};
      case 'unobservedWrite':
        throw new Error("a client never sends the checker's stand-in");
    }
  };
  return {
    apply(request) {
      if (request.kind === 'range' && request.serializable === true) {
        // A member that lags a few revisions behind answers from its own (older) state.
        const served = Math.max(1, revision - (stale++ % 3));
        const at = request.revision ?? 0;
        if (at > served) return { error: futureRevision };
        if (at > 0 && at < compactRevision) return { error: compacted };
        return { ...range(request, snapshots.get(at > 0 ? at : served)!), revision: served };
      }
      const before = new Map(store);
      const changed = { value: false };
      try {
        const response = run(request, revision + 1, changed);
        if (changed.value) snapshots.set(++revision, new Map(store));
        return { ...response, revision };
      } catch (error) {
        if (!(error instanceof Failed)) throw error;
        store = before;
        return error.response;
      }
    },
    randomInput(random) {
      const value = (from: Random) => (options.values === undefined ? `v${serial++}` : `v${from.below(options.values)}`);
      const key = `/k/${random.below(keys)}`;
      drawn++;
      if (options.compactions === true && random.below(4) === 0) {
        // About half the requests write, so the store will be near drawn / 2: anywhere up to a
        // little past that, some compactions past the store, many at or below the last one.
        return { kind: 'compact', revision: 1 + random.below(Math.ceil(drawn / 2) + 2) };
      }
      const unread = options.unreadKeys;
      if (unread !== undefined && random.below(4) === 0) {
        const hidden = `/u/${random.below(unread)}`;
        const kind = random.below(4);
        if (kind === 0) return { kind: 'delete', key: hidden };
        if (kind === 1) return { kind: 'txn', compare: [{ key, target: 'version', result: '>', operand: random.below(3) }], success: [{ kind: 'put', key: hidden, value: value(random) }], failure: [{ kind: 'range', key }] };
        return { kind: 'put', key: hidden, value: value(random) };
      }
      if (options.heldCompares === true && random.below(3) === 0) {
        // A compare that names the key's last value drawn, or a mod revision it may have had.
        const last = lastPut.get(key);
        const compare: EtcdCompare = last !== undefined && random.below(2) === 0 ? { key, target: 'value', result: '=', operand: last } : { key, target: 'mod', result: '=', operand: 1 + random.below(reached()) };
        const written = value(random);
        lastPut.set(key, written);
        return { kind: 'txn', compare: [compare], success: [{ kind: 'put', key, value: written }], failure: [{ kind: 'range', key }] };
      }
      if (options.deletes === true && random.below(3) === 0) {
        const kind = random.below(6);
        if (kind === 0) return { kind: 'delete', key };
        if (kind === 1) return { kind: 'delete', key: `/k/${random.below(keys)}`, rangeEnd: `/k/${random.below(keys + 1)}` };
        if (kind === 2) return { kind: 'range', key: '/k/', rangeEnd: '/k0' };
        if (kind === 3) return { kind: 'range', key: '/k/', rangeEnd: '/k0', countOnly: true };
        if (kind === 4) return { kind: 'txn', compare: [{ key, target: 'version', result: '=', operand: 0 }], success: [{ kind: 'put', key, value: value(random) }], failure: [{ kind: 'delete', key }] };
        return { kind: 'put', key, value: value(random), prevKv: true };
      }
      const choice = random.below(30);
      if (choice < 8) {
        const written = value(random);
        lastPut.set(key, written);
        return { kind: 'put', key, value: written, ...(leases && random.below(4) === 0 ? { lease: 1 + random.below(2) } : {}) };
      }
      if (choice < 13) {
        if (options.serializableReads !== true || random.below(4) === 0) return { kind: 'range', key };
        return { kind: 'range', key, serializable: true, ...(random.below(3) === 0 ? { revision: 1 + random.below(reached()) } : {}) };
      }
      if (choice < 14) return { kind: 'range', key: '/k/', rangeEnd: '/k0', ...(random.below(2) === 0 ? { limit: 1 + random.below(2) } : {}) };
      if (choice < 15) return { kind: 'range', key: '', rangeEnd: '\u0000', ...(random.below(2) === 0 ? { keysOnly: true } : { countOnly: true }) };
      if (choice < 17) return { kind: 'range', key: '/k/', rangeEnd: '\u0000', revision: 1 + random.below(reached() + 1) };
      if (choice < 19) return { kind: 'range', key, serializable: true };
      if (choice < 20) return { kind: 'delete', key };
      if (choice < 21) return { kind: 'delete', key: '/k/', rangeEnd: '/k0' };
      if (choice < 23) return { kind: 'compact', revision: random.below(reached() + 2) };
      if (choice < 24) return leases ? { kind: random.below(2) === 0 ? 'leaseGrant' : 'leaseRevoke', lease: 1 + random.below(2) } : { kind: 'delete', key };
      const operand = random.below(4);
      const targets = ['version', 'mod', 'create', 'lease'] as const;
      const compare: EtcdCompare = random.below(3) === 0
        ? { key: '/k/', rangeEnd: '/k0', target: targets[random.below(4)]!, result: random.below(2) === 0 ? '>' : '<', operand }
        : { key, target: targets[random.below(4)]!, result: random.below(2) === 0 ? '=' : '>', operand };
      return {
        kind: 'txn',
        compare: [compare],
        success: [{ kind: 'put', key, value: value(random) }],
        failure: [{ kind: 'range', key }, ...(random.below(3) === 0 ? [{ kind: 'put' as const, key: `/k/${random.below(keys)}`, value: value(random) }] : [])],
      };
    },
  };
}
