#!/usr/bin/env node
// Explanations of history models in headless Chromium, through the npm
// package's worker as the advisor page makes them.
//
//   node scripts/bench-history.mjs DIR [N]
//
// DIR holds data.csv (customers; the label column is dropped if present) and
// one or more *.frk history models. For each model: the first answer (worker
// start + model load + one explanation), then the median, 90th percentile and
// maximum of N (default 50) explanations one after the other through the
// worker (request to answer, on the page's side), and the median on the main
// thread (`contributions`). Figures only: nothing here fails on a slow timing.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const require = createRequire(join(root, 'tools/package.json'));
const { chromium } = require('playwright-core');

const dir = process.argv[2] ? resolve(process.argv[2]) : null;
const N = Number(process.argv[3] || 50);
if (!dir || !existsSync(join(dir, 'data.csv'))) {
  console.error('usage: node scripts/bench-history.mjs DIR [N]   (DIR/data.csv and DIR/*.frk)');
  process.exit(2);
}
if (!existsSync(join(root, 'www/pkg/ferrisk_wasm_bg.wasm'))) {
  console.error('bench-history: www/pkg is missing: run scripts/build-wasm.sh first');
  process.exit(1);
}
const models = readdirSync(dir).filter((f) => f.endsWith('.frk')).sort();

// The synthetic tables have no quoted fields: a plain split reads them.
const lines = readFileSync(join(dir, 'data.csv'), 'utf8').trim().split('\n');
const header = lines[0].split(',');
const label = process.env.BENCH_LABEL || 'default';
const customers = lines.slice(1, 201).map((l) => {
  const cells = l.split(',');
  return Object.fromEntries(header.map((h, i) => [h, cells[i]]).filter(([h]) => h !== label));
});

const ROUTES = { '/pkg/': join(root, 'www/pkg'), '/bench/': join(root, 'bench'), '/fixtures/': dir };
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.frk': 'application/octet-stream', '.json': 'application/json' };
const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const prefix = Object.keys(ROUTES).find((p) => path.startsWith(p));
  const base = prefix && ROUTES[prefix];
  const file = base && normalize(join(base, path.slice(prefix.length)));
  if (!file || !(file === base || file.startsWith(base + sep))) return res.writeHead(404).end();
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;
const flags = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: flags, headless: true });
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const f1 = (x) => x.toFixed(1);
console.log(`history explanations in headless Chromium (${N} customers each, one after the other; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);
console.log('model                 players  first ms  worker median  p90    max    main-thread median');
let failed = false;
for (const m of models) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${origin}/bench/history.html`);
  await page.waitForFunction(() => window.__ready, null, { timeout: 30000 });
  try {
    const r = await page.evaluate(([file, cs, n]) => window.runBench(file, cs, n), [m, customers, N]);
    console.log(
      `${m.padEnd(22)}${String(r.players).padStart(7)}  ${f1(r.firstMs).padStart(8)}  ${f1(q(r.workerMs, 0.5)).padStart(13)}  ${f1(q(r.workerMs, 0.9)).padStart(5)}  ${f1(Math.max(...r.workerMs)).padStart(5)}  ${f1(q(r.mainMs, 0.5)).padStart(8)}`,
    );
  } catch (e) {
    failed = true;
    console.error(`${m}: ${e.message} ${errors.join('; ')}`);
  }
  await page.close();
}
console.log('target: one explanation of a 12-month, 3-channel history with 20 static features <= 300 ms in the worker (issue 14)');
await browser.close();
server.close();
process.exit(failed ? 1 : 0);
