/**
 * Small checks that turn parsed JSON into typed values or say precisely what is wrong, with a
 * path like `input.compare[0].target`. Unknown fields are errors: a misspelt optional field would
 * otherwise be silently ignored, and nothing in a history may be guessed.
 */

import { quoted } from './parseError.ts';

export class ShapeError extends Error {
  override readonly name = 'ShapeError';
}

export type JsonObject = { readonly [field: string]: unknown };

/** `value` as an object with only the given fields (required ones must be present); path '' is the whole line. */
export function objectAt(value: unknown, path: string, required: readonly string[], optional: readonly string[] = []): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ShapeError(`${path || 'the line'} must be an object`);
  const object = value as JsonObject;
  // for-in, not Object.keys: no array per object (a one-shot check runs this three times per line
  // before the JIT compiles it). A parsed JSON object has only own fields, in the same order.
  let present = 0;
  for (const field in object) {
    if (required.includes(field)) present++;
    else if (!optional.includes(field)) throw new ShapeError(`${path || 'the line'} has an unknown field ${quoted(field)}`);
  }
  if (present === required.length) return object;
  for (const field of required) {
    if (!(field in object)) throw new ShapeError(`${path === '' ? field : `${path}.${field}`} is missing`);
  }
  return object;
}

export function arrayAt(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new ShapeError(`${path} must be an array`);
  return value;
}

export function stringAt(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new ShapeError(`${path} must be a string`);
  return value;
}

export function booleanAt(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new ShapeError(`${path} must be true or false`);
  return value;
}

export function naturalAt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ShapeError(`${path} must be a non-negative integer`);
  return value;
}

export function finiteAt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ShapeError(`${path} must be a finite number`);
  return value;
}

export function oneOf<T extends string>(value: unknown, path: string, choices: readonly T[]): T {
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    throw new ShapeError(`${path} must be one of ${choices.map((choice) => JSON.stringify(choice)).join(', ')}`);
  }
  return value as T;
}

/** Copies the optional fields that are present, checked by `check`, onto `target`. */
export function optionalFields<T>(object: JsonObject, path: string, fields: readonly string[], check: (value: unknown, path: string) => T): Record<string, T> {
  const result: Record<string, T> = {};
  for (const field of fields) {
    if (field in object) result[field] = check(object[field], `${path}.${field}`);
  }
  return result;
}
