/** Input that is not a history: the message names the line (1-based) so a person can fix it. */
export class HistoryParseError extends Error {
  override readonly name = 'HistoryParseError';
  readonly line: number;

  constructor(line: number, message: string) {
    super(message);
    this.line = line;
  }
}

/** Splits text into lines, accepting \n and \r\n. */
export function linesOf(text: string): string[] {
  return text.split(/\r?\n/);
}
