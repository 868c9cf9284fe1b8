import test from 'ava';
import fc from 'fast-check';
import type { Event } from '../api/index.ts';
import { Backend, KvStore } from '../mvcc/index.ts';
import { newStore, ok } from '../mvcc/_test/stores.ts';
import { KeyOrderedEvents, WatchableStore } from './watchableStore.ts';
import { Watcher, type WatchNotice, type WatchSink, type WatchSpec } from './watcher.ts';

/** A stream that takes `capacity` notices and then refuses (a full buffer) until drained. */
class TestSink implements WatchSink {
  readonly taken: WatchNotice[] = [];
  capacity: number;
  constructor(capacity = Infinity) {
    this.capacity = capacity;
  }
  offer(notice: WatchNotice): boolean {
    if (this.taken.length >= this.capacity) return false;
    this.taken.push(notice);
    return true;
  }
  /** What was sent, one line per event as `revision:TYPE key=value` (and `progress@R`, `compacted@C`). */
  lines(): string[] {
    return this.taken.flatMap((notice) => {
      if (notice.kind === 'progress') return [`progress@${notice.revision}`];
      if (notice.kind === 'compacted') return [`compacted@${notice.compactRevision}`];
      return notice.events.map((event) => `${event.kv.modRevision}:${event.type} ${event.kv.key}${event.type === 'PUT' ? `=${event.kv.value}` : ''}${event.prevKv === undefined ? '' : ` (was ${event.prevKv.value})`}`);
    });
  }

  /** Each notice's header revision and how many events it held. */
  notices(): string[] {
    return this.taken.map((notice) => `${notice.kind}@${notice.revision}${notice.kind === 'events' ? ` ×${notice.events.length}` : ''}`);
  }
}

const oneKey = (key: string, more: Partial<WatchSpec> = {}): WatchSpec => ({ key, end: null, filters: [], prevKv: false, progressNotify: false, ...more });
const prefix = (key: string, end: string, more: Partial<WatchSpec> = {}): WatchSpec => ({ key, end, filters: [], prevKv: false, progressNotify: false, ...more });

/** A store and its watchable store, fed as the member's apply loop feeds it. */
function watched(options = { syncBatchRevisions: 1000, watchersPerSync: 512 }) {
  let store = newStore();
  const watchable = new WatchableStore(() => store, options);
  return {
    watchable,
    get store() {
      return store;
    },
    // As the member's apply: events carry prevKv only when a synced watcher asked for it.
    put(key: string, value: string) {
      store.eventsCarryPrevKv = watchable.wantsPrevKv;
      const { events } = ok(store.put({ key, value, prevKv: true }));
      watchable.notify(events, store.revision);
    },
    remove(key: string) {
      store.eventsCarryPrevKv = watchable.wantsPrevKv;
      const { events } = store.deleteRange({ key, prevKv: true });
      watchable.notify(events, store.revision);
    },
    replaceStore(next: KvStore) {
      store = next;
      watchable.restore(() => store);
    },
  };
}

test('a watch from now is sent each later change of its key as it is applied, one notice per revision', (t) => {
  const w = watched();
  w.put('a', '1');
  const sink = new TestSink();
  w.watchable.watch(oneKey('a'), 0, sink);
  w.put('a', '2');
  w.put('b', 'x');
  w.remove('a');
  t.deepEqual(sink.lines(), ['3:PUT a=2', '5:DELETE a']);
});

test('a watch from a past revision catches up from the store in batches (one notice each, at the current revision), then follows new writes without repeating any', (t) => {
  const w = watched({ syncBatchRevisions: 2, watchersPerSync: 512 });
  for (let i = 1; i <= 5; i++) w.put('k/a', `${i}`);
  const sink = new TestSink();
  const watcher = w.watchable.watch(prefix('k/', 'k0'), 3, sink);
  t.is(watcher.state, 'unsynced');
  w.put('k/b', 'new'); // applied while unsynced: read from the store later, not sent now
  t.deepEqual(sink.lines(), []);
  w.watchable.sync();
  t.deepEqual(sink.lines(), ['3:PUT k/a=2', '4:PUT k/a=3']);
  w.watchable.sync();
  w.watchable.sync();
  t.is(watcher.state, 'synced');
  w.put('k/a', '6');
  t.deepEqual(sink.lines(), ['3:PUT k/a=2', '4:PUT k/a=3', '5:PUT k/a=4', '6:PUT k/a=5', '7:PUT k/b=new', '8:PUT k/a=6']);
  t.deepEqual(sink.notices(), ['events@7 ×2', 'events@7 ×2', 'events@7 ×1', 'events@8 ×1']);
});

test('a starved stream makes its watcher a victim: nothing is lost, the order kept, and it catches up once the stream drains', (t) => {
  const w = watched();
  const sink = new TestSink(1);
  const watcher = w.watchable.watch(oneKey('a'), 0, sink);
  w.put('a', '1');
  w.put('a', '2');
  w.put('a', '3');
  t.is(watcher.state, 'victim');
  sink.capacity = 2;
  w.watchable.sync();
  t.is(watcher.state, 'victim');
  sink.capacity = Infinity;
  w.watchable.sync();
  w.put('a', '4');
  t.deepEqual(sink.lines(), ['2:PUT a=1', '3:PUT a=2', '4:PUT a=3', '5:PUT a=4']);
});

test('a watch whose next revision is compacted is cancelled with the compaction revision; one from the compaction revision sees its delete (etcd #18089, #19179)', (t) => {
  const w = watched();
  w.put('a', '1');
  w.put('a', '2');
  w.remove('a'); // revision 4
  ok(w.store.compact({ revision: 4 }));
  w.store.finishCompaction();
  const below = new TestSink();
  w.watchable.watch(oneKey('a'), 3, below);
  const at = new TestSink();
  w.watchable.watch(oneKey('a'), 4, at);
  w.watchable.sync();
  t.deepEqual(below.lines(), ['compacted@4']);
  t.deepEqual(at.lines(), ['4:DELETE a']);
});

test('after a snapshot restore a synced watcher catches up from where it was, never resending (etcd #15271)', (t) => {
  const w = watched();
  const sink = new TestSink();
  w.watchable.watch(oneKey('a'), 0, sink);
  w.put('a', '1');
  w.put('a', '2');
  // Another member's state, further on, replaces this one's (the image of a snapshot).
  const leader = newStore();
  for (const value of ['1', '2', '3', '4']) ok(leader.put({ key: 'a', value }));
  w.replaceStore(KvStore.open(Backend.fromSnapshot(leader.backend.snapshot())));
  w.watchable.sync();
  t.deepEqual(sink.lines(), ['2:PUT a=1', '3:PUT a=2', '4:PUT a=3', '5:PUT a=4']);
});

test('a watch on a revision the member has not reached gets nothing below it, not even progress (etcd #20221)', (t) => {
  const w = watched();
  const sink = new TestSink();
  w.watchable.watch(oneKey('a', { progressNotify: true }), 4, sink);
  w.put('a', '1'); // 2
  w.watchable.notifyProgress();
  w.put('a', '2'); // 3
  w.put('a', '3'); // 4
  w.watchable.notifyProgress();
  t.deepEqual(sink.lines(), ['4:PUT a=3', 'progress@4']);
});

test('filters drop their event type; prev_kv is kept only when asked, and a catch-up reads it from the revision before', (t) => {
  const w = watched();
  const noPut = new TestSink();
  const withPrevious = new TestSink();
  w.watchable.watch(oneKey('a', { filters: ['NOPUT'] }), 0, noPut);
  w.put('a', '1');
  w.put('a', '2');
  w.remove('a');
  w.watchable.watch(oneKey('a', { prevKv: true }), 2, withPrevious);
  w.watchable.sync();
  t.deepEqual(noPut.lines(), ['4:DELETE a']);
  t.deepEqual(withPrevious.lines(), ['2:PUT a=1', '3:PUT a=2 (was 1)', '4:DELETE a (was 2)']);
});

test('events need prevKv only while a synced watcher asked for prev_kv: one catching up reads it from history', (t) => {
  const w = watched();
  w.put('a', '1'); // 2
  t.false(w.watchable.wantsPrevKv);
  const plain = w.watchable.watch(oneKey('a'), 0, new TestSink());
  t.false(w.watchable.wantsPrevKv, 'a watcher without prev_kv');
  const catchingUp = new TestSink();
  const behind = w.watchable.watch(oneKey('a', { prevKv: true }), 2, catchingUp);
  t.false(w.watchable.wantsPrevKv, 'unsynced: it reads history');
  w.put('a', '2'); // 3, written without prevKv
  w.watchable.sync();
  t.true(w.watchable.wantsPrevKv, 'synced now');
  w.put('a', '3'); // 4, with prevKv
  t.deepEqual(catchingUp.lines(), ['2:PUT a=1', '3:PUT a=2 (was 1)', '4:PUT a=3 (was 2)']);
  const full = new TestSink(0);
  w.watchable.watch(oneKey('a', { prevKv: true }), 0, full);
  w.put('a', '4'); // 5: the full one becomes a victim
  w.watchable.cancel(behind);
  t.false(w.watchable.wantsPrevKv, 'a victim gets no event from notify');
  full.capacity = Infinity;
  w.watchable.sync();
  t.true(w.watchable.wantsPrevKv);
  w.put('a', '5'); // 6
  t.deepEqual(full.lines(), ['5:PUT a=4 (was 3)', '6:PUT a=5 (was 4)']);
  w.watchable.cancel(plain);
  t.true(w.watchable.wantsPrevKv);
});

test('regression: a watch waiting for a future revision when its member restores a snapshot keeps waiting for it (etcd-watch seed 188)', (t) => {
  // The restore moved it to the unsynced group, and catching up from "no revisions to read" set
  // its next revision to current + 1: below its start, so the next progress notification (and
  // events) went below the revision the client asked for.
  const w = watched();
  w.put('a', '1'); // 2
  const sink = new TestSink();
  const watcher = w.watchable.watch(oneKey('a', { progressNotify: true }), 5, sink);
  const same = newStore();
  ok(same.put({ key: 'a', value: '1' }));
  w.replaceStore(KvStore.open(Backend.fromSnapshot(same.backend.snapshot())));
  w.watchable.sync();
  t.is(watcher.minRev, 5);
  w.watchable.notifyProgress();
  w.put('a', '2'); // 3
  w.put('a', '3'); // 4
  w.put('a', '4'); // 5
  t.deepEqual(sink.lines(), ['5:PUT a=4']);
});

test('a watcher takes the same events from a key-ordered revision by binary search as by looking at each', (t) => {
  // Few distinct bytes, so keys repeat, prefix each other and fall on range ends.
  const key = fc.string({ unit: fc.constantFrom('a', 'b', '\u0000', '\u00ff'), maxLength: 3 });
  const event = fc.record({ key, type: fc.constantFrom('PUT' as const, 'DELETE' as const), prevKv: fc.boolean() });
  const spec = fc.record({
    key,
    end: fc.oneof(fc.constant(null), fc.constant(''), key),
    filters: fc.subarray(['NOPUT' as const, 'NODELETE' as const]),
    prevKv: fc.boolean(),
    progressNotify: fc.constant(false),
  });
  let ordered = 0;
  fc.assert(
    fc.property(fc.array(event, { maxLength: 12 }), fc.array(spec, { minLength: 1, maxLength: 6 }), fc.boolean(), (drawn, specs, sort) => {
      const keys = drawn.map((e) => e.key);
      if (sort) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const events: Event[] = drawn.map((e, sub) => {
        const kv = { key: keys[sub]!, createRevision: 2, modRevision: 9, version: e.type === 'PUT' ? 1 : 0, value: e.type === 'PUT' ? `v${sub}` : '', lease: 0 };
        return e.prevKv ? { type: e.type, kv, prevKv: { ...kv, modRevision: 2, value: 'old' } } : { type: e.type, kv };
      });
      const byKey = KeyOrderedEvents.of(events);
      if (!sort) return;
      t.not(byKey, null, 'sorted keys are key ordered');
      ordered++;
      for (const watched of specs) {
        const watcher = new Watcher(1, watched, { offer: () => true }, 0, 1);
        t.deepEqual(watcher.selectIn(events, byKey!.from(watched.key), byKey!.to(watched)), watcher.select(events), JSON.stringify(watched));
      }
    }),
    { numRuns: 500 },
  );
  t.true(ordered > 100);
  t.is(KeyOrderedEvents.of([{ type: 'PUT', kv: { key: 'b', createRevision: 2, modRevision: 2, version: 1, value: '', lease: 0 } }, { type: 'PUT', kv: { key: 'a', createRevision: 2, modRevision: 2, version: 1, value: '', lease: 0 } }]), null);
});

test('a large range delete is sent to the watchers of its keys alone, whole, in key order', (t) => {
  const w = watched();
  const sinks = ['k0100', 'k0250', 'x'].map((key) => {
    const sink = new TestSink();
    w.watchable.watch(oneKey(key), 0, sink);
    return sink;
  });
  const range = new TestSink();
  w.watchable.watch(prefix('k0200', 'k0300', { filters: ['NOPUT'] }), 0, range);
  const all = new TestSink();
  w.watchable.watch(prefix('', ''), 0, all);
  // 1,000 events for 5 watchers: past the pairs from which notify finds each watcher's part by binary search.
  for (let i = 0; i < 1000; i++) w.put(`k${String(i).padStart(4, '0')}`, `${i}`);
  for (const sink of [...sinks, range, all]) sink.taken.length = 0;
  w.store.eventsCarryPrevKv = w.watchable.wantsPrevKv;
  const { events } = w.store.deleteRange({ key: 'k', rangeEnd: 'l' });
  t.is(events.length, 1000);
  w.watchable.notify(events, w.store.revision);
  t.deepEqual(sinks.map((sink) => sink.lines()), [['1002:DELETE k0100'], ['1002:DELETE k0250'], []]);
  t.deepEqual(range.notices(), ['events@1002 ×100']);
  t.is(range.lines()[0], '1002:DELETE k0200');
  t.is(range.lines()[99], '1002:DELETE k0299');
  t.deepEqual(all.notices(), ['events@1002 ×1000'], 'a watch of every key takes all of them');
});
