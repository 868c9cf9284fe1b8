import { caseOfRun, caseSize, describeCaseSize, type RunCase } from '../../scenarios/case.ts';
import { formatCase } from '../../scenarios/caseFile.ts';
import { defaultShrinkBudget, shrinkCase, type ShrinkResult } from '../../scenarios/shrink.ts';
import { variantFlags } from '../../scenarios/scenario.ts';
import { formatSimTime } from '../../sim/eventLog.ts';
import { describeFault } from '../../sim/faults.ts';
import type { Command } from '../cli/command.ts';
import { writeOutputFile } from '../cli/files.ts';
import { makeProgress } from '../cli/progress.ts';
import { exitViolation, parseCommandLine, parseDuration, parseNat, UsageError } from '../cli/usage.ts';
import { loadCode, variantOf } from '../cli/variant.ts';
import { prepareRun, readCase } from './run.ts';

const help = `usage: detcd-sim shrink (--scenario NAME --seed N | --case FILE) [--mutant NAME | --patch FILE] [--scenarios FILE]
                        [--set NAME=VALUE]...
                        [--runs N] [--time-budget DURATION] [--out FILE] [--json]

Makes a failing run small: the run becomes a case (its options, the fault plan and the workload its
seed drew), and fast-check shrinks it while it still fails the same check — the run cut just after
its violation, fewer and shorter faults, fewer client operations and clients, fewer members,
calmer options, a shorter run. Prints progress while it works, then the smallest case found,
written to a file that "detcd-sim run --case FILE" replays.

  --scenario NAME, --seed N   the failing run (as "detcd-sim run" takes them), or
  --case FILE                 a case file ("run --save-case")
  --mutant NAME               run against a catalogued mutant ("detcd-sim mutants --list")
  --patch FILE                run against your own mutant (a find/replace JSON file)
  --scenarios FILE            add your own scenarios (a module exporting "scenarios")
  --set NAME=VALUE            change an option or knob first (as "run --set"); repeatable
  --runs N                    stop after N runs (default ${defaultShrinkBudget.runsMax})
  --time-budget DURATION      stop after this long (default ${defaultShrinkBudget.wallMsMax / 60_000}m; 90s, 10m, 1h)
  --out FILE                  where to write the shrunk case (default: <scenario>-seed-<N>.shrunk.json)
  --json                      print one JSON object (sizes before and after, runs, the case file)

Exit codes: 1 the run fails (and was shrunk), 0 it passes (nothing to shrink), 2 bad input.`;

export const shrinkCommand: Command = {
  name: 'shrink',
  summary: 'shrink a failing run to a small case (fewer faults, operations, members) with fast-check',
  help,
  async run(argv, io) {
    const { values } = parseCommandLine(argv, {
      scenario: { type: 'string' },
      seed: { type: 'string' },
      case: { type: 'string' },
      mutant: { type: 'string' },
      patch: { type: 'string' },
      scenarios: { type: 'string' },
      set: { type: 'string', multiple: true },
      runs: { type: 'string' },
      'time-budget': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    if (values.case === undefined && (values.scenario === undefined || values.seed === undefined)) throw new UsageError('give --scenario NAME and --seed N, or --case FILE');
    if (values.case !== undefined && (values.scenario !== undefined || values.seed !== undefined)) throw new UsageError('--case gives the scenario and seed; leave out --seed and --scenario');
    const fromCase = values.case === undefined ? undefined : readCase(values.case);
    const runsMax = values.runs === undefined ? defaultShrinkBudget.runsMax : parseNat(values.runs, '--runs');
    if (runsMax === 0) throw new UsageError('--runs must be at least 1');
    const wallMsMax = values['time-budget'] === undefined ? defaultShrinkBudget.wallMsMax : parseDuration(values['time-budget'], '--time-budget') / 1000;
    const variant = variantOf(values, fromCase?.variant);
    const code = await loadCode(variant);
    try {
      const scenario = code.find(fromCase?.scenario ?? values.scenario!);
      const request = prepareRun(scenario, fromCase === undefined ? undefined : { runCase: fromCase, path: values.case! }, values.seed, values.set ?? [], variant);
      const executed = request.prepared.execute({ recordWorkload: true, ...(request.workload === undefined ? {} : { workload: request.workload }) });
      const original = caseOfRun(scenario.name, variant, request.prepared, executed);
      const say = (line: string): void => (values.json ? io.err(line) : io.out(line));
      if (executed.result.ok) {
        say(`shrink: ${request.replay} passes: there is no failure to shrink`);
        if (values.json) io.out(JSON.stringify({ scenario: scenario.name, seed: original.seed, failed: false }));
        return 0;
      }
      say(`shrink: ${request.replay} fails: ${executed.result.violation!.message}`);
      say(`  before: ${describeCaseSize(caseSize(original))}`);
      const progress = makeProgress('shrink', io.progress, 2_000);
      const result = shrinkCase(scenario, original, { runsMax, wallMsMax }, (p) => progress.update(p.runs, runsMax, `${p.steps} steps down; now ${p.smallest.faults} faults, ${p.smallest.operations} ops, ${p.smallest.members} members`));
      progress.stop();
      const out = values.out ?? `${scenario.name}-seed-${original.seed}${variant.mutant === undefined ? '' : `-${variant.mutant}`}.shrunk.json`;
      writeOutputFile(out, formatCase(result.shrunk), '--out');
      if (values.json) io.out(JSON.stringify(shrinkJson(result, out)));
      else io.out(formatShrink(result, out));
      return exitViolation;
    } finally {
      code.close();
    }
  },
};

function shrinkJson(result: ShrinkResult, out: string) {
  return {
    scenario: result.original.scenario,
    seed: result.original.seed,
    ...(result.original.variant.mutant === undefined ? {} : { mutant: result.original.variant.mutant }),
    failed: true,
    signature: result.signature,
    violation: result.violation,
    before: caseSize(result.original),
    after: caseSize(result.shrunk),
    runs: result.runs,
    steps: result.steps,
    wallMs: Math.round(result.wallMs),
    stoppedBy: result.stoppedBy,
    case: out,
    replay: `npx detcd-sim run --case ${out}`,
  };
}

const stopReasons: Record<ShrinkResult['stoppedBy'], string> = {
  smallest: 'nothing smaller fails the same way',
  runs: 'the run budget is spent (--runs)',
  time: 'the time budget is spent (--time-budget)',
};

export function formatShrink(result: ShrinkResult, out: string): string {
  const shrunk = result.shrunk;
  const lines = [
    `shrunk in ${result.runs} runs (${result.steps} steps down, ${(result.wallMs / 1000).toFixed(1)} s): ${stopReasons[result.stoppedBy]}`,
    `  after:  ${describeCaseSize(caseSize(shrunk))}`,
    `  violation: ${result.violation}`,
    `  case: ${out}`,
    `  replay: npx detcd-sim run --case ${out}   (add --events to watch it happen, --report DIR to draw it)`,
    `  knobs: ${JSON.stringify(shrunk.knobs)}${variantFlags(shrunk.variant) === '' ? '' : `; code:${variantFlags(shrunk.variant)}`}`,
    ...(shrunk.options.network.keyedDraws === true ? ['  network: keyed draws (network.keyedDraws: a message\'s fate keyed by what it is; README, "Cases")'] : []),
    '  fault plan:',
    ...(shrunk.options.faults.length === 0 ? ['    (none)'] : shrunk.options.faults.map((fault) => `    at ${formatSimTime(fault.atUs)}: ${describeFault(fault.action)}`)),
    '  workload:',
    ...describeWorkload(shrunk),
  ];
  return lines.join('\n');
}

function describeWorkload(runCase: RunCase): string[] {
  const first = runCase.options.nodeCount + 1;
  const lines = runCase.workload.clients.flatMap((operations, index) =>
    operations.length === 0 ? [] : [`    client ${first + index}: ${operations.slice(0, 12).map((operation) => `${JSON.stringify(operation.request)} → n${operation.to}`).join(', ')}${operations.length > 12 ? `, … ${operations.length - 12} more` : ''}`],
  );
  return lines.length === 0 ? ['    (no operations)'] : lines;
}
