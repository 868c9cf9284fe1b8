/**
 * Watches under the simulator (issue 9). Two figures, each beside a baseline measured in the same
 * run:
 *
 * - the watch checks alone: every response the watch clients of etcd-watch's runs received,
 *   judged again by a fresh `WatchChecks` against the run's own ledger of applied revisions, in
 *   watch events checked per wall second; baseline: the same records merely walked (what reading
 *   them costs), so the ratio is what judging adds;
 * - watch-guided history checking on heavy-fault histories (a fault every half second, every
 *   class; no compactor, so one watch on every key can run unbroken): the clients' history checked
 *   as it is, and again after the watches settled the unknown puts (`ObservedWrites`), in wall ms
 *   and model steps; the ratio is the speed-up.
 */
import type { ServerReply, ServerRequest } from '../core/server/index.ts';
import { etcdHistory } from '../properties/etcd/etcdHistory.ts';
import { WatchChecks } from '../properties/watch/watchChecks.ts';
import { checkTypedHistory } from '../properties/linearizability/formats/typedHistory.ts';
import { etcdScenario, etcdScenarios } from '../scenarios/etcd.ts';
import type { WatchRun } from '../scenarios/etcd/watchers.ts';
import type { HistoryEntry } from '../sim/client.ts';
import { fullSwarmSpace } from '../sim/swarm.ts';

const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

function watchRuns(): WatchRun[] {
  const runs: WatchRun[] = [];
  const scenario = etcdScenarios.find((s) => s.name === 'etcd-watch')!.tune({ checks: { raft: false, members: false, history: false }, onHistory: (_calls, watch) => void runs.push(watch!) });
  for (const seed of seeds) scenario.prepare(seed).execute();
  return runs;
}

function timeChecks(runs: readonly WatchRun[], judge: boolean): { events: number; ms: number } {
  const started = performance.now();
  let events = 0;
  for (const run of runs) {
    const checks = new WatchChecks(run.ledger);
    for (const { record } of run.log.records) {
      if (record.kind === 'events') events += record.events.length;
      if (judge) checks.record(record);
    }
  }
  return { events, ms: performance.now() - started };
}

/** Heavy faults, key-value and Kubernetes traffic, three watch clients (one watching every key), no compaction. */
const heavy = etcdScenario('bench-watch-heavy', 'etcd, a fault every half second, watchers, no compactor', {
  machines: 5,
  roles: ['mixed', 'mixed', 'register', 'register', 'txn', 'deletes', 'kubernetes', 'kubernetes'],
  space: fullSwarmSpace,
  everyClassOn: true,
  meanGapUs: 500_000,
  faultUsMax: 2_000_000,
  watch: { clients: 3 },
});

function checkHistories(histories: readonly { calls: readonly HistoryEntry<ServerRequest, ServerReply>[]; watch: WatchRun }[], guided: boolean): { ms: number; steps: number; unknown: number; tookEffect: number; never: number } {
  const started = performance.now();
  let steps = 0;
  let unknown = 0;
  let tookEffect = 0;
  let never = 0;
  for (const { calls, watch } of histories) {
    const guidance = { tookEffect: 0, neverTookEffect: 0 };
    const patched = guided ? watch.observed.patch(calls, guidance) : calls;
    tookEffect += guidance.tookEffect;
    never += guidance.neverTookEffect;
    unknown += patched.filter((call) => call.outcome === 'unknown').length;
    const { result } = checkTypedHistory(etcdHistory(patched).history);
    if (result.verdict !== 'linearizable') throw new Error(`a heavy-fault history did not check (${result.verdict})`);
    steps += result.steps;
  }
  return { ms: performance.now() - started, steps, unknown, tookEffect, never };
}

export function bench(out: (line: string) => void): void {
  const runs = watchRuns();
  timeChecks(runs, true); // warm up
  const walked = timeChecks(runs, false);
  const judged = timeChecks(runs, true);
  const rate = (judged.events / judged.ms) * 1000;
  out(`baseline: the watch records of ${runs.length} etcd-watch runs walked without judging: ${Math.round((walked.events / walked.ms) * 1000)} events/wall s`);
  out(`watch checks: ${judged.events} watch events (${runs.reduce((sum, run) => sum + run.log.records.length, 0)} records) judged in ${judged.ms.toFixed(1)} ms: ${Math.round(rate)} watch events checked/wall s; ratio to walking them: ${(judged.ms / Math.max(walked.ms, 0.001)).toFixed(1)}×`);

  const histories: { calls: readonly HistoryEntry<ServerRequest, ServerReply>[]; watch: WatchRun }[] = [];
  const tuned = heavy.tune({ checks: { raft: false, members: false, history: false }, onHistory: (calls, watch) => void histories.push({ calls, watch: watch! }) });
  for (const seed of seeds) tuned.prepare(seed).execute();
  checkHistories(histories, false); // warm up
  checkHistories(histories, true);
  const plain = checkHistories(histories, false);
  const guided = checkHistories(histories, true);
  const operations = histories.reduce((sum, { calls }) => sum + calls.length, 0);
  out(
    `heavy-fault histories (${histories.length} runs, ${operations} calls, ${plain.unknown} unknown outcomes): checked as they are in ${plain.ms.toFixed(1)} ms, ${plain.steps} model steps (the baseline)`,
  );
  out(
    `  watch-guided: ${guided.tookEffect} unknown puts a watch showed, ${guided.never} an unbroken every-key watch never showed (${guided.unknown} unknown left), checked in ${guided.ms.toFixed(1)} ms, ${guided.steps} model steps; ` +
      `ratio to the baseline: ${(guided.ms / plain.ms).toFixed(2)} of the time, ${(guided.steps / Math.max(plain.steps, 1)).toFixed(2)} of the steps`,
  );
}
