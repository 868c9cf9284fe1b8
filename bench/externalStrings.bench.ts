/**
 * `npm run bench externalStrings`: what a full GC's `clear.external_string_table` phase costs a
 * member per gRPC request served since the last full GC (issue 10's run-2 pauses: 17-19 ms of
 * each long atomic pause). Node's HTTP/2 layer hands every request's header values to JavaScript
 * as V8 external strings (node_http2.cc `ExternalHeader`), which only a full GC frees.
 *
 * One fresh member runs with `--trace-gc-nvp --heapsnapshot-signal=SIGUSR2`. For each step
 * (DETCD_BENCH_EXTERNAL_REQUESTS requests, default 20,000; 64 at a time; puts of 1 KiB values,
 * then serializable ranges of one key, then none), a heap snapshot first collects everything, the
 * requests are sent, and a second snapshot's full GCs are read: the longest
 * `clear.external_string_table` among them (the first one frees the requests' dead strings) and
 * the live external strings the snapshot holds. Figures are printed per 1,000 requests; they are
 * times, so quote them with the load (and under the bench lock).
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdClient } from '../runtime/_test/etcdClient.ts';
import { endpoint, freePorts, initialCluster, type Member, type MemberSpec, startMember, until } from '../runtime/_test/members.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';
import { parseVariants } from './checkPerfGc.bench.ts';
import { summarizeHeapSnapshot } from './heapSnapshotSummary.ts';

const concurrency = 64;

async function collect(member: Member, dir: string): Promise<{ clearMs: number; pauseMs: number; live: string }> {
  const mark = member.output.length;
  member.process.kill('SIGUSR2');
  let last = -1;
  let file = '';
  for (let waited = 0; ; waited += 500) {
    if (waited > 120_000) throw new Error('no heap snapshot after 120 s');
    await sleep(500);
    const files = readdirSync(dir).filter((name) => name.endsWith('.heapsnapshot'));
    if (files.length === 0) continue;
    const size = statSync(join(dir, files[0]!)).size;
    if (size > 0 && size === last) {
      file = join(dir, files[0]!);
      break;
    }
    last = size;
  }
  let live = '';
  summarizeHeapSnapshot(file, (line) => {
    if (line.startsWith('external strings')) live = /: ([0-9]+),/.exec(line)?.[1] ?? '?';
  });
  rmSync(file);
  let clearMs = 0;
  let pauseMs = 0;
  for (const line of member.output.slice(mark).join('').split('\n')) {
    if (!/ gc=mc /.test(line)) continue;
    const clear = Number(/ clear\.external_string_table=([0-9.]+)/.exec(line)?.[1] ?? 0);
    if (clear >= clearMs) {
      clearMs = clear;
      pauseMs = Number(/\bpause=([0-9.]+)/.exec(line)?.[1] ?? 0);
    }
  }
  return { clearMs, pauseMs, live };
}

async function send(count: number, request: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await request(next++);
    }),
  );
}

export async function bench(out: (line: string) => void): Promise<void> {
  const requests = Number(process.env.DETCD_BENCH_EXTERNAL_REQUESTS ?? 20_000);
  const root = scratchFolder('detcd-ext-');
  const snapDir = join(root, 'snap');
  mkdirSync(snapDir);
  const [variant] = parseVariants(process.env.DETCD_BENCH_HEAP_VARIANT ?? 'here=', ['--trace-gc-nvp', '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`]);
  const [clientPort, peerPort] = await freePorts(2);
  const spec: MemberSpec = { name: 'ext1', clientPort: clientPort!, peerPort: peerPort!, dataDir: join(root, 'm1') };
  const member = startMember(spec, initialCluster([spec]), [], variant!.program, variant!.env);
  const client = new EtcdClient(endpoint(spec), 10_000);
  try {
    await until(() => client.range({ key: Buffer.from('warm') }).then(() => true, () => false), 'the member to serve');
    const value = Buffer.alloc(1024, 7);
    const steps: [string, number, (i: number) => Promise<unknown>][] = [
      ['puts', requests, (i) => client.put({ key: Buffer.from(`/etcdctl-check-perf/${String(i).padStart(256, '0')}`), value })],
      ['ranges', requests, () => client.range({ key: Buffer.from('warm'), serializable: true })],
      ['nothing', 0, async () => undefined],
    ];
    for (const [what, count, request] of steps) {
      await collect(member, snapDir);
      await send(count, request);
      const after = await collect(member, snapDir);
      const per = count === 0 ? '' : `, ${((1000 * after.clearMs) / count).toFixed(2)} ms per 1,000 requests`;
      out(`${variant!.name}: ${String(count).padStart(6)} ${what.padEnd(7)} since the last full GC: clear.external_string_table ${after.clearMs.toFixed(1)} ms of a ${after.pauseMs.toFixed(1)} ms pause${per}; live external strings after it ${after.live}`);
    }
  } finally {
    client.close();
    member.process.kill('SIGKILL');
    await member.exited;
    rmSync(root, { recursive: true, force: true });
  }
}
