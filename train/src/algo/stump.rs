//! Fitting a decision stump: the one split of one design column that
//! minimises the training log-loss, with smoothed log-odds on each side.
//!
//! Exhaustive over every column and every distinct value (sorted once per
//! column): O(columns · rows · log rows). The split goes left when
//! `x <= threshold` with the threshold an actual training value, so
//! training-time routing and runtime routing agree for every training row.
//!
//! **Sample weights.** Every count (positives, rows, covers) is a sum of
//! row weights, so a row of weight k is fitted exactly as k copies of it.

use ferrisk::kinds::Stump;

use crate::bins::Matrix;

/// Smoothed log-odds of `pos` positives among `n` rows.
fn log_odds(pos: f64, n: f64) -> f64 {
    ((pos + 0.5) / (n - pos + 0.5)).ln()
}

/// Log-loss of a side with `pos` positives among `n`, at its own log-odds.
fn side_loss(pos: f64, n: f64) -> f64 {
    if n <= 0.0 {
        return 0.0;
    }
    let p = (pos + 0.5) / (n + 1.0);
    -(pos * p.ln() + (n - pos) * (1.0 - p).ln())
}

/// Fits the stump with one sample weight per row (`w`, 1 for rows it does
/// not cover); `None` when no column has two distinct values.
pub fn fit(x: &Matrix, y: &[bool], w: &[f32]) -> Option<Stump> {
    let n = x.rows.min(y.len());
    let weight = |r: usize| w.get(r).map_or(1.0, |&v| f64::from(v));
    let total_pos: f64 = (0..n).filter(|&r| y[r]).map(weight).sum();
    let total_n: f64 = (0..n).map(weight).sum();
    let mut best: Option<(f64, u32, f32, f64, f64)> = None;
    let mut order: Vec<usize> = (0..n).collect();
    for c in 0..x.cols {
        let value = |r: usize| x.row(r).get(c).copied().unwrap_or(0.0);
        order.sort_by(|&a, &b| value(a).total_cmp(&value(b)));
        let (mut left_pos, mut left_n) = (0.0f64, 0.0f64);
        for k in 0..n.saturating_sub(1) {
            let (r, next) = (order[k], order[k + 1]);
            left_n += weight(r);
            if y[r] {
                left_pos += weight(r);
            }
            let v = value(r);
            if v == value(next) || v.is_nan() {
                continue;
            }
            let loss =
                side_loss(left_pos, left_n) + side_loss(total_pos - left_pos, total_n - left_n);
            if best.is_none_or(|(b, ..)| loss < b) {
                best = Some((loss, c as u32, v, left_pos, left_n));
            }
        }
    }
    let (_, column, threshold, left_pos, left_n) = best?;
    let right_n = total_n - left_n;
    Some(Stump {
        column,
        threshold,
        // Schemas of stumps impute every value, so this side is never taken
        // for a scored row; it is stated for completeness.
        default_left: true,
        left: log_odds(left_pos, left_n) as f32,
        right: log_odds(total_pos - left_pos, right_n) as f32,
        left_cover: left_n as f32,
        right_cover: right_n as f32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::testing::{data, duplicate_positives, positive_weight};
    use ferrisk::Kind as _;

    #[test]
    fn weight_k_is_k_copies_exactly() {
        let (x, y) = data(300, 3, 7);
        let weighted = fit(&x, &y, &positive_weight(&y, 3.0)).unwrap();
        let (xd, yd) = duplicate_positives(&x, &y, 3);
        let copies = fit(&xd, &yd, &vec![1.0; xd.rows]).unwrap();
        assert_eq!(weighted, copies);
        let unweighted = fit(&x, &y, &vec![1.0; x.rows]).unwrap();
        assert_ne!(weighted, unweighted);
        // Covers are weighted row counts: 3 per positive, 1 per negative.
        let pos = y.iter().filter(|&&v| v).count() as f32;
        let total = weighted.left_cover + weighted.right_cover;
        assert_eq!(total, 3.0 * pos + (y.len() as f32 - pos));
    }

    #[test]
    fn finds_the_separating_column_and_threshold() {
        // Column 1 separates the classes at 2.0; column 0 is noise.
        let mut x = Matrix::zeros(8, 2);
        let rows = [
            (5.0, 1.0, false),
            (1.0, 2.0, false),
            (3.0, 1.5, false),
            (2.0, 0.5, false),
            (4.0, 3.0, true),
            (1.5, 4.0, true),
            (2.5, 3.5, true),
            (3.5, 5.0, true),
        ];
        let mut y = Vec::new();
        for (i, (a, b, label)) in rows.iter().enumerate() {
            x.row_mut(i).copy_from_slice(&[*a, *b]);
            y.push(*label);
        }
        let s = fit(&x, &y, &[1.0; 8]).unwrap();
        assert_eq!((s.column, s.threshold), (1, 2.0));
        assert!(s.left < 0.0 && s.right > 0.0);
        for (i, label) in y.iter().enumerate() {
            assert_eq!(s.output(x.row(i)) > 0.0, *label);
        }
        assert_eq!(
            fit(&Matrix::zeros(3, 2), &[true, false, true], &[1.0; 3]),
            None
        );
    }
}
