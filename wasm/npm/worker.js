// The package's module Web Worker (createScorer(..., {worker: true})): one
// scorer per worker. Messages {id, method, args} answer {id, result} or
// {id, error}, after {id, progress} messages for predictCsvFile; {cancel:
// id} stops a running predictCsvFile between slices. No eval, no blob: URLs
// (CSP: worker-src 'self').

import init, { Scorer } from './ferrisk_wasm.js';
import { errorFields, run } from './api.js';
import { scoreCsvFile } from './csvfile.js';

let scorer = null;
/** Ids of running calls whose caller aborted. */
const cancelled = new Set();

self.onmessage = async ({ data }) => {
  if (data.cancel !== undefined) {
    cancelled.add(data.cancel);
    return;
  }
  const { id, method, args } = data;
  try {
    let result;
    if (method === 'load') {
      const [bytes, wasmUrl] = args;
      await init(wasmUrl === undefined ? undefined : { module_or_path: wasmUrl });
      scorer?.free();
      scorer = Scorer.load(bytes);
      result = true;
    } else if (method === 'free') {
      scorer?.free();
      scorer = null;
      result = true;
    } else if (method === 'predictCsvFile') {
      if (!scorer) throw new Error('no model is loaded');
      const [file, options] = args;
      result = await scoreCsvFile(scorer, file, {
        ...options,
        onProgress: (...progress) => self.postMessage({ id, progress }),
        cancelled: () => cancelled.has(id),
      });
    } else {
      result = run(scorer, method, args);
    }
    self.postMessage({ id, result });
  } catch (e) {
    self.postMessage({ id, error: errorFields(e) });
  } finally {
    cancelled.delete(id);
  }
};
