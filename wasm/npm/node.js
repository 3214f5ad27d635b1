// The Node.js entry of the ferrisk package: reads the wasm file from disk.
import { readFile } from 'node:fs/promises';
import init from './ferrisk_wasm.js';
import { setLoader } from './api.js';

export { FerriskError, createScorer, ready, Scorer, CsvSession, version, signatureCheck } from './api.js';

setLoader(async () => init({ module_or_path: await readFile(new URL('./ferrisk_wasm_bg.wasm', import.meta.url)) }));
