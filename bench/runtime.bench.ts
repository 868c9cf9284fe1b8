/**
 * `npm run bench runtime`: detcd's real host on loopback — three processes running the replicated
 * log (the etcd node is not there yet), driven through the test log API over HTTP/1:
 *
 * - sequential appends to the leader (p50, p99), and appends and linearizable reads with 16 in
 *   flight (per second);
 * - the baseline, measured in the same run on the same file system: one 100-byte append plus
 *   fdatasync. An append costs at least two of them in sequence (the leader's and a follower's
 *   WAL) plus two network hops, so "append p50 / fsync p50" says how far the host is from the disk.
 */
import { open } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, initialCluster, isLeader, type Member, type MemberSpec, readLog, startMember, until } from '../runtime/_test/members.ts';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function fsyncBaseline(dir: string, count: number): Promise<number[]> {
  const handle = await open(join(dir, 'fsync-probe'), 'a');
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    await handle.write(Buffer.alloc(100));
    const started = performance.now();
    await handle.datasync();
    times.push(performance.now() - started);
  }
  await handle.close();
  return times.sort((a, b) => a - b);
}

async function append(port: number, value: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/detcd/log/append`, { method: 'POST', body: JSON.stringify({ value }) });
  if (response.status !== 200) throw new Error(`append answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

async function read(port: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/detcd/log/read`);
  if (response.status !== 200) throw new Error(`read answered ${response.status}`);
  await response.arrayBuffer();
}

/** Runs `operation` with `inFlight` workers for `durationMs`; returns completions per second. */
async function throughput(inFlight: number, durationMs: number, operation: (i: number) => Promise<void>): Promise<number> {
  let done = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() - started < durationMs) {
        await operation(next++);
        done++;
      }
    }),
  );
  return (done * 1000) / (performance.now() - started);
}

export async function bench(out: (line: string) => void): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'detcd-bench-'));
  const ports = await freePorts(6);
  const specs: MemberSpec[] = ['b1', 'b2', 'b3'].map((name, i) => ({ name, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]!, dataDir: join(root, name) }));
  const members: Member[] = specs.map((spec) => startMember(spec, initialCluster(specs), ['--experimental-log-api', '--snapshot-count', '10000']));
  try {
    await until(async () => (await Promise.all(specs.map(readLog))).every((log) => log !== null), 'the cluster', 30_000);
    let leader: MemberSpec | undefined;
    await until(async () => {
      for (const spec of specs) if (await isLeader(spec)) leader = spec;
      return leader !== undefined;
    }, 'a leader');
    const port = leader!.clientPort;
    const fsync = await fsyncBaseline(root, 200);
    for (let i = 0; i < 20; i++) await append(port, i); // warm up
    const sequential: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      await append(port, 1_000 + i);
      sequential.push(performance.now() - started);
    }
    sequential.sort((a, b) => a - b);
    const appendsPerSecond = await throughput(16, 5_000, (i) => append(port, 100_000 + i));
    const readsPerSecond = await throughput(16, 3_000, () => read(specs[(Math.random() * 3) | 0]!.clientPort));
    const fsyncP50 = percentile(fsync, 50);
    out(`baseline: 100-byte append + fdatasync  p50 ${fsyncP50.toFixed(2)} ms  p99 ${percentile(fsync, 99).toFixed(2)} ms`);
    out(`sequential append (leader)             p50 ${percentile(sequential, 50).toFixed(2)} ms  p99 ${percentile(sequential, 99).toFixed(2)} ms  (p50 = ${(percentile(sequential, 50) / fsyncP50).toFixed(1)} × fsync p50)`);
    out(`appends, 16 in flight                  ${appendsPerSecond.toFixed(0)}/s  (${(appendsPerSecond * fsyncP50 / 1000).toFixed(2)} per fsync p50)`);
    out(`linearizable reads, 16 in flight       ${readsPerSecond.toFixed(0)}/s  (${(readsPerSecond * fsyncP50 / 1000).toFixed(2)} per fsync p50)`);
  } finally {
    for (const member of members) member.process.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}
