/**
 * etcd's robustness-test reports (`tests/robustness` on etcd's main branch): each client writes
 * `client-<id>/operations.json`, its Porcupine operations as indented JSON objects one after
 * another — `{"ClientId", "Input", "Call", "Output", "Return", "Metadata"}` with the request and
 * response types of `tests/robustness/model` (`EtcdRequest`, `MaybeEtcdResponse`). `check` reads
 * one such file, or a report folder's clients together (`reportFiles`), as one etcd history:
 *
 * - Range `{Start, End, Limit, KeysOnly, Revision}`: End "" is the single key.
 * - Txn `{Conditions, OperationsOnSuccess, OperationsOnFailure}` — puts and deletes are txns
 *   without conditions. A condition with ExpectedVersion > 0 compares the version, otherwise the
 *   mod revision (0: the key is absent).
 * - LeaseGrant, LeaseRevoke, Compact; Defragment changes nothing and is left out.
 * - Values of 20 bytes or more are recorded as their FNV-1a hash (`ValueOrHash`): such a value
 *   reads as the text `#fnv1a32:<8 hex digits>#`, which no recorded short value can be.
 * - `Output.Error` (the client saw an error and cannot tell whether the request was applied) is
 *   an unknown outcome; `ClientError` (etcd answered ErrCompacted or ErrFutureRev) is an error
 *   response the model checks; `Persisted`, which only the report's own validation adds, is read
 *   as unknown too (weaker, never wrong).
 * - Lease ids are random 64-bit numbers: they are read as text, exactly, and numbered 1, 2, … in
 *   the order first seen (the robustness traffic only ever compares them for equality).
 * `Call` and `Return` are nanoseconds since the test started.
 */
import type { Operation, Outcome } from '../history.ts';
import { errCompacted, errFutureRevision, type EtcdKeyValue, type EtcdRequest, type EtcdResponse } from '../models/etcdTypes.ts';
import { refuseUnorderableText } from './codePointOrder.ts';
import { checkJsonText, ExactNumbers } from './exactNumbers.ts';
import { arrayAt, booleanAt, finiteAt, naturalAt, objectAt, oneOf, ShapeError, stringAt, type JsonObject } from './jsonShape.ts';
import { HistoryParseError } from './parseError.ts';
import type { TypedHistory } from './typedHistory.ts';

/** One operations.json (or several, concatenated: the report's clients). */
export function parseEtcdRobustness(text: string): TypedHistory {
  const numbers = new ExactNumbers();
  const leases = new LeaseNumbers();
  const operations: Operation<EtcdRequest, EtcdResponse>[] = [];
  const lines: number[] = [];
  for (const { line, json } of jsonObjects(text)) {
    // Lease ids are int64: quoted before parsing, so that they stay exact.
    const exactJson = json.replace(/("LeaseID"\s*:\s*)(-?\d+)/g, '$1"$2"');
    let value: unknown;
    try {
      value = JSON.parse(exactJson);
    } catch (error) {
      throw new HistoryParseError(line, `not JSON: ${(error as Error).message}`);
    }
    checkJsonText(exactJson, line, numbers);
    try {
      const operation = decodeOperation(value, leases);
      if (operation !== undefined) {
        operations.push(operation);
        lines.push(line);
      }
    } catch (error) {
      if (error instanceof ShapeError) throw new HistoryParseError(line, error.message);
      throw error;
    }
  }
  refuseUnorderableText(operations, (index) => lines[index]!);
  return { model: 'etcd', operations, initialRevision: 1 };
}

/** The top-level JSON objects of `text`, each with the line it starts on. */
function jsonObjects(text: string): { line: number; json: string }[] {
  const objects: { line: number; json: string }[] = [];
  let line = 1;
  let depth = 0;
  let start = -1;
  let startLine = 0;
  for (let at = 0; at < text.length; at++) {
    const character = text[at]!;
    if (character === '\n') line++;
    else if (character === '"') {
      for (at++; at < text.length && text[at] !== '"'; at++) if (text[at] === '\\') at++;
    } else if (character === '{') {
      if (depth++ === 0) {
        start = at;
        startLine = line;
      }
    } else if (character === '}') {
      if (--depth === 0) objects.push({ line: startLine, json: text.slice(start, at + 1) });
      if (depth < 0) throw new HistoryParseError(line, 'a "}" closes nothing');
    } else if (depth === 0 && !/\s/.test(character)) {
      throw new HistoryParseError(line, 'expected the next operation, a JSON object');
    }
  }
  if (depth !== 0) throw new HistoryParseError(startLine, 'the last operation is cut off');
  return objects;
}

function decodeOperation(value: unknown, leases: LeaseNumbers): Operation<EtcdRequest, EtcdResponse> | undefined {
  const object = objectAt(value, '', ['Input', 'Call', 'Output', 'Return'], ['ClientId', 'ClientID', 'Metadata']);
  const input = objectAt(object.Input, 'Input', ['Type'], ['Range', 'Txn', 'LeaseGrant', 'LeaseRevoke', 'Defragment', 'Compact']);
  const type = oneOf(input.Type, 'Input.Type', ['range', 'txn', 'leaseGrant', 'leaseRevoke', 'defragment', 'compact']);
  if (type === 'defragment') return undefined;
  const request = decodeRequest(type, input, leases);
  const output = objectAt(object.Output, 'Output', [], outputFields);
  const process = naturalAt(object.ClientId ?? object.ClientID, 'ClientId');
  const invokedAt = finiteAt(object.Call, 'Call');
  const completedAt = finiteAt(object.Return, 'Return');
  const failed = (typeof output.Error === 'string' && output.Error !== '') || output.Persisted === true;
  if (failed) return { process, invokedAt, completedAt, input: request, output: undefined, outcome: 'unknown' as Outcome };
  return { process, invokedAt, completedAt, input: request, output: decodeResponse(request, output), outcome: 'ok' };
}

const outputFields = ['Txn', 'Range', 'LeaseGrant', 'LeaseRevoke', 'Defragment', 'Compact', 'ClientError', 'Revision', 'member-id', 'Persisted', 'PersistedRevision', 'Error'];

function decodeRequest(type: 'range' | 'txn' | 'leaseGrant' | 'leaseRevoke' | 'compact', input: JsonObject, leases: LeaseNumbers): EtcdRequest {
  switch (type) {
    case 'range': {
      const range = objectAt(input.Range, 'Input.Range', ['Start'], ['End', 'Limit', 'KeysOnly', 'Revision']);
      return rangeRequest(range, 'Input.Range', naturalAt(range.Revision ?? 0, 'Input.Range.Revision'));
    }
    case 'txn': {
      const txn = objectAt(input.Txn, 'Input.Txn', [], ['Conditions', 'OperationsOnSuccess', 'OperationsOnFailure']);
      const list = (field: string) => (txn[field] === null || txn[field] === undefined ? [] : arrayAt(txn[field], `Input.Txn.${field}`));
      return {
        kind: 'txn',
        compare: list('Conditions').map((item, index) => {
          const path = `Input.Txn.Conditions[${index}]`;
          const condition = objectAt(item, path, ['Key'], ['ExpectedRevision', 'ExpectedVersion']);
          const version = naturalAt(condition.ExpectedVersion ?? 0, `${path}.ExpectedVersion`);
          const key = stringAt(condition.Key, `${path}.Key`);
          if (version > 0) return { key, target: 'version' as const, result: '=' as const, operand: version };
          return { key, target: 'mod' as const, result: '=' as const, operand: naturalAt(condition.ExpectedRevision ?? 0, `${path}.ExpectedRevision`) };
        }),
        success: list('OperationsOnSuccess').map((item, index) => txnOperation(item, `Input.Txn.OperationsOnSuccess[${index}]`, leases)),
        failure: list('OperationsOnFailure').map((item, index) => txnOperation(item, `Input.Txn.OperationsOnFailure[${index}]`, leases)),
      };
    }
    case 'leaseGrant':
    case 'leaseRevoke': {
      const lease = objectAt(input[type === 'leaseGrant' ? 'LeaseGrant' : 'LeaseRevoke'], `Input.${type}`, ['LeaseID']);
      return { kind: type, lease: leases.number(lease.LeaseID, `Input.${type}.LeaseID`) };
    }
    case 'compact': {
      const compact = objectAt(input.Compact, 'Input.Compact', ['Revision']);
      return { kind: 'compact', revision: naturalAt(compact.Revision, 'Input.Compact.Revision') };
    }
  }
}

function rangeRequest(range: JsonObject, path: string, revision: number): EtcdRequest {
  const end = range.End === undefined ? '' : stringAt(range.End, `${path}.End`);
  const limit = naturalAt(range.Limit ?? 0, `${path}.Limit`);
  return {
    kind: 'range',
    key: stringAt(range.Start, `${path}.Start`),
    ...(end === '' ? {} : { rangeEnd: end }),
    ...(limit > 0 ? { limit } : {}),
    ...(revision > 0 ? { revision } : {}),
    ...(range.KeysOnly === true ? { keysOnly: true } : {}),
  };
}

function txnOperation(value: unknown, path: string, leases: LeaseNumbers): EtcdRequest {
  const operation = objectAt(value, path, ['Type'], ['Range', 'Put', 'Delete']);
  const type = oneOf(operation.Type, `${path}.Type`, ['range-operation', 'put-operation', 'delete-operation']);
  if (type === 'range-operation') return rangeRequest(objectAt(operation.Range, `${path}.Range`, ['Start'], ['End', 'Limit', 'KeysOnly']), `${path}.Range`, 0);
  if (type === 'delete-operation') return { kind: 'delete', key: stringAt(objectAt(operation.Delete, `${path}.Delete`, ['Key']).Key, `${path}.Delete.Key`) };
  const put = objectAt(operation.Put, `${path}.Put`, ['Key'], ['Value', 'LeaseID']);
  const lease = put.LeaseID === undefined ? 0 : leases.number(put.LeaseID, `${path}.Put.LeaseID`);
  return { kind: 'put', key: stringAt(put.Key, `${path}.Put.Key`), value: valueText(put.Value, `${path}.Put.Value`), ...(lease === 0 ? {} : { lease }) };
}

function decodeResponse(request: EtcdRequest, output: JsonObject): EtcdResponse {
  if (typeof output.ClientError === 'string' && output.ClientError !== '') return { error: clientError(output.ClientError) };
  const revision = typeof output.Revision === 'number' && output.Revision > 0 ? { revision: output.Revision } : {};
  switch (request.kind) {
    case 'range':
      return { ...revision, ...rangeResponse(output.Range, 'Output.Range') };
    case 'txn': {
      const txn = objectAt(output.Txn, 'Output.Txn', [], ['Failure', 'Results']);
      const succeeded = txn.Failure === undefined ? true : !booleanAt(txn.Failure, 'Output.Txn.Failure');
      const branch = succeeded ? request.success : request.failure;
      const results = txn.Results === null || txn.Results === undefined ? [] : arrayAt(txn.Results, 'Output.Txn.Results');
      if (results.length !== branch.length) throw new ShapeError(`Output.Txn.Results must have one result per operation of the branch that ran (${branch.length})`);
      const responses = results.map((result, index) => {
        const path = `Output.Txn.Results[${index}]`;
        const inner = branch[index]!;
        const object = objectAt(result, path, [], ['KVs', 'Count', 'Deleted']);
        if (inner.kind === 'range') return rangeResponse(object, path);
        if (inner.kind === 'delete') return { deleted: naturalAt(object.Deleted ?? 0, `${path}.Deleted`) };
        return {};
      });
      return { ...revision, succeeded, responses };
    }
    default:
      return revision;
  }
}

function rangeResponse(value: unknown, path: string): EtcdResponse {
  const range = objectAt(value, path, [], ['KVs', 'Count', 'Deleted']);
  const kvs = range.KVs === null || range.KVs === undefined ? [] : arrayAt(range.KVs, `${path}.KVs`);
  return {
    kvs: kvs.map((item, index): EtcdKeyValue => {
      const kvPath = `${path}.KVs[${index}]`;
      const kv = objectAt(item, kvPath, ['Key'], ['Value', 'ModRevision', 'Version']);
      return {
        key: stringAt(kv.Key, `${kvPath}.Key`),
        value: valueText(kv.Value, `${kvPath}.Value`),
        ...(kv.ModRevision === undefined ? {} : { modRevision: naturalAt(kv.ModRevision, `${kvPath}.ModRevision`) }),
        ...(kv.Version === undefined ? {} : { version: naturalAt(kv.Version, `${kvPath}.Version`) }),
      };
    }),
    count: naturalAt(range.Count ?? 0, `${path}.Count`),
  };
}

/** A `ValueOrHash` as the text the model compares. */
function valueText(value: unknown, path: string): string {
  if (value === undefined || value === null) return '';
  const object = objectAt(value, path, [], ['Value', 'Hash']);
  if (object.Hash !== undefined && object.Hash !== 0) return `#fnv1a32:${naturalAt(object.Hash, `${path}.Hash`).toString(16).padStart(8, '0')}#`;
  return object.Value === undefined ? '' : stringAt(object.Value, `${path}.Value`);
}

/** etcd's mvcc error texts (without the "etcdserver: " of the gRPC error) to the model's errors. */
function clientError(text: string): EtcdResponse['error'] & {} {
  if (text.includes('required revision has been compacted')) return errCompacted;
  if (text.includes('required revision is a future revision')) return errFutureRevision;
  return { code: 2, message: text };
}

/** Lease ids (int64, as exact text) numbered 1, 2, … in the order first seen; 0 stays 0 (no lease). */
class LeaseNumbers {
  readonly #numbers = new Map<bigint, number>();

  number(value: unknown, path: string): number {
    if (typeof value !== 'string' && typeof value !== 'number') throw new ShapeError(`${path} must be an integer`);
    if (!/^-?\d+$/.test(String(value))) throw new ShapeError(`${path} must be an integer`);
    const id = BigInt(value);
    if (id === 0n) return 0;
    let number = this.#numbers.get(id);
    if (number === undefined) {
      number = this.#numbers.size + 1;
      this.#numbers.set(id, number);
    }
    return number;
  }
}
