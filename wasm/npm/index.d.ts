// Types of the ferrisk package: the wasm classes and result views
// (ferrisk_wasm.d.ts, generated) plus the package's own API. Checked by
// `tsc --strict` in scripts/test-npm.sh.

import type {
  CsvRowError,
  Customer,
  ErrorCode,
  CsvPrediction,
  DriftReport,
  Explanation,
  Metadata,
  Metrics,
  Prediction,
  RowsPrediction,
  RowValues,
  Schema,
  ScoreOptions,
  Scored,
} from './ferrisk_wasm.js';

export * from './ferrisk_wasm.js';


/** Every error the package throws (`err instanceof FerriskError`). */
export declare class FerriskError extends Error {
  constructor(message: string, fields?: Partial<Pick<FerriskError, 'code' | 'feature' | 'line' | 'column' | 'row'>>);
  readonly name: 'FerriskError';
  /** Stable across releases (README.md lists them); messages may change. */
  readonly code: ErrorCode;
  /** The feature the error is about. */
  readonly feature?: string;
  /** CSV line (from 1, the header is line 1). */
  readonly line?: number;
  /** CSV column: 1-based character position in the record, or a column name. */
  readonly column?: number | string;
  /** Row of a batch (from 0). */
  readonly row?: number;
}

/** Initialises the wasm module (once). `createScorer` calls it; call it
 *  before using `Scorer` directly. `wasm`: the .wasm file's URL or bytes. */
export declare function ready(wasm?: string | URL | BufferSource): Promise<void>;

/** Progress and cancellation of a batch. */
export interface BatchOptions {
  /** Called after each chunk with the rows scored so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting stops the batch before its next chunk; the promise rejects
   *  with the signal's reason (an `AbortError` DOMException by default). */
  signal?: AbortSignal;
  /** Rows per chunk (default 10,000). */
  chunkRows?: number;
}

/** Options of `predictCsvFile`. */
export interface CsvFileOptions {
  /** Bytes of the file read so far, its size, and the rows scored. */
  onProgress?: (doneBytes: number, totalBytes: number, rows: number) => void;
  /** Aborting stops before the next slice (rejects with an AbortError). */
  signal?: AbortSignal;
  /** Bytes read and scored at a time (default 512 KiB). */
  sliceBytes?: number;
  /** Rows in `preview` (default 100). */
  previewRows?: number;
  /** Row errors kept in `errors` (default 200; `errorCount` counts all). */
  maxErrors?: number;
}

/** One row of `CsvFileResult.preview`. */
export interface CsvFilePreviewRow {
  line: number;
  /** As the CLI writes it ("" for a row that failed). */
  probability: string;
  /** null for a row that failed. */
  decision: boolean | null;
  /** The label cell ("" without the label column). */
  actual: string;
  error: string;
}

/** What `predictCsvFile` returns. */
export interface CsvFileResult {
  /** Data rows read (scored or failed). */
  rows: number;
  header: string[];
  /** The label column's index, or -1. */
  labelColumn: number;
  /** One per row; NaN for rows that failed. */
  probabilities: Float32Array;
  preview: CsvFilePreviewRow[];
  errors: CsvRowError[];
  errorCount: number;
  /** Over the labelled, scored rows (null without the label column). */
  metrics: Metrics | null;
  metricsError: string | null;
  /** Rows left out of the metrics (failed, or no usable label). */
  skippedLabels: number;
  drift: DriftReport | null;
  /** The scored file: the input columns plus probability, decision, error
   *  and warnings, as `ferrisk predict` writes it. */
  blob: Blob;
  seconds: number;
}

export interface CreateScorerOptions {
  /** Run the scorer in the package's module Web Worker (browsers). */
  worker?: boolean;
  /** With a URL: the SHA-256 (hex) the file must have; checked before the
   *  model is loaded (code `INTEGRITY` otherwise). Needs Web Crypto
   *  (a secure context: https or localhost). */
  sha256?: string;
  /** With a URL: bytes downloaded so far, and the total when known. */
  onProgress?: (loaded: number, total: number | null) => void;
  /** With a URL: stop downloading (code `FORMAT_TOO_LARGE`) past this many
   *  bytes; at most, and by default, `MAX_MODEL_BYTES` (256 MiB + 4 KiB). */
  maxBytes?: number;
  /** Cancels the download. */
  signal?: AbortSignal;
  /** Where the .wasm file is served, if not next to the package's modules. */
  wasmUrl?: string | URL;
  /** Where the package's worker.js is served, if not next to this module. */
  workerUrl?: string | URL;
}

/** A scorer whose methods return Promises (same names and results as
 *  `Scorer`). Release it with `free()` or `await using`. */
export interface AsyncScorer extends AsyncDisposable {
  schema(): Promise<Schema>;
  metadata(): Promise<Metadata>;
  metrics(): Promise<Metrics | null>;
  predict(customer: Customer): Promise<Prediction>;
  score(customer: Customer, options?: ScoreOptions): Promise<Scored>;
  contributions(customer: Customer): Promise<Explanation>;
  reasons(customer: Customer, count?: number, lang?: string): Promise<Scored>;
  predictRows(rows: ReadonlyArray<Customer | RowValues>, options?: BatchOptions): Promise<RowsPrediction>;
  predictBatch(numeric: Float64Array, codes: Int32Array, rows: number, notes?: Uint8Array, options?: BatchOptions): Promise<Float32Array>;
  predictBatch(numeric: Float64Array, codes: Int32Array, rows: number, options?: BatchOptions): Promise<Float32Array>;
  predictCsv(text: string): Promise<CsvPrediction>;
  /** A CSV file scored as `ferrisk predict` does, read in slices. */
  predictCsvFile(file: Blob, options?: CsvFileOptions): Promise<CsvFileResult>;
  evaluate(csvText: string): Promise<Metrics>;
  metricsFor(probabilities: Float32Array, labels: Uint8Array): Promise<Metrics>;
  driftReport(counts: Uint32Array): Promise<DriftReport>;
  /** Releases the model's memory now (and ends the worker). */
  free(): Promise<void>;
}

/** Loads a model from bytes or a URL (streamed, with progress, checked
 *  against `sha256`); with `{worker: true}` in a module Web Worker. */
export declare function createScorer(
  source: Uint8Array | ArrayBuffer | string | URL,
  options?: CreateScorerOptions,
): Promise<AsyncScorer>;
