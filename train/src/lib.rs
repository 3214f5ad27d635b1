//! ferrisk training library: data loading and schema inference, fitting the
//! preprocessing, the model trainers, and the training pipeline that exports
//! a model file and evaluates it through the runtime scorer. The `ferrisk`
//! binary (main.rs) is a thin CLI over this.

pub mod algo;
pub mod background;
pub mod bins;
pub mod calibrate;
pub mod data;
pub mod fairness;
pub mod history;
pub mod import;
pub mod interrupt;
pub mod models;
pub mod nn;
pub mod pipeline;
pub mod prep;
pub mod reproducible;
pub mod split;
pub mod stats;
pub mod synth;
pub mod synth_history;
pub mod table;
pub mod weights;
