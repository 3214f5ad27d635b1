//! Explanations: exact TreeSHAP checked against brute-force Shapley values
//! computed by enumerating every coalition (an independent computation), and
//! the additivity invariant — base + Σ contributions = model output — for
//! every model kind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop
)]
#![cfg(not(target_arch = "wasm32"))]

use ferrisk::explain::treeshap;
use ferrisk::explain::Unit;
use ferrisk::kinds::{Node, Tree, LEAF};
use ferrisk::{RawValue, Scorer};

/// E[f(x) | x_S] following covers for features outside S (the value
/// function path-dependent TreeSHAP explains), by plain recursion.
fn cond_expectation(t: &Tree, i: usize, x: &[f32], s: u32) -> f64 {
    let n = &t.nodes[i];
    if n.is_leaf() {
        return n.value as f64;
    }
    let (l, r) = (n.left as usize, n.right as usize);
    if s & (1 << n.feature) != 0 {
        let v = x[n.feature as usize];
        let left = if v.is_nan() {
            n.default_left
        } else {
            v <= n.threshold
        };
        return cond_expectation(t, if left { l } else { r }, x, s);
    }
    let (cl, cr) = (t.nodes[l].cover as f64, t.nodes[r].cover as f64);
    (cl * cond_expectation(t, l, x, s) + cr * cond_expectation(t, r, x, s)) / (cl + cr)
}

fn factorial(n: usize) -> f64 {
    (1..=n).map(|k| k as f64).product()
}

/// Shapley values by enumerating all 2^m coalitions.
fn brute_force(t: &Tree, x: &[f32], m: usize) -> Vec<f64> {
    let mut phi = vec![0.0; m];
    for i in 0..m {
        for s in 0u32..(1 << m) {
            if s & (1 << i) != 0 {
                continue;
            }
            let k = s.count_ones() as usize;
            let w = factorial(k) * factorial(m - k - 1) / factorial(m);
            phi[i] += w * (cond_expectation(t, 0, x, s | (1 << i)) - cond_expectation(t, 0, x, s));
        }
    }
    phi
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// A random tree over `m` features, reusing features along paths (the case
/// where TreeSHAP's unwind matters), with random covers and NaN defaults.
fn random_tree(state: &mut u64, m: usize, depth: usize) -> Tree {
    fn grow(nodes: &mut Vec<Node>, state: &mut u64, m: usize, depth: usize, cover: f32) -> u32 {
        let id = nodes.len();
        let r = xorshift(state);
        if depth == 0 || r % 7 == 0 {
            nodes.push(Node {
                feature: 0,
                threshold: 0.0,
                left: LEAF,
                right: LEAF,
                value: (r % 1000) as f32 / 100.0 - 5.0,
                cover,
                default_left: true,
            });
            return id as u32;
        }
        nodes.push(Node {
            feature: (r % m as u64) as u32,
            threshold: ((r >> 8) % 100) as f32 / 100.0,
            left: 0,
            right: 0,
            value: 0.0,
            cover,
            default_left: r & 256 != 0,
        });
        let share = 0.1 + ((r >> 20) % 80) as f32 / 100.0;
        let l = grow(nodes, state, m, depth - 1, cover * share);
        let rr = grow(nodes, state, m, depth - 1, cover * (1.0 - share));
        nodes[id].left = l;
        nodes[id].right = rr;
        id as u32
    }
    let mut nodes = Vec::new();
    grow(&mut nodes, state, m, depth, 100.0);
    Tree { nodes }
}

#[test]
fn treeshap_matches_brute_force_enumeration() {
    let mut state = 0xfeed_beef_u64;
    for case in 0..60 {
        let m = 2 + case % 5;
        let t = random_tree(&mut state, m, 2 + case % 5);
        t.validate(m).unwrap();
        let x: Vec<f32> = (0..m)
            .map(|_| {
                let r = xorshift(&mut state);
                if r % 11 == 0 {
                    f32::NAN
                } else {
                    (r % 100) as f32 / 100.0
                }
            })
            .collect();
        let want = brute_force(&t, &x, m);
        let mut got = vec![0.0; m];
        treeshap::tree_shap(&t, &x, &mut got, 1.0);
        for i in 0..m {
            assert!(
                (got[i] - want[i]).abs() < 1e-9,
                "case {case} feature {i}: {got:?} vs {want:?}"
            );
        }
        // Local accuracy: E[f] + Σφ = f(x).
        let total: f64 = treeshap::expected_value(&t) + got.iter().sum::<f64>();
        assert!((total - t.predict(&x) as f64).abs() < 1e-9, "case {case}");
    }
}

fn golden(kind: &str) -> Scorer {
    let bytes = std::fs::read(format!(
        "{}/tests/golden/{kind}.frk",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    Scorer::from_bytes(&bytes).unwrap()
}

#[test]
fn contributions_add_up_for_every_kind_on_every_golden_row() {
    let data = std::fs::read_to_string(format!(
        "{}/tests/golden/synthetic.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut csv = ferrisk::csv::CsvText::parse(&data).unwrap();
    let header = csv.header().to_vec();
    let rows: Vec<Vec<String>> = (&mut csv).take(60).map(|r| r.unwrap().1).collect();
    for kind in ["lr", "svm-linear", "svm-rbf", "rf", "gbm", "attention"] {
        let s = golden(kind);
        for row in &rows {
            let rec: Vec<(&str, RawValue)> = header
                .iter()
                .map(String::as_str)
                .zip(row.iter().map(|v| RawValue::Text(v)))
                .collect();
            let e = s.explain(rec.clone()).unwrap();
            let p = s.predict(rec).unwrap();
            let sum = e.base as f64
                + e.contributions
                    .iter()
                    .map(|c| c.contribution as f64)
                    .sum::<f64>();
            let model_output = match e.unit {
                Unit::LogOdds => {
                    let m = p.margin as f64;
                    match s.bundle().calibration {
                        ferrisk::Calibration::Platt { a, b } => -(a as f64) * m - b as f64,
                        ferrisk::Calibration::Logistic => m,
                        ferrisk::Calibration::Identity
                        | ferrisk::Calibration::PlattLogit { .. }
                        | ferrisk::Calibration::Isotonic(_) => unreachable!(),
                    }
                }
                Unit::Probability => p.probability as f64,
            };
            assert!(
                (sum - model_output).abs() < 1e-5,
                "{kind}: base+Σ = {sum}, output {model_output}"
            );
            assert_eq!(e.contributions.len(), 8);
        }
        let unit = golden(kind)
            .explain([("age", RawValue::Number(30.0))])
            .unwrap()
            .unit;
        assert_eq!(
            unit,
            if kind == "rf" {
                Unit::Probability
            } else {
                Unit::LogOdds
            },
            "{kind}"
        );
    }
}

#[test]
fn a_feature_the_model_never_splits_on_gets_zero() {
    let s = golden("gbm");
    let b = s.bundle();
    let ferrisk::Model::Trees(e) = &b.model else {
        panic!()
    };
    let used: std::collections::BTreeSet<u32> = e
        .trees
        .iter()
        .flat_map(|t| t.nodes.iter().filter(|n| !n.is_leaf()).map(|n| n.feature))
        .collect();
    let cols = b.schema.columns();
    let e = s
        .explain([
            ("age", RawValue::Number(40.0)),
            ("housing", RawValue::Text("own")),
        ])
        .unwrap();
    for (i, c) in e.contributions.iter().enumerate() {
        let any_used = cols
            .iter()
            .enumerate()
            .any(|(col, (f, _))| *f == i && used.contains(&(col as u32)));
        if !any_used {
            assert_eq!(c.contribution, 0.0, "{}", c.feature);
        }
    }
}

/// FNV-1a over the bits of every explanation (base, output, each
/// contribution) of the first 100 rows of a golden directory's data.
fn explanation_fingerprint(dir: &str, kind: &str) -> u64 {
    let root = format!("{}/tests/golden/{dir}", env!("CARGO_MANIFEST_DIR"));
    let s = Scorer::from_bytes(&std::fs::read(format!("{root}/{kind}.frk")).unwrap()).unwrap();
    let data = std::fs::read_to_string(format!("{root}/synthetic.csv")).unwrap();
    let mut csv = ferrisk::csv::CsvText::parse(&data).unwrap();
    let header = csv.header().to_vec();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |v: f32| {
        for b in v.to_bits().to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for row in (&mut csv).take(100) {
        let row = row.unwrap().1;
        let rec: Vec<(&str, RawValue)> = header
            .iter()
            .map(String::as_str)
            .zip(row.iter().map(|v| RawValue::Text(v)))
            .collect();
        let e = s.explain(rec).unwrap();
        eat(e.base);
        eat(e.output);
        for c in &e.contributions {
            eat(c.contribution);
        }
    }
    h
}

/// Files without an explanation background section (every v1 and v2 file,
/// and v3 files written before the section existed) explain bit for bit as
/// they did when that section was introduced: these fingerprints were
/// recorded then, with the explanation code of that time.
#[test]
fn files_without_a_background_section_explain_as_before() {
    let want: &[(&str, &str, u64)] = &[
        ("v1", "gbm", 0x41de20b477a530e9),
        ("v1", "lr", 0xe8f3b9b754ac93db),
        ("v1", "rf", 0xce6847d366a259ff),
        ("v1", "svm-linear", 0xe783eb8c2a68b45a),
        ("v1", "svm-rbf", 0x74f17c0e4fa3a350),
        ("v2", "attention", 0x8dab5d72a2ff98b7),
        ("v2", "gbm", 0x41de20b477a530e9),
        ("v2", "lr", 0xe8f3b9b754ac93db),
        ("v2", "rf", 0xce6847d366a259ff),
        ("v2", "svm-linear", 0x2fc28384dc1504e9),
        ("v2", "svm-rbf", 0x74f17c0e4fa3a350),
    ];
    let mut got = Vec::new();
    for (dir, kinds) in [
        ("v1", &["gbm", "lr", "rf", "svm-linear", "svm-rbf"][..]),
        (
            "v2",
            &["attention", "gbm", "lr", "rf", "svm-linear", "svm-rbf"][..],
        ),
    ] {
        for kind in kinds {
            got.push((dir, *kind, explanation_fingerprint(dir, kind)));
        }
    }
    assert_eq!(got, want);
}
