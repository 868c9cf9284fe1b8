
/**
 * Text-script tests in the style of cockroachdb/datadriven (used by etcd-io/raft): a file of
 * commands, each followed by `----` and the output it must produce, ending at a blank line.
 * Lines starting with `#` and blank lines between commands are kept as they are.
 *
 *     campaign 1
 *     ----
 *     INFO 1 is starting a new election at term 0
 *
 * With `rewrite`, the expected outputs are replaced by the actual ones and the file is written
 * back; otherwise the whole rewritten text is returned for comparison with the original.
 */

export interface Command {
  /** `file:line` of the command, for failure messages. */
  readonly position: string;
  readonly name: string;
  /** Bare arguments (`1`, `v4`) in order. */
  readonly positional: readonly string[];
  /** `key=value` arguments; `key=(1,2,3)` gives the list `['1','2','3']`. */
  readonly keyed: ReadonlyMap<string, readonly string[]>;
  readonly line: string;
}

export interface DataDrivenResult {
  readonly original: string;
  readonly actual: string;
}

/**
 * Replays a script (its text `original`, named `path` in messages) and returns it with every
 * command's output replaced by what `handle` printed now. The caller reads and rewrites the file:
 * this helper stays free of I/O like the rest of core/.
 */
export function runDataDriven(path: string, original: string, handle: (command: Command) => string): DataDrivenResult {
  const lines = original.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      out.push(line);
      i++;
      continue;
    }
    const position = `${path}:${i + 1}`;
    if (lines[i + 1] !== '----') throw new Error(`${position}: expected ---- after the command "${line}"`);
    i += 2;
    // Skip the old expected output.
    while (i < lines.length && lines[i]!.trim() !== '') i++;
    let output: string;
    try {
      output = handle(parseCommand(line, position));
    } catch (error) {
      throw new Error(`${position}: "${line}" failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    const outputLines = output === '' ? ['ok'] : output.replace(/\n+$/, '').split('\n');
    for (const outputLine of outputLines) {
      if (outputLine.trim() === '') throw new Error(`${position}: output of "${line}" contains a blank line`);
    }
    out.push(line, '----', ...outputLines);
    // Keep exactly one blank line after each block (the file's own blank line follows).
  }
  const actual = `${out.join('\n')}\n`;
  return { original, actual };
}

export function parseCommand(line: string, position: string): Command {
  const tokens = line.trim().split(/\s+/);
  const name = tokens.shift()!;
  const positional: string[] = [];
  const keyed = new Map<string, readonly string[]>();
  for (const token of tokens) {
    const eq = token.indexOf('=');
    if (eq < 0) {
      positional.push(token);
      continue;
    }
    const key = token.slice(0, eq);
    let value = token.slice(eq + 1);
    if (value.startsWith('(') && value.endsWith(')')) {
      value = value.slice(1, -1);
      keyed.set(key, value === '' ? [] : value.split(','));
    } else {
      keyed.set(key, [value]);
    }
  }
  return { position, name, positional, keyed, line };
}
