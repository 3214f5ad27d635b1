//! Exact Shapley values of product games, the structure of the RBF kernel.
//!
//! An RBF kernel is a product over design columns, so over players too:
//! `k(z, s) = Π_j exp(-γ · d_j(z, s))` with `d_j` the squared distance on
//! player `j`'s columns. Against background row `b`, one support vector's
//! term of the interventional game (see [`super::shapley`]) is therefore
//!
//! ```text
//! u(S) = Π_{j∈S} a_j · Π_{j∉S} c_j      a_j = exp(-γ d_j(x, s)), c_j = exp(-γ d_j(b, s))
//! ```
//!
//! and the Shapley weight `|S|!(p−|S|−1)!/p!` is the Beta integral
//! `∫_0^1 t^|S| (1−t)^(p−|S|−1) dt`, so
//!
//! ```text
//! φ_j = (a_j − c_j) · ∫_0^1 Π_{g≠j} (t·a_g + (1−t)·c_g) dt
//! ```
//!
//! (Owen's multilinear extension). The integrand is a polynomial of degree
//! `p − 1`, which Gauss–Legendre quadrature with `⌈p/2⌉` nodes integrates
//! exactly: `O(p²)` per term instead of `2^p` coalitions, and no sampling
//! error. The game of the whole model is a weighted sum of such terms (and
//! the bias, which no player moves), so its Shapley values are the same sum
//! of theirs. All arithmetic is `f64` with `+ − × ÷` in a fixed order (the
//! factors come from `libm::expf`): native and wasm agree bit for bit.

/// Gauss–Legendre nodes and weights on `[0, 1]`: `n` points, exact for
/// polynomials of degree below `2n`. Newton's method on the Legendre
/// polynomial `P_n` from the usual cosine guesses; `n = 0` gives none.
#[inline(never)]
pub fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut x = cos(core::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5));
        let mut slope = 1.0;
        for _ in 0..64 {
            // P_n(x) by the three-term recurrence, and P_n'(x).
            let (mut below, mut at) = (1.0f64, x);
            for k in 2..=n {
                let next = ((2 * k - 1) as f64 * x * at - (k - 1) as f64 * below) / k as f64;
                below = at;
                at = next;
            }
            slope = n as f64 * (x * at - below) / (x * x - 1.0);
            let step = at / slope;
            x -= step;
            if step.abs() <= 1e-15 {
                break;
            }
        }
        // Map [-1, 1] to [0, 1]: weights halve.
        out.push(((1.0 - x) / 2.0, 1.0 / ((1.0 - x * x) * slope * slope)));
    }
    out
}

/// `cos t` for `t` in `[0, π]` by its Taylor series (24 terms: the last is
/// below 1e-30 there), a starting guess for Newton: libm's `cos` would bring
/// ~5 KB of argument reduction tables into the wasm bundle.
fn cos(t: f64) -> f64 {
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    for k in 1..24 {
        term *= -t * t / ((2 * k - 1) * (2 * k)) as f64;
        sum += term;
    }
    sum
}

/// Adds `k ·` the Shapley values of the product game with customer factors
/// `a` and background factors `c` (one per player) into `phi`, with the
/// nodes of [`gauss_legendre`]`(⌈p/2⌉)`. `scratch` is reused between calls.
#[inline(never)]
pub fn add_product_game(
    a: &[f64],
    c: &[f64],
    k: f64,
    nodes: &[(f64, f64)],
    scratch: &mut Vec<f64>,
    phi: &mut [f64],
) {
    let p = a.len().min(c.len()).min(phi.len());
    // scratch[..p]: ∫ Π_{g≠j} per player; scratch[p..2p+1]: prefix products.
    scratch.clear();
    scratch.resize(2 * p + 1, 0.0);
    let (integral, before) = scratch.split_at_mut(p);
    for &(t, w) in nodes {
        let s = 1.0 - t;
        let mut acc = 1.0;
        for (g, slot) in before.iter_mut().enumerate().take(p) {
            *slot = acc;
            acc *= t * a[g] + s * c[g];
        }
        let mut after = w;
        for j in (0..p).rev() {
            integral[j] += before[j] * after;
            after *= t * a[j] + s * c[j];
        }
    }
    for (j, f) in phi.iter_mut().enumerate().take(p) {
        *f += k * (a[j] - c[j]) * integral[j];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_cosine_matches_the_library_on_its_range() {
        for i in 0..=1000 {
            let t = core::f64::consts::PI * i as f64 / 1000.0;
            assert!((cos(t) - t.cos()).abs() < 1e-14, "{t}");
        }
    }

    #[test]
    fn quadrature_integrates_polynomials_up_to_its_degree_exactly() {
        for n in 1..=12 {
            let nodes = gauss_legendre(n);
            let total: f64 = nodes.iter().map(|&(_, w)| w).sum();
            assert!((total - 1.0).abs() < 1e-14, "n {n}: weights sum {total}");
            for d in 0..2 * n {
                let got: f64 = nodes.iter().map(|&(t, w)| w * t.powi(d as i32)).sum();
                let want = 1.0 / (d as f64 + 1.0);
                assert!((got - want).abs() < 1e-13, "n {n}, t^{d}: {got} vs {want}");
            }
            assert!(nodes.iter().all(|&(t, w)| t > 0.0 && t < 1.0 && w > 0.0));
        }
    }

    /// The definition: the mean over all p! orders of each player's
    /// marginal contribution, for the game Π_{S} a · Π_{not S} c.
    fn by_permutations(a: &[f64], c: &[f64]) -> Vec<f64> {
        let p = a.len();
        let u = |mask: usize| -> f64 {
            (0..p)
                .map(|j| if mask & (1 << j) != 0 { a[j] } else { c[j] })
                .product()
        };
        let mut phi = vec![0.0; p];
        let mut order: Vec<usize> = (0..p).collect();
        let mut count = 0.0;
        // Heap's algorithm over every order.
        let mut stack = vec![0usize; p];
        let visit = |order: &[usize], phi: &mut Vec<f64>| {
            let mut mask = 0;
            for &j in order {
                phi[j] += u(mask | (1 << j)) - u(mask);
                mask |= 1 << j;
            }
        };
        visit(&order, &mut phi);
        count += 1.0;
        let mut i = 0;
        while i < p {
            if stack[i] < i {
                let swap = if i % 2 == 0 { 0 } else { stack[i] };
                order.swap(swap, i);
                visit(&order, &mut phi);
                count += 1.0;
                stack[i] += 1;
                i = 0;
            } else {
                stack[i] = 0;
                i += 1;
            }
        }
        phi.iter().map(|v| v / count).collect()
    }

    #[test]
    fn product_games_match_the_permutation_definition() {
        let a = [0.9, 0.05, 0.6, 1.0, 0.31, 0.77, 0.002];
        let c = [0.2, 0.8, 0.6, 0.45, 0.99, 0.1, 0.5];
        for p in 1..=a.len() {
            let want = by_permutations(&a[..p], &c[..p]);
            let mut got = vec![0.0; p];
            add_product_game(
                &a[..p],
                &c[..p],
                2.5,
                &gauss_legendre(p.div_ceil(2)),
                &mut Vec::new(),
                &mut got,
            );
            for (g, w) in got.iter().zip(&want) {
                assert!((g - 2.5 * w).abs() < 1e-14, "p {p}: {got:?} vs {want:?}");
            }
            // Efficiency: Σ φ = u(all) − u(none).
            let span: f64 = a[..p].iter().product::<f64>() - c[..p].iter().product::<f64>();
            assert!((got.iter().sum::<f64>() - 2.5 * span).abs() < 1e-14);
        }
    }
}
