import test from 'ava';
import { logProgress } from './progress.ts';

test('progress in a log is a line at most every interval, and the last state at the end', (t) => {
  const lines: string[] = [];
  let now = 0;
  const progress = logProgress('sweep', (line) => lines.push(line), 5_000, () => now);
  for (let done = 1; done <= 10; done++) {
    now += done === 10 ? 100 : 1_200;
    progress.update(done, 10, `raft-swarm seed ${done}`);
  }
  progress.stop();
  // Seed 9 came 4.8 s after the last line: no line; the end prints the last state once.
  t.deepEqual(lines, ['sweep: 5/10 raft-swarm seed 5 (6 s)', 'sweep: 10/10 raft-swarm seed 10 (11 s)']);
});
