// Signed model files in the page. With a trusted key configured in
// trusted-keys.json (answered here by a route, as a bank's deployment would
// serve it), the page refuses unsigned, foreign-signed and expired model
// files with the reason and loads a file the bank signed, scoring it as the
// CLI does. With the shipped empty list, every file loads as before.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertClean, assertSameF32, cfg, cli, cliPredictOne, launch, modelPath, openPage, readForm, waitForProbability } from './lib.mjs';

let browser;
const files = {};
let bankKey = '';

before(async () => {
  browser = await launch();
  const dir = fs.mkdtempSync(path.join(cfg.tmp, 'trust-'));
  const bank = path.join(dir, 'bank.key');
  const other = path.join(dir, 'other.key');
  bankKey = cli(['keygen', '--out', bank]).trim();
  cli(['keygen', '--out', other]);
  assert.match(bankKey, /^ferrisk-public-key [0-9a-f]{16} [0-9a-f]{64}$/);
  const sign = (key, name, extra) => {
    files[name] = path.join(dir, `${name}.frk`);
    cli(['sign', '--key', key, '--model', modelPath('lr'), '--out', files[name], ...extra]);
  };
  sign(bank, 'lr-signed', ['--note', 'approved by model risk, ticket 123', '--expires', '2099-12-31']);
  sign(other, 'lr-foreign', ['--note', 'approved by someone else']);
  sign(bank, 'lr-expired', ['--note', 'approved until 2020', '--expires', '2020-01-01']);
  files['lr-unsigned'] = path.join(dir, 'lr-unsigned.frk');
  fs.copyFileSync(modelPath('lr'), files['lr-unsigned']);
});

after(async () => {
  await browser?.close();
});

/**
 * Opens the page with `keys` as its trusted-keys.json (and `routes` for
 * other URLs), recording requests and errors as lib.mjs's openPage does.
 */
async function openTrusted(keys, routes = []) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', serviceWorkers: 'block' });
  const requests = [];
  const problems = [];
  context.on('request', (req) => requests.push({ url: req.url(), method: req.method(), body: req.postData() }));
  await context.route(/\/trusted-keys\.json$/, (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify(keys) }));
  for (const [pattern, handler] of routes) await context.route(pattern, handler);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(cfg.url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  return { context, page, requests, problems };
}

async function statusText(page) {
  return page.locator('#model-status').textContent();
}

/** Opens a model file with the file picker; waits for an error or for the model to load. */
async function openFile(page, name) {
  // Forget the previous message, so that only this file's outcome ends the wait.
  await page.evaluate(() => {
    const el = document.getElementById('model-status');
    el.textContent = '';
    el.className = 'status';
  });
  await page.locator('#model-file').setInputFiles(files[name]);
  await page.waitForFunction(
    (n) => document.querySelector('#model-status.error') || (document.body.dataset.model || '').startsWith(`file:${n}.frk:`),
    name,
    { timeout: 10000 },
  );
}

describe('signed model files', () => {
  test('with a trusted key, unsigned, foreign and expired files are refused with the reason; a signed one loads', async () => {
    const s = await openTrusted([bankKey]);
    // The served model is not signed: refused at start, nothing loaded.
    await s.page.waitForSelector('#model-status.error');
    assert.match(await statusText(s.page), /Cannot open lr: model file is not signed; only files signed by a trusted key/);
    assert.equal(await s.page.evaluate(() => document.body.dataset.model), undefined);

    const id = bankKey.split(' ')[1];
    await openFile(s.page, 'lr-unsigned');
    assert.match(await statusText(s.page), new RegExp(`lr-unsigned\\.frk: model file is not signed.*${id}`));
    await openFile(s.page, 'lr-foreign');
    assert.match(await statusText(s.page), /lr-foreign\.frk: model file is signed by key [0-9a-f]{16}, which is not a trusted key/);
    await openFile(s.page, 'lr-expired');
    assert.match(await statusText(s.page), /lr-expired\.frk: model file approval expired: .* valid through 2020-01-01/);
    assert.equal(await s.page.evaluate(() => document.body.dataset.model), undefined);
    // None of the refused files was added to the model picker.
    const options = await s.page.locator('#model-select option').allTextContents();
    assert.ok(!options.some((o) => /lr-(unsigned|foreign|expired)/.test(o)), options.join(', '));

    await openFile(s.page, 'lr-signed');
    assert.doesNotMatch(await s.page.locator('#model-status').getAttribute('class'), /error/);
    const shown = await waitForProbability(s.page);
    const native = cliPredictOne(files['lr-signed'], await readForm(s.page));
    assertSameF32(shown, native.probability, 'signed lr probability');
    assertClean(s);
    await s.context.close();
  });

  test('with a trusted key, a signed model the server lists loads at start', async () => {
    const signed = fs.readFileSync(files['lr-signed']);
    const s = await openTrusted(
      [{ publicKey: bankKey, name: 'model risk 2026' }],
      [[/\/model-files\/lr\.frk$/, (route) => route.fulfill({ contentType: 'application/octet-stream', body: signed })]],
    );
    await s.page.waitForSelector('body[data-model="server:lr"]');
    const shown = await waitForProbability(s.page);
    const native = cliPredictOne(files['lr-signed'], await readForm(s.page));
    assertSameF32(shown, native.probability, 'served signed lr probability');
    assert.ok(s.requests.some((r) => r.url.endsWith('/trusted-keys.json')), 'trusted-keys.json was not requested');
    assertClean(s);
    await s.context.close();
  });

  test('a malformed trusted-keys.json refuses every model instead of loading unverified ones', async () => {
    const s = await openTrusted(['not a key']);
    await s.page.waitForSelector('#model-status.error');
    assert.match(await statusText(s.page), /Cannot open lr: trustedKeys\[0\]: not a public key/);
    await openFile(s.page, 'lr-signed');
    assert.match(await statusText(s.page), /trustedKeys\[0\]/);
    assertClean(s);
    await s.context.close();
  });

  test('without trusted keys (the shipped empty list), signed and unsigned files load as before', async () => {
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(cfg.root, 'www/trusted-keys.json'), 'utf8')), []);
    const s = await openPage(browser);
    const first = await waitForProbability(s.page);
    assert.equal(await s.page.evaluate(() => document.body.dataset.model), 'server:lr');
    for (const name of ['lr-signed', 'lr-foreign', 'lr-expired']) {
      await openFile(s.page, name);
      assert.doesNotMatch(await s.page.locator('#model-status').getAttribute('class'), /error/, name);
    }
    const shown = await waitForProbability(s.page, null);
    assertSameF32(shown, first, 'the signed lr scores as the unsigned one');
    assertClean(s);
    await s.context.close();
  });
});
