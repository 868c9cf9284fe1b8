import test from 'ava';
import fc from 'fast-check';
import { KeyIndex } from './keyIndex.ts';
import { revision } from './revision.ts';
import { TreeIndex } from './treeIndex.ts';

test('liveAt gives the index of each key in the range that exists at the revision, in key order', (t) => {
  const index = new TreeIndex();
  index.put('a', revision(2, 0));
  index.put('b', revision(3, 0));
  index.put('c', revision(4, 0));
  index.tombstone('b', revision(5, 0));
  index.put('d', revision(6, 0));
  const live = (key: string, end: string | null, atRev: number) => index.liveAt(key, end, atRev).map((keyIndex) => keyIndex.key);
  t.deepEqual(live('a', '', 4), ['a', 'b', 'c'], 'b before its delete, d not yet');
  t.deepEqual(live('a', '', 6), ['a', 'c', 'd'], 'b deleted');
  t.deepEqual(live('b', 'd', 6), ['c'], 'the end is exclusive');
  t.deepEqual(live('b', null, 4), ['b'], 'one key');
  t.deepEqual(live('b', null, 5), [], 'one deleted key');
  t.is(index.liveAt('c', null, 6)[0], index.keyIndex('c'), 'the index itself, not a copy');
});

test('the live keys index holds exactly the live keys: reads and range deletes at the latest revision see what a walk of every key sees', (t) => {
  const keys = ['a', 'ab', 'b', 'c', 'cc', 'd', '\xff', '\x00z'];
  const key = fc.constantFrom(...keys);
  const end = fc.option(fc.constantFrom('', 'b', 'c', 'zz', '\xff\xff', 'a\0', 'ab'), { nil: null });
  // Puts most often, so that range deletes find several live keys (and take both ways out of the live index).
  const op = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('put' as const), key }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('delete' as const), key, end }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(6) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('restore' as const) }), weight: 1 },
  );
  /** Every key index of the range (the full tree) whose value exists at `atRev`: what the index answered before the live index. */
  const walked = (index: TreeIndex, from: string, to: string | null, atRev: number) => {
    const out: KeyIndex[] = [];
    index.visit(from, to, (keyIndex) => {
      if (keyIndex.modifiedAt(atRev) !== null) out.push(keyIndex);
    });
    return out;
  };
  fc.assert(
    fc.property(fc.array(op, { minLength: 8, maxLength: 40, size: 'max' }), fc.array(fc.tuple(key, end), { minLength: 3, maxLength: 3 }), (ops, reads) => {
      let index = new TreeIndex();
      let main = 1;
      for (const step of ops) {
        main++;
        if (step.kind === 'put') index.put(step.key, revision(main, 0));
        else if (step.kind === 'delete') {
          let sub = 0;
          const expected = walked(index, step.key, step.end, main).map((keyIndex) => keyIndex.key);
          const seen: string[] = [];
          const deleted = index.tombstoneLive(step.key, step.end, main, {
            writeTombstone: (keyIndex) => {
              seen.push(keyIndex.key);
              return revision(main, sub++);
            },
          });
          t.deepEqual(seen, expected, 'the live keys of the range, in key order');
          t.is(deleted, expected.length);
        } else if (step.kind === 'compact') index.compact(Math.max(1, main - step.back));
        else {
          // A restart: the index rebuilt key by key (each key's last state), then its live keys indexed, as restoreState does.
          const restored = new TreeIndex();
          index.forEach((keyIndex) => {
            const copy = new KeyIndex(keyIndex.key);
            if (!keyIndex.isLive()) copy.restoreTombstone(keyIndex.modified);
            else copy.restore(revision(keyIndex.liveCreated(), 0), keyIndex.modified, keyIndex.liveVersion());
            restored.insert(copy);
          });
          restored.indexLiveKeys();
          index = restored;
        }
        t.true(index.liveIndexAgrees(), `after ${JSON.stringify(step)}`);
        for (const [from, to] of reads) {
          for (const atRev of [main, main + 1, main - 1, 1]) {
            const expected = walked(index, from, to, atRev);
            t.deepEqual(index.liveAt(from, to, atRev), expected, `liveAt(${JSON.stringify(from)}, ${JSON.stringify(to)}, ${atRev})`);
            t.deepEqual(index.revisions(from, to, atRev), expected.map((keyIndex) => keyIndex.modifiedAt(atRev)), `revisions at ${atRev}`);
            for (const limit of [Infinity, 1, 0]) {
              const pairs: number[] = [];
              t.is(index.revisionPairs(from, to, atRev, limit, pairs), expected.length, `revision pairs counted at ${atRev}, limit ${limit}`);
              const shown = expected.slice(0, limit).flatMap((keyIndex) => [keyIndex.modifiedAt(atRev)!.main, keyIndex.modifiedAt(atRev)!.sub]);
              t.deepEqual(pairs, shown, `revision pairs at ${atRev}, limit ${limit}`);
            }
          }
        }
      }
      let live = 0;
      index.forEach((keyIndex) => {
        if (keyIndex.isLive()) live++;
      });
      t.is(index.liveCount, live);
    }),
    { numRuns: 300 },
  );
});
