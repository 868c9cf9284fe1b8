/** Input that is not a history: the message names the line (1-based) so a person can fix it. */
export class HistoryParseError extends Error {
  override readonly name = 'HistoryParseError';
  readonly line: number;

  constructor(line: number, message: string) {
    super(shortened(message, messageMax));
    this.line = line;
  }
}

/** The longest message kept: a hostile file must not make the error line a megabyte long. */
const messageMax = 240;

/** `text` cut to `max` characters, saying how long it was. */
export function shortened(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 24)}… (${text.length} characters)`;
}

/** A piece of the input quoted in a message: JSON-quoted, and cut when long. */
export function quoted(text: string, max = 40): string {
  return text.length <= max ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, max))}… (${text.length} characters)`;
}

/** Splits text into lines, accepting \n and \r\n. */
export function linesOf(text: string): string[] {
  return text.split(/\r?\n/);
}
