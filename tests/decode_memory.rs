//! Decoding memory is bounded by a small constant times the file size: a
//! counting allocator measures the peak heap while `Scorer::from_bytes`
//! reads hostile files whose bytes expand the most when decoded (empty
//! strings and empty vectors cost one byte in the file and 24 in memory).
//! Target: peak ≤ 4 × file size + 8 MiB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(not(target_arch = "wasm32"))]

use std::sync::Mutex;

use ferrisk::format::{self, frame};
use ferrisk::kinds::{Model, Tree};
use ferrisk::{Bundle, Scorer};
use peak_alloc::PeakAlloc;

/// Counts live heap bytes and their peak (a public crate's allocator: the
/// workspace forbids `unsafe` in its own code).
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Tests measure one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Peak heap growth while loading `bytes` (the bytes themselves excluded).
fn peak_while_loading(bytes: &[u8]) -> (usize, bool) {
    let start = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let loaded = Scorer::from_bytes(bytes).is_ok();
    (ALLOCATOR.peak_usage().saturating_sub(start), loaded)
}

fn golden(kind: &str) -> Bundle {
    let bytes = std::fs::read(format!(
        "{}/tests/golden/{kind}.frk",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    Scorer::from_bytes(&bytes).unwrap().into_bundle()
}

fn check(name: &str, bytes: &[u8]) {
    let (peak, loaded) = peak_while_loading(bytes);
    let limit = 4 * bytes.len() + 8 * MIB;
    println!(
        "{name}: file {} bytes, peak {} bytes ({:.2}x), loaded: {loaded}",
        bytes.len(),
        peak,
        peak as f64 / bytes.len() as f64
    );
    assert!(
        peak <= limit,
        "{name}: decoding a {} byte file peaked at {peak} bytes (limit {limit})",
        bytes.len()
    );
}

const MIB: usize = 1024 * 1024;

#[test]
fn many_empty_notes() {
    let _g = ONE_AT_A_TIME.lock().unwrap();
    // 64 MB of empty notes loaded with a 1.56 GB peak (24x the file).
    let mut b = golden("lr");
    b.metadata.notes = vec![String::new(); 64 * MIB];
    let body = format::v2::encode(&b).unwrap();
    check("empty notes", &frame(2, 1, &body));
}

#[test]
fn many_empty_params_reasons_and_categories() {
    let _g = ONE_AT_A_TIME.lock().unwrap();
    let mut b = golden("lr");
    b.metadata.params = vec![(String::new(), String::new()); 8 * MIB];
    let body = format::v2::encode(&b).unwrap();
    check("empty params", &frame(2, 1, &body));
    let mut b = golden("lr");
    b.reasons = vec![
        ferrisk::credit::ReasonText {
            feature: String::new(),
            lang: String::new(),
            text: String::new(),
        };
        8 * MIB
    ];
    let body = format::v2::encode(&b).unwrap();
    check("empty reasons", &frame(2, 1, &body));
    let mut b = golden("lr");
    if let Some(f) = b.schema.features.iter_mut().find(|f| !f.is_numeric()) {
        if let ferrisk::schema::FeatureKind::Categorical(c) = &mut f.kind {
            c.categories = vec![String::new(); 16 * MIB];
            c.frequencies = vec![0.0; 16 * MIB];
        }
    }
    let body = format::v2::encode(&b).unwrap();
    check("empty categories", &frame(2, 1, &body));
}

#[test]
fn many_empty_trees() {
    let _g = ONE_AT_A_TIME.lock().unwrap();
    let mut b = golden("gbm");
    if let Model::Trees(e) = &mut b.model {
        e.trees = vec![Tree { nodes: Vec::new() }; 16 * MIB];
    }
    let body = format::v2::encode(&b).unwrap();
    check("empty trees", &frame(2, 1, &body));
}

#[test]
fn a_large_legitimate_forest_loads_within_the_bound() {
    let _g = ONE_AT_A_TIME.lock().unwrap();
    // The trees kind (the frozen forest file of before the forest kind).
    let mut b = golden("v3-trees/rf");
    let Model::Trees(e) = &mut b.model else {
        panic!("a trees model")
    };
    let one = e.trees.clone();
    for _ in 0..200 {
        e.trees.extend(one.iter().cloned());
    }
    let bytes = format::encode(&b).unwrap();
    let (peak, loaded) = peak_while_loading(&bytes);
    assert!(loaded, "a large forest must load");
    check("large forest (trees kind)", &bytes);
    assert!(peak > bytes.len(), "the measurement sees the decoded trees");
}

/// The forest kind's nodes take 3 bytes or more in the file and 16 in
/// memory (a 12-byte scoring node and its leaf value): its bound is
/// 8 × file + 8 MiB.
fn check_forest(name: &str, bytes: &[u8]) -> bool {
    let (peak, loaded) = peak_while_loading(bytes);
    let limit = 8 * bytes.len() + 8 * MIB;
    println!(
        "{name}: file {} bytes, peak {} bytes ({:.2}x), loaded: {loaded}",
        bytes.len(),
        peak,
        peak as f64 / bytes.len() as f64
    );
    assert!(peak <= limit, "{name}: peak {peak} over {limit}");
    assert!(peak > bytes.len(), "the measurement sees the decoded trees");
    loaded
}

#[test]
fn a_large_legitimate_forest_in_the_forest_kind_loads_within_its_bound() {
    let _g = ONE_AT_A_TIME.lock().unwrap();
    let mut b = golden("rf");
    let Model::Forest(f) = &b.model else {
        panic!("a forest model")
    };
    let mut e = f.unpack();
    let one = e.trees.clone();
    for _ in 0..200 {
        e.trees.extend(one.iter().cloned());
    }
    b.model = Model::from(ferrisk::kinds::Forest::pack(&e).unwrap());
    let bytes = format::encode(&b).unwrap();
    assert!(
        check_forest("large forest (forest kind)", &bytes),
        "it must load"
    );
}

#[test]
fn the_densest_forest_file_stays_within_its_bound() {
    let _g = ONE_AT_A_TIME.lock().unwrap();
    // Two million stumps of 3-byte nodes: the most nodes a byte can buy.
    let mut b = golden("rf");
    let stump = Tree {
        nodes: vec![
            ferrisk::kinds::Node {
                feature: 0,
                threshold: 30.0,
                left: 1,
                right: 2,
                value: 0.5,
                cover: 2.0,
                default_left: true,
            },
            ferrisk::kinds::Node {
                feature: 0,
                threshold: 0.0,
                left: ferrisk::kinds::LEAF,
                right: ferrisk::kinds::LEAF,
                value: 0.0,
                cover: 1.0,
                default_left: true,
            },
            ferrisk::kinds::Node {
                feature: 0,
                threshold: 0.0,
                left: ferrisk::kinds::LEAF,
                right: ferrisk::kinds::LEAF,
                value: 1.0,
                cover: 1.0,
                default_left: true,
            },
        ],
    };
    let e = ferrisk::kinds::TreeEnsemble {
        trees: vec![stump; 2_000_000],
        base: 0.0,
        average: true,
    };
    b.model = Model::from(ferrisk::kinds::Forest::pack(&e).unwrap());
    let body = format::v3::encode(&b).unwrap();
    check_forest("densest forest", &frame(3, 3, &body));
}

#[test]
fn every_golden_file() {
    let _g = ONE_AT_A_TIME.lock().unwrap();
    for kind in [
        "lr",
        "svm-linear",
        "svm-rbf",
        "rf",
        "gbm",
        "attention",
        "stump",
    ] {
        let bytes = std::fs::read(format!(
            "{}/tests/golden/{kind}.frk",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        check(kind, &bytes);
    }
}

/// A sequence section (gru) whose counts claim a million channels (each a
/// struct of tens of bytes in memory, four zero bytes in the file) or a
/// million step features: the reader charges each list to the decoding
/// budget before allocating it.
#[test]
fn a_sequence_section_claiming_huge_counts_stays_within_the_bound() {
    let _g = ONE_AT_A_TIME.lock().unwrap();
    let bytes = std::fs::read(format!(
        "{}/tests/golden/gru.frk",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let b = Scorer::from_bytes(&bytes).unwrap().into_bundle();
    let (_, old) = b.model.encode_section().unwrap();
    let body = &bytes[format::HEADER_LEN..];
    // The section as the v3 extension stores it: its length, then its bytes.
    let mut old_stored = postcard::to_allocvec(&old.len()).unwrap();
    old_stored.extend_from_slice(&old);
    let at = body
        .windows(old_stored.len())
        .position(|w| w == old_stored.as_slice())
        .unwrap();
    let varint = |out: &mut Vec<u8>, mut v: u32| {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    };
    for (what, counts) in [
        // steps 1, a million channels
        ("channels", vec![1u32, 1_000_000]),
        // steps 1, one channel named "", a million step features
        ("step features", vec![1, 1, 0, 1_000_000]),
    ] {
        // name "h", unit "m", then the counts, then zeros.
        let mut crafted = vec![1, b'h', 1, b'm'];
        for c in counts {
            varint(&mut crafted, c);
        }
        crafted.resize(2 << 20, 0);
        let mut stored = postcard::to_allocvec(&crafted.len()).unwrap();
        stored.extend_from_slice(&crafted);
        let mut file = body[..at].to_vec();
        file.extend_from_slice(&stored);
        file.extend_from_slice(&body[at + old_stored.len()..]);
        let framed = frame(3, 3, &file);
        assert!(Scorer::from_bytes(&framed).is_err(), "{what}: refused");
        check(&format!("gru section claiming a million {what}"), &framed);
    }
}
