import test from 'ava';
import { fullSwarmSpace, quietSwarmSpace, type SwarmSpace } from '../../sim/swarm.ts';
import { defaultSimOptions } from '../../sim/options.ts';
import { SeededRandom } from '../../sim/rng.ts';
import { SimDisk } from '../../sim/disk.ts';
import { everyFaultClass } from './everyFaultClass.ts';

const window = { startUs: 1_000_000, quietAtUs: 20_000_000, meanGapUs: 2_000_000, faultUsMax: 4_000_000 };
const base = { ...defaultSimOptions, seed: 1, nodeCount: 5 };

test('a space with only pauses and clock faults turns on no loss, torn writes or tails (it used to trip "bad range [1, 0]")', (t) => {
  const space: SwarmSpace = { ...quietSwarmSpace, timedClasses: ['pause', 'clock'], alwaysOn: ['pause', 'clock'], clockJumpUsMax: fullSwarmSpace.clockJumpUsMax, clockDriftPpmMax: fullSwarmSpace.clockDriftPpmMax, clockOffsetUsMax: fullSwarmSpace.clockOffsetUsMax };
  const draw = everyFaultClass(new SeededRandom('pause-and-clock'), base, space, window, [1, 2, 3, 4, 5]);
  t.deepEqual(draw.classesOn, ['pause', 'clock', 'skew']);
  t.is(draw.options.network.loss.numerator, 0);
  t.is(draw.options.disk.tornWrite.numerator, 0);
  // Nor slow disks: the quiet space's 0 µs sync bound under the base's floor tripped "bad sync latency range".
  t.deepEqual(draw.options.disk, { ...base.disk, tornWrite: draw.options.disk.tornWrite });
  t.notThrows(() => new SimDisk(draw.options.disk, new SeededRandom('disk')));
});

test('the full space turns every rate class on', (t) => {
  const draw = everyFaultClass(new SeededRandom('full'), base, fullSwarmSpace, window, [1, 2, 3, 4, 5]);
  for (const kind of ['loss', 'torn', 'tail']) t.true(draw.classesOn.includes(kind), kind);
});
