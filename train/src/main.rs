//! `ferrisk`: train, evaluate, predict, inspect and serve credit-risk models.

mod serve;

/// `println!` that ignores a closed stdout (e.g. `ferrisk inspect m.frk | head`)
/// instead of panicking.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

pub use ferrisk_train::json::{drift as json_drift, reasons as json_reasons};

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use ferrisk::csv::{check_header, detect_delimiter, LineParser};
use ferrisk::{Bundle, Metrics, Scorer};
use ferrisk_train::data::{self, SchemaFile, Table};
use ferrisk_train::models::{KindParams, Trainer};
use ferrisk_train::pipeline::{self, Progress, TrainConfig};
use ferrisk_train::{json, synth};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "ferrisk",
    version,
    about = "Train credit-risk models on a labelled CSV and score them anywhere (CLI, HTTP, browser).",
    long_about = "Train credit-risk models on a labelled CSV and score them anywhere.\n\n\
        A model file (.frk) carries the schema, the preprocessing fitted on the training split, the model, \
        its calibration, decision threshold, test metrics and provenance. The same runtime scores it here, \
        in `ferrisk serve`, and in the browser (WebAssembly), with identical results.\n\n\
        Typical session:\n  \
        ferrisk train --data german_credit.csv --label creditability --positive bad --model all --cv 5 --out models/\n  \
        ferrisk inspect models/rf.frk\n  \
        ferrisk evaluate --model models/rf.frk --data holdout.csv\n  \
        ferrisk predict --model models/rf.frk --data applicants.csv --out scored.csv"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train one model kind, or all, and write .frk model files.
    Train(Box<TrainArgs>),
    /// Score a labelled CSV with a model and print its metrics.
    Evaluate(EvaluateArgs),
    /// Score every row of a CSV; write the rows with probability and decision.
    Predict(PredictArgs),
    /// Explain one customer's score: contributions, reasons, points.
    Explain(ExplainArgs),
    /// Describe a model file: schema, model, metrics, provenance.
    Inspect(InspectArgs),
    /// Write a synthetic labelled customer CSV (for machines without real data).
    Synth(SynthArgs),
    /// List the model kinds `train --model` accepts: id and name, one per line.
    Kinds,
    /// Serve the advisor page, the model files and a JSON /predict API.
    Serve(serve::ServeArgs),
}

#[derive(Args)]
struct TrainArgs {
    /// Training data: a CSV with a header row (`,` `;` or tab separated).
    #[arg(long, value_name = "FILE.csv")]
    data: PathBuf,
    /// Name of the label column (two classes).
    #[arg(long, value_name = "COLUMN")]
    label: String,
    /// The label value that is the positive ("bad", default) class.
    #[arg(long, value_name = "VALUE")]
    positive: String,
    /// Columns to leave out, comma separated (e.g. ids, leakage).
    #[arg(long, value_delimiter = ',', value_name = "COL,...")]
    drop: Vec<String>,
    /// JSON schema overriding inferred column types:
    /// {"types": {"column": "numeric" | "categorical"}}.
    #[arg(long, value_name = "FILE.json")]
    schema: Option<PathBuf>,
    /// Model kind (see `ferrisk kinds`), a comma list, or all.
    #[arg(long, default_value = "all", value_name = "KIND")]
    model: String,
    /// Output: a directory (files named <kind>.frk) or, for one kind, a .frk path.
    #[arg(long, default_value = "models", value_name = "PATH")]
    out: PathBuf,
    /// Also run stratified k-fold cross-validation over all rows (ROC AUC per fold).
    #[arg(long, value_name = "K")]
    cv: Option<usize>,
    /// Seed for the split, sampling and every model's randomness.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Fraction of rows held out (stratified) for the test metrics.
    #[arg(long, default_value_t = 0.3)]
    test_size: f64,
    /// Decision threshold on the probability of the positive class.
    #[arg(long, default_value_t = 0.5)]
    threshold: f32,
    /// Every model kind's own flags (declared with the kind, in `ferrisk_train::models`).
    #[command(flatten)]
    kinds: KindParams,
    /// Scorecard: points at the base odds.
    #[arg(long, default_value_t = 600.0, help_heading = "Scorecard and reasons")]
    score_base: f32,
    /// Scorecard: good:bad odds that score `--score-base` points (e.g. 50 for 50:1).
    #[arg(long, default_value_t = 50.0, help_heading = "Scorecard and reasons")]
    score_odds: f32,
    /// Scorecard: points to double the odds (PDO).
    #[arg(long, default_value_t = 20.0, help_heading = "Scorecard and reasons")]
    score_pdo: f32,
    /// Reason catalogue (JSON): {"feature": {"en": "text with {value}", "zh": "..."}}.
    /// Features without an entry get generated texts.
    #[arg(long, value_name = "FILE.json", help_heading = "Scorecard and reasons")]
    reasons: Option<PathBuf>,
    /// Print the results as JSON on stdout (tables go to stderr).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ExplainArgs {
    /// Model file (.frk).
    #[arg(long, value_name = "FILE.frk")]
    model: PathBuf,
    /// The customer as JSON: {"feature": value, ...} (numbers, strings, null).
    #[arg(long, value_name = "JSON")]
    customer: String,
    /// Number of reasons (features that pushed towards the positive class).
    #[arg(long, default_value_t = 4)]
    reasons: usize,
    /// Language of the reason texts (en, zh).
    #[arg(long, default_value = "en")]
    lang: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct EvaluateArgs {
    /// Model file (.frk).
    #[arg(long, value_name = "FILE.frk")]
    model: PathBuf,
    /// Labelled CSV with every model feature and the label column.
    #[arg(long, value_name = "FILE.csv")]
    data: PathBuf,
    /// Print the metrics as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct PredictArgs {
    /// Model file (.frk).
    #[arg(long, value_name = "FILE.frk")]
    model: PathBuf,
    /// CSV with the model's feature columns (a label column is ignored).
    #[arg(long, value_name = "FILE.csv")]
    data: PathBuf,
    /// Output CSV: the input columns plus probability, decision and error; `-` for stdout.
    #[arg(long, value_name = "OUT.csv")]
    out: PathBuf,
    /// Also write scorecard points and the top reasons (reason_1..reason_N) per row.
    #[arg(long)]
    explain: bool,
    /// Reasons per row with --explain.
    #[arg(long, default_value_t = 4)]
    reasons: usize,
    /// Language of the reason texts (en, zh).
    #[arg(long, default_value = "en")]
    lang: String,
}

#[derive(Args)]
struct InspectArgs {
    /// Model file (.frk).
    model: PathBuf,
    /// Print everything as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct SynthArgs {
    /// Number of customers.
    #[arg(long, default_value_t = 2000)]
    rows: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Output CSV path.
    #[arg(long, value_name = "FILE.csv")]
    out: PathBuf,
}

/// indicatif bars on stderr (hidden when stderr is not a terminal, where a
/// one-line summary per stage is printed instead).
struct Bars {
    bar: std::sync::Mutex<Option<ProgressBar>>,
}

impl Bars {
    fn new() -> Bars {
        Bars {
            bar: std::sync::Mutex::new(None),
        }
    }
}

impl Progress for Bars {
    fn start(&self, label: &str, total: u64) {
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:>24} [{bar:30}] {pos}/{len} {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(label.to_string());
        if bar.is_hidden() {
            eprintln!("  {label}: {total} step(s)...");
        }
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }
    fn set(&self, done: u64) {
        if let Ok(b) = self.bar.lock() {
            if let Some(bar) = b.as_ref() {
                bar.set_position(done);
            }
        }
    }
    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => train(*a),
        Command::Evaluate(a) => evaluate(a),
        Command::Predict(a) => predict(a),
        Command::Explain(a) => explain(a),
        Command::Inspect(a) => inspect(a),
        Command::Synth(a) => synth_cmd(a),
        Command::Kinds => {
            for k in KindParams::default().all() {
                outln!("{}\t{}", k.id(), k.name());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(a) => serve::run(a).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The kinds `--model` names, in registry order.
fn kinds<'a>(spec: &str, all: &'a KindParams) -> Result<Vec<Box<dyn Trainer + 'a>>> {
    if spec == "all" {
        return Ok(all.all());
    }
    spec.split(',')
        .map(|s| {
            all.get(s.trim()).with_context(|| {
                format!(
                    "unknown model kind '{s}' (use {} or all)",
                    KindParams::ids().join(", ")
                )
            })
        })
        .collect()
}

fn load_model(path: &Path) -> Result<Scorer> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("{}: cannot read model file", path.display()))?;
    Scorer::from_bytes(&bytes).with_context(|| format!("{}", path.display()))
}

fn print_metrics(title: &str, m: &Metrics, bundle: Option<&Bundle>) {
    let mut out = std::io::stderr().lock();
    let _ = writeln!(out, "\n{title}");
    let _ = writeln!(
        out,
        "  rows {:>7}   positives {:>6}   threshold {}",
        m.rows, m.positives, m.threshold
    );
    let _ = writeln!(
        out,
        "  ROC AUC {:.4}   KS {:.4}   accuracy {:.4}   precision {:.4}   recall {:.4}   F1 {:.4}",
        m.roc_auc, m.ks, m.accuracy, m.precision, m.recall, m.f1
    );
    let _ = writeln!(out, "  Brier {:.4}   log-loss {:.4}", m.brier, m.log_loss);
    let c = m.confusion;
    let _ = writeln!(out, "  confusion            predicted neg  predicted pos");
    let _ = writeln!(out, "    actual negative   {:>13}  {:>13}", c.tn, c.fp);
    let _ = writeln!(out, "    actual positive   {:>13}  {:>13}", c.fn_, c.tp);
    if let Some(r) = bundle.and_then(|b| b.report.as_ref()) {
        if let Some(cv) = &r.cv {
            let folds: Vec<String> = cv.folds.iter().map(|a| format!("{a:.3}")).collect();
            let _ = writeln!(
                out,
                "  {}-fold CV ROC AUC {:.4} ± {:.4}  [{}]",
                cv.folds.len(),
                cv.mean(),
                cv.std(),
                folds.join(" ")
            );
        }
        let _ = writeln!(
            out,
            "  fit time {:.2} s on {} training rows",
            r.fit_seconds, r.train_rows
        );
    }
}

fn train(a: TrainArgs) -> Result<ExitCode> {
    let kinds = kinds(&a.model, &a.kinds)?;
    if !(a.test_size > 0.0 && a.test_size < 1.0) {
        bail!("--test-size must be between 0 and 1, got {}", a.test_size);
    }
    if !(a.threshold > 0.0 && a.threshold < 1.0) {
        bail!("--threshold must be between 0 and 1, got {}", a.threshold);
    }
    if let Some(k) = a.cv {
        if k < 2 {
            bail!("--cv needs at least 2 folds, got {k}");
        }
    }
    let schema = match &a.schema {
        Some(p) => SchemaFile::read(p)?,
        None => SchemaFile::default(),
    };
    let table = Table::read(&a.data)?;
    let ds = data::prepare(&table, &a.label, &a.positive, &a.drop, &schema)?;
    eprintln!(
        "data: {} ({} rows, {} features, {} '{}' / {} '{}')",
        a.data.display(),
        ds.labels.len(),
        ds.features.len(),
        ds.positives(),
        ds.positive,
        ds.labels.len() - ds.positives(),
        ds.negative
    );
    let cfg = TrainConfig {
        seed: a.seed,
        test_size: a.test_size,
        cv: a.cv,
        threshold: a.threshold,
        kinds: a.kinds.clone(),
        scorecard: ferrisk::credit::Scorecard {
            base_score: a.score_base,
            base_odds: a.score_odds,
            pdo: a.score_pdo,
        },
        reasons: match &a.reasons {
            Some(p) => read_catalogue(p)?,
            None => Vec::new(),
        },
    };
    let single_file = kinds.len() == 1 && a.out.extension().is_some_and(|e| e == "frk");
    if !single_file {
        std::fs::create_dir_all(&a.out)
            .with_context(|| format!("{}: cannot create directory", a.out.display()))?;
    }
    let bars = Bars::new();
    let mut summary = Vec::new();
    for kind in kinds {
        eprintln!("\ntraining {} ...", kind.name());
        let trained = pipeline::train(kind.as_ref(), &table, &ds, &cfg, &bars)?;
        let path = if single_file {
            a.out.clone()
        } else {
            a.out.join(format!("{}.frk", kind.id()))
        };
        write_atomic(&path, &trained.bytes)?;
        let b = &trained.bundle;
        if let Some(r) = &b.report {
            print_metrics(
                &format!("{} — test split ({})", kind.name(), path.display()),
                &r.test,
                Some(b),
            );
        }
        for note in &b.metadata.notes {
            eprintln!("  note: {note}");
        }
        if b.embeds_training_rows() {
            eprintln!(
                "  warning: {} embeds support vectors, which are (scaled) rows of training customers; \
                 treat the file as personal data",
                path.display()
            );
        }
        let mut v = json::report(b);
        v["kind"] = serde_json::json!(kind.id());
        v["file"] = serde_json::json!(path.display().to_string());
        v["bytes"] = serde_json::json!(trained.bytes.len());
        summary.push(v);
    }
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes through a temporary file and a rename, so a crash never leaves a
/// half-written model file behind.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("frk.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
}

fn evaluate(a: EvaluateArgs) -> Result<ExitCode> {
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
        outln!("{}", serde_json::to_string_pretty(&json::metrics(&m))?);
    } else {
        print_metrics(
            &format!("{} on {}", scorer.bundle().algorithm.name, a.data.display()),
            &m,
            None,
        );
    }
    Ok(ExitCode::SUCCESS)
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

fn predict(a: PredictArgs) -> Result<ExitCode> {
    let scorer = load_model(&a.model)?;
    let file = std::fs::File::open(&a.data)
        .with_context(|| format!("{}: cannot read", a.data.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut input = BufReader::new(file);
    let sink: Box<dyn Write> = if a.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&a.out)
                .with_context(|| format!("{}: cannot create", a.out.display()))?,
        )
    };
    let mut out = BufWriter::new(sink);
    let name = a.data.display().to_string();
    let mut line = String::new();
    // Header: first non-blank line.
    let mut header_line = String::new();
    let mut physical = 0usize;
    while header_line.trim().is_empty() {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            bail!("{name}: CSV is empty: no header line");
        }
        physical += 1;
        header_line = line
            .trim_start_matches('\u{feff}')
            .trim_end_matches(['\n', '\r'])
            .to_string();
    }
    let mut parser = LineParser::new(detect_delimiter(&header_line));
    for _ in 1..physical {
        parser.feed("").ok();
    }
    let header = match parser.feed(&header_line) {
        Ok(Some(h)) => check_header(h).with_context(|| name.clone())?,
        Ok(None) => bail!("{name}: the header line has an unclosed quote"),
        Err(e) => return Err(anyhow::Error::new(e).context(name)),
    };
    let map = scorer.map_header(&header).with_context(|| name.clone())?;
    let mut cols: Vec<&str> = header.iter().map(String::as_str).collect();
    cols.extend(["probability", "decision", "error"]);
    let reason_cols: Vec<String> = (1..=a.reasons).map(|k| format!("reason_{k}")).collect();
    if a.explain {
        cols.push("points");
        cols.extend(reason_cols.iter().map(String::as_str));
    }
    csv_row(&mut out, cols)?;
    let mut drift = scorer.drift_counter();
    let bar = ProgressBar::new(size);
    if let Ok(style) =
        ProgressStyle::with_template("scoring [{bar:30}] {bytes}/{total_bytes} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    let (mut read, mut scored, mut failed) = (header_line.len() as u64, 0u64, 0u64);
    let mut x = Vec::with_capacity(scorer.width());
    let mut warnings = Vec::new();
    let positive = scorer.bundle().schema.positive.clone();
    let negative = scorer.bundle().schema.negative.clone();
    loop {
        line.clear();
        let n = input.read_line(&mut line)?;
        if n == 0 {
            break;
        }
        read += n as u64;
        let text = line.trim_end_matches('\n');
        if !parser.pending() && text.trim().is_empty() {
            parser.feed("").ok();
            continue;
        }
        let fields = match parser.feed(text) {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(e) => return Err(anyhow::Error::new(e).context(name)),
        };
        let at = parser.record_line();
        if fields.len() != header.len() {
            bail!(
                "{name}: line {at}: {} fields, but the header has {}",
                fields.len(),
                header.len()
            );
        }
        let mut extra: Vec<String> = Vec::new();
        let result = scorer.parse_row(&map, &fields).and_then(|values| {
            warnings.clear();
            scorer.design_row(&values, &mut x, &mut warnings)?;
            let p = scorer.probability(&x)?;
            if let Some(c) = drift.as_mut() {
                scorer.count_drift(c, &values, p);
            }
            if a.explain {
                let e = scorer.explain_encoded(&values, &x)?;
                extra.push(format!("{:.1}", scorer.points(p)));
                let r = scorer.reasons(&e, a.reasons, &a.lang);
                extra.extend(
                    (0..a.reasons).map(|k| r.get(k).map(|r| r.text.clone()).unwrap_or_default()),
                );
            }
            Ok(p)
        });
        if a.explain && extra.is_empty() {
            extra = vec![String::new(); a.reasons + 1];
        }
        let (p, d, err) = match result {
            Ok(p) => {
                scored += 1;
                let decision = if p >= scorer.bundle().threshold {
                    &positive
                } else {
                    &negative
                };
                (format!("{p:?}"), decision.clone(), String::new())
            }
            Err(e) => {
                failed += 1;
                eprintln!("{name}: line {at}: {e}");
                (String::new(), String::new(), e.to_string())
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
        if (scored + failed) % 4096 == 0 {
            bar.set_position(read);
            bar.set_message(format!("{} rows", scored + failed));
        }
    }
    parser.finish().with_context(|| name.clone())?;
    out.flush()?;
    bar.finish_and_clear();
    eprintln!(
        "scored {scored} rows, {failed} failed ({})",
        a.out.display()
    );
    if let Some(counts) = &drift {
        if scored > 0 {
            print_drift(&scorer.drift_report(counts)?);
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_drift(r: &ferrisk::drift::DriftReport) {
    use ferrisk::drift::level;
    eprintln!(
        "\npopulation stability (PSI against the training split, {} rows)",
        r.rows
    );
    eprintln!(
        "  {:<44} {:>7}  {}",
        "score",
        format!("{:.3}", r.score),
        level(r.score)
    );
    for (name, psi) in &r.features {
        eprintln!("  {:<44} {:>7}  {}", name, format!("{psi:.3}"), level(*psi));
    }
}

/// Reads a reason catalogue: {"feature": {"en": "...", "zh": "..."}}.
fn read_catalogue(path: &Path) -> Result<Vec<ferrisk::credit::ReasonText>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let map: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> =
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: expected {{\"feature\": {{\"en\": \"text\", ...}}}}",
                path.display()
            )
        })?;
    Ok(map
        .into_iter()
        .flat_map(|(feature, langs)| {
            langs
                .into_iter()
                .map(move |(lang, text)| ferrisk::credit::ReasonText {
                    feature: feature.clone(),
                    lang,
                    text,
                })
        })
        .collect())
}

/// Converts a JSON object into (feature, raw value) pairs; errors name the field.
pub fn json_record(v: &serde_json::Value) -> Result<Vec<(String, serde_json::Value)>> {
    let Some(obj) = v.as_object() else {
        bail!("the customer must be a JSON object of feature: value");
    };
    Ok(obj.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn raw_value<'a>(name: &str, v: &'a serde_json::Value) -> Result<ferrisk::RawValue<'a>> {
    Ok(match v {
        serde_json::Value::Null => ferrisk::RawValue::Missing,
        serde_json::Value::Number(n) => ferrisk::RawValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => ferrisk::RawValue::Text(s),
        _ => bail!("feature '{name}': expected a number, a string or null"),
    })
}

fn explain(a: ExplainArgs) -> Result<ExitCode> {
    let scorer = load_model(&a.model)?;
    let v: serde_json::Value =
        serde_json::from_str(&a.customer).context("--customer is not valid JSON")?;
    let fields = json_record(&v)?;
    let mut rec = Vec::with_capacity(fields.len());
    for (k, v) in &fields {
        rec.push((k.as_str(), raw_value(k, v)?));
    }
    let p = scorer.predict(rec.iter().cloned())?;
    let e = scorer.explain(rec.iter().cloned())?;
    let reasons = scorer.reasons(&e, a.reasons, &a.lang);
    let points = scorer.points(p.probability);
    if a.json {
        let mut out = json::prediction(&p);
        out["points"] = json::num(points);
        out["explanation"] = json::explanation(&e);
        out["reasons"] = json::reasons(&reasons);
        let (base, per) = scorer.points_breakdown(&e);
        out["pointsBreakdown"] = json::points(base, &per, &e);
        outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    let b = scorer.bundle();
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
        points
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
    for i in order {
        let c = &e.contributions[i];
        outln!("  {:>+9.4}  {:<44} {}", c.contribution, c.feature, c.value);
    }
    if !reasons.is_empty() {
        outln!("\nprincipal reasons:");
        for r in &reasons {
            outln!("  {}. {} ({:+.0} points)", r.rank, r.text, r.points);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn inspect(a: InspectArgs) -> Result<ExitCode> {
    let scorer = load_model(&a.model)?;
    let b = scorer.bundle();
    if a.json {
        let v = serde_json::json!({
            "file": a.model.display().to_string(),
            "metadata": json::metadata(b, file_version(&a.model)),
            "schema": json::schema(b),
            "metrics": json::report(b),
            "model": model_summary(b),
        });
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
    outln!(
        "  produced by {} at unix time {}",
        m.producer,
        m.created_unix
    );
    outln!(
        "  trained on {} ({} rows, sha256 {})",
        m.data_name,
        m.data_rows,
        m.data_sha256
    );
    outln!(
        "  label '{}': positive '{}', negative '{}'; threshold {}",
        b.schema.label,
        b.schema.positive,
        b.schema.negative,
        b.threshold
    );
    outln!("  model: {}", model_summary(b));
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
        print_metrics("test-split metrics (stored in the file)", &r.test, Some(b));
    }
    Ok(ExitCode::SUCCESS)
}

/// Format version in a model file's header (0 when unreadable).
fn file_version(path: &Path) -> u16 {
    std::fs::read(path)
        .ok()
        .and_then(|b| {
            ferrisk::format::read_header(&b)
                .ok()
                .map(|(h, _)| h.version)
        })
        .unwrap_or(0)
}

fn model_summary(b: &Bundle) -> String {
    b.model.summary()
}

fn synth_cmd(a: SynthArgs) -> Result<ExitCode> {
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
