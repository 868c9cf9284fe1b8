// ava's configuration for the unit-test half of `npm run mutation-score:etcd`: the one bundle of
// core/mvcc's and core/server's tests (scenarios/mutations/stryker/etcdUnitTests.ts), one worker.
export default {
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  files: ['scenarios/mutations/stryker/etcdUnitTests.ts'],
  timeout: '5m',
};
