import type { EtcdServer, PeerMessage, ServerReply, ServerRequest } from '../../core/server/index.ts';
import type { SimObserver } from '../../sim/observer.ts';
import { checkTypedHistory } from '../linearizability/formats/typedHistory.ts';
import { describeViolation } from '../linearizability/witness.ts';
import { etcdHistory, type LeftOutReason } from './etcdHistory.ts';
import type { LeaseExpiryRecorder } from './leaseExpiries.ts';

export interface HistoryCheckOptions {
  /** Model steps the check may take before it gives up (a run then fails as unchecked: never a silent pass). */
  readonly maxSteps: number;
}

export const defaultHistoryCheckOptions: HistoryCheckOptions = { maxSteps: 5_000_000 };

/** What the last check did, for a run's counts. */
export interface HistoryCheckStats {
  operations: number;
  steps: number;
  leftOut: Readonly<Record<LeftOutReason, number>>;
}

/**
 * At the end of a run: the clients' key-value history is linearizable against etcd's model
 * (unknown outcomes may have taken effect at any time after they were invoked, or never; the
 * header revisions order the rest). A step budget keeps it bounded; a check that runs out fails
 * the run rather than passing it. The witness names the operations that cannot be placed. With
 * lease traffic, the revokes of expired leases `expiries` recorded (its observer must run) join it.
 */
export function linearizableHistory(options: HistoryCheckOptions = defaultHistoryCheckOptions, stats?: HistoryCheckStats, expiries?: LeaseExpiryRecorder): SimObserver<PeerMessage, ServerRequest, ServerReply, EtcdServer> {
  return {
    finish(sim) {
      const { history, callOf, leftOut } = etcdHistory(sim.history, expiries?.expiries);
      const { model, result } = checkTypedHistory(history, { budget: { maxSteps: options.maxSteps } });
      if (stats !== undefined) {
        stats.operations = history.operations.length;
        stats.steps = result.steps;
        stats.leftOut = leftOut;
      }
      if (result.verdict === 'unknown') sim.fail(`the clients' history (${history.operations.length} operations) could not be checked within ${options.maxSteps} model steps`);
      if (result.verdict === 'not-linearizable') {
        const calls = result.violation!.stuck.map((index) => (callOf[index] === -1 ? 'an expiry' : callOf[index])).join(', ');
        sim.fail(`the clients' history is not linearizable (client calls ${calls} cannot take effect next):\n${describeViolation(model, history.operations, result)}`);
      }
    },
  };
}
