// Credit conventions in the page: a declined customer shows four principal
// reasons and the score in points, exactly as `ferrisk explain` gives them;
// the reasons follow the page's language; a scored CSV gets a population
// stability (PSI) table.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertClean, cfg, cli, launch, modelPath, openPage, readForm, screenshot, trainingRows, waitForProbability } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function selectModel(page, id) {
  await page.locator('#model-select').selectOption(`server:${id}`);
  await page.waitForSelector(`body[data-model="server:${id}"]`);
}

/** Fills the form with one data row (every feature the form has). */
async function fillRow(page, data, row) {
  const fields = await page.evaluate(() => [...document.querySelectorAll('#fields [data-feature]')].map((el) => ({ name: el.dataset.feature, tag: el.tagName })));
  for (const f of fields) {
    const v = row[data.header.indexOf(f.name)].trim();
    const el = page.locator(`[data-feature="${f.name}"]`);
    if (f.tag === 'SELECT') await el.selectOption(v);
    else await el.fill(v);
  }
  await page.locator('#customer-form button[type="submit"]').click();
}

/** The first data row the model declines with at least four positive reasons (found with the CLI). */
function declinedRow(id) {
  const data = trainingRows();
  for (const row of data.rows.slice(0, 200)) {
    const customer = Object.fromEntries(data.header.map((h, i) => [h, row[i].trim()]).filter(([h]) => h !== cfg.label));
    const v = JSON.parse(cli(['explain', '--json', '--model', modelPath(id), '--customer', JSON.stringify(customer)]));
    if (v.decision && v.reasons.length === 4) return { data, row };
  }
  throw new Error('no declined customer with four reasons in the first 200 rows');
}

describe('credit conventions', () => {
  test('a declined customer: four reason texts and the score in points, as `ferrisk explain` gives them', async () => {
    const s = await openPage(browser);
    await waitForProbability(s.page);
    await selectModel(s.page, 'gbm');
    const { data, row } = declinedRow('gbm');
    const before = await s.page.locator('#probability').getAttribute('data-probability');
    await fillRow(s.page, data, row);
    await waitForProbability(s.page, before);
    assert.equal(await s.page.locator('#decision').getAttribute('data-decision'), 'true');
    const native = JSON.parse(cli(['explain', '--json', '--model', modelPath('gbm'), '--customer', JSON.stringify(await readForm(s.page))]));
    const texts = await s.page.locator('#reason-list li > span:first-child').allTextContents();
    assert.deepEqual(texts, native.reasons.map((r) => r.text));
    assert.equal(texts.length, 4);
    const points = Number(await s.page.locator('#points').getAttribute('data-points'));
    assert.ok(Math.abs(points - native.points) < 1e-3, `points page ${points} cli ${native.points}`);
    assert.equal(await s.page.locator('#points').textContent(), String(Math.round(native.points)));
    await screenshot(s.page, 'declined-with-reasons', { fullPage: true });
    // The reasons follow the page's language.
    await s.page.locator('#lang').selectOption('zh');
    await s.page.waitForFunction(() => document.documentElement.lang.startsWith('zh'));
    await s.page.locator('#customer-form button[type="submit"]').click();
    await s.page.waitForFunction(() => [...document.querySelectorAll('#reason-list li')].every((li) => li.textContent.includes('提高了违约风险')));
    const zh = JSON.parse(cli(['explain', '--json', '--lang', 'zh', '--model', modelPath('gbm'), '--customer', JSON.stringify(await readForm(s.page))]));
    assert.deepEqual(await s.page.locator('#reason-list li > span:first-child').allTextContents(), zh.reasons.map((r) => r.text));
    assertClean(s);
    await s.context.close();
  });

  test('a scored CSV gets a PSI table for the score and every feature', async () => {
    const s = await openPage(browser);
    await waitForProbability(s.page);
    await selectModel(s.page, 'rf');
    await s.page.locator('#batch-file').setInputFiles(cfg.data);
    await s.page.waitForSelector('#psi-table', { timeout: 60000 });
    const rows = await s.page.evaluate(() =>
      [...document.querySelectorAll('#psi-table tbody tr')].map((tr) => ({ id: tr.dataset.psi, psi: Number(tr.children[1].textContent), cls: tr.className })),
    );
    const features = trainingRows().header.filter((h) => h !== cfg.label).length;
    assert.equal(rows.length, features + 1);
    assert.equal(rows[0].id, 'score');
    for (const r of rows) {
      assert.ok(r.psi >= 0, `${r.id}: ${r.psi}`);
      assert.equal(r.cls, `psi-${r.psi >= 0.25 ? 'shift' : r.psi >= 0.1 ? 'watch' : 'stable'}`, r.id);
    }
    // The training file's features are the training population's. Its score
    // is not compared with a stable line: the baseline is held-out scores,
    // and a forest scores the rows it grew on more confidently than any
    // fresh customer (train/tests/drift_baseline.rs checks fresh rows).
    for (const r of rows.slice(1)) assert.ok(r.psi < 0.1, `${r.id}: PSI ${r.psi}`);
    await screenshot(s.page, 'batch-psi', { fullPage: true });
    assertClean(s);
    await s.context.close();
  });
});
