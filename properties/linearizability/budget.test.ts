import test from 'ava';
import fc from 'fast-check';
import { BudgetMeter } from './budget.ts';

test('steps paid in batches count and run out as the same steps paid one by one (the certificate pays 64 at a time)', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 12 }), fc.integer({ min: 0, max: 2000 }), (batches, maxSteps) => {
      const single = new BudgetMeter({ maxSteps });
      const batched = new BudgetMeter({ maxSteps });
      for (const count of batches) {
        let answer = single.exhaustion === undefined;
        for (let step = 0; step < count; step++) answer = single.spend();
        if (batched.spendSteps(count) !== answer) return false;
      }
      return single.steps === batched.steps && single.exhaustion === batched.exhaustion;
    }),
  );
  t.pass();
});
