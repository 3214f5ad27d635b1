//! Fit time of the gradient-boosting trainer on synthetic data shaped like
//! German credit (1,000 × 60) and Bank Marketing (45,000 × 50). Prints
//! figures; asserts nothing about time. Run: `cargo bench -p ferrisk-train --bench gbm`.

use std::time::Instant;

use ferrisk::Calibration;
use ferrisk::Kind as _;
use ferrisk_train::algo::gbm::{fit_detailed, GbmParams};
use ferrisk_train::bins::Matrix;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Half numeric columns (a few with missing values), half 0/1 dummies;
/// the label follows a nonlinear logit of a handful of them.
fn synthetic(rows: usize, cols: usize, seed: u64) -> (Matrix, Vec<bool>) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut m = Matrix::zeros(rows, cols);
    let mut y = Vec::with_capacity(rows);
    for r in 0..rows {
        let row = m.row_mut(r);
        for (c, v) in row.iter_mut().enumerate() {
            *v = if c < cols / 2 {
                let z: f32 = rng.random::<f32>() * 4.0 - 2.0;
                if c % 7 == 3 && rng.random::<f32>() < 0.1 {
                    f32::NAN
                } else {
                    (z * 100.0).round() / 100.0
                }
            } else if rng.random::<f32>() < 0.25 {
                1.0
            } else {
                0.0
            };
        }
        let x0 = row[0];
        let x1 = row[1];
        let x2 = if row[3].is_nan() { 1.0 } else { row[3] };
        let logit = -1.2 + 1.5 * (x0 * x1).tanh() + 0.8 * x2 * x2 - 0.6 * x1 + 0.7 * row[cols - 1]
            - 0.5 * row[cols - 2];
        y.push(rng.random::<f32>() < 1.0 / (1.0 + (-logit).exp()));
    }
    (m, y)
}

fn auc(probs: &[f32], y: &[bool]) -> f64 {
    ferrisk::metrics::compute(probs, y, 0.5).map_or(f64::NAN, |m| m.roc_auc)
}

fn main() {
    println!(
        "{:>7} {:>4}  {:<26} {:>6} {:>6} {:>8} {:>7}",
        "rows", "cols", "setting", "rounds", "kept", "seconds", "test AUC"
    );
    for (rows, cols) in [(1_000, 60), (45_000, 50)] {
        let (x, y) = synthetic(rows, cols, 1);
        let (xt, yt) = synthetic(rows.min(10_000), cols, 2);
        for (name, params) in [
            ("defaults (early stopping)", GbmParams::default()),
            (
                "500 rounds, no stopping",
                GbmParams::default().early_stopping_rounds(0),
            ),
        ] {
            let t = Instant::now();
            let fit = match fit_detailed(&x, &y, &vec![1.0; x.rows], &params, &mut |_, _, _| {}) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("fit failed: {e}");
                    return;
                }
            };
            let secs = t.elapsed().as_secs_f64();
            let probs: Vec<f32> = (0..xt.rows)
                .map(|r| Calibration::Logistic.probability(fit.ensemble.output(xt.row(r))))
                .collect();
            println!(
                "{rows:>7} {cols:>4}  {name:<26} {:>6} {:>6} {secs:>8.3} {:>7.4}",
                fit.rounds_run,
                fit.ensemble.trees.len(),
                auc(&probs, &yt)
            );
        }
    }
}
