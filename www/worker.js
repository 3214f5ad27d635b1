// Batch scoring off the page's thread. The page sends {type: 'score',
// modelBytes, file, chunkRows}; this worker loads its own scorer, cuts the
// CSV into record-aligned chunks, scores each chunk with the wasm runtime's
// predictCsv, and reports progress after each chunk. At the end it sends the
// scored CSV as a Blob (the input columns plus probability, decision and
// error, like `ferrisk predict`), a preview of the first rows, the row errors, and,
// when the file has the label column, the metrics over all labelled rows.
// Cancelling is the page terminating this worker.

import init, { Scorer } from './pkg/ferrisk_wasm.js';
import { detectDelimiter, findRecords, splitFields, f32Text, quoteField } from './csvtools.js';

const PREVIEW_ROWS = 100;
const MAX_ERRORS = 200;
let ready = null;

self.onmessage = async (ev) => {
  const msg = ev.data;
  if (!msg || msg.type !== 'score') return;
  try {
    await score(msg);
  } catch (e) {
    self.postMessage({ type: 'error', message: e && e.message ? e.message : String(e) });
  }
};

/** Rewrites "line N" of a chunk's message to the file's line numbers. */
function fileLines(message, firstLine) {
  return message.replace(/\bline (\d+)/g, (_, n) => `line ${Number(n) - 2 + firstLine}`);
}

async function score({ modelBytes, file, chunkRows }) {
  const t0 = performance.now();
  ready ??= init();
  await ready;
  const scorer = Scorer.load(new Uint8Array(modelBytes));
  try {
    const schema = scorer.schema();
    const text = await file.text();
    const recs = findRecords(text);
    if (!recs.header) throw new Error('the file is empty (no header line)');
    const headerText = text.slice(recs.header.start, recs.header.end);
    const delim = detectDelimiter(headerText);
    const header = splitFields(headerText, delim).map((s) => s.trim());
    const labelColumn = header.indexOf(schema.label);
    const total = recs.count;
    if (total === 0) throw new Error('the file has a header but no data rows');
    self.postMessage({ type: 'start', total });

    const probs = new Float32Array(total);
    const labels = new Uint8Array(total);
    const usable = new Uint8Array(total);
    const parts = [`${headerText}${delim}probability${delim}decision${delim}error\n`];
    const preview = [];
    const errors = [];
    let errorCount = 0;
    let driftCounts = null;
    const chunk = Math.max(1, chunkRows | 0);

    for (let a = 0; a < total; a += chunk) {
      const b = Math.min(total, a + chunk);
      const firstLine = recs.lines[a];
      const chunkText = `${headerText}\n${text.slice(recs.starts[a], recs.ends[b - 1])}`;
      let res;
      try {
        res = scorer.predictCsv(chunkText);
      } catch (e) {
        throw new Error(fileLines(e && e.message ? e.message : String(e), firstLine));
      }
      if (res.probabilities.length !== b - a) {
        throw new Error(`internal: ${res.probabilities.length} results for ${b - a} rows near line ${firstLine}`);
      }
      if (res.driftCounts) {
        if (!driftCounts) driftCounts = new Uint32Array(res.driftCounts.length);
        for (let k = 0; k < driftCounts.length; k += 1) driftCounts[k] += res.driftCounts[k];
      }
      const rowError = new Map();
      for (const err of res.errors) {
        const line = err.line - 2 + firstLine;
        rowError.set(line, err.message);
        errorCount += 1;
        if (errors.length < MAX_ERRORS) errors.push({ line, message: err.message });
      }
      let out = '';
      for (let i = a; i < b; i += 1) {
        const p = res.probabilities[i - a];
        probs[i] = p;
        const ok = !Number.isNaN(p);
        const decision = ok ? res.decisions[i - a] === 1 : null;
        const pText = ok ? f32Text(p) : '';
        const dText = decision === null ? '' : decision ? schema.positive : schema.negative;
        const record = text.slice(recs.starts[i], recs.ends[i]);
        const eText = ok ? '' : quoteField(rowError.get(recs.lines[i]) || 'not scored', delim);
        out += `${record}${delim}${pText}${delim}${dText}${delim}${eText}\n`;
        let actual = '';
        if (labelColumn >= 0) {
          actual = (splitFields(record, delim)[labelColumn] ?? '').trim();
          if (actual === schema.positive) labels[i] = 1;
          if (ok && (actual === schema.positive || actual === schema.negative)) usable[i] = 1;
        }
        if (preview.length < PREVIEW_ROWS) {
          preview.push({ line: recs.lines[i], probability: pText, decision, actual, error: rowError.get(recs.lines[i]) || '' });
        }
      }
      parts.push(out);
      self.postMessage({ type: 'progress', done: b, total });
    }

    let metrics = null;
    let metricsError = null;
    let skippedLabels = 0;
    if (labelColumn >= 0) {
      let n = 0;
      for (let i = 0; i < total; i += 1) n += usable[i];
      skippedLabels = total - n;
      const p = new Float32Array(n);
      const y = new Uint8Array(n);
      for (let i = 0, k = 0; i < total; i += 1) {
        if (usable[i]) {
          p[k] = probs[i];
          y[k] = labels[i];
          k += 1;
        }
      }
      try {
        metrics = scorer.metricsFor(p, y);
      } catch (e) {
        metricsError = e && e.message ? e.message : String(e);
      }
    }
    let drift = null;
    if (driftCounts) {
      try {
        drift = scorer.driftReport(driftCounts);
      } catch (e) {
        drift = null;
      }
    }
    const blob = new Blob(parts, { type: 'text/csv' });
    self.postMessage({
      type: 'done',
      rows: total,
      labelColumn,
      preview,
      errors,
      errorCount,
      metrics,
      metricsError,
      skippedLabels,
      drift,
      blob,
      seconds: (performance.now() - t0) / 1000,
    });
  } finally {
    scorer.free();
  }
}
