import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Steps } from '../../core/base/steps.ts';

/** How long one turn of the event loop may spend on a large message's steps (its decode). */
export const stepsTurnMs = 5;

export interface RunInTurns<T> {
  readonly value: T;
  /** Turns of the event loop the steps took. */
  readonly turns: number;
  /** The longest of them, in ms (the event loop's longest wait on this work). */
  readonly longestTurnMs: number;
}

/**
 * Runs `steps` to the end, at most `turnMs` of each turn of the event loop (then the loop serves
 * everything else: heartbeats, appends, clients). `abandoned`, asked after each turn: resolves null
 * then. A step that throws rejects.
 */
export async function runInTurns<T>(steps: Steps<T>, options: { readonly turnMs?: number; readonly abandoned?: () => boolean } = {}): Promise<RunInTurns<T> | null> {
  const turnMs = options.turnMs ?? stepsTurnMs;
  let turns = 1;
  let turnStartedMs = performance.now();
  let longestTurnMs = 0;
  for (;;) {
    const step = steps.next();
    const turnTookMs = performance.now() - turnStartedMs;
    if (step.done === true) return { value: step.value, turns, longestTurnMs: Math.max(longestTurnMs, turnTookMs) };
    if (turnTookMs < turnMs) continue;
    longestTurnMs = Math.max(longestTurnMs, turnTookMs);
    await nextTurn();
    if (options.abandoned?.() === true) return null;
    turns++;
    turnStartedMs = performance.now();
  }
}
