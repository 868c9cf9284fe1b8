/**
 * Checks a proposed linearization (`Model.linearize`) the way a reviewer checks a witness: every
 * ok operation exactly once, unknown-outcome ones at most once (failed ones never), each operation after all
 * that completed before it was invoked (real time), and each a legal step of the model from its
 * initial state with the output it returned. When it holds, the history is linearizable whatever
 * reasoning proposed the order; when it does not, the checker searches as if nothing had been
 * proposed. So a model's fast path can cost time, never a verdict.
 *
 * Real time is checked with points: an order respects it iff each operation can be given a point
 * inside its interval, the points non-decreasing along the order; the earliest such point is the
 * latest invocation so far (equal times count as overlap, as in `precedes`).
 *
 * The model's steps are `step`'s, from `init()`, or where the model has it `legalInOrder`, which
 * answers the same for the whole order without the persistent states `step` makes (the kv model:
 * a string per key; a cold check of 2,000 kv operations spent an eighth of its instructions in
 * the certificate's steps, task class15 of session 14).
 */
import type { BudgetMeter } from '../budget.ts';
import type { Operation } from '../history.ts';
import type { Model } from '../model.ts';

/** About the bytes per operation this check holds (a byte of marks, the states it steps through). */
const bytesPerOperation = 8;
/** Model steps paid to the budget at once. */
const certificateBatch = 64;

/**
 * Whether `order` (positions in `operations`) is a linearization of them under `model`. `taken`,
 * when given (zeros, one per operation), is left marking the operations the order holds, so the
 * caller need not mark them again.
 */
export function certifiesLinearization<State, Input, Output extends {} | null>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  order: Int32Array,
  meter: BudgetMeter,
  taken: Uint8Array = new Uint8Array(operations.length),
): boolean {
  const count = operations.length;
  const bytes = count * bytesPerOperation;
  if (taken.length !== count || !meter.reserve(bytes)) return false;
  let stepped = 0;
  let paid = 0;
  try {
    // A model that checks a whole sequence at once (`Model.legalInOrder`) is asked after the loop,
    // which then only checks the order's shape and real time.
    const legalInOrder = model.legalInOrder;
    let state = model.init();
    let point = -Infinity;
    for (let at = 0; at < order.length; at++) {
      const position = order[at]!;
      if (!(position >= 0 && position < count) || taken[position] === 1) return false;
      taken[position] = 1;
      const operation = operations[position]!;
      if (operation.outcome === 'fail') return false;
      const unknown = operation.outcome === 'unknown';
      if (operation.invokedAt > point) point = operation.invokedAt;
      if (!unknown && point > operation.completedAt) return false;
      // The steps are paid to the budget a batch at a time (a call per step costs, cold), and the
      // rest on the way out: the same count as one by one. Run out within a batch, it answers false
      // at the batch's end (or the last step) instead of the step itself: the same answer.
      if (++stepped - paid === certificateBatch) {
        paid = stepped;
        if (!meter.spendSteps(certificateBatch)) return false;
      }
      if (legalInOrder !== undefined) continue;
      const next = model.step(state, operation.input, unknown ? undefined : operation.output);
      if (next === undefined) return false;
      state = next;
    }
    for (let position = 0; position < count; position++) if (taken[position] === 0 && operations[position]!.outcome === 'ok') return false;
    if (legalInOrder !== undefined && !legalInOrder(operations, order)) return false;
    const rest = stepped - paid;
    paid = stepped;
    return meter.spendSteps(rest);
  } finally {
    if (stepped > paid) meter.spendSteps(stepped - paid);
    meter.reserve(-bytes);
  }
}
