//! `ferrisk evaluate`: score a labelled CSV and print its metrics.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use ferrisk::views::MetricsView;
use ferrisk::CsvError;
use indicatif::ProgressBar;

use crate::common::{flatten, print_metrics};

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
    #[command(flatten)]
    pub trust: crate::sign::TrustArgs,
}

pub fn evaluate(a: EvaluateArgs) -> Result<ExitCode> {
    run(a).map_err(flatten)
}

fn run(a: EvaluateArgs) -> Result<ExitCode> {
    let scorer = crate::sign::load_model(&a.model, &a.trust)?;
    let bytes =
        std::fs::read(&a.data).with_context(|| format!("{}: cannot read", a.data.display()))?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            // The reader's own error, on the line of the first bad byte.
            let bytes = e.as_bytes();
            let end = e.utf8_error().valid_up_to().min(bytes.len());
            let line = 1 + bytes[..end].iter().filter(|&&b| b == b'\n').count();
            bail!("{}: {}", a.data.display(), CsvError::InvalidUtf8 { line });
        }
    };
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
