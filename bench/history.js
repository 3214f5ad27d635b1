// scripts/bench-history.mjs drives this page: it loads a model into the npm
// package's module worker (createScorer with {worker: true}, as the advisor
// page does for history models), then times `score(customer, {explain: true,
// reasons: 4})` one customer after the other: the time from the request to
// the answer on the page's side. The same customers on the main thread
// (`contributions`) give the cost without the worker's messaging.
import { createScorer, ready, Scorer } from '/pkg/index.js';

window.runBench = async (file, customers, n) => {
  const bytes = new Uint8Array(await (await fetch(`/fixtures/${file}`)).arrayBuffer());
  const t0 = performance.now();
  const worker = await createScorer(bytes.slice(), { worker: true });
  const first = await worker.score(customers[0], { explain: true, reasons: 4 });
  const firstMs = performance.now() - t0;
  const workerMs = [];
  for (let i = 0; i < n; i++) {
    const c = customers[(i + 1) % customers.length];
    const s = performance.now();
    await worker.score(c, { explain: true, reasons: 4 });
    workerMs.push(performance.now() - s);
  }
  worker.free();
  await ready();
  const scorer = Scorer.load(bytes);
  const mainMs = [];
  for (let i = 0; i < n; i++) {
    const c = customers[(i + 1) % customers.length];
    const s = performance.now();
    scorer.contributions(c);
    mainMs.push(performance.now() - s);
  }
  const md = scorer.metadata();
  scorer.free();
  return { firstMs, workerMs, mainMs, players: first.explanation.contributions.length, method: md.explanationMethod };
};
window.__ready = true;
