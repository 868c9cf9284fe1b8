/**
 * The server's operator log: etcd 3.4's capnslog lines (`W | etcdserver: …`, `I | raft: …`) on
 * the process's log sink (stderr, each line timestamped by the caller), filtered by `--log-level`.
 * Warnings about slow work are rate-limited per kind: an overloaded member warns about every
 * heartbeat and every slow request, and a storm of such lines on stderr would slow it further.
 */

/** etcd 3.4's `--log-level` values, least severe first. */
export const logLevels = ['debug', 'info', 'warn', 'error', 'panic', 'fatal'] as const;
export type LogLevel = (typeof logLevels)[number];

/** etcd 3.4's `--logger` values ('capnslog' is its default; detcd prints capnslog's layout for both). */
export const loggers = ['capnslog', 'zap'] as const;

const levelLetters: Readonly<Record<LogLevel, string>> = { debug: 'D', info: 'I', warn: 'W', error: 'E', panic: 'C', fatal: 'C' };

export interface ServerLogOptions {
  /** Where a finished line goes (the caller adds the timestamp). */
  readonly sink: (line: string) => void;
  readonly level: LogLevel;
  /** At most one line per warning kind per this many milliseconds; the next says how many were left out. */
  readonly warningIntervalMs?: number;
  /** Monotonic milliseconds (a test passes its own clock). */
  readonly now?: () => number;
}

interface KindState {
  lastMs: number;
  suppressed: number;
}

/** The default rate of each kind of warning: one a second, as many as an operator reads. */
const defaultWarningIntervalMs = 1_000;
/** Kinds tracked at most (kinds are a fixed vocabulary; the bound keeps a mistake from growing a map). */
const kindsMax = 64;

export class ServerLog {
  private readonly minimum: number;
  private readonly warningIntervalMs: number;
  private readonly now: () => number;
  private readonly kinds = new Map<string, KindState>();

  constructor(private readonly options: ServerLogOptions) {
    this.minimum = logLevels.indexOf(options.level);
    this.warningIntervalMs = options.warningIntervalMs ?? defaultWarningIntervalMs;
    this.now = options.now ?? (() => performance.now());
  }

  enabled(level: LogLevel): boolean {
    return logLevels.indexOf(level) >= this.minimum;
  }

  info(pkg: string, text: string): void {
    this.line('info', pkg, text);
  }

  /**
   * A warning of `kind` (a fixed name: 'heartbeat', 'slow-request', …): printed unless one of the
   * same kind was printed less than the interval ago; the next printed one says how many were
   * left out. Returns whether it was printed.
   */
  warn(kind: string, pkg: string, text: string): boolean {
    if (!this.enabled('warn')) return false;
    const now = this.now();
    let state = this.kinds.get(kind);
    if (state === undefined) {
      if (this.kinds.size >= kindsMax) this.kinds.clear();
      state = { lastMs: -Infinity, suppressed: 0 };
      this.kinds.set(kind, state);
    }
    if (now - state.lastMs < this.warningIntervalMs) {
      state.suppressed++;
      return false;
    }
    const left = state.suppressed;
    state.lastMs = now;
    state.suppressed = 0;
    this.line('warn', pkg, left === 0 ? text : `${text} (${left} similar warning${left === 1 ? '' : 's'} left out)`);
    return true;
  }

  /** A warning that is never left out (a diagnostic the operator turned on). */
  warnEvery(pkg: string, text: string): void {
    this.line('warn', pkg, text);
  }

  private line(level: LogLevel, pkg: string, text: string): void {
    if (!this.enabled(level)) return;
    this.options.sink(`${levelLetters[level]} | ${pkg}: ${text}`);
  }
}

/** A duration as etcd's Go `time.Duration` prints it, to the millisecond: 40ms, 1.234s. */
export function goDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms * 1_000) / 1_000}ms`;
  return `${Math.round(ms) / 1_000}s`;
}
