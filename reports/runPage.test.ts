import test from 'ava';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { findScenario } from '../scenarios/index.ts';
import { mutations } from '../scenarios/mutations/catalogue.ts';
import { makePatchedCopy, patchedScenarios, removePatchedCopy } from '../scenarios/mutations/patchedCopy.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { renderRunPage } from './runPage.ts';
import { runPageData } from './runPageData.ts';
import { runRecorder } from './runRecording.ts';
import { runReport } from './runReport.ts';
import { scratchFolder } from '../runtime/_test/scratch.ts';

/**
 * Run pages render in a real browser: Debian's chromium, driven headless by playwright-core. CI
 * installs it (.ci/run); elsewhere the test is skipped with a line saying how to get it, unless
 * DETCD_REQUIRE_BROWSER is set (as CI sets it), which makes a missing browser a failure.
 */
function findChromium(): string | null {
  const candidates = [process.env.DETCD_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((path): path is string => path !== undefined && path !== '' && existsSync(path)) ?? null;
}

const chromiumPath = findChromium();
const required = process.env.DETCD_REQUIRE_BROWSER !== undefined && process.env.DETCD_REQUIRE_BROWSER !== '';

/** A page for one run of `scenario`, written to a temporary folder. */
function writePage(folder: string, scenario: Scenario, seed: number, mutant?: string): { path: string; operations: number; members: number } {
  const prepared = scenario.prepare(seed);
  const recorder = runRecorder();
  const executed = prepared.execute({ watchers: [recorder.watcher] });
  const report = runReport(scenario.name, prepared, executed, 0, mutant === undefined ? {} : { mutant });
  const path = join(folder, `${scenario.name}-${seed}.html`);
  writeFileSync(path, renderRunPage(runPageData(report, prepared, executed, recorder.recording())));
  return { path, operations: executed.history.length, members: prepared.options.nodeCount };
}

async function withBrowser(run: (browser: Browser) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({ executablePath: chromiumPath!, args: ['--no-sandbox'] });
  try {
    await run(browser);
  } finally {
    await browser.close();
  }
}

if (chromiumPath === null && !required) {
  test.skip('run pages render in headless Chromium — SKIPPED: no chromium found (apt-get install chromium, or set DETCD_CHROMIUM=/path/to/chrome)', () => undefined);
} else {
  test('a failing Raft run (catalogued mutant) renders: members with roles, terms and commit lines, every client operation, faults, the violation and the witness', async (t) => {
    t.truthy(chromiumPath, 'DETCD_REQUIRE_BROWSER is set but no chromium was found (apt-get install chromium, or set DETCD_CHROMIUM)');
    const folder = scratchFolder('detcd-run-page-');
    const mutation = mutations.find((m) => m.name === 'read-index-without-heartbeat')!;
    const copy = makePatchedCopy(mutation);
    try {
      const scenario = (await patchedScenarios(copy))(mutation.caughtAt!.scenario);
      const page = writePage(folder, scenario, mutation.caughtAt!.seed, mutation.name);
      await withBrowser(async (browser) => {
        const tab = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        const errors: string[] = [];
        tab.on('pageerror', (error) => errors.push(String(error)));
        await tab.goto(`file://${page.path}`);
        await tab.waitForSelector('body[data-rendered=true]');
        t.deepEqual(errors, [], 'the page script ran without errors');
        t.is(await tab.locator('.verdict.violation').count(), 1);
        t.regex((await tab.locator('#violation').textContent()) ?? '', /stale read/);
        t.regex((await tab.locator('#violation').textContent()) ?? '', /--mutant read-index-without-heartbeat/);
        t.regex((await tab.locator('#linearizability').textContent()) ?? '', /not linearizable/);
        t.regex((await tab.locator('#witness').textContent()) ?? '', /none of these pending operations can take effect next/);
        for (let id = 1; id <= page.members; id++) t.is(await tab.locator(`[data-lane="node-${id}"]`).count(), 1, `lane of node ${id}`);
        t.true((await tab.locator('.role-leader').count()) > 0, 'leaders are drawn');
        t.true((await tab.locator('.term-label').count()) > 0, 'terms are labelled');
        t.is(await tab.locator('.commit-line').count(), page.members);
        t.is(await tab.locator('rect.op').count(), page.operations, 'one bar per client operation');
        t.true((await tab.locator('[data-fault]').count()) > 0, 'faults are drawn');
        t.is(await tab.locator('.violation-line').count(), 1);
        // Zooming redraws the same marks, wider.
        const width = Number(await tab.locator('#run-svg').getAttribute('width'));
        await tab.click('#zoom-in');
        t.true(Number(await tab.locator('#run-svg').getAttribute('width')) > width * 1.5);
        t.is(await tab.locator('rect.op').count(), page.operations);
      });
    } finally {
      removePatchedCopy(copy);
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('a heartbeat run without roles renders its processes down and up, and its operations', async (t) => {
    const folder = scratchFolder('detcd-run-page-');
    try {
      const page = writePage(folder, findScenario('heartbeat-crashes')!, 2);
      await withBrowser(async (browser) => {
        const tab = await browser.newPage();
        await tab.goto(`file://${page.path}`);
        await tab.waitForSelector('body[data-rendered=true]');
        t.is(await tab.locator('.verdict.passed').count(), 1);
        t.is(await tab.locator('.process-down').count() > 0, true, 'crashed processes are shaded');
        t.is(await tab.locator('rect.op').count(), page.operations);
        t.is(await tab.locator('.violation-line').count(), 0);
      });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
}
