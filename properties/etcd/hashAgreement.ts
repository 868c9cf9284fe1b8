import { isEtcdError } from '../../core/api/index.ts';
import { AssertionError } from '../../core/base/assert.ts';
import type { NodeId } from '../../core/host/node.ts';
import type { EtcdServer } from '../../core/server/index.ts';

/**
 * All members' HashKV agree at equal revisions (etcd's corruption check, `HashKV` compared across
 * members): at the lowest revision every running member has reached, members that have compacted
 * to the same revision hash the same keyspace history. Members that applied the same entries in a
 * different way (keys of a txn in another order, a value changed) differ here even when every
 * revision number agrees. A member compacted past that revision has nothing to compare.
 */
export function checkHashesAgree(servers: readonly EtcdServer[], when: string): number {
  if (servers.length < 2) return 0;
  let revision = Infinity;
  for (const server of servers) revision = Math.min(revision, server.state.kv.revision);
  const byCompaction = new Map<number, { readonly hash: number; readonly member: NodeId }>();
  let compared = 0;
  for (const server of servers) {
    const hashed = server.state.kv.hashKV({ revision });
    if (isEtcdError(hashed)) continue;
    const seen = byCompaction.get(hashed.compactRevision);
    compared++;
    if (seen === undefined) byCompaction.set(hashed.compactRevision, { hash: hashed.hash, member: server.id });
    else if (seen.hash !== hashed.hash) {
      throw new AssertionError(
        `members ${seen.member} and ${server.id} disagree on HashKV at revision ${revision} (compacted at ${hashed.compactRevision}): ` +
          `${hex(seen.hash)} vs ${hex(hashed.hash)} (${when})`,
      );
    }
  }
  return compared;
}

function hex(hash: number): string {
  return `0x${(hash >>> 0).toString(16).padStart(8, '0')}`;
}
