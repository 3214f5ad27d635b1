// Memory without free() (scripts/test-npm.sh; node --expose-gc): loads a
// ~2 MB forest 1,000 times and drops each scorer unreleased; wasm-bindgen's
// FinalizationRegistry frees them after garbage collection. The wasm memory
// is recorded every 100 loads and must level off: the last 500 loads may
// grow it by at most MAX_LATE_GROWTH, while 1,000 live copies would need
// ~1,000x the memory of one.
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { ready, Scorer } from 'ferrisk';
import init from 'ferrisk/ferrisk_wasm.js';

const MAX_LATE_GROWTH = 16 * 1024 * 1024;
assert.equal(typeof globalThis.gc, 'function', 'run with node --expose-gc');
const bytes = new Uint8Array(fs.readFileSync(process.argv[2]));
await ready();
const { memory } = await init();
const tick = () => new Promise((r) => setTimeout(r, 0));

const before = memory.buffer.byteLength;
{
  // What one live copy costs (freed at once).
  const s = Scorer.load(bytes);
  s.free();
}
const levels = [];
for (let i = 1; i <= 1000; i += 1) {
  Scorer.load(bytes); // dropped without free()
  if (i % 10 === 0) {
    globalThis.gc();
    await tick(); // finalizers run in a later task
  }
  if (i % 100 === 0) levels.push(memory.buffer.byteLength);
}
const mb = (n) => (n / 1048576).toFixed(1);
console.log(`npm memory: model ${mb(bytes.length)} MB; wasm memory before ${mb(before)} MB, every 100 loads: ${levels.map(mb).join(' ')} MB`);
const late = levels[9] - levels[4];
assert.ok(late <= MAX_LATE_GROWTH, `the last 500 loads grew wasm memory by ${mb(late)} MB (limit ${mb(MAX_LATE_GROWTH)} MB)`);
assert.ok(levels[9] < 1000 * bytes.length / 4, 'the memory holds far fewer than 1,000 copies');
console.log(`npm memory: ok (last 500 loads: +${mb(late)} MB)`);
