//! `signatureCheck` plus the JS engine's Web Crypto Ed25519 (Node's webcrypto,
//! Chromium's SubtleCrypto): keys are generated and files signed here with
//! Web Crypto too, so the test needs no fixture and no native signer.
//! A file signed by a trusted key verifies and loads; unsigned, foreign,
//! tampered and expired files and bad key lists are refused by name.

use ferrisk::signature::{self, PublicKey, SignatureBlock};
use ferrisk_wasm::trust::signature_check;
use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

use super::util::*;

fn subtle() -> JsValue {
    let crypto = get(&js_sys::global(), "crypto");
    get(&crypto, "subtle")
}

/// Calls `crypto.subtle[name](...args)` and awaits it.
async fn call(name: &str, args: &[JsValue]) -> JsValue {
    let s = subtle();
    let f: Function = get(&s, name).dyn_into().expect("a SubtleCrypto method");
    let args: Array = args.iter().collect();
    let p: Promise = f
        .apply(&s, &args)
        .expect("call")
        .dyn_into()
        .expect("a promise");
    JsFuture::from(p)
        .await
        .unwrap_or_else(|e| panic!("crypto.subtle.{name}: {e:?}"))
}

/// A Web Crypto Ed25519 key pair: (private CryptoKey, raw public key).
async fn keypair() -> (JsValue, [u8; 32]) {
    let usages: Array = ["sign", "verify"]
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect();
    let kp = call(
        "generateKey",
        &["Ed25519".into(), JsValue::TRUE, usages.into()],
    )
    .await;
    let raw = call("exportKey", &["raw".into(), get(&kp, "publicKey")]).await;
    let raw = Uint8Array::new(&raw).to_vec();
    (get(&kp, "privateKey"), raw.try_into().expect("32 bytes"))
}

/// Signs `model` as `ferrisk sign` does, with a Web Crypto private key.
async fn sign(
    model: &[u8],
    private: &JsValue,
    public: &[u8; 32],
    note: &str,
    expires: Option<u32>,
) -> Vec<u8> {
    let mut block = SignatureBlock::new(PublicKey::new(*public).id, note, expires).unwrap();
    let message = Uint8Array::from(&signature::message(model, &block)[..]);
    let sig = call("sign", &["Ed25519".into(), private.clone(), message.into()]).await;
    block.set_signature(Uint8Array::new(&sig).to_vec().try_into().expect("64 bytes"));
    signature::attach(model, &block).unwrap()
}

/// What the page's `checkModel` (www/trust.js) does: `signatureCheck`, then
/// Web Crypto's Ed25519 verify; the info, or the refusal's message.
async fn verify(bytes: &[u8], keys: JsValue) -> Result<JsValue, String> {
    let c = signature_check(bytes, keys).map_err(|e| {
        let e = JsValue::from(e);
        assert!(
            e.is_instance_of::<js_sys::Error>(),
            "thrown value is not an Error: {e:?}"
        );
        String::from(js_sys::Error::from(e).message())
    })?;
    let usages: Array = std::iter::once(JsValue::from_str("verify")).collect();
    let key = call(
        "importKey",
        &[
            "raw".into(),
            get(&c, "publicKey"),
            "Ed25519".into(),
            JsValue::FALSE,
            usages.into(),
        ],
    )
    .await;
    let valid = call(
        "verify",
        &[
            "Ed25519".into(),
            key,
            get(&c, "signature"),
            get(&c, "message"),
        ],
    )
    .await;
    if valid.as_bool() != Some(true) {
        return Err(string(&c, "invalid"));
    }
    let refusal = get(&c, "refusal");
    if !refusal.is_null() {
        return Err(refusal.as_string().unwrap_or_default());
    }
    Ok(get(&c, "info"))
}

fn accepted(r: Result<JsValue, String>) -> JsValue {
    r.unwrap_or_else(|e| panic!("unexpected refusal: {e}"))
}

fn refused(r: Result<JsValue, String>) -> String {
    match r {
        Ok(v) => panic!("expected a refusal, got {}", json(&v)),
        Err(e) => e,
    }
}

fn keys(list: &[String]) -> JsValue {
    list.iter()
        .map(|s| JsValue::from_str(s))
        .collect::<Array>()
        .into()
}

fn line(public: &[u8; 32]) -> String {
    PublicKey::new(*public).to_line()
}

#[wasm_bindgen_test]
async fn a_file_signed_by_a_trusted_key_verifies_and_loads() {
    let model = golden("lr.frk");
    let (private, public) = keypair().await;
    let signed = sign(
        model,
        &private,
        &public,
        "approved, ticket 123",
        Some(2_932_896),
    )
    .await;
    assert_eq!(&signed[..model.len()], model);

    let info = accepted(verify(&signed, keys(&[line(&public)])).await);
    assert_eq!(
        string(&info, "keyId"),
        PublicKey::new(public).id.to_string()
    );
    assert_eq!(string(&info, "note"), "approved, ticket 123");
    assert_eq!(string(&info, "expires"), "9999-12-31");
    assert!(boolean(&info, "verified"));

    // The object form, with the bare hex key and its id.
    let k = PublicKey::new(public);
    let obj = object(&[
        ("publicKey", signature::hex(&k.bytes).into()),
        ("keyId", k.id.to_string().into()),
    ]);
    let list: Array = std::iter::once(obj).collect();
    let info = accepted(verify(&signed, list.into()).await);
    assert_eq!(string(&info, "expires"), "9999-12-31");

    // The scorer loads the signed bytes as the model they wrap.
    let plain = load(model);
    let wrapped = load(&signed);
    assert_eq!(json(&ok(plain.metadata())), json(&ok(wrapped.metadata())));
}

#[wasm_bindgen_test]
async fn unsigned_foreign_tampered_and_expired_files_are_refused() {
    let model = golden("lr.frk");
    let (private, public) = keypair().await;
    let (other, other_public) = keypair().await;
    let trusted = keys(&[line(&public)]);
    let id = PublicKey::new(public).id.to_string();

    let e = refused(verify(model, trusted.clone()).await);
    assert_mentions(&e, &["not signed", &id]);

    let foreign = sign(model, &other, &other_public, "approved", None).await;
    let e = refused(verify(&foreign, trusted.clone()).await);
    assert_mentions(
        &e,
        &[
            &PublicKey::new(other_public).id.to_string(),
            "not a trusted key",
        ],
    );

    let good = sign(model, &private, &public, "approved", None).await;
    let mut tampered = good.clone();
    let at = tampered.len() - 64 - "approved".len();
    tampered[at] = b'A';
    let e = refused(verify(&tampered, trusted.clone()).await);
    assert_mentions(&e, &["signature by key", "is invalid"]);

    let mut changed_model = good.clone();
    changed_model[model.len() - 1] ^= 1;
    let e = refused(verify(&changed_model, trusted.clone()).await);
    assert_mentions(&e, &["is invalid"]);

    let expired = sign(model, &private, &public, "approved", Some(365)).await;
    let e = refused(verify(&expired, trusted.clone()).await);
    assert_mentions(&e, &["expired", "1971-01-01"]);

    let mut broken = good.clone();
    broken.truncate(good.len() - 1);
    let e = refused(verify(&broken, trusted).await);
    assert_mentions(&e, &["signature block at byte", "truncated"]);
}

#[wasm_bindgen_test]
async fn bad_trusted_key_lists_are_refused() {
    let model = golden("lr.frk");
    let e = refused(verify(model, JsValue::from_str("abc")).await);
    assert_mentions(&e, &["trustedKeys must be an array"]);
    let e = refused(verify(model, Array::new().into()).await);
    assert_mentions(&e, &["no trusted public key"]);
    let e = refused(verify(model, keys(&["00ff".into()])).await);
    assert_mentions(&e, &["trustedKeys[0]", "not a public key"]);
    let k = PublicKey::new([3; 32]);
    let obj = object(&[
        ("publicKey", signature::hex(&k.bytes).into()),
        ("keyId", "0000000000000000".into()),
    ]);
    let list: Array = [JsValue::from_str(&k.to_line()), obj].iter().collect();
    let e = refused(verify(model, list.into()).await);
    assert_mentions(&e, &["trustedKeys[1]", "does not match"]);
    let list: Array = std::iter::once(JsValue::from_f64(1.0)).collect();
    let e = refused(verify(model, list.into()).await);
    assert_mentions(&e, &["trustedKeys[0]", "not a public key"]);
}
