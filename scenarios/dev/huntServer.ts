/**
 * `npm run hunt:server -- [--seeds N] [--from S] [--kind random|random-membership|simulated|simulated-membership]`:
 * longer hunts for the etcd member than `npm test` runs — the randomized untimed cluster and the
 * simulated swarm runs of core/server's own tests, over many seeds. Prints each failing seed with
 * its message and the line that replays it; exits 1 when one failed, 2 on bad input.
 */
import { RandomEtcdCluster } from '../../core/server/_test/randomCluster.ts';
import { runSimulated } from '../../core/server/_test/simulatedCluster.ts';

const kinds = ['random', 'random-membership', 'simulated', 'simulated-membership'] as const;
type Kind = (typeof kinds)[number];

function parse(argv: readonly string[]): { seeds: number; from: number; kinds: readonly Kind[] } {
  let seeds = 100;
  let from = 1;
  let chosen: readonly Kind[] = kinds;
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if ((flag === '--seeds' || flag === '--from') && value !== undefined && /^[1-9]\d*$/.test(value)) {
      if (flag === '--seeds') seeds = Number(value);
      else from = Number(value);
    } else if (flag === '--kind' && value !== undefined && (kinds as readonly string[]).includes(value)) {
      chosen = [value as Kind];
    } else {
      process.stderr.write(`hunt:server: bad argument ${flag ?? ''} ${value ?? ''} (expected --seeds N, --from S, --kind ${kinds.join('|')})\n`);
      process.exit(2);
    }
  }
  return { seeds, from, kinds: chosen };
}

function runOne(kind: Kind, seed: number): string | null {
  try {
    if (kind === 'random' || kind === 'random-membership') {
      const cluster = new RandomEtcdCluster(seed, 3, kind === 'random-membership');
      cluster.run(4000);
      return cluster.converge(400) ? null : 'did not converge after the faults stopped';
    }
    const membership = kind === 'simulated-membership';
    const { result } = runSimulated(seed, { config: membership ? { strictReconfigCheck: false } : {}, membership });
    return result.ok ? null : (result.violation?.message ?? 'failed');
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const { seeds, from, kinds: chosen } = parse(process.argv.slice(2));
let failures = 0;
for (const kind of chosen) {
  const started = performance.now();
  for (let seed = from; seed < from + seeds; seed++) {
    const failure = runOne(kind, seed);
    if (failure === null) continue;
    failures++;
    console.log(`${kind} seed ${seed}: ${failure}\n  replay: npm run hunt:server -- --kind ${kind} --from ${seed} --seeds 1`);
  }
  console.log(`${kind}: ${seeds} seeds from ${from} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
console.log(failures === 0 ? 'no failures' : `${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
