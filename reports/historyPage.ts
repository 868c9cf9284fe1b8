/**
 * One self-contained HTML page per checked history: each process's operations on a time axis,
 * the linearization found (or the longest prefix), the operations that could not be placed
 * after it in red, and the model state after each step on hover. Data, style and script are all
 * inline, so the page opens from disk without a server.
 */
import type { HistoryTimeline } from '../properties/linearizability/timeline.ts';
import { historyPageScript } from './historyPageScript.ts';

const style = `
  body { font: 13px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
  header { padding: 10px 16px; border-bottom: 1px solid #ddd; }
  h1 { font-size: 16px; margin: 0 0 4px; }
  .verdict { font-weight: bold; padding: 1px 6px; border-radius: 3px; color: #fff; }
  .linearizable { background: #2ca02c; } .not-linearizable { background: #d62728; } .unknown { background: #888; }
  .legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; vertical-align: -1px; }
  main { display: flex; align-items: flex-start; }
  #timeline-box { flex: 1; min-width: 0; overflow-y: auto; max-height: calc(100vh - 80px); }
  canvas { display: block; cursor: grab; }
  aside { width: 460px; border-left: 1px solid #ddd; display: flex; flex-direction: column; height: calc(100vh - 80px); }
  select { margin: 6px; }
  #order-list { flex: 1; overflow-y: auto; position: relative; font: 12px/20px ui-monospace, monospace; }
  #order-rows { position: absolute; left: 0; right: 0; top: 0; }
  .row { height: 20px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding: 0 6px; cursor: pointer; }
  .row:hover { background: #eef; } .row.selected { background: #dde; } .row.stuck { color: #d62728; }
  .row.heading { font-weight: bold; cursor: default; }
  #tooltip { position: fixed; display: none; white-space: pre-wrap; max-width: 440px; background: #fffff0;
    border: 1px solid #999; padding: 6px 8px; font: 12px/1.4 ui-monospace, monospace; pointer-events: none; }
`;

export function renderHistoryPage(timeline: HistoryTimeline): string {
  const operations = timeline.invokedAt.length;
  const dropped = timeline.partition.filter((partition) => partition < 0).length;
  const summary = `${operations} operations, ${timeline.processes.length} processes, ${timeline.partitions.length} partition(s), ${dropped} dropped; model ${timeline.model}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(timeline.title)}: ${timeline.verdict}</title>
<style>${style}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(timeline.title)} <span class="verdict ${timeline.verdict}">${timeline.verdict}</span></h1>
  <div>${escapeHtml(summary)}
    <span class="legend"><span style="background:#2ca02c"></span>linearized
    <span style="background:#ff9f1c"></span>longest prefix of the violation
    <span style="background:#d62728"></span>could not be placed
    <span style="background:#8c8c8c"></span>not reached (after the prefix, or in a partition left unchecked)
    <span style="background:#b0b0b0"></span>unknown outcome, not taken
    <span style="background:#d9d9d9"></span>dropped</span>
    — wheel zooms, drag pans, double-click resets, hover for state.
  </div>
</header>
<main>
  <div id="timeline-box"><canvas id="timeline"></canvas></div>
  <aside>
    <select id="partition-select"></select>
    <div id="order-list"><div id="order-spacer"></div><div id="order-rows"></div></div>
  </aside>
</main>
<div id="tooltip"></div>
<script type="application/json" id="history-data">${embedJson(timeline)}</script>
<script>${historyPageScript}</script>
</body>
</html>
`;
}

/** JSON safe inside a script element: no "<" can close it early. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[character]!);
}
