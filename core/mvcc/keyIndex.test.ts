import test from 'ava';
import { KeyIndex } from './keyIndex.ts';
import { RevisionSet, revision } from './revision.ts';

/** etcd's key_index.go example: put(1), put(2), tombstone(3), put(4), tombstone(5) on "foo". */
function example(): KeyIndex {
  const keyIndex = new KeyIndex('foo');
  keyIndex.put(revision(1, 0));
  keyIndex.put(revision(2, 0));
  keyIndex.tombstone(revision(3, 0));
  keyIndex.put(revision(4, 0));
  keyIndex.tombstone(revision(5, 0));
  return keyIndex;
}

test('a tombstone ends the generation and opens an empty one', (t) => {
  t.is(example().toString(), '{1.0, 2.0, 3.0} {4.0, 5.0} {}');
});

test('get answers what the key was at a revision, and nothing while it was deleted', (t) => {
  const keyIndex = example();
  const at = (rev: number) => {
    const found = keyIndex.get(rev);
    return found === null ? null : [found.modified.main, found.created, found.version];
  };
  t.deepEqual([at(0), at(1), at(2), at(3), at(4), at(5), at(6)], [null, [1, 1, 1], [2, 1, 2], null, [4, 4, 1], null, null]);
});

test("compaction keeps the last revision at or before it in each live generation (etcd's example, with #18089)", (t) => {
  const keyIndex = example();
  const kept = new RevisionSet();
  keyIndex.compact(2, kept);
  t.is(keyIndex.toString(), '{2.0, 3.0} {4.0, 5.0} {}');
  keyIndex.compact(4, kept);
  t.is(keyIndex.toString(), '{4.0, 5.0} {}');
  keyIndex.compact(5, kept);
  t.is(keyIndex.toString(), '{5.0} {}', 'the tombstone at the compaction revision stays');
  t.true(kept.has(5, 0));
  keyIndex.compact(6, new RevisionSet());
  t.true(keyIndex.isEmpty(), 'then the key goes');
});

test('keep is what compaction would keep, minus a tombstone', (t) => {
  const kept = new RevisionSet();
  example().keep(5, kept);
  t.is(kept.size, 0);
  const atFour = new RevisionSet();
  example().keep(4, atFour);
  t.true(atFour.has(4, 0));
});

test('since lists revisions from a main revision on, the last change of each main revision', (t) => {
  const keyIndex = new KeyIndex('k');
  keyIndex.put(revision(2, 0));
  keyIndex.put(revision(3, 0));
  keyIndex.put(revision(3, 1));
  keyIndex.tombstone(revision(4, 0));
  t.deepEqual(keyIndex.since(3), [revision(3, 1), revision(4, 0)]);
});

test('a restored tombstone is a dead key that a later put revives', (t) => {
  const keyIndex = new KeyIndex('k');
  keyIndex.restoreTombstone(revision(7, 0));
  t.is(keyIndex.get(7), null);
  t.false(keyIndex.isEmpty());
  keyIndex.put(revision(8, 0));
  t.is(keyIndex.get(8)?.created, 8);
});

test('a put at or before the last modification is a broken invariant', (t) => {
  const keyIndex = example();
  t.throws(() => keyIndex.put(revision(5, 0)), { message: /not after/ });
});

test('a key that lives through more generations and revisions than the literal fast paths keeps them all, in order', (t) => {
  const keyIndex = new KeyIndex('grow');
  let main = 1;
  // Lists of 1 to 20 items: through the array literals (up to 3), concat (to 16) and push.
  for (let puts = 1; puts <= 20; puts++) {
    for (let i = 0; i < puts; i++) keyIndex.put(revision(main++, 0));
    t.true(keyIndex.tombstone(revision(main++, 0)));
  }
  const generations = keyIndex.generationList();
  t.is(generations.length, 21);
  t.deepEqual(
    generations.map((generation) => generation.revisions.length),
    [...Array.from({ length: 20 }, (_, i) => i + 2), 0],
  );
  t.deepEqual(
    generations.map((generation) => generation.version),
    [...Array.from({ length: 20 }, (_, i) => i + 2), 0],
  );
  const all = generations.flatMap((generation) => generation.revisions.map((rev) => rev.main));
  t.deepEqual(all, Array.from({ length: main - 1 }, (_, i) => i + 1));
});

test('a deleted key revived gets a new generation; another deleted key is untouched', (t) => {
  const a = new KeyIndex('a');
  const b = new KeyIndex('b');
  a.put(revision(2, 0));
  b.put(revision(2, 1));
  t.true(a.tombstone(revision(3, 0)));
  t.true(b.tombstone(revision(3, 1)));
  t.deepEqual([a.modified, b.modified], [revision(3, 0), revision(3, 1)]);
  a.put(revision(4, 0));
  t.is(a.toString(), '{2.0, 3.0} {4.0}');
  t.is(b.toString(), '{2.1, 3.1} {}', 'the other deleted key is untouched');
  t.deepEqual([a.get(4)?.created, a.get(4)?.version, b.get(4), b.isLive(), a.isLive(), a.liveCreated(), a.liveVersion()], [4, 1, null, false, true, 4, 1]);
  t.false(b.tombstone(revision(5, 0)), 'a deleted key is not deleted again');
});

test('a key whose list has grown past the exact copies (pushed in place) reads, revives and compacts as a short one', (t) => {
  const keyIndex = new KeyIndex('long');
  let main = 2;
  for (let life = 0; life < 12; life++) {
    keyIndex.put(revision(main++, 0));
    keyIndex.put(revision(main, 3));
    main++;
    t.true(keyIndex.tombstone(revision(main++, 1)));
  }
  t.is(keyIndex.generationList().length, 13);
  t.deepEqual(keyIndex.get(3), { modified: revision(3, 3), created: 2, version: 2 });
  t.is(keyIndex.get(4), null, 'deleted at 4');
  t.deepEqual(keyIndex.get(30), { modified: revision(30, 3), created: 29, version: 2 });
  t.deepEqual(keyIndex.modified, revision(37, 1));
  const kept = new RevisionSet();
  keyIndex.compact(30, kept);
  t.is(keyIndex.toString(), '{30.3, 31.1} {32.0, 33.3, 34.1} {35.0, 36.3, 37.1} {}');
  t.true(kept.has(30, 3));
  t.deepEqual(keyIndex.get(30), { modified: revision(30, 3), created: 29, version: 2 });
  keyIndex.put(revision(38, 0));
  t.is(keyIndex.toString(), '{30.3, 31.1} {32.0, 33.3, 34.1} {35.0, 36.3, 37.1} {38.0}');
  t.deepEqual(keyIndex.since(33), [revision(33, 3), revision(34, 1), revision(35, 0), revision(36, 3), revision(37, 1), revision(38, 0)]);
});
