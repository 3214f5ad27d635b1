// The decision methodology on the page: the threshold policy the file
// records (or the note that it records none), the threshold slider over the
// stored test ROC points, the PR curve with its average precision, and the
// reliability diagram. Every figure the page shows is checked against an
// oracle written here from the scorer's own `metrics()` / `metadata()` (the
// wasm package loaded in Node, not the page's code): counts from the ROC
// rates, approval rate, bad rate among approved, expected cost, precision,
// recall, average precision.
//
// Some assertions depend on fields a newer runtime writes (metadata.decision,
// metrics.reliability / ece / averagePrecision / evaluatedOn): they check the
// panel when the field is there and the fallback when it is not; each test
// says which branch it took in its diagnostics.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { assertClean, cfg, launch, modelPath, openPage, screenshot, waitForProbability } from './lib.mjs';

let browser;
let wasm;
before(async () => {
  browser = await launch();
  wasm = await import(pathToFileURL(path.join(cfg.root, 'www', 'pkg', 'ferrisk_wasm.js')).href);
  await wasm.default({ module_or_path: fs.readFileSync(path.join(cfg.root, 'www', 'pkg', 'ferrisk_wasm_bg.wasm')) });
});
after(async () => {
  await browser?.close();
});

/** What the scorer itself says about a model file. */
function facts(file) {
  const s = wasm.Scorer.load(fs.readFileSync(file));
  try {
    return { metadata: s.metadata(), metrics: s.metrics() };
  } finally {
    s.free();
  }
}

// ---------------------------------------------------------------------------
// The oracle: figures from counts, counts from ROC rates (P positives, N negatives).

function countsFromRoc(m, p) {
  const P = m.positives;
  const N = m.rows - m.positives;
  const tp = Math.round(p.tpr * P);
  const fp = Math.round(p.fpr * N);
  return { tn: N - fp, fp, fn: P - tp, tp };
}

function expected(m, c, costs) {
  const approved = c.fn + c.tn;
  return {
    counts: c,
    approved,
    approvalRate: approved / m.rows,
    badRateApproved: approved > 0 ? c.fn / approved : null,
    expectedCost: (c.fn * costs.fn + c.fp * costs.fp) / m.rows,
    precision: c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : null,
    recall: c.tp / (c.tp + c.fn),
  };
}

const pct1 = (x) => `${(x * 100).toFixed(1)}%`;
const int = (n) => n.toLocaleString('en-US');
const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-9, `${what}: page ${a}, expected ${b}`);

/** Everything the explorer shows, read from the page. */
function readExplorer(page) {
  return page.evaluate(() => {
    const readout = document.getElementById('threshold-readout');
    const fig = {};
    for (const tr of document.querySelectorAll('#tradeoff-body tr')) {
      const sel = tr.querySelector('td.sel');
      const own = tr.querySelector('td.own');
      fig[tr.dataset.figure] = { sel: sel.dataset.value, selText: sel.textContent, own: own.dataset.value, ownText: own.textContent, head: tr.querySelector('th').textContent };
    }
    const roc = document.querySelector('#model-roc .roc-point');
    const pr = document.querySelector('#model-pr .roc-point');
    return {
      slider: Number(document.getElementById('threshold-slider').value),
      threshold: readout.dataset.threshold,
      model: readout.dataset.model === 'true',
      text: readout.textContent,
      valuetext: document.getElementById('threshold-slider').getAttribute('aria-valuetext'),
      fig,
      cm: [...document.querySelectorAll('#model-cm .cm-count')].map((e) => Number(e.textContent)),
      cmTitle: document.querySelector('#model-cm svg title').textContent,
      roc: roc ? { fpr: Number(roc.dataset.fpr), tpr: Number(roc.dataset.tpr) } : null,
      ref: document.querySelector('#model-roc .ref-point') !== null,
      pr: pr ? { recall: Number(pr.dataset.recall), precision: Number(pr.dataset.precision) } : null,
    };
  });
}

/** Checks every figure the explorer shows against the oracle's `e`. */
function assertFigures(shown, e, where) {
  // The confusion matrix: cells in reading order TN FP / FN TP.
  assert.deepEqual(shown.cm, [e.counts.tn, e.counts.fp, e.counts.fn, e.counts.tp], `${where}: confusion matrix`);
  close(Number(shown.fig.approvalRate.sel), e.approvalRate, `${where}: approval rate`);
  assert.equal(shown.fig.approvalRate.selText, `${pct1(e.approvalRate)} (${int(e.approved)} / ${int(e.counts.tn + e.counts.fp + e.counts.fn + e.counts.tp)})`, `${where}: approval rate text`);
  if (e.badRateApproved === null) {
    assert.equal(shown.fig.badRateApproved.sel, '', `${where}: bad rate with nobody approved`);
    assert.equal(shown.fig.badRateApproved.selText, '–');
  } else {
    close(Number(shown.fig.badRateApproved.sel), e.badRateApproved, `${where}: bad rate among approved`);
    assert.equal(shown.fig.badRateApproved.selText, `${pct1(e.badRateApproved)} (${int(e.counts.fn)} / ${int(e.approved)})`, `${where}: bad rate text`);
  }
  close(Number(shown.fig.expectedCost.sel), e.expectedCost, `${where}: expected cost`);
  assert.equal(shown.fig.expectedCost.selText, e.expectedCost.toFixed(3), `${where}: expected cost text`);
  if (e.precision === null) {
    assert.equal(shown.fig.precision.sel, '', `${where}: precision with nobody refused`);
    assert.equal(shown.pr, null, `${where}: no PR mark with nobody refused`);
  } else {
    close(Number(shown.fig.precision.sel), e.precision, `${where}: precision`);
    assert.equal(shown.fig.precision.selText, e.precision.toFixed(3));
    close(shown.pr.precision, e.precision, `${where}: PR mark precision`);
    close(shown.pr.recall, e.recall, `${where}: PR mark recall`);
  }
  close(Number(shown.fig.recall.sel), e.recall, `${where}: recall`);
  assert.equal(shown.fig.recall.selText, e.recall.toFixed(3));
}

async function setSlider(page, value) {
  await page.locator('#threshold-slider').fill(String(value));
  await page.waitForFunction((v) => Number(document.getElementById('threshold-slider').value) === v, value);
}

async function useServedModel(page, id) {
  await page.locator('#model-select').selectOption(`server:${id}`);
  await page.waitForSelector(`body[data-model="server:${id}"]`);
  await waitForProbability(page);
}

describe('decision methodology', () => {
  test('the slider walks every stored ROC point; each figure matches the oracle', async (t) => {
    const { metrics: m, metadata: md } = facts(modelPath('lr'));
    assert.ok(m && m.roc.length >= 3, 'the lr model stores a ROC curve');
    const policy = md.decision && md.decision.kind === 'cost' ? md.decision : null;
    const costs = policy ? { fn: policy.costFn, fp: policy.costFp } : { fn: 5, fp: 1 };
    t.diagnostic(policy ? `costs from the file's cost policy ${policy.policy}` : 'costs from the inputs (default FN = 5, FP = 1): the file has no cost policy');
    const s = await openPage(browser);
    const probability = await waitForProbability(s.page);
    const decisionText = await s.page.locator('#decision').textContent();
    const max = Number(await s.page.locator('#threshold-slider').getAttribute('max'));
    // One position per ROC point, plus the model's own threshold unless a ROC point has its counts.
    assert.ok(max + 1 === m.roc.length || max + 1 === m.roc.length + 1, `slider has ${max + 1} positions for ${m.roc.length} ROC points`);
    const start = await readExplorer(s.page);
    assert.ok(start.model, 'the slider starts at the model threshold');
    assert.equal(Math.fround(Number(start.threshold)), Math.fround(m.threshold), 'the model threshold is shown');
    assertFigures(start, expected(m, m.confusion, costs), 'start');

    const seen = new Map();
    let previous = -Infinity;
    let modelSeen = 0;
    for (let v = 0; v <= max; v += 1) {
      await setSlider(s.page, v);
      const shown = await readExplorer(s.page);
      const thr = shown.threshold === 'Infinity' ? Infinity : Math.fround(Number(shown.threshold));
      assert.ok(thr >= previous, `thresholds rise left to right (${previous} then ${thr} at ${v})`);
      previous = thr;
      let e;
      if (shown.model) {
        modelSeen += 1;
        assert.equal(thr, Math.fround(m.threshold), 'the model position shows the model threshold');
        assert.match(shown.text, /the model’s/);
        // At the model's threshold the figures are the stored confusion matrix.
        e = expected(m, m.confusion, costs);
        assert.equal(shown.ref, false, 'no separate model mark when the model threshold is selected');
      } else {
        const k = m.roc.findIndex((p) => Math.fround(p.threshold) === thr);
        assert.ok(k >= 0, `slider value ${v}: threshold ${shown.threshold} is a stored ROC threshold`);
        assert.ok(!seen.has(k), `ROC point ${k} appears once`);
        seen.set(k, v);
        e = expected(m, countsFromRoc(m, m.roc[k]), costs);
        close(shown.roc.fpr, m.roc[k].fpr, `ROC mark fpr at point ${k}`);
        close(shown.roc.tpr, m.roc[k].tpr, `ROC mark tpr at point ${k}`);
        assert.equal(shown.ref, true, 'the model threshold stays marked on the ROC curve');
        if (k === 0) assert.match(shown.text, /above every score/);
      }
      assertFigures(shown, e, `slider ${v} (threshold ${shown.threshold})`);
      // The model's column does not move.
      close(Number(shown.fig.approvalRate.own), expected(m, m.confusion, costs).approvalRate, 'model column');
      assert.match(shown.valuetext, /approval rate/);
    }
    assert.equal(modelSeen, 1, 'the model threshold is one slider position');
    // Every ROC point is a position, except one whose counts are the model's own (then it is the model's position).
    const missing = m.roc.map((_, k) => k).filter((k) => !seen.has(k));
    assert.ok(missing.length <= 1, `ROC points without a slider position: ${missing}`);
    for (const k of missing) assert.deepEqual(countsFromRoc(m, m.roc[k]), { ...m.confusion }, `ROC point ${k} has the model's counts`);
    t.diagnostic(missing.length ? `the model threshold takes the place of ROC point ${missing[0]} (same counts)` : `the model threshold is inserted between the ${m.roc.length} stored ROC points (thinned curve)`);
    assert.equal(seen.size + modelSeen, max + 1);
    // The ends: everybody refused at the lowest threshold, nobody at the highest.
    await setSlider(s.page, 0);
    assert.equal(Number((await readExplorer(s.page)).fig.approvalRate.sel), 0);
    await setSlider(s.page, max);
    assert.equal(Number((await readExplorer(s.page)).fig.approvalRate.sel), 1);

    // Exploring changes nothing of the model: same score, same decision at the file's threshold.
    assert.equal(await s.page.locator('#probability').getAttribute('data-probability'), probability);
    assert.equal(await s.page.locator('#decision').textContent(), decisionText);
    assert.match(await s.page.locator('#explore-note').textContent(), /Exploration only: the model file keeps its threshold/);
    assertClean(s);
    await s.context.close();
  });

  test('costs can be edited when the file has no cost policy; reset restores the model threshold', async (t) => {
    const { metrics: m, metadata: md } = facts(modelPath('lr'));
    const s = await openPage(browser);
    await waitForProbability(s.page);
    const start = await readExplorer(s.page);
    const max = Number(await s.page.locator('#threshold-slider').getAttribute('max'));
    const v = Math.round(max * 0.3);
    await setSlider(s.page, v);
    const moved = await readExplorer(s.page);
    assert.notEqual(moved.slider, start.slider);
    const k = m.roc.findIndex((p) => Math.fround(p.threshold) === Math.fround(Number(moved.threshold)));
    const c = moved.model ? m.confusion : countsFromRoc(m, m.roc[k]);
    if (md.decision && md.decision.kind === 'cost') {
      t.diagnostic(`cost policy ${md.decision.policy}: costs are fixed by the file`);
      assert.equal(await s.page.locator('#explore-costs').getAttribute('data-source'), 'policy');
      assert.equal(await s.page.locator('#cost-fn').count(), 0);
      assertFigures(moved, expected(m, c, { fn: md.decision.costFn, fp: md.decision.costFp }), 'policy costs');
    } else {
      t.diagnostic('no cost policy in the file: costs typed by the advisor');
      assert.equal(await s.page.locator('#cost-fn').inputValue(), '5');
      assert.equal(await s.page.locator('#cost-fp').inputValue(), '1');
      await s.page.locator('#cost-fn').fill('10');
      await s.page.locator('#cost-fp').fill('2.5');
      await s.page.waitForFunction(() => /FN = 10, FP = 2\.5/.test(document.querySelector('#tradeoff-body [data-figure="expectedCost"] th').textContent));
      assertFigures(await readExplorer(s.page), expected(m, c, { fn: 10, fp: 2.5 }), 'typed costs');
      // A cost that is not a number: no expected cost, the field is marked.
      await s.page.locator('#cost-fp').fill('abc');
      await s.page.waitForFunction(() => document.getElementById('cost-fp').getAttribute('aria-invalid') === 'true');
      assert.equal(await s.page.locator('#tradeoff-body [data-figure="expectedCost"] td.sel').textContent(), '–');
      await s.page.locator('#cost-fp').fill('1');
      await s.page.locator('#cost-fn').fill('5');
      await s.page.waitForFunction(() => document.getElementById('cost-fp').getAttribute('aria-invalid') === null);
    }
    // The keyboard moves the slider one ROC point at a time.
    await s.page.locator('#threshold-slider').focus();
    await s.page.keyboard.press('ArrowRight');
    await s.page.waitForFunction((x) => Number(document.getElementById('threshold-slider').value) === x + 1, v);
    const stepped = await readExplorer(s.page);
    assert.ok(Number(stepped.threshold === 'Infinity' ? Infinity : stepped.threshold) >= Number(moved.threshold));

    await s.page.locator('#threshold-reset').click();
    await s.page.waitForFunction(() => document.getElementById('threshold-readout').dataset.model === 'true');
    const reset = await readExplorer(s.page);
    assert.equal(reset.slider, start.slider, 'slider back at the model position');
    assert.equal(Math.fround(Number(reset.threshold)), Math.fround(m.threshold));
    assert.equal(Math.fround(Number(reset.threshold)), Math.fround(md.threshold), 'the file threshold');
    const costs = md.decision && md.decision.kind === 'cost' ? { fn: md.decision.costFn, fp: md.decision.costFp } : { fn: 5, fp: 1 };
    assertFigures(reset, expected(m, m.confusion, costs), 'after reset');
    assert.match(reset.cmTitle, new RegExp(`threshold ${reset.threshold.replace('.', '\\.')}`));
    await screenshot(s.page.locator('#quality'), 'decision-explorer');
    assertClean(s, ['abc']);
    await s.context.close();
  });

  test('PR curve and average precision beside the ROC curve, for every served model', async (t) => {
    const s = await openPage(browser);
    await waitForProbability(s.page);
    for (const id of ['lr', 'gbm']) {
      await useServedModel(s.page, id);
      const { metrics: m } = facts(modelPath(id));
      // The oracle's PR points: precision = TP / (TP + FP), recall = tpr, points with TP + FP = 0 left out.
      const pr = m.roc
        .map((p) => ({ p, c: countsFromRoc(m, p) }))
        .filter(({ c }) => c.tp + c.fp > 0)
        .map(({ p, c }) => ({ recall: p.tpr, precision: c.tp / (c.tp + c.fp) }));
      let ap = 0;
      let prev = 0;
      for (const p of pr) {
        ap += (p.recall - prev) * p.precision;
        prev = p.recall;
      }
      const chart = s.page.locator('#model-pr svg');
      assert.equal(await chart.getAttribute('role'), 'img');
      assert.match(await chart.getAttribute('aria-label'), /Precision–recall curve, average precision \d\.\d{3}/);
      const points = (await s.page.locator('#model-pr polyline.pr-line').getAttribute('points')).trim().split(/\s+/);
      assert.equal(points.length, 2 * pr.length, `${id}: two steps per PR point`);
      const apEl = s.page.locator('#model-ap');
      if (m.averagePrecision != null) {
        t.diagnostic(`${id}: averagePrecision stored in the file`);
        assert.equal(await apEl.getAttribute('data-source'), 'file');
        assert.equal(Number(await apEl.getAttribute('data-value')), m.averagePrecision);
        assert.match(await apEl.textContent(), new RegExp(`Average precision ${m.averagePrecision.toFixed(3)} \\(stored in the file\\)`));
      } else {
        t.diagnostic(`${id}: no averagePrecision in the file: computed from the stored curve`);
        assert.equal(await apEl.getAttribute('data-source'), 'curve');
        close(Number(await apEl.getAttribute('data-value')), ap, `${id}: AP from the curve`);
        assert.match(await apEl.textContent(), new RegExp(`Average precision ${ap.toFixed(3)}, computed from the stored ROC curve \\(${pr.length} points\\)`));
        assert.equal(await s.page.locator('#model-metrics [data-metric="averagePrecision"] td').textContent(), `${ap.toFixed(3)}*`);
      }
      // Both curves are side by side in the quality grid, each with its operating point.
      const [roc, prBox] = await Promise.all([s.page.locator('#model-roc').boundingBox(), s.page.locator('#model-pr').boundingBox()]);
      assert.ok(Math.abs(roc.y - prBox.y) < 2 && prBox.x > roc.x, `${id}: PR curve beside the ROC curve`);
      assert.equal(await s.page.locator('#model-roc .roc-point').count(), 1);
      assert.equal(await s.page.locator('#model-pr .roc-point').count(), 1);
    }
    assertClean(s);
    await s.context.close();
  });

  test('policy panel and reliability diagram of the served models (panels when the file records them, notes otherwise)', async (t) => {
    const s = await openPage(browser);
    await waitForProbability(s.page);
    for (const id of ['lr', 'rf']) {
      await useServedModel(s.page, id);
      const { metrics: m, metadata: md } = facts(modelPath(id));
      const d = md.decision;
      if (d) {
        t.diagnostic(`${id}: metadata.decision ${d.policy}: checking the policy panel`);
        assert.equal(await s.page.locator('#policy').getAttribute('data-policy'), d.kind);
        assert.equal(await s.page.locator('#policy [data-item="rule"] code').textContent(), d.policy);
        assert.equal(Number(await s.page.locator('#policy [data-item="threshold"] dd').getAttribute('data-value')), d.threshold);
        assert.equal(await s.page.locator('#policy [data-item="chosenOn"] dd').textContent(), d.chosenOn);
        assert.equal(await s.page.locator('#policy [data-item="approvalRate"] dd').textContent(), pct1(d.approvalRate));
        assert.equal(await s.page.locator('#policy [data-item="badRateApproved"] dd').textContent(), pct1(d.badRateApproved));
        if (d.kind === 'cost') {
          assert.match(await s.page.locator('#policy [data-item="rule"] span').textContent(), new RegExp(`costs ${d.costFn}, .* costs ${d.costFp}`));
          assert.equal(await s.page.locator('#policy [data-item="expectedCost"] dd').textContent(), d.expectedCost == null ? '–' : d.expectedCost.toFixed(3));
        } else {
          assert.equal(await s.page.locator('#policy [data-item="expectedCost"]').count(), 0);
        }
        assert.equal(await s.page.locator('#policy-none').count(), 0);
      } else {
        t.diagnostic(`${id}: no metadata.decision: checking the fallback note`);
        assert.equal(await s.page.locator('#policy').getAttribute('data-policy'), 'none');
        assert.match(await s.page.locator('#policy-none').textContent(), new RegExp(`^Fixed threshold \\(${String(md.threshold).replace('.', '\\.')}\\), no policy recorded`));
      }
      const bins = Array.isArray(m.reliability) ? m.reliability : [];
      if (bins.length) {
        t.diagnostic(`${id}: ${bins.length} reliability bins: checking the diagram`);
        assert.equal(await s.page.locator('#model-reliability .rel-point').count(), bins.length);
        assert.equal(await s.page.locator('#model-reliability svg line.diagonal').count(), 1);
        const caption = await s.page.locator('#reliability-caption').textContent();
        assert.match(caption, new RegExp(`ECE\\) ${m.ece == null ? '–' : m.ece.toFixed(3)}`));
        assert.match(caption, new RegExp(`Brier score ${m.brier.toFixed(3)}`));
        assert.equal(await s.page.locator('#reliability-none').count(), 0);
      } else {
        t.diagnostic(`${id}: no reliability bins: checking the note`);
        assert.equal(await s.page.locator('#model-reliability').count(), 0);
        assert.equal(await s.page.locator('#reliability-none').textContent(), 'No calibration data in this file.');
      }
      const on = await s.page.locator('#quality-on').textContent();
      if (m.evaluatedOn) assert.ok(on.includes(m.evaluatedOn), `evaluatedOn shown: ${on}`);
      else assert.match(on, /^Measured on the held-out test split/);
    }
    assertClean(s);
    await s.context.close();
  });

  test('a file written before threshold policies: "fixed threshold, no policy recorded", in English and Chinese', async () => {
    // A frozen golden file (format 2, written by the CLI before this change): it never records a policy.
    const file = path.join(cfg.root, 'tests', 'golden', 'v2', 'lr.frk');
    const { metadata: md, metrics: m } = facts(file);
    assert.equal(md.decision ?? null, null, 'a format-2 file has no decision policy');
    assert.equal(md.threshold, 0.5);
    const s = await openPage(browser);
    await waitForProbability(s.page);
    await s.page.locator('#model-file').setInputFiles(file);
    await s.page.waitForFunction(() => document.querySelector('#model-select').selectedOptions[0]?.textContent.includes('your file'));
    await s.page.waitForSelector('#policy-none');
    assert.equal(
      await s.page.locator('#policy-none').textContent(),
      'Fixed threshold (0.5), no policy recorded: this file does not say how its threshold was chosen.',
    );
    assert.equal(await s.page.locator('#policy dl').count(), 0);
    if (m) {
      // The explorer works on the old file's stored curve too (here the model's counts are a ROC point's).
      const max = Number(await s.page.locator('#threshold-slider').getAttribute('max'));
      assert.equal(max + 1, m.roc.length);
      const shown = await readExplorer(s.page);
      assert.ok(shown.model);
      assertFigures(shown, expected(m, m.confusion, { fn: 5, fp: 1 }), 'old file at its threshold');
      await setSlider(s.page, 0);
      const low = await readExplorer(s.page);
      assert.deepEqual(low.cm, [0, m.rows - m.positives, 0, m.positives], 'lowest threshold refuses everybody');
      assert.equal(await s.page.locator('#reliability-none').textContent(), 'No calibration data in this file.');
    }
    await s.page.locator('#lang').selectOption('zh');
    await s.page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    assert.equal(await s.page.locator('#policy-none').textContent(), '固定阈值（0.5），未记录策略：此文件未说明阈值是如何选定的。');
    assert.equal(await s.page.locator('#policy h3').textContent(), '决策策略');
    if (m) {
      assert.equal(await s.page.locator('label[for="threshold-slider"]').textContent(), '阈值');
      assert.equal(await s.page.locator('#threshold-reset').textContent(), '恢复为模型阈值');
      // The explored position survives the language switch.
      assert.equal(await s.page.locator('#threshold-slider').inputValue(), '0');
    }
    await s.page.locator('#lang').selectOption('en');
    assertClean(s);
    await s.context.close();
  });
});
