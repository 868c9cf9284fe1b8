import fc from 'fast-check';
import type { PinnedFate } from '../sim/network.ts';
import type { SimOptions } from '../sim/options.ts';
import { caseOfRun, caseSize, executeCase, withOptions, type CaseSize, type RunCase } from './case.ts';
import type { ExecutedRun, Knobs, Scenario } from './scenario.ts';
import { cutAt, resumeOf, shrinkCandidates, type ShrinkCandidate, type ShrinkResume } from './shrinkCandidates.ts';

/** Sideways moves (the same case, another seed) allowed in a row before a step down must come. */
const sidewaysInARowMax = 4;

/**
 * Shrinking a failing case with fast-check. The case is a value of an arbitrary whose shrinker
 * proposes the smaller cases of `shrinkCandidates`; fast-check's shrinking loop runs each, keeps
 * the first that still fails the same check, and proposes again from there, until nothing smaller
 * fails or the budget (runs, wall time) is spent. No tool in the field shrinks a fault schedule:
 * FoundationDB, TigerBeetle's VOPR, Jepsen and etcd's robustness tests keep the seed or the whole
 * history.
 *
 * "The same check" is the violation's message with its numbers taken out, up to the first colon
 * or parenthesis: `stale read`, `state machine safety`, `node # sent counter # to # after already
 * sending #` (so a shrunk case cannot drift into failing some other way).
 */
export function failureSignature(message: string): string {
  const normalized = message.replace(/-?\d+(\.\d+)?/g, '#').replace(/#(,#)+/g, '#');
  const cut = normalized.search(/[:(]/);
  return (cut < 0 ? normalized : normalized.slice(0, cut)).trim();
}

export interface ShrinkBudget {
  /** Runs at most (each candidate is one run). */
  readonly runsMax: number;
  /** Wall-clock milliseconds at most. */
  readonly wallMsMax: number;
}

export const defaultShrinkBudget: ShrinkBudget = { runsMax: 20_000, wallMsMax: 5 * 60_000 };

export interface ShrinkProgress {
  readonly runs: number;
  /** Candidates that still failed the same way (each a step down). */
  readonly steps: number;
  readonly smallest: CaseSize;
  readonly elapsedMs: number;
}

export interface ShrinkResult {
  readonly original: RunCase;
  readonly shrunk: RunCase;
  readonly signature: string;
  /** The shrunk case's violation. */
  readonly violation: string;
  readonly runs: number;
  readonly steps: number;
  readonly wallMs: number;
  /** Why it stopped: nothing smaller failed, or a budget ran out. */
  readonly stoppedBy: 'smallest' | 'runs' | 'time';
}

/** A failing run: its case (the workload as it ran), its violation and the time of it. */
interface Failure {
  readonly runCase: RunCase;
  readonly message: string;
  readonly timeUs: number;
  /** When its cause happened, when the check saw it only later (Violation.causeUs). */
  readonly causeUs: number | undefined;
}

/**
 * Runs cases and remembers how each failed; the candidates of a case come from what its own run
 * did (its recorded workload, the time of its violation). Shared by `shrinkCase` and the
 * property suites (caseProperty.ts).
 */
export class CaseRunner {
  readonly scenario: Scenario;
  runs = 0;
  private readonly failures = new WeakMap<RunCase, Failure | null>();
  private readonly signatures = new WeakMap<RunCase, string>();
  /** Sideways moves (reseeds) still allowed in a row from a case. */
  private readonly sidewaysLeft = new WeakMap<RunCase, number>();

  constructor(scenario: Scenario) {
    this.scenario = scenario;
  }

  /** Runs a case (once: the verdict is remembered); null when it passed. */
  failure(runCase: RunCase): Failure | null {
    const known = this.failures.get(runCase);
    if (known !== undefined) return known;
    this.runs++;
    const { executed } = executeCase(this.scenario, runCase, { recordWorkload: true });
    const failure = failureOf(runCase, executed);
    this.failures.set(runCase, failure);
    return failure;
  }

  /** Remembers the run a case came from (a seed run), so that it is not run again. */
  remember(runCase: RunCase, executed: ExecutedRun): void {
    this.failures.set(runCase, failureOf(runCase, executed));
  }

  /**
   * Whether a candidate fails as its origin did: the same check, whatever the numbers. A case
   * with no known origin (the first) may fail any way.
   */
  failsTheSameWay(runCase: RunCase): boolean {
    const failure = this.failure(runCase);
    if (failure === null) return false;
    const wanted = this.signatures.get(runCase);
    return wanted === undefined || wanted === failureSignature(failure.message);
  }

  /**
   * The candidates one step smaller than a failing case, each bound to its failure's signature and
   * to the stage of the shrinker that made it (where shrinking it goes on from).
   */
  *candidates(runCase: RunCase, stop: () => boolean, from?: ShrinkResume): Generator<ShrinkCandidate> {
    const failure = this.failure(runCase);
    if (failure === null) return;
    const signature = this.signatures.get(runCase) ?? failureSignature(failure.message);
    const sidewaysLeft = this.sidewaysLeft.get(runCase) ?? sidewaysInARowMax;
    // Start from what the failing run did: operations it never got to are gone from its recording.
    for (const next of shrinkCandidates(failure.runCase, { violationUs: failure.timeUs, causeUs: failure.causeUs ?? null, sidewaysLeft }, from)) {
      if (stop()) return;
      this.signatures.set(next.candidate, signature);
      this.sidewaysLeft.set(next.candidate, next.sideways ? sidewaysLeft - 1 : sidewaysInARowMax);
      yield next;
    }
  }

  /**
   * The scenario's own run of another seed (its plan, knobs and workload drawn afresh), as a case
   * whose verdict is remembered; one run of the budget. `keyed`: with keyed network draws
   * (NetworkOptions.keyedDraws), the options otherwise as the seed draws them.
   */
  freshRun(like: RunCase, seed: number, knobs?: Knobs, keyed = false): RunCase {
    this.runs++;
    let prepared = this.scenario.prepare(seed, knobs === undefined ? undefined : { knobs });
    if (keyed) prepared = this.scenario.prepare(seed, { options: withKeyedDraws(prepared.options), knobs: prepared.knobs });
    const executed = prepared.execute({ recordWorkload: true });
    const runCase = caseOfRun(like.scenario, like.variant, prepared, executed);
    this.remember(runCase, executed);
    return runCase;
  }

  /**
   * The case with its run's network pinned: keyed draws, and every message's fate as the run drew
   * it (NetworkOptions.fates). It is the same run — the same trace hash — but a cut now moves only
   * the fates of the messages it changes: the others find their pinned fate by what they are.
   */
  pinned(runCase: RunCase): RunCase {
    this.runs++;
    const { executed } = executeCase(this.scenario, runCase, { recordWorkload: true, recordFates: true });
    const pinned = withOptions(runCase, { ...runCase.options, network: { ...runCase.options.network, keyedDraws: true, fates: executed.fates! } });
    const signature = this.signatureOf(runCase);
    if (signature !== undefined) this.signatures.set(pinned, signature);
    return pinned;
  }

  /**
   * The case with only the pinned fates its run looks up (the others name messages it no longer
   * sends): the same run, a shorter case. Unchanged when it has none.
   */
  prunedFates(runCase: RunCase): RunCase {
    const fates = runCase.options.network.fates;
    if (fates === undefined) return runCase;
    const { executed } = executeCase(this.scenario, runCase, { recordFates: true });
    const slot = (fate: PinnedFate): string => `${fate.from}/${fate.to}/${fate.key}/${fate.occurrence}`;
    const pinnedSlots = new Set(fates.map(slot));
    const used = executed.fates!.filter((fate) => pinnedSlots.has(slot(fate)));
    const pruned = withOptions(runCase, { ...runCase.options, network: { ...runCase.options.network, fates: used } });
    const replayed = executeCase(this.scenario, pruned).executed.result.traceHash;
    return replayed === executed.result.traceHash ? { ...pruned, ...(runCase.saved === undefined ? {} : { saved: runCase.saved }) } : runCase;
  }

  private signatureOf(runCase: RunCase): string | undefined {
    const failure = this.failure(runCase);
    return this.signatures.get(runCase) ?? (failure === null ? undefined : failureSignature(failure.message));
  }

  /** The case as its failing run ran it. */
  ranAs(runCase: RunCase): RunCase {
    return this.failure(runCase)?.runCase ?? runCase;
  }
}

function failureOf(runCase: RunCase, executed: ExecutedRun): Failure | null {
  const violation = executed.result.violation;
  if (violation === null) return null;
  // The recording holds only what the run got to; the plan keeps only faults that could fire.
  const workload = executed.workload ?? runCase.workload;
  const faults = runCase.options.faults.filter((fault) => fault.atUs <= runCase.options.timeLimitUs);
  return {
    runCase: { ...runCase, options: { ...runCase.options, faults }, workload, saved: { traceHash: executed.result.traceHash, violation: violation.message, violationUs: violation.timeUs } },
    message: violation.message,
    timeUs: violation.timeUs,
    causeUs: violation.causeUs,
  };
}

/** A fast-check arbitrary whose one value is `initial` and whose shrinker is the runner's. */
export class ShrinkableCase extends fc.Arbitrary<RunCase> {
  private readonly initial: () => RunCase;
  private readonly runner: CaseRunner;
  private readonly stop: () => boolean;

  constructor(initial: () => RunCase, runner: CaseRunner, stop: () => boolean) {
    super();
    this.initial = initial;
    this.runner = runner;
    this.stop = stop;
  }

  generate(): fc.Value<RunCase> {
    return new fc.Value(this.initial(), 0);
  }

  canShrinkWithoutContext(_value: unknown): _value is RunCase {
    return false;
  }

  /** The context of a value is where the shrinker made it (stage, chunk size): shrinking it resumes there. */
  shrink(value: RunCase, context: unknown): fc.Stream<fc.Value<RunCase>> {
    return new fc.Stream(this.runner.candidates(value, this.stop, resumeOf(context))).map(({ resume, candidate }) => new fc.Value(candidate, resume));
  }
}

/** Restarts from the original with another seed, when a descent ends before the budget does. */
const restartSeedsMax = 8;

/** Fresh seeds of the scenario tried at most, looking for other runs that fail the same way. */
const freshSeedsMax = 5_000;

/**
 * Fresh seeds in a row that pass before the search for other failing runs gives up: a bug caught
 * once in hundreds of seeds (Figure 8's commit by counting: none of 400 seeds after its pinned one)
 * is better served by descending further from the failure it has.
 */
const freshDryMax = 150;

/**
 * The same in keyed mode, the last place to look: there a failing run shrinks far further (a cut
 * moves only the fates of the messages it changes), so a longer search pays, and every run has few
 * clients (they are cheaper, and keyed mode's point is a short case). Figure 8's commit by counting
 * failed in keyed raft-leader-churn-3 in 1 of 800 seeds with 2 clients (seed 116), none of 400
 * with 5 and none of 200 with 20.
 */
const keyedDryMax = 2_000;

/**
 * Shrinks a failing case within a budget; `onProgress` hears of every run. One descent (fast-check's
 * shrinking loop) ends in a case no single cut can shrink further. As long as the budget lasts:
 *
 * 1. the original is tried with other seeds and each one that fails the same way is shrunk too
 *    (the failure of a chaotic run hangs on its exact draws: another seed is another landscape);
 *    when more than a reader can follow happens before the original's failure, these reseeds are
 *    run first and the earliest failure among them is descended first (less before it to remove);
 * 2. after the first descent, while the smallest case is still more than a reader can follow
 *    (`readable`), it is pinned (keyed network draws, each message's fate as its run drew it)
 *    and shrunk there (again after the search below);
 * 3. while it is still more than a reader can follow, other seeds of the
 *    scenario itself are run — plan, knobs and workload drawn afresh — and each run that fails the
 *    same way is shrunk too (every other one with few clients, when the scenario has that knob). A rare bug (Figure 8's commit by counting, one seed in ~150) leaves
 *    every descent from its first failing run at a local minimum where no single cut, under any
 *    seed tried, fails again (not one of 200 reseeds of such a minimum did); another failing run
 *    is another path to the same bug, often a much shorter one. Only for the scenario's own runs:
 *    a case with options or knobs of its own (`--set`, an edited file) keeps to its own plan.
 *
 * Each descent gets at most half of the budget left while other runs may be looked for; the search
 * gives up after `freshDryMax` passing seeds in a row, and the rest of the budget descends from the
 * smallest case found. The smallest case of all the descents is the result (its seed says which run
 * it came from).
 */
export function shrinkCase(scenario: Scenario, original: RunCase, budget: ShrinkBudget = defaultShrinkBudget, onProgress?: (progress: ShrinkProgress) => void): ShrinkResult {
  const runner = new CaseRunner(scenario);
  const started = performance.now();
  const first = runner.failure(original);
  if (first === null) throw new Error('the case passes: there is no failure to shrink');
  const signature = failureSignature(first.message);
  let smallest = runner.ranAs(original);
  let steps = 0;
  let stoppedBy: ShrinkResult['stoppedBy'] = 'smallest';
  const stop = (): boolean => {
    if (runner.runs >= budget.runsMax) stoppedBy = 'runs';
    else if (performance.now() - started >= budget.wallMsMax) stoppedBy = 'time';
    else return false;
    return true;
  };
  const report = (): void => onProgress?.({ runs: runner.runs, steps, smallest: caseSize(smallest), elapsedMs: performance.now() - started });
  const failsTheSameWay = (runCase: RunCase): boolean => {
    const failure = runner.failure(runCase);
    return failure !== null && failureSignature(failure.message) === signature;
  };
  // While other failing runs may be looked for, one descent gets at most half of what is left: a
  // descent from a long run of a rare bug steps down one operation at a time (each cut of more
  // changes every later draw), and would spend the whole budget before another path is tried.
  let mayLookElsewhere = isOwnRun(scenario, original);
  const descend = (start: RunCase): void => {
    const [descentStarted, runsAtStart] = [performance.now(), runner.runs];
    const [wallShare, runsShare] = [(budget.wallMsMax - (descentStarted - started)) / 2, (budget.runsMax - runsAtStart) / 2];
    const stopDescent = (): boolean => stop() || (mayLookElsewhere && !readable(caseSize(smallest)) && (performance.now() - descentStarted >= wallShare || runner.runs - runsAtStart >= runsShare));
    // A start that is already smaller (a fresh run's first failure may be) counts as a step down.
    if (start !== original && smaller(caseSize(runner.ranAs(start)), caseSize(smallest))) {
      steps++;
      smallest = runner.ranAs(start);
    }
    const property = fc.property(new ShrinkableCase(() => start, runner, stopDescent), (candidate) => {
      const fails = runner.failsTheSameWay(candidate);
      if (fails && candidate !== start) {
        steps++;
        const current = runner.ranAs(candidate);
        if (smaller(caseSize(current), caseSize(smallest))) smallest = current;
      }
      report();
      return !fails;
    });
    // One generated value (the start), then fast-check's shrinking loop over our candidates.
    fc.check(property, { numRuns: 1, seed: 0 });
  };
  const reseeds = Array.from({ length: restartSeedsMax }, (_, index) => reseededCase(original, index + 1));
  // A failure that comes late in its run has much before it that the descent must take out one
  // piece at a time, each piece moving the network's later draws (a read lost at 22.8 s of
  // raft-slow-followers: 71 operations left after two minutes). The same case with other seeds
  // fails at other times: the earliest failure among them is descended first.
  const failingFirst = hasMuchBeforeItsFailure(runner, original) ? [original, ...reseeds.filter((start) => !stop() && failsTheSameWay(start))].sort((a, b) => failureAtUs(runner, a) - failureAtUs(runner, b)) : [original];
  descend(failingFirst[0]!);
  // Still too big: every descent stopped where removing anything moves the network's later draws
  // (one stream in send order), and the failure with them. Pinned, the smallest case's run is the
  // same run, but each message finds its fate by what it is: a removal moves only the fates of the
  // messages it changes (Figure 8's commit by counting went from 6 faults and 209 operations to 3
  // and 9 this way, in 28 s). Pinning is one run, and its descent is short next to other descents
  // and to the search for fresh runs below, each of which is a whole run of the scenario
  // (read-awaiting-apply-forgotten: 27 operations to 19 in 450 runs pinned, while the descents of
  // the other seeds spent the rest of five minutes at 27).
  const descendPinned = (): void => {
    if (stop() || readable(caseSize(smallest)) || smallest.options.network.keyedDraws === true) return;
    const pinned = runner.pinned(smallest);
    if (failsTheSameWay(pinned)) descend(pinned);
  };
  descendPinned();
  for (const start of [...failingFirst.slice(1), ...reseeds.filter((reseed) => !failingFirst.includes(reseed))]) {
    if (stop() || smallEnough(caseSize(smallest))) break;
    if (failsTheSameWay(start)) descend(start);
  }
  const fewerClients = fewerClientsKnobs(original);
  const lookElsewhere = (keyed: boolean, dryMax: number): void => {
    let dry = 0;
    for (let offset = 1; offset <= freshSeedsMax && dry < dryMax && !stop() && !readable(caseSize(smallest)); offset++) {
      // Every other fresh run with few clients (every keyed one): fewer operations from the
      // start, and (seen on raft-stale-traffic) no rarer a failure — a crowd of clients is seldom
      // what a bug needs.
      const fresh = runner.freshRun(original, (original.seed + offset) % 2 ** 31, keyed || offset % 2 === 0 ? fewerClients : undefined, keyed);
      report();
      dry = failsTheSameWay(fresh) ? 0 : dry + 1;
      if (dry === 0) descend(fresh);
    }
  };
  if (mayLookElsewhere) lookElsewhere(false, freshDryMax);
  // A fresh run's descent may have found a smaller case, not yet pinned.
  descendPinned();
  if (mayLookElsewhere) {
    // Still too big: fresh runs in keyed mode, shrunk there.
    if (!readable(caseSize(smallest)) && original.options.network.keyedDraws !== true) lookElsewhere(true, keyedDryMax);
    // The rest of the budget goes to the smallest case found, now with nowhere else to look.
    mayLookElsewhere = false;
    if (!stop() && !smallEnough(caseSize(smallest))) descend(smallest);
  }
  smallest = runner.prunedFates(smallest);
  const last = runner.failure(smallest)!;
  return { original, shrunk: smallest, signature, violation: last.message, runs: runner.runs, steps, wallMs: performance.now() - started, stoppedBy };
}

/** The case with another seed (a restart: the same plan and workload, other draws). */
function reseededCase(original: RunCase, restart: number): RunCase {
  const seed = (original.seed + restart * 104_729) % 2 ** 31;
  return { ...original, seed, options: { ...original.options, seed } };
}

/** When a failing case's failure happened: its cause when the check saw it later (Violation.causeUs). */
function failureAtUs(runner: CaseRunner, runCase: RunCase): number {
  const failure = runner.failure(runCase)!;
  return failure.causeUs ?? failure.timeUs;
}

/** Whether more than a reader can follow happens before a failing case's failure. */
function hasMuchBeforeItsFailure(runner: CaseRunner, runCase: RunCase): boolean {
  return !readable(caseSize(cutAt(runner.ranAs(runCase), failureAtUs(runner, runCase))));
}

/** The options with keyed network draws (NetworkOptions.keyedDraws). */
export function withKeyedDraws(options: SimOptions): SimOptions {
  return { ...options, network: { ...options.network, keyedDraws: true } };
}

/** Clients a fresh run may have at most, when the scenario has a `clients` knob. */
const freshClientsMax = 2;

/** The knobs of a fresh run with few clients, or none when the scenario has no such knob or few already. */
function fewerClientsKnobs(runCase: RunCase): Knobs | undefined {
  const clients = runCase.knobs['clients'];
  return typeof clients === 'number' && clients > freshClientsMax ? { clients: freshClientsMax } : undefined;
}

/** Whether a case is its scenario's own run of its seed: nothing set or edited by hand. */
function isOwnRun(scenario: Scenario, runCase: RunCase): boolean {
  const drawn = scenario.prepare(runCase.seed);
  return JSON.stringify(drawn.options) === JSON.stringify(runCase.options) && JSON.stringify(drawn.knobs) === JSON.stringify(runCase.knobs);
}

/**
 * Sizes compared: faults and operations first (what a reader must follow), then members, then
 * time, then a disk's lag, then how harsh the other settings are (so of two such cases the calmer
 * one is the smaller).
 */
export function smaller(a: CaseSize, b: CaseSize): boolean {
  const key = (size: CaseSize): number[] => [size.faults + size.operations, size.members, size.planEntries, size.simulatedUs, size.diskLag, size.harshness];
  const [x, y] = [key(a), key(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]!;
  return false;
}

/** Small enough to stop restarting: a handful of faults and operations. */
function smallEnough(size: CaseSize): boolean {
  return size.faults <= 2 && size.operations <= 5;
}

/**
 * What a reader can follow in one sitting (issue 11's bar for a shrunk case): at most 5 faults and
 * 20 client operations. Larger, the shrinker looks for other failing runs of the scenario.
 */
export function readable(size: CaseSize): boolean {
  return size.faults <= 5 && size.operations <= 20;
}
