import { readFileSync } from 'node:fs';

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
