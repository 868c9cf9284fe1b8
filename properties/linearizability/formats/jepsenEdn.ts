/**
 * Jepsen's key/value histories, one EDN map per line (`{:process 0, :type :invoke, :f :append,
 * :key "1", :value "x 0 0 y"}`), as in properties/linearizability/histories/porcupine-jepsen/kv. The line number
 * is the time. `:fail` means the operation did not happen; `:info`, or no completion at all, an
 * unknown outcome. Lines from the `:nemesis` process are not client operations and are skipped.
 * A get that returns nil read a missing key, which reads as "" (Porcupine's kvModel).
 */
import type { Operation, Outcome } from '../history.ts';
import type { KeyValueInput, KeyValueOutput } from '../models/keyValue.ts';
import { readEdnMap, type EdnScalar } from './ednMap.ts';
import { HistoryParseError, linesOf, quoted } from './parseError.ts';
import { PendingOperations } from './pendingOperations.ts';

const outcomes: Record<string, Outcome> = { ok: 'ok', fail: 'fail', info: 'unknown' };

export function parseJepsenEdn(text: string): Operation<KeyValueInput, KeyValueOutput>[] {
  const operations = new PendingOperations<KeyValueInput, KeyValueOutput>();
  linesOf(text).forEach((content, index) => {
    const line = index + 1;
    if (content.trim() === '') return;
    let entries: Map<string, EdnScalar>;
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
    const processField = field('process');
    if (processField.kind === 'keyword' && processField.name === 'nemesis') return;
    if (processField.kind !== 'integer' || processField.value < 0) throw new HistoryParseError(line, ':process must be a non-negative integer');
    const type = keyword(line, field('type'), ':type');
    const f = keyword(line, field('f'), ':f');
    if (f !== 'get' && f !== 'put' && f !== 'append') throw new HistoryParseError(line, `:f must be :get, :put or :append, got :${quoted(f)}`);
    const key = keyText(line, field('key'));
    const value = field('value');
    if (type === 'invoke') {
      operations.invoke(line, processField.value, f, invocation(line, f, key, value));
      return;
    }
    const outcome = outcomes[type];
    if (outcome === undefined) throw new HistoryParseError(line, `:type must be :invoke, :ok, :fail or :info, got :${quoted(type)}`);
    operations.complete(line, processField.value, f, outcome, (input) => {
      if (input.key !== key) throw new HistoryParseError(line, `completes key ${quoted(key)} but the invocation was for ${quoted(input.key)}`);
      if (input.kind !== 'get') return {};
      if (value.kind === 'nil') return { value: '' };
      return { value: stringValue(line, value) };
    });
  });
  return operations.finish();
}

function invocation(line: number, f: 'get' | 'put' | 'append', key: string, value: EdnScalar): KeyValueInput {
  if (f === 'get') return { kind: 'get', key };
  return { kind: f, key, value: stringValue(line, value) };
}

function keyword(line: number, value: EdnScalar, name: string): string {
  if (value.kind !== 'keyword') throw new HistoryParseError(line, `${name} must be a keyword`);
  return value.name;
}

/** Keys are strings; integer keys (common in Jepsen) are read as their decimal text. */
function keyText(line: number, value: EdnScalar): string {
  if (value.kind === 'string') return value.text;
  if (value.kind === 'integer') return String(value.value);
  throw new HistoryParseError(line, ':key must be a string or an integer');
}

function stringValue(line: number, value: EdnScalar): string {
  if (value.kind !== 'string') throw new HistoryParseError(line, ':value must be a string');
  return value.text;
}
