import { checkTypedHistory } from '../properties/linearizability/formats/typedHistory.ts';
import type { Operation } from '../properties/linearizability/history.ts';
import { describeViolation } from '../properties/linearizability/witness.ts';
import type { ExecutedRun, PreparedRun } from '../scenarios/scenario.ts';
import type { RunPageData } from './runPage.ts';
import type { RunRecording } from './runRecording.ts';
import type { RunReport } from './runReport.ts';

/** How long a run page may spend checking the clients' history for a witness. */
const witnessTimeoutMs = 5_000;

/**
 * The clients' history checked for linearizability, for a page or a summary: the verdict and, when
 * it is not linearizable, the checker's witness. Null when the family states no history.
 */
export function checkClientHistory(executed: ExecutedRun, timeoutMs = witnessTimeoutMs): { verdict: string; witness: string } | null {
  const history = executed.clientHistory();
  if (history === null) return null;
  const { model, result } = checkTypedHistory(history, { budget: { timeoutMs } });
  const operations = history.operations as readonly Operation<unknown, unknown>[];
  const verdict = `${result.verdict.replace('-', ' ')} (${operations.length} operations${result.verdict === 'unknown' ? `, gave up after ${timeoutMs / 1000} s` : ''})`;
  return { verdict, witness: result.violation === undefined ? '' : describeViolation(model, operations, result) };
}

export function runPageData(report: RunReport, prepared: PreparedRun, executed: ExecutedRun, recording: RunRecording): RunPageData {
  return {
    scenario: report.scenario,
    seed: report.seed,
    mutant: report.mutant ?? null,
    verdict: report.ok ? 'passed' : 'violation',
    violation: report.violation,
    replay: report.replay,
    version: report.version,
    commit: report.commit,
    traceHash: report.traceHash,
    notes: prepared.notes,
    options: report.options,
    linearizability: checkClientHistory(executed),
    recording,
  };
}
