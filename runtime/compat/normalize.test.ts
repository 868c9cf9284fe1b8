import test from 'ava';
import { normalize } from './normalize.ts';

test('a member id is <ID> however many hex digits it has (etcd prints ids unpadded), and decimal numbers and words are not ids', (t) => {
  t.is(normalize('8e9e05c52164694d, started, single\n'), '<ID>, started, single\n');
  // A 53-bit id below 2^40: ten digits (a CI run met 41bc7ae983 in `member list`).
  t.is(normalize('41bc7ae983, started, single, http://127.0.0.1:2380\n'), '<ID>, started, single, http://127.0.0.1:2380\n');
  t.is(normalize('| 41bc7ae983 | started |\n'), '| <ID> | started |\n');
  // Decimal revisions, counts and words made of hex letters stay as they are.
  t.is(normalize('revision 1234567 deleted 2 added faded\n'), 'revision 1234567 deleted 2 added faded\n');
});
