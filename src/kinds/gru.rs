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

use super::{Attribution, Cost, Design, Kind, Output};
use crate::sequence::{Head, Net, SeqInputs, SeqWire, METHOD};

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

impl Gru {
    fn from_net(net: Net) -> Result<Self, String> {
        if net.kernel != 0 {
            return Err("a GRU has no kernel".into());
        }
        Ok(Gru(net))
    }
}

impl Kind for Gru {
    const TAG: &'static str = "gru";
    type Wire = SeqWire;

    fn to_wire(&self) -> SeqWire {
        self.0.to_wire()
    }

    fn from_wire(wire: SeqWire) -> Result<Self, String> {
        Self::from_net(Net::from_wire(wire)?)
    }

    /// The wire read by hand ([`Net::read`]), then as `from_wire`.
    fn decode(body: &[u8]) -> Result<Self, crate::error::FormatError> {
        super::read_section(body, Net::read, Self::from_wire)
    }

    fn validate(&self, d: &Design<'_>) -> Result<(), String> {
        self.0.validate(d)
    }

    fn output_kind(&self) -> Output {
        Output::Score
    }

    fn output(&self, x: &[f32]) -> f32 {
        self.0.output(x)
    }

    fn outputs(&self, xs: &[f32], width: usize, out: &mut [f32]) {
        self.0.outputs(xs, width, out)
    }

    fn explain(&self, d: &Design<'_>, x: &[f32], scale: f64, offset: f64) -> Attribution {
        self.0.explain(d, x, scale, offset)
    }

    fn method(&self) -> &'static str {
        METHOD
    }

    fn summary(&self) -> String {
        self.0.summary(Self::TAG)
    }

    fn cost(&self, d: &Design<'_>) -> Cost {
        self.0.cost(d)
    }

    fn uses_background_set(&self) -> bool {
        true
    }

    fn background_method(&self) -> &'static str {
        METHOD
    }

    fn takes_missing(&self) -> bool {
        true
    }
}
