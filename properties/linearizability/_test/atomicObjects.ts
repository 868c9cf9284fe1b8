/**
 * Plain, obviously sequential implementations of the three objects the models describe, written
 * independently of the models so that histories generated from them test the models too. Each
 * applies one request atomically and returns the response a client would see.
 */
import type { Random } from '../../../core/base/random.ts';
import type { EtcdKeyValue, EtcdRequest, EtcdResponse } from '../models/etcdTypes.ts';
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

/** etcd's KV semantics over a Map: one revision per changing request, as etcd's mvcc store. */
export function atomicEtcd(keys = 8): AtomicObject<EtcdRequest, EtcdResponse> {
  const store = new Map<string, Stored>();
  let revision = 1;
  let serial = 0;
  const shown = (key: string, stored: Stored): EtcdKeyValue => ({ key, ...stored });
  const inRange = (key: string, start: string, end: string | undefined) =>
    end === undefined ? key === start : key >= start && (end === '\u0000' || key < end);
  const run = (request: EtcdRequest, next: number, changed: { value: boolean }): EtcdResponse => {
    switch (request.kind) {
      case 'range': {
        const found = [...store.keys()].filter((key) => inRange(key, request.key, request.rangeEnd)).sort();
        return { kvs: found.map((key) => shown(key, store.get(key)!)), count: found.length };
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
        const found = [...store.keys()].filter((key) => inRange(key, request.key, request.rangeEnd)).sort();
        const prevKvs = found.map((key) => shown(key, store.get(key)!));
        found.forEach((key) => store.delete(key));
        if (found.length > 0) changed.value = true;
        return { deleted: found.length, prevKvs };
      }
      case 'txn': {
        const succeeded = request.compare.every((compare) => {
          const stored = store.get(compare.key);
          if (compare.target === 'value' && stored === undefined) return false;
          const actual = compare.target === 'value' ? stored!.value : (stored?.[compare.target === 'create' ? 'createRevision' : compare.target === 'mod' ? 'modRevision' : 'version'] ?? 0);
          return compare.result === '=' ? actual === compare.operand : compare.result === '!=' ? actual !== compare.operand : compare.result === '<' ? actual < compare.operand : actual > compare.operand;
        });
        const responses = (succeeded ? request.success : request.failure).map((inner) => run(inner, next, changed));
        return { succeeded, responses };
      }
      case 'compact':
        throw new Error('the reference store does not compact');
    }
  };
  return {
    apply(request) {
      const changed = { value: false };
      const response = run(request, revision + 1, changed);
      if (changed.value) revision++;
      return { ...response, revision };
    },
    randomInput(random) {
      const key = `/k/${random.below(keys)}`;
      const choice = random.below(20);
      if (choice < 7) return { kind: 'put', key, value: `v${serial++}` };
      if (choice < 13) return { kind: 'range', key };
      if (choice < 14) return { kind: 'range', key: '/k/', rangeEnd: '/k0' };
      if (choice < 15) return { kind: 'delete', key };
      const operand = random.below(4);
      return {
        kind: 'txn',
        compare: [{ key, target: random.below(2) === 0 ? 'version' : 'mod', result: random.below(2) === 0 ? '=' : '>', operand }],
        success: [{ kind: 'put', key, value: `v${serial++}` }],
        failure: [{ kind: 'range', key }],
      };
    },
  };
}
