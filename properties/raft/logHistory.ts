import { AssertionError } from '../../core/base/assert.ts';
import type { Message } from '../../core/raft/index.ts';
import type { LogReplica, LogReply, LogRequest } from '../../core/replica/logReplica.ts';
import type { HistoryEntry } from '../../sim/client.ts';
import type { SimObserver } from '../../sim/observer.ts';

type Entry = HistoryEntry<LogRequest, LogReply>;

/**
 * The clients' view of the replicated log, checked at the end of a run:
 *
 * - Reads are fresh: a read sees every append acknowledged before the read began (its read point
 *   is at or after the append's index). A leader serving ReadIndex without confirming it still
 *   leads fails this.
 * - Reads never go back: a read that begins after another ended reads at or after its point.
 * - Nothing acknowledged is lost: every replica that applied an acknowledged append's index holds
 *   the appended value there.
 */
export function logHistory(): SimObserver<Message, LogRequest, LogReply, LogReplica> {
  return {
    finish(sim) {
      const appends: { entry: Entry; index: number }[] = [];
      const reads: { entry: Entry; index: number }[] = [];
      for (const entry of sim.history) {
        if (entry.outcome !== 'ok' || entry.reply === null || entry.completeUs === null) continue;
        if (entry.reply.kind === 'appended') appends.push({ entry, index: entry.reply.index });
        if (entry.reply.kind === 'read') reads.push({ entry, index: entry.reply.index });
      }
      checkRealTimeOrder(appends, reads, 'append');
      checkRealTimeOrder(reads, reads, 'read');
      for (const { entry, index } of appends) {
        const value = (entry.request as Extract<LogRequest, { kind: 'append' }>).value;
        for (const id of sim.members) {
          const replica = sim.node(id);
          if (replica === null || replica.appliedIndex < index) continue;
          const held = replica.valueAt(index);
          if (held !== value) {
            throw new AssertionError(`lost append: acknowledged append of ${value} at index ${index} (operation ${entry.id}) is ${held === undefined ? 'missing' : `replaced by ${held}`} on node ${id}`);
          }
        }
      }
    },
  };
}

/**
 * For every read, the highest point among the `earlier` operations that completed before the read
 * was invoked must not exceed the read's point. One sweep in invocation order.
 */
function checkRealTimeOrder(earlier: readonly { entry: Entry; index: number }[], reads: readonly { entry: Entry; index: number }[], what: string): void {
  const byCompletion = [...earlier].sort((a, b) => a.entry.completeUs! - b.entry.completeUs!);
  const byInvocation = [...reads].sort((a, b) => a.entry.invokeUs - b.entry.invokeUs);
  let next = 0;
  let highest: { entry: Entry; index: number } | null = null;
  for (const read of byInvocation) {
    while (next < byCompletion.length && byCompletion[next]!.entry.completeUs! < read.entry.invokeUs) {
      const candidate = byCompletion[next]!;
      if (highest === null || candidate.index > highest.index) highest = candidate;
      next++;
    }
    if (highest !== null && read.index < highest.index) {
      throw new AssertionError(
        `stale read: operation ${read.entry.id} (invoked at ${read.entry.invokeUs}us on node ${read.entry.to}) read at index ${read.index}, ` +
          `but ${what} operation ${highest.entry.id} had completed at index ${highest.index} (at ${highest.entry.completeUs}us)`,
      );
    }
  }
}
