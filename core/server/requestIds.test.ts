import test from 'ava';
import { tornRecord, type DurableWrite } from '../host/node.ts';
import { RequestIds, requestIdsFile } from './requestIds.ts';

const disk = (records: unknown[]) => ({ files: new Map([[requestIdsFile, records]]) });

test('each start reserves a block above what the last incarnation reserved, so no id is handed out twice', (t) => {
  const first = new RequestIds({ files: new Map() }, 4);
  const reservation = first.takeWrite() as DurableWrite;
  t.deepEqual([first.nextId(), first.nextId()], [1, 2]);
  t.is(first.takeWrite(), null, 'written once per block');
  for (let i = 0; i < 3; i++) first.nextId();
  t.true(first.hasWrite, 'the next block is reserved before its first id is used');
  const second = new RequestIds(disk([...reservation.records, ...(first.takeWrite() as DurableWrite).records]), 4);
  t.is(second.nextId(), 9, 'above both reservations');
});

test('a torn reservation is ignored: the last whole one counts', (t) => {
  const ids = new RequestIds(disk([{ type: 'request-ids', reservedBelow: 100 }, tornRecord]), 10);
  t.is(ids.nextId(), 100);
});
