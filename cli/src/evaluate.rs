//! `ferrisk evaluate`: score a labelled CSV and print its metrics.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use ferrisk::views::MetricsView;
use indicatif::ProgressBar;

use crate::common::{load_model, print_metrics};

#[derive(Args)]
pub struct EvaluateArgs {
    /// Model file (.frk).
    #[arg(long, value_name = "FILE.frk")]
    pub model: PathBuf,
    /// Labelled CSV with every model feature and the label column.
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// Print the metrics as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn evaluate(a: EvaluateArgs) -> Result<ExitCode> {
    let scorer = load_model(&a.model)?;
    let text = std::fs::read_to_string(&a.data)
        .with_context(|| format!("{}: cannot read", a.data.display()))?;
    let size = text.len() as u64;
    let bar = ProgressBar::new(size);
    let m = scorer
        .evaluate_csv(&text, |rows| bar.set_message(format!("{rows} rows")))
        .with_context(|| format!("{}", a.data.display()))?;
    bar.finish_and_clear();
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&MetricsView::new(&m))?);
    } else {
        print_metrics(
            &format!("{} on {}", scorer.bundle().algorithm.name, a.data.display()),
            &m,
            None,
        );
    }
    Ok(ExitCode::SUCCESS)
}
