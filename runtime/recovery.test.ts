import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, type Member, readLog, startMember, until } from './_test/members.ts';

test('a member whose WAL ends in a torn record reports it, cuts it off and serves the log before it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'detcd-recovery-'));
  const [clientPort, peerPort] = await freePorts(2);
  const spec = { name: 'solo', clientPort: clientPort!, peerPort: peerPort!, dataDir };
  const cluster = `solo=http://127.0.0.1:${peerPort}`;
  const flags = ['--pre-vote', '--experimental-log-api'];
  let member: Member = startMember(spec, cluster, flags);
  t.teardown(() => {
    member.process.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  await until(async () => (await readLog(spec)) !== null, 'the member to serve');
  for (let value = 1; value <= 10; value++) {
    const response = await fetch(`http://127.0.0.1:${clientPort}/detcd/log/append`, { method: 'POST', body: JSON.stringify({ value }) });
    t.is(response.status, 200);
  }
  member.process.kill('SIGINT');
  t.deepEqual(await member.exited, { code: 0, signal: null }, 'SIGINT stops gracefully too');
  // Tear the last record: a crash in the middle of a write.
  const wal = join(dataDir, 'member', 'wal', '0000000000000000-0000000000000000.wal');
  const size = statSync(wal).size;
  truncateSync(wal, size - 5);
  member = startMember(spec, cluster, flags);
  let log: number[] | null = null;
  await until(async () => (log = await readLog(spec)) !== null, 'the member to serve again');
  // The torn record was the last Ready's: at most the last append's record, or only a hard state.
  t.true(log!.length >= 9, `recovered ${JSON.stringify(log)}`);
  t.deepEqual(log, Array.from({ length: log!.length }, (_, i) => i + 1));
  t.regex(member.output.join(''), /member\/wal\/0000000000000000-0000000000000000\.wal: torn payload at byte \d+ \(\d+ bytes after it are not used\); recovering the \d+ records before it/);
  // The tail was cut: the file holds only whole records again, and appends follow them.
  const response = await fetch(`http://127.0.0.1:${clientPort}/detcd/log/append`, { method: 'POST', body: JSON.stringify({ value: 11 }) });
  t.is(response.status, 200);
  member.process.kill('SIGTERM');
  t.deepEqual(await member.exited, { code: 0, signal: null });
  member = startMember(spec, cluster, flags);
  await until(async () => (log = await readLog(spec)) !== null, 'a clean restart');
  t.is(log!.at(-1), 11);
  t.false(member.output.join('').includes('torn'), 'no torn record the second time');
  t.true(readFileSync(wal).byteLength > 0);
});
