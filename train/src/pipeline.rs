//! The training pipeline of one model kind: split, fit the preprocessing
//! on the training rows, fit the model, export it, and evaluate the
//! *exported file* through the runtime scorer, so the stored figures are
//! exactly what every other scorer (CLI, server, browser) reproduces.

use std::time::Instant;

use ferrisk::bundle::{Algorithm, Bundle, CvReport, Metadata, TrainingReport};
use ferrisk::policy::{self, Decision, Policy};
use ferrisk::{format, metrics, ScoreOptions, Scorer};

use crate::calibrate::{self, CalibrationChoice};

use crate::bins::Matrix;
use crate::data::{Cells, Column, Dataset, Table};
use crate::models::{FitInput, KindParams, Trainer};
use crate::prep;
use crate::split;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{path}: line {line}: {source}")]
    Row {
        path: String,
        line: usize,
        source: ferrisk::ScoreError,
    },
    #[error("{kind}: {message}")]
    Fit { kind: &'static str, message: String },
    #[error(transparent)]
    Format(#[from] ferrisk::FormatError),
    #[error("{0}")]
    Data(String),
    #[error(transparent)]
    Table(#[from] crate::data::DataError),
}

/// Where the evaluation rows come from.
#[derive(Debug, Clone)]
pub enum Evaluation {
    /// A stratified random share of the rows (`--test-size`).
    Split(f64),
    /// No test rows (`--test-size 0`): every row trains the model and the
    /// stored metrics are the out-of-fold ones.
    None,
    /// Another labelled file (`--test-data`); every row of the data trains.
    File { table: Box<Table>, ds: Dataset },
    /// Out of time (`--split-by COLUMN --split-at VALUE`): rows whose value
    /// is below the cut-off train, the others test. Numbers compare as
    /// numbers, anything else as text (ISO dates sort as text).
    OutOfTime { column: String, cutoff: String },
}

/// Everything that parameterises training, with the CLI's defaults.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub seed: u64,
    pub evaluation: Evaluation,
    /// Folds of the cross-validation over the training rows: their
    /// out-of-fold predictions choose the calibration and the threshold and
    /// give the drift baseline.
    pub folds: usize,
    pub policy: Policy,
    pub calibration: CalibrationChoice,
    /// Every kind's own parameters.
    pub kinds: KindParams,
    pub scorecard: ferrisk::credit::Scorecard,
    pub reasons: Vec<ferrisk::credit::ReasonText>,
    /// Class weights (`--class-weight`); `None`: every row weighs 1.
    pub class_weight: Option<crate::weights::ClassWeights>,
    /// Threads a trainer may use (`--threads`); the model does not depend on it.
    pub threads: usize,
    /// Protected attributes (`--protected`): audited, screened for proxies,
    /// never reasons. The caller leaves them out of the inputs unless
    /// `use_protected`.
    pub protected: Vec<crate::fairness::ProtectedSpec>,
    pub use_protected: bool,
    /// Monotone constraints (`--monotone`, schema file): feature, ±1.
    pub monotone: Vec<(String, i8)>,
    /// The customer's history (`--sequence`, schema file), checked against
    /// the data: the sequence kinds' input; flat kinds ignore it.
    pub history: Option<crate::history::HistorySpec>,
    /// `--max-time`: seconds after which an epoch-trained kind (attention,
    /// gru, tcn) ends each fit (every CV fold and the final model) with its
    /// best epoch so far.
    pub max_time: Option<f64>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 42,
            evaluation: Evaluation::Split(0.3),
            folds: 5,
            policy: Policy::MaxF1,
            calibration: CalibrationChoice::Auto,
            kinds: KindParams::default(),
            scorecard: Default::default(),
            reasons: Vec::new(),
            class_weight: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            protected: Vec::new(),
            use_protected: false,
            monotone: Vec::new(),
            history: None,
            max_time: None,
        }
    }
}

impl TrainConfig {
    /// The parameters that shaped a model of `kind`, for the file's metadata.
    pub fn params_for(&self, kind: &dyn Trainer) -> Vec<(String, String)> {
        let mut p = vec![
            ("seed".to_string(), self.seed.to_string()),
            ("evaluation".into(), self.evaluation.text()),
            ("cv_folds".into(), self.folds.to_string()),
            ("threshold_policy".into(), self.policy.text()),
            (
                "calibration".into(),
                format!("{:?}", self.calibration).to_lowercase(),
            ),
        ];
        if let Some(w) = &self.class_weight {
            p.push(("class_weight".into(), w.describe()));
        }
        if !self.protected.is_empty() {
            let list: Vec<String> = self
                .protected
                .iter()
                .map(|s| match s.bands().as_str() {
                    "" => s.column.clone(),
                    b => format!("{}:{b}", s.column),
                })
                .collect();
            p.push(("protected".into(), list.join(",")));
            p.push(("use_protected".into(), self.use_protected.to_string()));
        }
        if !self.monotone.is_empty() {
            let list: Vec<String> = self
                .monotone
                .iter()
                .map(|(c, d)| format!("{c}={d:+}"))
                .collect();
            p.push(("monotone".into(), list.join(",")));
        }
        if kind.stops_on_interrupt() {
            p.push((
                "max_time".into(),
                self.max_time.map_or("none".into(), |v| v.to_string()),
            ));
        }
        if kind.needs_history() {
            if let Some(h) = &self.history {
                p.push(("history".into(), h.describe()));
            }
        }
        p.extend(kind.params());
        p
    }
}

impl Evaluation {
    /// The flag form, for the metadata.
    pub fn text(&self) -> String {
        match self {
            Evaluation::Split(f) => format!("test-size {f}"),
            Evaluation::None => "test-size 0".into(),
            Evaluation::File { table, .. } => format!("test-data {}", table.file_name()),
            Evaluation::OutOfTime { column, cutoff } => {
                format!("split-by {column} at {cutoff}")
            }
        }
    }
}

/// Progress events for the CLI's bars.
pub trait Progress: Sync {
    fn start(&self, label: &str, total: u64);
    fn set(&self, done: u64);
    fn finish(&self);
    /// One line of progress text (a trainer's epoch): above the bar on a
    /// terminal, a plain line in a log.
    fn line(&self, _text: &str) {}
}

/// A CV fold's fit: no bars of its own, its lines prefixed with the fold.
struct FoldLines<'a> {
    inner: &'a dyn Progress,
    fold: usize,
    folds: usize,
}

impl Progress for FoldLines<'_> {
    fn start(&self, _: &str, _: u64) {}
    fn set(&self, _: u64) {}
    fn finish(&self) {}
    fn line(&self, text: &str) {
        self.inner
            .line(&format!("CV fold {}/{}: {text}", self.fold, self.folds));
    }
}

/// No progress output (tests, CV inner fits).
pub struct Quiet;
impl Progress for Quiet {
    fn start(&self, _: &str, _: u64) {}
    fn set(&self, _: u64) {}
    fn finish(&self) {}
}

/// Fits preprocessing and model on `rows`; returns the bundle (no report,
/// empty metadata) and notes about the fit.
pub fn fit_bundle(
    kind: &dyn Trainer,
    table: &Table,
    ds: &Dataset,
    rows: &[usize],
    cfg: &TrainConfig,
    progress: &dyn Progress,
) -> Result<(Bundle, Vec<String>), TrainError> {
    let schema = prep::fit_schema(table, ds, rows, kind.encoding())?;
    let x = prep::encode_rows(&schema, table, ds, rows)?;
    let y: Vec<bool> = rows.iter().map(|&r| ds.labels[r]).collect();
    let background = x.column_means();
    let weights = crate::weights::row_weights(cfg.class_weight.as_ref(), &y);
    let fitted = kind
        .fit(&FitInput {
            x: &x,
            y: &y,
            weights: &weights,
            schema: &schema,
            seed: cfg.seed,
            threads: cfg.threads.max(1),
            progress,
            monotone: &cfg.monotone,
            history: cfg.history.as_ref(),
            max_time: cfg.max_time,
        })
        .map_err(|message| TrainError::Fit {
            kind: kind.id(),
            message,
        })?;
    progress.finish();
    // Only for kinds whose explanations average over it, from the training
    // rows only, and no larger than the explanation budget allows.
    let background_set = if fitted.model.uses_background_set() {
        let groups = ferrisk::kinds::groups(&schema);
        let design = ferrisk::kinds::Design {
            schema: &schema,
            width: schema.width(),
            background: &background,
            groups: &groups,
            background_set: None,
        };
        let call = ferrisk::kinds::coalition_cost(&design, fitted.model.cost(&design).predict);
        let rows = ferrisk::explain::shapley::affordable_rows(groups.len(), call);
        crate::background::background_set(&x, &schema, cfg.seed, rows)
    } else {
        None
    };
    // A catalogue may name a history's channels (texts of its steps): only
    // the kinds over that history carry those.
    let reasons = cfg
        .reasons
        .iter()
        .filter(|r| {
            schema.position(&r.feature).is_some()
                || fitted
                    .model
                    .sequence()
                    .is_some_and(|s| s.history.channels.iter().any(|c| c.name == r.feature))
        })
        .cloned()
        .collect();
    Ok((
        Bundle {
            algorithm: Algorithm::new(kind.id(), kind.name()),
            schema,
            model: fitted.model,
            calibration: fitted.calibration,
            threshold: 0.5,
            background,
            background_set,
            report: None,
            metadata: Metadata::default(),
            scorecard: cfg.scorecard,
            reasons,
            drift: None,
            decision: None,
            governance: None,
        },
        fitted.notes,
    ))
}

/// Scores evaluation rows once with the exported file's `scorer`: their
/// metrics at its threshold, the policy's figures there and at 0.5, and
/// their probabilities. `hint` ends the error of a one-class set.
#[allow(clippy::type_complexity)]
pub fn evaluate_held(
    scorer: &Scorer,
    (table, ds, rows): (&Table, &Dataset, &[usize]),
    policy: &Policy,
    hint: &str,
) -> Result<
    (
        metrics::Metrics,
        (policy::CutFigures, policy::CutFigures),
        Vec<f32>,
    ),
    TrainError,
> {
    let threshold = scorer.bundle().threshold;
    let probs = score_rows(scorer, table, rows)?;
    let labels: Vec<bool> = rows.iter().map(|&r| ds.labels[r]).collect();
    let m = metrics::compute(&probs, &labels, threshold).ok_or_else(|| {
        TrainError::Data(format!("the evaluation rows have only one class; {hint}"))
    })?;
    let at = policy::figures(&probs, &labels, threshold, policy);
    let half = policy::figures(&probs, &labels, 0.5, policy);
    Ok((m, (at, half), probs))
}

/// Scores table rows through the runtime's row scorer, exactly as CSV
/// scoring everywhere else does.
pub fn score_rows(scorer: &Scorer, table: &Table, rows: &[usize]) -> Result<Vec<f32>, TrainError> {
    Ok(score_rows_full(scorer, table, rows)?.0)
}

/// [`score_rows`] with the raw model outputs (before calibration).
pub fn score_rows_full(
    scorer: &Scorer,
    table: &Table,
    rows: &[usize],
) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
    let map = scorer
        .map_header(&table.header)
        .map_err(|e| TrainError::Data(format!("{}: {e}", table.file_name())))?;
    let cells = Cells::mapped(&scorer.bundle().schema, table, &map)?;
    let mut scoring = scorer.rows(ScoreOptions::default());
    let mut probs = Vec::with_capacity(rows.len());
    let mut outputs = Vec::with_capacity(rows.len());
    let mut values = Vec::new();
    for &r in rows {
        let row_err = |source| TrainError::Row {
            path: table.file_name(),
            line: table.line(r),
            source,
        };
        cells.row(r, &mut values).map_err(row_err)?;
        let s = scoring.score_values(&values, Vec::new()).map_err(row_err)?;
        probs.push(s.prediction.probability);
        outputs.push(s.prediction.margin);
    }
    Ok((probs, outputs))
}

/// Round-trips a bundle through the file format and loads it for scoring.
pub fn exported_scorer(bundle: &Bundle) -> Result<(Vec<u8>, Scorer), TrainError> {
    let bytes = format::encode(bundle)?;
    let scorer = Scorer::from_bytes(&bytes)?;
    Ok((bytes, scorer))
}

/// Out-of-fold predictions of a k-fold cross-validation over `rows`.
pub struct OutOfFold {
    /// The rows, in fold order, with their fold.
    pub rows: Vec<usize>,
    pub fold_of: Vec<usize>,
    /// Probabilities under the kind's own calibration, and raw outputs.
    pub probabilities: Vec<f32>,
    pub outputs: Vec<f32>,
    pub labels: Vec<bool>,
    /// ROC AUC of each fold.
    pub fold_auc: Vec<f64>,
}

/// Stratified k-fold over `rows` (never the test rows): each fold scored by
/// the whole pipeline (preprocessing and model) fitted on the others.
pub fn out_of_fold(
    kind: &dyn Trainer,
    table: &Table,
    ds: &Dataset,
    rows: &[usize],
    k: usize,
    cfg: &TrainConfig,
    progress: &dyn Progress,
) -> Result<OutOfFold, TrainError> {
    let labels: Vec<bool> = rows.iter().map(|&r| ds.labels[r]).collect();
    let folds = split::stratified_folds(&labels, k, cfg.seed);
    progress.start(
        &format!("{} {k}-fold CV on the training rows", kind.id()),
        folds.len() as u64,
    );
    let mut out = OutOfFold {
        rows: Vec::with_capacity(rows.len()),
        fold_of: Vec::with_capacity(rows.len()),
        probabilities: Vec::with_capacity(rows.len()),
        outputs: Vec::with_capacity(rows.len()),
        labels: Vec::with_capacity(rows.len()),
        fold_auc: Vec::with_capacity(folds.len()),
    };
    for (i, fold) in folds.iter().enumerate() {
        let inner: Vec<usize> = split::complement(rows.len(), fold)
            .into_iter()
            .map(|j| rows[j])
            .collect();
        let held: Vec<usize> = fold.iter().map(|&j| rows[j]).collect();
        let lines = FoldLines {
            inner: progress,
            fold: i + 1,
            folds: folds.len(),
        };
        let (bundle, _) = fit_bundle(kind, table, ds, &inner, cfg, &lines)?;
        let (_, scorer) = exported_scorer(&bundle)?;
        let (probs, outputs) = score_rows_full(&scorer, table, &held)?;
        let y: Vec<bool> = held.iter().map(|&r| ds.labels[r]).collect();
        let m = metrics::compute(&probs, &y, 0.5)
            .ok_or_else(|| TrainError::Data(format!("CV fold {} has only one class", i + 1)))?;
        out.fold_auc.push(m.roc_auc);
        out.fold_of.extend(std::iter::repeat_n(i, held.len()));
        out.rows.extend(held);
        out.probabilities.extend(probs);
        out.outputs.extend(outputs);
        out.labels.extend(y);
        progress.set(i as u64 + 1);
    }
    progress.finish();
    Ok(out)
}

/// The outcome of training one kind.
pub struct Trained {
    pub bytes: Vec<u8>,
    pub bundle: Bundle,
}

/// Seconds since the epoch (the CLI replaces it by `SOURCE_DATE_EPOCH`
/// when that is set: see `reproducible`).
fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The training rows, and the evaluation rows with their table, labels
/// and a description.
type Rows<'a> = (Vec<usize>, &'a Table, &'a Dataset, Vec<usize>, String);

/// The training and evaluation rows of `cfg.evaluation`.
fn evaluation_rows<'a>(
    table: &'a Table,
    ds: &'a Dataset,
    cfg: &'a TrainConfig,
) -> Result<Rows<'a>, TrainError> {
    let all: Vec<usize> = (0..ds.labels.len()).collect();
    Ok(match &cfg.evaluation {
        Evaluation::Split(f) => {
            let (train, test) = split::stratified_split(&ds.labels, *f, cfg.seed);
            let text = format!(
                "test split ({} %, stratified, seed {}): {} rows",
                ferrisk::num::F64(f * 100.0),
                cfg.seed,
                test.len()
            );
            (train, table, ds, test, text)
        }
        Evaluation::None => (all, table, ds, Vec::new(), String::new()),
        Evaluation::File { table: t, ds: d } => {
            let test: Vec<usize> = (0..d.labels.len()).collect();
            let text = format!("test file {}: {} rows", t.file_name(), test.len());
            (all, &**t, d, test, text)
        }
        Evaluation::OutOfTime { column, cutoff } => {
            let col = table
                .header
                .iter()
                .position(|h| h == column)
                .ok_or_else(|| {
                    TrainError::Data(format!(
                        "{}: --split-by: no column '{column}'",
                        table.file_name()
                    ))
                })?;
            let numeric_cut = cutoff.trim().parse::<f64>().ok();
            // The cell's number (`str::parse::<f64>` of its text) and text.
            let numbers: Vec<Option<f64>>;
            let number: Box<dyn Fn(usize) -> Option<f64> + '_> = match table.data(col) {
                Some(Column::Numbers(v)) => {
                    Box::new(move |r| v.get(r).copied().filter(|x| !x.is_nan()))
                }
                _ => {
                    let t = table.texts(col)?;
                    numbers = t.dict.iter().map(|c| c.parse::<f64>().ok()).collect();
                    let numbers = &numbers;
                    Box::new(move |r| {
                        t.codes
                            .get(r)
                            .and_then(|c| numbers.get(c as usize).copied().flatten())
                    })
                }
            };
            let mut train = Vec::new();
            let mut test = Vec::new();
            for r in all {
                let older = match (numeric_cut, number(r)) {
                    (Some(c), Some(v)) => v < c,
                    (Some(_), None) => {
                        return Err(TrainError::Data(format!(
                            "{}: line {}: --split-by {column}: '{}' is not a number, but the cut-off {cutoff} is",
                            table.file_name(),
                            table.line(r),
                            table.texts(col)?.text(r)
                        )))
                    }
                    (None, _) => table.texts(col)?.text(r) < cutoff.as_str(),
                };
                if older {
                    train.push(r)
                } else {
                    test.push(r)
                }
            }
            if train.is_empty() || test.is_empty() {
                return Err(TrainError::Data(format!(
                    "--split-by {column} at {cutoff}: {} rows before and {} from the cut-off; both sides need rows",
                    train.len(),
                    test.len()
                )));
            }
            let text = format!(
                "out of time: rows with {column} >= {cutoff} ({} rows; trained on the {} before)",
                test.len(),
                train.len()
            );
            (train, table, ds, test, text)
        }
    })
}

/// Trains one kind end to end, touching the evaluation rows once, at the
/// end:
/// 1. k-fold cross-validation over the training rows only: out-of-fold
///    outputs choose the calibration, then the threshold (by the policy),
///    and give the score drift baseline;
/// 2. fit on all training rows, apply that calibration and threshold,
///    export;
/// 3. evaluate the exported file on the evaluation rows (or, without any,
///    store the out-of-fold metrics and say so).
pub fn train(
    kind: &dyn Trainer,
    table: &Table,
    ds: &Dataset,
    cfg: &TrainConfig,
    progress: &dyn Progress,
) -> Result<Trained, TrainError> {
    let (train_rows, eval_table, eval_ds, eval_rows, eval_text) = evaluation_rows(table, ds, cfg)?;
    let folds = cfg.folds.max(2);
    let oof = out_of_fold(kind, table, ds, &train_rows, folds, cfg, progress)?;

    let started = Instant::now();
    let (mut bundle, notes) = fit_bundle(kind, table, ds, &train_rows, cfg, progress)?;
    let fit_seconds = started.elapsed().as_secs_f64();

    // Calibration, then threshold, on the out-of-fold predictions.
    let cal = calibrate::choose(
        cfg.calibration,
        bundle.calibration.clone(),
        bundle.model.output_kind(),
        &calibrate::Held {
            outputs: &oof.outputs,
            own: &oof.probabilities,
            labels: &oof.labels,
            fold_of: &oof.fold_of,
            folds,
        },
    )
    .map_err(TrainError::Data)?;
    bundle.calibration = cal.calibration;
    let threshold =
        policy::choose(&cfg.policy, &cal.probabilities, &oof.labels).ok_or_else(|| {
            TrainError::Data(
                "the training rows have only one class; cannot choose a threshold".into(),
            )
        })?;
    bundle.threshold = threshold;
    let chosen_on = format!(
        "out-of-fold predictions of the training rows ({folds}-fold CV, {} rows)",
        oof.rows.len()
    );
    let chosen = policy::figures(&cal.probabilities, &oof.labels, threshold, &cfg.policy);

    bundle.metadata = Metadata {
        producer: format!("ferrisk {}", env!("CARGO_PKG_VERSION")),
        created_unix: now_unix(),
        data_name: table.file_name(),
        data_sha256: table.sha256.clone(),
        data_rows: ds.labels.len() as u64,
        params: cfg.params_for(kind),
        notes,
    };
    let (_, scorer) = exported_scorer(&bundle)?;

    // The evaluation rows, touched once.
    let mut eval_scores = None;
    let (test, evaluated, evaluated_on, test_rows) = if eval_rows.is_empty() {
        let m = metrics::compute(&cal.probabilities, &oof.labels, threshold)
            .ok_or_else(|| TrainError::Data("the training rows have only one class".into()))?;
        let text = format!(
            "out-of-fold predictions of every row ({folds}-fold CV; no test rows, so these are the stored metrics)"
        );
        (m, None, text, 0)
    } else {
        let (m, cuts, probs) = evaluate_held(
            &scorer,
            (eval_table, eval_ds, &eval_rows),
            &cfg.policy,
            "use more data or a larger --test-size",
        )?;
        eval_scores = Some(probs);
        (m, Some(cuts), eval_text.clone(), eval_rows.len() as u64)
    };

    // Drift baseline from held-out predictions, never the model's own
    // training fit (a forest is far more confident on the rows it grew on):
    // with a random test split, the exported model's scores of those rows
    // (the same model a scored batch meets, so discrete scores such as a
    // stump's fall in the same bins); otherwise (no test rows, or test rows
    // from another file or period) the training rows' out-of-fold scores.
    let (drift, baseline) = match (&cfg.evaluation, &eval_scores) {
        (Evaluation::Split(_), Some(probs)) => (
            prep::fit_drift(&scorer.bundle().schema, table, ds, &eval_rows, probs)?,
            format!(
                "the test split's {} rows scored by this model",
                eval_rows.len()
            ),
        ),
        _ => (
            prep::fit_drift(
                &scorer.bundle().schema,
                table,
                ds,
                &oof.rows,
                &cal.probabilities,
            )?,
            format!(
                "the {} training rows' out-of-fold scores ({folds}-fold CV)",
                oof.rows.len()
            ),
        ),
    };
    let governance = governance(
        kind,
        cfg,
        &scorer,
        &oof,
        &cal.probabilities,
        (table, &train_rows),
        (eval_table, eval_ds, &eval_rows, eval_scores.as_deref()),
        &eval_text,
    )?;
    let mut bundle = scorer.into_bundle();
    bundle.drift = Some(drift);
    bundle.governance = governance;
    bundle
        .metadata
        .notes
        .push(format!("drift baseline: {baseline}"));
    bundle.report = Some(TrainingReport {
        test,
        train_rows: train_rows.len() as u64,
        test_rows,
        cv: Some(CvReport {
            folds: oof.fold_auc.clone(),
        }),
        fit_seconds,
    });
    bundle.decision = Some(Decision {
        policy: cfg.policy,
        chosen_on,
        chosen,
        evaluated,
        evaluated_on,
        calibration: cal.method,
        calibration_chosen_by: cal.chosen_by,
    });
    let bytes = format::encode(&bundle)?;
    Ok(Trained { bytes, bundle })
}

/// The governance section ([`crate::fairness::section`]) on the evaluation
/// rows, or, without any, the training rows' out-of-fold predictions.
#[allow(clippy::too_many_arguments)]
fn governance(
    kind: &dyn Trainer,
    cfg: &TrainConfig,
    scorer: &Scorer,
    oof: &OutOfFold,
    oof_probs: &[f32],
    fit: (&Table, &[usize]),
    eval: (&Table, &Dataset, &[usize], Option<&[f32]>),
    eval_text: &str,
) -> Result<Option<ferrisk::governance::Section>, TrainError> {
    let (eval_table, eval_ds, eval_rows, eval_probs) = eval;
    let eval_labels: Vec<bool> = eval_rows.iter().map(|&r| eval_ds.labels[r]).collect();
    let held = match eval_probs {
        Some(p) if !eval_rows.is_empty() => crate::fairness::Held {
            table: eval_table,
            rows: eval_rows,
            probs: p,
            labels: &eval_labels,
            on: format!("held-out rows: {eval_text}"),
        },
        _ => crate::fairness::Held {
            table: fit.0,
            rows: &oof.rows,
            probs: oof_probs,
            labels: &oof.labels,
            on: format!(
                "out-of-fold predictions of the {} training rows (no evaluation rows)",
                oof.rows.len()
            ),
        },
    };
    crate::fairness::section(
        scorer,
        &cfg.protected,
        &cfg.monotone,
        kind.id() == "gbm",
        fit,
        &held,
    )
    .map_err(TrainError::Data)
}

/// Encodes the rows of a table for a bundle (used by benches and tools).
pub fn design(
    bundle: &Bundle,
    table: &Table,
    ds: &Dataset,
    rows: &[usize],
) -> Result<Matrix, TrainError> {
    prep::encode_rows(&bundle.schema, table, ds, rows)
}
