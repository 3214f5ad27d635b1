// Shared helpers of the page's end-to-end tests. scripts/test-e2e.sh sets the
// environment: the server's URL, freshly trained models, the data they were
// trained on, the CLI binary, and where screenshots go.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { quoteField } from '../../wasm/npm/csvtools.js';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the page tests with scripts/test-e2e.sh`);
  return v;
}

export const cfg = {
  url: env('E2E_URL'),
  models: env('E2E_MODELS'),
  data: env('E2E_DATA'),
  label: env('E2E_LABEL'),
  positive: env('E2E_POSITIVE'),
  tmp: env('E2E_TMP'),
  bin: env('E2E_BIN'),
  screens: env('E2E_SCREENS'),
  root: env('E2E_ROOT'),
};

const require = createRequire(path.join(cfg.root, 'tools', 'package.json'));
const { chromium } = require('playwright-core');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launch() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

/**
 * Opens the page in a fresh context and records every request it makes and
 * every console error or uncaught page error (also from workers).
 */
export async function openPage(browser, { viewport = { width: 1280, height: 900 }, url = cfg.url } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, locale: 'en-US' });
  const requests = [];
  const problems = [];
  context.on('request', (req) => {
    requests.push({ url: req.url(), method: req.method(), body: req.postData() });
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('worker', (w) => {
    if (typeof w.on === 'function') {
      w.on('console', (m) => {
        if (m.type() === 'error') problems.push(`worker console error: ${m.text()}`);
      });
    }
  });
  await page.goto(url);
  try {
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  } catch (e) {
    throw new Error(`the page did not get ready: ${e.message}\n${problems.join('\n')}`);
  }
  return { context, page, requests, problems };
}

/**
 * Fails on any console or page error, on a request that leaves 127.0.0.1, and
 * on a request that could carry form values: a query string, a body, or any
 * of `typed` (values the test typed) anywhere in the URL.
 */
export function assertClean(session, typed = []) {
  assert.deepEqual(session.problems, [], 'console or page errors');
  assert.ok(session.requests.length > 0, 'no requests were recorded');
  for (const r of session.requests) {
    const u = new URL(r.url);
    assert.equal(u.hostname, '127.0.0.1', `request outside 127.0.0.1: ${r.url}`);
    assert.equal(u.search, '', `request with a query string: ${r.url}`);
    assert.equal(r.method, 'GET', `${r.method} request: ${r.url}`);
    assert.ok(!r.body, `request with a body: ${r.url}`);
    for (const v of typed) assert.ok(!r.url.includes(v), `request carries the typed value ${v}: ${r.url}`);
  }
}

export async function screenshot(page, name, options = {}) {
  fs.mkdirSync(cfg.screens, { recursive: true });
  await page.screenshot({ path: path.join(cfg.screens, `${name}.png`), ...options });
}

export function cli(args) {
  return execFileSync(cfg.bin, args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `ferrisk predict` on a whole file; exit code 3 (some rows failed) is accepted. */
export function cliPredictFile(model, input, output) {
  const r = spawnSync(cfg.bin, ['predict', '--model', model, '--data', input, '--out', output], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0 && r.status !== 3) throw new Error(`ferrisk predict failed (${r.status}): ${r.stderr}`);
  return parseCsv(fs.readFileSync(output, 'utf8'));
}

/**
 * The tests' own CSV reader (the page has none: the wasm runtime reads CSV).
 * RFC 4180 quotes, a leading BOM, LF or CRLF, blank lines skipped, `,` `;`
 * or tab picked from the header as the runtime picks it. Returns {header,
 * records}: each record's raw text (without its line break), its fields and
 * the line it starts on.
 */
export function readCsv(text) {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let delim = null;
  const out = [];
  while (pos < text.length) {
    const start = pos;
    const startLine = line;
    // The record ends at the first line break outside quotes.
    let quoted = false;
    let end = text.length;
    for (let i = pos; i < text.length; i += 1) {
      const c = text[i];
      if (c === '"') quoted = !quoted;
      else if (c === '\n') {
        line += 1;
        if (!quoted) {
          end = i;
          break;
        }
      }
    }
    pos = end + 1;
    const raw = text.slice(start, end > start && text[end - 1] === '\r' ? end - 1 : end);
    if (raw.trim() === '') continue;
    if (delim === null) {
      const counts = { ',': 0, ';': 0, '\t': 0 };
      let q = false;
      for (const c of raw) {
        if (c === '"') q = !q;
        else if (!q && c in counts) counts[c] += 1;
      }
      delim = [';', '\t'].reduce((best, d) => (counts[d] > counts[best] ? d : best), ',');
    }
    out.push({ text: raw, fields: splitRecord(raw, delim), line: startLine });
  }
  const [header, ...records] = out;
  return { header, records };
}

/** Fields of one record (quotes removed, `""` unescaped). */
function splitRecord(record, delim) {
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < record.length; i += 1) {
    const c = record[i];
    if (quoted) {
      if (c === '"' && record[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delim) {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** Parses CSV text into {header, rows} (fields as strings). */
export function parseCsv(text) {
  const { header, records } = readCsv(text);
  return { header: header.fields.map((s) => s.trim()), rows: records.map((r) => r.fields) };
}

export function toCsv(header, rows) {
  const line = (fields) => fields.map((f) => quoteField(f ?? '')).join(',');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

let seq = 0;

/** Scores one customer with `ferrisk predict`; returns the output row as an object. */
export function cliPredictOne(model, customer) {
  seq += 1;
  const names = Object.keys(customer);
  const input = path.join(cfg.tmp, `one-${seq}.csv`);
  const output = path.join(cfg.tmp, `one-${seq}-scored.csv`);
  fs.writeFileSync(input, toCsv(names, [names.map((n) => customer[n])]));
  cli(['predict', '--model', model, '--data', input, '--out', output]);
  const { header, rows } = parseCsv(fs.readFileSync(output, 'utf8'));
  assert.equal(rows.length, 1);
  return Object.fromEntries(header.map((h, i) => [h, rows[0][i]]));
}

export function modelPath(id) {
  return path.join(cfg.models, `${id}.frk`);
}

/** The form's current values, by feature name. */
export function readForm(page) {
  return page.evaluate(() => {
    const out = {};
    for (const el of document.querySelectorAll('#fields [data-feature]')) out[el.dataset.feature] = el.value;
    return out;
  });
}

/** Waits until the page shows a probability other than `previous`; returns it. */
export async function waitForProbability(page, previous = null) {
  await page.waitForFunction(
    (prev) => {
      const el = document.getElementById('probability');
      return el && el.dataset.probability && el.dataset.probability !== prev;
    },
    previous,
    { timeout: 10000 },
  );
  return page.locator('#probability').getAttribute('data-probability');
}

/** Asserts two f32 texts denote the same f32 (and are the same text). */
export function assertSameF32(pageText, cliText, what) {
  assert.ok(pageText && cliText, `${what}: missing probability (page ${pageText}, cli ${cliText})`);
  assert.equal(Math.fround(Number(pageText)), Math.fround(Number(cliText)), `${what}: page ${pageText} vs cli ${cliText}`);
  assert.equal(pageText, cliText, `${what}: same f32, different text`);
}

/** Reads the data rows of the CSV the models were trained on. */
export function trainingRows() {
  return parseCsv(fs.readFileSync(cfg.data, 'utf8'));
}

/** Writes a CSV of `n` rows cycling through the training data rows. */
export function writeBigCsv(file, n) {
  const { header, records } = readCsv(fs.readFileSync(cfg.data, 'utf8'));
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, `${header.text}\n`);
    let buf = '';
    for (let i = 0; i < n; i += 1) {
      buf += `${records[i % records.length].text}\n`;
      if (buf.length > 1 << 20) {
        fs.writeSync(fd, buf);
        buf = '';
      }
    }
    fs.writeSync(fd, buf);
  } finally {
    fs.closeSync(fd);
  }
}
