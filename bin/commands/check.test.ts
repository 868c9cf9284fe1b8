import test from 'ava';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from '../../sim/rng.ts';
import { formatJsonLines } from '../../properties/linearizability/formats/jsonLines.ts';
import { atomicEtcd } from '../../properties/linearizability/_test/atomicObjects.ts';
import { simulateHistory } from '../../properties/linearizability/_test/simulateHistory.ts';
import { main } from '../detcd-sim.ts';
import { scratchFolder } from '../../runtime/_test/scratch.ts';

const histories = join(import.meta.dirname, '../../properties/linearizability/histories/porcupine-jepsen');
const linearizable = join(histories, 'jepsen/etcd_002.log');
const violation = join(histories, 'jepsen/etcd_000.log');
const kvViolation = join(histories, 'kv/c01-bad.txt');
const scratch = scratchFolder('detcd-check-');

async function check(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['check', ...argv], { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function scratchFile(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

/** 40 concurrent register writes, then a read of a value none wrote: exponential to refute by search. */
const hardHistory = scratchFile(
  'hard.jsonl',
  [
    ...Array.from({ length: 40 }, (_, i) => JSON.stringify({ process: i, invoke: 0, complete: 100, outcome: 'ok', input: { kind: 'write', value: i }, output: {} })),
    JSON.stringify({ process: 99, invoke: 101, complete: 102, outcome: 'ok', input: { kind: 'read' }, output: { value: 1000 } }),
  ].join('\n'),
);

test('exit 0 and one JSON line per file when every history is linearizable', async (t) => {
  const { code, out } = await check(linearizable, join(histories, 'jepsen/etcd_095.log'), '--json');
  t.is(code, 0);
  const lines = out.split('\n').map((line) => JSON.parse(line) as { file: string; result: string; ops: number; ms: number; parseMs: number; cpuMs: number });
  t.deepEqual(
    lines.map(({ file, result, ops }) => ({ file, result, ops })),
    [
      { file: linearizable, result: 'linearizable', ops: 77 },
      { file: join(histories, 'jepsen/etcd_095.log'), result: 'linearizable', ops: 0 },
    ],
  );
  t.true(lines.every((line) => [line.ms, line.parseMs, line.cpuMs].every((figure) => typeof figure === 'number' && figure >= 0)));
});

test('exit 1 with a witness when a history is not linearizable', async (t) => {
  const { code, out } = await check(linearizable, violation);
  t.is(code, 1);
  t.regex(out, /etcd_002\.log: linearizable \(77 operations/);
  t.regex(out, /etcd_000\.log: not linearizable \(85 operations/);
  t.regex(out, /longest linearizable prefix found has \d+ of 85 operations/);
  t.regex(out, /none of these pending operations can take effect next \(with the state they see\):\n\s+#\d+ process \d+ \[\d+, \d+\] read\(\) → \d/);
});

test('exit 3 when a check runs out of time (or memory) and nothing is refuted', async (t) => {
  const timedOut = await check(hardHistory, '--timeout', '0.05', '--json');
  t.is(timedOut.code, 3);
  t.like(JSON.parse(timedOut.out), { result: 'unknown', reason: 'time' });
  // A memory budget ends the hard search whatever the machine's load, so the other file's
  // verdict cannot depend on it.
  const { code, out } = await check(hardHistory, linearizable, '--memory', '8', '--json');
  t.is(code, 3);
  t.deepEqual(
    out.split('\n').map((line) => (JSON.parse(line) as { result: string }).result),
    ['unknown', 'linearizable'],
  );
});

test('a violation outranks an unknown result; bad input outranks both', async (t) => {
  t.is((await check(hardHistory, kvViolation, '--memory', '8')).code, 1);
  const bad = scratchFile('bad.log', 'INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:write\t3\n');
  const { code, err, out } = await check(violation, bad);
  t.is(code, 2);
  t.is(err, `detcd-sim check: ${bad}:2: process 0 completes write but its pending operation is read`);
  t.regex(out, /etcd_000\.log: not linearizable/, 'the other files are still checked');
});

test('unreadable files and bad options are usage errors', async (t) => {
  const missing = join(scratch, 'missing.log');
  t.deepEqual(await check(missing), { code: 2, out: '', err: `detcd-sim check: ${missing}: cannot read: ENOENT` });
  t.is((await check()).code, 2);
  t.regex((await check(linearizable, '--model', 'queue')).err, /--model must be one of register, registers, kv, etcd/);
  t.regex((await check(linearizable, '--timeout', 'soon')).err, /--timeout must be a positive number/);
  t.regex((await check(linearizable, '--model', 'kv')).err, /etcd_002\.log:1: a jepsen-log history is checked with the register model, not kv/);
  t.regex((await check(linearizable, '--frobnicate')).err, /Unknown option '--frobnicate'/);
});

test('format and model are detected, and may be given', async (t) => {
  const random = new SeededRandom('cli-etcd');
  const operations = simulateHistory(random, { clients: 4, operations: 200, failPercent: 5, unknownPercent: 5, latencyMax: 6, thinkMax: 3 }, atomicEtcd());
  const text = formatJsonLines({ model: 'etcd', operations, initialRevision: 1 });
  const withoutHeader = scratchFile('etcd.jsonl', text.slice(text.indexOf('\n') + 1));
  t.is((await check(withoutHeader)).code, 0);
  t.is((await check(withoutHeader, '--model', 'etcd', '--format', 'jsonl')).code, 0);
  t.is((await check(kvViolation, '--format', 'jepsen-edn', '--model', 'kv')).code, 1);
  t.is((await check(scratchFile('notes.txt', 'hello\n'))).err, `detcd-sim check: ${join(scratch, 'notes.txt')}:1: cannot tell the format: expected a Jepsen log line, an EDN map or a JSON object (or give --format)`);
});

test('--html writes one self-contained page per history', async (t) => {
  const directory = join(scratch, 'pages');
  const { code, out } = await check(violation, kvViolation, '--html', directory);
  t.is(code, 1);
  t.deepEqual(readdirSync(directory).sort(), ['c01-bad.txt.html', 'etcd_000.log.html']);
  t.regex(out, /html: .*etcd_000\.log\.html/);
  const page = readFileSync(join(directory, 'etcd_000.log.html'), 'utf8');
  t.regex(page, /<script type="application\/json" id="history-data">\{/);
  t.notRegex(page, /<script src=|<link /);
});

test('--help describes the options and exit codes', async (t) => {
  const { code, out } = await check('--help');
  t.is(code, 0);
  t.regex(out, /--timeout S/);
  t.regex(out, /Exit status: 0 every file is linearizable, 1 some file is not, 3/);
});
