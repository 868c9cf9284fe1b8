/**
 * How each model's inputs and outputs look in the JSON-lines format: the TypeScript shapes of
 * the models, field for field, checked strictly (see README, "History format").
 */
import type { EtcdCompare, EtcdKeyValue, EtcdRequest, EtcdResponse } from '../models/etcdTypes.ts';
import type { KeyValueInput, KeyValueOutput } from '../models/keyValue.ts';
import type { RegisterInput, RegisterOutput, RegisterValue } from '../models/register.ts';
import type { RegistersInput } from '../models/registers.ts';
import { arrayAt, booleanAt, naturalAt, objectAt, oneOf, optionalFields, ShapeError, stringAt } from './jsonShape.ts';

export interface JsonCodec<Input, Output> {
  decodeInput(value: unknown, path: string): Input;
  decodeOutput(value: unknown, path: string, input: Input): Output;
}

export const registerCodec: JsonCodec<RegisterInput, RegisterOutput> = {
  decodeInput(value, path) {
    const kind = oneOf(objectAt(value, path, ['kind'], ['value', 'expected']).kind, `${path}.kind`, ['read', 'write', 'cas']);
    if (kind === 'read') {
      objectAt(value, path, ['kind']);
      return { kind };
    }
    if (kind === 'write') return { kind, value: registerValue(objectAt(value, path, ['kind', 'value']).value, `${path}.value`) };
    const object = objectAt(value, path, ['kind', 'expected', 'value']);
    return { kind, expected: registerValue(object.expected, `${path}.expected`), value: registerValue(object.value, `${path}.value`) };
  },
  decodeOutput(value, path, input) {
    if (input.kind === 'read') return { value: registerValue(objectAt(value, path, ['value']).value, `${path}.value`) };
    if (input.kind === 'write') {
      objectAt(value, path, []);
      return {};
    }
    return { succeeded: booleanAt(objectAt(value, path, ['succeeded']).succeeded, `${path}.succeeded`) };
  },
};

/** Independent registers: the register shapes, each with a `key`. */
export const registersCodec: JsonCodec<RegistersInput, RegisterOutput> = {
  decodeInput(value, path) {
    const object = objectAt(value, path, ['kind', 'key'], ['value', 'expected']);
    const { key, ...register } = object;
    return { ...registerCodec.decodeInput(register, path), key: stringAt(key, `${path}.key`) };
  },
  decodeOutput: (value, path, input) => registerCodec.decodeOutput(value, path, input),
};

function registerValue(value: unknown, path: string): RegisterValue {
  if (value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new ShapeError(`${path} must be a number, a string or null`);
}

/** The fields of key/value inputs and get outputs, made once (not an array literal per line). */
const keyValueKinds = ['get', 'put', 'append'] as const;
const kindField = ['kind'];
const keyValueInputFields = ['key', 'value'];
const valueField = ['value'];
const noFields: string[] = [];

export const keyValueCodec: JsonCodec<KeyValueInput, KeyValueOutput> = {
  decodeInput(value, path) {
    // A one-shot check decodes this per line before the JIT compiles it: no array literal and no
    // field path (`${path}.key`) is made unless there is an error to report.
    const object = objectAt(value, path, kindField, keyValueInputFields);
    const kind = object.kind;
    if (kind !== 'get' && kind !== 'put' && kind !== 'append') oneOf(kind, `${path}.kind`, keyValueKinds);
    // Each kind's own fields, checked as objectAt would (an unknown field first, then a missing
    // one) without a second pass over the object.
    const key = object.key;
    if (kind === 'get') {
      if ('value' in object) throw new ShapeError(`${path} has an unknown field "value"`);
      if (key === undefined) throw new ShapeError(`${path}.key is missing`);
      if (typeof key !== 'string') stringAt(key, `${path}.key`);
      return { kind, key } as KeyValueInput;
    }
    const written = object.value;
    if (key === undefined) throw new ShapeError(`${path}.key is missing`);
    if (written === undefined) throw new ShapeError(`${path}.value is missing`);
    if (typeof key !== 'string') stringAt(key, `${path}.key`);
    if (typeof written !== 'string') stringAt(written, `${path}.value`);
    return { kind, key, value: written } as KeyValueInput;
  },
  decodeOutput(value, path, input) {
    if (input.kind !== 'get') {
      objectAt(value, path, noFields);
      return {};
    }
    const returned = objectAt(value, path, valueField).value;
    if (typeof returned !== 'string') stringAt(returned, `${path}.value`);
    return { value: returned as string };
  },
};

export const etcdCodec: JsonCodec<EtcdRequest, EtcdResponse> = {
  decodeInput: (value, path) => etcdRequest(value, path, true),
  decodeOutput: (value, path, request) => etcdResponse(value, path, request, true),
};

const rangeFields = ['rangeEnd', 'limit', 'revision', 'keysOnly', 'countOnly', 'serializable'];

function etcdRequest(value: unknown, path: string, topLevel: boolean): EtcdRequest {
  const kinds = topLevel ? (['range', 'put', 'delete', 'txn', 'compact', 'leaseGrant', 'leaseRevoke'] as const) : (['range', 'put', 'delete', 'txn'] as const);
  const kind = oneOf(objectAt(value, path, ['kind'], ['key', 'value', 'lease', 'prevKv', 'compare', 'success', 'failure', 'physical', ...rangeFields]).kind, `${path}.kind`, kinds);
  switch (kind) {
    case 'range': {
      const object = objectAt(value, path, ['kind', 'key'], rangeFields);
      return {
        kind,
        key: stringAt(object.key, `${path}.key`),
        ...optionalFields(object, path, ['rangeEnd'], stringAt),
        ...optionalFields(object, path, ['limit', 'revision'], naturalAt),
        ...optionalFields(object, path, ['keysOnly', 'countOnly', 'serializable'], booleanAt),
      };
    }
    case 'put': {
      const object = objectAt(value, path, ['kind', 'key', 'value'], ['lease', 'prevKv']);
      return {
        kind,
        key: stringAt(object.key, `${path}.key`),
        value: stringAt(object.value, `${path}.value`),
        ...optionalFields(object, path, ['lease'], naturalAt),
        ...optionalFields(object, path, ['prevKv'], booleanAt),
      };
    }
    case 'delete': {
      const object = objectAt(value, path, ['kind', 'key'], ['rangeEnd', 'prevKv']);
      return { kind, key: stringAt(object.key, `${path}.key`), ...optionalFields(object, path, ['rangeEnd'], stringAt), ...optionalFields(object, path, ['prevKv'], booleanAt) };
    }
    case 'txn': {
      const object = objectAt(value, path, ['kind', 'compare', 'success', 'failure']);
      const list = <T>(field: string, decode: (item: unknown, itemPath: string) => T) =>
        arrayAt(object[field], `${path}.${field}`).map((item, index) => decode(item, `${path}.${field}[${index}]`));
      const inner = (item: unknown, itemPath: string) => etcdRequest(item, itemPath, false);
      return { kind, compare: list('compare', etcdCompare), success: list('success', inner), failure: list('failure', inner) };
    }
    case 'compact': {
      const object = objectAt(value, path, ['kind', 'revision'], ['physical']);
      return { kind, revision: naturalAt(object.revision, `${path}.revision`), ...optionalFields(object, path, ['physical'], booleanAt) };
    }
    case 'leaseGrant':
    case 'leaseRevoke':
      return { kind, lease: naturalAt(objectAt(value, path, ['kind', 'lease']).lease, `${path}.lease`) };
  }
}

function etcdCompare(value: unknown, path: string): EtcdCompare {
  const object = objectAt(value, path, ['key', 'target', 'result', 'operand'], ['rangeEnd']);
  const target = oneOf(object.target, `${path}.target`, ['value', 'version', 'create', 'mod', 'lease']);
  const operand = target === 'value' ? stringAt(object.operand, `${path}.operand`) : naturalAt(object.operand, `${path}.operand`);
  return {
    key: stringAt(object.key, `${path}.key`),
    ...optionalFields(object, path, ['rangeEnd'], stringAt),
    target,
    result: oneOf(object.result, `${path}.result`, ['=', '!=', '<', '>']),
    operand,
  };
}

/** A response to `request`; only the top level carries a revision or an error. */
function etcdResponse(value: unknown, path: string, request: EtcdRequest, topLevel: boolean): EtcdResponse {
  if (topLevel && typeof value === 'object' && value !== null && 'error' in value) {
    const object = objectAt(value, path, ['error']);
    const error = objectAt(object.error, `${path}.error`, ['code', 'message']);
    return { error: { code: naturalAt(error.code, `${path}.error.code`), message: stringAt(error.message, `${path}.error.message`) } };
  }
  const revision = topLevel ? ['revision'] : [];
  switch (request.kind) {
    case 'range': {
      const object = objectAt(value, path, [], [...revision, 'kvs', 'count', 'more']);
      return {
        ...optionalFields(object, path, [...revision, 'count'], naturalAt),
        ...optionalFields(object, path, ['kvs'], (kvs, kvsPath) => arrayAt(kvs, kvsPath).map((kv, index) => etcdKeyValue(kv, `${kvsPath}[${index}]`))),
        ...optionalFields(object, path, ['more'], booleanAt),
      };
    }
    case 'put': {
      const object = objectAt(value, path, [], [...revision, 'prevKv']);
      return {
        ...optionalFields(object, path, revision, naturalAt),
        ...optionalFields(object, path, ['prevKv'], (kv, kvPath) => (kv === null ? null : etcdKeyValue(kv, kvPath))),
      };
    }
    case 'delete': {
      const object = objectAt(value, path, [], [...revision, 'deleted', 'prevKvs']);
      return {
        ...optionalFields(object, path, [...revision, 'deleted'], naturalAt),
        ...optionalFields(object, path, ['prevKvs'], (kvs, kvsPath) => arrayAt(kvs, kvsPath).map((kv, index) => etcdKeyValue(kv, `${kvsPath}[${index}]`))),
      };
    }
    case 'txn': {
      const object = objectAt(value, path, ['succeeded'], [...revision, 'responses']);
      const succeeded = booleanAt(object.succeeded, `${path}.succeeded`);
      const branch = succeeded ? request.success : request.failure;
      const responses = optionalFields(object, path, ['responses'], (list, listPath) => {
        const items = arrayAt(list, listPath);
        if (items.length !== branch.length) throw new ShapeError(`${listPath} must have one response per request of the ${succeeded ? 'success' : 'failure'} branch (${branch.length})`);
        return items.map((item, index) => etcdResponse(item, `${listPath}[${index}]`, branch[index]!, false));
      });
      return { ...optionalFields(object, path, revision, naturalAt), succeeded, ...responses };
    }
    case 'compact':
    case 'leaseGrant':
    case 'leaseRevoke':
      return optionalFields(objectAt(value, path, [], revision), path, revision, naturalAt);
    case 'unobservedWrite':
      // The decoder never makes one (`etcdRequest` refuses the kind).
      throw new ShapeError(`${path}: no response to the checker's own stand-in`);
  }
}

function etcdKeyValue(value: unknown, path: string): EtcdKeyValue {
  const object = objectAt(value, path, ['key'], ['value', 'createRevision', 'modRevision', 'version', 'lease']);
  return {
    key: stringAt(object.key, `${path}.key`),
    ...optionalFields(object, path, ['value'], stringAt),
    ...optionalFields(object, path, ['createRevision', 'modRevision', 'version', 'lease'], naturalAt),
  };
}
