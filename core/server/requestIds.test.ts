import test from 'ava';
import { tornRecord, type DurableWrite } from '../host/node.ts';
import { RequestIds, requestIdsFile } from './requestIds.ts';

const disk = (records: unknown[]) => ({ files: new Map([[requestIdsFile, records]]) });

test('each start reserves a block above what the last incarnation reserved, so no id is handed out twice', (t) => {
  const first = new RequestIds({ files: new Map() }, 4);
  const reservation = first.takeWrite() as DurableWrite;
  first.readyTaken(false);
  t.false(first.mustSync, 'no id handed out yet: nothing forces a sync');
  t.deepEqual([first.nextId(), first.nextId()], [1, 2]);
  t.true(first.mustSync, 'an id of a reservation not yet durable: the Ready that carries it syncs');
  t.is(first.takeWrite(), reservation, 'written again, so that Ready has something to sync');
  first.readyTaken(true);
  t.false(first.mustSync);
  t.is(first.takeWrite(), null, 'durable now: written once per block');
  for (let i = 0; i < 3; i++) first.nextId();
  t.true(first.hasWrite, 'the next block is reserved before its first id is used');
  const second = new RequestIds(disk([...reservation.records, ...(first.takeWrite() as DurableWrite).records]), 4);
  t.is(second.nextId(), 9, 'above both reservations');
});

test('a torn reservation is ignored: the last whole one counts', (t) => {
  const ids = new RequestIds(disk([{ type: 'request-ids', reservedBelow: 100 }, tornRecord]), 10);
  t.is(ids.nextId(), 100);
});
