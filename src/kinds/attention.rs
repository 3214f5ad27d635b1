//! Tabular attention (FT-Transformer style): inference only.
//!
//! Every original feature becomes one `d_model`-wide token; a learned `[CLS]`
//! token is put in front, a stack of pre-norm transformer blocks mixes the
//! tokens, and a linear head reads the log-odds from the final `[CLS]` state:
//!
//! ```text
//! token_f = value_f · num_weight_f + num_bias_f          numeric feature f
//! token_f = cat_embed_f[category]                        categorical feature f
//!           (row `width` = "none / unknown category")
//! X       = [cls; token_1; …; token_F]                   (F + 1) × d_model
//! block:  X = X + MHA(LN(X));  X = X + W2·relu(W1·LN(X) + b1) + b2
//! logit   = head_w · LN_final(X[0]) + head_b
//! MHA(H)  = concat_h softmax(Q_h K_hᵀ / √d_k) V_h · Woᵀ + bo,   d_k = d_model / n_heads
//! ```
//!
//! Layer norm uses ε = 1e-5 and the biased variance; the softmax subtracts
//! the row maximum before `libm::expf`; `1/√d_k` uses `libm::sqrtf`.
//!
//! # Input
//!
//! [`Attention::logit`] reads the *scaled* design row the schema builds
//! (`Encoding { scale: true, impute_numeric: true }`). A numeric feature
//! reads its value at `start` (a non-finite value, which a validated schema
//! never produces, is read as 0, the training mean). A categorical feature
//! looks at its `width` one-hot columns and takes the first one that is set
//! (`>= 0.5`); when none is set — an unknown category — it uses the extra
//! last embedding row, which training reserved for exactly that case.
//!
//! # Native and wasm agree bit for bit
//!
//! The matrix work uses `ndarray`, but only matrix·vector and vector·vector
//! products. Without its `blas` feature (never enabled here) ndarray computes
//! both with its portable eight-way unrolled dot product: plain `f32`
//! multiplies and adds in a fixed order, the same on x86-64 and wasm32 (Rust
//! never fuses them into FMA). Matrix·matrix products are avoided on
//! purpose: ndarray hands those to `matrixmultiply`, whose x86-64 kernels
//! are chosen at run time (AVX/FMA) and accumulate in another order than the
//! portable kernel wasm gets, so the last bits of a probability could differ
//! (by ~1e-7, well inside 1e-6). With the order fixed and `libm`'s `expf` and
//! `sqrtf`, the scorer produces the same bits everywhere (checked: margins
//! and `[CLS]` attention of a 2-block, 4-head, d_model 32 model on 200 rows
//! hash the same on x86-64, with and without `target-cpu=native`, and on
//! wasm32 in Node).
//!
//! The head reads only the final `[CLS]` state, so the last block computes
//! the keys and values of every token but the query, the update and the
//! feed-forward layer of the `[CLS]` row alone (the same numbers, less work). The *trainer*
//! (matrixmultiply matrix·matrix products, see train/src/nn) only agrees to within ~1e-6 in the
//! logit; that is what its tests check.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Slice};

use super::{Attribution, Cost, Design, Kind, Output};

/// Layer-norm epsilon (inside the square root, as in PyTorch and candle).
pub const LN_EPS: f32 = 1e-5;
/// Limits that keep a hostile model file from making scoring slow or huge.
pub const MAX_D_MODEL: usize = 1024;
pub const MAX_D_FFN: usize = 8192;
pub const MAX_BLOCKS: usize = 64;
/// Tokens = features + 1 (`[CLS]`). Scoring costs O(tokens² · d_model).
pub const MAX_TOKENS: usize = 4097;
/// Permutation pairs of the sampler of files without a background set.
const LEGACY_PAIRS: u32 = 16;
/// Cost units charged per token pair and head beyond the arithmetic
/// (slicing, softmax bookkeeping); see `Kind::cost`.
const PAIR_OVERHEAD: u64 = 50;

/// Where one original feature's design columns sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureSlot {
    /// First design column.
    pub start: u32,
    /// Number of design columns: 1 for a numeric feature, the number of
    /// training categories for a categorical one.
    pub width: u32,
    pub numeric: bool,
}

/// The feature slots of a schema's design row (one per feature, in order):
/// what the trainer passes to `fit` and the model stores.
pub fn feature_slots(schema: &crate::schema::Schema) -> Vec<FeatureSlot> {
    let mut start = 0u32;
    schema
        .features
        .iter()
        .map(|f| {
            let width = u32::try_from(f.width()).unwrap_or(u32::MAX);
            let slot = FeatureSlot {
                start,
                width,
                numeric: f.is_numeric(),
            };
            start = start.saturating_add(width);
            slot
        })
        .collect()
}

/// `y = (x − mean) / √(var + ε) · gamma + beta` over one token.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerNorm {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
}

/// One pre-norm transformer block. Every matrix is row-major with one row
/// per *output* (the PyTorch / candle `Linear` layout): `y[o] = b[o] +
/// Σ_i w[o · inputs + i] · x[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub ln_attn: LayerNorm,
    /// `d_model × d_model` each; head `h` owns outputs `h·d_k .. (h+1)·d_k`.
    pub wq: Vec<f32>,
    pub bq: Vec<f32>,
    pub wk: Vec<f32>,
    pub bk: Vec<f32>,
    pub wv: Vec<f32>,
    pub bv: Vec<f32>,
    /// Output projection, `d_model × d_model`.
    pub wo: Vec<f32>,
    pub bo: Vec<f32>,
    pub ln_ffn: LayerNorm,
    /// `d_ffn × d_model`.
    pub w1: Vec<f32>,
    pub b1: Vec<f32>,
    /// `d_model × d_ffn`.
    pub w2: Vec<f32>,
    pub b2: Vec<f32>,
}

/// The fitted tabular attention network (all `f32`, plain vectors so the
/// file format can mirror it field by field).
#[derive(Debug, Clone, PartialEq)]
pub struct Attention {
    pub d_model: usize,
    pub n_heads: usize,
    pub n_blocks: usize,
    pub d_ffn: usize,
    /// One entry per original feature, in schema order.
    pub features: Vec<FeatureSlot>,
    /// Per numeric feature (in feature order): `d_model` weights each.
    pub num_weight: Vec<f32>,
    /// Per numeric feature: `d_model` biases each.
    pub num_bias: Vec<f32>,
    /// Per categorical feature (in feature order): `(width + 1) × d_model`,
    /// one row per category and a last row for "none / unknown".
    pub cat_embed: Vec<f32>,
    /// The `[CLS]` token, `d_model`.
    pub cls: Vec<f32>,
    pub blocks: Vec<Block>,
    pub final_ln: LayerNorm,
    /// `d_model` weights of the logit head.
    pub head_w: Vec<f32>,
    pub head_b: f32,
}

/// Borrowed, shape-checked views of one block's weights.
struct BlockViews<'a> {
    ln_attn: (ArrayView1<'a, f32>, ArrayView1<'a, f32>),
    wq: ArrayView2<'a, f32>,
    bq: ArrayView1<'a, f32>,
    wk: ArrayView2<'a, f32>,
    bk: ArrayView1<'a, f32>,
    wv: ArrayView2<'a, f32>,
    bv: ArrayView1<'a, f32>,
    wo: ArrayView2<'a, f32>,
    bo: ArrayView1<'a, f32>,
    ln_ffn: (ArrayView1<'a, f32>, ArrayView1<'a, f32>),
    w1: ArrayView2<'a, f32>,
    b1: ArrayView1<'a, f32>,
    w2: ArrayView2<'a, f32>,
    b2: ArrayView1<'a, f32>,
}

fn vec1(v: &[f32], len: usize) -> Option<ArrayView1<'_, f32>> {
    (v.len() == len).then(|| ArrayView1::from(v))
}

fn mat(v: &[f32], rows: usize, cols: usize) -> Option<ArrayView2<'_, f32>> {
    ArrayView2::from_shape((rows, cols), v).ok()
}

fn ln_views(ln: &LayerNorm, d: usize) -> Option<(ArrayView1<'_, f32>, ArrayView1<'_, f32>)> {
    Some((vec1(&ln.gamma, d)?, vec1(&ln.beta, d)?))
}

impl Block {
    fn views(&self, d: usize, f: usize) -> Option<BlockViews<'_>> {
        Some(BlockViews {
            ln_attn: ln_views(&self.ln_attn, d)?,
            wq: mat(&self.wq, d, d)?,
            bq: vec1(&self.bq, d)?,
            wk: mat(&self.wk, d, d)?,
            bk: vec1(&self.bk, d)?,
            wv: mat(&self.wv, d, d)?,
            bv: vec1(&self.bv, d)?,
            wo: mat(&self.wo, d, d)?,
            bo: vec1(&self.bo, d)?,
            ln_ffn: ln_views(&self.ln_ffn, d)?,
            w1: mat(&self.w1, f, d)?,
            b1: vec1(&self.b1, f)?,
            w2: mat(&self.w2, d, f)?,
            b2: vec1(&self.b2, d)?,
        })
    }

    fn vectors(&self) -> [(&'static str, &[f32]); 16] {
        [
            ("ln_attn.gamma", &self.ln_attn.gamma),
            ("ln_attn.beta", &self.ln_attn.beta),
            ("wq", &self.wq),
            ("bq", &self.bq),
            ("wk", &self.wk),
            ("bk", &self.bk),
            ("wv", &self.wv),
            ("bv", &self.bv),
            ("wo", &self.wo),
            ("bo", &self.bo),
            ("ln_ffn.gamma", &self.ln_ffn.gamma),
            ("ln_ffn.beta", &self.ln_ffn.beta),
            ("w1", &self.w1),
            ("b1", &self.b1),
            ("w2", &self.w2),
            ("b2", &self.b2),
        ]
    }
}

/// Layer norm of one token.
fn layer_norm(
    x: ArrayView1<'_, f32>,
    (gamma, beta): (ArrayView1<'_, f32>, ArrayView1<'_, f32>),
) -> Array1<f32> {
    let n = x.len().max(1) as f32;
    let mean = x.iter().fold(0.0f32, |acc, &v| acc + v) / n;
    let var = x
        .iter()
        .fold(0.0f32, |acc, &v| acc + (v - mean) * (v - mean))
        / n;
    let inv = 1.0 / libm::sqrtf(var + LN_EPS);
    let mut out = Array1::zeros(x.len());
    ndarray::Zip::from(&mut out)
        .and(x)
        .and(gamma)
        .and(beta)
        .for_each(|o, &v, &g, &b| *o = (v - mean) * inv * g + b);
    out
}

/// `w · x + b` (matrix·vector: ndarray's portable dot, see the module docs).
fn affine(
    w: &ArrayView2<'_, f32>,
    b: &ArrayView1<'_, f32>,
    x: &ArrayView1<'_, f32>,
) -> Array1<f32> {
    w.dot(x) + b
}

/// Softmax in place: subtract the maximum, `libm::expf`, divide by the sum.
fn softmax(v: &mut [f32]) {
    let max = v
        .iter()
        .fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m });
    let mut sum = 0.0f32;
    for x in v.iter_mut() {
        *x = libm::expf(*x - max);
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

impl Attention {
    /// Log-odds of the positive class for one scaled design row.
    ///
    /// A model that did not pass [`Attention::check_shapes`] returns NaN (which
    /// the calibration turns into 0.5) instead of panicking.
    pub fn logit(&self, x: &[f32]) -> f32 {
        self.forward(x, false).map_or(f32::NAN, |(logit, _)| logit)
    }

    /// Per original feature (schema order): how much the `[CLS]` query of
    /// the **last** block attends to that feature's token, averaged over the
    /// heads. The weights are *not* renormalised: they sum to `1 − w_cls`,
    /// where `w_cls` is the head-averaged weight `[CLS]` puts on itself.
    /// Attention weights show where the model looked, not signed effects;
    /// use them as a ranking, not as contributions to the score. Empty for
    /// a model that did not pass [`Attention::check_shapes`].
    pub fn cls_attention(&self, x: &[f32]) -> Vec<f32> {
        self.forward(x, true).map(|(_, w)| w).unwrap_or_default()
    }

    /// Number of design columns the model reads.
    pub fn input_width(&self) -> usize {
        self.features.iter().map(|f| f.width as usize).sum()
    }

    /// The first-layer tokens: `[CLS]` then one per feature.
    fn embed(&self, x: &[f32]) -> Option<Array2<f32>> {
        let d = self.d_model;
        let mut tokens = Array2::zeros((self.features.len() + 1, d));
        tokens.row_mut(0).assign(&vec1(&self.cls, d)?);
        let (mut num, mut cat) = (0usize, 0usize);
        for (slot, mut token) in self
            .features
            .iter()
            .zip(tokens.rows_mut().into_iter().skip(1))
        {
            let start = slot.start as usize;
            let width = slot.width as usize;
            if slot.numeric {
                let v = x
                    .get(start)
                    .copied()
                    .filter(|v| v.is_finite())
                    .unwrap_or(0.0);
                let w = self.num_weight.get(num..num + d)?;
                let b = self.num_bias.get(num..num + d)?;
                for ((t, &w), &b) in token.iter_mut().zip(w).zip(b) {
                    *t = v * w + b;
                }
                num += d;
            } else {
                let k = (0..width)
                    .find(|&k| {
                        start
                            .checked_add(k)
                            .and_then(|c| x.get(c))
                            .is_some_and(|&v| v >= 0.5)
                    })
                    .unwrap_or(width);
                let row_start = cat.checked_add(k.checked_mul(d)?)?;
                let row = self.cat_embed.get(row_start..row_start.checked_add(d)?)?;
                token.assign(&ArrayView1::from(row));
                cat = cat.checked_add(width.checked_add(1)?.checked_mul(d)?)?;
            }
        }
        Some(tokens)
    }

    /// The whole forward pass; with `want_attention`, also the last block's
    /// head-averaged `[CLS]` attention over the feature tokens.
    fn forward(&self, x: &[f32], want_attention: bool) -> Option<(f32, Vec<f32>)> {
        let d = self.d_model;
        if self.n_heads == 0 || d % self.n_heads != 0 || self.blocks.len() != self.n_blocks {
            return None;
        }
        let dk = d / self.n_heads;
        let scale = 1.0 / libm::sqrtf(dk as f32);
        let mut tokens = self.embed(x)?;
        let n = tokens.nrows();
        let mut attention = Vec::new();
        let mut scores = vec![0.0f32; n];
        for (b, block) in self.blocks.iter().enumerate() {
            let v = block.views(d, self.d_ffn)?;
            let last = b + 1 == self.blocks.len();
            // The head reads only [CLS]: in the last block only its row needs
            // a query, an update and the feed-forward layer.
            let queries = if last { 1 } else { n };
            // Attention sub-layer: project every normalised token.
            let mut q = Array2::<f32>::zeros((queries, d));
            let mut k = Array2::<f32>::zeros((n, d));
            let mut val = Array2::<f32>::zeros((n, d));
            for i in 0..n {
                let h = layer_norm(tokens.row(i), v.ln_attn);
                if i < queries {
                    q.row_mut(i).assign(&affine(&v.wq, &v.bq, &h.view()));
                }
                k.row_mut(i).assign(&affine(&v.wk, &v.bk, &h.view()));
                val.row_mut(i).assign(&affine(&v.wv, &v.bv, &h.view()));
            }
            if last && want_attention {
                attention = vec![0.0f32; n];
            }
            let mut update = Array2::<f32>::zeros((queries, d));
            for i in 0..queries {
                let mut ctx = Array1::<f32>::zeros(d);
                for head in 0..self.n_heads {
                    let cols = Slice::from(head * dk..(head + 1) * dk);
                    let qi = q.row(i).slice_axis_move(Axis(0), cols);
                    for (j, sc) in scores.iter_mut().enumerate() {
                        *sc = qi.dot(&k.row(j).slice_axis_move(Axis(0), cols)) * scale;
                    }
                    softmax(&mut scores);
                    if i == 0 && last && want_attention {
                        for (a, &p) in attention.iter_mut().zip(&scores) {
                            *a += p;
                        }
                    }
                    let mut ctx_h = ctx.slice_axis_mut(Axis(0), cols);
                    for (j, &p) in scores.iter().enumerate() {
                        ctx_h.scaled_add(p, &val.row(j).slice_axis_move(Axis(0), cols));
                    }
                }
                update.row_mut(i).assign(&affine(&v.wo, &v.bo, &ctx.view()));
            }
            for (mut row, u) in tokens.rows_mut().into_iter().zip(update.rows()) {
                row += &u;
            }
            // Feed-forward sub-layer.
            for mut row in tokens.rows_mut().into_iter().take(queries) {
                let h = layer_norm(row.view(), v.ln_ffn);
                let hidden = affine(&v.w1, &v.b1, &h.view()).mapv_into(|z| z.max(0.0));
                row += &affine(&v.w2, &v.b2, &hidden.view());
            }
        }
        let cls = layer_norm(tokens.row(0), ln_views(&self.final_ln, d)?);
        let logit = vec1(&self.head_w, d)?.dot(&cls) + self.head_b;
        let heads = self.n_heads as f32;
        let per_feature = attention.iter().skip(1).map(|a| a / heads).collect();
        Some((logit, per_feature))
    }

    /// Checks every size and value so that scoring cannot index out of
    /// bounds, overflow, or run away on a hostile file: dimensions within
    /// limits, heads dividing `d_model`, feature slots tiling the design row
    /// (`design_width` columns) in order, every weight vector of exactly the
    /// length the shapes imply, and every weight finite.
    pub fn check_shapes(&self, design_width: usize) -> Result<(), String> {
        let d = self.d_model;
        if d == 0 || d > MAX_D_MODEL {
            return Err(format!("d_model {d} is outside 1..={MAX_D_MODEL}"));
        }
        if self.n_heads == 0 || d % self.n_heads != 0 {
            return Err(format!("{} heads do not divide d_model {d}", self.n_heads));
        }
        if self.d_ffn == 0 || self.d_ffn > MAX_D_FFN {
            return Err(format!("d_ffn {} is outside 1..={MAX_D_FFN}", self.d_ffn));
        }
        if self.n_blocks == 0 || self.n_blocks > MAX_BLOCKS {
            return Err(format!(
                "{} blocks is outside 1..={MAX_BLOCKS}",
                self.n_blocks
            ));
        }
        if self.blocks.len() != self.n_blocks {
            return Err(format!(
                "{} blocks stored, {} declared",
                self.blocks.len(),
                self.n_blocks
            ));
        }
        if self.features.is_empty() || self.features.len() >= MAX_TOKENS {
            return Err(format!(
                "{} features is outside 1..{MAX_TOKENS}",
                self.features.len()
            ));
        }
        let too_big = || "sizes overflow".to_string();
        let (mut col, mut numeric, mut cat_len) = (0usize, 0usize, 0usize);
        for (i, f) in self.features.iter().enumerate() {
            if f.start as usize != col {
                return Err(format!(
                    "feature {i} starts at column {}, expected {col}",
                    f.start
                ));
            }
            if f.numeric {
                if f.width != 1 {
                    return Err(format!("numeric feature {i} has width {}", f.width));
                }
                numeric += 1;
            } else {
                let rows = (f.width as usize).checked_add(1).ok_or_else(too_big)?;
                cat_len = rows
                    .checked_mul(d)
                    .and_then(|r| cat_len.checked_add(r))
                    .ok_or_else(too_big)?;
            }
            col = col.checked_add(f.width as usize).ok_or_else(too_big)?;
        }
        if col != design_width {
            return Err(format!(
                "features cover {col} design columns, the schema has {design_width}"
            ));
        }
        let num_len = numeric * d;
        let mut expect: Vec<(String, usize, &[f32])> = vec![
            ("num_weight".into(), num_len, &self.num_weight),
            ("num_bias".into(), num_len, &self.num_bias),
            ("cat_embed".into(), cat_len, &self.cat_embed),
            ("cls".into(), d, &self.cls),
            ("final_ln.gamma".into(), d, &self.final_ln.gamma),
            ("final_ln.beta".into(), d, &self.final_ln.beta),
            ("head_w".into(), d, &self.head_w),
        ];
        let f = self.d_ffn;
        for (b, block) in self.blocks.iter().enumerate() {
            let sizes = [
                d,
                d,
                d * d,
                d,
                d * d,
                d,
                d * d,
                d,
                d * d,
                d,
                d,
                d,
                f * d,
                f,
                d * f,
                d,
            ];
            for ((name, v), len) in block.vectors().into_iter().zip(sizes) {
                expect.push((format!("block {b} {name}"), len, v));
            }
        }
        for (name, len, v) in expect {
            if v.len() != len {
                return Err(format!("{name} has {} values, expected {len}", v.len()));
            }
            if let Some(k) = v.iter().position(|w| !w.is_finite()) {
                return Err(format!("{name}[{k}] is not finite"));
            }
        }
        if !self.head_b.is_finite() {
            return Err("head_b is not finite".into());
        }
        Ok(())
    }
}

impl Attention {
    /// Cost units of one forward pass (see [`Kind::cost`]).
    fn predict_cost(&self) -> u64 {
        let (t, dm, ffn) = (
            self.features.len() as u64 + 1,
            self.d_model as u64,
            self.d_ffn as u64,
        );
        // Per block: Q, K, V, O projections, attention scores and mixing
        // (with one expf per score), a fixed overhead per token pair and
        // head (measured: a model of 826 features and 8 heads of width 1 is
        // dominated by it), the feed-forward layer; then the head.
        let heads = self.n_heads as u64;
        let block = t * dm * dm * 4
            + t * t * (2 * dm + super::EXP_COST)
            + t * t * heads * PAIR_OVERHEAD
            + t * dm * ffn * 2;
        (self.n_blocks as u64).saturating_mul(block) + t * dm
    }
}

impl Kind for Attention {
    const TAG: &'static str = "attention";
    /// The layout format v2 introduced, frozen there.
    type Wire = crate::format::v2::AttentionV2;
    const IN_LEGACY_SLOT: bool = true;

    fn to_wire(&self) -> Self::Wire {
        crate::format::v2::attention_to(self)
    }

    fn from_wire(w: Self::Wire) -> Result<Self, String> {
        Ok(crate::format::v2::attention_from(w))
    }

    fn validate(&self, d: &Design<'_>) -> Result<(), String> {
        self.check_shapes(d.width)?;
        if self.features.len() != d.schema.features.len() {
            return Err("attention model and schema disagree on the features".into());
        }
        for (slot, f) in self.features.iter().zip(&d.schema.features) {
            if slot.width as usize != f.width() || slot.numeric != f.is_numeric() {
                return Err(format!(
                    "attention model: feature '{}' has the wrong layout",
                    f.name
                ));
            }
        }
        Ok(())
    }

    fn output_kind(&self) -> Output {
        Output::Score
    }

    fn output(&self, x: &[f32]) -> f32 {
        self.logit(x)
    }

    /// Shapley values against the file's background set, or (older files)
    /// sampling against the mean row; a transformer forward pass costs
    /// ~50× a kernel row, so that sampler used half the permutations of the
    /// RBF SVM's.
    fn explain(&self, d: &Design<'_>, x: &[f32], scale: f64, offset: f64) -> Attribution {
        let mut eval = |xs: &[f32], out: &mut [f32]| self.outputs(xs, d.width, out);
        let cost = self.predict_cost();
        super::model_agnostic(
            d,
            x,
            (scale, offset),
            cost,
            LEGACY_PAIRS,
            crate::explain::shapley::Players::one_each(d.groups),
            &mut eval,
        )
    }

    fn method(&self) -> &'static str {
        "sampling Shapley values (32 antithetic permutations, against the training means)"
    }

    fn cost(&self, d: &Design<'_>) -> Cost {
        let predict = self.predict_cost();
        Cost {
            predict,
            explain: super::shapley_cost(d, predict, LEGACY_PAIRS, d.groups.len()),
        }
    }

    fn uses_background_set(&self) -> bool {
        true
    }

    fn summary(&self) -> String {
        format!(
            "attention: {} blocks, {} heads, d_model {}, d_ffn {}",
            self.n_blocks, self.n_heads, self.d_model, self.d_ffn
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ln(gamma: &[f32], beta: &[f32]) -> LayerNorm {
        LayerNorm {
            gamma: gamma.to_vec(),
            beta: beta.to_vec(),
        }
    }

    /// d_model 2, one head, one block, d_ffn 3; feature 0 numeric (column
    /// 0), feature 1 categorical with two categories (columns 1 and 2).
    fn tiny() -> Attention {
        Attention {
            d_model: 2,
            n_heads: 1,
            n_blocks: 1,
            d_ffn: 3,
            features: vec![
                FeatureSlot {
                    start: 0,
                    width: 1,
                    numeric: true,
                },
                FeatureSlot {
                    start: 1,
                    width: 2,
                    numeric: false,
                },
            ],
            num_weight: vec![1.0, -0.5],
            num_bias: vec![0.2, 0.1],
            cat_embed: vec![0.3, -0.2, -0.4, 0.6, 0.05, 0.15],
            cls: vec![0.1, 0.3],
            blocks: vec![Block {
                ln_attn: ln(&[1.0, 0.5], &[0.0, 0.1]),
                wq: vec![0.5, -0.3, 0.2, 0.8],
                bq: vec![0.1, -0.1],
                wk: vec![-0.4, 0.6, 0.7, 0.1],
                bk: vec![0.0, 0.2],
                wv: vec![0.9, 0.2, -0.5, 0.4],
                bv: vec![0.05, -0.05],
                wo: vec![0.6, -0.2, 0.3, 0.5],
                bo: vec![0.0, 0.1],
                ln_ffn: ln(&[0.8, 1.2], &[0.1, -0.1]),
                w1: vec![0.5, -0.5, 1.0, 0.3, -0.7, 0.2],
                b1: vec![0.0, 0.1, -0.2],
                w2: vec![0.4, -0.3, 0.6, 0.2, 0.5, -0.4],
                b2: vec![0.05, 0.0],
            }],
            final_ln: ln(&[1.5, -0.5], &[0.2, 0.0]),
            head_w: vec![0.7, -1.1],
            head_b: 0.3,
        }
    }

    /// The tiny model's forward pass written out by hand in f64, for the
    /// numeric value `v` and the categorical embedding row `cat` (2 = none).
    /// Returns the logit and the [CLS] attention over [CLS, f0, f1].
    fn by_hand(v: f64, cat: usize) -> (f64, [f64; 3]) {
        // Layer norm of a 2-vector: mean, biased variance, eps 1e-5.
        fn norm(t: [f64; 2], g: [f64; 2], b: [f64; 2]) -> [f64; 2] {
            let mean = (t[0] + t[1]) / 2.0;
            let var = ((t[0] - mean).powi(2) + (t[1] - mean).powi(2)) / 2.0;
            let s = (var + 1e-5).sqrt();
            [
                (t[0] - mean) / s * g[0] + b[0],
                (t[1] - mean) / s * g[1] + b[1],
            ]
        }
        // Row-major 2x2 matrix times vector plus bias.
        fn lin(w: [f64; 4], b: [f64; 2], h: [f64; 2]) -> [f64; 2] {
            [
                w[0] * h[0] + w[1] * h[1] + b[0],
                w[2] * h[0] + w[3] * h[1] + b[1],
            ]
        }
        let cat_rows = [[0.3, -0.2], [-0.4, 0.6], [0.05, 0.15]];
        // Tokens: [CLS], numeric v*w + b, category row.
        let mut x = [[0.1, 0.3], [v * 1.0 + 0.2, v * -0.5 + 0.1], cat_rows[cat]];
        // Attention sub-layer (one head, d_k = 2).
        let h: Vec<[f64; 2]> = x.iter().map(|t| norm(*t, [1.0, 0.5], [0.0, 0.1])).collect();
        let q: Vec<[f64; 2]> = h
            .iter()
            .map(|t| lin([0.5, -0.3, 0.2, 0.8], [0.1, -0.1], *t))
            .collect();
        let k: Vec<[f64; 2]> = h
            .iter()
            .map(|t| lin([-0.4, 0.6, 0.7, 0.1], [0.0, 0.2], *t))
            .collect();
        let val: Vec<[f64; 2]> = h
            .iter()
            .map(|t| lin([0.9, 0.2, -0.5, 0.4], [0.05, -0.05], *t))
            .collect();
        let mut cls_probs = [0.0; 3];
        let mut upd = [[0.0; 2]; 3];
        for i in 0..3 {
            let s: Vec<f64> = (0..3)
                .map(|j| (q[i][0] * k[j][0] + q[i][1] * k[j][1]) / 2f64.sqrt())
                .collect();
            let e: Vec<f64> = s.iter().map(|z| z.exp()).collect();
            let total: f64 = e.iter().sum();
            let p: Vec<f64> = e.iter().map(|z| z / total).collect();
            if i == 0 {
                cls_probs = [p[0], p[1], p[2]];
            }
            let ctx = [
                p[0] * val[0][0] + p[1] * val[1][0] + p[2] * val[2][0],
                p[0] * val[0][1] + p[1] * val[1][1] + p[2] * val[2][1],
            ];
            upd[i] = lin([0.6, -0.2, 0.3, 0.5], [0.0, 0.1], ctx);
        }
        for i in 0..3 {
            x[i][0] += upd[i][0];
            x[i][1] += upd[i][1];
        }
        // Feed-forward sub-layer on [CLS] (the only token the head reads).
        let h2 = norm(x[0], [0.8, 1.2], [0.1, -0.1]);
        let w1 = [[0.5, -0.5], [1.0, 0.3], [-0.7, 0.2]];
        let b1 = [0.0, 0.1, -0.2];
        let hidden: Vec<f64> = (0..3)
            .map(|r| (w1[r][0] * h2[0] + w1[r][1] * h2[1] + b1[r]).max(0.0))
            .collect();
        let w2 = [[0.4, -0.3, 0.6], [0.2, 0.5, -0.4]];
        let b2 = [0.05, 0.0];
        for o in 0..2 {
            x[0][o] += w2[o][0] * hidden[0] + w2[o][1] * hidden[1] + w2[o][2] * hidden[2] + b2[o];
        }
        let z = norm(x[0], [1.5, -0.5], [0.2, 0.0]);
        (0.7 * z[0] - 1.1 * z[1] + 0.3, cls_probs)
    }

    #[test]
    fn tiny_model_matches_hand_computation() {
        let m = tiny();
        assert_eq!(m.check_shapes(3), Ok(()));
        for (x, v, cat) in [
            ([0.5f32, 0.0, 1.0], 0.5, 1),
            ([-1.25, 1.0, 0.0], -1.25, 0),
            // An unknown category (no one-hot column set) uses the extra row.
            ([2.0, 0.0, 0.0], 2.0, 2),
        ] {
            let (logit, probs) = by_hand(v, cat);
            let got = m.logit(&x) as f64;
            assert!((got - logit).abs() < 1e-5, "x {x:?}: {got} vs {logit}");
            let att = m.cls_attention(&x);
            assert_eq!(att.len(), 2);
            assert!((att[0] as f64 - probs[1]).abs() < 1e-6);
            assert!((att[1] as f64 - probs[2]).abs() < 1e-6);
            // Documented: not renormalised, sums to 1 - the CLS self-weight.
            let sum: f64 = att.iter().map(|&a| a as f64).sum();
            assert!(
                (sum - (1.0 - probs[0])).abs() < 1e-6,
                "{sum} vs {}",
                1.0 - probs[0]
            );
            assert!(sum < 1.0);
        }
        // Different inputs give different outputs (the test is not vacuous).
        assert!((by_hand(0.5, 1).0 - by_hand(0.5, 0).0).abs() > 1e-3);
    }

    #[test]
    fn multi_head_uniform_attention_and_extreme_scores() {
        // Two heads, d_model 4, three numeric features. With zero query
        // weights every score is 0, so each head attends uniformly: each of
        // the 4 tokens gets 1/4 and the features together 3/4.
        let d = 4;
        let blk = Block {
            ln_attn: ln(&[1.0; 4], &[0.0; 4]),
            wq: vec![0.0; 16],
            bq: vec![0.0; 4],
            wk: (0..16).map(|i| i as f32 * 0.1 - 0.7).collect(),
            bk: vec![0.1; 4],
            wv: (0..16).map(|i| (i % 5) as f32 * 0.2 - 0.4).collect(),
            bv: vec![0.0; 4],
            wo: (0..16)
                .map(|i| if i % 5 == 0 { 1.0 } else { 0.0 })
                .collect(),
            bo: vec![0.0; 4],
            ln_ffn: ln(&[1.0; 4], &[0.0; 4]),
            w1: vec![0.3; 8],
            b1: vec![0.0; 2],
            w2: vec![-0.2; 8],
            b2: vec![0.0; 4],
        };
        let mut m = Attention {
            d_model: d,
            n_heads: 2,
            n_blocks: 2,
            d_ffn: 2,
            features: (0..3)
                .map(|i| FeatureSlot {
                    start: i,
                    width: 1,
                    numeric: true,
                })
                .collect(),
            num_weight: (0..12).map(|i| (i as f32 - 6.0) * 0.25).collect(),
            num_bias: vec![0.0; 12],
            cat_embed: Vec::new(),
            cls: vec![0.5, -0.5, 0.25, 0.0],
            blocks: vec![blk.clone(), blk],
            final_ln: ln(&[1.0; 4], &[0.0; 4]),
            head_w: vec![1.0, -1.0, 0.5, 0.25],
            head_b: 0.0,
        };
        assert_eq!(m.check_shapes(3), Ok(()));
        let x = [0.3f32, -1.0, 2.0];
        let att = m.cls_attention(&x);
        assert_eq!(att.len(), 3);
        for a in &att {
            assert!((a - 0.25).abs() < 1e-7, "{att:?}");
        }
        assert!(m.logit(&x).is_finite());
        // Huge scores: the softmax subtracts its maximum, nothing overflows.
        m.blocks[1].wq = vec![1e4; 16];
        m.blocks[1].bq = vec![1e4; 4];
        let att = m.cls_attention(&x);
        assert!(
            att.iter().all(|a| a.is_finite() && (0.0..=1.0).contains(a)),
            "{att:?}"
        );
        assert!(m.logit(&x).is_finite());
    }

    #[test]
    fn feature_slots_follow_the_schema_layout() {
        use crate::schema::{
            CategoricalFeature, Encoding, Feature, FeatureKind, NumericFeature, Schema,
        };
        let numeric = |name: &str| Feature {
            name: name.into(),
            kind: FeatureKind::Numeric(NumericFeature {
                min: 0.0,
                max: 1.0,
                mean: 0.5,
                std: 1.0,
                median: 0.5,
            }),
            missing_rate: 0.0,
        };
        let schema = Schema {
            features: vec![
                numeric("age"),
                Feature {
                    name: "housing".into(),
                    kind: FeatureKind::Categorical(CategoricalFeature {
                        categories: vec!["own".into(), "rent".into(), "free".into()],
                        frequencies: vec![0.5, 0.3, 0.2],
                        mode: 0,
                    }),
                    missing_rate: 0.0,
                },
                numeric("amount"),
            ],
            label: "y".into(),
            positive: "bad".into(),
            negative: "good".into(),
            encoding: Encoding {
                scale: true,
                impute_numeric: true,
            },
        };
        let slot = |start, width, numeric| FeatureSlot {
            start,
            width,
            numeric,
        };
        assert_eq!(
            feature_slots(&schema),
            vec![slot(0, 1, true), slot(1, 3, false), slot(4, 1, true)]
        );
        assert_eq!(schema.width(), 5);
    }

    #[test]
    fn validate_rejects_wrong_shapes_and_values() {
        let ok = tiny();
        assert!(ok
            .check_shapes(4)
            .unwrap_err()
            .contains("cover 3 design columns"));
        type Break = fn(&mut Attention);
        let cases: [(Break, &str); 12] = [
            (
                |m| m.blocks[0].wq.pop().map(drop).unwrap_or(()),
                "block 0 wq has 3 values",
            ),
            (|m| m.blocks[0].w2.push(0.0), "block 0 w2 has 7 values"),
            (|m| m.blocks[0].ln_ffn.beta.clear(), "block 0 ln_ffn.beta"),
            (
                |m| m.cat_embed.truncate(4),
                "cat_embed has 4 values, expected 6",
            ),
            (|m| m.num_bias.push(1.0), "num_bias"),
            (|m| m.head_w.push(1.0), "head_w"),
            (|m| m.n_heads = 3, "heads do not divide"),
            (|m| m.n_blocks = 2, "1 blocks stored, 2 declared"),
            (|m| m.features[1].start = 2, "feature 1 starts at column 2"),
            (|m| m.features[0].width = 2, "numeric feature 0 has width 2"),
            (
                |m| m.blocks[0].bk[1] = f32::NAN,
                "block 0 bk[1] is not finite",
            ),
            (|m| m.d_model = 0, "d_model 0"),
        ];
        for (breaks, message) in cases {
            let mut m = tiny();
            breaks(&mut m);
            let err = m.check_shapes(3).unwrap_err();
            assert!(err.contains(message), "{err} (expected: {message})");
            // Scoring an invalid model never panics.
            let _ = m.logit(&[0.5, 0.0, 1.0]);
            let _ = m.cls_attention(&[0.5, 0.0, 1.0]);
        }
        let mut m = tiny();
        m.blocks[0].wq.pop();
        assert!(m.logit(&[0.5, 0.0, 1.0]).is_nan());
        assert!(m.cls_attention(&[0.5, 0.0, 1.0]).is_empty());
        // A short or non-finite row on a valid model: defined, no panic.
        assert!(ok.logit(&[]).is_finite());
        assert_eq!(ok.logit(&[f32::NAN, 0.0, 1.0]), ok.logit(&[0.0, 0.0, 1.0]));
    }
}
