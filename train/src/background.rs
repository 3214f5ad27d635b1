//! The explanation background of a model file: a handful of centroids of
//! the training split's design rows, each weighted by the number of rows it
//! stands for (`ferrisk::explain::shapley` averages over them).
//!
//! Seeded k-means++ and Lloyd iterations on the design rows (standardised
//! numeric columns, one-hot blocks), with every cluster holding at least
//! [`MIN_CLUSTER`] rows: a smaller cluster is dropped and its rows join the
//! nearest others. So no background row is close to one customer.
//!
//! A centroid's numeric columns are its cluster's mean. Each one-hot block
//! is set to the cluster's most frequent category (exactly one column 1):
//! a fractional block is an input no customer can give, and the attention
//! model reads a block with no column at 0.5 or above as the "unknown
//! category" token, so a mean block would explain against customers of an
//! unknown category. Real rows (k-medoids) would be valid inputs too, but
//! each would be one customer's record stored in the file.

use ferrisk::explain::BackgroundSet;
use ferrisk::schema::{FeatureKind, Schema};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::bins::Matrix;

/// Centroids wanted (fewer when the training split is small or the model
/// is too costly to explain against more within the explanation budget).
pub const CENTROIDS: usize = 8;
/// Fewest training rows a centroid may stand for.
pub const MIN_CLUSTER: usize = 20;
/// Lloyd iterations per fit (they usually settle sooner).
const ITERATIONS: usize = 50;

/// The background set of the training rows `x` with at most `max_rows`
/// rows, or `None` when there are fewer than [`MIN_CLUSTER`] training rows
/// or `max_rows` is 0.
pub fn background_set(
    x: &Matrix,
    schema: &Schema,
    seed: u64,
    max_rows: usize,
) -> Option<BackgroundSet> {
    let k = CENTROIDS.min(x.rows / MIN_CLUSTER).min(max_rows);
    if k == 0 || x.cols == 0 {
        return None;
    }
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x6261_636b_6772_6f75);
    let mut centers = init(x, k, &mut rng);
    let mut assign = vec![0usize; x.rows];
    loop {
        lloyd(x, &mut centers, &mut assign);
        let mut sizes = vec![0usize; centers.len()];
        for &a in &assign {
            sizes[a] += 1;
        }
        let smallest = (0..sizes.len()).min_by_key(|&c| (sizes[c], c))?;
        if sizes[smallest] >= MIN_CLUSTER || centers.len() == 1 {
            return Some(finish(x, schema, &assign, &sizes));
        }
        centers.remove(smallest);
    }
}

fn dist2(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&p, &q)| {
            let d = p as f64 - q as f64;
            if d.is_nan() {
                0.0
            } else {
                d * d
            }
        })
        .sum()
}

/// k-means++ seeding: each next center drawn with probability proportional
/// to the squared distance to the nearest center so far.
fn init(x: &Matrix, k: usize, rng: &mut SmallRng) -> Vec<Vec<f32>> {
    let mut centers = vec![x.row(rng.random_range(0..x.rows)).to_vec()];
    let mut near: Vec<f64> = (0..x.rows).map(|r| dist2(x.row(r), &centers[0])).collect();
    while centers.len() < k {
        let total: f64 = near.iter().sum();
        if total <= 0.0 {
            break;
        }
        let mut u = rng.random::<f64>() * total;
        let mut pick = x.rows - 1;
        for (r, &d) in near.iter().enumerate() {
            if u < d {
                pick = r;
                break;
            }
            u -= d;
        }
        let c = x.row(pick).to_vec();
        for (r, n) in near.iter_mut().enumerate() {
            *n = n.min(dist2(x.row(r), &c));
        }
        centers.push(c);
    }
    centers
}

/// Lloyd iterations until no row changes cluster; an empty cluster keeps
/// its center (and is dropped as too small by the caller).
fn lloyd(x: &Matrix, centers: &mut [Vec<f32>], assign: &mut [usize]) {
    for it in 0..ITERATIONS {
        let mut changed = false;
        for (r, a) in assign.iter_mut().enumerate() {
            let row = x.row(r);
            let best = (0..centers.len())
                .map(|c| (dist2(row, &centers[c]), c))
                .fold((f64::INFINITY, 0), |b, d| if d.0 < b.0 { d } else { b })
                .1;
            if best != *a || it == 0 {
                changed |= best != *a;
                *a = best;
            }
        }
        if !changed && it > 0 {
            return;
        }
        let means = column_means(x, assign, centers.len());
        for (c, (m, n)) in centers.iter_mut().zip(means) {
            if n > 0 {
                *c = m;
            }
        }
    }
}

/// Per cluster: the mean of its rows (NaN skipped) and its size.
fn column_means(x: &Matrix, assign: &[usize], k: usize) -> Vec<(Vec<f32>, usize)> {
    let mut sum = vec![vec![0.0f64; x.cols]; k];
    let mut count = vec![vec![0usize; x.cols]; k];
    let mut size = vec![0usize; k];
    for (r, &a) in assign.iter().enumerate() {
        size[a] += 1;
        for (c, &v) in x.row(r).iter().enumerate() {
            if !v.is_nan() {
                sum[a][c] += v as f64;
                count[a][c] += 1;
            }
        }
    }
    sum.into_iter()
        .zip(count)
        .zip(size)
        .map(|((s, n), size)| {
            let mean = s
                .iter()
                .zip(&n)
                .map(|(&s, &n)| if n == 0 { 0.0 } else { (s / n as f64) as f32 })
                .collect();
            (mean, size)
        })
        .collect()
}

/// The stored rows: numeric means, one-hot blocks at the cluster's most
/// frequent category; largest cluster first.
fn finish(x: &Matrix, schema: &Schema, assign: &[usize], sizes: &[usize]) -> BackgroundSet {
    let means = column_means(x, assign, sizes.len());
    let mut order: Vec<usize> = (0..sizes.len()).filter(|&c| sizes[c] > 0).collect();
    order.sort_by_key(|&c| (std::cmp::Reverse(sizes[c]), c));
    let mut rows = Vec::with_capacity(order.len() * x.cols);
    let mut weights = Vec::with_capacity(order.len());
    for c in order {
        let mut row = means[c].0.clone();
        let mut start = 0;
        for f in &schema.features {
            let width = f.width();
            if let FeatureKind::Categorical(_) = f.kind {
                let block = &mut row[start..start + width];
                // Column means of a one-hot block are category shares.
                let mode = (0..width).fold(0, |m, i| if block[i] > block[m] { i } else { m });
                for (i, v) in block.iter_mut().enumerate() {
                    *v = if i == mode { 1.0 } else { 0.0 };
                }
            }
            start += width;
        }
        rows.extend_from_slice(&row);
        weights.push(sizes[c] as f32);
    }
    BackgroundSet { rows, weights }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrisk::schema::{CategoricalFeature, Encoding, Feature, NumericFeature};

    fn schema() -> Schema {
        Schema {
            features: vec![
                Feature {
                    name: "n".into(),
                    kind: FeatureKind::Numeric(NumericFeature {
                        mean: 0.0,
                        std: 1.0,
                        median: 0.0,
                        min: -10.0,
                        max: 10.0,
                    }),
                    missing_rate: 0.0,
                },
                Feature {
                    name: "c".into(),
                    kind: FeatureKind::Categorical(CategoricalFeature {
                        categories: vec!["a".into(), "b".into(), "c".into()],
                        frequencies: vec![0.4, 0.3, 0.3],
                        mode: 0,
                    }),
                    missing_rate: 0.0,
                },
            ],
            label: "y".into(),
            positive: "yes".into(),
            negative: "no".into(),
            encoding: Encoding {
                scale: true,
                impute_numeric: true,
            },
        }
    }

    #[test]
    fn centroids_are_valid_rows_of_twenty_or_more_weighted_by_size() {
        // Three groups around -5, 0 and 5 with mixed categories, 101 rows.
        let mut x = Matrix::zeros(101, 4);
        for r in 0..101 {
            let g = r % 3;
            let row = x.row_mut(r);
            row[0] = (g as f32 - 1.0) * 5.0 + (r % 7) as f32 * 0.1;
            row[1 + (g + usize::from(r % 5 == 0)) % 3] = 1.0;
        }
        let s = schema();
        let set = background_set(&x, &s, 7, 8).unwrap();
        set.validate(4).unwrap();
        assert!(set.len() >= 3 && set.len() <= 5, "{}", set.len());
        assert_eq!(set.weights.iter().sum::<f32>(), 101.0);
        assert!(set.weights.iter().all(|&w| w >= MIN_CLUSTER as f32));
        for row in set.rows.chunks_exact(4) {
            let block = &row[1..];
            assert_eq!(block.iter().filter(|&&v| v == 1.0).count(), 1, "{row:?}");
            assert_eq!(block.iter().filter(|&&v| v == 0.0).count(), 2, "{row:?}");
        }
        // Deterministic for a seed.
        assert_eq!(background_set(&x, &s, 7, 8), Some(set));
    }

    #[test]
    fn too_few_rows_give_no_set() {
        assert_eq!(background_set(&Matrix::zeros(19, 4), &schema(), 1, 8), None);
        let one = background_set(&Matrix::zeros(20, 4), &schema(), 1, 8).unwrap();
        assert_eq!(one.weights, vec![20.0]);
        assert_eq!(
            background_set(&Matrix::zeros(200, 4), &schema(), 1, 0),
            None
        );
        let capped = background_set(&Matrix::zeros(200, 4), &schema(), 1, 2).unwrap();
        assert!(capped.len() <= 2);
    }
}
