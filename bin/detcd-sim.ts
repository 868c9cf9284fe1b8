import { buildInfo } from '../reports/buildInfo.ts';
import { executeCommand, processIo, type Command, type Io } from './cli/command.ts';
import { exitUsage } from './cli/usage.ts';
import { checkCommand } from './commands/check.ts';
import { gateCommand } from './commands/gate.ts';
import { mergeCommand } from './commands/merge.ts';
import { mutantsCommand } from './commands/mutants.ts';
import { runCommand } from './commands/run.ts';
import { scenariosCommand } from './commands/scenarios.ts';
import { shrinkCommand } from './commands/shrink.ts';
import { sweepCommand } from './commands/sweep.ts';

const commands: readonly Command[] = [runCommand, sweepCommand, shrinkCommand, mergeCommand, gateCommand, scenariosCommand, checkCommand, mutantsCommand];

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'detcd-sim: the deterministic simulator of detcd',
    '',
    'usage: detcd-sim <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "detcd-sim <command> --help" for the options of one command; "detcd-sim --version" for the',
    'version and commit.',
  ].join('\n');
}

/** Runs the CLI and returns its exit code. Bad input never shows a stack trace. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(topHelp());
    return name === undefined ? exitUsage : 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    const { version, commit } = buildInfo();
    io.out(`detcd-sim ${version} (commit ${commit}, node ${process.version})`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    io.err(`detcd-sim: unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')})`);
    return exitUsage;
  }
  return executeCommand(command, rest, io);
}
