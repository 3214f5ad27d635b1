// Scoring a CSV file (a Blob or File) as `ferrisk predict` does, for
// `AsyncScorer.predictCsvFile`: in the package's worker, or in the calling
// thread without one. The file's bytes are fed slice by slice to the wasm
// runtime's CsvSession, which reads the CSV (quotes, line breaks inside
// fields, BOM, `,` `;` or tab), scores every row, reports broken records and
// bad values with the file's own line numbers, and counts drift; there is
// no CSV parsing here. Progress is reported in bytes after each slice;
// cancellation is checked between slices. The result holds the scored CSV
// as a Blob (the input columns plus probability, decision, error and
// warnings, as `ferrisk predict` writes them), a preview of the first rows,
// the row errors, the metrics over the labelled rows when the file has the
// label column, and the drift report.

import { f32Text, quoteField } from './csvtools.js';

/** `CsvRows.labels` value of a row without a usable label. */
const NO_LABEL = 255;

/** A growable typed array. */
class Column {
  constructor(Type) {
    this.Type = Type;
    this.data = new Type(1024);
    this.length = 0;
  }

  push(v) {
    if (this.length === this.data.length) {
      const grown = new this.Type(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length] = v;
    this.length += 1;
  }

  values() {
    return this.data.subarray(0, this.length);
  }
}

const csvLine = (cells) => `${cells.map((c) => quoteField(c, ',')).join(',')}\n`;

/**
 * Scores `file` with `scorer` (a loaded `Scorer`). Options: `sliceBytes`
 * (default 512 KiB), `previewRows` (100), `maxErrors` (200 kept),
 * `onProgress(doneBytes, totalBytes, rows)`, `cancelled()` (checked between
 * slices; true rejects with an AbortError).
 */
export async function scoreCsvFile(scorer, file, options = {}) {
  const { sliceBytes = 512 * 1024, previewRows = 100, maxErrors = 200, onProgress, cancelled } = options;
  const t0 = performance.now();
  const session = scorer.csvSession();
  try {
    const schema = scorer.schema();
    const size = file.size;
    onProgress?.(0, size, 0);
    const probs = new Column(Float32Array);
    const labels = new Column(Uint8Array);
    const parts = [];
    const preview = [];
    const errors = [];
    let errorCount = 0;
    let header = null;
    let labelColumn = -1;

    /** Appends the rows one push completed to the output. */
    const take = (rows) => {
      if (header === null) {
        header = session.header();
        if (header === null) return;
        labelColumn = session.labelColumn() ?? -1;
        parts.push(csvLine([...header, 'probability', 'decision', 'error', 'warnings']));
      }
      const rowError = new Map();
      for (const err of rows.errors) {
        rowError.set(err.line, err.message);
        errorCount += 1;
        if (errors.length < maxErrors) errors.push(err);
      }
      const rowWarnings = new Map();
      for (const w of rows.warnings) rowWarnings.set(w.line, w.warnings.join('; '));
      let out = '';
      for (let i = 0; i < rows.lines.length; i += 1) {
        const line = rows.lines[i];
        const p = rows.probabilities[i];
        const ok = !Number.isNaN(p);
        const decision = ok ? rows.decisions[i] === 1 : null;
        const pText = ok ? f32Text(p) : '';
        const dText = decision === null ? '' : decision ? schema.positive : schema.negative;
        const error = ok ? '' : rowError.get(line) || 'not scored';
        // A record the reader could not split has no cells: written empty.
        const fields = rows.fields[i].length ? rows.fields[i] : header.map(() => '');
        out += csvLine([...fields, pText, dText, error, rowWarnings.get(line) || '']);
        probs.push(p);
        labels.push(rows.labels ? rows.labels[i] : NO_LABEL);
        if (preview.length < previewRows) {
          const actual = labelColumn >= 0 && rows.fields[i].length ? (rows.fields[i][labelColumn] ?? '').trim() : '';
          preview.push({ line, probability: pText, decision, actual, error });
        }
      }
      parts.push(out);
    };

    for (let at = 0; at < size; at += sliceBytes) {
      if (cancelled?.()) throw new DOMException('the batch was cancelled', 'AbortError');
      const end = Math.min(size, at + sliceBytes);
      const bytes = new Uint8Array(await file.slice(at, end).arrayBuffer());
      take(session.push(bytes));
      onProgress?.(end, size, probs.length);
    }
    take(session.finish());
    const total = probs.length;
    if (total === 0) {
      const e = new Error('the file has a header but no data rows');
      e.name = 'FerriskError';
      e.code = 'CSV_NO_ROWS';
      throw e;
    }

    let metrics = null;
    let metricsError = null;
    let skippedLabels = 0;
    if (labelColumn >= 0) {
      const p = probs.values();
      const y = labels.values();
      let n = 0;
      for (let i = 0; i < total; i += 1) if (!Number.isNaN(p[i]) && y[i] !== NO_LABEL) n += 1;
      skippedLabels = total - n;
      const pm = new Float32Array(n);
      const ym = new Uint8Array(n);
      for (let i = 0, k = 0; i < total; i += 1) {
        if (!Number.isNaN(p[i]) && y[i] !== NO_LABEL) {
          pm[k] = p[i];
          ym[k] = y[i];
          k += 1;
        }
      }
      try {
        metrics = scorer.metricsFor(pm, ym);
      } catch (e) {
        metricsError = e && e.message ? e.message : String(e);
      }
    }
    let drift = null;
    if (session.driftCounts()) {
      try {
        drift = session.driftReport();
      } catch {
        drift = null;
      }
    }
    return {
      rows: total,
      header,
      labelColumn,
      probabilities: probs.values().slice(),
      preview,
      errors,
      errorCount,
      metrics,
      metricsError,
      skippedLabels,
      drift,
      blob: new Blob(parts, { type: 'text/csv' }),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    session.free();
  }
}
