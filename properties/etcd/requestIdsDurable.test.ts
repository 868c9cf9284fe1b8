import test from 'ava';
import { normalEntry } from '../../core/raft/entry.ts';
import { makeMessage } from '../../core/raft/message.ts';
import { encodeInternalRequest } from '../../core/server/internalRequest.ts';
import { requestIdsFile } from '../../core/server/requestIds.ts';
import { calmDisk, SimDisk } from '../../sim/disk.ts';
import { SeededRandom } from '../../sim/rng.ts';
import { RequestIdsDurable } from './requestIdsDurable.ts';

const proposal = (member: number, id: number) => normalEntry(encodeInternalRequest({ header: { member, id }, op: { kind: 'compaction', request: { revision: 1 } } } as never));

function diskReserving(below: number | null, unsyncedBelow?: number): SimDisk {
  const disk = new SimDisk(calmDisk, new SeededRandom('reqid'));
  if (below !== null) {
    disk.write([{ kind: 'replace', file: requestIdsFile, records: [{ type: 'request-ids', reservedBelow: below }] }]);
    disk.completeSync(disk.beginSync().mark);
  }
  if (unsyncedBelow !== undefined) disk.write([{ kind: 'replace', file: requestIdsFile, records: [{ type: 'request-ids', reservedBelow: unsyncedBelow }] }]);
  return disk;
}

test('an id leaves a member only below the reservation durable on its disk (a written, unsynced one does not count)', (t) => {
  const check = new RequestIdsDurable();
  const disk = diskReserving(100, 200);
  check.onSend(1, makeMessage({ type: 'MsgProp', from: 1, to: 2, entries: [proposal(1, 99), proposal(2, 150)] }), disk);
  t.is(check.checked, 1, "another member's id is not judged against this disk");
  t.throws(() => check.onSend(1, makeMessage({ type: 'MsgApp', from: 1, to: 3, entries: [proposal(1, 150)] }), disk), { message: /member 1 sent a proposal with request id 150 \(MsgApp to 3\) while its durable reservation covers ids below 100/ });
  t.throws(() => check.onSend(1, makeMessage({ type: 'MsgReadIndex', from: 1, to: 2, context: '1/100' }), disk), { message: /a ReadIndex context with request id 100/ });
  check.onSend(1, makeMessage({ type: 'MsgHeartbeat', from: 1, to: 2, context: '2/5000' }), disk);
  t.throws(() => check.onSend(1, makeMessage({ type: 'MsgReadIndex', from: 1, to: 2, context: '1/1' }), diskReserving(null)), { message: /covers ids below 1/ }, 'nothing durable: no id may leave');
});
