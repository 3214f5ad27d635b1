//! Golden model files (tests/golden/, made by scripts/gen-golden.sh from
//! the project's own synthetic data): every build must keep loading them and
//! reproduce, bit for bit, the probabilities the trainer's CLI recorded when
//! they were written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use ferrisk::csv::CsvText;
use ferrisk::{RowScore, Scorer};

const KINDS: [&str; 5] = ["lr", "svm-linear", "svm-rbf", "rf", "gbm"];

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn expected(kind: &str) -> Vec<f32> {
    let text = std::fs::read_to_string(golden(&format!("expected-{kind}.csv"))).unwrap();
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

#[test]
fn golden_files_load_and_reproduce_recorded_probabilities() {
    let data = std::fs::read_to_string(golden("synthetic.csv")).unwrap();
    for kind in KINDS {
        let bytes = std::fs::read(golden(&format!("{kind}.frk"))).unwrap();
        let scorer = Scorer::from_bytes(&bytes).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(scorer.bundle().kind.id(), kind);
        let want = expected(kind);
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
fn golden_reports_match_a_fresh_evaluation_of_the_test_rows_shape() {
    // The stored report was computed by the runtime on the exported model;
    // its figures must be internally consistent.
    for kind in KINDS {
        let bytes = std::fs::read(golden(&format!("{kind}.frk"))).unwrap();
        let b = Scorer::from_bytes(&bytes).unwrap().into_bundle();
        let r = b.report.unwrap();
        let c = r.test.confusion;
        assert_eq!(c.tn + c.fp + c.fn_ + c.tp, r.test.rows, "{kind}");
        assert_eq!(c.fn_ + c.tp, r.test.positives, "{kind}");
        assert_eq!(r.test_rows, r.test.rows, "{kind}");
        assert!(r.test.roc_auc > 0.6, "{kind}: AUC {}", r.test.roc_auc);
        assert_eq!(b.metadata.data_name, "synthetic.csv");
    }
}
