import { runRecorder } from '../../reports/runRecording.ts';
import { runReport, type RunReport } from '../../reports/runReport.ts';
import { checkDeterminism, compareRuns } from '../../scenarios/determinism.ts';
import type { CodeVariant, Scenario } from '../../scenarios/scenario.ts';
import { writeRunPage } from '../commands/run.ts';
import type { SweepTask } from './plan.ts';

/** Whether a scenario is an expected violation judged by its catch rate (not every seed). */
export function promisesRate(scenario: Pick<Scenario, 'expect' | 'promisedCatchRate'>): boolean {
  return scenario.expect === 'violation' && (scenario.promisedCatchRate ?? 1) < 1;
}

/** One finished run of a sweep, whichever process made it: its report without the long header. */
export interface SweepRecord {
  readonly report: SweepRunReport;
  /** Whether the run was made twice and the traces compared. */
  readonly checkedDeterminism?: boolean;
  /** The first divergent event, when the run did not replay to the same trace. */
  readonly nondeterministic?: string;
  /** The page drawn for a failing run (`--report DIR`). */
  readonly page?: string;
}

/** A run report as a sweep keeps it: every field but the notes and options (replay has them). */
export type SweepRunReport = Omit<RunReport, 'notes' | 'options'>;

export interface TaskContext {
  readonly find: (name: string) => Scenario;
  readonly variant: CodeVariant;
  /** Where to draw failing runs, if anywhere. */
  readonly reportDir: string | null;
}

/** Runs one task: the run, its determinism check when asked, a page when it failed and pages are wanted. */
export function runTask(task: SweepTask, context: TaskContext): SweepRecord {
  const scenario = context.find(task.scenario);
  const started = performance.now();
  const prepared = scenario.prepare(task.seed);
  const executed = prepared.execute();
  const { notes: _notes, options: _options, ...report } = runReport(scenario.name, prepared, executed, performance.now() - started, context.variant);
  let nondeterministic: string | undefined;
  if (task.checkDeterminism) {
    const verdict = compareRuns(executed, scenario.prepare(task.seed).execute());
    // Hashes differ: replay both with trails to name the first divergent event.
    if (!verdict.deterministic) nondeterministic = checkDeterminism(scenario, task.seed).firstDivergence ?? verdict.traceHashes.join(' vs ');
  }
  const asExpected = scenario.expect === 'pass' ? executed.result.ok : !executed.result.ok;
  let page: string | undefined;
  // A miss of a scenario that promises a catch rate is no failure by itself: no page for it.
  if (context.reportDir !== null && ((!asExpected && !promisesRate(scenario)) || nondeterministic !== undefined)) {
    // Drawn from a replay with a recorder: the sweep's own run carried nothing extra.
    const recorder = runRecorder();
    const replayed = scenario.prepare(task.seed).execute({ watchers: [recorder.watcher] });
    page = writeRunPage(context.reportDir, runReport(scenario.name, prepared, replayed, 0, context.variant), prepared, replayed, recorder.recording());
  }
  return { report, ...(task.checkDeterminism ? { checkedDeterminism: true } : {}), ...(nondeterministic === undefined ? {} : { nondeterministic }), ...(page === undefined ? {} : { page }) };
}
