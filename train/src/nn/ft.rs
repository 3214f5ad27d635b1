//! The FT-Transformer of `--model attention` (the network
//! [`ferrisk::kinds::attention`] scores) on the layers of [`crate::nn`]:
//! forward and backward over a chunk of rows, parameters and gradients in
//! flat `f32` buffers laid out by [`Layout`], activations in a reusable
//! [`Workspace`].
//!
//! One token per feature (numeric: `value · w + b`; categorical: an
//! embedding row), `[CLS]` in front, pre-norm blocks `x + MHA(LN(x))`,
//! `x + FFN(LN(x))` (ReLU), and a linear head on the layer-normed final
//! `[CLS]` state. The last block computes the query, the update and the
//! feed-forward layer of the `[CLS]` row only (the head reads nothing
//! else), as the runtime does. Training mode applies dropout to the
//! attention probabilities, the FFN hidden layer and each sub-layer's
//! output before the residual addition.

use rand::rngs::SmallRng;
use rand::Rng;

use super::{
    attention_backward, attention_forward, dropout_mask, layer_norm_backward, layer_norm_forward,
    linear_backward, linear_forward, mul_in_place, pair_mut, relu_forward, Allocator, AttnShape,
    Span,
};

/// Layer-norm epsilon; the runtime's.
const LN_EPS: f32 = ferrisk::kinds::attention::LN_EPS;
/// Activation memory one [`Workspace`] may hold (floats); a chunk of more
/// rows is processed in parts of this size (the same numbers in the same
/// order whatever the thread count).
const WORKSPACE_FLOATS: usize = 16 << 20;

/// Where a feature's token comes from, in the row's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// The `i`-th numeric value (and `i`-th row of the numeric weights).
    Num(usize),
    /// The `i`-th embedding id of the row.
    Cat(usize),
}

/// The network's sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub d: usize,
    pub heads: usize,
    pub blocks: usize,
    pub ffn: usize,
    pub n_num: usize,
    pub n_cat: usize,
    /// Rows of the concatenated embedding table (at least 1).
    pub cat_rows: usize,
    /// One per feature, in order (tokens 1.. after `[CLS]`).
    pub tokens: Vec<Token>,
}

impl Shape {
    /// Tokens per row, `[CLS]` included.
    pub fn t(&self) -> usize {
        self.tokens.len() + 1
    }
}

/// One block's tensors in the flat buffers (the runtime's shapes).
#[derive(Debug, Clone)]
pub struct BlockSpans {
    pub ln1_g: Span,
    pub ln1_b: Span,
    pub wq: Span,
    pub bq: Span,
    pub wk: Span,
    pub bk: Span,
    pub wv: Span,
    pub bv: Span,
    pub wo: Span,
    pub bo: Span,
    pub ln2_g: Span,
    pub ln2_b: Span,
    pub w1: Span,
    pub b1: Span,
    pub w2: Span,
    pub b2: Span,
}

/// Every tensor's place in the flat parameter buffer.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `n_num × d` each.
    pub num_w: Span,
    pub num_b: Span,
    /// `cat_rows × d`.
    pub cat: Span,
    pub cls: Span,
    pub blocks: Vec<BlockSpans>,
    pub final_g: Span,
    pub final_b: Span,
    /// `1 × d`.
    pub head_w: Span,
    pub head_b: Span,
    pub len: usize,
}

impl Layout {
    pub fn new(s: &Shape) -> Layout {
        let (d, f) = (s.d, s.ffn);
        let mut a = Allocator::default();
        let num_w = a.take(s.n_num * d);
        let num_b = a.take(s.n_num * d);
        let cat = a.take(s.cat_rows * d);
        let cls = a.take(d);
        let blocks = (0..s.blocks)
            .map(|_| BlockSpans {
                ln1_g: a.take(d),
                ln1_b: a.take(d),
                wq: a.take(d * d),
                bq: a.take(d),
                wk: a.take(d * d),
                bk: a.take(d),
                wv: a.take(d * d),
                bv: a.take(d),
                wo: a.take(d * d),
                bo: a.take(d),
                ln2_g: a.take(d),
                ln2_b: a.take(d),
                w1: a.take(f * d),
                b1: a.take(f),
                w2: a.take(d * f),
                b2: a.take(d),
            })
            .collect();
        let final_g = a.take(d);
        let final_b = a.take(d);
        let head_w = a.take(d);
        let head_b = a.take(1);
        Layout {
            num_w,
            num_b,
            cat,
            cls,
            blocks,
            final_g,
            final_b,
            head_w,
            head_b,
            len: a.len,
        }
    }

    /// The matrices AdamW decays (projections and head; not biases, layer
    /// norms, `[CLS]` or the feature tokenizer), as FT-Transformer does.
    pub fn decayed(&self) -> Vec<Span> {
        let mut v = vec![self.head_w];
        for b in &self.blocks {
            v.extend([b.wq, b.wk, b.wv, b.wo, b.w1, b.w2]);
        }
        v
    }

    /// Initial parameters: tokenizer, embeddings and `[CLS]` uniform in
    /// ±1/√d, each matrix uniform in ±1/√inputs, biases 0, layer-norm
    /// gains 1; drawn from `rng` in the order tokenizer weights, biases,
    /// embeddings, `[CLS]`, each block's wq, wk, wv, wo, w1, w2, head (the
    /// order of the candle trainer this replaced, so one seed starts both
    /// from the same weights).
    pub fn init(&self, s: &Shape, rng: &mut SmallRng) -> Vec<f32> {
        let mut p = vec![0.0f32; self.len];
        let mut fill = |p: &mut [f32], span: Span, bound: f64| {
            for v in span.of_mut(p) {
                *v = rng.random_range(-bound..=bound) as f32;
            }
        };
        let token = 1.0 / (s.d as f64).sqrt();
        let per_input = |inputs: usize| 1.0 / (inputs as f64).sqrt();
        fill(&mut p, self.num_w, token);
        fill(&mut p, self.num_b, token);
        fill(&mut p, self.cat, token);
        fill(&mut p, self.cls, token);
        for b in &self.blocks {
            for w in [b.wq, b.wk, b.wv, b.wo, b.w1] {
                fill(&mut p, w, per_input(s.d));
            }
            fill(&mut p, b.w2, per_input(s.ffn));
        }
        fill(&mut p, self.head_w, per_input(s.d));
        for g in self
            .blocks
            .iter()
            .flat_map(|b| [b.ln1_g, b.ln2_g])
            .chain([self.final_g])
        {
            g.of_mut(&mut p).fill(1.0);
        }
        p
    }
}

/// One block's saved activations for a part of up to `rows` rows.
#[derive(Debug, Default)]
struct BlockWs {
    /// Query tokens of this block: all `t`, or 1 (`[CLS]`) in the last.
    nq: usize,
    xhat1: Vec<f32>,
    rstd1: Vec<f32>,
    h1: Vec<f32>,
    /// The query tokens' normed rows (only when `nq < t`).
    hq: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    p: Vec<f32>,
    pmask: Vec<f32>,
    ctx: Vec<f32>,
    omask: Vec<f32>,
    xhat2: Vec<f32>,
    rstd2: Vec<f32>,
    h2: Vec<f32>,
    /// ReLU(h2·w1ᵀ + b1), dropped.
    a: Vec<f32>,
    amask: Vec<f32>,
    fmask: Vec<f32>,
    /// Block output (`rows × nq × d`).
    out: Vec<f32>,
}

/// Buffers for one part of a chunk: inputs, activations, backward scratch.
/// Made once per thread and reused by every step.
#[derive(Debug, Default)]
pub struct Workspace {
    /// Rows a part holds.
    pub rows: usize,
    /// `rows × n_num` numeric values and `rows × n_cat` embedding ids of
    /// the part (filled by the caller).
    pub num: Vec<f32>,
    pub cat: Vec<u32>,
    /// Logits of the part (forward's result).
    pub logits: Vec<f32>,
    /// d loss / d logit (filled by the caller before [`Net::backward`]).
    pub dlogits: Vec<f32>,
    x0: Vec<f32>,
    blocks: Vec<BlockWs>,
    xhatf: Vec<f32>,
    rstdf: Vec<f32>,
    zf: Vec<f32>,
    dx: Vec<f32>,
    dx2: Vec<f32>,
    dh: Vec<f32>,
    dt: Vec<f32>,
    dq: Vec<f32>,
    dk: Vec<f32>,
    dv: Vec<f32>,
    dctx: Vec<f32>,
    da: Vec<f32>,
    scratch: Vec<f32>,
    /// The last forward pass applied dropout masks.
    dropping: bool,
}

/// The network: sizes and layout (the parameters live in a flat buffer the
/// caller owns).
#[derive(Debug, Clone)]
pub struct Net {
    pub shape: Shape,
    pub layout: Layout,
}

impl Net {
    pub fn new(shape: Shape) -> Net {
        let layout = Layout::new(&shape);
        Net { shape, layout }
    }

    /// Activation floats a part of one row needs.
    fn floats_per_row(&self) -> usize {
        let s = &self.shape;
        let (t, d, f, h) = (s.t(), s.d, s.ffn, s.heads);
        let block = 9 * t * d + 2 * h * t * t + 8 * t * d + 3 * t * f + 2 * t;
        s.blocks * block + 10 * t * d + 2 * t * f + 4 * d + s.n_num + s.n_cat + 8
    }

    /// Rows per part for chunks of up to `chunk` rows (memory-bounded).
    pub fn part_rows(&self, chunk: usize) -> usize {
        chunk.clamp(1, (WORKSPACE_FLOATS / self.floats_per_row()).max(1))
    }

    /// A workspace for parts of up to `rows` rows.
    pub fn workspace(&self, rows: usize) -> Workspace {
        let s = &self.shape;
        let (t, d, f, h) = (s.t(), s.d, s.ffn, s.heads);
        let r = rows.max(1);
        let z = |n: usize| vec![0.0f32; n];
        let blocks = (0..s.blocks)
            .map(|i| {
                let nq = if i + 1 == s.blocks { 1 } else { t };
                BlockWs {
                    nq,
                    xhat1: z(r * t * d),
                    rstd1: z(r * t),
                    h1: z(r * t * d),
                    hq: if nq < t { z(r * nq * d) } else { Vec::new() },
                    q: z(r * nq * d),
                    k: z(r * t * d),
                    v: z(r * t * d),
                    p: z(r * h * nq * t),
                    pmask: z(r * h * nq * t),
                    ctx: z(r * nq * d),
                    omask: z(r * nq * d),
                    xhat2: z(r * nq * d),
                    rstd2: z(r * nq),
                    h2: z(r * nq * d),
                    a: z(r * nq * f),
                    amask: z(r * nq * f),
                    fmask: z(r * nq * d),
                    out: z(r * nq * d),
                }
            })
            .collect();
        Workspace {
            rows: r,
            num: z(r * s.n_num),
            cat: vec![0; r * s.n_cat],
            logits: z(r),
            dlogits: z(r),
            x0: z(r * t * d),
            blocks,
            xhatf: z(r * d),
            rstdf: z(r),
            zf: z(r * d),
            dx: z(r * t * d),
            dx2: z(r * t * d),
            dh: z(r * t * d),
            dt: z(r * t * d),
            dq: z(r * t * d),
            dk: z(r * t * d),
            dv: z(r * t * d),
            dctx: z(r * t * d),
            da: z(r * t * f),
            scratch: Vec::new(),
            dropping: false,
        }
    }

    /// Logits of the part's `rows` rows (`ws.num`, `ws.cat` filled) into
    /// `ws.logits`. `train = Some((rng, rate))`: training mode, dropout
    /// masks drawn from `rng`.
    pub fn forward(
        &self,
        params: &[f32],
        ws: &mut Workspace,
        rows: usize,
        mut train: Option<(&mut SmallRng, f32)>,
    ) {
        let s = &self.shape;
        let l = &self.layout;
        let (t, d, f) = (s.t(), s.d, s.ffn);
        let r = rows.min(ws.rows);
        // Masks are drawn (and read by the backward pass) only when they drop.
        ws.dropping = train.as_ref().is_some_and(|(_, rate)| *rate > 0.0);
        // Tokens.
        let (num_w, num_b, cat, cls) = (
            l.num_w.of(params),
            l.num_b.of(params),
            l.cat.of(params),
            l.cls.of(params),
        );
        for b in 0..r {
            let x = &mut ws.x0[b * t * d..(b + 1) * t * d];
            x[..d].copy_from_slice(cls);
            for (j, tok) in s.tokens.iter().enumerate() {
                let dst = &mut x[(j + 1) * d..(j + 2) * d];
                match *tok {
                    Token::Num(i) => {
                        let v = ws.num[b * s.n_num + i];
                        let (w, c) = (&num_w[i * d..(i + 1) * d], &num_b[i * d..(i + 1) * d]);
                        for ((o, &w), &c) in dst.iter_mut().zip(w).zip(c) {
                            *o = v * w + c;
                        }
                    }
                    Token::Cat(i) => {
                        let id = ws.cat[b * s.n_cat + i] as usize;
                        dst.copy_from_slice(&cat[id * d..(id + 1) * d]);
                    }
                }
            }
        }
        for (i, bs) in l.blocks.iter().enumerate() {
            let (before, rest) = ws.blocks.split_at_mut(i);
            let bw = &mut rest[0];
            let xin: &[f32] = match before.last() {
                Some(prev) => &prev.out,
                None => &ws.x0,
            };
            let nq = bw.nq;
            layer_norm_forward(
                xin,
                bs.ln1_g.of(params),
                bs.ln1_b.of(params),
                &mut bw.h1,
                &mut bw.xhat1,
                &mut bw.rstd1,
                r * t,
                d,
                LN_EPS,
            );
            if nq < t {
                for b in 0..r {
                    bw.hq[b * nq * d..(b + 1) * nq * d]
                        .copy_from_slice(&bw.h1[b * t * d..(b * t + nq) * d]);
                }
            }
            let hq: &[f32] = if nq < t { &bw.hq } else { &bw.h1 };
            linear_forward(
                hq,
                bs.wq.of(params),
                bs.bq.of(params),
                &mut bw.q,
                r * nq,
                d,
                d,
            );
            linear_forward(
                &bw.h1,
                bs.wk.of(params),
                bs.bk.of(params),
                &mut bw.k,
                r * t,
                d,
                d,
            );
            linear_forward(
                &bw.h1,
                bs.wv.of(params),
                bs.bv.of(params),
                &mut bw.v,
                r * t,
                d,
                d,
            );
            let rate = train.as_ref().map_or(0.0, |(_, rate)| *rate);
            let dropping = rate > 0.0;
            let shape = AttnShape {
                batch: r,
                t,
                nq,
                d,
                heads: s.heads,
            };
            let np = r * s.heads * nq * t;
            if let Some((rng, _)) = train.as_mut().filter(|_| dropping) {
                dropout_mask(rng, rate, &mut bw.pmask[..np]);
            }
            attention_forward(
                shape,
                &bw.q,
                &bw.k,
                &bw.v,
                &mut bw.p,
                dropping.then_some(&bw.pmask[..np]),
                &mut bw.ctx,
                &mut ws.scratch,
            );
            // o = ctx·woᵀ + bo (dropped), into `out`; then out += x (query rows).
            let nr = r * nq;
            linear_forward(
                &bw.ctx,
                bs.wo.of(params),
                bs.bo.of(params),
                &mut bw.out,
                nr,
                d,
                d,
            );
            if let Some((rng, _)) = train.as_mut().filter(|_| dropping) {
                dropout_mask(rng, rate, &mut bw.omask[..nr * d]);
                mul_in_place(&mut bw.out[..nr * d], &bw.omask[..nr * d]);
            }
            for b in 0..r {
                let src = &xin[b * t * d..(b * t + nq) * d];
                let dst = &mut bw.out[b * nq * d..(b + 1) * nq * d];
                for (o, &x) in dst.iter_mut().zip(src) {
                    *o += x;
                }
            }
            // FFN on the residual stream x2 = out.
            layer_norm_forward(
                &bw.out,
                bs.ln2_g.of(params),
                bs.ln2_b.of(params),
                &mut bw.h2,
                &mut bw.xhat2,
                &mut bw.rstd2,
                nr,
                d,
                LN_EPS,
            );
            linear_forward(
                &bw.h2,
                bs.w1.of(params),
                bs.b1.of(params),
                &mut bw.a,
                nr,
                d,
                f,
            );
            relu_forward(&mut bw.a[..nr * f]);
            if let Some((rng, _)) = train.as_mut().filter(|_| dropping) {
                dropout_mask(rng, rate, &mut bw.amask[..nr * f]);
                mul_in_place(&mut bw.a[..nr * f], &bw.amask[..nr * f]);
            }
            // f = a·w2ᵀ + b2 (dropped) into dt, added to out.
            linear_forward(
                &bw.a,
                bs.w2.of(params),
                bs.b2.of(params),
                &mut ws.dt,
                nr,
                f,
                d,
            );
            if let Some((rng, _)) = train.as_mut().filter(|_| dropping) {
                dropout_mask(rng, rate, &mut bw.fmask[..nr * d]);
                mul_in_place(&mut ws.dt[..nr * d], &bw.fmask[..nr * d]);
            }
            for (o, &v) in bw.out[..nr * d].iter_mut().zip(&ws.dt) {
                *o += v;
            }
        }
        // Head on the final [CLS] state (the last block's only row).
        let last: &[f32] = match ws.blocks.last() {
            Some(b) => &b.out,
            None => &ws.x0,
        };
        let stride = if s.blocks == 0 { t * d } else { d };
        for b in 0..r {
            let x = &last[b * stride..b * stride + d];
            layer_norm_forward(
                x,
                l.final_g.of(params),
                l.final_b.of(params),
                &mut ws.zf[b * d..(b + 1) * d],
                &mut ws.xhatf[b * d..(b + 1) * d],
                &mut ws.rstdf[b..b + 1],
                1,
                d,
                LN_EPS,
            );
        }
        let hw = l.head_w.of(params);
        let hb = l.head_b.of(params).first().copied().unwrap_or(0.0);
        for b in 0..r {
            let z = &ws.zf[b * d..(b + 1) * d];
            ws.logits[b] = hb + z.iter().zip(hw).map(|(a, w)| a * w).sum::<f32>();
        }
    }

    /// Adds the gradient of `Σ dlogits · logits` (after [`Net::forward`] of
    /// the same part in training or eval mode) to `grads`.
    pub fn backward(&self, params: &[f32], ws: &mut Workspace, rows: usize, grads: &mut [f32]) {
        let s = &self.shape;
        let l = &self.layout;
        let (t, d, f) = (s.t(), s.d, s.ffn);
        let r = rows.min(ws.rows);
        let dropping = ws.dropping;
        // Head: dz = dlogit · head_w; then the final layer norm into dx.
        {
            let hw = l.head_w.of(params);
            let (ghw, ghb) = pair_mut(grads, l.head_w, l.head_b);
            for b in 0..r {
                let g = ws.dlogits[b];
                ghb[0] += g;
                for (o, &z) in ghw.iter_mut().zip(&ws.zf[b * d..(b + 1) * d]) {
                    *o += g * z;
                }
                for (o, &w) in ws.dt[b * d..(b + 1) * d].iter_mut().zip(hw) {
                    *o = g * w;
                }
            }
            let stride = if s.blocks == 0 { t } else { 1 };
            ws.dx[..r * stride * d].fill(0.0);
            let (gg, gb) = pair_mut(grads, l.final_g, l.final_b);
            for b in 0..r {
                layer_norm_backward(
                    &ws.dt[b * d..(b + 1) * d],
                    &ws.xhatf[b * d..(b + 1) * d],
                    &ws.rstdf[b..b + 1],
                    l.final_g.of(params),
                    &mut ws.dx[b * stride * d..(b * stride + 1) * d],
                    gg,
                    gb,
                    1,
                    d,
                );
            }
        }
        // Blocks, last first; ws.dx holds d out (rows × nq × d).
        for (i, bs) in l.blocks.iter().enumerate().rev() {
            let bw = &ws.blocks[i];
            let nq = bw.nq;
            let nr = r * nq;
            // dx2 = dout (residual); df = dout ⊙ fmask.
            ws.dx2[..nr * d].copy_from_slice(&ws.dx[..nr * d]);
            ws.dt[..nr * d].copy_from_slice(&ws.dx[..nr * d]);
            if dropping {
                mul_in_place(&mut ws.dt[..nr * d], &bw.fmask[..nr * d]);
            }
            {
                let (gw, gb) = pair_mut(grads, bs.w2, bs.b2);
                linear_backward(
                    &bw.a,
                    bs.w2.of(params),
                    &ws.dt,
                    Some((&mut ws.da, false)),
                    gw,
                    gb,
                    nr,
                    f,
                    d,
                );
            }
            for (j, g) in ws.da[..nr * f].iter_mut().enumerate() {
                let a = bw.a[j];
                let m = if dropping { bw.amask[j] } else { 1.0 };
                *g = if a > 0.0 { *g * m } else { 0.0 };
            }
            {
                let (gw, gb) = pair_mut(grads, bs.w1, bs.b1);
                linear_backward(
                    &bw.h2,
                    bs.w1.of(params),
                    &ws.da,
                    Some((&mut ws.dh, false)),
                    gw,
                    gb,
                    nr,
                    d,
                    f,
                );
            }
            {
                let (gg, gb) = pair_mut(grads, bs.ln2_g, bs.ln2_b);
                layer_norm_backward(
                    &ws.dh,
                    &bw.xhat2,
                    &bw.rstd2,
                    bs.ln2_g.of(params),
                    &mut ws.dx2,
                    gg,
                    gb,
                    nr,
                    d,
                );
            }
            // Attention output: do = dx2 ⊙ omask.
            ws.dt[..nr * d].copy_from_slice(&ws.dx2[..nr * d]);
            if dropping {
                mul_in_place(&mut ws.dt[..nr * d], &bw.omask[..nr * d]);
            }
            {
                let (gw, gb) = pair_mut(grads, bs.wo, bs.bo);
                linear_backward(
                    &bw.ctx,
                    bs.wo.of(params),
                    &ws.dt,
                    Some((&mut ws.dctx, false)),
                    gw,
                    gb,
                    nr,
                    d,
                    d,
                );
            }
            let np = r * s.heads * nq * t;
            attention_backward(
                AttnShape {
                    batch: r,
                    t,
                    nq,
                    d,
                    heads: s.heads,
                },
                &bw.q,
                &bw.k,
                &bw.v,
                &bw.p,
                dropping.then_some(&bw.pmask[..np]),
                &ws.dctx,
                &mut ws.dq,
                &mut ws.dk,
                &mut ws.dv,
                &mut ws.scratch,
            );
            // dh1 = dk·wk + dv·wv + (dq·wq at the query tokens).
            {
                let (gw, gb) = pair_mut(grads, bs.wk, bs.bk);
                linear_backward(
                    &bw.h1,
                    bs.wk.of(params),
                    &ws.dk,
                    Some((&mut ws.dh, false)),
                    gw,
                    gb,
                    r * t,
                    d,
                    d,
                );
            }
            {
                let (gw, gb) = pair_mut(grads, bs.wv, bs.bv);
                linear_backward(
                    &bw.h1,
                    bs.wv.of(params),
                    &ws.dv,
                    Some((&mut ws.dh, true)),
                    gw,
                    gb,
                    r * t,
                    d,
                    d,
                );
            }
            {
                let (gw, gb) = pair_mut(grads, bs.wq, bs.bq);
                if nq < t {
                    linear_backward(
                        &bw.hq,
                        bs.wq.of(params),
                        &ws.dq,
                        Some((&mut ws.dt, false)),
                        gw,
                        gb,
                        nr,
                        d,
                        d,
                    );
                    for b in 0..r {
                        let src = &ws.dt[b * nq * d..(b + 1) * nq * d];
                        let dst = &mut ws.dh[b * t * d..(b * t + nq) * d];
                        for (o, &v) in dst.iter_mut().zip(src) {
                            *o += v;
                        }
                    }
                } else {
                    linear_backward(
                        &bw.h1,
                        bs.wq.of(params),
                        &ws.dq,
                        Some((&mut ws.dh, true)),
                        gw,
                        gb,
                        nr,
                        d,
                        d,
                    );
                }
            }
            // d xin = dx2 at the query tokens + LN1 backward.
            ws.dx[..r * t * d].fill(0.0);
            for b in 0..r {
                ws.dx[b * t * d..(b * t + nq) * d]
                    .copy_from_slice(&ws.dx2[b * nq * d..(b + 1) * nq * d]);
            }
            let (gg, gb) = pair_mut(grads, bs.ln1_g, bs.ln1_b);
            layer_norm_backward(
                &ws.dh,
                &bw.xhat1,
                &bw.rstd1,
                bs.ln1_g.of(params),
                &mut ws.dx,
                gg,
                gb,
                r * t,
                d,
            );
        }
        // Tokens.
        for b in 0..r {
            let dxb = &ws.dx[b * t * d..(b + 1) * t * d];
            for (g, &v) in l.cls.of_mut(grads).iter_mut().zip(&dxb[..d]) {
                *g += v;
            }
            for (j, tok) in s.tokens.iter().enumerate() {
                let src = &dxb[(j + 1) * d..(j + 2) * d];
                match *tok {
                    Token::Num(i) => {
                        let v = ws.num[b * s.n_num + i];
                        let (gw, gb) = pair_mut(grads, l.num_w, l.num_b);
                        let (gw, gb) = (&mut gw[i * d..(i + 1) * d], &mut gb[i * d..(i + 1) * d]);
                        for ((w, c), &g) in gw.iter_mut().zip(gb.iter_mut()).zip(src) {
                            *w += g * v;
                            *c += g;
                        }
                    }
                    Token::Cat(i) => {
                        let id = ws.cat[b * s.n_cat + i] as usize;
                        let gc = l.cat.of_mut(grads);
                        for (o, &g) in gc[id * d..(id + 1) * d].iter_mut().zip(src) {
                            *o += g;
                        }
                    }
                }
            }
        }
    }
}
