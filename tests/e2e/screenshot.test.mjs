// The README's picture: a real customer scored by the logistic regression
// model, with its reasons and the ROC curve. The test checks the shown score
// against the CLI, saves target/e2e-screens/advisor.png, and with
// E2E_DOCS_SCREENSHOT=1 also writes docs/screenshot.png.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  assertClean,
  assertSameF32,
  cfg,
  cliPredictFile,
  cliPredictOne,
  launch,
  modelPath,
  openPage,
  readForm,
  trainingRows,
  waitForProbability,
} from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('screenshot of a scored customer with reasons and the ROC curve', async () => {
  // A customer of the positive class whose score is clearly above the threshold.
  const data = trainingRows();
  const scored = cliPredictFile(modelPath('lr'), cfg.data, path.join(cfg.tmp, 'shot-scored.csv'));
  const ip = scored.header.indexOf('probability');
  const il = data.header.indexOf(cfg.label);
  let pick = 0;
  let best = Infinity;
  scored.rows.forEach((r, i) => {
    const d = Math.abs(Number(r[ip]) - 0.72);
    if (data.rows[i][il].trim() === cfg.positive && d < best) {
      best = d;
      pick = i;
    }
  });
  const row = data.rows[pick];

  const s = await openPage(browser, { viewport: { width: 1360, height: 900 } });
  const first = await waitForProbability(s.page);
  for (const [i, name] of data.header.entries()) {
    if (name === cfg.label) continue;
    const el = s.page.locator(`[data-feature="${name}"]`);
    if ((await el.count()) === 0) continue;
    const tag = await el.evaluate((e) => e.tagName);
    if (tag === 'SELECT') await el.selectOption(row[i].trim());
    else await el.fill(row[i].trim());
  }
  await s.page.locator('#customer-form button[type="submit"]').click();
  const shown = await waitForProbability(s.page, first);
  assertSameF32(shown, cliPredictOne(modelPath('lr'), await readForm(s.page)).probability, 'pictured customer');
  assert.ok((await s.page.locator('#contributions .bar').count()) >= 5);
  assert.equal(await s.page.locator('#model-roc svg polyline').count(), 1);

  await s.page.evaluate(() => window.scrollTo(0, 0));
  const bottom = await s.page.evaluate(() => {
    const r = document.getElementById('quality').getBoundingClientRect();
    return Math.ceil(r.bottom + window.scrollY + 16);
  });
  fs.mkdirSync(cfg.screens, { recursive: true });
  const out = path.join(cfg.screens, 'advisor.png');
  await s.page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 1360, height: bottom } });
  if (process.env.E2E_DOCS_SCREENSHOT === '1') {
    fs.copyFileSync(out, path.join(cfg.root, 'docs', 'screenshot.png'));
  }
  assertClean(s);
  await s.context.close();
});
