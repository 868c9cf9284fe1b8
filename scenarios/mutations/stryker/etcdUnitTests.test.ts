import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';

test('the etcd mutation score bundles every test file of core/mvcc and core/server', (t) => {
  const bundled = new Set([...readFileSync('scenarios/mutations/stryker/etcdUnitTests.ts', 'utf8').matchAll(/^import '\.\.\/\.\.\/\.\.\/(.+)';$/gm)].map((match) => match[1]));
  const present = ['core/mvcc', 'core/server'].flatMap((folder) => readdirSync(folder).filter((name) => name.endsWith('.test.ts')).map((name) => `${folder}/${name}`));
  t.deepEqual([...bundled].sort(), present.sort());
});
