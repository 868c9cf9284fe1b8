import { createHash } from 'node:crypto';

/**
 * Member and cluster ids as etcd derives them (membership.NewMember, RaftCluster.genID): a
 * member's id is the first 8 bytes of SHA-1 over its sorted peer URLs and the cluster token; the
 * cluster's id the first 8 bytes of SHA-1 over the sorted member ids (8 bytes each, big-endian).
 *
 * Known deviation: detcd's ids are JS numbers, so the top 11 bits are cleared to keep them exact
 * (below 2^53). The lower 53 bits are etcd's.
 */
const safeMask = (1n << 53n) - 1n;

function first8(bytes: Buffer): number {
  return Number(bytes.readBigUInt64BE(0) & safeMask);
}

export function memberId(peerUrls: readonly string[], token: string): number {
  const hash = createHash('sha1');
  for (const url of [...peerUrls].sort()) hash.update(url);
  hash.update(token);
  const id = first8(hash.digest());
  return id === 0 ? 1 : id; // Raft reserves 0 for "none"
}

export function clusterId(memberIds: readonly number[]): number {
  const bytes = Buffer.alloc(8 * memberIds.length);
  [...memberIds].sort((a, b) => a - b).forEach((id, i) => bytes.writeBigUInt64BE(BigInt(id), 8 * i));
  return first8(createHash('sha1').update(bytes).digest());
}

const hexIds = new Map<number, string>();

/** etcd prints ids in lower-case hex without padding (types.ID.String). Cached: metrics label every message with one. */
export function hexId(id: number): string {
  let hex = hexIds.get(id);
  if (hex === undefined) {
    hex = id.toString(16);
    if (hexIds.size < 1_024) hexIds.set(id, hex);
  }
  return hex;
}
