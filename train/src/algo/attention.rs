//! Tabular attention (FT-Transformer style) trained with candle's autodiff
//! (`--model attention`). The network is the one the runtime scores
//! ([`ferrisk::kinds::attention`]): one token per original feature (numeric:
//! `value · w + b`; categorical: an embedding row, plus a reserved
//! "none / unknown" row), a `[CLS]` token in front, `n_blocks` pre-norm
//! blocks (`x + MHA(LN(x))`, `x + FFN(LN(x))` with ReLU), and a linear head
//! on the final layer-normed `[CLS]` state giving the log-odds.
//!
//! - **Library.** candle 0.9 (`candle-core` + `candle-nn`, CPU, no default
//!   features): autodiff over plain tensor ops, and its AdamW. Chosen over
//!   burn 0.22 (ndarray backend + autodiff): measured cold release builds
//!   of the bare libraries on this 2-core machine, under the same load,
//!   were 4 min (candle) against 11 min (burn, ~40 more crates including
//!   its GPU-compiler layer). Not candle 0.11, which depends on `tokenizers`.
//!   candle's fused softmax and layer norm have no backward pass, so both
//!   are written here from differentiable primitives.
//! - **Optimiser.** AdamW; weight decay on the projection and head matrices
//!   only (not on biases, layer norms, `[CLS]` or the feature tokenizer),
//!   as FT-Transformer does.
//! - **Regularisation** (training only): dropout on the attention
//!   probabilities, on the FFN hidden layer, and on each sub-layer's output
//!   before it is added to the residual stream; and *feature dropout*:
//!   each input value is replaced, with probability `feature_dropout`, by
//!   what the runtime uses for a missing one (a categorical's reserved
//!   "unknown" row, a numeric 0 = the training mean). On German credit this
//!   was the regulariser that mattered (5-fold AUC 0.775 → 0.788), and it
//!   gives the reserved row a learned meaning for unseen categories.
//! - **Early stopping.** A stratified, seeded `validation_fraction` of the
//!   rows is held out; after each epoch its mean log-loss (eval mode) is
//!   measured, training stops `patience` epochs after the best one, and the
//!   best epoch's weights are exported. With `validation_fraction = 0` every
//!   epoch runs and the last weights are kept.
//! - **Determinism.** Every random number (initial weights, validation
//!   split, batch order, dropout masks, feature dropout) comes
//!   from one seeded `SmallRng` in a fixed order; candle's own (unseedable)
//!   random functions are never called. candle's CPU matrix products (the
//!   `gemm` crate) split work over output tiles only, so the result does not
//!   depend on the thread count: one seed gives identical weights on one
//!   machine. (Across CPUs with different SIMD support the last bits may
//!   differ, as gemm picks its kernels at run time.)
//! - **Sample weights.** Each row's loss is multiplied by its weight over
//!   the mean weight of the training rows, so a batch's loss is an unbiased
//!   estimate of the weighted mean loss Σwᵢℓᵢ / Σwᵢ (what k copies of a row
//!   of weight k give in expectation; batches are drawn uniformly, so the
//!   two are equivalent in distribution, not step for step). The
//!   validation loss of early stopping is the weighted mean. With every
//!   weight 1 the unweighted code path runs (bit for bit the models of
//!   before).
//! - **Threads.** The only threaded work is candle's matrix products
//!   (gemm over rayon), run in the pool the caller installs; see
//!   Determinism.
//! - **Export.** Weights are copied out as `f32` in the runtime's layout
//!   (row-major, one row per output); the tests check that the runtime's
//!   forward pass reproduces this network's eval-mode logits.

use candle_core::{Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use ferrisk::kinds::attention::{Attention, Block, FeatureSlot, LayerNorm};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::bins::Matrix;
use crate::split;

/// Layer-norm epsilon; must equal the runtime's.
const LN_EPS: f64 = ferrisk::kinds::attention::LN_EPS as f64;
/// Rows per forward pass when only evaluating (no gradients kept).
const EVAL_BATCH: usize = 1024;

/// Hyper-parameters of [`fit`]. Build with the setters:
/// `AttentionParams::default().d_model(16).epochs(50)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionParams {
    /// Token width; a multiple of `n_heads`.
    pub d_model: usize,
    pub n_heads: usize,
    pub n_blocks: usize,
    /// Hidden width of each block's feed-forward layer.
    pub d_ffn: usize,
    /// Dropout rate (attention, FFN, residual), in [0, 1).
    pub dropout: f64,
    /// Feature dropout, in [0, 1): in training batches each value is
    /// replaced with this probability by what the runtime uses for a
    /// missing one (a categorical's "unknown" row, a numeric 0 = the
    /// training mean). Regularises, and teaches the reserved row its meaning.
    pub feature_dropout: f64,
    /// AdamW learning rate.
    pub lr: f64,
    /// AdamW decoupled weight decay (projection and head matrices only).
    pub weight_decay: f64,
    /// Maximum epochs.
    pub epochs: usize,
    pub batch_size: usize,
    /// Stop this many epochs after the best validation epoch; 0 disables.
    pub patience: usize,
    /// Stratified fraction held out for early stopping, in [0, 1); 0 trains
    /// on every row for `epochs` epochs.
    pub validation_fraction: f64,
    pub seed: u64,
    /// Stop after this many seconds of training (checked between batches),
    /// keeping the best epoch so far; `None` = no limit. A stop requested
    /// through [`crate::interrupt`] (Ctrl-C) ends training the same way.
    pub max_seconds: Option<f64>,
}

/// The defaults were tuned on German credit (1000 rows; 5-fold CV and
/// three 70/30 splits): `lr` 3e-4 and `feature_dropout` 0.2 mattered.
/// Weight decay from 1e-4 to 1e-2, a batch of 64 or 256, and patience 30
/// made no reliable difference; dropout 0.2, one block, `d_model` 16, or
/// `lr` 1e-4 or 1e-3 were worse.
impl Default for AttentionParams {
    fn default() -> Self {
        AttentionParams {
            d_model: 32,
            n_heads: 4,
            n_blocks: 2,
            d_ffn: 64,
            dropout: 0.1,
            feature_dropout: 0.2,
            lr: 3e-4,
            weight_decay: 1e-4,
            epochs: 200,
            batch_size: 64,
            patience: 20,
            validation_fraction: 0.15,
            seed: 42,
            max_seconds: None,
        }
    }
}

impl AttentionParams {
    setters! {
        d_model: usize,
        n_heads: usize,
        n_blocks: usize,
        d_ffn: usize,
        dropout: f64,
        feature_dropout: f64,
        lr: f64,
        weight_decay: f64,
        epochs: usize,
        batch_size: usize,
        patience: usize,
        validation_fraction: f64,
        seed: u64,
        max_seconds: Option<f64>,
    }

    /// Batch size, learning rate and patience for a table of `rows`
    /// training rows (what `ferrisk train` uses unless they are given).
    /// Small tables keep the German-credit tuning (batch 64, lr 3e-4,
    /// patience 20). A large table's epoch is many optimiser steps, so it
    /// needs fewer epochs and less patience, and a larger batch keeps the
    /// cores busy (fewer, larger matrix products): from 4,000 rows the
    /// batch is 256 with lr 1e-3, from 20,000 rows 1024 with lr 3e-3 (lr
    /// grows about linearly with the batch), and patience falls as
    /// 40,000 / rows, to at least 3 epochs. On Bank Marketing (31,647
    /// rows) batch 256 / lr 1e-3 stopped at epoch 11 with test AUC 0.780,
    /// batch 1024 / lr 3e-3 at epoch 24 with 0.789.
    pub fn sized(mut self, rows: usize) -> Self {
        if rows >= 20_000 {
            self.batch_size = 1024;
            self.lr = 3e-3;
        } else if rows >= 4_000 {
            self.batch_size = 256;
            self.lr = 1e-3;
        }
        if rows >= 4_000 {
            self.patience = (40_000 / rows).clamp(3, 10);
        }
        self
    }

    /// Checks every parameter; [`fit`] calls this first.
    pub fn validate(&self) -> Result<(), AttentionError> {
        use ferrisk::kinds::attention::{MAX_BLOCKS, MAX_D_FFN, MAX_D_MODEL};
        fn bad(name: &'static str, reason: &str) -> Result<(), AttentionError> {
            Err(AttentionError::InvalidParam {
                name,
                reason: reason.to_string(),
            })
        }
        if self.d_model == 0 || self.d_model > MAX_D_MODEL {
            return bad("d_model", &format!("must be in 1..={MAX_D_MODEL}"));
        }
        if self.n_heads == 0 || self.d_model % self.n_heads != 0 {
            return bad("n_heads", "must be at least 1 and divide d_model");
        }
        if self.n_blocks == 0 || self.n_blocks > MAX_BLOCKS {
            return bad("n_blocks", &format!("must be in 1..={MAX_BLOCKS}"));
        }
        if self.d_ffn == 0 || self.d_ffn > MAX_D_FFN {
            return bad("d_ffn", &format!("must be in 1..={MAX_D_FFN}"));
        }
        if !(self.dropout >= 0.0 && self.dropout < 1.0) {
            return bad("dropout", "must be in [0, 1)");
        }
        if !(self.feature_dropout >= 0.0 && self.feature_dropout < 1.0) {
            return bad("feature_dropout", "must be in [0, 1)");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", "must be a finite number > 0");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad("weight_decay", "must be a finite number >= 0");
        }
        if self.epochs == 0 {
            return bad("epochs", "must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        if !(self.validation_fraction >= 0.0 && self.validation_fraction < 1.0) {
            return bad("validation_fraction", "must be in [0, 1)");
        }
        if self
            .max_seconds
            .is_some_and(|t| !(t.is_finite() && t > 0.0))
        {
            return bad("max_seconds", "must be a finite number > 0");
        }
        Ok(())
    }

    /// Validates and fits; see [`fit`].
    pub fn fit(
        &self,
        x: &Matrix,
        y: &[bool],
        w: &[f32],
        features: &[FeatureSlot],
        progress: &mut dyn FnMut(&Epoch),
    ) -> Result<Attention, AttentionError> {
        fit(x, y, w, features, self, progress)
    }

    /// [`AttentionParams::fit`] with how training ended.
    pub fn fit_outcome(
        &self,
        x: &Matrix,
        y: &[bool],
        w: &[f32],
        features: &[FeatureSlot],
        progress: &mut dyn FnMut(&Epoch),
    ) -> Result<(Attention, Outcome), AttentionError> {
        let (net, outcome) = train(x, y, w, features, self, progress)?;
        Ok((net.export(features, self)?, outcome))
    }
}

/// One finished epoch, as reported to the progress callback.
#[derive(Debug, Clone, PartialEq)]
pub struct Epoch {
    /// 1-based.
    pub epoch: usize,
    pub max_epochs: usize,
    /// Mean training loss of the epoch's batches (training mode).
    pub train_loss: f64,
    /// Validation log-loss and ROC AUC (eval mode); NaN without a
    /// validation split.
    pub valid_loss: f64,
    pub valid_auc: f64,
    /// Seconds since training started.
    pub seconds: f64,
    /// True when this epoch is the best so far (its weights are kept).
    pub best: bool,
}

impl Epoch {
    /// One plain line: `epoch 3/200  loss 0.3012  valid loss 0.2950 AUC 0.7712 (best)  41.2 s`.
    pub fn line(&self) -> String {
        let valid = if self.valid_loss.is_nan() {
            String::new()
        } else {
            format!(
                "  valid loss {:.4} AUC {:.4}{}",
                self.valid_loss,
                self.valid_auc,
                if self.best { " (best)" } else { "" }
            )
        };
        format!(
            "epoch {}/{}  loss {:.4}{valid}  {:.1} s",
            self.epoch, self.max_epochs, self.train_loss, self.seconds
        )
    }
}

/// How a training run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Epochs run (the last possibly cut short by a stop).
    pub epochs: usize,
    /// The epoch whose weights were kept (0: cut short in the first epoch,
    /// the weights as they were).
    pub best_epoch: usize,
    pub stop: Stop,
}

/// Why training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Every epoch ran.
    Epochs,
    /// Early stopping: `patience` epochs without a better validation loss.
    Patience,
    /// `max_seconds` passed.
    Timeout,
    /// A stop was requested ([`crate::interrupt`], Ctrl-C).
    Interrupted,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttentionError {
    #[error("invalid attention parameter `{name}`: {reason}")]
    InvalidParam { name: &'static str, reason: String },
    #[error("attention: {0}")]
    Data(String),
    #[error("attention: tensor library error: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("attention: training diverged (loss is not finite at epoch {epoch})")]
    Diverged { epoch: usize },
    #[error("attention: {0}")]
    Weights(#[from] crate::weights::WeightError),
}

/// The design rows as the network reads them: numeric values and global
/// embedding-row ids, per row.
struct Inputs {
    /// `rows × n_num`.
    num: Vec<f32>,
    /// `rows × n_cat`: row of the concatenated embedding table.
    cat: Vec<u32>,
    /// Per categorical feature: the id of its "unknown" row.
    unknown: Vec<u32>,
    n_num: usize,
    n_cat: usize,
}

impl Inputs {
    /// Reads the design row the way `Attention::margin` does: numeric at
    /// `start` (non-finite → 0); categorical = first one-hot column `>= 0.5`,
    /// none → the unknown row.
    fn new(x: &Matrix, features: &[FeatureSlot]) -> Inputs {
        let n_num = features.iter().filter(|f| f.numeric).count();
        let n_cat = features.len() - n_num;
        // First embedding row of each categorical feature; its unknown row
        // follows its `width` category rows.
        let mut bases = Vec::with_capacity(n_cat);
        let mut unknown = Vec::with_capacity(n_cat);
        let mut offset = 0u32;
        for f in features.iter().filter(|f| !f.numeric) {
            bases.push(offset);
            unknown.push(offset + f.width);
            offset += f.width + 1;
        }
        let mut num = Vec::with_capacity(x.rows * n_num);
        let mut cat = Vec::with_capacity(x.rows * n_cat);
        for r in 0..x.rows {
            let row = x.row(r);
            let mut c = 0usize;
            for f in features {
                let start = f.start as usize;
                if f.numeric {
                    num.push(
                        row.get(start)
                            .copied()
                            .filter(|v| v.is_finite())
                            .unwrap_or(0.0),
                    );
                } else {
                    let k = (0..f.width)
                        .find(|&k| row.get(start + k as usize).is_some_and(|&v| v >= 0.5))
                        .unwrap_or(f.width);
                    cat.push(bases.get(c).copied().unwrap_or(0) + k);
                    c += 1;
                }
            }
        }
        Inputs {
            num,
            cat,
            unknown,
            n_num,
            n_cat,
        }
    }

    /// Tensors for `rows`; with `drop = Some((rng, rate))`, each value is
    /// replaced by "missing" with probability `rate` (feature dropout).
    fn batch(
        &self,
        rows: &[usize],
        drop: Option<(&mut SmallRng, f64)>,
        dev: &Device,
    ) -> candle_core::Result<(Tensor, Tensor)> {
        let mut num = Vec::with_capacity(rows.len() * self.n_num);
        let mut cat = Vec::with_capacity(rows.len() * self.n_cat);
        for &r in rows {
            num.extend_from_slice(&self.num[r * self.n_num..(r + 1) * self.n_num]);
            cat.extend_from_slice(&self.cat[r * self.n_cat..(r + 1) * self.n_cat]);
        }
        if let Some((rng, rate)) = drop {
            if rate > 0.0 {
                for v in num.iter_mut() {
                    if rng.random::<f64>() < rate {
                        *v = 0.0;
                    }
                }
                for (i, id) in cat.iter_mut().enumerate() {
                    if rng.random::<f64>() < rate {
                        *id = self.unknown[i % self.n_cat];
                    }
                }
            }
        }
        Ok((
            Tensor::from_vec(num, (rows.len(), self.n_num), dev)?,
            Tensor::from_vec(cat, rows.len() * self.n_cat, dev)?,
        ))
    }
}

struct BlockVars {
    ln1_g: Var,
    ln1_b: Var,
    wq: Var,
    bq: Var,
    wk: Var,
    bk: Var,
    wv: Var,
    bv: Var,
    wo: Var,
    bo: Var,
    ln2_g: Var,
    ln2_b: Var,
    w1: Var,
    b1: Var,
    w2: Var,
    b2: Var,
}

/// The network's parameters, in the runtime's shapes.
struct Net {
    d: usize,
    heads: usize,
    /// `n_num × d` each.
    num_w: Var,
    num_b: Var,
    /// `Σ (width + 1) × d`; a 1-row dummy when there is no categorical feature.
    cat_embed: Var,
    cls: Var,
    blocks: Vec<BlockVars>,
    final_g: Var,
    final_b: Var,
    /// `1 × d`.
    head_w: Var,
    /// `1`.
    head_b: Var,
    /// Token order: the forward pass builds `[CLS, numeric…, categorical…]`
    /// and gathers it into `[CLS, feature 0, feature 1, …]` with this.
    order: Tensor,
    n_num: usize,
    n_cat: usize,
}

/// Dropout as an explicit mask from our own RNG (candle's is unseedable).
struct Dropout<'a> {
    rate: f64,
    rng: &'a mut SmallRng,
}

impl Dropout<'_> {
    fn apply(&mut self, x: &Tensor) -> candle_core::Result<Tensor> {
        if self.rate <= 0.0 {
            return Ok(x.clone());
        }
        let keep = (1.0 / (1.0 - self.rate)) as f32;
        // Drop when a uniform u32 falls below rate · 2³².
        let cut = (self.rate * 4_294_967_296.0) as u64;
        let mask: Vec<f32> = (0..x.elem_count())
            .map(|_| {
                if u64::from(self.rng.random::<u32>()) < cut {
                    0.0
                } else {
                    keep
                }
            })
            .collect();
        x.mul(&Tensor::from_vec(mask, x.shape(), x.device())?)
    }
}

fn uniform(rng: &mut SmallRng, n: usize, bound: f64) -> Vec<f32> {
    (0..n)
        .map(|_| rng.random_range(-bound..=bound) as f32)
        .collect()
}

fn var(values: Vec<f32>, shape: &[usize], dev: &Device) -> candle_core::Result<Var> {
    Var::from_vec(values, shape, dev)
}

fn layer_norm(x: &Tensor, g: &Var, b: &Var) -> candle_core::Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let centred = x.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
    let normed = centred.broadcast_div(&(var + LN_EPS)?.sqrt()?)?;
    normed
        .broadcast_mul(g.as_tensor())?
        .broadcast_add(b.as_tensor())
}

/// `x · wᵀ + b` over the last dimension of a `(batch, tokens, in)` tensor.
fn linear(x: &Tensor, w: &Var, b: &Var) -> candle_core::Result<Tensor> {
    let (bsz, n, inp) = x.dims3()?;
    let out = w.dims()[0];
    x.reshape((bsz * n, inp))?
        .matmul(&w.as_tensor().t()?)?
        .broadcast_add(b.as_tensor())?
        .reshape((bsz, n, out))
}

impl Net {
    fn new(
        features: &[FeatureSlot],
        p: &AttentionParams,
        rng: &mut SmallRng,
        dev: &Device,
    ) -> candle_core::Result<Net> {
        let d = p.d_model;
        let n_num = features.iter().filter(|f| f.numeric).count();
        let n_cat = features.len() - n_num;
        let cat_rows: usize = features
            .iter()
            .filter(|f| !f.numeric)
            .map(|f| f.width as usize + 1)
            .sum();
        let token_bound = 1.0 / (d as f64).sqrt();
        let lin = |rng: &mut SmallRng, out: usize, inp: usize| {
            var(
                uniform(rng, out * inp, 1.0 / (inp as f64).sqrt()),
                &[out, inp],
                dev,
            )
        };
        let zeros = |n: usize| var(vec![0.0; n], &[n], dev);
        let ones = |n: usize| var(vec![1.0; n], &[n], dev);
        let num_w = var(uniform(rng, n_num * d, token_bound), &[n_num, d], dev)?;
        let num_b = var(uniform(rng, n_num * d, token_bound), &[n_num, d], dev)?;
        let cat_embed = var(
            uniform(rng, cat_rows.max(1) * d, token_bound),
            &[cat_rows.max(1), d],
            dev,
        )?;
        let cls = var(uniform(rng, d, token_bound), &[d], dev)?;
        let mut blocks = Vec::with_capacity(p.n_blocks);
        for _ in 0..p.n_blocks {
            blocks.push(BlockVars {
                ln1_g: ones(d)?,
                ln1_b: zeros(d)?,
                wq: lin(rng, d, d)?,
                bq: zeros(d)?,
                wk: lin(rng, d, d)?,
                bk: zeros(d)?,
                wv: lin(rng, d, d)?,
                bv: zeros(d)?,
                wo: lin(rng, d, d)?,
                bo: zeros(d)?,
                ln2_g: ones(d)?,
                ln2_b: zeros(d)?,
                w1: lin(rng, p.d_ffn, d)?,
                b1: zeros(p.d_ffn)?,
                w2: lin(rng, d, p.d_ffn)?,
                b2: zeros(d)?,
            });
        }
        // Position of each feature's token in [CLS, numeric…, categorical…].
        let mut order = vec![0u32];
        let (mut i_num, mut i_cat) = (0u32, 0u32);
        for f in features {
            if f.numeric {
                order.push(1 + i_num);
                i_num += 1;
            } else {
                order.push(1 + n_num as u32 + i_cat);
                i_cat += 1;
            }
        }
        let n_tokens = order.len();
        Ok(Net {
            d,
            heads: p.n_heads,
            num_w,
            num_b,
            cat_embed,
            cls,
            blocks,
            final_g: ones(d)?,
            final_b: zeros(d)?,
            head_w: lin(rng, 1, d)?,
            head_b: zeros(1)?,
            order: Tensor::from_vec(order, n_tokens, dev)?,
            n_num,
            n_cat,
        })
    }

    /// (decayed, not decayed) parameters.
    fn param_groups(&self) -> (Vec<Var>, Vec<Var>) {
        let mut decay = vec![self.head_w.clone()];
        let mut plain = vec![
            self.num_w.clone(),
            self.num_b.clone(),
            self.cat_embed.clone(),
            self.cls.clone(),
            self.final_g.clone(),
            self.final_b.clone(),
            self.head_b.clone(),
        ];
        for b in &self.blocks {
            decay.extend([&b.wq, &b.wk, &b.wv, &b.wo, &b.w1, &b.w2].map(Var::clone));
            plain.extend(
                [
                    &b.ln1_g, &b.ln1_b, &b.bq, &b.bk, &b.bv, &b.bo, &b.ln2_g, &b.ln2_b, &b.b1,
                    &b.b2,
                ]
                .map(Var::clone),
            );
        }
        (decay, plain)
    }

    fn all_vars(&self) -> Vec<Var> {
        let (mut a, b) = self.param_groups();
        a.extend(b);
        a
    }

    /// Logits `(batch,)`. With `dropout`, training mode.
    fn forward(
        &self,
        num: &Tensor,
        cat: &Tensor,
        mut dropout: Option<&mut Dropout<'_>>,
    ) -> candle_core::Result<Tensor> {
        let bsz = num.dims2()?.0;
        let d = self.d;
        let mut parts = vec![self
            .cls
            .as_tensor()
            .reshape((1, 1, d))?
            .broadcast_as((bsz, 1, d))?];
        if self.n_num > 0 {
            parts.push(
                num.unsqueeze(2)?
                    .broadcast_mul(&self.num_w.as_tensor().unsqueeze(0)?)?
                    .broadcast_add(&self.num_b.as_tensor().unsqueeze(0)?)?,
            );
        }
        if self.n_cat > 0 {
            parts.push(
                self.cat_embed
                    .as_tensor()
                    .index_select(cat, 0)?
                    .reshape((bsz, self.n_cat, d))?,
            );
        }
        let mut x = Tensor::cat(&parts, 1)?
            .contiguous()?
            .index_select(&self.order, 1)?;
        let n = x.dims3()?.1;
        let dk = d / self.heads;
        let scale = 1.0 / (dk as f64).sqrt();
        for (i, b) in self.blocks.iter().enumerate() {
            let h = layer_norm(&x, &b.ln1_g, &b.ln1_b)?;
            // The head reads only [CLS]: in the last block only its row is
            // needed after the keys and values (the same numbers, less work).
            let queries = if i + 1 == self.blocks.len() {
                x = x.narrow(1, 0, 1)?;
                1
            } else {
                n
            };
            let split = |t: Tensor, rows: usize| {
                t.reshape((bsz, rows, self.heads, dk))?
                    .transpose(1, 2)?
                    .contiguous()
            };
            let q = split(linear(&h.narrow(1, 0, queries)?, &b.wq, &b.bq)?, queries)?;
            let k = split(linear(&h, &b.wk, &b.bk)?, n)?;
            let v = split(linear(&h, &b.wv, &b.bv)?, n)?;
            let scores = (q.matmul(&k.t()?)? * scale)?;
            let max = scores.max_keepdim(D::Minus1)?.detach();
            let e = scores.broadcast_sub(&max)?.exp()?;
            let mut probs = e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?;
            if let Some(dr) = dropout.as_deref_mut() {
                probs = dr.apply(&probs)?;
            }
            let ctx = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((bsz, queries, d))?;
            let mut out = linear(&ctx, &b.wo, &b.bo)?;
            if let Some(dr) = dropout.as_deref_mut() {
                out = dr.apply(&out)?;
            }
            x = (x + out)?;
            let h = layer_norm(&x, &b.ln2_g, &b.ln2_b)?;
            let mut hidden = linear(&h, &b.w1, &b.b1)?.relu()?;
            if let Some(dr) = dropout.as_deref_mut() {
                hidden = dr.apply(&hidden)?;
            }
            let mut out = linear(&hidden, &b.w2, &b.b2)?;
            if let Some(dr) = dropout.as_deref_mut() {
                out = dr.apply(&out)?;
            }
            x = (x + out)?;
        }
        let cls = x.squeeze(1)?;
        let z = layer_norm(&cls, &self.final_g, &self.final_b)?;
        z.matmul(&self.head_w.as_tensor().t()?)?
            .broadcast_add(self.head_b.as_tensor())?
            .squeeze(1)
    }

    /// Eval-mode logits of `rows`, in order.
    fn logits(
        &self,
        inputs: &Inputs,
        rows: &[usize],
        dev: &Device,
    ) -> candle_core::Result<Vec<f32>> {
        let mut out = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(EVAL_BATCH) {
            let (num, cat) = inputs.batch(chunk, None, dev)?;
            out.extend(self.forward(&num, &cat, None)?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    fn export(
        &self,
        features: &[FeatureSlot],
        p: &AttentionParams,
    ) -> candle_core::Result<Attention> {
        let flat = |v: &Var| v.as_tensor().flatten_all()?.to_vec1::<f32>();
        let ln = |g: &Var, b: &Var| -> candle_core::Result<LayerNorm> {
            Ok(LayerNorm {
                gamma: flat(g)?,
                beta: flat(b)?,
            })
        };
        let mut blocks = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            blocks.push(Block {
                ln_attn: ln(&b.ln1_g, &b.ln1_b)?,
                wq: flat(&b.wq)?,
                bq: flat(&b.bq)?,
                wk: flat(&b.wk)?,
                bk: flat(&b.bk)?,
                wv: flat(&b.wv)?,
                bv: flat(&b.bv)?,
                wo: flat(&b.wo)?,
                bo: flat(&b.bo)?,
                ln_ffn: ln(&b.ln2_g, &b.ln2_b)?,
                w1: flat(&b.w1)?,
                b1: flat(&b.b1)?,
                w2: flat(&b.w2)?,
                b2: flat(&b.b2)?,
            });
        }
        let mut cat_embed = flat(&self.cat_embed)?;
        if self.n_cat == 0 {
            cat_embed.clear();
        }
        Ok(Attention {
            d_model: self.d,
            n_heads: self.heads,
            n_blocks: p.n_blocks,
            d_ffn: p.d_ffn,
            features: features.to_vec(),
            num_weight: flat(&self.num_w)?,
            num_bias: flat(&self.num_b)?,
            cat_embed,
            cls: flat(&self.cls)?,
            blocks,
            final_ln: ln(&self.final_g, &self.final_b)?,
            head_w: flat(&self.head_w)?,
            head_b: flat(&self.head_b)?.first().copied().unwrap_or(0.0),
        })
    }
}

/// Mean binary log-loss from logits, stable for large |z|:
/// `max(z, 0) − z·y + ln(1 + e^{−|z|})`.
fn bce_with_logits(z: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
    let softplus = (z.relu()? + (z.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
    (softplus - z.mul(y)?)?.mean_all()
}

/// [`bce_with_logits`] with each row's loss times `w` (relative weights
/// with mean 1 over the training rows): `Σ wᵢℓᵢ / batch`.
fn weighted_bce_with_logits(z: &Tensor, y: &Tensor, w: &Tensor) -> candle_core::Result<Tensor> {
    let softplus = (z.relu()? + (z.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
    (softplus - z.mul(y)?)?.mul(w)?.mean_all()
}

fn log_loss(logits: &[f32], y: &[bool]) -> f64 {
    let total: f64 = logits
        .iter()
        .zip(y)
        .map(|(&z, &t)| {
            let z = z as f64;
            z.max(0.0) - if t { z } else { 0.0 } + (-z.abs()).exp().ln_1p()
        })
        .sum();
    total / logits.len().max(1) as f64
}

/// Weighted mean log-loss `Σ wᵢℓᵢ / Σ wᵢ`.
fn weighted_log_loss(logits: &[f32], y: &[bool], w: &[f64]) -> f64 {
    let mut total = 0.0;
    for ((&z, &t), &s) in logits.iter().zip(y).zip(w) {
        let z = z as f64;
        total += s * (z.max(0.0) - if t { z } else { 0.0 } + (-z.abs()).exp().ln_1p());
    }
    let weight: f64 = w.iter().sum();
    if weight > 0.0 {
        total / weight
    } else {
        0.0
    }
}

/// Checks that `features` tile the design row in order (the runtime's rule).
fn check_features(features: &[FeatureSlot], cols: usize) -> Result<(), AttentionError> {
    if features.is_empty() {
        return Err(AttentionError::Data("no features".into()));
    }
    let mut col = 0usize;
    for (i, f) in features.iter().enumerate() {
        if f.start as usize != col || (f.numeric && f.width != 1) {
            return Err(AttentionError::Data(format!(
                "feature {i} slot (start {}, width {}) does not follow column {col}",
                f.start, f.width
            )));
        }
        col += f.width as usize;
    }
    if col != cols {
        return Err(AttentionError::Data(format!(
            "features cover {col} design columns, the matrix has {cols}"
        )));
    }
    Ok(())
}

/// Fits the network on the scaled design rows `x` (labels `y`, `true` =
/// positive; sample weights `w`, one per row) whose columns `features`
/// describes (one slot per original feature, schema order).
/// `progress` is called after every epoch (see [`Epoch`]).
pub fn fit(
    x: &Matrix,
    y: &[bool],
    w: &[f32],
    features: &[FeatureSlot],
    p: &AttentionParams,
    progress: &mut dyn FnMut(&Epoch),
) -> Result<Attention, AttentionError> {
    let (net, _) = train(x, y, w, features, p, progress)?;
    Ok(net.export(features, p)?)
}

/// [`fit`] up to the trained network (best epoch's weights restored).
fn train(
    x: &Matrix,
    y: &[bool],
    w: &[f32],
    features: &[FeatureSlot],
    p: &AttentionParams,
    progress: &mut dyn FnMut(&Epoch),
) -> Result<(Net, Outcome), AttentionError> {
    p.validate()?;
    let started = std::time::Instant::now();
    let out_of_time = || {
        p.max_seconds
            .is_some_and(|t| started.elapsed().as_secs_f64() >= t)
    };
    if x.rows != y.len() || x.data.len() != x.rows * x.cols {
        return Err(AttentionError::Data(format!(
            "{} labels for a matrix of {} rows x {} columns ({} values)",
            y.len(),
            x.rows,
            x.cols,
            x.data.len()
        )));
    }
    check_features(features, x.cols)?;
    crate::weights::check(w, x.rows)?;
    let weighted = !crate::weights::all_ones(w);
    let positives = y.iter().filter(|&&t| t).count();
    if positives == 0 || positives == y.len() {
        return Err(AttentionError::Data(
            "the labels hold only one class".into(),
        ));
    }
    let dev = Device::Cpu;
    let mut rng = SmallRng::seed_from_u64(p.seed);
    let (mut train, valid) = if p.validation_fraction > 0.0 {
        split::stratified_split(y, p.validation_fraction, rng.random())
    } else {
        ((0..y.len()).collect(), Vec::new())
    };
    let inputs = Inputs::new(x, features);
    let net = Net::new(features, p, &mut rng, &dev)?;
    let (decay, plain) = net.param_groups();
    let adam = |weight_decay: f64| ParamsAdamW {
        lr: p.lr,
        weight_decay,
        ..ParamsAdamW::default()
    };
    let mut opt_decay = AdamW::new(decay, adam(p.weight_decay))?;
    let mut opt_plain = AdamW::new(plain, adam(0.0))?;
    let valid_y: Vec<bool> = valid.iter().map(|&r| y[r]).collect();
    let valid_w: Vec<f64> = valid.iter().map(|&r| f64::from(w[r])).collect();
    // Relative weights, mean 1 over the training rows.
    let mean_w = train.iter().map(|&r| f64::from(w[r])).sum::<f64>() / train.len().max(1) as f64;
    let vars = net.all_vars();
    let mut best: Option<(f64, Vec<Tensor>)> = None;
    let (mut since_best, mut best_epoch, mut epochs_run) = (0usize, 0usize, 0usize);
    let mut stop = Stop::Epochs;
    'epochs: for epoch in 1..=p.epochs {
        epochs_run = epoch;
        train.shuffle(&mut rng);
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        for chunk in train.chunks(p.batch_size) {
            if crate::interrupt::requested() {
                stop = Stop::Interrupted;
                break 'epochs;
            }
            if out_of_time() {
                stop = Stop::Timeout;
                break 'epochs;
            }
            let (num, cat) = inputs.batch(chunk, Some((&mut rng, p.feature_dropout)), &dev)?;
            let target: Vec<f32> = chunk
                .iter()
                .map(|&r| if y[r] { 1.0 } else { 0.0 })
                .collect();
            let target = Tensor::from_vec(target, chunk.len(), &dev)?;
            let mut dropout = Dropout {
                rate: p.dropout,
                rng: &mut rng,
            };
            let logits = net.forward(&num, &cat, Some(&mut dropout))?;
            let loss = if weighted {
                let rel: Vec<f32> = chunk
                    .iter()
                    .map(|&r| (f64::from(w[r]) / mean_w) as f32)
                    .collect();
                let rel = Tensor::from_vec(rel, chunk.len(), &dev)?;
                weighted_bce_with_logits(&logits, &target, &rel)?
            } else {
                bce_with_logits(&logits, &target)?
            };
            let value = loss.to_scalar::<f32>()? as f64;
            if !value.is_finite() {
                return Err(AttentionError::Diverged { epoch });
            }
            loss_sum += value * chunk.len() as f64;
            seen += chunk.len();
            let grads = loss.backward()?;
            opt_decay.step(&grads)?;
            opt_plain.step(&grads)?;
        }
        let train_loss = loss_sum / seen.max(1) as f64;
        let mut report = Epoch {
            epoch,
            max_epochs: p.epochs,
            train_loss,
            valid_loss: f64::NAN,
            valid_auc: f64::NAN,
            seconds: 0.0,
            best: false,
        };
        if valid.is_empty() {
            best_epoch = epoch;
            report.seconds = started.elapsed().as_secs_f64();
            progress(&report);
            continue;
        }
        let valid_logits = net.logits(&inputs, &valid, &dev)?;
        let valid_loss = if weighted {
            weighted_log_loss(&valid_logits, &valid_y, &valid_w)
        } else {
            log_loss(&valid_logits, &valid_y)
        };
        if !valid_loss.is_finite() {
            return Err(AttentionError::Diverged { epoch });
        }
        report.valid_loss = valid_loss;
        report.valid_auc = crate::stats::auc(
            &valid_logits
                .iter()
                .map(|&z| f64::from(z))
                .collect::<Vec<_>>(),
            &valid_y,
        )
        .unwrap_or(f64::NAN);
        let improved = best.as_ref().is_none_or(|(b, _)| valid_loss < *b);
        if improved {
            let snapshot = vars
                .iter()
                .map(|v| v.as_tensor().copy())
                .collect::<Result<_, _>>()?;
            best = Some((valid_loss, snapshot));
            since_best = 0;
            best_epoch = epoch;
        } else {
            since_best += 1;
        }
        report.best = improved;
        report.seconds = started.elapsed().as_secs_f64();
        progress(&report);
        if !improved && p.patience > 0 && since_best >= p.patience {
            stop = Stop::Patience;
            break;
        }
    }
    if let Some((_, snapshot)) = best {
        for (v, t) in vars.iter().zip(&snapshot) {
            v.set(t)?;
        }
    } else if stop != Stop::Epochs && !valid.is_empty() {
        // Stopped inside the first epoch: the weights as they are.
        best_epoch = 0;
    }
    Ok((
        net,
        Outcome {
            epochs: epochs_run,
            best_epoch,
            stop,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrisk::Kind as _;
    use rand_distr::{Distribution, StandardNormal};

    /// Every row weighs 1.
    fn ones(x: &Matrix) -> Vec<f32> {
        vec![1.0; x.rows]
    }

    #[test]
    fn weight_k_matches_k_copies_statistically() {
        // Minibatches are drawn uniformly, so weight 3 on the positives and
        // three copies of each positive row optimise the same objective but
        // not step for step. The weighted run gets as many optimiser steps
        // as the copies (whose epochs are 5/3 as long). Averaged over three
        // seeds, (1) the weighted training objective Σwℓ/Σw each reaches, and
        // (2) the mean predicted probability (before calibration) on fresh
        // rows, agree within a quarter of how far the unweighted model is.
        let (mut loss, mut mean) = ([0.0f64; 3], [0.0f64; 3]);
        for seed in 0..3 {
            let (x, y) = synthetic(600, 12 + 2 * seed);
            let (xt, _) = synthetic(600, 13 + 2 * seed);
            let p = small()
                .seed(7 + seed)
                .epochs(30)
                .validation_fraction(0.0)
                .dropout(0.0);
            let w: Vec<f32> = y.iter().map(|&v| if v { 3.0 } else { 1.0 }).collect();
            let mut idx: Vec<usize> = (0..x.rows).collect();
            for _ in 0..2 {
                idx.extend((0..x.rows).filter(|&r| y[r]));
            }
            let xd = x.select(&idx);
            let yd: Vec<bool> = idx.iter().map(|&r| y[r]).collect();
            let none = &mut |_: &Epoch| {};
            let f = slots();
            let steps = p.epochs * xd.rows / x.rows;
            let models = [
                fit(&x, &y, &w, &f, &p.clone().epochs(steps), none).unwrap(),
                fit(&xd, &yd, &ones(&xd), &f, &p, none).unwrap(),
                fit(&x, &y, &ones(&x), &f, &p, none).unwrap(),
            ];
            let w64: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
            for (k, m) in models.iter().enumerate() {
                let logits: Vec<f32> = (0..x.rows).map(|r| m.logit(x.row(r))).collect();
                loss[k] += weighted_log_loss(&logits, &y, &w64) / 3.0;
                let p_mean = (0..xt.rows)
                    .map(|r| 1.0 / (1.0 + (-f64::from(m.logit(xt.row(r)))).exp()))
                    .sum::<f64>()
                    / xt.rows as f64;
                mean[k] += p_mean / 3.0;
            }
        }
        let [weighted, copies, unweighted] = loss;
        assert!(
            (weighted - copies).abs() < 0.25 * (unweighted - copies),
            "weighted objective: weighted {weighted} copies {copies} unweighted {unweighted}"
        );
        let [weighted, copies, unweighted] = mean;
        assert!(
            (weighted - copies).abs() < 0.25 * (copies - unweighted),
            "mean probability: weighted {weighted} copies {copies} unweighted {unweighted}"
        );
        assert!(copies - unweighted > 0.1, "{copies} {unweighted}");
    }

    /// Two numeric features, a 3-category and a 2-category feature, laid
    /// out as the schema lays out a scaled design row (5+2 = 7 columns).
    fn slots() -> Vec<FeatureSlot> {
        vec![
            FeatureSlot {
                start: 0,
                width: 1,
                numeric: true,
            },
            FeatureSlot {
                start: 1,
                width: 3,
                numeric: false,
            },
            FeatureSlot {
                start: 4,
                width: 1,
                numeric: true,
            },
            FeatureSlot {
                start: 5,
                width: 2,
                numeric: false,
            },
        ]
    }

    /// A non-linear problem: the label depends on the *sign agreement* of
    /// the two numeric features (an XOR no linear model can use), shifted
    /// by the 3-category feature. The 2-category feature is noise.
    fn synthetic(rows: usize, seed: u64) -> (Matrix, Vec<bool>) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut m = Matrix::zeros(rows, 7);
        let mut y = Vec::with_capacity(rows);
        for r in 0..rows {
            let a: f64 = StandardNormal.sample(&mut rng);
            let b: f64 = StandardNormal.sample(&mut rng);
            let c = rng.random_range(0..3usize);
            let e = rng.random_range(0..2usize);
            let row = m.row_mut(r);
            row[0] = a as f32;
            row[1 + c] = 1.0;
            row[4] = b as f32;
            row[5 + e] = 1.0;
            let z = 2.5 * (a * b).signum() * (a * b).abs().sqrt() + [-0.8, 0.0, 0.8][c];
            let p = 1.0 / (1.0 + (-z).exp());
            y.push(rng.random::<f64>() < p);
        }
        (m, y)
    }

    fn small() -> AttentionParams {
        AttentionParams::default()
            .d_model(8)
            .n_heads(2)
            .n_blocks(2)
            .d_ffn(16)
            .epochs(6)
            .batch_size(32)
            .seed(7)
    }

    fn auc(scores: &[f32], y: &[bool]) -> f64 {
        let probs: Vec<f32> = scores.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect();
        ferrisk::metrics::compute(&probs, y, 0.5).unwrap().roc_auc
    }

    #[test]
    fn runtime_forward_matches_the_trained_network() {
        let (mut x, y) = synthetic(300, 1);
        let features = slots();
        let p = small();
        let (net, _) = train(&x, &y, &ones(&x), &features, &p, &mut |_| {}).unwrap();
        let model = net.export(&features, &p).unwrap();
        assert_eq!(model.check_shapes(7), Ok(()));
        // Some rows with an unknown category (no one-hot column set), so the
        // reserved embedding row is checked too.
        for r in (0..300).step_by(7) {
            x.row_mut(r)[1..4].fill(0.0);
        }
        let rows: Vec<usize> = (0..x.rows).collect();
        let expected = net
            .logits(&Inputs::new(&x, &features), &rows, &Device::Cpu)
            .unwrap();
        let mut worst = 0.0f32;
        for (r, &z) in expected.iter().enumerate() {
            let got = model.logit(x.row(r));
            worst = worst.max((got - z).abs());
        }
        assert!(worst < 1e-5, "largest logit difference {worst}");
        // Not vacuous: the logits vary across rows.
        let spread = expected.iter().fold(0.0f32, |m, &z| m.max(z))
            - expected.iter().fold(0.0f32, |m, &z| m.min(z));
        assert!(spread > 0.1, "{spread}");
    }

    #[test]
    fn same_seed_same_weights() {
        let (x, y) = synthetic(200, 2);
        let features = slots();
        let p = small().epochs(3);
        let a = fit(&x, &y, &ones(&x), &features, &p, &mut |_| {}).unwrap();
        let b = fit(&x, &y, &ones(&x), &features, &p, &mut |_| {}).unwrap();
        assert_eq!(a, b);
        let c = fit(
            &x,
            &y,
            &ones(&x),
            &features,
            &p.clone().seed(8),
            &mut |_| {},
        )
        .unwrap();
        assert_ne!(a.blocks[0].wq, c.blocks[0].wq);
    }

    #[test]
    fn max_time_keeps_the_best_epoch_and_says_why() {
        let (x, y) = synthetic(200, 2);
        let features = slots();
        // Patience stops a long run; every epoch is reported once, in order,
        // and the kept epoch is the one reported as best last.
        let mut seen = Vec::new();
        let p = small().epochs(40).patience(2);
        let (_, out) = p
            .fit_outcome(&x, &y, &ones(&x), &features, &mut |e| seen.push(e.clone()))
            .unwrap();
        assert_eq!(out.stop, Stop::Patience);
        assert_eq!(out.epochs, seen.len());
        assert!(seen.iter().enumerate().all(|(i, e)| e.epoch == i + 1));
        let last_best = seen.iter().rev().find(|e| e.best).map(|e| e.epoch);
        assert_eq!(Some(out.best_epoch), last_best);
        assert!(seen
            .iter()
            .all(|e| e.valid_auc > 0.0 && e.line().contains("AUC")));
        // A limit already passed: stopped before the first batch, the
        // initial weights kept, no epoch reported.
        let mut calls = 0;
        let (m, out) = small()
            .max_seconds(Some(1e-12))
            .fit_outcome(&x, &y, &ones(&x), &features, &mut |_| calls += 1)
            .unwrap();
        assert_eq!((out.stop, out.best_epoch, calls), (Stop::Timeout, 0, 0));
        assert!(m.check_shapes(x.cols).is_ok());
        assert!(small().max_seconds(Some(0.0)).validate().is_err());
    }

    #[test]
    fn sized_parameters_follow_the_table() {
        let small_table = AttentionParams::default().sized(1000);
        assert_eq!(small_table, AttentionParams::default());
        let mid = AttentionParams::default().sized(8000);
        assert_eq!((mid.batch_size, mid.patience), (256, 5));
        let big = AttentionParams::default().sized(100_000);
        assert_eq!((big.batch_size, big.patience), (1024, 3));
        assert!(big.lr > mid.lr && mid.lr > small_table.lr);
    }

    #[test]
    fn learns_a_non_linear_problem() {
        let (x, y) = synthetic(1500, 3);
        let (train_rows, test_rows) = split::stratified_split(&y, 0.3, 11);
        let xt = x.select(&train_rows);
        let yt: Vec<bool> = train_rows.iter().map(|&r| y[r]).collect();
        let p = AttentionParams::default()
            .d_model(16)
            .n_heads(2)
            .d_ffn(32)
            .epochs(60)
            .patience(10)
            .seed(5);
        let mut calls = Vec::new();
        let model = fit(&xt, &yt, &ones(&xt), &slots(), &p, &mut |e| {
            calls.push((e.epoch, e.max_epochs, e.train_loss, e.valid_loss))
        })
        .unwrap();
        // Progress: one call per epoch, numbered from 1, finite losses.
        assert!(!calls.is_empty());
        for (i, &(e, max, tl, vl)) in calls.iter().enumerate() {
            assert_eq!((e, max), (i + 1, 60));
            assert!(tl.is_finite() && vl.is_finite());
        }
        let scores: Vec<f32> = test_rows.iter().map(|&r| model.logit(x.row(r))).collect();
        let yv: Vec<bool> = test_rows.iter().map(|&r| y[r]).collect();
        let a = auc(&scores, &yv);
        assert!(a > 0.8, "held-out AUC {a}");
        // A linear score cannot use the sign agreement: logistic regression
        // on the same rows only gets the category effect.
        let lr =
            crate::algo::linear::fit_logistic(&xt, &yt, &ones(&xt), &Default::default()).unwrap();
        let linear: Vec<f32> = test_rows.iter().map(|&r| lr.output(x.row(r))).collect();
        let b = auc(&linear, &yv);
        assert!(
            a > b + 0.1,
            "attention AUC {a}, logistic regression AUC {b}"
        );
    }

    #[test]
    fn only_numeric_or_only_categorical_features() {
        let (x, y) = synthetic(120, 6);
        let p = small().epochs(2);
        for keep in [[0usize, 2], [1, 3]] {
            // The sub-matrix of just these features' columns, re-laid out.
            let all = slots();
            let mut cols = Vec::new();
            let mut features = Vec::new();
            for &i in &keep {
                let f = all[i];
                features.push(FeatureSlot {
                    start: cols.len() as u32,
                    ..f
                });
                cols.extend(f.start as usize..(f.start + f.width) as usize);
            }
            let mut sub = Matrix::zeros(x.rows, cols.len());
            for r in 0..x.rows {
                for (j, &c) in cols.iter().enumerate() {
                    sub.row_mut(r)[j] = x.row(r)[c];
                }
            }
            let (net, _) = train(&sub, &y, &ones(&sub), &features, &p, &mut |_| {}).unwrap();
            let model = net.export(&features, &p).unwrap();
            assert_eq!(model.check_shapes(cols.len()), Ok(()));
            let rows: Vec<usize> = (0..sub.rows).collect();
            let expected = net
                .logits(&Inputs::new(&sub, &features), &rows, &Device::Cpu)
                .unwrap();
            for (r, &z) in expected.iter().enumerate() {
                assert!((model.logit(sub.row(r)) - z).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn rejects_bad_parameters_and_data() {
        let (x, y) = synthetic(50, 4);
        let f = slots();
        let none = &mut |_: &Epoch| {};
        let err = |r: Result<Attention, AttentionError>| r.unwrap_err().to_string();
        assert!(err(fit(&x, &y, &ones(&x), &f, &small().n_heads(3), none)).contains("n_heads"));
        assert!(err(fit(&x, &y, &ones(&x), &f, &small().dropout(1.0), none)).contains("dropout"));
        assert!(err(fit(
            &x,
            &y,
            &ones(&x),
            &f,
            &small().validation_fraction(1.0),
            none
        ))
        .contains("validation_fraction"));
        assert!(err(fit(&x, &y[1..], &ones(&x), &f, &small(), none)).contains("labels"));
        assert!(
            err(fit(&x, &y, &ones(&x), &f[..3], &small(), none)).contains("cover 5 design columns")
        );
        assert!(err(fit(&x, &[true; 50], &ones(&x), &f, &small(), none)).contains("one class"));
    }
}
