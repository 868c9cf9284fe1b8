import cliProgress from 'cli-progress';
import { allScenarios } from '../../scenarios/index.ts';
import { mutations, type Mutation } from '../../scenarios/mutations/catalogue.ts';
import { loadMutationFile, MutationFileError } from '../../scenarios/mutations/mutationFile.ts';
import { huntMutant, isMutantCatch, makePatchedCopy, mutantReplayCommand, patchedScenarios, removePatchedCopy, repositoryRoot, type MutantVerdict } from '../../scenarios/mutations/patchedCopy.ts';
import type { Command, Io } from '../cli/command.ts';
import { exitViolation, parseCommandLine, parseNat, UsageError } from '../cli/usage.ts';

const defaultSeeds = 200;
/** Without a terminal, a progress line at most this often. */
const progressEveryMs = 10_000;

const help = `usage: detcd-sim mutants [--mutant NAME]... [--patch FILE] [--seeds N] [--no-infection] [--json] [--list]
       detcd-sim mutants (--mutant NAME | --patch FILE) --replay SCENARIO:SEED

Proves that the invariants bite. Each mutant is a deliberate bug (scenarios/mutations/catalogue.ts)
patched into a copy of the sources under .mutants/; seeds 0, 1, 2, ... of its scenarios run
against the copy until one finds a violation. A scenario that expects a violation (etcd-lock, a
bug-catalogue one) finds its own with or without the mutant: there a catch must be another
violation than the unpatched run of the same seed finds, or the same one found earlier. Prints, for each mutant, the run that caught it, how
many seeds and runs that took, and the command that replays the catch.

Infection counts: each run also counts whether it executed the patched code (a counter inserted
before the patched statement) and whether its behaviour changed (its trace differs from the
unpatched run of the same seed). A survivor is labelled
  unreached   no run executed the patched code: a scenario is missing;
  latent      it ran, and nothing wrong followed as far as an audit can tell (its changed runs
              re-run with every check at its full rate pass): perhaps an equivalent mutant;
  unobserved  the audit of a changed run found a violation the sweep's checks missed: a check is
              missing or too sparse.

  --mutant NAME        only this mutant (repeatable)
  --patch FILE         your own mutant: a JSON file {"name", "bug", "file", "find", "replace",
                       "scenarios"} in the catalogue's find/replace form ("find" must occur exactly
                       once in "file"; only "file", "find" and "replace" are required)
  --seeds N            give up on a mutant after N seeds (default ${defaultSeeds})
  --no-infection       skip the infection counts (half the runs)
  --replay S:SEED      run scenario S at SEED against the patched copy and print the outcome (and,
                       when the unpatched run fails too, whether that makes it no catch)
  --json               one JSON object per mutant
  --list               list the mutants and the bug each plants, then stop

Progress goes to stderr: a bar on a terminal, a line every ${progressEveryMs / 1000} s otherwise.
Exit codes: 0 every mutant was caught (or the replay caught it), 1 some mutant survived (or the
replay did not catch it), 2 bad input.`;

export const mutantsCommand: Command = {
  name: 'mutants',
  summary: 'plant deliberate Raft bugs in a copy of the code and count the seeds until each is caught',
  help,
  async run(argv, io) {
    const { values } = parseCommandLine(argv, {
      mutant: { type: 'string', multiple: true },
      patch: { type: 'string' },
      seeds: { type: 'string' },
      replay: { type: 'string' },
      'no-infection': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
    });
    const chosen = chooseMutants(values.mutant, values.patch);
    if (values.list) {
      const width = Math.max(...chosen.map((m) => m.name.length));
      for (const mutation of chosen) io.out(`${mutation.name.padEnd(width)}  ${mutation.bug}`);
      return 0;
    }
    if (values.replay !== undefined) return replay(chosen, values.replay, values.patch, io);
    const seeds = values.seeds === undefined ? defaultSeeds : parseNat(values.seeds, '--seeds', 100_000);
    if (seeds === 0) throw new UsageError('--seeds must be at least 1');
    const infection = !values['no-infection'];
    const progress = startProgress(chosen, seeds);
    const verdicts: MutantVerdict[] = [];
    try {
      for (const mutation of chosen) {
        const started = performance.now();
        const verdict = await huntMutant(mutation, { seedsMax: seeds, infection, onRun: (runs, scenario, seed) => progress.ran(mutation.name, runs, scenario, seed) });
        progress.finished(mutation, verdict);
        verdicts.push(verdict);
        report(verdict, Math.round(performance.now() - started), values.patch, values.json, io);
      }
    } finally {
      progress.stop();
    }
    const survivors = verdicts.filter((v) => v.caughtBy === null).length;
    if (!values.json) io.out(`${verdicts.length - survivors} of ${verdicts.length} mutants caught`);
    return survivors === 0 ? 0 : exitViolation;
  },
};

function chooseMutants(names: readonly string[] | undefined, patch: string | undefined): Mutation[] {
  const chosen: Mutation[] = [];
  if (patch !== undefined) {
    try {
      chosen.push(loadMutationFile(patch, repositoryRoot, allScenarios.map((s) => s.name)));
    } catch (error) {
      if (error instanceof MutationFileError) throw new UsageError(error.message);
      throw error;
    }
  }
  if (names === undefined && patch !== undefined) return chosen;
  for (const name of names ?? mutations.map((m) => m.name)) {
    const mutation = mutations.find((m) => m.name === name);
    if (mutation === undefined) throw new UsageError(`unknown mutant "${name}" (known: ${mutations.map((m) => m.name).join(', ')})`);
    chosen.push(mutation);
  }
  return chosen;
}

async function replay(chosen: readonly Mutation[], what: string, patch: string | undefined, io: Io): Promise<number> {
  if (chosen.length !== 1) throw new UsageError('--replay needs exactly one mutant (--mutant NAME or --patch FILE)');
  const match = /^([a-z0-9-]+):(\d+)$/.exec(what);
  if (match === null) throw new UsageError(`--replay must be SCENARIO:SEED, got "${what}"`);
  const [, name, seedText] = match;
  if (!allScenarios.some((s) => s.name === name)) throw new UsageError(`unknown scenario "${name}"`);
  const seed = parseNat(seedText, '--replay seed');
  const mutation = chosen[0]!;
  const copy = makePatchedCopy(mutation);
  try {
    const result = (await patchedScenarios(copy))(name!).prepare(seed).execute().result;
    io.out(`mutant ${mutation.name}, ${name} seed ${seed}: ${result.ok ? 'passed' : `violation: ${result.violation!.message}`}`);
    io.out(`trace: ${result.traceHash}`);
    io.out(`replay: ${mutantReplayCommand(mutation, name!, seed, patch)}`);
    if (result.ok) return exitViolation;
    const unpatched = allScenarios.find((s) => s.name === name)!;
    if (unpatched.expect !== 'violation') return 0;
    const clean = unpatched.prepare(seed).execute().result;
    if (isMutantCatch(result, clean)) return 0;
    io.out(`not a catch: the unpatched run finds the same violation (${name} expects one), no later`);
    return exitViolation;
  } finally {
    removePatchedCopy(copy);
  }
}

function report(verdict: MutantVerdict, wallMs: number, patch: string | undefined, json: boolean, io: Io): void {
  const { mutation, caughtBy, infection } = verdict;
  const isPatch = patch !== undefined && !mutations.includes(mutation);
  const replayLine = caughtBy === null ? null : mutantReplayCommand(mutation, caughtBy.scenario, caughtBy.seed, isPatch ? patch : undefined);
  const localReplay = caughtBy === null ? null : `npx detcd-sim mutants ${isPatch ? `--patch ${patch}` : `--mutant ${mutation.name}`} --replay ${caughtBy.scenario}:${caughtBy.seed}`;
  if (json) {
    io.out(
      JSON.stringify({
        mutant: mutation.name,
        bug: mutation.bug,
        caught: caughtBy !== null,
        ...caughtBy,
        seeds: verdict.seeds,
        runs: verdict.runs,
        ...(infection === null ? {} : { executed: infection.executed, changed: infection.changed }),
        ...(verdict.label === null ? {} : { label: verdict.label }),
        ...(verdict.auditCaught === undefined ? {} : { auditCaught: verdict.auditCaught }),
        ...(replayLine === null ? {} : { replay: replayLine, replayHere: localReplay }),
        wallMs,
      }),
    );
    return;
  }
  const infected = infection === null ? '' : `; the patched code ran in ${infection.executed} and changed the run in ${infection.changed} of ${verdict.runs} run(s)`;
  if (caughtBy === null) {
    io.out(`SURVIVED ${mutation.name} (${verdict.label ?? 'not measured'}): not caught in ${verdict.seeds} seeds (${verdict.runs} runs, ${wallMs} ms)${infected} — ${mutation.bug}`);
    if (verdict.auditCaught !== undefined) io.out(`           the audit of ${verdict.auditCaught.scenario} seed ${verdict.auditCaught.seed} found: ${verdict.auditCaught.violation}`);
    return;
  }
  io.out(`caught   ${mutation.name}: ${caughtBy.scenario} seed ${caughtBy.seed}, after ${verdict.seeds} seed(s) and ${verdict.runs} run(s), ${wallMs} ms${infected}`);
  io.out(`           ${caughtBy.violation}`);
  io.out(`           replay: ${replayLine}   (now: ${localReplay})`);
}

/** Progress on stderr: cli-progress on a terminal, a plain line every so often otherwise. */
function startProgress(chosen: readonly Mutation[], seeds: number) {
  const runsMax = chosen.reduce((sum, m) => sum + m.scenarios.length * seeds, 0);
  const tty = process.stderr.isTTY === true;
  const bar = tty ? new cliProgress.SingleBar({ format: 'mutants [{bar}] {value}/{total} runs at most | {mutant} {scenario} seed {seed} | {caught} caught', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  bar?.start(runsMax, 0, { mutant: '', scenario: '', seed: 0, caught: 0 });
  let done = 0;
  let caught = 0;
  let lastLineMs = performance.now();
  const started = performance.now();
  return {
    ran(name: string, runs: number, scenario: string, seed: number) {
      bar?.update(done + runs, { mutant: name, scenario, seed, caught });
      if (bar === null && performance.now() - lastLineMs >= progressEveryMs) {
        lastLineMs = performance.now();
        process.stderr.write(`mutants: ${name}: ${runs} run(s), now ${scenario} seed ${seed}; ${caught} of ${chosen.length} caught so far, ${Math.round((performance.now() - started) / 1000)} s\n`);
      }
    },
    finished(mutation: Mutation, verdict: MutantVerdict) {
      done += mutation.scenarios.length * seeds;
      if (verdict.caughtBy !== null) caught++;
      bar?.update(done, { mutant: mutation.name, caught });
    },
    stop() {
      bar?.stop();
    },
  };
}
