import test from 'ava';
import { staggeredRewriteCommits } from './etcd.ts';

test('members rewrite their backend files at different commit counts: 1,000 for the lowest id, 125 more per member before one', (t) => {
  const cluster = [0x3c, 0x0a, 0x1f];
  t.deepEqual(cluster.map((id) => staggeredRewriteCommits(id, cluster)), [1_250, 1_000, 1_125]);
  t.is(staggeredRewriteCommits(0x99, cluster), 1_375, 'a member that joined later: after the ids it follows');
  const large = Array.from({ length: 12 }, (_, i) => i + 1);
  t.deepEqual(large.map((id) => staggeredRewriteCommits(id, large)).slice(6, 10), [1_750, 1_875, 1_000, 1_125], 'at most 8 steps, then again from 1,000');
});
