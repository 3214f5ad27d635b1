//! Golden model files (tests/golden/, made by scripts/gen-golden.sh from
//! the project's own synthetic data): every build must keep loading them and
//! reproduce, bit for bit, the probabilities the trainer's CLI recorded when
//! they were written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use ferrisk::csv::CsvText;
use ferrisk::{RowScore, Scorer};

/// Every golden model file of a version directory (no hand-written list:
/// a new kind's golden file is tested by being there).
fn kinds(version: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir(version))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "frk").then(|| p.file_stem()?.to_str().map(str::to_string))?
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no golden files in {version}");
    out
}

fn dir(version: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    if version == "current" {
        d
    } else {
        d.join(version)
    }
}

fn expected(version: &str, kind: &str) -> Vec<f32> {
    let text = std::fs::read_to_string(dir(version).join(format!("expected-{kind}.csv"))).unwrap();
    let mut csv = CsvText::parse(&text).unwrap();
    let col = csv
        .header()
        .iter()
        .position(|h| h == "probability")
        .unwrap();
    let mut out = Vec::new();
    for row in &mut csv {
        let (_, fields) = row.unwrap();
        out.push(fields[col].parse::<f32>().unwrap());
    }
    out
}

/// The CSV a golden file is checked on: the one it was trained on, named
/// by its metadata (`synthetic.csv`; `histories.csv` for the sequence
/// kinds, scripts/gen-golden-seq.sh), in the same directory.
fn data_of(version: &str, scorer: &Scorer) -> String {
    let name = &scorer.bundle().metadata.data_name;
    let name = if name.is_empty() {
        "synthetic.csv"
    } else {
        name
    };
    std::fs::read_to_string(dir(version).join(name))
        .unwrap_or_else(|e| panic!("{version}: the golden data {name}: {e}"))
}

fn check_version(version: &str, format_version: u16) {
    for kind in kinds(version) {
        let kind = kind.as_str();
        let bytes = std::fs::read(dir(version).join(format!("{kind}.frk"))).unwrap();
        let (header, _) = ferrisk::format::read_header(&bytes).unwrap();
        assert_eq!(header.version, format_version, "{version} {kind}");
        let scorer = Scorer::from_bytes(&bytes).unwrap_or_else(|e| panic!("{kind}: {e}"));
        // Kinds a v1 reader knows stay readable by it; attention needs v2,
        // kinds only v3 knows need v3.
        let min_reader = ferrisk::format::v3::min_reader(scorer.bundle());
        assert_eq!(header.min_reader, min_reader, "{version} {kind}");
        assert_eq!(scorer.bundle().algorithm.id, kind);
        let want = expected(version, kind);
        let data = data_of(version, &scorer);
        let got = scorer.score_csv(&data, |_| {}).unwrap();
        assert_eq!(got.len(), want.len(), "{kind}");
        for (g, w) in got.iter().zip(&want) {
            match g {
                RowScore::Scored { line, probability } => {
                    assert_eq!(
                        probability.to_bits(),
                        w.to_bits(),
                        "{kind} line {line}: {probability} vs {w}"
                    )
                }
                RowScore::Failed { line, error } => panic!("{kind} line {line}: {error}"),
            }
        }
    }
}

#[test]
fn frozen_v1_files_still_load_and_reproduce_their_probabilities() {
    check_version("v1", 1);
}

#[test]
fn frozen_v2_files_still_load_and_reproduce_their_probabilities() {
    check_version("v2", 2);
}

#[test]
fn the_frozen_v3_forest_in_the_trees_kind_still_loads_and_reproduces_its_probabilities() {
    check_version("v3-trees", 3);
    let bytes = std::fs::read(dir("v3-trees").join("rf.frk")).unwrap();
    let s = Scorer::from_bytes(&bytes).unwrap();
    assert_eq!(s.bundle().model.tag(), "trees");
}

#[test]
fn current_golden_files_load_and_reproduce_recorded_probabilities() {
    check_version("current", ferrisk::format::FORMAT_VERSION);
}

#[test]
fn v1_files_get_default_scorecard_and_no_drift_profile() {
    let bytes = std::fs::read(dir("v1").join("lr.frk")).unwrap();
    let b = Scorer::from_bytes(&bytes).unwrap().into_bundle();
    assert_eq!(b.scorecard, ferrisk::credit::Scorecard::default());
    assert!(b.drift.is_none() && b.reasons.is_empty());
}

#[test]
fn golden_reports_match_a_fresh_evaluation_of_the_test_rows_shape() {
    // The stored report was computed by the runtime on the exported model;
    // its figures must be internally consistent.
    for kind in kinds("current") {
        let bytes = std::fs::read(dir("current").join(format!("{kind}.frk"))).unwrap();
        let b = Scorer::from_bytes(&bytes).unwrap().into_bundle();
        let r = b.report.unwrap();
        let c = r.test.confusion;
        assert_eq!(c.tn + c.fp + c.fn_ + c.tp, r.test.rows, "{kind}");
        assert_eq!(c.fn_ + c.tp, r.test.positives, "{kind}");
        assert_eq!(r.test_rows, r.test.rows, "{kind}");
        assert!(r.test.roc_auc > 0.6, "{kind}: AUC {}", r.test.roc_auc);
        let data = if matches!(b.model.tag(), "gru" | "tcn") {
            "histories.csv"
        } else {
            "synthetic.csv"
        };
        assert_eq!(b.metadata.data_name, data, "{kind}");
    }
}
