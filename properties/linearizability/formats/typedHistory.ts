/**
 * A parsed history together with the name of the model it is written for. The formats produce
 * these; the CLI checks and renders them without knowing which model is inside.
 */
import { checkLinearizability, type CheckOptions, type CheckResult } from '../checker.ts';
import type { Operation } from '../history.ts';
import { withoutPartition, type AnyModel } from '../model.ts';
import { createEtcdModel } from '../models/etcd.ts';
import type { EtcdRequest, EtcdResponse } from '../models/etcdTypes.ts';
import { keyValueModel, type KeyValueInput, type KeyValueOutput } from '../models/keyValue.ts';
import { registerModel, type RegisterInput, type RegisterOutput } from '../models/register.ts';
import { registersModel, type RegistersInput, type RegistersOutput } from '../models/registers.ts';

export const modelNames = ['register', 'registers', 'kv', 'etcd'] as const;
export type ModelName = (typeof modelNames)[number];

export type TypedHistory =
  | { readonly model: 'register'; readonly operations: readonly Operation<RegisterInput, RegisterOutput>[] }
  | { readonly model: 'registers'; readonly operations: readonly Operation<RegistersInput, RegistersOutput>[] }
  | { readonly model: 'kv'; readonly operations: readonly Operation<KeyValueInput, KeyValueOutput>[] }
  | { readonly model: 'etcd'; readonly operations: readonly Operation<EtcdRequest, EtcdResponse>[]; readonly initialRevision: number };

export interface TypedCheckOptions extends CheckOptions {
  /** Check the whole history as one object even where the model could split it by key. */
  readonly unpartitioned?: boolean;
}

/** The model a history is checked against. */
export function modelOf(history: TypedHistory, unpartitioned = false): AnyModel {
  const model: AnyModel =
    history.model === 'register' ? registerModel : history.model === 'registers' ? registersModel : history.model === 'kv' ? keyValueModel : createEtcdModel({ initialRevision: history.initialRevision });
  return unpartitioned ? withoutPartition(model) : model;
}

export function checkTypedHistory(history: TypedHistory, options: TypedCheckOptions = {}): { model: AnyModel; result: CheckResult } {
  const model = modelOf(history, options.unpartitioned);
  return { model, result: checkLinearizability(model, history.operations, options) };
}
