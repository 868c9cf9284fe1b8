/**
 * `detcd-sim check FILE...`: checks histories for linearizability and prints one verdict per
 * file (or one JSON object per line), with a witness for each violation. Exit codes: 0 all
 * linearizable, 1 some history is not, 3 some check ran out of budget (time, steps or memory) and
 * none is not, 2 bad input (which wins: a file that could not be read was not checked). Every
 * file gets its line, whatever happened to the others.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { defaultMemoryBytes } from '../../properties/linearizability/budget.ts';
import type { CheckResult } from '../../properties/linearizability/checker.ts';
import { historyText } from '../../properties/linearizability/formats/historyText.ts';
import { HistoryParseError } from '../../properties/linearizability/formats/parseError.ts';
import { formatNames, parseHistory, type FormatName } from '../../properties/linearizability/formats/parseHistory.ts';
import { checkTypedHistory, modelNames, type ModelName, type TypedHistory } from '../../properties/linearizability/formats/typedHistory.ts';
import type { Operation } from '../../properties/linearizability/history.ts';
import type { AnyModel } from '../../properties/linearizability/model.ts';
import { buildTimeline } from '../../properties/linearizability/timeline.ts';
import { describeViolation, violationWitness } from '../../properties/linearizability/witness.ts';
import { renderHistoryPage } from '../../reports/historyPage.ts';
import type { Command, Io } from '../cli/command.ts';
import { makeOutputFolder } from '../cli/files.ts';
import { exitOk, exitUnknown, exitUsage, exitViolation, parseCommandLine, parseNat, parsePositiveNumber, UsageError } from '../cli/usage.ts';

const defaultMemoryMb = defaultMemoryBytes / 2 ** 20;

const help = `usage: detcd-sim check FILE... [--model register|registers|kv|etcd]
                       [--format jepsen-log|jepsen-edn|jsonl|etcd-robustness]
                       [--timeout SECONDS] [--memory MB] [--json] [--html DIR]

Checks each history for linearizability against a sequential model. FILE "-" reads standard
input; a folder is an etcd robustness report (its client-<id>/operations.json, checked together).

  --model M       register (read/write/cas), registers (one register per key), kv
                  (get/put/append, checked per key) or etcd (range/put/delete/txn/compact with
                  revisions). Default: from the format or the file.
  --format F      jepsen-log (Jepsen etcd register logs), jepsen-edn (Jepsen history.edn:
                  key/value, or registers with :read/:write/:cas, independent keys [k v]),
                  jsonl (detcd's JSON lines, see README) or etcd-robustness (etcd's
                  robustness-test operations.json). Default: detected from the first line.
  --timeout S     give up on a file after S seconds (result "unknown"). Default: no limit.
  --memory MB     the most memory one check may hold; past it the result is "unknown".
                  Default: ${defaultMemoryMb}.
  --json          one JSON object per file per line: {"file", "result", "ops", "ms",
                  "parseMs", "cpuMs"} (ms: the check; parseMs: reading and parsing the
                  file; cpuMs: the CPU both took, the process's threads included), with
                  "reason" when unknown and "witness" when not linearizable.
  --html DIR      also write DIR/<file>.html, a page showing each history and its linearization.

Files are read as UTF-8 and never guessed at: invalid bytes, numbers that would lose precision
and operations of one process that overlap are refused with the line they are on.
Exit status: 0 every file is linearizable, 1 some file is not, 3 some check ran out of time
or memory (and none is not), 2 bad input.`;

export const checkCommand: Command = {
  name: 'check',
  summary: 'check histories for linearizability (Jepsen logs and EDN, detcd JSON lines)',
  help,
  run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      {
        model: { type: 'string' },
        format: { type: 'string' },
        timeout: { type: 'string' },
        memory: { type: 'string' },
        json: { type: 'boolean', default: false },
        html: { type: 'string' },
      },
      true,
    );
    if (positionals.length === 0) throw new UsageError('give at least one history file (or "-" for standard input)');
    const options: FileOptions = {
      model: choice(values.model, '--model', modelNames),
      format: choice(values.format, '--format', formatNames),
      timeoutMs: values.timeout === undefined ? undefined : parsePositiveNumber(values.timeout, '--timeout') * 1000,
      memoryBytes: memoryBytes(values.memory),
      json: values.json,
      htmlDirectory: values.html,
    };
    if (options.htmlDirectory !== undefined) makeOutputFolder(options.htmlDirectory, '--html');
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
  readonly memoryBytes: number;
  readonly json: boolean;
  readonly htmlDirectory: string | undefined;
}

function memoryBytes(text: string | undefined): number {
  if (text === undefined) return defaultMemoryBytes;
  const megabytes = parseNat(text, '--memory');
  if (megabytes === 0) throw new UsageError('--memory must be at least 1 (MB)');
  // The states a search keeps live on the JavaScript heap: a budget past its limit would let the
  // process die instead of answering "unknown".
  const heapMb = Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20);
  if (megabytes > heapMb) throw new UsageError(`--memory ${megabytes} is more than this process may use (${heapMb} MB of heap); raise that with NODE_OPTIONS=--max-old-space-size=<MB>`);
  return megabytes * 2 ** 20;
}

/**
 * Milliseconds from an arbitrary origin. Not `performance.now()`: its first call loads
 * `perf_hooks`, about 1-1.5 ms of CPU, a tenth of a cold check of 2,000 operations (task checker12).
 */
function now(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1000 + nanoseconds / 1e6;
}

function checkFile(file: string, options: FileOptions, io: Io, pages: Set<string>): CheckResult['verdict'] | 'bad-input' {
  const reading = now();
  const cpuAtStart = process.cpuUsage();
  const history = readHistory(file, options, io);
  if (history === undefined) return 'bad-input';
  const started = now();
  const parseMs = Math.round((started - reading) * 10) / 10;
  const budget = { memoryBytes: options.memoryBytes, clock: now, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) };
  const { model, result } = checkTypedHistory(history, { budget });
  const ms = Math.round((now() - started) * 10) / 10;
  // CPU beside wall: on a shared machine the wall clock also counts other processes' turns.
  const cpu = process.cpuUsage(cpuAtStart);
  const cpuMs = Math.round((cpu.user + cpu.system) / 100) / 10;
  const operations = history.operations as readonly Operation<unknown, unknown>[];
  const reason = result.exhaustion === undefined ? undefined : reasonText(result, options);
  if (options.json) {
    const witness = violationWitness(model, operations, result);
    io.out(JSON.stringify({ file, result: result.verdict, ops: operations.length, ms, parseMs, cpuMs, ...(reason === undefined ? {} : { reason: result.exhaustion, detail: reason }), ...(witness === undefined ? {} : { witness }) }));
  } else {
    const detail = reason === undefined ? '' : `, ${reason}`;
    io.out(`${file}: ${result.verdict.replace('-', ' ')} (${operations.length} operations, ${ms} ms${detail})`);
    if (result.violation !== undefined) io.out(indent(describeViolation(model, operations, result)));
  }
  if (options.htmlDirectory !== undefined) {
    const page = writePage(file, options.htmlDirectory, model, operations, result, pages, io);
    if (page === undefined) return 'bad-input';
    if (!options.json) io.out(`  html: ${page}`);
  }
  return result.verdict;
}

function reasonText(result: CheckResult, options: FileOptions): string {
  switch (result.exhaustion) {
    case 'memory':
      return `gave up after ${result.steps} steps: the memory budget of ${Math.round(options.memoryBytes / 2 ** 20)} MB is spent (--memory)`;
    case 'time':
      return `gave up after ${result.steps} steps: out of time (--timeout)`;
    default:
      return `gave up after ${result.steps} steps`;
  }
}

/** The parsed history, or undefined after printing why it could not be read. */
function readHistory(file: string, options: FileOptions, io: Io): TypedHistory | undefined {
  let parts: { name: string; bytes: Uint8Array }[];
  try {
    if (file === '-' && io.stdin === undefined) throw Object.assign(new Error('no standard input'), { code: 'ENOSTDIN' });
    parts = file === '-' ? [{ name: file, bytes: io.stdin!() }] : statSync(file).isDirectory() ? reportFiles(file) : [{ name: file, bytes: readFileSync(file) }];
  } catch (error) {
    const reason = error instanceof UsageError ? error.message : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
    io.err(`detcd-sim check: ${file}: cannot read: ${reason}`);
    return undefined;
  }
  const parseOptions = { ...(options.format === undefined ? {} : { format: options.format }), ...(options.model === undefined ? {} : { model: options.model }) };
  let part = parts[0]!;
  try {
    if (parts.length === 1) return parseHistory(historyText(part.bytes), parseOptions).history;
    // A report folder: every client's operations, read (and checked for errors) one by one.
    const texts = parts.map((each) => {
      part = each;
      const text = historyText(each.bytes);
      parseHistory(text, { ...parseOptions, format: 'etcd-robustness' });
      return text;
    });
    part = { name: file, bytes: new Uint8Array() };
    return parseHistory(texts.join('\n'), { ...parseOptions, format: 'etcd-robustness' }).history;
  } catch (error) {
    if (!(error instanceof HistoryParseError)) throw error;
    io.err(`detcd-sim check: ${part.name}:${error.line}: ${error.message}`);
    return undefined;
  }
}

/**
 * An etcd robustness report folder: the operations.json of every client-<id> folder in it (or in
 * its own folder of that name), ordered by client id.
 */
function reportFiles(directory: string): { name: string; bytes: Uint8Array }[] {
  const clients = readdirSync(directory)
    .filter((name) => /^client-\d+$/.test(name) && existsSync(join(directory, name, 'operations.json')))
    .sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)));
  if (clients.length === 0) throw new UsageError('a folder must be an etcd robustness report, with client-<id>/operations.json files');
  return clients.map((client) => {
    const name = join(directory, client, 'operations.json');
    return { name, bytes: readFileSync(name) };
  });
}

/** Writes the page; undefined after printing why it could not be written. */
function writePage(file: string, directory: string, model: AnyModel, operations: readonly Operation<unknown, unknown>[], result: CheckResult, pages: Set<string>, io: Io): string | undefined {
  const title = file === '-' ? 'stdin' : basename(file);
  let name = `${title}.html`;
  for (let copy = 2; pages.has(name); copy++) name = `${title}-${copy}.html`;
  pages.add(name);
  const path = join(directory, name);
  try {
    writeFileSync(path, renderHistoryPage(buildTimeline(title, model, operations, result)));
  } catch (error) {
    io.err(`detcd-sim check: ${path}: cannot write: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return undefined;
  }
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
