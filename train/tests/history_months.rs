//! Per-month explanations of the sequence kinds (issue 14): a GRU and a TCN
//! trained through the real pipeline (`--sequence` history, CV, export)
//! on the frozen synthetic histories, then explained by the runtime (the
//! exported file's Shapley values: statics, then one player per month).
//! The generator makes a month matter by `synth_history::month_weight`
//! (recent months far more than old ones); summed |contribution| per month
//! over held-out customers must put most weight where it does:
//!
//! - the most recent months that hold 70 % of the generator's weight (by
//!   `month_weight`: the last 3 of 12, 73 %) get most of the explanation
//!   mass (at least half; evenly spread mass would give them 25 %);
//! - the mass falls with the month's age like `month_weight`: Spearman rank
//!   correlation ≥ 0.8 over the 12 months.
//!
//! The per-month shares are printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ferrisk::Scorer;
use ferrisk_train::data::{self, SchemaFile, Table};
use ferrisk_train::history::HistorySpec;
use ferrisk_train::pipeline::{self, Evaluation, Quiet, TrainConfig};
use ferrisk_train::synth_history::{self, month_weight};

const MONTHS: usize = 12;
const CUSTOMERS: usize = 80;

fn train(kind: &str) -> Scorer {
    let text = synth_history::generate(3000, MONTHS, 0, 5);
    let table = Table::parse(Path::new("histories.csv"), &text, String::new()).unwrap();
    let ds = data::prepare(
        &table,
        synth_history::LABEL,
        synth_history::POSITIVE,
        &[],
        &SchemaFile::default(),
    )
    .unwrap();
    let history = HistorySpec::from_args(&synth_history::sequence_args(MONTHS), None, None, None)
        .unwrap()
        .unwrap();
    history.check(&ds, &table.header, "histories.csv").unwrap();
    let cfg = TrainConfig {
        folds: 2,
        evaluation: Evaluation::Split(0.2),
        history: Some(history),
        threads: 2,
        ..TrainConfig::default()
    };
    let trainer = cfg.kinds.get(kind).unwrap();
    let trained = pipeline::train(trainer.as_ref(), &table, &ds, &cfg, &Quiet).unwrap();
    Scorer::from_bytes(&trained.bytes).unwrap()
}

/// Spearman's rank correlation (no ties in `b`; ties in `a` by position).
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let rank = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        for (k, &i) in idx.iter().enumerate() {
            r[i] = k as f64;
        }
        r
    };
    let (ra, rb) = (rank(a), rank(b));
    let n = a.len() as f64;
    let d2: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - y).powi(2)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

fn check(kind: &str) {
    let t = std::time::Instant::now();
    let s = train(kind);
    println!("{kind}: trained in {:.1} s", t.elapsed().as_secs_f64());
    let t = std::time::Instant::now();
    // Customers the model never saw (another seed of the generator).
    let text = synth_history::generate(CUSTOMERS, MONTHS, 0, 99);
    let mut csv = ferrisk::csv::CsvText::parse(&text).unwrap();
    let map = s.map_header(csv.header()).unwrap();
    let statics = s.bundle().schema.features.len() - 3 * MONTHS;
    // mass[age - 1]: summed |contribution| of the month `age` months back.
    let mut mass = [0.0f64; MONTHS];
    for row in &mut csv {
        let values = s.parse_row(&map, &row.unwrap().1).unwrap();
        let mut x = Vec::new();
        s.design_row(&values, &mut x, &mut Vec::new()).unwrap();
        let e = s.explain_encoded(&values, &x).unwrap();
        assert_eq!(e.contributions.len(), statics + MONTHS, "{kind}");
        // Statics first, then the months oldest first.
        for (i, c) in e.contributions[statics..].iter().enumerate() {
            mass[MONTHS - 1 - i] += f64::from(c.contribution).abs();
        }
    }
    println!(
        "{kind}: {CUSTOMERS} explanations in {:.1} s ({})",
        t.elapsed().as_secs_f64(),
        ferrisk::explain::method(s.bundle())
    );
    let total: f64 = mass.iter().sum();
    let share: Vec<f64> = mass.iter().map(|m| m / total).collect();
    let weight: Vec<f64> = (1..=MONTHS).map(month_weight).collect();
    let wsum: f64 = weight.iter().sum();
    // The most recent months that hold 70 % of the generator's weight.
    let mut held = 0.0;
    let matter = weight
        .iter()
        .take_while(|&&w| {
            let before = held;
            held += w;
            before < 0.7 * wsum
        })
        .count();
    let recent: f64 = share[..matter].iter().sum();
    let rho = spearman(&share, &weight);
    println!(
        "{kind}: share of |contribution| by month age 1..{MONTHS}: {}",
        share
            .iter()
            .map(|v| format!("{v:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "{kind}: generator weight share {}",
        weight
            .iter()
            .map(|v| format!("{:.3}", v / wsum))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "{kind}: the {matter} most recent months (70 % of the generator's weight) hold {recent:.3} \
         of the explanation mass; Spearman rho {rho:.3}"
    );
    assert!(recent >= 0.5, "{kind}: recent months hold {recent:.3}");
    assert!(rho >= 0.8, "{kind}: Spearman {rho:.3}");
}

#[test]
fn gru_months_that_matter_get_the_weight() {
    check("gru");
}

#[test]
fn tcn_months_that_matter_get_the_weight() {
    check("tcn");
}
