// The browser (and bundler) entry of the ferrisk package: the wasm file
// sits next to this module; bundlers that understand
// `new URL(..., import.meta.url)` (Vite, webpack 5, Parcel) emit it.
import init from './ferrisk_wasm.js';
import { setLoader } from './api.js';

export { FerriskError, createScorer, ready, Scorer, CsvSession, version, signatureCheck } from './api.js';

setLoader(() => init({ module_or_path: new URL('./ferrisk_wasm_bg.wasm', import.meta.url) }));
