//! Model-agnostic Shapley values of the original features: the method of
//! the kinds without an exact model-specific one (the RBF SVM and the
//! attention model). Files that carry a [`BackgroundSet`] are explained as
//! below; older files by [`legacy`], the fixed-seed sampler against the
//! training-mean row they were always explained with, bit for bit.
//!
//! # The game
//!
//! Players are the original features (see [`crate::explain`]). The value
//! of a coalition `S` is the expected output when the customer's values are
//! kept for the features in `S` and the others are taken from the
//! background, the weighted mean over the background rows `b`:
//!
//! ```text
//! v(S) = Σ_b w_b · f(x_S, b_rest)          v(all) = f(x)      base = v(∅)
//! ```
//!
//! (the interventional value function of KernelSHAP; `w_b` are the stored
//! weights normalised to sum 1). `φ_i = Σ_{S ∌ i} |S|!(p−|S|−1)!/p! ·
//! (v(S ∪ i) − v(S))`, and `base + Σ φ = f(x)` for both methods below.
//!
//! # Exact or sampled
//!
//! [`plan`] picks, from the number of players `p`, of background rows `K`
//! and the cost of one model call:
//!
//! - [`Plan::Exact`]: every coalition, `K · (2^p − 2) + K + 1` model calls,
//!   when that is no more than the sampler would be allowed;
//! - [`Plan::Sampling`]: rounds of permutation sampling. A round draws, for
//!   every background row `b`, one random permutation and its reverse
//!   (antithetic pair) and adds `w_b ·` the mean of their marginal
//!   contributions against `b` alone. Each round is therefore an unbiased
//!   estimate of `φ` whose contributions sum exactly to `f(x) − base`
//!   (every permutation telescopes), and rounds are independent, so the
//!   spread of the round estimates gives each `φ_i` a standard error.
//!   Sampling stops after [`MIN_ROUNDS`] or more rounds once the largest
//!   standard error is at most [`TARGET`] `· Σ|φ|` and the principal
//!   reasons are [`resolved`], and at the latest after a third of the round cap, which is [`MAX_ROUNDS`] or less when the
//!   explanation budget ([`crate::kinds::EXPLAIN_BUDGET`]) allows fewer.
//!   If it stopped at that third and the principal reasons are not
//!   [`resolved`] (neighbours closer than [`Z`] standard errors), the other
//!   two thirds of the calls go to the pairs in doubt ([`refine_pair`]): their
//!   difference is estimated directly, on coalitions where the two rows
//!   differ in those two players only, which varies far less than either
//!   player's marginal contribution. So near ties among the reasons a
//!   lender reads get the calls, and a customer whose reasons are clear
//!   costs a third of the cap at most (attention models retrained with the
//!   engine of issue 16 had more near ties: a half/half split left 195/200
//!   customers with the exact top 4, a third/two thirds 196/200). A round costs `2 · K · (p − 1)` model calls. The convergence figure reported with the
//!   explanation is `max_i SE(φ_i) / Σ_i |φ_i|`.
//!
//! Sizes and why: the trainer stores at most 8 centroids (fewer when
//! [`affordable_rows`] says the model is too costly for [`MIN_ROUNDS`]
//! rounds of them). The variance per model call does not depend on `K`
//! (each row is its own stratum with its own permutations), so a small `K`
//! costs no accuracy and keeps a round cheap. [`TARGET`] = 0.07 % and the
//! reason test were chosen on attention models of 14 features
//! (`train/tests/explain_accuracy.rs`): a mean absolute error of about
//! 0.5 % of the mean |φ| against exact values, and the same principal
//! reasons for at least 98 % of customers.
//!
//! The permutations come from a splitmix64 stream seeded by the bits of the
//! customer's design row ([`seed`]): the same customer gets the same
//! explanation on every platform and every run, different customers get
//! different permutations. All arithmetic is `f64` with `+ − × ÷` (the
//! stopping test compares squares; only the reported figure takes a
//! correctly rounded square root), so native and wasm agree bit for bit.
//! Coalition rows go to the kind's block scorer up to 32 at a time.

/// A file may store at most this many background rows.
pub const MAX_BACKGROUND_ROWS: usize = 64;
/// Enumeration keeps `2^p` coalition values: never more players than this.
pub const MAX_EXACT_PLAYERS: usize = 20;
/// Sampling never stops before this many rounds (the standard error needs a
/// few rounds to mean something).
pub const MIN_ROUNDS: u32 = 4;
/// Sampling never spends more model calls than this many rounds make.
pub const MAX_ROUNDS: u32 = 256;
/// Sampling stops once every standard error is at most this share of `Σ|φ|`.
pub const TARGET: f64 = 0.0007;
/// Standard errors that separate two neighbouring reasons (see [`resolved`]).
pub const Z: f64 = 2.0;
/// The reasons a lender gives: at most this many contributions.
const REASONS: usize = 4;
/// Rows evaluated per call of the model's block scorer.
const CHUNK: usize = 32;

/// Rows standing for the training population in explanations: a handful of
/// centroids of training rows (never one customer's row), each weighted by
/// the number of training rows it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct BackgroundSet {
    /// Design rows, row-major, `weights.len()` rows of the design width.
    pub rows: Vec<f32>,
    /// One positive weight per row.
    pub weights: Vec<f32>,
}

impl BackgroundSet {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// Checks sizes and values against the design width.
    pub fn validate(&self, width: usize) -> Result<(), String> {
        let k = self.weights.len();
        if k == 0
            || k > MAX_BACKGROUND_ROWS
            || k.checked_mul(width) != Some(self.rows.len())
            || !self.weights.iter().all(|w| w.is_finite() && *w > 0.0)
        {
            return Err(format!(
                "explanation background: {k} weights and {} values do not make 1 to \
                 {MAX_BACKGROUND_ROWS} rows of width {width} with positive weights",
                self.rows.len()
            ));
        }
        crate::kinds::all_finite("explanation background", &self.rows)
    }
}

/// How an explanation is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Every coalition.
    Exact,
    /// Permutation sampling, at most `rounds` rounds.
    Sampling { rounds: u32 },
}

/// Model calls of the rows computed once: the background rows and `x`.
fn fixed_calls(rows: usize) -> u64 {
    rows as u64 + 1
}

fn round_calls(players: usize, rows: usize) -> u64 {
    2 * rows as u64 * players.saturating_sub(1) as u64
}

fn exact_calls(players: usize, rows: usize) -> Option<u64> {
    let coalitions = 1u64.checked_shl(u32::try_from(players).ok()?)?;
    (rows as u64)
        .checked_mul(coalitions.saturating_sub(2))?
        .checked_add(fixed_calls(rows))
}

/// The method for `players` features, `rows` background rows and a model
/// call costing `predict` units: enumeration when it needs no more calls
/// than the sampler may make, else as many sampling rounds as the budget
/// allows (at least [`MIN_ROUNDS`]; a model too costly for those is refused
/// by its cost).
#[inline(never)]
pub fn plan(players: usize, rows: usize, predict: u64) -> Plan {
    let per_round = round_calls(players, rows).max(1);
    let budget_calls = crate::kinds::EXPLAIN_BUDGET / predict.max(1);
    let affordable = budget_calls.saturating_sub(fixed_calls(rows)) / per_round;
    let rounds = affordable.clamp(MIN_ROUNDS as u64, MAX_ROUNDS as u64) as u32;
    let sampling = evaluations(Plan::Sampling { rounds }, players, rows);
    match exact_calls(players, rows) {
        Some(e) if players <= MAX_EXACT_PLAYERS && e <= sampling => Plan::Exact,
        _ => Plan::Sampling { rounds },
    }
}

/// The most background rows (at most [`MAX_BACKGROUND_ROWS`]) for which
/// [`MIN_ROUNDS`] of sampling `players` features stay inside the
/// explanation budget when a model call costs `predict`: how large a
/// trainer may make a file's background set.
pub fn affordable_rows(players: usize, predict: u64) -> usize {
    let budget_calls = crate::kinds::EXPLAIN_BUDGET / predict.max(1);
    let per_row = 1 + MIN_ROUNDS as u64 * round_calls(players, 1);
    (budget_calls.saturating_sub(1) / per_row).min(MAX_BACKGROUND_ROWS as u64) as usize
}

/// Model calls of an explanation under `plan` (at most, for sampling).
pub fn evaluations(plan: Plan, players: usize, rows: usize) -> u64 {
    match plan {
        Plan::Exact => exact_calls(players, rows).unwrap_or(u64::MAX),
        Plan::Sampling { rounds } => round_calls(players, rows)
            .saturating_mul(rounds as u64)
            .saturating_add(fixed_calls(rows)),
    }
}

/// The seed of a customer's permutations: splitmix64 folded over the bits
/// of the design row.
#[inline(never)]
pub fn seed(x: &[f32]) -> u64 {
    x.iter().fold(0x243F_6A88_85A3_08D3, |h, v| {
        mix(h ^ u64::from(v.to_bits()))
    })
}

/// splitmix64's output function.
#[inline(never)]
fn mix(z: u64) -> u64 {
    let z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One customer's explanation problem.
pub struct Game<'a> {
    /// The customer's design row.
    pub x: &'a [f32],
    pub set: &'a BackgroundSet,
    /// The design columns of each player.
    pub groups: Players<'a>,
    /// The value explained is `scale · output + offset`.
    pub scale: f64,
    pub offset: f64,
}

/// The design columns each player holds: the first `single` players one
/// range each (an original feature's columns), then players of `per`
/// ranges each (a history's step: each channel's columns).
#[derive(Debug, Clone, Copy)]
pub struct Players<'a> {
    ranges: &'a [(usize, usize)],
    single: usize,
    per: usize,
}

impl<'a> Players<'a> {
    /// One range per player.
    pub fn one_each(ranges: &'a [(usize, usize)]) -> Players<'a> {
        Players {
            ranges,
            single: ranges.len(),
            per: 1,
        }
    }

    /// `single` players of one range, then players of `per` ranges.
    pub fn grouped(ranges: &'a [(usize, usize)], single: usize, per: usize) -> Players<'a> {
        Players {
            ranges,
            single: single.min(ranges.len()),
            per: per.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.single + (self.ranges.len() - self.single) / self.per
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when players of `per` ranges follow the single ones (a
    /// history's steps).
    pub fn has_groups(&self) -> bool {
        self.single < self.ranges.len()
    }

    /// The ranges of player `i` (none outside).
    pub fn of(&self, i: usize) -> &'a [(usize, usize)] {
        let (a, n) = match i.checked_sub(self.single) {
            None => (i, 1),
            Some(k) => (
                self.single.saturating_add(k.saturating_mul(self.per)),
                self.per,
            ),
        };
        self.ranges.get(a..a.saturating_add(n)).unwrap_or(&[])
    }
}

/// Shapley values with their base.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub base: f64,
    /// One per player.
    pub phi: Vec<f64>,
    /// Sampling only: `max_i SE(φ_i) / Σ_i |φ_i|` (0 when every φ is 0).
    pub convergence: Option<f64>,
    /// Permutations evaluated (0 for enumeration).
    pub permutations: u64,
}

/// Raw model outputs of the rows of its first argument (row-major, design
/// width) into its second (one per row).
pub type Eval<'e> = dyn FnMut(&[f32], &mut [f32]) + 'e;

/// The rows and values of one explanation.
struct Work<'g, 'e, 'f> {
    game: &'g Game<'g>,
    eval: &'e mut Eval<'f>,
    /// Sum of the background weights.
    total: f64,
    /// Rows waiting to be scored.
    rows: Vec<f32>,
    raw: Vec<f32>,
}

impl<'g, 'e, 'f> Work<'g, 'e, 'f> {
    /// The work of one explanation, with `f(x)`, `f(b)` for every
    /// background row `b` and their weighted mean (the base value).
    #[inline(never)]
    fn start(game: &'g Game<'g>, eval: &'e mut Eval<'f>) -> (Self, f64, Vec<f64>, f64) {
        let mut work = Work {
            game,
            eval,
            total: game.set.weights.iter().map(|&w| w as f64).sum(),
            rows: game.x.to_vec(),
            raw: Vec::new(),
        };
        let mut gx = [0.0];
        work.score(&mut gx);
        let mut gb = vec![0.0; game.set.len()];
        work.rows.extend_from_slice(&game.set.rows);
        work.score(&mut gb);
        let base = work.mean(&gb);
        (work, gx[0], gb, base)
    }

    /// Normalised weight of background row `b`.
    fn weight(&self, b: usize) -> f64 {
        self.game.set.weights.get(b).map_or(0.0, |&w| w as f64) / self.total
    }

    /// Weighted mean of one value per background row.
    #[inline(never)]
    fn mean(&self, values: &[f64]) -> f64 {
        values
            .iter()
            .enumerate()
            .map(|(b, v)| self.weight(b) * v)
            .sum()
    }

    /// Appends background row `b` with the customer's columns for the
    /// players `take`.
    #[inline(never)]
    fn push(&mut self, b: usize, take: &mut dyn Iterator<Item = usize>) {
        let g = self.game;
        let width = g.x.len();
        let at = self.rows.len();
        self.rows
            .extend_from_slice(g.set.rows.get(b * width..(b + 1) * width).unwrap_or(&[]));
        for i in take {
            for &(start, end) in g.groups.of(i) {
                if let (Some(dst), Some(src)) =
                    (self.rows.get_mut(at + start..at + end), g.x.get(start..end))
                {
                    dst.copy_from_slice(src);
                }
            }
        }
    }

    /// Scores the waiting rows into `out` (explained unit) and clears them.
    #[inline(never)]
    fn score(&mut self, out: &mut [f64]) {
        self.raw.clear();
        self.raw.resize(out.len(), 0.0);
        (self.eval)(&self.rows, &mut self.raw);
        for (o, r) in out.iter_mut().zip(&self.raw) {
            *o = self.game.scale * *r as f64 + self.game.offset;
        }
        self.rows.clear();
    }

    /// The values of the p − 1 intermediate coalitions of `perm` against
    /// background row `b` into `along`, CHUNK rows at a time.
    #[inline(never)]
    fn walk(&mut self, b: usize, perm: &[usize], along: &mut [f64]) {
        let p = perm.len();
        let mut t = 1;
        while t < p {
            let end = (t + CHUNK).min(p);
            for n in t..end {
                self.push(b, &mut perm.iter().take(n).copied());
            }
            if let Some(out) = along.get_mut(t - 1..end - 1) {
                self.score(out);
            }
            t = end;
        }
    }
}

/// The explanation of `game` under `plan`.
pub fn explain(game: &Game<'_>, plan: Plan, eval: &mut Eval<'_>) -> Estimate {
    match plan {
        Plan::Exact => exact(game, eval),
        Plan::Sampling { rounds } => sample(game, rounds, eval),
    }
}

/// Exact Shapley values by enumerating the `2^p` coalitions. Beyond
/// [`MAX_EXACT_PLAYERS`] players it samples [`MAX_ROUNDS`] rounds instead.
pub fn exact(game: &Game<'_>, eval: &mut Eval<'_>) -> Estimate {
    let p = game.groups.len();
    if p > MAX_EXACT_PLAYERS {
        return sample(game, MAX_ROUNDS, eval);
    }
    let (mut work, gx, gb, base) = Work::start(game, eval);
    let full = (1usize << p) - 1;
    let mut v = vec![base; full + 1];
    let mut out = vec![0.0f64; gb.len()];
    for mask in 1..full {
        for b in 0..gb.len() {
            work.push(b, &mut (0..p).filter(|i| mask & (1 << i) != 0));
        }
        work.score(&mut out);
        if let Some(value) = v.get_mut(mask) {
            *value = work.mean(&out);
        }
    }
    if let Some(value) = v.get_mut(full) {
        *value = gx;
    }
    // φ_i = Σ_{S ∌ i} |S|!(p−|S|−1)!/p! · (v(S ∪ i) − v(S)); the weight is
    // 1 / (p · C(p−1, |S|)), C by the multiplicative formula (exact here).
    let mut coef = Vec::with_capacity(p);
    let mut c = 1.0f64;
    for k in 0..p {
        coef.push(1.0 / (p as f64 * c));
        c = c * (p - 1 - k) as f64 / (k + 1) as f64;
    }
    let mut phi = vec![0.0f64; p];
    for (mask, &without) in v.iter().enumerate() {
        let weight = coef.get(mask.count_ones() as usize).copied().unwrap_or(0.0);
        for (i, f) in phi.iter_mut().enumerate() {
            if mask & (1 << i) == 0 {
                *f += weight * (v.get(mask | (1 << i)).copied().unwrap_or(0.0) - without);
            }
        }
    }
    Estimate {
        base,
        phi,
        convergence: None,
        permutations: 0,
    }
}

/// Shapley values by at most `max_rounds` rounds of antithetic permutation
/// sampling, stopping at [`TARGET`] (see the module documentation).
pub fn sample(game: &Game<'_>, max_rounds: u32, eval: &mut Eval<'_>) -> Estimate {
    sample_to(game, max_rounds, TARGET, eval)
}

/// [`sample`] with another stopping target (0: run every round).
pub fn sample_to(game: &Game<'_>, max_rounds: u32, target: f64, eval: &mut Eval<'_>) -> Estimate {
    run(game, max_rounds, target, false, eval)
}

/// The explanation of files without a background set, unchanged since
/// before it existed (so they explain bit for bit as they always did):
/// `pairs` antithetic permutation pairs against the training split's mean
/// design row (`game.set`, one row), from a xorshift stream with a fixed
/// seed, marginal contributions summed in order and divided by the number
/// of permutations.
pub fn legacy(game: &Game<'_>, pairs: u32, eval: &mut Eval<'_>) -> Estimate {
    run(game, pairs, 0.0, true, eval)
}

/// The sampler (see the module documentation); `legacy` switches to the
/// old generator and summation ([`legacy`]).
fn run(
    game: &Game<'_>,
    max_rounds: u32,
    target: f64,
    legacy: bool,
    eval: &mut Eval<'_>,
) -> Estimate {
    let (mut work, gx, gb, base) = Work::start(game, eval);
    let p = game.groups.len();
    let mut state = if legacy {
        0x9E37_79B9_7F4A_7C15 ^ p as u64
    } else {
        seed(game.x)
    };
    let mut perm: Vec<usize> = (0..p).collect();
    // Value after each player of a permutation (the last one is f(x)).
    let mut along = vec![gx; p];
    // Per player: this round's estimate, the running mean and sum of
    // squared deviations of the round estimates (Welford); legacy: the
    // running sum of marginal contributions in the second slot.
    let mut stats = vec![0.0f64; 3 * p];
    let (mut rounds, mut permutations, mut worst, mut total) = (0u32, 0u64, 0.0f64, 0.0f64);
    // Rounds beyond this cap go to the pairs of reasons still in doubt.
    let refine = !legacy && target > 0.0;
    let main_cap = if refine {
        (max_rounds / 3).max(MIN_ROUNDS)
    } else {
        max_rounds.max(1)
    };
    let mut settled = false;
    while rounds < main_cap {
        // Each background row: a permutation (Fisher–Yates), then its reverse.
        for pass in 0..2 * gb.len() {
            let b = pass / 2;
            if pass % 2 == 0 {
                for i in (1..p).rev() {
                    let r = if legacy {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state
                    } else {
                        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                        mix(state)
                    };
                    perm.swap(i, (r % (i as u64 + 1)) as usize);
                }
            }
            work.walk(b, &perm, &mut along);
            let (slot, weight) = if legacy {
                (1, 1.0)
            } else {
                (0, 0.5 * work.weight(b))
            };
            let mut prev = gb.get(b).copied().unwrap_or(0.0);
            for (&i, &now) in perm.iter().zip(&along) {
                if let Some(s) = stats.get_mut(3 * i + slot) {
                    *s += weight * (now - prev);
                }
                prev = now;
            }
            perm.reverse();
        }
        permutations += 2 * gb.len() as u64;
        rounds += 1;
        if legacy {
            continue;
        }
        (total, worst) = welford(&mut stats, rounds as f64);
        // Converged: stop, unless the principal reasons are still in doubt
        // (near ties), which then get the rest of the main rounds and the
        // pair refinement.
        if rounds >= MIN_ROUNDS
            && worst <= target * target * total * total
            && (!refine || resolved(&stats, rounds as f64, &mut Vec::new()))
        {
            settled = true;
            break;
        }
    }
    let mut pairs = Vec::new();
    if refine && !settled && rounds >= 2 && !resolved(&stats, rounds as f64, &mut pairs) {
        let calls = round_calls(p, gb.len()) * u64::from(max_rounds.saturating_sub(rounds));
        let share = calls / pairs.len().max(1) as u64;
        for (i, j) in pairs {
            refine_pair(
                &mut work,
                &mut state,
                &mut stats,
                rounds as f64,
                (i, j),
                share,
            );
        }
    }
    let convergence = if legacy || rounds < 2 {
        None
    } else if total > 0.0 {
        Some(worst.sqrt() / total)
    } else {
        Some(0.0)
    };
    Estimate {
        base,
        phi: stats
            .chunks_exact(3)
            .map(|s| {
                if legacy {
                    s[1] / permutations as f64
                } else {
                    s[1]
                }
            })
            .collect(),
        convergence,
        permutations,
    }
}

/// Sharpens the difference of two contributions whose order is in doubt,
/// spending at most `calls` model calls.
///
/// `φ_i − φ_j = Σ_{S ⊆ N∖{i,j}} s!(p−2−s)!/(p−1)! · (v(S ∪ i) − v(S ∪ j))`
/// (the terms with both or neither cancel), the Shapley value of a game of
/// `p − 1` players: under it the size of `S` is uniform on `0..=p−2` and `S`
/// uniform given its size. Each draw scores `S ∪ i` and `S ∪ j` against
/// every background row, and the same for the complement of `S` in
/// `N∖{i,j}` (antithetic). Both rows of a draw differ in two players only,
/// so the difference varies far less over coalitions than either player's
/// marginal contribution. The paired estimate is combined with the
/// permutation estimate `m_i − m_j` by inverse-variance weights (the
/// latter's variance taken as `SE_i² + SE_j²`), and `m_i`, `m_j` move to
/// that difference with their sum kept, so the contributions still add up.
#[inline(never)]
fn refine_pair(
    work: &mut Work<'_, '_, '_>,
    state: &mut u64,
    stats: &mut [f64],
    n: f64,
    (i, j): (usize, usize),
    calls: u64,
) {
    let p = work.game.groups.len();
    let rows = work.game.set.len();
    let per_draw = 4 * rows as u64;
    let draws = calls / per_draw.max(1);
    if p < 2 || draws < 4 {
        return;
    }
    let var = |v: &[f64], k: usize| v.get(3 * k + 2).map_or(0.0, |x| x / (n - 1.0) / n);
    let mean = |v: &[f64], k: usize| v.get(3 * k + 1).copied().unwrap_or(0.0);
    let mut others: Vec<usize> = (0..p).filter(|&k| k != i && k != j).collect();
    let mut out = vec![0.0f64; 4 * rows];
    let (mut m, mut q) = (0.0f64, 0.0f64);
    for d in 0..draws {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let size = (mix(*state) % (others.len() as u64 + 1)) as usize;
        for k in (1..others.len()).rev() {
            *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            others.swap(k, (mix(*state) % (k as u64 + 1)) as usize);
        }
        let (inside, outside) = others.split_at(size);
        for b in 0..rows {
            for (part, with) in [(inside, i), (inside, j), (outside, i), (outside, j)] {
                work.push(b, &mut part.iter().copied().chain(core::iter::once(with)));
            }
        }
        work.score(&mut out);
        let mut value = 0.0;
        for (b, four) in out.chunks_exact(4).enumerate() {
            value += 0.5 * work.weight(b) * ((four[0] - four[1]) + (four[2] - four[3]));
        }
        // Welford over the draws.
        let k = (d + 1) as f64;
        let delta = value - m;
        m += delta / k;
        q += delta * (value - m);
    }
    let k = draws as f64;
    let paired_var = q / (k - 1.0) / k;
    let (mi, mj) = (mean(stats, i), mean(stats, j));
    let main_var = var(stats, i) + var(stats, j);
    let diff = if paired_var <= 0.0 {
        m
    } else if main_var <= 0.0 {
        mi - mj
    } else {
        ((mi - mj) / main_var + m / paired_var) / (1.0 / main_var + 1.0 / paired_var)
    };
    let sum = mi + mj;
    if let Some(s) = stats.get_mut(3 * i + 1) {
        *s = 0.5 * (sum + diff);
    }
    if let Some(s) = stats.get_mut(3 * j + 1) {
        *s = 0.5 * (sum - diff);
    }
}

/// True when the order of the principal reasons is settled: going down the
/// contributions from the largest, each positive one among the first
/// [`REASONS`] is more than [`Z`] standard errors of their difference above
/// the next (or above 0 when the next is not positive), and the first one
/// that is not positive, if among them, is more than [`Z`] standard errors
/// below 0. The pairs of positive neighbours in doubt go to `pairs`.
/// `stats` as [`welford`] leaves it after `n` rounds.
#[inline(never)]
fn resolved(stats: &[f64], n: f64, pairs: &mut Vec<(usize, usize)>) -> bool {
    let mean: Vec<f64> = stats.chunks_exact(3).map(|s| s[1]).collect();
    let var = |i: usize| stats.get(3 * i + 2).map_or(0.0, |v| v / (n - 1.0) / n);
    let order = crate::num::order_desc(&mean);
    let mut settled = true;
    for k in 0..REASONS {
        let Some(&a) = order.get(k) else { break };
        let ma = mean.get(a).copied().unwrap_or(0.0);
        if ma <= 0.0 {
            // The first feature that is no reason must surely be none.
            return settled && ma * ma >= Z * Z * var(a);
        }
        let next = order.get(k + 1).copied();
        let mb = next.and_then(|b| mean.get(b).copied()).unwrap_or(0.0);
        let (mb, vb) = if mb > 0.0 {
            (mb, next.map_or(0.0, var))
        } else {
            (0.0, 0.0)
        };
        let gap = ma - mb;
        if gap * gap < Z * Z * (var(a) + vb) {
            settled = false;
            if let (Some(b), true) = (next, mb > 0.0) {
                pairs.push((a, b));
            }
        }
    }
    settled
}

/// Adds round `n`'s estimates (`stats[3i]`, then cleared) to the running
/// means (`stats[3i + 1]`) and sums of squared deviations (`stats[3i + 2]`);
/// returns `Σ|mean|` and the largest squared standard error of a mean.
fn welford(stats: &mut [f64], n: f64) -> (f64, f64) {
    let (mut total, mut worst) = (0.0f64, 0.0f64);
    for s in stats.chunks_exact_mut(3) {
        let d = s[0] - s[1];
        s[1] += d / n;
        s[2] += d * (s[0] - s[1]);
        s[0] = 0.0;
        total += s[1].abs();
        worst = worst.max(s[2] / (n - 1.0) / n);
    }
    (total, worst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::{Design, Kind, Linear, PerPlayer};

    fn set(rows: &[f32], weights: &[f32]) -> BackgroundSet {
        BackgroundSet {
            rows: rows.to_vec(),
            weights: weights.to_vec(),
        }
    }

    /// A tiny non-linear model on 5 columns: players {0}, {1, 2}, {3}, {4}.
    fn tiny(z: &[f32]) -> f32 {
        let (a, b, c, d, e) = (z[0], z[1] - z[2], z[3], z[4], z[1] * z[3]);
        libm::expf(0.5 * a * b) - c * d * a + 0.3 * e * e + (a + d).max(0.2)
    }

    const GROUPS: [(usize, usize); 4] = [(0, 1), (1, 3), (3, 4), (4, 5)];
    const X: [f32; 5] = [1.2, 1.0, 0.0, -0.7, 0.4];

    fn tiny_set() -> BackgroundSet {
        set(
            &[
                0.1, 0.0, 1.0, 0.3, -0.2, //
                -0.5, 1.0, 0.0, 0.9, 0.8, //
                0.7, 0.0, 1.0, -0.4, 0.0,
            ],
            &[2.0, 5.0, 1.0],
        )
    }

    /// The customer `X` against `bg`, explained as `scale · f + offset`.
    fn tiny_game(bg: &BackgroundSet, scale: f64, offset: f64) -> Game<'_> {
        Game {
            x: &X,
            set: bg,
            groups: Players::one_each(&GROUPS),
            scale,
            offset,
        }
    }

    fn tiny_eval(rows: &[f32], out: &mut [f32]) {
        for (r, o) in rows.chunks_exact(5).zip(out) {
            *o = tiny(r);
        }
    }

    /// The definition, written independently: the mean over all p!
    /// permutations of each player's marginal contribution, where v(S) is
    /// the weighted mean over the background rows of the model on the row
    /// that takes the players of S from the customer.
    fn brute_force(bg: &BackgroundSet, scale: f64, offset: f64) -> (f64, Vec<f64>) {
        let total: f64 = bg.weights.iter().map(|&w| w as f64).sum();
        let v = |s: &[usize]| -> f64 {
            let mut acc = 0.0;
            for (row, &w) in bg.rows.chunks_exact(5).zip(&bg.weights) {
                let mut z = row.to_vec();
                for &i in s {
                    let (a, e) = GROUPS[i];
                    z[a..e].copy_from_slice(&X[a..e]);
                }
                acc += w as f64 / total * (scale * tiny(&z) as f64 + offset);
            }
            acc
        };
        let mut phi = [0.0; 4];
        let mut perms = 0.0;
        for a in 0..4 {
            for b in 0..4 {
                for c in 0..4 {
                    for d in 0..4 {
                        let p = [a, b, c, d];
                        if (0..4).all(|i| p.contains(&i)) {
                            perms += 1.0;
                            for k in 0..4 {
                                phi[p[k]] += v(&p[..=k]) - v(&p[..k]);
                            }
                        }
                    }
                }
            }
        }
        (v(&[]), phi.iter().map(|f| f / perms).collect())
    }

    #[test]
    fn enumeration_matches_the_permutation_definition_on_a_tiny_model() {
        let bg = tiny_set();
        bg.validate(5).unwrap();
        let game = tiny_game(&bg, -1.5, 0.25);
        let e = exact(&game, &mut tiny_eval);
        let (base, want) = brute_force(&bg, -1.5, 0.25);
        assert!((e.base - base).abs() < 1e-12);
        for (g, w) in e.phi.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "{:?} vs {want:?}", e.phi);
        }
        assert!(e.convergence.is_none() && e.permutations == 0);
        // Additive: base + Σφ = the explained value of f(x).
        let fx = -1.5 * tiny(&X) as f64 + 0.25;
        assert!((e.base + e.phi.iter().sum::<f64>() - fx).abs() < 1e-12);
    }

    /// `stats` as `welford` leaves them after `n` rounds, from means and
    /// standard errors.
    fn stats(means: &[f64], se: &[f64], n: f64) -> Vec<f64> {
        means
            .iter()
            .zip(se)
            .flat_map(|(&m, &e)| [0.0, m, e * e * n * (n - 1.0)])
            .collect()
    }

    #[test]
    fn a_refined_pair_moves_to_the_exact_difference_and_keeps_its_sum() {
        let bg = tiny_set();
        let game = tiny_game(&bg, 1.0, 0.0);
        let exact = exact(&game, &mut tiny_eval);
        let mut eval = tiny_eval;
        let (mut work, ..) = Work::start(&game, &mut eval);
        // Permutation estimates far off, with a large standard error: the
        // paired estimate decides the difference.
        let means = [
            exact.phi[0] + 0.3,
            exact.phi[1] - 0.2,
            exact.phi[2],
            exact.phi[3],
        ];
        let mut st = stats(&means, &[1.0; 4], 10.0);
        let mut state = 7;
        refine_pair(&mut work, &mut state, &mut st, 10.0, (0, 1), 4 * 3 * 20_000);
        let (a, b) = (st[1], st[4]);
        assert!(
            (a + b - means[0] - means[1]).abs() < 1e-12,
            "the sum is kept"
        );
        let want = exact.phi[0] - exact.phi[1];
        assert!(
            ((a - b) - want).abs() < 0.01 * want.abs().max(0.1),
            "{} vs {want}",
            a - b
        );
        // The other players are untouched.
        assert_eq!((st[7], st[10]), (means[2], means[3]));
    }

    #[test]
    fn reasons_are_resolved_only_when_their_order_is_clear() {
        let n = 10.0;
        let check = |means: &[f64]| {
            let mut pairs = Vec::new();
            let ok = resolved(&stats(means, &vec![0.1; means.len()], n), n, &mut pairs);
            (ok, pairs)
        };
        // Clear gaps between the four largest, and the fifth far below.
        assert_eq!(check(&[4.0, 3.0, 2.0, 1.0, 0.5, -1.0]), (true, vec![]));
        // Ranks 2 and 3 within two standard errors of their difference.
        assert_eq!(check(&[4.0, 3.0, 2.9, 1.0, 0.5]), (false, vec![(1, 2)]));
        // Rank 4 against rank 5 decides the fourth reason.
        assert_eq!(check(&[0.9, 4.0, 3.0, 2.0, 1.0]), (false, vec![(4, 0)]));
        // Beyond the fourth reason the order does not matter.
        assert_eq!(check(&[4.0, 3.0, 2.0, 1.0, 0.5, 0.49]), (true, vec![]));
        // Two positive contributions, the second clear of 0, the third
        // clearly negative; then a sign in doubt, which no pair can settle.
        assert_eq!(check(&[2.0, 1.0, -0.5]), (true, vec![]));
        assert_eq!(check(&[2.0, 1.0, -0.1]), (false, vec![]));
        assert_eq!(check(&[2.0, 0.1, -1.0]), (false, vec![]));
    }

    #[test]
    fn sampling_converges_to_the_exact_values_and_adds_up() {
        let bg = tiny_set();
        let game = tiny_game(&bg, 1.0, 0.0);
        let exact = exact(&game, &mut tiny_eval);
        let fx = tiny(&X) as f64;
        let mut last = f64::INFINITY;
        for rounds in [4, 64, 1024] {
            let e = sample_to(&game, rounds, 0.0, &mut tiny_eval);
            assert_eq!(e.permutations, 2 * 3 * rounds as u64);
            assert!((e.base - exact.base).abs() < 1e-12);
            assert!((e.base + e.phi.iter().sum::<f64>() - fx).abs() < 1e-12);
            let err = e
                .phi
                .iter()
                .zip(&exact.phi)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            let total: f64 = exact.phi.iter().map(|v| v.abs()).sum();
            // The error is of the order of the reported standard error.
            let se = e.convergence.unwrap() * total;
            assert!(
                err < 4.0 * se + 1e-12,
                "rounds {rounds}: error {err}, SE {se}"
            );
            assert!(
                err < last || err < 1e-9,
                "rounds {rounds}: {err} after {last}"
            );
            last = err;
        }
        assert!(last < 2e-3 * exact.phi.iter().map(|v| v.abs()).sum::<f64>());
    }

    #[test]
    fn enumeration_of_a_linear_model_is_linear_shap() {
        // Linear SHAP against the background's weighted mean row, per
        // column by the Linear kind, summed per player.
        let m = Linear {
            weights: vec![0.5, -2.0, 1.0, 0.25, 3.0],
            bias: -0.3,
        };
        let bg = tiny_set();
        let total: f32 = bg.weights.iter().sum();
        let mut mean = [0.0f64; 5];
        for (row, &w) in bg.rows.chunks_exact(5).zip(&bg.weights) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += (w / total) as f64 * *v as f64;
            }
        }
        let mean: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
        let schema = crate::schema::Schema {
            features: Vec::new(),
            label: String::new(),
            positive: String::new(),
            negative: String::new(),
            encoding: crate::schema::Encoding {
                scale: false,
                impute_numeric: true,
            },
        };
        let d = Design {
            schema: &schema,
            width: 5,
            background: &mean,
            groups: &GROUPS,
            background_set: None,
        };
        let linear = m.explain(&d, &X, 2.0, 0.5);
        let PerPlayer::Columns(cols) = linear.per else {
            panic!()
        };
        let game = tiny_game(&bg, 2.0, 0.5);
        let e = exact(&game, &mut |rows: &[f32], out: &mut [f32]| {
            m.outputs(rows, 5, out)
        });
        for (i, &(a, b)) in GROUPS.iter().enumerate() {
            let want: f64 = cols[a..b].iter().sum();
            assert!(
                (e.phi[i] - want).abs() < 1e-5,
                "{i}: {} vs {want}",
                e.phi[i]
            );
        }
        assert!((e.base - linear.base).abs() < 1e-5);
    }

    #[test]
    fn plan_enumerates_few_players_and_samples_many() {
        assert_eq!(plan(8, 8, 1000), Plan::Exact);
        assert_eq!(plan(1, 8, 1000), Plan::Exact);
        assert_eq!(plan(15, 8, 1000), Plan::Sampling { rounds: MAX_ROUNDS });
        // A costly model gets fewer rounds, never fewer than the minimum.
        let Plan::Sampling { rounds } = plan(15, 8, 200_000) else {
            panic!()
        };
        assert!(rounds > MIN_ROUNDS && rounds < MAX_ROUNDS, "{rounds}");
        assert_eq!(plan(15, 8, u64::MAX), Plan::Sampling { rounds: MIN_ROUNDS });
        // A set of the affordable size fits the budget; one row more does not.
        for (p, predict) in [(15, 100_000), (20, 594_000), (8, 5_000_000)] {
            let k = affordable_rows(p, predict);
            let fits = |k: usize| {
                let calls = evaluations(plan(p, k, predict), p, k);
                calls.saturating_mul(predict) <= crate::kinds::EXPLAIN_BUDGET
            };
            assert!(
                k == MAX_BACKGROUND_ROWS || !fits(k + 1),
                "{p} {predict} {k}"
            );
            assert!(k == 0 || fits(k), "{p} {predict} {k}");
        }
        // Enumeration is never chosen when it costs more than sampling.
        for p in 2..=24 {
            for predict in [10, 100_000, 10_000_000] {
                let plan = plan(p, 8, predict);
                let sampling = evaluations(Plan::Sampling { rounds: MAX_ROUNDS }, p, 8);
                if plan == Plan::Exact {
                    assert!(evaluations(plan, p, 8) <= sampling, "{p}");
                }
            }
        }
    }

    #[test]
    fn seeds_differ_by_customer() {
        assert_eq!(seed(&[1.0, 2.0]), seed(&[1.0, 2.0]));
        assert_ne!(seed(&[1.0, 2.0]), seed(&[1.0, 2.5]));
        assert_ne!(seed(&[1.0, 2.0]), seed(&[2.0, 1.0]));
    }

    #[test]
    fn the_same_customer_gets_the_same_bits_and_another_other_permutations() {
        let bg = tiny_set();
        let run = |x: &[f32]| {
            let game = Game {
                x,
                set: &bg,
                groups: Players::one_each(&GROUPS),
                scale: 1.0,
                offset: 0.0,
            };
            sample_to(&game, 3, 0.0, &mut tiny_eval)
        };
        let (a, b) = (run(&X), run(&X));
        assert_eq!(
            a.phi.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.phi.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        // A customer one ulp away draws other permutations: other estimates.
        let mut y = X;
        y[2] = f32::from_bits(y[2].to_bits() + 1);
        assert_ne!(run(&y).phi, a.phi);
    }

    #[test]
    fn sampling_an_additive_model_is_exact_and_converged() {
        // f = 2·x0 + 3·(x1 + x2), players {x0}, {x1, x2}.
        let bg = set(&[0.0, 0.5, 0.5, 1.0, 0.0, 0.0], &[1.0, 3.0]);
        let game = Game {
            x: &[1.0, 1.0, 0.0],
            set: &bg,
            groups: Players::one_each(&[(0, 1), (1, 3)]),
            scale: 1.0,
            offset: 0.0,
        };
        let mut f = |rows: &[f32], out: &mut [f32]| {
            for (r, o) in rows.chunks_exact(3).zip(out) {
                *o = 2.0 * r[0] + 3.0 * (r[1] + r[2]);
            }
        };
        let e = sample(&game, 10, &mut f);
        // E_b f(b) = (1·3 + 3·2) / 4.
        assert!((e.base - 2.25).abs() < 1e-12);
        assert!((e.phi[0] - (2.0 - 1.5)).abs() < 1e-12, "{:?}", e.phi);
        // 3 · ((1 + 0) − E_b(b1 + b2)) = 3 · (1 − 1/4).
        assert!((e.phi[1] - 2.25).abs() < 1e-12);
        assert_eq!(e.convergence, Some(0.0));
        assert_eq!(e.permutations, 2 * 2 * MIN_ROUNDS as u64);
    }

    #[test]
    fn the_legacy_sampler_recovers_additive_models_and_splits_interactions() {
        // f = 2·x0 + 3·(x1 + x2) with x1, x2 one group: Shapley = own term.
        let mean = set(&[0.0, 0.5, 0.5], &[1.0]);
        let game = Game {
            x: &[1.0, 1.0, 0.0],
            set: &mean,
            groups: Players::one_each(&[(0, 1), (1, 3)]),
            scale: 1.0,
            offset: 0.0,
        };
        let e = legacy(&game, 4, &mut |rows: &[f32], out: &mut [f32]| {
            for (r, o) in rows.chunks_exact(3).zip(out) {
                *o = 2.0 * r[0] + 3.0 * (r[1] + r[2]);
            }
        });
        assert_eq!(e.base, 3.0);
        assert!((e.phi[0] - 2.0).abs() < 1e-12 && e.phi[1].abs() < 1e-12);
        assert_eq!((e.permutations, e.convergence), (8, None));
        // f = x0·x1: the Shapley values split the product equally.
        let zero = set(&[0.0, 0.0], &[1.0]);
        let game = Game {
            x: &[2.0, 3.0],
            set: &zero,
            groups: Players::one_each(&[(0, 1), (1, 2)]),
            scale: 1.0,
            offset: 0.0,
        };
        let e = legacy(&game, 8, &mut |rows: &[f32], out: &mut [f32]| {
            for (r, o) in rows.chunks_exact(2).zip(out) {
                *o = r[0] * r[1];
            }
        });
        assert_eq!(e.base, 0.0);
        assert!((e.phi[0] - 3.0).abs() < 1e-12 && (e.phi[1] - 3.0).abs() < 1e-12);
    }

    #[test]
    fn hostile_sets_are_refused() {
        assert!(set(&[0.0; 4], &[1.0, 1.0]).validate(2).is_ok());
        for bad in [
            set(&[0.0; 4], &[1.0]),
            set(&[0.0; 3], &[1.0, 1.0]),
            set(&[], &[]),
            set(&[0.0, f32::NAN], &[1.0]),
            set(&[0.0; 2], &[0.0]),
            set(&[0.0; 2], &[-1.0]),
            set(&[0.0; 2], &[f32::INFINITY]),
            set(&vec![0.0; 2 * 65], &[1.0; 65]),
        ] {
            assert!(bad.validate(2).is_err(), "{bad:?}");
        }
    }
}
