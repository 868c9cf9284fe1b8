import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { SeededRandom } from '../sim/rng.ts';
import { parseHistory } from '../properties/linearizability/formats/parseHistory.ts';
import { checkTypedHistory } from '../properties/linearizability/formats/typedHistory.ts';
import type { Operation } from '../properties/linearizability/history.ts';
import { buildTimeline, type HistoryTimeline } from '../properties/linearizability/timeline.ts';
import { atomicRegister } from '../properties/linearizability/_test/atomicObjects.ts';
import { simulateHistory } from '../properties/linearizability/_test/simulateHistory.ts';
import { registerModel } from '../properties/linearizability/models/register.ts';
import { checkLinearizability } from '../properties/linearizability/checker.ts';
import { embedJson, renderHistoryPage } from './historyPage.ts';
import { historyPageScript } from './historyPageScript.ts';

function timelineOf(file: string): HistoryTimeline {
  const { history } = parseHistory(readFileSync(join(import.meta.dirname, '../properties/linearizability/histories/porcupine-jepsen', file), 'utf8'));
  const { model, result } = checkTypedHistory(history);
  return buildTimeline(file, model, history.operations as readonly Operation<unknown, unknown>[], result);
}

/** Enough of a DOM element (and a 2D context that accepts any call) for the script to run headless. */
function fakeElement(log: string[], name: string): Record<string, unknown> {
  const listeners: Record<string, (event: unknown) => void> = {};
  const target: Record<string, unknown> = {
    listeners,
    style: {},
    textContent: '',
    scrollTop: 0,
    clientHeight: 400,
    width: 800,
    height: 300,
    parentElement: { getBoundingClientRect: () => ({ width: 800, height: 300, left: 0, top: 0 }) },
    addEventListener: (type: string, listener: (event: unknown) => void) => (listeners[type] = listener),
    appendChild: () => log.push(`${name}.appendChild`),
    getBoundingClientRect: () => ({ width: 800, height: 300, left: 0, top: 0 }),
    getContext: () => new Proxy({}, { get: (_, key) => (key === 'measureText' ? () => ({ width: 10 }) : () => undefined), set: () => true }),
  };
  return target;
}

function runPage(page: string) {
  const data = /<script type="application\/json" id="history-data">(.*?)<\/script>/s.exec(page)![1]!;
  const script = /<script>(.*?)<\/script>\s*<\/body>/s.exec(page)![1]!;
  const log: string[] = [];
  const elements: Record<string, Record<string, unknown>> = {};
  const document = {
    getElementById: (id: string) => (elements[id] ??= id === 'history-data' ? { textContent: data } : fakeElement(log, id)),
    createElement: () => fakeElement(log, 'row'),
  };
  const window = { devicePixelRatio: 1, innerWidth: 1200, addEventListener: () => undefined };
  runInNewContext(script, { document, window, JSON, Math, Number, String, Infinity, console });
  return { log, elements };
}

test('the page script runs, draws, lists the linearization and answers hover, zoom and clicks', (t) => {
  const { log, elements } = runPage(renderHistoryPage(timelineOf('jepsen/etcd_000.log')));
  t.true(log.filter((entry) => entry === 'order-rows.appendChild').length > 10);
  const listeners = elements['timeline']!['listeners'] as Record<string, (event: unknown) => void>;
  t.notThrows(() => {
    listeners['mousemove']!({ clientX: 300, clientY: 30 });
    listeners['wheel']!({ clientX: 300, deltaY: -100, preventDefault: () => undefined });
    listeners['mousedown']!({ clientX: 300 });
    listeners['dblclick']!({});
  });
});

test('the embedded data cannot close its script element', (t) => {
  t.is(embedJson({ text: '</script><script>alert(1)</script>' }), '{"text":"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>"}');
  t.deepEqual(JSON.parse(embedJson({ text: '</script>' })), { text: '</script>' });
});

test('the timeline marks the longest prefix, the stuck operations and the dropped ones', (t) => {
  const timeline = timelineOf('jepsen/etcd_000.log');
  t.is(timeline.verdict, 'not-linearizable');
  t.is(timeline.violation, 0);
  const stuck = timeline.partitions[0]!.stuck;
  t.true(stuck.length > 0 && stuck.every((op) => timeline.position[op] === -1));
  t.is(timeline.outcomes.length, 85);
});

test('a page stays small: strings are shared, about 100 bytes per operation for 20,000 operations', (t) => {
  const random = new SeededRandom('page-size');
  const history = simulateHistory(random, { clients: 20, operations: 20_000, failPercent: 2, unknownPercent: 1, latencyMax: 30, thinkMax: 5 }, atomicRegister(5));
  const result = checkLinearizability(registerModel, history);
  const page = renderHistoryPage(buildTimeline('generated', registerModel, history, result));
  t.true(page.length / history.length < 100, `${Math.round(page.length / history.length)} bytes per operation`);
});

test('the legend names every colour an operation can be painted', (t) => {
  const colorOf = /function colorOf\(op\) \{([\s\S]*?)\n  \}/.exec(historyPageScript)![1]!;
  const painted = new Set(colorOf.match(/#[0-9a-f]{6}/g));
  const page = renderHistoryPage(timelineOf('jepsen/etcd_000.log'));
  const legend = /<span class="legend">([\s\S]*?)<\/span>\n/.exec(page)![1]!;
  t.true(painted.size >= 6);
  for (const colour of painted) t.true(legend.includes(`background:${colour}`), `${colour} is missing from the legend`);
});
