//! The RBF SVM: an exact C-SVC solver of our own and the compact expansion
//! a model file ships instead of its support vectors.
//!
//! **Solver** ([`solve`]): the LIBSVM recipe (Chang & Lin 2011) in f64 —
//! SMO on the dual `min ½ αᵀQα − Σα, Σ yᵢαᵢ = 0, 0 ≤ αᵢ ≤ Cᵢ`
//! (`Qᵢⱼ = yᵢyⱼ exp(−γ|xᵢ − xⱼ|²)`, `Cᵢ = C·wᵢ`: a class weight is a penalty
//! per class), with second-order working-set selection (WSS3, Fan, Chen &
//! Lin 2005), shrinking (bounded rows that cannot move leave the active set;
//! their gradient is rebuilt from `Ḡ` before the final check), and an LRU
//! cache of kernel rows. Kernel rows use each row's non-zero columns (a
//! one-hot design is mostly zeros). Work is split over threads only where
//! every value is computed by one thread in a fixed order (kernel rows,
//! gradient rebuilds), so the solution is the same bits for any thread
//! count. It replaces smartcore's SVC (LASVM-style, ≈ 100× slower on 2,000
//! rows; `scripts/bench-svm.sh` measures it against scikit-learn's SVC).
//!
//! **Shipped expansion** ([`approximate`]): an exact SVC on a large table
//! keeps thousands of support vectors — rows of training customers. The
//! file instead holds landmarks that are k-means centroids of the training
//! rows, each the mean of at least [`MIN_MEMBERS`] rows (and equal to none),
//! with weights β and bias fitted by ridge least squares so that
//! `Σ βₗ exp(−γ|x − zₗ|²) + b` matches the exact decision function on the
//! training rows (a reduced-set / Nyström fit). It has the runtime form of
//! an RBF expansion, so the `kernel-svm` kind scores it unchanged.

use ferrisk::kinds::KernelSvm;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::linear::FitError;
use crate::bins::Matrix;

/// Fewest training rows a landmark is the mean of.
pub const MIN_MEMBERS: usize = 20;
/// Bytes of landmark values (f32) a file may spend; with the rest of the
/// file it stays under 200 KB.
pub const LANDMARK_BYTES: usize = 150_000;
/// Landmarks wanted per training row: k-means starts with one cluster per
/// 25 rows; clusters under [`MIN_MEMBERS`] rows are then dropped.
const ROWS_PER_LANDMARK: usize = 25;
/// Rows the least-squares fit of the landmark weights uses (a seeded
/// sample of larger tables), and rows that choose its ridge penalty.
const FIT_ROWS: usize = 12_000;
const CHECK_ROWS: usize = 4_000;
/// Lloyd iterations of the landmark k-means.
const KMEANS_ITERATIONS: usize = 10;
/// Kernel widths the expansion may use, as multiples of the exact model's
/// γ (a wider kernel often carries a smooth function on fewer centres);
/// chosen with the ridge penalty on held-out rows.
const GAMMA_SCALES: [f64; 3] = [1.0, 0.7, 0.5];
/// Work (multiply-adds) below which a loop stays on one thread.
const PARALLEL_MIN_WORK: usize = 1 << 16;

/// Solver settings.
#[derive(Debug, Clone)]
pub struct SmoParams {
    /// Stop when the maximal violating pair's gap is below this (LIBSVM's ε).
    pub tol: f64,
    pub shrinking: bool,
    /// Kernel-row cache budget in bytes (default 1 GiB: 4,200 rows of f64
    /// at 31,647 training rows; allocated as rows are cached).
    pub cache_bytes: usize,
    pub threads: usize,
}

impl Default for SmoParams {
    fn default() -> Self {
        SmoParams {
            tol: 1e-3,
            shrinking: true,
            cache_bytes: 1 << 30,
            threads: 1,
        }
    }
}

/// The rows in f64: dense values, squared norms, and each row's non-zero
/// columns (ascending).
struct Rows {
    d: usize,
    dense: Vec<f64>,
    sq: Vec<f64>,
    nz_start: Vec<usize>,
    nz_col: Vec<usize>,
    nz_val: Vec<f64>,
}

impl Rows {
    fn new(x: &Matrix) -> Result<Rows, FitError> {
        if x.data.iter().any(|v| !v.is_finite()) {
            return Err(FitError::Param(
                "the RBF SVM needs finite design values".into(),
            ));
        }
        let dense: Vec<f64> = x.data.iter().map(|&v| f64::from(v)).collect();
        let mut nz_start = Vec::with_capacity(x.rows + 1);
        let (mut nz_col, mut nz_val) = (Vec::new(), Vec::new());
        let mut sq = Vec::with_capacity(x.rows);
        for r in 0..x.rows {
            nz_start.push(nz_col.len());
            let mut s = 0.0;
            for (c, &v) in dense[r * x.cols..(r + 1) * x.cols].iter().enumerate() {
                if v != 0.0 {
                    nz_col.push(c);
                    nz_val.push(v);
                    s += v * v;
                }
            }
            sq.push(s);
        }
        nz_start.push(nz_col.len());
        Ok(Rows {
            d: x.cols,
            dense,
            sq,
            nz_start,
            nz_col,
            nz_val,
        })
    }

    /// `xᵢ·xₜ` over row `i`'s non-zero columns in ascending order. The
    /// terms where both rows are non-zero are the same products either
    /// way round, so `dot(i, t) == dot(t, i)` exactly.
    fn dot(&self, i: usize, t: usize) -> f64 {
        let row = &self.dense[t * self.d..(t + 1) * self.d];
        let (a, b) = (self.nz_start[i], self.nz_start[i + 1]);
        let mut s = 0.0;
        for (&c, &v) in self.nz_col[a..b].iter().zip(&self.nz_val[a..b]) {
            s += v * row[c];
        }
        s
    }

    fn kernel(&self, gamma: f64, i: usize, t: usize) -> f64 {
        rbf(gamma, self.sq[i] + self.sq[t] - 2.0 * self.dot(i, t))
    }
}

fn rbf(gamma: f64, dist2: f64) -> f64 {
    (-gamma * dist2.max(0.0)).exp()
}

/// Runs `f(k, &mut out[k])` for every `k`, on up to `threads` threads when
/// the work is large enough. Each value is computed by one call, so the
/// result does not depend on the thread count.
fn for_each_out<F>(out: &mut [f64], threads: usize, work_per_item: usize, f: F)
where
    F: Fn(usize, &mut f64) + Sync,
{
    let n = out.len();
    if threads <= 1 || n.saturating_mul(work_per_item.max(1)) < PARALLEL_MIN_WORK || n < 2 {
        for (k, o) in out.iter_mut().enumerate() {
            f(k, o);
        }
        return;
    }
    let per = n.div_ceil(threads);
    std::thread::scope(|s| {
        for (c, chunk) in out.chunks_mut(per).enumerate() {
            let f = &f;
            s.spawn(move || {
                for (k, o) in chunk.iter_mut().enumerate() {
                    f(c * per + k, o);
                }
            });
        }
    });
}

/// Rows of Q, least recently used dropped first. A row computed while the
/// active set was shrunk holds valid values only at active positions; it
/// is `full` when computed over every row.
struct Cache {
    capacity: usize,
    slot_of: Vec<usize>,
    owner: Vec<usize>,
    full: Vec<bool>,
    stamp: Vec<u64>,
    data: Vec<Vec<f64>>,
    clock: u64,
    scratch: Vec<f64>,
    /// Rows computed (cache misses).
    computed: usize,
}

const NONE: usize = usize::MAX;

impl Cache {
    fn new(n: usize, bytes: usize) -> Cache {
        let row = n.max(1) * std::mem::size_of::<f64>();
        Cache {
            capacity: (bytes / row).max(2),
            slot_of: vec![NONE; n],
            owner: Vec::new(),
            full: Vec::new(),
            stamp: Vec::new(),
            data: Vec::new(),
            clock: 0,
            scratch: Vec::new(),
            computed: 0,
        }
    }

    /// Forgets every row computed over a shrunk active set (called when
    /// the active set grows again).
    fn drop_partial(&mut self) {
        for s in 0..self.owner.len() {
            if !self.full[s] && self.owner[s] != NONE {
                self.slot_of[self.owner[s]] = NONE;
                self.owner[s] = NONE;
                self.stamp[s] = 0;
            }
        }
    }

    /// The slot holding Q's row `i`, valid at least at the `active`
    /// positions (at all when `full` or when `active` is every row).
    #[allow(clippy::too_many_arguments)]
    fn get(
        &mut self,
        rows: &Rows,
        sign: &[f64],
        gamma: f64,
        i: usize,
        active: &[usize],
        full: bool,
        threads: usize,
    ) -> usize {
        let n = sign.len();
        self.clock += 1;
        let mut s = self.slot_of[i];
        if s != NONE && (self.full[s] || !full) {
            self.stamp[s] = self.clock;
            return s;
        }
        if s == NONE {
            s = if self.data.len() < self.capacity {
                self.data.push(vec![0.0; n]);
                self.owner.push(NONE);
                self.full.push(false);
                self.stamp.push(0);
                self.data.len() - 1
            } else {
                let mut lru = 0;
                for k in 1..self.stamp.len() {
                    if self.stamp[k] < self.stamp[lru] {
                        lru = k;
                    }
                }
                if self.owner[lru] != NONE {
                    self.slot_of[self.owner[lru]] = NONE;
                }
                lru
            };
            self.owner[s] = i;
            self.slot_of[i] = s;
        }
        self.stamp[s] = self.clock;
        self.computed += 1;
        let nnz = rows.nz_start[i + 1] - rows.nz_start[i];
        let yi = sign[i];
        if full || active.len() == n {
            let row = &mut self.data[s];
            for_each_out(row, threads, nnz + 8, |t, o| {
                *o = yi * sign[t] * rows.kernel(gamma, i, t);
            });
            self.full[s] = true;
        } else {
            self.scratch.resize(active.len(), 0.0);
            for_each_out(&mut self.scratch, threads, nnz + 8, |k, o| {
                let t = active[k];
                *o = yi * sign[t] * rows.kernel(gamma, i, t);
            });
            let row = &mut self.data[s];
            for (&t, &v) in active.iter().zip(&self.scratch) {
                row[t] = v;
            }
            self.full[s] = false;
        }
        s
    }
}

/// A solution of the dual.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// αᵢ in `[0, Cᵢ]`.
    pub alpha: Vec<f64>,
    /// The decision function is `Σ yᵢαᵢK(xᵢ, x) − rho`.
    pub rho: f64,
    /// `∇ᵢ = (Qα)ᵢ − 1`, exact for every row at the end.
    pub grad: Vec<f64>,
    pub iterations: usize,
    /// Kernel rows computed (the cache's misses).
    pub kernel_rows: usize,
}

impl Solution {
    /// The dual objective `½ αᵀQα − Σα`.
    pub fn objective(&self) -> f64 {
        self.alpha
            .iter()
            .zip(&self.grad)
            .map(|(a, g)| a * (g - 1.0))
            .sum::<f64>()
            / 2.0
    }

    /// Decision values of the training rows themselves.
    pub fn train_decisions(&self, y: &[bool]) -> Vec<f64> {
        y.iter()
            .zip(&self.grad)
            .map(|(&v, g)| if v { g + 1.0 } else { -(g + 1.0) } - self.rho)
            .collect()
    }

    /// The exact expansion (support vectors = training rows with α > 0).
    pub fn expansion(&self, x: &Matrix, y: &[bool], gamma: f64) -> Expansion {
        let mut centers = Vec::new();
        let mut coef = Vec::new();
        for (t, &a) in self.alpha.iter().enumerate() {
            if a > 0.0 {
                centers.extend(x.row(t).iter().map(|&v| f64::from(v)));
                coef.push(if y[t] { a } else { -a });
            }
        }
        Expansion {
            d: x.cols,
            gamma,
            centers,
            coef,
            bias: -self.rho,
        }
    }
}

/// `Σ coefₗ exp(−γ|x − centerₗ|²) + bias` in f64.
#[derive(Debug, Clone, PartialEq)]
pub struct Expansion {
    pub d: usize,
    pub gamma: f64,
    pub centers: Vec<f64>,
    pub coef: Vec<f64>,
    pub bias: f64,
}

impl Expansion {
    /// Decision values of the rows of `x`.
    pub fn decisions(&self, x: &Matrix, threads: usize) -> Vec<f64> {
        let gamma = self.gamma;
        let sq: Vec<f64> = self
            .centers
            .chunks_exact(self.d.max(1))
            .map(|c| c.iter().map(|v| v * v).sum())
            .collect();
        let mut out = vec![0.0; x.rows];
        let work = self.coef.len() * (self.d + 8);
        for_each_out(&mut out, threads, work, |r, o| {
            let row: Vec<f64> = x.row(r).iter().map(|&v| f64::from(v)).collect();
            let rsq: f64 = row.iter().map(|v| v * v).sum();
            let mut s = 0.0;
            for (l, c) in self.centers.chunks_exact(self.d.max(1)).enumerate() {
                let dot: f64 = row.iter().zip(c).map(|(a, b)| a * b).sum();
                s += self.coef[l] * rbf(gamma, rsq + sq[l] - 2.0 * dot);
            }
            *o = s + self.bias;
        });
        out
    }

    /// In the runtime's form (f32).
    pub fn to_kernel(&self) -> KernelSvm {
        KernelSvm {
            gamma: self.gamma as f32,
            support: self.centers.iter().map(|&v| v as f32).collect(),
            coef: self.coef.iter().map(|&v| v as f32).collect(),
            bias: self.bias as f32,
        }
    }
}

/// Solves the C-SVC dual with RBF kernel width `gamma` and per-row bounds
/// `bounds[i] = C·wᵢ` (see the module documentation).
pub fn solve(
    x: &Matrix,
    y: &[bool],
    bounds: &[f64],
    gamma: f64,
    p: &SmoParams,
) -> Result<Solution, FitError> {
    const TAU: f64 = 1e-12;
    let n = x.rows;
    if y.len() != n || bounds.len() != n {
        return Err(FitError::Param(format!(
            "{} labels and {} penalties for {n} rows",
            y.len(),
            bounds.len()
        )));
    }
    if !(gamma > 0.0 && gamma.is_finite()) {
        return Err(FitError::Param(format!(
            "--svm-gamma must be > 0, got {gamma}"
        )));
    }
    if bounds.iter().any(|&c| !(c > 0.0 && c.is_finite())) {
        return Err(FitError::Param("every penalty C·w must be > 0".into()));
    }
    if !(p.tol > 0.0 && p.tol.is_finite()) {
        return Err(FitError::Param(format!(
            "tolerance must be > 0, got {}",
            p.tol
        )));
    }
    let rows = Rows::new(x)?;
    let threads = p.threads.max(1);
    let sign: Vec<f64> = y.iter().map(|&v| if v { 1.0 } else { -1.0 }).collect();
    let mut alpha = vec![0.0f64; n];
    let mut grad = vec![-1.0f64; n];
    let mut grad_bar = vec![0.0f64; n];
    let mut active: Vec<usize> = (0..n).collect();
    let mut cache = Cache::new(n, p.cache_bytes);
    let mut unshrunk = false;
    let upper = |a: &[f64], t: usize| a[t] >= bounds[t];
    let lower = |a: &[f64], t: usize| a[t] <= 0.0;

    // WSS3 over the active set: i maximal violator of I_up, j the best
    // second-order partner; None when optimal within tol.
    let select = |alpha: &[f64],
                  grad: &[f64],
                  active: &[usize],
                  cache: &mut Cache|
     -> Option<(usize, usize, usize)> {
        let mut gmax = f64::NEG_INFINITY;
        let mut gmax2 = f64::NEG_INFINITY;
        let mut pick_i = NONE;
        for &t in active {
            if sign[t] > 0.0 {
                if !upper(alpha, t) && -grad[t] >= gmax {
                    gmax = -grad[t];
                    pick_i = t;
                }
            } else if !lower(alpha, t) && grad[t] >= gmax {
                gmax = grad[t];
                pick_i = t;
            }
        }
        if pick_i == NONE {
            return None;
        }
        let i = pick_i;
        let si = cache.get(&rows, &sign, gamma, i, active, false, threads);
        let qi = &cache.data[si];
        let mut pick_j = NONE;
        let mut best = f64::INFINITY;
        for &t in active {
            let grad_diff = if sign[t] > 0.0 {
                if lower(alpha, t) {
                    continue;
                }
                if grad[t] >= gmax2 {
                    gmax2 = grad[t];
                }
                gmax + grad[t]
            } else {
                if upper(alpha, t) {
                    continue;
                }
                if -grad[t] >= gmax2 {
                    gmax2 = -grad[t];
                }
                gmax - grad[t]
            };
            if grad_diff > 0.0 {
                // Kᵢᵢ + Kₜₜ − 2Kᵢₜ with the RBF diagonal 1.
                let quad = 2.0 - 2.0 * sign[i] * sign[t] * qi[t];
                let obj = -(grad_diff * grad_diff) / if quad > 0.0 { quad } else { TAU };
                if obj <= best {
                    best = obj;
                    pick_j = t;
                }
            }
        }
        if gmax + gmax2 < p.tol || pick_j == NONE {
            return None;
        }
        Some((i, pick_j, si))
    };

    // ∇ of the rows outside the active set from Ḡ and the free rows.
    let reconstruct = |alpha: &[f64], grad: &mut [f64], grad_bar: &[f64], active: &[usize]| {
        if active.len() == n {
            return;
        }
        let mut inside = vec![false; n];
        for &t in active {
            inside[t] = true;
        }
        let free: Vec<usize> = active
            .iter()
            .copied()
            .filter(|&t| !upper(alpha, t) && !lower(alpha, t))
            .collect();
        let outside: Vec<usize> = (0..n).filter(|&t| !inside[t]).collect();
        let mut fresh = vec![0.0; outside.len()];
        let work = free.len() * 24;
        for_each_out(&mut fresh, threads, work, |k, o| {
            let t = outside[k];
            let mut s = 0.0;
            for &f in &free {
                s += alpha[f] * sign[f] * rows.kernel(gamma, f, t);
            }
            *o = grad_bar[t] - 1.0 + sign[t] * s;
        });
        for (&t, v) in outside.iter().zip(fresh) {
            grad[t] = v;
        }
    };

    let be_shrunk = |alpha: &[f64], grad: &[f64], t: usize, gmax1: f64, gmax2: f64| -> bool {
        if upper(alpha, t) {
            if sign[t] > 0.0 {
                -grad[t] > gmax1
            } else {
                -grad[t] > gmax2
            }
        } else if lower(alpha, t) {
            if sign[t] > 0.0 {
                grad[t] > gmax2
            } else {
                grad[t] > gmax1
            }
        } else {
            false
        }
    };

    let max_iter = (100usize.saturating_mul(n)).max(10_000_000);
    let mut counter = n.min(1000) + 1;
    let mut iterations = 0;
    while iterations < max_iter {
        counter -= 1;
        if counter == 0 {
            counter = n.min(1000);
            if p.shrinking {
                let (mut gmax1, mut gmax2) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
                for &t in &active {
                    if sign[t] > 0.0 {
                        if !upper(&alpha, t) {
                            gmax1 = gmax1.max(-grad[t]);
                        }
                        if !lower(&alpha, t) {
                            gmax2 = gmax2.max(grad[t]);
                        }
                    } else {
                        if !upper(&alpha, t) {
                            gmax2 = gmax2.max(-grad[t]);
                        }
                        if !lower(&alpha, t) {
                            gmax1 = gmax1.max(grad[t]);
                        }
                    }
                }
                if !unshrunk && gmax1 + gmax2 <= p.tol * 10.0 {
                    unshrunk = true;
                    reconstruct(&alpha, &mut grad, &grad_bar, &active);
                    active = (0..n).collect();
                    cache.drop_partial();
                }
                active.retain(|&t| !be_shrunk(&alpha, &grad, t, gmax1, gmax2));
            }
        }
        let (i, j, si) = match select(&alpha, &grad, &active, &mut cache) {
            Some(w) => w,
            None => {
                if active.len() == n {
                    break;
                }
                reconstruct(&alpha, &mut grad, &grad_bar, &active);
                active = (0..n).collect();
                cache.drop_partial();
                match select(&alpha, &grad, &active, &mut cache) {
                    Some(w) => {
                        counter = 1;
                        w
                    }
                    None => break,
                }
            }
        };
        iterations += 1;
        let sj = cache.get(&rows, &sign, gamma, j, &active, false, threads);
        // Row i stays cached: it was used last before row j was fetched.
        debug_assert_eq!(cache.owner[si], i);
        let (ci, cj) = (bounds[i], bounds[j]);
        let (old_i, old_j) = (alpha[i], alpha[j]);
        let q_ij = cache.data[si][j];
        if sign[i] != sign[j] {
            let quad = 2.0 + 2.0 * q_ij;
            let quad = if quad > 0.0 { quad } else { TAU };
            let delta = (-grad[i] - grad[j]) / quad;
            let diff = alpha[i] - alpha[j];
            alpha[i] += delta;
            alpha[j] += delta;
            if diff > 0.0 {
                if alpha[j] < 0.0 {
                    alpha[j] = 0.0;
                    alpha[i] = diff;
                }
            } else if alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = -diff;
            }
            if diff > ci - cj {
                if alpha[i] > ci {
                    alpha[i] = ci;
                    alpha[j] = ci - diff;
                }
            } else if alpha[j] > cj {
                alpha[j] = cj;
                alpha[i] = cj + diff;
            }
        } else {
            let quad = 2.0 - 2.0 * q_ij;
            let quad = if quad > 0.0 { quad } else { TAU };
            let delta = (grad[i] - grad[j]) / quad;
            let sum = alpha[i] + alpha[j];
            alpha[i] -= delta;
            alpha[j] += delta;
            if sum > ci {
                if alpha[i] > ci {
                    alpha[i] = ci;
                    alpha[j] = sum - ci;
                }
            } else if alpha[j] < 0.0 {
                alpha[j] = 0.0;
                alpha[i] = sum;
            }
            if sum > cj {
                if alpha[j] > cj {
                    alpha[j] = cj;
                    alpha[i] = sum - cj;
                }
            } else if alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = sum;
            }
        }
        let (di, dj) = (alpha[i] - old_i, alpha[j] - old_j);
        {
            let (qi, qj) = (&cache.data[si], &cache.data[sj]);
            for &t in &active {
                grad[t] += qi[t] * di + qj[t] * dj;
            }
        }
        // Ḡ = Σ over rows at their upper bound of Cₜ·Q row t.
        for (t, old) in [(i, old_i), (j, old_j)] {
            let was = old >= bounds[t];
            if was != upper(&alpha, t) {
                let s = cache.get(&rows, &sign, gamma, t, &active, true, threads);
                let c = if was { -bounds[t] } else { bounds[t] };
                for (g, q) in grad_bar.iter_mut().zip(&cache.data[s]) {
                    *g += c * q;
                }
            }
        }
        if !(grad[i].is_finite() && grad[j].is_finite()) {
            return Err(FitError::Param("the RBF SVM solver diverged".into()));
        }
    }
    if active.len() < n {
        reconstruct(&alpha, &mut grad, &grad_bar, &active);
    }
    // rho: the mean of yᵢ∇ᵢ over free rows, else the middle of the bounds.
    let (mut ub, mut lb, mut sum_free, mut free) =
        (f64::INFINITY, f64::NEG_INFINITY, 0.0f64, 0usize);
    for t in 0..n {
        let yg = sign[t] * grad[t];
        if upper(&alpha, t) {
            if sign[t] < 0.0 {
                ub = ub.min(yg);
            } else {
                lb = lb.max(yg);
            }
        } else if lower(&alpha, t) {
            if sign[t] > 0.0 {
                ub = ub.min(yg);
            } else {
                lb = lb.max(yg);
            }
        } else {
            free += 1;
            sum_free += yg;
        }
    }
    let rho = if free > 0 {
        sum_free / free as f64
    } else {
        (ub + lb) / 2.0
    };
    if !rho.is_finite() || alpha.iter().chain(&grad).any(|v| !v.is_finite()) {
        return Err(FitError::Param("the RBF SVM solver diverged".into()));
    }
    Ok(Solution {
        alpha,
        rho,
        grad,
        iterations,
        kernel_rows: cache.computed,
    })
}

/// Landmarks of a shipped expansion: k-means centroids, each the mean of
/// its `members` training rows (all ≥ [`MIN_MEMBERS`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Landmarks {
    pub d: usize,
    pub centers: Vec<f64>,
    pub members: Vec<usize>,
    /// Centroids dropped because they equalled a training row.
    pub dropped_equal: usize,
}

/// How many landmarks a table of `rows` × `cols` may have.
pub fn landmark_budget(rows: usize, cols: usize) -> usize {
    (LANDMARK_BYTES / (4 * (cols + 1)))
        .min(rows / ROWS_PER_LANDMARK)
        .max(1)
}

/// Seeded k-means (random distinct rows as seeds, Lloyd iterations); then
/// clusters under [`MIN_MEMBERS`] rows are dropped and their rows join the
/// nearest kept centroid; every landmark is the mean of its final members,
/// and a mean equal (in f32) to a training row is dropped. `None` when
/// fewer than [`MIN_MEMBERS`] rows.
pub fn landmarks(x: &Matrix, want: usize, seed: u64, threads: usize) -> Option<Landmarks> {
    let (centers, members) = clusters(x, want, seed, threads)?;
    finish(x, centers, members)
}

/// Landmarks of each class separately (so the minority class gets its
/// own): `want` split between the classes in proportion to the square
/// root of their sizes, each cluster within one class ([`landmarks`] over
/// all rows when a class has fewer than [`MIN_MEMBERS`] rows).
pub fn landmarks_by_class(
    x: &Matrix,
    y: &[bool],
    want: usize,
    seed: u64,
    threads: usize,
) -> Option<Landmarks> {
    let idx: [Vec<usize>; 2] = [
        (0..x.rows).filter(|&r| !y[r]).collect(),
        (0..x.rows).filter(|&r| y[r]).collect(),
    ];
    if idx.iter().any(|v| v.len() < MIN_MEMBERS) {
        // A class too small for a landmark of its own: mixed clusters.
        return landmarks(x, want, seed, threads);
    }
    let root: Vec<f64> = idx.iter().map(|v| (v.len() as f64).sqrt()).collect();
    let total = root[0] + root[1];
    let mut centers = Vec::new();
    let mut members = Vec::new();
    for (c, rows) in idx.iter().enumerate() {
        let k = ((want as f64 * root[c] / total).round() as usize).max(1);
        if let Some((cs, ms)) = clusters(&x.select(rows), k, seed ^ c as u64, threads) {
            centers.extend(cs);
            members.extend(ms);
        }
    }
    finish(x, centers, members)
}

/// Cluster means and sizes (see [`landmarks`]), before the check
/// against training rows.
fn clusters(x: &Matrix, want: usize, seed: u64, threads: usize) -> Option<(Vec<f64>, Vec<usize>)> {
    let (n, d) = (x.rows, x.cols);
    if n < MIN_MEMBERS || d == 0 {
        return None;
    }
    let k = want.clamp(1, n / MIN_MEMBERS);
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed ^ 0x6c61_6e64_6d61_726b);
    order.shuffle(&mut rng);
    let rows: Vec<f64> = x.data.iter().map(|&v| f64::from(v)).collect();
    let row_sq: Vec<f64> = rows
        .chunks_exact(d)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect();
    let mut centers: Vec<f64> = Vec::with_capacity(k * d);
    for &r in order.iter().take(k) {
        centers.extend_from_slice(&rows[r * d..(r + 1) * d]);
    }
    // Each row's non-zero columns (a one-hot design is mostly zeros).
    let nonzero: Vec<Vec<(usize, f64)>> = rows
        .chunks_exact(d)
        .map(|r| {
            r.iter()
                .copied()
                .enumerate()
                .filter(|&(_, v)| v != 0.0)
                .collect()
        })
        .collect();
    let nearest = |centers: &[f64], keep: &[bool]| -> Vec<usize> {
        let csq: Vec<f64> = centers
            .chunks_exact(d)
            .map(|c| c.iter().map(|v| v * v).sum())
            .collect();
        let mut out = vec![0.0f64; n];
        for_each_out(&mut out, threads, csq.len() * 16, |r, o| {
            let nz = &nonzero[r];
            let (mut best, mut at) = (f64::INFINITY, 0usize);
            for (c, center) in centers.chunks_exact(d).enumerate() {
                if !keep[c] {
                    continue;
                }
                let mut dot = 0.0;
                for &(col, v) in nz {
                    dot += v * center[col];
                }
                let dist = row_sq[r] + csq[c] - 2.0 * dot;
                if dist < best {
                    best = dist;
                    at = c;
                }
            }
            *o = at as f64;
        });
        out.into_iter().map(|v| v as usize).collect()
    };
    let means = |assign: &[usize], k: usize| -> (Vec<f64>, Vec<usize>) {
        let mut sum = vec![0.0f64; k * d];
        let mut size = vec![0usize; k];
        for (r, &a) in assign.iter().enumerate() {
            size[a] += 1;
            for (s, v) in sum[a * d..(a + 1) * d]
                .iter_mut()
                .zip(&rows[r * d..(r + 1) * d])
            {
                *s += v;
            }
        }
        for (c, &m) in size.iter().enumerate() {
            if m > 0 {
                for s in &mut sum[c * d..(c + 1) * d] {
                    *s /= m as f64;
                }
            }
        }
        (sum, size)
    };
    let all = vec![true; k];
    let mut assign = nearest(&centers, &all);
    for _ in 0..KMEANS_ITERATIONS {
        let (m, size) = means(&assign, k);
        for c in 0..k {
            if size[c] > 0 {
                centers[c * d..(c + 1) * d].copy_from_slice(&m[c * d..(c + 1) * d]);
            }
        }
        let next = nearest(&centers, &all);
        if next == assign {
            break;
        }
        assign = next;
    }
    let mut size = vec![0usize; k];
    for &a in &assign {
        size[a] += 1;
    }
    let keep: Vec<bool> = size.iter().map(|&m| m >= MIN_MEMBERS).collect();
    if !keep.iter().any(|&v| v) {
        // One landmark: the mean of every row.
        return Some(means(&vec![0; n], 1));
    }
    // Rows of dropped clusters join the nearest kept centroid: kept
    // clusters only grow, so every one keeps at least MIN_MEMBERS rows.
    let joined = nearest(&centers, &keep);
    for r in 0..n {
        if !keep[assign[r]] {
            assign[r] = joined[r];
        }
    }
    let (m, size) = means(&assign, k);
    let mut kept = Vec::new();
    let mut kept_size = Vec::new();
    for c in 0..k {
        if keep[c] {
            kept.extend_from_slice(&m[c * d..(c + 1) * d]);
            kept_size.push(size[c]);
        }
    }
    Some((kept, kept_size))
}

/// Drops a centroid that equals a training row (in f32, as stored).
fn finish(x: &Matrix, centers: Vec<f64>, members: Vec<usize>) -> Option<Landmarks> {
    let d = x.cols;
    let rows: std::collections::HashSet<Vec<u32>> = (0..x.rows)
        .map(|r| x.row(r).iter().map(|v| v.to_bits()).collect())
        .collect();
    let mut out = Landmarks {
        d,
        centers: Vec::new(),
        members: Vec::new(),
        dropped_equal: 0,
    };
    for (c, &m) in centers.chunks_exact(d).zip(&members) {
        let bits: Vec<u32> = c.iter().map(|&v| (v as f32).to_bits()).collect();
        if rows.contains(&bits) || m < MIN_MEMBERS {
            out.dropped_equal += usize::from(m >= MIN_MEMBERS);
            continue;
        }
        // Kept as stored (f32), so the fit sees the file's landmarks.
        out.centers.extend(c.iter().map(|&v| f64::from(v as f32)));
        out.members.push(m);
    }
    (!out.members.is_empty()).then_some(out)
}

/// Cholesky solve of `(A + λ·diag(mask)) β = b`, `A` symmetric positive
/// semi-definite of order `m` (row-major); `None` when not positive definite.
fn ridge_solve(a: &[f64], b: &[f64], m: usize, lambda: f64, mask: &[bool]) -> Option<Vec<f64>> {
    let mut l = a.to_vec();
    for k in 0..m {
        if mask[k] {
            l[k * m + k] += lambda;
        }
    }
    for j in 0..m {
        let mut s = l[j * m + j];
        for k in 0..j {
            s -= l[j * m + k] * l[j * m + k];
        }
        if !(s > 0.0 && s.is_finite()) {
            return None;
        }
        let djj = s.sqrt();
        l[j * m + j] = djj;
        for i in j + 1..m {
            let mut s = l[i * m + j];
            for k in 0..j {
                s -= l[i * m + k] * l[j * m + k];
            }
            l[i * m + j] = s / djj;
        }
    }
    let mut z = b.to_vec();
    for i in 0..m {
        let mut s = z[i];
        for k in 0..i {
            s -= l[i * m + k] * z[k];
        }
        z[i] = s / l[i * m + i];
    }
    for i in (0..m).rev() {
        let mut s = z[i];
        for k in i + 1..m {
            s -= l[k * m + i] * z[k];
        }
        z[i] = s / l[i * m + i];
    }
    z.iter().all(|v| v.is_finite()).then_some(z)
}

/// Kernel features of `rows` of `x` against the landmarks, column-major
/// (feature l of row k at `[l * len + k]`), the last column the bias (1).
fn features(x: &Matrix, rows: &[usize], marks: &Landmarks, gamma: f64, threads: usize) -> Vec<f64> {
    let d = x.cols;
    let (nl, len) = (marks.members.len(), rows.len());
    let csq: Vec<f64> = marks
        .centers
        .chunks_exact(d)
        .map(|c| c.iter().map(|v| v * v).sum())
        .collect();
    let mut phi = vec![0.0; (nl + 1) * len];
    let (body, bias) = phi.split_at_mut(nl * len);
    for_each_out(body, threads, d + 8, |idx, o| {
        let (l, k) = (idx / len, idx % len);
        let c = &marks.centers[l * d..(l + 1) * d];
        let r = x.row(rows[k]);
        let (mut dot, mut rsq) = (0.0, 0.0);
        for (&a, &b) in r.iter().zip(c) {
            let a = f64::from(a);
            dot += a * b;
            rsq += a * a;
        }
        *o = rbf(gamma, rsq + csq[l] - 2.0 * dot);
    });
    bias.fill(1.0);
    phi
}

/// The weighted normal equations `ΦᵀWΦ`, `ΦᵀWt` of the rows `rows`; each
/// entry one sum in row order (the same for any thread count).
fn normal_equations(
    phi: &[f64],
    rows: &[usize],
    target: &[f64],
    w: &[f32],
    m: usize,
    threads: usize,
) -> (Vec<f64>, Vec<f64>) {
    let len = rows.len();
    let wt: Vec<f64> = rows.iter().map(|&r| f64::from(w[r])).collect();
    let mut gram = vec![0.0; m * m];
    for_each_out(&mut gram, threads, len, |idx, o| {
        let (a, b) = (idx / m, idx % m);
        if b < a {
            return;
        }
        let (pa, pb) = (&phi[a * len..(a + 1) * len], &phi[b * len..(b + 1) * len]);
        let mut s = 0.0;
        for k in 0..len {
            s += wt[k] * pa[k] * pb[k];
        }
        *o = s;
    });
    for a in 0..m {
        for b in 0..a {
            gram[a * m + b] = gram[b * m + a];
        }
    }
    let rhs = (0..m)
        .map(|a| {
            let pa = &phi[a * len..(a + 1) * len];
            (0..len).map(|k| wt[k] * pa[k] * target[rows[k]]).sum()
        })
        .collect();
    (gram, rhs)
}

/// The shipped expansion of an exact decision function: weights on the
/// landmarks (plus a bias) by weighted ridge least squares against
/// `target` (the exact decision values of the rows of `x`), with kernel
/// width `γ·s` (`s` in [`GAMMA_SCALES`]). `s` and the ridge penalty are
/// chosen on held-out rows (a quarter of a small table, else
/// [`CHECK_ROWS`] rows outside the [`FIT_ROWS`] fitted), then the weights
/// are refitted on every fit row.
pub fn approximate(
    x: &Matrix,
    target: &[f64],
    w: &[f32],
    marks: &Landmarks,
    gamma: f64,
    seed: u64,
    threads: usize,
) -> Result<Expansion, FitError> {
    let (n, d) = (x.rows, x.cols);
    let nl = marks.members.len();
    let m = nl + 1;
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed ^ 0x7265_6475_6365);
    order.shuffle(&mut rng);
    let (fit_rows, check_rows, refit) = if n > FIT_ROWS + CHECK_ROWS / 2 {
        let fit: Vec<usize> = order[..FIT_ROWS].to_vec();
        let check: Vec<usize> = order[FIT_ROWS..].iter().copied().take(CHECK_ROWS).collect();
        (fit, check, false)
    } else {
        let cut = n - n / 4;
        (order[..cut].to_vec(), order[cut..].to_vec(), true)
    };
    let mut mask = vec![true; m];
    mask[nl] = false;
    let check_len = check_rows.len();
    // (held-out error, γ, relative penalty, weights)
    let mut best: Option<(f64, f64, f64, Vec<f64>)> = None;
    for scale in GAMMA_SCALES {
        let g = gamma * scale;
        let phi = features(x, &fit_rows, marks, g, threads);
        let (gram, rhs) = normal_equations(&phi, &fit_rows, target, w, m, threads);
        drop(phi);
        let check = features(x, &check_rows, marks, g, threads);
        let mean_diag = (0..nl).map(|a| gram[a * m + a]).sum::<f64>() / nl.max(1) as f64;
        for rel in [1e-8, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2] {
            let lambda = rel * mean_diag.max(1e-300);
            let Some(beta) = ridge_solve(&gram, &rhs, m, lambda, &mask) else {
                continue;
            };
            let mut err = 0.0;
            for (k, &r) in check_rows.iter().enumerate() {
                let mut f = 0.0;
                for (a, b) in beta.iter().enumerate() {
                    f += b * check[a * check_len + k];
                }
                err += f64::from(w[r]) * (f - target[r]).powi(2);
            }
            if err.is_finite() && best.as_ref().is_none_or(|(e, ..)| err < *e) {
                best = Some((err, g, rel, beta));
            }
        }
    }
    let (_, gamma, rel, mut beta) = best.ok_or_else(|| {
        FitError::Param("the RBF SVM's landmark expansion could not be fitted".into())
    })?;
    if refit {
        // Small tables: the chosen γ and penalty on every row.
        let all: Vec<usize> = order.clone();
        let phi = features(x, &all, marks, gamma, threads);
        let (gram, rhs) = normal_equations(&phi, &all, target, w, m, threads);
        let mean_diag = (0..nl).map(|a| gram[a * m + a]).sum::<f64>() / nl.max(1) as f64;
        if let Some(b) = ridge_solve(&gram, &rhs, m, rel * mean_diag.max(1e-300), &mask) {
            beta = b;
        }
    }
    Ok(Expansion {
        d,
        gamma,
        centers: marks.centers.clone(),
        coef: beta[..nl].to_vec(),
        bias: beta[nl],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::testing::{data, duplicate_positives, positive_weight};

    fn params() -> SmoParams {
        SmoParams {
            tol: 1e-6,
            ..SmoParams::default()
        }
    }

    /// KKT conditions of the dual within `tol`, with the decision function
    /// recomputed from scratch (an independent check of the solver's
    /// gradient): `Σ yᵢαᵢ = 0`, `0 ≤ αᵢ ≤ Cᵢ`, and the margin `yᵢf(xᵢ)` is
    /// ≥ 1 at αᵢ = 0, = 1 when free, ≤ 1 at αᵢ = Cᵢ.
    fn check_kkt(x: &Matrix, y: &[bool], bounds: &[f64], gamma: f64, s: &Solution, tol: f64) {
        let n = x.rows;
        let sign: Vec<f64> = y.iter().map(|&v| if v { 1.0 } else { -1.0 }).collect();
        let balance: f64 = s.alpha.iter().zip(&sign).map(|(a, y)| a * y).sum();
        assert!(balance.abs() < 1e-9, "Σ yα = {balance}");
        for t in 0..n {
            assert!(s.alpha[t] >= 0.0 && s.alpha[t] <= bounds[t]);
            let mut f = -s.rho;
            for (u, (&a_u, &s_u)) in s.alpha.iter().zip(&sign).enumerate() {
                let d2: f64 = x
                    .row(t)
                    .iter()
                    .zip(x.row(u))
                    .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                    .sum();
                f += a_u * s_u * (-gamma * d2).exp();
            }
            let margin = sign[t] * f;
            let g = sign[t] * (f + s.rho) - 1.0;
            assert!(
                (g - s.grad[t]).abs() < 1e-8,
                "row {t}: ∇ {} vs {g}",
                s.grad[t]
            );
            if s.alpha[t] <= 0.0 {
                assert!(margin >= 1.0 - tol, "row {t} at 0: margin {margin}");
            } else if s.alpha[t] >= bounds[t] {
                assert!(margin <= 1.0 + tol, "row {t} at C: margin {margin}");
            } else {
                assert!((margin - 1.0).abs() <= tol, "row {t} free: margin {margin}");
            }
        }
    }

    #[test]
    fn the_solution_meets_the_kkt_conditions_with_and_without_shrinking() {
        let (x, y) = data(300, 3, 11);
        for c in [0.5, 10.0] {
            let bounds = vec![c; x.rows];
            for shrinking in [true, false] {
                let p = SmoParams {
                    shrinking,
                    ..params()
                };
                let s = solve(&x, &y, &bounds, 0.7, &p).unwrap();
                check_kkt(&x, &y, &bounds, 0.7, &s, 1e-4);
                assert!(s.alpha.iter().any(|&a| a > 0.0 && a < c), "no free row");
            }
        }
    }

    #[test]
    fn a_tiny_problem_matches_brute_force_over_the_dual() {
        // 4 rows: the dual optimum over a fine grid of feasible α (Σ yα = 0,
        // 0 ≤ α ≤ C) is an independent oracle for the objective.
        let mut x = Matrix::zeros(4, 2);
        let pts = [[0.0, 0.0], [1.0, 0.2], [0.1, 1.0], [1.2, 1.1]];
        for (r, p) in pts.iter().enumerate() {
            x.row_mut(r).copy_from_slice(&[p[0] as f32, p[1] as f32]);
        }
        let y = [true, false, false, true];
        let (c, gamma) = (2.0, 0.8);
        let s = solve(&x, &y, &[c; 4], gamma, &params()).unwrap();
        let k = |a: usize, b: usize| {
            let d2: f64 = (0..2)
                .map(|j| (pts[a][j] - pts[b][j]) * (pts[a][j] - pts[b][j]))
                .sum();
            (-gamma * d2).exp()
        };
        let sign = [1.0, -1.0, -1.0, 1.0];
        let obj = |al: &[f64; 4]| {
            let mut v = 0.0;
            for a in 0..4 {
                for b in 0..4 {
                    v += 0.5 * al[a] * al[b] * sign[a] * sign[b] * k(a, b);
                }
                v -= al[a];
            }
            v
        };
        // α₀ + α₃ = α₁ + α₂: grid over α₀, α₃, α₁; α₂ follows.
        let steps = 80;
        let mut best = f64::INFINITY;
        for i0 in 0..=steps {
            for i3 in 0..=steps {
                for i1 in 0..=steps {
                    let a0 = c * i0 as f64 / steps as f64;
                    let a3 = c * i3 as f64 / steps as f64;
                    let a1 = c * i1 as f64 / steps as f64;
                    let a2 = a0 + a3 - a1;
                    if (0.0..=c).contains(&a2) {
                        best = best.min(obj(&[a0, a1, a2, a3]));
                    }
                }
            }
        }
        let ours = s.objective();
        eprintln!("smo objective {ours}, grid {best}");
        assert!(ours <= best + 1e-6, "{ours} > {best}");
        assert!(best - ours < 0.01, "grid {best} far above {ours}");
    }

    #[test]
    fn decisions_match_smartcores_svc() {
        use smartcore::linalg::basic::matrix::DenseMatrix;
        use smartcore::svm::svc::{SVCParameters, SVC};
        use smartcore::svm::Kernels;
        let (x, y) = data(300, 3, 5);
        let rows: Vec<Vec<f64>> = (0..x.rows)
            .map(|r| x.row(r).iter().map(|&v| f64::from(v)).collect())
            .collect();
        let xm = DenseMatrix::from_2d_vec(&rows).unwrap();
        let yv: Vec<i32> = y.iter().map(|&b| i32::from(b)).collect();
        let params = SVCParameters::default()
            .with_c(1.0)
            .with_tol(1e-5)
            .with_epoch(20)
            .with_kernel(Kernels::rbf().with_gamma(0.5))
            .with_seed(Some(1));
        let svc = SVC::fit(&xm, &yv, &params).unwrap();
        // smartcore keeps its expansion private; its serde form has it.
        let v = serde_json::to_value(&svc).unwrap();
        let support: Vec<Vec<f64>> = serde_json::from_value(v["instances"].clone()).unwrap();
        let theirs = Expansion {
            d: x.cols,
            gamma: 0.5,
            centers: support.concat(),
            coef: serde_json::from_value(v["w"].clone()).unwrap(),
            bias: serde_json::from_value(v["b"].clone()).unwrap(),
        }
        .decisions(&x, 1);
        let s = solve(&x, &y, &vec![1.0; x.rows], 0.5, &params_tol(1e-5)).unwrap();
        let ours = s.train_decisions(&y);
        let e = s.expansion(&x, &y, 0.5).decisions(&x, 1);
        let d = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let de = ours
            .iter()
            .zip(&e)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        eprintln!("smo vs smartcore {d:e}, gradient vs expansion {de:e}");
        assert!(d < 1e-3, "{d}");
        assert!(de < 1e-9, "{de}");
    }

    fn params_tol(tol: f64) -> SmoParams {
        SmoParams {
            tol,
            ..SmoParams::default()
        }
    }

    #[test]
    fn threads_cache_and_shrinking_do_not_change_the_solution_bits() {
        let (x, y) = data(700, 5, 12);
        let bounds = vec![1.0; x.rows];
        let one = solve(&x, &y, &bounds, 0.3, &params_tol(1e-3)).unwrap();
        // Many threads and a cache of two rows: same bits.
        let other = solve(
            &x,
            &y,
            &bounds,
            0.3,
            &SmoParams {
                threads: 3,
                cache_bytes: 1,
                ..params_tol(1e-3)
            },
        )
        .unwrap();
        // The small cache computes more rows; everything else is equal.
        assert!(other.kernel_rows > one.kernel_rows);
        assert_eq!(
            Solution {
                kernel_rows: one.kernel_rows,
                ..other
            },
            one
        );
        // Without shrinking the path differs but the optimum is the same.
        let plain = solve(
            &x,
            &y,
            &bounds,
            0.3,
            &SmoParams {
                shrinking: false,
                ..params_tol(1e-3)
            },
        )
        .unwrap();
        let (a, b) = (one.objective(), plain.objective());
        assert!((a - b).abs() < 1e-3 * a.abs(), "{a} vs {b}");
    }

    #[test]
    fn a_class_weight_is_a_penalty_per_class_equal_to_copies() {
        let (x, y) = data(300, 3, 6);
        let w = positive_weight(&y, 3.0);
        let bounds: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
        let weighted = solve(&x, &y, &bounds, 0.5, &params()).unwrap();
        let (xd, yd) = duplicate_positives(&x, &y, 3);
        let copies = solve(&xd, &yd, &vec![1.0; xd.rows], 0.5, &params()).unwrap();
        let unweighted = solve(&x, &y, &vec![1.0; x.rows], 0.5, &params()).unwrap();
        let dw = weighted.expansion(&x, &y, 0.5).decisions(&x, 1);
        let dc = copies.expansion(&xd, &yd, 0.5).decisions(&x, 1);
        let du = unweighted.expansion(&x, &y, 0.5).decisions(&x, 1);
        let d = dw
            .iter()
            .zip(&dc)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let shift = dw.iter().zip(&du).map(|(a, b)| a - b).sum::<f64>() / x.rows as f64;
        eprintln!("weight 3 vs copies {d:e}, mean shift {shift}");
        assert!(d < 1e-3, "{d}");
        assert!(shift > 0.2, "{shift}");
        // α of positive rows may reach 3, of negative rows at most 1.
        for (t, &a) in weighted.alpha.iter().enumerate() {
            assert!(a <= bounds[t]);
        }
        assert!(weighted.alpha.iter().any(|&a| a > 1.0 + 1e-6));
        check_kkt(&x, &y, &bounds, 0.5, &weighted, 1e-4);
    }

    #[test]
    fn the_landmark_expansion_holds_no_training_row_and_tracks_the_exact_model() {
        let (x, y) = data(2000, 4, 13);
        let bounds = vec![1.0; x.rows];
        let gamma = 0.5;
        let s = solve(&x, &y, &bounds, gamma, &params_tol(1e-3)).unwrap();
        let exact = s.train_decisions(&y);
        let want = landmark_budget(x.rows, x.cols);
        let marks = landmarks_by_class(&x, &y, want, 3, 2).unwrap();
        assert!(marks.members.iter().all(|&m| m >= MIN_MEMBERS));
        assert_eq!(marks.members.iter().sum::<usize>(), x.rows);
        let w = vec![1.0f32; x.rows];
        let e = approximate(&x, &exact, &w, &marks, gamma, 3, 2).unwrap();
        // No stored landmark equals a training row.
        let k = e.to_kernel();
        for c in k.support.chunks_exact(x.cols) {
            for r in 0..x.rows {
                assert_ne!(c, x.row(r));
            }
        }
        let approx = e.decisions(&x, 1);
        let (ae, aa) = (
            crate::stats::auc(&exact, &y).unwrap(),
            crate::stats::auc(&approx, &y).unwrap(),
        );
        eprintln!(
            "{} landmarks: exact AUC {ae:.4}, approximation {aa:.4}",
            marks.members.len()
        );
        assert!((ae - aa).abs() < 0.01, "{ae} vs {aa}");
        // Threads do not change it.
        let marks1 = landmarks_by_class(&x, &y, want, 3, 1).unwrap();
        assert_eq!(marks, marks1);
        assert_eq!(
            e,
            approximate(&x, &exact, &w, &marks1, gamma, 3, 1).unwrap()
        );
    }

    #[test]
    fn identical_rows_never_become_a_landmark() {
        // 60 copies of one row and 60 of another: each cluster's mean is a
        // customer's row, so both are dropped and no landmark is left.
        let mut x = Matrix::zeros(120, 2);
        for r in 60..120 {
            x.row_mut(r).copy_from_slice(&[1.0, 2.0]);
        }
        assert_eq!(landmarks(&x, 2, 1, 1), None);
    }
}
