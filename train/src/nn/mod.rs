//! A small hand-written neural-network engine in `f32`: the layers the
//! trainers of sequence and token models need, each with a forward and a
//! backward pass over batched row-major buffers the caller owns and reuses
//! from step to step (no allocation per operation, no autodiff graph).
//!
//! - [`linear_forward`] / [`linear_backward`]: `y = x·wᵀ + b` with `w` one
//!   row per output (the runtime's and PyTorch's layout). The matrix
//!   products go through ndarray's `general_mat_mul` (matrixmultiply's
//!   `sgemm`, single-threaded, fixed summation order).
//! - [`layer_norm_forward`] / [`layer_norm_backward`]: per-row layer norm,
//!   saving the normalised rows and `1/σ` for the backward pass.
//! - [`attention_forward`] / [`attention_backward`]: multi-head scaled
//!   dot-product attention of `nq` query tokens over `t` key/value tokens per
//!   sequence, softmax and dropout on the probabilities fused.
//! - [`relu_forward`], [`dropout_mask`], [`AdamW`].
//!
//! Gradients *accumulate* (`+=`) into the parameter-gradient buffers, so a
//! batch can be processed in chunks whose gradients are then summed in a
//! fixed order ([`crate::algo::attention`] does, to use several threads
//! with results independent of the thread count).
//!
//! Tested against central finite differences and, for the FT-Transformer
//! built from these layers, against the candle implementation it replaced
//! (`train/src/algo/attention.rs` tests).

pub mod chunks;
pub mod ft;
#[cfg(test)]
mod ft_tests;
pub mod gru;
pub mod seq;
#[cfg(test)]
mod seq_tests;
pub mod tcn;

use ndarray::linalg::general_mat_mul;
use ndarray::ArrayView2;
use ndarray::ArrayViewMut2;
use ndarray::ShapeBuilder;
use rand::rngs::SmallRng;
use rand::Rng;

/// A tensor's place in a flat parameter (or gradient) buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub at: usize,
    pub len: usize,
}

impl Span {
    pub fn of<'a>(&self, buf: &'a [f32]) -> &'a [f32] {
        &buf[self.at..self.at + self.len]
    }
    pub fn of_mut<'a>(&self, buf: &'a mut [f32]) -> &'a mut [f32] {
        &mut buf[self.at..self.at + self.len]
    }
    pub fn end(&self) -> usize {
        self.at + self.len
    }
}

/// Hands out consecutive [`Span`]s of a flat buffer.
#[derive(Debug, Default)]
pub struct Allocator {
    pub len: usize,
}

impl Allocator {
    pub fn take(&mut self, len: usize) -> Span {
        let s = Span { at: self.len, len };
        self.len += len;
        s
    }
}

/// Two disjoint spans of one buffer, mutably (`a` must lie before `b`).
pub fn pair_mut(buf: &mut [f32], a: Span, b: Span) -> (&mut [f32], &mut [f32]) {
    debug_assert!(a.end() <= b.at);
    let (lo, hi) = buf.split_at_mut(b.at);
    (&mut lo[a.at..a.end()], &mut hi[..b.len])
}

/// `c = alpha · a·b + beta · c` for strided views of slices: `a` is
/// `m × k` with strides `sa`, `b` `k × n` with strides `sb`, `c` `m × n`
/// row-major.
#[allow(clippy::too_many_arguments)]
fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    sa: (usize, usize),
    b: &[f32],
    sb: (usize, usize),
    beta: f32,
    c: &mut [f32],
) {
    if m == 0 || n == 0 {
        return;
    }
    let (Ok(a), Ok(b), Ok(mut c)) = (
        ArrayView2::from_shape((m, k).strides(sa), a),
        ArrayView2::from_shape((k, n).strides(sb), b),
        ArrayViewMut2::from_shape((m, n), &mut c[..m * n]),
    ) else {
        // The callers size every buffer from the same dimensions.
        unreachable_shape(m, k, n);
        return;
    };
    general_mat_mul(1.0, &a, &b, beta, &mut c);
}

#[cold]
fn unreachable_shape(m: usize, k: usize, n: usize) {
    debug_assert!(
        false,
        "nn: buffer too small for a {m}x{k} by {k}x{n} product"
    );
}

/// `y (m × n) = x (m × k) · wᵀ + b`, `w` being `n × k`.
pub fn linear_forward(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    y: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
) {
    for row in y[..m * n].chunks_exact_mut(n) {
        row.copy_from_slice(&b[..n]);
    }
    gemm(m, k, n, x, (k, 1), w, (1, k), 1.0, y);
}

/// Backward of [`linear_forward`] given `dy (m × n)`: `dw += dyᵀ·x`,
/// `db += Σ dy`, and `dx (m × k) = dy·w` (or `+=` with `accumulate`).
#[allow(clippy::too_many_arguments)]
pub fn linear_backward(
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    dx: Option<(&mut [f32], bool)>,
    dw: &mut [f32],
    db: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
) {
    gemm(n, m, k, dy, (1, n), x, (k, 1), 1.0, dw);
    for row in dy[..m * n].chunks_exact(n) {
        for (g, &v) in db.iter_mut().zip(row) {
            *g += v;
        }
    }
    if let Some((dx, accumulate)) = dx {
        gemm(
            m,
            n,
            k,
            dy,
            (n, 1),
            w,
            (k, 1),
            if accumulate { 1.0 } else { 0.0 },
            dx,
        );
    }
}

/// Layer norm of each `d`-wide row of `x` (`rows × d`): `y = g·x̂ + b`,
/// `x̂ = (x − mean)/√(var + eps)`; saves `x̂` and `1/√(var + eps)`.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_forward(
    x: &[f32],
    g: &[f32],
    b: &[f32],
    y: &mut [f32],
    xhat: &mut [f32],
    rstd: &mut [f32],
    rows: usize,
    d: usize,
    eps: f32,
) {
    let inv_d = 1.0 / d as f32;
    for r in 0..rows {
        let xr = &x[r * d..(r + 1) * d];
        let mean = xr.iter().sum::<f32>() * inv_d;
        let var = xr.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() * inv_d;
        let s = 1.0 / (var + eps).sqrt();
        rstd[r] = s;
        let xh = &mut xhat[r * d..(r + 1) * d];
        let yr = &mut y[r * d..(r + 1) * d];
        for i in 0..d {
            let h = (xr[i] - mean) * s;
            xh[i] = h;
            yr[i] = h * g[i] + b[i];
        }
    }
}

/// Backward of [`layer_norm_forward`]: `dg += Σ dy·x̂`, `db += Σ dy`, and
/// `dx += (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))` with `dx̂ = dy·g`.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_backward(
    dy: &[f32],
    xhat: &[f32],
    rstd: &[f32],
    g: &[f32],
    dx: &mut [f32],
    dg: &mut [f32],
    db: &mut [f32],
    rows: usize,
    d: usize,
) {
    let inv_d = 1.0 / d as f32;
    for r in 0..rows {
        let dyr = &dy[r * d..(r + 1) * d];
        let xh = &xhat[r * d..(r + 1) * d];
        let (mut m1, mut m2) = (0.0f32, 0.0f32);
        for i in 0..d {
            let dh = dyr[i] * g[i];
            m1 += dh;
            m2 += dh * xh[i];
            dg[i] += dyr[i] * xh[i];
            db[i] += dyr[i];
        }
        m1 *= inv_d;
        m2 *= inv_d;
        let s = rstd[r];
        let dxr = &mut dx[r * d..(r + 1) * d];
        for i in 0..d {
            dxr[i] += s * (dyr[i] * g[i] - m1 - xh[i] * m2);
        }
    }
}

/// In place `x = max(x, 0)`.
pub fn relu_forward(x: &mut [f32]) {
    for v in x {
        *v = v.max(0.0);
    }
}

/// Inverted-dropout multipliers: each `0` with probability `rate`
/// (rounded to a multiple of 2⁻¹⁶), else `1/(1 − rate)`; all `1` when
/// `rate` is 0 (no random number drawn). Four 16-bit uniforms come from
/// each 64-bit draw.
pub fn dropout_mask(rng: &mut SmallRng, rate: f32, mask: &mut [f32]) {
    if rate <= 0.0 {
        mask.fill(1.0);
        return;
    }
    let keep = 1.0 / (1.0 - rate);
    // Drop when a uniform 16-bit value falls below rate · 2¹⁶.
    let cut = (f64::from(rate) * 65_536.0).round() as u64;
    for quad in mask.chunks_mut(4) {
        let u = rng.random::<u64>();
        for (i, m) in quad.iter_mut().enumerate() {
            *m = if (u >> (16 * i)) & 0xffff < cut {
                0.0
            } else {
                keep
            };
        }
    }
}

/// `x *= mask`, element-wise.
pub fn mul_in_place(x: &mut [f32], mask: &[f32]) {
    for (v, &m) in x.iter_mut().zip(mask) {
        *v *= m;
    }
}

/// The shapes of one attention call: `batch` sequences of `t` tokens,
/// `nq` of them (the first `nq`) querying, width `d` = `heads · dk`.
#[derive(Debug, Clone, Copy)]
pub struct AttnShape {
    pub batch: usize,
    pub t: usize,
    pub nq: usize,
    pub d: usize,
    pub heads: usize,
}

/// Multi-head attention: `q` is `batch × nq × d`, `k` and `v`
/// `batch × t × d` (head `h` = columns `h·dk..(h+1)·dk`). Writes the
/// softmax probabilities `p` (`batch × heads × nq × t`), the dropout
/// multipliers applied to them (`mask`, same shape; `None` = no dropout)
/// and `ctx = (p ⊙ mask)·v` (`batch × nq × d`). `scratch` holds one
/// head's keys transposed, so every inner loop runs over contiguous
/// memory without a floating-point reduction (and vectorises).
#[allow(clippy::too_many_arguments)]
pub fn attention_forward(
    s: AttnShape,
    q: &[f32],
    k: &[f32],
    v: &[f32],
    p: &mut [f32],
    mask: Option<&[f32]>,
    ctx: &mut [f32],
    scratch: &mut Vec<f32>,
) {
    // A head width known at compile time lets the inner loops unroll.
    match s.d / s.heads {
        8 => attention_forward_dk::<8>(s, q, k, v, p, mask, ctx, scratch),
        16 => attention_forward_dk::<16>(s, q, k, v, p, mask, ctx, scratch),
        _ => attention_forward_dk::<0>(s, q, k, v, p, mask, ctx, scratch),
    }
}

/// [`attention_forward`] for heads `DK` wide (0: any width).
#[allow(clippy::too_many_arguments)]
fn attention_forward_dk<const DK: usize>(
    s: AttnShape,
    q: &[f32],
    k: &[f32],
    v: &[f32],
    p: &mut [f32],
    mask: Option<&[f32]>,
    ctx: &mut [f32],
    scratch: &mut Vec<f32>,
) {
    let dk = if DK > 0 { DK } else { s.d / s.heads };
    let scale = 1.0 / (dk as f32).sqrt();
    let t = s.t;
    ctx[..s.batch * s.nq * s.d].fill(0.0);
    scratch.resize(dk * t, 0.0);
    for b in 0..s.batch {
        for h in 0..s.heads {
            // kT[c][j] = k[b, j, h·dk + c].
            for j in 0..t {
                let kj = &k[(b * t + j) * s.d + h * dk..][..dk];
                for (c, &x) in kj.iter().enumerate() {
                    scratch[c * t + j] = x;
                }
            }
            for i in 0..s.nq {
                let qi = &q[(b * s.nq + i) * s.d + h * dk..][..dk];
                let at = ((b * s.heads + h) * s.nq + i) * t;
                let pr = &mut p[at..at + t];
                pr.fill(0.0);
                for (c, &qc) in qi.iter().enumerate() {
                    let qc = qc * scale;
                    for (o, &x) in pr.iter_mut().zip(&scratch[c * t..(c + 1) * t]) {
                        *o += qc * x;
                    }
                }
                let max = pr.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
                let mut sum = 0.0f32;
                for pj in pr.iter_mut() {
                    *pj = (*pj - max).exp();
                    sum += *pj;
                }
                let inv = 1.0 / sum;
                for pj in pr.iter_mut() {
                    *pj *= inv;
                }
                let ci = &mut ctx[(b * s.nq + i) * s.d + h * dk..][..dk];
                for (j, &pj) in pr.iter().enumerate() {
                    let w = mask.map_or(pj, |m| pj * m[at + j]);
                    let vj = &v[(b * t + j) * s.d + h * dk..][..dk];
                    for (c, &x) in ci.iter_mut().zip(vj) {
                        *c += w * x;
                    }
                }
            }
        }
    }
}

/// Backward of [`attention_forward`] given `dctx`: writes `dq`
/// (`batch × nq × d`), `dk` and `dv` (`batch × t × d`).
#[allow(clippy::too_many_arguments)]
pub fn attention_backward(
    s: AttnShape,
    q: &[f32],
    k: &[f32],
    v: &[f32],
    p: &[f32],
    mask: Option<&[f32]>,
    dctx: &[f32],
    dq: &mut [f32],
    dk_out: &mut [f32],
    dv: &mut [f32],
    scratch: &mut Vec<f32>,
) {
    match s.d / s.heads {
        8 => attention_backward_dk::<8>(s, q, k, v, p, mask, dctx, dq, dk_out, dv, scratch),
        16 => attention_backward_dk::<16>(s, q, k, v, p, mask, dctx, dq, dk_out, dv, scratch),
        _ => attention_backward_dk::<0>(s, q, k, v, p, mask, dctx, dq, dk_out, dv, scratch),
    }
}

/// [`attention_backward`] for heads `DK` wide (0: any width).
#[allow(clippy::too_many_arguments)]
fn attention_backward_dk<const DK: usize>(
    s: AttnShape,
    q: &[f32],
    k: &[f32],
    v: &[f32],
    p: &[f32],
    mask: Option<&[f32]>,
    dctx: &[f32],
    dq: &mut [f32],
    dk_out: &mut [f32],
    dv: &mut [f32],
    scratch: &mut Vec<f32>,
) {
    let dk = if DK > 0 { DK } else { s.d / s.heads };
    let scale = 1.0 / (dk as f32).sqrt();
    let t = s.t;
    dq[..s.batch * s.nq * s.d].fill(0.0);
    dk_out[..s.batch * s.t * s.d].fill(0.0);
    dv[..s.batch * s.t * s.d].fill(0.0);
    // vT (dk × t), then dp (t).
    scratch.resize(dk * t + t, 0.0);
    for b in 0..s.batch {
        for h in 0..s.heads {
            let (vt, dp) = scratch.split_at_mut(dk * t);
            for j in 0..t {
                let vj = &v[(b * t + j) * s.d + h * dk..][..dk];
                for (c, &x) in vj.iter().enumerate() {
                    vt[c * t + j] = x;
                }
            }
            for i in 0..s.nq {
                let at = ((b * s.heads + h) * s.nq + i) * t;
                let pr = &p[at..at + t];
                let qo = (b * s.nq + i) * s.d + h * dk;
                let dci = &dctx[qo..qo + dk];
                // dp_j = mask_j · (dctx_i · v_j).
                dp.fill(0.0);
                for (c, &g) in dci.iter().enumerate() {
                    for (o, &x) in dp.iter_mut().zip(&vt[c * t..(c + 1) * t]) {
                        *o += g * x;
                    }
                }
                if let Some(m) = mask {
                    for (o, &mj) in dp.iter_mut().zip(&m[at..at + t]) {
                        *o *= mj;
                    }
                }
                // dv_j += p_j·mask_j · dctx_i.
                for j in 0..t {
                    let w = mask.map_or(pr[j], |m| pr[j] * m[at + j]);
                    let vo = (b * t + j) * s.d + h * dk;
                    for (g, &c) in dv[vo..vo + dk].iter_mut().zip(dci) {
                        *g += w * c;
                    }
                }
                let dot_pdp: f32 = pr.iter().zip(dp.iter()).map(|(a, c)| a * c).sum();
                // Softmax backward, then the score scale: ds_j; dq, dk.
                let qi = &q[qo..qo + dk];
                for j in 0..t {
                    let ds = pr[j] * (dp[j] - dot_pdp) * scale;
                    let ko = (b * t + j) * s.d + h * dk;
                    for (o, &x) in dq[qo..qo + dk].iter_mut().zip(&k[ko..ko + dk]) {
                        *o += ds * x;
                    }
                    for (o, &x) in dk_out[ko..ko + dk].iter_mut().zip(qi) {
                        *o += ds * x;
                    }
                }
            }
        }
    }
}

/// AdamW (decoupled weight decay), as PyTorch and candle define it:
/// `θ ← θ(1 − lr·λ)`, then the bias-corrected Adam step. Weight decay
/// applies to the spans given at construction only.
#[derive(Debug, Clone)]
pub struct AdamW {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    decayed: Vec<Span>,
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
}

impl AdamW {
    pub fn new(len: usize, lr: f32, weight_decay: f32, decayed: Vec<Span>) -> AdamW {
        AdamW {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            decayed,
            m: vec![0.0; len],
            v: vec![0.0; len],
            t: 0,
        }
    }

    /// One step of every parameter with its gradient.
    pub fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        self.t = self.t.saturating_add(1);
        if self.weight_decay > 0.0 {
            let f = 1.0 - self.lr * self.weight_decay;
            for s in &self.decayed {
                for w in s.of_mut(params) {
                    *w *= f;
                }
            }
        }
        let c1 = 1.0 / (1.0 - self.beta1.powi(self.t));
        let c2 = 1.0 / (1.0 - self.beta2.powi(self.t));
        let (b1, b2) = (self.beta1, self.beta2);
        for (((w, &g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(self.m.iter_mut())
            .zip(self.v.iter_mut())
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *w -= self.lr * (*m * c1) / ((*v * c2).sqrt() + self.eps);
        }
    }
}
