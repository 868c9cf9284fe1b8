import test from 'ava';
import { LinearizableReads } from './linearizableReads.ts';

function reads() {
  const sent: string[] = [];
  let next = 0;
  const send = () => {
    const context = `c${next++}`;
    sent.push(context);
    return context;
  };
  return { loop: new LinearizableReads<string>(), sent, send };
}

test('reads that arrive together share one read index; a round starts only with a leader', (t) => {
  const { loop, sent, send } = reads();
  loop.add('a');
  loop.add('b');
  loop.maybeStart(0, 0, send);
  t.deepEqual(sent, [], 'no leader: no round');
  loop.maybeStart(2, 0, send);
  t.deepEqual(sent, ['c0']);
  loop.add('c');
  loop.maybeStart(2, 0, send);
  t.deepEqual(sent, ['c0'], 'one round at a time: c waits for the next');
  loop.onReadState({ index: 7, requestContext: 'c0' });
  t.is(loop.takeServable(6), null, 'not until the applied index reaches the read index');
  t.deepEqual(loop.takeServable(7), { reads: ['a', 'b'], confirmedIndex: 7 });
  loop.maybeStart(2, 1, send);
  t.deepEqual(sent, ['c0', 'c1']);
});

test('an answer to another context confirms nothing; a retry adds a fresh context, and either answer confirms the round', (t) => {
  const { loop, sent, send } = reads();
  loop.add('a');
  loop.maybeStart(1, 0, send);
  loop.onReadState({ index: 3, requestContext: 'stale' });
  t.is(loop.takeServable(100), null);
  t.deepEqual(loop.tick(5, 5, 70, send, () => 0), []);
  t.deepEqual(sent, ['c0', 'c1'], 'retried after 5 ticks with a new context');
  loop.onReadState({ index: 4, requestContext: 'c0' });
  t.deepEqual(loop.takeServable(4)?.confirmedIndex, 4);
});

test('a leader change fails a round still waiting for its index, not one already confirmed', (t) => {
  const { loop, send } = reads();
  loop.add('a');
  loop.maybeStart(1, 0, send);
  t.deepEqual(loop.onLeaderChange(1), [], 'the same leader');
  t.deepEqual(loop.onLeaderChange(2), ['a']);
  loop.add('b');
  loop.maybeStart(2, 0, send);
  loop.onReadState({ index: 9, requestContext: 'c1' });
  t.deepEqual(loop.onLeaderChange(3), [], 'confirmed: the index stays good');
  t.deepEqual(loop.takeServable(9)?.reads, ['b']);
});

test('a round past the request timeout fails, and so do reads queued that long; drain hands back everything', (t) => {
  const { loop, send } = reads();
  loop.add('a');
  loop.maybeStart(1, 0, send);
  loop.add('b');
  t.deepEqual(loop.tick(69, 5, 70, send, () => 0), []);
  t.deepEqual(loop.tick(70, 5, 70, send, () => 0), ['a', 'b']);
  t.is(loop.size, 0);
  loop.add('c');
  loop.maybeStart(1, 71, send);
  loop.add('d');
  t.is(loop.inFlight?.reads, 1);
  t.deepEqual(loop.drain(), ['c', 'd']);
  t.is(loop.inFlight, null);
});
