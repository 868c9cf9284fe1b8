/**
 * The simulator as a library: everything a user needs to put their own distributed protocol under
 * detcd's deterministic simulator, in one module. The whole API is three things (README.md's "Testing your own
 * protocol" walks through an example, scenarios/examples/counter/):
 *
 * 1. The host contract — your node is a synchronous state machine: `tick()`, `receive()`,
 *    `submit()`, then `ready()` hands the host what to persist, send and reply, and `advance()`.
 *    It never reads a clock, draws from a global random source, touches a disk or awaits.
 * 2. The protocol — how to start a node from what its disk holds, and how to digest (and,
 *    optionally, describe) its messages, requests and replies.
 * 3. A scenario — a name, a seed → options (cluster size, network, disks, clocks, fault plan) and
 *    the parts of a run: protocol, workload, checks, liveness. `executeSimulation` runs it.
 *
 * Scenarios run from the command line too: `detcd-sim run --scenarios my-scenarios.ts --scenario
 * NAME --seed N` (and sweep, shrink), where the module exports `scenarios: Scenario[]`.
 */

// 1. The host contract.
export {
  tornRecord,
  type ClientId,
  type ClientReply,
  type DurableRecord,
  type DurableState,
  type DurableWrite,
  type HostedNode,
  type NodeId,
  type NodeProtocol,
  type NodeReady,
  type NodeStart,
  type NodeStatus,
  type Outbound,
  type RequestId,
} from '../core/host/node.ts';
export type { Random } from '../core/base/random.ts';
export { AssertionError, assert } from '../core/base/assert.ts';
export { never, ratio, type Ratio } from '../core/base/ratio.ts';

// 2. The simulated world.
export type { HistoryEntry, Workload } from '../sim/client.ts';
export type { FaultAction, FaultPlan, PartitionShape, TimedFault } from '../sim/faults.ts';
export type { LivenessCheck, RunResult, SimObserver, Violation } from '../sim/observer.ts';
export { defaultSimOptions, describeOptions, type SimOptions } from '../sim/options.ts';
export { RandomStreams } from '../sim/rng.ts';
export { Simulation } from '../sim/simulation.ts';
export { drawSwarm, fullSwarmSpace, quietSwarmSpace, type SwarmSpace } from '../sim/swarm.ts';

// 3. Scenarios, cases, shrinking and property suites.
export { executeSimulation, replayCommand, resolveKnobs, type ExecutedRun, type Knobs, type PreparedRun, type RunConfig, type RunParts, type RunSettings, type Scenario } from './scenario.ts';
export { swarmCoverage } from './coverage.ts';
export { checkDeterminism, type DeterminismVerdict } from './determinism.ts';
export { caseOfRun, caseSize, executeCase, type RunCase } from './case.ts';
export { formatCase, parseCase } from './caseFile.ts';
export { shrinkCase, type ShrinkBudget, type ShrinkResult } from './shrink.ts';
export { CaseArbitrary, caseProperty, type CasePropertyOptions } from './caseProperty.ts';
