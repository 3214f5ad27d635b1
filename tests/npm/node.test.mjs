// The npm package in Node.js (scripts/test-npm.sh copies this file into the
// sample app, where `ferrisk` is the installed tarball): the `node` export
// condition loads the wasm from disk; createScorer, predictRows and the
// sync Scorer give `ferrisk predict`'s probabilities bit for bit; errors
// are FerriskErrors with codes.
import assert from 'node:assert/strict';

import { createScorer, FerriskError, ready, Scorer, version } from 'ferrisk';
import { load } from './oracle.mjs';

const o = load(process.env.NPM_FIX);
const scorer = await createScorer(new Uint8Array(o.model));
const got = await scorer.predictRows(o.customers, { chunkRows: 333 });
assert.equal(got.probabilities.length, o.cli.length);
got.probabilities.forEach((p, i) => assert.equal(p, o.cli[i], `row ${i}`));
const one = await scorer.predict(o.customers[0]);
assert.equal(one.probability, o.cli[0]);
await assert.rejects(scorer.predict({ ...o.customer, duration_in_month: true }), (e) => {
  assert.ok(e instanceof FerriskError && e instanceof Error);
  assert.deepEqual([e.code, e.feature], ['BAD_VALUE', 'duration_in_month']);
  return true;
});
// In this thread too: progress after each chunk, and an aborted signal
// stops the batch before its next chunk.
const controller = new AbortController();
const seen = [];
await assert.rejects(
  scorer.predictRows(o.customers, {
    chunkRows: 100,
    signal: controller.signal,
    onProgress: (done, total) => {
      seen.push([done, total]);
      if (done >= 300) controller.abort();
    },
  }),
  (e) => e.name === 'AbortError',
);
assert.deepEqual(seen, [[100, o.cli.length], [200, o.cli.length], [300, o.cli.length]]);
// The typed-array path, chunked: the same bits as in one piece.
const schema = await scorer.schema();
const n = o.customers.length;
const numeric = schema.features.filter((f) => f.type === 'numeric');
const categorical = schema.features.filter((f) => f.type === 'categorical');
const num = new Float64Array(n * numeric.length);
const codes = new Int32Array(n * categorical.length);
numeric.forEach((f, j) => o.customers.forEach((c, i) => (num[j * n + i] = c[f.name] === '' ? NaN : Number(c[f.name]))));
categorical.forEach((f, j) => o.customers.forEach((c, i) => (codes[j * n + i] = f.categories.indexOf(c[f.name].trim()))));
const whole = await scorer.predictBatch(num, codes, n);
const parts = [];
const chunked = await scorer.predictBatch(num, codes, n, { chunkRows: 128, onProgress: (d) => parts.push(d) });
assert.deepEqual(chunked, whole);
assert.equal(parts.length, Math.ceil(n / 128));
assert.deepEqual(Array.from(whole), o.cli, 'predictBatch equals the CLI');
await scorer.free();

await ready();
assert.match(version(), /^\d+\.\d+\.\d+/);
const sync = Scorer.load(new Uint8Array(o.model));
assert.equal(sync.predict(o.customers[1]).probability, o.cli[1]);
sync.free();
const bad = new Uint8Array(o.model);
bad[bad.length >> 1] ^= 0x40;
assert.throws(() => Scorer.load(bad), (e) => e instanceof FerriskError && e.code === 'CHECKSUM');
await assert.rejects(createScorer(bad), (e) => e instanceof FerriskError && e.code === 'CHECKSUM');
console.log(`npm node: ok (${o.cli.length} rows bit for bit, ferrisk ${version()})`);
