/**
 * Histories that are linearizable by construction: clients issue requests with random,
 * overlapping intervals; each request that takes effect does so atomically at a random instant
 * inside its interval, against an `AtomicObject`; responses are what the object returned there.
 * Some requests fail (no effect), some end with an unknown outcome (taking effect or not, at
 * random), after which the client continues as a new process, as Jepsen's workers do.
 */
import type { Random } from '../../../core/base/random.ts';
import type { Operation, Outcome } from '../history.ts';
import type { AtomicObject } from './atomicObjects.ts';

export interface SimulationOptions {
  readonly clients: number;
  readonly operations: number;
  /** Out of 100: how many requests fail, and how many end unknown. */
  readonly failPercent: number;
  readonly unknownPercent: number;
  /** The longest request, and the longest pause between two requests of one client. */
  readonly latencyMax: number;
  readonly thinkMax: number;
}

interface Planned<Input> {
  readonly process: number;
  readonly invokedAt: number;
  readonly completedAt: number;
  /** When it takes effect, or undefined when it never does. */
  readonly effectAt: number | undefined;
  readonly tieBreak: number;
  readonly input: Input;
  readonly outcome: Outcome;
}

export function simulateHistory<Input, Output>(random: Random, options: SimulationOptions, object: AtomicObject<Input, Output>): Operation<Input, Output>[] {
  const planned: Planned<Input>[] = [];
  const clientTime = Array.from({ length: options.clients }, () => random.below(options.thinkMax + 1));
  const clientProcess = Array.from({ length: options.clients }, (_, client) => client);
  let nextProcess = options.clients;
  for (let index = 0; index < options.operations; index++) {
    const client = index % options.clients;
    const invokedAt = clientTime[client]!;
    const completedAt = invokedAt + 1 + random.below(options.latencyMax);
    const roll = random.below(100);
    const outcome: Outcome = roll < options.failPercent ? 'fail' : roll < options.failPercent + options.unknownPercent ? 'unknown' : 'ok';
    const takesEffect = outcome === 'ok' || (outcome === 'unknown' && random.below(2) === 0);
    const effectAt = takesEffect ? invokedAt + random.below(completedAt - invokedAt + 1) : undefined;
    planned.push({ process: clientProcess[client]!, invokedAt, completedAt, effectAt, tieBreak: random.uint32(), input: object.randomInput(random), outcome });
    clientTime[client] = completedAt + 1 + random.below(options.thinkMax + 1);
    if (outcome === 'unknown') clientProcess[client] = nextProcess++;
  }
  const outputs = new Map<Planned<Input>, Output>();
  const effective = planned.filter((operation) => operation.effectAt !== undefined);
  effective.sort((a, b) => a.effectAt! - b.effectAt! || a.tieBreak - b.tieBreak);
  for (const operation of effective) outputs.set(operation, object.apply(operation.input));
  planned.sort((a, b) => a.invokedAt - b.invokedAt || a.process - b.process);
  return planned.map((operation) => ({
    process: operation.process,
    invokedAt: operation.invokedAt,
    completedAt: operation.completedAt,
    input: operation.input,
    output: operation.outcome === 'ok' ? outputs.get(operation) : undefined,
    outcome: operation.outcome,
  }));
}
