//! A GRU over the customer's history, its last state joined with the
//! statics into a ReLU head: the kind `gru` (format v3 section `model/gru`,
//! issue 14). Inputs, head, players and codec are [`crate::sequence`]'s.
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

use super::{Attribution, Cost, Design, Kind, Output, EXP_COST};
use crate::sequence::{
    dot, row, sigmoid, Head, Reader, Scratch, SeqInputs, SeqWire, Writer, MAX_HIDDEN, MAX_LAYERS,
};

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

#[derive(Debug, Clone, PartialEq)]
pub struct Gru {
    pub inputs: SeqInputs,
    pub hidden: usize,
    /// Bottom first.
    pub layers: Vec<GruLayer>,
    pub head: Head,
}

impl Gru {
    /// A GRU from its weights (laid out as the trainer's `SeqModel`); the
    /// sizes and values are checked as a file's are.
    pub fn new(
        inputs: SeqInputs,
        hidden: usize,
        layers: Vec<GruLayer>,
        head: Head,
    ) -> Result<Gru, String> {
        let g = Gru {
            inputs,
            hidden,
            layers,
            head,
        };
        g.check()?;
        Ok(g)
    }

    /// Everything but the schema (checked by [`SeqInputs`] binding).
    fn check(&self) -> Result<(), String> {
        let h = self.hidden;
        if h == 0 || h > MAX_HIDDEN || self.layers.is_empty() || self.layers.len() > MAX_LAYERS {
            return Err(format!(
                "gru: hidden must be in 1..={MAX_HIDDEN}, layers in 1..={MAX_LAYERS}"
            ));
        }
        let mut input = self.inputs.input_channels();
        for (i, l) in self.layers.iter().enumerate() {
            if l.w.len() != 3 * h * input
                || l.u.len() != 3 * h * h
                || l.bi.len() != 3 * h
                || l.bh.len() != 3 * h
            {
                return Err(format!("gru layer {i}: wrong weight sizes"));
            }
            for v in [&l.w, &l.u, &l.bi, &l.bh] {
                super::all_finite("gru weights", v)?;
            }
            input = h;
        }
        self.head.check(h + self.inputs.static_inputs())
    }

    fn forward(&self, x: &[f32], s: &mut Scratch) -> f32 {
        s.load(&self.inputs, x);
        let h = self.hidden;
        let t = self.inputs.steps();
        let mut input = self.inputs.input_channels();
        // `a`: this layer's input sequence, `b`: its output, `v`: the state.
        s.a.clear();
        s.a.extend_from_slice(&s.seq);
        s.v.clear();
        s.v.resize(h, 0.0);
        s.w.resize(h, 0.0);
        for l in &self.layers {
            s.b.clear();
            s.v.fill(0.0);
            for (step, &m) in s.mask.iter().enumerate().take(t) {
                if m != 0.0 {
                    let xs = row(&s.a, step, input);
                    for j in 0..h {
                        let (w, u) = (&l.w, &l.u);
                        let gate = |g: usize| {
                            let k = g * h + j;
                            (
                                dot(row(w, k, input), xs),
                                bias(&l.bi, k),
                                dot(row(u, k, h), &s.v),
                                bias(&l.bh, k),
                            )
                        };
                        let (wz, iz, uz, hz) = gate(0);
                        let z = sigmoid(wz + iz + uz + hz);
                        let (wr, ir, ur, hr) = gate(1);
                        let r = sigmoid(wr + ir + ur + hr);
                        let (wn, inn, un, hn) = gate(2);
                        let n = libm::tanhf(wn + inn + r * (un + hn));
                        if let (Some(o), Some(&prev)) = (s.w.get_mut(j), s.v.get(j)) {
                            *o = (1.0 - z) * n + z * prev;
                        }
                    }
                    std::mem::swap(&mut s.v, &mut s.w);
                }
                s.b.extend_from_slice(&s.v);
            }
            std::mem::swap(&mut s.a, &mut s.b);
            input = h;
        }
        s.v.extend_from_slice(&s.stat);
        self.head.logit(&s.v)
    }
}

#[inline]
fn bias(b: &[f32], k: usize) -> f32 {
    b.get(k).copied().unwrap_or(0.0)
}

impl Kind for Gru {
    const TAG: &'static str = "gru";
    type Wire = SeqWire;

    fn to_wire(&self) -> SeqWire {
        let mut w = Writer(Vec::new());
        w.inputs(&self.inputs);
        w.n(self.hidden);
        w.n(self.layers.len());
        for l in &self.layers {
            w.fs(&l.w);
            w.fs(&l.u);
            w.fs(&l.bi);
            w.fs(&l.bh);
        }
        w.head(&self.head);
        SeqWire(w.0)
    }

    fn from_wire(wire: SeqWire) -> Result<Self, String> {
        let mut r = Reader {
            bytes: &wire.0,
            at: 0,
        };
        let read = |r: &mut Reader<'_>| -> Result<Gru, &'static str> {
            let inputs = r.inputs()?;
            let hidden = r.n()?;
            let k = r.count(4)?;
            if k > MAX_LAYERS {
                return Err("too many layers");
            }
            let mut layers = Vec::with_capacity(k);
            for _ in 0..k {
                layers.push(GruLayer {
                    w: r.fs()?,
                    u: r.fs()?,
                    bi: r.fs()?,
                    bh: r.fs()?,
                });
            }
            let head = r.head()?;
            r.end()?;
            Ok(Gru {
                inputs,
                hidden,
                layers,
                head,
            })
        };
        read(&mut r).map_err(|e| format!("byte {}: {e}", r.at))
    }

    fn validate(&self, d: &Design<'_>) -> Result<(), String> {
        crate::sequence::check_design(&self.inputs, d)?;
        self.check()
    }

    fn output_kind(&self) -> Output {
        Output::Score
    }

    fn output(&self, x: &[f32]) -> f32 {
        self.forward(x, &mut Scratch::default())
    }

    fn outputs(&self, xs: &[f32], width: usize, out: &mut [f32]) {
        let mut s = Scratch::default();
        for (x, o) in xs.chunks_exact(width).zip(out) {
            *o = self.forward(x, &mut s);
        }
    }

    fn explain(&self, d: &Design<'_>, x: &[f32], scale: f64, offset: f64) -> Attribution {
        let mut eval = |xs: &[f32], out: &mut [f32]| self.outputs(xs, d.width, out);
        crate::sequence::explain(
            &self.inputs,
            d,
            x,
            (scale, offset),
            self.predict_cost(),
            &mut eval,
        )
    }

    fn method(&self) -> &'static str {
        crate::sequence::METHOD
    }

    fn summary(&self) -> String {
        format!(
            "gru: {} layers, hidden {}, head {}; {}",
            self.layers.len(),
            self.hidden,
            self.head.b1.len(),
            crate::sequence::describe(&self.inputs)
        )
    }

    fn cost(&self, d: &Design<'_>) -> Cost {
        let predict = self.predict_cost();
        Cost {
            predict,
            explain: crate::sequence::explain_cost(&self.inputs, d, predict),
        }
    }

    fn uses_background_set(&self) -> bool {
        true
    }

    fn background_method(&self) -> &'static str {
        crate::sequence::METHOD
    }

    fn takes_missing(&self) -> bool {
        true
    }
}

impl Gru {
    fn predict_cost(&self) -> u64 {
        let (t, h) = (self.inputs.steps() as u64, self.hidden as u64);
        let mut input = self.inputs.input_channels() as u64;
        let mut c = crate::sequence::inputs_cost(&self.inputs);
        for _ in &self.layers {
            c = c.saturating_add(t * (3 * h * (input + h + 2) + 2 * h * EXP_COST + 4 * h));
            input = h;
        }
        c.saturating_add(self.head.cost())
    }
}
