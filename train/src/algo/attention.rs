//! Tabular attention (FT-Transformer style) trained with the hand-written
//! engine of [`crate::nn`] (`--model attention`). The network is the one the runtime scores
//! ([`ferrisk::kinds::attention`]): one token per original feature (numeric:
//! `value · w + b`; categorical: an embedding row, plus a reserved
//! "none / unknown" row), a `[CLS]` token in front, `n_blocks` pre-norm
//! blocks (`x + MHA(LN(x))`, `x + FFN(LN(x))` with ReLU), and a linear head
//! on the final layer-normed `[CLS]` state giving the log-odds.
//!
//! - **Engine.** [`crate::nn::ft`]: forward and backward passes written
//!   out in `f32` over batched row-major buffers made once per thread and
//!   reused by every step, matrix products by matrixmultiply's `sgemm`
//!   (through ndarray), layer norm, softmax, ReLU and dropout fused in their
//!   own loops. It replaced candle 0.9's autodiff (issue 16): profiled, an
//!   epoch of that network was dominated by the backward reductions of
//!   candle's broadcast operations and by allocating every intermediate
//!   tensor, not by the matrix products (the model is tiny: d 32, ~17
//!   tokens). candle stays a dev-dependency: the tests check the engine's
//!   logits and every gradient against its autodiff.
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
//!   rows is held out; after each epoch its mean log-loss and ROC AUC (eval
//!   mode) are measured, training stops `patience` epochs after the best one
//!   (lowest log-loss, or highest AUC with `best_by_auc`), and the best
//!   epoch's weights are exported (with `weight_average`, the moving average
//!   of the weights is what is measured and exported). With `validation_fraction = 0` every
//!   epoch runs and the last weights are kept.
//! - **Determinism.** Every random number comes from one seeded `SmallRng`
//!   in a fixed order (initial weights, validation split, batch order, and
//!   per batch one seed for each of its [`CHUNKS`] chunks, whose own stream
//!   draws that chunk's feature dropout and dropout masks). One seed gives
//!   identical weights on one machine whatever the thread count. (Across
//!   CPUs with different SIMD support the last bits may differ, as
//!   matrixmultiply picks its kernels at run time.)
//! - **Sample weights.** Each row's loss is multiplied by its weight over
//!   the mean weight of the training rows, so a batch's loss is an unbiased
//!   estimate of the weighted mean loss Σwᵢℓᵢ / Σwᵢ (what k copies of a row
//!   of weight k give in expectation; batches are drawn uniformly, so the
//!   two are equivalent in distribution, not step for step). The
//!   validation loss of early stopping is the weighted mean. With every
//!   weight 1 the unweighted code path runs (bit for bit the models of
//!   before).
//! - **Threads.** Each batch is cut into [`CHUNKS`] chunks (a fixed number,
//!   not one per thread); the threads of the rayon pool the caller installs
//!   each take a contiguous run of chunks, every chunk's gradient goes to
//!   its own buffer, and the buffers are summed in chunk order, so the
//!   weights do not depend on the thread count (tested). Validation rows
//!   are scored in parts the same way.
//! - **Export.** Weights are copied out as `f32` in the runtime's layout
//!   (row-major, one row per output); the tests check that the runtime's
//!   forward pass reproduces this network's eval-mode logits.

use ferrisk::kinds::attention::{Attention, Block, FeatureSlot, LayerNorm};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::bins::Matrix;
use crate::nn::chunks::{bce_row, run_split, sum_chunks, threads, weighted_log_loss, CHUNKS};
use crate::nn::ft::{self, Workspace};
use crate::nn::{AdamW, Span};
use crate::split;

/// Chunks each batch is cut into, each with its own random stream and
/// gradient buffer (summed in chunk order): fixed, so the weights do not
/// depend on the thread count. Also the most threads used.
/// Rows per part when only evaluating (no gradients kept).
const EVAL_PART: usize = 256;

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
    /// The best epoch is the one with the highest validation ROC AUC
    /// (`true`) or the lowest validation log-loss (`false`).
    pub best_by_auc: bool,
    /// Stratified fraction held out for early stopping, in [0, 1); 0 trains
    /// on every row for `epochs` epochs.
    pub validation_fraction: f64,
    pub seed: u64,
    /// Stop after this many seconds of training (checked between batches),
    /// keeping the best epoch so far; `None` = no limit. A stop requested
    /// through [`crate::interrupt`] (Ctrl-C) ends training the same way.
    pub max_seconds: Option<f64>,
    /// With `a > 0`, validation, early stopping and the exported model use
    /// an exponential moving average of the weights (after each step:
    /// `avg ← a·avg + (1 − a)·w`), which smooths the noise of the last
    /// steps; 0 uses the weights as they are.
    pub weight_average: f64,
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
            weight_average: 0.0,
            best_by_auc: false,
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
        weight_average: f64,
        best_by_auc: bool,
    }

    /// Batch size, learning rate, patience, epochs and feature dropout for
    /// a table of `rows` training rows (what `ferrisk train` uses unless
    /// they are given). Small tables keep the German-credit tuning (batch
    /// 64, lr 3e-4, patience 20, 200 epochs). A large table's epoch is many
    /// optimiser steps, so it needs fewer epochs and less patience: from
    /// 4,000 rows the batch is 256 with lr 1e-3 and patience falls as
    /// 40,000 / rows, to at least 3 epochs. From 20,000 rows the batch is
    /// 128 with lr 1e-3, feature dropout 0.1, patience 5 and at most
    /// 800,000 / rows epochs (25 for Bank Marketing, in 4..=25). Chosen on
    /// Bank Marketing's validation split (31,647 training rows; best
    /// validation log-loss in 20 epochs): batch 128 / lr 1e-3 0.2882 with
    /// feature dropout 0.2 and 0.2863 with 0.1; batch 256 / lr 2e-3 0.2911
    /// (0.2877 in 30); batch 64 / lr 1e-3 0.2892; a cosine learning-rate
    /// decay over 20 epochs 0.2868 (lr 1e-3) to 0.2906 (lr 2e-3); dropout 0
    /// 0.2872. The validation loss still fell after 20 epochs and patience
    /// 3 stopped a run at a noisy epoch 15 (test AUC 0.788): hence 25 and
    /// 5, which keep the fit over 10 times faster than the defaults before
    /// issue 16 (see the README). The last epochs' weights are noisy and the
    /// validation loss stays flat while the validation AUC still rises, so
    /// from 20,000 rows the model is the moving average of the weights
    /// (`weight_average` 0.995) and the best epoch the one of the highest
    /// validation AUC (the 4,700 validation rows measure it well; a small
    /// table's few hundred do not, so it keeps the log-loss): with patience
    /// 5 the same run then stopped at epoch 17 with validation log-loss
    /// 0.2875 (averaged, by loss: 0.2870 at epoch 17, test AUC 0.7907;
    /// averaged, by AUC: validation AUC 0.7974 at epoch 25, test AUC
    /// 0.7926).
    pub fn sized(mut self, rows: usize) -> Self {
        if rows >= 20_000 {
            self.batch_size = 128;
            self.lr = 1e-3;
            self.feature_dropout = 0.1;
            self.epochs = (800_000 / rows).clamp(4, 25);
            self.weight_average = 0.995;
            self.best_by_auc = true;
        } else if rows >= 4_000 {
            self.batch_size = 256;
            self.lr = 1e-3;
        }
        if rows >= 20_000 {
            self.patience = 5;
        } else if rows >= 4_000 {
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
        if !(self.weight_average >= 0.0 && self.weight_average < 1.0) {
            return bad("weight_average", "must be in [0, 1)");
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
        Ok((net.export(features, self), outcome))
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
    /// Early stopping: `patience` epochs without a better validation score.
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

    /// Copies `rows` into the part buffers `ws.num` / `ws.cat`; with
    /// `drop = Some((rng, rate))`, each value is replaced by "missing" with
    /// probability `rate` (feature dropout).
    fn fill(&self, rows: &[usize], ws: &mut Workspace, drop: Option<(&mut SmallRng, f64)>) {
        let (nn, nc) = (self.n_num, self.n_cat);
        for (i, &r) in rows.iter().enumerate() {
            ws.num[i * nn..(i + 1) * nn].copy_from_slice(&self.num[r * nn..(r + 1) * nn]);
            ws.cat[i * nc..(i + 1) * nc].copy_from_slice(&self.cat[r * nc..(r + 1) * nc]);
        }
        if let Some((rng, rate)) = drop {
            if rate > 0.0 {
                for v in ws.num[..rows.len() * nn].iter_mut() {
                    if rng.random::<f64>() < rate {
                        *v = 0.0;
                    }
                }
                for (i, id) in ws.cat[..rows.len() * nc].iter_mut().enumerate() {
                    if rng.random::<f64>() < rate {
                        *id = self.unknown[i % nc];
                    }
                }
            }
        }
    }
}

/// The network's sizes for `features` and `p`.
fn shape(features: &[FeatureSlot], p: &AttentionParams) -> ft::Shape {
    let (mut i_num, mut i_cat) = (0usize, 0usize);
    let mut tokens = Vec::with_capacity(features.len());
    for f in features {
        if f.numeric {
            tokens.push(ft::Token::Num(i_num));
            i_num += 1;
        } else {
            tokens.push(ft::Token::Cat(i_cat));
            i_cat += 1;
        }
    }
    let cat_rows: usize = features
        .iter()
        .filter(|f| !f.numeric)
        .map(|f| f.width as usize + 1)
        .sum();
    ft::Shape {
        d: p.d_model,
        heads: p.n_heads,
        blocks: p.n_blocks,
        ffn: p.d_ffn,
        n_num: i_num,
        n_cat: i_cat,
        cat_rows: cat_rows.max(1),
        tokens,
    }
}

/// A network and its parameters.
struct Trained {
    net: ft::Net,
    params: Vec<f32>,
}

impl Trained {
    /// Eval-mode logits of `rows` (on the rayon pool's threads).
    #[cfg(test)]
    fn logits(&self, inputs: &Inputs, rows: &[usize]) -> Vec<f32> {
        Engine::new(&self.net, inputs, EVAL_PART).logits(&self.params, rows)
    }

    fn export(&self, features: &[FeatureSlot], p: &AttentionParams) -> Attention {
        let l = &self.net.layout;
        let w = &self.params;
        let flat = |s: Span| s.of(w).to_vec();
        let ln = |g: Span, b: Span| LayerNorm {
            gamma: flat(g),
            beta: flat(b),
        };
        let blocks = l
            .blocks
            .iter()
            .map(|b| Block {
                ln_attn: ln(b.ln1_g, b.ln1_b),
                wq: flat(b.wq),
                bq: flat(b.bq),
                wk: flat(b.wk),
                bk: flat(b.bk),
                wv: flat(b.wv),
                bv: flat(b.bv),
                wo: flat(b.wo),
                bo: flat(b.bo),
                ln_ffn: ln(b.ln2_g, b.ln2_b),
                w1: flat(b.w1),
                b1: flat(b.b1),
                w2: flat(b.w2),
                b2: flat(b.b2),
            })
            .collect();
        let mut cat_embed = flat(l.cat);
        if self.net.shape.n_cat == 0 {
            cat_embed.clear();
        }
        Attention {
            d_model: p.d_model,
            n_heads: p.n_heads,
            n_blocks: p.n_blocks,
            d_ffn: p.d_ffn,
            features: features.to_vec(),
            num_weight: flat(l.num_w),
            num_bias: flat(l.num_b),
            cat_embed,
            cls: flat(l.cls),
            blocks,
            final_ln: ln(l.final_g, l.final_b),
            head_w: flat(l.head_w),
            head_b: l.head_b.of(w).first().copied().unwrap_or(0.0),
        }
    }
}

/// Per-thread buffers of the engine.
struct Worker {
    ws: Workspace,
}

/// The training engine: the network, its inputs and reusable buffers.
struct Engine<'a> {
    net: &'a ft::Net,
    inputs: &'a Inputs,
    workers: Vec<Worker>,
    /// Rows per workspace part.
    part: usize,
    /// One gradient buffer per chunk, summed in chunk order.
    chunk_grads: Vec<Vec<f32>>,
    chunk_loss: Vec<f64>,
    grads: Vec<f32>,
}

impl<'a> Engine<'a> {
    fn new(net: &'a ft::Net, inputs: &'a Inputs, batch: usize) -> Engine<'a> {
        let part = net.part_rows(batch.div_ceil(CHUNKS).max(EVAL_PART));
        Engine {
            net,
            inputs,
            workers: (0..threads())
                .map(|_| Worker {
                    ws: net.workspace(part),
                })
                .collect(),
            part,
            chunk_grads: vec![vec![0.0; net.layout.len]; CHUNKS],
            chunk_loss: vec![0.0; CHUNKS],
            grads: vec![0.0; net.layout.len],
        }
    }

    /// The loss gradient of one batch into `self.grads`; returns the
    /// batch's mean loss (weighted by `rel`). The batch is cut into
    /// [`CHUNKS`] chunks, each with its own random stream (seeded from
    /// `rng`, feature dropout then dropout masks) and gradient buffer,
    /// summed in chunk order: the same numbers on any number of threads.
    #[allow(clippy::too_many_arguments)]
    fn batch_gradient(
        &mut self,
        params: &[f32],
        rows: &[usize],
        y: &[bool],
        rel: Option<&[f32]>,
        rng: &mut SmallRng,
        dropout: f64,
        feature_dropout: f64,
    ) -> f64 {
        let seeds: [u64; CHUNKS] = std::array::from_fn(|_| rng.random());
        let per = rows.len().div_ceil(CHUNKS).max(1);
        let scale = 1.0 / rows.len().max(1) as f64;
        let (net, inputs, part) = (self.net, self.inputs, self.part);
        let slots: Vec<std::sync::Mutex<(&mut Vec<f32>, &mut f64)>> = self
            .chunk_grads
            .iter_mut()
            .zip(self.chunk_loss.iter_mut())
            .map(std::sync::Mutex::new)
            .collect();
        run_split(&mut self.workers, CHUNKS, |k, worker| {
            let Some(Ok(mut slot)) = slots.get(k).map(|m| m.lock()) else {
                return;
            };
            let (grads, loss) = &mut *slot;
            grads.fill(0.0);
            **loss = 0.0;
            let chunk = rows
                .get(k * per..((k + 1) * per).min(rows.len()))
                .unwrap_or(&[]);
            let mut crng = SmallRng::seed_from_u64(seeds[k]);
            let ws = &mut worker.ws;
            for sub in chunk.chunks(part) {
                inputs.fill(sub, ws, Some((&mut crng, feature_dropout)));
                net.forward(params, ws, sub.len(), Some((&mut crng, dropout as f32)));
                for (i, &r) in sub.iter().enumerate() {
                    let w = rel.map_or(1.0, |rel| f64::from(rel[r]));
                    let (l, d) = bce_row(ws.logits[i], y[r], w, scale);
                    **loss += l;
                    ws.dlogits[i] = d;
                }
                net.backward(params, ws, sub.len(), grads);
            }
        });
        drop(slots);
        sum_chunks(&mut self.grads, &self.chunk_grads, &self.chunk_loss) * scale
    }

    /// Eval-mode logits of `rows`, in order.
    fn logits(&mut self, params: &[f32], rows: &[usize]) -> Vec<f32> {
        let mut out = vec![0.0f32; rows.len()];
        let part = self.part;
        let parts: Vec<std::sync::Mutex<&mut [f32]>> =
            out.chunks_mut(part).map(std::sync::Mutex::new).collect();
        let (net, inputs) = (self.net, self.inputs);
        run_split(&mut self.workers, parts.len(), |k, worker| {
            let Some(Ok(mut dst)) = parts.get(k).map(|m| m.lock()) else {
                return;
            };
            let sub = rows
                .get(k * part..((k + 1) * part).min(rows.len()))
                .unwrap_or(&[]);
            let ws = &mut worker.ws;
            inputs.fill(sub, ws, None);
            net.forward(params, ws, sub.len(), None);
            dst.copy_from_slice(&ws.logits[..sub.len()]);
        });
        drop(parts);
        out
    }
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
    Ok(net.export(features, p))
}

/// [`fit`] up to the trained network (best epoch's weights restored).
fn train(
    x: &Matrix,
    y: &[bool],
    w: &[f32],
    features: &[FeatureSlot],
    p: &AttentionParams,
    progress: &mut dyn FnMut(&Epoch),
) -> Result<(Trained, Outcome), AttentionError> {
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
    let mut rng = SmallRng::seed_from_u64(p.seed);
    let (mut train, valid) = if p.validation_fraction > 0.0 {
        split::stratified_split(y, p.validation_fraction, rng.random())
    } else {
        ((0..y.len()).collect(), Vec::new())
    };
    let inputs = Inputs::new(x, features);
    let net = ft::Net::new(shape(features, p));
    let mut params = net.layout.init(&net.shape, &mut rng);
    let mut averaged = (p.weight_average > 0.0).then(|| params.clone());
    let mut opt = AdamW::new(
        net.layout.len,
        p.lr as f32,
        p.weight_decay as f32,
        net.layout.decayed(),
    );
    let mut engine = Engine::new(&net, &inputs, p.batch_size);
    let valid_y: Vec<bool> = valid.iter().map(|&r| y[r]).collect();
    let valid_w: Vec<f64> = valid.iter().map(|&r| f64::from(w[r])).collect();
    // Relative weights, mean 1 over the training rows.
    let mean_w = train.iter().map(|&r| f64::from(w[r])).sum::<f64>() / train.len().max(1) as f64;
    let rel: Option<Vec<f32>> =
        weighted.then(|| w.iter().map(|&v| (f64::from(v) / mean_w) as f32).collect());
    let mut best: Option<(f64, Vec<f32>)> = None;
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
            let value = engine.batch_gradient(
                &params,
                chunk,
                y,
                rel.as_deref(),
                &mut rng,
                p.dropout,
                p.feature_dropout,
            );
            if !value.is_finite() {
                return Err(AttentionError::Diverged { epoch });
            }
            loss_sum += value * chunk.len() as f64;
            seen += chunk.len();
            opt.step(&mut params, &engine.grads);
            if let Some(avg) = averaged.as_mut() {
                let a = p.weight_average as f32;
                for (m, &w) in avg.iter_mut().zip(&params) {
                    *m = a * *m + (1.0 - a) * w;
                }
            }
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
        let current = averaged.as_ref().unwrap_or(&params);
        let valid_logits = engine.logits(current, &valid);
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
        // Lower is better: the loss, or the AUC's complement.
        let score = if p.best_by_auc {
            1.0 - report.valid_auc
        } else {
            valid_loss
        };
        let improved = best.as_ref().is_none_or(|(b, _)| score < *b);
        if improved {
            best = Some((score, current.clone()));
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
    drop(engine);
    match best {
        Some((_, snapshot)) => params = snapshot,
        None if valid.is_empty() => {
            if let Some(avg) = averaged {
                params = avg;
            }
        }
        // Stopped inside the first epoch: the weights as they are.
        None if stop != Stop::Epochs => best_epoch = 0,
        None => {}
    }
    Ok((
        Trained { net, params },
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
        let model = net.export(&features, &p);
        assert_eq!(model.check_shapes(7), Ok(()));
        // Some rows with an unknown category (no one-hot column set), so the
        // reserved embedding row is checked too.
        for r in (0..300).step_by(7) {
            x.row_mut(r)[1..4].fill(0.0);
        }
        let rows: Vec<usize> = (0..x.rows).collect();
        let expected = net.logits(&Inputs::new(&x, &features), &rows);
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
    fn same_weights_on_one_two_or_three_threads() {
        // Batches of 32 rows are cut into 8 chunks whatever the thread
        // count; each chunk's random stream and gradient buffer is its own
        // and the gradients are summed in chunk order.
        let (x, y) = synthetic(300, 9);
        let features = slots();
        let p = small().epochs(3).dropout(0.1);
        let fit_on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| fit(&x, &y, &ones(&x), &features, &p, &mut |_| {}).unwrap())
        };
        let one = fit_on(1);
        assert_eq!(one, fit_on(2));
        assert_eq!(one, fit_on(3));
    }

    #[test]
    fn weight_average_is_the_moving_average_of_the_steps() {
        // One step (one batch of every row, no validation split): the
        // averaged model is a·(initial weights) + (1 − a)·(weights after the
        // step), tensor by tensor; the initial weights are what a run
        // stopped before its first batch keeps.
        let (x, y) = synthetic(64, 5);
        let f = slots();
        let p = small().epochs(1).batch_size(64).validation_fraction(0.0);
        let none = &mut |_: &Epoch| {};
        let initial = fit(
            &x,
            &y,
            &ones(&x),
            &f,
            &p.clone().max_seconds(Some(1e-12)),
            none,
        )
        .unwrap();
        let stepped = fit(&x, &y, &ones(&x), &f, &p, none).unwrap();
        let a = 0.75f32;
        let averaged = fit(&x, &y, &ones(&x), &f, &p.clone().weight_average(0.75), none).unwrap();
        let mix = |u: &[f32], v: &[f32]| -> Vec<f32> {
            u.iter()
                .zip(v)
                .map(|(&u, &v)| a * u + (1.0 - a) * v)
                .collect()
        };
        assert_ne!(initial.blocks[0].wq, stepped.blocks[0].wq);
        assert_eq!(
            averaged.blocks[0].wq,
            mix(&initial.blocks[0].wq, &stepped.blocks[0].wq)
        );
        assert_eq!(averaged.head_w, mix(&initial.head_w, &stepped.head_w));
        assert_eq!(
            averaged.cat_embed,
            mix(&initial.cat_embed, &stepped.cat_embed)
        );
        assert!(small().weight_average(1.0).validate().is_err());
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
        assert_eq!((big.batch_size, big.patience, big.epochs), (128, 5, 8));
        assert!(big.lr >= mid.lr && mid.lr > small_table.lr);
        let bank = AttentionParams::default().sized(31_647);
        assert_eq!((bank.epochs, bank.feature_dropout), (25, 0.1));
        assert!(bank.best_by_auc && bank.weight_average > 0.0);
        assert!(!mid.best_by_auc && mid.weight_average == 0.0);
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
            let model = net.export(&features, &p);
            assert_eq!(model.check_shapes(cols.len()), Ok(()));
            let rows: Vec<usize> = (0..sub.rows).collect();
            let expected = net.logits(&Inputs::new(&sub, &features), &rows);
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
