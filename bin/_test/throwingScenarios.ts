import { scenarios as counterScenarios } from '../../scenarios/examples/counter/counter.ts';
import type { Scenario } from '../../scenarios/scenario.ts';

/**
 * A user's scenarios module with a bug of its own: `counter-throws` prepares seed 1 by throwing
 * (outside any simulation, so no check turns it into a violation). For the sweep's tests: a
 * worker that hits it must end, and the sweep with it, never wait.
 */
const counter = counterScenarios.find((scenario) => scenario.name === 'counter-swarm')!;

export const scenarios: readonly Scenario[] = [
  {
    ...counter,
    name: 'counter-throws',
    prepare: (seed, settings) => {
      if (seed === 1) throw new Error('a scenario that cannot prepare seed 1');
      return counter.prepare(seed, settings);
    },
  },
];
