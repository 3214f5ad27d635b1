//! Class weights through the pipeline, for every kind of the registry:
//! `balanced` on an imbalanced table raises the mean predicted probability
//! of the minority class (before calibration), and the weights are
//! recorded in the file's params. (Each algorithm's own test checks weight
//! k against k copies of a row.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::path::Path;

use ferrisk::kinds::Output;
use ferrisk_train::data::{prepare, Dataset, SchemaFile, Table};
use ferrisk_train::pipeline::{design, fit_bundle, Quiet, TrainConfig};
use ferrisk_train::weights::ClassWeights;

/// Synthetic customers with three of every four `no` rows left out: `no`
/// (the positive class here) is about 15 % of the rows.
fn imbalanced() -> (Table, Dataset) {
    let text = ferrisk_train::synth::generate(1600, 17);
    let mut out = String::new();
    let mut no = 0;
    for (i, line) in text.lines().enumerate() {
        if i > 0 && line.ends_with(",no") {
            no += 1;
            if no % 4 != 0 {
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    let table = Table::parse(Path::new("imbalanced.csv"), &out, String::new()).unwrap();
    let ds = prepare(&table, "default", "no", &[], &SchemaFile::default()).unwrap();
    (table, ds)
}

#[test]
fn balanced_weights_raise_the_minority_probability_for_every_kind() {
    let (table, ds) = imbalanced();
    let n = ds.labels.len();
    let share = ds.positives() as f64 / n as f64;
    assert!((0.1..0.25).contains(&share), "minority share {share}");
    let balanced = ClassWeights::parse("balanced", &ds.positive, &ds.negative, &ds.labels)
        .unwrap()
        .unwrap();
    // n / (2 n_c): the minority weighs more than 1, the majority less.
    assert!(balanced.positive > 2.0 && balanced.negative < 1.0);
    let mut plain = TrainConfig::default();
    plain.kinds.attention.epochs = Some(20);
    let weighted = TrainConfig {
        class_weight: Some(balanced.clone()),
        ..plain.clone()
    };
    let rows: Vec<usize> = (0..n).collect();
    // The sequence kinds need a history, which this table has not; their
    // weighted fit is algo::sequence's (weight_k tests there).
    for kind in plain.kinds.all().into_iter().filter(|k| !k.needs_history()) {
        let mean = |cfg: &TrainConfig| {
            let (bundle, _) = fit_bundle(kind.as_ref(), &table, &ds, &rows, cfg, &Quiet).unwrap();
            let x = design(&bundle, &table, &ds, &rows).unwrap();
            // The model's own output, before calibration: a probability for
            // the forest, a score (log-odds, SVM decision) through the
            // logistic otherwise.
            let total: f64 = (0..x.rows)
                .map(|r| {
                    let out = f64::from(bundle.model.output(x.row(r)));
                    match bundle.model.output_kind() {
                        Output::Probability => out,
                        Output::Score => 1.0 / (1.0 + (-out).exp()),
                    }
                })
                .sum();
            total / x.rows as f64
        };
        let (before, after) = (mean(&plain), mean(&weighted));
        eprintln!("{}: mean P(minority) {before:.4} -> {after:.4}", kind.id());
        assert!(
            after > before + 0.02,
            "{}: balanced weights moved the mean probability of the minority from {before} to {after}",
            kind.id()
        );
        let params = weighted.params_for(kind.as_ref());
        let recorded = params.iter().find(|(k, _)| k == "class_weight");
        assert_eq!(
            recorded.map(|(_, v)| v.as_str()),
            Some(balanced.describe().as_str())
        );
        assert!(!plain
            .params_for(kind.as_ref())
            .iter()
            .any(|(k, _)| k == "class_weight"));
    }
}
