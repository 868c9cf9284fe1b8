/**
 * `check` tried as a hostile user would (issue 12): every input that could make it change what a
 * history says, or run out of memory, gets a right verdict or one clear line and exit 2, and
 * every file on the command line gets its line.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkLinearizability } from '../../properties/linearizability/checker.ts';
import type { Operation } from '../../properties/linearizability/history.ts';
import { registerModel, type RegisterInput, type RegisterOutput } from '../../properties/linearizability/models/register.ts';
import { main } from '../detcd-sim.ts';
import { scratchFolder } from '../../runtime/_test/scratch.ts';

const scratch = scratchFolder('detcd-check-hostile-');

function file(name: string, content: string | Uint8Array): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

async function check(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['check', ...argv], { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const line = (fields: object) => JSON.stringify(fields);
const header = line({ history: 'detcd', version: 1, model: 'register' });
const registerWrite = (process: number, invoke: number, complete: number, value: string) =>
  `{"process":${process},"invoke":${invoke},"complete":${complete},"outcome":"ok","input":{"kind":"write","value":${value}},"output":{}}`;
const registerRead = (process: number, invoke: number, complete: number, value: string) =>
  `{"process":${process},"invoke":${invoke},"complete":${complete},"outcome":"ok","input":{"kind":"read"},"output":{"value":${value}}}`;

test('integers beyond 2^53 are refused, not rounded into a wrong verdict', async (t) => {
  // Rounded, the read would see the value written; exact, it does not.
  const rounded = file('big.jsonl', [header, registerWrite(0, 0, 1, '9007199254740993'), registerRead(1, 2, 3, '9007199254740992')].join('\n'));
  const { code, err } = await check(rounded);
  t.is(code, 2);
  t.regex(err, /big\.jsonl:2: the integer "9007199254740993" cannot be kept exact/);
  const edn = file('big.edn', '{:process 0, :type :invoke, :f :put, :key 18446744073709551617, :value "x"}\n');
  t.regex((await check(edn)).err, /big\.edn:1: .*cannot be kept exact/);
  const log = file('big.log', 'INFO  jepsen.util - 0\t:invoke\t:write\t9007199254740993\n');
  t.regex((await check(log)).err, /big\.log:1: the integer "9007199254740993" cannot be kept exact/);
});

test('two different decimals that are one 64-bit float are refused; exact ones are kept', async (t) => {
  const merged = file('decimals.jsonl', [header, registerWrite(0, 0, 1, '0.30000000000000001'), registerRead(1, 2, 3, '0.3')].join('\n'));
  t.regex((await check(merged)).err, /decimals\.jsonl:3: the number "0\.3" and another number on line 2 differ, but are the same 64-bit float/);
  const fine = file('fine.jsonl', [header, registerWrite(0, 0.5, 1.25, '4611686018427387904'), registerRead(1, 2, 3, '4611686018427387904')].join('\n'));
  t.is((await check(fine)).code, 0, '2^62 is an exact float');
});

test('invalid UTF-8 is refused with its line and byte, never replaced', async (t) => {
  // Replaced by U+FFFD, the two keys would merge and the history look non-linearizable.
  const prefix = Buffer.from(`${line({ history: 'detcd', version: 1, model: 'kv' })}\n{"process":0,"invoke":0,"complete":1,"outcome":"ok","input":{"kind":"put","key":"`);
  const bytes = Buffer.concat([prefix, Buffer.from([0xff]), Buffer.from('","value":"a"},"output":{}}\n')]);
  const { code, err } = await check(file('bytes.jsonl', bytes));
  t.is(code, 2);
  t.regex(err, /bytes\.jsonl:2: invalid UTF-8 at byte 82 of the line \(0xff\)/);
  const surrogate = file('surrogate.jsonl', `${line({ history: 'detcd', version: 1, model: 'kv' })}\n{"process":0,"invoke":0,"complete":1,"outcome":"ok","input":{"kind":"put","key":"\\ud800","value":"a"},"output":{}}\n`);
  t.regex((await check(surrogate)).err, /surrogate\.jsonl:2: a string holds an unpaired surrogate escape/);
});

test('a UTF-8 byte-order mark is accepted; a UTF-16 one is named', async (t) => {
  const text = [header, registerWrite(0, 0, 1, '1'), registerRead(1, 2, 3, '1')].join('\n');
  t.is((await check(file('bom.jsonl', `\uFEFF${text}`))).code, 0);
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  const { code, err } = await check(file('utf16.jsonl', utf16));
  t.is(code, 2);
  t.regex(err, /utf16\.jsonl:1: the file starts with a UTF-16 \(little-endian\) byte-order mark; histories are read as UTF-8/);
});

test('one process with two overlapping operations is refused', async (t) => {
  const overlapping = file('overlap.jsonl', [header, registerWrite(0, 0, 10, '1'), registerRead(0, 5, 6, '1')].join('\n'));
  t.regex((await check(overlapping)).err, /overlap\.jsonl:3: process 0 has two operations at once: lines 2 and 3 overlap/);
  const forever = file('forever.jsonl', [header, '{"process":0,"invoke":0,"outcome":"unknown","input":{"kind":"write","value":1}}', registerRead(0, 5, 6, '1')].join('\n'));
  t.regex((await check(forever)).err, /keeps its process busy for good/);
  const backToBack = file('back.jsonl', [header, registerWrite(0, 0, 5, '1'), registerRead(0, 5, 6, '1')].join('\n'));
  t.is((await check(backToBack)).code, 0, 'completing at the instant of the next invocation is not an overlap');
});

test('error lines stay short whatever the input echoes', async (t) => {
  const longName = 'f'.repeat(1 << 20);
  const { code, err } = await check(file('field.jsonl', `{"process":0,"invoke":0,"complete":1,"outcome":"ok","input":{"kind":"read"},"output":{"value":1},"${longName}":1}\n`));
  t.is(code, 2);
  t.true(err.length < 300, `${err.length} characters`);
  t.regex(err, /field\.jsonl:1: the line has an unknown field "f{40}"… \(1048576 characters\)/);
});

test('a check that runs out of memory says unknown, and the next file is still checked', async (t) => {
  // 60 concurrent writes and a read of a value none wrote: every subset of writes is a
  // configuration, so the search's memory grows until the budget stops it.
  const hard = file('hard.jsonl', [header, ...Array.from({ length: 60 }, (_, i) => registerWrite(i, 0, 100, String(i))), registerRead(99, 101, 102, '1000')].join('\n'));
  const easy = file('easy.jsonl', [header, registerWrite(0, 0, 1, '1'), registerRead(1, 2, 3, '1')].join('\n'));
  const { code, out } = await check(hard, easy, '--memory', '8');
  t.is(code, 3);
  t.regex(out, /hard\.jsonl: unknown \(61 operations, [\d.]+ ms, gave up after \d+ steps: the memory budget of 8 MB is spent \(--memory\)\)/);
  t.regex(out, /easy\.jsonl: linearizable/);
  t.regex((await check(easy, '--memory', '0')).err, /--memory must be at least 1/);
  t.regex((await check(easy, '--memory', '99999999')).err, /--memory 99999999 is more than this process may use/);
});

test('the memory a search holds stays within its budget, measured on the heap', (t) => {
  const history: Operation<RegisterInput, RegisterOutput>[] = Array.from({ length: 60 }, (_, i) => ({ process: i, invokedAt: 0, completedAt: 100, input: { kind: 'write', value: i }, output: {}, outcome: 'ok' }));
  history.push({ process: 99, invokedAt: 101, completedAt: 102, input: { kind: 'read' }, output: { value: 1000 }, outcome: 'ok' });
  const budget = 24 * 2 ** 20;
  const before = process.memoryUsage();
  let measured = 0;
  // The budget's clock is read every few hundred steps: a place to look at the heap from.
  const clock = () => {
    const now = process.memoryUsage();
    measured = Math.max(measured, now.heapUsed + now.arrayBuffers - before.heapUsed - before.arrayBuffers);
    return performance.now();
  };
  const result = checkLinearizability(registerModel, history, { budget: { memoryBytes: budget, timeoutMs: 600_000, clock } });
  t.is(result.verdict, 'unknown');
  t.is(result.exhaustion, 'memory');
  t.true(result.peakBytes <= budget);
  // Garbage not yet collected counts on the heap too: allow for it.
  t.true(measured < 1.5 * budget, `${(measured / 2 ** 20).toFixed(1)} MB measured for a budget of 24 MB`);
});

test('etcd keys that JavaScript would order unlike etcd are refused', async (t) => {
  const put = (process: number, key: string, revision: number) => JSON.stringify({ process, invoke: process * 2, complete: process * 2 + 1, outcome: 'ok', input: { kind: 'put', key, value: 'v' }, output: { revision } });
  const mixed = file('order.jsonl', [JSON.stringify({ history: 'detcd', version: 1, model: 'etcd' }), put(0, '\u{1F600}', 2), put(1, '\uFFFD', 3)].join('\n'));
  const { code, err } = await check(mixed);
  t.is(code, 2);
  t.regex(err, /order\.jsonl:3: the history mixes characters above U\+FFFF \(line 2\) with U\+E000–U\+FFFF \(line 3\)/);
  const astralOnly = file('astral.jsonl', [JSON.stringify({ history: 'detcd', version: 1, model: 'etcd' }), put(0, '\u{1F600}', 2), put(1, 'b', 3)].join('\n'));
  t.is((await check(astralOnly)).code, 0);
});
