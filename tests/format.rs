//! Hostile model files: every way a file can be cut, damaged, forged or
//! come from the future must give a typed error, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(not(target_arch = "wasm32"))]

use ferrisk::format::{self, frame, HEADER_LEN, MAGIC};
use ferrisk::{FormatError, Scorer};

/// A frozen format-v2 golden file.
fn golden(kind: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/golden/v2/{kind}.frk",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn body(bytes: &[u8]) -> &[u8] {
    &bytes[HEADER_LEN..]
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = golden("gbm");
    for len in 0..bytes.len() {
        let err = Scorer::from_bytes(&bytes[..len]).unwrap_err();
        let ok = match err {
            FormatError::TooShort { len: l, .. } => l == len && len < HEADER_LEN,
            FormatError::LengthMismatch { declared, actual } => {
                declared == (bytes.len() - HEADER_LEN) as u64 && actual == (len - HEADER_LEN) as u64
            }
            _ => false,
        };
        assert!(ok, "truncated to {len}: unexpected {err:?}");
    }
}

#[test]
fn bad_magic_and_empty_input() {
    let mut bytes = golden("lr");
    bytes[0] = b'X';
    assert_eq!(
        Scorer::from_bytes(&bytes).unwrap_err(),
        FormatError::BadMagic
    );
    assert!(matches!(
        Scorer::from_bytes(b"").unwrap_err(),
        FormatError::TooShort { len: 0, .. }
    ));
    assert_eq!(
        Scorer::from_bytes(b"PK\x03\x04 a zip file, not a model").unwrap_err(),
        FormatError::BadMagic
    );
}

#[test]
fn any_flipped_body_byte_fails_the_checksum() {
    let bytes = golden("rf");
    for at in (HEADER_LEN..bytes.len()).step_by(97) {
        let mut b = bytes.clone();
        b[at] ^= 0x20;
        assert_eq!(
            Scorer::from_bytes(&b).unwrap_err(),
            FormatError::Checksum,
            "byte {at}"
        );
    }
    // A forged checksum field fails the same way.
    let mut b = bytes.clone();
    b[30] ^= 1;
    assert_eq!(Scorer::from_bytes(&b).unwrap_err(), FormatError::Checksum);
}

#[test]
fn files_from_the_future_are_rejected_with_the_versions() {
    let bytes = golden("lr");
    let needs = format::FORMAT_VERSION + 1;
    let future = frame(9, needs, body(&bytes));
    let err = Scorer::from_bytes(&future).unwrap_err();
    assert_eq!(
        err,
        FormatError::FromFuture {
            found: 9,
            needs,
            supported: format::FORMAT_VERSION
        }
    );
    assert!(err.to_string().contains("upgrade ferrisk"), "{err}");
    // Nonsense versions.
    assert!(matches!(
        Scorer::from_bytes(&frame(0, 0, body(&bytes))).unwrap_err(),
        FormatError::BadVersion { .. }
    ));
    assert!(matches!(
        Scorer::from_bytes(&frame(1, 2, body(&bytes))).unwrap_err(),
        FormatError::BadVersion { .. }
    ));
}

#[test]
fn a_newer_file_that_promises_compatibility_loads() {
    // A writer of format 4 that keeps min_reader <= 3 appends its extension
    // after a v3 body; this reader loads the v3 part.
    let current =
        format::encode(&Scorer::from_bytes(&golden("lr")).unwrap().into_bundle()).unwrap();
    let mut extended = body(&current).to_vec();
    extended.extend_from_slice(b"future extension bytes");
    let s = Scorer::from_bytes(&frame(4, 1, &extended)).unwrap();
    assert_eq!(s.bundle(), Scorer::from_bytes(&current).unwrap().bundle());
    // The same trailing bytes in a v3 file are an error (nothing is silently ignored).
    let err = Scorer::from_bytes(&frame(3, 1, &extended)).unwrap_err();
    assert!(matches!(err, FormatError::Decode(_)), "{err:?}");
}

#[test]
fn a_v3_file_starts_with_the_v2_body_byte_for_byte() {
    // Format v3 appends to the v2 body, so a model of a kind v1 or v2
    // readers know keeps its minimum reader and loads there unchanged.
    for kind in ["lr", "svm-linear", "svm-rbf", "rf", "gbm", "attention"] {
        let old = golden(kind);
        let bundle = Scorer::from_bytes(&old).unwrap().into_bundle();
        let new = format::encode(&bundle).unwrap();
        let (h_old, b_old) = format::read_header(&old).unwrap();
        let (h_new, b_new) = format::read_header(&new).unwrap();
        assert_eq!(h_new.version, 3, "{kind}");
        assert_eq!(h_new.min_reader, h_old.min_reader, "{kind}");
        assert!(
            b_new.len() > b_old.len(),
            "{kind}: the v3 extension follows"
        );
        assert_eq!(&b_new[..b_old.len()], b_old, "{kind}: v2 body changed");
        assert_eq!(
            Scorer::from_bytes(&new).unwrap().bundle(),
            &bundle,
            "{kind}"
        );
    }
}

#[test]
fn a_kind_only_v3_knows_lives_in_a_tagged_section() {
    use ferrisk::kinds::{Model, Stump};
    let mut b = Scorer::from_bytes(&golden("gbm")).unwrap().into_bundle();
    b.model = Model::from(Stump {
        column: 0,
        threshold: 30.0,
        default_left: true,
        left: -0.5,
        right: 0.25,
        left_cover: 10.0,
        right_cover: 30.0,
    });
    b.calibration = ferrisk::Calibration::Logistic;
    b.algorithm = ferrisk::Algorithm::new("stump", "decision stump");
    let bytes = format::encode(&b).unwrap();
    let (h, body) = format::read_header(&bytes).unwrap();
    assert_eq!((h.version, h.min_reader), (3, 3));
    assert_eq!(Scorer::from_bytes(&bytes).unwrap().bundle(), &b);
    // The tag is in the body as text; a reader that does not know it names
    // the kind and the writer instead of misreading the file.
    let at = body
        .windows(b"model/stump".len())
        .position(|w| w == b"model/stump")
        .unwrap();
    let mut body = body.to_vec();
    body[at + 6..at + 11].copy_from_slice(b"gru01");
    let err = Scorer::from_bytes(&frame(3, 3, &body)).unwrap_err();
    assert!(
        matches!(&err, FormatError::UnknownKind { kind, .. } if kind == "gru01"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("'gru01'") && text.contains("written by ferrisk"),
        "{text}"
    );
    assert!(text.contains("upgrade ferrisk"), "{text}");
}

#[test]
fn a_v2_body_starts_with_a_complete_v1_body() {
    // So files of kinds a v1 reader knows declare min_reader = 1 and load there.
    for kind in ["lr", "svm-rbf", "rf", "gbm"] {
        let bytes = golden(kind);
        let (header, body) = format::read_header(&bytes).unwrap();
        assert_eq!((header.version, header.min_reader), (2, 1), "{kind}");
        let (v1, rest) = postcard::take_from_bytes::<format::v1::FileV1>(body).unwrap();
        assert!(!rest.is_empty(), "{kind}: the v2 extension follows");
        let old = ferrisk::Bundle::try_from(v1).unwrap();
        let new = Scorer::from_bytes(&bytes).unwrap().into_bundle();
        assert_eq!(old.model, new.model, "{kind}");
        assert_eq!(old.schema, new.schema, "{kind}");
        assert!(new.drift.is_some() && old.drift.is_none());
    }
}

#[test]
fn v1_files_are_still_read() {
    let bytes = std::fs::read(format!(
        "{}/tests/golden/v1/gbm.frk",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(format::read_header(&bytes).unwrap().0.version, 1);
    assert!(Scorer::from_bytes(&bytes).is_ok());
    // And a v1 file with trailing bytes is refused.
    let mut extended = body(&bytes).to_vec();
    extended.push(0);
    assert!(matches!(
        Scorer::from_bytes(&frame(1, 1, &extended)).unwrap_err(),
        FormatError::Decode(_)
    ));
}

#[test]
fn absurd_declared_length_is_rejected_before_allocation() {
    let mut b = Vec::from(MAGIC);
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&u64::MAX.to_le_bytes());
    b.extend_from_slice(&[0u8; 32]);
    assert!(matches!(
        Scorer::from_bytes(&b).unwrap_err(),
        FormatError::TooLarge { .. }
    ));
}

/// Deterministic xorshift for mutation testing without a rand dependency.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn mutated_bodies_with_valid_checksums_never_panic() {
    // The checksum only detects accidents; a forger can recompute it. The
    // decoder and validator must still hold: errors, or a valid model.
    let mut state = 0x1234_5678_9abc_def0u64;
    for kind in ["lr", "svm-rbf", "rf", "gbm"] {
        let bytes = golden(kind);
        let original = body(&bytes);
        for _ in 0..400 {
            let mut m = original.to_vec();
            let edits = 1 + (xorshift(&mut state) % 4) as usize;
            for _ in 0..edits {
                let at = (xorshift(&mut state) as usize) % m.len();
                m[at] = xorshift(&mut state) as u8;
            }
            if let Ok(s) = Scorer::from_bytes(&frame(2, 1, &m)) {
                // Whatever decoded must be scoreable without panicking.
                let x = vec![0.5f32; s.width()];
                let _ = s.probability(&x);
            }
        }
    }
}

#[test]
fn inconsistent_structures_are_named() {
    use ferrisk::kinds::Model;
    let mut b = Scorer::from_bytes(&golden("rf")).unwrap().into_bundle();
    if let Model::Trees(e) = &mut b.model {
        e.trees[3].nodes[0].left = 0; // a loop
    }
    let err = format::encode(&b).unwrap_err();
    assert!(
        err.to_string().contains("tree 3: node 0: child index"),
        "{err}"
    );
    let mut b = Scorer::from_bytes(&golden("lr")).unwrap().into_bundle();
    if let Model::Linear(l) = &mut b.model {
        l.weights.pop();
    }
    let body = ferrisk::format::v2::encode(&b).unwrap();
    let err = Scorer::from_bytes(&frame(2, 1, &body)).unwrap_err();
    assert!(
        err.to_string().contains("weights for a design width"),
        "{err}"
    );
    // A calibration that does not fit the kind's output (would score NaN).
    let mut b = Scorer::from_bytes(&golden("lr")).unwrap().into_bundle();
    b.calibration = ferrisk::Calibration::Identity;
    let body = ferrisk::format::v2::encode(&b).unwrap();
    let err = Scorer::from_bytes(&frame(2, 1, &body)).unwrap_err();
    assert!(err.to_string().contains("does not fit"), "{err}");
}

#[test]
fn the_explanation_background_is_an_optional_section_older_readers_skip() {
    use ferrisk::explain::BackgroundSet;
    let plain = Scorer::from_bytes(&golden("svm-rbf"))
        .unwrap()
        .into_bundle();
    let width = plain.schema.width();
    let mut b = plain.clone();
    b.background_set = Some(BackgroundSet {
        rows: (0..3 * width).map(|i| (i % 5) as f32 * 0.25).collect(),
        weights: vec![40.0, 25.0, 20.0],
    });
    let bytes = format::encode(&b).unwrap();
    let (h, body) = format::read_header(&bytes).unwrap();
    // Still readable by a v1 reader: the section is in the v3 extension.
    assert_eq!((h.version, h.min_reader), (3, 1));
    assert_eq!(Scorer::from_bytes(&bytes).unwrap().bundle(), &b);
    let v2_len = format::v2::encode(&b).unwrap().len();
    let ext: format::v3::ExtV3 = postcard::from_bytes(&body[v2_len..]).unwrap();
    let s = &ext.sections[0];
    assert_eq!((s.tag, s.required), (format::v3::BACKGROUND_SECTION, false));
    // A reader that does not know the tag skips the section and explains
    // as it always did (against the mean row).
    let tag = format::v3::BACKGROUND_SECTION.as_bytes();
    let at = body.windows(tag.len()).position(|w| w == tag).unwrap();
    let mut unknown = body.to_vec();
    unknown[at..at + tag.len()].copy_from_slice(b"explain/future-set");
    let old = Scorer::from_bytes(&frame(3, 1, &unknown)).unwrap();
    assert_eq!(old.bundle(), &plain);
    let customer = [("age", ferrisk::RawValue::Number(33.0))];
    let with = Scorer::from_bytes(&bytes).unwrap();
    let (e_old, e_plain, e_with) = (
        old.explain(customer.clone()).unwrap(),
        Scorer::new(plain)
            .unwrap()
            .explain(customer.clone())
            .unwrap(),
        with.explain(customer).unwrap(),
    );
    assert_eq!(e_old, e_plain);
    assert!(e_old.convergence.is_none() && e_old.method.contains("64 antithetic"));
    assert_ne!(e_with.base, e_old.base);
    assert!(
        e_with.method.contains("training centroids"),
        "{}",
        e_with.method
    );
}
