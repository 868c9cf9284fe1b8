import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdClient } from './etcdClient.ts';
import { scratchFolder } from './scratch.ts';

const detcd = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'detcd');

/** Free loopback ports (bound once and released: a race with other processes is possible but rare). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export interface MemberSpec {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
}

/** A detcd process and what it printed. */
export interface Member {
  readonly spec: MemberSpec;
  readonly process: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function initialCluster(specs: readonly MemberSpec[]): string {
  return specs.map((spec) => `${spec.name}=http://127.0.0.1:${spec.peerPort}`).join(',');
}

/**
 * Starts a member with etcd's flags: detcd by default, or another program that takes them (real
 * etcd, for benchmarks side by side).
 */
export function startMember(spec: MemberSpec, cluster: string, extra: readonly string[] = [], program: readonly string[] = [process.execPath, detcd], env?: NodeJS.ProcessEnv): Member {
  const args = [
    '--name', spec.name,
    '--data-dir', spec.dataDir,
    '--listen-client-urls', `http://127.0.0.1:${spec.clientPort}`,
    '--advertise-client-urls', `http://127.0.0.1:${spec.clientPort}`,
    '--listen-peer-urls', `http://127.0.0.1:${spec.peerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${spec.peerPort}`,
    '--initial-cluster', cluster,
    '--initial-cluster-token', 'detcd-test',
    ...extra,
  ];
  const child = spawn(program[0]!, [...program.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(env === undefined ? {} : { env: { ...process.env, ...env } }) });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { spec, process: child, output, exited };
}

/**
 * Starts a member as etcd's documentation does after `etcdctl member add`: the ETCD_* lines that
 * command printed become the environment (name, initial cluster and state), the URLs to listen on
 * and the data dir are flags. detcd derives member ids from the cluster token as etcd does; a
 * joining etcd member learns its id from the cluster instead, so detcd needs the token given.
 */
export function startFromMemberAdd(spec: MemberSpec, printed: string, token = 'detcd-test'): Member {
  const variables = Object.fromEntries([...printed.matchAll(/^(ETCD_[A-Z_]+)="(.*)"$/gm)].map((match) => [match[1]!, match[2]!]));
  const args = [
    '--data-dir', spec.dataDir,
    '--listen-client-urls', `http://127.0.0.1:${spec.clientPort}`,
    '--advertise-client-urls', `http://127.0.0.1:${spec.clientPort}`,
    '--listen-peer-urls', `http://127.0.0.1:${spec.peerPort}`,
    '--initial-cluster-token', token,
    '--pre-vote',
  ];
  const child = spawn(process.execPath, [detcd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...variables } });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { spec, process: child, output, exited };
}

/**
 * Polls `condition` until it holds. The default bound is generous: these tests start real
 * processes, and on a machine shared with other test runs a start (tsx compiling the sources) or an
 * election can take many seconds.
 */
export async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function getJson(url: string, timeoutMs = 2_000): Promise<{ status: number; body: unknown } | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, body: await response.json() };
  } catch {
    return null;
  }
}

/** Whether a member answers /health with 200: it has a leader and a linearizable read went through. */
export async function isHealthy(spec: MemberSpec): Promise<boolean> {
  return (await getJson(`http://127.0.0.1:${spec.clientPort}/health`, 3_000))?.status === 200;
}

/** A member's gRPC endpoint (host:port), as etcd's clients take it. */
export function endpoint(spec: MemberSpec): string {
  return `127.0.0.1:${spec.clientPort}`;
}

/** Whether a member says it leads (etcd_server_is_leader). */
export async function isLeader(spec: MemberSpec): Promise<boolean> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${spec.clientPort}/metrics`, { signal: AbortSignal.timeout(1_000) })).text();
    return /^etcd_server_is_leader 1$/m.test(text);
  } catch {
    return false;
  }
}

/**
 * A one-member cluster in a fresh data dir (`prefix`), a client for it, a restart (same flags and
 * environment, and a fresh client: the old one's channel may still be in its reconnect backoff)
 * and a teardown that kills the member and removes the data dir.
 */
export async function soloMember(t: { teardown(fn: () => void): void }, prefix: string, flags: readonly string[] = [], env?: NodeJS.ProcessEnv) {
  // A scratch folder: removed by the teardown, or with the test process when a signal ends it first.
  const dataDir = scratchFolder(prefix);
  const [clientPort, peerPort] = await freePorts(2);
  const spec = { name: 'solo', clientPort: clientPort!, peerPort: peerPort!, dataDir };
  const cluster = `solo=http://127.0.0.1:${peerPort}`;
  const start = () => startMember(spec, cluster, ['--pre-vote', ...flags], undefined, env);
  const world = {
    spec,
    dataDir,
    client: new EtcdClient(endpoint(spec)),
    member: start(),
    restart: (): Member => {
      world.client.close();
      world.client = new EtcdClient(endpoint(spec));
      return (world.member = start());
    },
  };
  t.teardown(() => {
    world.client.close();
    world.member.process.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  await until(() => isHealthy(spec), 'the member to serve');
  return world;
}
