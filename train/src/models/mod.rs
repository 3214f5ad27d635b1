//! The model kinds the trainer offers, one module each: its parameters
//! (with the `ferrisk train` flags declared next to them, flattened into
//! the command), how its design rows are encoded, and how it is fitted and
//! calibrated into a runtime model. The fitting algorithms themselves are
//! in [`crate::algo`]; the split, cross-validation, export and evaluation
//! that every kind shares are in [`crate::pipeline`].
//!
//! [`registry!`] lists the flag groups once; everything else (the CLI's
//! `--model` values and help, `ferrisk kinds`, `--model all`, the scripts
//! and tests that loop over kinds) iterates it.

pub mod attention;
pub mod gbm;
pub mod gru;
pub mod lr;
pub mod rf;
pub mod stump;
pub mod svm;
pub mod tcn;

use ferrisk::schema::{Encoding, Schema};
use ferrisk::{Calibration, Model};

use crate::bins::Matrix;
use crate::pipeline::Progress;

/// What a kind is fitted on.
pub struct FitInput<'a> {
    /// Design rows of the training split (encoded by the runtime's schema).
    pub x: &'a Matrix,
    pub y: &'a [bool],
    /// One sample weight per row (`x.rows` of them, each finite and > 0):
    /// a row of weight `w` counts as `w` rows. All 1 without class weights.
    pub weights: &'a [f32],
    pub schema: &'a Schema,
    pub seed: u64,
    /// Threads the trainer may use. Results never depend on it.
    pub threads: usize,
    pub progress: &'a dyn Progress,
    /// Monotone constraints (feature, +1 or -1): enforced by the kinds
    /// that can (gbm); the pipeline checks every kind's file.
    pub monotone: &'a [(String, i8)],
    /// The customer's history (`--sequence`): what the sequence kinds read;
    /// the flat kinds ignore it (its columns are plain features to them).
    pub history: Option<&'a crate::history::HistorySpec>,
    /// `--max-time`: the epoch-trained kinds stop each fit after this many
    /// seconds, keeping their best epoch so far.
    pub max_time: Option<f64>,
}

/// A fitted model with its calibration, and notes for the file's metadata.
pub struct Fitted {
    pub model: Model,
    pub calibration: Calibration,
    pub notes: Vec<String>,
}

/// One model kind of the trainer.
pub trait Trainer {
    /// Id on the command line and in file names (`gbm`).
    fn id(&self) -> &'static str;
    /// Display name (`gradient boosting`).
    fn name(&self) -> &'static str;
    /// How its design rows are built (scaling, numeric imputation).
    fn encoding(&self) -> Encoding;
    /// The parameters that shape it, `name = value`, for the file's metadata.
    fn params(&self) -> Vec<(String, String)>;
    /// Fits it on the training split.
    fn fit(&self, input: &FitInput<'_>) -> Result<Fitted, String>;
    /// Whether it reads the customer's history (`--sequence`) and cannot
    /// train without one (the sequence kinds).
    fn needs_history(&self) -> bool {
        false
    }
    /// Whether Ctrl-C and `--max-time` end its fit at the best epoch so far.
    fn stops_on_interrupt(&self) -> bool {
        false
    }
}

/// A group of `ferrisk train` flags and the kinds it parameterises (the
/// two SVM kinds share theirs).
pub trait Flags {
    fn trainers(&self) -> Vec<Box<dyn Trainer + '_>>;
}

/// Declares the flag groups: generates [`KindParams`] (every group
/// flattened, for `ferrisk train`) and the list of kinds.
macro_rules! registry {
    ($($field:ident: $group:ty),+ $(,)?) => {
        /// Every kind's parameters; `ferrisk train` flattens this.
        #[derive(clap::Args, Debug, Clone, Default)]
        pub struct KindParams {
            $(#[command(flatten)] pub $field: $group,)+
        }

        impl KindParams {
            /// Every kind, in registry order.
            pub fn all(&self) -> Vec<Box<dyn Trainer + '_>> {
                let mut out: Vec<Box<dyn Trainer + '_>> = Vec::new();
                $(out.extend(self.$field.trainers());)+
                out
            }
        }
    };
}

// The registry: one line per flag group.
registry! {
    lr: lr::Params,
    svm: svm::Params,
    rf: rf::Params,
    gbm: gbm::Params,
    attention: attention::Params,
    stump: stump::Params,
    gru: gru::Params,
    tcn: tcn::Params,
}

impl KindParams {
    /// The kind with this id.
    pub fn get(&self, id: &str) -> Option<Box<dyn Trainer + '_>> {
        self.all().into_iter().find(|t| t.id() == id)
    }

    /// Every kind's id, in registry order.
    pub fn ids() -> Vec<&'static str> {
        KindParams::default().all().iter().map(|t| t.id()).collect()
    }
}

/// `name = value` pairs.
pub(crate) fn kv(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}
