//! Native verification: a file signed by a trusted key loads; unsigned,
//! expired, foreign and tampered files are refused, each with an error that
//! says which; key files are written safely and read strictly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ferrisk::signature::{self, parse_date, PublicKey, SignatureBlock, SignatureError};
use ferrisk_trust::{check, sign, verify, SecretKey, TrustError, TrustedKeys};

fn golden(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/golden")
            .join(name),
    )
    .unwrap()
}

fn at(date: &str) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::from(parse_date(date).unwrap()) * 86_400 + 43_200)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrisk-trust-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn refusal(r: Result<impl std::fmt::Debug, TrustError>) -> SignatureError {
    match r {
        Err(TrustError::Signature(e)) => e,
        other => panic!("expected a signature refusal, got {other:?}"),
    }
}

#[test]
fn a_file_signed_by_a_trusted_key_verifies_until_it_expires() {
    let bank = SecretKey::generate().unwrap();
    let keys = TrustedKeys::new([bank.public()]).unwrap();
    let model = golden("gbm.frk");
    let expires = parse_date("2027-06-30").unwrap();
    let signed = sign(
        &model,
        &bank,
        "approved by model risk, ticket 123",
        Some(expires),
    )
    .unwrap();
    assert_eq!(signed.replaced, None);
    let ok = verify(&signed.bytes, &keys, at("2027-06-30")).unwrap();
    assert_eq!(ok.key, bank.public());
    assert_eq!(ok.block.note(), "approved by model risk, ticket 123");
    ferrisk::Scorer::from_bytes(ok.model).unwrap();

    let e = refusal(verify(&signed.bytes, &keys, at("2027-07-01")));
    assert_eq!(
        e,
        SignatureError::Expired {
            key_id: bank.public().id,
            expired: "2027-06-30".into(),
            today: "2027-07-01".into()
        }
    );
    assert!(e.to_string().contains("expired"), "{e}");

    // No expiry: valid whenever.
    let forever = sign(&model, &bank, "no expiry", None).unwrap().bytes;
    verify(&forever, &keys, at("9999-12-31")).unwrap();
}

#[test]
fn unsigned_foreign_and_tampered_files_are_refused_by_name() {
    let bank = SecretKey::generate().unwrap();
    let other = SecretKey::generate().unwrap();
    let keys = TrustedKeys::new([bank.public()]).unwrap();
    let model = golden("lr.frk");
    let now = at("2026-01-01");

    let e = refusal(verify(&model, &keys, now));
    assert!(matches!(e, SignatureError::Unsigned { .. }), "{e}");
    assert!(e.to_string().contains("not signed"), "{e}");
    assert!(e.to_string().contains(&bank.public().id.to_string()), "{e}");

    // Re-signed by another key: the signature replaces the bank's, and the
    // key is not trusted.
    let good = sign(&model, &bank, "approved", None).unwrap().bytes;
    let resigned = sign(&good, &other, "approved", None).unwrap();
    assert_eq!(resigned.replaced, Some(bank.public().id));
    let e = refusal(verify(&resigned.bytes, &keys, now));
    assert_eq!(
        e,
        SignatureError::UnknownKey {
            key_id: other.public().id,
            trusted: bank.public().id.to_string()
        }
    );
    assert!(e.to_string().contains("not a trusted key"), "{e}");

    // Signed by another key but claiming the bank's key id.
    let (m, block) = signature::split(&resigned.bytes).unwrap();
    let mut forged = SignatureBlock::new(bank.public().id, "approved", None).unwrap();
    forged.set_signature(*block.unwrap().signature());
    let forged = signature::attach(m, &forged).unwrap();
    let e = refusal(verify(&forged, &keys, now));
    assert_eq!(
        e,
        SignatureError::BadSignature {
            key_id: bank.public().id
        }
    );

    // A tampered note (same length).
    let mut tampered = good.clone();
    let n = tampered.len();
    let note_at = n - 64 - "approved".len();
    tampered[note_at..note_at + 8].copy_from_slice(b"APPROVED");
    assert!(ferrisk::Scorer::from_bytes(&tampered).is_ok());
    let e = refusal(verify(&tampered, &keys, now));
    assert!(matches!(e, SignatureError::BadSignature { .. }), "{e}");

    // A tampered model whose header checksum was fixed up too.
    let (m, _) = signature::split(&good).unwrap();
    let (h, body) = ferrisk::format::read_header(m).unwrap();
    let mut body = body.to_vec();
    let last = body.len() - 1;
    body[last] ^= 1;
    let mut swapped = ferrisk::format::frame(h.version, h.min_reader, &body);
    swapped.extend_from_slice(&good[m.len()..]);
    let e = refusal(verify(&swapped, &keys, now));
    assert!(matches!(e, SignatureError::BadSignature { .. }), "{e}");

    // A file signed by either of two trusted keys verifies.
    let both = TrustedKeys::new([bank.public(), other.public()]).unwrap();
    verify(&good, &both, now).unwrap();
    verify(&resigned.bytes, &both, now).unwrap();
}

#[test]
fn without_trusted_keys_every_file_loads() {
    let model = golden("lr.frk");
    let none = TrustedKeys::default();
    assert!(check(&model, &none, SystemTime::now()).unwrap().is_none());
    let e = refusal(verify(&model, &none, SystemTime::now()));
    assert_eq!(e, SignatureError::NoTrustedKeys);
    let bank = SecretKey::generate().unwrap();
    let keys = TrustedKeys::new([bank.public()]).unwrap();
    assert!(check(&model, &keys, SystemTime::now()).is_err());
}

#[test]
fn key_files_round_trip_and_are_never_overwritten() {
    let dir = tmp("keys");
    let key = SecretKey::generate().unwrap();
    let (secret, public) = (dir.join("bank.key"), dir.join("bank.pub"));
    key.write(&secret, &public).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "secret key file mode {mode:o}");
    }
    let e = key.write(&secret, &dir.join("other.pub")).unwrap_err();
    assert!(e.to_string().contains("refusing to overwrite"), "{e}");

    let back = SecretKey::read(&secret).unwrap();
    assert_eq!(back.public(), key.public());
    assert_eq!(
        format!("{back:?}"),
        format!("SecretKey({})", key.public().id)
    );
    let keys = TrustedKeys::from_files(&[&public]).unwrap();
    assert_eq!(keys.keys(), &[key.public()]);

    // A secret key given as a trusted key, a damaged key, a missing file.
    let e = TrustedKeys::from_files(&[&secret]).unwrap_err().to_string();
    assert!(e.contains("secret key, not a public key"), "{e}");
    let text = std::fs::read_to_string(&public).unwrap();
    let damaged = dir.join("damaged.pub");
    std::fs::write(
        &damaged,
        text.replace(&key.public().id.to_string(), "00000000deadbeef"),
    )
    .unwrap();
    let e = TrustedKeys::from_files(&[&damaged])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("damaged.pub") && e.contains("line 2") && e.contains("does not match"),
        "{e}"
    );
    let e = TrustedKeys::from_files(&[dir.join("missing.pub")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.pub"), "{e}");
    let e = SecretKey::read(&public).unwrap_err().to_string();
    assert!(e.contains("this is a public key"), "{e}");
    // A file far too large to be a key file.
    let big = dir.join("big.pub");
    std::fs::write(&big, vec![b'#'; 100_000]).unwrap();
    let e = TrustedKeys::from_files(&[&big]).unwrap_err().to_string();
    assert!(e.contains("not a key file"), "{e}");
    // 32 bytes that are not a point on the curve.
    let mut bad = [0u8; 32];
    bad[0] = 2;
    bad[31] = 0x7f;
    let not_a_point = (0u8..=255)
        .map(|b| {
            let mut k = bad;
            k[1] = b;
            k
        })
        .find(|k| TrustedKeys::new([PublicKey::new(*k)]).is_err());
    assert!(not_a_point.is_some(), "no invalid Ed25519 point found");
    let _ = std::fs::remove_dir_all(&dir);
}
