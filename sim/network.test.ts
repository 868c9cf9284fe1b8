import test from 'ava';
import { never, ratio } from '../core/base/ratio.ts';
import { connected, type PartitionShape } from './faults.ts';
import { calmNetwork, Network } from './network.ts';
import { SeededRandom } from './rng.ts';

const members = [1, 2, 3, 4, 5];

function reachable(shape: Exclude<PartitionShape, { kind: 'one-way' }>, leader: number | null = null): string[] {
  const pairs: string[] = [];
  for (const a of members) for (const b of members) if (a < b && connected(shape, a, b, members, leader)) pairs.push(`${a}-${b}`);
  return pairs;
}

test('a calm network delivers every message once, within its latency range', (t) => {
  const network = new Network(6, calmNetwork, new SeededRandom('calm'));
  for (let i = 0; i < 1_000; i++) {
    const at = network.route(1, 2, 1_000);
    t.true(at >= 1_000 + calmNetwork.latencyUsMin && at <= 1_000 + calmNetwork.latencyUsMax);
    t.is(network.duplicateAtUs, -1);
    t.true(network.arrive(1, 2));
  }
  t.is(network.stats.delivered, 1_000);
});

test('loss drops about its ratio of messages and nothing else does', (t) => {
  const network = new Network(3, { ...calmNetwork, loss: ratio(1, 4) }, new SeededRandom('loss'));
  let lost = 0;
  for (let i = 0; i < 10_000; i++) {
    if (network.route(1, 2, 0) < 0) lost++;
    else network.arrive(1, 2);
  }
  t.true(Math.abs(lost - 2_500) < 200, `lost ${lost}`);
  t.is(network.stats.droppedLoss, lost);
  t.is(network.stats.droppedPartition + network.stats.droppedFull, 0);
});

test('duplication sends a second copy with its own delay, so copies can overtake each other', (t) => {
  const network = new Network(3, { ...calmNetwork, duplicate: ratio(1, 2) }, new SeededRandom('dup'));
  let duplicated = 0;
  let overtaken = 0;
  for (let i = 0; i < 1_000; i++) {
    const first = network.route(1, 2, 0);
    if (network.duplicateAtUs >= 0) {
      duplicated++;
      if (network.duplicateAtUs < first) overtaken++;
    }
  }
  t.true(duplicated > 400 && duplicated < 600, `duplicated ${duplicated}`);
  t.true(overtaken > 100, 'independent delays reorder copies');
});

test('independent delays reorder messages on one link', (t) => {
  const network = new Network(3, calmNetwork, new SeededRandom('reorder'));
  let reordered = 0;
  let previous = -1;
  for (let i = 0; i < 1_000; i++) {
    const at = network.route(1, 2, i * 100); // sent 100us apart, latency spread 1500us
    if (at < previous) reordered++;
    previous = at;
  }
  t.true(reordered > 100);
});

test('a cut link drops what is sent over it and what was in flight on it, and no other link', (t) => {
  const network = new Network(4, { ...calmNetwork, loss: never }, new SeededRandom('cut'));
  t.true(network.route(1, 2, 0) >= 0); // in flight when the cut comes
  network.setCut(1, 2, true);
  t.is(network.route(1, 2, 10), -1);
  t.false(network.arrive(1, 2), 'the in-flight message is dropped on arrival');
  t.true(network.route(2, 1, 10) >= 0, 'the other direction still works');
  t.true(network.route(1, 3, 10) >= 0, 'other links still work');
  t.deepEqual(network.cutLinks(), [[1, 2]]);
  network.healAll();
  t.true(network.route(1, 2, 20) >= 0);
});

test('a full link drops new messages until some arrive', (t) => {
  const network = new Network(3, { ...calmNetwork, inFlightPerLinkMax: 2 }, new SeededRandom('full'));
  t.true(network.route(1, 2, 0) >= 0);
  t.true(network.route(1, 2, 0) >= 0);
  t.is(network.route(1, 2, 0), -1);
  t.is(network.stats.droppedFull, 1);
  network.arrive(1, 2);
  t.true(network.route(1, 2, 0) >= 0);
});

test('partition shapes connect exactly the pairs they promise', (t) => {
  t.deepEqual(reachable({ kind: 'isolate', node: 3 }), ['1-2', '1-4', '1-5', '2-4', '2-5', '4-5']);
  t.deepEqual(reachable({ kind: 'isolate-leader' }, 2), ['1-3', '1-4', '1-5', '3-4', '3-5', '4-5']);
  t.is(reachable({ kind: 'isolate-leader' }, null).length, 10, 'no leader, nothing to isolate');
  t.deepEqual(reachable({ kind: 'split', side: [1, 5] }), ['1-5', '2-3', '2-4', '3-4']);
  t.deepEqual(reachable({ kind: 'bridge', bridge: 3, side: [1, 2] }), ['1-2', '1-3', '2-3', '3-4', '3-5', '4-5']);
  // Majorities ring over the order 1 3 5 2 4: each node sees its two ring neighbours.
  const ring = reachable({ kind: 'ring', order: [1, 3, 5, 2, 4] });
  t.deepEqual(ring, ['1-3', '1-4', '2-4', '2-5', '3-5']);
  for (const node of members) {
    const sees = ring.filter((pair) => pair.split('-').includes(String(node))).length + 1;
    t.is(sees, 3, `node ${node} sees a majority`);
  }
});

test('a stalled link holds what is sent until the stall ends, then delivers it late; other links and later sends are untouched', (t) => {
  const network = new Network(6, calmNetwork, new SeededRandom('stall'));
  network.stall(1, 2, 3_000_000);
  t.true(network.isStalled(1, 2, 1_000) && !network.isStalled(2, 1, 1_000));
  const held = network.route(1, 2, 1_000);
  t.true(held >= 3_000_000 + calmNetwork.latencyUsMin && held <= 3_000_000 + calmNetwork.latencyUsMax, `arrives at ${held}`);
  t.true(network.route(2, 1, 1_000) <= 1_000 + calmNetwork.latencyUsMax, 'the other direction is not stalled');
  t.true(network.route(1, 2, 3_000_000) <= 3_000_000 + calmNetwork.latencyUsMax, 'after the stall, sends go as usual');
  network.stall(1, 2, 5_000_000);
  network.healAll();
  t.false(network.isStalled(1, 2, 4_000_000), 'healing ends a stall for what is sent from now on');
});

/** Fates (first copy's arrival, duplicate's) of `count` messages of one key on link 1 → 2. */
function fatesOnLink(network: Network, key: number, count: number, between: () => void): string[] {
  const fates: string[] = [];
  for (let i = 0; i < count; i++) {
    between();
    const at = network.route(1, 2, 0, key);
    fates.push(`${at}/${network.duplicateAtUs}`);
    if (at >= 0) network.arrive(1, 2);
    if (network.duplicateAtUs >= 0) network.arrive(1, 2);
  }
  return fates;
}

const lossy = { ...calmNetwork, loss: ratio(1, 4), duplicate: ratio(1, 4), tail: ratio(1, 10), tailUsMax: 50_000, inFlightPerLinkMax: 1_000_000, keyedDraws: true };

test('keyed draws: a message’s fate depends on its link, its key and how many of that key the link carried, not on other traffic', (t) => {
  const quiet = new Network(4, lossy, new SeededRandom('stream'), () => new SeededRandom('keys'));
  const busy = new Network(4, lossy, new SeededRandom('stream'), () => new SeededRandom('keys'));
  let other = 0;
  const alone = fatesOnLink(quiet, 7, 200, () => undefined);
  // Other links and other keys of the same link in between: the fates of key 7 on 1 → 2 stay.
  const crowded = fatesOnLink(busy, 7, 200, () => {
    for (const [from, to, key] of [[1, 3, 7], [2, 1, 7], [1, 2, 8 + (other++ % 5)]] as const) if (busy.route(from, to, 0, key) >= 0) busy.arrive(from, to);
  });
  t.deepEqual(crowded, alone);
  t.true(new Set(alone).size > 150, 'the messages of one key get fates of their own');
  // The default mode draws in send order: the same traffic in between moves every later fate.
  const stream = { ...lossy, keyedDraws: false };
  const [a, b] = [new Network(4, stream, new SeededRandom('stream')), new Network(4, stream, new SeededRandom('stream'))];
  t.notDeepEqual(fatesOnLink(b, 7, 200, () => void b.route(1, 3, 0)), fatesOnLink(a, 7, 200, () => undefined));
});

test('keyed draws keep the weather’s ratios: loss and duplication about as often as asked', (t) => {
  const network = new Network(3, lossy, new SeededRandom('stream'), () => new SeededRandom('ratios'));
  let [lost, duplicated] = [0, 0];
  for (let i = 0; i < 20_000; i++) {
    const at = network.route(1, 2, 0, i % 13);
    if (at < 0) lost++;
    else network.arrive(1, 2);
    if (network.duplicateAtUs >= 0) {
      duplicated++;
      network.arrive(1, 2);
    }
  }
  t.true(Math.abs(lost - 5_000) < 300, `lost ${lost}`);
  t.true(Math.abs(duplicated - 3_750) < 300, `duplicated ${duplicated} of about 15,000 delivered`);
});

test('pinned fates hold whatever the weather: a pinned loss is lost in calm weather, a pinned delivery arrives through loss; the rest draw', (t) => {
  const fates = [
    { from: 1, to: 2, key: 5, occurrence: 0, delayUs: -1, duplicateUs: -1 },
    { from: 1, to: 2, key: 5, occurrence: 1, delayUs: 777, duplicateUs: 900 },
    { from: 9, to: 2, key: 5, occurrence: 0, delayUs: 1, duplicateUs: -1 }, // no such link here: ignored
  ];
  const calm = new Network(3, { ...calmNetwork, keyedDraws: true, fates }, new SeededRandom('s'), () => new SeededRandom('k'));
  t.is(calm.route(1, 2, 100, 5), -1, 'pinned loss');
  t.is(calm.route(1, 2, 100, 5), 877, 'pinned delay');
  t.is(calm.duplicateAtUs, 1_000, 'pinned duplicate');
  const drawn = calm.route(1, 2, 100, 5);
  t.true(drawn >= 100 + calmNetwork.latencyUsMin && drawn <= 100 + calmNetwork.latencyUsMax, 'the third draws');
  const stormy = new Network(3, { ...calmNetwork, loss: ratio(1, 1), keyedDraws: true, fates }, new SeededRandom('s'), () => new SeededRandom('k'));
  stormy.route(1, 2, 0, 5);
  t.is(stormy.route(1, 2, 0, 5), 777, 'delivered through total loss');
  t.is(stormy.route(1, 2, 0, 5), -1);
});

test('recording fates changes no draw of the default mode, and the recording pinned replays the same fates', (t) => {
  const streamMode = { ...lossy, keyedDraws: false };
  const plain = new Network(4, streamMode, new SeededRandom('stream'));
  const recording = new Network(4, streamMode, new SeededRandom('stream'));
  recording.recordFates();
  const traffic = (network: Network): string[] =>
    Array.from({ length: 500 }, (_, i) => `${network.route(1 + (i % 3), 1 + ((i + 1) % 3), i * 10, i % 4)}/${network.duplicateAtUs}`);
  const fates = traffic(plain);
  t.deepEqual(traffic(recording), fates);
  const pinned = new Network(4, { ...lossy, fates: recording.recordedFates }, new SeededRandom('other'), () => new SeededRandom('other keys'));
  t.deepEqual(traffic(pinned), fates);
});
