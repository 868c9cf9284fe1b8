import { describePromise } from '../../reports/catchRate.ts';
import { allScenarios } from '../../scenarios/index.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import type { Command } from '../cli/command.ts';
import { parseCommandLine } from '../cli/usage.ts';

/** What an expected-violation scenario promises, when it promises less than every seed. */
function promiseOf(scenario: Scenario): string {
  const promised = scenario.promisedCatchRate ?? 1;
  return scenario.expect === 'violation' && promised < 1 ? ` [${describePromise(promised)}]` : '';
}

export const scenariosCommand: Command = {
  name: 'scenarios',
  summary: 'list the named scenarios, one line each',
  help: 'usage: detcd-sim scenarios [--json]\n\nLists every scenario with its family and a one-line summary; an expected violation judged by\nits catch rate says what it promises.',
  run(argv, io) {
    const { values } = parseCommandLine(argv, { json: { type: 'boolean', default: false } });
    if (values.json) {
      io.out(JSON.stringify(allScenarios.map(({ name, family, summary, expect, promisedCatchRate }) => ({ name, family, summary, expect, ...(expect === 'violation' ? { promisedCatchRate: promisedCatchRate ?? 1 } : {}) }))));
      return 0;
    }
    const width = Math.max(...allScenarios.map((s) => s.name.length));
    for (const scenario of allScenarios) io.out(`${scenario.name.padEnd(width)}  ${scenario.summary}${promiseOf(scenario)}`);
    return 0;
  },
};
