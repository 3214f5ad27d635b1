//! `ferrisk predict`: score every row of a CSV file, streaming it through
//! the runtime's chunk-fed CSV reader and row scorer (the same path the
//! service and the page's worker use).

use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use ferrisk::csv::{CsvEvent, CsvReader};
use ferrisk::{ScoreOptions, Scored};
use indicatif::{ProgressBar, ProgressStyle};

use crate::common::{load_model, print_drift};

#[derive(Args)]
pub struct PredictArgs {
    /// Model file (.frk).
    #[arg(long, value_name = "FILE.frk")]
    pub model: PathBuf,
    /// CSV with the model's feature columns (a label column is ignored).
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// Output CSV: the input columns plus probability, decision and error; `-` for stdout.
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
}

fn csv_field(out: &mut impl Write, s: &str) -> std::io::Result<()> {
    if s.contains([',', '"', '\n', '\r']) {
        write!(out, "\"{}\"", s.replace('"', "\"\""))
    } else {
        out.write_all(s.as_bytes())
    }
}

fn csv_row<'a>(
    out: &mut impl Write,
    fields: impl IntoIterator<Item = &'a str>,
) -> std::io::Result<()> {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        csv_field(out, f)?;
    }
    out.write_all(b"\n")
}

/// Bytes read from the input per step.
const CHUNK: usize = 64 * 1024;

pub fn predict(a: PredictArgs) -> Result<ExitCode> {
    let scorer = load_model(&a.model)?;
    let name = a.data.display().to_string();
    let mut input = std::fs::File::open(&a.data).with_context(|| format!("{name}: cannot read"))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let sink: Box<dyn Write> = if a.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&a.out)
                .with_context(|| format!("{}: cannot create", a.out.display()))?,
        )
    };
    let mut out = BufWriter::new(sink);
    let mut rows = scorer.rows(ScoreOptions {
        explain: a.explain,
        reasons: a.reasons,
        lang: a.lang.clone(),
        drift: true,
    });
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
                    cols.extend(["probability", "decision", "error"].map(String::from));
                    if a.explain {
                        cols.push("points".into());
                        cols.extend((1..=a.reasons).map(|k| format!("reason_{k}")));
                    }
                    csv_row(&mut out, cols.iter().map(String::as_str))?;
                }
                CsvEvent::Row { line, fields } => {
                    let (p, d, err, extra) = match rows.score_cells(&map, &fields) {
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
                            (
                                format!("{:?}", s.prediction.probability),
                                d.clone(),
                                String::new(),
                                extra,
                            )
                        }
                        Err(e) => {
                            eprintln!("{name}: line {line}: {e}");
                            (
                                String::new(),
                                String::new(),
                                e.to_string(),
                                vec![String::new(); extra_cols],
                            )
                        }
                    };
                    csv_row(
                        &mut out,
                        fields
                            .iter()
                            .map(String::as_str)
                            .chain([p.as_str(), d.as_str(), err.as_str()])
                            .chain(extra.iter().map(String::as_str)),
                    )?;
                }
                CsvEvent::RowError { line, error } => {
                    // The row's cells cannot be trusted: it is written with
                    // empty cells and the error, and scoring goes on.
                    rows.failed += 1;
                    eprintln!("{name}: line {line}: {error}");
                    let message = format!("line {line}: {error}");
                    let empty = vec![""; width];
                    csv_row(
                        &mut out,
                        empty
                            .into_iter()
                            .chain(["", "", message.as_str()])
                            .chain(std::iter::repeat_n("", extra_cols)),
                    )?;
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
    out.flush()?;
    bar.finish_and_clear();
    eprintln!(
        "scored {} rows, {} failed ({})",
        rows.scored,
        rows.failed,
        a.out.display()
    );
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

/// Points and the reason texts of an explained row, as CSV cells.
fn explained(s: &Scored, reasons: usize) -> Vec<String> {
    let mut cells = vec![format!("{:.1}", s.points)];
    cells
        .extend((0..reasons).map(|k| s.reasons.get(k).map(|r| r.text.clone()).unwrap_or_default()));
    cells
}
