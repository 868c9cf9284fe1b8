/**
 * Where Raft explains itself: elections, votes, step-downs, conf changes. Optional: a node without
 * a logger does not even build the strings (every call site is `logger?.info(...)`). The
 * interaction tests print these lines beneath each command, as etcd-io/raft's do.
 */
export interface RaftLogger {
  debug(text: string): void;
  info(text: string): void;
  warn(text: string): void;
}
