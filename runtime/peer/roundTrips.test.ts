import test from 'ava';
import { PeerRoundTrips } from './roundTrips.ts';

function clocked(staleMs = 1_000) {
  let now = 0;
  const observed: [number, number][] = [];
  const trips = new PeerRoundTrips((peer, seconds) => observed.push([peer, seconds]), staleMs, () => now);
  return { trips, observed, at: (ms: number) => (now = ms) };
}

test('a heartbeat and its answer give one round trip per peer, in seconds', (t) => {
  const { trips, observed, at } = clocked();
  trips.sent(2, 'MsgHeartbeat');
  trips.sent(3, 'MsgHeartbeat');
  at(3);
  trips.received(3, 'MsgHeartbeatResp');
  at(5);
  trips.received(2, 'MsgHeartbeatResp');
  t.deepEqual(observed, [[3, 0.003], [2, 0.005]]);
});

test('heartbeats sent while one is unanswered time from the first; other messages are not timed', (t) => {
  const { trips, observed, at } = clocked();
  trips.sent(2, 'MsgApp');
  trips.sent(2, 'MsgHeartbeat');
  at(1);
  trips.sent(2, 'MsgHeartbeat');
  trips.received(2, 'MsgAppResp');
  at(4);
  trips.received(2, 'MsgHeartbeatResp');
  trips.received(2, 'MsgHeartbeatResp'); // the second heartbeat's answer: nothing is pending
  t.deepEqual(observed, [[2, 0.004]]);
});

test('a heartbeat with no answer within the stale bound is given up, never matched to a late answer', (t) => {
  const { trips, observed, at } = clocked(100);
  trips.sent(2, 'MsgHeartbeat');
  at(150);
  trips.received(2, 'MsgHeartbeatResp'); // too late: dropped
  trips.sent(2, 'MsgHeartbeat');
  at(400);
  trips.sent(2, 'MsgHeartbeat'); // the previous one is stale: timing restarts here
  at(402);
  trips.received(2, 'MsgHeartbeatResp');
  t.deepEqual(observed, [[2, 0.002]]);
});
