/**
 * `detcd-sim check FILE...`: checks histories for linearizability and prints one verdict per
 * file (or one JSON object per line), with a witness for each violation. Exit codes: 0 all
 * linearizable, 1 some history is not, 3 some check ran out of time and none is not, 2 bad input
 * (which wins: a file that could not be read was not checked).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CheckResult } from '../../properties/linearizability/checker.ts';
import { HistoryParseError } from '../../properties/linearizability/formats/parseError.ts';
import { formatNames, parseHistory, type FormatName } from '../../properties/linearizability/formats/parseHistory.ts';
import { checkTypedHistory, modelNames, type ModelName, type TypedHistory } from '../../properties/linearizability/formats/typedHistory.ts';
import type { Operation } from '../../properties/linearizability/history.ts';
import type { AnyModel } from '../../properties/linearizability/model.ts';
import { buildTimeline } from '../../properties/linearizability/timeline.ts';
import { describeViolation } from '../../properties/linearizability/witness.ts';
import { renderHistoryPage } from '../../reports/historyPage.ts';
import type { Command, Io } from '../cli/command.ts';
import { exitOk, exitUnknown, exitUsage, exitViolation, parseCommandLine, parsePositiveNumber, UsageError } from '../cli/usage.ts';

const help = `usage: detcd-sim check FILE... [--model register|kv|etcd] [--format jepsen-log|jepsen-edn|jsonl]
                       [--timeout SECONDS] [--json] [--html DIR]

Checks each history for linearizability against a sequential model.

  --model M       register (read/write/cas), kv (get/put/append, checked per key) or etcd
                  (range/put/delete/txn with revisions). Default: from the format or the file.
  --format F      jepsen-log (Jepsen etcd register logs), jepsen-edn (Jepsen key/value EDN) or
                  jsonl (detcd's JSON lines, see README). Default: detected from the first line.
  --timeout S     give up on a file after S seconds (result "unknown"). Default: no limit.
  --json          one JSON object per file per line: {"file", "result", "ops", "ms"}.
  --html DIR      also write DIR/<file>.html, a page showing each history and its linearization.

Exit status: 0 every file is linearizable, 1 some file is not, 3 some check ran out of time
(and none is not), 2 bad input.`;

export const checkCommand: Command = {
  name: 'check',
  summary: 'check histories for linearizability (Jepsen logs, EDN, detcd JSON lines)',
  help,
  run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      {
        model: { type: 'string' },
        format: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean', default: false },
        html: { type: 'string' },
      },
      true,
    );
    if (positionals.length === 0) throw new UsageError('give at least one history file');
    const options: FileOptions = {
      model: choice(values.model, '--model', modelNames),
      format: choice(values.format, '--format', formatNames),
      timeoutMs: values.timeout === undefined ? undefined : parsePositiveNumber(values.timeout, '--timeout') * 1000,
      json: values.json,
      htmlDirectory: values.html,
    };
    if (options.htmlDirectory !== undefined) mkdirSync(options.htmlDirectory, { recursive: true });
    const pages = new Set<string>();
    const outcomes = positionals.map((file) => checkFile(file, options, io, pages));
    if (outcomes.includes('bad-input')) return exitUsage;
    if (outcomes.includes('not-linearizable')) return exitViolation;
    if (outcomes.includes('unknown')) return exitUnknown;
    return exitOk;
  },
};

interface FileOptions {
  readonly model: ModelName | undefined;
  readonly format: FormatName | undefined;
  readonly timeoutMs: number | undefined;
  readonly json: boolean;
  readonly htmlDirectory: string | undefined;
}

function checkFile(file: string, options: FileOptions, io: Io, pages: Set<string>): CheckResult['verdict'] | 'bad-input' {
  const history = readHistory(file, options, io);
  if (history === undefined) return 'bad-input';
  const started = performance.now();
  const { model, result } = checkTypedHistory(history, options.timeoutMs === undefined ? {} : { budget: { timeoutMs: options.timeoutMs } });
  const ms = Math.round((performance.now() - started) * 10) / 10;
  const operations = history.operations as readonly Operation<unknown, unknown>[];
  if (options.json) {
    io.out(JSON.stringify({ file, result: result.verdict, ops: operations.length, ms }));
  } else {
    const detail = result.verdict === 'unknown' ? `, gave up after ${result.steps} steps` : '';
    io.out(`${file}: ${result.verdict.replace('-', ' ')} (${operations.length} operations, ${ms} ms${detail})`);
    if (result.violation !== undefined) io.out(indent(describeViolation(model, operations, result)));
  }
  if (options.htmlDirectory !== undefined) {
    const page = writePage(file, options.htmlDirectory, model, operations, result, pages);
    if (!options.json) io.out(`  html: ${page}`);
  }
  return result.verdict;
}

/** The parsed history, or undefined after printing why it could not be read. */
function readHistory(file: string, options: FileOptions, io: Io): TypedHistory | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    io.err(`detcd-sim check: ${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return undefined;
  }
  try {
    const parseOptions = { ...(options.format === undefined ? {} : { format: options.format }), ...(options.model === undefined ? {} : { model: options.model }) };
    return parseHistory(text, parseOptions).history;
  } catch (error) {
    if (!(error instanceof HistoryParseError)) throw error;
    io.err(`detcd-sim check: ${file}:${error.line}: ${error.message}`);
    return undefined;
  }
}

function writePage(file: string, directory: string, model: AnyModel, operations: readonly Operation<unknown, unknown>[], result: CheckResult, pages: Set<string>): string {
  let name = `${basename(file)}.html`;
  for (let copy = 2; pages.has(name); copy++) name = `${basename(file)}-${copy}.html`;
  pages.add(name);
  const path = join(directory, name);
  writeFileSync(path, renderHistoryPage(buildTimeline(basename(file), model, operations, result)));
  return path;
}

function choice<T extends string>(value: string | undefined, flag: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as T)) throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
