import test from 'ava';
import { Backend, backendFile } from '../../core/mvcc/index.ts';
import type { EtcdServer } from '../../core/server/index.ts';
import { calmDisk, SimDisk } from '../../sim/disk.ts';
import { SeededRandom } from '../../sim/rng.ts';
import { WholeRevisions } from './wholeRevisions.ts';

const kv = (key: string, revision: number) => ({ key, createRevision: revision, modRevision: revision, version: 1, value: 'v', lease: 0 });

/** A backend holding revision 2 with `changes` changes (a txn's or a range delete's). */
function backendWith(changes: number): Backend {
  const backend = Backend.create();
  backend.beginWriteTxn();
  for (let sub = 0; sub < changes; sub++) backend.append(2, sub, kv(`k${sub}`, 2));
  backend.endWriteTxn();
  return backend;
}

/** A disk whose durable backend file holds `backend`'s commit. */
function diskHolding(backend: Backend): SimDisk {
  const disk = new SimDisk(calmDisk, new SeededRandom('whole'));
  disk.write([{ kind: 'append', file: backendFile, records: [backend.snapshot()] }]);
  disk.completeSync(disk.beginSync().mark);
  return disk;
}

const member = (backend: Backend, applying = false) => ({ slicedApply: applying ? {} : null, state: { backend } }) as unknown as EtcdServer;

test('a durable commit that holds part of a revision fails once its member has no apply open; a whole one passes', (t) => {
  const live = backendWith(3);
  const check = new WholeRevisions();
  const partial = diskHolding(backendWith(2));
  check.check(1, partial, member(live, true), 1);
  t.notThrows(() => check.check(1, partial, member(live, true), 1), 'not judged while the apply is open');
  t.throws(() => check.check(1, partial, member(live), 1), { message: /member 1's durable backend commit \(consistent index 0\) holds 2 of the 3 changes of revision 2: a commit made inside that revision's apply/ });

  const whole = new WholeRevisions();
  whole.check(2, diskHolding(backendWith(3)), member(live), 1);
  t.notThrows(() => whole.check(2, diskHolding(backendWith(3)), member(live), 1));
  const restarted = new WholeRevisions();
  restarted.check(3, partial, null, 1);
  t.notThrows(() => restarted.check(3, partial, member(live), 2), 'a commit of an earlier incarnation is not compared with a later one');
});
