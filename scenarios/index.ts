import { heartbeatScenarios } from './heartbeat.ts';
import type { Scenario } from './scenario.ts';

/** Every named scenario, in the order `detcd-sim scenarios` lists them. */
export const allScenarios: readonly Scenario[] = [...heartbeatScenarios];

export const defaultScenarioName = 'heartbeat-swarm';

export function findScenario(name: string): Scenario | undefined {
  return allScenarios.find((scenario) => scenario.name === name);
}
