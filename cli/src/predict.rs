//! `ferrisk predict`: score every row of a CSV file, streaming it through
//! the runtime's chunk-fed CSV reader and row scorer (the same path the
//! service and the page's worker use).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use ferrisk::csv::{CsvEvent, CsvReader};
use ferrisk::schema::{Warning, WarningKind};
use ferrisk::{ScoreOptions, Scored};
use indicatif::{ProgressBar, ProgressStyle};

use crate::common::{csv_row, flatten, print_drift, same_file, TempFile};

#[derive(Args)]
pub struct PredictArgs {
    /// Model file (.frk).
    #[arg(long, value_name = "FILE.frk")]
    pub model: PathBuf,
    /// CSV with the model's feature columns (a label column is ignored).
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// Output CSV: the input columns plus probability, decision, error and
    /// warnings; `-` for stdout. Written to a temporary file next to it and
    /// renamed when the run succeeds; never the --data file.
    #[arg(long, value_name = "OUT.csv")]
    pub out: PathBuf,
    /// Also write scorecard points and the top reasons (reason_1..reason_N) per row.
    #[arg(long)]
    pub explain: bool,
    /// Reasons per row with --explain.
    #[arg(long, default_value_t = 4)]
    pub reasons: usize,
    /// Language of the reason texts (en, zh).
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Reasons also for approved rows (by default only refusals get them).
    #[arg(long)]
    pub all_reasons: bool,
    /// Write a decision record per scored row to this file, one JSON object
    /// a line with the row's `line` (`ferrisk replay --record FILE --line N`
    /// reproduces it). Records carry the reasons of --explain.
    #[arg(long, value_name = "FILE.jsonl")]
    pub record: Option<PathBuf>,
    #[command(flatten)]
    pub trust: crate::sign::TrustArgs,
}

/// Bytes read from the input per step.
const CHUNK: usize = 64 * 1024;

/// Where the rows go: stdout as they come, or a temporary file renamed
/// over `--out` when the run succeeds (removed when it fails).
enum Sink {
    Stdout(std::io::StdoutLock<'static>),
    File(TempFile),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(s) => s.write(buf),
            Sink::File(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::File(f) => f.flush(),
        }
    }
}

/// Rows with warnings, per kind (a row counts once per kind it has).
#[derive(Default)]
struct WarningCounts(BTreeMap<WarningKind, u64>);

impl WarningCounts {
    fn add(&mut self, warnings: &[Warning]) {
        let kinds: BTreeSet<WarningKind> = warnings.iter().map(|w| w.kind).collect();
        for k in kinds {
            *self.0.entry(k).or_default() += 1;
        }
    }

    /// `1 imputed, 2 unknown category, 0 out of training range`; `None`
    /// when no row had a warning.
    fn summary(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let shown = [
            WarningKind::Imputed,
            WarningKind::UnknownCategory,
            WarningKind::OutOfRange,
        ];
        let parts: Vec<String> = WarningKind::ALL
            .into_iter()
            .filter(|k| shown.contains(k) || self.0.contains_key(k))
            .map(|k| format!("{} {}", self.0.get(&k).copied().unwrap_or(0), k.label()))
            .collect();
        Some(parts.join(", "))
    }
}

pub fn predict(a: PredictArgs) -> Result<ExitCode> {
    run(a).map_err(flatten)
}

fn run(a: PredictArgs) -> Result<ExitCode> {
    let scorer = crate::sign::load_model(&a.model, &a.trust)?;
    let name = a.data.display().to_string();
    let to_stdout = a.out.as_os_str() == "-";
    if !to_stdout && same_file(&a.data, &a.out) {
        bail!(
            "--out {} is the input file (--data {name}); write the results elsewhere",
            a.out.display()
        );
    }
    let mut input = std::fs::File::open(&a.data).with_context(|| format!("{name}: cannot read"))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let sink = if to_stdout {
        Sink::Stdout(std::io::stdout().lock())
    } else {
        Sink::File(TempFile::create(&a.out)?)
    };
    let out_name = a.out.display().to_string();
    let write_err = || format!("{out_name}: cannot write");
    let mut out = BufWriter::new(sink);
    let mut rows = scorer.rows(ScoreOptions {
        explain: a.explain,
        reasons: a.reasons,
        reasons_always: a.all_reasons,
        lang: a.lang.clone(),
        drift: true,
        record: a.record.is_some(),
    });
    let mut records = match &a.record {
        Some(p) => Some((
            BufWriter::new(TempFile::create(p)?),
            p.display().to_string(),
        )),
        None => None,
    };
    let mut warned = WarningCounts::default();
    let bar = ProgressBar::new(size);
    if let Ok(style) =
        ProgressStyle::with_template("scoring [{bar:30}] {bytes}/{total_bytes} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    let (positive, negative) = (
        scorer.bundle().schema.positive.clone(),
        scorer.bundle().schema.negative.clone(),
    );
    let extra_cols = if a.explain { a.reasons + 1 } else { 0 };
    let mut reader = CsvReader::new();
    let mut buf = vec![0u8; CHUNK];
    let mut map = Vec::new();
    let mut width = 0usize;
    let mut done = false;
    while !done {
        let n = input
            .read(&mut buf)
            .with_context(|| format!("{name}: cannot read"))?;
        match buf.get(..n) {
            Some(chunk) if n > 0 => reader.push(chunk),
            _ => {
                reader.finish();
                done = true;
            }
        }
        while let Some(event) = reader.next_event() {
            match event {
                CsvEvent::Fatal(e) => bail!("{name}: {e}"),
                CsvEvent::Header(header) => {
                    map = scorer.map_header(&header).with_context(|| name.clone())?;
                    width = header.len();
                    let mut cols: Vec<String> = header;
                    cols.extend(["probability", "decision", "error", "warnings"].map(String::from));
                    if a.explain {
                        cols.push("points".into());
                        cols.extend((1..=a.reasons).map(|k| format!("reason_{k}")));
                    }
                    csv_row(&mut out, cols.iter().map(String::as_str)).with_context(write_err)?;
                }
                CsvEvent::Row { line, fields } => {
                    let (p, d, err, warnings, extra) = match rows.score_cells(&map, &fields) {
                        Ok(s) => {
                            let d = if s.prediction.decision {
                                &positive
                            } else {
                                &negative
                            };
                            let extra = if a.explain {
                                explained(&s, a.reasons)
                            } else {
                                Vec::new()
                            };
                            warned.add(&s.prediction.warnings);
                            if let (Some((w, rname)), Some(r)) = (records.as_mut(), &s.record) {
                                let json = serde_json::to_string(&LineRecord { line, record: r })?;
                                writeln!(w, "{json}")
                                    .with_context(|| format!("{rname}: cannot write"))?;
                            }
                            let warnings: Vec<String> = s
                                .prediction
                                .warnings
                                .iter()
                                .map(Warning::to_string)
                                .collect();
                            (
                                format!("{:?}", s.prediction.probability),
                                d.clone(),
                                String::new(),
                                warnings.join("; "),
                                extra,
                            )
                        }
                        Err(e) => {
                            eprintln!("{name}: line {line}: {e}");
                            (
                                String::new(),
                                String::new(),
                                e.to_string(),
                                String::new(),
                                vec![String::new(); extra_cols],
                            )
                        }
                    };
                    csv_row(
                        &mut out,
                        fields
                            .iter()
                            .map(String::as_str)
                            .chain([p.as_str(), d.as_str(), err.as_str(), warnings.as_str()])
                            .chain(extra.iter().map(String::as_str)),
                    )
                    .with_context(write_err)?;
                }
                CsvEvent::RowError { line, error } => {
                    // The row's cells cannot be trusted: it is written with
                    // empty cells and the error (which names its line), and
                    // scoring goes on.
                    rows.failed += 1;
                    let mut message = error.to_string();
                    if !message.starts_with(&format!("line {line}")) {
                        message = format!("line {line}: {message}");
                    }
                    eprintln!("{name}: {message}");
                    csv_row(
                        &mut out,
                        std::iter::repeat_n("", width)
                            .chain(["", "", message.as_str(), ""])
                            .chain(std::iter::repeat_n("", extra_cols)),
                    )
                    .with_context(write_err)?;
                }
            }
            let total = rows.scored + rows.failed;
            if total % 4096 == 0 {
                bar.set_position(reader.bytes_consumed());
                bar.set_message(format!("{total} rows"));
            }
        }
    }
    if reader.header().is_none() {
        bail!("{name}: CSV is empty: no header line");
    }
    match out
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(write_err)?
    {
        Sink::File(f) => f.commit()?,
        Sink::Stdout(mut s) => s.flush().with_context(write_err)?,
    }
    if let Some((w, rname)) = records {
        w.into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("{rname}: cannot write"))?
            .commit()?;
        eprintln!("decision records: {rname}");
    }
    bar.finish_and_clear();
    eprintln!(
        "scored {} rows, {} failed ({})",
        rows.scored, rows.failed, out_name
    );
    if let Some(summary) = warned.summary() {
        eprintln!("rows with warnings: {summary}");
    }
    let failed = rows.failed;
    if rows.scored > 0 {
        if let Some(counts) = rows.into_drift() {
            print_drift(&scorer.drift_report(&counts)?);
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// One line of `--record`: the row's line and its record.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct LineRecord<R> {
    pub line: usize,
    #[serde(flatten)]
    pub record: R,
}

/// Points and the reason texts of an explained row, as CSV cells.
fn explained(s: &Scored, reasons: usize) -> Vec<String> {
    let mut cells = vec![format!("{:.1}", s.points)];
    cells
        .extend((0..reasons).map(|k| s.reasons.get(k).map(|r| r.text.clone()).unwrap_or_default()));
    cells
}
