//! Training plumbing the network trainers share (attention,
//! `train/src/algo/attention.rs`; GRU/TCN, `train/src/algo/sequence.rs`):
//! a batch is cut into [`CHUNKS`] chunks whatever the thread count, each
//! chunk's loss and gradient land in its own buffer, and [`sum_chunks`]
//! adds them in chunk order, so the weights do not depend on the threads.

/// Chunks per batch: a fixed number, so results never depend on threads.
pub const CHUNKS: usize = 8;

/// Threads to use: the rayon pool's (the CLI installs one of `--threads`),
/// at most [`CHUNKS`].
pub fn threads() -> usize {
    rayon::current_num_threads().clamp(1, CHUNKS)
}

/// Runs `job(k, state)` for `k` in `0..n` on up to `states.len()` threads,
/// each thread taking a contiguous run of `k` with its own state. What each
/// `k` computes must not depend on which thread runs it.
pub fn run_split<S: Send, F>(states: &mut [S], n: usize, job: F)
where
    F: Fn(usize, &mut S) + Sync,
{
    let threads = states.len().clamp(1, n.max(1));
    if threads <= 1 {
        if let Some(s) = states.first_mut() {
            (0..n).for_each(|k| job(k, s));
        }
        return;
    }
    rayon::scope(|scope| {
        for (t, s) in states.iter_mut().take(threads).enumerate() {
            let job = &job;
            scope.spawn(move |_| {
                for k in t * n / threads..(t + 1) * n / threads {
                    job(k, s);
                }
            });
        }
    });
}

/// One row's binary cross-entropy on logit `z` with weight `w`, and the
/// gradient of `scale ·` that loss with respect to `z`.
pub fn bce_row(z: f32, positive: bool, w: f64, scale: f64) -> (f64, f32) {
    let t = if positive { 1.0 } else { 0.0 };
    let zf = f64::from(z);
    let loss = w * (zf.max(0.0) - zf * t + (-zf.abs()).exp().ln_1p());
    let sig = 1.0 / (1.0 + (-zf).exp());
    (loss, ((sig - t) * w * scale) as f32)
}

/// `grads` = the chunks' gradients summed in chunk order; returns the
/// chunks' losses summed in the same order.
pub fn sum_chunks(grads: &mut [f32], chunk_grads: &[Vec<f32>], chunk_loss: &[f64]) -> f64 {
    grads.fill(0.0);
    let mut loss = 0.0;
    for (g, l) in chunk_grads.iter().zip(chunk_loss) {
        for (a, &b) in grads.iter_mut().zip(g) {
            *a += b;
        }
        loss += l;
    }
    loss
}

/// Weighted mean log-loss `Σ wᵢℓᵢ / Σ wᵢ` (0 when the weights sum to 0).
pub fn weighted_log_loss(logits: &[f32], y: &[bool], w: &[f64]) -> f64 {
    let mut total = 0.0;
    for ((&z, &t), &s) in logits.iter().zip(y).zip(w) {
        total += bce_row(z, t, s, 0.0).0;
    }
    let weight: f64 = w.iter().sum();
    if weight > 0.0 {
        total / weight
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stable form against the definition −[t·ln σ(z) + (1−t)·ln(1−σ(z))]
    /// and its derivative σ(z) − t.
    #[test]
    fn bce_row_is_the_cross_entropy_and_its_derivative() {
        for &z in &[-30.0f32, -2.5, -0.1, 0.0, 0.7, 4.0, 25.0] {
            for t in [false, true] {
                let s = 1.0 / (1.0 + (-f64::from(z)).exp());
                // ln σ(z) and ln(1 − σ(z)) = ln σ(−z), each without cancellation.
                let sigma = |u: f64| 1.0 / (1.0 + (-u).exp());
                let want = -if t {
                    sigma(f64::from(z))
                } else {
                    sigma(-f64::from(z))
                }
                .ln();
                let (loss, grad) = bce_row(z, t, 2.0, 0.5);
                let tol = 1e-9 * want.abs().max(1.0);
                assert!((loss - 2.0 * want).abs() <= 2.0 * tol, "z {z} t {t}");
                let g = (s - if t { 1.0 } else { 0.0 }) * 2.0 * 0.5;
                assert!((f64::from(grad) - g).abs() <= 1e-6, "z {z} t {t}");
            }
        }
    }

    #[test]
    fn chunks_are_summed_in_order_and_work_splits_over_threads() {
        let mut grads = vec![9.0f32; 2];
        let loss = sum_chunks(&mut grads, &[vec![1.0, 2.0], vec![0.5, -1.0]], &[0.25, 0.5]);
        assert_eq!((grads, loss), (vec![1.5, 1.0], 0.75));
        for threads in 1..=3 {
            let mut states = vec![Vec::new(); threads];
            run_split(&mut states, 7, |k, s: &mut Vec<usize>| s.push(k));
            let mut all: Vec<usize> = states.concat();
            all.sort_unstable();
            assert_eq!(all, (0..7).collect::<Vec<_>>(), "{threads} threads");
        }
        assert_eq!(weighted_log_loss(&[0.0], &[true], &[0.0]), 0.0);
    }
}
