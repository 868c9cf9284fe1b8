/**
 * Every history in histories/porcupine-jepsen (copied from Porcupine's test data, MIT licence,
 * LICENSE-porcupine beside them) gets the verdict its expected.tsv gives (the verdicts Porcupine's
 * own tests assert).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHistory } from './formats/parseHistory.ts';
import { checkTypedHistory } from './formats/typedHistory.ts';

const folder = join(import.meta.dirname, 'histories/porcupine-jepsen');
const rows = readFileSync(join(folder, 'expected.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [file, expected, operations, model] = line.split('\t');
    return { file: file!, expected: expected!, operations: Number(operations), model: model! };
  });

test('expected.tsv lists the 103 etcd logs and the 6 key/value histories', (t) => {
  t.is(rows.filter((row) => row.file.startsWith('jepsen/')).length, 103);
  t.is(rows.filter((row) => row.file.startsWith('kv/')).length, 6);
});

for (const row of rows) {
  test(`${row.file} is ${row.expected === 'none' ? 'an empty history' : row.expected}`, (t) => {
    const { history } = parseHistory(readFileSync(join(folder, row.file), 'utf8'));
    // The empty etcd_095 names no model ("-"); an empty history is linearizable under any.
    if (row.model !== '-') t.is(history.model, row.model === 'etcd-cas-register' ? 'register' : 'kv');
    t.is(history.operations.length, row.operations);
    const { result } = checkTypedHistory(history);
    t.is(result.verdict as string, row.expected === 'none' ? 'linearizable' : row.expected);
  });
}

test('kv/c10-ok.txt is linearizable checked as one partition, and c10-bad is not', (t) => {
  for (const [file, expected] of [
    ['kv/c10-ok.txt', 'linearizable'],
    ['kv/c10-bad.txt', 'not-linearizable'],
  ] as const) {
    const { history } = parseHistory(readFileSync(join(folder, file), 'utf8'));
    const { result } = checkTypedHistory(history, { unpartitioned: true });
    t.is(result.partitions.length, 1);
    t.is(result.verdict, expected, file);
  }
});
