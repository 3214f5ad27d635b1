//! Model-agnostic Shapley values by antithetic permutation sampling
//! (Štrumbelj & Kononenko 2014), for models without an exact method (the
//! RBF SVM, the attention model).
//!
//! Players are the *original* features (a one-hot group moves as one). The
//! value of a coalition S is the model output on a row that takes the
//! customer's encoded values for the features in S and the stored
//! background (the training split's mean design row — an aggregate, never a
//! customer's row) for the others. Each permutation's marginal
//! contributions telescope to `f(x) − f(background)`, so additivity holds
//! exactly for every sample count; more permutations only reduce variance.
//! The permutations come from a fixed-seed xorshift, so an explanation is
//! reproducible everywhere.

/// Permutation pairs (each used forwards and reversed).
pub const DEFAULT_PAIRS: usize = 32;

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Shapley values per feature group. `groups[i]` is the range of design
/// columns of feature `i`; `f` evaluates a design row.
pub fn shapley(
    x: &[f32],
    background: &[f32],
    groups: &[(usize, usize)],
    pairs: usize,
    f: &dyn Fn(&[f32]) -> f64,
) -> (f64, Vec<f64>) {
    let m = groups.len();
    let base = f(background);
    let mut phi = vec![0.0f64; m];
    if m == 0 {
        return (base, phi);
    }
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (m as u64);
    let mut perm: Vec<usize> = (0..m).collect();
    let mut z = background.to_vec();
    let mut samples = 0usize;
    for _ in 0..pairs.max(1) {
        // Fisher–Yates with the fixed generator.
        for i in (1..m).rev() {
            let j = (xorshift(&mut state) % (i as u64 + 1)) as usize;
            perm.swap(i, j);
        }
        for reversed in [false, true] {
            z.copy_from_slice(background);
            let mut prev = base;
            for k in 0..m {
                let idx = if reversed { perm[m - 1 - k] } else { perm[k] };
                let (start, end) = groups[idx];
                if let (Some(dst), Some(src)) = (z.get_mut(start..end), x.get(start..end)) {
                    dst.copy_from_slice(src);
                }
                let now = f(&z);
                phi[idx] += now - prev;
                prev = now;
            }
            samples += 1;
        }
    }
    for p in &mut phi {
        *p /= samples as f64;
    }
    (base, phi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn additive_model_is_recovered_exactly() {
        // f = 2·x0 + 3·(x1 + x2) with x1, x2 one group: Shapley = own term.
        let f = |z: &[f32]| 2.0 * z[0] as f64 + 3.0 * (z[1] + z[2]) as f64;
        let (base, phi) = shapley(&[1.0, 1.0, 0.0], &[0.0, 0.5, 0.5], &[(0, 1), (1, 3)], 4, &f);
        assert_eq!(base, 3.0);
        assert!((phi[0] - 2.0).abs() < 1e-12);
        assert!(phi[1].abs() < 1e-12);
    }

    #[test]
    fn interaction_is_split_evenly_and_sums_to_the_difference() {
        // f = x0·x1: the Shapley values split the product equally.
        let f = |z: &[f32]| (z[0] * z[1]) as f64;
        let (base, phi) = shapley(&[2.0, 3.0], &[0.0, 0.0], &[(0, 1), (1, 2)], 8, &f);
        assert_eq!(base, 0.0);
        assert!(
            (phi[0] - 3.0).abs() < 1e-12 && (phi[1] - 3.0).abs() < 1e-12,
            "{phi:?}"
        );
    }
}
