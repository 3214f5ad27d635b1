//! `ferrisk inspect`: describe a model file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use ferrisk::views::{MetricsView, SchemaView};

use crate::common::{file_version, flatten, print_metrics};

#[derive(Args)]
pub struct InspectArgs {
    /// Model file (.frk).
    pub model: PathBuf,
    /// Print everything as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub trust: crate::sign::TrustArgs,
}

pub fn inspect(a: InspectArgs) -> Result<ExitCode> {
    run(a).map_err(flatten)
}

fn run(a: InspectArgs) -> Result<ExitCode> {
    let scorer = crate::sign::load_model(&a.model, &a.trust)?;
    let b = scorer.bundle();
    if a.json {
        let v = InspectView {
            file: a.model.display().to_string(),
            metadata: ferrisk_serve::metadata_json(b, file_version(&a.model)),
            schema: SchemaView::new(b),
            metrics: MetricsView::report(b),
            model: b.model.summary(),
            model_sha256: scorer.model_sha256(),
            signature: crate::sign::info(&a.model, &a.trust),
        };
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let m = &b.metadata;
    outln!(
        "{}: {} (model file format v{})",
        a.model.display(),
        b.algorithm.name,
        file_version(&a.model)
    );
    let secs = m.created_unix % 86_400;
    outln!(
        "  produced by {} on {} {:02}:{:02}:{:02} UTC",
        m.producer,
        ferrisk::signature::format_date((m.created_unix / 86_400).min(u64::from(u32::MAX)) as u32),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    match &b.report {
        Some(r) => outln!(
            "  fitted on {} of the {} rows of {} (sha256 {}); evaluated on {}",
            r.train_rows,
            m.data_rows,
            m.data_name,
            m.data_sha256,
            b.decision.as_ref().map_or_else(
                || format!("{} held-out rows", r.test_rows),
                |d| d.evaluated_on.clone()
            )
        ),
        None => outln!(
            "  data {} ({} rows, sha256 {})",
            m.data_name,
            m.data_rows,
            m.data_sha256
        ),
    }
    outln!(
        "  label '{}': positive '{}', negative '{}'; threshold {}",
        b.schema.label,
        b.schema.positive,
        b.schema.negative,
        b.threshold
    );
    outln!("  model: {}", b.model.summary());
    outln!(
        "  model SHA-256 (of the body; decision records name the model by it): {}",
        scorer.model_sha256()
    );
    outln!("  signature: {}", crate::sign::describe(&a.model, &a.trust));
    outln!("  explanations: {}", ferrisk::explain::method(b));
    outln!(
        "  features ({}; {} design columns):",
        b.schema.features.len(),
        b.schema.width()
    );
    for f in &b.schema.features {
        match &f.kind {
            ferrisk::schema::FeatureKind::Numeric(n) => outln!(
                "    {:<40} numeric      range {} .. {}, median {}, missing {:.1}%",
                f.name,
                n.min,
                n.max,
                n.median,
                f.missing_rate * 100.0
            ),
            ferrisk::schema::FeatureKind::Categorical(c) => outln!(
                "    {:<40} categorical  {} categories, most frequent '{}'",
                f.name,
                c.categories.len(),
                f.typical_text()
            ),
        }
    }
    outln!(
        "  parameters: {}",
        m.params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for n in &m.notes {
        outln!("  note: {n}");
    }
    if b.embeds_training_rows() {
        outln!("  PRIVACY: this file embeds support vectors, i.e. scaled feature rows of training customers.");
    }
    if let Some(g) = &b.governance {
        print_section(g, &mut std::io::stdout());
    }
    if let Some(r) = &b.report {
        print_metrics("stored metrics", &r.test, Some(b));
    }
    Ok(ExitCode::SUCCESS)
}

/// `inspect --json`: the shared views of the file, plus its path and model summary.
#[derive(serde::Serialize)]
struct InspectView {
    file: String,
    metadata: serde_json::Value,
    schema: SchemaView,
    metrics: Option<MetricsView>,
    model: String,
    /// SHA-256 of the file's body (its header's checksum): decision records
    /// name the model by it.
    #[serde(rename = "modelSha256")]
    model_sha256: String,
    signature: Option<ferrisk::signature::SignatureInfo>,
}

/// The governance section: its report parsed and printed, or a note that
/// it cannot be read.
pub fn print_section(g: &ferrisk::governance::Section, out: &mut dyn std::io::Write) {
    match serde_json::from_str::<ferrisk::governance::Governance>(&g.report) {
        Ok(r) if r.validate().is_ok() => print_governance(&r, out),
        _ => {
            let _ = writeln!(
                out,
                "  governance: the report cannot be read (protected: {})",
                g.protected.join(", ")
            );
        }
    }
}

/// The governance report as text: the fairness audit per protected
/// attribute (a warning where the adverse-impact ratio is below 0.8), the
/// strongest proxies, the monotone constraints and their check.
pub fn print_governance(g: &ferrisk::governance::Governance, out: &mut dyn std::io::Write) {
    let mut w = |s: String| {
        let _ = writeln!(out, "{s}");
    };
    if !g.protected.is_empty() {
        w(format!("  fairness audit ({}):", g.evaluated_on));
    }
    for p in &g.protected {
        w(format!(
            "    protected '{}'{}: {}; lowest adverse-impact ratio {:.3}, TPR gap {:.3}, FPR gap {:.3}",
            p.name,
            if p.bands.is_empty() {
                String::new()
            } else {
                format!(" (bands {})", p.bands)
            },
            if p.input {
                "a model input (--use-protected), never a reason"
            } else {
                "not a model input"
            },
            p.min_impact_ratio,
            p.tpr_gap,
            p.fpr_gap
        ));
        w(format!(
            "      {:<44} {:>5} {:>5} {:>8} {:>6} {:>6} {:>6} {:>6} {:>7} {:>8}",
            "group", "rows", "bad", "approved", "ratio", "TPR", "FPR", "AUC", "mean p", "observed"
        ));
        for x in &p.groups {
            w(format!(
                "      {:<44} {:>5} {:>5} {:>8.3} {:>6.3} {:>6.3} {:>6.3} {:>6} {:>7.3} {:>8.3}{}",
                x.name,
                x.rows,
                x.positives,
                x.approval_rate,
                x.impact_ratio,
                x.tpr,
                x.fpr,
                x.auc.map_or("-".to_string(), |a| format!("{a:.3}")),
                x.mean_predicted,
                x.observed,
                if x.impact_ratio < 0.8 {
                    "  WARNING: adverse impact (ratio < 0.8, four-fifths rule)"
                } else {
                    ""
                }
            ));
        }
        let mut px: Vec<&ferrisk::governance::Proxy> =
            g.proxies.iter().filter(|x| x.protected == p.name).collect();
        px.sort_by(|a, b| b.auc.total_cmp(&a.auc));
        if !px.is_empty() {
            w(format!(
                "      proxies (AUC of telling its groups apart by one input): {}",
                px.iter()
                    .take(5)
                    .map(|x| format!(
                        "{} {:.3}{}",
                        x.feature,
                        x.auc,
                        if x.flagged { " (strongest)" } else { "" }
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    for m in &g.monotone {
        w(format!(
            "  monotone: '{}' {} ({}; swept over its training range on {} rows: {} violate)",
            m.feature,
            if m.direction > 0 {
                "+1 (risk never falls as it rises)"
            } else {
                "-1 (risk never rises as it rises)"
            },
            if m.enforced {
                "enforced at training"
            } else {
                "checked only: this kind does not enforce constraints"
            },
            m.rows,
            m.violations
        ));
    }
}
