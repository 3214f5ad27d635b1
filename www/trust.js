// Trusted model signatures. www/trusted-keys.json lists the public keys whose
// approval signatures the page accepts: the lines `ferrisk keygen` prints
// ("ferrisk-public-key <key id> <64 hex digits>") or {publicKey, keyId, name}
// objects. An empty list, or no such file, means no verification: every model
// file loads, as before signing existed. With keys, a model file loads only
// when a trusted key signed it and the approval has not expired; otherwise
// checkModel throws and the page shows why. The wasm runtime's signatureCheck
// parses the signature block and applies the refusals (unsigned, unknown
// key, expired); the browser's own Web Crypto Ed25519 checks the signature.

import { signatureCheck } from './pkg/index.js';

let keys = null;

async function fetchKeys() {
  const res = await fetch(new URL('trusted-keys.json', document.baseURI), { headers: { Accept: 'application/json' } });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const list = await res.json();
  if (!Array.isArray(list)) throw new Error('not a JSON array of public keys');
  return list;
}

/** The configured trusted keys (fetched once; a failed fetch is retried next time). */
export function trustedKeys() {
  if (!keys) {
    keys = fetchKeys().catch((e) => {
      keys = null;
      throw new Error(`cannot read the trusted keys (trusted-keys.json): ${e && e.message ? e.message : e}`);
    });
  }
  return keys;
}

/**
 * Resolves when `bytes` may be loaded: to the verified signature
 * ({keyId, note, expires, verified}), or to null when no keys are configured.
 * Rejects with the reason (unsigned, expired, foreign key, tampered, …).
 */
export async function checkModel(bytes) {
  const list = await trustedKeys();
  if (list.length === 0) return null;
  const c = signatureCheck(bytes, list);
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  if (!subtle) {
    throw new Error('Web Crypto is not available here (crypto.subtle needs https or localhost): cannot verify the model\'s signature');
  }
  let key;
  try {
    key = await subtle.importKey('raw', c.publicKey, 'Ed25519', false, ['verify']);
  } catch (e) {
    throw new Error("this browser's Web Crypto cannot verify Ed25519 signatures");
  }
  if (!(await subtle.verify('Ed25519', key, c.signature, c.message))) throw new Error(c.invalid);
  if (c.refusal) throw new Error(c.refusal);
  return c.info;
}
