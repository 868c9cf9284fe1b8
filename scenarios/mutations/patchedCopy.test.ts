import test from 'ava';
import { isMutantCatch } from './patchedCopy.ts';

const violation = (message: string, event: number) => ({ ok: false, violation: { message, timeUs: event * 10, event } });
const passed = { ok: true, violation: null };

test('a mutant is caught by a violation the unpatched run does not find: any, when that run passes or was not made', (t) => {
  t.false(isMutantCatch(passed, null));
  t.false(isMutantCatch(passed, violation('mutual exclusion broken', 90)), 'a passing patched run is no catch, whatever the unpatched one found');
  t.true(isMutantCatch(violation('log matching', 50), null));
  t.true(isMutantCatch(violation('log matching', 50), passed));
});

test("a scenario's expected violation is no catch: only another violation, or the same one earlier (etcd-lock, etcd-lease-pauses)", (t) => {
  const expected = violation('mutual exclusion broken: client 3 and client 5 both hold the lock', 900);
  t.false(isMutantCatch(expected, expected), 'the planted bug found, as without the mutant');
  t.false(isMutantCatch(violation(expected.violation.message, 950), expected), 'the same one later');
  t.true(isMutantCatch(violation(expected.violation.message, 400), expected), 'the same one earlier: the mutant hastened it');
  t.true(isMutantCatch(violation('a lease attachment is stale', 950), expected), 'another violation, even later');
});
