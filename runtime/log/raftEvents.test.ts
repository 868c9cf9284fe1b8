import test from 'ava';
import { RaftEventLog } from './raftEvents.ts';
import { ServerLog } from './serverLog.ts';

test("role, term and leader changes are logged with etcd-io/raft's words; an unchanged view logs nothing", (t) => {
  const lines: string[] = [];
  let resets = 0;
  const events = new RaftEventLog(0xa, new ServerLog({ sink: (line) => lines.push(line), level: 'info' }), () => resets++);
  events.observe({ role: 'follower', lead: 0, term: 1 });
  events.observe({ role: 'follower', lead: 0, term: 1 });
  events.observe({ role: 'pre-candidate', lead: 0, term: 1 });
  events.observe({ role: 'candidate', lead: 0, term: 2 });
  events.observe({ role: 'leader', lead: 0xa, term: 2 });
  events.observe({ role: 'follower', lead: 0xb, term: 3 }); // a newer leader's append
  events.observe({ role: 'follower', lead: 0xc, term: 4 });
  events.observe({ role: 'pre-candidate', lead: 0, term: 4 });
  t.deepEqual(lines, [
    'I | raft: a became follower at term 1',
    'I | raft: a became pre-candidate at term 1',
    'I | raft: a became candidate at term 2',
    'I | raft: a became leader at term 2',
    'I | raft.node: a elected leader a at term 2',
    'I | raft: a became follower at term 3',
    'I | raft.node: a changed leader from a to b at term 3',
    'I | raft: a became follower at term 4',
    'I | raft.node: a changed leader from b to c at term 4',
    'I | raft: a became pre-candidate at term 4',
    'I | raft.node: a lost leader c at term 4',
  ]);
  t.is(resets, 7, 'the heartbeat detector restarts at every change of role or leader, not of term alone');
});
