//! The drift baseline means something: a model trained on one sample of a
//! population, scoring two fresh samples of 5,000 rows from the *same*
//! population, reports score PSI < 0.10 for every kind (the usual "stable"
//! line). Before the baseline came from held-out (out-of-fold) predictions,
//! a random forest reported PSI 0.29 ("shift") here: its training rows'
//! own probabilities are far more confident than any fresh customer's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ferrisk::{ScoreOptions, Scorer};
use ferrisk_train::data::{prepare, SchemaFile, Table};
use ferrisk_train::models::KindParams;
use ferrisk_train::pipeline::{train, Quiet, TrainConfig};
use ferrisk_train::synth;

fn table(name: &str, rows: usize, seed: u64) -> Table {
    let text = synth::generate(rows, seed);
    Table::parse(Path::new(name), &text, String::new()).expect("synthetic CSV parses")
}

/// Score PSI of `sample` against the file's stored baseline, through the
/// runtime's own drift counting (what `ferrisk predict` and the page do).
fn score_psi(scorer: &Scorer, sample: &Table) -> f64 {
    let map = scorer.map_header(&sample.header).expect("same columns");
    let mut rows = scorer.rows(ScoreOptions {
        drift: true,
        ..ScoreOptions::default()
    });
    for r in 0..sample.rows() {
        let cells = sample.row_texts(r).expect("the sample's cells");
        let s = rows.score_cells(&map, &cells).expect("fresh rows score");
        // No clamp artefacts: every probability strictly inside (0, 1), far
        // from the scorecard's 1e-9 clamp (a pure forest leaf used to land
        // there, at ±600 points).
        let p = f64::from(s.prediction.probability);
        assert!(p > 1e-7 && p < 1.0 - 1e-7, "probability {p}");
        assert!(s.points.is_finite());
    }
    let counts = rows.drift().expect("the file has a drift profile").clone();
    scorer
        .drift_report(&counts)
        .expect("counts fit the profile")
        .score
}

#[test]
fn fresh_rows_from_the_training_population_read_as_stable_for_every_kind() {
    let data = table("train.csv", 6000, 1);
    let ds = prepare(&data, "default", "yes", &[], &SchemaFile::default()).expect("dataset");
    let fresh = [table("fresh-a.csv", 5000, 2), table("fresh-b.csv", 5000, 3)];
    for id in KindParams::ids() {
        let mut cfg = TrainConfig::default();
        // This table has no history: the sequence kinds are checked for
        // embedded rows in cli/tests/history.rs.
        if cfg.kinds.get(id).is_some_and(|k| k.needs_history()) {
            continue;
        }
        // Short runs of the slow kinds: PSI is about the baseline, not accuracy.
        cfg.kinds.attention.epochs = Some(4);
        cfg.kinds.svm.max_rows = 1500;
        cfg.folds = 3;
        let kind = cfg.kinds.get(id).expect("registered kind");
        let trained = train(kind.as_ref(), &data, &ds, &cfg, &Quiet).expect("trains");
        let scorer = Scorer::from_bytes(&trained.bytes).expect("loads");
        // No kind the trainer writes today holds a customer's row (the RBF
        // SVM ships landmarks, and says so).
        assert!(
            !scorer.bundle().embeds_training_rows(),
            "{}: the file says it embeds training rows",
            kind.id()
        );
        for sample in &fresh {
            let psi = score_psi(&scorer, sample);
            println!("{id}: score PSI {psi:.4} on {}", sample.file_name());
            assert!(
                psi < 0.10,
                "{id}: score PSI {psi:.4} on fresh rows of the same population"
            );
        }
    }
}
