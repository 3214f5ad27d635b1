//! Logistic regression and SVMs, fitted with smartcore and converted into
//! the runtime's own inference types (never smartcore's structs: its SVC
//! drops the kernel when serialized, and its wasm feature does not build).
//! SVM probabilities come from Platt scaling fitted on held-out decision
//! values (cross-validated, as LIBSVM does).

use ferrisk::kinds::{KernelSvm, Kind, Linear};
use ferrisk::Calibration;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};
use smartcore::svm::svc::{SVCParameters, SVC};
use smartcore::svm::Kernels;

use crate::bins::Matrix;

#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("{0}")]
    Smartcore(String),
    #[error("invalid parameter: {0}")]
    Param(String),
}

fn dense(x: &Matrix) -> Result<DenseMatrix<f64>, FitError> {
    let rows: Vec<Vec<f64>> = (0..x.rows)
        .map(|r| x.row(r).iter().map(|&v| v as f64).collect())
        .collect();
    DenseMatrix::from_2d_vec(&rows).map_err(|e| FitError::Smartcore(e.to_string()))
}

fn targets(y: &[bool]) -> Vec<i32> {
    y.iter().map(|&b| i32::from(b)).collect()
}

/// L2-regularised logistic regression: minimises Σ log-loss + α/2 |w|².
#[derive(Debug, Clone)]
pub struct LogisticParams {
    pub alpha: f64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams { alpha: 1.0 }
    }
}

pub fn fit_logistic(x: &Matrix, y: &[bool], p: &LogisticParams) -> Result<Linear, FitError> {
    if !(p.alpha >= 0.0 && p.alpha.is_finite()) {
        return Err(FitError::Param(format!(
            "--lr-alpha must be >= 0, got {}",
            p.alpha
        )));
    }
    let xm = dense(x)?;
    let yv = targets(y);
    let params = LogisticRegressionParameters::default().with_alpha(p.alpha);
    let model = LogisticRegression::fit(&xm, &yv, params)
        .map_err(|e| FitError::Smartcore(e.to_string()))?;
    use smartcore::linalg::basic::arrays::Array;
    let coef = model.coefficients();
    let weights = (0..x.cols).map(|j| *coef.get((0, j)) as f32).collect();
    let bias = *model.intercept().get((0, 0)) as f32;
    Ok(Linear { weights, bias })
}

#[derive(Debug, Clone)]
pub struct SvmParams {
    pub c: f64,
    /// RBF kernel width; `None` = 1 / (columns · variance of the design).
    pub gamma: Option<f64>,
    pub epochs: usize,
    pub tol: f64,
    /// Folds of the internal cross-validation that yields held-out decision
    /// values for Platt scaling.
    pub platt_folds: usize,
    pub seed: u64,
}

impl Default for SvmParams {
    fn default() -> Self {
        SvmParams {
            c: 1.0,
            gamma: None,
            epochs: 2,
            tol: 1e-3,
            platt_folds: 3,
            seed: 42,
        }
    }
}

/// A fitted kernel expansion in f64, before conversion.
struct RawSvm {
    support: Vec<Vec<f64>>,
    coef: Vec<f64>,
    bias: f64,
}

/// The fewest rows the RBF SVM trains on with `cols` design columns and
/// `folds` internal Platt folds (at least 2). smartcore 0.7's SVC reads
/// each row as its first `rows` values (`get_row(i).iterator(0).take(n)`,
/// n = number of rows), so with fewer rows than columns it fits on cut rows
/// and returns cut support vectors. Every fit (the final one and the one
/// on each fold's complement, of `n - ceil(n / folds)` rows) needs at
/// least `cols` rows.
pub fn min_rbf_rows(cols: usize, folds: usize) -> usize {
    let k = folds.max(2);
    let mut n = cols.max(2);
    while n - n.div_ceil(k) < cols {
        n += 1;
    }
    n
}

/// Smartcore's SVC with the RBF kernel (the linear SVM has its own solver,
/// [`fit_linear_svm`]).
fn fit_svc(x: &Matrix, y: &[bool], p: &SvmParams, gamma: f64) -> Result<RawSvm, FitError> {
    if !(p.c > 0.0 && p.c.is_finite()) {
        return Err(FitError::Param(format!("--svm-c must be > 0, got {}", p.c)));
    }
    if x.rows < x.cols {
        // See min_rbf_rows: smartcore would cut every row to `x.rows` values.
        return Err(FitError::Param(format!(
            "the RBF SVM needs at least as many rows as design columns ({}), got {}",
            x.cols, x.rows
        )));
    }
    let xm = dense(x)?;
    let yv = targets(y);
    let kernel = Kernels::rbf().with_gamma(gamma);
    let params = SVCParameters::default()
        .with_c(p.c)
        .with_tol(p.tol)
        .with_epoch(p.epochs.max(1))
        .with_kernel(kernel)
        .with_seed(Some(p.seed));
    let svc = SVC::fit(&xm, &yv, &params).map_err(|e| FitError::Smartcore(e.to_string()))?;
    // smartcore keeps the fitted expansion private; its serde form carries
    // the support vectors, their weights and the bias.
    let v = serde_json::to_value(&svc).map_err(|e| FitError::Smartcore(e.to_string()))?;
    let support: Vec<Vec<f64>> = serde_json::from_value(v["instances"].clone())
        .map_err(|e| FitError::Smartcore(format!("support vectors: {e}")))?;
    let coef: Vec<f64> = serde_json::from_value(v["w"].clone())
        .map_err(|e| FitError::Smartcore(format!("weights: {e}")))?;
    let bias: f64 = serde_json::from_value(v["b"].clone())
        .map_err(|e| FitError::Smartcore(format!("bias: {e}")))?;
    if support.len() != coef.len() {
        return Err(FitError::Smartcore(
            "support vectors and weights disagree".into(),
        ));
    }
    Ok(RawSvm {
        support,
        coef,
        bias,
    })
}

/// Default RBF width, as scikit-learn's `gamma="scale"`.
pub fn default_gamma(x: &Matrix) -> f64 {
    let n = x.data.len().max(1) as f64;
    let mean = x.data.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = x
        .data
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    if var > 0.0 {
        1.0 / (x.cols.max(1) as f64 * var)
    } else {
        1.0
    }
}

fn to_kernel(raw: &RawSvm, gamma: f64) -> KernelSvm {
    KernelSvm {
        gamma: gamma as f32,
        support: raw.support.iter().flatten().map(|&v| v as f32).collect(),
        coef: raw.coef.iter().map(|&v| v as f32).collect(),
        bias: raw.bias as f32,
    }
}

/// A fitted SVM in runtime form plus its Platt calibration.
pub enum SvmModel {
    Linear(Linear),
    Kernel(KernelSvm),
}

impl SvmModel {
    fn output(&self, x: &[f32]) -> f32 {
        match self {
            SvmModel::Linear(m) => m.output(x),
            SvmModel::Kernel(m) => m.output(x),
        }
    }
}

/// Linear SVM with the squared hinge loss (L2-loss SVM, the loss of
/// LIBLINEAR's and scikit-learn's LinearSVC), bias as an extra column, by
/// dual coordinate descent (Hsieh et al. 2008): O(rows · columns) per pass,
/// so it trains on every row of a large table. Primal:
/// ½|w|² + C Σ max(0, 1 − y·f(x))². (With the plain hinge, the optimum on
/// an imbalanced, hard table like Bank Marketing collapses onto a few
/// indicator columns; the squared loss keeps every violation's size.)
/// smartcore's SVC is a kernel solver whose cost grows quadratically with
/// rows; the RBF SVM uses it, the linear SVM uses this solver.
pub fn fit_linear_svm(
    x: &Matrix,
    y: &[bool],
    c: f64,
    max_passes: usize,
    seed: u64,
) -> Result<Linear, FitError> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    if !(c > 0.0 && c.is_finite()) {
        return Err(FitError::Param(format!("--svm-c must be > 0, got {c}")));
    }
    let (n, d) = (x.rows, x.cols);
    let mut w = vec![0.0f64; d];
    let mut b = 0.0f64;
    let mut alpha = vec![0.0f64; n];
    let diag = 1.0 / (2.0 * c);
    let q: Vec<f64> = (0..n)
        .map(|i| {
            x.row(i)
                .iter()
                .map(|&v| (v as f64) * (v as f64))
                .sum::<f64>()
                + 1.0
                + diag
        })
        .collect();
    let sign: Vec<f64> = y.iter().map(|&v| if v { 1.0 } else { -1.0 }).collect();
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    for _ in 0..max_passes.max(1) {
        order.shuffle(&mut rng);
        let (mut max_pg, mut min_pg) = (f64::NEG_INFINITY, f64::INFINITY);
        for &i in &order {
            let xi = x.row(i);
            let wx: f64 = w.iter().zip(xi).map(|(a, &v)| a * v as f64).sum::<f64>() + b;
            let g = sign[i] * wx - 1.0 + diag * alpha[i];
            let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
            max_pg = max_pg.max(pg);
            min_pg = min_pg.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / q[i]).max(0.0);
                let delta = (alpha[i] - old) * sign[i];
                for (wj, &v) in w.iter_mut().zip(xi) {
                    *wj += delta * v as f64;
                }
                b += delta;
            }
        }
        if max_pg - min_pg < 1e-3 {
            break;
        }
    }
    Ok(Linear {
        weights: w.into_iter().map(|v| v as f32).collect(),
        bias: b as f32,
    })
}

fn fit_any(
    x: &Matrix,
    y: &[bool],
    p: &SvmParams,
    gamma: Option<f64>,
) -> Result<SvmModel, FitError> {
    match gamma {
        Some(g) => Ok(SvmModel::Kernel(to_kernel(&fit_svc(x, y, p, g)?, g))),
        None => Ok(SvmModel::Linear(fit_linear_svm(
            x,
            y,
            p.c,
            200 * p.epochs.max(1),
            p.seed,
        )?)),
    }
}

/// Fits an SVM (linear when `rbf` is false) and its Platt scaling.
pub fn fit_svm(
    x: &Matrix,
    y: &[bool],
    p: &SvmParams,
    rbf: bool,
) -> Result<(SvmModel, Calibration), FitError> {
    let gamma = if rbf {
        let need = min_rbf_rows(x.cols, p.platt_folds);
        if x.rows < need {
            return Err(FitError::Param(format!(
                "the RBF SVM needs at least {need} training rows for {} design columns \
                 ({} Platt folds), got {}",
                x.cols,
                p.platt_folds.max(2),
                x.rows
            )));
        }
        Some(p.gamma.unwrap_or_else(|| default_gamma(x)))
    } else {
        None
    };
    // Held-out decision values from internal stratified folds.
    let folds = crate::split::stratified_folds(y, p.platt_folds.max(2), p.seed ^ 0x5eed);
    let mut dec = vec![0.0f64; x.rows];
    for fold in &folds {
        let train = crate::split::complement(x.rows, fold);
        let ytr: Vec<bool> = train.iter().map(|&i| y[i]).collect();
        if ytr.iter().all(|&v| v) || ytr.iter().all(|&v| !v) {
            continue;
        }
        let m = fit_any(&x.select(&train), &ytr, p, gamma)?;
        for &i in fold {
            dec[i] = m.output(x.row(i)) as f64;
        }
    }
    let (a, b) = platt(&dec, y);
    Ok((
        fit_any(x, y, p, gamma)?,
        Calibration::Platt {
            a: a as f32,
            b: b as f32,
        },
    ))
}

/// Platt scaling, P(y=1|f) = 1 / (1 + exp(A f + B)), fitted by Newton's
/// method with backtracking on smoothed targets (Lin, Lin & Weng 2007).
pub fn platt(dec: &[f64], y: &[bool]) -> (f64, f64) {
    let prior1 = y.iter().filter(|&&v| v).count() as f64;
    let prior0 = y.len() as f64 - prior1;
    let hi = (prior1 + 1.0) / (prior1 + 2.0);
    let lo = 1.0 / (prior0 + 2.0);
    let t: Vec<f64> = y.iter().map(|&v| if v { hi } else { lo }).collect();
    let mut a = 0.0;
    let mut b = ((prior0 + 1.0) / (prior1 + 1.0)).ln();
    let sigma = 1e-12;
    let objective = |a: f64, b: f64| -> f64 {
        let mut f = 0.0;
        for (d, ti) in dec.iter().zip(&t) {
            let fapb = d * a + b;
            f += if fapb >= 0.0 {
                ti * fapb + (1.0 + (-fapb).exp()).ln()
            } else {
                (ti - 1.0) * fapb + (1.0 + fapb.exp()).ln()
            };
        }
        f
    };
    let mut fval = objective(a, b);
    for _ in 0..100 {
        let (mut h11, mut h22, mut h21, mut g1, mut g2) = (sigma, sigma, 0.0, 0.0, 0.0);
        for (d, ti) in dec.iter().zip(&t) {
            let fapb = d * a + b;
            let (p, q) = if fapb >= 0.0 {
                let e = (-fapb).exp();
                (e / (1.0 + e), 1.0 / (1.0 + e))
            } else {
                let e = fapb.exp();
                (1.0 / (1.0 + e), e / (1.0 + e))
            };
            let d2 = p * q;
            h11 += d * d * d2;
            h22 += d2;
            h21 += d * d2;
            let d1 = ti - p;
            g1 += d * d1;
            g2 += d1;
        }
        if g1.abs() < 1e-5 && g2.abs() < 1e-5 {
            break;
        }
        let det = h11 * h22 - h21 * h21;
        if det.abs() < 1e-300 {
            break;
        }
        let da = -(h22 * g1 - h21 * g2) / det;
        let db = -(-h21 * g1 + h11 * g2) / det;
        let gd = g1 * da + g2 * db;
        let mut step = 1.0;
        let mut improved = false;
        while step >= 1e-10 {
            let (na, nb) = (a + step * da, b + step * db);
            let nf = objective(na, nb);
            if nf < fval + 1e-4 * step * gd {
                a = na;
                b = nb;
                fval = nf;
                improved = true;
                break;
            }
            step /= 2.0;
        }
        if !improved {
            break;
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rbf_svm_needs_a_row_per_column_in_every_fit() {
        for cols in [1, 2, 17, 40] {
            for folds in [2, 3, 5] {
                let n = min_rbf_rows(cols, folds);
                assert!(n - n.div_ceil(folds) >= cols, "{cols} {folds}");
                assert!(n - 1 - (n - 1).div_ceil(folds) < cols, "{cols} {folds}");
            }
        }
        assert_eq!(min_rbf_rows(17, 3), 26);
    }

    #[test]
    fn too_few_rows_for_the_rbf_svm_are_refused_not_cut() {
        // 10 rows, 17 columns: smartcore would return 10-value support vectors.
        let mut x = Matrix::zeros(10, 17);
        for r in 0..10 {
            for (c, v) in x.row_mut(r).iter_mut().enumerate() {
                *v = ((r * 17 + c) % 7) as f32 - 3.0;
            }
        }
        let y: Vec<bool> = (0..10).map(|i| i % 2 == 0).collect();
        let e = fit_svm(&x, &y, &SvmParams::default(), true)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("needs at least 26 training rows"), "{e}");
        let raw = fit_svc(&x, &y, &SvmParams::default(), 0.1).err();
        assert!(raw.is_some());
    }

    #[test]
    fn platt_recovers_a_known_sigmoid() {
        // Labels drawn deterministically from P(y=1|f) = 1/(1+exp(-2f+0.5)).
        let mut dec = Vec::new();
        let mut y = Vec::new();
        for i in 0..4000 {
            let f = (i as f64 / 4000.0) * 6.0 - 3.0;
            let p = 1.0 / (1.0 + (-2.0 * f + 0.5f64).exp());
            // Low-discrepancy threshold instead of randomness.
            let u = ((i as f64) * 0.618_033_988_75).fract();
            dec.push(f);
            y.push(u < p);
        }
        let (a, b) = platt(&dec, &y);
        assert!((a + 2.0).abs() < 0.15, "a = {a}");
        assert!((b - 0.5).abs() < 0.15, "b = {b}");
    }

    #[test]
    fn logistic_separates_a_shifted_feature() {
        let n = 200;
        let mut x = Matrix::zeros(n, 1);
        let mut y = Vec::new();
        for i in 0..n {
            let v = (i as f32 / n as f32) * 4.0 - 2.0;
            x.row_mut(i)[0] = v;
            y.push(((i * 7) % 10) as f32 / 10.0 < 1.0 / (1.0 + (-3.0 * v).exp()));
        }
        let m = fit_logistic(&x, &y, &LogisticParams { alpha: 0.01 }).unwrap();
        assert!(m.weights[0] > 1.0, "{:?}", m.weights);
    }
}
