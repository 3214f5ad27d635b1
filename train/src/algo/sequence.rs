//! Sequence models (issue 14, the training core): a GRU or a temporal
//! convolution network (TCN) over each row's history, combined with the
//! row's static features, trained with the hand-written engine of
//! [`crate::nn`] ([`crate::nn::seq`] has the network).
//!
//! Inputs ([`SeqData`]): per row a sequence of `steps × channels` values
//! (steps oldest first, channel values already scaled, a missing cell 0), a
//! presence mask per step (1 present, 0 missing) and `statics` static design
//! values (already scaled, NaN replaced by 0). A missing step leaves the
//! GRU's state unchanged; the TCN reads the presence as an extra channel.
//!
//! Training is the attention trainer's ([`crate::algo::attention`]):
//! AdamW (weight decay on the weight matrices only), mean weighted BCE with
//! logits (each row's loss times its weight over the training rows' mean
//! weight), dropout on the head's hidden layer, early stopping on a
//! stratified, seeded validation split with `patience`, per-epoch
//! [`Epoch`] reports, `max_seconds` and [`crate::interrupt`] ending training
//! with the best epoch's weights. **Determinism**: one seeded `SmallRng`
//! draws, in order, the validation split, the initial weights, the batch
//! order and per batch one seed for each of its [`CHUNKS`] chunks (its
//! dropout masks); each chunk's gradient has its own buffer and the buffers
//! are summed in chunk order, so a seed gives the same weights on any
//! number of threads (tested).
//!
//! The result ([`SeqModel`]) holds plain weight vectors; their layouts are
//! documented on each field, and [`SeqModel::logit`] is a plain per-row
//! forward pass written from them (what the runtime's will do; tested
//! against the engine).

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

pub use crate::algo::attention::{Epoch, Outcome, Stop};
use crate::nn::chunks::{bce_row, run_split, sum_chunks, threads, weighted_log_loss, CHUNKS};
pub use crate::nn::seq::Encoder;
use crate::nn::seq::{SeqNet, SeqShape, SeqWs};
use crate::nn::AdamW;
use crate::split;

/// Chunks each batch is cut into (each with its own random stream and
/// gradient buffer, summed in chunk order); also the most threads used.
/// Rows per workspace part when only evaluating.
const EVAL_PART: usize = 256;
/// Activation floats one thread's workspace may hold; a chunk of more rows
/// is processed in parts (the same parts whatever the thread count).
const WORKSPACE_FLOATS: usize = 16 << 20;
/// Limits of the parameters (the runtime will check a model file's sizes
/// against the same).
pub const MAX_HIDDEN: usize = 256;
pub const MAX_LAYERS: usize = 8;
pub const MAX_KERNEL: usize = 5;
pub const MAX_STEPS: usize = 512;
pub const MAX_CHANNELS: usize = 256;

/// The training inputs, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqData {
    pub rows: usize,
    pub steps: usize,
    pub channels: usize,
    pub statics: usize,
    /// `rows × steps × channels`; missing cells 0.
    pub seq: Vec<f32>,
    /// `rows × steps`: 1 present, 0 missing.
    pub mask: Vec<f32>,
    /// `rows × statics`.
    pub stat: Vec<f32>,
}

impl SeqData {
    /// Checks sizes, that every value is finite and every mask 0 or 1.
    pub fn validate(&self) -> Result<(), SeqError> {
        let bad = |what: String| Err(SeqError::Data(what));
        if self.steps == 0 || self.steps > MAX_STEPS {
            return bad(format!("steps must be in 1..={MAX_STEPS}"));
        }
        if self.channels == 0 || self.channels > MAX_CHANNELS {
            return bad(format!("channels must be in 1..={MAX_CHANNELS}"));
        }
        let want = [
            ("sequence", self.seq.len(), self.steps * self.channels),
            ("mask", self.mask.len(), self.steps),
            ("static", self.stat.len(), self.statics),
        ];
        for (name, len, per_row) in want {
            if self.rows.checked_mul(per_row) != Some(len) {
                return bad(format!(
                    "{name} buffer holds {len} values, not {} rows x {per_row}",
                    self.rows
                ));
            }
        }
        if let Some(i) = self.seq.iter().position(|v| !v.is_finite()) {
            return bad(format!(
                "sequence value of row {} step {} is not finite",
                i / (self.steps * self.channels),
                i / self.channels % self.steps
            ));
        }
        if let Some(i) = self.stat.iter().position(|v| !v.is_finite()) {
            return bad(format!(
                "static value {} of row {} is not finite",
                i % self.statics.max(1),
                i / self.statics.max(1)
            ));
        }
        if let Some(i) = self.mask.iter().position(|&v| v != 0.0 && v != 1.0) {
            return bad(format!(
                "mask of row {} step {} is not 0 or 1",
                i / self.steps,
                i % self.steps
            ));
        }
        Ok(())
    }
}

/// Hyper-parameters of [`fit`]. Build with the setters:
/// `SeqParams::gru().hidden(16).epochs(10)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqParams {
    pub encoder: Encoder,
    /// GRU state width / TCN channels.
    pub hidden: usize,
    /// GRU layers / TCN residual blocks (dilations 1, 2, 4, …).
    pub layers: usize,
    /// TCN kernel width (2..=5; unused by the GRU).
    pub kernel: usize,
    /// Units of the head's hidden layer.
    pub head: usize,
    /// Dropout rate of the head's hidden layer, in [0, 1).
    pub dropout: f64,
    /// AdamW learning rate.
    pub lr: f64,
    /// AdamW decoupled weight decay (weight matrices only).
    pub weight_decay: f64,
    /// Maximum epochs.
    pub epochs: usize,
    pub batch_size: usize,
    /// Stop this many epochs after the best validation epoch; 0 disables.
    pub patience: usize,
    /// Stratified fraction held out for early stopping, in [0, 1); 0 trains
    /// every epoch on every row and keeps the last weights.
    pub validation_fraction: f64,
    pub seed: u64,
    /// Stop after this many seconds (checked between batches), keeping the
    /// best epoch so far; `None` = no limit.
    pub max_seconds: Option<f64>,
}

impl Default for SeqParams {
    fn default() -> Self {
        SeqParams::gru()
    }
}

impl SeqParams {
    /// The GRU's defaults, chosen on the early-stopping validation split
    /// (best validation log-loss) of the synthetic histories (30,000
    /// customers × 12 months, seed 1; `scripts/bench-sequence.sh`): hidden
    /// 16, lr 1e-3, batch 128, dropout 0.3 gave GRU 0.3246, TCN 0.3263;
    /// hidden 32 with lr 2e-3 / batch 128 / dropout 0.1 0.3246 and 0.3267
    /// (the TCN overfits from epoch 2); lr 5e-4 / batch 256 0.3256 and
    /// 0.3266; batch 512 with lr 2e-3 or 3e-3 0.3248–0.3268; hidden 64
    /// 0.3257 and 0.3261 at three times the time. The differences are
    /// within the noise of one split: the smallest, fastest setting won.
    pub fn gru() -> Self {
        SeqParams {
            encoder: Encoder::Gru,
            hidden: 16,
            layers: 1,
            kernel: 3,
            head: 32,
            dropout: 0.3,
            lr: 1e-3,
            weight_decay: 1e-4,
            epochs: 30,
            batch_size: 128,
            patience: 4,
            validation_fraction: 0.15,
            seed: 42,
            max_seconds: None,
        }
    }

    /// The TCN's defaults: kernel 3, 3 blocks (receptive field 15 steps).
    pub fn tcn() -> Self {
        SeqParams {
            encoder: Encoder::Tcn,
            layers: 3,
            ..SeqParams::gru()
        }
    }

    setters! {
        encoder: Encoder,
        hidden: usize,
        layers: usize,
        kernel: usize,
        head: usize,
        dropout: f64,
        lr: f64,
        weight_decay: f64,
        epochs: usize,
        batch_size: usize,
        patience: usize,
        validation_fraction: f64,
        seed: u64,
        max_seconds: Option<f64>,
    }

    /// Checks every parameter; [`fit`] calls this first.
    pub fn validate(&self) -> Result<(), SeqError> {
        fn bad(name: &'static str, reason: &str) -> Result<(), SeqError> {
            Err(SeqError::InvalidParam {
                name,
                reason: reason.to_string(),
            })
        }
        if self.hidden == 0 || self.hidden > MAX_HIDDEN {
            return bad("hidden", &format!("must be in 1..={MAX_HIDDEN}"));
        }
        if self.layers == 0 || self.layers > MAX_LAYERS {
            return bad("layers", &format!("must be in 1..={MAX_LAYERS}"));
        }
        if self.encoder == Encoder::Tcn && !(2..=MAX_KERNEL).contains(&self.kernel) {
            return bad("kernel", &format!("must be in 2..={MAX_KERNEL}"));
        }
        if self.head == 0 || self.head > MAX_HIDDEN {
            return bad("head", &format!("must be in 1..={MAX_HIDDEN}"));
        }
        if !(self.dropout >= 0.0 && self.dropout < 1.0) {
            return bad("dropout", "must be in [0, 1)");
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

    fn shape(&self, d: &SeqData) -> SeqShape {
        SeqShape {
            encoder: self.encoder,
            steps: d.steps,
            channels: d.channels,
            statics: d.statics,
            hidden: self.hidden,
            layers: self.layers,
            kernel: if self.encoder == Encoder::Tcn {
                self.kernel
            } else {
                0
            },
            head: self.head,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeqError {
    #[error("invalid sequence-model parameter `{name}`: {reason}")]
    InvalidParam { name: &'static str, reason: String },
    #[error("sequence model: {0}")]
    Data(String),
    #[error("sequence model: training diverged (loss is not finite at epoch {epoch})")]
    Diverged { epoch: usize },
    #[error("sequence model: {0}")]
    Weights(#[from] crate::weights::WeightError),
}

/// One GRU layer's weights (gate order z, r, n; see [`crate::nn::gru`]).
#[derive(Debug, Clone, PartialEq)]
pub struct GruLayer {
    /// `3·hidden × input` row-major (rows z₀..z_{H−1}, r₀.., n₀..); `input`
    /// is `channels` for the first layer, `hidden` above.
    pub w: Vec<f32>,
    /// `3·hidden × hidden`, same row order.
    pub u: Vec<f32>,
    /// `3·hidden`: `b_i` (z, r, n).
    pub bi: Vec<f32>,
    /// `3·hidden`: `b_h` (z, r, n); `b_hn` sits inside `r ⊙ (·)`.
    pub bh: Vec<f32>,
}

/// One TCN block's weights: `u ← u + ReLU(conv(u))`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvLayer {
    /// `hidden × (kernel · hidden)` row-major: for output channel `o`, tap
    /// `j` (0 = oldest) and input channel `c`, `w[o·k·H + j·H + c]` reads
    /// step `s − (k − 1 − j)·dilation` (0 before the first step).
    pub w: Vec<f32>,
    /// `hidden`.
    pub b: Vec<f32>,
    /// `2^block`.
    pub dilation: usize,
}

/// A trained sequence model as plain weight vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqModel {
    pub encoder: Encoder,
    pub steps: usize,
    pub channels: usize,
    pub statics: usize,
    pub hidden: usize,
    /// TCN kernel width (0 for the GRU).
    pub kernel: usize,
    /// GRU layers, bottom first (empty for the TCN).
    pub gru: Vec<GruLayer>,
    /// TCN input projection, `hidden × (channels + 1)` row-major: the
    /// step's channels then its presence (1/0) (empty for the GRU).
    pub tcn_in_w: Vec<f32>,
    /// `hidden` (empty for the GRU).
    pub tcn_in_b: Vec<f32>,
    /// TCN blocks, dilations 1, 2, 4, … (empty for the GRU).
    pub conv: Vec<ConvLayer>,
    /// Head: `head × (hidden + statics)` row-major; columns the encoding
    /// (GRU: top state after the last step; TCN: last block's output at
    /// the last step), then the static features.
    pub head_w1: Vec<f32>,
    /// `head`.
    pub head_b1: Vec<f32>,
    /// `head`: logit = `head_w2 · ReLU(head_w1·[enc, static] + head_b1) + head_b2`.
    pub head_w2: Vec<f32>,
    pub head_b2: f32,
}

impl SeqModel {
    fn from_flat(net: &SeqNet, p: &[f32]) -> SeqModel {
        let s = &net.shape;
        let l = &net.layout;
        let v = |sp: crate::nn::Span| sp.of(p).to_vec();
        SeqModel {
            encoder: s.encoder,
            steps: s.steps,
            channels: s.channels,
            statics: s.statics,
            hidden: s.hidden,
            kernel: s.kernel,
            gru: l
                .gru
                .iter()
                .map(|g| GruLayer {
                    w: v(g.w),
                    u: v(g.u),
                    bi: v(g.bi),
                    bh: v(g.bh),
                })
                .collect(),
            tcn_in_w: v(l.tcn_in_w),
            tcn_in_b: v(l.tcn_in_b),
            conv: l
                .conv
                .iter()
                .map(|c| ConvLayer {
                    w: v(c.w),
                    b: v(c.b),
                    dilation: c.dilation,
                })
                .collect(),
            head_w1: v(l.head_w1),
            head_b1: v(l.head_b1),
            head_w2: v(l.head_w2),
            head_b2: l.head_b2.of(p).first().copied().unwrap_or(0.0),
        }
    }

    /// The encoder's output for one row: `seq` is `steps × channels`,
    /// `mask` `steps`. Plain loops, one row at a time: the reference the
    /// runtime's forward pass is to follow. Training-side only: it trusts
    /// the lengths (the trainer's own model and rows); the runtime's must
    /// check a file's sizes first.
    pub fn encode(&self, seq: &[f32], mask: &[f32]) -> Vec<f32> {
        let (t, c, h) = (self.steps, self.channels, self.hidden);
        let dot = |w: &[f32], row: usize, x: &[f32]| -> f32 {
            w[row * x.len()..(row + 1) * x.len()]
                .iter()
                .zip(x)
                .map(|(a, b)| a * b)
                .sum()
        };
        match self.encoder {
            Encoder::Gru => {
                let mut xs: Vec<f32> = seq.to_vec();
                let mut input = c;
                let mut state = vec![0.0f32; h];
                for g in &self.gru {
                    let mut out = Vec::with_capacity(t * h);
                    state = vec![0.0f32; h];
                    for s in 0..t {
                        if mask[s] != 0.0 {
                            let x = &xs[s * input..(s + 1) * input];
                            let mut next = vec![0.0f32; h];
                            for (j, nj) in next.iter_mut().enumerate() {
                                let sg = |v: f32| 1.0 / (1.0 + (-v).exp());
                                let z =
                                    sg(dot(&g.w, j, x) + g.bi[j] + dot(&g.u, j, &state) + g.bh[j]);
                                let r = sg(dot(&g.w, h + j, x)
                                    + g.bi[h + j]
                                    + dot(&g.u, h + j, &state)
                                    + g.bh[h + j]);
                                let n = (dot(&g.w, 2 * h + j, x)
                                    + g.bi[2 * h + j]
                                    + r * (dot(&g.u, 2 * h + j, &state) + g.bh[2 * h + j]))
                                    .tanh();
                                *nj = (1.0 - z) * n + z * state[j];
                            }
                            state = next;
                        }
                        out.extend_from_slice(&state);
                    }
                    xs = out;
                    input = h;
                }
                state
            }
            Encoder::Tcn => {
                let mut u = vec![0.0f32; t * h];
                for s in 0..t {
                    let mut x: Vec<f32> = seq[s * c..(s + 1) * c].to_vec();
                    x.push(mask[s]);
                    for o in 0..h {
                        u[s * h + o] = self.tcn_in_b[o] + dot(&self.tcn_in_w, o, &x);
                    }
                }
                let k = self.kernel;
                for cv in &self.conv {
                    let mut next = u.clone();
                    for s in 0..t {
                        // The receptive window, oldest tap first, 0 before step 0.
                        let mut win = vec![0.0f32; k * h];
                        for j in 0..k {
                            let back = (k - 1 - j) * cv.dilation;
                            if back <= s {
                                win[j * h..(j + 1) * h]
                                    .copy_from_slice(&u[(s - back) * h..(s - back + 1) * h]);
                            }
                        }
                        for o in 0..h {
                            next[s * h + o] += (cv.b[o] + dot(&cv.w, o, &win)).max(0.0);
                        }
                    }
                    u = next;
                }
                u[(t - 1) * h..].to_vec()
            }
        }
    }

    /// The log-odds of one row (`stat`: `statics` values).
    pub fn logit(&self, seq: &[f32], mask: &[f32], stat: &[f32]) -> f32 {
        let mut cat = self.encode(seq, mask);
        cat.extend_from_slice(stat);
        let wide = cat.len();
        let mut z = self.head_b2;
        for (o, (&b, &w2)) in self.head_b1.iter().zip(&self.head_w2).enumerate() {
            let pre: f32 = b + self.head_w1[o * wide..(o + 1) * wide]
                .iter()
                .zip(&cat)
                .map(|(a, x)| a * x)
                .sum::<f32>();
            z += w2 * pre.max(0.0);
        }
        z
    }
}

/// Copies `rows` of `d` into the first rows of `ws`.
fn fill(d: &SeqData, rows: &[usize], ws: &mut SeqWs) {
    let (tc, t, s) = (d.steps * d.channels, d.steps, d.statics);
    for (i, &r) in rows.iter().enumerate() {
        ws.seq[i * tc..(i + 1) * tc].copy_from_slice(&d.seq[r * tc..(r + 1) * tc]);
        ws.mask[i * t..(i + 1) * t].copy_from_slice(&d.mask[r * t..(r + 1) * t]);
        ws.stat[i * s..(i + 1) * s].copy_from_slice(&d.stat[r * s..(r + 1) * s]);
    }
}

struct Engine<'a> {
    net: &'a SeqNet,
    data: &'a SeqData,
    workers: Vec<SeqWs>,
    part: usize,
    chunk_grads: Vec<Vec<f32>>,
    chunk_loss: Vec<f64>,
    grads: Vec<f32>,
}

impl<'a> Engine<'a> {
    fn new(net: &'a SeqNet, data: &'a SeqData, batch: usize) -> Engine<'a> {
        let cap = WORKSPACE_FLOATS / net.floats_per_row().max(1);
        let part = batch.div_ceil(CHUNKS).max(EVAL_PART).min(cap).max(1);
        Engine {
            net,
            data,
            workers: (0..threads()).map(|_| net.workspace(part)).collect(),
            part,
            chunk_grads: vec![vec![0.0; net.layout.len]; CHUNKS],
            chunk_loss: vec![0.0; CHUNKS],
            grads: vec![0.0; net.layout.len],
        }
    }

    /// The mean (weighted by `rel`) loss gradient of one batch into
    /// `self.grads`; returns the batch's mean loss.
    fn batch_gradient(
        &mut self,
        params: &[f32],
        rows: &[usize],
        y: &[bool],
        rel: Option<&[f32]>,
        rng: &mut SmallRng,
        dropout: f64,
    ) -> f64 {
        let seeds: [u64; CHUNKS] = std::array::from_fn(|_| rng.random());
        let per = rows.len().div_ceil(CHUNKS).max(1);
        let scale = 1.0 / rows.len().max(1) as f64;
        let (net, data, part) = (self.net, self.data, self.part);
        let slots: Vec<std::sync::Mutex<(&mut Vec<f32>, &mut f64)>> = self
            .chunk_grads
            .iter_mut()
            .zip(self.chunk_loss.iter_mut())
            .map(std::sync::Mutex::new)
            .collect();
        run_split(&mut self.workers, CHUNKS, |k, ws| {
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
            for sub in chunk.chunks(part) {
                fill(data, sub, ws);
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
        let (net, data) = (self.net, self.data);
        run_split(&mut self.workers, parts.len(), |k, ws| {
            let Some(Ok(mut dst)) = parts.get(k).map(|m| m.lock()) else {
                return;
            };
            let sub = rows
                .get(k * part..((k + 1) * part).min(rows.len()))
                .unwrap_or(&[]);
            fill(data, sub, ws);
            net.forward(params, ws, sub.len(), None);
            dst.copy_from_slice(&ws.logits[..sub.len()]);
        });
        drop(parts);
        out
    }
}

/// Eval-mode logits of every row of `data` with `model`'s weights, through
/// the batched engine (on the rayon pool's threads).
pub fn logits(model: &SeqModel, data: &SeqData) -> Result<Vec<f32>, SeqError> {
    data.validate()?;
    let shape = SeqShape {
        encoder: model.encoder,
        steps: model.steps,
        channels: model.channels,
        statics: model.statics,
        hidden: model.hidden,
        layers: model.gru.len().max(model.conv.len()),
        kernel: model.kernel,
        head: model.head_b1.len(),
    };
    if (data.steps, data.channels, data.statics) != (shape.steps, shape.channels, shape.statics) {
        return Err(SeqError::Data(format!(
            "data of {} steps x {} channels + {} statics for a model of {} x {} + {}",
            data.steps, data.channels, data.statics, shape.steps, shape.channels, shape.statics
        )));
    }
    let net = SeqNet::new(shape);
    let l = &net.layout;
    let mut p = vec![0.0f32; l.len];
    let mut put = |sp: crate::nn::Span, v: &[f32]| -> Result<(), SeqError> {
        if v.len() != sp.len {
            return Err(SeqError::Data(format!(
                "a weight vector holds {} values, its place {}",
                v.len(),
                sp.len
            )));
        }
        sp.of_mut(&mut p).copy_from_slice(v);
        Ok(())
    };
    for (g, w) in l.gru.iter().zip(&model.gru) {
        put(g.w, &w.w)?;
        put(g.u, &w.u)?;
        put(g.bi, &w.bi)?;
        put(g.bh, &w.bh)?;
    }
    put(l.tcn_in_w, &model.tcn_in_w)?;
    put(l.tcn_in_b, &model.tcn_in_b)?;
    for (c, w) in l.conv.iter().zip(&model.conv) {
        put(c.w, &w.w)?;
        put(c.b, &w.b)?;
    }
    put(l.head_w1, &model.head_w1)?;
    put(l.head_b1, &model.head_b1)?;
    put(l.head_w2, &model.head_w2)?;
    put(l.head_b2, &[model.head_b2])?;
    let mut engine = Engine::new(&net, data, EVAL_PART);
    let rows: Vec<usize> = (0..data.rows).collect();
    Ok(engine.logits(&p, &rows))
}

/// Fits a sequence model on `data` (labels `y`, `true` = positive; sample
/// weights `w`, one per row). `progress` is called after every epoch.
pub fn fit(
    data: &SeqData,
    y: &[bool],
    w: &[f32],
    p: &SeqParams,
    progress: &mut dyn FnMut(&Epoch),
) -> Result<(SeqModel, Outcome), SeqError> {
    p.validate()?;
    data.validate()?;
    let started = std::time::Instant::now();
    let out_of_time = || {
        p.max_seconds
            .is_some_and(|t| started.elapsed().as_secs_f64() >= t)
    };
    if data.rows != y.len() {
        return Err(SeqError::Data(format!(
            "{} labels for {} rows",
            y.len(),
            data.rows
        )));
    }
    crate::weights::check(w, data.rows)?;
    let weighted = !crate::weights::all_ones(w);
    let positives = y.iter().filter(|&&t| t).count();
    if positives == 0 || positives == y.len() {
        return Err(SeqError::Data("the labels hold only one class".into()));
    }
    let mut rng = SmallRng::seed_from_u64(p.seed);
    let (mut train, valid) = if p.validation_fraction > 0.0 {
        split::stratified_split(y, p.validation_fraction, rng.random())
    } else {
        ((0..y.len()).collect(), Vec::new())
    };
    let net = SeqNet::new(p.shape(data));
    let mut params = net.layout.init(&net.shape, &mut rng);
    let mut opt = AdamW::new(
        net.layout.len,
        p.lr as f32,
        p.weight_decay as f32,
        net.layout.decayed(),
    );
    let mut engine = Engine::new(&net, data, p.batch_size);
    let valid_y: Vec<bool> = valid.iter().map(|&r| y[r]).collect();
    let valid_w: Vec<f64> = valid.iter().map(|&r| f64::from(w[r])).collect();
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
            let value =
                engine.batch_gradient(&params, chunk, y, rel.as_deref(), &mut rng, p.dropout);
            if !value.is_finite() {
                return Err(SeqError::Diverged { epoch });
            }
            loss_sum += value * chunk.len() as f64;
            seen += chunk.len();
            opt.step(&mut params, &engine.grads);
        }
        let mut report = Epoch {
            epoch,
            max_epochs: p.epochs,
            train_loss: loss_sum / seen.max(1) as f64,
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
        let valid_logits = engine.logits(&params, &valid);
        let valid_loss = weighted_log_loss(&valid_logits, &valid_y, &valid_w);
        if !valid_loss.is_finite() {
            return Err(SeqError::Diverged { epoch });
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
            best = Some((valid_loss, params.clone()));
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
    if let Some((_, snapshot)) = best {
        params = snapshot;
    } else if stop != Stop::Epochs && !valid.is_empty() {
        best_epoch = 0;
    }
    Ok((
        SeqModel::from_flat(&net, &params),
        Outcome {
            epochs: epochs_run,
            best_epoch,
            stop,
        },
    ))
}

#[cfg(test)]
#[path = "sequence_tests.rs"]
mod tests;
