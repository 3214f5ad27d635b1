#!/usr/bin/env node
// Explanation time of the sequence kinds in headless Chromium, in the npm
// package's worker (as the page runs it): 20 static features and a
// 12-month history of 3 channels (issue 14's size, target <= 300 ms).
//
//   cargo run --release --example seq_explain   (writes target/seq-bench and
//                                                prints the native figures)
//   bash scripts/build-wasm.sh
//   node scripts/bench-seq-explain.mjs
//
// Serves www/pkg and target/seq-bench from 127.0.0.1, loads gru.frk and
// tcn.frk with createScorer(url, {worker: true}) and times
// `await scorer.score(customer, {explain: true})` for each customer of
// customers.csv (after 3 warm-up explanations). Also checks that the
// worker's probabilities and contributions equal the in-page scorer's.
// Figures only: nothing fails on a slow timing.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = resolve(fileURLToPath(import.meta.url), "../..");
const require = createRequire(join(root, "tools/package.json"));
const { chromium } = require("playwright-core");
const DATA = resolve(process.env.FERRISK_SEQ_BENCH ?? join(root, "target/seq-bench"));
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
for (const need of [join(root, "www/pkg/ferrisk_wasm_bg.wasm"), join(DATA, "gru.frk")]) {
  if (!existsSync(need)) {
    console.error(`bench-seq-explain: ${need} is missing (see the header of this script)`);
    process.exit(1);
  }
}

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module" src="/bench.js"></script>`;
const SCRIPT = `
import { createScorer } from '/pkg/index.js';
window.run = async (kind, csv) => {
  const [head, ...lines] = csv.trim().split('\\n');
  const names = head.split(',');
  const customers = lines.map((l) => {
    const o = {};
    l.split(',').forEach((v, i) => { o[names[i]] = v === '' ? null : v; });
    return o;
  });
  const worker = await createScorer('/data/' + kind + '.frk', { worker: true });
  const here = await createScorer('/data/' + kind + '.frk');
  for (const c of customers.slice(0, 3)) await worker.score(c, { explain: true });
  const ms = [];
  let same = 0;
  for (const c of customers) {
    const t = performance.now();
    const s = await worker.score(c, { explain: true });
    ms.push(performance.now() - t);
    const h = await here.score(c, { explain: true });
    if (s.probability === h.probability &&
        JSON.stringify(s.explanation) === JSON.stringify(h.explanation)) same++;
  }
  await worker.free();
  await here.free();
  return { ms, same, n: customers.length };
};
window.ready = true;
`;
const routes = { "/pkg/": join(root, "www/pkg"), "/data/": DATA };
const mime = { ".js": "text/javascript", ".wasm": "application/wasm", ".frk": "application/octet-stream" };
const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  if (path === "/" || path === "/bench.js") {
    res.writeHead(200, { "Content-Type": path === "/" ? "text/html" : "text/javascript" });
    res.end(path === "/" ? PAGE : SCRIPT);
    return;
  }
  const prefix = Object.keys(routes).find((p) => path.startsWith(p));
  const base = prefix && routes[prefix];
  const file = base && normalize(join(base, path.slice(prefix.length)));
  if (!file || !file.startsWith(base + sep)) {
    res.writeHead(404).end();
    return;
  }
  try {
    if (!(await stat(file)).isFile()) throw new Error();
    res.writeHead(200, { "Content-Type": mime[extname(file)] ?? "application/octet-stream" });
    res.end(await readFile(file));
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS, headless: true });
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => window.ready, null, { timeout: 30000 });
  const csv = readFileSync(join(DATA, "customers.csv"), "utf8");
  console.log(`load: ${readFileSync("/proc/loadavg", "utf8").trim()}`);
  for (const kind of ["gru", "tcn"]) {
    const { ms, same, n } = await page.evaluate(([k, c]) => window.run(k, c), [kind, csv]);
    const s = [...ms].sort((a, b) => a - b);
    const worstAt = ms.indexOf(s[s.length - 1]);
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    console.log(
      `${kind}: 20 statics + 12 months x 3 channels, one explanation in Chromium's worker: ` +
        `mean ${mean.toFixed(1)} ms, median ${s[s.length >> 1].toFixed(1)} ms, ` +
        `worst ${s[s.length - 1].toFixed(1)} ms (customer ${worstAt}), ` +
        `2nd worst ${s[s.length - 2].toFixed(1)} ms over ${ms.length} customers ` +
        `(worker = in-page scorer bit for bit: ${same}/${n})`,
    );
  }
  if (errors.length) console.error(errors.join("\n"));
} finally {
  await browser.close();
  server.close();
}
