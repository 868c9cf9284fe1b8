/**
 * Key/value histories like the ones Jepsen's and Porcupine's kv tests record, generated from a
 * seed, for property tests and benchmarks: `clients` workers, each with one operation at a time,
 * issue get / put / append on `keys` keys against one atomic store. Every operation that takes
 * effect does so at one instant (an effect point): ok operations strictly inside their interval,
 * so the history is linearizable by construction, until anomalies are planted into it.
 *
 * What makes such histories hard to check are unknown outcomes (a timeout: the client never
 * learned whether its write happened). Their share and their fate are options, as a run would
 * have them: the write happens inside the interval, after the client gave up (the request sat
 * in a queue), never, or half of the time one of those. After an unknown outcome the client goes
 * on under a fresh process id, as Jepsen's workers do.
 *
 * Written values are unique (`x <client> <serial> y`, Jepsen's shape) unless `valuesPerKey` asks
 * for a few repeated ones: unique values are what lets a checker tell which write a read saw.
 */
import type { Random } from '../../../core/base/random.ts';
import type { Operation, Outcome } from '../history.ts';
import type { KeyValueInput, KeyValueOutput } from '../models/keyValue.ts';

/** What becomes of a write whose client saw no outcome. */
export type UnknownEffect = 'inside' | 'after-give-up' | 'never' | 'half';

export interface KeyValueHistoryOptions {
  readonly clients: number;
  readonly operations: number;
  readonly keys: number;
  /** Relative weights of get, put and append. */
  readonly mix?: { readonly get: number; readonly put: number; readonly append: number };
  /** Per ten thousand: how many operations end with an unknown outcome, and how many fail. */
  readonly unknownPerTenThousand?: number;
  readonly failPerTenThousand?: number;
  readonly unknownEffect?: UnknownEffect;
  /** Latency of a request (1..latencyMax) and the pause between two (0..thinkMax), in ticks. */
  readonly latencyMax?: number;
  readonly thinkMax?: number;
  /** Undefined: every value unique. Otherwise values are drawn from this many per key. */
  readonly valuesPerKey?: number;
}

export const defaultMix = { get: 1, put: 1, append: 1 } as const;

type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

interface Planned {
  readonly operation: Mutable<KeyValueOperation>;
  /** When it takes effect; undefined when it never does. */
  readonly effectAt: number | undefined;
  readonly tieBreak: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A history, sorted by invocation time, whose ok operations are linearizable by construction. */
export function generateKeyValueHistory(random: Random, options: KeyValueHistoryOptions): KeyValueOperation[] {
  const mix = options.mix ?? defaultMix;
  const latencyMax = options.latencyMax ?? 10;
  const thinkMax = options.thinkMax ?? 3;
  const unknownRate = options.unknownPerTenThousand ?? 0;
  const failRate = options.failPerTenThousand ?? 0;
  const clientTime = Array.from({ length: options.clients }, () => random.below(thinkMax + 1));
  const clientProcess = Array.from({ length: options.clients }, (_, client) => client);
  let nextProcess = options.clients;
  let serial = 0;
  const planned: Planned[] = [];
  for (let index = 0; index < options.operations; index++) {
    const client = index % options.clients;
    const invokedAt = clientTime[client]!;
    const completedAt = invokedAt + 1 + random.below(latencyMax);
    const key = `k${random.below(options.keys)}`;
    const input = randomInput(random, mix, key, () => (options.valuesPerKey === undefined ? `x ${client} ${serial++} y` : `v${random.below(options.valuesPerKey)} `));
    const roll = random.below(10_000);
    const outcome: Outcome = roll < failRate ? 'fail' : roll < failRate + unknownRate ? 'unknown' : 'ok';
    const effectAt = outcome === 'ok' ? between(random, invokedAt, completedAt) : outcome === 'unknown' ? unknownEffectAt(random, options.unknownEffect ?? 'half', invokedAt, completedAt, latencyMax) : undefined;
    planned.push({ operation: { process: clientProcess[client]!, invokedAt, completedAt, input, output: undefined, outcome }, effectAt, tieBreak: random.uint32() });
    clientTime[client] = completedAt + 1 + random.below(thinkMax + 1);
    if (outcome === 'unknown') clientProcess[client] = nextProcess++;
  }
  applyInEffectOrder(planned);
  return planned.map((entry) => entry.operation).sort((a, b) => a.invokedAt - b.invokedAt || a.process - b.process);
}

function randomInput(random: Random, mix: NonNullable<KeyValueHistoryOptions['mix']>, key: string, value: () => string): KeyValueInput {
  const roll = random.below(mix.get + mix.put + mix.append);
  if (roll < mix.get) return { kind: 'get', key };
  return { kind: roll < mix.get + mix.put ? 'put' : 'append', key, value: value() };
}

/** Strictly inside (invokedAt, completedAt) when the interval has room, as a real request would. */
function between(random: Random, low: number, high: number): number {
  return high - low >= 2 ? low + 1 + random.below(high - low - 1) : (low + high) / 2;
}

function unknownEffectAt(random: Random, effect: UnknownEffect, invokedAt: number, gaveUpAt: number, latencyMax: number): number | undefined {
  const choice = effect === 'half' ? (random.below(2) === 0 ? 'never' : random.below(2) === 0 ? 'inside' : 'after-give-up') : effect;
  if (choice === 'never') return undefined;
  if (choice === 'inside') return between(random, invokedAt, gaveUpAt);
  return gaveUpAt + 1 + random.below(4 * latencyMax);
}

/** Runs the operations that take effect against one store, in effect order, filling in outputs. */
function applyInEffectOrder(planned: readonly Planned[]): void {
  const store = new Map<string, string>();
  const effective = planned.filter((entry) => entry.effectAt !== undefined);
  effective.sort((a, b) => a.effectAt! - b.effectAt! || a.tieBreak - b.tieBreak);
  for (const { operation } of effective) {
    const input = operation.input;
    const current = store.get(input.key) ?? '';
    if (input.kind === 'get') {
      if (operation.outcome === 'ok') operation.output = { value: current };
      continue;
    }
    store.set(input.key, input.kind === 'put' ? input.value : current + input.value);
    if (operation.outcome === 'ok') operation.output = {};
  }
}
