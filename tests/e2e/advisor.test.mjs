// The advisor page in headless Chromium against `ferrisk serve`: the form's
// score equals the native CLI's, model switching, opening a model file,
// validation messages, the Chinese UI, offline use, keyboard and phone
// layout, and that nothing typed ever leaves the page.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  assertClean,
  assertSameF32,
  cfg,
  cliPredictOne,
  launch,
  modelPath,
  openPage,
  readForm,
  screenshot,
  trainingRows,
  waitForProbability,
} from './lib.mjs';

const isGerman = cfg.label === 'creditability';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** A numeric feature and a categorical one of the trained schema, read from the page. */
async function pickFeatures(page) {
  return page.evaluate(() => {
    const fields = [...document.querySelectorAll('#fields [data-feature]')];
    const numeric = fields.filter((el) => el.tagName === 'INPUT').map((el) => el.dataset.feature);
    const categorical = fields
      .filter((el) => el.tagName === 'SELECT')
      .map((el) => ({ name: el.dataset.feature, options: [...el.options].map((o) => o.value), value: el.value }));
    return { numeric, categorical };
  });
}

describe('advisor page', () => {
  test('loads the served models, logistic regression first, with no errors', async () => {
    const s = await openPage(browser);
    const options = await s.page.locator('#model-select option').allTextContents();
    const ids = fs.readdirSync(cfg.models).filter((f) => f.endsWith('.frk')).map((f) => f.replace(/\.frk$/, ''));
    assert.equal(options.length, ids.length, `picker lists ${options.join(' | ')}`);
    for (const id of ids) assert.ok(options.some((o) => o.includes(`(${id})`)), `model ${id} missing from the picker`);
    assert.equal(await s.page.locator('#model-select').inputValue(), 'server:lr');
    // Every input has a label, and the form is prefilled with typical values.
    const unlabeled = await s.page.evaluate(() =>
      [...document.querySelectorAll('#fields input, #fields select')]
        .filter((el) => el.labels.length !== 1 || el.labels[0].textContent.trim() === '')
        .map((el) => el.id),
    );
    assert.deepEqual(unlabeled, []);
    const values = await readForm(s.page);
    assert.ok(Object.values(values).every((v) => v !== ''), 'every field is prefilled');
    // The CSP is sent by the server and repeated in a meta element.
    const res = await s.page.request.get(cfg.url);
    assert.match(res.headers()['content-security-policy'], /script-src 'self' 'wasm-unsafe-eval'/);
    assert.match(res.headers()['content-security-policy'], /frame-ancestors 'none'/);
    const meta = await s.page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.match(meta, /default-src 'self'/);
    await waitForProbability(s.page);
    await screenshot(s.page, 'loaded', { fullPage: true });
    assertClean(s);
    await s.context.close();
  });

  test('a filled-in customer scores exactly as `ferrisk predict` does', async () => {
    const s = await openPage(browser);
    const first = await waitForProbability(s.page);
    const { numeric, categorical } = await pickFeatures(s.page);
    // Take a real customer from the training data, different from the typical one.
    const data = trainingRows();
    const row = data.rows[1];
    const typed = [];
    for (const name of numeric) {
      const v = row[data.header.indexOf(name)].trim();
      await s.page.locator(`[data-feature="${name}"]`).fill(v);
      typed.push(v);
    }
    for (const c of categorical) {
      const v = row[data.header.indexOf(c.name)].trim();
      await s.page.locator(`[data-feature="${c.name}"]`).selectOption(v);
    }
    // A distinctive amount in the first numeric field, to look for in requests.
    const marker = '7331';
    const amount = await s.page.evaluate((names) => {
      // The numeric feature with the widest training range (an amount, typically).
      const hints = names.map((n) => document.querySelector(`[data-field="${n}"] .hint`).textContent);
      const widths = hints.map((h) => {
        const m = /(-?[\d.e+-]+)\s*–\s*(-?[\d.e+-]+)/.exec(h);
        return m ? Number(m[2]) - Number(m[1]) : 0;
      });
      return names[widths.indexOf(Math.max(...widths))];
    }, numeric);
    await s.page.locator(`[data-feature="${amount}"]`).fill(marker);
    typed.push(marker);
    await s.page.locator('#customer-form button[type="submit"]').click();
    const shown = await waitForProbability(s.page, first);
    const customer = await readForm(s.page);
    assert.equal(customer[amount], marker);
    const native = cliPredictOne(modelPath('lr'), customer);
    assertSameF32(shown, native.probability, 'lr probability');
    const decision = await s.page.locator('#decision').getAttribute('data-decision');
    assert.equal(decision === 'true' ? cfg.positive : 'other', native.decision === cfg.positive ? cfg.positive : 'other');
    // Logistic regression explains its score: one bar per top feature.
    const bars = await s.page.locator('#contributions .bar').count();
    assert.ok(bars >= 5, `expected contribution bars, got ${bars}`);
    assertClean(s, typed.filter((v) => v.length >= 3));
    await s.context.close();
  });

  test('switching model rescores with that model, with its explanation or a note that it has none', async () => {
    const s = await openPage(browser);
    const lrShown = await waitForProbability(s.page);
    for (const id of ['gbm', 'rf', 'svm-rbf']) {
      await s.page.locator('#model-select').selectOption(`server:${id}`);
      await s.page.waitForSelector(`body[data-model="server:${id}"]`);
      const shown = await waitForProbability(s.page);
      const native = cliPredictOne(modelPath(id), await readForm(s.page));
      assertSameF32(shown, native.probability, `${id} probability`);
      const detail = await (await s.page.request.get(new URL(`models/${id}`, cfg.url).href)).json();
      if (/not available/.test(detail.metadata.explanationMethod)) {
        assert.match(await s.page.locator('#no-explain').textContent(), /Explanations are not available for .+ yet/);
        assert.equal(await s.page.locator('#contributions').count(), 0);
      } else {
        assert.ok((await s.page.locator('#contributions .bar').count()) >= 5, `${id}: contribution bars`);
        assert.equal(await s.page.locator('#no-explain').count(), 0);
      }
    }
    await s.page.locator('#model-select').selectOption('server:lr');
    await s.page.waitForSelector('body[data-model="server:lr"]');
    assert.equal(await s.page.locator('#probability').getAttribute('data-probability'), lrShown);
    await screenshot(s.page, 'switched-model', { fullPage: true });
    assertClean(s);
    await s.context.close();
  });

  test('opens a model file from disk and by drag-and-drop; rejects a bad file with a message', async () => {
    const s = await openPage(browser);
    await waitForProbability(s.page);
    await s.page.locator('#model-file').setInputFiles(modelPath('rf'));
    await s.page.waitForFunction(() => document.querySelector('#model-select').selectedOptions[0]?.textContent.includes('your file'));
    const shown = await waitForProbability(s.page);
    const native = cliPredictOne(modelPath('rf'), await readForm(s.page));
    assertSameF32(shown, native.probability, 'opened rf probability');

    // Drag-and-drop of the linear SVM file onto the model card.
    const bytes = [...fs.readFileSync(modelPath('svm-linear'))];
    const dt = await s.page.evaluateHandle((b) => {
      const d = new DataTransfer();
      d.items.add(new File([new Uint8Array(b)], 'dropped-svm.frk'));
      return d;
    }, bytes);
    await s.page.dispatchEvent('#model-section', 'drop', { dataTransfer: dt });
    await s.page.waitForFunction(() => document.querySelector('#model-select').selectedOptions[0]?.textContent.includes('dropped-svm'));
    const dropped = await waitForProbability(s.page);
    const nativeSvm = cliPredictOne(modelPath('svm-linear'), await readForm(s.page));
    assertSameF32(dropped, nativeSvm.probability, 'dropped svm-linear probability');

    const bad = path.join(cfg.tmp, 'not-a-model.frk');
    fs.writeFileSync(bad, 'age,income\n1,2\n');
    await s.page.locator('#model-file').setInputFiles(bad);
    await s.page.waitForSelector('#model-status.error');
    assert.match(await s.page.locator('#model-status').textContent(), /not-a-model\.frk.*(not a ferrisk model file|too short)/);
    assertClean(s);
    await s.context.close();
  });

  test('bad values get a message next to the field, and fixing them scores again', async () => {
    const s = await openPage(browser);
    await waitForProbability(s.page);
    const { numeric } = await pickFeatures(s.page);
    const name = numeric[numeric.length - 1];
    const input = s.page.locator(`[data-feature="${name}"]`);
    const good = await input.inputValue();
    await input.fill('12abc');
    const field = s.page.locator(`[data-field="${name}"]`);
    await s.page.waitForFunction((n) => document.querySelector(`[data-field="${n}"]`).classList.contains('invalid'), name);
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    assert.match(await field.locator('.field-msg').textContent(), /“12abc” is not a number/);
    assert.match(await s.page.locator('#form-error').textContent(), /Fix the highlighted field/);
    await screenshot(s.page, 'bad-value');

    // Far outside the training range: scored, with a range hint.
    await input.fill('99999999');
    await s.page.waitForFunction((n) => document.querySelector(`[data-field="${n}"]`).classList.contains('warn'), name);
    assert.match(await field.locator('.field-msg').textContent(), /Outside the training range/);
    assert.equal(await s.page.locator('#form-error').textContent(), '');

    await input.fill(good);
    await s.page.waitForFunction((n) => {
      const cl = document.querySelector(`[data-field="${n}"]`).classList;
      return !cl.contains('invalid') && !cl.contains('warn');
    }, name);
    assert.equal(await input.getAttribute('aria-invalid'), null);
    assertClean(s, ['12abc', '99999999']);
    await s.context.close();
  });

  test('switches to Simplified Chinese and back', async () => {
    const s = await openPage(browser);
    await waitForProbability(s.page);
    await s.page.locator('#lang').selectOption('zh');
    await s.page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    assert.equal(await s.page.locator('#form-h').textContent(), '客户信息');
    assert.equal(await s.page.locator('#quality-h').textContent(), '模型质量');
    assert.equal(await s.page.locator('#result-body .pd-label span').first().textContent(), '违约概率');
    assert.match(await s.page.locator('#model-metrics').textContent(), /准确率/);
    if (isGerman) {
      assert.equal(await s.page.locator('label[for="f-12"]').textContent(), '年龄（岁）');
    }
    // Validation messages follow the language too.
    const { numeric } = await pickFeatures(s.page);
    await s.page.locator(`[data-feature="${numeric[0]}"]`).fill('x');
    await s.page.waitForFunction((n) => document.querySelector(`[data-field="${n}"]`).classList.contains('invalid'), numeric[0]);
    assert.match(await s.page.locator(`[data-field="${numeric[0]}"] .field-msg`).textContent(), /不是数字/);
    await screenshot(s.page, 'chinese', { fullPage: true });
    // The choice is remembered across a reload.
    await s.page.reload();
    await s.page.waitForSelector('body[data-ready="true"]');
    assert.equal(await s.page.locator('#form-h').textContent(), '客户信息');
    await s.page.locator('#lang').selectOption('en');
    await s.page.waitForFunction(() => document.documentElement.lang === 'en');
    assert.equal(await s.page.locator('#form-h').textContent(), 'Customer');
    assertClean(s);
    await s.context.close();
  });

  test('is usable from the keyboard', async () => {
    const s = await openPage(browser);
    const first = await waitForProbability(s.page);
    // The skip link is the first stop and jumps to the form.
    await s.page.keyboard.press('Tab');
    assert.equal(await s.page.evaluate(() => document.activeElement.className), 'skip');
    await s.page.keyboard.press('Enter');
    // Tab into the first numeric field, type a new value, submit with Enter.
    const { numeric } = await pickFeatures(s.page);
    await s.page.locator(`[data-feature="${numeric[0]}"]`).focus();
    await s.page.keyboard.press('Control+A');
    await s.page.keyboard.type('48');
    await s.page.keyboard.press('Enter');
    const shown = await waitForProbability(s.page, first);
    const native = cliPredictOne(modelPath('lr'), await readForm(s.page));
    assertSameF32(shown, native.probability, 'keyboard-entered probability');
    // The model picker and language select are reachable with Tab.
    const reachable = await s.page.evaluate(() => ['model-select', 'lang', 'model-file', 'batch-file'].every((id) => document.getElementById(id).tabIndex >= 0));
    assert.ok(reachable);
    assertClean(s);
    await s.context.close();
  });

  test('fits a phone screen', async () => {
    const s = await openPage(browser, { viewport: { width: 390, height: 844 } });
    await waitForProbability(s.page);
    const overflow = await s.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone screen`);
    await screenshot(s.page, 'phone', { fullPage: true });
    assertClean(s);
    await s.context.close();
  });

  test('falls back to a static models/index.json when there is no /models', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 404/.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    // What a static host serving www/ with a models/ folder would answer.
    await page.route(/\/models$/, (route) => route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' }));
    await page.route(/\/models\/index\.json$/, (route) =>
      route.fulfill({ contentType: 'application/json', body: JSON.stringify([{ id: 'gbm', kind: 'gbm', kindName: 'gradient boosting', file: '../model-files/gbm.frk' }]) }),
    );
    await page.goto(cfg.url);
    await page.waitForSelector('body[data-model="server:gbm"]');
    assert.deepEqual(await page.locator('#model-select option').allTextContents(), ['gradient boosting (gbm)']);
    const shown = await waitForProbability(page);
    const native = cliPredictOne(modelPath('gbm'), await readForm(page));
    assertSameF32(shown, native.probability, 'static-listed gbm probability');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('works offline once loaded (service worker)', async () => {
    const s = await openPage(browser);
    await waitForProbability(s.page);
    await s.page.waitForFunction(() => document.getElementById('offline-status').textContent.length > 0, null, { timeout: 15000 });
    await s.context.setOffline(true);
    await s.page.reload();
    await s.page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
    const shown = await waitForProbability(s.page);
    const native = cliPredictOne(modelPath('lr'), await readForm(s.page));
    assertSameF32(shown, native.probability, 'offline probability');
    await s.context.setOffline(false);
    assertClean(s);
    await s.context.close();
  });
});
