import { readFileSync } from 'node:fs';

/** Where a command writes (and reads "-" from). Tests pass collectors; the launcher the process streams. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** All of standard input; absent where there is none to read. */
  readonly stdin?: () => Uint8Array;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  stdin: () => readFileSync(0),
};

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The full `--help` text. */
  readonly help: string;
  run(argv: readonly string[], io: Io): number | Promise<number>;
}
