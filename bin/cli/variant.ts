import { mutations, type Mutation } from '../../scenarios/mutations/catalogue.ts';
import { MutationFileError, loadMutationFile } from '../../scenarios/mutations/mutationFile.ts';
import { makePatchedCopy, patchedScenarios, removePatchedCopy, repositoryRoot } from '../../scenarios/mutations/patchedCopy.ts';
import { allScenarios, findScenario } from '../../scenarios/index.ts';
import type { CodeVariant, Scenario } from '../../scenarios/scenario.ts';
import { ensureTypeScriptLoader } from './typeScriptLoader.ts';
import { UsageError } from './usage.ts';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The code a command runs: this checkout's, or a mutant's — a catalogued bug (`--mutant NAME`)
 * patched into a copy of the sources (scenarios/mutations/patchedCopy.ts), whose scenarios are
 * then loaded from the copy. The copy goes when the command is done (`close`).
 */
export interface LoadedCode {
  readonly variant: CodeVariant;
  /** The copy's folder, for child processes that should use it too; null for this checkout. */
  readonly copy: string | null;
  /** The user's own scenarios (`--scenarios FILE`), if any. */
  readonly own: readonly Scenario[];
  find(name: string): Scenario;
  close(): void;
}

export function findMutation(name: string): Mutation {
  const mutation = mutations.find((m) => m.name === name);
  if (mutation === undefined) throw new UsageError(`unknown mutant "${name}" (known: ${mutations.map((m) => m.name).join(', ')})`);
  return mutation;
}

/** A scenario of this checkout by name; a UsageError naming the known ones otherwise. */
export function resolveScenario(name: string, own: readonly Scenario[] = []): Scenario {
  const scenario = findScenario(name);
  if (scenario === undefined) throw new UsageError(`unknown scenario "${name}" (see "detcd-sim scenarios"; known: ${[...own, ...allScenarios].map((s) => s.name).join(', ')})`);
  return scenario;
}

/**
 * The user's scenarios: a module (TypeScript or JavaScript, a path from the working directory)
 * that exports `scenarios`, a list of Scenario (see scenarios/harness.ts).
 */
export async function loadUserScenarios(path: string): Promise<Scenario[]> {
  await ensureTypeScriptLoader();
  let module: { scenarios?: unknown };
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as { scenarios?: unknown };
  } catch (error) {
    throw new UsageError(`--scenarios ${path}: cannot load it: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  const list = module.scenarios;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'object' || s === null || typeof (s as Scenario).name !== 'string' || typeof (s as Scenario).prepare !== 'function')) {
    throw new UsageError(`--scenarios ${path}: the module must export "scenarios", a list of scenarios (each with a name and prepare(seed))`);
  }
  const clash = (list as Scenario[]).find((s) => findScenario(s.name) !== undefined);
  if (clash !== undefined) throw new UsageError(`--scenarios ${path}: scenario "${clash.name}" has the name of a built-in one`);
  return list as Scenario[];
}

/**
 * Loads the code of `variant`. `existingCopy` reuses a copy another process made (a sweep's
 * parent makes one for all its workers, and removes it).
 */
export async function loadCode(variant: CodeVariant, existingCopy?: string): Promise<LoadedCode> {
  if (variant.scenarios !== undefined) {
    if (variant.mutant !== undefined || variant.patch !== undefined) throw new UsageError('--scenarios runs your own scenarios against this checkout: it does not go with --mutant or --patch');
    const own = await loadUserScenarios(variant.scenarios);
    return { variant, copy: null, own, find: (name) => own.find((s) => s.name === name) ?? resolveScenario(name, own), close: () => undefined };
  }
  if (variant.mutant === undefined && variant.patch === undefined) return { variant, copy: null, own: [], find: (name) => resolveScenario(name), close: () => undefined };
  if (variant.mutant !== undefined && variant.patch !== undefined) throw new UsageError('give --mutant NAME or --patch FILE, not both');
  const mutation = variant.mutant !== undefined ? findMutation(variant.mutant) : loadPatch(variant.patch!);
  await ensureTypeScriptLoader();
  const copy = existingCopy ?? makePatchedCopy(mutation);
  try {
    const patched = await patchedScenarios(copy);
    return {
      variant,
      copy,
      own: [],
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

/** A user's own mutant (`--patch FILE`, the catalogue's find/replace JSON); a bad file is bad input. */
function loadPatch(path: string): Mutation {
  try {
    return loadMutationFile(path, repositoryRoot, allScenarios.map((s) => s.name));
  } catch (error) {
    if (error instanceof MutationFileError) throw new UsageError(`--patch ${error.message}`);
    throw error;
  }
}

/** The code variant the flags (or a case, which wins when it names one) ask for; conflicts are bad input. */
export function variantOf(flags: { readonly mutant?: string | undefined; readonly patch?: string | undefined; readonly scenarios?: string | undefined }, fromCase?: CodeVariant): CodeVariant {
  const asked: CodeVariant = {
    ...(flags.mutant === undefined ? {} : { mutant: flags.mutant }),
    ...(flags.patch === undefined ? {} : { patch: flags.patch }),
    ...(flags.scenarios === undefined ? {} : { scenarios: flags.scenarios }),
  };
  if (fromCase === undefined) return asked;
  if (asked.mutant !== undefined && asked.mutant !== fromCase.mutant) throw new UsageError(`the case is for ${fromCase.mutant === undefined ? 'this checkout' : `mutant ${fromCase.mutant}`}, not mutant ${asked.mutant}`);
  // A case's patch file or scenarios module may have moved: the command line's path wins.
  return { ...fromCase, ...(asked.patch === undefined ? {} : { patch: asked.patch }), ...(asked.scenarios === undefined ? {} : { scenarios: asked.scenarios }) };
}
