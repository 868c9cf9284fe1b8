import { mutations, type Mutation } from '../../scenarios/mutations/catalogue.ts';
import { huntMutant, type MutantVerdict } from '../../scenarios/mutations/patchedCopy.ts';
import type { Command } from '../cli/command.ts';
import { exitViolation, parseCommandLine, parseNat, UsageError } from '../cli/usage.ts';

const defaultSeeds = 200;

const help = `usage: detcd-sim mutants [--mutant NAME]... [--seeds N] [--json] [--list]

Proves that the invariants bite. Each mutant is a deliberate bug (scenarios/mutations/catalogue.ts)
patched into a copy of the sources under .mutants/; seeds 0, 1, 2, ... of its scenarios run
against the copy until one finds a violation. Prints, for each mutant, the run that caught it and
how many seeds and runs that took.

  --mutant NAME   only this mutant (repeatable)
  --seeds N       give up on a mutant after N seeds (default ${defaultSeeds})
  --json          one JSON object per mutant
  --list          list the mutants and the bug each plants, then stop

Exit codes: 0 every mutant was caught, 1 some mutant survived, 2 bad input.`;

export const mutantsCommand: Command = {
  name: 'mutants',
  summary: 'plant deliberate Raft bugs in a copy of the code and count the seeds until each is caught',
  help,
  async run(argv, io) {
    const { values } = parseCommandLine(argv, {
      mutant: { type: 'string', multiple: true },
      seeds: { type: 'string' },
      json: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
    });
    const chosen: Mutation[] = (values.mutant ?? mutations.map((m) => m.name)).map((name) => {
      const mutation = mutations.find((m) => m.name === name);
      if (mutation === undefined) throw new UsageError(`unknown mutant "${name}" (known: ${mutations.map((m) => m.name).join(', ')})`);
      return mutation;
    });
    if (values.list) {
      const width = Math.max(...chosen.map((m) => m.name.length));
      for (const mutation of chosen) io.out(`${mutation.name.padEnd(width)}  ${mutation.bug}`);
      return 0;
    }
    const seeds = values.seeds === undefined ? defaultSeeds : parseNat(values.seeds, '--seeds', 100_000);
    if (seeds === 0) throw new UsageError('--seeds must be at least 1');
    const verdicts: MutantVerdict[] = [];
    for (const mutation of chosen) {
      const started = performance.now();
      const verdict = await huntMutant(mutation, seeds);
      verdicts.push(verdict);
      const wallMs = Math.round(performance.now() - started);
      if (values.json) io.out(JSON.stringify({ mutant: mutation.name, bug: mutation.bug, caught: verdict.caughtBy !== null, ...verdict.caughtBy, seeds: verdict.seeds, runs: verdict.runs, wallMs }));
      else if (verdict.caughtBy === null) io.out(`SURVIVED ${mutation.name}: not caught in ${verdict.seeds} seeds (${verdict.runs} runs, ${wallMs} ms) — ${mutation.bug}`);
      else {
        io.out(`caught   ${mutation.name}: ${verdict.caughtBy.scenario} seed ${verdict.caughtBy.seed}, after ${verdict.seeds} seed(s) and ${verdict.runs} run(s), ${wallMs} ms`);
        io.out(`           ${verdict.caughtBy.violation}`);
      }
    }
    const survivors = verdicts.filter((v) => v.caughtBy === null).length;
    if (!values.json) io.out(`${verdicts.length - survivors} of ${verdicts.length} mutants caught`);
    return survivors === 0 ? 0 : exitViolation;
  },
};
