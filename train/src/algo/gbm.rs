//! Gradient boosting of regression trees for binary log-loss (`--model gbm`).
//!
//! One round fits one tree to the gradients of the log-loss at the current
//! margins, on a seeded row subsample and column subsample:
//!
//! - **Base.** `base` = log-odds of the positive rate of the training rows.
//! - **Histograms.** The training rows are binned once ([`Binned`]). A node's
//!   histogram holds, per candidate column, the sums of gradient, hessian and
//!   row count per bin, with the missing bin last. Only the smaller child of a
//!   split is built from its rows; the larger one is the parent minus it (the
//!   subtraction trick). Large nodes build their columns on several threads
//!   (`std::thread::scope`); each column is summed by one thread in row order,
//!   so the result does not depend on the thread count.
//! - **Splits.** The gain of a split into `L`, `R` of a node `T` is
//!   `½ · (G_L²/(H_L+λ) + G_R²/(H_R+λ) − G_T²/(H_T+λ))` (the XGBoost form). A
//!   split is kept when the gain exceeds `min_split_gain` and each side holds
//!   a row and at least `max(min_child_weight, 1e-6)` hessian (the floor guards
//!   against dividing by a hessian lost in rounding when λ = 0). Every
//!   threshold is tried with the missing rows on the left and on the right and
//!   the better is kept as `default_left`; when the node has no missing value
//!   in that column, missing values go to the side with more hessian.
//! - **Growth is best-first** (leaf-wise): the pending leaf with the largest
//!   gain is split next, until `max_leaves` leaves or no leaf can be split;
//!   leaves at depth `max_depth` (root = depth 0) are not split. Ties go to
//!   the earlier column, the lower bin, missing-right, and the older leaf.
//! - **Values.** A leaf holds `−G/(H+λ) · learning_rate`; an inner node holds
//!   the cover-weighted mean of its two children's values (hence of the
//!   leaves below it), as the runtime [`Node`] documents for explanations.
//!   `cover` is the hessian sum of the subsampled rows that grew the tree and
//!   reached the node, so a parent's cover is its children's sum.
//! - **Routing.** A split "bin ≤ b goes left" is stored as the runtime test
//!   `x <= split_values[c][b]`; for every training value both agree, so the
//!   margins kept during training equal the runtime `TreeEnsemble::margin`
//!   bit for bit (training adds the leaf values in `f32`, tree by tree, the
//!   way the runtime does, then adds `base`).
//! - **Monotone constraints** (`monotone`, one of -1, 0, +1 per column; the
//!   basic method of XGBoost and LightGBM). Every node carries bounds
//!   `[lo, hi]` on its leaf weights (the root: unbounded). With any
//!   constraint, a candidate split's child weights `w = −G/(H+λ)` are
//!   clamped to the node's bounds and its gain is computed at the clamped
//!   weights (`−(2Gw + (H+λ)w²)` per side, the score at the optimum); a
//!   split on a constrained column whose clamped children go against its
//!   direction is rejected. After such a split the children's bounds meet
//!   at the midpoint of their weights (left `[lo, mid]`, right `[mid, hi]`
//!   for +1, swapped for −1) and leaf values are clamped to their bounds, so
//!   in every tree each leaf left of a constrained split is on the right
//!   side of each leaf right of it: the sum of trees is monotone in that
//!   column for non-missing values (tested by sweeping the runtime margin).
//!   Without constraints the unconstrained arithmetic runs, unchanged.
//! - **Early stopping.** A stratified, seeded `validation_fraction` of the rows
//!   is held out (binning sees only the training rows). After each round its
//!   log-loss is computed from runtime margins and probabilities; training stops
//!   `early_stopping_rounds` rounds after the best round and keeps the trees up
//!   to it. Without a validation split every round is kept.
//!
//! - **Sample weights.** Row `i` of weight `sᵢ` has gradient `sᵢ·(pᵢ − yᵢ)`
//!   and hessian `sᵢ·pᵢ(1 − pᵢ)`, so every histogram, leaf value, cover,
//!   `min_child_weight` test and gain weighs it `sᵢ` times; `base` is the
//!   log-odds of the weighted positive rate, the validation log-loss is the
//!   weighted mean, and the bins' quantile cuts weigh rows too. Without row
//!   subsampling and validation split (both draw rows uniformly) a row of
//!   weight k is fitted as k copies of it, up to rounding (tested).
//!
//! Training is deterministic for a fixed seed: one `SmallRng` draws the
//! validation split, then each round's rows and columns, in a fixed order.
//! The thread count (`threads`) only splits histogram columns, each summed
//! by one thread in row order, so it never changes the result.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use ferrisk::kinds::{Node, Tree, TreeEnsemble, LEAF};
use ferrisk::Calibration;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::bins::{Binned, Matrix, MISSING};

/// Hyper-parameters of [`fit`]. Build with the setters:
/// `GbmParams::default().trees(300).learning_rate(0.1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct GbmParams {
    /// Maximum boosting rounds (trees).
    pub trees: usize,
    /// Shrinkage applied to every leaf value, in (0, 1].
    pub learning_rate: f32,
    /// Maximum depth of a leaf (the root has depth 0), at least 1.
    pub max_depth: usize,
    /// Maximum leaves per tree, at least 2.
    pub max_leaves: usize,
    /// Minimum hessian sum in each child of a split.
    pub min_child_weight: f64,
    /// L2 regularisation of leaf values.
    pub lambda: f64,
    /// A split must gain more than this.
    pub min_split_gain: f64,
    /// Fraction of the training rows drawn (without replacement) for each tree.
    pub subsample: f64,
    /// Fraction of the (non-constant) columns drawn for each tree.
    pub colsample: f64,
    /// Value bins per column, 2..=255 (at most 254 are used: code 255 is "missing").
    pub max_bins: usize,
    /// Stop this many rounds after the best validation round; 0 disables.
    pub early_stopping_rounds: usize,
    /// Stratified fraction of the rows held out for early stopping, in [0, 1);
    /// 0 trains on every row and keeps every round.
    pub validation_fraction: f64,
    pub seed: u64,
    /// Threads building histograms (the model does not depend on it).
    pub threads: usize,
    /// Per design column: +1 (margin non-decreasing in it), -1, or 0; empty
    /// for no constraints.
    pub monotone: Vec<i8>,
}

impl Default for GbmParams {
    fn default() -> Self {
        GbmParams {
            trees: 500,
            learning_rate: 0.05,
            max_depth: 4,
            max_leaves: 31,
            min_child_weight: 1.0,
            lambda: 1.0,
            min_split_gain: 0.0,
            subsample: 0.8,
            colsample: 0.8,
            max_bins: 255,
            early_stopping_rounds: 30,
            validation_fraction: 0.15,
            seed: 42,
            threads: std::thread::available_parallelism().map_or(1, |t| t.get()),
            monotone: Vec::new(),
        }
    }
}

impl GbmParams {
    setters! {
        trees: usize,
        learning_rate: f32,
        max_depth: usize,
        max_leaves: usize,
        min_child_weight: f64,
        lambda: f64,
        min_split_gain: f64,
        subsample: f64,
        colsample: f64,
        max_bins: usize,
        early_stopping_rounds: usize,
        validation_fraction: f64,
        seed: u64,
        threads: usize,
        monotone: Vec<i8>,
    }

    /// Checks every parameter; [`fit`] calls this first.
    pub fn validate(&self) -> Result<(), GbmError> {
        fn bad(name: &'static str, reason: &str) -> Result<(), GbmError> {
            Err(GbmError::InvalidParam {
                name,
                reason: reason.to_string(),
            })
        }
        let fraction = |v: f64| v > 0.0 && v <= 1.0;
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        if self.trees == 0 {
            return bad("trees", "must be at least 1");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad("learning_rate", "must be in (0, 1]");
        }
        if self.max_depth == 0 {
            return bad("max_depth", "must be at least 1");
        }
        if self.max_leaves < 2 {
            return bad("max_leaves", "must be at least 2");
        }
        if !non_negative(self.min_child_weight) {
            return bad("min_child_weight", "must be a finite number >= 0");
        }
        if !non_negative(self.lambda) {
            return bad("lambda", "must be a finite number >= 0");
        }
        if !non_negative(self.min_split_gain) {
            return bad("min_split_gain", "must be a finite number >= 0");
        }
        if !fraction(self.subsample) {
            return bad("subsample", "must be in (0, 1]");
        }
        if !fraction(self.colsample) {
            return bad("colsample", "must be in (0, 1]");
        }
        if !(2..=255).contains(&self.max_bins) {
            return bad("max_bins", "must be in 2..=255");
        }
        if !(self.validation_fraction >= 0.0 && self.validation_fraction < 1.0) {
            return bad("validation_fraction", "must be in [0, 1)");
        }
        if self.monotone.iter().any(|d| d.abs() > 1) {
            return bad("monotone", "each direction must be -1, 0 or +1");
        }
        Ok(())
    }

    /// Validates and fits; see [`fit`].
    pub fn fit(
        &self,
        x: &Matrix,
        y: &[bool],
        w: &[f32],
        progress: &mut dyn FnMut(usize, usize, f64),
    ) -> Result<TreeEnsemble, GbmError> {
        fit(x, y, w, self, progress)
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GbmError {
    #[error("invalid gbm parameter `{name}`: {reason}")]
    InvalidParam { name: &'static str, reason: String },
    #[error("the design matrix holds {len} values, not {rows} rows x {cols} columns")]
    MalformedMatrix {
        rows: usize,
        cols: usize,
        len: usize,
    },
    #[error("no training rows")]
    Empty,
    #[error("the design matrix has no columns")]
    NoColumns,
    #[error("the design matrix has {0} columns, more than a tree node can address")]
    TooManyColumns(usize),
    #[error("{labels} labels for {rows} rows")]
    LabelCount { rows: usize, labels: usize },
    #[error("every training label is {0}; gradient boosting needs both classes")]
    OneClass(Class),
    #[error("training diverged at round {round}: a leaf value is not finite (try a larger lambda or a smaller learning rate)")]
    Diverged { round: usize },
    #[error(transparent)]
    Weights(#[from] crate::weights::WeightError),
}

/// The class every label belongs to, in [`GbmError::OneClass`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Positive,
    Negative,
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::Positive => "positive",
            Class::Negative => "negative",
        })
    }
}

/// A fitted ensemble with what training saw.
#[derive(Debug, Clone, PartialEq)]
pub struct GbmFit {
    /// `base` + sum of the trees (`average = false`); probability through
    /// [`Calibration::Logistic`].
    pub ensemble: TreeEnsemble,
    /// Rows of `x` trained on, ascending.
    pub train_rows: Vec<usize>,
    /// Rows of `x` held out for early stopping, ascending.
    pub valid_rows: Vec<usize>,
    /// Margin of each training row (in `train_rows` order) as training
    /// computed it, for the kept trees.
    pub train_margin: Vec<f32>,
    /// Rounds trained before stopping (>= the kept trees).
    pub rounds_run: usize,
    /// Validation log-loss of the kept ensemble (`None` without validation rows).
    pub valid_log_loss: Option<f64>,
}

/// Fits a boosted ensemble to `x` (NaN = missing), labels `y` (`true` =
/// positive) and sample weights `w` (one per row). `progress(round,
/// max_rounds, loss)` is called after every round with the validation
/// log-loss (the training log-loss when there is no validation split).
pub fn fit(
    x: &Matrix,
    y: &[bool],
    w: &[f32],
    params: &GbmParams,
    progress: &mut dyn FnMut(usize, usize, f64),
) -> Result<TreeEnsemble, GbmError> {
    fit_detailed(x, y, w, params, progress).map(|f| f.ensemble)
}

/// Hessian floor, so a node's hessian sum is positive whenever it has rows.
const MIN_HESSIAN: f64 = 1e-16;
/// Smallest hessian sum a child may have, whatever `min_child_weight` is.
const MIN_CHILD_HESSIAN: f64 = 1e-6;
/// Rows × columns below which a histogram is built on one thread.
const PARALLEL_MIN_WORK: usize = 1 << 17;

/// [`fit`], also returning the split, the training margins and the rounds run.
pub fn fit_detailed(
    x: &Matrix,
    y: &[bool],
    w: &[f32],
    params: &GbmParams,
    progress: &mut dyn FnMut(usize, usize, f64),
) -> Result<GbmFit, GbmError> {
    params.validate()?;
    check_data(x, y)?;
    crate::weights::check(w, x.rows)?;
    if !params.monotone.is_empty() && params.monotone.len() != x.cols {
        return Err(GbmError::InvalidParam {
            name: "monotone",
            reason: format!(
                "{} directions for {} columns",
                params.monotone.len(),
                x.cols
            ),
        });
    }

    let mut rng = SmallRng::seed_from_u64(params.seed);
    let (train_rows, valid_rows) = stratified_split(y, params.validation_fraction, &mut rng);
    let early_stopping = !valid_rows.is_empty() && params.early_stopping_rounds > 0;
    let train_y: Vec<bool> = train_rows.iter().map(|&r| y[r]).collect();
    let valid_y: Vec<bool> = valid_rows.iter().map(|&r| y[r]).collect();
    let train_w: Vec<f64> = train_rows.iter().map(|&r| f64::from(w[r])).collect();
    let valid_w: Vec<f64> = valid_rows.iter().map(|&r| f64::from(w[r])).collect();
    let train_w32: Vec<f32> = train_rows.iter().map(|&r| w[r]).collect();
    let binned = Binned::weighted_rows(x, &train_rows, params.max_bins, Some(&train_w32));
    let n = train_rows.len();

    // The split keeps a row of each class for training, so 0 < rate < 1.
    let positive: f64 = train_w
        .iter()
        .zip(&train_y)
        .filter(|(_, &v)| v)
        .map(|(s, _)| s)
        .sum();
    let rate = positive / train_w.iter().sum::<f64>();
    let base = (rate / (1.0 - rate)).ln() as f32;
    let usable: Vec<usize> = (0..binned.cols).filter(|&c| binned.bins(c) >= 2).collect();
    let grower = Grower {
        binned: &binned,
        params,
        threads: params.threads.max(1),
    };

    let mut trees: Vec<Tree> = Vec::new();
    let mut acc = vec![0.0f32; n];
    let mut valid_acc = vec![0.0f32; valid_rows.len()];
    let mut grad = vec![0.0f64; n];
    let mut hess = vec![0.0f64; n];
    let mut best = (0usize, f64::INFINITY, Vec::new());
    let mut rounds_run = 0;
    for round in 1..=params.trees {
        for i in 0..n {
            let p = 1.0 / (1.0 + (-f64::from(base + acc[i])).exp());
            grad[i] = (p - if train_y[i] { 1.0 } else { 0.0 }) * train_w[i];
            hess[i] = (p * (1.0 - p)).max(MIN_HESSIAN) * train_w[i];
        }
        let rows = choose(&(0..n).collect::<Vec<_>>(), params.subsample, &mut rng);
        let cols = choose(&usable, params.colsample, &mut rng);
        let grown = grower.grow(&grad, &hess, rows, &cols);
        if grown.tree.nodes.iter().any(|n| !n.value.is_finite()) {
            return Err(GbmError::Diverged { round });
        }
        for (i, a) in acc.iter_mut().enumerate() {
            *a += grown.tree.nodes[grown.leaf_of(&binned, i)].value;
        }
        for (a, &r) in valid_acc.iter_mut().zip(&valid_rows) {
            *a += grown.tree.predict(x.row(r));
        }
        trees.push(grown.tree);
        rounds_run = round;
        let loss = if valid_rows.is_empty() {
            log_loss(base, &acc, &train_y, &train_w)
        } else {
            log_loss(base, &valid_acc, &valid_y, &valid_w)
        };
        progress(round, params.trees, loss);
        if early_stopping {
            if loss < best.1 {
                best.0 = round;
                best.1 = loss;
                best.2.clone_from(&acc);
            } else if round - best.0 >= params.early_stopping_rounds {
                break;
            }
        }
    }
    let mut valid_log_loss =
        (!valid_rows.is_empty()).then(|| log_loss(base, &valid_acc, &valid_y, &valid_w));
    if early_stopping && best.0 < trees.len() {
        trees.truncate(best.0);
        acc = best.2;
        valid_log_loss = Some(best.1);
    }
    Ok(GbmFit {
        ensemble: TreeEnsemble {
            trees,
            base,
            average: false,
        },
        train_margin: acc.iter().map(|&a| base + a).collect(),
        train_rows,
        valid_rows,
        rounds_run,
        valid_log_loss,
    })
}

fn check_data(x: &Matrix, y: &[bool]) -> Result<(), GbmError> {
    if x.rows.checked_mul(x.cols) != Some(x.data.len()) {
        return Err(GbmError::MalformedMatrix {
            rows: x.rows,
            cols: x.cols,
            len: x.data.len(),
        });
    }
    if y.len() != x.rows {
        return Err(GbmError::LabelCount {
            rows: x.rows,
            labels: y.len(),
        });
    }
    if x.rows == 0 {
        return Err(GbmError::Empty);
    }
    if x.cols == 0 {
        return Err(GbmError::NoColumns);
    }
    if u32::try_from(x.cols).is_err() {
        return Err(GbmError::TooManyColumns(x.cols));
    }
    match y.iter().filter(|&&v| v).count() {
        0 => Err(GbmError::OneClass(Class::Negative)),
        p if p == y.len() => Err(GbmError::OneClass(Class::Positive)),
        _ => Ok(()),
    }
}

/// Weighted mean log-loss of margins `base + acc` (weights `w`), through
/// the runtime's logistic.
fn log_loss(base: f32, acc: &[f32], y: &[bool], w: &[f64]) -> f64 {
    const EPS: f64 = 1e-15;
    let total: f64 = acc
        .iter()
        .zip(y)
        .zip(w)
        .map(|((&a, &label), &s)| {
            let p = f64::from(Calibration::Logistic.probability(base + a)).clamp(EPS, 1.0 - EPS);
            let loss = -if label { p.ln() } else { (1.0 - p).ln() };
            loss * s
        })
        .sum();
    let weight: f64 = w.iter().sum();
    if weight > 0.0 {
        total / weight
    } else {
        0.0
    }
}

/// Seeded stratified hold-out: `round(fraction · class size)` rows of each
/// class, always leaving one of each class for training.
fn stratified_split(y: &[bool], fraction: f64, rng: &mut SmallRng) -> (Vec<usize>, Vec<usize>) {
    let mut valid = Vec::new();
    for class in [true, false] {
        let members: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        let k = ((members.len() as f64 * fraction).round() as usize)
            .min(members.len().saturating_sub(1));
        valid.extend(draw(&members, k, rng));
    }
    valid.sort_unstable();
    let mut is_valid = vec![false; y.len()];
    for &i in &valid {
        is_valid[i] = true;
    }
    let train = (0..y.len()).filter(|&i| !is_valid[i]).collect();
    (train, valid)
}

/// `round(fraction · len)` (at least one) of `items`, drawn without
/// replacement, ascending.
fn choose(items: &[usize], fraction: f64, rng: &mut SmallRng) -> Vec<usize> {
    if fraction >= 1.0 {
        return items.to_vec();
    }
    let k = ((items.len() as f64 * fraction).round() as usize).clamp(1, items.len().max(1));
    let mut picked = draw(items, k, rng);
    picked.sort_unstable();
    picked
}

/// `k` of `items` by a partial Fisher–Yates shuffle.
fn draw(items: &[usize], k: usize, rng: &mut SmallRng) -> Vec<usize> {
    let mut pool = items.to_vec();
    let k = k.min(pool.len());
    for i in 0..k {
        let j = rng.random_range(i..pool.len());
        pool.swap(i, j);
    }
    pool.truncate(k);
    pool
}

/// Gradient, hessian and row sums of a set of rows (one histogram bin, a node, a side).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums {
    g: f64,
    h: f64,
    n: usize,
}

impl AddAssign for Sums {
    fn add_assign(&mut self, o: Sums) {
        self.g += o.g;
        self.h += o.h;
        self.n += o.n;
    }
}

impl Add for Sums {
    type Output = Sums;
    fn add(mut self, o: Sums) -> Sums {
        self += o;
        self
    }
}

impl Sub for Sums {
    type Output = Sums;
    fn sub(self, o: Sums) -> Sums {
        Sums {
            g: self.g - o.g,
            h: self.h - o.h,
            n: self.n.saturating_sub(o.n),
        }
    }
}

/// `G² / (H + λ)`: twice the loss reduction of a leaf at its optimal value.
fn score(s: Sums, lambda: f64) -> f64 {
    s.g * s.g / (s.h + lambda)
}

/// The constraints a split must meet.
#[derive(Debug, Clone, Copy)]
struct SplitRule {
    lambda: f64,
    min_child_weight: f64,
    min_split_gain: f64,
}

impl SplitRule {
    /// Gain of sending `left` left and the rest of `total` right, if allowed.
    fn gain(&self, total: Sums, left: Sums) -> Option<f64> {
        let right = total - left;
        let min_h = self.min_child_weight.max(MIN_CHILD_HESSIAN);
        if left.n == 0 || right.n == 0 || left.h < min_h || right.h < min_h {
            return None;
        }
        let gain = 0.5
            * (score(left, self.lambda) + score(right, self.lambda) - score(total, self.lambda));
        (gain > self.min_split_gain).then_some(gain)
    }

    /// Leaf weight of `s` clamped to `[lo, hi]`.
    fn weight(&self, s: Sums, (lo, hi): (f64, f64)) -> f64 {
        (-s.g / (s.h + self.lambda)).clamp(lo, hi)
    }

    /// [`SplitRule::gain`] under a monotone constraint `dir` and the node's
    /// weight bounds: gains at the clamped weights, and a split whose
    /// children go against `dir` is refused.
    fn gain_constrained(
        &self,
        total: Sums,
        left: Sums,
        dir: i8,
        bounds: (f64, f64),
    ) -> Option<f64> {
        let right = total - left;
        let min_h = self.min_child_weight.max(MIN_CHILD_HESSIAN);
        if left.n == 0 || right.n == 0 || left.h < min_h || right.h < min_h {
            return None;
        }
        let (wl, wr) = (self.weight(left, bounds), self.weight(right, bounds));
        if (dir > 0 && wl > wr) || (dir < 0 && wl < wr) {
            return None;
        }
        let obj = |s: Sums, w: f64| -(2.0 * s.g * w + (s.h + self.lambda) * w * w);
        let gain = 0.5 * (obj(left, wl) + obj(right, wr) - obj(total, self.weight(total, bounds)));
        (gain > self.min_split_gain).then_some(gain)
    }
}

/// A node's monotone context: the column's direction and the node's bounds
/// (`None`: the model has no constraints).
type Constraint = Option<(i8, (f64, f64))>;

/// The best split of one column: bins `0..=bin` go left.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ColumnSplit {
    bin: u8,
    default_left: bool,
    gain: f64,
}

/// Best threshold of one column's histogram `hist` (value bins, then the
/// missing bin last) in a node with sums `total`.
fn best_in_column(
    hist: &[Sums],
    total: Sums,
    rule: &SplitRule,
    con: Constraint,
) -> Option<ColumnSplit> {
    let (&missing, values) = hist.split_last()?;
    let mut best: Option<ColumnSplit> = None;
    let mut consider = |bin: usize, left: Sums, default_left: bool| {
        let gain = match con {
            None => rule.gain(total, left),
            Some((dir, bounds)) => rule.gain_constrained(total, left, dir, bounds),
        };
        if let Some(gain) = gain {
            if best.is_none_or(|b| gain > b.gain) {
                best = Some(ColumnSplit {
                    bin: bin as u8,
                    default_left,
                    gain,
                });
            }
        }
    };
    let mut left = Sums::default();
    // The last value bin cannot be a threshold: nothing would be above it.
    for (bin, &h) in values
        .iter()
        .enumerate()
        .take(values.len().saturating_sub(1))
    {
        left += h;
        if missing.n == 0 {
            let right = total - left;
            consider(bin, left, left.h >= right.h);
        } else {
            consider(bin, left, false);
            consider(bin, left + missing, true);
        }
    }
    best
}

/// A chosen node split: column (design index) and bin.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Split {
    col: usize,
    bin: u8,
    default_left: bool,
    gain: f64,
}

fn goes_left(code: u8, bin: u8, default_left: bool) -> bool {
    if code == MISSING {
        default_left
    } else {
        code <= bin
    }
}

/// Where each sampled column's bins live in a node histogram: column `j`
/// (of the tree's sampled columns) owns `offsets[j]..offsets[j + 1]`, its
/// value bins then its missing bin.
struct Layout {
    cols: Vec<usize>,
    offsets: Vec<usize>,
}

impl Layout {
    fn new(binned: &Binned, cols: &[usize]) -> Layout {
        let mut offsets = Vec::with_capacity(cols.len() + 1);
        offsets.push(0);
        let mut end = 0;
        for &c in cols {
            end += binned.bins(c) + 1;
            offsets.push(end);
        }
        Layout {
            cols: cols.to_vec(),
            offsets,
        }
    }

    fn len(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0)
    }

    /// The best split of a node; `monotone` per design column (empty: no
    /// constraints), `bounds` the node's weight bounds.
    fn best_split(
        &self,
        hist: &[Sums],
        total: Sums,
        rule: &SplitRule,
        monotone: &[i8],
        bounds: (f64, f64),
    ) -> Option<Split> {
        let mut best: Option<Split> = None;
        for (j, &col) in self.cols.iter().enumerate() {
            let part = &hist[self.offsets[j]..self.offsets[j + 1]];
            let con = monotone.get(col).map(|&d| (d, bounds));
            if let Some(s) = best_in_column(part, total, rule, con) {
                if best.is_none_or(|b| s.gain > b.gain) {
                    best = Some(Split {
                        col,
                        bin: s.bin,
                        default_left: s.default_left,
                        gain: s.gain,
                    });
                }
            }
        }
        best
    }
}

/// A tree being grown: a runtime tree plus, per inner node, the split bin.
struct Grown {
    tree: Tree,
    bins: Vec<u8>,
}

impl Grown {
    /// Leaf reached by training row `r`, routed on bin codes.
    fn leaf_of(&self, binned: &Binned, r: usize) -> usize {
        let mut i = 0;
        while let Some(node) = self.tree.nodes.get(i) {
            if node.is_leaf() {
                return i;
            }
            let code = binned.codes[node.feature as usize * binned.rows + r];
            let left = goes_left(code, self.bins[i], node.default_left);
            i = if left { node.left } else { node.right } as usize;
        }
        0
    }
}

/// A leaf that may still be split.
struct Candidate {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    hist: Vec<Sums>,
    split: Split,
}

struct Grower<'a> {
    binned: &'a Binned,
    params: &'a GbmParams,
    threads: usize,
}

impl Grower<'_> {
    fn rule(&self) -> SplitRule {
        SplitRule {
            lambda: self.params.lambda,
            min_child_weight: self.params.min_child_weight,
            min_split_gain: self.params.min_split_gain,
        }
    }

    /// Grows one tree, best-first, on training rows `rows` and columns `cols`.
    fn grow(&self, grad: &[f64], hess: &[f64], mut rows: Vec<usize>, cols: &[usize]) -> Grown {
        let p = self.params;
        let rule = self.rule();
        let layout = Layout::new(self.binned, cols);
        let sums_of = |rows: &[usize]| {
            rows.iter().fold(Sums::default(), |s, &r| {
                s + Sums {
                    g: grad[r],
                    h: hess[r],
                    n: 1,
                }
            })
        };
        let mut sums = vec![sums_of(&rows)];
        let mono = &p.monotone;
        let mut bounds = vec![(f64::NEG_INFINITY, f64::INFINITY)];
        let mut nodes = vec![leaf()];
        let mut bins = vec![0u8];
        let mut open: Vec<Candidate> = Vec::new();
        let mut scratch = Vec::new();

        let root_hist = self.histogram(&layout, &rows, grad, hess);
        if let Some(split) = layout.best_split(&root_hist, sums[0], &rule, mono, bounds[0]) {
            open.push(Candidate {
                node: 0,
                start: 0,
                end: rows.len(),
                depth: 0,
                hist: root_hist,
                split,
            });
        }
        let mut leaves = 1;
        while leaves < p.max_leaves {
            // Largest gain; the oldest candidate wins a tie.
            let mut pick: Option<usize> = None;
            for (k, c) in open.iter().enumerate() {
                if pick.is_none_or(|b| c.split.gain > open[b].split.gain) {
                    pick = Some(k);
                }
            }
            let Some(k) = pick else { break };
            let cand = open.remove(k);
            let s = cand.split;
            let segment = &mut rows[cand.start..cand.end];
            let mid = cand.start
                + partition(
                    segment,
                    self.binned.column(s.col),
                    s.bin,
                    s.default_left,
                    &mut scratch,
                );
            let (l, r) = (nodes.len(), nodes.len() + 1);
            nodes[cand.node] = Node {
                feature: s.col as u32,
                threshold: self.binned.split_values[s.col][s.bin as usize],
                left: l as u32,
                right: r as u32,
                value: 0.0,
                cover: 0.0,
                default_left: s.default_left,
            };
            bins[cand.node] = s.bin;
            nodes.extend([leaf(), leaf()]);
            bins.extend([0, 0]);
            let children = [(l, cand.start, mid), (r, mid, cand.end)];
            sums.extend(children.map(|(_, a, b)| sums_of(&rows[a..b])));
            // Monotone split: the children's bounds meet at the midpoint.
            let (lo, hi) = bounds[cand.node];
            let child = match mono.get(s.col).copied().unwrap_or(0) {
                0 => [(lo, hi), (lo, hi)],
                dir => {
                    let wl = rule.weight(sums[l], (lo, hi));
                    let wr = rule.weight(sums[r], (lo, hi));
                    let m = 0.5 * (wl + wr);
                    if dir > 0 {
                        [(lo, m), (m, hi)]
                    } else {
                        [(m, hi), (lo, m)]
                    }
                }
            };
            bounds.extend(child);
            leaves += 1;

            let depth = cand.depth + 1;
            if depth >= p.max_depth {
                continue;
            }
            // Build the smaller child's histogram; the larger is parent − smaller.
            let small = if mid - cand.start <= cand.end - mid {
                0
            } else {
                1
            };
            let (_, a, b) = children[small];
            let small_hist = self.histogram(&layout, &rows[a..b], grad, hess);
            let mut large_hist = cand.hist;
            for (big, &sm) in large_hist.iter_mut().zip(&small_hist) {
                *big = *big - sm;
            }
            let mut hists = [Some(small_hist), Some(large_hist)];
            if small == 1 {
                hists.swap(0, 1);
            }
            for ((node, start, end), hist) in children.into_iter().zip(hists) {
                let Some(hist) = hist else { continue };
                if let Some(split) = layout.best_split(&hist, sums[node], &rule, mono, bounds[node])
                {
                    open.push(Candidate {
                        node,
                        start,
                        end,
                        depth,
                        hist,
                        split,
                    });
                }
            }
        }

        // Values and covers, children (larger indices) before parents.
        let lr = f64::from(p.learning_rate);
        for i in (0..nodes.len()).rev() {
            let s = sums[i];
            let node = nodes[i];
            let value = if node.is_leaf() && !mono.is_empty() {
                rule.weight(s, bounds[i]) * lr
            } else if node.is_leaf() {
                -s.g / (s.h + p.lambda) * lr
            } else {
                let (a, b) = (nodes[node.left as usize], nodes[node.right as usize]);
                let (ca, cb) = (sums[node.left as usize].h, sums[node.right as usize].h);
                (ca * f64::from(a.value) + cb * f64::from(b.value)) / (ca + cb)
            };
            nodes[i].value = value as f32;
            nodes[i].cover = s.h as f32;
        }
        Grown {
            tree: Tree { nodes },
            bins,
        }
    }

    /// Histogram of `rows` over the layout's columns. Big nodes are split
    /// over threads by column; each column is summed by one thread in row
    /// order, so the sums do not depend on the thread count.
    fn histogram(&self, layout: &Layout, rows: &[usize], grad: &[f64], hess: &[f64]) -> Vec<Sums> {
        let gh: Vec<(f64, f64)> = rows.iter().map(|&r| (grad[r], hess[r])).collect();
        let mut hist = vec![Sums::default(); layout.len()];
        let ncols = layout.cols.len();
        let fill = |out: &mut [Sums], cols: std::ops::Range<usize>| {
            let base = layout.offsets[cols.start];
            for j in cols {
                let c = layout.cols[j];
                let part = &mut out[layout.offsets[j] - base..layout.offsets[j + 1] - base];
                let missing = part.len() - 1;
                let codes = self.binned.column(c);
                for (&r, &(g, h)) in rows.iter().zip(&gh) {
                    let code = codes[r];
                    let slot = if code == MISSING {
                        missing
                    } else {
                        code as usize
                    };
                    let bin = &mut part[slot];
                    bin.g += g;
                    bin.h += h;
                    bin.n += 1;
                }
            }
        };
        let threads = self.threads.min(ncols);
        if threads <= 1 || rows.len() * ncols < PARALLEL_MIN_WORK {
            fill(&mut hist, 0..ncols);
            return hist;
        }
        let per = ncols.div_ceil(threads);
        std::thread::scope(|scope| {
            let mut rest: &mut [Sums] = &mut hist;
            for start in (0..ncols).step_by(per) {
                let end = (start + per).min(ncols);
                let (mine, tail) = std::mem::take(&mut rest)
                    .split_at_mut(layout.offsets[end] - layout.offsets[start]);
                rest = tail;
                let fill = &fill;
                scope.spawn(move || fill(mine, start..end));
            }
        });
        hist
    }
}

fn leaf() -> Node {
    Node {
        feature: 0,
        threshold: 0.0,
        left: LEAF,
        right: LEAF,
        value: 0.0,
        cover: 0.0,
        default_left: false,
    }
}

/// Stable partition of `rows`: those going left first. Returns their count.
fn partition(
    rows: &mut [usize],
    codes: &[u8],
    bin: u8,
    default_left: bool,
    scratch: &mut Vec<usize>,
) -> usize {
    scratch.clear();
    let mut k = 0;
    for i in 0..rows.len() {
        let r = rows[i];
        if goes_left(codes[r], bin, default_left) {
            rows[k] = r;
            k += 1;
        } else {
            scratch.push(r);
        }
    }
    rows[k..].copy_from_slice(scratch);
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrisk::Kind as _;

    /// Every row weighs 1.
    fn ones(x: &Matrix) -> Vec<f32> {
        vec![1.0; x.rows]
    }

    #[test]
    fn weight_k_is_k_copies_without_sampling() {
        // No row subsample and no validation split (both draw rows
        // uniformly): weight 3 on the positives fits what three copies of
        // each positive row fit, up to the order of float sums.
        use crate::weights::testing::{data, duplicate_positives, positive_weight};
        let (x, y) = data(600, 4, 8);
        let p = GbmParams::default()
            .trees(40)
            .learning_rate(0.2)
            .subsample(1.0)
            .colsample(1.0)
            .validation_fraction(0.0);
        let weighted = fit(&x, &y, &positive_weight(&y, 3.0), &p, &mut |_, _, _| {}).unwrap();
        let (xd, yd) = duplicate_positives(&x, &y, 3);
        let copies = fit(&xd, &yd, &ones(&xd), &p, &mut |_, _, _| {}).unwrap();
        let unweighted = fit(&x, &y, &ones(&x), &p, &mut |_, _, _| {}).unwrap();
        assert!((weighted.base - copies.base).abs() < 1e-6);
        let (mut worst, mut shift) = (0.0f32, 0.0f32);
        for r in 0..x.rows {
            let w = weighted.output(x.row(r));
            worst = worst.max((w - copies.output(x.row(r))).abs());
            shift += w - unweighted.output(x.row(r));
        }
        shift /= x.rows as f32;
        assert!(worst < 1e-4, "largest margin difference {worst}");
        assert!(shift > 0.5, "mean margin shift {shift}");
        // Covers are weighted hessians: the root covers as much as the copies'.
        let (a, b) = (
            weighted.trees[0].nodes[0].cover,
            copies.trees[0].nodes[0].cover,
        );
        assert!((a - b).abs() <= 1e-4 * b, "{a} {b}");
    }

    #[test]
    fn threads_do_not_change_the_trees() {
        // Enough rows x columns for threaded histograms (PARALLEL_MIN_WORK).
        let (x, y) = disc(30_000, 5);
        let p = small_params().trees(10);
        let one = fit(&x, &y, &ones(&x), &p.clone().threads(1), &mut |_, _, _| {}).unwrap();
        let three = fit(&x, &y, &ones(&x), &p.threads(3), &mut |_, _, _| {}).unwrap();
        assert_eq!(one, three);
    }

    fn sums(g: f64, h: f64, n: usize) -> Sums {
        Sums { g, h, n }
    }

    fn rule(lambda: f64, min_child_weight: f64) -> SplitRule {
        SplitRule {
            lambda,
            min_child_weight,
            min_split_gain: 0.0,
        }
    }

    fn total(hist: &[Sums]) -> Sums {
        hist.iter().fold(Sums::default(), |a, &b| a + b)
    }

    #[test]
    fn split_finder_on_a_hand_built_histogram() {
        // Four value bins and an empty missing bin, λ = 1.
        let hist = [
            sums(-2.0, 1.0, 2),
            sums(-1.0, 1.0, 2),
            sums(3.0, 2.0, 4),
            sums(0.5, 1.0, 2),
            sums(0.0, 0.0, 0),
        ];
        let t = total(&hist); // G = 0.5, H = 5
                              // Candidates by hand, gain = ½(GL²/(HL+1) + GR²/(HR+1) − G²/(H+1)):
        let parent = 0.5f64 * 0.5 / 6.0;
        let g0 = 0.5 * (4.0 / 2.0 + 2.5 * 2.5 / 5.0 - parent); // L = {0}: (-2, 1); R: (2.5, 4)
        let g1 = 0.5 * (9.0 / 3.0 + 3.5 * 3.5 / 4.0 - parent); // L = {0,1}: (-3, 2); R: (3.5, 3)
        let g2 = 0.5 * (0.0 / 5.0 + 0.5 * 0.5 / 2.0 - parent); // L = {0,1,2}: (0, 4); R: (0.5, 1)
        assert!(g1 > g0 && g1 > g2);
        let s = best_in_column(&hist, t, &rule(1.0, 1.0), None).unwrap();
        assert_eq!(s.bin, 1);
        assert!((s.gain - g1).abs() < 1e-12, "{} vs {g1}", s.gain);
        // No missing rows: the default side is the one with more hessian (right: 3 > 2).
        assert!(!s.default_left);

        // Hessians per side (L/R): bin 0: 1/4, bin 1: 2/3, bin 2: 4/1. A min_child_weight
        // of 2.5 rejects all three; 2.0 admits bin 1 only.
        assert!(best_in_column(&hist, t, &rule(1.0, 2.5), None).is_none());
        let s = best_in_column(&hist, t, &rule(1.0, 2.0), None).unwrap();
        assert_eq!(s.bin, 1);
    }

    #[test]
    fn split_finder_sends_missing_to_the_better_side() {
        // Two value bins; the missing bin looks like bin 0 (negative gradient).
        let hist = [sums(-3.0, 2.0, 4), sums(2.0, 2.0, 4), sums(-2.0, 1.0, 2)];
        let t = total(&hist); // G = -3, H = 5
        let parent = 9.0 / 6.0;
        let right_missing = 0.5 * (9.0 / 3.0 + 0.0 / 4.0 - parent); // L (-3, 2), R (0, 3)
        let left_missing = 0.5 * (25.0 / 4.0 + 4.0 / 3.0 - parent); // L (-5, 3), R (2, 2)
        assert!(left_missing > right_missing);
        let s = best_in_column(&hist, t, &rule(1.0, 0.0), None).unwrap();
        assert_eq!((s.bin, s.default_left), (0, true));
        assert!((s.gain - left_missing).abs() < 1e-12);
        // Missing like bin 1 instead: it goes right.
        let hist = [sums(-3.0, 2.0, 4), sums(2.0, 2.0, 4), sums(2.0, 1.0, 2)];
        let s = best_in_column(&hist, total(&hist), &rule(1.0, 0.0), None).unwrap();
        assert!(!s.default_left);
        // A constant column (one value bin) has no split.
        assert!(best_in_column(
            &[sums(1.0, 1.0, 3), sums(-1.0, 1.0, 3)],
            sums(0.0, 2.0, 6),
            &rule(1.0, 0.0),
            None
        )
        .is_none());
    }

    /// Deterministic pseudo-random numbers for building test data.
    fn uniform(rng: &mut SmallRng) -> f32 {
        rng.random::<f32>()
    }

    /// A nonlinear problem: positive inside a disc in (x0, x1), plus noise
    /// columns, a one-hot-like column and a few missing values.
    fn disc(rows: usize, seed: u64) -> (Matrix, Vec<bool>) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let cols = 5;
        let mut m = Matrix::zeros(rows, cols);
        let mut y = Vec::with_capacity(rows);
        for r in 0..rows {
            let row = m.row_mut(r);
            for v in row.iter_mut() {
                *v = uniform(&mut rng) * 2.0 - 1.0;
            }
            row[3] = if uniform(&mut rng) < 0.3 { 1.0 } else { 0.0 };
            let inside = row[0] * row[0] + row[1] * row[1] < 0.5;
            let flip = uniform(&mut rng) < 0.1;
            if uniform(&mut rng) < 0.05 {
                row[2] = f32::NAN;
            }
            y.push(inside != flip);
        }
        (m, y)
    }

    fn small_params() -> GbmParams {
        GbmParams::default().trees(60).learning_rate(0.2).seed(7)
    }

    fn auc(probs: &[f32], y: &[bool]) -> f64 {
        ferrisk::metrics::compute(probs, y, 0.5).unwrap().roc_auc
    }

    #[test]
    fn runtime_margin_equals_training_margin_and_trees_validate() {
        let (x, y) = disc(1500, 1);
        let fit = fit_detailed(&x, &y, &ones(&x), &small_params(), &mut |_, _, _| {}).unwrap();
        assert!(!fit.ensemble.trees.is_empty());
        assert!(!fit.valid_rows.is_empty());
        for t in &fit.ensemble.trees {
            t.validate(x.cols).unwrap();
            // Cover is additive and an inner value is the cover-weighted mean of its children.
            for n in t.nodes.iter().filter(|n| !n.is_leaf()) {
                let (a, b) = (t.nodes[n.left as usize], t.nodes[n.right as usize]);
                assert!((a.cover + b.cover - n.cover).abs() <= 1e-4 * n.cover);
                let mean = (a.cover * a.value + b.cover * b.value) / (a.cover + b.cover);
                assert!((mean - n.value).abs() <= 1e-5 * (1.0 + mean.abs()));
            }
        }
        assert_eq!(fit.train_margin.len(), fit.train_rows.len());
        for (&r, &m) in fit.train_rows.iter().zip(&fit.train_margin) {
            assert_eq!(
                fit.ensemble.output(x.row(r)).to_bits(),
                m.to_bits(),
                "row {r}"
            );
        }
        // Base is the log-odds of the training positive rate.
        let pos = fit.train_rows.iter().filter(|&&r| y[r]).count() as f64;
        let rate = pos / fit.train_rows.len() as f64;
        assert!((f64::from(fit.ensemble.base) - (rate / (1.0 - rate)).ln()).abs() < 1e-6);
    }

    #[test]
    fn missing_values_follow_the_learned_side() {
        // One column with values {0, 1, 2} and noise labels at 30 %; missing rows are all
        // positive. A fixed default side would tie NaN to the margin of 0 or of 2.
        let mut rng = SmallRng::seed_from_u64(3);
        let rows = 1200;
        let mut x = Matrix::zeros(rows, 1);
        let mut y = Vec::new();
        for r in 0..rows {
            if r % 5 == 0 {
                x.data[r] = f32::NAN;
                y.push(true);
            } else {
                x.data[r] = (r % 3) as f32;
                y.push(uniform(&mut rng) < 0.3);
            }
        }
        let params = GbmParams::default()
            .trees(40)
            .learning_rate(0.3)
            .colsample(1.0)
            .seed(1);
        let e = fit(&x, &y, &ones(&x), &params, &mut |_, _, _| {}).unwrap();
        let nan = e.output(&[f32::NAN]);
        for v in [0.0, 1.0, 2.0] {
            let m = e.output(&[v]);
            assert!(nan > m + 1.0, "margin at NaN {nan} vs at {v}: {m}");
        }
        assert!(e.trees.iter().any(|t| t.nodes.len() > 1));
    }

    #[test]
    fn same_seed_same_trees() {
        let (x, y) = disc(800, 2);
        let p = small_params().trees(20);
        let a = fit(&x, &y, &ones(&x), &p, &mut |_, _, _| {}).unwrap();
        let b = fit(&x, &y, &ones(&x), &p, &mut |_, _, _| {}).unwrap();
        assert_eq!(a, b);
        let c = fit(&x, &y, &ones(&x), &p.clone().seed(8), &mut |_, _, _| {}).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn threaded_histograms_equal_serial_ones() {
        let (x, _) = disc(3000, 5);
        let binned = Binned::new(&x, 255);
        let params = GbmParams::default();
        let grad: Vec<f64> = (0..x.rows)
            .map(|r| ((r * 7919) % 13) as f64 / 13.0 - 0.5)
            .collect();
        let hess: Vec<f64> = (0..x.rows)
            .map(|r| 0.1 + ((r * 31) % 7) as f64 / 40.0)
            .collect();
        let rows: Vec<usize> = (0..x.rows).collect();
        let layout = Layout::new(&binned, &[0, 1, 2, 3, 4]);
        let serial = Grower {
            binned: &binned,
            params: &params,
            threads: 1,
        }
        .histogram(&layout, &rows, &grad, &hess);
        // Enough rows × columns to take the threaded path.
        let big: Vec<usize> = rows
            .iter()
            .cycle()
            .take(PARALLEL_MIN_WORK)
            .copied()
            .collect();
        let serial_big = Grower {
            binned: &binned,
            params: &params,
            threads: 1,
        }
        .histogram(&layout, &big, &grad, &hess);
        let threaded_big = Grower {
            binned: &binned,
            params: &params,
            threads: 3,
        }
        .histogram(&layout, &big, &grad, &hess);
        assert_eq!(serial_big, threaded_big);
        // Counts add up per column, with missing values in column 2 only.
        for j in 0..5 {
            let part = &serial[layout.offsets[j]..layout.offsets[j + 1]];
            assert_eq!(part.iter().map(|s| s.n).sum::<usize>(), x.rows);
            let missing = part[part.len() - 1].n;
            let expected = (0..x.rows).filter(|&r| x.row(r)[j].is_nan()).count();
            assert_eq!(missing, expected);
        }
    }

    #[test]
    fn grown_splits_match_a_direct_search_of_each_node() {
        // Gradients and hessians on a 1/8 grid keep every sum exact, so the
        // histograms made by subtraction must equal ones built from the rows.
        let (x, _) = disc(600, 21);
        let binned = Binned::new(&x, 255);
        let params = GbmParams::default()
            .max_depth(5)
            .max_leaves(12)
            .learning_rate(0.5)
            .min_child_weight(0.0);
        let grad: Vec<f64> = (0..x.rows)
            .map(|r| {
                let v = x.row(r);
                let inside = v[0] * v[0] + v[1] * v[1] < 0.5;
                (if inside { -4.0 } else { 3.0 } + ((r * 13) % 5) as f64) / 8.0
            })
            .collect();
        let hess: Vec<f64> = (0..x.rows).map(|r| (1 + (r % 3)) as f64 / 8.0).collect();
        let cols = [0, 1, 2, 3, 4];
        let grower = Grower {
            binned: &binned,
            params: &params,
            threads: 1,
        };
        let rows: Vec<usize> = (0..x.rows).filter(|r| r % 4 != 0).collect();
        let grown = grower.grow(&grad, &hess, rows.clone(), &cols);
        let t = &grown.tree;
        let leaves = t.nodes.iter().filter(|n| n.is_leaf()).count();
        assert!((6..=12).contains(&leaves), "{leaves} leaves");
        let layout = Layout::new(&binned, &cols);
        let rule = grower.rule();
        let lr = f64::from(params.learning_rate);
        let mut depth = vec![0usize; t.nodes.len()];
        for (i, node) in t.nodes.iter().enumerate() {
            if !node.is_leaf() {
                depth[node.left as usize] = depth[i] + 1;
                depth[node.right as usize] = depth[i] + 1;
            }
            // The rows that reach node i, by walking each row down from the root.
            let reach: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&r| {
                    let mut k = 0;
                    while k != i && !t.nodes[k].is_leaf() {
                        let n = t.nodes[k];
                        let code = binned.column(n.feature as usize)[r];
                        k = if goes_left(code, grown.bins[k], n.default_left) {
                            n.left
                        } else {
                            n.right
                        } as usize;
                    }
                    k == i
                })
                .collect();
            let g: f64 = reach.iter().map(|&r| grad[r]).sum();
            let h: f64 = reach.iter().map(|&r| hess[r]).sum();
            assert_eq!(node.cover, h as f32, "node {i}");
            let hist = grower.histogram(&layout, &reach, &grad, &hess);
            let direct = layout.best_split(
                &hist,
                sums(g, h, reach.len()),
                &rule,
                &[],
                (f64::NEG_INFINITY, f64::INFINITY),
            );
            if node.is_leaf() {
                assert_eq!(node.value, (-g / (h + params.lambda) * lr) as f32);
                // Growth stopped here for a reason: depth, leaf count, or no split gains.
                assert!(
                    depth[i] == params.max_depth || leaves == params.max_leaves || direct.is_none(),
                    "leaf {i}"
                );
                continue;
            }
            let direct = direct.unwrap();
            assert_eq!(
                (node.feature as usize, grown.bins[i], node.default_left),
                (direct.col, direct.bin, direct.default_left),
                "node {i}"
            );
            assert_eq!(
                node.threshold,
                binned.split_values[direct.col][direct.bin as usize]
            );
        }
    }

    #[test]
    fn rows_and_columns_are_subsampled_per_tree() {
        let (x, y) = disc(1000, 13);
        let p = small_params()
            .trees(8)
            .colsample(0.4)
            .subsample(0.5)
            .validation_fraction(0.0);
        let e = fit(&x, &y, &ones(&x), &p, &mut |_, _, _| {}).unwrap();
        let mut all = std::collections::BTreeSet::new();
        for t in &e.trees {
            let used: std::collections::BTreeSet<u32> = t
                .nodes
                .iter()
                .filter(|n| !n.is_leaf())
                .map(|n| n.feature)
                .collect();
            assert!(
                used.len() <= 2,
                "round(0.4 · 5) = 2 columns per tree, got {used:?}"
            );
            all.extend(used);
        }
        assert!(all.len() > 2, "different trees draw different columns");
        // In round 1 every hessian is rate·(1 − rate): the root covers 500 of them.
        let rate = y.iter().filter(|&&v| v).count() as f64 / y.len() as f64;
        let p0 = 1.0 / (1.0 + (-f64::from(e.base)).exp());
        assert!((p0 - rate).abs() < 1e-6);
        let root = e.trees[0].nodes[0].cover;
        assert!(
            (f64::from(root) - 500.0 * p0 * (1.0 - p0)).abs() < 1e-3,
            "{root}"
        );
    }

    #[test]
    fn beats_a_constant_on_a_nonlinear_problem() {
        let (x, y) = disc(2000, 11);
        let (xt, yt) = disc(1000, 12);
        let e = fit(&x, &y, &ones(&x), &small_params(), &mut |_, _, _| {}).unwrap();
        let probs: Vec<f32> = (0..xt.rows)
            .map(|r| Calibration::Logistic.probability(e.output(xt.row(r))))
            .collect();
        // A constant scores AUC 0.5; labels are 10 % flipped, so ~0.9 is the ceiling.
        let a = auc(&probs, &yt);
        assert!(a > 0.8, "test AUC {a}");
    }

    #[test]
    fn early_stopping_keeps_the_best_round() {
        // Pure noise labels: validation loss soon stops improving.
        let mut rng = SmallRng::seed_from_u64(9);
        let rows = 1000;
        let mut x = Matrix::zeros(rows, 3);
        for v in x.data.iter_mut() {
            *v = uniform(&mut rng);
        }
        let y: Vec<bool> = (0..rows).map(|_| uniform(&mut rng) < 0.4).collect();
        let params = GbmParams::default()
            .trees(300)
            .learning_rate(0.3)
            .early_stopping_rounds(10)
            .seed(3);
        let mut losses = Vec::new();
        let fit = fit_detailed(&x, &y, &ones(&x), &params, &mut |round, max, loss| {
            assert_eq!((round, max), (losses.len() + 1, 300));
            losses.push(loss);
        })
        .unwrap();
        let kept = fit.ensemble.trees.len();
        let best = losses.iter().copied().fold(f64::INFINITY, f64::min);
        let first_best = losses.iter().position(|&l| l == best).unwrap() + 1;
        assert_eq!(kept, first_best);
        assert_eq!(fit.rounds_run, losses.len());
        assert!(fit.rounds_run < 300);
        assert_eq!(fit.rounds_run, kept + 10);
        assert_eq!(fit.valid_log_loss, Some(best));
        // Validation is stratified: 15 % of each class.
        let vp = fit.valid_rows.iter().filter(|&&r| y[r]).count();
        let pos = y.iter().filter(|&&v| v).count();
        assert_eq!(vp, (pos as f64 * 0.15).round() as usize);
        assert_eq!(
            fit.valid_rows.len() - vp,
            ((rows - pos) as f64 * 0.15).round() as usize
        );
    }

    #[test]
    fn without_validation_every_round_is_kept() {
        let (x, y) = disc(300, 4);
        let p = small_params().trees(15).validation_fraction(0.0);
        let fit = fit_detailed(&x, &y, &ones(&x), &p, &mut |_, _, _| {}).unwrap();
        assert_eq!(fit.ensemble.trees.len(), 15);
        assert_eq!(fit.train_rows.len(), 300);
        assert!(fit.valid_log_loss.is_none());
    }

    #[test]
    fn constant_columns_give_single_leaf_trees() {
        let mut x = Matrix::zeros(40, 2);
        for r in 0..40 {
            x.row_mut(r)[1] = if r % 2 == 0 { f32::NAN } else { 3.0 };
        }
        // Column 0 is constant; column 1 is 3.0 or missing, one value bin: nothing to split.
        let y: Vec<bool> = (0..40).map(|r| r % 4 == 0).collect();
        let p = small_params().trees(5).validation_fraction(0.0);
        let e = fit(&x, &y, &ones(&x), &p, &mut |_, _, _| {}).unwrap();
        assert_eq!(e.trees.len(), 5);
        assert!(e.trees.iter().all(|t| t.nodes.len() == 1));
        assert!((f64::from(e.base) - (0.25f64 / 0.75).ln()).abs() < 1e-6);
    }

    #[test]
    fn depth_and_leaf_limits_hold() {
        fn depth(t: &Tree, i: usize) -> usize {
            let n = t.nodes[i];
            if n.is_leaf() {
                0
            } else {
                1 + depth(t, n.left as usize).max(depth(t, n.right as usize))
            }
        }
        let (x, y) = disc(1000, 6);
        for (d, l) in [(2, 31), (6, 5), (1, 31)] {
            let p = small_params()
                .trees(10)
                .max_depth(d)
                .max_leaves(l)
                .min_child_weight(0.0);
            let e = fit(&x, &y, &ones(&x), &p, &mut |_, _, _| {}).unwrap();
            for t in &e.trees {
                assert!(depth(t, 0) <= d);
                assert!(t.nodes.iter().filter(|n| n.is_leaf()).count() <= l);
            }
            // The limit is reached, not just respected.
            assert!(e.trees.iter().any(|t| depth(t, 0) == d.min(l - 1)));
        }
    }

    #[test]
    fn rejects_bad_params_and_data() {
        let (x, y) = disc(50, 1);
        let run = |p: &GbmParams, x: &Matrix, y: &[bool]| fit(x, y, &ones(x), p, &mut |_, _, _| {});
        for p in [
            GbmParams::default().trees(0),
            GbmParams::default().learning_rate(0.0),
            GbmParams::default().learning_rate(f32::NAN),
            GbmParams::default().max_depth(0),
            GbmParams::default().max_leaves(1),
            GbmParams::default().lambda(-1.0),
            GbmParams::default().subsample(0.0),
            GbmParams::default().colsample(1.5),
            GbmParams::default().max_bins(256),
            GbmParams::default().validation_fraction(1.0),
        ] {
            assert!(
                matches!(run(&p, &x, &y), Err(GbmError::InvalidParam { .. })),
                "{p:?}"
            );
        }
        let p = GbmParams::default();
        assert!(matches!(
            run(&p, &x, &y[1..]),
            Err(GbmError::LabelCount { .. })
        ));
        assert!(matches!(
            run(&p, &Matrix::zeros(0, 3), &[]),
            Err(GbmError::Empty)
        ));
        assert!(matches!(
            run(&p, &Matrix::zeros(2, 0), &[true, false]),
            Err(GbmError::NoColumns)
        ));
        let bad = Matrix {
            rows: 3,
            cols: 2,
            data: vec![0.0; 5],
        };
        assert!(matches!(
            run(&p, &bad, &[true, false, true]),
            Err(GbmError::MalformedMatrix { .. })
        ));
        let all = vec![true; x.rows];
        assert!(matches!(
            run(&p, &x, &all),
            Err(GbmError::OneClass(Class::Positive))
        ));
        // One positive among many: it stays in training, and fitting works.
        let mut one = vec![false; x.rows];
        one[3] = true;
        let fit = fit_detailed(&x, &one, &ones(&x), &p, &mut |_, _, _| {}).unwrap();
        assert!(fit.train_rows.contains(&3));
    }

    /// The margin of the exported trees, swept over each constrained column
    /// on every row (other values kept), never moves against the direction,
    /// though the data pull the other way in part of the range.
    #[test]
    fn monotone_constraints_hold_on_every_row() {
        let mut rng = SmallRng::seed_from_u64(5);
        let rows = 1500;
        let mut data = Vec::with_capacity(rows * 3);
        let mut y = Vec::with_capacity(rows);
        for _ in 0..rows {
            let (a, b, c) = (uniform(&mut rng), uniform(&mut rng), uniform(&mut rng));
            // Risk rises with a except in a middle band, falls with b, and
            // depends on c in a non-monotone way.
            let bump = if (0.4..0.6).contains(&a) { -2.0 } else { 0.0 };
            let z = 3.0 * a + bump - 2.0 * b + (6.0 * c).sin();
            y.push(uniform(&mut rng) < 1.0 / (1.0 + (-z).exp()));
            data.extend([a, b, c]);
        }
        let x = Matrix {
            rows,
            cols: 3,
            data,
        };
        let w = ones(&x);
        let free = small_params()
            .trees(80)
            .fit(&x, &y, &w, &mut |_, _, _| {})
            .unwrap();
        let p = small_params().trees(80).monotone(vec![1, -1, 0]);
        let m = p.fit(&x, &y, &w, &mut |_, _, _| {}).unwrap();
        let grid: Vec<f32> = (0..=200).map(|k| k as f32 / 200.0).collect();
        let violations = |e: &TreeEnsemble, col: usize, dir: f32| {
            let mut bad = 0;
            for r in 0..rows {
                let mut row = x.row(r).to_vec();
                let mut last = f32::NEG_INFINITY;
                for &v in &grid {
                    row[col] = v;
                    let s = dir * e.output(&row);
                    bad += usize::from(s < last);
                    last = s;
                }
            }
            bad
        };
        assert_eq!(violations(&m, 0, 1.0), 0, "increasing in column 0");
        assert_eq!(violations(&m, 1, -1.0), 0, "decreasing in column 1");
        // The unconstrained fit does follow the band: the test can fail.
        assert!(violations(&free, 0, 1.0) > 0);
        for t in &m.trees {
            assert!(t.nodes.iter().all(|n| n.value.is_finite()));
        }
    }
}
