import { isIP } from 'node:net';
import { hostOf } from '../listen.ts';
import { ConfigError, type Settings } from './settings.ts';
import { clusterId, memberId } from './memberIds.ts';
import { type LogLevel, logLevels, loggers } from '../log/serverLog.ts';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly clientCertAuth: boolean;
}

export interface InitialMember {
  readonly name: string;
  readonly id: number;
  readonly peerUrls: readonly URL[];
}

/** What a detcd server runs with, validated. Times in milliseconds, sizes in bytes. */
export interface ServerConfig {
  readonly name: string;
  readonly dataDir: string;
  readonly snapshotCount: number;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  /** Raft's election timeout in ticks of one heartbeat interval (etcd: election / heartbeat). */
  readonly electionTicks: number;
  readonly preVote: boolean;
  readonly listenPeerUrls: readonly URL[];
  readonly listenClientUrls: readonly URL[];
  readonly listenMetricsUrls: readonly URL[];
  readonly advertiseClientUrls: readonly URL[];
  readonly initialAdvertisePeerUrls: readonly URL[];
  readonly initialCluster: readonly InitialMember[];
  readonly clusterState: 'new' | 'existing';
  readonly clusterToken: string;
  readonly memberId: number;
  readonly clusterId: number;
  readonly quotaBackendBytes: number;
  readonly maxTxnOps: number;
  readonly maxRequestBytes: number;
  readonly strictReconfigCheck: boolean;
  readonly clientTls: TlsFiles | null;
  readonly peerTls: TlsFiles | null;
  /** --log-level: the least severe log lines printed. */
  readonly logLevel: LogLevel;
  /**
   * Commits between the backend's whole-file rewrites; absent: the member's default (1,000). Not
   * an etcd flag: tests set it through DETCD_BACKEND_FILE_COMMITS_MAX (backendFileCommitsMax).
   */
  readonly backendFileCommitsMax?: number;
  /**
   * Keys a DeleteRange deletes per turn of the member's loop (0: all in one turn); absent: the
   * member's default (see runtime/protocols/etcd.ts). Not an etcd flag: DETCD_APPLY_SLICE_KEYS.
   */
  readonly applySliceKeys?: number;
  /**
   * The most bytes of a lone durable WAL append written synchronously on the event loop
   * (FileStoreOptions.walWriteOnLoopBytes; 0: never, main's behaviour before syncwrite); absent:
   * the store's default (16 KiB). Not an etcd flag: DETCD_WAL_WRITE_ON_LOOP_BYTES, a bench knob.
   */
  readonly walWriteOnLoopBytes?: number;
}

/** The most commits DETCD_BACKEND_FILE_COMMITS_MAX may ask for between two rewrites. */
const backendFileCommitsLimit = 1_000_000;

/**
 * The rewrite interval DETCD_BACKEND_FILE_COMMITS_MAX asks for (a test knob, so end-to-end tests
 * reach the rewrite in a few dozen commits), or undefined when unset. A value that is not a whole
 * number from 1 to 1,000,000 is refused.
 */
export function backendFileCommitsMax(env: NodeJS.ProcessEnv): number | undefined {
  return wholeNumberSetting(env, 'DETCD_BACKEND_FILE_COMMITS_MAX', 1, backendFileCommitsLimit);
}

/**
 * The keys per apply slice DETCD_APPLY_SLICE_KEYS asks for (a bench knob: 0 applies a range delete
 * in one turn, as before), or undefined when unset; whole numbers from 0 to 1,000,000.
 */
export function applySliceKeys(env: NodeJS.ProcessEnv): number | undefined {
  return wholeNumberSetting(env, 'DETCD_APPLY_SLICE_KEYS', 0, 1_000_000);
}

/**
 * The bytes DETCD_WAL_WRITE_ON_LOOP_BYTES asks for (a bench knob: the largest lone durable WAL
 * append written on the event loop, 0 for none), or undefined when unset; 0 to 1 MiB.
 */
export function walWriteOnLoopBytes(env: NodeJS.ProcessEnv): number | undefined {
  return wholeNumberSetting(env, 'DETCD_WAL_WRITE_ON_LOOP_BYTES', 0, 1024 * 1024);
}

function wholeNumberSetting(env: NodeJS.ProcessEnv, name: string, least: number, most: number): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value) || value < least || value > most) {
    throw new ConfigError(`${name}=${text} is not a whole number from ${least} to ${most}`);
  }
  return value;
}

/** etcd's limit on --election-timeout (embed.maxElectionMs). */
const maxElectionMs = 50_000;

/** etcd's types.NewURLs: http(s) (unix sockets are not supported by detcd), host:port, no path. */
export function parseUrls(text: string, flag: string): URL[] {
  if (text.trim() === '') return [];
  return text.split(',').map((item) => {
    const raw = item.trim();
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(`invalid value "${text}" for flag -${flag}: parse ${raw}: invalid URI for request`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`invalid value "${text}" for flag -${flag}: URL scheme must be http or https: ${raw}`);
    if (url.port === '') throw new ConfigError(`invalid value "${text}" for flag -${flag}: URL address does not have the form "host:port": ${raw}`);
    if (url.pathname !== '/' && url.pathname !== '') throw new ConfigError(`invalid value "${text}" for flag -${flag}: URL must not contain a path: ${raw}`);
    return url;
  });
}

/** An initial cluster `name=url,name=url`: etcd's types.NewURLsMap. */
export function parseInitialCluster(text: string): Map<string, URL[]> {
  const members = new Map<string, URL[]>();
  for (const pair of text.split(',')) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new ConfigError(`error verifying flags, --initial-cluster: "${pair}" is not of the form name=url`);
    const name = pair.slice(0, equals).trim();
    const urls = parseUrls(pair.slice(equals + 1), 'initial-cluster');
    members.set(name, [...(members.get(name) ?? []), ...urls]);
  }
  return members;
}

function urlStrings(urls: readonly URL[]): string[] {
  return urls.map((url) => url.toString().replace(/\/$/, ''));
}

function checkBindUrls(urls: readonly URL[]): void {
  for (const url of urls) {
    const host = hostOf(url);
    if (host !== 'localhost' && isIP(host) === 0) throw new ConfigError(`expected IP in URL for binding (${url.toString().replace(/\/$/, '')})`);
  }
}

const truthy = (value: string | undefined): boolean => value !== undefined && /^(1|t|T|true|TRUE|True)$/.test(value);

function tlsFiles(values: ReadonlyMap<string, string>, prefix: '' | 'peer-'): TlsFiles | null {
  const certFile = values.get(`${prefix}cert-file`)!;
  const keyFile = values.get(`${prefix}key-file`)!;
  const trustedCaFile = values.get(`${prefix}trusted-ca-file`)!;
  // Go's strconv.ParseBool: 1, t, T, TRUE, true and True all enable it (as ETCD_CLIENT_CERT_AUTH=1 must).
  const clientCertAuth = truthy(values.get(`${prefix}client-cert-auth`));
  if (certFile === '' && keyFile === '') {
    if (clientCertAuth || trustedCaFile !== '') throw new ConfigError(`--${prefix}client-cert-auth and --${prefix}trusted-ca-file need --${prefix}cert-file and --${prefix}key-file`);
    return null;
  }
  if (certFile === '' || keyFile === '') throw new ConfigError(`--${prefix}cert-file and --${prefix}key-file must be given together`);
  if (clientCertAuth && trustedCaFile === '') throw new ConfigError(`--${prefix}client-cert-auth needs --${prefix}trusted-ca-file`);
  return { certFile, keyFile, trustedCaFile, clientCertAuth };
}

/** Validates settings into a server configuration, with etcd 3.4's checks and words. */
export function serverConfig(settings: Settings): ServerConfig {
  const values = settings.values;
  const get = (name: string): string => values.get(name)!;
  const number = (name: string): number => Number(get(name));
  const name = get('name');
  if (get('wal-dir') !== '') throw new ConfigError('--wal-dir is not supported by detcd yet (the WAL lives in <data-dir>/member/wal)');
  // A flag with a fixed set of values: one of them, or etcd's refusal naming them all.
  const oneOf = <T extends string>(flag: string, allowed: readonly T[]): T => {
    const value = get(flag);
    if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(`invalid value "${value}" for flag -${flag}: valid values are ${allowed.join(', ')}`);
    return value as T;
  };
  const state = oneOf('initial-cluster-state', ['new', 'existing'] as const);
  const listenPeerUrls = parseUrls(get('listen-peer-urls'), 'listen-peer-urls');
  const listenClientUrls = parseUrls(get('listen-client-urls'), 'listen-client-urls');
  const listenMetricsUrls = parseUrls(get('listen-metrics-urls'), 'listen-metrics-urls');
  const initialAdvertisePeerUrls = parseUrls(get('initial-advertise-peer-urls'), 'initial-advertise-peer-urls');
  let advertiseClientUrls = parseUrls(get('advertise-client-urls'), 'advertise-client-urls');
  checkBindUrls(listenPeerUrls);
  checkBindUrls(listenClientUrls);
  checkBindUrls(listenMetricsUrls);
  const heartbeatMs = number('heartbeat-interval');
  const electionMs = number('election-timeout');
  if (heartbeatMs <= 0) throw new ConfigError(`--heartbeat-interval must be >0 (set to ${heartbeatMs}ms)`);
  if (electionMs <= 0) throw new ConfigError(`--election-timeout must be >0 (set to ${electionMs}ms)`);
  if (5 * heartbeatMs > electionMs) throw new ConfigError(`--election-timeout[${electionMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatMs}ms]`);
  if (electionMs > maxElectionMs) throw new ConfigError(`--election-timeout[${electionMs}ms] is too long, and should be set less than ${maxElectionMs}ms`);
  // etcd drops the default advertise URL when the listen URL was set explicitly.
  if (settings.sources.get('listen-client-urls') !== 'default' && settings.sources.get('advertise-client-urls') === 'default') advertiseClientUrls = [];
  if (listenClientUrls.length > 0 && advertiseClientUrls.length === 0) throw new ConfigError('--advertise-client-urls is required when --listen-client-urls is set explicitly');

  const clusterText = settings.sources.get('initial-cluster') === 'default' ? `${name}=${urlStrings(initialAdvertisePeerUrls).join(`,${name}=`)}` : get('initial-cluster');
  const clusterMap = parseInitialCluster(clusterText);
  const ownUrls = clusterMap.get(name);
  if (ownUrls === undefined) throw new ConfigError(`couldn't find local name "${name}" in the initial cluster configuration`);
  const own = urlStrings(ownUrls).sort();
  const advertised = urlStrings(initialAdvertisePeerUrls).sort();
  if (state === 'new' && own.join(',') !== advertised.join(',')) {
    throw new ConfigError(`--initial-cluster has ${name}=${own.join(',')} but missing from --initial-advertise-peer-urls=${advertised.join(',')}`);
  }
  const seen = new Set<string>();
  for (const url of [...clusterMap.values()].flat().map(String)) {
    if (seen.has(url)) throw new ConfigError(`initial cluster ${clusterText} has duplicate url`);
    seen.add(url);
  }
  const token = get('initial-cluster-token');
  const initialCluster: InitialMember[] = [...clusterMap].map(([memberName, urls]) => ({ name: memberName, id: memberId(urlStrings(urls), token), peerUrls: urls }));
  const clientTls = tlsFiles(values, '');
  const peerTls = tlsFiles(values, 'peer-');
  for (const url of [...listenClientUrls, ...listenMetricsUrls]) {
    if (url.protocol === 'https:' && clientTls === null) throw new ConfigError(`TLS key/cert (--cert-file, --key-file) must be provided for client url ${urlStrings([url])[0]} with HTTPS scheme`);
  }
  for (const url of listenPeerUrls) {
    if (url.protocol === 'https:' && peerTls === null) throw new ConfigError(`TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url ${urlStrings([url])[0]} with HTTPS scheme`);
  }
  const logLevel = oneOf('log-level', logLevels);
  oneOf('logger', loggers);
  const dataDir = get('data-dir') === '${name}.etcd' ? `${name}.etcd` : get('data-dir');
  return {
    name,
    dataDir,
    snapshotCount: number('snapshot-count'),
    heartbeatMs,
    electionMs,
    electionTicks: Math.floor(electionMs / heartbeatMs),
    preVote: truthy(get('pre-vote')),
    listenPeerUrls,
    listenClientUrls,
    listenMetricsUrls,
    advertiseClientUrls,
    initialAdvertisePeerUrls,
    initialCluster,
    clusterState: state,
    clusterToken: token,
    memberId: initialCluster.find((member) => member.name === name)!.id,
    clusterId: clusterId(initialCluster.map((member) => member.id)),
    quotaBackendBytes: number('quota-backend-bytes'),
    maxTxnOps: number('max-txn-ops'),
    maxRequestBytes: number('max-request-bytes'),
    strictReconfigCheck: truthy(get('strict-reconfig-check')),
    clientTls,
    peerTls,
    logLevel,
  };
}
