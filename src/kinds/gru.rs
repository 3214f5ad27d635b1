//! A GRU over the customer's history, its last state joined with the
//! statics into a ReLU head: the kind `gru` (format v3 section `model/gru`,
//! issue 14). The network, inputs, players and codec are
//! [`crate::sequence`]'s ([`Net`] with `kernel` 0), shared with `tcn`.
//!
//! Per layer and present step (gate order z, r, n; a missing step keeps
//! the state):
//!
//! ```text
//! z = σ(W_z x + b_iz + U_z h + b_hz)      r = σ(W_r x + b_ir + U_r h + b_hr)
//! n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn))      h ← (1 − z) ⊙ n + z ⊙ h
//! ```
//!
//! in exactly the order of the trainer's reference `SeqModel::logit`,
//! `f32`, `libm`'s `expf` and `tanhf`.

use crate::sequence::{net_kind, Head, Net, SeqInputs};

/// One GRU layer (the trainer's `GruLayer` layout).
#[derive(Debug, Clone, PartialEq)]
pub struct GruLayer {
    /// `3·hidden × input` row-major (rows z₀.., r₀.., n₀..); `input` is `C`
    /// for the first layer, `hidden` above.
    pub w: Vec<f32>,
    /// `3·hidden × hidden`, same row order.
    pub u: Vec<f32>,
    /// `3·hidden`: `b_i` (z, r, n).
    pub bi: Vec<f32>,
    /// `3·hidden`: `b_h` (z, r, n).
    pub bh: Vec<f32>,
}

/// The kind `gru`: a [`Net`] whose `kernel` is 0 and whose weights are,
/// per layer, `w`, `u`, `bi`, `bh`.
#[derive(Debug, Clone, PartialEq)]
pub struct Gru(pub Net);

impl Gru {
    /// A GRU from its weights (laid out as the trainer's `SeqModel`); the
    /// sizes and values are checked as a file's are.
    pub fn new(
        inputs: SeqInputs,
        hidden: usize,
        layers: Vec<GruLayer>,
        head: Head,
    ) -> Result<Gru, String> {
        let net = Net {
            inputs,
            hidden,
            kernel: 0,
            weights: layers
                .into_iter()
                .flat_map(|l| [l.w, l.u, l.bi, l.bh])
                .collect(),
            head,
        };
        net.check()?;
        Ok(Gru(net))
    }
}

net_kind!(Gru, "gru", |kernel| kernel == 0, "a GRU has no kernel");
