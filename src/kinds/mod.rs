//! Model kinds: one module per kind of decision function, each implementing
//! [`Kind`], and the one registry ([`registry!`] below) that lists them.
//!
//! A *kind* is what the runtime scores: a linear function, an RBF kernel
//! expansion, a tree ensemble, an attention network, a stump. The training
//! *algorithm* that produced it (logistic regression vs. a linear SVM, a
//! forest vs. boosting, an imported XGBoost model) is provenance, stored in
//! the file as [`crate::Algorithm`]; several algorithms share one kind.
//!
//! Everything the rest of the runtime does with a model goes through the
//! trait: validation at load, the output for one row and for a block of
//! rows, the explanation, the wire form of its section in the model file,
//! and its description. The registry turns the list of kinds into the
//! [`Model`] enum and its dispatch, so adding a kind is its module plus one
//! line there (see ARCHITECTURE.md, "Adding a model kind").
//!
//! Why an enum generated from a list rather than `Box<dyn Kind>`: the
//! scoring loops stay statically dispatched (and inlinable in the wasm
//! build), `Model` keeps `Clone`/`PartialEq`/`Debug`, and decoding a model
//! section by its tag is a match the compiler checks.
//!
//! These are the project's own types (never a training library's structs),
//! all `f32`, and every arithmetic step is written out in a fixed order with
//! `libm`'s portable functions, so the native and the wasm scorer agree bit
//! for bit.

pub mod attention;
#[cfg(test)]
mod block_tests;
pub mod forest;
pub mod gru;
pub mod kernel_svm;
pub mod linear;
pub mod stump;
pub mod tcn;
pub mod trees;
pub mod trees_cat;

pub use attention::Attention;
pub use forest::Forest;
pub use gru::{Gru, GruLayer};
pub use kernel_svm::KernelSvm;
pub use linear::Linear;
pub use stump::Stump;
pub use tcn::{ConvLayer, Tcn};
pub use trees::{CatSplit, Node, Tree, TreeEnsemble, LEAF};
pub use trees_cat::CatTrees;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{FormatError, ScoreError};
use crate::explain::shapley::{self, BackgroundSet};
use crate::format::wire::Wire;
use crate::schema::Schema;

/// What a kind's raw output is, which decides the calibrations that fit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A probability of the positive class already (a forest's average of
    /// leaf probabilities); calibrated by [`crate::Calibration::Identity`].
    Probability,
    /// A real-valued score (log-odds or an SVM decision value); turned into
    /// a probability by [`crate::Calibration::Logistic`] or `Platt`.
    Score,
}

/// What a kind sees of the model file around it.
#[derive(Debug, Clone, Copy)]
pub struct Design<'a> {
    pub schema: &'a Schema,
    /// Design width (`schema.width()`).
    pub width: usize,
    /// Mean design row over the training split.
    pub background: &'a [f32],
    /// Design-column ranges of each original feature, schema order.
    pub groups: &'a [(usize, usize)],
    /// The file's explanation background, when it has one.
    pub background_set: Option<&'a BackgroundSet>,
}

/// An explanation in the model's output unit after the affine map the
/// caller asks for (`scale · output + offset`, e.g. to log-odds).
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    /// Expected output under the kind's reference distribution.
    pub base: f64,
    pub per: PerPlayer,
    /// Sampled explanations: the largest estimated standard error of a
    /// contribution relative to the sum of their absolute values. `None`
    /// for exact methods.
    pub convergence: Option<f64>,
}

/// Contributions either per design column (folded back to the original
/// features by the caller: one-hot columns add up) or per original feature.
#[derive(Debug, Clone, PartialEq)]
pub enum PerPlayer {
    Columns(Vec<f64>),
    Features(Vec<f64>),
    /// A sequence kind's players: its statics (schema order), then the
    /// steps of its history, oldest first ([`crate::sequence`]).
    Players(Vec<f64>),
}

/// What one prediction and one explanation cost, in units of roughly one
/// multiply-add (an `expf` counts as [`EXP_COST`]). Computed from the file
/// at load, so a file cannot make scoring or explaining run away: a model
/// over [`PREDICT_BUDGET`] is refused at load, and an explanation over
/// [`EXPLAIN_BUDGET`] is refused with the figure (the model still scores).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub predict: u64,
    pub explain: u64,
}

/// Units charged for one `expf`.
pub const EXP_COST: u64 = 20;
/// Largest cost of one prediction a file may declare. Measured natively
/// (`cargo bench --bench hostile`) a unit is ≈ 0.08 ns, so this is ≈ 4 ms;
/// the trainer's default models cost 10¹–10⁶.
pub const PREDICT_BUDGET: u64 = 50_000_000;
/// Largest cost of one explanation: ≈ 85 ms natively. The trainer's
/// default models on the shared datasets cost at most ≈ 4·10⁸ (the RBF SVM
/// and the attention model on Bank Marketing).
pub const EXPLAIN_BUDGET: u64 = 1_000_000_000;

/// Cost of a model-agnostic Shapley explanation ([`model_agnostic`]) when
/// one model call costs `predict`.
#[inline(never)]
pub(crate) fn shapley_cost(d: &Design<'_>, predict: u64, legacy_pairs: u32, players: usize) -> u64 {
    match d.background_set {
        Some(set) => {
            let call = coalition_cost(d, predict);
            let plan = shapley::plan(players, set.len(), call);
            call.saturating_mul(shapley::evaluations(plan, players, set.len()))
        }
        // The legacy sampler: 2·pairs permutations of `players` calls, + 1.
        None => {
            predict.saturating_mul((2 * legacy_pairs as u64).saturating_mul(players as u64 + 1) + 1)
        }
    }
}

/// Cost of one coalition's model call against a background set: the call
/// and building its row (a copy of the design width).
pub fn coalition_cost(d: &Design<'_>, predict: u64) -> u64 {
    predict.saturating_add(d.width as u64)
}

/// Model-agnostic Shapley values for kinds without an exact method (see
/// [`shapley`]): against the file's background set, exact or sampled as
/// [`shapley::plan`] decides for a model call costing `predict`; for files
/// without one, [`shapley::legacy`] with `legacy_pairs` against the mean
/// row. `eval` scores a block of rows (the kind's [`Kind::outputs`]).
pub(crate) fn model_agnostic(
    d: &Design<'_>,
    x: &[f32],
    (scale, offset): (f64, f64),
    predict: u64,
    legacy_pairs: u32,
    groups: shapley::Players<'_>,
    eval: &mut shapley::Eval<'_>,
) -> Attribution {
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
        groups,
        scale,
        offset,
    };
    let e = match d.background_set {
        Some(set) => shapley::explain(
            &game,
            shapley::plan(groups.len(), set.len(), coalition_cost(d, predict)),
            eval,
        ),
        None => shapley::legacy(&game, legacy_pairs, eval),
    };
    Attribution {
        base: e.base,
        per: if groups.has_groups() {
            PerPlayer::Players(e.phi)
        } else {
            PerPlayer::Features(e.phi)
        },
        convergence: e.convergence,
    }
}

/// One kind of model. See the module documentation.
pub trait Kind: Sized {
    /// Stable tag of this kind's model section in a model file (format v3).
    /// Never renamed and never reused for another layout.
    const TAG: &'static str;
    /// Wire struct of the section (postcard). Frozen once released: a new
    /// layout is a new tag.
    type Wire: Serialize + DeserializeOwned;
    /// True for the kinds format v1/v2 already stored in their model slot
    /// (linear, kernel SVM, trees, attention): files keep them there so older
    /// readers load them, so a reader never meets their sections and does
    /// not carry (in the wasm bundle) the code to decode one.
    const IN_LEGACY_SLOT: bool = false;

    fn to_wire(&self) -> Self::Wire;
    /// Converts a decoded wire struct; [`Kind::validate`] runs after it.
    fn from_wire(wire: Self::Wire) -> Result<Self, String>;

    /// Decodes the section's bytes. The default reads [`Kind::Wire`] with
    /// serde (postcard) and converts it; a kind may read its frozen wire by
    /// hand instead (`read_section`: smaller in the wasm bundle), tested
    /// equal to the default.
    fn decode(body: &[u8]) -> Result<Self, FormatError> {
        decode_wire::<Self>(body)
    }

    /// Checks everything scoring and explaining rely on (sizes, indices,
    /// finite values, shapes against the schema), so that neither can panic,
    /// loop or return NaN on a file that loaded.
    fn validate(&self, design: &Design<'_>) -> Result<(), String>;

    /// What [`Kind::output`] returns.
    fn output_kind(&self) -> Output;

    /// Raw output for one design row (width checked by the caller).
    fn output(&self, x: &[f32]) -> f32;

    /// Outputs for the rows of `xs` (row-major, `width` values each), one
    /// per entry of `out`; `xs` holds exactly `out.len()` rows. Must give
    /// exactly the bits of [`Kind::output`] for each row.
    fn outputs(&self, xs: &[f32], width: usize, out: &mut [f32]) {
        for (x, o) in xs.chunks_exact(width).zip(out) {
            *o = self.output(x);
        }
    }

    /// Contributions of the customer's design row `x` to `scale · output +
    /// offset`, with the base value; additive: `base + Σ = scale·output(x) + offset`.
    fn explain(&self, design: &Design<'_>, x: &[f32], scale: f64, offset: f64) -> Attribution;

    /// The explanation method, for people (`inspect`, the page).
    fn method(&self) -> &'static str;

    /// One line describing the fitted model (`inspect`).
    fn summary(&self) -> String;

    /// Cost of one prediction and one explanation (see [`Cost`]); called
    /// after [`Kind::validate`] succeeded.
    fn cost(&self, design: &Design<'_>) -> Cost;

    /// True when the model stores rows derived from training customers.
    fn embeds_training_rows(&self) -> bool {
        false
    }

    /// True when [`Kind::explain`] uses the file's explanation background
    /// ([`Design::background_set`]), so the trainer stores one.
    fn uses_background_set(&self) -> bool {
        false
    }

    /// The explanation method of files with an explanation background.
    fn background_method(&self) -> &'static str {
        "Shapley values against training centroids (every coalition for few features, else antithetic permutations seeded by the customer)"
    }

    /// True when a missing numeric value (NaN in the design row) is part of
    /// the model's input domain (trees route it down a learned branch);
    /// otherwise the schema must impute every numeric feature.
    fn takes_missing(&self) -> bool {
        false
    }
}

/// Declares the kinds: generates [`Model`] (one variant per kind), the
/// dispatch of every [`Kind`] method, `From<K> for Model`, and decoding a
/// model section by its tag.
macro_rules! registry {
    ($($variant:ident => $ty:ty),+ $(,)?) => {
        /// A model of any registered kind.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Model {
            $($variant(Box<$ty>),)+
        }

        $(impl From<$ty> for Model {
            fn from(m: $ty) -> Model {
                Model::$variant(Box::new(m))
            }
        })+

        /// Section tags of every registered kind, in registry order.
        pub const TAGS: &[&str] = &[$(<$ty as Kind>::TAG),+];

        impl Model {
            /// The kind's section tag.
            pub fn tag(&self) -> &'static str {
                match self { $(Model::$variant(_) => <$ty as Kind>::TAG,)+ }
            }

            pub fn validate(&self, design: &Design<'_>) -> Result<(), String> {
                match self { $(Model::$variant(m) => m.validate(design),)+ }
            }

            pub fn output_kind(&self) -> Output {
                match self { $(Model::$variant(m) => m.output_kind(),)+ }
            }

            /// Raw output for one design row (see [`Kind::output`]).
            pub fn output(&self, x: &[f32]) -> f32 {
                match self { $(Model::$variant(m) => m.output(x),)+ }
            }

            /// Outputs of the rows of `xs` into `out`; `min(out.len(),
            /// xs.len() / width)` rows are scored, bit-identical to
            /// [`Model::output`] row by row.
            pub fn outputs(&self, xs: &[f32], width: usize, out: &mut [f32]) {
                if width == 0 {
                    out.fill(self.output(&[]));
                    return;
                }
                let rows = out.len().min(xs.len() / width);
                let (Some(xs), Some(out)) = (xs.get(..rows * width), out.get_mut(..rows)) else {
                    return;
                };
                match self { $(Model::$variant(m) => m.outputs(xs, width, out),)+ }
            }

            pub fn explain(&self, design: &Design<'_>, x: &[f32], scale: f64, offset: f64) -> Attribution {
                match self { $(Model::$variant(m) => m.explain(design, x, scale, offset),)+ }
            }

            pub fn method(&self) -> &'static str {
                match self { $(Model::$variant(m) => m.method(),)+ }
            }

            pub fn summary(&self) -> String {
                match self { $(Model::$variant(m) => m.summary(),)+ }
            }

            pub fn cost(&self, design: &Design<'_>) -> Cost {
                match self { $(Model::$variant(m) => m.cost(design),)+ }
            }

            pub fn embeds_training_rows(&self) -> bool {
                match self { $(Model::$variant(m) => m.embeds_training_rows(),)+ }
            }

            pub fn uses_background_set(&self) -> bool {
                match self { $(Model::$variant(m) => m.uses_background_set(),)+ }
            }

            pub fn background_method(&self) -> &'static str {
                match self { $(Model::$variant(m) => m.background_method(),)+ }
            }

            pub fn takes_missing(&self) -> bool {
                match self { $(Model::$variant(m) => m.takes_missing(),)+ }
            }

            /// The model's section: tag and postcard bytes of its wire struct.
            pub fn encode_section(&self) -> Result<(&'static str, Vec<u8>), FormatError> {
                match self { $(Model::$variant(m) => Ok((<$ty as Kind>::TAG, encode_wire::<$ty>(m)?)),)+ }
            }

            /// Decodes a model section; `None` when no registered kind has `tag`.
            pub fn decode_section(tag: &str, body: &[u8]) -> Option<Result<Model, FormatError>> {
                $(if tag == <$ty as Kind>::TAG {
                    if <$ty as Kind>::IN_LEGACY_SLOT {
                        return Some(Err(FormatError::Invalid(format!(
                            "model section '{tag}': this kind is stored in the model slot, never in a section"
                        ))));
                    }
                    return Some(<$ty as Kind>::decode(body).map(Model::from));
                })+
                None
            }

            /// [`Model::decode_section`] through serde (the tests' reference).
            #[cfg(test)]
            pub(crate) fn decode_section_serde(tag: &str, body: &[u8]) -> Option<Result<Model, FormatError>> {
                $(if tag == <$ty as Kind>::TAG && !<$ty as Kind>::IN_LEGACY_SLOT {
                    return Some(decode_wire::<$ty>(body).map(Model::from));
                })+
                Model::decode_section(tag, body)
            }
        }
    };
}

// The registry: one line per kind. The order is the display order.
registry! {
    Linear => linear::Linear,
    KernelSvm => kernel_svm::KernelSvm,
    Trees => trees::TreeEnsemble,
    Attention => attention::Attention,
    Stump => stump::Stump,
    CatTrees => trees_cat::CatTrees,
    Forest => forest::Forest,
    Gru => gru::Gru,
    Tcn => tcn::Tcn,
}

fn encode_wire<K: Kind>(m: &K) -> Result<Vec<u8>, FormatError> {
    postcard::to_allocvec(&m.to_wire()).map_err(|e| FormatError::Encode(e.to_string()))
}

fn decode_wire<K: Kind>(body: &[u8]) -> Result<K, FormatError> {
    let (wire, rest) = postcard::take_from_bytes::<K::Wire>(body)
        .map_err(|e| FormatError::Decode(format!("model section '{}': {e}", K::TAG)))?;
    if !rest.is_empty() {
        return Err(FormatError::Decode(format!(
            "model section '{}': {} unexpected bytes after it",
            K::TAG,
            rest.len()
        )));
    }
    K::from_wire(wire).map_err(|e| FormatError::Invalid(format!("model section '{}': {e}", K::TAG)))
}

/// A kind's section read by hand with `read` (which reads the wire
/// struct's fields in order, [`crate::format::wire`]), then converted by
/// `make`; errors as [`Kind::decode`]'s default words them.
pub(crate) fn read_section<'a, K: Kind, T>(
    body: &'a [u8],
    read: impl FnOnce(&mut Wire<'a>) -> T,
    make: impl FnOnce(T) -> Result<K, String>,
) -> Result<K, FormatError> {
    let mut w = Wire::new(body);
    let wire = read(&mut w);
    w.end();
    w.check(&format!("model section '{}'", K::TAG))?;
    make(wire).map_err(|e| FormatError::Invalid(format!("model section '{}': {e}", K::TAG)))
}

impl Model {
    /// The attention network, when this is one (its `[CLS]` weights are an
    /// extra view the page shows).
    pub fn as_attention(&self) -> Option<&Attention> {
        match self {
            Model::Attention(a) => Some(a),
            _ => None,
        }
    }

    /// The history and statics of a sequence kind.
    pub fn sequence(&self) -> Option<&crate::sequence::SeqInputs> {
        match self {
            Model::Gru(m) => Some(&m.0.inputs),
            Model::Tcn(m) => Some(&m.0.inputs),
            _ => None,
        }
    }
}

/// Checks a design row before it reaches a model.
pub fn check_width(x: &[f32], width: usize) -> Result<(), ScoreError> {
    if x.len() != width {
        return Err(ScoreError::FeatureCount {
            expected: width,
            got: x.len(),
        });
    }
    Ok(())
}

/// Design-column ranges of each original feature.
pub fn groups(schema: &Schema) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(schema.features.len());
    let mut start = 0;
    for f in &schema.features {
        out.push((start, start + f.width()));
        start += f.width();
    }
    out
}

/// True when every value is finite; the error names the first that is not.
pub(crate) fn all_finite(what: &str, values: &[f32]) -> Result<(), String> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(format!("{what}[{i}] is not a finite number")),
    }
}
