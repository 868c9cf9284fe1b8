import { hexId } from '../config/memberIds.ts';
import { goDuration, type ServerLog } from './serverLog.ts';

/** etcd's thresholds (etcdserver/util.go warnApplyDuration, wal/wal.go warnSyncDuration). */
export const slowRequestMs = 100;
export const slowApplyMs = 100;
export const slowSyncMs = 1_000;

/** What a slow-work warning also counts (etcd's metrics of the same names). */
export interface SlowWorkCounters {
  /** etcd_server_heartbeat_send_failures_total */
  heartbeatSendFailure(): void;
  /** etcd_server_slow_apply_total */
  slowApply(): void;
}

/**
 * etcd's contention.TimeoutDetector for heartbeats: a leader expects to send each peer a
 * heartbeat within two heartbeat intervals of the last; one later than that means the member
 * could not keep up (etcdserver/raft.go processMessages). `observe` returns by how much the
 * interval was exceeded (0: on time). Reset when leadership changes.
 */
export class HeartbeatTimeouts {
  private readonly lastMs = new Map<number, number>();

  constructor(private readonly maxMs: number) {}

  observe(to: number, nowMs: number): number {
    const last = this.lastMs.get(to);
    this.lastMs.set(to, nowMs);
    if (last === undefined) return 0;
    const exceededMs = nowMs - last - this.maxMs;
    return exceededMs > 0 ? exceededMs : 0;
  }

  reset(): void {
    this.lastMs.clear();
  }
}

/** What a request was, in a few words for a log line: its method and key (printable, cut short). */
export interface RequestSummary {
  readonly readOnly: boolean;
  readonly text: string;
}

/**
 * The slow-work warnings etcd prints, with its thresholds, rate-limited by the log: a late
 * heartbeat ("failed to send out heartbeat on time … server is likely overloaded"), a slow WAL
 * fsync ("sync duration of …, expected less than 1s"), a request that took over 100 ms from its
 * arrival to its answer ("… took too long (…) to execute"), and a turn of the host loop over
 * 100 ms ("apply entries took too long"; in detcd a pump applies, persists and sends). Plus what
 * etcd does not print but a single-threaded member needs said: a stalled event loop (a tick that
 * came late), which holds every request and heartbeat of the member at once.
 */
export class SlowWork {
  private readonly heartbeats: HeartbeatTimeouts;

  constructor(
    private readonly log: ServerLog,
    private readonly counters: SlowWorkCounters,
    private readonly heartbeatMs: number,
  ) {
    this.heartbeats = new HeartbeatTimeouts(2 * heartbeatMs);
  }

  /** A heartbeat the leader sends now. */
  heartbeatSent(to: number, nowMs: number): void {
    const exceededMs = this.heartbeats.observe(to, nowMs);
    if (exceededMs === 0) return;
    this.counters.heartbeatSendFailure();
    if (this.log.warn('heartbeat', 'etcdserver', `failed to send out heartbeat on time (exceeded the ${goDuration(this.heartbeatMs)} timeout for ${goDuration(exceededMs)}, to ${hexId(to)})`)) {
      this.log.warn('overloaded', 'etcdserver', 'server is likely overloaded');
    }
  }

  /** Leadership changed: the heartbeat schedule starts afresh. */
  leadershipChanged(): void {
    this.heartbeats.reset();
  }

  /** A durable file's fsync took `ms` (etcd warns on the WAL's; detcd on the backend's too). */
  synced(file: string, ms: number): void {
    if (ms <= slowSyncMs) return;
    if (file === 'db') this.log.warn('slow-commit', 'backend', `commit sync duration of ${goDuration(ms)}, expected less than ${goDuration(slowSyncMs)}`);
    else this.log.warn('slow-fsync', 'wal', `sync duration of ${goDuration(ms)}, expected less than ${goDuration(slowSyncMs)}`);
  }

  /** A request answered `ms` after it arrived. */
  answered(request: RequestSummary, result: string, ms: number): void {
    if (ms <= slowRequestMs) return;
    const prefix = request.readOnly ? 'read-only range ' : '';
    this.log.warn('slow-request', 'etcdserver', `${prefix}request "${request.text}" with result "${result}" took too long (${goDuration(ms)}) to execute`);
  }

  /** One turn of the host loop: `ms` spent, `applied` entries applied in it, `what` it held (a few words). */
  pumped(ms: number, applied: number, what: string): void {
    if (ms <= slowApplyMs) return;
    this.counters.slowApply();
    this.log.warn('slow-apply', 'etcdserver', `apply entries took too long [${goDuration(ms)} for ${applied} entries${what === '' ? '' : `; ${what}`}]`);
  }

  /**
   * The store took `ms` to take one Ready's writes (encoding and CRC run on the loop; the file
   * writes are queued, not waited for): `what` says which writes, `spent` (when known) on what
   * the time went — the store's account, the process's CPU time, GC pauses inside.
   */
  wrote(ms: number, what: string, spent?: string): void {
    if (ms <= slowApplyMs) return;
    this.log.warn('slow-write', 'etcdserver', `writing a Ready took too long [${goDuration(ms)}: ${what}${spent === undefined ? '' : `; ${spent}`}]`);
  }

  /** A Ready's sync was done `ms` after the host asked for it (its replies and messages wait for it): a slow fsync, or writes it covers still being encoded. */
  readySynced(ms: number): void {
    if (ms <= slowApplyMs) return;
    this.log.warn('slow-sync', 'etcdserver', `syncing a Ready took too long [${goDuration(ms)}]`);
  }

  /** The event loop came back to a tick `lateMs` after it was due: nothing ran on this member meanwhile. */
  tickLate(lateMs: number): void {
    if (lateMs <= this.heartbeatMs) return;
    this.log.warn('loop-stall', 'etcdserver', `the event loop was blocked for ${goDuration(lateMs)} (a tick came that late; expected every ${goDuration(this.heartbeatMs)})`);
  }
}

/** At most this many characters of a key in a log line. */
const keyCharsMax = 64;

/** A key for a log line: printable ASCII as is, other bytes as \xNN, cut after `keyCharsMax` characters. */
export function printableKey(key: string): string {
  let text = '';
  let i = 0;
  for (; i < key.length && text.length < keyCharsMax; i++) {
    const code = key.charCodeAt(i);
    text += code >= 0x20 && code < 0x7f && code !== 0x22 && code !== 0x5c ? key[i] : `\\x${code.toString(16).padStart(2, '0')}`;
  }
  return i < key.length ? `${text}…(${key.length} bytes)` : text;
}
