import { describePromise } from './catchRate.ts';
import type { CoverageRow } from './coverage.ts';
import type { SweepRow } from './sweepReport.ts';

/**
 * A sweep as JUnit XML, the format CI systems show as test results: one test case per scenario,
 * failed when any of its seeds failed, with each failing seed's reason and replay line in the
 * failure's text; one test case per scenario whose behaviour coverage was lost (when coverage is
 * required); the version, commit and seeds as properties. No timestamps: the same sweep gives the
 * same file.
 */
export interface JunitInfo {
  readonly name: string;
  readonly version: string;
  readonly commit: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly wallMs: number;
}

export interface JunitCase {
  readonly classname: string;
  readonly name: string;
  readonly timeMs: number;
  /** A failure's one-line message and its text; absent for a pass. */
  readonly failure?: { readonly message: string; readonly text: string };
  readonly skipped?: string;
  /** What a passing case still has to say (an expected violation's catch rate and misses), as its system-out. */
  readonly output?: string;
}

export function sweepJunitCases(rows: readonly SweepRow[], coverage: readonly CoverageRow[], requireCoverage: boolean): JunitCase[] {
  const cases: JunitCase[] = rows.map((row) => {
    const base = { classname: `detcd-sim.sweep`, name: caseName(row), timeMs: row.wallMs };
    if (row.seeds === 0) return { ...base, skipped: 'no run of this scenario (time budget or shard)' };
    const rate = row.catchRate !== null && row.catchRate.promised < 1 ? row.catchRate : null;
    const missed = row.missed.map((miss) => `seed ${miss.seed}: missed (listed, not failed)\n  replay: ${miss.replay}`);
    if (row.failed === 0) return rate === null ? base : { ...base, output: [`expected violation ${rate.text}`, ...missed].join('\n') };
    const text = row.failures.map((failure) => `seed ${failure.seed}: ${failure.reason}\n  replay: ${failure.replay}`).join('\n');
    const first = `first: seed ${row.failures[0]!.seed}: ${row.failures[0]!.reason}`;
    return { ...base, failure: { message: rate !== null && !rate.holds ? `expected violation ${rate.text}` : `${row.failed} of ${row.seeds} seeds failed; ${first}`, text } };
  });
  if (!requireCoverage) return cases;
  for (const row of coverage) {
    if (row.required.length === 0 || row.runs === 0) continue;
    const base = { classname: 'detcd-sim.coverage', name: `${row.scenario} exercises ${row.required.join(', ')}`, timeMs: 0 };
    const undecided = row.undecided.map((name) => `${name} = 0 over ${row.runs} runs: not judged before ${row.needed[name]} (a zero this short can be chance)`);
    if (row.lost.length > 0) cases.push({ ...base, failure: { message: `lost coverage: ${row.lost.map((name) => `${name} = 0`).join(', ')} over ${row.runs} runs`, text: JSON.stringify(row.counts) } });
    else cases.push(undecided.length === 0 ? base : { ...base, output: undecided.join('\n') });
  }
  return cases;
}

/** A scenario's test case name; an expected violation's says what it promises. */
function caseName(row: SweepRow): string {
  if (row.expect === 'pass') return row.scenario;
  const promised = row.catchRate?.promised ?? 1;
  return promised >= 1 ? `${row.scenario} (bug catalogue: each seed must catch it)` : `${row.scenario} (expected violation: ${describePromise(promised)})`;
}

export function formatJunit(info: JunitInfo, cases: readonly JunitCase[]): string {
  const failures = cases.filter((c) => c.failure !== undefined).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const seconds = (ms: number): string => (ms / 1000).toFixed(3);
  const properties = { version: info.version, commit: info.commit, ...info.properties };
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(info.name)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${seconds(info.wallMs)}">`,
    `  <testsuite name="${xml(info.name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(info.wallMs)}">`,
    '    <properties>',
    ...Object.entries(properties).map(([name, value]) => `      <property name="${xml(name)}" value="${xml(value)}"/>`),
    '    </properties>',
  ];
  for (const testCase of cases) {
    const open = `    <testcase classname="${xml(testCase.classname)}" name="${xml(testCase.name)}" time="${seconds(testCase.timeMs)}"`;
    if (testCase.failure !== undefined) lines.push(`${open}>`, `      <failure message="${xml(testCase.failure.message)}" type="failure">${xml(testCase.failure.text)}</failure>`, '    </testcase>');
    else if (testCase.skipped !== undefined) lines.push(`${open}>`, `      <skipped message="${xml(testCase.skipped)}"/>`, '    </testcase>');
    else if (testCase.output !== undefined) lines.push(`${open}>`, `      <system-out>${xml(testCase.output)}</system-out>`, '    </testcase>');
    else lines.push(`${open}/>`);
  }
  lines.push('  </testsuite>', '</testsuites>');
  return `${lines.join('\n')}\n`;
}

/** Text safe in XML attributes and content; characters XML 1.0 forbids are dropped. */
function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/gu, '')
    .replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[character]!);
}
