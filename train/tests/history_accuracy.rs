//! Accuracy of the runtime's sampled explanations of the sequence kinds
//! against exact Shapley values (issue 14: "the same accuracy standard as the
//! other non-tree kinds", the standard `explain_accuracy.rs` holds the
//! attention model to).
//!
//! A GRU and a TCN trained through the real pipeline on the frozen synthetic
//! histories, reduced so that every coalition can be enumerated: 6 static
//! features and an 8-month history of one channel (the repayment status),
//! 14 players (2^14 coalitions per background row). The runtime still
//! samples them (checked: the explanation carries a convergence figure),
//! because the enumeration costs more model calls than its sampling plan.
//!
//! The oracle takes the definition: every coalition of players (a static
//! feature's columns, a month's columns) set from the customer, the rest from
//! each background row of the file, scored by the model
//! (`Model::outputs`, whose forward pass `tests/sequence.rs` checks against
//! an independent f64 implementation), averaged with the background weights,
//! and weighed by the Shapley formula. Its values add up to the model's
//! output minus the base (checked). The figures are printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ferrisk::Scorer;
use ferrisk_train::data::{self, SchemaFile, Table};
use ferrisk_train::history::HistorySpec;
use ferrisk_train::pipeline::{self, Evaluation, Quiet, TrainConfig};
use ferrisk_train::synth_history;

const MONTHS: usize = 8;
const CUSTOMERS: usize = 200;

fn train(kind: &str) -> Scorer {
    let text = synth_history::generate(3000, MONTHS, 0, 5);
    let table = Table::parse(Path::new("histories.csv"), &text, String::new()).unwrap();
    // Only the status channel: the balance and payment columns are dropped.
    let drop: Vec<String> = table
        .header
        .iter()
        .filter(|h| h.starts_with("balance_m") || h.starts_with("paid_m"))
        .cloned()
        .collect();
    assert_eq!(drop.len(), 2 * MONTHS);
    let ds = data::prepare(
        &table,
        synth_history::LABEL,
        synth_history::POSITIVE,
        &drop,
        &SchemaFile::default(),
    )
    .unwrap();
    let status = synth_history::sequence_args(MONTHS)
        .into_iter()
        .filter(|a| a.starts_with("status="))
        .collect::<Vec<_>>();
    let history = HistorySpec::from_args(&status, None, None, None)
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

/// Exact Shapley values from every coalition's value (the definition).
fn shapley_from_values(v: &[f64], p: usize) -> Vec<f64> {
    let fact = |n: usize| (1..=n).map(|k| k as f64).product::<f64>();
    let mut phi = vec![0.0; p];
    for mask in 0..v.len() {
        let k = (mask as u32).count_ones() as usize;
        for i in (0..p).filter(|i| mask & (1 << i) == 0) {
            phi[i] += fact(k) * fact(p - k - 1) / fact(p) * (v[mask | (1 << i)] - v[mask]);
        }
    }
    phi
}

/// The oracle: exact Shapley values of design row `x` in the explanation's
/// unit (`scale · output + offset`).
fn exact(s: &Scorer, x: &[f32], scale: f64, offset: f64) -> Vec<f64> {
    let b = s.bundle();
    let players = b.model.sequence().unwrap().players();
    let set = b.background_set.as_ref().unwrap();
    let width = x.len();
    let total: f64 = set.weights.iter().map(|&w| w as f64).sum();
    let p = players.len();
    let mut v = vec![0.0f64; 1 << p];
    let mut rows = Vec::with_capacity((1 << p) * width);
    let mut out = vec![0.0f32; 1 << p];
    for (bg, &w) in set.rows.chunks_exact(width).zip(&set.weights) {
        rows.clear();
        for mask in 0..1usize << p {
            let at = rows.len();
            rows.extend_from_slice(bg);
            for (i, ranges) in players.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    for &(start, end) in ranges {
                        rows[at + start..at + end].copy_from_slice(&x[start..end]);
                    }
                }
            }
        }
        b.model.outputs(&rows, width, &mut out);
        for (acc, &o) in v.iter_mut().zip(&out) {
            *acc += w as f64 / total * (scale * o as f64 + offset);
        }
    }
    shapley_from_values(&v, p)
}

/// The principal reasons: positive contributions, largest first, at most 4.
fn top4(phi: &[f64]) -> Vec<usize> {
    let mut idx = ferrisk::num::order_desc(phi);
    idx.retain(|&i| phi[i] > 0.0);
    idx.truncate(4);
    idx
}

/// Same reasons, or differences only between players whose exact
/// contributions are within `tie` of each other.
fn same_reasons(got: &[usize], exact: &[f64], tie: f64) -> bool {
    let want = top4(exact);
    let value = |l: &[usize], i: usize| l.get(i).map_or(0.0, |&f| exact[f]);
    (0..4).all(|i| got.get(i) == want.get(i) || (value(got, i) - value(&want, i)).abs() <= tie)
}

fn check(kind: &str) {
    let t = std::time::Instant::now();
    let s = train(kind);
    println!("{kind}: trained in {:.1} s", t.elapsed().as_secs_f64());
    let b = s.bundle();
    let (scale, offset) = b
        .calibration
        .log_odds_affine()
        .map_or((1.0, 0.0), |(s, o)| (s as f64, o as f64));
    assert_eq!(b.model.sequence().unwrap().players().len(), 6 + MONTHS);
    // Customers the model never saw (another seed of the generator).
    let text = synth_history::generate(CUSTOMERS, MONTHS, 0, 99);
    let mut csv = ferrisk::csv::CsvText::parse(&text).unwrap();
    let map = s.map_header(csv.header()).unwrap();
    let (mut err, mut size, mut strict, mut tied, mut conv) = (0.0, 0.0, 0, 0, 0.0f64);
    let t = std::time::Instant::now();
    for row in &mut csv {
        let values = s.parse_row(&map, &row.unwrap().1).unwrap();
        let mut x = Vec::new();
        s.design_row(&values, &mut x, &mut Vec::new()).unwrap();
        let e = s.explain_encoded(&values, &x).unwrap();
        let got: Vec<f64> = e
            .contributions
            .iter()
            .map(|c| c.contribution as f64)
            .collect();
        let c = e.convergence.expect("the runtime samples this explanation");
        conv = conv.max(c as f64);
        let want = exact(&s, &x, scale, offset);
        // The oracle adds up to the model's output minus the base.
        let sum: f64 = want.iter().sum();
        assert!(
            (sum - (e.output as f64 - e.base as f64)).abs() < 1e-4,
            "{kind}: oracle sum {sum}, output − base {}",
            e.output - e.base
        );
        err += got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>();
        let total: f64 = want.iter().map(|v| v.abs()).sum();
        size += total;
        strict += usize::from(top4(&got) == top4(&want));
        tied += usize::from(same_reasons(
            &top4(&got),
            &want,
            0.01 * total / want.len() as f64,
        ));
    }
    let n = CUSTOMERS;
    let ratio = err / size;
    println!(
        "{kind}: {n} customers, 6 statics + {MONTHS} months (14 players), sampled: \
         MAE / mean|phi| = {ratio:.4}; top-4 reasons identical for {strict}/{n}, \
         up to near-ties for {tied}/{n}; largest convergence figure {conv:.4}; \
         {:.1} s with the oracle",
        t.elapsed().as_secs_f64()
    );
    assert!(
        ratio <= 0.01,
        "{kind}: mean absolute error {ratio} of the mean |phi|"
    );
    assert!(
        tied == n && strict * 100 >= 98 * n,
        "{kind}: top-4 reasons identical for {strict}/{n}, up to near-ties for {tied}/{n}"
    );
}

#[test]
fn gru_explanations_match_exact_shapley_values() {
    check("gru");
}

#[test]
fn tcn_explanations_match_exact_shapley_values() {
    check("tcn");
}
