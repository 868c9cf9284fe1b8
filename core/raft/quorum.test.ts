import test from 'ava';
import fc from 'fast-check';
import { JointConfig } from './jointConfig.ts';
import { MajorityConfig, unboundedIndex, type VoteResult } from './majorityConfig.ts';

/*
 * The quorum code against a deliberately dumb reimplementation (as etcd-io/raft's quorum tests
 * do): the committed index is the largest index that at least a majority has reached, found by
 * trying every candidate; a vote is won when yes-votes reach a majority, lost when even all
 * missing votes could not get there.
 */

function dumbCommittedIndex(ids: readonly number[], acked: ReadonlyMap<number, number>): number {
  if (ids.length === 0) return unboundedIndex;
  const majority = Math.floor(ids.length / 2) + 1;
  let best = 0;
  for (const candidate of ids.map((id) => acked.get(id) ?? 0)) {
    const reached = ids.filter((id) => (acked.get(id) ?? 0) >= candidate).length;
    if (reached >= majority && candidate > best) best = candidate;
  }
  return best;
}

function dumbVoteResult(ids: readonly number[], votes: ReadonlyMap<number, boolean>): VoteResult {
  if (ids.length === 0) return 'won';
  const majority = Math.floor(ids.length / 2) + 1;
  const yes = ids.filter((id) => votes.get(id) === true).length;
  const no = ids.filter((id) => votes.get(id) === false).length;
  if (yes >= majority) return 'won';
  if (ids.length - no >= majority) return 'pending';
  return 'lost';
}

const idsArbitrary = fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { maxLength: 7 });
const ackedArbitrary = fc.dictionary(fc.integer({ min: 1, max: 9 }).map(String), fc.nat(20), { maxKeys: 9 });
const votesArbitrary = fc.dictionary(fc.integer({ min: 1, max: 9 }).map(String), fc.boolean(), { maxKeys: 9 });
const toMap = <V>(record: Record<string, V>): Map<number, V> => new Map(Object.entries(record).map(([k, v]) => [Number(k), v]));

test('majority committed index equals the largest index a majority reached (dumb reimplementation)', (t) => {
  fc.assert(
    fc.property(idsArbitrary, ackedArbitrary, (ids, ackedRecord) => {
      const acked = toMap(ackedRecord);
      return new MajorityConfig(ids).committedIndex((id) => acked.get(id)) === dumbCommittedIndex(ids, acked);
    }),
  );
  t.pass();
});

test('majority vote result matches counting yes and no votes (dumb reimplementation)', (t) => {
  fc.assert(
    fc.property(idsArbitrary, votesArbitrary, (ids, votesRecord) => {
      const votes = toMap(votesRecord);
      return new MajorityConfig(ids).voteResult(votes) === dumbVoteResult(ids, votes);
    }),
  );
  t.pass();
});

test('a joint config commits what both halves commit, and wins only when both win', (t) => {
  fc.assert(
    fc.property(idsArbitrary, idsArbitrary, ackedArbitrary, votesArbitrary, (incoming, outgoing, ackedRecord, votesRecord) => {
      const acked = toMap(ackedRecord);
      const votes = toMap(votesRecord);
      const joint = new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing));
      const committed = Math.min(dumbCommittedIndex(incoming, acked), dumbCommittedIndex(outgoing, acked));
      const a = dumbVoteResult(incoming, votes);
      const b = dumbVoteResult(outgoing, votes);
      const result: VoteResult = a === 'lost' || b === 'lost' ? 'lost' : a === 'won' && b === 'won' ? 'won' : 'pending';
      return joint.committedIndex((id) => acked.get(id)) === committed && joint.voteResult(votes) === result;
    }),
  );
  t.pass();
});

test('a joint config with itself behaves like the simple config', (t) => {
  fc.assert(
    fc.property(idsArbitrary, ackedArbitrary, (ids, ackedRecord) => {
      const acked = toMap(ackedRecord);
      const simple = new MajorityConfig(ids);
      return new JointConfig(simple, simple).committedIndex((id) => acked.get(id)) === simple.committedIndex((id) => acked.get(id));
    }),
  );
  t.pass();
});

test('describes configurations in ascending id order', (t) => {
  t.is(new MajorityConfig([3, 1, 2]).describe(), '(1 2 3)');
  t.is(new JointConfig(new MajorityConfig([1, 2, 4]), new MajorityConfig([3, 2, 1])).describe(), '(1 2 4)&&(1 2 3)');
  t.is(new JointConfig(new MajorityConfig([1])).describe(), '(1)');
});
