/**
 * Jepsen's etcd register logs (`INFO  jepsen.util - 3	:ok	:cas	[1 2]`), as described in
 * properties/linearizability/histories/porcupine-jepsen/README.md. Fields are separated by any whitespace (tabs in
 * most files, runs of spaces in some); the line number is the time; an empty file is an empty
 * history.
 *
 * Mapping to operations, matching Porcupine's reading of these logs:
 * - `:ok :cas` is a compare-and-set that succeeded, `:fail :cas` one that executed and whose
 *   compare failed (an ok operation with `succeeded: false`);
 * - `:info` (and `:fail` with value `:timed-out`) is an unknown outcome; so is an invocation
 *   never completed;
 * - any other `:fail` certainly did not happen.
 */
import type { Operation } from '../history.ts';
import type { RegisterInput, RegisterOutput, RegisterValue } from '../models/register.ts';
import { HistoryParseError, linesOf, quoted } from './parseError.ts';
import { PendingOperations } from './pendingOperations.ts';

const linePattern = /^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s+(.*?)\s*$/;

/** Whether a line looks like this format (for detection). */
export function isJepsenLogLine(line: string): boolean {
  return /^INFO\s+jepsen\.util\s+-\s/.test(line);
}

export function parseJepsenLog(text: string): Operation<RegisterInput, RegisterOutput>[] {
  const operations = new PendingOperations<RegisterInput, RegisterOutput>();
  linesOf(text).forEach((content, index) => {
    const line = index + 1;
    if (content.trim() === '') return;
    const match = linePattern.exec(content);
    if (match === null) throw new HistoryParseError(line, `not a Jepsen log line: ${JSON.stringify(content.slice(0, 80))}`);
    const [, processText, type, f, valueText] = match as unknown as [string, string, string, 'read' | 'write' | 'cas', string];
    const process = Number(processText);
    if (type === 'invoke') {
      operations.invoke(line, process, f, parseInput(line, f, valueText));
      return;
    }
    if (type === 'info' || valueText === ':timed-out') {
      operations.complete(line, process, f, 'unknown', () => undefined);
      return;
    }
    if (type === 'fail' && f !== 'cas') {
      operations.complete(line, process, f, 'fail', () => undefined);
      return;
    }
    operations.complete(line, process, f, 'ok', (input) => parseOutput(line, input, type === 'ok', valueText));
  });
  return operations.finish();
}

function parseInput(line: number, f: 'read' | 'write' | 'cas', valueText: string): RegisterInput {
  switch (f) {
    case 'read':
      if (valueText !== 'nil') throw new HistoryParseError(line, `a read is invoked with nil, not ${quoted(valueText)}`);
      return { kind: 'read' };
    case 'write':
      return { kind: 'write', value: parseValue(line, valueText) };
    case 'cas': {
      const [expected, value] = parsePair(line, valueText);
      return { kind: 'cas', expected, value };
    }
  }
}

/** The output of a completed operation; its echoed arguments must match the invocation's. */
function parseOutput(line: number, input: RegisterInput, ok: boolean, valueText: string): RegisterOutput {
  switch (input.kind) {
    case 'read':
      return { value: parseValue(line, valueText) };
    case 'write':
      if (parseValue(line, valueText) !== input.value) throw new HistoryParseError(line, `write completes with ${quoted(valueText)}, but was invoked with ${String(input.value)}`);
      return {};
    case 'cas': {
      const [expected, value] = parsePair(line, valueText);
      if (expected !== input.expected || value !== input.value) throw new HistoryParseError(line, `cas completes with ${quoted(valueText)}, but was invoked with [${String(input.expected)} ${String(input.value)}]`);
      return { succeeded: ok };
    }
  }
}

function parseValue(line: number, text: string): RegisterValue {
  if (text === 'nil') return null;
  if (/^-?\d+$/.test(text)) {
    if (!Number.isSafeInteger(Number(text))) throw new HistoryParseError(line, `the integer ${quoted(text)} cannot be kept exact (it is beyond 2^53, where 64-bit floats round)`);
    return Number(text);
  }
  throw new HistoryParseError(line, `expected an integer or nil, got ${quoted(text)}`);
}

function parsePair(line: number, text: string): [RegisterValue, RegisterValue] {
  const match = /^\[\s*(\S+)\s+(\S+)\s*\]$/.exec(text);
  if (match === null) throw new HistoryParseError(line, `expected [expected new] for a cas, got ${quoted(text)}`);
  return [parseValue(line, match[1]!), parseValue(line, match[2]!)];
}
