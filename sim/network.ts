import { AssertionError, assert } from '../core/base/assert.ts';
import type { Random } from '../core/base/random.ts';
import { never, ratio, type Ratio } from '../core/base/ratio.ts';
import { KeyedDraws } from './rng.ts';

/** One-way delay of a link: uniform in [min, max], and now and then a slow tail on top. */
export interface LatencyDistribution {
  readonly latencyUsMin: number;
  readonly latencyUsMax: number;
  /** How often a message also takes the tail delay (a retransmit, a congested queue). */
  readonly tail: Ratio;
  readonly tailUsMax: number;
}

export interface NetworkOptions extends LatencyDistribution {
  readonly loss: Ratio;
  /** A duplicated message arrives twice, each copy with its own delay: duplication also reorders. */
  readonly duplicate: Ratio;
  /** Messages in flight on one directed link at most; past it new ones are dropped (a full buffer). */
  readonly inFlightPerLinkMax: number;
  /** Per-link overrides of the delay distribution, e.g. a far-away node. */
  readonly links?: readonly ({ readonly from: number; readonly to: number } & LatencyDistribution)[];
  /**
   * Keyed draws (absent: off). Off, every message's fate — loss, delay, duplication — is drawn
   * from the network's one stream in send order, so one message more or less early in a run moves
   * every later fate. On, a message's fate is drawn from a key of what it is: its link, the
   * protocol's key of the message (`NodeProtocol.keyMessage`, e.g. Raft's type and term) and how
   * many messages of that key the link carried before. A change to the run (an operation removed
   * by the shrinker) then changes only the fates of the messages it changes. Set for a run, not
   * changed by the weather.
   */
  readonly keyedDraws?: boolean;
  /**
   * In keyed mode, fates given instead of drawn (absent: none): a message whose key and occurrence
   * on its link are here gets this fate, whatever the weather; the others draw theirs. A run's own
   * fates, recorded (`Network.recordFates`) and pinned, replay it exactly; the shrinker pins a
   * failing run's so that removing something moves only the fates of the messages it changes.
   */
  readonly fates?: readonly PinnedFate[];
}

/** One message's fate, as a run drew it: the message by its link, key and occurrence on the link. */
export interface PinnedFate {
  readonly from: number;
  readonly to: number;
  /** The protocol's key of the message (NodeProtocol.keyMessage), unsigned. */
  readonly key: number;
  /** How many messages of that key the link carried before it. */
  readonly occurrence: number;
  /** The first copy's delay, or -1: lost. */
  readonly delayUs: number;
  /** The duplicate's delay, or -1: none. */
  readonly duplicateUs: number;
}

export const calmNetwork: NetworkOptions = {
  latencyUsMin: 500,
  latencyUsMax: 2_000,
  tail: never,
  tailUsMax: 0,
  loss: never,
  duplicate: never,
  inFlightPerLinkMax: 4_096,
};

export interface NetworkStats {
  sent: number;
  delivered: number;
  duplicated: number;
  droppedLoss: number;
  droppedPartition: number;
  droppedFull: number;
  droppedDown: number;
}

/**
 * The simulated network between addresses 1..addressCount-1 (nodes, then clients). It decides,
 * at send time, whether a message is lost, how long each copy takes, and whether it is
 * duplicated; reordering falls out of independent delays. Partitions are directed cuts, checked
 * when a message is sent and again when it would arrive, so that a partition takes effect at once
 * on what is in flight, as a dropped TCP connection does.
 */
export class Network {
  readonly addressCount: number;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, duplicated: 0, droppedLoss: 0, droppedPartition: 0, droppedFull: 0, droppedDown: 0 };
  private readonly random: Random;
  private options: NetworkOptions;
  private readonly cut: Uint8Array;
  private readonly inFlight: Uint32Array;
  private readonly latencyMin: Float64Array;
  private readonly latencySpan: Float64Array;
  /**
   * Per directed link, the time until which it is stalled (0: never): what is sent meanwhile is
   * held and arrives only after the stall ends — a link that reconnects and delivers old traffic,
   * as a broken TCP connection's retransmits or a switch's deep buffer do.
   */
  private readonly stalledUntilUs: Float64Array;
  // The options the hot path reads, copied into fields of this one class: option objects built by
  // spreading come in many shapes, and reading through them made every send a megamorphic load.
  private loss: Ratio = never;
  private duplicate: Ratio = never;
  private tail: Ratio = never;
  private tailUsMax = 0;
  private inFlightPerLinkMax = 0;
  /** The delivery time of the duplicate of the last routed message, or -1. */
  duplicateAtUs = -1;
  /** In keyed mode (NetworkOptions.keyedDraws), the draws of each message; null otherwise. */
  private readonly keyed: KeyedDraws | null;
  /** Per link and message key, the messages sent so far (in keyed mode, or while recording fates). */
  private readonly keySends = new Map<number, number>();
  /** Pinned fates (NetworkOptions.fates) by link, key and occurrence; null when none. */
  private readonly pinned: Map<string, PinnedFate> | null;
  /** The pinned fate of the message being routed, or undefined. */
  private pin: PinnedFate | undefined = undefined;
  /** The fates routed messages got, when recording (`recordFates`). */
  private recorded: PinnedFate[] | null = null;
  /** The key and occurrence of the message being routed (for recording). */
  private routedKey = 0;
  private routedOccurrence = 0;

  /**
   * `random` is the stream of the default mode; `keyMaterial` seeds the keyed mode's draws, and is
   * asked for only when the options turn it on (so the default mode issues no stream it does not use).
   */
  constructor(addressCount: number, options: NetworkOptions, random: Random, keyMaterial?: () => Random) {
    this.addressCount = addressCount;
    this.random = random;
    this.keyed = options.keyedDraws === true ? new KeyedDraws(keyMaterial?.() ?? random) : null;
    assert(this.keyed !== null || options.fates === undefined, 'pinned fates need keyed draws');
    // A pin for a link this run does not have (a client or member removed since) names nothing.
    const hasLink = (fate: PinnedFate): boolean => fate.from > 0 && fate.to > 0 && fate.from < addressCount && fate.to < addressCount;
    this.pinned = options.fates === undefined ? null : new Map(options.fates.filter(hasLink).map((fate) => [pinKey(this.index(fate.from, fate.to), fate.key, fate.occurrence), fate]));
    // A key slot is the link's index times 2^32 plus the key: it must stay an exact integer.
    assert(this.keyed === null || addressCount * addressCount * 0x1_0000_0000 <= Number.MAX_SAFE_INTEGER, 'too many addresses for keyed draws');
    this.options = options;
    this.cut = new Uint8Array(addressCount * addressCount);
    this.inFlight = new Uint32Array(addressCount * addressCount);
    this.latencyMin = new Float64Array(addressCount * addressCount);
    this.latencySpan = new Float64Array(addressCount * addressCount);
    this.stalledUntilUs = new Float64Array(addressCount * addressCount);
    this.setOptions(options);
  }

  get currentOptions(): NetworkOptions {
    return this.options;
  }

  /** Changes loss, duplication and delays from now on (the nemesis' "network weather"). */
  setOptions(options: NetworkOptions): void {
    assert(options.latencyUsMin >= 0 && options.latencyUsMax >= options.latencyUsMin, 'bad latency range');
    this.options = options;
    this.loss = ratio(options.loss.numerator, options.loss.denominator);
    this.duplicate = ratio(options.duplicate.numerator, options.duplicate.denominator);
    this.tail = ratio(options.tail.numerator, options.tail.denominator);
    this.tailUsMax = options.tailUsMax;
    this.inFlightPerLinkMax = options.inFlightPerLinkMax;
    this.latencyMin.fill(options.latencyUsMin);
    this.latencySpan.fill(options.latencyUsMax - options.latencyUsMin);
    for (const link of options.links ?? []) {
      const index = this.index(link.from, link.to);
      assert(link.latencyUsMax >= link.latencyUsMin, 'bad link latency range');
      this.latencyMin[index] = link.latencyUsMin;
      this.latencySpan[index] = link.latencyUsMax - link.latencyUsMin;
    }
  }

  /** Whether fates are drawn by message key (NetworkOptions.keyedDraws). */
  get keyedDraws(): boolean {
    return this.keyed !== null;
  }

  /** Whether routed messages need their keys: keyed draws, or fates being recorded. */
  get wantsKeys(): boolean {
    return this.keyed !== null || this.recorded !== null;
  }

  /** Records every routed message's fate from now on (`recordedFates`), in either mode. */
  recordFates(): void {
    this.recorded ??= [];
  }

  /** The fates recorded so far, in send order: pinned (NetworkOptions.fates), they replay the run. */
  get recordedFates(): readonly PinnedFate[] {
    return this.recorded ?? [];
  }

  /**
   * Routes one message sent at `nowUs`: returns the delivery time of the first copy, or -1 when it
   * is dropped. Sets `duplicateAtUs` to the second copy's time, or -1. `key` says what the message
   * is, for keyed draws (ignored otherwise).
   */
  route(from: number, to: number, nowUs: number, key = 0): number {
    const index = this.index(from, to);
    const random = this.keyed === null && this.recorded === null ? this.random : this.drawsFor(index, key);
    const pin = this.pin;
    this.stats.sent++;
    this.duplicateAtUs = -1;
    if (this.cut[index] === 1) {
      this.stats.droppedPartition++;
      return -1;
    }
    if (pin !== undefined ? pin.delayUs < 0 : this.loss.numerator !== 0 && random.chance(this.loss)) {
      this.stats.droppedLoss++;
      this.record(from, to, -1, -1);
      return -1;
    }
    if (this.inFlight[index]! >= this.inFlightPerLinkMax) {
      this.stats.droppedFull++;
      return -1;
    }
    this.inFlight[index]!++;
    // A stalled link holds the message until the stall ends; its own delay comes on top.
    const sentUs = this.stalledUntilUs[index]! > nowUs ? this.stalledUntilUs[index]! : nowUs;
    const delay = pin !== undefined ? pin.delayUs : this.delay(index, random);
    let duplicateDelay = -1;
    if ((pin !== undefined ? pin.duplicateUs >= 0 : this.duplicate.numerator !== 0 && random.chance(this.duplicate)) && this.inFlight[index]! < this.inFlightPerLinkMax) {
      this.inFlight[index]!++;
      this.stats.duplicated++;
      duplicateDelay = pin !== undefined ? pin.duplicateUs : this.delay(index, random);
      this.duplicateAtUs = sentUs + duplicateDelay;
    }
    this.record(from, to, delay, duplicateDelay);
    return sentUs + delay;
  }

  /**
   * Routes one message of a connection (a client's gRPC stream over TCP): never lost or duplicated
   * by the weather, only delayed, and dropped only by a cut or a full link. Returns the delivery
   * time, or -1. Draws only the delay, so it shifts no other draw when the weather changes.
   */
  routeOnConnection(from: number, to: number, nowUs: number, key = 0): number {
    const index = this.index(from, to);
    const random = this.keyed === null && this.recorded === null ? this.random : this.drawsFor(index, key);
    const pin = this.pin;
    this.stats.sent++;
    this.duplicateAtUs = -1;
    if (this.cut[index] === 1) {
      this.stats.droppedPartition++;
      return -1;
    }
    if (this.inFlight[index]! >= this.inFlightPerLinkMax) {
      this.stats.droppedFull++;
      return -1;
    }
    this.inFlight[index]!++;
    const delay = pin !== undefined ? pin.delayUs : this.delay(index, random);
    this.record(from, to, delay, -1);
    return nowUs + delay;
  }

  /** A copy reached the end of its link: true when it may be handed over (the link is not cut). */
  arrive(from: number, to: number): boolean {
    const index = this.index(from, to);
    this.inFlight[index]!--;
    if (this.cut[index] === 1) {
      this.stats.droppedPartition++;
      return false;
    }
    this.stats.delivered++;
    return true;
  }

  isCut(from: number, to: number): boolean {
    return this.cut[this.index(from, to)] === 1;
  }

  setCut(from: number, to: number, isCut: boolean): void {
    this.cut[this.index(from, to)] = isCut ? 1 : 0;
  }

  /** Directed links currently cut, as [from, to] pairs in ascending order. */
  cutLinks(): [number, number][] {
    const links: [number, number][] = [];
    for (let from = 1; from < this.addressCount; from++) {
      for (let to = 1; to < this.addressCount; to++) if (this.isCut(from, to)) links.push([from, to]);
    }
    return links;
  }

  /** Stalls the link until `untilUs` (see `stalledUntilUs`); a later stall may extend it. */
  stall(from: number, to: number, untilUs: number): void {
    const index = this.index(from, to);
    if (untilUs > this.stalledUntilUs[index]!) this.stalledUntilUs[index] = untilUs;
  }

  isStalled(from: number, to: number, nowUs: number): boolean {
    return this.stalledUntilUs[this.index(from, to)]! > nowUs;
  }

  /** Restores every link: cuts and stalls end for what is sent from now on (what a stall holds still arrives late). */
  healAll(): void {
    this.cut.fill(0);
    this.stalledUntilUs.fill(0);
  }

  /**
   * The keyed draws of the next message of `key` on the link: the link, the key and how many
   * messages of that key the link carried before (every send counts, dropped or not: a message is
   * what it is whatever its fate). A retransmission is another message of the same key, so it
   * gets a fate of its own.
   */
  private drawsFor(index: number, key: number): Random {
    const slot = index * 0x1_0000_0000 + (key >>> 0);
    const sent = this.keySends.get(slot) ?? 0;
    this.keySends.set(slot, sent + 1);
    this.routedKey = key >>> 0;
    this.routedOccurrence = sent;
    this.pin = this.pinned?.get(pinKey(index, key >>> 0, sent));
    // Recording a run of the default mode: its draws stay the stream's, in send order.
    if (this.keyed === null) return this.random;
    this.keyed.reset(index, key, sent);
    return this.keyed;
  }

  private record(from: number, to: number, delayUs: number, duplicateUs: number): void {
    this.recorded?.push({ from, to, key: this.routedKey, occurrence: this.routedOccurrence, delayUs, duplicateUs });
  }

  private delay(index: number, random: Random): number {
    const span = this.latencySpan[index]!;
    let delay = this.latencyMin[index]! + (span > 0 ? random.below(span + 1) : 0);
    if (this.tail.numerator !== 0 && this.tailUsMax > 0 && random.chance(this.tail)) delay += random.below(this.tailUsMax + 1);
    return delay;
  }

  private index(from: number, to: number): number {
    if (!(from > 0 && from < this.addressCount && to > 0 && to < this.addressCount)) throw new AssertionError(`no link ${from} → ${to}`);
    return from * this.addressCount + to;
  }
}

function pinKey(index: number, key: number, occurrence: number): string {
  return `${index}/${key}/${occurrence}`;
}
