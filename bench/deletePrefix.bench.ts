/**
 * `npm run bench deletePrefix`: `etcdctl check perf`'s cleanup on a real three-member cluster
 * (issue 10). It puts DETCD_BENCH_DEL_KEYS keys (default 60,000; 256-byte values, check perf's)
 * under one prefix, then deletes the prefix in one DeleteRange, and prints how long that request
 * took, the longest event-loop gap each member logged meanwhile (the members run with
 * DETCD_LOOP_STALL_WATCH_MS=5, which names every gap over 100 ms), and whether the leader and
 * its term survived (a member whose loop stops longer than the election timeout loses it).
 *
 * DETCD_BENCH_DEL_NODE: node options for the members, separated by spaces (e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`: the members then stop with SIGTERM, which writes it).
 * DETCD_BENCH_DEL_ROUNDS: rounds of put-then-delete on the same cluster (default 1): check perf's
 * keys are new each run, so the index keeps every deleted key until a compaction.
 * DETCD_BENCH_DEL_CHECKOUT: run that checkout's members (e.g. /work/wt-base) instead of this one's.
 * DETCD_BENCH_DEL_PUTS=1: also put one small key at a time on the leader, every 10 ms, from right after
 * the delete is sent until the end, and print the slowest put (before and after the delete's
 * answer: a put's sync may wait for the delete's commit record, which is framed in turns).
 * DETCD_BENCH_DEL_LINES=1: also print each member's slow-turn lines in the delete's window ("apply
 * entries took too long", "writing a Ready took too long": what held the turn).
 *
 * While the delete runs, a probe asks each member for one key (serializable: from its own state)
 * every 10 ms, one call at a time, and prints the slowest answer (a member's longest stretch
 * without serving: its longest loop turn, about) and when the member's revision reached the
 * delete's (it finished applying it). The members' own environment passes through (e.g.
 * DETCD_APPLY_SLICE_KEYS=0 applies the delete in one turn).
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EtcdClient } from '../runtime/_test/etcdClient.ts';
import { isLeader, until } from '../runtime/_test/members.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';
import { startCluster } from './checkPerfGc.bench.ts';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = '/etcdctl-check-perf/';
const inFlight = 200;

/** The loop turns (ms) a member logged as "apply entries took too long" (over 100 ms) in `text`. */
export function slowAppliesMs(text: string): number[] {
  return [...text.matchAll(/apply entries took too long \[([0-9.]+)(ms|s) /g)].map((match) => Number(match[1]) * (match[2] === 's' ? 1000 : 1));
}

/** The gaps (ms) a member's LoopStallWatch reported in `text`. */
export function loopGapsMs(text: string): number[] {
  return [...text.matchAll(/event loop stalled ([0-9]+) ms/g)].map((match) => Number(match[1]));
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the probe saw of one member: its slowest serializable read, and when its revision first reached `revision`. */
interface ProbeResult {
  slowestMs: number;
  reachedMs: number | null;
  calls: number;
}

/** Serializable single-key reads of one member, one at a time, every `everyMs`, until `stop()`; times from `startedMs`. */
function probe(client: EtcdClient, startedMs: number, everyMs: number, target: number) {
  const result: ProbeResult = { slowestMs: 0, reachedMs: null, calls: 0 };
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const sent = performance.now();
      const reply = await client.range({ key: Buffer.from('probe'), serializable: true }).catch(() => null);
      const now = performance.now();
      result.calls++;
      result.slowestMs = Math.max(result.slowestMs, now - sent);
      const revision = Number((reply?.header as { revision?: unknown } | undefined)?.revision ?? 0);
      if (result.reachedMs === null && revision >= target) result.reachedMs = now - startedMs;
      await pause(everyMs);
    }
  })();
  return {
    result,
    async stop(): Promise<ProbeResult> {
      stopped = true;
      await done;
      return result;
    },
  };
}

/** Puts of one small key, one at a time, every `everyMs`, until `stop(answeredMs)`; the slowest sent before and after `answeredMs` (from `startedMs`). */
function putProbe(client: EtcdClient, startedMs: number, everyMs: number) {
  const sent: { atMs: number; tookMs: number }[] = [];
  let failed = 0;
  let stopped = false;
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      const atMs = performance.now();
      const ok = await client.put({ key: Buffer.from('put-probe'), value: Buffer.from(String(i)) }).then(() => true, () => false);
      if (!ok) failed++;
      sent.push({ atMs: atMs - startedMs, tookMs: performance.now() - atMs });
      await pause(everyMs);
    }
  })();
  return {
    async stop(answeredMs: number) {
      stopped = true;
      await done;
      const slowest = (list: typeof sent) => Math.max(0, ...list.map((put) => put.tookMs));
      return { calls: sent.length, failed, over100: sent.filter((put) => put.tookMs > 100).length, slowestBeforeMs: slowest(sent.filter((put) => put.atMs < answeredMs)), slowestAfterMs: slowest(sent.filter((put) => put.atMs >= answeredMs)) };
    },
  };
}

export async function bench(out: (line: string) => void): Promise<void> {
  const keyCount = Number(process.env.DETCD_BENCH_DEL_KEYS ?? 60_000);
  const rounds = Number(process.env.DETCD_BENCH_DEL_ROUNDS ?? 1);
  const nodeOptions = (process.env.DETCD_BENCH_DEL_NODE ?? '').split(/\s+/).filter((word) => word !== '');
  const root = scratchFolder('detcd-del-');
  const checkout = process.env.DETCD_BENCH_DEL_CHECKOUT || here;
  const program = [process.execPath, ...nodeOptions, join(checkout, 'bin', 'detcd')];
  out(`deletePrefix: members of ${checkout}`);
  const cluster = await startCluster({ name: 'del', program, env: { DETCD_LOOP_STALL_WATCH_MS: '5' } }, root, 0);
  const { specs, members, clients } = cluster;
  try {
    const value = Buffer.alloc(256, 'v');
    for (let round = 1; round <= rounds; round++) {
      let leaderIndex = -1;
      await until(async () => {
        for (const [i, spec] of specs.entries()) if (await isLeader(spec)) leaderIndex = i;
        return leaderIndex >= 0;
      }, 'a leader', 30_000);
      const leader = clients[leaderIndex]!;
      let next = 0;
      const putStarted = performance.now();
      // A put that fails (a leader lost under a loaded machine's stalls) is sent again, up to twice.
      const put = async (key: Buffer, attempt = 0): Promise<unknown> => leader.put({ key, value }).catch((error: unknown) => (attempt < 2 ? put(key, attempt + 1) : Promise.reject(error)));
      await Promise.all(Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < keyCount; i = next++) await put(Buffer.from(`${prefix}${round}-${String(i).padStart(8, '0')}`));
      }));
      const putMs = performance.now() - putStarted;
      out(`deletePrefix round ${round}: put ${keyCount} keys in ${(putMs / 1000).toFixed(1)} s (${Math.round(keyCount / (putMs / 1000))}/s, ${inFlight} in flight)`);
      const statusBefore = await leader.status();
      const termBefore = Number(statusBefore.raftTerm);
      // Nothing else writes: the delete's revision is the next one.
      const deleteRevision = Number((statusBefore.header as { revision?: unknown } | undefined)?.revision) + 1;
      await pause(2_000);
      const marks = members.map((member) => member.output.length);
      const started = performance.now();
      const probes = clients.map((client) => probe(client, started, 10, deleteRevision));
      const deleting = leader.deleteRange({ key: Buffer.from(prefix), rangeEnd: Buffer.from('/etcdctl-check-perf0') });
      // Sent after the delete on the same connection: proposed after it (its revision stays the next one).
      const puts = process.env.DETCD_BENCH_DEL_PUTS === '1' ? putProbe(leader, started, 10) : null;
      const response = await deleting;
      const deleteMs = performance.now() - started;
      await pause(3_000);
      const probed = await Promise.all(probes.map((each) => each.stop()));
      const putsSeen = await puts?.stop(deleteMs);
      const gaps = members.map((member, i) => loopGapsMs(member.output.slice(marks[i]).join('')));
      const applies = members.map((member, i) => slowAppliesMs(member.output.slice(marks[i]).join('')));
      // The member's own status says whom it follows: no metrics scrape (which a loaded machine can
      // time out, printing "lost" for a leader that never was).
      const statusAfter = await leader.status();
      const termAfter = Number(statusAfter.raftTerm);
      const stillLeads = String(statusAfter.leader) === String((statusAfter.header as { memberId?: unknown } | undefined)?.memberId);
      out(`deletePrefix round ${round}: DeleteRange of ${String(response.deleted)} keys answered in ${deleteMs.toFixed(0)} ms`);
      if (putsSeen !== undefined) out(`deletePrefix   put probe (leader): ${putsSeen.calls} puts; slowest sent before the answer ${putsSeen.slowestBeforeMs.toFixed(0)} ms, after it ${putsSeen.slowestAfterMs.toFixed(0)} ms; over 100 ms: ${putsSeen.over100} (${putsSeen.failed} failed)`);
      for (const [i, spec] of specs.entries()) {
        const mine = gaps[i]!;
        const seen = probed[i]!;
        out(`deletePrefix   ${spec.name}${i === leaderIndex ? ' (leader)' : ''}: probe's slowest read ${seen.slowestMs.toFixed(0)} ms (${seen.calls} reads), revision reached the delete's after ${seen.reachedMs === null ? 'never (3 s)' : `${seen.reachedMs.toFixed(0)} ms`}`);
        out(`deletePrefix   ${spec.name}${i === leaderIndex ? ' (leader)' : ''}: longest loop gap ${mine.length === 0 ? 'under 100' : Math.max(...mine)} ms; gaps over 100 ms: ${mine.length === 0 ? 'none' : mine.join(', ')}; turns logged as "apply entries took too long": ${applies[i]!.length === 0 ? 'none' : `${applies[i]!.map((ms) => ms.toFixed(0)).join(', ')} ms`}`);
      }
      if (process.env.DETCD_BENCH_DEL_LINES === '1') {
        for (const [i, member] of members.entries()) {
          for (const line of member.output.slice(marks[i]).join('').split('\n')) {
            const slow = /(apply entries|writing a Ready|syncing a Ready) took too long \[[^\]]*\]|appended a large commit[^"]*|applied an entry in turns[^"]*|request "DeleteRange.*? took too long \([^)]*\)/.exec(line);
            if (slow !== null) out(`deletePrefix   ${specs[i]!.name}: ${slow[0]}`);
          }
        }
      }
      out(`deletePrefix round ${round}: the leader ${stillLeads && termAfter === termBefore ? 'survived' : `was lost (term ${termBefore} -> ${termAfter})`}`);
    }
  } finally {
    for (const client of clients) client.close();
    const graceful = nodeOptions.some((option) => option.startsWith('--cpu-prof'));
    for (const member of members) member.process.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    if (graceful) await Promise.all(members.map((member) => member.exited));
    rmSync(root, { recursive: true, force: true });
  }
}
