/**
 * `npm run shrink:mutants [NAME...]`: for each Raft mutant of the catalogue, the run that catches
 * it (its pinned `caughtAt`) is shrunk with `shrinkCase`, and the sizes before and after are
 * printed — faults, plan entries, client operations, clients, members, simulated time — with the
 * runs and wall time it took, and whether the shrunk case, written out and read back, replays to
 * the same failure. The goal the harness is held to: at most 5 faults and 20 client operations.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caseOfRun, caseSize, executeCase, type CaseSize } from '../scenarios/case.ts';
import { formatCase, parseCase } from '../scenarios/caseFile.ts';
import { mutations } from '../scenarios/mutations/catalogue.ts';
import { makePatchedCopy, patchedScenarios, removePatchedCopy } from '../scenarios/mutations/patchedCopy.ts';
import { defaultShrinkBudget, failureSignature, shrinkCase } from '../scenarios/shrink.ts';

const faultsGoal = 5;
const operationsGoal = 20;
// `--time-budget=SECONDS` stretches the budget on a busy machine (the default is the shrinker's own).
const budgetFlag = process.argv.slice(2).find((arg) => arg.startsWith('--time-budget='));
const budget = budgetFlag === undefined ? defaultShrinkBudget : { ...defaultShrinkBudget, wallMsMax: Number(budgetFlag.split('=')[1]) * 1000 };
const filters = process.argv.slice(2).filter((arg) => arg !== budgetFlag);
const out = join('out', 'shrunk-mutants');
mkdirSync(out, { recursive: true });

const size = (s: CaseSize): string => `${s.faults} faults (${s.planEntries} entries), ${s.operations} ops, ${s.clients} clients, ${s.members} members, ${(s.simulatedUs / 1e6).toFixed(1)} s`;
const rows: string[][] = [['mutant', 'caught at', 'before', 'after', 'runs', 'wall s', 'replays', 'goal']];
let missed = 0;
for (const mutation of mutations.filter((m) => filters.length === 0 || filters.includes(m.name))) {
  if (mutation.caughtAt === null) continue; // argued equivalent: no failing run to shrink
  const { scenario: name, seed } = mutation.caughtAt;
  const copy = makePatchedCopy(mutation);
  try {
    const scenario = (await patchedScenarios(copy))(name);
    const prepared = scenario.prepare(seed);
    const executed = prepared.execute({ recordWorkload: true });
    if (executed.result.ok) {
      rows.push([mutation.name, `${name} ${seed}`, 'passes: not caught at its pinned seed', '', '', '', '', 'MISSED']);
      missed++;
      continue;
    }
    const original = caseOfRun(name, { mutant: mutation.name }, prepared, executed);
    // A line every 30 s on stderr: a long shrink is not silent.
    let lastSaid = performance.now();
    const result = shrinkCase(scenario, original, budget, (progress) => {
      if (performance.now() - lastSaid < 30_000) return;
      lastSaid = performance.now();
      console.error(`${mutation.name}: ${progress.runs} runs, ${(progress.elapsedMs / 1000).toFixed(0)} s; smallest so far ${size(progress.smallest)}`);
    });
    const file = join(out, `${mutation.name}.json`);
    writeFileSync(file, formatCase(result.shrunk));
    // Written out and read back, the case fails the same check.
    const replayed = executeCase(scenario, parseCase(formatCase(result.shrunk))).executed.result;
    const replays = replayed.violation !== null && failureSignature(replayed.violation.message) === result.signature;
    const after = caseSize(result.shrunk);
    const goal = after.faults <= faultsGoal && after.operations <= operationsGoal;
    if (!goal || !replays) missed++;
    rows.push([mutation.name, `${name} ${seed}`, size(caseSize(original)), size(after), String(result.runs), (result.wallMs / 1000).toFixed(1), replays ? 'yes' : 'NO', goal ? 'met' : 'MISSED']);
    console.error(`${mutation.name}: ${size(after)} in ${result.runs} runs; ${result.signature}; ${file}`);
  } finally {
    removePatchedCopy(copy);
  }
}
const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
console.log(`\n${rows.length - 1 - missed} of ${rows.length - 1} mutants shrunk to at most ${faultsGoal} faults and ${operationsGoal} client operations, replaying to the same failure; cases in ${out}/`);
process.exitCode = missed === 0 ? 0 : 1;
