import test from 'ava';
import {
  ErrDuplicateKey,
  ErrEmptyKey,
  ErrIntegerTooLarge,
  ErrInvalidSortOption,
  ErrKeyNotFound,
  ErrLeaseProvided,
  ErrTooManyOps,
  ErrValueProvided,
  GrpcCode,
} from './errors.ts';
import type { RequestOp, SortOrder } from './rpc.ts';
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxnRequest, validateTxn } from './validate.ts';

const put = (key: string): RequestOp => ({ requestPut: { key, value: 'v' } });
const del = (key: string, rangeEnd?: string): RequestOp => ({ requestDeleteRange: { key, ...(rangeEnd === undefined ? {} : { rangeEnd }) } });
const txn = (success: RequestOp[], failure: RequestOp[] = []): RequestOp => ({ requestTxn: { success, failure } });

test("errors carry etcd's gRPC code and message", (t) => {
  t.deepEqual({ ...ErrDuplicateKey }, { code: GrpcCode.InvalidArgument, message: 'etcdserver: duplicate key given in txn request' });
  t.is(ErrEmptyKey.message, 'etcdserver: key is not provided');
  t.true(Object.isFrozen(ErrEmptyKey));
});

test('an empty key is refused in range, put, delete and compare', (t) => {
  t.is(checkRangeRequest({ key: '' }), ErrEmptyKey);
  t.is(checkPutRequest({ key: '' }), ErrEmptyKey);
  t.is(checkDeleteRequest({ key: '' }), ErrEmptyKey);
  t.is(checkTxnRequest({ compare: [{ key: '', target: 'VERSION', result: 'EQUAL' }] }), ErrEmptyKey);
  t.is(checkRangeRequest({ key: '\0', rangeEnd: '\0' }), null);
});

test('put: ignoreValue with a value, ignoreLease with a lease are refused', (t) => {
  t.is(checkPutRequest({ key: 'a', value: 'x', ignoreValue: true }), ErrValueProvided);
  t.is(checkPutRequest({ key: 'a', lease: 5, ignoreLease: true }), ErrLeaseProvided);
  t.is(checkPutRequest({ key: 'a', ignoreValue: true, ignoreLease: true }), null);
});

test('integers beyond 2^53 are refused at the edge (a known deviation from int64)', (t) => {
  t.is(checkPutRequest({ key: 'a', lease: 2 ** 53 }), ErrIntegerTooLarge);
  t.is(checkRangeRequest({ key: 'a', revision: 2 ** 60 }), ErrIntegerTooLarge);
  t.is(checkPutRequest({ key: 'a', lease: 2 ** 53 - 1 }), null);
});

test('unknown sort options are refused (etcd main)', (t) => {
  t.is(checkRangeRequest({ key: 'a', sortOrder: 'SIDEWAYS' as SortOrder }), ErrInvalidSortOption);
});

test('txn: more than 128 compares or ops in a branch is too many; nested txns share the budget', (t) => {
  const ops = (n: number) => Array.from({ length: n }, (_, i) => put(`k${i}`));
  t.is(checkTxnRequest({ success: ops(128) }), null);
  t.is(checkTxnRequest({ success: ops(129) }), ErrTooManyOps);
  t.is(checkTxnRequest({ failure: ops(3) }, 2), ErrTooManyOps);
  t.is(checkTxnRequest({ success: [...ops(100), txn(ops(27))] }), null, 'a nested txn gets what its parent left: 128 - 101 ops');
  t.is(checkTxnRequest({ success: [...ops(100), txn(ops(28))] }), ErrTooManyOps);
});

test('txn: an op with no request (or two) is refused with ErrKeyNotFound', (t) => {
  t.is(checkTxnRequest({ success: [{}] }), ErrKeyNotFound);
  t.is(checkTxnRequest({ success: [{ requestPut: { key: 'a' }, requestRange: { key: 'a' } }] }), ErrKeyNotFound);
});

test('duplicate keys: a key put twice, or put inside a range deleted at the same level, is refused', (t) => {
  t.is(validateTxn({ success: [put('a'), put('a')] }), ErrDuplicateKey);
  t.is(validateTxn({ failure: [put('a'), put('b'), put('a')] }), ErrDuplicateKey);
  t.is(validateTxn({ success: [del('a', 'c'), put('b')] }), ErrDuplicateKey);
  t.is(validateTxn({ success: [put('b'), del('b')] }), ErrDuplicateKey);
  t.is(validateTxn({ success: [del('a', 'b'), put('b')] }), null, 'the range end is exclusive');
  t.is(validateTxn({ success: [del('a', 'c'), del('b', 'd')] }), null, 'deletes may overlap');
  t.is(validateTxn({ success: [put('a')], failure: [put('a')] }), null, 'the branches are separate');
});

test('duplicate keys across nested txns follow etcd checkIntervals, quirks included', (t) => {
  t.is(validateTxn({ success: [txn([put('a')]), put('a')] }), ErrDuplicateKey);
  t.is(validateTxn({ success: [txn([put('a')]), txn([put('a')])] }), ErrDuplicateKey);
  t.is(validateTxn({ success: [txn([put('a')], [put('a')])] }), null, 'then and else of one txn may put the same key');
  t.is(validateTxn({ success: [del('a'), txn([put('a')])] }), ErrDuplicateKey);
  t.is(validateTxn({ success: [txn([del('a')]), txn([put('a')])] }), ErrDuplicateKey);
  t.is(validateTxn({ success: [txn([put('a')]), txn([del('a')])] }), null, 'a nested put checked before a later nested delete passes (etcd)');
  t.is(validateTxn({ success: [del('a', '\0'), put('b')] }), null, 'a "\\0" range end is the empty interval [a, "\\0") to etcd');
});
