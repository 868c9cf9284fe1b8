import { mutations, type Mutation } from '../../scenarios/mutations/catalogue.ts';
import { makePatchedCopy, patchedScenarios, removePatchedCopy } from '../../scenarios/mutations/patchedCopy.ts';
import { allScenarios, findScenario } from '../../scenarios/index.ts';
import type { CodeVariant, Scenario } from '../../scenarios/scenario.ts';
import { ensureTypeScriptLoader } from './typeScriptLoader.ts';
import { UsageError } from './usage.ts';

/**
 * The code a command runs: this checkout's, or a mutant's — a catalogued bug (`--mutant NAME`)
 * patched into a copy of the sources (scenarios/mutations/patchedCopy.ts), whose scenarios are
 * then loaded from the copy. The copy goes when the command is done (`close`).
 */
export interface LoadedCode {
  readonly variant: CodeVariant;
  /** The copy's folder, for child processes that should use it too; null for this checkout. */
  readonly copy: string | null;
  find(name: string): Scenario;
  close(): void;
}

export function findMutation(name: string): Mutation {
  const mutation = mutations.find((m) => m.name === name);
  if (mutation === undefined) throw new UsageError(`unknown mutant "${name}" (known: ${mutations.map((m) => m.name).join(', ')})`);
  return mutation;
}

/** A scenario of this checkout by name; a UsageError naming the known ones otherwise. */
export function resolveScenario(name: string): Scenario {
  const scenario = findScenario(name);
  if (scenario === undefined) throw new UsageError(`unknown scenario "${name}" (see "detcd-sim scenarios"; known: ${allScenarios.map((s) => s.name).join(', ')})`);
  return scenario;
}

/**
 * Loads the code of `variant`. `existingCopy` reuses a copy another process made (a sweep's
 * parent makes one for all its workers, and removes it).
 */
export async function loadCode(variant: CodeVariant, existingCopy?: string): Promise<LoadedCode> {
  if (variant.patch !== undefined) throw new UsageError('--patch is not supported yet: use --mutant NAME with a catalogued mutant');
  if (variant.mutant === undefined) return { variant, copy: null, find: resolveScenario, close: () => undefined };
  const mutation = findMutation(variant.mutant);
  await ensureTypeScriptLoader();
  const copy = existingCopy ?? makePatchedCopy(mutation);
  try {
    const patched = await patchedScenarios(copy);
    return {
      variant,
      copy,
      find(name) {
        resolveScenario(name); // the same names as this checkout, with its message for a bad one
        return patched(name);
      },
      close: () => (existingCopy === undefined ? removePatchedCopy(copy) : undefined),
    };
  } catch (error) {
    if (existingCopy === undefined) removePatchedCopy(copy);
    throw error;
  }
}
