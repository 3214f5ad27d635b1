//! A temporal convolution network over the customer's history, its output
//! at the last step joined with the statics into a ReLU head: the kind
//! `tcn` (format v3 section `model/tcn`, issue 14). Inputs, head, players
//! and codec are [`crate::sequence`]'s.
//!
//! An input projection of each step's `C` inputs and its presence (1/0),
//! then residual blocks `u ← u + ReLU(b + W · window)` of causal
//! convolutions, block `i` with dilation `2^i`, the window reading steps
//! `s − (k − 1 − j)·2^i` for taps `j = 0..k` (0 before the first step), in
//! exactly the order of the trainer's reference `SeqModel::logit`, `f32`.

use super::{Attribution, Cost, Design, Kind, Output};
use crate::sequence::{
    dot, row, Head, Reader, Scratch, SeqInputs, SeqWire, Writer, MAX_HIDDEN, MAX_KERNEL, MAX_LAYERS,
};

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

#[derive(Debug, Clone, PartialEq)]
pub struct Tcn {
    pub inputs: SeqInputs,
    pub hidden: usize,
    pub kernel: usize,
    /// `hidden × (C + 1)` row-major: a step's inputs, then its presence.
    pub in_w: Vec<f32>,
    /// `hidden`.
    pub in_b: Vec<f32>,
    /// Dilations 1, 2, 4, …
    pub blocks: Vec<ConvLayer>,
    pub head: Head,
}

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
        let m = Tcn {
            inputs,
            hidden,
            kernel,
            in_w,
            in_b,
            blocks,
            head,
        };
        m.check()?;
        Ok(m)
    }

    fn check(&self) -> Result<(), String> {
        let (h, k) = (self.hidden, self.kernel);
        if h == 0
            || h > MAX_HIDDEN
            || !(2..=MAX_KERNEL).contains(&k)
            || self.blocks.is_empty()
            || self.blocks.len() > MAX_LAYERS
        {
            return Err(format!(
                "tcn: hidden must be in 1..={MAX_HIDDEN}, kernel in 2..={MAX_KERNEL}, blocks in 1..={MAX_LAYERS}"
            ));
        }
        let c = self.inputs.input_channels();
        if self.in_w.len() != h * (c + 1) || self.in_b.len() != h {
            return Err("tcn input projection: wrong sizes".into());
        }
        super::all_finite("tcn input weights", &self.in_w)?;
        super::all_finite("tcn input biases", &self.in_b)?;
        for (i, b) in self.blocks.iter().enumerate() {
            if b.w.len() != h * k * h || b.b.len() != h {
                return Err(format!("tcn block {i}: wrong weight sizes"));
            }
            super::all_finite("tcn weights", &b.w)?;
            super::all_finite("tcn biases", &b.b)?;
        }
        self.head.check(h + self.inputs.static_inputs())
    }

    fn forward(&self, x: &[f32], s: &mut Scratch) -> f32 {
        s.load(&self.inputs, x);
        let (h, k) = (self.hidden, self.kernel);
        let t = self.inputs.steps();
        let c = self.inputs.input_channels();
        // `a`: the sequence (t × h), `b`: the next block's, `v`: a step's
        // input or window.
        s.a.clear();
        for step in 0..t {
            s.v.clear();
            s.v.extend_from_slice(row(&s.seq, step, c));
            s.v.push(s.mask.get(step).copied().unwrap_or(0.0));
            for o in 0..h {
                let b = self.in_b.get(o).copied().unwrap_or(0.0);
                s.a.push(b + dot(row(&self.in_w, o, c + 1), &s.v));
            }
        }
        for (i, blk) in self.blocks.iter().enumerate() {
            let dil = 1usize << i;
            s.b.clear();
            s.b.extend_from_slice(&s.a);
            for step in 0..t {
                s.v.clear();
                s.v.resize(k * h, 0.0);
                for j in 0..k {
                    let back = (k - 1 - j) * dil;
                    if back <= step {
                        if let Some(w) = s.v.get_mut(j * h..(j + 1) * h) {
                            w.copy_from_slice(row(&s.a, step - back, h));
                        }
                    }
                }
                for o in 0..h {
                    let b = blk.b.get(o).copied().unwrap_or(0.0);
                    if let Some(n) = s.b.get_mut(step * h + o) {
                        *n += (b + dot(row(&blk.w, o, k * h), &s.v)).max(0.0);
                    }
                }
            }
            std::mem::swap(&mut s.a, &mut s.b);
        }
        s.v.clear();
        s.v.extend_from_slice(row(&s.a, t.saturating_sub(1), h));
        s.v.extend_from_slice(&s.stat);
        self.head.logit(&s.v)
    }

    fn predict_cost(&self) -> u64 {
        let (t, h, k) = (
            self.inputs.steps() as u64,
            self.hidden as u64,
            self.kernel as u64,
        );
        let c = self.inputs.input_channels() as u64;
        let blocks = self.blocks.len() as u64;
        crate::sequence::inputs_cost(&self.inputs)
            .saturating_add(t * h * (c + 2))
            .saturating_add(blocks * t * h * (k * h + 3))
            .saturating_add(self.head.cost())
    }
}

impl Kind for Tcn {
    const TAG: &'static str = "tcn";
    type Wire = SeqWire;

    fn to_wire(&self) -> SeqWire {
        let mut w = Writer(Vec::new());
        w.inputs(&self.inputs);
        w.n(self.hidden);
        w.n(self.kernel);
        w.fs(&self.in_w);
        w.fs(&self.in_b);
        w.n(self.blocks.len());
        for b in &self.blocks {
            w.fs(&b.w);
            w.fs(&b.b);
        }
        w.head(&self.head);
        SeqWire(w.0)
    }

    fn from_wire(wire: SeqWire) -> Result<Self, String> {
        let mut r = Reader {
            bytes: &wire.0,
            at: 0,
        };
        let read = |r: &mut Reader<'_>| -> Result<Tcn, &'static str> {
            let inputs = r.inputs()?;
            let hidden = r.n()?;
            let kernel = r.n()?;
            let in_w = r.fs()?;
            let in_b = r.fs()?;
            let n = r.count(2)?;
            if n > MAX_LAYERS {
                return Err("too many blocks");
            }
            let mut blocks = Vec::with_capacity(n);
            for _ in 0..n {
                blocks.push(ConvLayer {
                    w: r.fs()?,
                    b: r.fs()?,
                });
            }
            let head = r.head()?;
            r.end()?;
            Ok(Tcn {
                inputs,
                hidden,
                kernel,
                in_w,
                in_b,
                blocks,
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
            "tcn: {} blocks, kernel {}, hidden {}, head {}; {}",
            self.blocks.len(),
            self.kernel,
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
