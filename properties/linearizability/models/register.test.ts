import test from 'ava';
import { hashRegisterValue, registerModel } from './register.ts';

test('read, write and compare-and-set follow Jepsen etcd semantics', (t) => {
  const step = registerModel.step;
  t.is(step(null, { kind: 'read' }, { value: null }), null);
  t.is(step(3, { kind: 'read' }, { value: 4 }), undefined);
  t.is(step(3, { kind: 'write', value: 4 }, {}), 4);
  t.is(step(3, { kind: 'cas', expected: 3, value: 1 }, { succeeded: true }), 1);
  t.is(step(3, { kind: 'cas', expected: 3, value: 1 }, { succeeded: false }), undefined);
  t.is(step(2, { kind: 'cas', expected: 3, value: 1 }, { succeeded: false }), 2);
  // An unknown compare-and-set still only swaps when the compare holds.
  t.is(step(2, { kind: 'cas', expected: 3, value: 1 }, undefined), 2);
  t.is(step(3, { kind: 'cas', expected: 3, value: 1 }, undefined), 1);
});

test('reads and reported-failed compare-and-sets are read-only; unknown ones are not', (t) => {
  t.true(registerModel.readOnly!({ kind: 'read' }, undefined));
  t.true(registerModel.readOnly!({ kind: 'cas', expected: 1, value: 2 }, { succeeded: false }));
  t.false(registerModel.readOnly!({ kind: 'cas', expected: 1, value: 2 }, undefined));
  t.false(registerModel.readOnly!({ kind: 'write', value: 2 }, {}));
});

test('values of different types hash and describe apart', (t) => {
  t.not(hashRegisterValue(1), hashRegisterValue('1'));
  t.not(hashRegisterValue(null), hashRegisterValue(0));
  t.is(registerModel.describeOperation({ kind: 'cas', expected: null, value: 'a' }, { succeeded: true }), 'cas(nil → "a") → ok');
  t.is(registerModel.describeOperation({ kind: 'read' }, { value: 2 }), 'read() → 2');
});
