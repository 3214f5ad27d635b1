//! `ferrisk replay`: re-score a decision record with the customer's inputs
//! against a model file and confirm it bit for bit, or say what differs.
//! Building, digesting and comparing records is the runtime's
//! (`ferrisk::record`), shared with every surface that makes them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use ferrisk::csv::CsvText;
use ferrisk::record;
use ferrisk::views::RecordView;

use crate::common::flatten;

#[derive(Args)]
pub struct ReplayArgs {
    /// Model file (.frk) the record names (by its SHA-256).
    #[arg(long, value_name = "FILE.frk")]
    pub model: PathBuf,
    /// The record: a JSON object (the `record` of `score`/`explain --json`/
    /// `/predict`), or the JSON lines of `predict --record`.
    #[arg(long, value_name = "FILE.json")]
    pub record: PathBuf,
    /// With JSON lines: the record of this CSV line (default: the only one).
    #[arg(long, value_name = "N")]
    pub line: Option<usize>,
    /// The customer's inputs as JSON: {"feature": value, ...}.
    #[arg(long, value_name = "JSON", conflicts_with = "data")]
    pub customer: Option<String>,
    /// Or the CSV the row came from (the record's line is scored).
    #[arg(long, value_name = "FILE.csv")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub trust: crate::sign::TrustArgs,
}

pub fn replay(a: ReplayArgs) -> Result<ExitCode> {
    run(a).map_err(flatten)
}

/// A record from one JSON object: a bare record, a line of `predict
/// --record` (with `line`), or a whole `score`/`explain --json` result.
fn parse_one(v: serde_json::Value, name: &str) -> Result<(RecordView, Option<usize>)> {
    let serde_json::Value::Object(mut v) = v else {
        bail!("{name}: a record is a JSON object");
    };
    let at = v
        .remove("line")
        .and_then(|l| l.as_u64())
        .map(|l| l as usize);
    let v = match v.remove("record") {
        Some(r @ serde_json::Value::Object(_)) => r,
        Some(r) => {
            v.insert("record".into(), r);
            serde_json::Value::Object(v)
        }
        None => serde_json::Value::Object(v),
    };
    let r = serde_json::from_value(v).with_context(|| format!("{name}: not a decision record"))?;
    Ok((r, at))
}

/// The record to replay, with its CSV line when it has one.
fn read_record(a: &ReplayArgs) -> Result<(RecordView, Option<usize>)> {
    let name = a.record.display().to_string();
    let text =
        std::fs::read_to_string(&a.record).with_context(|| format!("{name}: cannot read"))?;
    let mut found = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        found.push(parse_one(v, &name)?);
    } else {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v = serde_json::from_str(line)
                .with_context(|| format!("{name}: line {}: not JSON", i + 1))?;
            found.push(parse_one(v, &name)?);
        }
    }
    match a.line {
        Some(n) => found
            .into_iter()
            .find(|(_, l)| *l == Some(n))
            .ok_or_else(|| anyhow!("{name}: no record of line {n}")),
        None if found.len() == 1 => found.pop().ok_or_else(|| anyhow!("{name}: no record")),
        None if found.is_empty() => bail!("{name}: no record"),
        None => bail!("{name}: {} records; choose one with --line N", found.len()),
    }
}

fn run(a: ReplayArgs) -> Result<ExitCode> {
    let scorer = crate::sign::load_model(&a.model, &a.trust)?;
    let (want, line) = read_record(&a)?;
    record::check_model(&want, &scorer).map_err(|e| anyhow!("{}: {e}", a.model.display()))?;
    let mut rows = scorer.rows(record::options(&want));
    let scored = match (&a.customer, &a.data) {
        (Some(json), _) => {
            let v: serde_json::Value =
                serde_json::from_str(json).context("--customer is not valid JSON")?;
            let fields =
                ferrisk_serve::customer_fields(&v).map_err(|e| anyhow!("--customer: {e}"))?;
            rows.score_fields(fields.iter().cloned())?
        }
        (None, Some(path)) => {
            let name = path.display().to_string();
            let Some(n) = a.line.or(line) else {
                bail!("--data needs the row's line: the record has none; give --line N");
            };
            let bytes = std::fs::read(path).with_context(|| format!("{name}: cannot read"))?;
            let mut csv = CsvText::from_bytes(&bytes).with_context(|| name.clone())?;
            let map = scorer
                .map_header(csv.header())
                .with_context(|| name.clone())?;
            let mut cells = None;
            for row in &mut csv {
                let (l, fields) = row.with_context(|| name.clone())?;
                if l == n {
                    cells = Some(fields);
                    break;
                }
            }
            let cells = cells.ok_or_else(|| anyhow!("{name}: no row on line {n}"))?;
            rows.score_cells(&map, &cells)
                .with_context(|| format!("{name}: line {n}"))?
        }
        (None, None) => bail!("give the customer's inputs: --customer JSON or --data FILE.csv"),
    };
    let got = scored
        .record
        .ok_or_else(|| anyhow!("the scorer made no record"))?;
    if want.ferrisk != got.ferrisk {
        eprintln!(
            "note: recorded by ferrisk {}, replayed by ferrisk {}",
            want.ferrisk, got.ferrisk
        );
    }
    let diffs = record::compare(&want, &got);
    if diffs.is_empty() {
        outln!(
            "confirmed: the record replays bit for bit (model {}, inputs {}, probability {}, decision {}, {} points{})",
            got.model_sha256,
            got.inputs_sha256,
            ferrisk::num::F32(got.probability),
            got.decision,
            ferrisk::num::F32(got.points),
            if got.reasons.is_empty() {
                String::new()
            } else {
                format!(", reasons {}", got.reasons.join(", "))
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    outln!("NOT confirmed: the replay differs from the record:");
    for d in &diffs {
        outln!("  {d}");
    }
    if want.inputs_sha256 != got.inputs_sha256 {
        outln!("  (the inputs given are not the inputs recorded)");
    }
    Ok(ExitCode::from(1))
}
