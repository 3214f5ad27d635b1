//! A temporal convolution network over the customer's history, its output
//! at the last step joined with the statics into a ReLU head: the kind
//! `tcn` (format v3 section `model/tcn`, issue 14). The network, inputs,
//! players and codec are [`crate::sequence`]'s ([`Net`] with a kernel),
//! shared with `gru`.
//!
//! An input projection of each step's `C` inputs and its presence (1/0),
//! then residual blocks `u ← u + ReLU(b + W · window)` of causal
//! convolutions, block `i` with dilation `2^i`, the window reading steps
//! `s − (k − 1 − j)·2^i` for taps `j = 0..k` (0 before the first step), in
//! exactly the order of the trainer's reference `SeqModel::logit`, `f32`.

use crate::sequence::{net_kind, Head, Net, SeqInputs};

/// One residual block (the trainer's `ConvLayer`; its dilation is `2^i`
/// for block `i`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConvLayer {
    /// `hidden × (kernel · hidden)` row-major: output channel `o`, tap `j`
    /// (0 = oldest), input channel `c` at `w[o·k·H + j·H + c]`.
    pub w: Vec<f32>,
    /// `hidden`.
    pub b: Vec<f32>,
}

/// The kind `tcn`: a [`Net`] with a kernel (2..=5) whose weights are the
/// input projection `in_w` (`hidden × (C + 1)`: a step's inputs, then its
/// presence), `in_b`, then per block `w`, `b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tcn(pub Net);

impl Tcn {
    /// A TCN from its weights (laid out as the trainer's `SeqModel`); the
    /// sizes and values are checked as a file's are.
    pub fn new(
        inputs: SeqInputs,
        hidden: usize,
        kernel: usize,
        (in_w, in_b): (Vec<f32>, Vec<f32>),
        blocks: Vec<ConvLayer>,
        head: Head,
    ) -> Result<Tcn, String> {
        if kernel == 0 {
            return Err("a TCN needs a kernel".into());
        }
        let mut weights = vec![in_w, in_b];
        weights.extend(blocks.into_iter().flat_map(|b| [b.w, b.b]));
        let net = Net {
            inputs,
            hidden,
            kernel,
            weights,
            head,
        };
        net.check()?;
        Ok(Tcn(net))
    }
}

net_kind!(Tcn, "tcn", |kernel| kernel != 0, "a TCN needs a kernel");
