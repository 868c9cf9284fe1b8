/**
 * detcd's server flags: etcd 3.4's names, defaults and help (`etcd --help`), for the ones detcd
 * acts on. Each flag also reads from the environment as ETCD_<NAME> (upper snake case) and from
 * the YAML config file under its own name (TLS ones under client-/peer-transport-security).
 */
export type FlagKind = 'string' | 'bool' | 'uint' | 'urls';

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  readonly defaultValue: string;
  readonly help: string;
  /** Where the YAML config file keeps it, when not at the top level under `name`. */
  readonly yamlPath?: readonly [string, string];
}

const clientTls = (key: string): readonly [string, string] => ['client-transport-security', key];
const peerTls = (key: string): readonly [string, string] => ['peer-transport-security', key];

export const flagTable: readonly FlagSpec[] = [
  { name: 'config-file', kind: 'string', defaultValue: '', help: 'Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored.' },
  // member
  { name: 'name', kind: 'string', defaultValue: 'default', help: 'Human-readable name for this member.' },
  { name: 'data-dir', kind: 'string', defaultValue: '${name}.etcd', help: 'Path to the data directory.' },
  { name: 'wal-dir', kind: 'string', defaultValue: '', help: 'Path to the dedicated wal directory (not supported by detcd yet: must be empty).' },
  { name: 'snapshot-count', kind: 'uint', defaultValue: '100000', help: 'Number of committed transactions to trigger a snapshot to disk.' },
  { name: 'heartbeat-interval', kind: 'uint', defaultValue: '100', help: 'Time (in milliseconds) of a heartbeat interval.' },
  { name: 'election-timeout', kind: 'uint', defaultValue: '1000', help: 'Time (in milliseconds) for an election to timeout. See tuning documentation for details.' },
  { name: 'listen-peer-urls', kind: 'urls', defaultValue: 'http://localhost:2380', help: 'List of URLs to listen on for peer traffic.' },
  { name: 'listen-client-urls', kind: 'urls', defaultValue: 'http://localhost:2379', help: 'List of URLs to listen on for client traffic.' },
  { name: 'listen-metrics-urls', kind: 'urls', defaultValue: '', help: 'List of URLs to listen on for the metrics and health endpoints.' },
  { name: 'max-snapshots', kind: 'uint', defaultValue: '5', help: 'Maximum number of snapshot files to retain (0 is unlimited).' },
  { name: 'max-wals', kind: 'uint', defaultValue: '5', help: 'Maximum number of wal files to retain (0 is unlimited).' },
  { name: 'quota-backend-bytes', kind: 'uint', defaultValue: '0', help: 'Raise alarms when backend size exceeds the given quota (0 defaults to low space quota).' },
  { name: 'max-txn-ops', kind: 'uint', defaultValue: '128', help: 'Maximum number of operations permitted in a transaction.' },
  { name: 'max-request-bytes', kind: 'uint', defaultValue: '1572864', help: 'Maximum client request size in bytes the server will accept.' },
  { name: 'pre-vote', kind: 'bool', defaultValue: 'false', help: 'Enable to run an additional Raft election phase.' },
  // logging
  { name: 'logger', kind: 'string', defaultValue: 'capnslog', help: "Specify 'zap' for structured logging or 'capnslog'. (detcd prints capnslog's layout for both.)" },
  { name: 'log-level', kind: 'string', defaultValue: 'info', help: 'Configures log level. Only supports debug, info, warn, error, panic, or fatal. Default \'info\'.' },
  // clustering
  { name: 'initial-advertise-peer-urls', kind: 'urls', defaultValue: 'http://localhost:2380', help: "List of this member's peer URLs to advertise to the rest of the cluster." },
  { name: 'initial-cluster', kind: 'string', defaultValue: 'default=http://localhost:2380', help: 'Initial cluster configuration for bootstrapping.' },
  { name: 'initial-cluster-state', kind: 'string', defaultValue: 'new', help: "Initial cluster state ('new' or 'existing')." },
  { name: 'initial-cluster-token', kind: 'string', defaultValue: 'etcd-cluster', help: 'Initial cluster token for the etcd cluster during bootstrap. Specifying this can protect you from unintended cross-cluster interaction when running multiple clusters.' },
  { name: 'advertise-client-urls', kind: 'urls', defaultValue: 'http://localhost:2379', help: "List of this member's client URLs to advertise to the public. The client URLs advertised should be accessible to machines that talk to etcd cluster. etcd client libraries parse these URLs to connect to the cluster." },
  { name: 'strict-reconfig-check', kind: 'bool', defaultValue: 'true', help: 'Reject reconfiguration requests that would cause quorum loss.' },
  // security
  { name: 'cert-file', kind: 'string', defaultValue: '', help: 'Path to the client server TLS cert file.', yamlPath: clientTls('cert-file') },
  { name: 'key-file', kind: 'string', defaultValue: '', help: 'Path to the client server TLS key file.', yamlPath: clientTls('key-file') },
  { name: 'client-cert-auth', kind: 'bool', defaultValue: 'false', help: 'Enable client cert authentication.', yamlPath: clientTls('client-cert-auth') },
  { name: 'trusted-ca-file', kind: 'string', defaultValue: '', help: 'Path to the client server TLS trusted CA file.', yamlPath: clientTls('trusted-ca-file') },
  { name: 'peer-cert-file', kind: 'string', defaultValue: '', help: 'Path to the peer server TLS cert file.', yamlPath: peerTls('cert-file') },
  { name: 'peer-key-file', kind: 'string', defaultValue: '', help: 'Path to the peer server TLS key file.', yamlPath: peerTls('key-file') },
  { name: 'peer-client-cert-auth', kind: 'bool', defaultValue: 'false', help: 'Enable peer client cert authentication.', yamlPath: peerTls('client-cert-auth') },
  { name: 'peer-trusted-ca-file', kind: 'string', defaultValue: '', help: 'Path to the peer server TLS trusted CA file.', yamlPath: peerTls('trusted-ca-file') },
];

/** etcd's FlagToEnv: ETCD_ + the name in upper case with dashes as underscores. */
export function flagToEnv(name: string): string {
  return `ETCD_${name.toUpperCase().replace(/-/g, '_')}`;
}
