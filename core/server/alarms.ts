import type { AlarmMember, AlarmType, PutRequest, TxnRequest } from '../api/index.ts';
import type { NodeId } from '../host/node.ts';
import type { Backend } from '../mvcc/index.ts';

const alarmBucket = 'alarm';

/**
 * The cluster's alarms (etcd's alarm.AlarmStore): which member raised which alarm, kept in the
 * backend's `alarm` bucket and changed only by applying an Alarm request, so every member lists
 * the same alarms at the same index. Immutable: each change makes a new value.
 */
export class Alarms {
  /** Ascending by member, then alarm type. */
  readonly list: readonly AlarmMember[];

  private constructor(list: readonly AlarmMember[]) {
    this.list = Object.freeze([...list].sort((a, b) => a.memberID - b.memberID || a.alarm.localeCompare(b.alarm)));
  }

  static none: Alarms = new Alarms([]);

  static fromBackend(backend: Backend): Alarms {
    return new Alarms((backend.bucket(alarmBucket) as readonly AlarmMember[] | undefined) ?? []);
  }

  save(backend: Backend): void {
    backend.setBucket(alarmBucket, this.list);
  }

  /** The alarms of one type (NONE: every alarm). */
  get(type: AlarmType): readonly AlarmMember[] {
    return type === 'NONE' ? this.list : this.list.filter((alarm) => alarm.alarm === type);
  }

  has(type: AlarmType): boolean {
    return this.list.some((alarm) => alarm.alarm === type);
  }

  /** The alarms with this one raised, and the alarm when it is new (etcd's Activate returns nil for a known one). */
  activate(member: NodeId, type: AlarmType): { readonly alarms: Alarms; readonly added: AlarmMember | null } {
    if (type === 'NONE' || this.list.some((alarm) => alarm.memberID === member && alarm.alarm === type)) return { alarms: this, added: null };
    const added: AlarmMember = Object.freeze({ memberID: member, alarm: type });
    return { alarms: new Alarms([...this.list, added]), added };
  }

  deactivate(member: NodeId, type: AlarmType): { readonly alarms: Alarms; readonly removed: AlarmMember | null } {
    const removed = this.list.find((alarm) => alarm.memberID === member && alarm.alarm === type) ?? null;
    if (removed === null) return { alarms: this, removed: null };
    return { alarms: new Alarms(this.list.filter((alarm) => alarm !== removed)), removed };
  }
}

// etcd's backend quota (etcdserver/quota.go): what a request costs against --quota-backend-bytes.

const kvOverhead = 256;

export function costPut(request: PutRequest): number {
  return kvOverhead + request.key.length + (request.value ?? '').length;
}

/** The larger of the branches' put costs (a txn runs one of them); nested txns' puts do not count, as in etcd. */
export function costTxn(request: TxnRequest): number {
  const branch = (ops: TxnRequest['success']): number => {
    let cost = 0;
    for (const op of ops ?? []) if (op.requestPut !== undefined) cost += costPut(op.requestPut);
    return cost;
  };
  return Math.max(branch(request.success), branch(request.failure));
}

/** etcd's backendQuota.Available: a request that costs nothing always fits; others must stay under the quota. */
export function quotaAvailable(backendSize: number, cost: number, quotaBytes: number): boolean {
  return cost === 0 || backendSize + cost < quotaBytes;
}
