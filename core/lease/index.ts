/**
 * core/lease: etcd's lessor, counted in the member's ticks (see Lessor). Imports base, api, mvcc.
 */
export { forever, Lease, type LeaseCheckpoint } from './lease.ts';
export { Lessor, type LessorOptions } from './lessor.ts';
