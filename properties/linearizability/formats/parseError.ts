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

/** Splits text into lines, accepting \n and \r\n (a lone \r stays in its line). */
export function linesOf(text: string): string[] {
  // Splitting at a character and trimming the \r after was a quarter of the cost of splitting a
  // 10,000-line history at the regular expression /\r?\n/.
  const lines = text.split('\n');
  if (!text.includes('\r')) return lines;
  for (let index = 0; index < lines.length - 1; index++) {
    const line = lines[index]!;
    if (line.endsWith('\r')) lines[index] = line.slice(0, -1);
  }
  return lines;
}

/**
 * The first line that holds more than white space, and its number (1-based), or undefined: for
 * detecting a format without splitting the whole text.
 */
export function firstContentLine(text: string): { content: string; line: number } | undefined {
  let start = 0;
  for (let line = 1; start <= text.length; line++) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    const content = text.slice(start, end > start && text[end - 1] === '\r' && newline >= 0 ? end - 1 : end);
    if (content.trim() !== '') return { content, line };
    if (newline < 0) return undefined;
    start = newline + 1;
  }
  return undefined;
}
