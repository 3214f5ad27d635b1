//! Random forest (bagged CART, Gini impurity) on binned features.
//!
//! Written here rather than taken from smartcore: smartcore's tree keeps
//! its nodes private and its leaves hold hard class votes with no sample
//! counts, while we need soft leaf probabilities, per-node covers for exact
//! TreeSHAP, and thresholds that are exact `f32` split values (see
//! `bins.rs`). Splits search histograms of the binned design, so a 45k-row
//! table trains in seconds; trees are built on `threads` threads, each tree
//! from its own seed (derived from the seed and the tree's index) into its
//! own slot, so the result depends on neither the thread count nor timing.
//!
//! **Sample weights.** A row of weight `s` counts `s` times: each tree's
//! bootstrap draws `round(Σs)` rows, row `i` with probability `sᵢ / Σs`,
//! which is exactly how a bootstrap of the table with every row repeated
//! `sᵢ` times (for whole weights) is distributed; impurities, leaf
//! probabilities, covers and `min_samples_leaf` count the draws, and the
//! bins' quantile cuts weigh rows by `s`. With every weight 1 the bootstrap
//! is the plain one (`n` uniform draws, the forests of before).

use ferrisk::kinds::{Node, Tree, TreeEnsemble, LEAF};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::bins::{Binned, Matrix, MISSING};

#[derive(Debug, Clone)]
pub struct ForestParams {
    pub trees: usize,
    pub max_depth: usize,
    pub min_samples_leaf: u32,
    /// Features tried per split; `None` = √(columns).
    pub max_features: Option<usize>,
    pub max_bins: usize,
    pub seed: u64,
    /// Threads building trees (the forest does not depend on it).
    pub threads: usize,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            trees: 100,
            max_depth: 12,
            min_samples_leaf: 3,
            max_features: None,
            max_bins: 64,
            seed: 42,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ForestError {
    #[error("invalid parameter: {0}")]
    Param(String),
    #[error(transparent)]
    Weights(#[from] crate::weights::WeightError),
}

/// Fits the forest with one sample weight per row (`w`); `progress(done)`
/// is called after each tree.
pub fn fit(
    x: &Matrix,
    y: &[bool],
    w: &[f32],
    p: &ForestParams,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<TreeEnsemble, ForestError> {
    if p.trees == 0 {
        return Err(ForestError::Param("--rf-trees must be at least 1".into()));
    }
    if p.max_depth == 0 {
        return Err(ForestError::Param(
            "--rf-max-depth must be at least 1".into(),
        ));
    }
    crate::weights::check(w, x.rows)?;
    if y.len() != x.rows {
        return Err(ForestError::Param(format!(
            "{} labels for {} rows",
            y.len(),
            x.rows
        )));
    }
    let binned = Binned::weighted(x, p.max_bins, Some(w));
    let mtry = p
        .max_features
        .unwrap_or(((x.cols as f64).sqrt().round() as usize).max(1))
        .clamp(1, x.cols.max(1));
    let done = std::sync::atomic::AtomicUsize::new(0);
    let threads = p.threads.clamp(1, p.trees);
    let mut trees: Vec<Option<Tree>> = vec![None; p.trees];
    std::thread::scope(|s| {
        let chunks: Vec<&mut [Option<Tree>]> =
            trees.chunks_mut(p.trees.div_ceil(threads)).collect();
        let mut start = 0;
        for chunk in chunks {
            let first = start;
            start += chunk.len();
            let binned = &binned;
            let done = &done;
            s.spawn(move || {
                for (k, slot) in chunk.iter_mut().enumerate() {
                    let t = first + k;
                    let seed = p
                        .seed
                        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                        .wrapping_add(t as u64);
                    *slot = Some(grow(binned, y, w, p, mtry, seed));
                    let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    progress(d);
                }
            });
        }
    });
    Ok(TreeEnsemble {
        trees: trees.into_iter().flatten().collect(),
        base: 0.0,
        average: true,
    })
}

struct Pending {
    node: usize,
    rows: Vec<u32>,
    depth: usize,
}

fn gini_gain(pos_l: f64, n_l: f64, pos_r: f64, n_r: f64) -> f64 {
    // Weighted impurity decrease up to a constant: Σ pos²/n + neg²/n over children.
    let side = |pos: f64, n: f64| {
        if n <= 0.0 {
            0.0
        } else {
            (pos * pos + (n - pos) * (n - pos)) / n
        }
    };
    side(pos_l, n_l) + side(pos_r, n_r)
}

fn grow(
    b: &Binned,
    y: &[bool],
    sample_weights: &[f32],
    p: &ForestParams,
    mtry: usize,
    seed: u64,
) -> Tree {
    let mut rng = SmallRng::seed_from_u64(seed);
    let n = b.rows;
    // Bootstrap counts: n uniform draws, or with sample weights round(Σs)
    // draws with probabilities s / Σs (as a table of repeated rows would).
    let mut counts = vec![0u32; n];
    if crate::weights::all_ones(sample_weights) {
        for _ in 0..n {
            counts[rng.random_range(0..n)] += 1;
        }
    } else {
        let mut cumulative = Vec::with_capacity(n);
        let mut total = 0.0f64;
        for &s in sample_weights {
            total += f64::from(s);
            cumulative.push(total);
        }
        let draws = (total.round() as usize).max(1);
        for _ in 0..draws {
            let u = rng.random::<f64>() * total;
            let i = cumulative.partition_point(|&c| c <= u).min(n - 1);
            counts[i] += 1;
        }
    }
    let rows: Vec<u32> = (0..n as u32).filter(|&i| counts[i as usize] > 0).collect();
    let w: Vec<f64> = counts.iter().map(|&c| f64::from(c)).collect();
    let mut nodes: Vec<Node> = Vec::new();
    let leaf = |pos: f64, cnt: f64| Node {
        feature: 0,
        threshold: 0.0,
        left: LEAF,
        right: LEAF,
        value: if cnt > 0.0 { (pos / cnt) as f32 } else { 0.0 },
        cover: cnt as f32,
        default_left: true,
    };
    nodes.push(leaf(0.0, 0.0));
    let mut stack = vec![Pending {
        node: 0,
        rows,
        depth: 0,
    }];
    let mut features: Vec<usize> = (0..b.cols).collect();
    let mut hist_n = vec![0f64; 256];
    let mut hist_p = vec![0f64; 256];
    while let Some(Pending { node, rows, depth }) = stack.pop() {
        let (mut cnt, mut pos) = (0f64, 0f64);
        for &r in &rows {
            let wr = w[r as usize];
            cnt += wr;
            if y[r as usize] {
                pos += wr;
            }
        }
        nodes[node] = leaf(pos, cnt);
        let min_leaf = p.min_samples_leaf.max(1) as f64;
        if depth >= p.max_depth || cnt < 2.0 * min_leaf || pos == 0.0 || pos == cnt {
            continue;
        }
        let parent_score = gini_gain(pos, cnt, 0.0, 0.0);
        // Sample mtry distinct features (partial Fisher-Yates).
        for i in 0..mtry.min(features.len()) {
            let j = rng.random_range(i..features.len());
            features.swap(i, j);
        }
        let mut best: Option<(f64, usize, usize)> = None; // (score, feature, bin)
        for &f in &features[..mtry.min(features.len())] {
            let bins = b.bins(f);
            if bins < 2 {
                continue;
            }
            let col = b.column(f);
            hist_n[..bins].fill(0.0);
            hist_p[..bins].fill(0.0);
            let (mut miss_n, mut miss_p) = (0f64, 0f64);
            for &r in &rows {
                let code = col[r as usize];
                let wr = w[r as usize];
                let yr = if y[r as usize] { wr } else { 0.0 };
                if code == MISSING {
                    miss_n += wr;
                    miss_p += yr;
                } else {
                    hist_n[code as usize] += wr;
                    hist_p[code as usize] += yr;
                }
            }
            // Missing values go left (forests see imputed data; this is a guard).
            let (mut ln, mut lp) = (miss_n, miss_p);
            for bin in 0..bins - 1 {
                ln += hist_n[bin];
                lp += hist_p[bin];
                let (rn, rp) = (cnt - ln, pos - lp);
                if ln < min_leaf || rn < min_leaf {
                    continue;
                }
                let score = gini_gain(lp, ln, rp, rn);
                if score > parent_score + 1e-12 && best.is_none_or(|(s, _, _)| score > s) {
                    best = Some((score, f, bin));
                }
            }
        }
        let Some((_, f, bin)) = best else { continue };
        let col = b.column(f);
        let (left_rows, right_rows): (Vec<u32>, Vec<u32>) = rows.iter().partition(|&&r| {
            let code = col[r as usize];
            code == MISSING || code as usize <= bin
        });
        let l = nodes.len();
        nodes.push(leaf(0.0, 0.0));
        nodes.push(leaf(0.0, 0.0));
        nodes[node] = Node {
            feature: f as u32,
            threshold: b.split_values[f][bin],
            left: l as u32,
            right: (l + 1) as u32,
            value: (pos / cnt) as f32,
            cover: cnt as f32,
            default_left: true,
        };
        stack.push(Pending {
            node: l + 1,
            rows: right_rows,
            depth: depth + 1,
        });
        stack.push(Pending {
            node: l,
            rows: left_rows,
            depth: depth + 1,
        });
    }
    Tree { nodes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrisk::Kind as _;

    /// Every row weighs 1.
    fn ones(x: &Matrix) -> Vec<f32> {
        vec![1.0; x.rows]
    }

    #[test]
    fn threads_do_not_change_the_forest() {
        let (x, y) = xor_data(400);
        let p = |threads| ForestParams {
            trees: 13,
            threads,
            ..Default::default()
        };
        let one = fit(&x, &y, &ones(&x), &p(1), &|_| {}).unwrap();
        for t in [2, 3, 8] {
            assert_eq!(
                one,
                fit(&x, &y, &ones(&x), &p(t), &|_| {}).unwrap(),
                "{t} threads"
            );
        }
    }

    #[test]
    fn weight_k_matches_k_copies_statistically() {
        // The weighted bootstrap is distributed as the bootstrap of the
        // copies, draw for draw in law but not in the random numbers. Check
        // on 300 trees: the mean predicted probability agrees within 0.01
        // and each row's within 0.05 on average, while the unweighted forest
        // is off by far more (0.08 in the mean, 3x the row gap).
        use crate::weights::testing::{data, duplicate_positives, positive_weight};
        for seed in 0..3 {
            let (x, y) = data(600, 4, 9 + seed);
            let p = ForestParams {
                trees: 300,
                max_features: Some(2),
                seed,
                ..Default::default()
            };
            let weighted = fit(&x, &y, &positive_weight(&y, 3.0), &p, &|_| {}).unwrap();
            let (xd, yd) = duplicate_positives(&x, &y, 3);
            let copies = fit(&xd, &yd, &ones(&xd), &p, &|_| {}).unwrap();
            let unweighted = fit(&x, &y, &ones(&x), &p, &|_| {}).unwrap();
            let (xt, _) = data(500, 4, 100 + seed);
            let probs = |f: &TreeEnsemble| -> Vec<f32> {
                (0..xt.rows).map(|r| f.output(xt.row(r))).collect()
            };
            let (pw, pc, pu) = (probs(&weighted), probs(&copies), probs(&unweighted));
            let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
            let gap = |a: &[f32], b: &[f32]| {
                a.iter().zip(b).map(|(p, q)| (p - q).abs()).sum::<f32>() / a.len() as f32
            };
            let (row_gap, unweighted_gap) = (gap(&pw, &pc), gap(&pw, &pu));
            eprintln!(
                "rf means: weighted {} copies {} unweighted {}; mean row gap {row_gap} (unweighted {unweighted_gap})",
                mean(&pw),
                mean(&pc),
                mean(&pu)
            );
            assert!((mean(&pw) - mean(&pc)).abs() < 0.01);
            assert!(row_gap < 0.05, "{row_gap}");
            // Not vacuous: the weights move every figure by far more.
            assert!(mean(&pw) - mean(&pu) > 0.05);
            assert!(unweighted_gap > 3.0 * row_gap, "{unweighted_gap}");
        }
    }

    fn xor_data(n: usize) -> (Matrix, Vec<bool>) {
        let mut x = Matrix::zeros(n, 3);
        let mut y = Vec::new();
        for i in 0..n {
            let a = ((i * 37) % 101) as f32 / 101.0;
            let b = ((i * 53) % 97) as f32 / 97.0;
            let noise = ((i * 13) % 7) as f32;
            x.row_mut(i).copy_from_slice(&[a, b, noise]);
            y.push((a > 0.5) != (b > 0.5));
        }
        (x, y)
    }

    #[test]
    fn learns_xor_and_is_valid_and_deterministic() {
        let (x, y) = xor_data(600);
        let p = ForestParams {
            trees: 20,
            seed: 3,
            max_features: Some(2),
            ..Default::default()
        };
        let f = fit(&x, &y, &ones(&x), &p, &|_| {}).unwrap();
        assert_eq!(f.trees.len(), 20);
        for t in &f.trees {
            t.validate(3).unwrap();
            for (i, n) in t.nodes.iter().enumerate() {
                if !n.is_leaf() {
                    // Covers add up: parent = left + right.
                    let (l, r) = (&t.nodes[n.left as usize], &t.nodes[n.right as usize]);
                    assert_eq!(n.cover, l.cover + r.cover, "node {i}");
                }
            }
        }
        let correct = (0..x.rows)
            .filter(|&i| (f.output(x.row(i)) >= 0.5) == y[i])
            .count();
        assert!(correct as f64 / x.rows as f64 > 0.9, "{correct}");
        let g = fit(&x, &y, &ones(&x), &p, &|_| {}).unwrap();
        assert_eq!(f, g);
    }

    #[test]
    fn rejects_bad_params() {
        let (x, y) = xor_data(10);
        let p = ForestParams {
            trees: 0,
            ..Default::default()
        };
        assert!(fit(&x, &y, &ones(&x), &p, &|_| {}).is_err());
    }
}
