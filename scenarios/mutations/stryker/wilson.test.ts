import test from 'ava';
import { wilsonInterval } from './wilson.ts';

test('the Wilson interval matches published values and stays inside [0, 1]', (t) => {
  // 81 of 263 at 95%: [0.2553, 0.3662] (Newcombe 1998, example b rounded).
  const { low, high } = wilsonInterval(81, 263, 1.96);
  t.true(Math.abs(low - 0.2553) < 0.0005 && Math.abs(high - 0.3662) < 0.0005, `${low} ${high}`);
  const all = wilsonInterval(20, 20, 1.96);
  t.is(all.high, 1);
  t.true(all.low > 0.83 && all.low < 0.84);
  t.deepEqual(wilsonInterval(0, 0, 1.96), { low: 0, high: 1 });
});
