//! Logistic regression (smartcore's L-BFGS, or Newton with sample weights)
//! and SVMs (the linear one by dual coordinate descent, the RBF one by our
//! own SMO solver in [`super::svm`], which replaced smartcore's SVC),
//! converted into the runtime's own inference types. SVM probabilities come
//! from Platt scaling fitted on held-out decision values (cross-validated,
//! as LIBSVM does).

use ferrisk::kinds::{Kind, Linear};
use ferrisk::Calibration;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

use super::svm;
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

/// L2-regularised logistic regression: minimises
/// Σ wᵢ·log-loss(xᵢ) + α/2 |w|² (the bias is not penalised), `wᵢ` the
/// sample weights.
#[derive(Debug, Clone)]
pub struct LogisticParams {
    pub alpha: f64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams { alpha: 1.0 }
    }
}

/// Fits logistic regression with one sample weight per row. With every
/// weight 1 this is smartcore's L-BFGS fit (the models trained before class
/// weights existed); otherwise [`fit_logistic_newton`], which minimises the
/// same objective with each row's loss times its weight (its tests check
/// both against each other, and weight k against k copies of a row).
pub fn fit_logistic(
    x: &Matrix,
    y: &[bool],
    w: &[f32],
    p: &LogisticParams,
) -> Result<Linear, FitError> {
    if !(p.alpha >= 0.0 && p.alpha.is_finite()) {
        return Err(FitError::Param(format!(
            "--lr-alpha must be >= 0, got {}",
            p.alpha
        )));
    }
    crate::weights::check(w, x.rows).map_err(|e| FitError::Param(e.to_string()))?;
    if !crate::weights::all_ones(w) {
        return fit_logistic_newton(x, y, w, p);
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

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Solves `a · v = b` for a symmetric positive definite `a` (n × n,
/// row-major) by Cholesky; `None` when `a` is not positive definite.
fn cholesky_solve(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    let mut l = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut sum = a[i * n + j];
            for k in 0..j {
                sum -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if sum.is_nan() || sum <= 0.0 || sum.is_infinite() {
                    return None;
                }
                l[i * n + i] = sum.sqrt();
            } else {
                l[i * n + j] = sum / l[j * n + j];
            }
        }
    }
    let mut v = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            v[i] -= l[i * n + k] * v[k];
        }
        v[i] /= l[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            v[i] -= l[k * n + i] * v[k];
        }
        v[i] /= l[i * n + i];
    }
    Some(v)
}

/// Weighted logistic regression by Newton's method with a backtracking
/// line search (iteratively reweighted least squares): minimises
/// Σ wᵢ·(ln(1 + e^{zᵢ}) − yᵢzᵢ) + α/2 |β|², `zᵢ = β·xᵢ + b`, the bias
/// unpenalised (smartcore's objective, with each row's term weighted).
/// The Hessian is `Xᵀ diag(wᵢ pᵢ(1−pᵢ)) X + α I` over the columns and the
/// bias; stops when the largest gradient entry is below 1e-9 · Σw, the
/// Newton decrement gᵀH⁻¹g below 1e-14 · (1 + f), or a step no longer
/// lowers f.
pub fn fit_logistic_newton(
    x: &Matrix,
    y: &[bool],
    w: &[f32],
    p: &LogisticParams,
) -> Result<Linear, FitError> {
    crate::weights::check(w, x.rows).map_err(|e| FitError::Param(e.to_string()))?;
    if y.len() != x.rows {
        return Err(FitError::Param(format!(
            "{} labels for {} rows",
            y.len(),
            x.rows
        )));
    }
    let (n, d) = (x.rows, x.cols);
    let m = d + 1;
    let alpha = p.alpha;
    let total: f64 = w.iter().map(|&v| f64::from(v)).sum();
    let margin = |beta: &[f64], i: usize| -> f64 {
        x.row(i)
            .iter()
            .zip(beta)
            .map(|(&v, b)| f64::from(v) * b)
            .sum::<f64>()
            + beta[d]
    };
    let objective = |beta: &[f64]| -> f64 {
        let mut f = 0.0;
        for i in 0..n {
            let z = margin(beta, i);
            f += f64::from(w[i]) * (softplus(z) - if y[i] { z } else { 0.0 });
        }
        f + 0.5 * alpha * beta[..d].iter().map(|b| b * b).sum::<f64>()
    };
    let mut beta = vec![0.0f64; m];
    let mut f = objective(&beta);
    let mut row = vec![0.0f64; m];
    for _ in 0..100 {
        let mut g = vec![0.0f64; m];
        let mut h = vec![0.0f64; m * m];
        for i in 0..n {
            for (r, &v) in row.iter_mut().zip(x.row(i)) {
                *r = f64::from(v);
            }
            row[d] = 1.0;
            let z = margin(&beta, i);
            let pi = sigmoid(z);
            let wi = f64::from(w[i]);
            let gi = wi * (pi - if y[i] { 1.0 } else { 0.0 });
            let hi = wi * pi * (1.0 - pi);
            for a in 0..m {
                g[a] += gi * row[a];
                let ha = hi * row[a];
                if ha != 0.0 {
                    for b in 0..=a {
                        h[a * m + b] += ha * row[b];
                    }
                }
            }
        }
        for j in 0..d {
            g[j] += alpha * beta[j];
            h[j * m + j] += alpha;
        }
        for a in 0..m {
            for b in 0..a {
                h[b * m + a] = h[a * m + b];
            }
        }
        if g.iter().fold(0.0f64, |acc, v| acc.max(v.abs())) <= 1e-9 * total.max(1.0) {
            break;
        }
        let neg: Vec<f64> = g.iter().map(|v| -v).collect();
        // A tiny ridge when the Hessian is singular (α = 0, separable data).
        let mut step = cholesky_solve(&h, &neg);
        let mut ridge = 1e-10 * total.max(1.0);
        while step.is_none() && ridge < 1e10 {
            let mut hr = h.clone();
            for a in 0..m {
                hr[a * m + a] += ridge;
            }
            step = cholesky_solve(&hr, &neg);
            ridge *= 100.0;
        }
        let Some(step) = step else { break };
        let slope: f64 = g.iter().zip(&step).map(|(a, b)| a * b).sum();
        // −slope = gᵀH⁻¹g, twice the Newton estimate of f − min f.
        if -slope <= 1e-14 * (1.0 + f.abs()) {
            break;
        }
        let mut t = 1.0;
        let mut moved = false;
        while t >= 1e-12 {
            let cand: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + t * s).collect();
            let fc = objective(&cand);
            if fc <= f + 1e-4 * t * slope {
                moved = fc < f;
                beta = cand;
                f = fc;
                break;
            }
            t /= 2.0;
        }
        if !moved {
            break;
        }
    }
    if beta.iter().any(|b| !b.is_finite()) {
        return Err(FitError::Param(
            "logistic regression diverged (try a larger --lr-alpha)".into(),
        ));
    }
    Ok(Linear {
        weights: beta[..d].iter().map(|&b| b as f32).collect(),
        bias: beta[d] as f32,
    })
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
    /// Threads of the RBF solver (the model does not depend on it).
    pub threads: usize,
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
            threads: 1,
        }
    }
}

/// The fewest rows the RBF SVM trains on with `cols` design columns and
/// `folds` internal Platt folds (at least 2): every fit (the final one and
/// the one on each fold's complement, of `n - ceil(n / folds)` rows) needs
/// a row per design column and enough rows for one landmark of
/// [`svm::MIN_MEMBERS`] rows (the shipped expansion).
pub fn min_rbf_rows(cols: usize, folds: usize) -> usize {
    let k = folds.max(2);
    let need = cols.max(svm::MIN_MEMBERS);
    let mut n = need;
    while n - n.div_ceil(k) < need {
        n += 1;
    }
    n
}

/// Figures of an RBF SVM fit, for the file's notes.
#[derive(Debug, Clone)]
pub struct RbfReport {
    pub rows: usize,
    pub support_vectors: usize,
    pub iterations: usize,
    pub landmarks: usize,
    pub min_members: usize,
    /// AUC of the exact model and of the shipped expansion on the same
    /// out-of-fold rows (the Platt folds), and on the training rows.
    pub oof_auc_exact: f64,
    pub oof_auc_shipped: f64,
    pub train_auc_exact: f64,
    pub train_auc_shipped: f64,
}

/// One RBF fit: the exact solution by [`svm::solve`] (penalty `C·wᵢ` per
/// row), then its landmark expansion. Returns (exact, shipped, report
/// without the out-of-fold figures).
fn fit_rbf(
    x: &Matrix,
    y: &[bool],
    w: &[f32],
    p: &SvmParams,
    gamma: f64,
) -> Result<(svm::Expansion, svm::Expansion, RbfReport), FitError> {
    if !(p.c > 0.0 && p.c.is_finite()) {
        return Err(FitError::Param(format!("--svm-c must be > 0, got {}", p.c)));
    }
    crate::weights::check(w, x.rows).map_err(|e| FitError::Param(e.to_string()))?;
    let bounds: Vec<f64> = w.iter().map(|&v| p.c * f64::from(v)).collect();
    let smo = svm::SmoParams {
        tol: p.tol,
        threads: p.threads,
        ..svm::SmoParams::default()
    };
    let s = svm::solve(x, y, &bounds, gamma, &smo)?;
    let exact_dec = s.train_decisions(y);
    let exact = s.expansion(x, y, gamma);
    let want = svm::landmark_budget(x.rows, x.cols);
    let marks = svm::landmarks_by_class(x, y, want, p.seed, p.threads).ok_or_else(|| {
        FitError::Param(format!(
            "the RBF SVM needs at least {} distinct training rows for its landmarks",
            svm::MIN_MEMBERS
        ))
    })?;
    let shipped = svm::approximate(x, &exact_dec, w, &marks, gamma, p.seed, p.threads)?;
    let shipped_dec = shipped.decisions(x, p.threads);
    let report = RbfReport {
        rows: x.rows,
        support_vectors: exact.coef.len(),
        iterations: s.iterations,
        landmarks: marks.members.len(),
        min_members: marks.members.iter().copied().min().unwrap_or(0),
        oof_auc_exact: f64::NAN,
        oof_auc_shipped: f64::NAN,
        train_auc_exact: crate::stats::auc(&exact_dec, y).unwrap_or(f64::NAN),
        train_auc_shipped: crate::stats::auc(&shipped_dec, y).unwrap_or(f64::NAN),
    };
    Ok((exact, shipped, report))
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

/// A fitted SVM in runtime form plus its Platt calibration.
pub enum SvmModel {
    Linear(Linear),
    Kernel(ferrisk::kinds::KernelSvm),
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
/// ½|w|² + C Σ sᵢ·max(0, 1 − y·f(x))², `sᵢ` the sample weights: row `i`'s
/// penalty is `C·sᵢ`, which in this dual (the squared hinge has no upper
/// bound on αᵢ) is the diagonal term `1 / (2·C·sᵢ)`. (With the plain hinge,
/// the optimum on an imbalanced, hard table like Bank Marketing collapses
/// onto a few indicator columns; the squared loss keeps every violation's
/// size.) A kernel solver's cost grows quadratically with rows; the RBF SVM
/// uses one ([`super::svm::solve`]), the linear SVM this solver.
pub fn fit_linear_svm(
    x: &Matrix,
    y: &[bool],
    sample_weights: &[f32],
    c: f64,
    max_passes: usize,
    seed: u64,
) -> Result<Linear, FitError> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    if !(c > 0.0 && c.is_finite()) {
        return Err(FitError::Param(format!("--svm-c must be > 0, got {c}")));
    }
    crate::weights::check(sample_weights, x.rows).map_err(|e| FitError::Param(e.to_string()))?;
    let (n, d) = (x.rows, x.cols);
    let mut w = vec![0.0f64; d];
    let mut b = 0.0f64;
    let mut alpha = vec![0.0f64; n];
    let diag: Vec<f64> = sample_weights
        .iter()
        .map(|&s| 1.0 / (2.0 * c * f64::from(s)))
        .collect();
    let q: Vec<f64> = (0..n)
        .map(|i| {
            x.row(i)
                .iter()
                .map(|&v| (v as f64) * (v as f64))
                .sum::<f64>()
                + 1.0
                + diag[i]
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
            let g = sign[i] * wx - 1.0 + diag[i] * alpha[i];
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
    w: &[f32],
    p: &SvmParams,
    gamma: Option<f64>,
) -> Result<(SvmModel, Option<RbfReport>), FitError> {
    match gamma {
        Some(g) => {
            let (_, shipped, report) = fit_rbf(x, y, w, p, g)?;
            Ok((SvmModel::Kernel(shipped.to_kernel()), Some(report)))
        }
        None => Ok((
            SvmModel::Linear(fit_linear_svm(x, y, w, p.c, 200 * p.epochs.max(1), p.seed)?),
            None,
        )),
    }
}

/// Fits an SVM (linear when `rbf` is false) and its Platt scaling, both
/// with the sample weights `w` (one per row). Platt is fitted on held-out
/// decision values of the model as shipped (for the RBF SVM its landmark
/// expansion, whose out-of-fold AUC the report sets beside the exact
/// model's on the same rows).
pub fn fit_svm(
    x: &Matrix,
    y: &[bool],
    w: &[f32],
    p: &SvmParams,
    rbf: bool,
) -> Result<(SvmModel, Calibration, Option<RbfReport>), FitError> {
    crate::weights::check(w, x.rows).map_err(|e| FitError::Param(e.to_string()))?;
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
    let mut exact_dec = vec![0.0f64; x.rows];
    for fold in &folds {
        let train = crate::split::complement(x.rows, fold);
        let ytr: Vec<bool> = train.iter().map(|&i| y[i]).collect();
        if ytr.iter().all(|&v| v) || ytr.iter().all(|&v| !v) {
            continue;
        }
        let wtr: Vec<f32> = train.iter().map(|&i| w[i]).collect();
        let xtr = x.select(&train);
        match gamma {
            Some(g) => {
                let (exact, shipped, _) = fit_rbf(&xtr, &ytr, &wtr, p, g)?;
                let xf = x.select(fold);
                let m = shipped.to_kernel();
                let e = exact.decisions(&xf, p.threads);
                for (k, &i) in fold.iter().enumerate() {
                    dec[i] = f64::from(m.output(x.row(i)));
                    exact_dec[i] = e[k];
                }
            }
            None => {
                let (m, _) = fit_any(&xtr, &ytr, &wtr, p, None)?;
                for &i in fold {
                    dec[i] = m.output(x.row(i)) as f64;
                }
            }
        }
    }
    let (a, b) = platt(&dec, y, w);
    let (model, mut report) = fit_any(x, y, w, p, gamma)?;
    if let Some(r) = report.as_mut() {
        r.oof_auc_exact = crate::stats::auc(&exact_dec, y).unwrap_or(f64::NAN);
        r.oof_auc_shipped = crate::stats::auc(&dec, y).unwrap_or(f64::NAN);
    }
    Ok((
        model,
        Calibration::Platt {
            a: a as f32,
            b: b as f32,
        },
        report,
    ))
}

/// Platt scaling, P(y=1|f) = 1 / (1 + exp(A f + B)), fitted by Newton's
/// method with backtracking on smoothed targets (Lin, Lin & Weng 2007),
/// each row's term times its sample weight `w` (the class sizes of the
/// target smoothing are weighted sums too, so weight k = k copies).
pub fn platt(dec: &[f64], y: &[bool], w: &[f32]) -> (f64, f64) {
    let prior1: f64 = y
        .iter()
        .zip(w)
        .filter(|(&v, _)| v)
        .map(|(_, &s)| f64::from(s))
        .sum();
    let prior0 = w.iter().map(|&s| f64::from(s)).sum::<f64>() - prior1;
    let hi = (prior1 + 1.0) / (prior1 + 2.0);
    let lo = 1.0 / (prior0 + 2.0);
    let t: Vec<f64> = y.iter().map(|&v| if v { hi } else { lo }).collect();
    let mut a = 0.0;
    let mut b = ((prior0 + 1.0) / (prior1 + 1.0)).ln();
    let sigma = 1e-12;
    let objective = |a: f64, b: f64| -> f64 {
        let mut f = 0.0;
        for ((d, ti), &s) in dec.iter().zip(&t).zip(w) {
            let fapb = d * a + b;
            f += f64::from(s)
                * if fapb >= 0.0 {
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
        for ((d, ti), &s) in dec.iter().zip(&t).zip(w) {
            let s = f64::from(s);
            let fapb = d * a + b;
            let (p, q) = if fapb >= 0.0 {
                let e = (-fapb).exp();
                (e / (1.0 + e), 1.0 / (1.0 + e))
            } else {
                let e = fapb.exp();
                (1.0 / (1.0 + e), e / (1.0 + e))
            };
            let d2 = p * q * s;
            h11 += d * d * d2;
            h22 += d2;
            h21 += d * d2;
            let d1 = (ti - p) * s;
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

    /// Every row weighs 1.
    fn ones(x: &Matrix) -> Vec<f32> {
        vec![1.0; x.rows]
    }

    use crate::weights::testing::{data, duplicate_positives, positive_weight};

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f32::max)
    }

    fn params(m: &Linear) -> Vec<f32> {
        let mut v = m.weights.clone();
        v.push(m.bias);
        v
    }

    #[test]
    fn newton_solves_smartcores_logistic_objective() {
        // Unit weights: our Newton solver and smartcore's L-BFGS minimise the
        // same objective, so they land on the same coefficients.
        let (x, y) = data(500, 4, 1);
        for alpha in [0.1, 1.0, 10.0] {
            let p = LogisticParams { alpha };
            let ours = fit_logistic_newton(&x, &y, &ones(&x), &p).unwrap();
            let smartcore = fit_logistic(&x, &y, &ones(&x), &p).unwrap();
            let d = max_diff(&params(&ours), &params(&smartcore));
            eprintln!("lr alpha {alpha}: newton vs smartcore {d:e}");
            assert!(d < 1e-4, "alpha {alpha}: {d}");
            assert!(ours.weights[0] > 1.0, "{:?}", ours.weights);
        }
    }

    #[test]
    fn weighted_logistic_regression_equals_duplicated_rows() {
        // Weight 3 on positives (our Newton solver) against every positive
        // row three times with unit weights (smartcore's solver).
        let (x, y) = data(400, 4, 2);
        let p = LogisticParams::default();
        let weighted = fit_logistic(&x, &y, &positive_weight(&y, 3.0), &p).unwrap();
        let (xd, yd) = duplicate_positives(&x, &y, 3);
        let copies = fit_logistic(&xd, &yd, &ones(&xd), &p).unwrap();
        let unweighted = fit_logistic(&x, &y, &ones(&x), &p).unwrap();
        let d = max_diff(&params(&weighted), &params(&copies));
        eprintln!("lr weight 3 vs copies {d:e}");
        assert!(d < 1e-4, "{d}");
        // Not vacuous: the weights move the bias by far more than that.
        assert!(
            weighted.bias - unweighted.bias > 0.5,
            "{} {}",
            weighted.bias,
            unweighted.bias
        );
    }

    #[test]
    fn weighted_linear_svm_equals_duplicated_rows() {
        let (x, y) = data(400, 4, 3);
        let weighted = fit_linear_svm(&x, &y, &positive_weight(&y, 3.0), 1.0, 5000, 1).unwrap();
        let (xd, yd) = duplicate_positives(&x, &y, 3);
        let copies = fit_linear_svm(&xd, &yd, &ones(&xd), 1.0, 5000, 1).unwrap();
        let unweighted = fit_linear_svm(&x, &y, &ones(&x), 1.0, 5000, 1).unwrap();
        let d = max_diff(&params(&weighted), &params(&copies));
        let shift = (weighted.bias - unweighted.bias).abs();
        eprintln!("linear svm weight 3 vs copies {d:e}, bias shift {shift}");
        assert!(d < 5e-3, "{d}");
        assert!(shift > 0.2, "{shift}");
    }

    #[test]
    fn weighted_platt_equals_duplicated_rows() {
        let (x, y) = data(300, 2, 4);
        let dec: Vec<f64> = (0..x.rows)
            .map(|r| f64::from(2.0 * x.row(r)[0] - 1.5 * x.row(r)[1]))
            .collect();
        let (ad, bd) = {
            let mut dd = dec.clone();
            let mut yd = y.clone();
            for _ in 1..3 {
                for r in 0..x.rows {
                    if y[r] {
                        dd.push(dec[r]);
                        yd.push(true);
                    }
                }
            }
            platt(&dd, &yd, &vec![1.0; yd.len()])
        };
        let (a, b) = platt(&dec, &y, &positive_weight(&y, 3.0));
        let (au, bu) = platt(&dec, &y, &vec![1.0; y.len()]);
        eprintln!("platt weighted ({a}, {b}) copies ({ad}, {bd}) unweighted ({au}, {bu})");
        assert!((a - ad).abs() < 1e-6 && (b - bd).abs() < 1e-6);
        assert!((b - bu).abs() > 0.5);
    }

    #[test]
    fn the_rbf_svm_needs_a_row_per_column_and_a_landmark_in_every_fit() {
        for cols in [1, 2, 17, 40] {
            for folds in [2, 3, 5] {
                let n = min_rbf_rows(cols, folds);
                let need = cols.max(svm::MIN_MEMBERS);
                assert!(n - n.div_ceil(folds) >= need, "{cols} {folds}");
                assert!(n - 1 - (n - 1).div_ceil(folds) < need, "{cols} {folds}");
            }
        }
        assert_eq!(min_rbf_rows(17, 3), 30);
        assert_eq!(min_rbf_rows(40, 3), 60);
    }

    #[test]
    fn too_few_rows_for_the_rbf_svm_are_refused() {
        let mut x = Matrix::zeros(10, 17);
        for r in 0..10 {
            for (c, v) in x.row_mut(r).iter_mut().enumerate() {
                *v = ((r * 17 + c) % 7) as f32 - 3.0;
            }
        }
        let y: Vec<bool> = (0..10).map(|i| i % 2 == 0).collect();
        let e = fit_svm(&x, &y, &ones(&x), &SvmParams::default(), true)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("needs at least 30 training rows"), "{e}");
    }

    #[test]
    fn the_shipped_rbf_svm_holds_landmarks_not_rows_and_reports_both_aucs() {
        let (x, y) = data(900, 4, 21);
        let p = SvmParams {
            gamma: Some(0.5),
            ..SvmParams::default()
        };
        let (m, cal, report) = fit_svm(&x, &y, &ones(&x), &p, true).unwrap();
        let SvmModel::Kernel(k) = m else {
            panic!("not a kernel model")
        };
        let r = report.unwrap();
        assert_eq!(k.coef.len(), r.landmarks);
        assert!(r.landmarks >= 1 && r.landmarks <= 900 / 20);
        assert!(r.min_members >= svm::MIN_MEMBERS);
        assert!(r.support_vectors > r.landmarks);
        for c in k.support.chunks_exact(x.cols) {
            assert!((0..x.rows).all(|t| c != x.row(t)));
        }
        eprintln!("{r:?}");
        assert!((r.oof_auc_exact - r.oof_auc_shipped).abs() < 0.01, "{r:?}");
        assert!(r.oof_auc_shipped > 0.7, "{r:?}");
        let Calibration::Platt { a, .. } = cal else {
            panic!("not Platt")
        };
        assert!(a < 0.0, "{a}");
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
        let (a, b) = platt(&dec, &y, &vec![1.0; y.len()]);
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
        let m = fit_logistic(&x, &y, &ones(&x), &LogisticParams { alpha: 0.01 }).unwrap();
        assert!(m.weights[0] > 1.0, "{:?}", m.weights);
    }
}
