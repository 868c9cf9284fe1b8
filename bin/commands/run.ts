import { randomInt } from 'node:crypto';
import { formatRunReport, runReport } from '../../reports/runReport.ts';
import { checkDeterminism } from '../../scenarios/determinism.ts';
import { allScenarios, defaultScenarioName, findScenario } from '../../scenarios/index.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import type { Command } from '../cli/command.ts';
import { exitViolation, parseCommandLine, parseNat, UsageError } from '../cli/usage.ts';

const help = `usage: detcd-sim run [--seed N] [--scenario NAME] [--json] [--check-determinism]

Runs one simulation and prints a header (seed, scenario, every option), a summary and the trace
hash. Without --seed a seed is drawn and printed, so the run can be replayed.

  --seed N               the run seed, a non-negative integer (default: a random one)
  --scenario NAME        a scenario from "detcd-sim scenarios" (default: ${defaultScenarioName})
  --json                 print one JSON object instead of text
  --check-determinism    run twice in this process and compare traces event by event

Exit codes: 0 the run passed, 1 it found a violation (or was not deterministic), 2 bad input.`;

export function resolveScenario(name: string | undefined): Scenario {
  const scenario = findScenario(name ?? defaultScenarioName);
  if (scenario === undefined) throw new UsageError(`unknown scenario "${name}" (see "detcd-sim scenarios"; known: ${allScenarios.map((s) => s.name).join(', ')})`);
  return scenario;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run one simulation and print its summary and trace hash',
  help,
  run(argv, io) {
    const { values } = parseCommandLine(argv, {
      seed: { type: 'string' },
      scenario: { type: 'string' },
      json: { type: 'boolean', default: false },
      'check-determinism': { type: 'boolean', default: false },
    });
    const seed = values.seed === undefined ? randomInt(0, 2 ** 31) : parseNat(values.seed, '--seed');
    const scenario = resolveScenario(values.scenario);
    const prepared = scenario.prepare(seed);
    const started = performance.now();
    const executed = prepared.execute({ keepTrail: values['check-determinism'] });
    const report = runReport(scenario.name, prepared, executed, performance.now() - started);
    const determinism = values['check-determinism'] ? checkDeterminism(scenario, seed, executed) : null;
    if (values.json) io.out(JSON.stringify(determinism === null ? report : { ...report, determinism }));
    else {
      io.out(formatRunReport(report));
      if (determinism !== null) {
        io.out(determinism.deterministic ? 'determinism: ok (two runs, same trace)' : `determinism: BROKEN, traces ${determinism.traceHashes.join(' vs ')}: ${determinism.firstDivergence}`);
      }
    }
    return report.ok && (determinism?.deterministic ?? true) ? 0 : exitViolation;
  },
};
