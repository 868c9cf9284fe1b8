/**
 * A bounded poll window (issue 10, spin): for `windowUs` after the member's last turn of work its
 * event loop keeps polling for input (a chain of `setImmediate`s: while one is pending, libuv
 * polls its sockets with a timeout of 0) instead of sleeping in epoll, so the next message or call
 * finds the process already on a CPU. On this VM an idle vCPU halts (no cpuidle driver: HLT, a VM
 * exit) and a process woken from epoll then runs a cold path (~0.26 ms per wake, peerrtt); Go's
 * scheduler spins before it parks, which etcd's members get for free.
 *
 * Bounded three ways: the window itself (input or not, polling ends `windowUs` after the last
 * turn), a CPU budget (at most `budgetMsPerSecond` of polling in each second), and load (no
 * polling while the process's CPU, polling excluded, was more than `busyShareMax` of the last
 * sample: under load input comes anyway, and a polling member would take a core from the others).
 * Input is never delayed by it: a poll turn is one empty immediate, and input read in that turn's
 * poll phase is handled in the same turn.
 */
export interface PollWindowOptions {
  /** How long after the last turn of work the loop keeps polling, µs; 0: never. */
  readonly windowUs: number;
  /** The most polling in each second of wall time, ms. */
  readonly budgetMsPerSecond: number;
  /** The process's CPU share (its own work, polling excluded) over one sample above which it does not poll. */
  readonly busyShareMax: number;
  /** Whether this member polls after its turns at all (e.g. only while it leads); absent: always. */
  readonly when?: () => boolean;
  /** The clock, ms (tests pass their own). */
  readonly now?: () => number;
  /**
   * The process's cumulative CPU time, ms (all its threads). Not the loop's utilization: that counts
   * a follower's O_DSYNC append on the loop (syncwrite: the thread asleep in the disk) as busy.
   */
  readonly cpuMs?: () => number;
  /** Runs `poll` in the loop's next turn (setImmediate; tests pass their own). */
  readonly nextTurn?: (poll: () => void) => void;
}

/** What a member's poll window did (for logs and benches). */
export interface PollWindowCounts {
  /** Windows opened (turns of work after which the loop polled). */
  windows: number;
  /** Turns of work that began while the loop was polling: the input the window caught. */
  caught: number;
  /** Time spent polling, ms. */
  pollingMs: number;
  /** Samples in which the loop was too busy to poll. */
  busySamples: number;
  /** Windows cut short by the budget. */
  budgetCuts: number;
}

function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1_000;
}

/** A turn of the poll chain that took longer than this ran other work (it is not counted as polling). */
const pollTurnMaxMs = 0.05;
/** How often the loop's busy share is sampled, ms. */
const sampleMs = 100;

export class PollWindow {
  readonly counts: PollWindowCounts = { windows: 0, caught: 0, pollingMs: 0, busySamples: 0, budgetCuts: 0 };
  private readonly windowMs: number;
  private readonly options: PollWindowOptions;
  private readonly now: () => number;
  private readonly cpuMs: () => number;
  private readonly nextTurn: (poll: () => void) => void;
  /** Polling goes on until then (ms). */
  private untilMs = 0;
  private polling = false;
  private stopped = false;
  private lastPollMs = 0;
  private secondStartMs = 0;
  private secondPollingMs = 0;
  private sampleStartMs: number;
  private sampleCpuMs: number;
  private samplePollingMs = 0;
  private busy = false;

  constructor(options: PollWindowOptions) {
    if (!(options.windowUs >= 0) || !(options.budgetMsPerSecond >= 0) || !(options.busyShareMax >= 0)) throw new RangeError('a poll window takes no negative bounds');
    this.options = options;
    this.windowMs = options.windowUs / 1_000;
    this.now = options.now ?? (() => performance.now());
    this.cpuMs = options.cpuMs ?? processCpuMs;
    this.nextTurn = options.nextTurn ?? ((poll) => setImmediate(poll));
    this.sampleStartMs = this.now();
    this.sampleCpuMs = this.cpuMs();
  }

  get enabled(): boolean {
    return this.windowMs > 0 && !this.stopped;
  }

  /** A turn of work ended (a pump, a sync's completion): the window opens again from now. */
  worked(): void {
    if (!this.enabled) return;
    const now = this.now();
    if (this.polling) this.counts.caught++;
    if (now - this.sampleStartMs >= sampleMs) this.sample(now);
    if (this.busy || (this.options.when !== undefined && !this.options.when())) {
      this.untilMs = 0;
      return;
    }
    this.untilMs = now + this.windowMs;
    if (this.polling) return;
    this.counts.windows++;
    this.polling = true;
    this.lastPollMs = now;
    this.nextTurn(this.poll);
  }

  /** Polls no more (the member stops). */
  stop(): void {
    this.stopped = true;
    this.untilMs = 0;
  }

  private readonly poll = (): void => {
    const now = this.now();
    const turnMs = now - this.lastPollMs;
    this.lastPollMs = now;
    if (now - this.secondStartMs >= 1_000) {
      this.secondStartMs = now;
      this.secondPollingMs = 0;
    }
    if (turnMs < pollTurnMaxMs) {
      this.counts.pollingMs += turnMs;
      this.secondPollingMs += turnMs;
      this.samplePollingMs += turnMs;
    }
    if (now >= this.untilMs || this.stopped) {
      this.polling = false;
      return;
    }
    if (this.secondPollingMs >= this.options.budgetMsPerSecond) {
      this.counts.budgetCuts++;
      this.polling = false;
      return;
    }
    this.nextTurn(this.poll);
  };

  /** The process's CPU share since the last sample, its polling excluded, decides whether the next sample's windows poll. */
  private sample(now: number): void {
    const cpu = this.cpuMs();
    const busyMs = cpu - this.sampleCpuMs - this.samplePollingMs;
    this.busy = busyMs > this.options.busyShareMax * (now - this.sampleStartMs);
    if (this.busy) this.counts.busySamples++;
    this.sampleStartMs = now;
    this.sampleCpuMs = cpu;
    this.samplePollingMs = 0;
  }
}
