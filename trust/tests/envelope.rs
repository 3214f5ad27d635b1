//! The signature envelope under hostile input: a signed file is the model
//! byte for byte plus one block; readers that do not verify still load it;
//! every truncation and every flipped byte is refused by verification; a
//! malformed block is refused by every reader with an error that names its
//! byte offset; oversized fields are refused before anything is allocated
//! from them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ferrisk::signature::{self, SignatureError, FIXED_LEN, MAX_NOTE, SIGNATURE_LEN};
use ferrisk::{FormatError, Scorer};
use ferrisk_trust::{sign, verify, SecretKey, TrustError, TrustedKeys};

fn golden(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/golden")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn day(n: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(n * 86_400 + 3_600)
}

struct Setup {
    model: Vec<u8>,
    signed: Vec<u8>,
    keys: TrustedKeys,
}

fn setup(name: &str) -> Setup {
    let key = SecretKey::generate().unwrap();
    let model = golden(name);
    let signed = sign(
        &model,
        &key,
        "approved by model risk, ticket 123",
        Some(30_000),
    )
    .unwrap()
    .bytes;
    Setup {
        model,
        signed,
        keys: TrustedKeys::new([key.public()]).unwrap(),
    }
}

/// `bytes` with the block's field at `at` (relative to the block) replaced.
fn patch(s: &Setup, at: usize, value: &[u8]) -> Vec<u8> {
    let mut b = s.signed.clone();
    let start = s.model.len() + at;
    b[start..start + value.len()].copy_from_slice(value);
    b
}

fn sig_err(bytes: &[u8]) -> SignatureError {
    signature::split(bytes).unwrap_err()
}

#[test]
fn a_signed_file_is_the_model_plus_one_block_and_loads_anywhere() {
    let s = setup("lr.frk");
    assert_eq!(&s.signed[..s.model.len()], &s.model[..]);
    let (model, block) = signature::split(&s.signed).unwrap();
    assert_eq!(model, &s.model[..]);
    let block = block.unwrap();
    assert_eq!(s.signed.len(), s.model.len() + block.len());
    assert_eq!(block.note(), "approved by model risk, ticket 123");
    assert_eq!(block.expires(), Some(30_000));
    assert_eq!(&s.signed[s.model.len()..s.model.len() + 8], b"FRKSIGN\0");

    // A reader that does not care about signatures loads the same model.
    let plain = Scorer::from_bytes(&s.model).unwrap();
    let signed = Scorer::from_bytes(&s.signed).unwrap();
    assert_eq!(plain.bundle(), signed.bundle());
    let (h1, b1) = ferrisk::format::read_header(&s.model).unwrap();
    let (h2, b2) = ferrisk::format::read_header(&s.signed).unwrap();
    assert_eq!((h1, b1), (h2, b2));

    let ok = verify(&s.signed, &s.keys, day(29_000)).unwrap();
    assert_eq!(ok.model, &s.model[..]);
    assert_eq!(ok.block, block);
    let info = ok.block.info(true);
    assert_eq!(info.key_id, s.keys.keys()[0].id.to_string());
    assert_eq!(info.expires.as_deref(), Some("2052-02-20"));
}

#[test]
fn every_truncation_is_refused() {
    let s = setup("stump.frk");
    for len in 0..s.signed.len() {
        let cut = &s.signed[..len];
        let Err(e) = verify(cut, &s.keys, day(1)) else {
            panic!("truncated to {len}: verified");
        };
        if len == s.model.len() {
            // Exactly the unsigned model: it loads, but it is not signed.
            assert!(
                matches!(e, TrustError::Signature(SignatureError::Unsigned { .. })),
                "{e}"
            );
            assert!(Scorer::from_bytes(cut).is_ok());
        } else {
            assert!(Scorer::from_bytes(cut).is_err(), "truncated to {len} loads");
        }
        if len >= s.model.len() + 8 {
            // Inside the block: the block says it is truncated, and where.
            let e = sig_err(cut);
            assert!(
                matches!(e, SignatureError::Truncated { offset, .. } if offset == s.model.len()),
                "{len}: {e}"
            );
            let msg = Scorer::from_bytes(cut).unwrap_err().to_string();
            assert!(
                msg.contains("signature block at byte") && msg.contains("truncated"),
                "{msg}"
            );
        }
    }
}

#[test]
fn every_flipped_byte_is_refused() {
    let s = setup("stump.frk");
    for i in 0..s.signed.len() {
        // Low bit on even bytes, high bit on odd ones (each verification
        // costs ~10 ms in a debug build).
        let bit = if i % 2 == 0 { 0x01u8 } else { 0x80 };
        let mut b = s.signed.clone();
        b[i] ^= bit;
        let Err(e) = verify(&b, &s.keys, day(1)) else {
            panic!("byte {i} ^ {bit:#x}: verified");
        };
        // The key id and the signature parse but do not verify.
        let in_block = i >= s.model.len();
        let rel = i.wrapping_sub(s.model.len());
        if in_block && (12..20).contains(&rel) {
            assert!(
                matches!(e, TrustError::Signature(SignatureError::UnknownKey { .. })),
                "{i}: {e}"
            );
        }
        if in_block && rel >= s.signed.len() - s.model.len() - SIGNATURE_LEN {
            assert!(
                matches!(
                    e,
                    TrustError::Signature(SignatureError::BadSignature { .. })
                ),
                "{i}: {e}"
            );
        }
    }
}

#[test]
fn a_changed_model_note_or_expiry_fails_verification() {
    let s = setup("lr.frk");
    let n = s.model.len();
    // A byte of the model body (its header checksum no longer matches either).
    let mut b = s.signed.clone();
    b[n - 1] ^= 1;
    let e = verify(&b, &s.keys, day(1)).unwrap_err();
    assert!(
        matches!(
            e,
            TrustError::Signature(SignatureError::BadSignature { .. })
        ),
        "{e}"
    );
    // The note: same length, still printable.
    let b = patch(&s, FIXED_LEN, b"b");
    assert_eq!(
        signature::split(&b).unwrap().1.unwrap().note(),
        "bpproved by model risk, ticket 123"
    );
    let e = verify(&b, &s.keys, day(1)).unwrap_err().to_string();
    assert!(e.contains("is invalid") && e.contains("note"), "{e}");
    // A later expiry, or none.
    for expiry in [30_001u32, u32::MAX] {
        let b = patch(&s, 20, &expiry.to_le_bytes());
        let e = verify(&b, &s.keys, day(1)).unwrap_err();
        assert!(
            matches!(
                e,
                TrustError::Signature(SignatureError::BadSignature { .. })
            ),
            "{e}"
        );
    }
}

#[test]
fn oversized_and_malformed_fields_are_refused_with_their_offset() {
    let s = setup("lr.frk");
    let at = s.model.len();
    // Note length above the limit: refused before it is read.
    let e = sig_err(&patch(&s, 24, &((MAX_NOTE + 1) as u16).to_le_bytes()));
    assert_eq!(
        e,
        SignatureError::NoteTooLong {
            offset: at + 24,
            len: MAX_NOTE + 1
        }
    );
    let e = sig_err(&patch(&s, 24, &u16::MAX.to_le_bytes()));
    assert!(matches!(e, SignatureError::NoteTooLong { .. }), "{e}");
    // Note length zero.
    let e = sig_err(&patch(&s, 24, &0u16.to_le_bytes()));
    assert_eq!(e, SignatureError::NoteEmpty { offset: at + 24 });
    // Note length longer than what follows: truncated.
    let e = sig_err(&patch(&s, 24, &1000u16.to_le_bytes()));
    assert!(
        matches!(e, SignatureError::Truncated { offset, .. } if offset == at),
        "{e}"
    );
    // Shorter note length: the rest is trailing bytes.
    let e = sig_err(&patch(&s, 24, &10u16.to_le_bytes()));
    assert!(matches!(e, SignatureError::Trailing { .. }), "{e}");
    // Bytes after the block.
    let mut b = s.signed.clone();
    b.push(0);
    let e = sig_err(&b);
    assert_eq!(
        e,
        SignatureError::Trailing {
            offset: s.signed.len(),
            count: 1
        }
    );
    // Versions and algorithms this reader does not know.
    let e = sig_err(&patch(&s, 8, &2u16.to_le_bytes()));
    assert_eq!(
        e,
        SignatureError::Version {
            offset: at + 8,
            found: 2
        }
    );
    let e = sig_err(&patch(&s, 10, &7u16.to_le_bytes()));
    assert_eq!(
        e,
        SignatureError::Algorithm {
            offset: at + 10,
            found: 7
        }
    );
    // An expiry that is not a date.
    let e = sig_err(&patch(&s, 20, &(signature::MAX_DAY + 1).to_le_bytes()));
    assert!(
        matches!(e, SignatureError::Expiry { offset, .. } if offset == at + 20),
        "{e}"
    );
    // Note bytes: invalid UTF-8, a control character (terminal escape).
    let e = sig_err(&patch(&s, FIXED_LEN + 3, &[0xff]));
    assert_eq!(
        e,
        SignatureError::NoteNotUtf8 {
            offset: at + FIXED_LEN + 3
        }
    );
    let e = sig_err(&patch(&s, FIXED_LEN + 2, &[0x1b]));
    assert_eq!(
        e,
        SignatureError::NoteControl {
            offset: at + FIXED_LEN + 2
        }
    );
    // Every one of these is also refused by a reader that does not verify,
    // with the block's message.
    let msg = Scorer::from_bytes(&patch(&s, 8, &2u16.to_le_bytes()))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&format!("signature block at byte {}", at + 8))
            && msg.contains("envelope version 2"),
        "{msg}"
    );
}

#[test]
fn trailing_bytes_that_are_not_a_block_keep_their_old_error() {
    let s = setup("lr.frk");
    for tail in [&b"x"[..], b"FRKSIG", b"not a signature block at all"] {
        let mut b = s.model.clone();
        b.extend_from_slice(tail);
        assert!(
            matches!(
                Scorer::from_bytes(&b),
                Err(FormatError::LengthMismatch { .. })
            ),
            "{tail:?}"
        );
        let e = verify(&b, &s.keys, day(1)).unwrap_err();
        assert!(
            matches!(e, TrustError::Signature(SignatureError::Unsigned { .. })),
            "{e}"
        );
    }
}

#[test]
fn signing_needs_a_loadable_model_and_a_valid_note() {
    let key = SecretKey::generate().unwrap();
    let e = sign(b"FERRISK\0 nope", &key, "ok", None).unwrap_err();
    assert!(matches!(e, TrustError::Model(_)), "{e}");
    let model = golden("lr.frk");
    for (note, what) in [
        ("", "empty"),
        ("line\nbreak", "control"),
        ("\u{202e}evil", "control"),
    ] {
        let e = sign(&model, &key, note, None).unwrap_err().to_string();
        assert!(e.contains(what), "{note:?}: {e}");
    }
    let long = "x".repeat(MAX_NOTE + 1);
    let e = sign(&model, &key, &long, None).unwrap_err().to_string();
    assert!(e.contains("more than the limit of 1024"), "{e}");
    assert!(sign(&model, &key, &"x".repeat(MAX_NOTE), None).is_ok());
    // Note length is bytes, not characters.
    assert!(sign(&model, &key, &"é".repeat(MAX_NOTE / 2 + 1), None).is_err());
}
