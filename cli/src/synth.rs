//! `ferrisk synth`: a synthetic labelled customer table.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use ferrisk_train::synth;

#[derive(Args)]
pub struct SynthArgs {
    /// Number of customers.
    #[arg(long, default_value_t = 2000)]
    pub rows: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Output CSV path.
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
}

pub fn synth_cmd(a: SynthArgs) -> Result<ExitCode> {
    if a.rows == 0 {
        bail!("--rows must be at least 1");
    }
    let text = synth::generate(a.rows, a.seed);
    std::fs::write(&a.out, text).with_context(|| format!("{}: cannot write", a.out.display()))?;
    eprintln!(
        "wrote {} synthetic customers to {} (label '{}', positive class '{}')",
        a.rows,
        a.out.display(),
        synth::LABEL,
        synth::POSITIVE
    );
    Ok(ExitCode::SUCCESS)
}
