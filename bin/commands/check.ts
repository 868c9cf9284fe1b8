import type { Command } from '../cli/command.ts';
import { UsageError } from '../cli/usage.ts';

// Placeholder until the linearizability checker lands (issue 4).
export const checkCommand: Command = {
  name: 'check',
  summary: 'check histories for linearizability (not built yet)',
  help: 'usage: detcd-sim check FILE... (not built yet)',
  run() {
    throw new UsageError('check is not built yet');
  },
};
