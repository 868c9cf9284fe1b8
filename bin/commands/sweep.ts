import type { Command } from '../cli/command.ts';
import { UsageError } from '../cli/usage.ts';

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'sweep (not built yet)',
  help: 'usage: detcd-sim sweep (not built yet)',
  run() {
    throw new UsageError('sweep is not built yet');
  },
};
