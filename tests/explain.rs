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

/// The recursive TreeSHAP of the paper (Alg. 2, O(leaves × depth²)) that
/// ferrisk ran before the linear-time walk: the reference the new walk is
/// held to on deep random trees (brute force cannot enumerate those).
#[allow(clippy::indexing_slicing)]
mod legacy {
    use ferrisk::kinds::trees::{goes_left, CatSplit};
    use ferrisk::kinds::{Node, Tree};

    #[derive(Clone, Copy, Default)]
    struct PathElement {
        feature: i64,
        zero: f64,
        one: f64,
        weight: f64,
    }

    fn extend(path: &mut [PathElement], depth: usize, zero: f64, one: f64, feature: i64) {
        path[depth] = PathElement {
            feature,
            zero,
            one,
            weight: if depth == 0 { 1.0 } else { 0.0 },
        };
        let d1 = (depth + 1) as f64;
        for i in (0..depth).rev() {
            path[i + 1].weight += one * path[i].weight * (i + 1) as f64 / d1;
            path[i].weight = zero * path[i].weight * (depth - i) as f64 / d1;
        }
    }

    fn unwind(path: &mut [PathElement], depth: usize, index: usize) {
        let one = path[index].one;
        let zero = path[index].zero;
        let mut next = path[depth].weight;
        let d1 = (depth + 1) as f64;
        for i in (0..depth).rev() {
            if one != 0.0 {
                let tmp = path[i].weight;
                path[i].weight = next * d1 / ((i + 1) as f64 * one);
                next = tmp - path[i].weight * zero * (depth - i) as f64 / d1;
            } else if zero != 0.0 {
                path[i].weight = path[i].weight * d1 / (zero * (depth - i) as f64);
            }
        }
        for i in index..depth {
            path[i].feature = path[i + 1].feature;
            path[i].zero = path[i + 1].zero;
            path[i].one = path[i + 1].one;
        }
    }

    fn unwound_sum(path: &[PathElement], depth: usize, index: usize) -> f64 {
        let one = path[index].one;
        let zero = path[index].zero;
        let mut next = path[depth].weight;
        let mut total = 0.0;
        let d1 = (depth + 1) as f64;
        for i in (0..depth).rev() {
            if one != 0.0 {
                let tmp = next * d1 / ((i + 1) as f64 * one);
                total += tmp;
                next = path[i].weight - tmp * zero * ((depth - i) as f64 / d1);
            } else if zero != 0.0 {
                total += (path[i].weight / zero) / ((depth - i) as f64 / d1);
            }
        }
        total
    }

    struct Walk<'a> {
        nodes: &'a [Node],
        cats: &'a [CatSplit],
        x: &'a [f32],
        phi: &'a mut [f64],
        scale: f64,
    }

    impl Walk<'_> {
        #[allow(clippy::too_many_arguments)]
        fn recurse(
            &mut self,
            node: usize,
            buf: &mut [PathElement],
            offset: usize,
            depth: usize,
            zero: f64,
            one: f64,
            feature: i64,
        ) {
            let Some(n) = self.nodes.get(node).copied() else {
                return;
            };
            // This level's path lives after the parent's; copy the parent's in.
            let next_offset = offset + depth + 1;
            if next_offset + depth + 2 > buf.len() {
                return;
            }
            let (parent, rest) = buf.split_at_mut(next_offset);
            let path = &mut rest[..depth + 2];
            path[..depth + 1].copy_from_slice(&parent[offset..offset + depth + 1]);
            extend(path, depth, zero, one, feature);
            if n.is_leaf() {
                for i in 1..=depth {
                    let w = unwound_sum(path, depth, i);
                    let e = path[i];
                    if let Some(p) = usize::try_from(e.feature)
                        .ok()
                        .and_then(|f| self.phi.get_mut(f))
                    {
                        *p += w * (e.one - e.zero) * n.value as f64 * self.scale;
                    }
                }
                return;
            }
            let go_left = goes_left(&n, node, self.x, self.cats);
            let (hot, cold) = if go_left {
                (n.left, n.right)
            } else {
                (n.right, n.left)
            };
            let (Some(h), Some(c)) = (self.nodes.get(hot as usize), self.nodes.get(cold as usize))
            else {
                return;
            };
            let cover = (h.cover as f64 + c.cover as f64).max(f64::MIN_POSITIVE);
            let (hot_zero, cold_zero) = (h.cover as f64 / cover, c.cover as f64 / cover);
            let (mut in_zero, mut in_one) = (1.0, 1.0);
            let mut depth = depth;
            let split = n.feature as i64;
            if let Some(k) = (0..=depth).find(|&k| path[k].feature == split) {
                in_zero = path[k].zero;
                in_one = path[k].one;
                unwind(path, depth, k);
                depth -= 1;
            }
            let own = next_offset;
            self.recurse(
                hot as usize,
                buf,
                own,
                depth + 1,
                hot_zero * in_zero,
                in_one,
                split,
            );
            self.recurse(
                cold as usize,
                buf,
                own,
                depth + 1,
                cold_zero * in_zero,
                0.0,
                split,
            );
        }
    }

    /// Adds `scale ×` the tree's SHAP values for `x` into `phi` (one per design
    /// column). Recursive, but only as deep as the tree, which validation caps
    /// at [`crate::kinds::trees::MAX_DEPTH`]; a validated tree is a tree (no
    /// shared nodes), so the walk visits each node once.
    #[allow(dead_code)]
    pub fn tree_shap(tree: &Tree, x: &[f32], phi: &mut [f64], scale: f64) {
        tree_shap_in(tree, &[], x, phi, scale)
    }

    /// [`tree_shap`] for a tree with categorical splits (a categorical node's
    /// player is its feature's first one-hot column).
    pub fn tree_shap_in(tree: &Tree, cats: &[CatSplit], x: &[f32], phi: &mut [f64], scale: f64) {
        let d = tree.shape().0 + 2;
        let mut buf = vec![PathElement::default(); (d + 2) * (d + 3) / 2 + 2 * d + 4];
        let mut walk = Walk {
            nodes: &tree.nodes,
            cats,
            x,
            phi,
            scale,
        };
        // The root's virtual parent path has one dummy element (feature -1).
        walk.recurse(0, &mut buf, 0, 0, 1.0, 1.0, -1);
    }
}

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

/// Deep random trees (up to 20 levels, 30 features, features repeated along
/// paths, NaN defaults): the walk gives the recursive algorithm's values to
/// 1e-9 of their size, and they add up to the prediction.
#[test]
fn treeshap_matches_the_recursive_algorithm_on_deep_trees() {
    let mut state = 0x1234_5678_9abc_def1_u64;
    for case in 0..300 {
        let m = 1 + case % 30;
        let t = random_tree(&mut state, m, 1 + case % 20);
        t.validate(m).unwrap();
        let x: Vec<f32> = (0..m)
            .map(|_| {
                let r = xorshift(&mut state);
                if r % 13 == 0 {
                    f32::NAN
                } else {
                    (r % 100) as f32 / 100.0
                }
            })
            .collect();
        let mut want = vec![0.0; m];
        legacy::tree_shap_in(&t, &[], &x, &mut want, 0.5);
        let mut got = vec![0.0; m];
        treeshap::tree_shap(&t, &x, &mut got, 0.5);
        let size: f64 = want.iter().map(|v| v.abs()).sum::<f64>().max(1e-12);
        for i in 0..m {
            assert!(
                (got[i] - want[i]).abs() <= 1e-9 * size,
                "case {case} feature {i}: {} vs {}",
                got[i],
                want[i]
            );
        }
        let total = treeshap::expected_value(&t) + 2.0 * got.iter().sum::<f64>();
        assert!(
            (total - t.predict(&x) as f64).abs() < 1e-9,
            "case {case}: {total} vs {}",
            t.predict(&x)
        );
    }
}

#[test]
fn treeshap_matches_brute_force_enumeration() {
    let mut state = 0xfeed_beef_u64;
    for case in 0..200 {
        let m = 2 + case % 9;
        let t = random_tree(&mut state, m, 2 + case % 11);
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
                // A forest explains its raw average (before its calibration).
                Unit::Probability => p.margin as f64,
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
/// recorded then, with the explanation code of that time. The forests'
/// (`rf`) were recorded again when TreeSHAP became the linear-time walk
/// (issue 16): f64 sums in another order move a few contributions by one
/// f32 step; `treeshap_matches_the_recursive_algorithm_on_deep_trees` holds
/// the walk to the old algorithm (and the boosted files' bits did not move).
#[test]
fn files_without_a_background_section_explain_as_before() {
    let want: &[(&str, &str, u64)] = &[
        ("v1", "gbm", 0x41de20b477a530e9),
        ("v1", "lr", 0xe8f3b9b754ac93db),
        ("v1", "rf", 0xac7424f0c0323770),
        ("v1", "svm-linear", 0xe783eb8c2a68b45a),
        ("v1", "svm-rbf", 0x74f17c0e4fa3a350),
        ("v2", "attention", 0x8dab5d72a2ff98b7),
        ("v2", "gbm", 0x41de20b477a530e9),
        ("v2", "lr", 0xe8f3b9b754ac93db),
        ("v2", "rf", 0xac7424f0c0323770),
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
