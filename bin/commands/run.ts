import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatJsonLines } from '../../properties/linearizability/formats/jsonLines.ts';
import { renderRunPage } from '../../reports/runPage.ts';
import { runPageData } from '../../reports/runPageData.ts';
import { runRecorder } from '../../reports/runRecording.ts';
import { formatRunReport, runReport, type RunReport } from '../../reports/runReport.ts';
import { caseOfRun, caseSize, describeCaseSize, type RunCase } from '../../scenarios/case.ts';
import { CaseError, formatCase, parseCase } from '../../scenarios/caseFile.ts';
import { checkDeterminism } from '../../scenarios/determinism.ts';
import { defaultScenarioName } from '../../scenarios/index.ts';
import { replayCommand, SettingsError, type CodeVariant, type ExecutedRun, type PreparedRun, type RunWatcher, type Scenario } from '../../scenarios/scenario.ts';
import { applySets, fitScriptToMembers, SetError } from '../../scenarios/settings.ts';
import { eventLineKinds, eventLog, formatEventLine, type EventFilter, type EventLineKind } from '../../sim/eventLog.ts';
import type { WorkloadScript } from '../../sim/workloadScript.ts';
import type { Command, Io } from '../cli/command.ts';
import { writeOutputFile } from '../cli/files.ts';
import { exitViolation, parseCommandLine, parseDuration, parseNat, UsageError } from '../cli/usage.ts';
import { loadCode, variantOf } from '../cli/variant.ts';

export { resolveScenario } from '../cli/variant.ts';

const help = `usage: detcd-sim run [--seed N] [--scenario NAME] [--case FILE] [--set NAME=VALUE]...
                     [--mutant NAME | --patch FILE] [--scenarios FILE] [--events [--node N] [--kind K] [--from T] [--to T]]
                     [--history FILE] [--report DIR] [--save-case FILE] [--json] [--check-determinism]

Runs one simulation and prints a header (seed, scenario, every option), a summary and the trace
hash. Without --seed a seed is drawn and printed, so the run can be replayed.

  --seed N               the run seed, a non-negative integer (default: a random one)
  --scenario NAME        a scenario from "detcd-sim scenarios" (default: ${defaultScenarioName})
  --case FILE            replay a case (a run written out: scenario, seed, knobs, options, fault
                         plan, workload), to the same trace hash it was saved with
  --set NAME=VALUE       change an option (as the header prints it: nodeCount=3, network.loss=1/10,
                         faults=none) or a scenario knob (clients=2, electionTicks=20); repeatable
  --mutant NAME          run against a catalogued mutant ("detcd-sim mutants --list")
  --patch FILE           run against your own mutant: a find/replace JSON file ("detcd-sim mutants --help")
  --scenarios FILE       add your own scenarios: a module exporting "scenarios" (README: Testing your own protocol)
  --events               print the run's events as lines: time, node, what happened (messages with
                         type, term and index, requests, replies, faults, role/term/commit changes)
    --node N             only events about node N (repeatable, or N,M)
    --kind K             only these kinds (repeatable, or K,L): ${eventLineKinds.join(', ')}, all
                         (default: all but tick and probe)
    --from T, --to T     only events in this window of simulated time (2.5s, 1500ms, 2500000us;
                         a bare number is seconds)
  --history FILE         write the clients' history as JSON lines, for "detcd-sim check"
  --report DIR           write DIR/<scenario>-seed-<N>.html: the run drawn on a time axis
  --save-case FILE       write the run as a case file (replay it with --case, shrink it with shrink)
  --json                 print one JSON object instead of text
  --check-determinism    run twice in this process and compare traces event by event

Exit codes: 0 the run passed, 1 it found a violation (or was not deterministic), 2 bad input.`;

/** A run as the command line describes it, before it is executed. */
export interface RunRequest {
  readonly scenario: Scenario;
  readonly prepared: PreparedRun;
  readonly variant: CodeVariant;
  /** The workload to replay (from a case), if any. */
  readonly workload?: WorkloadScript<unknown>;
  readonly fromCase?: RunCase;
  /** The one-line command that replays this run (its case file or seed, mutant and --set flags). */
  readonly replay: string;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run one simulation and print its summary and trace hash',
  help,
  async run(argv, io) {
    const { values } = parseCommandLine(argv, {
      seed: { type: 'string' },
      scenario: { type: 'string' },
      case: { type: 'string' },
      set: { type: 'string', multiple: true },
      mutant: { type: 'string' },
      patch: { type: 'string' },
      scenarios: { type: 'string' },
      events: { type: 'boolean', default: false },
      node: { type: 'string', multiple: true },
      kind: { type: 'string', multiple: true },
      from: { type: 'string' },
      to: { type: 'string' },
      history: { type: 'string' },
      report: { type: 'string' },
      'save-case': { type: 'string' },
      json: { type: 'boolean', default: false },
      'check-determinism': { type: 'boolean', default: false },
    });
    const filter = parseEventFilter(values);
    if (values.events && values.json) throw new UsageError('--events prints lines; it does not go with --json');
    if (values.case !== undefined && (values.seed !== undefined || values.scenario !== undefined)) throw new UsageError('--case gives the scenario and seed; leave out --seed and --scenario');
    const fromCase = values.case === undefined ? undefined : readCase(values.case);
    const variant = variantOf(values, fromCase?.variant);
    const code = await loadCode(variant);
    try {
      const source = fromCase === undefined ? undefined : { runCase: fromCase, path: values.case! };
      const request = prepareRun(code.find(fromCase?.scenario ?? values.scenario ?? defaultScenarioName), source, values.seed, values.set ?? [], variant);
      return executeAndReport(request, values, filter, io);
    } finally {
      code.close();
    }
  },
};

/** The run a seed or a case describes, with `--set` applied: bad settings are UsageErrors. */
export function prepareRun(scenario: Scenario, source: { runCase: RunCase; path: string } | undefined, seedText: string | undefined, sets: readonly string[], variant: CodeVariant): RunRequest {
  const fromCase = source?.runCase;
  const seed = fromCase?.seed ?? (seedText === undefined ? randomInt(0, 2 ** 31) : parseNat(seedText, '--seed'));
  const setFlags = sets.map((assignment) => ` --set ${/^[\w./=-]+$/.test(assignment) ? assignment : `'${assignment.replace(/'/g, "'\\''")}'`}`).join('');
  const replay = `${source === undefined ? replayCommand(scenario.name, seed, variant) : `npx detcd-sim run --case ${source.path}`}${setFlags}`;
  try {
    const base = fromCase === undefined ? scenario.prepare(seed) : scenario.prepare(seed, { options: fromCase.options, knobs: fromCase.knobs });
    if (sets.length === 0) return { scenario, prepared: base, variant, replay, ...(fromCase === undefined ? {} : { workload: fromCase.workload, fromCase }) };
    const settings = applySets({ options: base.options, knobs: base.knobs }, sets);
    const prepared = scenario.prepare(seed, settings);
    const workload = fromCase === undefined ? undefined : fitScriptToMembers(fromCase.workload, settings.options.nodeCount);
    return { scenario, prepared, variant, replay, ...(workload === undefined ? {} : { workload }), ...(fromCase === undefined ? {} : { fromCase }) };
  } catch (error) {
    if (error instanceof SetError || error instanceof SettingsError) throw new UsageError(error.message);
    throw error;
  }
}

export function readCase(file: string): RunCase {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return parseCase(text);
  } catch (error) {
    if (error instanceof CaseError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

interface RunFlags {
  readonly events: boolean;
  readonly history?: string | undefined;
  readonly report?: string | undefined;
  readonly 'save-case'?: string | undefined;
  readonly json: boolean;
  readonly 'check-determinism': boolean;
}

function executeAndReport(request: RunRequest, flags: RunFlags, filter: EventFilter, io: Io): number {
  const { scenario, prepared, variant } = request;
  const watchers: RunWatcher[] = [];
  const flushEvents = flags.events ? attachEventLog(watchers, filter, io) : null;
  const recorder = flags.report === undefined ? null : runRecorder();
  if (recorder !== null) watchers.push(recorder.watcher);
  const started = performance.now();
  const executed = prepared.execute({
    keepTrail: flags['check-determinism'],
    watchers,
    recordWorkload: flags['save-case'] !== undefined,
    ...(request.workload === undefined ? {} : { workload: request.workload }),
  });
  flushEvents?.();
  const report = runReport(scenario.name, prepared, executed, performance.now() - started, variant, request.replay);
  const settings = { options: prepared.options, knobs: prepared.knobs };
  const determinism = flags['check-determinism'] ? checkDeterminism(scenario, prepared.options.seed, executed, settings, request.workload) : null;
  if (flags.json) io.out(JSON.stringify(determinism === null ? report : { ...report, determinism }));
  else {
    io.out(formatRunReport(report));
    if (determinism !== null) io.out(determinism.deterministic ? 'determinism: ok (two runs, same trace)' : `determinism: BROKEN, traces ${determinism.traceHashes.join(' vs ')}:\n${determinism.firstDivergence}`);
    if (request.fromCase?.saved !== undefined) io.out(compareWithSaved(request.fromCase, report));
  }
  const written = writeOutputs(request, flags, report, executed, recorder?.recording ?? null, io);
  if (written !== 0) return written;
  return report.ok && (determinism?.deterministic ?? true) ? 0 : exitViolation;
}

function compareWithSaved(runCase: RunCase, report: RunReport): string {
  const saved = runCase.saved!;
  if (saved.traceHash === report.traceHash) return `case: replayed to the trace it was saved with (${saved.traceHash})`;
  return `case: the trace differs from the one saved (${saved.traceHash}): the code, the case or a --set changed the run`;
}

/** Writes what --history, --report and --save-case ask for; a non-zero code when one cannot be. */
function writeOutputs(request: RunRequest, flags: RunFlags, report: RunReport, executed: ExecutedRun, recording: (() => ReturnType<ReturnType<typeof runRecorder>['recording']>) | null, io: Io): number {
  const say = (line: string): void => (flags.json ? io.err(line) : io.out(line));
  if (flags.history !== undefined) {
    const history = executed.clientHistory();
    if (history === null) {
      io.err(`detcd-sim run: --history: scenario ${request.scenario.name} (family ${request.scenario.family}) states no client history the checker can judge`);
      return 2;
    }
    writeOutputFile(flags.history, formatJsonLines(history), '--history');
    say(`history: ${flags.history} (${history.operations.length} operations; check it with: npx detcd-sim check ${flags.history})`);
  }
  if (flags.report !== undefined && recording !== null) {
    const path = writeRunPage(flags.report, report, request.prepared, executed, recording());
    say(`report: ${path}`);
  }
  if (flags['save-case'] !== undefined) {
    const runCase = caseOfRun(request.scenario.name, request.variant, request.prepared, executed);
    writeOutputFile(flags['save-case'], formatCase(runCase), '--save-case');
    say(`case: ${flags['save-case']} (${describeCaseSize(caseSize(runCase))}); replay: npx detcd-sim run --case ${flags['save-case']}`);
  }
  return 0;
}

/** Writes a run's page into `directory`; returns its path. */
export function writeRunPage(directory: string, report: RunReport, prepared: PreparedRun, executed: ExecutedRun, recording: ReturnType<ReturnType<typeof runRecorder>['recording']>): string {
  const path = join(directory, `${report.scenario}-seed-${report.seed}${report.mutant === undefined ? '' : `-${report.mutant}`}.html`);
  writeOutputFile(path, renderRunPage(runPageData(report, prepared, executed, recording)), '--report');
  return path;
}

/** Adds the event log to the watchers; returns the function that writes out what is buffered. */
function attachEventLog(watchers: RunWatcher[], filter: EventFilter, io: Io): () => void {
  let buffer: string[] = [];
  const flush = (): void => {
    if (buffer.length > 0) io.out(buffer.join('\n'));
    buffer = [];
  };
  watchers.push((protocol) =>
    eventLog(protocol, filter, (line) => {
      buffer.push(formatEventLine(line));
      // Lines go out in batches: one write per line would cost more than the run.
      if (buffer.length >= 2_000) flush();
    }),
  );
  return flush;
}

interface EventFlags {
  readonly events: boolean;
  readonly node?: string[] | undefined;
  readonly kind?: string[] | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

export function parseEventFilter(flags: EventFlags): EventFilter {
  const refinements = (['node', 'kind', 'from', 'to'] as const).filter((name) => flags[name] !== undefined);
  if (!flags.events && refinements.length > 0) throw new UsageError(`--${refinements[0]} narrows --events; add --events`);
  const nodes = flags.node?.flatMap((text) => text.split(',')).map((text) => parseNat(text, '--node'));
  const kindNames = flags.kind?.flatMap((text) => text.split(','));
  let kinds: EventLineKind[] | undefined;
  if (kindNames !== undefined) {
    kinds = kindNames.includes('all') ? [...eventLineKinds] : [];
    for (const name of kindNames) {
      if (name === 'all') continue;
      if (!(eventLineKinds as readonly string[]).includes(name)) throw new UsageError(`--kind must be one of ${eventLineKinds.join(', ')}, all; got "${name}"`);
      kinds.push(name as EventLineKind);
    }
  }
  const fromUs = flags.from === undefined ? undefined : parseDuration(flags.from, '--from');
  const toUs = flags.to === undefined ? undefined : parseDuration(flags.to, '--to');
  if (fromUs !== undefined && toUs !== undefined && toUs < fromUs) throw new UsageError('--to is before --from');
  return { ...(nodes === undefined ? {} : { nodes }), ...(kinds === undefined ? {} : { kinds }), ...(fromUs === undefined ? {} : { fromUs }), ...(toUs === undefined ? {} : { toUs }) };
}
