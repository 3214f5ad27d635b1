// The package's module Web Worker (createScorer(..., {worker: true})): one
// scorer per worker. Messages {id, method, args} answer {id, result} or
// {id, error}. No eval, no blob: URLs (CSP: worker-src 'self').

import init, { Scorer } from './ferrisk_wasm.js';
import { errorFields, run } from './api.js';

let scorer = null;

self.onmessage = async ({ data }) => {
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
    } else {
      result = run(scorer, method, args);
    }
    self.postMessage({ id, result });
  } catch (e) {
    self.postMessage({ id, error: errorFields(e) });
  }
};
