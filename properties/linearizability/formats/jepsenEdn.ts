/**
 * Jepsen's histories as EDN, one map per line (`history.edn`, and Porcupine's kv test data), or
 * the same inside one vector (Knossos' test data, a history printed whole). The
 * line number is the time: Jepsen writes events in the order they happened. `:fail` means the
 * operation did not happen; `:info`, or no completion at all, an unknown outcome (after which
 * Jepsen goes on with a new process id). Lines from the `:nemesis` process are not client
 * operations and are skipped. Fields other than :process, :type, :f, :key and :value are ignored.
 *
 * Two workloads, told apart by the first client operation's `:f`:
 * - key/value: `:f` :get, :put or :append with a `:key`; a get that returns nil read a missing
 *   key, which reads as "" (Porcupine's kvModel). Checked with the `kv` model.
 * - registers: `:f` :read, :write or :cas, with `:value` v, or [old new] for a cas (`register`
 *   model); with `jepsen.independent`, every value is a tuple [key v] — written as a vector or as
 *   `#jepsen.independent.Tuple {:key k :value v}` — and each key is its own register
 *   (`registers` model). Values are integers, strings or nil. As in Knossos, a `:fail` cas did
 *   not happen.
 */
import type { Operation, Outcome } from '../history.ts';
import type { KeyValueInput, KeyValueOutput } from '../models/keyValue.ts';
import type { RegisterInput, RegisterOutput, RegisterValue } from '../models/register.ts';
import type { RegistersInput } from '../models/registers.ts';
import { readEdnMap, type EdnValue } from './ednMap.ts';
import { HistoryParseError, linesOf, quoted } from './parseError.ts';
import { PendingOperations } from './pendingOperations.ts';
import type { TypedHistory } from './typedHistory.ts';

const outcomes: Record<string, Outcome> = { ok: 'ok', fail: 'fail', info: 'unknown' };

/** One client event of the history. */
interface Event {
  readonly line: number;
  readonly process: number;
  readonly type: 'invoke' | Outcome;
  readonly f: string;
  readonly entries: Map<string, EdnValue>;
}

type Workload = 'kv' | 'register' | 'registers';

export function parseJepsenEdn(text: string): TypedHistory {
  const events = clientEvents(text);
  const workload = workloadOf(events);
  switch (workload) {
    case 'kv':
      return { model: 'kv', operations: keyValueOperations(events) };
    case 'register':
      return { model: 'register', operations: registerOperations(events, false) as Operation<RegisterInput, RegisterOutput>[] };
    case 'registers':
      return { model: 'registers', operations: registerOperations(events, true) as Operation<RegistersInput, RegisterOutput>[] };
  }
}

function clientEvents(text: string): Event[] {
  const events: Event[] = [];
  withoutEnclosingVector(linesOf(text)).forEach((content, index) => {
    const line = index + 1;
    if (content.trim() === '') return;
    let entries: Map<string, EdnValue>;
    try {
      entries = readEdnMap(content);
    } catch (error) {
      throw new HistoryParseError(line, `not an EDN map: ${(error as Error).message}`);
    }
    const field = (name: string) => {
      const value = entries.get(name);
      if (value === undefined) throw new HistoryParseError(line, `missing :${name}`);
      return value;
    };
    const process = field('process');
    if (process.kind === 'keyword' && process.name === 'nemesis') return;
    if (process.kind !== 'integer' || process.value < 0) throw new HistoryParseError(line, ':process must be a non-negative integer (or :nemesis)');
    const typeName = keyword(line, field('type'), ':type');
    const type = typeName === 'invoke' ? 'invoke' : outcomes[typeName];
    if (type === undefined) throw new HistoryParseError(line, `:type must be :invoke, :ok, :fail or :info, got :${quoted(typeName)}`);
    events.push({ line, process: process.value, type, f: keyword(line, field('f'), ':f'), entries });
  });
  return events;
}

/**
 * The lines with a vector around the whole history taken off: Knossos' test data and a history
 * printed whole (`(pr history)`) are one EDN vector of maps, one map per line, `[` before the
 * first and `]` after the last. Line numbers stay as they are.
 */
function withoutEnclosingVector(lines: readonly string[]): string[] {
  const first = lines.findIndex((line) => line.trim() !== '');
  if (first < 0 || !lines[first]!.trimStart().startsWith('[')) return [...lines];
  let last = lines.length - 1;
  while (lines[last]!.trim() === '') last--;
  if (!lines[last]!.trimEnd().endsWith(']')) throw new HistoryParseError(last + 1, `the vector opened on line ${first + 1} is not closed with "]"`);
  const unwrapped = [...lines];
  unwrapped[first] = unwrapped[first]!.replace('[', ' ');
  const closing = unwrapped[last]!.lastIndexOf(']');
  unwrapped[last] = `${unwrapped[last]!.slice(0, closing)} ${unwrapped[last]!.slice(closing + 1)}`;
  return unwrapped;
}

function workloadOf(events: readonly Event[]): Workload {
  const first = events[0];
  if (first === undefined || ['get', 'put', 'append'].includes(first.f)) return 'kv';
  if (!['read', 'write', 'cas'].includes(first.f)) throw new HistoryParseError(first.line, `:f must be :get, :put or :append (key/value) or :read, :write or :cas (registers), got :${quoted(first.f)}`);
  const value = first.entries.get('value');
  const tuple = value !== undefined && keyOfTuple(value) !== undefined;
  // A plain register's cas is [old new] too: only its shape inside tells it from a tuple.
  const independent = first.f === 'cas' ? tuple && value!.kind === 'vector' ? value.items[1]?.kind === 'vector' : tuple : tuple;
  return independent ? 'registers' : 'register';
}

function keyValueOperations(events: readonly Event[]): Operation<KeyValueInput, KeyValueOutput>[] {
  const operations = new PendingOperations<KeyValueInput, KeyValueOutput>();
  for (const { line, process, type, f, entries } of events) {
    if (f !== 'get' && f !== 'put' && f !== 'append') throw new HistoryParseError(line, `:f must be :get, :put or :append, got :${quoted(f)}`);
    const key = keyText(line, entries.get('key'));
    const value = entries.get('value') ?? { kind: 'nil' };
    if (type === 'invoke') {
      operations.invoke(line, process, f, f === 'get' ? { kind: 'get', key } : { kind: f, key, value: stringValue(line, value) });
      continue;
    }
    operations.complete(line, process, f, type, (input) => {
      if (input.key !== key) throw new HistoryParseError(line, `completes key ${quoted(key)} but the invocation was for ${quoted(input.key)}`);
      if (input.kind !== 'get') return {};
      return { value: value.kind === 'nil' ? '' : stringValue(line, value) };
    });
  }
  return operations.finish();
}

function registerOperations(events: readonly Event[], independent: boolean): Operation<RegisterInput | RegistersInput, RegisterOutput>[] {
  const operations = new PendingOperations<RegisterInput | RegistersInput, RegisterOutput>();
  for (const { line, process, type, f, entries } of events) {
    if (f !== 'read' && f !== 'write' && f !== 'cas') throw new HistoryParseError(line, `:f must be :read, :write or :cas, got :${quoted(f)}`);
    const field = entries.get('value') ?? { kind: 'nil' };
    const key = independent ? keyOfTuple(field) : undefined;
    if (independent && key === undefined) throw new HistoryParseError(line, ':value must be a [key value] tuple (jepsen.independent), as in the rest of the history');
    const value = independent ? valueOfTuple(field) : field;
    const keyed = <T extends RegisterInput>(input: T) => (key === undefined ? input : { ...input, key });
    if (type === 'invoke') {
      operations.invoke(line, process, f, keyed(registerInput(line, f, value)));
      continue;
    }
    operations.complete(line, process, f, type, (input) => {
      if ('key' in input && input.key !== key) throw new HistoryParseError(line, `completes key ${quoted(key ?? '')} but the invocation was for ${quoted(input.key)}`);
      if (input.kind === 'read') return { value: registerValue(line, value) };
      if (input.kind === 'write') return {};
      return { succeeded: true };
    });
  }
  return operations.finish();
}

function registerInput(line: number, f: 'read' | 'write' | 'cas', value: EdnValue): RegisterInput {
  if (f === 'read') return { kind: 'read' };
  if (f === 'write') return { kind: 'write', value: registerValue(line, value) };
  if (value.kind !== 'vector' || value.items.length !== 2) throw new HistoryParseError(line, 'a cas :value must be [old new]');
  return { kind: 'cas', expected: registerValue(line, value.items[0]!), value: registerValue(line, value.items[1]!) };
}

/** The key of a jepsen.independent tuple: [key value] or #jepsen.independent.Tuple {:key k :value v}. */
function keyOfTuple(value: EdnValue): string | undefined {
  if (value.kind === 'vector' && value.items.length === 2) return scalarKey(value.items[0]!);
  if (value.kind === 'tagged' && value.tag.endsWith('Tuple') && value.value.kind === 'map') {
    const key = value.value.entries.find(([name]) => name.kind === 'keyword' && name.name === 'key');
    return key === undefined ? undefined : scalarKey(key[1]);
  }
  return undefined;
}

function valueOfTuple(value: EdnValue): EdnValue {
  if (value.kind === 'vector') return value.items[1]!;
  if (value.kind === 'tagged' && value.value.kind === 'map') return value.value.entries.find(([name]) => name.kind === 'keyword' && name.name === 'value')?.[1] ?? { kind: 'nil' };
  return value;
}

function scalarKey(value: EdnValue): string | undefined {
  if (value.kind === 'integer') return String(value.value);
  if (value.kind === 'string') return value.text;
  if (value.kind === 'keyword') return `:${value.name}`;
  return undefined;
}

function registerValue(line: number, value: EdnValue): RegisterValue {
  if (value.kind === 'nil') return null;
  if (value.kind === 'integer') return value.value;
  if (value.kind === 'string') return value.text;
  throw new HistoryParseError(line, 'register values must be integers, strings or nil');
}

function keyword(line: number, value: EdnValue, name: string): string {
  if (value.kind !== 'keyword') throw new HistoryParseError(line, `${name} must be a keyword`);
  return value.name;
}

/** Keys are strings; integer keys (common in Jepsen) are read as their decimal text. */
function keyText(line: number, value: EdnValue | undefined): string {
  if (value === undefined) throw new HistoryParseError(line, 'missing :key');
  if (value.kind === 'string') return value.text;
  if (value.kind === 'integer') return String(value.value);
  throw new HistoryParseError(line, ':key must be a string or an integer');
}

function stringValue(line: number, value: EdnValue): string {
  if (value.kind !== 'string') throw new HistoryParseError(line, ':value must be a string');
  return value.text;
}
