//! `ferrisk train`: fit one kind, several or all, write the model files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use ferrisk::policy::Policy;
use ferrisk::views::MetricsView;
use ferrisk_train::calibrate::CalibrationChoice;
use ferrisk_train::data::{self, SchemaFile, Table};
use ferrisk_train::history::HistorySpec;
use ferrisk_train::models::{KindParams, Trainer};
use ferrisk_train::pipeline::{self, Evaluation, TrainConfig};
use ferrisk_train::reproducible;
use ferrisk_train::weights::ClassWeights;

use crate::common::{flatten, print_metrics, write_atomic, Bars};

#[derive(Args)]
#[command(
    after_long_help = "Reproducible files: the same data, flags and --seed give the same model \
whatever --threads is. A file also records when it was made (created_unix) and how long the fit took \
(fit_seconds); with SOURCE_DATE_EPOCH set (seconds since 1970, the reproducible-builds convention) it \
records that time as created_unix and a fit time of 0, so two runs write byte-identical files."
)]
pub struct TrainArgs {
    /// Training data: a CSV with a header row (`,` `;` or tab separated).
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// Name of the label column (two classes).
    #[arg(long, value_name = "COLUMN")]
    pub label: String,
    /// The label value that is the positive ("bad", default) class.
    #[arg(long, value_name = "VALUE")]
    pub positive: String,
    /// Columns to leave out, comma separated (e.g. ids, leakage).
    #[arg(long, value_delimiter = ',', value_name = "COL,...")]
    pub drop: Vec<String>,
    /// JSON schema overriding inferred column types:
    /// {"types": {"column": "numeric" | "categorical"}}, and optionally
    /// "monotone" and "history" ({"name", "unit", "channels": [{"name",
    /// "columns": [oldest, ..., last]}]}, as --sequence).
    #[arg(long, value_name = "FILE.json")]
    pub schema: Option<PathBuf>,
    /// One channel of the customer's history: a name and its columns, one per
    /// step, oldest first, listed explicitly (e.g. status=PAY_6,PAY_5,...,PAY_0).
    /// Repeat for more channels (same number of columns each). The sequence
    /// kinds (gru, tcn) read the history; the flat kinds see the same columns
    /// as plain features, so one command line trains every kind.
    #[arg(long, value_name = "NAME=COL,COL,...", help_heading = "History")]
    pub sequence: Vec<String>,
    /// The history's name in texts and views (default: history).
    #[arg(long, value_name = "NAME", help_heading = "History")]
    pub history_name: Option<String>,
    /// The unit of one step, for texts like "2 months ago" (default: month).
    #[arg(long, value_name = "UNIT", help_heading = "History")]
    pub history_unit: Option<String>,
    /// Model kind (see `ferrisk kinds`), a comma list, or all.
    #[arg(long, default_value = "all", value_name = "KIND")]
    pub model: String,
    /// Output: a directory (files named <kind>.frk) or, for one kind, a .frk path.
    #[arg(long, default_value = "models", value_name = "PATH")]
    pub out: PathBuf,
    /// Folds of the stratified cross-validation over the training rows (never
    /// the test rows): its out-of-fold predictions give the CV AUC, choose the
    /// calibration and the threshold, and are the score drift baseline.
    #[arg(long, default_value_t = 5, value_name = "K")]
    pub cv: usize,
    /// Seed for the split, sampling and every model's randomness.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fraction of rows held out (stratified) for the test metrics; 0 fits on
    /// every row and stores the out-of-fold metrics instead (and says so).
    #[arg(long, default_value_t = 0.3, help_heading = "Evaluation")]
    pub test_size: f64,
    /// Evaluate on this labelled CSV (same columns) instead of a split; every
    /// row of --data trains.
    #[arg(
        long,
        value_name = "FILE.csv",
        conflicts_with = "split_by",
        help_heading = "Evaluation"
    )]
    pub test_data: Option<PathBuf>,
    /// Out-of-time validation: train on rows whose COLUMN is below --split-at,
    /// test on the others (numbers compare as numbers, other values as text,
    /// so ISO dates work). The column is left out of the features.
    #[arg(
        long,
        value_name = "COLUMN",
        requires = "split_at",
        help_heading = "Evaluation"
    )]
    pub split_by: Option<String>,
    /// The cut-off of --split-by (e.g. 2024-01-01).
    #[arg(
        long,
        value_name = "VALUE",
        requires = "split_by",
        help_heading = "Evaluation"
    )]
    pub split_at: Option<String>,
    /// A fixed decision threshold on the probability of the positive class
    /// (instead of --threshold-by).
    #[arg(long, conflicts_with = "threshold_by", help_heading = "Decision")]
    pub threshold: Option<f32>,
    /// How the threshold is chosen on out-of-fold predictions of the training
    /// rows: cost:FN=5,FP=1 (lowest expected cost; FN = a bad customer
    /// approved, FP = a good one refused), approval-rate:0.7, max-f1, ks.
    #[arg(
        long,
        default_value = "max-f1",
        value_name = "POLICY",
        help_heading = "Decision"
    )]
    pub threshold_by: String,
    /// Calibration: auto takes the lowest cross-fitted log-loss on
    /// out-of-fold outputs among the kind's own, Platt scaling and (forest)
    /// isotonic regression; own; platt; isotonic.
    #[arg(long, value_enum, default_value_t = CalibrationChoice::Auto, help_heading = "Decision")]
    pub calibration: CalibrationChoice,
    /// Class weights: `balanced` (class c weighs n / (2·n_c), n the labelled
    /// rows, n_c those of class c), POSITIVE=W,NEGATIVE=W with the label's
    /// values (e.g. bad=5,good=1), or none (every row weighs 1). Every kind
    /// fits a row of weight W as if it were there W times (its loss,
    /// impurity or gradient times W); the weights are stored in the file's
    /// params (class_weight). Probabilities then follow the weighted classes.
    #[arg(long, default_value = "none", value_name = "SPEC")]
    pub class_weight: String,
    /// Training threads (default: all cores). The model does not depend on
    /// it: with SOURCE_DATE_EPOCH set, any --threads writes the same bytes.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Epoch-trained kinds (attention, gru, tcn): stop each fit (every CV fold
    /// and the final model) after this many seconds, keeping its best epoch
    /// so far (Ctrl-C does the same for the running fit).
    #[arg(long, value_name = "SECONDS")]
    pub max_time: Option<f64>,
    /// Every model kind's own flags (declared with the kind, in `ferrisk_train::models`).
    #[command(flatten)]
    pub kinds: KindParams,
    /// Scorecard: points at the base odds.
    #[arg(long, default_value_t = 600.0, help_heading = "Scorecard and reasons")]
    pub score_base: f32,
    /// Scorecard: good:bad odds that score `--score-base` points (e.g. 50 for 50:1).
    #[arg(long, default_value_t = 50.0, help_heading = "Scorecard and reasons")]
    pub score_odds: f32,
    /// Scorecard: points to double the odds (PDO).
    #[arg(long, default_value_t = 20.0, help_heading = "Scorecard and reasons")]
    pub score_pdo: f32,
    /// Reason catalogue (JSON): {"feature": {"en": "text with {value}", "zh": "..."}}.
    /// Features without an entry get generated texts.
    #[arg(long, value_name = "FILE.json", help_heading = "Scorecard and reasons")]
    pub reasons: Option<PathBuf>,
    /// Protected attributes, comma separated: a numeric column with its
    /// bands (age_in_years:<25, or cut points age_in_years:25/40/60), any
    /// other column by value. They are left out of the model's inputs
    /// (unless --use-protected), never given as reasons, audited per group
    /// on held-out rows (approval rate, adverse-impact ratio, TPR/FPR gaps,
    /// AUC, calibration) and every input is screened as their proxy; the
    /// file stores the audit (`ferrisk inspect`, the page).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "COL[:BANDS],...",
        help_heading = "Governance"
    )]
    pub protected: Vec<String>,
    /// Keep the --protected columns as model inputs (still never reasons).
    #[arg(long, requires = "protected", help_heading = "Governance")]
    pub use_protected: bool,
    /// Monotone constraints, comma separated: COLUMN=+1 (the risk never
    /// falls as the column rises) or COLUMN=-1; numeric inputs only. Enforced
    /// by gbm while fitting; every kind's file is checked by sweeping each
    /// column over its range on held-out rows (`ferrisk inspect`). Added to
    /// the schema file's "monotone".
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "COL=±1,...",
        help_heading = "Governance"
    )]
    pub monotone: Vec<String>,
    /// Print the results as JSON on stdout (tables go to stderr).
    #[arg(long)]
    pub json: bool,
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

pub fn train(a: TrainArgs) -> Result<ExitCode> {
    run(a).map_err(flatten)
}

fn run(a: TrainArgs) -> Result<ExitCode> {
    let threads = match a.threads {
        Some(0) => bail!("--threads must be at least 1"),
        Some(n) => {
            // A rayon pool built without an explicit size (the global one)
            // takes its size from this variable; set before any thread exists.
            std::env::set_var("RAYON_NUM_THREADS", n.to_string());
            n
        }
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let epoch = reproducible::source_date_epoch()?;
    let kinds = kinds(&a.model, &a.kinds)?;
    if !(a.test_size >= 0.0 && a.test_size < 1.0) {
        bail!(
            "--test-size must be 0 (no test rows) or between 0 and 1, got {}",
            a.test_size
        );
    }
    let policy = match a.threshold {
        Some(t) if t > 0.0 && t < 1.0 => Policy::Fixed(t),
        Some(t) => bail!("--threshold must be between 0 and 1, got {t}"),
        None => {
            Policy::parse(&a.threshold_by).map_err(|e| anyhow::anyhow!("--threshold-by: {e}"))?
        }
    };
    if a.max_time.is_some_and(|t| !(t.is_finite() && t > 0.0)) {
        bail!("--max-time must be a number of seconds above 0");
    }
    if a.cv < 2 {
        bail!("--cv needs at least 2 folds, got {}", a.cv);
    }
    let schema = match &a.schema {
        Some(p) => SchemaFile::read(p)?,
        None => SchemaFile::default(),
    };
    let table = Table::read(&a.data)?;
    let protected = crate::common::protected_specs(&a.protected, &table, &a.data)?;
    let mut monotone: Vec<(String, i8)> = schema
        .monotone
        .iter()
        .map(|(c, &d)| (c.clone(), d))
        .collect();
    if let Some((c, d)) = monotone.iter().find(|(_, d)| d.abs() != 1) {
        bail!("schema file: monotone '{c}' is {d}; use 1 or -1");
    }
    for (c, d) in
        ferrisk_train::fairness::parse_monotone(&a.monotone).map_err(anyhow::Error::msg)?
    {
        monotone.retain(|(n, _)| *n != c);
        monotone.push((c, d));
    }
    for (c, _) in &monotone {
        if protected.iter().any(|p| p.column == *c) && !a.use_protected {
            bail!("--monotone names '{c}', a protected column left out of the inputs (add --use-protected to keep it)");
        }
    }
    let mut drop = a.drop.clone();
    for p in &protected {
        if !a.use_protected && !drop.contains(&p.column) {
            drop.push(p.column.clone());
        }
    }
    if let Some(c) = &a.split_by {
        if !drop.contains(c) {
            drop.push(c.clone());
        }
    }
    let ds = data::prepare(&table, &a.label, &a.positive, &drop, &schema)?;
    let history = HistorySpec::from_args(
        &a.sequence,
        a.history_name.as_deref(),
        a.history_unit.as_deref(),
        schema.history.as_ref(),
    )?;
    if let Some(h) = &history {
        h.check(&ds, &table.header, &table.file_name())?;
    }
    let no_history: Vec<&str> = kinds
        .iter()
        .filter(|k| k.needs_history())
        .map(|k| k.id())
        .collect();
    if history.is_none() && !no_history.is_empty() {
        if a.model != "all" {
            bail!(
                "{} read(s) a customer's history: give its columns with --sequence \
                 NAME=COL,COL,... (oldest first; repeat per channel) or a schema file's \"history\"",
                no_history.join(", ")
            );
        }
        eprintln!(
            "note: {} skipped: they need a history (--sequence NAME=COL,COL,...)",
            no_history.join(", ")
        );
    }
    let kinds: Vec<_> = kinds
        .into_iter()
        .filter(|k| history.is_some() || !k.needs_history())
        .collect();
    for (c, _) in &monotone {
        match ds.features.iter().find(|(_, n, _)| n == c) {
            Some((_, _, data::ColType::Numeric)) => {}
            Some(_) => {
                bail!("--monotone: '{c}' is categorical; constraints apply to numeric features")
            }
            None => bail!("--monotone: '{c}' is not a feature of {}", a.data.display()),
        }
    }
    let evaluation = match (&a.test_data, &a.split_by, &a.split_at) {
        (Some(p), _, _) => {
            let t = Table::read(p)?;
            let d = data::prepare(&t, &a.label, &a.positive, &drop, &schema)
                .with_context(|| format!("--test-data {}", p.display()))?;
            Evaluation::File {
                table: Box::new(t),
                ds: d,
            }
        }
        (None, Some(column), Some(cutoff)) => Evaluation::OutOfTime {
            column: column.clone(),
            cutoff: cutoff.clone(),
        },
        _ if a.test_size == 0.0 => Evaluation::None,
        _ => Evaluation::Split(a.test_size),
    };
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
    let class_weight =
        ClassWeights::parse(&a.class_weight, &ds.positive, &ds.negative, &ds.labels)?;
    if let Some(w) = &class_weight {
        eprintln!("class weights: {}", w.describe());
    }
    let cfg = TrainConfig {
        seed: a.seed,
        evaluation,
        folds: a.cv,
        policy,
        calibration: a.calibration,
        kinds: a.kinds.clone(),
        scorecard: ferrisk::credit::Scorecard {
            base_score: a.score_base,
            base_odds: a.score_odds,
            pdo: a.score_pdo,
        },
        reasons: match &a.reasons {
            Some(p) => read_catalogue(p, &ds, history.as_ref())?,
            None => Vec::new(),
        },
        class_weight,
        threads,
        protected,
        use_protected: a.use_protected,
        monotone,
        history,
        max_time: a.max_time,
    };
    let single_file = kinds.len() == 1 && a.out.extension().is_some_and(|e| e == "frk");
    if !single_file {
        std::fs::create_dir_all(&a.out)
            .with_context(|| format!("{}: cannot create directory", a.out.display()))?;
    }
    let bars = Bars::new();
    if kinds.iter().any(|k| k.stops_on_interrupt()) {
        stop_attention_on_ctrl_c();
    }
    let mut summary = Vec::new();
    for kind in kinds {
        eprintln!("\ntraining {} ...", kind.name());
        let mut trained = pipeline::train(kind.as_ref(), &table, &ds, &cfg, &bars)?;
        if let Some(epoch) = epoch {
            reproducible::stamp(&mut trained.bundle, epoch);
            trained.bytes = ferrisk::format::encode(&trained.bundle)?;
        }
        let path = if single_file {
            a.out.clone()
        } else {
            a.out.join(format!("{}.frk", kind.id()))
        };
        write_atomic(&path, &trained.bytes)?;
        let b = &trained.bundle;
        if let Some(r) = &b.report {
            let on = b
                .decision
                .as_ref()
                .map_or("test split", |d| d.evaluated_on.as_str());
            print_metrics(
                &format!("{} — {on} ({})", kind.name(), path.display()),
                &r.test,
                Some(b),
            );
        }
        for note in &b.metadata.notes {
            eprintln!("  note: {note}");
        }
        if let Some(g) = &b.governance {
            crate::inspect::print_section(g, &mut std::io::stderr());
        }
        if b.embeds_training_rows() {
            eprintln!(
                "  warning: {} embeds support vectors, which are (scaled) rows of training customers; \
                 treat the file as personal data",
                path.display()
            );
        }
        summary.push(TrainedView {
            kind: kind.id().to_string(),
            file: path.display().to_string(),
            bytes: trained.bytes.len(),
            report: MetricsView::report(b),
        });
    }
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a reason catalogue: {"feature": {"en": "...", "zh": "..."}}; every
/// name must be a feature of the data or a channel of the history (the text
/// of a month's value in that channel, with `{value}` and `{age}`).
fn read_catalogue(
    path: &Path,
    ds: &data::Dataset,
    history: Option<&HistorySpec>,
) -> Result<Vec<ferrisk::credit::ReasonText>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let map: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> =
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: expected {{\"feature\": {{\"en\": \"text\", ...}}}}",
                path.display()
            )
        })?;
    let channel = |name: &str| history.is_some_and(|h| h.channels.iter().any(|c| c.name == name));
    if let Some(name) = map
        .keys()
        .find(|name| !ds.features.iter().any(|(_, f, _)| f == *name) && !channel(name))
    {
        bail!(
            "{}: reason texts for '{name}', which is not a feature of the data{}",
            path.display(),
            if history.is_some() {
                " nor a channel of the history"
            } else {
                ""
            }
        );
    }
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

/// One written model in `train --json`: its kind, file and stored report.
#[derive(serde::Serialize)]
struct TrainedView {
    kind: String,
    file: String,
    bytes: usize,
    /// The stored test metrics, CV and split sizes, at the top level.
    #[serde(flatten)]
    report: Option<MetricsView>,
}

/// Ctrl-C while training an epoch-based kind (attention, gru, tcn): the
/// running fit (and any later one) stops at its best epoch so far and the files are written; a second
/// Ctrl-C exits at once.
fn stop_attention_on_ctrl_c() {
    std::thread::spawn(|| {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                ferrisk_train::interrupt::request();
                eprintln!(
                    "\ninterrupted: training stops at its best epoch so far and the file is \
                     written; Ctrl-C again to abort"
                );
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        });
    });
}
