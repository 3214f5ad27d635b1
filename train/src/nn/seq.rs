//! The sequence classifiers of issue 14 on the layers of [`crate::nn`]: a
//! GRU or a temporal convolution network (TCN) encodes each row's history,
//! the encoding is concatenated with the row's static features, and a
//! hidden ReLU layer gives the logit. Forward and backward over a part of
//! rows; parameters and gradients in flat `f32` buffers laid out by
//! [`SeqLayout`]; activations in a reusable [`SeqWs`].
//!
//! Inputs of a part of `m` rows ([`SeqWs::seq`], [`SeqWs::mask`],
//! [`SeqWs::stat`], filled by the caller): the sequence `m × t × c`
//! (row-major, steps oldest first, missing cells 0), the presence mask
//! `m × t` (1 present, 0 missing) and the static features `m × s`.
//!
//! - **GRU** ([`super::gru`]): `layers` stacked layers of width `hidden`;
//!   a missing step leaves every layer's state unchanged; the encoding is
//!   the top layer's state after the last step.
//! - **TCN** ([`super::tcn`]): the input `[x, presence]` (`c + 1`
//!   channels) is projected to `hidden` channels per step
//!   (`u₀ = W_in·[x, p] + b_in`), then `layers` residual blocks
//!   `u_{l+1} = u_l + ReLU(conv_l(u_l))`, `conv_l` causal with kernel
//!   `kernel` and dilation `2^l`; the encoding is `u_L` at the last step
//!   (receptive field `1 + (kernel − 1)(2^layers − 1)` steps).
//! - **Head**: `a = ReLU(W₁·[enc, static] + b₁)` (`head` units, dropout in
//!   training), `logit = w₂·a + b₂`.

use rand::rngs::SmallRng;
use rand::Rng;

use super::gru::{gru_backward, gru_forward, GruDims, GruSpans, GruWs};
use super::tcn::{conv_backward, conv_forward, ConvDims};
use super::{dropout_mask, linear_backward, linear_forward, pair_mut, Allocator, Span};

/// The sequence encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoder {
    Gru,
    Tcn,
}

/// The network's sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqShape {
    pub encoder: Encoder,
    /// Steps per row (`t`).
    pub steps: usize,
    /// Values per step (`c`).
    pub channels: usize,
    /// Static features (`s`).
    pub statics: usize,
    /// Encoder width (GRU state, TCN channels).
    pub hidden: usize,
    /// GRU layers or TCN blocks.
    pub layers: usize,
    /// TCN kernel width (unused by the GRU).
    pub kernel: usize,
    /// Units of the head's hidden layer.
    pub head: usize,
}

impl SeqShape {
    /// Steps the TCN's last output sees: `1 + (kernel − 1)(2^layers − 1)`.
    pub fn receptive_field(&self) -> usize {
        1 + self.kernel.saturating_sub(1) * ((1usize << self.layers.min(30)) - 1)
    }
}

/// One TCN block's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpans {
    /// `hidden × (kernel · hidden)`, see [`super::tcn`].
    pub w: Span,
    /// `hidden`.
    pub b: Span,
    pub dilation: usize,
}

/// Every tensor's place in the flat parameter buffer, in this order.
#[derive(Debug, Clone)]
pub struct SeqLayout {
    /// GRU layers (empty for the TCN).
    pub gru: Vec<GruSpans>,
    /// TCN input projection `hidden × (c + 1)` and its bias (empty spans
    /// for the GRU).
    pub tcn_in_w: Span,
    pub tcn_in_b: Span,
    /// TCN blocks (empty for the GRU).
    pub conv: Vec<ConvSpans>,
    /// `head × (hidden + s)`: columns the encoding, then the statics.
    pub head_w1: Span,
    pub head_b1: Span,
    /// `head`.
    pub head_w2: Span,
    pub head_b2: Span,
    pub len: usize,
}

impl SeqLayout {
    pub fn new(s: &SeqShape) -> SeqLayout {
        let h = s.hidden;
        let mut a = Allocator::default();
        let (mut gru, mut conv) = (Vec::new(), Vec::new());
        let (mut tcn_in_w, mut tcn_in_b) = (a.take(0), a.take(0));
        match s.encoder {
            Encoder::Gru => {
                for l in 0..s.layers {
                    gru.push(GruSpans::new(
                        &mut a,
                        if l == 0 { s.channels } else { h },
                        h,
                    ));
                }
            }
            Encoder::Tcn => {
                tcn_in_w = a.take(h * (s.channels + 1));
                tcn_in_b = a.take(h);
                for l in 0..s.layers {
                    conv.push(ConvSpans {
                        w: a.take(h * s.kernel * h),
                        b: a.take(h),
                        dilation: 1 << l,
                    });
                }
            }
        }
        let head_w1 = a.take(s.head * (h + s.statics));
        let head_b1 = a.take(s.head);
        let head_w2 = a.take(s.head);
        let head_b2 = a.take(1);
        SeqLayout {
            gru,
            tcn_in_w,
            tcn_in_b,
            conv,
            head_w1,
            head_b1,
            head_w2,
            head_b2,
            len: a.len,
        }
    }

    /// The matrices AdamW decays (every weight matrix, no bias).
    pub fn decayed(&self) -> Vec<Span> {
        let mut v: Vec<Span> = self.gru.iter().flat_map(|g| [g.w, g.u]).collect();
        v.push(self.tcn_in_w);
        v.extend(self.conv.iter().map(|c| c.w));
        v.extend([self.head_w1, self.head_w2]);
        v
    }

    /// Initial parameters, drawn from `rng` in layout order: GRU matrices
    /// uniform in ±1/√hidden, every other matrix in ±1/√inputs; biases 0.
    pub fn init(&self, s: &SeqShape, rng: &mut SmallRng) -> Vec<f32> {
        let mut p = vec![0.0f32; self.len];
        let mut fill = |p: &mut [f32], span: Span, inputs: usize| {
            let bound = 1.0 / (inputs.max(1) as f64).sqrt();
            for v in span.of_mut(p) {
                *v = rng.random_range(-bound..=bound) as f32;
            }
        };
        for g in &self.gru {
            fill(&mut p, g.w, s.hidden);
            fill(&mut p, g.u, s.hidden);
        }
        fill(&mut p, self.tcn_in_w, s.channels + 1);
        for c in &self.conv {
            fill(&mut p, c.w, s.kernel * s.hidden);
        }
        fill(&mut p, self.head_w1, s.hidden + s.statics);
        fill(&mut p, self.head_w2, s.head);
        p
    }
}

/// Inputs, saved activations and gradients of a part of up to `rows` rows.
#[derive(Debug)]
pub struct SeqWs {
    rows: usize,
    /// `rows × t × c`, filled by the caller.
    pub seq: Vec<f32>,
    /// `rows × t`, filled by the caller.
    pub mask: Vec<f32>,
    /// `rows × s`, filled by the caller.
    pub stat: Vec<f32>,
    gru: Vec<GruWs>,
    /// TCN input `rows × t × (c + 1)`.
    xin: Vec<f32>,
    /// TCN states `u_0..=u_L`, each `rows × t × hidden`.
    u: Vec<Vec<f32>>,
    /// TCN im2col matrices and ReLU outputs per block.
    cols: Vec<Vec<f32>>,
    act: Vec<Vec<f32>>,
    /// `rows × t × hidden` gradients (two for the GRU's layer-to-layer
    /// hand-over) and the TCN's im2col gradient.
    d1: Vec<f32>,
    d2: Vec<f32>,
    dcols: Vec<f32>,
    /// `rows × (hidden + s)`.
    cat: Vec<f32>,
    dcat: Vec<f32>,
    /// `rows × head`: hidden layer (after ReLU and dropout), dropout
    /// multipliers, gradient.
    a: Vec<f32>,
    pub drop: Vec<f32>,
    da: Vec<f32>,
    pub logits: Vec<f32>,
    /// The loss gradient of each logit, set by the caller before backward.
    pub dlogits: Vec<f32>,
}

/// The network: shape and layout.
#[derive(Debug, Clone)]
pub struct SeqNet {
    pub shape: SeqShape,
    pub layout: SeqLayout,
}

impl SeqNet {
    pub fn new(shape: SeqShape) -> SeqNet {
        SeqNet {
            layout: SeqLayout::new(&shape),
            shape,
        }
    }

    /// Activation floats a [`SeqWs`] holds per row.
    pub fn floats_per_row(&self) -> usize {
        let s = &self.shape;
        let (t, h, l) = (s.steps, s.hidden, s.layers);
        let mut n = t * (s.channels + 1) + s.statics + 2 * (h + s.statics) + 3 * s.head + 2;
        n += 2 * t * h;
        match s.encoder {
            Encoder::Gru => n += l * GruWs::floats_per_row(t, h),
            Encoder::Tcn => {
                n += t * (s.channels + 1) + (l + 1) * t * h + l * t * h * (2 * s.kernel + 1)
            }
        }
        n
    }

    pub fn workspace(&self, rows: usize) -> SeqWs {
        let s = &self.shape;
        let (t, h, l) = (s.steps, s.hidden, s.layers);
        let cells = rows * t;
        let tcn = s.encoder == Encoder::Tcn;
        let per = |on: bool, n: usize| if on { n } else { 0 };
        SeqWs {
            rows,
            seq: vec![0.0; cells * s.channels],
            mask: vec![0.0; cells],
            stat: vec![0.0; rows * s.statics],
            gru: if tcn {
                Vec::new()
            } else {
                (0..l).map(|_| GruWs::new(rows, t, h)).collect()
            },
            xin: vec![0.0; per(tcn, cells * (s.channels + 1))],
            u: (0..per(tcn, l + 1)).map(|_| vec![0.0; cells * h]).collect(),
            cols: (0..per(tcn, l))
                .map(|_| vec![0.0; cells * s.kernel * h])
                .collect(),
            act: (0..per(tcn, l)).map(|_| vec![0.0; cells * h]).collect(),
            d1: vec![0.0; cells * h],
            d2: vec![0.0; cells * h],
            dcols: vec![0.0; per(tcn, cells * s.kernel * h)],
            cat: vec![0.0; rows * (h + s.statics)],
            dcat: vec![0.0; rows * (h + s.statics)],
            a: vec![0.0; rows * s.head],
            drop: vec![1.0; rows * s.head],
            da: vec![0.0; rows * s.head],
            logits: vec![0.0; rows],
            dlogits: vec![0.0; rows],
        }
    }

    /// Forward pass of the first `m` rows of `ws`'s inputs (at most the
    /// rows it was made for): logits to `ws.logits`. `drop` = training
    /// mode's random stream and dropout rate of the head's hidden layer.
    pub fn forward(&self, p: &[f32], ws: &mut SeqWs, m: usize, drop: Option<(&mut SmallRng, f32)>) {
        let s = &self.shape;
        let m = m.min(ws.rows);
        let (t, h, c) = (s.steps, s.hidden, s.channels);
        let l = &self.layout;
        let wide = h + s.statics;
        match s.encoder {
            Encoder::Gru => {
                for (k, spans) in l.gru.iter().enumerate() {
                    let (lower, upper) = ws.gru.split_at_mut(k);
                    let Some(cur) = upper.first_mut() else {
                        break;
                    };
                    let (x, input): (&[f32], usize) = match lower.last() {
                        Some(prev) => (&prev.out, h),
                        None => (&ws.seq, c),
                    };
                    let d = GruDims {
                        m,
                        t,
                        input,
                        hidden: h,
                    };
                    gru_forward(d, p, spans, x, &ws.mask, cur);
                }
            }
            Encoder::Tcn => {
                for cell in 0..m * t {
                    let dst = &mut ws.xin[cell * (c + 1)..(cell + 1) * (c + 1)];
                    dst[..c].copy_from_slice(&ws.seq[cell * c..(cell + 1) * c]);
                    dst[c] = ws.mask[cell];
                }
                if let Some(u0) = ws.u.first_mut() {
                    linear_forward(
                        &ws.xin,
                        l.tcn_in_w.of(p),
                        l.tcn_in_b.of(p),
                        u0,
                        m * t,
                        c + 1,
                        h,
                    );
                }
                for (k, cs) in l.conv.iter().enumerate() {
                    let d = ConvDims {
                        m,
                        t,
                        cin: h,
                        cout: h,
                        kernel: s.kernel,
                        dilation: cs.dilation,
                    };
                    let (lower, upper) = ws.u.split_at_mut(k + 1);
                    let (Some(uk), Some(next)) = (lower.last(), upper.first_mut()) else {
                        break;
                    };
                    let act = &mut ws.act[k];
                    conv_forward(d, uk, cs.w.of(p), cs.b.of(p), &mut ws.cols[k], act);
                    for a in &mut act[..m * t * h] {
                        *a = a.max(0.0);
                    }
                    for ((o, &a), &u) in next[..m * t * h].iter_mut().zip(act.iter()).zip(uk) {
                        *o = u + a;
                    }
                }
            }
        }
        let top: &[f32] = match s.encoder {
            Encoder::Gru => ws.gru.last().map_or(&[][..], |g| &g.out),
            Encoder::Tcn => ws.u.last().map_or(&[][..], |u| u),
        };
        for b in 0..m {
            let at = (b * t + t - 1) * h;
            let row = &mut ws.cat[b * wide..(b + 1) * wide];
            row[..h].copy_from_slice(&top[at..at + h]);
            row[h..].copy_from_slice(&ws.stat[b * s.statics..(b + 1) * s.statics]);
        }
        linear_forward(
            &ws.cat,
            l.head_w1.of(p),
            l.head_b1.of(p),
            &mut ws.a,
            m,
            wide,
            s.head,
        );
        match drop {
            Some((rng, rate)) if rate > 0.0 => {
                dropout_mask(rng, rate, &mut ws.drop[..m * s.head]);
                for (a, &k) in ws.a[..m * s.head].iter_mut().zip(&ws.drop) {
                    *a = a.max(0.0) * k;
                }
            }
            _ => {
                ws.drop.fill(1.0);
                for a in &mut ws.a[..m * s.head] {
                    *a = a.max(0.0);
                }
            }
        }
        linear_forward(
            &ws.a,
            l.head_w2.of(p),
            l.head_b2.of(p),
            &mut ws.logits,
            m,
            s.head,
            1,
        );
    }

    /// Backward pass of the last [`SeqNet::forward`] of `m` rows given
    /// `ws.dlogits`: adds the parameter gradients to `grads`.
    pub fn backward(&self, p: &[f32], ws: &mut SeqWs, m: usize, grads: &mut [f32]) {
        let s = &self.shape;
        let m = m.min(ws.rows);
        let (t, h, c) = (s.steps, s.hidden, s.channels);
        let l = &self.layout;
        let wide = h + s.statics;
        {
            let (dw2, db2) = pair_mut(grads, l.head_w2, l.head_b2);
            linear_backward(
                &ws.a,
                l.head_w2.of(p),
                &ws.dlogits,
                Some((&mut ws.da, false)),
                dw2,
                db2,
                m,
                s.head,
                1,
            );
        }
        for ((g, &a), &k) in ws.da[..m * s.head].iter_mut().zip(&ws.a).zip(&ws.drop) {
            *g = if a > 0.0 { *g * k } else { 0.0 };
        }
        {
            let (dw1, db1) = pair_mut(grads, l.head_w1, l.head_b1);
            linear_backward(
                &ws.cat,
                l.head_w1.of(p),
                &ws.da,
                Some((&mut ws.dcat, false)),
                dw1,
                db1,
                m,
                wide,
                s.head,
            );
        }
        // The encoding's gradient at the last step, 0 elsewhere.
        ws.d1[..m * t * h].fill(0.0);
        for b in 0..m {
            let at = (b * t + t - 1) * h;
            ws.d1[at..at + h].copy_from_slice(&ws.dcat[b * wide..b * wide + h]);
        }
        match s.encoder {
            Encoder::Gru => {
                for k in (0..l.gru.len()).rev() {
                    let (lower, upper) = ws.gru.split_at_mut(k);
                    let Some(cur) = upper.first_mut() else {
                        continue;
                    };
                    let (x, input): (&[f32], usize) = match lower.last() {
                        Some(prev) => (&prev.out, h),
                        None => (&ws.seq, c),
                    };
                    let d = GruDims {
                        m,
                        t,
                        input,
                        hidden: h,
                    };
                    let dx = (k > 0).then_some(&mut ws.d2[..]);
                    gru_backward(d, p, &l.gru[k], x, &ws.mask, cur, &mut ws.d1, grads, dx);
                    std::mem::swap(&mut ws.d1, &mut ws.d2);
                }
            }
            Encoder::Tcn => {
                for (k, cs) in l.conv.iter().enumerate().rev() {
                    let d = ConvDims {
                        m,
                        t,
                        cin: h,
                        cout: h,
                        kernel: s.kernel,
                        dilation: cs.dilation,
                    };
                    // dy = du ⊙ ReLU'(conv) into d2; du += conv backward.
                    for ((g, &du), &a) in ws.d2[..m * t * h].iter_mut().zip(&ws.d1).zip(&ws.act[k])
                    {
                        *g = if a > 0.0 { du } else { 0.0 };
                    }
                    conv_backward(
                        d,
                        &ws.cols[k],
                        cs.w.of(p),
                        &ws.d2,
                        grads,
                        cs.w,
                        cs.b,
                        Some((&mut ws.d1, &mut ws.dcols)),
                    );
                }
                let (dw, db) = pair_mut(grads, l.tcn_in_w, l.tcn_in_b);
                linear_backward(
                    &ws.xin,
                    l.tcn_in_w.of(p),
                    &ws.d1,
                    None,
                    dw,
                    db,
                    m * t,
                    c + 1,
                    h,
                );
            }
        }
    }
}
