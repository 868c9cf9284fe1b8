import type { CodeVariant, ExecutedRun, PreparedRun } from '../scenarios/scenario.ts';
import { replayCommand } from '../scenarios/scenario.ts';
import { buildInfo } from './buildInfo.ts';
import { describeOptions } from '../sim/options.ts';
import type { Violation } from '../sim/observer.ts';

/** One run, as `detcd-sim run --json` prints it and sweeps collect it. */
export interface RunReport {
  readonly seed: number;
  readonly scenario: string;
  /** The catalogued mutant the run's code carried, if any. */
  readonly mutant?: string;
  readonly ok: boolean;
  readonly traceHash: string;
  readonly events: number;
  readonly simulatedMs: number;
  readonly stopReason: string;
  readonly convergedAfterMs: number | null;
  readonly violation: Omit<Violation, 'stack'> | null;
  readonly wallMs: number;
  readonly stats: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
  readonly options: readonly string[];
  readonly replay: string;
  /** The package version and commit that made the report. */
  readonly version: string;
  readonly commit: string;
}

export function runReport(scenario: string, prepared: PreparedRun, executed: ExecutedRun, wallMs: number, variant: CodeVariant = {}, replay?: string): RunReport {
  const { result } = executed;
  const { version, commit } = buildInfo();
  return {
    seed: prepared.options.seed,
    scenario,
    ...(variant.mutant === undefined ? {} : { mutant: variant.mutant }),
    ok: result.ok,
    traceHash: result.traceHash,
    events: result.events,
    simulatedMs: result.simulatedUs / 1000,
    stopReason: result.stopReason,
    convergedAfterMs: result.convergedAfterUs === null ? null : result.convergedAfterUs / 1000,
    violation: result.violation === null ? null : { message: result.violation.message, timeUs: result.violation.timeUs, event: result.violation.event },
    wallMs: Math.round(wallMs),
    stats: executed.stats,
    notes: prepared.notes,
    options: describeOptions(prepared.options),
    replay: replay ?? replayCommand(scenario, prepared.options.seed, variant),
    version,
    commit,
  };
}

/** The human form: header (seed, scenario, every option), summary, verdict, trace hash. */
export function formatRunReport(report: RunReport): string {
  const lines = [`detcd-sim run: seed ${report.seed}, scenario ${report.scenario}${report.mutant === undefined ? '' : `, mutant ${report.mutant}`} (detcd ${report.version}, commit ${report.commit})`];
  for (const note of report.notes) lines.push(`  ${note}`);
  lines.push('options:');
  for (const option of report.options) lines.push(`  ${option}`);
  lines.push('summary:');
  lines.push(`  events: ${report.events} in ${report.simulatedMs.toFixed(3)} simulated ms (${report.wallMs} wall ms), stopped by ${report.stopReason}`);
  if (report.convergedAfterMs !== null) lines.push(`  liveness: held ${report.convergedAfterMs.toFixed(3)} ms after the faults stopped`);
  const stats = Object.entries(report.stats).map(([key, value]) => `${key}=${value}`);
  for (let i = 0; i < stats.length; i += 6) lines.push(`  ${stats.slice(i, i + 6).join(' ')}`);
  if (report.violation === null) lines.push('result: ok');
  else {
    lines.push(`result: VIOLATION at ${report.violation.timeUs}us (${(report.violation.timeUs / 1e6).toFixed(6)}s, event ${report.violation.event}): ${report.violation.message}`);
    lines.push(`replay: ${report.replay}`);
  }
  lines.push(`trace: ${report.traceHash}`);
  return lines.join('\n');
}
