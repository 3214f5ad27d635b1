//! `ferrisk inspect`: describe a model file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use ferrisk::views::{MetadataView, MetricsView, SchemaView};

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
            metadata: MetadataView::new(b, file_version(&a.model)),
            schema: SchemaView::new(b),
            metrics: MetricsView::report(b),
            model: b.model.summary(),
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
    if let Some(r) = &b.report {
        print_metrics("stored metrics", &r.test, Some(b));
    }
    Ok(ExitCode::SUCCESS)
}

/// `inspect --json`: the shared views of the file, plus its path and model summary.
#[derive(serde::Serialize)]
struct InspectView {
    file: String,
    metadata: MetadataView,
    schema: SchemaView,
    metrics: Option<MetricsView>,
    model: String,
    signature: Option<ferrisk::signature::SignatureInfo>,
}
