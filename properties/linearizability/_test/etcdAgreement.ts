/**
 * What the etcd model's property tests share: each draws small etcd histories full of unknown
 * outcomes, asks the plain search for the verdict, and checks a pruning against it.
 */
import type { Random } from '../../../core/base/random.ts';
import type { Operation } from '../history.ts';
import type { Model } from '../model.ts';
import type { EtcdState } from '../models/etcdState.ts';
import type { EtcdRequest, EtcdResponse } from '../models/etcdTypes.ts';
import { etcdModel } from '../models/etcd.ts';
import { referenceLinearizable } from './referenceChecker.ts';
import type { SimulationOptions } from './simulateHistory.ts';

type EtcdModel = Model<EtcdState, EtcdRequest, EtcdResponse>;

/**
 * A small history's shape: 2-5 clients, 4-29 operations, 5 % failed, and unknown outcomes from
 * `unknownMin` to `unknownMin + unknownSpan - 1` percent (drawn in this order, so a seed keeps its history).
 */
export function etcdHistoryOptions(random: Random, unknownMin: number, unknownSpan: number): SimulationOptions {
  return { clients: 2 + random.below(4), operations: 4 + random.below(26), failPercent: 5, unknownPercent: unknownMin + random.below(unknownSpan), latencyMax: 1 + random.below(10), thinkMax: random.below(3) };
}

/** The plain search's verdict within 200,000 steps, or undefined when it does not finish (such a history says nothing). */
export function plainEtcdVerdict(history: readonly Operation<EtcdRequest, EtcdResponse>[]): 'linearizable' | 'not-linearizable' | undefined {
  const expected = referenceLinearizable(etcdModel, history, 200_000);
  return expected === undefined ? undefined : expected ? 'linearizable' : 'not-linearizable';
}

/**
 * The model, counting the refusals for good (`SequenceOrder.settledFrom`) of the requests `counted`
 * picks: a step refused once the store has reached the request's settled revision, on which the
 * search abandons a configuration.
 */
export function countingSettledRefusals(model: EtcdModel, counted: (request: EtcdRequest) => boolean = () => true): { model: EtcdModel; refusals: () => number } {
  let refusals = 0;
  const sequence = model.sequence!;
  const step: EtcdModel['step'] = (state, request, response) => {
    const next = model.step(state, request, response);
    const settled = response === undefined || !counted(request) ? undefined : sequence.settledFrom!(request, response);
    if (next === undefined && settled !== undefined && sequence.floor(state) >= settled) refusals++;
    return next;
  };
  return { model: { ...model, step }, refusals: () => refusals };
}
