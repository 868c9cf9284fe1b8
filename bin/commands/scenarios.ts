import { allScenarios } from '../../scenarios/index.ts';
import type { Command } from '../cli/command.ts';
import { parseCommandLine } from '../cli/usage.ts';

export const scenariosCommand: Command = {
  name: 'scenarios',
  summary: 'list the named scenarios, one line each',
  help: 'usage: detcd-sim scenarios [--json]\n\nLists every scenario with its family and a one-line summary.',
  run(argv, io) {
    const { values } = parseCommandLine(argv, { json: { type: 'boolean', default: false } });
    if (values.json) {
      io.out(JSON.stringify(allScenarios.map(({ name, family, summary }) => ({ name, family, summary }))));
      return 0;
    }
    const width = Math.max(...allScenarios.map((s) => s.name.length));
    for (const scenario of allScenarios) io.out(`${scenario.name.padEnd(width)}  ${scenario.summary}`);
    return 0;
  },
};
