// Batch scoring in the page's Web Worker: a labelled CSV gives the same
// metrics as `ferrisk evaluate --json` and the same scored file as
// `ferrisk predict`; bad rows and broken records are reported like the CLI
// does and scoring goes on; a 100,000-row file is scored with a moving
// progress bar while the page stays responsive; and Cancel stops a run.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  assertClean,
  cfg,
  cli,
  cliPredictFile,
  launch,
  modelPath,
  openPage,
  parseCsv,
  screenshot,
  toCsv,
  trainingRows,
  waitForProbability,
  writeBigCsv,
} from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function waitForBatchEnd(page, timeout = 60000) {
  await page.waitForFunction(
    () => {
      const status = document.getElementById('batch-status').textContent;
      return document.getElementById('batch-progress-wrap').hidden && status.length > 0;
    },
    null,
    { timeout },
  );
  return page.locator('#batch-status').textContent();
}

async function download(page, file) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#batch-download').click()]);
  await dl.saveAs(file);
  return parseCsv(fs.readFileSync(file, 'utf8'));
}

/** Compares the page's scored CSV with the CLI's, row by row. */
function assertSameScores(pageCsv, cliCsv) {
  assert.deepEqual(pageCsv.header, cliCsv.header);
  assert.equal(pageCsv.rows.length, cliCsv.rows.length);
  const ip = pageCsv.header.indexOf('probability');
  for (let i = 0; i < cliCsv.rows.length; i += 1) {
    assert.deepEqual(pageCsv.rows[i], cliCsv.rows[i], `row ${i + 1} (probability page ${pageCsv.rows[i][ip]} cli ${cliCsv.rows[i][ip]})`);
  }
}

async function selectModel(page, id) {
  await page.locator('#model-select').selectOption(`server:${id}`);
  await page.waitForSelector(`body[data-model="server:${id}"]`);
}

describe('batch scoring', () => {
  test('a labelled CSV: metrics equal `ferrisk evaluate`, download equals `ferrisk predict`', async () => {
    const s = await openPage(browser);
    await waitForProbability(s.page);
    for (const id of ['lr', 'gbm']) {
      await selectModel(s.page, id);
      await s.page.locator('#batch-file').setInputFiles(cfg.data);
      const status = await waitForBatchEnd(s.page);
      const rows = trainingRows().rows.length;
      assert.match(status, new RegExp(`Scored ${rows.toLocaleString('en-US')} rows`));
      const native = JSON.parse(cli(['evaluate', '--model', modelPath(id), '--data', cfg.data, '--json']));
      const shown = await s.page.evaluate(() =>
        Object.fromEntries([...document.querySelectorAll('#batch-metrics tr[data-metric]')].map((tr) => [tr.dataset.metric, Number(tr.querySelector('td').dataset.value)])),
      );
      for (const key of ['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'ks', 'brier', 'logLoss']) {
        assert.ok(key in native, `evaluate --json has no ${key}`);
        assert.ok(Math.abs(shown[key] - native[key]) <= 1e-12 * Math.max(1, Math.abs(native[key])), `${id} ${key}: page ${shown[key]} cli ${native[key]}`);
      }
      const cm = await s.page.locator('#batch-roc svg polyline').count();
      assert.equal(cm, 1, 'batch ROC curve drawn');
      // The PR curve beside it, and its average precision: the CLI's, else step-wise from the CLI's ROC points.
      assert.equal(await s.page.locator('#batch-pr svg polyline.pr-line').count(), 1, 'batch PR curve drawn');
      let ap = native.averagePrecision;
      if (ap == null) {
        const P = native.positives;
        const N = native.rows - P;
        ap = 0;
        let prev = 0;
        for (const p of native.roc) {
          const tp = Math.round(Math.fround(p.tpr) * P);
          const fp = Math.round(Math.fround(p.fpr) * N);
          if (tp + fp === 0) continue;
          ap += (Math.fround(p.tpr) - prev) * (tp / (tp + fp));
          prev = Math.fround(p.tpr);
        }
      }
      const apShown = Number(await s.page.locator('#batch-ap').getAttribute('data-value'));
      assert.ok(Math.abs(apShown - ap) <= 1e-9, `${id} average precision: page ${apShown} cli ${ap}`);
      const previewRows = await s.page.locator('#batch-table tbody tr').count();
      assert.equal(previewRows, Math.min(100, rows));
      const pageCsv = await download(s.page, path.join(cfg.tmp, `page-${id}.csv`));
      const cliCsv = cliPredictFile(modelPath(id), cfg.data, path.join(cfg.tmp, `cli-${id}.csv`));
      assertSameScores(pageCsv, cliCsv);
    }
    await screenshot(s.page, 'batch-labelled', { fullPage: true });
    assertClean(s);
    await s.context.close();
  });

  test('rows that cannot be scored are reported as the CLI reports them', async () => {
    const s = await openPage(browser);
    await waitForProbability(s.page);
    const data = trainingRows();
    // Drop the label column and spoil two numeric cells.
    const labelAt = data.header.indexOf(cfg.label);
    const header = data.header.filter((_, i) => i !== labelAt);
    const rows = data.rows.slice(0, 50).map((r) => r.filter((_, i) => i !== labelAt));
    const numericAt = await s.page.evaluate(() => [...document.querySelectorAll('#fields input[data-feature]')].map((el) => el.dataset.feature));
    const col = header.indexOf(numericAt[0]);
    rows[3][col] = 'lots';
    rows[17][col] = 'inf';
    const file = path.join(cfg.tmp, 'with-bad-rows.csv');
    fs.writeFileSync(file, toCsv(header, rows));
    await s.page.locator('#batch-file').setInputFiles(file);
    await waitForBatchEnd(s.page);
    assert.match(await s.page.locator('#batch-body .notice').textContent(), /2 rows could not be scored/);
    assert.match(await s.page.locator('#batch-body').textContent(), new RegExp(`no “${cfg.label}” column`));
    assert.match(await s.page.locator('#batch-table tbody tr:nth-child(4) .note').textContent(), /'lots' is not a number/);
    const pageCsv = await download(s.page, path.join(cfg.tmp, 'page-bad.csv'));
    const cliCsv = cliPredictFile(modelPath('lr'), file, path.join(cfg.tmp, 'cli-bad.csv'));
    assertSameScores(pageCsv, cliCsv);
    // A broken record deep in the file (past the first slice the worker
    // reads) is a row error with the file's own line number, as the CLI
    // reports it, and the rows after it are scored.
    const ragged = path.join(cfg.tmp, 'ragged.csv');
    writeBigCsv(ragged, 9000);
    const lines = fs.readFileSync(ragged, 'utf8').split('\n');
    const badLine = 8765;
    lines[badLine - 1] += ',extra';
    fs.writeFileSync(ragged, lines.join('\n'));
    await s.page.locator('#batch-file').setInputFiles(ragged);
    const status = await waitForBatchEnd(s.page);
    assert.match(status, /Scored 9,000 rows/);
    const notice = await s.page.locator('#batch-body .notice').textContent();
    assert.match(notice, /1 rows could not be scored/);
    assert.match(notice, new RegExp(`${badLine}: line ${badLine}: \\d+ fields, but the header has \\d+`));
    const native = spawnSync(cfg.bin, ['predict', '--model', modelPath('lr'), '--data', ragged, '--out', path.join(cfg.tmp, 'ragged-out.csv')], { encoding: 'utf8' });
    assert.notEqual(native.status, 0);
    assert.match(native.stderr, new RegExp(`line ${badLine}\\b`));
    // The download: the broken record with empty cells and its error, every
    // other row as the CLI scored it.
    const pageRagged = await download(s.page, path.join(cfg.tmp, 'page-ragged.csv'));
    const cliRagged = parseCsv(fs.readFileSync(path.join(cfg.tmp, 'ragged-out.csv'), 'utf8'));
    assert.deepEqual(pageRagged.header, cliRagged.header);
    assert.equal(pageRagged.rows.length, 9000);
    const at = badLine - 2;
    const ie = pageRagged.header.indexOf('error');
    for (const table of [pageRagged, cliRagged]) {
      assert.ok(table.rows[at].every((c, k) => (k === ie) === (c !== '')), 'the broken record is written with empty cells and its error');
      assert.match(table.rows[at][ie], new RegExp(`line ${badLine}\\b`));
    }
    pageRagged.rows.splice(at, 1);
    cliRagged.rows.splice(at, 1);
    assertSameScores(pageRagged, cliRagged);
    assertClean(s, ['lots']);
    await s.context.close();
  });

  test('scores 100,000 rows in the worker with a moving progress bar; the page stays responsive', async () => {
    const file = path.join(cfg.tmp, 'big-100k.csv');
    writeBigCsv(file, 100000);
    // The worker reads the file in slices: progress counts bytes.
    const bytes = fs.statSync(file).size;
    const s = await openPage(browser);
    await waitForProbability(s.page);
    const started = Date.now();
    await s.page.locator('#batch-file').setInputFiles(file);
    const seen = new Set();
    let slowest = 0;
    for (;;) {
      const t0 = Date.now();
      const snap = await s.page.evaluate(() => ({
        value: document.getElementById('batch-progress').value,
        max: document.getElementById('batch-progress').max,
        running: !document.getElementById('batch-progress-wrap').hidden,
      }));
      slowest = Math.max(slowest, Date.now() - t0);
      if (snap.running && snap.max === bytes && snap.value > 0 && snap.value < bytes) seen.add(snap.value);
      if (!snap.running && Date.now() - started > 100) break;
      if (Date.now() - started > 120000) assert.fail('100k batch did not finish in 120 s');
      await new Promise((r) => setTimeout(r, 25));
    }
    const wall = (Date.now() - started) / 1000;
    const status = await s.page.locator('#batch-status').textContent();
    assert.match(status, /Scored 100,000 rows/);
    const workerSeconds = Number(/in ([\d.]+) s/.exec(status)[1]);
    assert.ok(seen.size >= 3, `progress bar should move through several values, saw ${[...seen].join(', ')}`);
    assert.ok(slowest < 2000, `the page did not answer for ${slowest} ms while scoring`);
    console.log(`100,000-row batch: ${workerSeconds.toFixed(2)} s in the worker, ${wall.toFixed(2)} s wall (progress values seen: ${seen.size}, slowest page response ${slowest} ms)`);
    const pageCsv = await download(s.page, path.join(cfg.tmp, 'page-100k.csv'));
    assert.equal(pageCsv.rows.length, 100000);
    assert.ok(pageCsv.rows.every((r) => r[r.length - 3] !== ''), 'every row has a probability');
    await screenshot(s.page, 'batch-100k', { fullPage: true });
    assertClean(s);
    await s.context.close();
  });

  test('Cancel stops a running batch', async () => {
    const file = path.join(cfg.tmp, 'big-100k.csv');
    if (!fs.existsSync(file)) writeBigCsv(file, 100000);
    const s = await openPage(browser);
    await waitForProbability(s.page);
    await s.page.locator('#batch-file').setInputFiles(file);
    await s.page.waitForFunction(() => document.getElementById('batch-progress').value > 0);
    await s.page.locator('#batch-cancel').click();
    assert.equal(await s.page.locator('#batch-status').textContent(), 'Cancelled.');
    assert.ok(await s.page.locator('#batch-progress-wrap').isHidden());
    assert.ok(await s.page.locator('#batch-download').isHidden());
    // A new run after cancelling works.
    const small = path.join(cfg.tmp, 'small.csv');
    writeBigCsv(small, 20);
    await s.page.locator('#batch-file').setInputFiles(small);
    assert.match(await waitForBatchEnd(s.page), /Scored 20 rows/);
    assertClean(s);
    await s.context.close();
  });
});
