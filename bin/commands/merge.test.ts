import test from 'ava';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../_test/cli.ts';
import type { SweepRecord } from '../sweep/runTask.ts';
import { formatJsonLines, summarizeRecords, sweepSummary, type ScenarioInfo } from '../sweep/summary.ts';
import { scratchFolder } from '../../runtime/_test/scratch.ts';

const scenario: ScenarioInfo = { name: 'etcd-lease-pauses', family: 'etcd', expect: 'violation', promisedCatchRate: 0.95 };

/** One run of the expected-violation scenario, caught or missed. */
function record(seed: number, caught: boolean): SweepRecord {
  const replay = `npx detcd-sim run --seed ${seed} --scenario ${scenario.name}`;
  const violation = caught ? { message: 'lease 7 expired early', timeUs: 1, event: 1 } : null;
  return { report: { seed, scenario: scenario.name, ok: !caught, traceHash: seed.toString(16).padStart(16, '0'), events: 1, simulatedMs: 1, stopReason: caught ? 'violation' : 'live', convergedAfterMs: null, violation, wallMs: 1, stats: {}, replay, version: '0.1.0', commit: 'abc' } };
}

/** A shard's `sweep --json` file: seeds `from`..`from + 99`, every tenth missed. */
function shard(folder: string, name: string, from: number): string {
  const records = Array.from({ length: 100 }, (_, i) => record(from + i, i % 10 !== 0));
  const outcome = summarizeRecords([scenario], records);
  const file = join(folder, `${name}.jsonl`);
  writeFileSync(file, formatJsonLines([scenario], records, sweepSummary([scenario], outcome, records.length, 1, false, { shard: name }, null)));
  return file;
}

test('merge judges an expected violation on the catch rate of all shards together: each shard\'s 90/100 is within chance of a 95% promise, the merged 270/300 is not', async (t) => {
  const folder = scratchFolder('detcd-merge-');
  try {
    const files = [shard(folder, '1', 0), shard(folder, '2', 100), shard(folder, '3', 200)];
    const one = await cli('merge', files[0]!);
    t.is(one.code, 0, one.out);
    t.regex(one.out, /^rate etcd-lease-pauses \(expected violation\): caught in 90\/100 seeds \(90%\), promised ≥ 95%: holds \(below the rate, but 100 seeds cannot tell/m);
    t.regex(one.out, /^miss etcd-lease-pauses: not caught in seeds 0, 10, 20, 30, 40, 50, 60, 70, 80, 90 \(listed, not failed/m);
    const all = await cli('merge', ...files, '--junit', join(folder, 'junit.xml'));
    t.is(all.code, 1, all.out);
    t.regex(all.out, /^FAIL etcd-lease-pauses \(expected violation\): caught in 270\/300 seeds \(90%\), promised ≥ 95%: BROKEN/m);
    t.regex(all.out, /300 runs, 30 failed/);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
