//! Histories (issue 14): what the sequence kinds (`gru`, `tcn`) share —
//! the description of a history inside their sections, the one function
//! that turns a design row into the network's inputs ([`SeqInputs::inputs`],
//! which the trainer uses too), the GRU / TCN encoders and the head, the
//! explanation players (statics, then steps) and the sections' reader.
//!
//! The schema stays flat: every column of a history is a plain feature of
//! the [`Schema`] (flat kinds see the same columns). A [`History`] names,
//! per channel, the schema feature of each step (oldest first); every other
//! feature is a *static*, in schema order.
//!
//! The design row of a sequence kind is built without scaling and without
//! imputing numbers (the kinds take missing values): numbers arrive raw or
//! NaN, categoricals one-hot. [`SeqInputs::inputs`] then gives
//!
//! - `seq` (`steps × C`, row-major, oldest first): a numeric channel's cell
//!   is `(x − mean) / std`, 0 when NaN; a categorical channel is one-hot
//!   over its own table (a step's schema categories are matched to it by
//!   text; a category the table lacks gives zeros; fractional background
//!   rows add up per table entry);
//! - `mask` (`steps`): 1 when some numeric channel of the step is not NaN
//!   (always 1 without numeric channels);
//! - `stat` (`S`): a numeric static `(x − mean) / std`, 0 when NaN; a
//!   categorical static its one-hot columns as they are.
//!
//! Everything is `f32` in a fixed order with `libm`'s portable functions,
//! so native and wasm agree bit for bit.

use std::sync::OnceLock;

use crate::schema::{FeatureKind, Schema};

/// Most steps of a history.
pub const MAX_STEPS: usize = 512;
/// Most network input channels (`C`: numeric channels count 1, categorical
/// ones their table's size).
pub const MAX_CHANNELS: usize = 256;
/// Widest GRU state / TCN channel count / head layer.
pub const MAX_HIDDEN: usize = 256;
/// Most GRU layers / TCN blocks.
pub const MAX_LAYERS: usize = 8;
/// Widest TCN kernel.
pub const MAX_KERNEL: usize = 5;
/// Most static features (every feature outside the history).
pub const MAX_STATICS: usize = 65_536;

/// One history: `steps` steps, oldest first, each with one or more channels.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// E.g. "history": used in texts and views.
    pub name: String,
    /// E.g. "month": "3 months ago".
    pub unit: String,
    pub steps: u32,
    pub channels: Vec<Channel>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// E.g. "status".
    pub name: String,
    /// Schema feature index of each step, oldest first (`steps` of them).
    pub features: Vec<u32>,
    pub input: ChannelInput,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChannelInput {
    /// Pooled over all steps' non-missing training values; `std > 0`.
    Numeric { mean: f32, std: f32 },
    /// Pooled category table; each step feature's categories are matched to
    /// it by text.
    Categorical { categories: Vec<String> },
}

/// A static feature: a schema feature in no channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Static {
    pub feature: u32,
    /// `(mean, std)` of a numeric static; `None` for a categorical one
    /// (its one-hot columns pass through).
    pub scale: Option<(f32, f32)>,
}

/// A category the channel's table lacks.
const NONE: u32 = u32::MAX;

/// The history resolved against the schema (see [`SeqInputs`]): flat
/// lists, so binding allocates a few vectors, not one per step.
#[derive(Debug, Clone)]
struct Bound {
    /// Per channel, then per step: the step feature's first design column
    /// and the part of `maps` that holds, for a categorical channel, the
    /// table entry of each of the feature's categories ([`NONE`] when the
    /// table lacks it; empty for a numeric channel).
    cells: Vec<(usize, usize, usize)>,
    maps: Vec<u32>,
    c: usize,
    s: usize,
    /// Design ranges of the explanation players: one per static, then
    /// one per channel for each step (step after step).
    ranges: Vec<(usize, usize)>,
}

/// A history and the statics' scaling: everything that turns a design row
/// into the network's inputs. Resolved against the schema by
/// [`SeqInputs::new`] or, for a decoded file, by the kind's validation.
#[derive(Debug, Clone)]
pub struct SeqInputs {
    pub history: History,
    pub statics: Vec<Static>,
    bound: OnceLock<Bound>,
}

impl PartialEq for SeqInputs {
    fn eq(&self, o: &SeqInputs) -> bool {
        self.history == o.history && self.statics == o.statics
    }
}

/// The statics of `history` in `schema`: every feature in no channel, in
/// schema order, numeric ones with their schema's `(mean, std)`.
#[inline(never)]
pub fn statics_of(schema: &Schema, history: &History) -> Vec<Static> {
    let mut used = vec![false; schema.features.len()];
    for c in &history.channels {
        for &f in &c.features {
            if let Some(u) = used.get_mut(f as usize) {
                *u = true;
            }
        }
    }
    let mut out = Vec::new();
    for (i, (f, u)) in schema.features.iter().zip(used).enumerate() {
        if !u {
            out.push(Static {
                feature: i as u32,
                scale: match &f.kind {
                    FeatureKind::Numeric(n) => Some((n.mean, n.std)),
                    FeatureKind::Categorical(_) => None,
                },
            });
        }
    }
    out
}

fn scale_ok(mean: f32, std: f32) -> Result<(), String> {
    if !(mean.is_finite() && std.is_finite() && std > 0.0) {
        return Err("history: a mean or std that is not finite, or std <= 0".into());
    }
    Ok(())
}

#[inline(never)]
fn named(what: &str, name: &str) -> String {
    format!("history: {what} '{name}'")
}

impl SeqInputs {
    /// The inputs of `history` in `schema` with the statics of
    /// [`statics_of`], checked and resolved.
    pub fn new(schema: &Schema, history: History) -> Result<SeqInputs, String> {
        let statics = statics_of(schema, &history);
        SeqInputs::with_statics(schema, history, statics)
    }

    /// As [`SeqInputs::new`] with the statics given (they must be the
    /// features in no channel, in schema order).
    pub fn with_statics(
        schema: &Schema,
        history: History,
        statics: Vec<Static>,
    ) -> Result<SeqInputs, String> {
        let s = SeqInputs::unbound(history, statics);
        s.bind(schema)?;
        Ok(s)
    }

    pub(crate) fn unbound(history: History, statics: Vec<Static>) -> SeqInputs {
        SeqInputs {
            history,
            statics,
            bound: OnceLock::new(),
        }
    }

    /// Checks the history and statics against `schema` and resolves their
    /// design columns (once; a second schema must give the same players).
    pub(crate) fn bind(&self, schema: &Schema) -> Result<(), String> {
        let of = crate::kinds::groups(schema);
        let mut used = vec![false; of.len()];
        let mut b = Bound {
            cells: Vec::new(),
            maps: Vec::new(),
            c: 0,
            s: 0,
            ranges: Vec::new(),
        };
        self.resolve(schema, &of, &mut used, &mut b)?;
        match self.bound.get() {
            Some(old) if old.ranges != b.ranges => Err("history bound to another schema".into()),
            Some(_) => Ok(()),
            None => {
                let _ = self.bound.set(b);
                Ok(())
            }
        }
    }

    /// Fills `b` (the caller owns every buffer, so an error drops them in
    /// one place); `of` holds the design range of each schema feature.
    #[inline(never)]
    fn resolve(
        &self,
        schema: &Schema,
        of: &[(usize, usize)],
        used: &mut [bool],
        b: &mut Bound,
    ) -> Result<(), String> {
        let h = &self.history;
        let fs = &schema.features;
        let (t, n) = (h.steps as usize, h.channels.len());
        if t == 0 || t > MAX_STEPS || n == 0 || n > MAX_CHANNELS || self.statics.len() > MAX_STATICS
        {
            return Err(
                "history: steps must be in 1..=512, channels in 1..=256, statics at most 65,536"
                    .into(),
            );
        }
        for ch in &h.channels {
            let table: &[String] = match &ch.input {
                ChannelInput::Numeric { mean, std } => {
                    scale_ok(*mean, *std)?;
                    &[]
                }
                ChannelInput::Categorical { categories } => categories,
            };
            b.c += table.len().max(1);
            if ch.features.len() != t || b.c > MAX_CHANNELS {
                return Err(named(
                    "wrong step count or too many inputs in channel",
                    &ch.name,
                ));
            }
            for &fi in &ch.features {
                let fi = fi as usize;
                let (Some(f), Some(&(start, _)), Some(u)) =
                    (fs.get(fi), of.get(fi), used.get_mut(fi))
                else {
                    return Err(named("a feature outside the schema in channel", &ch.name));
                };
                if std::mem::replace(u, true) {
                    return Err(named("a feature used twice:", &f.name));
                }
                let from = b.maps.len();
                match (&f.kind, table.is_empty()) {
                    (FeatureKind::Numeric(_), true) => {}
                    (FeatureKind::Categorical(fc), false) => {
                        for cat in &fc.categories {
                            let k = table.iter().position(|x| x == cat);
                            b.maps.push(k.map_or(NONE, |k| k as u32));
                        }
                    }
                    _ => return Err(named("a feature of another type:", &f.name)),
                }
                b.cells.push((start, from, b.maps.len()));
            }
        }
        // The statics: every feature in no channel, in schema order, a
        // numeric one with a scale.
        let mut given = self.statics.iter();
        for (i, ((f, &u), &r)) in fs.iter().zip(&*used).zip(of).enumerate() {
            if u {
                continue;
            }
            let numeric = matches!(f.kind, FeatureKind::Numeric(_));
            match given.next() {
                Some(st) if st.feature as usize == i && st.scale.is_some() == numeric => {
                    if let Some((mean, std)) = st.scale {
                        scale_ok(mean, std)?;
                    }
                }
                _ => return Err("the statics are not the features outside the history".into()),
            }
            b.s += r.1 - r.0;
            b.ranges.push(r);
        }
        if given.next().is_some() {
            return Err("the statics are not the features outside the history".into());
        }
        // The steps' players: each channel's columns, step after step.
        for step in 0..t {
            for ch in &h.channels {
                let f = ch.features.get(step).map_or(usize::MAX, |&f| f as usize);
                b.ranges.push(of.get(f).copied().unwrap_or((0, 0)));
            }
        }
        Ok(())
    }

    fn bound(&self) -> Option<&Bound> {
        self.bound.get()
    }

    /// `C`: network inputs per step.
    pub fn input_channels(&self) -> usize {
        self.bound().map_or(0, |b| b.c)
    }

    /// `S`: static inputs.
    pub fn static_inputs(&self) -> usize {
        self.bound().map_or(0, |b| b.s)
    }

    /// Steps of the history.
    pub fn steps(&self) -> usize {
        self.history.steps as usize
    }

    /// Explanation players (statics in schema order, then the steps oldest
    /// first): the design ranges each one holds.
    pub fn players(&self) -> crate::explain::shapley::Players<'_> {
        let ranges = self.bound().map_or(&[][..], |b| &b.ranges);
        crate::explain::shapley::Players::grouped(
            ranges,
            self.statics.len(),
            self.history.channels.len(),
        )
    }

    /// One design row `x` -> `seq` (`steps × C`), `mask` (`steps`), `stat`
    /// (`S`); see the module documentation. Buffers of other sizes, or a
    /// short row, are left as zeros where they do not fit.
    pub fn inputs(&self, x: &[f32], seq: &mut [f32], mask: &mut [f32], stat: &mut [f32]) {
        seq.fill(0.0);
        mask.fill(0.0);
        stat.fill(0.0);
        let Some(b) = self.bound() else {
            return;
        };
        let get = |i: usize| x.get(i).copied().unwrap_or(f32::NAN);
        let numeric = self
            .history
            .channels
            .iter()
            .any(|c| matches!(c.input, ChannelInput::Numeric { .. }));
        if !numeric {
            mask.fill(1.0);
        }
        let t = self.steps();
        let mut off = 0;
        for (k, ch) in self.history.channels.iter().enumerate() {
            let mut width = 1;
            let row = b.cells.get(k * t..(k + 1) * t).unwrap_or(&[]);
            for (t, &(start, from, to)) in row.iter().enumerate() {
                let base = t * b.c + off;
                match ch.input {
                    ChannelInput::Numeric { mean, std } => {
                        let v = get(start);
                        if !v.is_nan() {
                            if let Some(m) = mask.get_mut(t) {
                                *m = 1.0;
                            }
                            if let Some(o) = seq.get_mut(base) {
                                *o = (v - mean) / std;
                            }
                        }
                    }
                    ChannelInput::Categorical { ref categories } => {
                        width = categories.len();
                        let map = b.maps.get(from..to).unwrap_or(&[]);
                        for (j, &k) in map.iter().enumerate() {
                            if k != NONE {
                                if let Some(o) = seq.get_mut(base + k as usize) {
                                    *o += get(start + j);
                                }
                            }
                        }
                    }
                }
            }
            off += width;
        }
        let mut at = 0;
        for (st, &(a, z)) in self.statics.iter().zip(&b.ranges) {
            match st.scale {
                Some((mean, std)) => {
                    let v = get(a);
                    if let Some(o) = stat.get_mut(at) {
                        *o = if v.is_nan() { 0.0 } else { (v - mean) / std };
                    }
                    at += 1;
                }
                None => {
                    for col in a..z {
                        if let Some(o) = stat.get_mut(at) {
                            *o = get(col);
                        }
                        at += 1;
                    }
                }
            }
        }
    }
}

/// The head: `logit = b2 + Σ_u w2_u · ReLU(b1_u + W1_u · [encoding,
/// statics])`, summed in unit order.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// `units × (hidden + S)` row-major.
    pub w1: Vec<f32>,
    /// `units`.
    pub b1: Vec<f32>,
    /// `units`.
    pub w2: Vec<f32>,
    pub b2: f32,
}

/// `Σ w[i]·x[i]` in a fixed order: four running sums over the elements
/// `i ≡ 0, 1, 2, 3 (mod 4)` of the leading multiple of 4, combined as
/// `(s0 + s1) + (s2 + s3)`, then the rest added in order. Plain `f32`
/// operations (no fused multiply-add), so every platform gives the same
/// bits; four sums instead of one hide the latency of the additions.
#[inline]
pub(crate) fn dot(w: &[f32], x: &[f32]) -> f32 {
    let (mut s0, mut s1, mut s2, mut s3) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
    let (wc, xc) = (w.chunks_exact(4), x.chunks_exact(4));
    let (wr, xr) = (wc.remainder(), xc.remainder());
    for (p, q) in wc.zip(xc) {
        if let ([p0, p1, p2, p3], [q0, q1, q2, q3]) = (p, q) {
            s0 += p0 * q0;
            s1 += p1 * q1;
            s2 += p2 * q2;
            s3 += p3 * q3;
        }
    }
    let mut s = (s0 + s1) + (s2 + s3);
    for (p, q) in wr.iter().zip(xr) {
        s += p * q;
    }
    s
}

/// Row `r` of a row-major matrix of rows `n` wide (empty when outside).
#[inline]
pub(crate) fn row(w: &[f32], r: usize, n: usize) -> &[f32] {
    w.get(r * n..(r + 1) * n).unwrap_or(&[])
}

impl Head {
    pub(crate) fn cost(&self) -> u64 {
        (self.w1.len() + 2 * self.b1.len()) as u64
    }
}

/// `e^x` (`x` clamped to ±87) from `f32` `+ − ×` and exponent bits:
/// `x = k·ln 2 + r` (`k` whole, `|r| ≤ ln 2 / 2` up to rounding, `ln 2` split in two
/// parts so `k·ln2_hi` is exact), `e^r` by its Taylor polynomial to `r⁷`
/// (Horner), times `2^k`. Within 2·10⁻⁷ relative of `e^x` (tested against
/// f64), and the same bits on every platform; about 5× faster than
/// `libm::expf`, which the GRU's gates spent most of their time in.
#[inline(never)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Round to nearest by the 1.5·2²³ trick (exact for |t| < 2²²).
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 87.0);
    let k = (x * LOG2E + ROUND) - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    p * f32::from_bits(((k as i32 + 127) as u32) << 23)
}

/// `1 / (1 + e^−v)`.
#[inline]
fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + exp(-v))
}

/// `tanh v = 1 − 2 / (e^{2v} + 1)` (absolute error below 3·10⁻⁷).
#[inline]
fn tanh(v: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * v) + 1.0)
}

/// Equal bits.
fn same(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// A sequence network, what both kinds are: the history's inputs, an
/// encoder (a GRU, or a TCN when `kernel > 0`) and the head.
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    pub inputs: SeqInputs,
    /// GRU state width / TCN channels.
    pub hidden: usize,
    /// TCN kernel width; 0 for a GRU.
    pub kernel: usize,
    /// The encoder's weight vectors in the trainer's layouts: per GRU
    /// layer `w`, `u`, `bi`, `bh`; for a TCN `in_w`, `in_b`, then per block
    /// `w`, `b`.
    pub weights: Vec<Vec<f32>>,
    pub head: Head,
}

impl Net {
    /// Everything but the schema (checked by binding the inputs): the
    /// sizes, the length of every weight vector and that every weight is
    /// finite.
    pub(crate) fn check(&self) -> Result<(), String> {
        let (h, k, n) = (self.hidden, self.kernel, self.weights.len());
        let c = self.inputs.input_channels();
        let (fixed, per) = if k == 0 { (0, 4) } else { (2, 2) };
        let layers = n.saturating_sub(fixed) / per;
        // The messages below spell these limits out.
        const _: () = assert!(MAX_HIDDEN == 256 && MAX_KERNEL == 5 && MAX_LAYERS == 8);
        if h == 0
            || h > MAX_HIDDEN
            || k == 1
            || k > MAX_KERNEL
            || layers == 0
            || layers > MAX_LAYERS
            || n != fixed + per * layers
        {
            return Err(
                "hidden must be in 1..=256, kernel in 2..=5, layers in 1..=8 \
                 (each with all its weights)"
                    .into(),
            );
        }
        // The length of weight vector `i` (see [`Net::weights`]).
        let want = |i: usize| match (k, i % per) {
            (0, 0) => 3 * h * if i == 0 { c } else { h },
            (0, 1) => 3 * h * h,
            (0, _) => 3 * h,
            _ if i == 0 => h * (c + 1),
            (_, 0) => h * k * h,
            _ => h,
        };
        let hd = &self.head;
        let u = hd.b1.len();
        if u == 0 || u > MAX_HIDDEN {
            return Err("head: units must be in 1..=256".into());
        }
        let head: [(&[f32], usize); 4] = [
            (&hd.w1, u * (h + self.inputs.static_inputs())),
            (&hd.b1, u),
            (&hd.w2, u),
            (std::slice::from_ref(&hd.b2), 1),
        ];
        let encoder = self.weights.iter().enumerate();
        let parts = encoder
            .map(|(i, v)| ("encoder", i, v.as_slice(), want(i)))
            .chain(
                head.iter()
                    .enumerate()
                    .map(|(i, &(v, n))| ("head", i, v, n)),
            );
        for (what, i, v, n) in parts {
            if v.len() != n {
                let l = v.len();
                return Err(format!(
                    "{what}: weight vector {i} holds {l} values, not {n}"
                ));
            }
            if let Some(j) = v.iter().position(|x| !x.is_finite()) {
                return Err(format!(
                    "{what}: weight vector {i}, value {j} is not finite"
                ));
            }
        }
        Ok(())
    }

    #[inline(never)]
    pub(crate) fn validate(&self, d: &crate::kinds::Design<'_>) -> Result<(), String> {
        if d.schema.encoding.scale {
            return Err(
                "a sequence model reads unscaled numbers: the schema must not scale".into(),
            );
        }
        self.inputs.bind(d.schema)?;
        self.check()
    }

    /// The output of each row of `xs` (`width` values each) into `out`.
    ///
    /// Rows are computed one after the other, each keeping every layer's
    /// output at every step (`seqs`, layer after layer, `steps × hidden`
    /// each). Both encoders are causal: a step's outputs depend on that
    /// step and earlier ones only. So a row whose history inputs equal the
    /// previous row's up to step `t0` recomputes the steps from `t0` on
    /// only, and a row whose history equals the previous one (it differs in
    /// statics) only the head: the same operations in the same order on the
    /// same values, so the same bits. Explanation coalitions change one
    /// player at a time, so most of their rows reuse most of the encoder.
    /// Every buffer is sized once, before the first row.
    #[inline(never)]
    pub(crate) fn outputs(&self, xs: &[f32], width: usize, out: &mut [f32]) {
        let (t, c, st, h, k) = (
            self.inputs.steps(),
            self.inputs.input_channels(),
            self.inputs.static_inputs(),
            self.hidden,
            self.kernel,
        );
        let layers = if k == 0 {
            self.weights.len() / 4
        } else {
            1 + self.weights.len().saturating_sub(2) / 2
        };
        let (mut seq, mut pseq) = (vec![0.0; t * c], vec![0.0; t * c]);
        let (mut mask, mut pmask) = (vec![0.0; t], vec![0.0; t]);
        let mut seqs = vec![0.0; layers * t * h];
        // The head's input: the encoding, then the statics.
        let mut head = vec![0.0; h + st];
        // A TCN window or input step; the gates' products.
        let mut v = vec![0.0; (c + 1).max(k * h)];
        let (mut gx, mut gh) = (vec![0.0; 3 * h], vec![0.0; 3 * h]);
        let mut fresh = false;
        for (x, o) in xs.chunks_exact(width.max(1)).zip(out) {
            let (enc, stat) = head.split_at_mut(h);
            self.inputs.inputs(x, &mut seq, &mut mask, stat);
            let t0 = if fresh {
                (0..t)
                    .find(|&k| {
                        !same(row(&seq, k, c), row(&pseq, k, c))
                            || at(&mask, k).to_bits() != at(&pmask, k).to_bits()
                    })
                    .unwrap_or(t)
            } else {
                0
            };
            if t0 < t {
                if k == 0 {
                    self.gru(&mut seqs, &seq, &mask, &mut gx, &mut gh, t0);
                } else {
                    self.tcn(&mut seqs, &seq, &mask, &mut v, &mut gx, t0);
                }
                std::mem::swap(&mut seq, &mut pseq);
                std::mem::swap(&mut mask, &mut pmask);
                fresh = true;
            }
            // The head: `b1 + W1 · [encoding, statics]`, ReLU, `w2 ·` + `b2`.
            let top = seqs.len().saturating_sub(h);
            copy(enc, seqs.get(top..).unwrap_or(&[]));
            let hd = &self.head;
            let mut z = hd.b2;
            for (u, (&b, &w2)) in hd.b1.iter().zip(&hd.w2).enumerate() {
                z += w2 * (b + dot(row(&hd.w1, u, h + st), &head)).max(0.0);
            }
            *o = z;
        }
    }

    #[inline(never)]
    pub(crate) fn output(&self, x: &[f32]) -> f32 {
        let mut o = [0.0];
        self.outputs(x, x.len(), &mut o);
        o[0]
    }

    /// The GRU's layers over `seq`, `mask` from step `t0` on: each layer's
    /// state after every step into its part of `seqs`.
    fn gru(
        &self,
        seqs: &mut [f32],
        seq: &[f32],
        mask: &[f32],
        gx: &mut [f32],
        gh: &mut [f32],
        t0: usize,
    ) {
        let (h, c, t) = (self.hidden, self.inputs.input_channels(), mask.len());
        let zero = [0.0; MAX_HIDDEN];
        for (l, wts) in self.weights.chunks_exact(4).enumerate() {
            let [w, u, bi, bh] = wts else { return };
            let Some((lower, upper)) = seqs.split_at_mut_checked(l * t * h) else {
                return;
            };
            let (input, width) = match l {
                0 => (seq, c),
                _ => (lower.get((l - 1) * t * h..).unwrap_or(&[]), h),
            };
            for step in t0..t {
                // `prev`: the state before this step (zeros before the first).
                let Some((done, rest)) = upper.split_at_mut_checked(step * h) else {
                    return;
                };
                let prev = done
                    .get(done.len().wrapping_sub(h)..)
                    .unwrap_or(zero.get(..h).unwrap_or(&[]));
                let cur = rest.get_mut(..h).unwrap_or(&mut []);
                if at(mask, step) == 0.0 {
                    copy(cur, prev);
                    continue;
                }
                mat(gx, w, row(input, step, width));
                mat(gh, u, prev);
                // The reference's order: ((Wx + b_i) + Uh) + b_h, and
                // (Wx + b_i) + r·(Uh + b_h) for n.
                let gate = |k: usize| at(gx, k) + at(bi, k) + at(gh, k) + at(bh, k);
                for (j, (d, &p)) in cur.iter_mut().zip(prev).enumerate() {
                    let z = sigmoid(gate(j));
                    let r = sigmoid(gate(h + j));
                    let k = 2 * h + j;
                    let n = tanh(at(gx, k) + at(bi, k) + r * (at(gh, k) + at(bh, k)));
                    *d = (1.0 - z) * n + z * p;
                }
            }
        }
    }

    /// The TCN over `seq`, `mask` from step `t0` on: the input projection
    /// into the first part of `seqs`, block `i`'s output into part `i + 1`.
    fn tcn(
        &self,
        seqs: &mut [f32],
        seq: &[f32],
        mask: &[f32],
        v: &mut [f32],
        gx: &mut [f32],
        t0: usize,
    ) {
        let (h, k, c, t) = (
            self.hidden,
            self.kernel,
            self.inputs.input_channels(),
            mask.len(),
        );
        let (Some(in_w), Some(in_b), Some(g)) =
            (self.weights.first(), self.weights.get(1), gx.get_mut(..h))
        else {
            return;
        };
        for step in t0..t {
            let x = v.get_mut(..c + 1).unwrap_or(&mut []);
            copy(x, row(seq, step, c));
            if let Some(m) = x.get_mut(c) {
                *m = at(mask, step);
            }
            mat(g, in_w, x);
            let o = seqs.get_mut(step * h..(step + 1) * h).unwrap_or(&mut []);
            for (d, (&b, &y)) in o.iter_mut().zip(in_b.iter().zip(&*g)) {
                *d = b + y;
            }
        }
        let blocks = self.weights.get(2..).unwrap_or(&[]);
        for (i, blk) in blocks.chunks_exact(2).enumerate() {
            let [w, b] = blk else { return };
            let dil = 1usize << i;
            let Some((lower, upper)) = seqs.split_at_mut_checked((i + 1) * t * h) else {
                return;
            };
            let u = lower.get(i * t * h..).unwrap_or(&[]);
            let x = v.get_mut(..k * h).unwrap_or(&mut []);
            for step in t0..t {
                // The window, oldest tap first, 0 before the first step.
                for (j, win) in x.chunks_exact_mut(h.max(1)).enumerate() {
                    let back = (k - 1 - j) * dil;
                    match step.checked_sub(back) {
                        Some(at) => copy(win, row(u, at, h)),
                        None => win.fill(0.0),
                    }
                }
                mat(g, w, x);
                let o = upper.get_mut(step * h..(step + 1) * h).unwrap_or(&mut []);
                let ur = row(u, step, h);
                for (d, ((&r, &b), &y)) in o.iter_mut().zip(ur.iter().zip(b).zip(&*g)) {
                    *d = r + (b + y).max(0.0);
                }
            }
        }
    }

    /// Cost of one prediction (the encoder is counted for every row).
    #[inline(never)]
    pub(crate) fn predict_cost(&self) -> u64 {
        let (t, h, k) = (
            self.inputs.steps() as u64,
            self.hidden as u64,
            self.kernel as u64,
        );
        let c = self.inputs.input_channels() as u64;
        let w: u64 = self.weights.iter().map(|v| v.len() as u64).sum();
        let gates = if k == 0 {
            // Three exponentials per unit: σ(z), σ(r), tanh(n).
            self.weights.len() as u64 / 4 * 3 * h * crate::kinds::EXP_COST
        } else {
            0
        };
        let cells: u64 = self
            .inputs
            .bound()
            .map_or(0, |b| (b.cells.len() + b.maps.len()) as u64);
        // A multiply-add of these short, fixed-order dot products counts 2
        // units: counted as 1, an explanation that spends the whole budget
        // took ~150 ms natively, not the ~85 ms the budget stands for.
        t.saturating_mul((2 * w).saturating_add(gates).saturating_add(c + 4 * h + 2))
            .saturating_add(cells)
            .saturating_add(2 * self.inputs.static_inputs() as u64)
            .saturating_add(2 * self.head.cost())
    }

    #[inline(never)]
    pub(crate) fn cost(&self, d: &crate::kinds::Design<'_>) -> crate::kinds::Cost {
        let predict = self.predict_cost();
        crate::kinds::Cost {
            predict,
            explain: crate::kinds::shapley_cost(
                d,
                predict,
                LEGACY_PAIRS,
                self.inputs.players().len(),
            ),
        }
    }

    #[inline(never)]
    pub(crate) fn explain(
        &self,
        d: &crate::kinds::Design<'_>,
        x: &[f32],
        scale: f64,
        offset: f64,
    ) -> crate::kinds::Attribution {
        let mut eval = |xs: &[f32], out: &mut [f32]| self.outputs(xs, d.width, out);
        crate::kinds::model_agnostic(
            d,
            x,
            (scale, offset),
            self.predict_cost(),
            LEGACY_PAIRS,
            self.inputs.players(),
            &mut eval,
        )
    }

    /// "gru: 1 layers, hidden 16, head 32; history 'history': 12 months of status, balance".
    #[inline(never)]
    pub(crate) fn summary(&self, tag: &str) -> String {
        let h = &self.inputs.history;
        let mut names = String::new();
        for (i, c) in h.channels.iter().enumerate() {
            if i > 0 {
                names.push_str(", ");
            }
            names.push_str(&c.name);
        }
        format!(
            "{tag}: {} weight vectors, hidden {}, kernel {}, head {}; history '{}': {} {}s of {names}",
            self.weights.len(),
            self.hidden,
            self.kernel,
            self.head.b1.len(),
            h.name,
            h.steps,
            h.unit
        )
    }

    pub(crate) fn to_wire(&self) -> SeqWire {
        let h = &self.inputs.history;
        SeqWire {
            name: h.name.clone(),
            unit: h.unit.clone(),
            steps: h.steps,
            channels: h
                .channels
                .iter()
                .map(|c| ChannelWire {
                    name: c.name.clone(),
                    features: c.features.clone(),
                    numeric: match c.input {
                        ChannelInput::Numeric { mean, std } => Some((mean, std)),
                        ChannelInput::Categorical { .. } => None,
                    },
                    categories: match &c.input {
                        ChannelInput::Numeric { .. } => Vec::new(),
                        ChannelInput::Categorical { categories } => categories.clone(),
                    },
                })
                .collect(),
            statics: self
                .inputs
                .statics
                .iter()
                .map(|s| (s.feature, s.scale))
                .collect(),
            hidden: self.hidden as u32,
            kernel: self.kernel as u32,
            weights: self.weights.clone(),
            head: (
                self.head.w1.clone(),
                self.head.b1.clone(),
                self.head.w2.clone(),
                self.head.b2,
            ),
        }
    }

    /// The wire struct as a network (checked by [`Net::validate`]).
    #[inline(never)]
    pub(crate) fn from_wire(w: SeqWire) -> Result<Net, String> {
        let channels = w
            .channels
            .into_iter()
            .map(|c| {
                let input = match c.numeric {
                    Some((mean, std)) if c.categories.is_empty() => {
                        ChannelInput::Numeric { mean, std }
                    }
                    None => ChannelInput::Categorical {
                        categories: c.categories,
                    },
                    Some(_) => return Err("a numeric channel with categories".to_string()),
                };
                Ok(Channel {
                    name: c.name,
                    features: c.features,
                    input,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let statics = w
            .statics
            .into_iter()
            .map(|(feature, scale)| Static { feature, scale })
            .collect();
        let (w1, b1, w2, b2) = w.head;
        Ok(Net {
            inputs: SeqInputs::unbound(
                History {
                    name: w.name,
                    unit: w.unit,
                    steps: w.steps,
                    channels,
                },
                statics,
            ),
            hidden: w.hidden as usize,
            kernel: w.kernel as usize,
            weights: w.weights,
            head: Head { w1, b1, w2, b2 },
        })
    }

    /// A section body read by hand, as postcard writes [`SeqWire`], straight
    /// into a network whose
    /// kernel `ok` accepts (else the error `wrong`): one function for both
    /// kinds, so the bundle holds the reader once.
    #[inline(never)]
    pub(crate) fn decode(
        body: &[u8],
        tag: &str,
        ok: fn(usize) -> bool,
        wrong: &str,
    ) -> Result<Net, crate::error::FormatError> {
        use crate::format::wire::Wire;
        let scale = |w: &mut Wire<'_>| w.option(|w| (w.f32(), w.f32()));
        let mixed = std::cell::Cell::new(false);
        let mut w = Wire::new(body);
        let (name, unit, steps) = (w.string(), w.string(), w.u32());
        let channels = w.list(|w| {
            let (name, features, numeric, categories) =
                (w.string(), w.list(|w| w.u32()), scale(w), w.strings());
            let input = match numeric {
                Some((mean, std)) => {
                    mixed.set(mixed.get() | !categories.is_empty());
                    ChannelInput::Numeric { mean, std }
                }
                None => ChannelInput::Categorical { categories },
            };
            Channel {
                name,
                features,
                input,
            }
        });
        let statics = w.list(|w| Static {
            feature: w.u32(),
            scale: scale(w),
        });
        let (hidden, kernel, weights) = (w.u32() as usize, w.u32() as usize, w.list(|w| w.f32s()));
        let head = Head {
            w1: w.f32s(),
            b1: w.f32s(),
            w2: w.f32s(),
            b2: w.f32(),
        };
        w.end();
        let what = format!("model section '{tag}'");
        w.check(&what)?;
        let e = match () {
            _ if mixed.get() => "a numeric channel with categories",
            _ if !ok(kernel) => wrong,
            _ => {
                return Ok(Net {
                    inputs: SeqInputs::unbound(
                        History {
                            name,
                            unit,
                            steps,
                            channels,
                        },
                        statics,
                    ),
                    hidden,
                    kernel,
                    weights,
                    head,
                })
            }
        };
        Err(crate::error::FormatError::Invalid(format!("{what}: {e}")))
    }
}

/// `out` = the first `out.len()` rows of `w` (rows as wide as `x`) times `x`.
#[inline(never)]
fn mat(out: &mut [f32], w: &[f32], x: &[f32]) {
    for (k, o) in out.iter_mut().enumerate() {
        *o = dot(row(w, k, x.len()), x);
    }
}

/// `dst` = `src` where both reach.
#[inline]
fn copy(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// `v[i]`, 0 outside.
#[inline]
fn at(v: &[f32], i: usize) -> f32 {
    v.get(i).copied().unwrap_or(0.0)
}

/// Section `gru` / `tcn` (format v3): the history, the statics, the
/// network's sizes and weight vectors (see [`Net`]) and the head, as
/// postcard writes these fields. Read by hand ([`Net::decode`]).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct SeqWire {
    pub name: String,
    pub unit: String,
    pub steps: u32,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub channels: Vec<ChannelWire>,
    /// `(feature, (mean, std) of a numeric static)`.
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub statics: Vec<(u32, Option<(f32, f32)>)>,
    pub hidden: u32,
    /// 0 for a GRU.
    pub kernel: u32,
    #[serde(deserialize_with = "crate::format::bounded::nested")]
    pub weights: Vec<Vec<f32>>,
    /// `(w1, b1, w2, b2)`.
    pub head: (Vec<f32>, Vec<f32>, Vec<f32>, f32),
}

/// One channel of [`SeqWire`]: `numeric` its `(mean, std)`, else
/// `categories` its table.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ChannelWire {
    pub name: String,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub features: Vec<u32>,
    pub numeric: Option<(f32, f32)>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub categories: Vec<String>,
}

/// The [`crate::kinds::Kind`] impl of a sequence kind: a newtype over
/// [`Net`] whose kernel `$ok` accepts (`gru`: none, `tcn`: one); everything
/// else forwards to the shared network, so the two kinds differ only in
/// their tag and that check.
macro_rules! net_kind {
    ($ty:ident, $tag:literal, $ok:expr, $wrong:literal) => {
        impl $ty {
            fn from_net(net: Net) -> Result<Self, String> {
                let ok: fn(usize) -> bool = $ok;
                if !ok(net.kernel) {
                    return Err($wrong.into());
                }
                Ok($ty(net))
            }
        }

        impl crate::kinds::Kind for $ty {
            const TAG: &'static str = $tag;
            type Wire = crate::sequence::SeqWire;

            fn to_wire(&self) -> Self::Wire {
                self.0.to_wire()
            }

            fn from_wire(wire: Self::Wire) -> Result<Self, String> {
                Self::from_net(Net::from_wire(wire)?)
            }

            /// The wire read by hand ([`Net::decode`], shared by both kinds).
            fn decode(body: &[u8]) -> Result<Self, crate::error::FormatError> {
                Net::decode(body, $tag, $ok, $wrong).map($ty)
            }

            fn validate(&self, d: &crate::kinds::Design<'_>) -> Result<(), String> {
                self.0.validate(d)
            }

            fn output_kind(&self) -> crate::kinds::Output {
                crate::kinds::Output::Score
            }

            fn output(&self, x: &[f32]) -> f32 {
                self.0.output(x)
            }

            fn outputs(&self, xs: &[f32], width: usize, out: &mut [f32]) {
                self.0.outputs(xs, width, out)
            }

            fn explain(
                &self,
                d: &crate::kinds::Design<'_>,
                x: &[f32],
                scale: f64,
                offset: f64,
            ) -> crate::kinds::Attribution {
                self.0.explain(d, x, scale, offset)
            }

            fn method(&self) -> &'static str {
                crate::sequence::METHOD
            }

            fn summary(&self) -> String {
                self.0.summary(Self::TAG)
            }

            fn cost(&self, d: &crate::kinds::Design<'_>) -> crate::kinds::Cost {
                self.0.cost(d)
            }

            fn uses_background_set(&self) -> bool {
                true
            }

            fn background_method(&self) -> &'static str {
                crate::sequence::METHOD
            }

            fn takes_missing(&self) -> bool {
                true
            }
        }
    };
}
pub(crate) use net_kind;

/// The explanation method of the sequence kinds.
pub const METHOD: &str = "Shapley values of the statics and of each step of the history (all its channels together) against training centroids (every coalition for few players, else antithetic permutations seeded by the customer)";

/// Sampling pairs against the mean row for files without a background set.
const LEGACY_PAIRS: u32 = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_the_activations_are_within_their_stated_error() {
        let mut worst = (0.0f64, 0.0f64, 0.0f64);
        let mut x = -90.0f32;
        while x < 90.0 {
            let e = exp(x) as f64;
            let want = (x.clamp(-87.0, 87.0) as f64).exp();
            worst.0 = worst.0.max((e - want).abs() / want);
            let t = (x as f64 / 8.0).tanh();
            worst.1 = worst.1.max((tanh(x / 8.0) as f64 - t).abs());
            let sg = 1.0 / (1.0 + (-(x as f64) / 8.0).exp());
            worst.2 = worst.2.max((sigmoid(x / 8.0) as f64 - sg).abs());
            x += 0.001_3;
        }
        assert!(worst.0 < 2e-7, "exp: {}", worst.0);
        assert!(worst.1 < 3e-7, "tanh: {}", worst.1);
        assert!(worst.2 < 2e-7, "sigmoid: {}", worst.2);
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(tanh(0.0), 0.0);
        assert_eq!(sigmoid(0.0), 0.5);
    }
}
