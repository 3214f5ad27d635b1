//! Dense design matrices and their binned (histogram) form, shared by the
//! random forest and the gradient-boosting trainers.
//!
//! Each column's training values are cut into at most [`MAX_BINS`] bins.
//! Bin `b` holds values `<= split_values[b]`, where `split_values[b]` is an
//! `f32` strictly between the largest value in bin `b` and the smallest in
//! bin `b + 1`. A split "bin <= b goes left" is therefore stored as the
//! runtime test `x <= split_values[b]`, and for every training value the two
//! agree exactly: training-time routing and scoring cannot disagree.
//! Missing values (NaN) get the code [`MISSING`].

/// Row-major dense `f32` matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
}

impl Matrix {
    pub fn zeros(rows: usize, cols: usize) -> Matrix {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    pub fn row_mut(&mut self, i: usize) -> &mut [f32] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// The rows at `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Matrix {
            rows: idx.len(),
            cols: self.cols,
            data,
        }
    }

    /// Column means (NaN ignored).
    pub fn column_means(&self) -> Vec<f32> {
        let mut sum = vec![0.0f64; self.cols];
        let mut n = vec![0u64; self.cols];
        for r in 0..self.rows {
            for (c, &v) in self.row(r).iter().enumerate() {
                if !v.is_nan() {
                    sum[c] += v as f64;
                    n[c] += 1;
                }
            }
        }
        sum.iter()
            .zip(&n)
            .map(|(s, &k)| if k == 0 { 0.0 } else { (s / k as f64) as f32 })
            .collect()
    }
}

pub const MAX_BINS: usize = 255;
/// Bin code of a missing value.
pub const MISSING: u8 = 255;

/// A binned copy of a matrix, column-major codes for cache-friendly histograms.
#[derive(Debug, Clone)]
pub struct Binned {
    pub rows: usize,
    pub cols: usize,
    /// `codes[c * rows + r]`.
    pub codes: Vec<u8>,
    /// Per column: `split_values[b]` separates bin `b` from bin `b + 1`
    /// (length = number of value bins − 1).
    pub split_values: Vec<Vec<f32>>,
}

impl Binned {
    pub fn column(&self, c: usize) -> &[u8] {
        &self.codes[c * self.rows..(c + 1) * self.rows]
    }

    /// Number of value bins of column `c` (missing not counted).
    pub fn bins(&self, c: usize) -> usize {
        self.split_values[c].len() + 1
    }

    /// Bins `m` with at most `max_bins` (≤ 255) value bins per column.
    pub fn new(m: &Matrix, max_bins: usize) -> Binned {
        Binned::weighted(m, max_bins, None)
    }

    /// [`Binned::new`] with a sample weight per row: a column's quantile
    /// cuts (when it has more distinct values than bins) count each row
    /// with its weight, so a row of weight k bins as k copies of it would.
    /// With every weight 1 (or `None`) the bins are those of [`Binned::new`].
    pub fn weighted(m: &Matrix, max_bins: usize, weights: Option<&[f32]>) -> Binned {
        let all: Vec<usize> = (0..m.rows).collect();
        Binned::weighted_rows(m, &all, max_bins, weights)
    }

    /// [`Binned::weighted`] of `m.select(rows)` without the copy: the bins
    /// of the rows at `rows`, in that order (`weights`, when given, one per
    /// selected row).
    pub fn weighted_rows(
        m: &Matrix,
        rows: &[usize],
        max_bins: usize,
        weights: Option<&[f32]>,
    ) -> Binned {
        let max_bins = max_bins.clamp(2, MAX_BINS - 1);
        let n = rows.len();
        let mut codes = vec![0u8; n * m.cols];
        let mut split_values = Vec::with_capacity(m.cols);
        let mut col: Vec<(f32, f64)> = Vec::with_capacity(n);
        let weight = |k: usize| {
            weights
                .and_then(|w| w.get(k))
                .map_or(1.0, |&v| f64::from(v))
        };
        let value = |r: usize, c: usize| m.data.get(r * m.cols + c).copied().unwrap_or(f32::NAN);
        for c in 0..m.cols {
            col.clear();
            col.extend(
                rows.iter()
                    .enumerate()
                    .map(|(k, &r)| (value(r, c), weight(k)))
                    .filter(|(v, _)| !v.is_nan()),
            );
            col.sort_by(|a, b| a.0.total_cmp(&b.0));
            let edges = cut_points(&col, max_bins);
            let out = &mut codes[c * n..(c + 1) * n];
            for (code, &r) in out.iter_mut().zip(rows) {
                let v = value(r, c);
                *code = if v.is_nan() {
                    MISSING
                } else {
                    // First edge with v <= edge; values above all edges go to the last bin.
                    edges.partition_point(|&e| e < v) as u8
                };
            }
            split_values.push(edges);
        }
        Binned {
            rows: n,
            cols: m.cols,
            codes,
            split_values,
        }
    }
}

/// Midpoint in `f32` strictly separating `lo < hi`: `lo <= t < hi`.
pub fn separate(lo: f32, hi: f32) -> f32 {
    let mid = lo + (hi - lo) / 2.0;
    if mid >= lo && mid < hi {
        mid
    } else {
        lo
    }
}

/// Split values for NaN-free `(value, weight)` pairs sorted by value: every
/// distinct value gets its own bin while they fit; otherwise cuts at
/// distinct values with about equal weight in each bin.
fn cut_points(sorted: &[(f32, f64)], max_bins: usize) -> Vec<f32> {
    let mut distinct: Vec<f32> = Vec::new();
    let mut weights: Vec<f64> = Vec::new();
    for &(v, w) in sorted {
        if distinct.last() == Some(&v) {
            if let Some(k) = weights.last_mut() {
                *k += w;
            }
        } else {
            distinct.push(v);
            weights.push(w);
        }
    }
    if distinct.len() <= 1 {
        return Vec::new();
    }
    if distinct.len() <= max_bins {
        return distinct.windows(2).map(|w| separate(w[0], w[1])).collect();
    }
    // Greedy equal-weight cuts between distinct values.
    let total: f64 = weights.iter().sum();
    let per_bin = total / max_bins as f64;
    let mut edges = Vec::with_capacity(max_bins - 1);
    let mut seen = 0.0f64;
    let mut next_target = per_bin;
    for i in 0..distinct.len() - 1 {
        seen += weights[i];
        if seen >= next_target && edges.len() < max_bins - 1 {
            edges.push(separate(distinct[i], distinct[i + 1]));
            while next_target <= seen {
                next_target += per_bin;
            }
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bin_codes_agree_with_thresholds() {
        let vals: Vec<f32> = (0..1000)
            .map(|i| ((i * 37) % 611) as f32 * 0.1 + 0.05)
            .collect();
        let m = Matrix {
            rows: vals.len(),
            cols: 1,
            data: vals.clone(),
        };
        let b = Binned::new(&m, 32);
        assert!(b.bins(0) <= 32);
        for (r, &v) in vals.iter().enumerate() {
            let code = b.column(0)[r] as usize;
            for (k, &t) in b.split_values[0].iter().enumerate() {
                assert_eq!(code <= k, v <= t, "value {v} code {code} split {k} at {t}");
            }
        }
    }

    #[test]
    fn few_distinct_values_each_get_a_bin_and_nan_is_missing() {
        let m = Matrix {
            rows: 5,
            cols: 1,
            data: vec![1.0, 3.0, f32::NAN, 1.0, 2.0],
        };
        let b = Binned::new(&m, 255);
        assert_eq!(b.column(0), &[0, 2, MISSING, 0, 1]);
        assert_eq!(b.split_values[0], vec![1.5, 2.5]);
    }

    #[test]
    fn separate_handles_adjacent_floats() {
        let lo = 1.0f32;
        let hi = f32::from_bits(lo.to_bits() + 1);
        let t = separate(lo, hi);
        assert!(lo <= t && t < hi);
    }
}
