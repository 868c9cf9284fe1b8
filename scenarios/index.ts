import { etcdScenarios } from './etcd.ts';
import { heartbeatScenarios } from './heartbeat.ts';
import { raftScenarios } from './raft.ts';
import type { Scenario } from './scenario.ts';

/** Every named scenario, in the order `detcd-sim scenarios` lists them. */
export const allScenarios: readonly Scenario[] = [...heartbeatScenarios, ...raftScenarios, ...etcdScenarios];

export const defaultScenarioName = 'heartbeat-swarm';

export function findScenario(name: string): Scenario | undefined {
  return allScenarios.find((scenario) => scenario.name === name);
}
