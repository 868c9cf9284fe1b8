import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdClient } from '../_test/etcdClient.ts';
import { endpoint, freePorts, initialCluster, isHealthy, type Member, type MemberSpec, startFromMemberAdd, startMember, until } from '../_test/members.ts';
import { normalize, type NormalizeOptions } from './normalize.ts';
import { readReference, type ReferenceBlock } from './reference.ts';
import { scratchFolder } from '../_test/scratch.ts';

/**
 * etcdctl 3.4 against detcd, compared with what it printed against real etcd 3.4.23
 * (etcdctl-3.4-outputs.md): the same commands, in the same order, on a one-member cluster
 * ("single") and a three-member one ("infra1..3"), their output normalised (ids, revisions,
 * terms, times, sizes and hashes become placeholders; see normalize.ts) and required equal,
 * exit codes included. Then what the reference has no block for: members added (a voter and a
 * learner, started from the ETCD_* lines `member add` prints), promoted and removed, a leader
 * moved, alarms listed, `check perf` run.
 */
const haveEtcdctl = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;
const etcdctlTest = haveEtcdctl ? test : test.skip;
if (!haveEtcdctl) console.error('runtime/compat/etcdctl.test.ts: etcdctl is not installed (apt-get install -y etcd-client); skipped');

/** Where the reference's servers listened. */
const referencePorts = { single: { client: 2379, peer: 2380 }, infra1: { client: 12379, peer: 12380 }, infra2: { client: 22379, peer: 22380 }, infra3: { client: 32379, peer: 32380 } } as const;

/** Blocks that need what detcd does not serve, by section or command, and why. */
const notServed: readonly { readonly section?: RegExp; readonly command?: RegExp; readonly why: string }[] = [
  { command: /^etcdctl snapshot (status|restore)|^rm -rf <dir>\/restored|^ls -R/, why: "a detcd snapshot is detcd's backend image, not a bbolt file: etcdctl's offline snapshot commands read bbolt files" },
  { command: /127\.0\.0\.1:4379/, why: 'the v2 API (--enable-v2) is not served by detcd' },
  { command: /\/v3\/kv\/range/, why: "etcd's JSON gateway (grpc-gateway) is not served by detcd" },
];

function whyNotServed(block: ReferenceBlock): string | null {
  return notServed.find((entry) => (entry.section?.test(block.section) ?? false) || (entry.command?.test(block.command) ?? false))?.why ?? null;
}

/** How a block's output is compared beyond the common rules. */
function optionsFor(block: ReferenceBlock): NormalizeOptions {
  const command = block.command;
  const several = command.includes('12379,') || command.includes('--cluster');
  const json = command.includes('-w json');
  if (/endpoint health/.test(command) && several) return json ? { sortJsonArrays: true } : { sortLines: true };
  if (/member list/.test(command) && several) return json ? { sortJsonArrays: true } : { sortLines: true };
  if (/endpoint (status|hashkv)/.test(command) && !json) return { numbers: true, sortLines: several, leader: several };
  if (/endpoint status/.test(command) && several) return { sortJsonArrays: true };
  return {};
}

/** The store revision last printed by each server (a JSON header's), so commands naming revisions can be shifted. */
class RevisionTracker {
  reference = 0;
  ours = 0;

  note(referenceOutput: string, ourOutput: string): void {
    const revision = (text: string) => /"header":\{[^}]*"revision":(\d+)/.exec(text)?.[1];
    const theirs = revision(referenceOutput);
    const mine = revision(ourOutput);
    if (theirs !== undefined && mine !== undefined) {
      this.reference = Number(theirs);
      this.ours = Number(mine);
    }
  }
}

/** Lease ids the reference's `lease grant` printed, and the ones detcd granted in the same block: commands name ours. */
class LeaseIds {
  private readonly ours = new Map<string, string>();

  note(command: string, referenceOutput: string, ourOutput: string): void {
    if (!/\blease grant\b/.test(command)) return;
    const granted = (text: string) => {
      const hex = /^lease ([0-9a-f]+) granted/m.exec(text)?.[1];
      if (hex !== undefined) return hex;
      const decimal = /"ID":(\d+)/.exec(text)?.[1];
      return decimal === undefined ? undefined : BigInt(decimal).toString(16).padStart(16, '0');
    };
    const theirs = granted(referenceOutput);
    const mine = granted(ourOutput);
    if (theirs !== undefined && mine !== undefined) this.ours.set(theirs, mine);
  }

  inCommand(command: string): string {
    return command.replace(/\b[0-9a-f]{16}\b/g, (id) => this.ours.get(id) ?? id);
  }
}

interface Cluster {
  readonly specs: MemberSpec[];
  readonly members: Member[];
}

async function shell(command: string, env: NodeJS.ProcessEnv): Promise<{ output: string; exitCode: number }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', `${command} 2>&1`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ output, exitCode: code ?? -1 }));
  });
}

interface Beyond {
  readonly infra: Cluster;
  readonly extra: Member[];
  readonly ports: readonly number[];
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
}

/** etcdctl 3.4's wording where the reference has no block (etcdctl/ctlv3/command/printer_simple.go). */
async function beyondTheReference(t: ExecutionContext, { infra, extra, ports, root, env }: Beyond): Promise<void> {
  const endpoints = infra.specs.map(endpoint).join(',');
  const etcdctl = async (args: string) => shell(`etcdctl --endpoints=${endpoints} ${args}`, env);
  // etcdctl prints ids with %16x: etcd's fill the 16 places, detcd's 53-bit ones are padded with spaces.
  const id = ' *[0-9a-f]+';
  // A voter added, started from the ETCD_* lines `member add` prints, and healthy in the cluster.
  const fourth: MemberSpec = { name: 'infra4', clientPort: ports[8]!, peerPort: ports[9]!, dataDir: join(root, 'infra4') };
  const added = await etcdctl(`member add infra4 --peer-urls=http://127.0.0.1:${fourth.peerPort}`);
  t.regex(added.output, new RegExp(`^Member ${id} added to cluster ${id}\n\nETCD_NAME="infra4"\nETCD_INITIAL_CLUSTER="(infra\\d=http://127\\.0\\.0\\.1:\\d+,?){4}"\nETCD_INITIAL_ADVERTISE_PEER_URLS="http://127\\.0\\.0\\.1:${fourth.peerPort}"\nETCD_INITIAL_CLUSTER_STATE="existing"\n$`));
  extra.push(startFromMemberAdd(fourth, added.output));
  await until(() => isHealthy(fourth), 'the added member to be healthy');
  await until(async () => (await etcdctl('member list')).output.split('\n').filter((line) => /, started, infra\d, /.test(line)).length === 4, 'four started members');
  // A learner added, started, promoted once it has caught up.
  const fifth: MemberSpec = { name: 'infra5', clientPort: ports[10]!, peerPort: ports[11]!, dataDir: join(root, 'infra5') };
  // Until the leader has heard from the new voter for 5 s the cluster refuses ("unhealthy cluster"), as etcd does.
  let learner = { output: '', exitCode: -1 };
  await until(async () => (learner = await etcdctl(`member add infra5 --learner --peer-urls=http://127.0.0.1:${fifth.peerPort}`)).exitCode === 0 || !learner.output.includes('unhealthy cluster'), 'the cluster to take a learner');
  t.regex(learner.output, new RegExp(`^Member ${id} added to cluster ${id}\n`));
  const learnerId = /^Member +([0-9a-f]+)/.exec(learner.output)![1]!;
  t.regex((await etcdctl('member list')).output, new RegExp(`^${learnerId}, unstarted, , http://127\\.0\\.0\\.1:${fifth.peerPort}, , true$`, 'm'));
  extra.push(startFromMemberAdd(fifth, learner.output));
  let promoted = { output: '', exitCode: -1 };
  await until(async () => (promoted = await etcdctl(`member promote ${learnerId}`)).exitCode === 0, 'the learner to be promoted', 60_000);
  t.regex(promoted.output, new RegExp(`^Member +${learnerId} promoted in cluster ${id}\n$`));
  // Both removed again.
  const fourthId = /^Member +([0-9a-f]+)/.exec(added.output)![1]!;
  for (const [index, member, memberId] of [[0, fourth, fourthId], [1, fifth, learnerId]] as const) {
    const removed = await etcdctl(`member remove ${memberId}`);
    t.is(removed.exitCode, 0, removed.output);
    t.regex(removed.output, new RegExp(`^Member +${memberId} removed from cluster ${id}\n$`));
    // etcd exits once it has applied its own removal; so does detcd (exit code 0).
    const exited = await Promise.race([extra[index]!.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 30_000))]);
    t.deepEqual(exited, { code: 0, signal: null }, `${member.name} stops once removed`);
  }
  // Leadership moved to a follower (etcdctl finds the leader among --endpoints), the endpoints given
  // with their scheme (etcdctl sends each as HTTP/2's :authority, which detcd's client port mends).
  const withScheme = infra.specs.map((spec) => `http://${endpoint(spec)}`).join(',');
  const status = (await shell(`etcdctl --endpoints=${withScheme} endpoint status`, env)).output.split('\n').filter((line) => line !== '').map((line) => line.split(', '));
  const leader = status.find((row) => row[4] === 'true')!;
  const follower = status.find((row) => row[4] === 'false')!;
  const moved = await shell(`etcdctl --endpoints=${withScheme} move-leader ${follower[1]}`, env);
  t.is(moved.output, `Leadership transferred from ${leader[1]} to ${follower[1]}\n`);
  // No alarm raised: nothing listed.
  t.deepEqual(await etcdctl('alarm list'), { output: '', exitCode: 0 });
  // etcd 3.4's Alarm answer has no header: JSON prints an empty object (etcd 3.4.23 prints `{}`).
  t.deepEqual(await etcdctl('alarm list -w json'), { output: '{}\n', exitCode: 0 });
}

etcdctlTest('etcdctl 3.4 prints for detcd what it prints for etcd 3.4.23, block by block, with exit codes; members are added, promoted and removed, leadership moved', async (t) => {
  const root = scratchFolder('detcd-compat-');
  const ports = await freePorts(12);
  const spec = (name: keyof typeof referencePorts, i: number): MemberSpec => ({ name, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]!, dataDir: join(root, name) });
  const single: Cluster = { specs: [spec('single', 0)], members: [] };
  const infra: Cluster = { specs: [spec('infra1', 1), spec('infra2', 2), spec('infra3', 3)], members: [] };
  const extra: Member[] = [];
  for (const cluster of [single, infra]) for (const member of cluster.specs) cluster.members.push(startMember(member, initialCluster(cluster.specs), ['--pre-vote']));
  t.teardown(() => {
    for (const member of [...single.members, ...infra.members, ...extra]) member.process.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });
  const all = [...single.specs, ...infra.specs];
  // Our ports in commands for the reference's, and the reference's back in what is printed.
  const toOurs = (text: string) => {
    let out = text.replaceAll('<dir>', root);
    for (const member of all) out = out.replaceAll(`127.0.0.1:${referencePorts[member.name as keyof typeof referencePorts].client}`, endpoint(member));
    return out;
  };
  const toReference = (text: string) => {
    let out = text.replaceAll(root, '<dir>');
    for (const member of all) {
      const reference = referencePorts[member.name as keyof typeof referencePorts];
      out = out.replaceAll(`127.0.0.1:${member.clientPort}`, `127.0.0.1:${reference.client}`).replaceAll(`127.0.0.1:${member.peerPort}`, `127.0.0.1:${reference.peer}`);
    }
    return out;
  };
  const env = { ...process.env };
  delete env.ETCDCTL_API;
  try {
    // Every member healthy and published (etcd lists a member's client URLs once it has started).
    await until(async () => (await Promise.all(all.map(isHealthy))).every(Boolean), 'every member to be healthy');
    for (const cluster of [single, infra]) {
      const client = new EtcdClient(endpoint(cluster.specs[0]!));
      await until(async () => ((await client.memberList()).members as { clientURLs: string[] }[]).every((member) => member.clientURLs.length > 0), 'every member to publish its client URLs');
      client.close();
    }

    const revisions = new RevisionTracker();
    const leases = new LeaseIds();
    const mismatches: string[] = [];
    const skipped: string[] = [];
    let compared = 0;
    for (const block of readReference()) {
      const why = whyNotServed(block);
      if (why !== null) {
        skipped.push(`${block.command.slice(0, 80)} — ${why}`);
        continue;
      }
      // Revisions in commands (compaction) follow each store: shift them by the difference.
      const command = leases.inCommand(toOurs(block.command)).replace(/\b(compaction (?:--physical )?)(\d+)\b/, (_, verb: string, revision: string) => `${verb}${Number(revision) + revisions.ours - revisions.reference}`);
      const { output, exitCode } = await shell(command, env);
      revisions.note(block.output, output);
      leases.note(block.command, block.output, output);
      const options = optionsFor(block);
      const expected = normalize(block.output, options);
      const actual = normalize(toReference(output), options);
      compared++;
      if (actual !== expected || exitCode !== block.exitCode) {
        mismatches.push(`$ ${block.command}\n--- etcd (exit ${block.exitCode})\n${expected}--- detcd (exit ${exitCode})\n${actual}`);
      }
    }
    t.log(`${compared} blocks compared, ${skipped.length} not served:\n  ${skipped.join('\n  ')}`);
    t.deepEqual(mismatches, []);
    await beyondTheReference(t, { infra, extra, ports, root, env });
  } catch (error) {
    for (const member of [...single.members, ...infra.members, ...extra]) t.log(`--- ${member.spec.name}\n${member.output.join('').slice(-2_000)}`);
    throw error;
  }
});
