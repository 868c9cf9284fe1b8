/**
 * detcd's native history format: JSON lines, one operation per line, optionally after a header
 * line. The simulator writes it; README.md ("History format") is its specification:
 *
 *   {"history":"detcd","version":1,"model":"etcd","initialRevision":1}
 *   {"process":3,"invoke":1200,"complete":1350,"outcome":"ok","input":{"kind":"put","key":"a","value":"1"},"output":{"revision":2}}
 *   {"process":4,"invoke":1210,"outcome":"unknown","input":{"kind":"put","key":"b","value":"2"}}
 *
 * Operations may come in any order. `complete` is required for ok and fail outcomes and
 * optional for unknown ones (when the client gave up). `output` is given exactly for ok.
 */
import type { Operation, Outcome } from '../history.ts';
import { etcdCodec, keyValueCodec, registerCodec, registersCodec, type JsonCodec } from './jsonCodecs.ts';
import { finiteAt, naturalAt, objectAt, oneOf, ShapeError, type JsonObject } from './jsonShape.ts';
import { refuseUnorderableText } from './codePointOrder.ts';
import { ExactNumbers, checkJsonText, needsExactScan } from './exactNumbers.ts';
import { HistoryParseError, linesOf, shortened } from './parseError.ts';
import { keyValueLine } from './keyValueLine.ts';
import type { KeyValueInput, KeyValueOutput } from '../models/keyValue.ts';
import { modelNames, type ModelName, type TypedHistory } from './typedHistory.ts';

const operationFields = ['process', 'invoke', 'outcome', 'input'];
const optionalOperationFields = ['complete', 'output', 'meta'];
const outcomes: readonly Outcome[] = ['ok', 'fail', 'unknown'];

/** Whether a line holds only white space (as `trim` sees it), without making a trimmed copy. */
function blank(content: string): boolean {
  if (content.length === 0) return true;
  const first = content.charCodeAt(0);
  // JSON text starts with a character that is no white space; only other lines need the scan.
  if (first === 0x7b || first === 0x5b || first === 0x22) return false;
  return content.trim() === '';
}

interface Records {
  /**
   * Per operation line: its object, or undefined where `keyValueLine` read it (then `decoded` holds
   * it); empty when every line was read so (`readRecords`, plainOnly).
   */
  readonly objects: (JsonObject | undefined)[];
  readonly decoded: (Operation<KeyValueInput, KeyValueOutput> | undefined)[];
  readonly lines: number[];
}

interface Header {
  readonly line: number;
  readonly model: ModelName | undefined;
  readonly initialRevision: number | undefined;
}

/** Parses the format; `model` (from the command line) overrides detection but not the header. */
export function parseJsonLines(text: string, model?: ModelName): TypedHistory {
  // A kv file whose every operation line is in the plain shape is read without the exact-number
  // scan of the whole text (about a tenth of reading 2,000 lines, cold): no line of that shape
  // holds anything the scan looks for outside its strings (integers of at most 15 digits, no
  // escapes), so it would change nothing. Any other line, and the file is read again the general way.
  const { records, header } = readRecords(text, model, true) ?? readRecords(text, model, false)!;
  if (model !== undefined && header?.model !== undefined && model !== header.model) {
    throw new HistoryParseError(header.line, `the header says model "${header.model}", not "${model}"`);
  }
  const chosen = model ?? header?.model ?? inferModel(records);
  switch (chosen) {
    case 'register':
      return { model: chosen, operations: decodeAll(records, registerCodec) };
    case 'registers':
      return { model: chosen, operations: decodeAll(records, registersCodec) };
    case 'kv':
      return { model: chosen, operations: decodeAll(records, keyValueCodec, records.decoded) };
    case 'etcd': {
      const operations = decodeAll(records, etcdCodec);
      refuseUnorderableText(operations, (index) => records.lines[index]!, text);
      return { model: chosen, operations, initialRevision: header?.initialRevision ?? 1 };
    }
  }
}

/**
 * The header and the operation lines. `plainOnly`: only blank lines, a header (whose own text
 * needs no exact scan) and kv lines in the plain shape after it; undefined at anything else, which
 * the general reading (`plainOnly` false) then reads or names as wrong.
 */
function readRecords(text: string, model: ModelName | undefined, plainOnly: boolean): { records: Records; header: Header | undefined } | undefined {
  // The operation lines' objects and their line numbers, side by side (no object per line).
  const records: Records = { objects: [], decoded: [], lines: [] };
  // Its arrays as locals: a property load per line costs, cold.
  const { objects, decoded, lines: lineNumbers } = records;
  const numbers = new ExactNumbers();
  const exact = !plainOnly && needsExactScan(text);
  let header: Header | undefined;
  // A kv file (by its header) whose numbers are all exact as written: lines in the simulator's
  // own shape are read by one regular expression (`keyValueLine.ts`), the others as below.
  let plainKeyValue = false;
  // A plain loop without a closure per line: a one-shot check runs this before the JIT has
  // compiled it, and each call and allocation per line shows (see docs/journal/checker.md, "The
  // checker from a cold start").
  const lines = linesOf(text);
  for (let index = 0; index < lines.length; index++) {
    const content = lines[index]!;
    const line = index + 1;
    // The plain shape first: a line it reads is not blank (it starts with a brace).
    if (plainKeyValue) {
      const operation = keyValueLine(content);
      if (operation !== undefined) {
        // Read plainly throughout, the file needs no objects (`decodeAll`).
        if (!plainOnly) objects.push(undefined);
        decoded.push(operation);
        lineNumbers.push(line);
        continue;
      }
    }
    if (blank(content)) continue;
    if (plainOnly && (header !== undefined || needsExactScan(content))) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (error) {
      if (plainOnly) return undefined;
      throw new HistoryParseError(line, `not JSON: ${(error as Error).message}`);
    }
    if (exact) checkJsonText(content, line, numbers);
    try {
      if (typeof value === 'object' && value !== null && 'history' in value) {
        if (header !== undefined || objects.length > 0) throw new HistoryParseError(line, 'the header must be the first line');
        header = parseHeader(line, value as JsonObject);
        plainKeyValue = !exact && header.model === 'kv' && (model === undefined || model === 'kv');
      } else {
        if (plainOnly) return undefined;
        // Checked here, once (decodeOperation relies on it): the first wrong line is the one named.
        objects.push(objectAt(value, '', operationFields, optionalOperationFields));
        decoded.push(undefined);
        lineNumbers.push(line);
      }
    } catch (error) {
      if (plainOnly) return undefined;
      if (error instanceof ShapeError) throw new HistoryParseError(line, error.message);
      throw error;
    }
  }
  if (plainOnly && !plainKeyValue) return undefined;
  return { records, header };
}

function parseHeader(line: number, record: JsonObject): Header {
  const header = objectAt(record, 'the header', ['history', 'version'], ['model', 'initialRevision']);
  if (header.history !== 'detcd') throw new ShapeError('the header\'s "history" must be "detcd"');
  if (header.version !== 1) throw new ShapeError(`version ${shortened(JSON.stringify(header.version) ?? 'undefined', 40)} is not supported (this reader knows version 1)`);
  return {
    line,
    model: header.model === undefined ? undefined : oneOf(header.model, 'the header\'s "model"', modelNames),
    initialRevision: header.initialRevision === undefined ? undefined : naturalAt(header.initialRevision, 'the header\'s "initialRevision"'),
  };
}

/** The model whose operation kinds the history uses; an error when that is ambiguous. */
function inferModel(records: Records): ModelName {
  const kindsOf: Record<ModelName, string[]> = { register: ['read', 'write', 'cas'], registers: [], kv: ['get', 'append'], etcd: ['range', 'delete', 'txn', 'compact'] };
  const seen = new Map<ModelName, number>();
  let revisions = false;
  for (let index = 0; index < records.objects.length; index++) {
    const record = records.objects[index]!;
    const line = records.lines[index]!;
    const input = record.input as { kind?: unknown; key?: unknown } | undefined;
    const kind = input?.kind;
    for (const name of modelNames) {
      if (typeof kind !== 'string' || !kindsOf[name].includes(kind) || seen.has(name)) continue;
      // Register operations with a key are the independent registers' (`registers`).
      seen.set(name === 'register' && input?.key !== undefined ? 'registers' : name, line);
    }
    if (typeof record.output === 'object' && record.output !== null && 'revision' in record.output) revisions = true;
  }
  if (seen.size > 1) {
    const [first, second] = [...seen];
    throw new HistoryParseError(second![1], `operations of model "${first![0]}" (line ${first![1]}) and "${second![0]}" are mixed; give --model or a header`);
  }
  const only = [...seen.keys()][0];
  if (only !== undefined) return only;
  if (records.objects.length === 0) return 'register';
  // Only puts: etcd responses carry revisions, key/value ones do not.
  return revisions ? 'etcd' : 'kv';
}

/** Each operation line decoded (or taken from `decoded`, where the kv shape read it already). */
function decodeAll<Input, Output>(records: Records, codec: JsonCodec<Input, Output>, decoded?: readonly (Operation<Input, Output> | undefined)[]): Operation<Input, Output>[] {
  const { objects, lines } = records;
  if (decoded !== undefined && objects.length === 0 && decoded.length === lines.length) {
    // Every line read in the plain shape (`readRecords`, plainOnly): decoded already.
    const operations = decoded as Operation<Input, Output>[];
    refuseOverlaps(operations, lines);
    return operations;
  }
  const operations = new Array<Operation<Input, Output>>(objects.length);
  for (let index = 0; index < objects.length; index++) {
    const record = objects[index];
    const line = lines[index]!;
    try {
      operations[index] = record === undefined ? decoded![index]! : decodeOperation(record, codec);
    } catch (error) {
      if (error instanceof ShapeError) throw new HistoryParseError(line, error.message);
      throw error;
    }
  }
  refuseOverlaps(operations, lines);
  return operations;
}

/**
 * A process (a client) has one operation at a time: two that overlap mean the history mixes up
 * clients, and checking it would judge operations no client could have issued. An unknown outcome
 * without `complete` keeps its process busy forever (Jepsen's clients go on under a new process).
 */
function refuseOverlaps(operations: readonly Operation<unknown, unknown>[], lines: readonly number[]): void {
  if (inOrderWithoutOverlaps(operations)) return;
  // Each process's operations in line order, which is their invocation order in any file the
  // simulator or a client log writes: then the check is one pass, and only a process whose lines
  // are not in that order is sorted (by invocation, then line).
  const byProcess = new Map<number, number[]>();
  for (let index = 0; index < operations.length; index++) {
    const process = operations[index]!.process;
    const indexes = byProcess.get(process);
    if (indexes === undefined) byProcess.set(process, [index]);
    else indexes.push(index);
  }
  // Processes in ascending order: the overlap named is the one of the lowest process.
  for (const process of [...byProcess.keys()].sort((a, b) => a - b)) {
    const order = byProcess.get(process)!;
    for (let at = 1; at < order.length; at++) {
      if (operations[order[at]!]!.invokedAt < operations[order[at - 1]!]!.invokedAt) {
        order.sort((a, b) => operations[a]!.invokedAt - operations[b]!.invokedAt || a - b);
        break;
      }
    }
    for (let at = 1; at < order.length; at++) {
      const earlier = operations[order[at - 1]!]!;
      const later = operations[order[at]!]!;
      if (earlier.completedAt <= later.invokedAt) continue;
      const [first, second] = [lines[order[at - 1]!]!, lines[order[at]!]!].sort((a, b) => a - b);
      const forever = earlier.completedAt === Infinity ? ' (an unknown outcome without "complete" keeps its process busy for good: give "complete", or go on under a new process id)' : '';
      throw new HistoryParseError(second!, `process ${later.process} has two operations at once: lines ${first} and ${second} overlap${forever}`);
    }
  }
}

/**
 * Whether each process's operations come in invocation order, one after another: one pass over
 * the operations, the last of each process in a map. It holds in any file the simulator or a
 * client log writes; when it does not, `refuseOverlaps` sorts and names the overlap.
 */
function inOrderWithoutOverlaps(operations: readonly Operation<unknown, unknown>[]): boolean {
  // Each process's last completion: by index in an array where process ids are small (a Map's
  // get and set per line cost more, cold), in a Map past that.
  const busyUntil: number[] = [];
  const large = new Map<number, number>();
  for (let index = 0; index < operations.length; index++) {
    const operation = operations[index]!;
    const process = operation.process;
    if (process < smallProcesses) {
      const until = busyUntil[process];
      if (until !== undefined && until > operation.invokedAt) return false;
      busyUntil[process] = operation.completedAt;
      continue;
    }
    const until = large.get(process);
    if (until !== undefined && until > operation.invokedAt) return false;
    large.set(process, operation.completedAt);
  }
  return true;
}

/** Process ids below this are kept by index in `inOrderWithoutOverlaps`. */
const smallProcesses = 4096;

/** `object`: a line already checked to hold only operation fields, the required ones among them. */
function decodeOperation<Input, Output>(object: JsonObject, codec: JsonCodec<Input, Output>): Operation<Input, Output> {
  const outcome = object.outcome as Outcome;
  if (outcome !== 'ok' && outcome !== 'fail' && outcome !== 'unknown') oneOf(outcome, 'outcome', outcomes);
  const invokedAt = finiteAt(object.invoke, 'invoke');
  if (outcome !== 'unknown' && !('complete' in object)) throw new ShapeError(`complete is required for an ${outcome} outcome`);
  const completedAt = 'complete' in object ? finiteAt(object.complete, 'complete') : Infinity;
  if (completedAt < invokedAt) throw new ShapeError('complete is before invoke');
  if ((outcome === 'ok') !== ('output' in object)) throw new ShapeError('output is given exactly when the outcome is ok');
  const input = codec.decodeInput(object.input, 'input');
  const output = outcome === 'ok' ? codec.decodeOutput(object.output, 'output', input) : undefined;
  return { process: naturalAt(object.process, 'process'), invokedAt, completedAt, input, output, outcome };
}

/**
 * Writes a history in this format, header first, so that `parseJsonLines` reads it back. A client
 * that gave up on an operation (unknown, no `complete`) and went on goes on under a new process
 * id in the file, as Jepsen's clients do: otherwise the reader refuses the two operations at once.
 */
export function formatJsonLines(history: TypedHistory): string {
  const header = { history: 'detcd', version: 1, model: history.model, ...(history.model === 'etcd' ? { initialRevision: history.initialRevision } : {}) };
  const lines = [JSON.stringify(header)];
  const operations = history.operations as readonly Operation<unknown, unknown>[];
  const processes = processesAfterUnknowns(operations);
  for (const [index, operation] of operations.entries()) {
    lines.push(
      JSON.stringify({
        process: processes[index],
        invoke: operation.invokedAt,
        ...(Number.isFinite(operation.completedAt) ? { complete: operation.completedAt } : {}),
        outcome: operation.outcome,
        input: operation.input,
        ...(operation.outcome === 'ok' ? { output: operation.output } : {}),
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Each operation's process id, a fresh one for whatever a process did after an open-ended unknown outcome. */
function processesAfterUnknowns(operations: readonly Operation<unknown, unknown>[]): number[] {
  const processes = operations.map((operation) => operation.process);
  let fresh = processes.reduce((highest, process) => Math.max(highest, process), -1) + 1;
  const order = operations.map((_, index) => index);
  order.sort((a, b) => operations[a]!.process - operations[b]!.process || operations[a]!.invokedAt - operations[b]!.invokedAt || a - b);
  const alias = new Map<number, number>();
  for (const index of order) {
    const operation = operations[index]!;
    processes[index] = alias.get(operation.process) ?? operation.process;
    if (operation.completedAt === Infinity) alias.set(operation.process, fresh++);
  }
  return processes;
}
