//! `ferrisk`: train, evaluate, predict, explain, inspect and serve
//! credit-risk models. One module per verb; the training library is
//! `ferrisk_train`, the service `ferrisk_serve` (which depends on the
//! runtime only), and every result printed as JSON is a `ferrisk::views`
//! struct, the shapes the service and the wasm bindings return too.

/// `println!` that ignores a closed stdout (e.g. `ferrisk inspect m.frk | head`)
/// instead of panicking.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

mod common;
mod evaluate;
mod explain;
mod import;
mod inspect;
mod predict;
mod replay;
mod sign;
mod synth;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ferrisk_train::models::KindParams;

#[derive(Parser)]
#[command(
    name = "ferrisk",
    version,
    about = "Train credit-risk models on a labelled CSV and score them anywhere (CLI, HTTP, browser).",
    long_about = "Train credit-risk models on a labelled CSV and score them anywhere.\n\n\
        A model file (.frk) carries the schema, the preprocessing fitted on the training split, the model, \
        its calibration, decision threshold, test metrics and provenance. The same runtime scores it here, \
        in `ferrisk serve`, and in the browser (WebAssembly), with identical results.\n\n\
        Typical session:\n  \
        ferrisk train --data german_credit.csv --label creditability --positive bad --model all --cv 5 --out models/\n  \
        ferrisk inspect models/rf.frk\n  \
        ferrisk evaluate --model models/rf.frk --data holdout.csv\n  \
        ferrisk predict --model models/rf.frk --data applicants.csv --out scored.csv"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train one model kind, or all, and write .frk model files.
    Train(Box<train::TrainArgs>),
    /// Score a labelled CSV with a model and print its metrics.
    Evaluate(evaluate::EvaluateArgs),
    /// Score every row of a CSV; write the rows with probability and decision.
    Predict(predict::PredictArgs),
    /// Explain one customer's score: contributions, reasons, points.
    Explain(explain::ExplainArgs),
    /// Import an XGBoost (JSON) or LightGBM (text) model as a model file.
    Import(import::ImportArgs),
    /// Re-score a decision record with the customer's inputs; confirm it bit
    /// for bit or say what differs (exit 1).
    Replay(replay::ReplayArgs),
    /// Describe a model file: schema, model, metrics, provenance.
    Inspect(inspect::InspectArgs),
    /// Write a synthetic labelled customer CSV (for machines without real data).
    Synth(synth::SynthArgs),
    /// List the model kinds `train --model` accepts: id and name, one per line
    /// (and `history` for the kinds that need --sequence).
    Kinds,
    /// Serve the advisor page, the model files and a JSON /predict API.
    Serve(ferrisk_serve::ServeArgs),
    /// Make an Ed25519 signing key: a secret key file and its public key file.
    Keygen(sign::KeygenArgs),
    /// Sign a model file: approval note, optional expiry, key id.
    Sign(sign::SignArgs),
    /// Check model files' signatures against trusted public keys.
    Verify(sign::VerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => train::train(*a),
        Command::Evaluate(a) => evaluate::evaluate(a),
        Command::Predict(a) => predict::predict(a),
        Command::Explain(a) => explain::explain(a),
        Command::Import(a) => import::import(a),
        Command::Replay(a) => replay::replay(a),
        Command::Inspect(a) => inspect::inspect(a),
        Command::Synth(a) => synth::synth_cmd(a),
        Command::Kinds => {
            // A third field marks the kinds that need a history (--sequence).
            for k in KindParams::default().all() {
                if k.needs_history() {
                    outln!("{}\t{}\thistory", k.id(), k.name());
                } else {
                    outln!("{}\t{}", k.id(), k.name());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(a) => ferrisk_serve::run(a).map(|()| ExitCode::SUCCESS),
        Command::Keygen(a) => sign::keygen(a),
        Command::Sign(a) => sign::sign(a),
        Command::Verify(a) => sign::verify(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", common::error_text(&e));
            ExitCode::from(2)
        }
    }
}
