import test from 'ava';
import { Backend } from '../mvcc/index.ts';
import { AppliedRequests } from './appliedRequests.ts';

test('a request applies once; the window keeps the last ids per member, and what fell out of it counts as applied', (t) => {
  const backend = Backend.create();
  const applied = AppliedRequests.fromBackend(backend, 3);
  t.true(applied.admit({ member: 1, id: 5 }));
  t.false(applied.admit({ member: 1, id: 5 }), 'a duplicate');
  t.true(applied.admit({ member: 2, id: 5 }), 'ids are per member');
  t.true(applied.admit({ member: 1, id: 3 }), 'out of order is fine while in the window');
  for (const id of [6, 7]) t.true(applied.admit({ member: 1, id }));
  t.false(applied.admit({ member: 1, id: 4 }), 'below the oldest dropped (5): taken as applied, never applied twice');
  t.true(applied.admit({ member: 1, id: 8 }));
  applied.save(backend);
  const restored = AppliedRequests.fromBackend(backend, 3);
  t.false(restored.admit({ member: 1, id: 7 }), 'the windows survive in the backend');
  t.true(restored.admit({ member: 1, id: 9 }));
});
