// The package's API over the wasm-bindgen glue (ferrisk_wasm.js), shared by
// the browser entry (index.js) and the Node entry (node.js), which differ
// only in how they fetch the .wasm file. See README.md.

import init, { Scorer, CsvSession, version, signatureCheck } from './ferrisk_wasm.js';
import { scoreCsvFile } from './csvfile.js';

export { Scorer, CsvSession, version, signatureCheck };

/**
 * The error the package throws. Errors from wasm are plain `Error`s named
 * "FerriskError" (made there, which keeps the bundle small); this class
 * recognises them, so `err instanceof FerriskError` holds for every error
 * the package throws, in this thread or from its worker.
 */
export class FerriskError extends Error {
  constructor(message, fields) {
    super(message);
    this.name = 'FerriskError';
    this.code = 'INTERNAL';
    if (fields) Object.assign(this, fields);
  }

  static [Symbol.hasInstance](e) {
    return e instanceof Error && e.name === 'FerriskError';
  }
}

/** The fields of an error that cross a worker boundary. */
export const errorFields = (e) => {
  const out = { message: e && e.message ? e.message : String(e), name: e && e.name };
  for (const k of ['code', 'feature', 'line', 'column', 'row']) if (e && e[k] !== undefined) out[k] = e[k];
  return out;
};

/** An error sent by the worker, made an Error again in this thread. */
const revive = (f) => {
  if (f.name === 'AbortError') return new DOMException(f.message, 'AbortError');
  if (f.name !== 'FerriskError') return new Error(f.message);
  const { message, name, ...fields } = f;
  return new FerriskError(message, fields);
};

let loader = null;
let loading = null;

/** Set by the entry module: how this platform initialises the wasm. */
export function setLoader(f) {
  loader = f;
}

/**
 * Initialises the wasm module (once; later calls return the same promise).
 * `createScorer` calls it; call it yourself before using `Scorer` directly.
 * `wasm`: the .wasm file's URL or bytes, to serve it from elsewhere.
 */
export function ready(wasm) {
  loading ??= wasm === undefined ? loader() : init({ module_or_path: wasm });
  return loading.then(() => undefined);
}

const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

/** The largest model file a URL may deliver: the runtime's body limit
 *  (256 MiB, `ferrisk::format::MAX_BODY`) plus room for the header. A
 *  server that sends more is cut off there, never buffered whole. */
const MAX_MODEL_BYTES = 256 * 1024 * 1024 + 4096;

const tooLarge = (source, limit) =>
  new FerriskError(`the model ${source} is larger than ${limit} bytes: not loaded`, {
    code: 'FORMAT_TOO_LARGE',
  });

/** Reads a response body of at most `limit` bytes, reporting progress;
 *  throws on abort and as soon as the body passes the limit. */
async function readBody(res, source, limit, onProgress, signal) {
  const total = Number(res.headers.get('content-length')) || null;
  if (total !== null && total > limit) throw tooLarge(source, limit);
  if (!res.body) {
    const all = new Uint8Array(await res.arrayBuffer());
    if (all.length > limit) throw tooLarge(source, limit);
    return all;
  }
  const reader = res.body.getReader();
  const parts = [];
  let loaded = 0;
  for (;;) {
    signal?.throwIfAborted();
    const { done, value } = await reader.read();
    if (done) break;
    loaded += value.length;
    if (loaded > limit) {
      await reader.cancel();
      throw tooLarge(source, limit);
    }
    parts.push(value);
    onProgress?.(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The bytes of a model given as bytes or as a URL (fetched, checked). */
async function modelBytes(source, options) {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  let res;
  try {
    res = await fetch(source, { signal: options.signal });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new FerriskError(`cannot fetch the model ${source}: ${e && e.message}`, { code: 'FETCH' });
  }
  if (!res.ok) {
    throw new FerriskError(`cannot fetch the model ${source}: HTTP ${res.status}`, { code: 'FETCH' });
  }
  const limit = Math.min(Number(options.maxBytes ?? MAX_MODEL_BYTES), MAX_MODEL_BYTES);
  const bytes = await readBody(res, source, limit, options.onProgress, options.signal);
  if (options.sha256 !== undefined) {
    if (!globalThis.crypto?.subtle) {
      throw new FerriskError(
        `cannot check the SHA-256 of ${source}: Web Crypto needs a secure context (https or localhost)`,
        { code: 'INTEGRITY' },
      );
    }
    const got = hex(await crypto.subtle.digest('SHA-256', bytes));
    if (got !== String(options.sha256).toLowerCase()) {
      throw new FerriskError(
        `the model ${source} has SHA-256 ${got}, expected ${options.sha256}: not loaded`,
        { code: 'INTEGRITY' },
      );
    }
  }
  return bytes;
}

/** Methods answered as they are (no batch options). */
const PLAIN = [
  'schema', 'metadata', 'metrics', 'predict', 'score', 'contributions', 'reasons',
  'predictCsv', 'evaluate', 'metricsFor', 'driftReport',
];

const abortError = (signal) =>
  signal.reason instanceof Error ? signal.reason : new DOMException('the batch was cancelled', 'AbortError');

/** Runs `run(at, end)` over chunks of `size` rows, one after another,
 *  reporting rows done; before each chunk, stops if `signal` aborted. */
async function chunked(total, size, options, run) {
  const { signal, onProgress } = options ?? {};
  const parts = [];
  let at = 0;
  do {
    if (signal?.aborted) throw abortError(signal);
    const end = Math.min(total, at + size);
    parts.push(await run(at, end));
    onProgress?.(end, total);
    at = end;
  } while (at < total);
  return parts;
}

const joinF32 = (parts, key) => {
  const n = parts.reduce((a, p) => a + p[key].length, 0);
  const out = new parts[0][key].constructor(n);
  let at = 0;
  for (const p of parts) {
    out.set(p[key], at);
    at += p[key].length;
  }
  return out;
};

const DEFAULT_CHUNK = 10000;

/** Runs a method of a loaded `Scorer` (here or in the worker): only the
 *  scoring methods; `predictBatch` answers [probabilities, notes]. */
export function run(scorer, method, args) {
  if (!scorer) throw new FerriskError('no model is loaded', { code: 'BAD_ARGUMENT' });
  if (method === 'predictBatch') return [scorer.predictBatch(...args), args[3]];
  if (method === 'predictRows' || PLAIN.includes(method)) return scorer[method](...args);
  throw new FerriskError(`no method ${method}`, { code: 'BAD_ARGUMENT' });
}

/**
 * A scorer whose methods return Promises (see README.md). `call(method,
 * args)` runs a `Scorer` method in the worker or in this thread.
 */
class AsyncScorer {
  constructor(call, close) {
    this._call = call;
    this._close = close;
    for (const m of PLAIN) this[m] = (...args) => this._call(m, args);
  }

  /** Rows (objects or arrays of values), scored in chunks. */
  async predictRows(rows, options) {
    const size = (options && options.chunkRows) || DEFAULT_CHUNK;
    const parts = await chunked(rows.length, size, options, (at, end) =>
      this._call('predictRows', [rows.slice(at, end)]).then((r) => {
        for (const w of r.warnings) w.row += at;
        return r;
      }),
    );
    return {
      probabilities: joinF32(parts, 'probabilities'),
      decisions: joinF32(parts, 'decisions'),
      warnings: parts.flatMap((p) => p.warnings),
    };
  }

  /** Column-major typed arrays (the fastest path), scored in chunks. */
  async predictBatch(numeric, codes, rows, notes, options) {
    if (notes !== undefined && notes !== null && !(notes instanceof Uint8Array)) {
      options = notes;
      notes = undefined;
    }
    const nNum = rows ? numeric.length / rows : 0;
    const nCat = rows ? codes.length / rows : 0;
    const width = rows && notes ? notes.length / rows : 0;
    const size = (options && options.chunkRows) || DEFAULT_CHUNK;
    if (options?.signal?.aborted) throw abortError(options.signal);
    if (rows <= size) {
      const [p, filled] = await this._call('predictBatch', [numeric, codes, rows, notes ?? undefined]);
      if (notes && filled) notes.set(filled);
      options?.onProgress?.(rows, rows);
      return p;
    }
    const cut = (src, cols, at, end, Type) => {
      const out = new Type(cols * (end - at));
      for (let c = 0; c < cols; c += 1) out.set(src.subarray(c * rows + at, c * rows + end), c * (end - at));
      return out;
    };
    const parts = await chunked(rows, size, options, async (at, end) => {
      const part = notes ? new Uint8Array(width * (end - at)) : undefined;
      const [p, filled] = await this._call(
        'predictBatch',
        [cut(numeric, nNum, at, end, Float64Array), cut(codes, nCat, at, end, Int32Array), end - at, part],
      );
      if (notes && filled) notes.set(filled, at * width);
      return { p };
    });
    return joinF32(parts, 'p');
  }

  /** A CSV file (Blob / File) scored as `ferrisk predict` does, read in
   *  slices: progress in bytes, cancellation between slices. */
  predictCsvFile(file, options = {}) {
    const { onProgress, signal, ...rest } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return this._call('predictCsvFile', [file, rest], { onProgress, signal });
  }

  /** Releases the scorer (and ends its worker). */
  free() {
    return this._close();
  }

  [Symbol.asyncDispose]() {
    return this._close();
  }
}

/** The Worker running the package's worker.js (overridable URL). The
 *  literal `new Worker(new URL('./worker.js', import.meta.url), ...)` is the
 *  pattern Vite and webpack 5 recognise to bundle the worker with its
 *  imports; keep it literal. */
function startWorker(url) {
  if (url !== undefined) return new Worker(url, { type: 'module', name: 'ferrisk' });
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'ferrisk' });
}

/**
 * Loads a model and returns a scorer whose methods return Promises. With
 * `{worker: true}` the scorer lives in a module Web Worker (worker.js of
 * this package), so batches never block the page.
 */
export async function createScorer(source, options = {}) {
  const bytes = await modelBytes(source, options);
  if (!options.worker) {
    await ready(options.wasmUrl);
    const scorer = Scorer.load(bytes);
    const call = async (m, args, extra) => {
      if (m !== 'predictCsvFile') return run(scorer, m, args);
      const [file, opts] = args;
      const signal = extra && extra.signal;
      return scoreCsvFile(scorer, file, {
        ...opts,
        onProgress: extra && extra.onProgress,
        cancelled: () => Boolean(signal?.aborted),
      }).catch((e) => {
        throw e && e.name === 'AbortError' && signal ? abortError(signal) : e;
      });
    };
    return new AsyncScorer(call, async () => scorer.free());
  }
  const worker = startWorker(options.workerUrl);
  const pending = new Map();
  let next = 0;
  let broken = null;
  worker.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    if (!p) return;
    if (data.progress) {
      p.onProgress?.(...data.progress);
      return;
    }
    pending.delete(data.id);
    p.signal?.removeEventListener('abort', p.abort);
    if (data.error) p.reject(data.error.name === 'AbortError' && p.signal ? abortError(p.signal) : revive(data.error));
    else p.resolve(data.result);
  };
  worker.onerror = (ev) => {
    ev.preventDefault?.();
    broken = new FerriskError(`the ferrisk worker failed: ${ev.message || 'could not start'}`, { code: 'WORKER' });
    for (const p of pending.values()) p.reject(broken);
    pending.clear();
  };
  const call = (method, args, extra) => {
    if (broken) return Promise.reject(broken);
    return new Promise((resolve, reject) => {
      const id = (next += 1);
      const entry = { resolve, reject, onProgress: extra && extra.onProgress, signal: extra && extra.signal };
      if (entry.signal) {
        // Cancels in the worker, between slices of the file.
        entry.abort = () => worker.postMessage({ cancel: id });
        entry.signal.addEventListener('abort', entry.abort, { once: true });
      }
      pending.set(id, entry);
      worker.postMessage({ id, method, args });
    });
  };
  try {
    await call('load', [bytes, options.wasmUrl === undefined ? undefined : String(options.wasmUrl)]);
  } catch (e) {
    worker.terminate();
    throw e;
  }
  return new AsyncScorer(
    call,
    async () => {
      await call('free', []).catch(() => {});
      worker.terminate();
    },
  );
}
