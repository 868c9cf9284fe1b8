/**
 * What the event loop did, kept only while the stall watch is on (DETCD_LOOP_STALL_WATCH_MS): the
 * host's pumps, the store's writes, the turns a completed sync let go on, the backend rewrite's
 * encoding turns, and the GC pauses, each
 * a span of process time (`performance.now()`). A stall report says which of them fell inside the
 * stall (LoopStallWatch), so a gap is named — a GC, a slow pump and what it held, or nothing of
 * ours (the process waited for a CPU, or JavaScript outside the host's work ran: gRPC, peer reads).
 *
 * Spans go into a ring of typed arrays (no allocation per pump); the oldest are overwritten, so a
 * report covers at most the last `spansMax` spans (~8 s at check perf's ~2,000 spans a second).
 */

/** The kinds of span. A store write runs inside a pump or a sync's turn; a GC inside anything. */
export const spanKinds = ['pump', 'after-sync', 'store-write', 'rewrite-turn', 'gc-major', 'gc-minor', 'gc-incremental', 'gc-weak'] as const;
export type SpanKind = (typeof spanKinds)[number];

/** Spans kept at most. */
const spansMax = 16_384;

/** What the spans inside one window add up to, per kind. */
export interface KindSummary {
  count: number;
  /** Milliseconds inside the window (a span that began before it or ended after it is cut to it). */
  ms: number;
  /** The longest span's milliseconds inside the window, its start (ms from the window's start) and its detail. */
  longestMs: number;
  longestAtMs: number;
  longestDetail: string;
}

export class LoopActivity {
  private readonly kinds = new Uint8Array(spansMax);
  private readonly starts = new Float64Array(spansMax);
  private readonly durations = new Float64Array(spansMax);
  /** A pump's entries applied; a GC's V8 flags; unused otherwise. */
  private readonly counts = new Float64Array(spansMax);
  /** A span's words, kept only for the rare span that says more than a count (a snapshot, a write's records). */
  private readonly details: (string | undefined)[] = new Array(spansMax);
  private next = 0;
  private size = 0;

  /** A span of `kind` that began at `startMs` (process time) and took `ms`; `count` and `detail` as the kind uses them. */
  note(kind: SpanKind, startMs: number, ms: number, count = 0, detail?: string): void {
    const slot = this.next;
    this.kinds[slot] = spanKinds.indexOf(kind);
    this.starts[slot] = startMs;
    this.durations[slot] = ms;
    this.counts[slot] = count;
    this.details[slot] = detail;
    this.next = (slot + 1) % spansMax;
    this.size = Math.min(this.size + 1, spansMax);
  }

  /** The spans that overlap [fromMs, toMs], summed per kind (kinds without any left out). */
  within(fromMs: number, toMs: number): Map<SpanKind, KindSummary> {
    const summaries = new Map<SpanKind, KindSummary>();
    for (let i = 0; i < this.size; i++) {
      const slot = (this.next - 1 - i + spansMax) % spansMax;
      const start = this.starts[slot]!;
      const end = start + this.durations[slot]!;
      if (end < fromMs || start > toMs) continue;
      const kind = spanKinds[this.kinds[slot]!]!;
      const inside = Math.min(end, toMs) - Math.max(start, fromMs);
      let summary = summaries.get(kind);
      if (summary === undefined) {
        summary = { count: 0, ms: 0, longestMs: -1, longestAtMs: 0, longestDetail: '' };
        summaries.set(kind, summary);
      }
      summary.count++;
      summary.ms += inside;
      if (inside > summary.longestMs) {
        summary.longestMs = inside;
        summary.longestAtMs = Math.max(0, start - fromMs);
        summary.longestDetail = describeSpan(kind, this.counts[slot]!, this.details[slot]);
      }
    }
    return summaries;
  }
}

function describeSpan(kind: SpanKind, count: number, detail: string | undefined): string {
  if (kind === 'pump' || kind === 'after-sync') return [`${count} entries applied`, detail ?? ''].filter((part) => part !== '').join(', ');
  return detail ?? '';
}

/** `summaries` in a few words for a log line: each kind's total, count and longest span, GC first. */
export function describeActivity(summaries: ReadonlyMap<SpanKind, KindSummary>): string {
  const gc = spanKinds.filter((kind) => kind.startsWith('gc-') && summaries.has(kind)).map((kind) => [kind, summaries.get(kind)!] as const);
  const parts: string[] = [];
  if (gc.length > 0) {
    const total = gc.reduce((sum, [, summary]) => sum + summary.ms, 0);
    parts.push(`GC ${Math.round(total)} ms (${gc.map(([kind, summary]) => `${summary.count} ${kind.slice(3)} ${Math.round(summary.ms)} ms, longest ${Math.round(summary.longestMs)} at +${Math.round(summary.longestAtMs)}`).join('; ')})`);
  }
  const labels: Readonly<Record<string, string>> = { pump: 'pumps', 'after-sync': "sync completions' turns", 'store-write': 'store writes (inside those)', 'rewrite-turn': "the db rewrite's encoding turns" };
  for (const kind of ['pump', 'after-sync', 'store-write', 'rewrite-turn'] as const) {
    const summary = summaries.get(kind);
    if (summary === undefined) continue;
    const longest = summary.longestDetail === '' ? '' : `: ${summary.longestDetail}`;
    parts.push(`${labels[kind]} ${Math.round(summary.ms)} ms in ${summary.count} (longest ${Math.round(summary.longestMs)} at +${Math.round(summary.longestAtMs)}${longest})`);
  }
  return parts.length === 0 ? 'no pump, write or GC in it' : parts.join('; ');
}

/** The GC pauses among `summaries` in a few words (`describeActivity`'s GC part), or that there were none. */
export function describeGc(summaries: ReadonlyMap<SpanKind, KindSummary>): string {
  const gc = new Map([...summaries].filter(([kind]) => kind.startsWith('gc-')));
  return gc.size === 0 ? 'no GC pause in it' : describeActivity(gc);
}
