import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Scenario } from '../scenario.ts';
import type { Mutation } from './catalogue.ts';

/** The repository root, from this file's place in it. */
export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let copiesMade = 0;

/** The folders a scenario run needs. */
const copiedFolders = ['core', 'sim', 'properties', 'scenarios'];

/**
 * Copies the sources into `.mutants/<name>-<pid>-<n>/` under the repository (so that node_modules still
 * resolves) and applies the mutation there. The patch text must occur exactly once: a catalogue
 * entry that no longer matches the code fails loudly instead of testing nothing.
 */
export function makePatchedCopy(mutation: Mutation, root = repositoryRoot): string {
  // One folder per copy: tests and a `detcd-sim mutants` may patch the same mutant at once.
  const copy = join(root, '.mutants', `${mutation.name}-${process.pid}-${++copiesMade}`);
  rmSync(copy, { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  for (const folder of copiedFolders) {
    cpSync(join(root, folder), join(copy, folder), { recursive: true, filter: (source) => !source.endsWith('.test.ts') });
  }
  const target = join(copy, mutation.file);
  const text = readFileSync(target, 'utf8');
  const occurrences = text.split(mutation.find).length - 1;
  if (occurrences !== 1) throw new Error(`mutation ${mutation.name}: the text to replace occurs ${occurrences} times in ${mutation.file}, not once`);
  writeFileSync(target, text.replace(mutation.find, mutation.replace));
  return copy;
}

export function removePatchedCopy(copy: string): void {
  rmSync(copy, { recursive: true, force: true });
}

/** The scenarios of a patched copy: its own module graph, separate from this process's. */
export async function patchedScenarios(copy: string): Promise<(name: string) => Scenario> {
  const module = (await import(pathToFileURL(join(copy, 'scenarios', 'index.ts')).href)) as { findScenario(name: string): Scenario | undefined };
  return (name) => {
    const scenario = module.findScenario(name);
    if (scenario === undefined) throw new Error(`no scenario ${name} in the patched copy`);
    return scenario;
  };
}

export interface MutantVerdict {
  readonly mutation: Mutation;
  /** The run that caught it, or null when none did within the budget. */
  readonly caughtBy: { readonly scenario: string; readonly seed: number; readonly violation: string } | null;
  /** Runs made (seed × scenario) until it was caught, or in all. */
  readonly runs: number;
  /** Seeds tried: seed 0 up to the catching one. */
  readonly seeds: number;
}

/** Sweeps seeds 0, 1, 2, ... over the mutation's scenarios until a run finds a violation. */
export async function huntMutant(mutation: Mutation, seedsMax: number, onRun?: (runs: number) => void): Promise<MutantVerdict> {
  const copy = makePatchedCopy(mutation);
  try {
    const scenario = await patchedScenarios(copy);
    let runs = 0;
    for (let seed = 0; seed < seedsMax; seed++) {
      for (const name of mutation.scenarios) {
        const result = scenario(name).prepare(seed).execute().result;
        runs++;
        onRun?.(runs);
        if (!result.ok) return { mutation, caughtBy: { scenario: name, seed, violation: result.violation!.message }, runs, seeds: seed + 1 };
      }
    }
    return { mutation, caughtBy: null, runs, seeds: seedsMax };
  } finally {
    removePatchedCopy(copy);
  }
}
