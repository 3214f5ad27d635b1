//! `verifyModel`: the page's check of a model file's approval signature,
//! with the browser's own Ed25519 (Web Crypto, `crypto.subtle`), so the
//! bundle carries no cryptography.
//!
//! The envelope, the signed message and the refusals (unsigned, unknown
//! key, expired) are the runtime's ([`ferrisk::signature`]): the page
//! refuses exactly the files `ferrisk --trusted-key` refuses, with the same
//! messages.
//!
//! ```js
//! import init, { verifyModel, Scorer } from "./pkg/ferrisk_wasm.js";
//! await init();
//! const info = await verifyModel(bytes, ["ferrisk-public-key 1a2b… 9f…"]); // rejects if refused
//! const scorer = Scorer.load(bytes);
//! ```

use ferrisk::signature::{self, PublicKey, SignatureError, MAX_KEYS};
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Crypto, SubtleCrypto};

use super::err;

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
  /** Always true: `verifyModel` rejects anything it cannot verify. */
  verified: boolean;
}
"#;

/// `trustedKeys`: an array of key strings or `{publicKey, keyId?}` objects.
fn trusted_keys(list: &JsValue) -> Result<Vec<PublicKey>, JsError> {
    let Some(list) = list
        .dyn_ref::<Array>()
        .filter(|l| l.length() as usize <= MAX_KEYS)
    else {
        return Err(JsError::new(
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
        keys.push(key.map_err(|e| err(format!("trustedKeys[{i}]: {e}")))?);
    }
    Ok(keys)
}

#[wasm_bindgen]
extern "C" {
    /// `globalThis.crypto` (the page's, a worker's or Node's).
    #[wasm_bindgen(thread_local_v2, js_namespace = globalThis, js_name = crypto)]
    static CRYPTO: JsValue;
    /// `Reflect.apply` and `Reflect.get` as function values.
    #[wasm_bindgen(thread_local_v2, js_namespace = Reflect, js_name = apply)]
    static APPLY: JsValue;
    #[wasm_bindgen(thread_local_v2, js_namespace = Reflect, js_name = get)]
    static GET: JsValue;

    /// A JS function, to `bind` leading arguments.
    type Callable;
    #[wasm_bindgen(method, js_name = bind)]
    fn bind1(this: &Callable, this_arg: &JsValue, a: &JsValue) -> JsValue;
    #[wasm_bindgen(method, js_name = bind)]
    fn bind2(this: &Callable, this_arg: &JsValue, a: &JsValue, b: &JsValue) -> JsValue;

    /// A promise, to call `then` with plain function values.
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then(this: &Thenable, on_fulfilled: &JsValue, on_rejected: &JsValue) -> Promise;
}

/// `crypto.subtle` (absent outside a secure context).
fn subtle() -> Result<SubtleCrypto, JsError> {
    let subtle = CRYPTO.with(|c| {
        c.dyn_ref::<Object>()
            .map(|c| c.unchecked_ref::<Crypto>().subtle())
    });
    subtle.filter(|s| s.is_object()).ok_or_else(|| {
        JsError::new("Web Crypto is not available here (crypto.subtle needs https or localhost): cannot verify the model's signature")
    })
}

fn then(p: &Promise, on_fulfilled: &JsValue, on_rejected: &JsValue) -> Promise {
    p.unchecked_ref::<Thenable>()
        .then(on_fulfilled, on_rejected)
}

/// `f.bind(undefined, a, b)`.
fn bind(f: &JsValue, a: &JsValue, b: &JsValue) -> JsValue {
    f.unchecked_ref::<Callable>()
        .bind2(&JsValue::UNDEFINED, a, b)
}

/// A promise rejected with `e`, already handled (so that no "unhandled
/// rejection" is reported if the chain never picks it): its handler is
/// `Reflect.get` (any function would do; given an Error, it returns
/// undefined).
fn refusal(e: JsError) -> JsValue {
    let p = Promise::reject(&e.into());
    let _handled = GET.with(|g| then(&p, &JsValue::UNDEFINED, g));
    p.into()
}

/// A function that ignores its argument and returns `value`:
/// `Reflect.get.bind(undefined, {v: value}, "v")`.
fn constant(value: &JsValue) -> JsValue {
    let table = Object::new();
    let _ = Reflect::set(&table, &JsValue::from_str("v"), value);
    GET.with(|g| bind(g, &table, &JsValue::from_str("v")))
}

// Verifies a model file's approval signature against trusted public keys
// with Web Crypto's Ed25519. Resolves to the signature's {keyId, note,
// expires, verified}; rejects with an Error that says why: no keys given,
// unsigned file, a key that is not trusted, an invalid signature (model,
// note or expiry changed, or another key signed), an expired approval, a
// malformed signature block, or no Ed25519 in this browser. Load the same
// bytes with `Scorer.load` afterwards. (Plain comments, not doc comments:
// those are copied into the JS glue, which counts in the bundle budget.)
//
// The checks that need no cryptography run at once. The signature check is
// a promise chain on `crypto.subtle` built from JS built-ins only
// (`Promise.all`, `Reflect.apply`, `Reflect.get`, `bind`): no Rust closure
// and no async executor, which would cost kilobytes of bundle:
//
//   Promise.all(["Ed25519", importKey(raw key), signature, message])
//     .then(Reflect.apply.bind(undefined, subtle.verify, subtle))  // verify(...args)
//     .then(Reflect.get.bind(undefined, {true: approval, false: refusal}))
#[wasm_bindgen(js_name = verifyModel, unchecked_return_type = "Promise<SignatureInfo>")]
pub fn verify_model(
    bytes: &[u8],
    #[wasm_bindgen(js_name = trustedKeys, unchecked_param_type = "(string | TrustedKey)[]")]
    trusted: JsValue,
) -> Promise {
    start(bytes, &trusted).unwrap_or_else(|e| Promise::reject(&e.into()))
}

fn start(bytes: &[u8], trusted: &JsValue) -> Result<Promise, JsError> {
    let keys = trusted_keys(trusted)?;
    let pending = signature::prepare(bytes, &keys).map_err(err)?;
    let subtle = subtle()?;
    // What a valid signature leads to is decided now (the UTC day now; a
    // clock before 1970 counts as day 0) and picked once Web Crypto agrees.
    let today = (js_sys::Date::now() / 86_400_000.0).floor().max(0.0) as u32;
    let outcomes = Object::new();
    let invalid = refusal(err(SignatureError::BadSignature {
        key_id: pending.block.key_id(),
    }));
    let key = Uint8Array::from(&pending.key.bytes[..]);
    let signature = Uint8Array::from(&pending.block.signature()[..]);
    let message = Uint8Array::from(&pending.message[..]);
    let valid = match pending.accept(true, today) {
        Ok(ok) => info(&ok.block),
        Err(e) => refusal(err(e)),
    };
    let _ = Reflect::set(&outcomes, &JsValue::from_str("true"), &valid);
    let _ = Reflect::set(&outcomes, &JsValue::from_str("false"), &invalid);

    let import = subtle
        .import_key_with_str(
            "raw",
            &key,
            "Ed25519",
            false,
            &Array::of1(&JsValue::from_str("verify")),
        )
        .map_err(|_| JsError::new("Web Crypto refused the public key"))?;
    let unsupported = constant(&refusal(JsError::new(
        "this browser's Web Crypto cannot verify Ed25519 signatures",
    )));
    let import = then(&import, &JsValue::UNDEFINED, &unsupported);
    let args = Promise::all(&Array::of4(
        &JsValue::from_str("Ed25519"),
        &import,
        &signature,
        &message,
    ));
    let verify = Reflect::get(&subtle, &JsValue::from_str("verify")).unwrap_or_default();
    let call_verify = APPLY.with(|apply| bind(apply, &verify, &subtle));
    let pick = GET.with(|get| {
        get.unchecked_ref::<Callable>()
            .bind1(&JsValue::UNDEFINED, &outcomes)
    });
    let verified = then(&args, &call_verify, &JsValue::UNDEFINED);
    Ok(then(&verified, &pick, &JsValue::UNDEFINED))
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
        // Setting a property of a fresh plain object cannot fail.
        let _ = Reflect::set(&out, &JsValue::from_str(k), &v);
    }
    out.into()
}
