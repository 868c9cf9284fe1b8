import { never, ratio, type Ratio } from '../core/base/ratio.ts';
import type { DiskOptions } from '../sim/disk.ts';
import type { FaultAction, FaultPlan } from '../sim/faults.ts';
import { calmNetwork, type LatencyDistribution, type NetworkOptions } from '../sim/network.ts';
import { fitPlanToMembers, recoveries } from '../sim/planEdit.ts';
import { scriptOperations, type ScriptedOperation, type WorkloadScript } from '../sim/workloadScript.ts';
import { calmFloors, extraTickBurst, latencyHarshness, slowLatencyUs, slowSyncUs, type RunCase } from './case.ts';
import { fitScriptToMembers } from './settings.ts';

/**
 * The smaller cases one step away from a failing one, biggest cuts first, as a lazy sequence (a
 * shrinker tries them in order and restarts from the first that still fails):
 *
 * 1. the run cut just after its violation (later faults and operations never happen); for a
 *    violation seen only a bound after its cause (a read not answered within 5 s), the run cut at
 *    the cause, still running until the check can fire;
 * 2. no client operations at all; no faults at all;
 * 3. clients removed in chunks (halves ... single clients);
 * 4. operations removed in chunks (halves ... single ones, latest first) — the others keep their
 *    times;
 * 5. a shorter run (half the time limit, then three quarters, ...: a check at the end of the run
 *    may fail on something that happened early);
 * 6. faults removed in chunks (halves, quarters, ... single faults), each with its recovery;
 * 7. calmer settings, each dropped then halved: loss, duplication, slow tails, slow links (the
 *    network's latency, then each per-link override dropped or calmed), torn writes, slow syncs,
 *    clock offsets and drift, tick bursts; a lagging disk (DiskOptions.lag) without its lag, then with
 *    shorter and rarer lags; each fault's magnitude (weather rates, stall, leader pause and crash
 *    lengths, clock jumps and drifts) halved;
 * 8. one member fewer (the plan and the operations fitted to the rest);
 * 9. each fault shortened: its recovery moved halfway towards it;
 * 10. single removals again, with other seeds (leaving a local minimum sideways).
 *
 * Every candidate is well-formed: plans keep their recoveries after their faults and name only
 * members, operations go to members.
 */
export function* shrinkCandidates(runCase: RunCase, hints: ShrinkHints, from: ShrinkResume = { stage: 0, chunk: Infinity }): Generator<ShrinkCandidate> {
  // From the stage that gave this case, round to the stage before it: a step down does not make
  // the cuts that already failed worth trying again first, but a last full pass tries them all.
  // On the first turn a chunked stage resumes at the chunk size that gave the case (delta
  // debugging keeps its granularity): in a chaotic run, once only small cuts still fail, the big
  // ones fail again after every step, and trying them all again cost most of a descent's runs.
  for (let turn = 0; turn < stages.length; turn++) {
    const stage = (from.stage + turn) % stages.length;
    const chunkMax = turn === 0 ? from.chunk : Infinity;
    for (const candidate of stages[stage]!(runCase, hints, chunkMax)) {
      // A sideways move starts the next round from the top: the new seed changes every outcome.
      if ('sideways' in candidate) yield { resume: { stage: 0, chunk: Infinity }, candidate: candidate.sideways, sideways: true };
      else if ('chunked' in candidate) yield { resume: { stage, chunk: candidate.chunk }, candidate: candidate.chunked, sideways: false };
      else yield { resume: { stage, chunk: Infinity }, candidate, sideways: false };
    }
  }
}

/** Where shrinking a candidate goes on from: the stage that made it, and its chunk size there. */
export interface ShrinkResume {
  readonly stage: number;
  readonly chunk: number;
}

/** A fast-check shrink context as a resume point (none for a generated value). */
export function resumeOf(context: unknown): ShrinkResume | undefined {
  return typeof context === 'object' && context !== null && 'stage' in context && 'chunk' in context ? (context as ShrinkResume) : undefined;
}

export interface ShrinkHints {
  /** When the case's run failed, if it failed during the run (null: at its end). */
  readonly violationUs: number | null;
  /** When the violation's cause happened, when the check saw it only later (Violation.causeUs). */
  readonly causeUs: number | null;
  /** How many more sideways moves (same size, another seed) may be made in a row. */
  readonly sidewaysLeft: number;
}

export interface ShrinkCandidate {
  /** The stage (and chunk size) that made it: shrinking it resumes there. */
  readonly resume: ShrinkResume;
  readonly candidate: RunCase;
  /** Not smaller, only reseeded (see reseeded). */
  readonly sideways: boolean;
}

/** A chunked stage's candidate, with the chunk size it removed. */
interface Chunked {
  readonly chunked: RunCase;
  readonly chunk: number;
}

/** A stage: its candidates for a case; chunked stages start at chunks of at most `chunkMax`. */
type Stage = (runCase: RunCase, hints: ShrinkHints, chunkMax: number) => Iterable<RunCase | Chunked | { readonly sideways: RunCase }>;

/*
 * The cut at the violation goes first: it changes nothing before the violation, so it always
 * keeps the failure. Then clients and operations, while the run still has all its faults:
 * removing one request changes which messages the network delays or loses after it (its draws
 * come in order), so a smaller workload fails, if at all, by another path to the same bug — more
 * likely with every fault still there to open one.
 */
const stages: readonly Stage[] = [
  function* cutAtViolation(runCase, { violationUs, causeUs }) {
    // A violation ends the run wherever the limit is: the slack lets it come a little later once
    // other faults or operations are gone (removing a request moves a sync, which moves an election).
    if (violationUs !== null && violationUs + cutSlackUs < runCase.options.timeLimitUs) yield cutAt(runCase, violationUs, violationUs + cutSlackUs);
    // A check with a bound fires long after what it is about: a read lost at once is seen 5 s
    // later, and a run cut only there keeps every operation of those 5 s, each of which moves the
    // network's later draws when the shrinker takes it out alone. Nothing invoked after the cause
    // caused it: cut there, and still run until the check can fire.
    if (violationUs !== null && causeUs !== null && causeUs < violationUs) {
      const cut = cutAt(runCase, causeUs, Math.min(runCase.options.timeLimitUs, violationUs + cutSlackUs));
      if (caseChanged(runCase, cut)) yield cut;
    }
  },
  function* nothingAtAll(runCase) {
    if (runCase.workload.clients.some((operations) => operations.length > 0)) yield withScript(runCase, { clients: runCase.workload.clients.map(() => []) });
    const quiet = runCase.options.faults.filter((fault) => fault.action.kind === 'quiet');
    if (quiet.length < runCase.options.faults.length) yield withPlan(runCase, quiet);
  },
  removeClients,
  removeOperations,
  shorterRuns,
  removeFaults,
  calmerOptions,
  function* fewerMembers(runCase) {
    if (runCase.options.nodeCount > 1) yield withMembers(runCase, runCase.options.nodeCount - 1);
  },
  shortenFaults,
  reseeded,
];

/** How many other seeds are tried, once nothing smaller fails with this one. */
const reseedTries = 3;

/**
 * When no single fault, client or operation can go without the failure going too, the failure
 * hangs on this seed's exact network and disk draws. The case is tried with other seeds (the plan
 * and workload stay explicit; the seed only drives delays, losses, clocks and elections): first
 * each single removal, then the case as it is — a sideways move, of which only a few are allowed
 * in a row, after which the removals are tried afresh. A local minimum left sideways, as a fuzzer
 * would.
 */
function* reseeded(runCase: RunCase, { sidewaysLeft }: ShrinkHints): Generator<RunCase | { readonly sideways: RunCase }> {
  const seeds = Array.from({ length: reseedTries }, (_, attempt) => (runCase.seed + (attempt + 1) * 7_919) % 2 ** 31);
  const withSeed = (candidate: RunCase, seed: number): RunCase => ({ ...candidate, seed, options: { ...candidate.options, seed } });
  for (const seed of seeds) for (const candidate of singleRemovals(runCase)) yield withSeed(candidate, seed);
  if (sidewaysLeft > 0) for (const seed of seeds) yield { sideways: withSeed(runCase, seed) };
}

/** Every case with one fault (and its recovery), one client or one operation fewer. */
function* singleRemovals(runCase: RunCase): Generator<RunCase> {
  const plan = runCase.options.faults;
  for (const unit of faultUnits(plan).reverse()) yield withPlan(runCase, plan.filter((_, index) => !unit.includes(index)));
  const clients = runCase.workload.clients;
  for (let client = clients.length - 1; client >= 0; client--) {
    if (clients.length > 1) yield withScript(runCase, { clients: clients.filter((_, index) => index !== client) });
    for (let index = clients[client]!.length - 1; index >= 0; index--) yield withScript(runCase, { clients: clients.map((operations, at) => (at === client ? without(operations, index, index + 1) : operations)) });
  }
}

function withPlan(runCase: RunCase, faults: FaultPlan): RunCase {
  return { ...runCase, options: { ...runCase.options, faults } };
}

function withScript(runCase: RunCase, workload: WorkloadScript<unknown>): RunCase {
  return { ...runCase, workload };
}

/** How far past its violation a cut run may go. */
const cutSlackUs = 2_000_000;


/** Nothing happens after `atUs` (faults and operations later are dropped); the run stops at `limitUs`. */
export function cutAt(runCase: RunCase, atUs: number, limitUs = atUs): RunCase {
  const faults = runCase.options.faults.filter((fault) => fault.atUs <= atUs);
  const clients = runCase.workload.clients.map((operations) => operations.filter((operation) => operation.invokeUs === undefined || operation.invokeUs <= atUs));
  return { ...runCase, options: { ...runCase.options, timeLimitUs: limitUs, faults }, workload: { clients } };
}

/** Whether a cut leaves out a fault or an operation (else it is the same case, bar its limit). */
function caseChanged(runCase: RunCase, cut: RunCase): boolean {
  return cut.options.faults.length < runCase.options.faults.length || scriptOperations(cut.workload) < scriptOperations(runCase.workload);
}

/** A fault and its recovery (a crash and its restart), or a lone entry: what is removed together. */
function faultUnits(plan: FaultPlan): number[][] {
  const enders = recoveries(plan);
  const taken = new Set(enders.filter((index) => index >= 0));
  const units: number[][] = [];
  plan.forEach((fault, index) => {
    if (fault.action.kind === 'quiet' || taken.has(index)) return;
    units.push(enders[index]! >= 0 ? [index, enders[index]!] : [index]);
  });
  return units;
}

function* removeFaults(runCase: RunCase, _hints: ShrinkHints, chunkMax: number): Generator<Chunked> {
  const plan = runCase.options.faults;
  const units = faultUnits(plan);
  for (const chunk of chunkSizes(units.length, chunkMax)) {
    // Later faults first: a failure usually needs the faults that came before it.
    for (let end = units.length; end > 0; end -= chunk) {
      const removed = new Set(units.slice(Math.max(0, end - chunk), end).flat());
      yield { chunked: withPlan(runCase, plan.filter((_, index) => !removed.has(index))), chunk };
    }
  }
}

function* removeClients(runCase: RunCase, _hints: ShrinkHints, chunkMax: number): Generator<Chunked> {
  const clients = runCase.workload.clients;
  if (clients.length <= 1) return;
  for (const chunk of chunkSizes(clients.length, chunkMax)) {
    for (let end = clients.length; end > 0; end -= chunk) {
      const start = Math.max(0, end - chunk);
      if (end - start < clients.length) yield { chunked: withScript(runCase, { clients: [...clients.slice(0, start), ...clients.slice(end)] }), chunk };
    }
  }
}

function* removeOperations(runCase: RunCase, _hints: ShrinkHints, chunkMax: number): Generator<Chunked> {
  const clients = runCase.workload.clients;
  const longest = Math.max(0, ...clients.map((operations) => operations.length));
  for (const chunk of chunkSizes(longest, chunkMax)) {
    // The same slice from every client at once, then from one client at a time.
    for (let end = longest; end > 0; end -= chunk) {
      const start = Math.max(0, end - chunk);
      if (clients.filter((operations) => operations.length > start).length > 1) yield { chunked: withScript(runCase, { clients: clients.map((operations) => without(operations, start, end)) }), chunk };
      for (let client = 0; client < clients.length; client++) {
        if (clients[client]!.length <= start) continue;
        yield { chunked: withScript(runCase, { clients: clients.map((operations, index) => (index === client ? without(operations, start, end) : operations)) }), chunk };
      }
    }
  }
}

function without(operations: readonly ScriptedOperation<unknown>[], start: number, end: number): ScriptedOperation<unknown>[] {
  return [...operations.slice(0, start), ...operations.slice(end)];
}

/**
 * Halves, quarters, ... down to 1: the chunk sizes of a delta-debugging pass over `count` items,
 * those of at most `chunkMax` (a pass resumed at its granularity).
 */
function chunkSizes(count: number, chunkMax = Infinity): number[] {
  const sizes: number[] = [];
  for (let size = Math.ceil(count / 2); size >= 1; size = size === 1 ? 0 : Math.ceil(size / 2)) if (!sizes.includes(size) && size <= chunkMax) sizes.push(size);
  return sizes;
}

export function withMembers(runCase: RunCase, nodeCount: number): RunCase {
  const members = Array.from({ length: nodeCount }, (_, i) => i + 1);
  return {
    ...runCase,
    options: { ...runCase.options, nodeCount, faults: fitPlanToMembers(runCase.options.faults, members) },
    workload: fitScriptToMembers(runCase.workload, nodeCount),
  };
}

function* shortenFaults(runCase: RunCase): Generator<RunCase> {
  const plan = runCase.options.faults;
  const enders = recoveries(plan);
  for (let index = plan.length - 1; index >= 0; index--) {
    const ender = enders[index]!;
    if (ender < 0 || plan[ender]!.action.kind === 'quiet') continue;
    const startUs = plan[index]!.atUs;
    const endUs = plan[ender]!.atUs;
    if (endUs - startUs < 2_000) continue; // a couple of milliseconds is short enough
    const shortened = plan.map((fault, at) => (at === ender ? { atUs: startUs + Math.floor((endUs - startUs) / 2), action: fault.action } : fault));
    // Keep the plan in time order, recoveries after what they recover.
    yield withPlan(runCase, shortened.map((fault, at) => ({ fault, at })).sort((a, b) => a.fault.atUs - b.fault.atUs || a.at - b.at).map((entry) => entry.fault));
  }
}

/**
 * Every harsh setting calmer, one at a time: first without it, then halved (down to its floor,
 * `calmFloors`): message loss, duplication, a slow tail's chance and length, slow links (the
 * network's latency beyond a calm network's, then each per-link override: dropped, then calmed as
 * the network is), torn writes, slow syncs, clock offsets and drift, tick bursts, a lagging disk;
 * then each fault's own magnitude in the plan. Each candidate has a smaller `CaseSize.harshness`
 * (or `diskLag`), so a calmer case that still fails is the smaller one.
 */
function* calmerOptions(runCase: RunCase): Generator<RunCase> {
  const options = runCase.options;
  const { network, disk, clock } = options;
  const calmer = (change: Partial<RunCase['options']>): RunCase => ({ ...runCase, options: { ...options, ...change } });
  if (network.loss.numerator > 0 && network.duplicate.numerator > 0) yield calmer({ network: { ...network, loss: never, duplicate: never } });
  for (const loss of calmerRatios(network.loss)) yield calmer({ network: { ...network, loss } });
  for (const duplicate of calmerRatios(network.duplicate)) yield calmer({ network: { ...network, duplicate } });
  for (const latency of calmerLatencies(network)) yield calmer({ network: { ...network, ...latency } });
  for (const links of calmerLinks(network)) yield calmer({ network: links });
  for (const tornWrite of calmerRatios(disk.tornWrite)) yield calmer({ disk: { ...disk, tornWrite } });
  // Slow syncs: back to a calm disk's latency, then half as slow.
  const slowUs = slowSyncUs(disk);
  for (const extraUs of calmerDurations(slowUs)) yield calmer({ disk: { ...disk, syncLatencyUsMax: disk.syncLatencyUsMax - slowUs + extraUs } });
  if (clock.offsetUsMax > 0 && clock.driftPpmMax > 0) yield calmer({ clock: { ...clock, offsetUsMax: 0, driftPpmMax: 0 } });
  for (const offsetUsMax of calmerDurations(clock.offsetUsMax)) yield calmer({ clock: { ...clock, offsetUsMax } });
  for (const driftPpmMax of calmerMagnitudes(clock.driftPpmMax, calmFloors.ppm)) yield calmer({ clock: { ...clock, driftPpmMax } });
  // Tick bursts: a steady clock's single owed tick after a jump, then half as many extra.
  for (const extra of calmerMagnitudes(extraTickBurst(clock), calmFloors.ticks)) yield calmer({ clock: { ...clock, tickBurstMax: clock.tickBurstMax - extraTickBurst(clock) + extra } });
  for (const calmerDisk of shorterLags(disk)) yield calmer({ disk: calmerDisk });
  yield* calmerFaults(runCase);
}

/** The delays of a link calmer, each a change to its distribution: slower than calm, then its tail. */
type LatencyChange = Partial<LatencyDistribution>;

/**
 * A delay distribution calmer (the network's own, or a per-link override's): its latency back to a
 * calm network's (500-2,000 µs, a faster minimum kept), then half as much slower than calm, the
 * whole range shifted down; then without its tail, a tail half as often, half as long.
 */
export function calmerLatencies(latency: LatencyDistribution): LatencyChange[] {
  const changes: LatencyChange[] = calmerDurations(slowLatencyUs(latency)).map((extraUs) => {
    const latencyUsMax = calmNetwork.latencyUsMax + extraUs;
    const shiftUs = latency.latencyUsMax - latencyUsMax;
    return { latencyUsMin: Math.max(Math.min(latency.latencyUsMin, calmNetwork.latencyUsMin), latency.latencyUsMin - shiftUs), latencyUsMax };
  });
  if (latency.tail.numerator > 0) {
    changes.push({ tail: never, tailUsMax: 0 });
    for (const tail of calmerRatios(latency.tail).slice(1)) changes.push({ tail });
    for (const tailUsMax of calmerDurations(latency.tailUsMax).slice(1)) changes.push({ tailUsMax });
  }
  return changes;
}

/**
 * The per-link overrides calmer (NetworkOptions.links), latest first: each harsh one dropped (the
 * link back to the network's own delays), then calmed as the network's are (`calmerLatencies`).
 * A link no slower than a calm network is left alone.
 */
export function* calmerLinks(network: NetworkOptions): Generator<NetworkOptions> {
  const links = network.links ?? [];
  const withLinks = (kept: NetworkOptions['links'] & {}): NetworkOptions => {
    const { links: _links, ...rest } = network;
    return kept.length === 0 ? rest : { ...rest, links: kept };
  };
  for (let index = links.length - 1; index >= 0; index--) {
    const link = links[index]!;
    if (latencyHarshness(link) === 0) continue;
    yield withLinks(links.filter((_, at) => at !== index));
    for (const change of calmerLatencies(link)) yield withLinks(links.map((other, at) => (at === index ? { ...other, ...change } : other)));
  }
}

/** A chance calmer: never, then half as often (down to `calmFloors.ratio`); none for never. */
export function calmerRatios(chance: Ratio): Ratio[] {
  if (chance.numerator <= 0) return [];
  const halved = chance.numerator / chance.denominator / 2 >= calmFloors.ratio && chance.denominator <= Number.MAX_SAFE_INTEGER / 2;
  return halved ? [never, chance.numerator % 2 === 0 ? ratio(chance.numerator / 2, chance.denominator) : ratio(chance.numerator, chance.denominator * 2)] : [never];
}

/** A magnitude calmer: 0, then half (towards 0, down to `floor`); none for 0. */
export function calmerMagnitudes(value: number, floor: number): number[] {
  if (value === 0) return [];
  const half = value > 0 ? Math.floor(value / 2) : -Math.floor(-value / 2);
  return Math.abs(half) >= floor ? [0, half] : [0];
}

const calmerDurations = (us: number): number[] => calmerMagnitudes(us, calmFloors.us);

/**
 * Each fault's magnitude calmer, latest first (removing a fault is `removeFaults`'s): a weather
 * change without its loss, duplication or tail, then with each halved; a stall, a leader's pause
 * or crash half as long; a clock jump or drift half as big.
 */
function* calmerFaults(runCase: RunCase): Generator<RunCase> {
  const plan = runCase.options.faults;
  const withAction = (index: number, action: FaultAction): RunCase => withPlan(runCase, plan.map((fault, at) => (at === index ? { atUs: fault.atUs, action } : fault)));
  for (let index = plan.length - 1; index >= 0; index--) {
    const action = plan[index]!.action;
    switch (action.kind) {
      case 'network': {
        for (const loss of calmerRatios(action.loss)) yield withAction(index, { ...action, loss });
        for (const duplicate of calmerRatios(action.duplicate)) yield withAction(index, { ...action, duplicate });
        if (action.tail !== undefined && action.tail.numerator > 0) {
          const { tail: _tail, tailUsMax: _tailUsMax, ...withoutTail } = action;
          yield withAction(index, withoutTail);
          for (const tail of calmerRatios(action.tail).slice(1)) yield withAction(index, { ...action, tail });
          for (const tailUsMax of calmerDurations(action.tailUsMax ?? 0).slice(1)) yield withAction(index, { ...action, tailUsMax });
        }
        break;
      }
      case 'stall':
      case 'disk-stall':
        for (const durationUs of calmerDurations(action.durationUs).slice(1)) yield withAction(index, { ...action, durationUs });
        break;
      case 'disk-stall-leader':
        for (const durationUs of calmerDurations(action.durationUs).slice(1)) yield withAction(index, { ...action, durationUs });
        break;
      case 'pause-leader':
        for (const resumeAfterUs of calmerDurations(action.resumeAfterUs).slice(1)) yield withAction(index, { ...action, resumeAfterUs });
        break;
      case 'crash-leader':
        for (const restartAfterUs of calmerDurations(action.restartAfterUs).slice(1)) yield withAction(index, { ...action, restartAfterUs });
        break;
      case 'clock-jump':
      case 'clock-jump-leader':
        for (const deltaUs of calmerDurations(action.deltaUs).slice(1)) yield withAction(index, { ...action, deltaUs });
        break;
      case 'clock-drift':
        for (const driftPpm of calmerMagnitudes(action.driftPpm, calmFloors.ppm).slice(1)) yield withAction(index, { ...action, driftPpm });
        break;
      default:
        break;
    }
  }
}

/**
 * A lagging disk calmer, like any other fault: no lag at all; then, for a failure that needs one,
 * only the shortest lags, lags half as long (down to a couple of milliseconds) and half as often.
 */
export function* shorterLags(disk: DiskOptions): Generator<DiskOptions> {
  const { lag, ...steady } = disk;
  if (lag === undefined) return;
  yield steady;
  if (lag.usMax > lag.usMin) yield { ...disk, lag: { ...lag, usMax: lag.usMin } };
  if (lag.usMin >= 2 * lagUsMin) yield { ...disk, lag: { ...lag, usMin: Math.floor(lag.usMin / 2), usMax: Math.floor(lag.usMax / 2) } };
  const { numerator, denominator } = lag.chance;
  if (numerator > 0 && denominator <= Number.MAX_SAFE_INTEGER / 2) yield { ...disk, lag: { ...lag, chance: ratio(numerator, denominator * 2) } };
}

/** A lag this short is short enough (as a fault of a couple of milliseconds). */
const lagUsMin = 1_000;

function* shorterRuns(runCase: RunCase): Generator<RunCase> {
  const limit = runCase.options.timeLimitUs;
  // Binary search from below, as fast-check shrinks an integer: 1/2, 3/4, 7/8 of the limit.
  for (let cut = Math.floor(limit / 2); limit - cut > 100_000; cut = Math.floor((cut + limit) / 2)) yield cutAt(runCase, cut);
}
