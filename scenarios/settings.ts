import type { SimOptions } from '../sim/options.ts';
import { fitPlanToMembers } from '../sim/planEdit.ts';
import type { WorkloadScript } from '../sim/workloadScript.ts';
import { CaseError, decodeFaults, decodeRatio } from './caseFile.ts';
import type { Knob, Knobs } from './scenario.ts';

/**
 * `--set NAME=VALUE`: changes one option or knob of a run. NAME is an option's dotted path as the
 * run header prints it (`nodeCount`, `network.loss`, `disk.tornWrite`, `clock.driftPpmMax`) or one
 * of the scenario's knobs (`clients`, Raft's `electionTicks`, `preVote`, ...). Values: integers,
 * probabilities as `1/10`, `true`/`false`; `faults=none` empties the fault plan.
 */
export class SetError extends Error {
  override readonly name = 'SetError';
}

export interface Settings {
  readonly options: SimOptions;
  readonly knobs: Knobs;
}

export function applySets(settings: Settings, assignments: readonly string[]): Settings {
  let { options, knobs } = settings;
  let faultsText: string | null = null;
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new SetError(`--set needs NAME=VALUE, got "${assignment}"`);
    const name = assignment.slice(0, equals);
    const text = assignment.slice(equals + 1);
    if (name in knobs) knobs = { ...knobs, [name]: parseKnob(name, text, knobs[name]!) };
    else if (name === 'faults') faultsText = text;
    else options = setOption(options, name, text, Object.keys(knobs));
  }
  if (options.nodeCount < 1 || options.nodeCount > 64) throw new SetError(`nodeCount must be in [1, 64], got ${options.nodeCount}`);
  // A plan given here must name only the members; a drawn plan is fitted to fewer of them.
  if (faultsText !== null) return { options: { ...options, faults: parseFaults(faultsText, options.nodeCount) }, knobs };
  const members = Array.from({ length: options.nodeCount }, (_, i) => i + 1);
  return { options: { ...options, faults: fitPlanToMembers(options.faults, members) }, knobs };
}

/** A script whose operations all go to existing members: operations to a removed node go to another. */
export function fitScriptToMembers<Q>(script: WorkloadScript<Q>, nodeCount: number): WorkloadScript<Q> {
  return { clients: script.clients.map((operations) => operations.map((operation) => (operation.to <= nodeCount ? operation : { ...operation, to: ((operation.to - 1) % nodeCount) + 1 }))) };
}

function parseKnob(name: string, text: string, current: Knob): Knob {
  if (typeof current === 'boolean') {
    if (text !== 'true' && text !== 'false') throw new SetError(`knob ${name} is true or false, got "${text}"`);
    return text === 'true';
  }
  return parseNatural(name, text);
}

function parseNatural(name: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new SetError(`${name} must be a non-negative integer, got "${text}"`);
  return Number(text);
}

function setOption(options: SimOptions, path: string, text: string, knobNames: readonly string[]): SimOptions {
  if (path === 'seed') throw new SetError('the seed is set with --seed, not --set');
  // Optional (absent: off), so not found by walking the options.
  if (path === 'pipelinedHost') return { ...options, pipelinedHost: parseKnob(path, text, false) as boolean };
  if (path === 'network.keyedDraws') {
    // Pinned fates are keyed: turned off, the case's pins go with the mode.
    const { fates, ...network } = options.network;
    const keyedDraws = parseKnob(path, text, false) as boolean;
    return { ...options, network: keyedDraws && fates !== undefined ? { ...network, keyedDraws, fates } : { ...network, keyedDraws } };
  }
  const keys = path.split('.');
  const replace = (value: unknown, depth: number): unknown => {
    const key = keys[depth]!;
    if (typeof value !== 'object' || value === null || !(key in value)) throw unknownName(path, options, knobNames);
    const current = (value as Record<string, unknown>)[key];
    const next = depth === keys.length - 1 ? parseLike(path, text, current) : replace(current, depth + 1);
    return { ...value, [key]: next };
  };
  return replace(options, 0) as SimOptions;
}

function parseLike(path: string, text: string, current: unknown): unknown {
  if (typeof current === 'number') return parseNatural(path, text);
  if (typeof current === 'boolean') return parseKnob(path, text, current);
  if (typeof current === 'object' && current !== null && 'numerator' in current) {
    try {
      return decodeRatio(text, path);
    } catch (error) {
      throw new SetError((error as Error).message);
    }
  }
  throw new SetError(`${path} is not a single value; set one of its fields (e.g. ${path}.${Object.keys(current as object)[0]})`);
}

/** `none`, or a JSON list of faults as a case file writes them. */
function parseFaults(text: string, nodeCount: number): SimOptions['faults'] {
  if (text === 'none') return [];
  try {
    return decodeFaults(JSON.parse(text), nodeCount);
  } catch (error) {
    throw new SetError(`faults: ${error instanceof CaseError || error instanceof SyntaxError ? error.message : String(error)}`);
  }
}

function unknownName(path: string, options: SimOptions, knobNames: readonly string[]): SetError {
  const optionNames: string[] = [];
  const visit = (prefix: string, value: unknown): void => {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || 'numerator' in value) optionNames.push(prefix);
    else for (const key of Object.keys(value)) visit(prefix === '' ? key : `${prefix}.${key}`, (value as Record<string, unknown>)[key]);
  };
  visit('', { ...options, seed: undefined });
  const optional = ['pipelinedHost', 'network.keyedDraws'];
  const known = [...optionNames.filter((name) => name !== 'seed' && !optional.includes(name) && !name.startsWith('network.links')), ...optional, ...knobNames];
  return new SetError(`unknown setting "${path}" (options and knobs: ${known.join(', ')})`);
}
