//! Causal dilated 1-D convolution over `t` steps, forward and backward, on
//! batched row-major buffers (`m × t × channels`).
//!
//! `y[b, s, o] = bias[o] + Σ_j Σ_c w[o, j·cin + c] · x[b, s − (k − 1 − j)·dil, c]`,
//! inputs before the first step being 0 (left zero padding): tap `j = k − 1`
//! reads the current step, tap `k − 2` the step `dil` back, and so on.
//! `w` is `cout × (k · cin)`, row-major (one row per output channel, taps
//! oldest first, channels within a tap). Computed as an im2col matrix
//! (`m·t × k·cin`, kept for the backward pass) times `wᵀ`.

use super::{linear_backward, linear_forward, pair_mut, Span};

/// The dimensions of one convolution call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvDims {
    pub m: usize,
    pub t: usize,
    pub cin: usize,
    pub cout: usize,
    pub kernel: usize,
    pub dilation: usize,
}

/// Writes the im2col matrix of `x` into `cols` (`m·t × k·cin`).
pub fn im2col(d: ConvDims, x: &[f32], cols: &mut [f32]) {
    let kc = d.kernel * d.cin;
    for b in 0..d.m {
        for s in 0..d.t {
            let row = &mut cols[(b * d.t + s) * kc..(b * d.t + s + 1) * kc];
            for j in 0..d.kernel {
                let back = (d.kernel - 1 - j) * d.dilation;
                let dst = &mut row[j * d.cin..(j + 1) * d.cin];
                if back <= s {
                    let src = (b * d.t + s - back) * d.cin;
                    dst.copy_from_slice(&x[src..src + d.cin]);
                } else {
                    dst.fill(0.0);
                }
            }
        }
    }
}

/// `y` (`m × t × cout`) = the causal convolution of `x` (`m × t × cin`);
/// `cols` receives the im2col matrix the backward pass needs.
pub fn conv_forward(d: ConvDims, x: &[f32], w: &[f32], b: &[f32], cols: &mut [f32], y: &mut [f32]) {
    im2col(d, x, cols);
    linear_forward(cols, w, b, y, d.m * d.t, d.kernel * d.cin, d.cout);
}

/// Backward of [`conv_forward`] given `dy`: adds to the gradients of `w`
/// and `b` (spans of `grads`, `w` before `b`) and, when `dx` is given, adds
/// the input gradient to it (`m × t × cin`), using `dcols` as scratch.
#[allow(clippy::too_many_arguments)]
pub fn conv_backward(
    d: ConvDims,
    cols: &[f32],
    w: &[f32],
    dy: &[f32],
    grads: &mut [f32],
    sw: Span,
    sb: Span,
    dx: Option<(&mut [f32], &mut [f32])>,
) {
    let kc = d.kernel * d.cin;
    let (dw, db) = pair_mut(grads, sw, sb);
    let Some((dx, dcols)) = dx else {
        linear_backward(cols, w, dy, None, dw, db, d.m * d.t, kc, d.cout);
        return;
    };
    linear_backward(
        cols,
        w,
        dy,
        Some((dcols, false)),
        dw,
        db,
        d.m * d.t,
        kc,
        d.cout,
    );
    for b in 0..d.m {
        for s in 0..d.t {
            let row = &dcols[(b * d.t + s) * kc..(b * d.t + s + 1) * kc];
            for j in 0..d.kernel {
                let back = (d.kernel - 1 - j) * d.dilation;
                if back > s {
                    continue;
                }
                let at = (b * d.t + s - back) * d.cin;
                for (o, &v) in dx[at..at + d.cin]
                    .iter_mut()
                    .zip(&row[j * d.cin..(j + 1) * d.cin])
                {
                    *o += v;
                }
            }
        }
    }
}
