import { readFileSync } from 'node:fs';
import { exitInternal, exitUsage, UsageError } from './usage.ts';

/** Where a command writes (and reads "-" from). Tests pass collectors; the launcher the process streams. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** All of standard input; absent where there is none to read. */
  readonly stdin?: () => Uint8Array;
  /** Where progress goes (a bar on a terminal, periodic lines otherwise); none when absent. */
  readonly progress?: NodeJS.WriteStream;
  /**
   * Whether a command may take over SIGINT and SIGTERM (to stop cleanly): only as the process's
   * own CLI, never inside another program (a test runner must still be able to stop it).
   */
  readonly ownsSignals?: boolean;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  stdin: () => readFileSync(0),
  progress: process.stderr,
  ownsSignals: true,
};

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The full `--help` text. */
  readonly help: string;
  run(argv: readonly string[], io: Io): number | Promise<number>;
}

/** Runs one command (its `--help` when asked) and returns its exit code. Bad input never shows a stack trace. */
export async function executeCommand(command: Command, argv: readonly string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`detcd-sim ${command.name}: ${error.message}`);
      return exitUsage;
    }
    io.err(`detcd-sim ${command.name}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return exitInternal;
  }
}
