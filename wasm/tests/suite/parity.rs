//! Native-vs-wasm parity. scripts/test-wasm.sh trains every kind on German
//! credit with the native CLI (fixed seed), scores the whole file with
//! `ferrisk predict` (f32 probabilities printed in shortest round-trip
//! form), and builds these tests with `FERRISK_FIXTURES` pointing at the
//! result. Every wasm scoring path must give the CLI's probabilities bit
//! for bit.

use wasm_bindgen_test::wasm_bindgen_test;

use super::golden::check_metrics;
use super::util::*;

/// The native CLI's probabilities for the fixture data, in row order.
fn native(kind: &str) -> Vec<f32> {
    cli_probabilities(
        &format!("{kind}.pred.csv"),
        text(fixture(&format!("{kind}.pred.csv"))),
    )
}

fn parity(kind: &str) {
    let csv = text(fixture("data.csv"));
    let table = Table::read(csv);
    let want = native(kind);
    assert_eq!(
        want.len(),
        table.rows.len(),
        "{kind}: the CLI scored every row"
    );
    let scorer = load(fixture(&format!("{kind}.frk")));
    assert_eq!(string(&ok(scorer.metadata()), "kind"), kind);
    let feats = features(&scorer);

    for numbers in [false, true] {
        let got: Vec<f32> = table
            .rows
            .iter()
            .map(|r| probability(&ok(scorer.predict(customer(&table, r, &feats, numbers)))))
            .collect();
        assert_same_bits(
            &format!("{kind}: predict (numbers as JS numbers: {numbers}) vs native CLI"),
            &got,
            &want,
        );
    }

    let b = batch(&table, &feats);
    assert_eq!(
        b.rows.len(),
        table.rows.len(),
        "{kind}: every fixture row fits a batch"
    );
    let got = ok(scorer.predict_batch(&b.numeric, &b.codes, b.rows.len() as u32));
    assert_same_bits(&format!("{kind}: predictBatch vs native CLI"), &got, &want);

    let scored = ok(scorer.predict_csv(csv));
    assert!(array(&scored, "errors").is_empty(), "{kind}: no row errors");
    assert_same_bits(
        &format!("{kind}: predictCsv vs native CLI"),
        &f32s(&scored, "probabilities"),
        &want,
    );

    // Metrics from the file computed in wasm against an independent pair
    // count and confusion matrix over the CLI's probabilities.
    let threshold = num(&ok(scorer.metadata()), "threshold") as f32;
    let y = labels(&table, &scorer);
    let eval = ok(scorer.evaluate(csv));
    check_metrics(&eval, threshold as f64);
    let auc = pairwise_auc(&want, &y);
    assert!(
        (num(&eval, "rocAuc") - auc).abs() < 1e-9,
        "{kind}: AUC {} vs pair count {auc}",
        num(&eval, "rocAuc")
    );
    let tp = want
        .iter()
        .zip(&y)
        .filter(|(p, y)| **y && **p >= threshold)
        .count() as f64;
    let fp = want
        .iter()
        .zip(&y)
        .filter(|(p, y)| !**y && **p >= threshold)
        .count() as f64;
    let c = get(&eval, "confusion");
    assert_eq!(
        (num(&c, "tp"), num(&c, "fp")),
        (tp, fp),
        "{kind}: confusion at the threshold"
    );
}

#[wasm_bindgen_test]
fn parity_lr() {
    parity("lr");
}

#[wasm_bindgen_test]
fn parity_svm_linear() {
    parity("svm-linear");
}

#[wasm_bindgen_test]
fn parity_svm_rbf() {
    parity("svm-rbf");
}

#[wasm_bindgen_test]
fn parity_rf() {
    parity("rf");
}

#[wasm_bindgen_test]
fn parity_gbm() {
    parity("gbm");
}

/// Kinds the CLI trains beyond the five above (none yet, perhaps later).
#[wasm_bindgen_test]
fn parity_every_other_kind() {
    for kind in fixture_kinds() {
        if !KINDS.contains(&kind.as_str()) {
            parity(&kind);
        }
    }
}
