import { readFileSync } from 'node:fs';
import { wilsonInterval } from './wilson.ts';

/**
 * Prints the sampled mutation score of a StrykerJS JSON report (`npm run mutation-score`): the
 * share of sampled mutants that the test command detected (killed, or timed out — Stryker's
 * convention), with a 95% Wilson score interval for the share over all the mutants the sample was
 * drawn from, then every survivor for triage. Mutants outside the sample, ignored ones (log text)
 * and ones that do not even load (runtime errors) do not count. Each survivor's `key` is the form
 * the sampler uses (0-based line and column, where the report's are 1-based): listed under
 * `detcdSample.keys`, they make a run that re-judges just those mutants.
 */
interface ReportMutant {
  readonly id: string;
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: string;
  readonly statusReason?: string;
  readonly location: { readonly start: { readonly line: number; readonly column: number } };
}

const path = process.argv[2] ?? 'out/mutation/mutation.json';
// The etcd report (`npm run mutation-score:etcd`) is named after the code it mutates.
const etcd = path.includes('etcd');
const mutated = etcd ? 'core/mvcc + core/server' : 'core/raft + core/replica';
const triageFile = etcd ? 'scenarios/mutations/stryker-triage-etcd.md' : 'scenarios/mutations/stryker-triage.md';
let report: { files: Record<string, { source: string; mutants: ReportMutant[] }> };
try {
  report = JSON.parse(readFileSync(path, 'utf8')) as typeof report;
} catch (error) {
  console.error(`score: cannot read the Stryker report ${path}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
let population = 0;
let detected = 0;
let undetected = 0;
let invalid = 0;
const survivors: string[] = [];
for (const [file, { source, mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const lines = source.split('\n');
  for (const mutant of mutants) {
    if (mutant.status === 'Ignored') continue;
    population++;
    if (mutant.status === 'CompileError' && mutant.statusReason === 'not in the sample') continue;
    if (mutant.status === 'Killed' || mutant.status === 'Timeout') detected++;
    else if (mutant.status === 'Survived' || mutant.status === 'NoCoverage') {
      undetected++;
      const { line, column } = mutant.location.start;
      const original = (lines[line - 1] ?? '').trim();
      survivors.push(`${file}:${line}:${column} ${mutant.mutatorName} → ${JSON.stringify(mutant.replacement ?? '')}\n    ${original}\n    key: ${file}:${line - 1}:${column - 1}:${mutant.mutatorName}:${mutant.replacement ?? ''}`);
    } else invalid++;
  }
}
const sampled = detected + undetected;
if (sampled === 0) {
  console.error('score: the report holds no sampled mutant that ran');
  process.exit(2);
}
const { low, high } = wilsonInterval(detected, sampled, 1.96);
const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
console.log(`mutation score of ${mutated} (sampled): ${percent(detected / sampled)} — ${detected} of ${sampled} sampled mutants detected`);
console.log(`95% Wilson score interval for the score of all ${population} mutants: [${percent(low)}, ${percent(high)}]`);
if (invalid > 0) console.log(`(${invalid} sampled mutants did not load or run and are left out)`);
console.log(`survivors (${survivors.length}), to triage in ${triageFile}:`);
for (const survivor of survivors) console.log(`  ${survivor}`);
