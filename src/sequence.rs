//! Histories (issue 14): what the sequence kinds (`gru`, `tcn`) share —
//! the description of a history inside their sections, the one function
//! that turns a design row into the network's inputs ([`SeqInputs::inputs`],
//! which the trainer uses too), the GRU / TCN encoders and the head, the
//! explanation players (statics, then steps) and the sections' byte codec.
//!
//! The schema stays flat: every column of a history is a plain feature of
//! the [`Schema`] (flat kinds see the same columns). A [`History`] names,
//! per channel, the schema feature of each step (oldest first); every other
//! feature is a *static*, in schema order.
//!
//! The design row of a sequence kind is built without scaling and without
//! imputing numbers (the kinds take missing values): numbers arrive raw or
//! NaN, categoricals one-hot. [`SeqInputs::inputs`] then gives
//!
//! - `seq` (`steps × C`, row-major, oldest first): a numeric channel's cell
//!   is `(x − mean) / std`, 0 when NaN; a categorical channel is one-hot
//!   over its own table (a step's schema categories are matched to it by
//!   text; a category the table lacks gives zeros; fractional background
//!   rows add up per table entry);
//! - `mask` (`steps`): 1 when some numeric channel of the step is not NaN
//!   (always 1 without numeric channels);
//! - `stat` (`S`): a numeric static `(x − mean) / std`, 0 when NaN; a
//!   categorical static its one-hot columns as they are.
//!
//! Everything is `f32` in a fixed order with `libm`'s portable functions,
//! so native and wasm agree bit for bit.

use std::sync::OnceLock;

use crate::schema::{FeatureKind, Schema};

/// Most steps of a history.
pub const MAX_STEPS: usize = 512;
/// Most network input channels (`C`: numeric channels count 1, categorical
/// ones their table's size).
pub const MAX_CHANNELS: usize = 256;
/// Widest GRU state / TCN channel count / head layer.
pub const MAX_HIDDEN: usize = 256;
/// Most GRU layers / TCN blocks.
pub const MAX_LAYERS: usize = 8;
/// Widest TCN kernel.
pub const MAX_KERNEL: usize = 5;
/// Longest name, unit or category text in a history (bytes).
pub const MAX_TEXT: usize = 256;

/// One history: `steps` steps, oldest first, each with one or more channels.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// E.g. "history": used in texts and views.
    pub name: String,
    /// E.g. "month": "3 months ago".
    pub unit: String,
    pub steps: u32,
    pub channels: Vec<Channel>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// E.g. "status".
    pub name: String,
    /// Schema feature index of each step, oldest first (`steps` of them).
    pub features: Vec<u32>,
    pub input: ChannelInput,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChannelInput {
    /// Pooled over all steps' non-missing training values; `std > 0`.
    Numeric { mean: f32, std: f32 },
    /// Pooled category table; each step feature's categories are matched to
    /// it by text.
    Categorical { categories: Vec<String> },
}

/// A static feature: a schema feature in no channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Static {
    pub feature: u32,
    /// `(mean, std)` of a numeric static; `None` for a categorical one
    /// (its one-hot columns pass through).
    pub scale: Option<(f32, f32)>,
}

/// Design columns of one channel at one step: the feature's first column
/// and, for a categorical channel, the table entry of each of the
/// feature's categories ([`NONE`] when the table lacks it).
#[derive(Debug, Clone, PartialEq)]
struct Cell {
    start: usize,
    map: Vec<u32>,
}

const NONE: u32 = u32::MAX;

/// The history resolved against the schema (see [`SeqInputs`]).
#[derive(Debug, Clone, PartialEq)]
struct Bound {
    /// `cells[channel][step]`.
    cells: Vec<Vec<Cell>>,
    /// Offset of each channel in a step's `C` inputs.
    offsets: Vec<usize>,
    /// Design range of each static.
    statics: Vec<(usize, usize)>,
    c: usize,
    s: usize,
    /// Design ranges of each explanation player (statics, then steps).
    players: Vec<Vec<(usize, usize)>>,
}

/// A history and the statics' scaling: everything that turns a design row
/// into the network's inputs. Resolved against the schema by
/// [`SeqInputs::new`] or, for a decoded file, by the kind's validation.
#[derive(Debug, Clone)]
pub struct SeqInputs {
    pub history: History,
    pub statics: Vec<Static>,
    bound: OnceLock<Bound>,
}

impl PartialEq for SeqInputs {
    fn eq(&self, o: &SeqInputs) -> bool {
        self.history == o.history && self.statics == o.statics
    }
}

/// The statics of `history` in `schema`: every feature in no channel, in
/// schema order, numeric ones with their schema's `(mean, std)`.
pub fn statics_of(schema: &Schema, history: &History) -> Vec<Static> {
    let mut used = vec![false; schema.features.len()];
    for c in &history.channels {
        for &f in &c.features {
            if let Some(u) = used.get_mut(f as usize) {
                *u = true;
            }
        }
    }
    let mut out = Vec::new();
    for (i, (f, u)) in schema.features.iter().zip(used).enumerate() {
        if !u {
            out.push(Static {
                feature: i as u32,
                scale: match &f.kind {
                    FeatureKind::Numeric(n) => Some((n.mean, n.std)),
                    FeatureKind::Categorical(_) => None,
                },
            });
        }
    }
    out
}

fn text_ok(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > MAX_TEXT {
        return Err(format!("{what} must have 1 to {MAX_TEXT} bytes"));
    }
    Ok(())
}

fn scale_ok(what: &str, mean: f32, std: f32) -> Result<(), String> {
    if !(mean.is_finite() && std.is_finite() && std > 0.0) {
        return Err(format!("{what}: mean and std must be finite, std > 0"));
    }
    Ok(())
}

impl SeqInputs {
    /// The inputs of `history` in `schema` with the statics of
    /// [`statics_of`], checked and resolved.
    pub fn new(schema: &Schema, history: History) -> Result<SeqInputs, String> {
        let statics = statics_of(schema, &history);
        SeqInputs::with_statics(schema, history, statics)
    }

    /// As [`SeqInputs::new`] with the statics given (they must be the
    /// features in no channel, in schema order).
    pub fn with_statics(
        schema: &Schema,
        history: History,
        statics: Vec<Static>,
    ) -> Result<SeqInputs, String> {
        let s = SeqInputs::unbound(history, statics);
        s.bind(schema)?;
        Ok(s)
    }

    pub(crate) fn unbound(history: History, statics: Vec<Static>) -> SeqInputs {
        SeqInputs {
            history,
            statics,
            bound: OnceLock::new(),
        }
    }

    /// Checks the history and statics against `schema` and resolves their
    /// design columns (once; a second schema must give the same).
    pub(crate) fn bind(&self, schema: &Schema) -> Result<(), String> {
        let b = self.resolve(schema)?;
        match self.bound.get() {
            Some(old) if *old != b => Err("history bound to another schema".into()),
            Some(_) => Ok(()),
            None => {
                let _ = self.bound.set(b);
                Ok(())
            }
        }
    }

    fn resolve(&self, schema: &Schema) -> Result<Bound, String> {
        let h = &self.history;
        let t = h.steps as usize;
        if t == 0 || t > MAX_STEPS {
            return Err(format!("history: steps must be in 1..={MAX_STEPS}"));
        }
        text_ok("history name", &h.name)?;
        text_ok("history unit", &h.unit)?;
        if h.channels.is_empty() || h.channels.len() > MAX_CHANNELS {
            return Err(format!("history: 1 to {MAX_CHANNELS} channels"));
        }
        let mut starts = Vec::with_capacity(schema.features.len());
        let mut at = 0usize;
        for f in &schema.features {
            starts.push(at);
            at += f.width();
        }
        let mut used = vec![false; schema.features.len()];
        let mut cells = Vec::with_capacity(h.channels.len());
        let mut offsets = Vec::with_capacity(h.channels.len());
        let mut c = 0usize;
        for ch in &h.channels {
            text_ok("channel name", &ch.name)?;
            let name = &ch.name;
            if ch.features.len() != t {
                return Err(format!("channel '{name}': {t} step features expected"));
            }
            offsets.push(c);
            let mut row = Vec::with_capacity(t);
            for &fi in &ch.features {
                let (Some(f), Some(&start)) =
                    (schema.features.get(fi as usize), starts.get(fi as usize))
                else {
                    return Err(format!(
                        "channel '{name}': feature {fi} is not in the schema"
                    ));
                };
                match used.get_mut(fi as usize) {
                    Some(u) if !*u => *u = true,
                    _ => return Err(format!("feature '{}' is used twice", f.name)),
                }
                let map = match (&ch.input, &f.kind) {
                    (ChannelInput::Numeric { .. }, FeatureKind::Numeric(_)) => Vec::new(),
                    (ChannelInput::Categorical { categories }, FeatureKind::Categorical(fc)) => fc
                        .categories
                        .iter()
                        .map(|s| {
                            categories
                                .iter()
                                .position(|k| k == s)
                                .map_or(NONE, |k| k as u32)
                        })
                        .collect(),
                    _ => {
                        return Err(format!(
                            "channel '{name}': feature '{}' is of another type",
                            f.name
                        ))
                    }
                };
                row.push(Cell { start, map });
            }
            match &ch.input {
                ChannelInput::Numeric { mean, std } => {
                    scale_ok(&format!("channel '{name}'"), *mean, *std)?;
                    c += 1;
                }
                ChannelInput::Categorical { categories } => {
                    if categories.is_empty() {
                        return Err(format!("channel '{name}': no categories"));
                    }
                    for (i, k) in categories.iter().enumerate() {
                        text_ok("category", k)?;
                        if categories.get(..i).is_some_and(|p| p.contains(k)) {
                            return Err(format!("channel '{name}': a category appears twice"));
                        }
                    }
                    c += categories.len();
                }
            }
            if c > MAX_CHANNELS {
                return Err(format!("history: more than {MAX_CHANNELS} input channels"));
            }
            cells.push(row);
        }
        let want = statics_of(schema, h);
        if want.len() != self.statics.len()
            || want
                .iter()
                .zip(&self.statics)
                .any(|(w, s)| w.feature != s.feature || w.scale.is_some() != s.scale.is_some())
        {
            return Err("the statics are not the features outside the history".into());
        }
        let mut statics = Vec::with_capacity(self.statics.len());
        let mut s = 0usize;
        let mut players = Vec::with_capacity(self.statics.len() + t);
        for st in &self.statics {
            if let Some((mean, std)) = st.scale {
                scale_ok("static", mean, std)?;
            }
            let i = st.feature as usize;
            let (Some(&start), Some(f)) = (starts.get(i), schema.features.get(i)) else {
                return Err("static feature outside the schema".into());
            };
            statics.push((start, start + f.width()));
            players.push(vec![(start, start + f.width())]);
            s += f.width();
        }
        for step in 0..t {
            let mut ranges = Vec::with_capacity(cells.len());
            for (row, ch) in cells.iter().zip(&h.channels) {
                if let (Some(cell), Some(f)) = (
                    row.get(step),
                    ch.features
                        .get(step)
                        .and_then(|&f| schema.features.get(f as usize)),
                ) {
                    ranges.push((cell.start, cell.start + f.width()));
                }
            }
            players.push(ranges);
        }
        Ok(Bound {
            cells,
            offsets,
            statics,
            c,
            s,
            players,
        })
    }

    fn bound(&self) -> Option<&Bound> {
        self.bound.get()
    }

    /// `C`: network inputs per step.
    pub fn input_channels(&self) -> usize {
        self.bound().map_or(0, |b| b.c)
    }

    /// `S`: static inputs.
    pub fn static_inputs(&self) -> usize {
        self.bound().map_or(0, |b| b.s)
    }

    /// Steps of the history.
    pub fn steps(&self) -> usize {
        self.history.steps as usize
    }

    /// Explanation players (statics in schema order, then the steps oldest
    /// first): the design ranges each one holds.
    pub fn players(&self) -> &[Vec<(usize, usize)>] {
        self.bound().map_or(&[], |b| &b.players)
    }

    /// One design row `x` -> `seq` (`steps × C`), `mask` (`steps`), `stat`
    /// (`S`); see the module documentation. Buffers of other sizes, or a
    /// short row, are left as zeros where they do not fit.
    pub fn inputs(&self, x: &[f32], seq: &mut [f32], mask: &mut [f32], stat: &mut [f32]) {
        seq.fill(0.0);
        mask.fill(0.0);
        stat.fill(0.0);
        let Some(b) = self.bound() else {
            return;
        };
        let get = |i: usize| x.get(i).copied().unwrap_or(f32::NAN);
        let numeric = self
            .history
            .channels
            .iter()
            .any(|c| matches!(c.input, ChannelInput::Numeric { .. }));
        if !numeric {
            mask.fill(1.0);
        }
        for ((ch, row), &off) in self.history.channels.iter().zip(&b.cells).zip(&b.offsets) {
            for (t, cell) in row.iter().enumerate() {
                let base = t * b.c + off;
                match ch.input {
                    ChannelInput::Numeric { mean, std } => {
                        let v = get(cell.start);
                        if !v.is_nan() {
                            if let Some(m) = mask.get_mut(t) {
                                *m = 1.0;
                            }
                            if let Some(o) = seq.get_mut(base) {
                                *o = (v - mean) / std;
                            }
                        }
                    }
                    ChannelInput::Categorical { .. } => {
                        for (j, &k) in cell.map.iter().enumerate() {
                            if k != NONE {
                                if let Some(o) = seq.get_mut(base + k as usize) {
                                    *o += get(cell.start + j);
                                }
                            }
                        }
                    }
                }
            }
        }
        let mut at = 0;
        for (st, &(a, z)) in self.statics.iter().zip(&b.statics) {
            match st.scale {
                Some((mean, std)) => {
                    let v = get(a);
                    if let Some(o) = stat.get_mut(at) {
                        *o = if v.is_nan() { 0.0 } else { (v - mean) / std };
                    }
                    at += 1;
                }
                None => {
                    for col in a..z {
                        if let Some(o) = stat.get_mut(at) {
                            *o = get(col);
                        }
                        at += 1;
                    }
                }
            }
        }
    }
}

/// The head: `logit = w2 · ReLU(w1 · [encoding, statics] + b1) + b2`.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// `units × (hidden + S)` row-major.
    pub w1: Vec<f32>,
    /// `units`.
    pub b1: Vec<f32>,
    /// `units`.
    pub w2: Vec<f32>,
    pub b2: f32,
}

/// `Σ w[i]·x[i]` from 0, in order.
#[inline]
pub(crate) fn dot(w: &[f32], x: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for (a, b) in w.iter().zip(x) {
        s += a * b;
    }
    s
}

/// Row `r` of a row-major matrix of rows `n` wide (empty when outside).
#[inline]
pub(crate) fn row(w: &[f32], r: usize, n: usize) -> &[f32] {
    w.get(r * n..(r + 1) * n).unwrap_or(&[])
}

impl Head {
    pub(crate) fn check(&self, inputs: usize) -> Result<(), String> {
        let u = self.b1.len();
        if u == 0
            || u > MAX_HIDDEN
            || self.w2.len() != u
            || Some(self.w1.len()) != u.checked_mul(inputs)
        {
            return Err(format!(
                "head: sizes do not make 1 to {MAX_HIDDEN} units of {inputs} inputs"
            ));
        }
        crate::kinds::all_finite("head w1", &self.w1)?;
        crate::kinds::all_finite("head b1", &self.b1)?;
        crate::kinds::all_finite("head w2", &self.w2)?;
        crate::kinds::all_finite("head b2", &[self.b2])
    }

    /// The logit of `cat` = `[encoding, statics]`.
    pub(crate) fn logit(&self, cat: &[f32]) -> f32 {
        let n = cat.len();
        let mut z = self.b2;
        for (o, (&b, &w2)) in self.b1.iter().zip(&self.w2).enumerate() {
            let pre = b + dot(row(&self.w1, o, n), cat);
            z += w2 * pre.max(0.0);
        }
        z
    }

    pub(crate) fn cost(&self) -> u64 {
        (self.w1.len() + 2 * self.b1.len()) as u64
    }
}

/// Buffers of one row's forward pass, reused over a block of rows.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub seq: Vec<f32>,
    pub mask: Vec<f32>,
    pub stat: Vec<f32>,
    pub a: Vec<f32>,
    pub b: Vec<f32>,
    pub v: Vec<f32>,
    pub w: Vec<f32>,
}

impl Scratch {
    /// Sized for `inputs` and fills the network inputs of `x`.
    pub(crate) fn load(&mut self, inputs: &SeqInputs, x: &[f32]) {
        let (t, c, s) = (
            inputs.steps(),
            inputs.input_channels(),
            inputs.static_inputs(),
        );
        self.seq.resize(t * c, 0.0);
        self.mask.resize(t, 0.0);
        self.stat.resize(s, 0.0);
        inputs.inputs(x, &mut self.seq, &mut self.mask, &mut self.stat);
    }
}

/// `1 / (1 + e^−v)`.
#[inline]
pub(crate) fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-v))
}

// ---------------------------------------------------------------------------
// The sections' byte codec: LEB128 counts, little-endian f32 words, texts as
// a count and UTF-8 bytes. Every count is checked against the bytes left
// before anything is allocated.

pub(crate) struct Writer(pub Vec<u8>);

impl Writer {
    pub fn n(&mut self, mut v: usize) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    pub fn f(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    pub fn fs(&mut self, v: &[f32]) {
        self.n(v.len());
        for &x in v {
            self.f(x);
        }
    }

    pub fn text(&mut self, s: &str) {
        self.n(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }

    pub fn inputs(&mut self, s: &SeqInputs) {
        let h = &s.history;
        self.text(&h.name);
        self.text(&h.unit);
        self.n(h.steps as usize);
        self.n(h.channels.len());
        for c in &h.channels {
            self.text(&c.name);
            for &f in &c.features {
                self.n(f as usize);
            }
            match &c.input {
                ChannelInput::Numeric { mean, std } => {
                    self.n(0);
                    self.f(*mean);
                    self.f(*std);
                }
                ChannelInput::Categorical { categories } => {
                    self.n(1);
                    self.n(categories.len());
                    for k in categories {
                        self.text(k);
                    }
                }
            }
        }
        self.n(s.statics.len());
        for st in &s.statics {
            self.n(st.feature as usize);
            match st.scale {
                Some((mean, std)) => {
                    self.n(1);
                    self.f(mean);
                    self.f(std);
                }
                None => self.n(0),
            }
        }
    }

    pub fn head(&mut self, h: &Head) {
        self.fs(&h.w1);
        self.fs(&h.b1);
        self.fs(&h.w2);
        self.f(h.b2);
    }
}

pub(crate) struct Reader<'a> {
    pub bytes: &'a [u8],
    pub at: usize,
}

type Read<T> = Result<T, &'static str>;

impl Reader<'_> {
    fn left(&self) -> usize {
        self.bytes.len().saturating_sub(self.at)
    }

    /// A LEB128 number below 2^32.
    pub fn n(&mut self) -> Read<usize> {
        let mut v = 0u64;
        for shift in 0..5 {
            let &b = self.bytes.get(self.at).ok_or("the section ends early")?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << (7 * shift);
            if b & 0x80 == 0 {
                return u32::try_from(v)
                    .map(|v| v as usize)
                    .map_err(|_| "a number above 32 bits");
            }
        }
        Err("a number longer than 5 bytes")
    }

    /// A count of items of at least `size` bytes each that fit in what is left.
    pub fn count(&mut self, size: usize) -> Read<usize> {
        let k = self.n()?;
        if k.saturating_mul(size) > self.left() {
            return Err("a count beyond the section's end");
        }
        Ok(k)
    }

    pub fn f(&mut self) -> Read<f32> {
        let b = self
            .bytes
            .get(self.at..self.at + 4)
            .ok_or("the section ends early")?;
        self.at += 4;
        Ok(f32::from_bits(
            b.iter().rev().fold(0, |v, &x| (v << 8) | u32::from(x)),
        ))
    }

    pub fn fs(&mut self) -> Read<Vec<f32>> {
        let k = self.count(4)?;
        let mut v = Vec::with_capacity(k);
        for _ in 0..k {
            v.push(self.f()?);
        }
        Ok(v)
    }

    pub fn text(&mut self) -> Read<String> {
        let k = self.count(1)?;
        let b = self
            .bytes
            .get(self.at..self.at + k)
            .ok_or("the section ends early")?;
        self.at += k;
        String::from_utf8(b.to_vec()).map_err(|_| "a text that is not UTF-8")
    }

    fn u32(&mut self) -> Read<u32> {
        self.n().map(|v| v as u32)
    }

    pub fn inputs(&mut self) -> Read<SeqInputs> {
        let name = self.text()?;
        let unit = self.text()?;
        let steps = self.count(1)?;
        let channels = self.count(1)?;
        let mut hc = Vec::with_capacity(channels);
        for _ in 0..channels {
            let name = self.text()?;
            if steps > self.left() {
                return Err("more steps than bytes");
            }
            let mut features = Vec::with_capacity(steps);
            for _ in 0..steps {
                features.push(self.u32()?);
            }
            let input = match self.n()? {
                0 => ChannelInput::Numeric {
                    mean: self.f()?,
                    std: self.f()?,
                },
                1 => {
                    let k = self.count(1)?;
                    let mut categories = Vec::with_capacity(k);
                    for _ in 0..k {
                        categories.push(self.text()?);
                    }
                    ChannelInput::Categorical { categories }
                }
                _ => return Err("a channel type that is not 0 or 1"),
            };
            hc.push(Channel {
                name,
                features,
                input,
            });
        }
        let k = self.count(2)?;
        let mut statics = Vec::with_capacity(k);
        for _ in 0..k {
            let feature = self.u32()?;
            let scale = match self.n()? {
                0 => None,
                1 => Some((self.f()?, self.f()?)),
                _ => return Err("a static type that is not 0 or 1"),
            };
            statics.push(Static { feature, scale });
        }
        Ok(SeqInputs::unbound(
            History {
                name,
                unit,
                steps: steps as u32,
                channels: hc,
            },
            statics,
        ))
    }

    pub fn head(&mut self) -> Read<Head> {
        Ok(Head {
            w1: self.fs()?,
            b1: self.fs()?,
            w2: self.fs()?,
            b2: self.f()?,
        })
    }

    pub fn end(&self) -> Read<()> {
        if self.left() != 0 {
            return Err("unexpected bytes after the model");
        }
        Ok(())
    }
}

/// Section wire of the sequence kinds: one byte string decoded by hand
/// (a serde struct decoder costs the wasm bundle more).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct SeqWire(#[serde(deserialize_with = "crate::format::bounded::vec")] pub Vec<u8>);

/// The explanation method of the sequence kinds.
pub const METHOD: &str = "Shapley values of the statics and of each step of the history (all its channels together) against training centroids (every coalition for few players, else antithetic permutations seeded by the customer)";

/// Sampling pairs against the mean row for files without a background set.
const LEGACY_PAIRS: u32 = 16;

/// Checks the inputs against the file's schema and resolves them: the
/// design row must hold raw numbers (no scaling).
pub(crate) fn check_design(inputs: &SeqInputs, d: &crate::kinds::Design<'_>) -> Result<(), String> {
    if d.schema.encoding.scale {
        return Err("a sequence model reads unscaled numbers: the schema must not scale".into());
    }
    inputs.bind(d.schema)
}

/// Cost of [`SeqInputs::inputs`].
pub(crate) fn inputs_cost(inputs: &SeqInputs) -> u64 {
    let t = inputs.steps() as u64;
    let c = inputs.input_channels() as u64;
    let cells: u64 = inputs.bound().map_or(0, |b| {
        b.cells
            .iter()
            .flatten()
            .map(|c| 1 + c.map.len() as u64)
            .sum()
    });
    t * (c + 1) + cells + 2 * inputs.static_inputs() as u64
}

/// Shapley values of the players of [`SeqInputs::players`] (see
/// [`crate::kinds::model_agnostic`], of which this is the version with
/// several design ranges per player).
pub(crate) fn explain(
    inputs: &SeqInputs,
    d: &crate::kinds::Design<'_>,
    x: &[f32],
    (scale, offset): (f64, f64),
    predict: u64,
    eval: &mut crate::explain::shapley::Eval<'_>,
) -> crate::kinds::Attribution {
    use crate::explain::shapley::{self, BackgroundSet, Players};
    let players = inputs.players();
    let mean;
    let set = match d.background_set {
        Some(set) => set,
        None => {
            mean = BackgroundSet {
                rows: d.background.to_vec(),
                weights: vec![1.0],
            };
            &mean
        }
    };
    let game = shapley::Game {
        x,
        set,
        groups: Players::Sets(players),
        scale,
        offset,
    };
    let call = crate::kinds::coalition_cost(d, predict);
    let e = match d.background_set {
        Some(set) => shapley::explain(&game, shapley::plan(players.len(), set.len(), call), eval),
        None => shapley::legacy(&game, LEGACY_PAIRS, eval),
    };
    crate::kinds::Attribution {
        base: e.base,
        per: crate::kinds::PerPlayer::Players(e.phi),
        convergence: e.convergence,
    }
}

/// Cost of [`explain`].
pub(crate) fn explain_cost(inputs: &SeqInputs, d: &crate::kinds::Design<'_>, predict: u64) -> u64 {
    use crate::explain::shapley;
    let p = inputs.players().len();
    let call = crate::kinds::coalition_cost(d, predict);
    match d.background_set {
        Some(set) => {
            let plan = shapley::plan(p, set.len(), call);
            call.saturating_mul(shapley::evaluations(plan, p, set.len()))
        }
        None => call.saturating_mul((2 * LEGACY_PAIRS as u64).saturating_mul(p as u64 + 1) + 1),
    }
}

/// "history 'history': 12 months of status, balance".
pub(crate) fn describe(inputs: &SeqInputs) -> String {
    let h = &inputs.history;
    let mut names = String::new();
    for (i, c) in h.channels.iter().enumerate() {
        if i > 0 {
            names.push_str(", ");
        }
        names.push_str(&c.name);
    }
    format!("history '{}': {} {}s of {names}", h.name, h.steps, h.unit)
}
