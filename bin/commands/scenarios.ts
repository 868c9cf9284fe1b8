import type { Command } from '../cli/command.ts';
import { UsageError } from '../cli/usage.ts';

export const scenariosCommand: Command = {
  name: 'scenarios',
  summary: 'scenarios (not built yet)',
  help: 'usage: detcd-sim scenarios (not built yet)',
  run() {
    throw new UsageError('scenarios is not built yet');
  },
};
