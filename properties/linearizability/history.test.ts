import test from 'ava';
import { continueUnderNewProcesses, type Operation } from './history.ts';

const operation = (process: number, invokedAt: number, completedAt: number, outcome: Operation<string, string>['outcome'] = 'ok'): Operation<string, string> => ({
  process,
  invokedAt,
  completedAt,
  input: `${process}@${invokedAt}`,
  output: outcome === 'ok' ? 'done' : undefined,
  outcome,
});

test('a client that lost track of an operation goes on under a new process, as Jepsen does; the others keep theirs', (t) => {
  const history = [operation(1, 0, 5), operation(1, 6, Infinity, 'unknown'), operation(2, 1, 3), operation(1, 9, 12), operation(1, 13, Infinity, 'unknown'), operation(1, 20, 21)];
  const renumbered = continueUnderNewProcesses(history);
  t.deepEqual(
    renumbered.map((each) => each.process),
    [1, 1, 2, 3, 3, 4],
  );
  t.deepEqual(
    renumbered.map((each) => each.input),
    history.map((each) => each.input),
    'same operations, same order',
  );
  t.is(continueUnderNewProcesses(history.slice(0, 3))[1], history[1], 'untouched when nothing overlaps');
});
