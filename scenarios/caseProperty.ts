import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caseOfRun, caseSize, describeCaseSize, type RunCase } from './case.ts';
import { formatCase } from './caseFile.ts';
import { makeFolders } from './folders.ts';
import type { CodeVariant, Scenario } from './scenario.ts';
import { CaseRunner, defaultShrinkBudget, type ShrinkBudget } from './shrink.ts';
import { resumeOf } from './shrinkCandidates.ts';

/**
 * Property suites over cases. fast-check draws seeds; each seed's run becomes a case (its options,
 * fault plan and workload written out); the property is that the case's run passes its checks.
 * When one fails, fast-check shrinks it with the shrinker of `detcd-sim shrink` — so the
 * counterexample it reports is a shrunk case — and the failure message is the command that replays
 * it: the case is written to a file.
 *
 *     fc.assert(caseProperty(findScenario('raft-swarm')!), { numRuns: 50 });
 *     // Property failed … Counterexample: [raft-swarm seed 1234: 2 fault(s) …]
 *     // Got error: state machine safety: …  replay: npx detcd-sim run --case out/cases/raft-swarm-seed-1234.json
 */
export interface CasePropertyOptions {
  /** The seeds fast-check draws from (default: any 31-bit seed). */
  readonly seeds?: fc.Arbitrary<number>;
  /** Where failing cases are written (default out/cases, under the working directory). */
  readonly caseDirectory?: string;
  /** The code the scenario comes from, recorded in the case (a mutant's scenarios carry its name). */
  readonly variant?: CodeVariant;
  /** How hard to shrink a failure (default: as `detcd-sim shrink`). */
  readonly budget?: ShrinkBudget;
}

/** Cases of `scenario`: a seed's run written out, shrinking as `detcd-sim shrink` does. */
export class CaseArbitrary extends fc.Arbitrary<RunCase> {
  readonly runner: CaseRunner;
  private readonly seeds: fc.Arbitrary<number>;
  private readonly variant: CodeVariant;
  private readonly budget: ShrinkBudget;
  private shrinkStarted: { runs: number; atMs: number } | null = null;

  constructor(scenario: Scenario, options: CasePropertyOptions = {}) {
    super();
    this.runner = new CaseRunner(scenario);
    this.seeds = options.seeds ?? fc.nat({ max: 2 ** 31 - 1 });
    this.variant = options.variant ?? {};
    this.budget = options.budget ?? defaultShrinkBudget;
  }

  generate(random: fc.Random, biasFactor: number | undefined): fc.Value<RunCase> {
    const seed = this.seeds.generate(random, biasFactor).value;
    const scenario = this.runner.scenario;
    const prepared = scenario.prepare(seed);
    const executed = prepared.execute({ recordWorkload: true });
    const runCase = described(caseOfRun(scenario.name, this.variant, prepared, executed));
    this.runner.remember(runCase, executed);
    return new fc.Value(runCase, 0);
  }

  canShrinkWithoutContext(_value: unknown): _value is RunCase {
    return false;
  }

  shrink(value: RunCase, context: unknown): fc.Stream<fc.Value<RunCase>> {
    this.shrinkStarted ??= { runs: this.runner.runs, atMs: performance.now() };
    const started = this.shrinkStarted;
    const stop = (): boolean => this.runner.runs - started.runs >= this.budget.runsMax || performance.now() - started.atMs >= this.budget.wallMsMax;
    return new fc.Stream(this.runner.candidates(value, stop, resumeOf(context))).map(({ resume, candidate }) => new fc.Value(described(candidate), resume));
  }
}

/** Where each failing case was written, for its description. */
const caseFiles = new WeakMap<RunCase, string>();

/** A case prints (in fast-check's report) as its scenario, seed, size and replay command. */
function described(runCase: RunCase): RunCase {
  Object.defineProperty(runCase, fc.toStringMethod, {
    value: () => {
      const file = caseFiles.get(runCase);
      return `${runCase.scenario} seed ${runCase.seed}: ${describeCaseSize(caseSize(runCase))}${file === undefined ? '' : `; replay: npx detcd-sim run --case ${file}`}`;
    },
  });
  return runCase;
}

/**
 * The property "every case of `scenario` passes its checks", over cases drawn and shrunk as
 * above. A failure throws an error whose message is the violation and the replay command.
 */
export function caseProperty(scenario: Scenario, options: CasePropertyOptions = {}): fc.IPropertyWithHooks<[RunCase]> {
  const arbitrary = new CaseArbitrary(scenario, options);
  const directory = options.caseDirectory ?? join('out', 'cases');
  return fc.property(arbitrary, (runCase) => {
    const runner = arbitrary.runner;
    if (!runner.failsTheSameWay(runCase)) return;
    const failure = runner.failure(runCase)!;
    const file = join(directory, `${runCase.scenario}-seed-${runCase.seed}.json`);
    makeFolders(directory);
    writeFileSync(file, formatCase(failure.runCase));
    caseFiles.set(runCase, file);
    throw new Error(`${failure.message}\nreplay: npx detcd-sim run --case ${file}`);
  });
}
