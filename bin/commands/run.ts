import type { Command } from '../cli/command.ts';
import { UsageError } from '../cli/usage.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run (not built yet)',
  help: 'usage: detcd-sim run (not built yet)',
  run() {
    throw new UsageError('run is not built yet');
  },
};
