/**
 * `check` reads the histories users already have (issue 11): Jepsen's history.edn (registers,
 * independent keys, :info, :fail, new process ids after a crash, nemesis lines), etcd's
 * robustness reports (a folder of client-<id>/operations.json), Porcupine's formats, JSON lines;
 * "-" reads standard input; --json carries the witness; --html on a bad folder is one line.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEdnMap } from '../../properties/linearizability/formats/ednMap.ts';
import { parseHistory } from '../../properties/linearizability/formats/parseHistory.ts';
import { main } from '../detcd-sim.ts';
import { scratchFolder } from '../../runtime/_test/scratch.ts';

const samples = join(import.meta.dirname, '../../properties/linearizability/histories/samples');
const scratch = scratchFolder('detcd-check-tools-');

async function check(argv: string[], stdin?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (text: string) => out.push(text), err: (text: string) => err.push(text), ...(stdin === undefined ? {} : { stdin: () => Buffer.from(stdin) }) };
  const code = await main(['check', ...argv], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test("Jepsen's history.edn with independent keys: one register per key, :info unknown, :fail did not happen", async (t) => {
  const file = join(samples, 'jepsen-independent-registers.edn');
  const { history, format } = parseHistory(readFileSync(file, 'utf8'));
  t.is(format, 'jepsen-edn');
  t.is(history.model, 'registers');
  const outcomes = history.operations.map((operation) => `${(operation.input as { key: string }).key}:${operation.input.kind}:${operation.outcome}`);
  t.deepEqual(outcomes, ['0:write:ok', '1:read:ok', '0:cas:unknown', '1:write:fail', '0:read:ok', '1:cas:fail', '1:read:ok']);
  t.is((await check([file])).code, 0);
  const stale = await check([join(samples, 'jepsen-register-stale.edn')]);
  t.is(stale.code, 1);
  t.regex(stale.out, /#2 process 2 \[5, 6\] read\(\) → 1  ⇐  2/);
});

test('the EDN reader takes the nested forms Jepsen lines hold, and refuses what it cannot keep', (t) => {
  const entries = readEdnMap('{:type :info, :f :start, :value [:isolated {"n1" #{"n2" "n3"}}], :error (:a "b" \\c 1.5), :x #jepsen.independent.Tuple {:key 3 :value nil} ; note\n}');
  t.is(entries.get('value')?.kind, 'vector');
  t.is(entries.get('x')?.kind, 'tagged');
  t.throws(() => readEdnMap('{:value 99999999999999999999}'), { message: /cannot be kept exact/ });
  t.throws(() => readEdnMap('{:value [1 2}'), { message: /missing "\]"|unexpected/ });
  t.throws(() => readEdnMap(`{:value ${'['.repeat(100)}${']'.repeat(100)}}`), { message: /nested more than 64 deep/ });
});

test("etcd's robustness report: every client's operations.json checked together", async (t) => {
  const report = join(samples, 'etcd-robustness-report');
  const { code, out } = await check([report, '--json']);
  t.is(code, 0);
  t.like(JSON.parse(out), { result: 'linearizable', ops: 12 });
  const single = await check([join(report, 'client-1', 'operations.json')]);
  t.regex(single.out, /operations\.json: (not )?linearizable \(6 operations/, 'one client alone is a history too');
  const stale = await check([join(samples, 'etcd-robustness-stale'), '--json']);
  t.is(stale.code, 1);
  const result = JSON.parse(stale.out) as { witness: { stuck: { index: number; operation: string }[]; cause: string } };
  t.deepEqual(
    result.witness.stuck.map((operation) => operation.index),
    [2],
  );
  t.regex(result.witness.cause, /#2 must take effect before #1/);
  const notReport = await check([scratch]);
  t.is(notReport.code, 2);
  t.regex(notReport.err, /cannot read: a folder must be an etcd robustness report/);
});

test('"-" reads standard input; --json carries the witness of a violation', async (t) => {
  const text = readFileSync(join(samples, 'jepsen-register-stale.edn'), 'utf8');
  const { code, out } = await check(['-', '--json'], text);
  t.is(code, 1);
  const result = JSON.parse(out) as { file: string; result: string; witness: { prefixLength: number; stuck: { index: number; state: string }[] } };
  t.is(result.file, '-');
  t.is(result.result, 'not-linearizable');
  t.is(result.witness.prefixLength, 2);
  t.deepEqual(result.witness.stuck, [{ index: 2, process: 2, invoke: 5, complete: 6, outcome: 'ok', operation: 'read() → 1', state: '2' }]);
});

test('--html on a folder that cannot be made is one clear line and exit 2', async (t) => {
  const file = join(scratch, 'a-file');
  writeFileSync(file, '');
  const { code, err, out } = await check([join(samples, 'jepsen-register-stale.edn'), '--html', join(file, 'pages')]);
  t.is(code, 2);
  t.is(out, '');
  t.regex(err, /^detcd-sim check: --html .*a-file\/pages: cannot create the folder: ENOTDIR$/);
});
