// The npm package in headless Chromium (scripts/test-npm.sh): serves the
// sample app bundled by esbuild from the packed tarball (NPM_DIST) under a
// strict CSP, runs it (app/app.js), and checks what it saw against the
// native CLI (NPM_FIX: model.frk, model.pred.csv, model.explain.json):
// the worker scorer's batch equals `ferrisk predict` bit for bit, the
// explanation equals `ferrisk explain --json`, a cancelled batch stops,
// errors carry their codes and fields, and the console shows no error.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { load, sameJson } from './oracle.mjs';
import { serve } from './serve.mjs';

const root = process.env.NPM_ROOT;
const dist = process.env.NPM_DIST;
const fix = process.env.NPM_FIX;
if (!root || !dist || !fix) throw new Error('run with scripts/test-npm.sh (NPM_ROOT, NPM_DIST, NPM_FIX)');
const require = createRequire(path.join(root, 'tools', 'package.json'));
const { chromium } = require('playwright-core');
const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

const o = load(fix);
const numericFeature = Object.keys(o.customer).find((k) => typeof o.customer[k] === 'number');
fs.mkdirSync(path.join(dist, 'models'), { recursive: true });
fs.copyFileSync(path.join(fix, 'model.frk'), path.join(dist, 'models', 'model.frk'));
fs.writeFileSync(
  path.join(dist, 'fixture.json'),
  JSON.stringify({
    sha256: o.sha256,
    customer: o.customer,
    rows: o.customers,
    numericFeature,
    strayQuoteCsv: o.strayQuoteCsv,
    csv: fs.readFileSync(path.join(fix, 'data.csv'), 'utf8'),
  }),
);

const { server, url } = await serve(dist);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, headless: true });
let passed = 0;
const check = (name, f) => {
  f();
  passed += 1;
  console.log(`ok - ${name}`);
};
try {
  const page = await browser.newPage();
  const problems = [];
  const requests = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const workers = [];
  page.on('worker', (w) => workers.push(w.url()));
  page.on('worker', (w) => w.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`worker console ${m.type()}: ${m.text()}`);
  }));
  page.on('request', (r) => requests.push(r.url()));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForSelector('body[data-done="true"]', { timeout: 120000 });
  const r = await page.evaluate(() => window.__ferrisk);
  console.log(`sample app ran in ${Date.now() - t0} ms; steps: ${r.steps.join(', ')}`);
  if (r.fatal) console.log('fatal:', r.fatal);

  check('the app ran every step', () => assert.deepEqual(r.steps, ['loaded', 'explained', 'batch', 'csv file', 'cancelled', 'done']));
  check('no console error or warning, no CSP violation', () => assert.deepEqual(problems, []));
  check('the worker is a script of the app\'s origin, no blob: URL', () => {
    assert.ok(workers.length >= 1 && workers.every((u) => u.startsWith(url)), workers.join('\n'));
    assert.ok(requests.every((u) => u.startsWith(url)), requests.join('\n'));
  });
  check('the model streamed with progress up to its size', () => {
    assert.ok(r.loadProgress.length >= 1);
    assert.deepEqual(r.loadProgress.at(-1), [o.model.length, o.model.length]);
  });
  check('score with explain equals `ferrisk explain --json`', () => {
    const { record, ...want } = o.explain;
    sameJson('score', r.scored, want);
  });
  check('predictRows (objects and arrays) in the worker equals `ferrisk predict` bit for bit', () => {
    assert.equal(r.batch.length, o.cli.length);
    r.batch.forEach((p, i) => assert.equal(p, o.cli[i], `row ${i}`));
    assert.deepEqual(r.localBatch, r.batch);
  });
  check('batch progress after each chunk', () => {
    const n = o.cli.length;
    const want = [];
    for (let d = 250; d < n; d += 250) want.push([d, n]);
    want.push([n, n]);
    assert.deepEqual(r.batchProgress, want);
  });
  check('predictCsvFile in the worker equals `ferrisk predict`, with progress per slice', () => {
    assert.deepEqual(r.csvFile, o.cli);
    const size = Buffer.byteLength(fs.readFileSync(path.join(fix, 'data.csv'), 'utf8'));
    assert.deepEqual(r.csvFileProgress[0], [0, size]);
    assert.deepEqual(r.csvFileProgress.at(-1), [size, size]);
    assert.equal(r.csvFileProgress.length, 1 + Math.ceil(size / 16384));
    assert.equal(r.csvFileOutput, o.cli.length + 2, 'header, one line per row, final newline');
  });
  check('an aborted batch rejects with AbortError and stops', () => {
    assert.equal(r.cancel.name, 'AbortError', JSON.stringify(r.cancel));
    assert.deepEqual(r.cancel.seen, [100, 200]);
    assert.equal(r.afterCancel, r.scored.probability);
  });
  const e = r.errors;
  check('BAD_VALUE names the feature (and the row in a batch)', () => {
    for (const x of [e.badValue, e.localBadValue]) {
      assert.equal(x.isFerrisk && x.isError, true, JSON.stringify(x));
      assert.equal(x.code, 'BAD_VALUE');
      assert.equal(x.feature, numericFeature);
    }
    assert.equal(e.badRow.code, 'BAD_VALUE');
    assert.equal(e.badRow.row, 1);
    assert.equal(e.badRow.feature, numericFeature);
  });
  check('CSV_ROW carries line and column', () => {
    assert.equal(e.csvRow.isFerrisk, true);
    assert.deepEqual([e.csvRow.code, e.csvRow.line, e.csvRow.column], ['CSV_ROW', 3, 2]);
  });
  check('CHECKSUM for a tampered file, INTEGRITY for an unexpected digest', () => {
    assert.deepEqual([e.checksum.isFerrisk, e.checksum.code], [true, 'CHECKSUM']);
    assert.deepEqual([e.integrity.isFerrisk, e.integrity.code], [true, 'INTEGRITY']);
  });
  check('a download past maxBytes stops with FORMAT_TOO_LARGE', () => {
    assert.deepEqual([e.tooLarge.isFerrisk, e.tooLarge.code], [true, 'FORMAT_TOO_LARGE']);
  });
} finally {
  await browser.close();
  server.close();
}
console.log(`npm browser: ${passed} passed`);
