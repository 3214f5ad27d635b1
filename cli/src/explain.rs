//! `ferrisk explain`: one customer's score, explanation, reasons and points.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use ferrisk::views::ScoredView;
use ferrisk::ScoreOptions;

#[derive(Args)]
pub struct ExplainArgs {
    /// Model file (.frk).
    #[arg(long, value_name = "FILE.frk")]
    pub model: PathBuf,
    /// The customer as JSON: {"feature": value, ...} (numbers, strings, null).
    #[arg(long, value_name = "JSON")]
    pub customer: String,
    /// Number of reasons (features that pushed towards the positive class).
    #[arg(long, default_value_t = ferrisk::credit::DEFAULT_REASONS)]
    pub reasons: usize,
    /// Language of the reason texts (en, zh).
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Principal reasons also for an approved customer (by default they are
    /// given for refusals only: reason codes are owed for adverse decisions).
    #[arg(long)]
    pub all_reasons: bool,
    /// Print JSON (the shape the service's /predict and the wasm score() return).
    #[arg(long)]
    pub json: bool,
    /// Attach a decision record (`ferrisk replay` reproduces it); with
    /// --json it is the `record` field, else it is printed as JSON.
    #[arg(long)]
    pub record: bool,
    #[command(flatten)]
    pub trust: crate::sign::TrustArgs,
}

pub fn explain(a: ExplainArgs) -> Result<ExitCode> {
    let scorer = crate::sign::load_model(&a.model, &a.trust)?;
    let v: serde_json::Value =
        serde_json::from_str(&a.customer).context("--customer is not valid JSON")?;
    let fields = ferrisk_serve::customer_fields(&v).map_err(|e| anyhow!("--customer: {e}"))?;
    let mut rows = scorer.rows(ScoreOptions {
        explain: true,
        reasons: a.reasons,
        reasons_always: a.all_reasons,
        lang: a.lang.clone(),
        drift: false,
        record: a.record,
    });
    let s = rows.score_fields(fields.iter().cloned())?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&ScoredView::from(&s))?);
        return Ok(ExitCode::SUCCESS);
    }
    let (p, b) = (&s.prediction, scorer.bundle());
    let e = s
        .explanation
        .as_ref()
        .ok_or_else(|| anyhow!("no explanation was computed"))?;
    outln!(
        "P({}) = {:.4}   decision: {} (threshold {})   score: {:.0} points",
        b.schema.positive,
        p.probability,
        if p.decision {
            &b.schema.positive
        } else {
            &b.schema.negative
        },
        p.threshold,
        s.points
    );
    for w in &p.warnings {
        outln!("  warning: {w}");
    }
    outln!(
        "\n{} — base value {:.4} ({})",
        e.method,
        e.base,
        e.unit.id()
    );
    let mut order: Vec<usize> = (0..e.contributions.len()).collect();
    order.sort_by(|&i, &j| {
        e.contributions[j]
            .contribution
            .abs()
            .total_cmp(&e.contributions[i].contribution.abs())
    });
    for c in order.iter().filter_map(|&i| e.contributions.get(i)) {
        outln!("  {:>+9.4}  {:<44} {}", c.contribution, c.feature, c.value);
    }
    if !s.reasons.is_empty() {
        outln!("\nprincipal reasons:");
        for r in &s.reasons {
            outln!("  {}. {} ({:+.0} points)", r.rank, r.text, r.points);
        }
    }
    if let Some(r) = &s.record {
        outln!("\ndecision record:\n{}", serde_json::to_string(r)?);
    }
    Ok(ExitCode::SUCCESS)
}
