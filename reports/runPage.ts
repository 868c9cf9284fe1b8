/**
 * One self-contained HTML page per run (`run --report DIR`, and every failing run of a sweep with
 * `--report DIR`): what the run was (scenario, seed, code, version), its verdict with the replay
 * command, the checker's witness when the clients' history is not linearizable, and the run drawn
 * on a time axis — faults, each member's role, term and commit index, each client's operations,
 * the violation. Data, style and script are inline: the page opens from disk without a server.
 */
import { embedJson } from './historyPage.ts';
import type { RunRecording } from './runRecording.ts';
import { runPageScript } from './runPageScript.ts';

export interface RunPageData {
  readonly scenario: string;
  readonly seed: number;
  readonly mutant: string | null;
  readonly verdict: 'passed' | 'violation';
  readonly violation: { readonly message: string; readonly timeUs: number; readonly event: number } | null;
  readonly replay: string;
  readonly version: string;
  readonly commit: string;
  readonly traceHash: string;
  readonly notes: readonly string[];
  readonly options: readonly string[];
  /** The linearizability check of the clients' history, when the family states one. */
  readonly linearizability: { readonly verdict: string; readonly witness: string } | null;
  readonly recording: RunRecording;
}

const style = `
  body { font: 13px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
  header { padding: 10px 16px; border-bottom: 1px solid #ddd; }
  h1 { font-size: 16px; margin: 0 0 6px; }
  .verdict { font-weight: bold; padding: 1px 6px; border-radius: 3px; color: #fff; }
  .passed { background: #2ca02c; } .violation { background: #d62728; }
  .meta { color: #555; } code, pre { font: 12px/1.4 ui-monospace, monospace; }
  #violation { margin: 8px 0; padding: 6px 10px; border-left: 4px solid #d62728; background: #fdf0f0; white-space: pre-wrap; }
  #witness { margin: 8px 0; padding: 6px 10px; border-left: 4px solid #ff9f1c; background: #fff8ec; white-space: pre-wrap; max-height: 260px; overflow: auto; }
  .legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; vertical-align: -1px; }
  .controls { padding: 6px 16px; } .controls button { margin-right: 6px; }
  #timeline { overflow-x: auto; padding: 0 8px 8px; }
  .lane-label { font-size: 11px; fill: #333; } .tick-label { font-size: 10px; fill: #777; } .grid { stroke: #eee; }
  .lane-back { fill: #f6f6f6; } .term-label { font-size: 9px; fill: #222; }
  .commit-line { fill: none; stroke: #1f3b73; stroke-width: 1.2; }
  .process-down { fill: #555; fill-opacity: 0.75; } .process-paused { fill: #e7c000; fill-opacity: 0.55; }
  .fault-partition { fill: #9467bd; fill-opacity: 0.55; } .fault-network { fill: #17becf; fill-opacity: 0.45; }
  .fault-instant { fill: #8c564b; }
  .quiet-line { stroke: #2ca02c; stroke-dasharray: 4 3; } .violation-line { stroke: #d62728; stroke-width: 2; }
  .violation-label { fill: #d62728; font-size: 11px; font-weight: bold; }
  details { padding: 4px 16px; } details pre { margin: 4px 0; }
`;

export function renderRunPage(page: RunPageData): string {
  const title = `${page.scenario} seed ${page.seed}${page.mutant === null ? '' : ` (mutant ${page.mutant})`}`;
  const violation =
    page.violation === null
      ? ''
      : `<div id="violation">VIOLATION at ${(page.violation.timeUs / 1e6).toFixed(6)} s (event ${page.violation.event}): ${escapeHtml(page.violation.message)}\nreplay: <code>${escapeHtml(page.replay)}</code></div>`;
  const witness = page.linearizability === null ? '' : `<div id="linearizability">clients' history: <b>${escapeHtml(page.linearizability.verdict)}</b></div>${page.linearizability.witness === '' ? '' : `<div id="witness">${escapeHtml(page.linearizability.witness)}</div>`}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}: ${page.verdict}</title>
<style>${style}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(title)} <span class="verdict ${page.verdict}">${page.verdict}</span></h1>
  <div class="meta">trace ${escapeHtml(page.traceHash)} · detcd ${escapeHtml(page.version)} · commit ${escapeHtml(page.commit)} · replay <code>${escapeHtml(page.replay)}</code></div>
  ${violation}
  ${witness}
  <div class="legend">
    <span style="background:#2ca02c"></span>leader <span style="background:#ff7f0e"></span>candidate <span style="background:#ffbb78"></span>pre-candidate
    <span style="background:#aec7e8"></span>follower <span style="background:#555"></span>down <span style="background:#e7c000"></span>paused
    <span style="background:#1f3b73"></span>commit index
    <span style="background:#9467bd"></span>partition <span style="background:#17becf"></span>lossy weather <span style="background:#8c564b"></span>other fault
    · operations: <span style="background:#2ca02c"></span>ok <span style="background:#b0b0b0"></span>failed <span style="background:#ff9f1c"></span>unknown outcome
  </div>
</header>
<div class="controls"><button id="zoom-in">zoom in</button><button id="zoom-out">zoom out</button><button id="zoom-violation">zoom to the violation</button> hover any mark for details</div>
<div id="timeline"></div>
<details><summary>notes and options</summary><pre>${escapeHtml([...page.notes, '', ...page.options].join('\n'))}</pre></details>
<script type="application/json" id="run-data">${embedJson(page)}</script>
<script>${runPageScript}</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[character]!);
}
