/**
 * `detcd-sim check` alone: the entry the launcher loads for that command, compiled into a bundle of
 * its own (bin/compiledCli.mjs). A user checking one history pays for loading the checker and its
 * parsers, not the simulator, scenarios and reports of the other commands: the full CLI cost about
 * 200 ms of CPU to load before any work (`--version`), about as much as Porcupine needs for the
 * whole check of a 10,000-operation history.
 */
import { executeCommand, processIo, type Io } from './cli/command.ts';
import { checkCommand } from './commands/check.ts';

/** Runs `detcd-sim check ARGV...` and returns its exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  return executeCommand(checkCommand, argv[0] === 'check' ? argv.slice(1) : argv, io);
}
