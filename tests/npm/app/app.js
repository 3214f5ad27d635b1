// The sample portal app of the npm package test (scripts/test-npm.sh): it is
// copied into a temporary folder outside the repository, installs the packed
// `ferrisk` tarball, is bundled by esbuild and served with a strict CSP. It
// runs the scenario below in headless Chromium and leaves what it saw in
// `window.__ferrisk` for browser.test.mjs to check against the native CLI.

import { createScorer, FerriskError } from 'ferrisk';

const json = async (url) => (await fetch(url)).json();
const out = { steps: [] };
const step = (name) => out.steps.push(name);

/** What a caught error carries (code, fields, class). */
const caught = (e) => ({
  name: e && e.name,
  message: e && e.message,
  isFerrisk: e instanceof FerriskError,
  isError: e instanceof Error,
  code: e && e.code,
  feature: e && e.feature,
  line: e && e.line,
  column: e && e.column,
  row: e && e.row,
});

async function main() {
  const fixture = await json('./fixture.json');
  // Streamed from a URL, with progress, checked against the expected digest.
  const loaded = [];
  const scorer = await createScorer('./models/model.frk', {
    worker: true,
    sha256: fixture.sha256,
    onProgress: (n, total) => loaded.push([n, total]),
  });
  out.loadProgress = loaded;
  step('loaded');
  const schema = await scorer.schema();
  out.modelKind = (await scorer.metadata()).modelKind;

  // One customer, scored and explained.
  out.scored = await scorer.score(fixture.customer, { explain: true });
  step('explained');

  // A batch as a portal holds it: objects, every third row as an array of
  // values in schema order; progress after each chunk.
  const rows = fixture.rows.map((o, i) => (i % 3 === 2 ? schema.features.map((f) => o[f.name]) : o));
  const progress = [];
  const batch = await scorer.predictRows(rows, { chunkRows: 250, onProgress: (done, total) => progress.push([done, total]) });
  out.batch = Array.from(batch.probabilities);
  out.batchWarnings = batch.warnings.length;
  out.batchProgress = progress;
  step('batch');

  // A CSV file scored in the worker, read in slices, with progress in bytes.
  const csvProgress = [];
  const file = await scorer.predictCsvFile(new Blob([fixture.csv], { type: 'text/csv' }), {
    sliceBytes: 16384,
    onProgress: (done, total) => csvProgress.push([done, total]),
  });
  out.csvFile = Array.from(file.probabilities);
  out.csvFileProgress = csvProgress;
  out.csvFileOutput = (await file.blob.text()).split('\n').length;
  step('csv file');

  // A batch cancelled after its second chunk.
  const controller = new AbortController();
  const seen = [];
  try {
    await scorer.predictRows(rows, {
      chunkRows: 100,
      signal: controller.signal,
      onProgress: (done) => {
        seen.push(done);
        if (done >= 200) controller.abort();
      },
    });
    out.cancel = { resolved: true, seen };
  } catch (e) {
    out.cancel = { ...caught(e), seen };
  }
  // The scorer works after a cancelled batch.
  out.afterCancel = (await scorer.predict(fixture.customer)).probability;
  step('cancelled');

  // Errors a program can handle, with their codes and fields.
  const bad = { ...fixture.customer, [fixture.numericFeature]: 'twelve' };
  out.errors = {};
  try {
    await scorer.predict(bad);
  } catch (e) {
    out.errors.badValue = caught(e);
  }
  try {
    await scorer.predictRows([fixture.customer, bad]);
  } catch (e) {
    out.errors.badRow = caught(e);
  }
  try {
    await scorer.predictCsv(fixture.strayQuoteCsv);
  } catch (e) {
    out.errors.csvRow = caught(e);
  }
  const tampered = new Uint8Array(await (await fetch('./models/model.frk')).arrayBuffer());
  tampered[tampered.length >> 1] ^= 0x40;
  try {
    await createScorer(tampered, { worker: true });
  } catch (e) {
    out.errors.checksum = caught(e);
  }
  try {
    await createScorer('./models/model.frk', { sha256: '0'.repeat(64) });
  } catch (e) {
    out.errors.integrity = caught(e);
  }
  try {
    await createScorer('./models/model.frk', { maxBytes: 1000 });
  } catch (e) {
    out.errors.tooLarge = caught(e);
  }
  // The same API in this thread (no worker) gives the same numbers.
  const local = await createScorer(await (await fetch('./models/model.frk')).arrayBuffer());
  out.localBatch = Array.from((await local.predictRows(rows)).probabilities);
  try {
    await local.predict(bad);
  } catch (e) {
    out.errors.localBadValue = caught(e);
  }
  await local.free();
  await scorer.free();
  step('done');
}

main()
  .catch((e) => {
    out.fatal = caught(e);
  })
  .finally(() => {
    window.__ferrisk = out;
    document.body.dataset.done = 'true';
  });
