import { findScenario } from './scenarios/index.ts';
import { Simulation } from './sim/simulation.ts';
import { logProtocol, defaultLogReplicaConfig } from './core/replica/logProtocol.ts';
import { currentLeader } from './properties/raft/raftLiveness.ts';
import { describeConfState, describeEntry } from './core/raft/index.ts';
const seed = Number(process.argv[2]);
const prepared = findScenario('raft-membership')!.prepare(seed);
// Same workload as the scenario: reuse its execute, but watch configs through an extra pass
const seen = new Map<number, string>();
const log: string[] = [];
const orig = prepared.execute;
// Wrap executeSimulation by monkeypatching Simulation.prototype.run? Simpler: patch LogReplica.applyEntry
import { LogReplica } from './core/replica/logReplica.ts';
const proto = LogReplica.prototype as any;
const applyEntry = proto.applyEntry;
proto.applyEntry = function (entry: any) {
  if (entry.type === 'confChange') log.push(`node ${this.id} applies ${describeEntry(entry)} in config ${describeConfState(this.confState)}`);
  try { return applyEntry.call(this, entry); } finally { if (entry.type === 'confChange') log.push(`  -> ${describeConfState(this.confState)}`); }
};
const r = orig();
console.log(r.result.violation?.message);
console.log(log.slice(-40).join('\n'));
