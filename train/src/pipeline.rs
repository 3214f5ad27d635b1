//! The training pipeline of one model kind: split, fit the preprocessing
//! on the training rows, fit the model, export it, and evaluate the
//! *exported file* through the runtime scorer, so the stored figures are
//! exactly what every other scorer (CLI, server, browser) reproduces.

use std::time::Instant;

use ferrisk::bundle::{Algorithm, Bundle, CvReport, Metadata, TrainingReport};
use ferrisk::{format, metrics, ScoreOptions, Scorer};

use crate::bins::Matrix;
use crate::data::{Dataset, Table};
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
}

/// Everything that parameterises training, with the CLI's defaults.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub seed: u64,
    pub test_size: f64,
    pub cv: Option<usize>,
    pub threshold: f32,
    /// Every kind's own parameters.
    pub kinds: KindParams,
    pub scorecard: ferrisk::credit::Scorecard,
    pub reasons: Vec<ferrisk::credit::ReasonText>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 42,
            test_size: 0.3,
            cv: None,
            threshold: 0.5,
            kinds: KindParams::default(),
            scorecard: Default::default(),
            reasons: Vec::new(),
        }
    }
}

impl TrainConfig {
    /// The parameters that shaped a model of `kind`, for the file's metadata.
    pub fn params_for(&self, kind: &dyn Trainer) -> Vec<(String, String)> {
        let mut p = vec![
            ("seed".to_string(), self.seed.to_string()),
            ("test_size".into(), self.test_size.to_string()),
            ("threshold".into(), self.threshold.to_string()),
        ];
        if let Some(k) = self.cv {
            p.push(("cv_folds".into(), k.to_string()));
        }
        p.extend(kind.params());
        p
    }
}

/// Progress events for the CLI's bars.
pub trait Progress: Sync {
    fn start(&self, label: &str, total: u64);
    fn set(&self, done: u64);
    fn finish(&self);
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
    let schema = prep::fit_schema(table, ds, rows, kind.encoding());
    let x =
        prep::encode_rows(&schema, table, ds, rows).map_err(|(line, source)| TrainError::Row {
            path: table.file_name(),
            line,
            source,
        })?;
    let y: Vec<bool> = rows.iter().map(|&r| ds.labels[r]).collect();
    let background = x.column_means();
    let fitted = kind
        .fit(&FitInput {
            x: &x,
            y: &y,
            schema: &schema,
            seed: cfg.seed,
            progress,
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
    Ok((
        Bundle {
            algorithm: Algorithm::new(kind.id(), kind.name()),
            schema,
            model: fitted.model,
            calibration: fitted.calibration,
            threshold: cfg.threshold,
            background,
            background_set,
            report: None,
            metadata: Metadata::default(),
            scorecard: cfg.scorecard,
            reasons: cfg.reasons.clone(),
            drift: None,
        },
        fitted.notes,
    ))
}

/// Scores table rows through the runtime's row scorer, exactly as CSV
/// scoring everywhere else does.
pub fn score_rows(scorer: &Scorer, table: &Table, rows: &[usize]) -> Result<Vec<f32>, TrainError> {
    let map = scorer
        .map_header(&table.header)
        .map_err(|e| TrainError::Data(format!("{}: {e}", table.file_name())))?;
    let mut scoring = scorer.rows(ScoreOptions::default());
    let mut out = Vec::with_capacity(rows.len());
    for &r in rows {
        let s = scoring
            .score_cells(&map, &table.rows[r])
            .map_err(|source| TrainError::Row {
                path: table.file_name(),
                line: table.lines[r],
                source,
            })?;
        out.push(s.prediction.probability);
    }
    Ok(out)
}

/// Round-trips a bundle through the file format and loads it for scoring.
pub fn exported_scorer(bundle: &Bundle) -> Result<(Vec<u8>, Scorer), TrainError> {
    let bytes = format::encode(bundle)?;
    let scorer = Scorer::from_bytes(&bytes)?;
    Ok((bytes, scorer))
}

/// ROC AUC per fold of a stratified k-fold over all rows.
pub fn cross_validate(
    kind: &dyn Trainer,
    table: &Table,
    ds: &Dataset,
    k: usize,
    cfg: &TrainConfig,
    progress: &dyn Progress,
) -> Result<CvReport, TrainError> {
    let folds = split::stratified_folds(&ds.labels, k, cfg.seed);
    progress.start(&format!("{} {k}-fold CV", kind.id()), folds.len() as u64);
    let mut aucs = Vec::with_capacity(folds.len());
    for (i, fold) in folds.iter().enumerate() {
        let train = split::complement(ds.labels.len(), fold);
        let (bundle, _) = fit_bundle(kind, table, ds, &train, cfg, &Quiet)?;
        let (_, scorer) = exported_scorer(&bundle)?;
        let probs = score_rows(&scorer, table, fold)?;
        let labels: Vec<bool> = fold.iter().map(|&r| ds.labels[r]).collect();
        let m = metrics::compute(&probs, &labels, cfg.threshold)
            .ok_or_else(|| TrainError::Data(format!("CV fold {} has only one class", i + 1)))?;
        aucs.push(m.roc_auc);
        progress.set(i as u64 + 1);
    }
    progress.finish();
    Ok(CvReport { folds: aucs })
}

/// The outcome of training one kind.
pub struct Trained {
    pub bytes: Vec<u8>,
    pub bundle: Bundle,
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Trains one kind end to end: optional CV, fit on the training split,
/// export, evaluate the exported file on the test split, store the report.
pub fn train(
    kind: &dyn Trainer,
    table: &Table,
    ds: &Dataset,
    cfg: &TrainConfig,
    progress: &dyn Progress,
) -> Result<Trained, TrainError> {
    let cv = match cfg.cv {
        Some(k) if k >= 2 => Some(cross_validate(kind, table, ds, k, cfg, progress)?),
        _ => None,
    };
    let (train_rows, test_rows) = split::stratified_split(&ds.labels, cfg.test_size, cfg.seed);
    let started = Instant::now();
    let (mut bundle, notes) = fit_bundle(kind, table, ds, &train_rows, cfg, progress)?;
    let fit_seconds = started.elapsed().as_secs_f64();
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
    let probs = score_rows(&scorer, table, &test_rows)?;
    let labels: Vec<bool> = test_rows.iter().map(|&r| ds.labels[r]).collect();
    let test = metrics::compute(&probs, &labels, cfg.threshold).ok_or_else(|| {
        TrainError::Data(
            "the test split has only one class; use more data or a larger --test-size".into(),
        )
    })?;
    let train_probs = score_rows(&scorer, table, &train_rows)?;
    let drift = prep::fit_drift(
        &scorer.bundle().schema,
        table,
        ds,
        &train_rows,
        &train_probs,
    );
    let mut bundle = scorer.into_bundle();
    bundle.drift = Some(drift);
    bundle.report = Some(TrainingReport {
        test,
        train_rows: train_rows.len() as u64,
        test_rows: test_rows.len() as u64,
        cv,
        fit_seconds,
    });
    let bytes = format::encode(&bundle)?;
    Ok(Trained { bytes, bundle })
}

/// Encodes the rows of a table for a bundle (used by benches and tools).
pub fn design(
    bundle: &Bundle,
    table: &Table,
    ds: &Dataset,
    rows: &[usize],
) -> Result<Matrix, TrainError> {
    prep::encode_rows(&bundle.schema, table, ds, rows).map_err(|(line, source)| TrainError::Row {
        path: table.file_name(),
        line,
        source,
    })
}
