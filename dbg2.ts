import { findScenario } from './scenarios/index.ts';
import { LogReplica } from './core/replica/logReplica.ts';
import { describeConfState, describeEntry } from './core/raft/index.ts';
import { Simulation } from './sim/simulation.ts';
const seed = Number(process.argv[2]);
const log: string[] = [];
const proto = LogReplica.prototype as any;
const applyEntry = proto.applyEntry;
proto.applyEntry = function (entry: any) {
  const before = describeConfState(this.confState);
  try { return applyEntry.call(this, entry); } finally { if (entry.type === 'confChange') log.push(`node ${this.id} applied ${describeEntry(entry)}: ${before} -> ${describeConfState(this.confState)}`); }
};
let last: any = null;
const run = Simulation.prototype.run;
(Simulation.prototype as any).run = function () { last = this; return run.call(this); };
const r = findScenario(process.argv[3] ?? 'raft-membership')!.prepare(seed).execute();
console.log(r.result.violation?.message);
console.log(log.slice(-12).join('\n'));
for (const id of last.members) {
  const n = last.node(id);
  const st = n?.raft.status();
  console.log(id, last.processState(id), n && `role=${n.softState.role} lead=${n.softState.lead} term=${n.hardState.term} commit=${n.hardState.commit} applied=${n.appliedIndex} last=${n.storage.lastIndex()} conf=${describeConfState(n.confState)} raftconf=${st.configDescription} progress=${[...st.progress].map(([k,v]: any)=>k+':'+v.description).join(',')}`);
}
