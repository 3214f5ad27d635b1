//! `ferrisk synth`: a synthetic labelled customer table.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use ferrisk_train::{synth, synth_history};

#[derive(Args)]
pub struct SynthArgs {
    /// Number of customers.
    #[arg(long, default_value_t = 2000)]
    pub rows: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Add a monthly repayment history of this many months (1 to 36):
    /// columns status_mA (months in arrears), balance_mA and paid_mA, where
    /// A is the month's age (1 = last month), oldest first. The history
    /// table has its own static columns (frozen generator, version
    /// printed); the flat table without it is unchanged.
    #[arg(long, value_name = "MONTHS")]
    pub histories: Option<usize>,
    /// With --histories: this many extra numeric static columns x1, x2, ...
    /// (noise, the first with a trace of signal), to test wider tables.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub extra_static: usize,
    /// With --histories: also write a schema file naming the history's
    /// channels (`ferrisk train --schema FILE.json` then trains gru and tcn).
    #[arg(long, value_name = "FILE.json")]
    pub schema_out: Option<PathBuf>,
    /// Output CSV path.
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
}

pub fn synth_cmd(a: SynthArgs) -> Result<ExitCode> {
    if a.rows == 0 {
        bail!("--rows must be at least 1");
    }
    if let Some(months) = a.histories {
        if !(1..=synth_history::MAX_MONTHS).contains(&months) {
            bail!(
                "--histories must be in 1..={} months, got {months}",
                synth_history::MAX_MONTHS
            );
        }
        if a.extra_static > synth_history::MAX_EXTRA {
            bail!(
                "--extra-static must be at most {}, got {}",
                synth_history::MAX_EXTRA,
                a.extra_static
            );
        }
        let text = synth_history::generate(a.rows, months, a.extra_static, a.seed);
        std::fs::write(&a.out, text)
            .with_context(|| format!("{}: cannot write", a.out.display()))?;
        eprintln!(
            "wrote {} synthetic customers with {months}-month repayment histories to {} \
             (history generator version {}; label '{}', positive class '{}')",
            a.rows,
            a.out.display(),
            synth_history::VERSION,
            synth_history::LABEL,
            synth_history::POSITIVE
        );
        eprintln!("their sequences, oldest month first (ferrisk train flags):");
        for s in synth_history::sequence_args(months) {
            eprintln!("  --sequence {s}");
        }
        if let Some(path) = &a.schema_out {
            let channels: Vec<serde_json::Value> = synth_history::CHANNELS
                .iter()
                .map(|c| {
                    let cols: Vec<String> = (1..=months)
                        .rev()
                        .map(|age| synth_history::column(c, age))
                        .collect();
                    serde_json::json!({"name": c, "columns": cols})
                })
                .collect();
            let schema = serde_json::json!({
                "history": {"name": "history", "unit": "month", "channels": channels}
            });
            let text = serde_json::to_string_pretty(&schema)? + "\n";
            std::fs::write(path, text)
                .with_context(|| format!("{}: cannot write", path.display()))?;
            eprintln!(
                "wrote the schema file {} (its \"history\"; ferrisk train --schema {})",
                path.display(),
                path.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if a.extra_static > 0 {
        bail!("--extra-static applies to --histories tables only");
    }
    if a.schema_out.is_some() {
        bail!("--schema-out applies to --histories tables only");
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
