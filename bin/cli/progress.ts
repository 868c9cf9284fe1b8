import cliProgress from 'cli-progress';

/**
 * Progress for a long command: a cli-progress bar on a terminal, and otherwise (CI logs, pipes)
 * a plain line every `intervalMs`, so a log shows the command is alive without flooding it.
 */
export interface Progress {
  /** Work done so far out of `total` (null when the total is unknown), and a one-line status. */
  update(done: number, total: number | null, status: string): void;
  /** Ends the bar (a terminal) or prints a last line (a log) when anything was shown. */
  stop(): void;
}

export function makeProgress(label: string, stream: NodeJS.WriteStream | undefined, intervalMs = 5_000): Progress {
  if (stream === undefined) return { update: () => undefined, stop: () => undefined };
  if (stream.isTTY === true) return terminalProgress(label, stream);
  return logProgress(label, (line) => void stream.write(`${line}\n`), intervalMs);
}

function terminalProgress(label: string, stream: NodeJS.WriteStream): Progress {
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(done, total, status) {
      if (bar === null) {
        bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total} | {status}`, stream, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
        bar.start(total ?? done + 1, done, { status });
      }
      if (total !== null) bar.setTotal(total);
      else if (done >= bar.getTotal()) bar.setTotal(done + 1);
      bar.update(done, { status });
    },
    stop() {
      bar?.stop();
    },
  };
}

/** Plain lines for logs: one at most every `intervalMs`, and the last state at the end. */
export function logProgress(label: string, write: (line: string) => void, intervalMs: number, now: () => number = () => performance.now()): Progress {
  const started = now();
  let lastAt = started;
  let last: string | null = null;
  let printed: string | null = null;
  const print = (): void => {
    printed = last;
    write(`${label}: ${last} (${((now() - started) / 1000).toFixed(0)} s)`);
  };
  return {
    update(done, total, status) {
      last = `${done}${total === null ? '' : `/${total}`} ${status}`;
      if (now() - lastAt < intervalMs) return;
      lastAt = now();
      print();
    },
    stop() {
      // Only a command that showed progress ends with its last state (a short one shows nothing).
      if (printed !== null && printed !== last) print();
    },
  };
}
