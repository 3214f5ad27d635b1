// A customer with a repayment history (sequence models): the page shows the
// history as a month-by-month table with sparklines, prefilled with a typical
// history; scores it exactly as `ferrisk predict` does; explains it in the
// package's worker with one contribution per month, exactly as `ferrisk
// explain` does; and follows edits (a recent arrears raises the risk, an
// emptied month is a missing step).
//
// scripts/test-e2e.sh trains the models on `ferrisk synth --histories 12`
// and serves them as history-gru and history-tcn (E2E_HISTORY_MODELS).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertClean, assertSameF32, cli, cliPredictOne, launch, modelPath, openPage, readForm, screenshot, waitForProbability } from './lib.mjs';

const MODELS = (process.env.E2E_HISTORY_MODELS || '').split(',').filter(Boolean);

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

/** Waits for the worker's explanation of the customer now in the form. */
async function waitExplained(page) {
  await page.waitForSelector('#result[data-explained="done"]', { timeout: 20000 });
}

/** The month chart's bars: {age, value} per month, oldest first. */
function monthBars(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('#month-effects .step-bar')].map((g) => ({ age: Number(g.dataset.age), value: Number(g.dataset.value) })),
  );
}

async function typeCell(page, feature, text) {
  const before = await page.locator('#probability').getAttribute('data-probability');
  await page.locator(`[data-feature="${feature}"]`).fill(text);
  await page.locator('#customer-form button[type="submit"]').click();
  return before;
}

describe('repayment histories in the page', () => {
  test('the history models are served (scripts/test-e2e.sh trained them)', () => {
    assert.deepEqual(MODELS, ['history-gru', 'history-tcn']);
  });

  for (const id of MODELS) {
    test(`${id}: month table, score and per-month explanation as the CLI's`, async () => {
      const s = await openPage(browser);
      await waitForProbability(s.page);
      await selectModel(s.page, id);
      const md = JSON.parse(cli(['inspect', '--json', modelPath(id)]));
      const history = md.metadata?.history ?? md.history;
      assert.ok(history && history.steps === 12 && history.channels.length === 3, `inspect gives the history: ${JSON.stringify(history)}`);

      // The table: one row per channel, one cell per month, oldest first, prefilled; a sparkline per channel.
      const table = await s.page.evaluate(() => {
        const channels = [...document.querySelectorAll('#history thead tr:first-child th[data-channel]')].map((th) => th.dataset.channel);
        const months = [...document.querySelectorAll('#history tbody tr')].map((tr) => ({
          age: Number(tr.dataset.age),
          cells: [...tr.querySelectorAll('[data-feature]')].map((el) => ({ name: el.dataset.feature, value: el.value, labelled: el.labels.length === 1 })),
        }));
        const sparks = channels.map((c) => document.querySelectorAll(`#history [data-spark="${c}"] svg.sparkline circle`).length);
        return { channels, months, sparks };
      });
      assert.deepEqual(table.channels, history.channels.map((c) => c.name));
      assert.deepEqual(
        table.months.map((m) => m.age),
        Array.from({ length: 12 }, (_, k) => 12 - k),
        'one row per month, oldest first',
      );
      table.months.forEach((m, k) => {
        assert.deepEqual(
          m.cells.map((c) => c.name),
          history.channels.map((c) => c.features[k]),
        );
        assert.ok(m.cells.every((c) => c.value !== '' && c.labelled), `month ${m.age}: every value is prefilled and labelled`);
      });
      assert.deepEqual(table.sparks, [12, 12, 12], 'a sparkline with a mark per month for each channel');
      // History columns are not repeated among the plain fields.
      const plain = await s.page.evaluate(() => [...document.querySelectorAll('#fields > .field [data-feature]')].map((el) => el.dataset.feature));
      assert.ok(plain.length > 0 && plain.every((n) => !history.channels.some((c) => c.features.includes(n))));

      await waitExplained(s.page);
      const customer = await readForm(s.page);
      const native = cliPredictOne(modelPath(id), customer);
      assertSameF32(await s.page.locator('#probability').getAttribute('data-probability'), native.probability, `${id} typical customer`);

      // One bar per month; the same contributions and reasons as `ferrisk explain`.
      const explain = () => JSON.parse(cli(['explain', '--json', '--model', modelPath(id), '--customer', JSON.stringify(customer)]));
      let cliView = explain();
      const steps = (v) => v.explanation.contributions.filter((c) => c.step);
      let bars = await monthBars(s.page);
      assert.deepEqual(
        bars.map((b) => b.age),
        Array.from({ length: 12 }, (_, k) => 12 - k),
      );
      assert.deepEqual(
        bars.map((b) => Math.fround(b.value)),
        steps(cliView).map((c) => Math.fround(c.contribution)),
      );
      const shownMs = await s.page.locator('#explain-ms').textContent();
      console.log(`# ${id}: ${shownMs}`);
      await screenshot(s.page, `${id}-typical`, { fullPage: true });

      // Three months in arrears last month: the risk rises, last month's bar raises it,
      // and the reasons are the CLI's.
      const status = history.channels.find((c) => c.name === 'status');
      const last = status.features[status.features.length - 1];
      const before = await typeCell(s.page, last, '3');
      const risky = await waitForProbability(s.page, before);
      await waitExplained(s.page);
      assert.ok(Number(risky) > Number(before), `arrears last month raises the risk (${before} -> ${risky})`);
      customer[last] = '3';
      cliView = explain();
      assertSameF32(risky, cliPredictOne(modelPath(id), customer).probability, `${id} with arrears`);
      bars = await monthBars(s.page);
      assert.ok(bars[11].value > 0, `last month raises the risk: ${JSON.stringify(bars[11])}`);
      assert.deepEqual(
        bars.map((b) => Math.fround(b.value)),
        steps(cliView).map((c) => Math.fround(c.contribution)),
      );
      const reasons = await s.page.locator('#reason-list li > span:first-child').allTextContents();
      assert.deepEqual(reasons, cliView.reasons.map((r) => r.text));
      assert.ok(reasons.some((r) => /^3 months in arrears 1 month ago, /.test(r)), `a reason reads like a lender's and names last month: ${reasons.join(' | ')}`);

      // An emptied old month is a missing step: it still scores, drawn as a gap.
      for (const c of history.channels) customer[c.features[0]] = '';
      for (const c of history.channels) await s.page.locator(`[data-feature="${c.features[0]}"]`).fill('');
      const beforeGap = await s.page.locator('#probability').getAttribute('data-probability');
      await s.page.locator('#customer-form button[type="submit"]').click();
      await waitForProbability(s.page, beforeGap).catch(() => null);
      await waitExplained(s.page);
      const missing = await s.page.locator('#history svg.sparkline .spark-missing').count();
      assert.equal(missing, 3, 'one gap per channel');
      const withGap = cliPredictOne(modelPath(id), Object.fromEntries(Object.entries(customer).map(([k, v]) => [k, v === '' ? '' : v])));
      assertSameF32(await s.page.locator('#probability').getAttribute('data-probability'), withGap.probability, `${id} with a missing month`);
      await screenshot(s.page, `${id}-edited`, { fullPage: true });
      assertClean(s);
      await s.context.close();
    });
  }
});
