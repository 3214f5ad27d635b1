//! A GRU layer over `t` steps with a per-(row, step) presence mask, forward
//! and backward through time, on batched row-major buffers.
//!
//! Gate order **z, r, n** (update, reset, candidate). For step `s` of a row,
//! with input `x` (`input` wide) and the previous state `h` (`hidden` wide,
//! 0 before the first step):
//!
//! ```text
//! z  = σ(W_z x + b_iz + U_z h + b_hz)
//! r  = σ(W_r x + b_ir + U_r h + b_hr)
//! n  = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn))
//! h' = (1 − z) ⊙ n + z ⊙ h        if the step is present,
//! h' = h                          if it is missing (mask 0).
//! ```
//!
//! Parameters ([`GruSpans`]): `w` is `3H × input` (rows z, then r, then n),
//! `u` is `3H × H` (same row order), `bi` and `bh` are `3H` each (same
//! order). Row-major, one row per output unit, like PyTorch's `weight_ih_l0`
//! / `weight_hh_l0` except that PyTorch orders the gates r, z, n.

use super::{gemm, linear_backward, linear_forward, Allocator, Span};

/// One GRU layer's tensors in the flat buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GruSpans {
    /// `3H × input`.
    pub w: Span,
    /// `3H × H`.
    pub u: Span,
    /// `3H`.
    pub bi: Span,
    /// `3H`.
    pub bh: Span,
}

impl GruSpans {
    pub fn new(a: &mut Allocator, input: usize, hidden: usize) -> GruSpans {
        GruSpans {
            w: a.take(3 * hidden * input),
            u: a.take(3 * hidden * hidden),
            bi: a.take(3 * hidden),
            bh: a.take(3 * hidden),
        }
    }
}

/// The dimensions of one call: `m` rows of `t` steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GruDims {
    pub m: usize,
    pub t: usize,
    pub input: usize,
    pub hidden: usize,
}

/// Saved activations and scratch of one layer for up to `rows × t` cells.
#[derive(Debug, Default)]
pub struct GruWs {
    /// `m × t × H`: the state after each step (the layer's output).
    pub out: Vec<f32>,
    /// `m × t × 3H`: z, r, n of each step.
    gates: Vec<f32>,
    /// `m × t × H`: `U_n h + b_hn` of each step.
    ghn: Vec<f32>,
    /// `m × t × 3H`: input pre-activations, then (backward) their gradient.
    gx: Vec<f32>,
    /// `m × 3H` scratch: recurrent pre-activations / their gradient.
    gh: Vec<f32>,
    /// `m × H` scratch: the gradient reaching the previous state.
    dprev: Vec<f32>,
}

impl GruWs {
    pub fn new(rows: usize, t: usize, hidden: usize) -> GruWs {
        let cells = rows * t;
        GruWs {
            out: vec![0.0; cells * hidden],
            gates: vec![0.0; cells * 3 * hidden],
            ghn: vec![0.0; cells * hidden],
            gx: vec![0.0; cells * 3 * hidden],
            gh: vec![0.0; rows * 3 * hidden],
            dprev: vec![0.0; rows * hidden],
        }
    }

    /// Floats held per row of `t` steps.
    pub fn floats_per_row(t: usize, hidden: usize) -> usize {
        t * hidden * 9 + hidden * 4
    }
}

fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

/// Forward over `x` (`m × t × input`) with `mask` (`m × t`, 0 = missing
/// step, else present); the states go to `ws.out`.
pub fn gru_forward(d: GruDims, p: &[f32], s: &GruSpans, x: &[f32], mask: &[f32], ws: &mut GruWs) {
    let (m, t, h) = (d.m, d.t, d.hidden);
    let h3 = 3 * h;
    let (w, u, bi, bh) = (s.w.of(p), s.u.of(p), s.bi.of(p), s.bh.of(p));
    linear_forward(x, w, bi, &mut ws.gx, m * t, d.input, h3);
    for step in 0..t {
        for row in ws.gh[..m * h3].chunks_exact_mut(h3) {
            row.copy_from_slice(bh);
        }
        if step > 0 {
            gemm(
                m,
                h,
                h3,
                &ws.out[(step - 1) * h..],
                (t * h, 1),
                u,
                (1, h),
                1.0,
                &mut ws.gh,
            );
        }
        for b in 0..m {
            let cell = b * t + step;
            let gx = &ws.gx[cell * h3..(cell + 1) * h3];
            let gh = &ws.gh[b * h3..(b + 1) * h3];
            let gates = &mut ws.gates[cell * h3..(cell + 1) * h3];
            let ghn = &mut ws.ghn[cell * h..(cell + 1) * h];
            let present = mask[cell] != 0.0;
            let (before, after) = ws.out.split_at_mut(cell * h);
            let hp: Option<&[f32]> = (step > 0).then(|| &before[(cell - 1) * h..]);
            let hn = &mut after[..h];
            for j in 0..h {
                let z = sigmoid(gx[j] + gh[j]);
                let r = sigmoid(gx[h + j] + gh[h + j]);
                let n = (gx[2 * h + j] + r * gh[2 * h + j]).tanh();
                gates[j] = z;
                gates[h + j] = r;
                gates[2 * h + j] = n;
                ghn[j] = gh[2 * h + j];
                let prev = hp.map_or(0.0, |hp| hp[j]);
                hn[j] = if present {
                    (1.0 - z) * n + z * prev
                } else {
                    prev
                };
            }
        }
    }
}

/// Backward of [`gru_forward`] (its `ws` as the forward left it) given
/// `dout` (`m × t × H`), the loss gradient of every step's state, which is
/// used as the accumulator of the gradient through time (overwritten).
/// Adds the parameter gradients to `grads` at the spans of `s`; writes the
/// input gradient (`m × t × input`) to `dx` when given.
#[allow(clippy::too_many_arguments)]
pub fn gru_backward(
    d: GruDims,
    p: &[f32],
    s: &GruSpans,
    x: &[f32],
    mask: &[f32],
    ws: &mut GruWs,
    dout: &mut [f32],
    grads: &mut [f32],
    dx: Option<&mut [f32]>,
) {
    let (m, t, h) = (d.m, d.t, d.hidden);
    let h3 = 3 * h;
    let u = s.u.of(p);
    for step in (0..t).rev() {
        for b in 0..m {
            let cell = b * t + step;
            let dh = &dout[cell * h..(cell + 1) * h];
            let dgx = &mut ws.gx[cell * h3..(cell + 1) * h3];
            let dgh = &mut ws.gh[b * h3..(b + 1) * h3];
            let dprev = &mut ws.dprev[b * h..(b + 1) * h];
            if mask[cell] == 0.0 {
                dgx.fill(0.0);
                dgh.fill(0.0);
                dprev.copy_from_slice(dh);
                continue;
            }
            let gates = &ws.gates[cell * h3..(cell + 1) * h3];
            let ghn = &ws.ghn[cell * h..(cell + 1) * h];
            for j in 0..h {
                let (z, r, n) = (gates[j], gates[h + j], gates[2 * h + j]);
                let prev = if step > 0 {
                    ws.out[(cell - 1) * h + j]
                } else {
                    0.0
                };
                let g = dh[j];
                let dan = g * (1.0 - z) * (1.0 - n * n);
                let daz = g * (prev - n) * z * (1.0 - z);
                let dar = dan * ghn[j] * r * (1.0 - r);
                dgx[j] = daz;
                dgx[h + j] = dar;
                dgx[2 * h + j] = dan;
                dgh[j] = daz;
                dgh[h + j] = dar;
                dgh[2 * h + j] = dan * r;
                dprev[j] = g * z;
            }
        }
        // Recurrent biases: Σ over rows of dgh.
        {
            let dbh = s.bh.of_mut(grads);
            for row in ws.gh[..m * h3].chunks_exact(h3) {
                for (g, &v) in dbh.iter_mut().zip(row) {
                    *g += v;
                }
            }
        }
        if step == 0 {
            break;
        }
        // dU += dghᵀ · h_prev; dprev += dgh · U; then into dout[step − 1].
        gemm(
            h3,
            m,
            h,
            &ws.gh,
            (1, h3),
            &ws.out[(step - 1) * h..],
            (t * h, 1),
            1.0,
            s.u.of_mut(grads),
        );
        gemm(m, h3, h, &ws.gh, (h3, 1), u, (h, 1), 1.0, &mut ws.dprev);
        for b in 0..m {
            let cell = b * t + step - 1;
            for (o, &v) in dout[cell * h..(cell + 1) * h]
                .iter_mut()
                .zip(&ws.dprev[b * h..(b + 1) * h])
            {
                *o += v;
            }
        }
    }
    let (dw, dbi) = if s.w.at < s.bi.at {
        super::pair_mut(grads, s.w, s.bi)
    } else {
        let (b, w) = super::pair_mut(grads, s.bi, s.w);
        (w, b)
    };
    linear_backward(
        x,
        s.w.of(p),
        &ws.gx,
        dx.map(|dx| (dx, false)),
        dw,
        dbi,
        m * t,
        d.input,
        h3,
    );
}
