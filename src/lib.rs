//! # ferrisk runtime
//!
//! Loads a ferrisk model file and scores, explains and evaluates customers.
//! This crate is what the WebAssembly bundle links: it holds the file format,
//! the preprocessing, model inference, explanations, metrics and a CSV reader,
//! and nothing used only for training (no random numbers, no fitting code,
//! no CSV writing, no autodiff).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ferrisk::{RawValue, Scorer};
//! let bytes = std::fs::read("models/lr.frk")?;
//! let scorer = Scorer::from_bytes(&bytes)?;
//! let p = scorer.predict([("age_in_years", RawValue::Number(35.0)),
//!                         ("purpose", RawValue::Text("car (new)"))])?;
//! println!("P(bad) = {:.3}, decline = {}", p.probability, p.decision);
//! # Ok(()) }
//! ```

pub mod batch;
pub mod bundle;
pub mod calibration;
pub mod credit;
pub mod csv;
pub mod drift;
pub mod error;
pub mod explain;
pub mod format;
pub mod governance;
pub mod kinds;
pub mod metrics;
pub mod num;
pub mod policy;
pub mod record;
pub mod schema;
pub mod scorer;
pub mod sequence;
pub mod session;
pub mod signature;
pub mod views;

pub use bundle::{Algorithm, Bundle, CvReport, Metadata, TrainingReport};
pub use calibration::Calibration;
pub use error::{CsvError, EvalError, FormatError, ScoreError};
pub use explain::{Contribution, Explanation, Unit};
pub use kinds::{Kind, Model};
pub use metrics::Metrics;
pub use schema::{RawValue, Schema, Value, Warning};
pub use scorer::{Prediction, RowScore, RowScorer, ScoreOptions, Scored, Scorer};
pub use sequence::{Channel, ChannelInput, Head, History, Net, SeqInputs, Static};
