import test from 'ava';
import { ServerMetrics } from './metrics.ts';

test("the node's gauges show its last status and the proposals waiting when scraped; a new leader is counted at once", async (t) => {
  const metrics = new ServerMetrics('1');
  let pending = 3;
  let counted = 0;
  const waiting = () => {
    counted++;
    return pending;
  };
  metrics.observeNode({ leader: 1, term: 2, commitIndex: 10, appliedIndex: 9, role: 'leader' }, 1, waiting);
  metrics.observeNode({ leader: 2, term: 3, commitIndex: 12, appliedIndex: 11, role: 'follower' }, 1, waiting);
  // Nothing is counted per pump: the waiting proposals are walked only for a scrape.
  t.is(counted, 0);
  pending = 5;
  const text = await metrics.registry.metrics();
  t.is(counted, 1);
  for (const line of ['etcd_server_has_leader 1', 'etcd_server_is_leader 0', 'etcd_server_leader_changes_seen_total 2', 'etcd_server_proposals_committed_total 12', 'etcd_server_proposals_applied_total 11', 'etcd_server_proposals_pending 5']) {
    t.true(text.split('\n').includes(line), line);
  }
  metrics.observeNode({ leader: 0, term: 4, commitIndex: 12, appliedIndex: 12, role: 'candidate' }, 1, waiting);
  const later = (await metrics.registry.metrics()).split('\n');
  t.true(later.includes('etcd_server_has_leader 0'));
  t.true(later.includes('etcd_server_is_leader 0'));
  t.true(later.includes('etcd_server_leader_changes_seen_total 2'));
});
