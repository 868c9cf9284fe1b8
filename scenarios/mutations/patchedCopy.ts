import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findScenario } from '../index.ts';
import type { RunResult } from '../../sim/observer.ts';
import type { Scenario } from '../scenario.ts';
import type { Mutation } from './catalogue.ts';
import { insertProbe, probeHits, resetProbe } from './probe.ts';

/** The repository root, from this file's place in it. */
export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let copiesMade = 0;

/** The folders a scenario run needs. */
const copiedFolders = ['core', 'sim', 'properties', 'scenarios'];

export interface PatchOptions {
  /**
   * Also insert a counter before the patched statement (see probe.ts), so a hunt can tell the
   * runs that executed the changed code from those that never reached it.
   */
  readonly probe?: boolean;
}

/**
 * Copies the sources into `.mutants/<name>-<pid>-<n>/` under the repository (so that node_modules still
 * resolves) and applies the mutation there. The patch text must occur exactly once: a catalogue
 * entry that no longer matches the code fails loudly instead of testing nothing.
 */
export function makePatchedCopy(mutation: Mutation, root = repositoryRoot, options: PatchOptions = {}): string {
  // One folder per copy: tests and a `detcd-sim mutants` may patch the same mutant at once.
  const copy = join(root, '.mutants', `${mutation.name}-${process.pid}-${++copiesMade}`);
  rmSync(copy, { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  for (const folder of copiedFolders) {
    cpSync(join(root, folder), join(copy, folder), { recursive: true, filter: (source) => !source.endsWith('.test.ts') });
  }
  try {
    for (const more of mutation.also ?? []) patchOnce(mutation.name, copy, more, false);
    patchOnce(mutation.name, copy, mutation, options.probe === true);
  } catch (error) {
    removePatchedCopy(copy);
    throw error;
  }
  return copy;
}

/** Replaces the one occurrence of `find` in the copy's `file` (with the probe before it, if asked). */
function patchOnce(name: string, copy: string, patch: { readonly file: string; readonly find: string; readonly replace: string }, probe: boolean): void {
  const target = join(copy, patch.file);
  const text = readFileSync(target, 'utf8');
  const occurrences = text.split(patch.find).length - 1;
  if (occurrences !== 1) throw new Error(`mutation ${name}: the text to replace occurs ${occurrences} times in ${patch.file}, not once`);
  const at = text.indexOf(patch.find);
  const patched = text.slice(0, at) + patch.replace + text.slice(at + patch.find.length);
  writeFileSync(target, probe ? insertProbe(patched, at, at + patch.replace.length) : patched);
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

/**
 * Why a surviving mutant survived, from its infection counts: `unreached` — no run executed the
 * patched code (a missing scenario); `latent` — it ran, and either changed nothing or changed the
 * run without anything wrong following, as far as the audit (every check at its full rate) can
 * tell; `unobserved` — it changed a run, the audit found something wrong there, and the sweep's
 * checks did not (a missing or too sparse check).
 */
export type SurvivorLabel = 'unreached' | 'latent' | 'unobserved';

export interface MutantVerdict {
  readonly mutation: Mutation;
  /** The run that caught it, or null when none did within the budget. */
  readonly caughtBy: { readonly scenario: string; readonly seed: number; readonly violation: string } | null;
  /** Runs made (seed × scenario) until it was caught, or in all. */
  readonly runs: number;
  /** Seeds tried: seed 0 up to the catching one. */
  readonly seeds: number;
  /** Infection counts (when measured): runs that executed the patched code, and runs whose trace differed from the unpatched run of the same seed. */
  readonly infection: { readonly executed: number; readonly changed: number } | null;
  readonly label: SurvivorLabel | null;
  /** For an unobserved survivor: the audited run that found something wrong, and what. */
  readonly auditCaught?: { readonly scenario: string; readonly seed: number; readonly violation: string };
}

export interface HuntOptions {
  /** Give up after this many seeds. */
  readonly seedsMax: number;
  /** Count infection (probe and unpatched twin runs): about twice the work. */
  readonly infection?: boolean;
  /** Told after every run: runs so far, and the scenario and seed just run. */
  readonly onRun?: (runs: number, scenario: string, seed: number) => void;
  /** Audit at most this many changed runs of a survivor (default 10). */
  readonly auditsMax?: number;
}

/** A scenario that can also run with every check at its full rate (the Raft family's audit). */
interface AuditableScenario extends Scenario {
  prepareAudit?(seed: number): ReturnType<Scenario['prepare']>;
}

/** Sweeps seeds 0, 1, 2, ... over the mutation's scenarios until a run finds a violation. */
export async function huntMutant(mutation: Mutation, seedsMaxOrOptions: number | HuntOptions, onRun?: (runs: number) => void): Promise<MutantVerdict> {
  const options: HuntOptions = typeof seedsMaxOrOptions === 'number' ? { seedsMax: seedsMaxOrOptions, ...(onRun === undefined ? {} : { onRun: (runs) => onRun(runs) }) } : seedsMaxOrOptions;
  const infection = options.infection === true;
  const copy = makePatchedCopy(mutation, repositoryRoot, { probe: infection });
  try {
    const scenario = await patchedScenarios(copy);
    let runs = 0;
    let executed = 0;
    let changed = 0;
    const changedRuns: { scenario: string; seed: number }[] = [];
    for (let seed = 0; seed < options.seedsMax; seed++) {
      for (const name of mutation.scenarios) {
        resetProbe();
        const run = scenario(name).prepare(seed).execute();
        runs++;
        // The unpatched twin: for the infection counts, and to judge a scenario that fails by design.
        const unpatched = findScenario(name);
        const clean = infection || unpatched?.expect === 'violation' ? unpatched?.prepare(seed).execute() : undefined;
        if (infection) {
          if (probeHits() > 0) executed++;
          if (clean !== undefined && clean.result.traceHash !== run.result.traceHash) {
            changed++;
            changedRuns.push({ scenario: name, seed });
          }
        }
        options.onRun?.(runs, name, seed);
        if (isMutantCatch(run.result, clean?.result ?? null)) {
          return { mutation, caughtBy: { scenario: name, seed, violation: run.result.violation!.message }, runs, seeds: seed + 1, infection: infection ? { executed, changed } : null, label: null };
        }
      }
    }
    if (!infection) return { mutation, caughtBy: null, runs, seeds: options.seedsMax, infection: null, label: null };
    if (executed === 0) return { mutation, caughtBy: null, runs, seeds: options.seedsMax, infection: { executed, changed }, label: 'unreached' };
    for (const { scenario: name, seed } of changedRuns.slice(0, options.auditsMax ?? 10)) {
      const audited = scenario(name) as AuditableScenario;
      if (audited.prepareAudit === undefined) continue;
      const result = audited.prepareAudit(seed).execute().result;
      if (!result.ok) {
        return { mutation, caughtBy: null, runs, seeds: options.seedsMax, infection: { executed, changed }, label: 'unobserved', auditCaught: { scenario: name, seed, violation: result.violation!.message } };
      }
    }
    return { mutation, caughtBy: null, runs, seeds: options.seedsMax, infection: { executed, changed }, label: 'latent' };
  } finally {
    removePatchedCopy(copy);
  }
}

/**
 * Whether the patched run's result is a catch, given the unpatched run of the same seed (null: not
 * run). A scenario that expects a violation (etcd-lock, etcd-lease-pauses, a bug-catalogue one)
 * finds its own planted bug with or without the mutant: a catch there must be another violation
 * than the unpatched run's, or the same one found earlier. The same holds for any scenario whose
 * unpatched run fails.
 */
export function isMutantCatch(patched: Pick<RunResult, 'ok' | 'violation'>, clean: Pick<RunResult, 'ok' | 'violation'> | null): boolean {
  if (patched.ok) return false;
  if (clean === null || clean.ok || clean.violation === null || patched.violation === null) return true;
  return patched.violation.message !== clean.violation.message || patched.violation.event < clean.violation.event;
}

/** The command that replays a catch in a patched copy (`detcd-sim run --mutant`). */
export function mutantReplayCommand(mutation: Mutation, scenario: string, seed: number, patchFile?: string): string {
  const patch = patchFile === undefined ? `--mutant ${mutation.name}` : `--patch ${patchFile}`;
  return `npx detcd-sim run ${patch} --scenario ${scenario} --seed ${seed}`;
}
