import test from 'ava';
import { SeededRandom } from '../../sim/rng.ts';
import { checkLinearizability } from './checker.ts';
import { generateKeyValueHistory } from './generator/keyValueHistory.ts';
import type { Operation } from './history.ts';
import { withoutInference } from './model.ts';
import { keyValueModel, type KeyValueInput, type KeyValueOutput } from './models/keyValue.ts';
import { registerModel, type RegisterInput, type RegisterOutput, type RegisterValue } from './models/register.ts';
import { describeViolation } from './witness.ts';

type RegisterOperation = Operation<RegisterInput, RegisterOutput>;

const write = (process: number, invokedAt: number, completedAt: number, value: RegisterValue): RegisterOperation => ({
  process,
  invokedAt,
  completedAt,
  input: { kind: 'write', value },
  output: {},
  outcome: 'ok',
});
const read = (process: number, invokedAt: number, completedAt: number, value: RegisterValue): RegisterOperation => ({
  process,
  invokedAt,
  completedAt,
  input: { kind: 'read' },
  output: { value },
  outcome: 'ok',
});
const unknownWrite = (process: number, invokedAt: number, value: RegisterValue): RegisterOperation => ({
  process,
  invokedAt,
  completedAt: Infinity,
  input: { kind: 'write', value },
  output: undefined,
  outcome: 'unknown',
});

test('an empty history is linearizable', (t) => {
  const result = checkLinearizability(registerModel, []);
  t.is(result.verdict, 'linearizable');
  t.deepEqual(result.partitions, []);
});

test('a read of a value written strictly before it is linearizable; a stale read is not', (t) => {
  t.is(checkLinearizability(registerModel, [write(0, 0, 1, 1), read(1, 2, 3, 1)]).verdict, 'linearizable');
  t.is(checkLinearizability(registerModel, [write(0, 0, 1, 1), write(0, 2, 3, 2), read(1, 4, 5, 1)]).verdict, 'not-linearizable');
});

test('overlapping operations may take effect in either order, and equal times count as overlap', (t) => {
  t.is(checkLinearizability(registerModel, [write(0, 0, 10, 1), read(1, 2, 3, null), read(2, 4, 5, 1)]).verdict, 'linearizable');
  t.is(checkLinearizability(registerModel, [write(0, 0, 5, 1), read(1, 5, 6, null)]).verdict, 'linearizable');
  t.is(checkLinearizability(registerModel, [write(0, 0, 4, 1), read(1, 5, 6, null)]).verdict, 'not-linearizable');
});

test('the linearization found respects the model and real time', (t) => {
  const history = [write(0, 0, 10, 1), read(1, 2, 3, null), read(2, 4, 5, 1), write(1, 6, 8, 2), read(2, 9, 12, 2)];
  const result = checkLinearizability(registerModel, history);
  t.deepEqual(result.partitions[0]!.linearization, [1, 0, 2, 3, 4]);
});

test('an unknown outcome may take effect long after its invocation, or never', (t) => {
  const late = [unknownWrite(0, 0, 1), read(1, 1, 2, null), read(1, 50, 51, 1)];
  t.is(checkLinearizability(registerModel, late).verdict, 'linearizable');
  const never = [unknownWrite(0, 0, 1), read(1, 50, 51, null)];
  t.is(checkLinearizability(registerModel, never).verdict, 'linearizable');
  const notBeforeInvocation = [read(1, 0, 1, 1), unknownWrite(0, 2, 1)];
  t.is(checkLinearizability(registerModel, notBeforeInvocation).verdict, 'not-linearizable');
});

test('an unknown outcome takes effect at most once', (t) => {
  const history = [write(1, 0, 1, 0), unknownWrite(0, 2, 1), read(1, 3, 4, 1), write(1, 5, 6, 0), read(1, 7, 8, 1)];
  t.is(checkLinearizability(registerModel, history).verdict, 'not-linearizable');
});

test('failed operations and unknown reads are dropped', (t) => {
  const failedWrite: RegisterOperation = { ...write(0, 0, 1, 7), outcome: 'fail', output: undefined };
  const unknownRead: RegisterOperation = { ...read(1, 0, 1, 7), outcome: 'unknown', output: undefined, completedAt: Infinity };
  const result = checkLinearizability(registerModel, [failedWrite, unknownRead, read(2, 2, 3, null)]);
  t.is(result.verdict, 'linearizable');
  t.deepEqual(result.dropped, [0, 1]);
});

test('a compare-and-set that failed executed: it saw another value', (t) => {
  const failedCas: RegisterOperation = { process: 1, invokedAt: 2, completedAt: 3, input: { kind: 'cas', expected: 1, value: 2 }, output: { succeeded: false }, outcome: 'ok' };
  t.is(checkLinearizability(registerModel, [write(0, 0, 1, 1), failedCas]).verdict, 'not-linearizable');
  t.is(checkLinearizability(registerModel, [write(0, 0, 1, 3), failedCas]).verdict, 'linearizable');
});

test('a step budget turns a long search into unknown, with the longest prefix so far', (t) => {
  const history = Array.from({ length: 40 }, (_, i) => write(i, 0, 100, i));
  history.push(read(99, 101, 102, 1000));
  const result = checkLinearizability(registerModel, history, { budget: { maxSteps: 500 } });
  t.is(result.verdict, 'unknown');
  t.true(result.steps <= 501);
  t.true(result.partitions[0]!.linearization.length > 0);
});

test('a time budget is enforced inside a single partition, read from the given clock', (t) => {
  let now = 0;
  const clock = () => (now += 1);
  const history = Array.from({ length: 40 }, (_, i) => write(i, 0, 100, i));
  history.push(read(99, 101, 102, 1000));
  const result = checkLinearizability(registerModel, history, { budget: { timeoutMs: 50, clock } });
  t.is(result.verdict, 'unknown');
  t.true(result.steps < 256 * 60);
});

test('partitions are searched in turns, so a quick refutation is not stuck behind a hard partition', (t) => {
  // Key "slow": 40 concurrent appends and an impossible get; key "fast": a stale read.
  const slow: Operation<KeyValueInput, KeyValueOutput>[] = Array.from({ length: 40 }, (_, i) => ({
    process: i,
    invokedAt: 0,
    completedAt: 100,
    input: { kind: 'append', key: 'slow', value: `${i % 7}` },
    output: {},
    outcome: 'ok',
  }));
  slow.push({ process: 99, invokedAt: 101, completedAt: 102, input: { kind: 'get', key: 'slow' }, output: { value: 'impossible' }, outcome: 'ok' });
  const fast: Operation<KeyValueInput, KeyValueOutput>[] = [
    { process: 100, invokedAt: 0, completedAt: 1, input: { kind: 'put', key: 'fast', value: 'a' }, output: {}, outcome: 'ok' },
    { process: 100, invokedAt: 2, completedAt: 3, input: { kind: 'get', key: 'fast' }, output: { value: '' }, outcome: 'ok' },
  ];
  // Without the model's analysis, which would refute "slow" at once.
  const result = checkLinearizability(withoutInference(keyValueModel), [...slow, ...fast], { budget: { maxSteps: 1_000_000 } });
  t.is(result.verdict, 'not-linearizable');
  t.is(result.violation?.partition, 'fast');
  t.is(result.partitions.find((partition) => partition.partition === 'slow')?.verdict, 'unchecked');
  t.true(result.steps < 100_000);
});

test('the witness names the partition, the longest prefix with states, and what could not go next', (t) => {
  const history: Operation<KeyValueInput, KeyValueOutput>[] = [
    { process: 0, invokedAt: 0, completedAt: 1, input: { kind: 'put', key: 'x', value: 'a' }, output: {}, outcome: 'ok' },
    { process: 0, invokedAt: 2, completedAt: 3, input: { kind: 'append', key: 'x', value: 'b' }, output: {}, outcome: 'ok' },
    { process: 1, invokedAt: 4, completedAt: 5, input: { kind: 'get', key: 'x' }, output: { value: 'a' }, outcome: 'ok' },
  ];
  const plain = withoutInference(keyValueModel);
  const result = checkLinearizability(plain, history);
  t.is(
    describeViolation(plain, history, result),
    [
      'witness (partition "x"):',
      '  the longest linearizable prefix found has 2 of 3 operations:',
      '    1. #0 process 0 [0, 1] put("x", "a")  ⇒  {"x": "a"}',
      '    2. #1 process 0 [2, 3] append("x", "b")  ⇒  {"x": "ab"}',
      '  state after it: {"x": "ab"}',
      '  none of these pending operations can take effect next (with the state they see):',
      '    #2 process 1 [4, 5] get("x") → "a"  ⇐  {"x": "ab"}',
    ].join('\n'),
  );
});

test('a violation the model finds without searching is explained and names the operations in it', (t) => {
  const history: Operation<KeyValueInput, KeyValueOutput>[] = [
    { process: 0, invokedAt: 0, completedAt: 1, input: { kind: 'put', key: 'x', value: 'a' }, output: {}, outcome: 'ok' },
    { process: 0, invokedAt: 2, completedAt: 3, input: { kind: 'append', key: 'x', value: 'b' }, output: {}, outcome: 'ok' },
    { process: 1, invokedAt: 4, completedAt: 5, input: { kind: 'get', key: 'x' }, output: { value: 'a' }, outcome: 'ok' },
  ];
  const result = checkLinearizability(keyValueModel, history);
  t.is(result.steps, 0);
  t.is(
    describeViolation(keyValueModel, history, result),
    [
      'witness (partition "x"): #2 returned "a", a stale value: write #1 took effect after #0, whose value it shows, and before #2 was invoked, yet is missing from it',
      '    #2 process 1 [4, 5] get("x") → "a"',
      '    #1 process 0 [2, 3] append("x", "b")',
      '    #0 process 0 [0, 1] put("x", "a")',
    ].join('\n'),
  );
});

test('malformed histories are programmer errors', (t) => {
  t.throws(() => checkLinearizability(registerModel, [write(0, 5, 1, 1)]), { message: /completes before it is invoked/ });
  t.throws(() => checkLinearizability(registerModel, [{ ...write(0, 0, 1, 1), output: undefined }]), { message: /output must be given/ });
});

test('the kv fast path decides from what the history says, within the memory budget: with too little memory the answer is unknown (memory)', (t) => {
  const history = generateKeyValueHistory(new SeededRandom('checker-fast-path-budget'), { clients: 5, operations: 1000, keys: 2, unknownPerTenThousand: 200 });
  const decided = checkLinearizability(keyValueModel, history);
  t.is(decided.verdict, 'linearizable');
  // Decided without a search: its steps are the certificate's, one per operation taken.
  t.true(decided.steps <= history.length, `${decided.steps} steps`);
  const starved = checkLinearizability(keyValueModel, history, { budget: { memoryBytes: 4096 } });
  t.is(starved.verdict, 'unknown');
  t.is(starved.exhaustion, 'memory');
});
