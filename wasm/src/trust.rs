//! `signatureCheck`: everything the page needs to check a model file's
//! approval signature with the browser's own Ed25519 (Web Crypto,
//! `crypto.subtle`, called by `www/trust.js`), so the bundle carries no
//! cryptography and no promise plumbing (which cost ~5 KB of bundle).
//!
//! The envelope, the signed message and the refusals (unsigned, unknown
//! key, expired) are the runtime's ([`ferrisk::signature`]): the page
//! refuses exactly the files `ferrisk --trusted-key` refuses, with the same
//! messages.
//!
//! ```js
//! const c = signatureCheck(bytes, trustedKeys);          // throws: unsigned, unknown key, malformed
//! const key = await crypto.subtle.importKey("raw", c.publicKey, "Ed25519", false, ["verify"]);
//! if (!await crypto.subtle.verify("Ed25519", key, c.signature, c.message)) throw new Error(c.invalid);
//! if (c.refusal) throw new Error(c.refusal);             // e.g. expired
//! ```

use ferrisk::signature::{self, PublicKey, SignatureError, MAX_KEYS};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::{bad, err, Fail};

#[wasm_bindgen(typescript_custom_section)]
const TS_TRUST: &str = r#"
/** A public key whose signatures the page accepts: `publicKey` is the line
 * `ferrisk keygen` prints (`ferrisk-public-key <key id> <64 hex digits>`) or
 * the 64 hex digits; `keyId`, when given, must match it. */
export interface TrustedKey {
  publicKey: string;
  keyId?: string;
  name?: string;
}

/** A verified approval signature. */
export interface SignatureInfo {
  /** Key id of the signing key (16 hex digits). */
  keyId: string;
  /** The approval note. */
  note: string;
  /** Last valid day, `YYYY-MM-DD` (UTC), or null when it does not expire. */
  expires: string | null;
  /** True once Web Crypto has verified the signature. */
  verified: boolean;
}

/** What Web Crypto must verify, and what follows from its answer. */
export interface SignatureCheck {
  /** Raw Ed25519 public key of the trusted signer. */
  publicKey: Uint8Array;
  signature: Uint8Array;
  /** The signed message. */
  message: Uint8Array;
  /** The error to raise when the signature does not verify. */
  invalid: string;
  /** The error to raise even when it verifies (an expired approval), or null. */
  refusal: string | null;
  /** The approval when it verifies and is in force, else null. */
  info: SignatureInfo | null;
}
"#;

/// `trustedKeys`: an array of key strings or `{publicKey, keyId?}` objects.
fn trusted_keys(list: &JsValue) -> Result<Vec<PublicKey>, Fail> {
    let Some(list) = list
        .dyn_ref::<Array>()
        .filter(|l| l.length() as usize <= MAX_KEYS)
    else {
        return Err(bad(
            "trustedKeys must be an array of at most 256 public keys",
        ));
    };
    let mut keys = Vec::new();
    for (i, v) in list.iter().enumerate() {
        // A key string, or the `publicKey` (and `keyId`) of an object.
        let field = |name: &str| {
            Reflect::get(&v, &JsValue::from_str(name))
                .ok()
                .and_then(|f| f.as_string())
        };
        let text = v.as_string().or_else(|| field("publicKey"));
        let key = PublicKey::parse(&text.unwrap_or_default()).and_then(|k| match field("keyId") {
            Some(id) if !id.eq_ignore_ascii_case(&signature::hex(&k.id.0)) => Err(
                SignatureError::BadKey("keyId does not match the key".into()),
            ),
            _ => Ok(k),
        });
        keys.push(key.map_err(|e| bad(&format!("trustedKeys[{i}]: {e}")))?);
    }
    Ok(keys)
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    // Setting a property of a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

// Parses a model file's signature block and checks it against the trusted
// public keys without cryptography: throws when the file is unsigned,
// signed by a key that is not trusted, or malformed, or when the key list
// is bad. Otherwise returns what `crypto.subtle.verify` must check and the
// outcomes (see SignatureCheck). (Plain comments, not doc comments: those
// are copied into the JS glue, which counts in the bundle budget.)
#[wasm_bindgen(js_name = signatureCheck, unchecked_return_type = "SignatureCheck")]
pub fn signature_check(
    bytes: &[u8],
    #[wasm_bindgen(js_name = trustedKeys, unchecked_param_type = "(string | TrustedKey)[]")]
    trusted: JsValue,
) -> Result<JsValue, Fail> {
    let keys = trusted_keys(&trusted)?;
    let pending = signature::prepare(bytes, &keys).map_err(err)?;
    // The UTC day now; a clock before 1970 counts as day 0.
    let today = (js_sys::Date::now() / 86_400_000.0).floor().max(0.0) as u32;
    let out = Object::new();
    set(
        &out,
        "publicKey",
        &Uint8Array::from(&pending.key.bytes[..]).into(),
    );
    set(
        &out,
        "signature",
        &Uint8Array::from(&pending.block.signature()[..]).into(),
    );
    set(
        &out,
        "message",
        &Uint8Array::from(&pending.message[..]).into(),
    );
    let invalid = SignatureError::BadSignature {
        key_id: pending.block.key_id(),
    };
    set(&out, "invalid", &invalid.to_string().into());
    match pending.accept(true, today) {
        Ok(ok) => {
            set(&out, "refusal", &JsValue::NULL);
            set(&out, "info", &info(&ok.block));
        }
        Err(e) => {
            set(&out, "refusal", &e.to_string().into());
            set(&out, "info", &JsValue::NULL);
        }
    }
    Ok(out.into())
}

/// The result object: {keyId, note, expires, verified}.
fn info(block: &signature::SignatureBlock) -> JsValue {
    let out = Object::new();
    for (k, v) in [
        ("keyId", JsValue::from(signature::hex(&block.key_id().0))),
        ("note", JsValue::from_str(block.note())),
        (
            "expires",
            block
                .expires()
                .map_or(JsValue::NULL, |d| signature::format_date(d).into()),
        ),
        ("verified", JsValue::TRUE),
    ] {
        set(&out, k, &v);
    }
    out.into()
}
