import { formatRatio, type Ratio } from '../core/base/ratio.ts';
import type { FaultAction, PartitionShape, TimedFault } from '../sim/faults.ts';
import type { PinnedFate } from '../sim/network.ts';
import { defaultSimOptions, type SimOptions } from '../sim/options.ts';
import type { ScriptedOperation, WorkloadScript } from '../sim/workloadScript.ts';
import type { CaseOutcome, RunCase } from './case.ts';
import type { Knobs } from './scenario.ts';

/**
 * The case file: JSON, one fault and one client operation per line so that it reads and edits
 * well. README.md ("Cases", under "The harness") is its specification:
 *
 *     {
 *       "case": "detcd-sim", "version": 1,
 *       "scenario": "raft-swarm", "seed": 42, "mutant": "vote-without-log-check",
 *       "saved": {"traceHash": "…", "violation": "state machine safety: …", "violationUs": 8123456},
 *       "knobs": {"clients": 5, "electionTicks": 10, …},
 *       "options": {"nodeCount": 5, "timeLimitUs": 41000000, "network": {"loss": "1/10", …}, …},
 *       "faults": [
 *         {"atUs": 2400000, "action": {"kind": "crash", "node": 3}},
 *         …
 *       ],
 *       "workload": [
 *         [{"to": 2, "request": {"kind": "append", "value": 1}, "invokeUs": 0, "thinkUs": 31250}, …],
 *         …
 *       ]
 *     }
 *
 * Probabilities are written "numerator/denominator"; byte arrays inside requests as
 * {"$bytes": "hex"}. `faults` is the options' fault plan; `workload` has one list per client.
 */

export const caseFormat = 'detcd-sim';
export const caseVersion = 1;

/** A case file that cannot be read: the message names the field. */
export class CaseError extends Error {
  override readonly name = 'CaseError';
}

// --- writing -------------------------------------------------------------------------------

export function formatCase(runCase: RunCase): string {
  const { faults, seed: _seed, network: { fates, ...network }, ...rest } = runCase.options;
  const options = { ...rest, network };
  const head: Record<string, unknown> = { case: caseFormat, version: caseVersion, scenario: runCase.scenario, seed: runCase.seed };
  if (runCase.variant.mutant !== undefined) head.mutant = runCase.variant.mutant;
  if (runCase.variant.patch !== undefined) head.patch = runCase.variant.patch;
  if (runCase.variant.scenarios !== undefined) head.scenarios = runCase.variant.scenarios;
  const lines = ['{'];
  const field = (name: string, value: string, last = false): void => void lines.push(`  ${JSON.stringify(name)}: ${value}${last ? '' : ','}`);
  for (const [name, value] of Object.entries(head)) field(name, JSON.stringify(value));
  if (runCase.saved !== undefined) field('saved', JSON.stringify(runCase.saved));
  field('knobs', JSON.stringify(runCase.knobs));
  field('options', JSON.stringify(encodeValue(options)));
  field('faults', listOf(faults.map((fault) => JSON.stringify(encodeValue(fault))), '    '));
  // Pinned fates, one message a line: [from, to, key, occurrence, delayUs, duplicateUs].
  if (fates !== undefined) field('fates', listOf(fates.map((fate) => JSON.stringify([fate.from, fate.to, fate.key, fate.occurrence, fate.delayUs, fate.duplicateUs])), '    '));
  const clients = runCase.workload.clients.map((operations) => listOf(operations.map((operation) => JSON.stringify(encodeValue(operation))), '      '));
  field('workload', listOf(clients, '    '), true);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function listOf(items: readonly string[], indent: string): string {
  if (items.length === 0) return '[]';
  return `[\n${items.map((item) => `${indent}${item}`).join(',\n')}\n${indent.slice(2)}]`;
}

/** Plain JSON of a value: ratios as "n/d", byte arrays as {"$bytes": hex}. */
export function encodeValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('hex') };
  if (Array.isArray(value)) return value.map(encodeValue);
  if (typeof value === 'object' && value !== null) {
    if (isRatio(value)) return formatRatio(value);
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, encodeValue(inner)]));
  }
  return value;
}

function isRatio(value: object): value is Ratio {
  const keys = Object.keys(value);
  return keys.length === 2 && keys.includes('numerator') && keys.includes('denominator');
}

// --- reading -------------------------------------------------------------------------------

/** Reads a case file's text; every problem is a CaseError naming the field. */
export function parseCase(text: string): RunCase {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new CaseError(`not JSON: ${(error as Error).message}`);
  }
  const file = record(json, 'the case');
  allowOnly(file, 'the case', ['case', 'version', 'scenario', 'seed', 'mutant', 'patch', 'scenarios', 'saved', 'knobs', 'options', 'faults', 'fates', 'workload']);
  if (file.case !== caseFormat) throw new CaseError(`"case" must be "${caseFormat}" (is this a case file?)`);
  if (file.version !== caseVersion) throw new CaseError(`version ${JSON.stringify(file.version)} is not supported (this reader knows version ${caseVersion})`);
  const scenario = text_(file.scenario, 'scenario');
  const seed = natural(file.seed, 'seed');
  const options = decodeOptions(record(file.options, 'options'));
  const faults = decodeFaults(file.faults, options.nodeCount);
  const workload = decodeWorkload(file.workload, options.nodeCount);
  if (file.fates !== undefined && options.network.keyedDraws !== true) throw new CaseError('fates are pinned in keyed mode only: options.network.keyedDraws must be true');
  const network = file.fates === undefined ? options.network : { ...options.network, fates: decodeFates(file.fates, options.nodeCount) };
  return {
    scenario,
    seed,
    variant: {
      ...(file.mutant === undefined ? {} : { mutant: text_(file.mutant, 'mutant') }),
      ...(file.patch === undefined ? {} : { patch: text_(file.patch, 'patch') }),
      ...(file.scenarios === undefined ? {} : { scenarios: text_(file.scenarios, 'scenarios') }),
    },
    knobs: decodeKnobs(file.knobs),
    options: { ...options, network, seed, faults },
    workload,
    ...(file.saved === undefined ? {} : { saved: decodeSaved(file.saved) }),
  };
}

type Json = Record<string, unknown>;

function record(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CaseError(`${where} must be an object`);
  return value as Json;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new CaseError(`${where} must be a list`);
  return value;
}

function allowOnly(value: Json, where: string, names: readonly string[]): void {
  const unknown = Object.keys(value).filter((key) => !names.includes(key));
  if (unknown.length > 0) throw new CaseError(`${where} has unknown field "${unknown[0]}" (fields: ${names.join(', ')})`);
}

function text_(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new CaseError(`${where} must be a non-empty string`);
  return value;
}

function natural(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new CaseError(`${where} must be a non-negative integer, not ${JSON.stringify(value)}`);
  return value;
}

function integer(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new CaseError(`${where} must be an integer, not ${JSON.stringify(value)}`);
  return value;
}

function member(value: unknown, where: string, nodeCount: number): number {
  const id = natural(value, where);
  if (id < 1 || id > nodeCount) throw new CaseError(`${where} is node ${id}, but the case has nodes 1..${nodeCount}`);
  return id;
}

/** "n/d" (or the object form) into a ratio in [0, 1]. */
export function decodeRatio(value: unknown, where: string): Ratio {
  const match = typeof value === 'string' ? /^(\d+)\/(\d+)$/.exec(value) : null;
  const parts = match !== null ? { numerator: Number(match[1]), denominator: Number(match[2]) } : typeof value === 'object' && value !== null ? (value as Ratio) : null;
  if (parts === null || !Number.isSafeInteger(parts.numerator) || !Number.isSafeInteger(parts.denominator) || parts.denominator <= 0 || parts.numerator < 0 || parts.numerator > parts.denominator) {
    throw new CaseError(`${where} must be a probability "numerator/denominator" in [0, 1], not ${JSON.stringify(value)}`);
  }
  return { numerator: parts.numerator, denominator: parts.denominator };
}

/**
 * The options, shaped like `defaultSimOptions`: the same fields, each of the same kind (a number,
 * a probability, a nested object); the per-link latency overrides are optional.
 */
function decodeOptions(json: Json): Omit<SimOptions, 'seed' | 'faults'> {
  const { faults: _faults, ...template } = defaultSimOptions;
  return decodeLike(json, template, 'options') as Omit<SimOptions, 'seed' | 'faults'>;
}

/** Fields a case may leave out: per-link latency overrides, the pipelined host loop and keyed network draws (absent: off), a slice of deferred work's time (absent: 1 ms), a disk's lag (absent: none). */
const optionalOptionFields = new Set(['options.network.links', 'options.network.keyedDraws', 'options.pipelinedHost', 'options.deferredWorkUs', 'options.disk.lag']);

function decodeLike(value: unknown, template: unknown, where: string): unknown {
  if (typeof template === 'number') return natural(value, where);
  if (typeof template === 'boolean') {
    if (typeof value !== 'boolean') throw new CaseError(`${where} must be true or false`);
    return value;
  }
  if (typeof template === 'object' && template !== null && isRatio(template)) return decodeRatio(value, where);
  const object = record(value, where);
  const templateObject = template as Json;
  allowOnly(object, where, [...Object.keys(templateObject), ...[...optionalOptionFields].filter((path) => path.startsWith(`${where}.`)).map((path) => path.slice(where.length + 1))]);
  const decoded: Json = {};
  for (const key of Object.keys(templateObject)) {
    if (!(key in object)) throw new CaseError(`${where}.${key} is missing`);
    decoded[key] = decodeLike(object[key], templateObject[key], `${where}.${key}`);
  }
  if (where === 'options' && object.pipelinedHost !== undefined) decoded.pipelinedHost = decodeLike(object.pipelinedHost, false, 'options.pipelinedHost');
  if (where === 'options' && object.deferredWorkUs !== undefined) decoded.deferredWorkUs = decodeLike(object.deferredWorkUs, 0, 'options.deferredWorkUs');
  if (where === 'options.network' && object.keyedDraws !== undefined) decoded.keyedDraws = decodeLike(object.keyedDraws, false, 'options.network.keyedDraws');
  if (where === 'options.disk' && object.lag !== undefined) decoded.lag = decodeLag(object.lag, 'options.disk.lag');
  if (where === 'options.network' && object.links !== undefined) decoded.links = list(object.links, 'options.network.links').map((link, index) => decodeLink(link, `options.network.links[${index}]`));
  return decoded;
}

/** A disk's lag (DiskOptions.lag): the file it holds back, a probability and a range of microseconds. */
function decodeLag(value: unknown, where: string): unknown {
  const lag = record(value, where);
  allowOnly(lag, where, ['file', 'chance', 'usMin', 'usMax']);
  if (typeof lag.file !== 'string' || lag.file === '') throw new CaseError(`${where}.file must be a file name`);
  const usMin = natural(lag.usMin, `${where}.usMin`);
  const usMax = natural(lag.usMax, `${where}.usMax`);
  if (usMax < usMin) throw new CaseError(`${where}.usMax must be at least usMin (${usMin})`);
  return { file: lag.file, chance: decodeRatio(lag.chance, `${where}.chance`), usMin, usMax };
}

function decodeLink(value: unknown, where: string): unknown {
  const link = record(value, where);
  return decodeLike(link, { from: 0, to: 0, latencyUsMin: 0, latencyUsMax: 0, tail: { numerator: 0, denominator: 1 }, tailUsMax: 0 }, where);
}

/** A fault plan as a case writes it: a list of {atUs, action}, naming nodes 1..nodeCount. */
export function decodeFaults(value: unknown, nodeCount: number): TimedFault[] {
  return list(value, 'faults').map((fault, index) => decodeFault(fault, `faults[${index}]`, nodeCount));
}

function decodeFault(value: unknown, where: string, nodeCount: number): TimedFault {
  const fault = record(value, where);
  allowOnly(fault, where, ['atUs', 'action']);
  return { atUs: natural(fault.atUs, `${where}.atUs`), action: decodeAction(record(fault.action, `${where}.action`), `${where}.action`, nodeCount) };
}

function decodeAction(action: Json, where: string, nodeCount: number): FaultAction {
  const node = (): number => member(action.node, `${where}.node`, nodeCount);
  const only = (...fields: string[]): void => allowOnly(action, where, ['kind', ...fields]);
  switch (action.kind) {
    case 'crash':
    case 'restart':
    case 'pause':
    case 'resume':
      only('node');
      return { kind: action.kind, node: node() };
    case 'crash-leader':
      only('restartAfterUs');
      return { kind: 'crash-leader', restartAfterUs: natural(action.restartAfterUs, `${where}.restartAfterUs`) };
    case 'pause-leader':
      only('resumeAfterUs');
      return { kind: 'pause-leader', resumeAfterUs: natural(action.resumeAfterUs, `${where}.resumeAfterUs`) };
    case 'partition':
      only('shape');
      return { kind: 'partition', shape: decodeShape(record(action.shape, `${where}.shape`), `${where}.shape`, nodeCount) };
    case 'heal':
    case 'quiet':
      only();
      return { kind: action.kind };
    case 'clock-jump':
      only('node', 'deltaUs');
      return { kind: 'clock-jump', node: node(), deltaUs: integer(action.deltaUs, `${where}.deltaUs`) };
    case 'clock-jump-leader':
      only('deltaUs');
      return { kind: 'clock-jump-leader', deltaUs: integer(action.deltaUs, `${where}.deltaUs`) };
    case 'clock-drift':
      only('node', 'driftPpm');
      return { kind: 'clock-drift', node: node(), driftPpm: integer(action.driftPpm, `${where}.driftPpm`) };
    case 'network':
      only('loss', 'duplicate', 'tail', 'tailUsMax');
      return {
        kind: 'network',
        loss: decodeRatio(action.loss, `${where}.loss`),
        duplicate: decodeRatio(action.duplicate, `${where}.duplicate`),
        ...(action.tail === undefined ? {} : { tail: decodeRatio(action.tail, `${where}.tail`) }),
        ...(action.tailUsMax === undefined ? {} : { tailUsMax: natural(action.tailUsMax, `${where}.tailUsMax`) }),
      };
    case 'stall':
      only('node', 'durationUs');
      return { kind: 'stall', node: node(), durationUs: natural(action.durationUs, `${where}.durationUs`) };
    case 'disk-stall':
      only('node', 'durationUs');
      return { kind: 'disk-stall', node: node(), durationUs: natural(action.durationUs, `${where}.durationUs`) };
    case 'disk-stall-leader':
      only('durationUs');
      return { kind: 'disk-stall-leader', durationUs: natural(action.durationUs, `${where}.durationUs`) };
    default:
      throw new CaseError(`${where}.kind must be one of crash, restart, pause, resume, crash-leader, pause-leader, partition, heal, quiet, clock-jump, clock-jump-leader, clock-drift, network, stall, disk-stall, disk-stall-leader; not ${JSON.stringify(action.kind)}`);
  }
}

function decodeShape(shape: Json, where: string, nodeCount: number): PartitionShape {
  const nodes = (field: string): number[] => list(shape[field], `${where}.${field}`).map((id, index) => member(id, `${where}.${field}[${index}]`, nodeCount));
  const only = (...fields: string[]): void => allowOnly(shape, where, ['kind', ...fields]);
  switch (shape.kind) {
    case 'isolate':
      only('node');
      return { kind: 'isolate', node: member(shape.node, `${where}.node`, nodeCount) };
    case 'isolate-leader':
      only();
      return { kind: 'isolate-leader' };
    case 'split':
      only('side');
      return { kind: 'split', side: nodes('side') };
    case 'ring': {
      only('order');
      const order = nodes('order');
      if (new Set(order).size !== nodeCount) throw new CaseError(`${where}.order must name every node 1..${nodeCount} once`);
      return { kind: 'ring', order };
    }
    case 'bridge':
      only('bridge', 'side');
      return { kind: 'bridge', bridge: member(shape.bridge, `${where}.bridge`, nodeCount), side: nodes('side') };
    case 'one-way':
      only('from', 'to');
      return { kind: 'one-way', from: member(shape.from, `${where}.from`, nodeCount), to: member(shape.to, `${where}.to`, nodeCount) };
    default:
      throw new CaseError(`${where}.kind must be one of isolate, isolate-leader, split, ring, bridge, one-way; not ${JSON.stringify(shape.kind)}`);
  }
}

/** Pinned fates: [from, to, key, occurrence, delayUs, duplicateUs] each, from and to addresses of the run. */
function decodeFates(value: unknown, nodeCount: number): PinnedFate[] {
  return list(value, 'fates').map((fate, index) => {
    const where = `fates[${index}]`;
    const parts = list(fate, where);
    if (parts.length !== 6) throw new CaseError(`${where} must be [from, to, key, occurrence, delayUs, duplicateUs]`);
    const [from, to, key, occurrence] = parts.slice(0, 4).map((part, i) => natural(part, `${where}[${i}]`)) as [number, number, number, number];
    const [delayUs, duplicateUs] = parts.slice(4).map((part, i) => integer(part, `${where}[${i + 4}]`)) as [number, number];
    if (from < 1 || to < 1 || from === to) throw new CaseError(`${where} names no link (${from} → ${to}; nodes are 1..${nodeCount}, clients follow)`);
    if (key > 0xffff_ffff || delayUs < -1 || duplicateUs < -1) throw new CaseError(`${where}: key is 32 bits, delays are -1 or more`);
    return { from, to, key, occurrence, delayUs, duplicateUs };
  });
}

/** One list per client of {to, request, invokeUs?, thinkUs?}; requests are the protocol's own JSON. */
function decodeWorkload(value: unknown, nodeCount: number): WorkloadScript<unknown> {
  const clients = list(value, 'workload').map((operations, client) =>
    list(operations, `workload[${client}]`).map((operation, index): ScriptedOperation<unknown> => {
      const where = `workload[${client}][${index}]`;
      const json = record(operation, where);
      allowOnly(json, where, ['to', 'request', 'invokeUs', 'thinkUs']);
      return {
        to: member(json.to, `${where}.to`, nodeCount),
        request: decodeBytes(record(json.request, `${where}.request`)),
        ...(json.invokeUs === undefined ? {} : { invokeUs: natural(json.invokeUs, `${where}.invokeUs`) }),
        ...(json.thinkUs === undefined ? {} : { thinkUs: natural(json.thinkUs, `${where}.thinkUs`) }),
      };
    }),
  );
  return { clients };
}

/** {"$bytes": hex} back into byte arrays, anywhere in a request. */
function decodeBytes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeBytes);
  if (typeof value !== 'object' || value === null) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === '$bytes' && typeof (value as Json).$bytes === 'string' && /^([0-9a-f]{2})*$/.test((value as Json).$bytes as string)) {
    return new Uint8Array(Buffer.from((value as Json).$bytes as string, 'hex'));
  }
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, decodeBytes(inner)]));
}

function decodeKnobs(value: unknown): Knobs {
  const knobs = record(value, 'knobs');
  for (const [name, knob] of Object.entries(knobs)) {
    if (typeof knob !== 'boolean' && !(typeof knob === 'number' && Number.isSafeInteger(knob) && knob >= 0)) throw new CaseError(`knobs.${name} must be a non-negative integer or true/false`);
  }
  return knobs as Knobs;
}

function decodeSaved(value: unknown): CaseOutcome {
  const saved = record(value, 'saved');
  allowOnly(saved, 'saved', ['traceHash', 'violation', 'violationUs']);
  return {
    traceHash: text_(saved.traceHash, 'saved.traceHash'),
    violation: saved.violation === null ? null : text_(saved.violation, 'saved.violation'),
    ...(saved.violationUs === undefined ? {} : { violationUs: natural(saved.violationUs, 'saved.violationUs') }),
  };
}
