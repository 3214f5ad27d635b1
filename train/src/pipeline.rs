//! The training pipeline of one model kind: split, fit the preprocessing
//! on the training rows, fit the model, export it, and evaluate the
//! *exported file* through the runtime scorer, so the stored figures are
//! exactly what every other scorer (CLI, server, browser) reproduces.

use std::time::Instant;

use ferrisk::bundle::{Bundle, CvReport, Metadata, TrainingReport};
use ferrisk::model::{Calibration, Model, ModelKind};
use ferrisk::schema::Encoding;
use ferrisk::{format, metrics, Scorer};

use crate::bins::Matrix;
use crate::data::{Dataset, Table};
use crate::forest::{self, ForestParams};
use crate::gbm::{self, GbmParams};
use crate::linear::{self, LogisticParams, SvmModel, SvmParams};
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
    pub lr: LogisticParams,
    pub svm: SvmParams,
    /// SVMs train on at most this many rows (stratified sample): kernel
    /// SVM training grows quadratically with rows.
    pub svm_max_rows: usize,
    pub rf: ForestParams,
    pub gbm: GbmParams,
    pub attention: crate::attention::AttentionParams,
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
            lr: LogisticParams::default(),
            svm: SvmParams::default(),
            svm_max_rows: 2000,
            rf: ForestParams::default(),
            gbm: GbmParams::default(),
            attention: Default::default(),
            scorecard: Default::default(),
            reasons: Vec::new(),
        }
    }
}

impl TrainConfig {
    /// The parameters that shaped a model of `kind`, for the file's metadata.
    pub fn params_for(&self, kind: ModelKind) -> Vec<(String, String)> {
        let mut p = vec![
            ("seed".to_string(), self.seed.to_string()),
            ("test_size".into(), self.test_size.to_string()),
            ("threshold".into(), self.threshold.to_string()),
        ];
        if let Some(k) = self.cv {
            p.push(("cv_folds".into(), k.to_string()));
        }
        let mut add = |k: &str, v: String| p.push((k.to_string(), v));
        match kind {
            ModelKind::LogisticRegression => add("lr_alpha", self.lr.alpha.to_string()),
            ModelKind::LinearSvm | ModelKind::RbfSvm => {
                add("svm_c", self.svm.c.to_string());
                if kind == ModelKind::RbfSvm {
                    add(
                        "svm_gamma",
                        self.svm.gamma.map_or("scale".into(), |g| g.to_string()),
                    );
                }
                add("svm_epochs", self.svm.epochs.to_string());
                add("svm_max_rows", self.svm_max_rows.to_string());
                add("platt_folds", self.svm.platt_folds.to_string());
            }
            ModelKind::RandomForest => {
                add("rf_trees", self.rf.trees.to_string());
                add("rf_max_depth", self.rf.max_depth.to_string());
                add("rf_min_samples_leaf", self.rf.min_samples_leaf.to_string());
                add(
                    "rf_max_features",
                    self.rf
                        .max_features
                        .map_or("sqrt".into(), |m| m.to_string()),
                );
            }
            ModelKind::GradientBoosting => {
                add("gbm", format!("{:?}", self.gbm));
            }
            ModelKind::Attention => {
                add("attention", format!("{:?}", self.attention));
            }
        }
        p
    }
}

/// How each kind wants its design rows built.
pub fn encoding_for(kind: ModelKind) -> Encoding {
    match kind {
        ModelKind::LogisticRegression
        | ModelKind::LinearSvm
        | ModelKind::RbfSvm
        | ModelKind::Attention => Encoding {
            scale: true,
            impute_numeric: true,
        },
        ModelKind::RandomForest => Encoding {
            scale: false,
            impute_numeric: true,
        },
        ModelKind::GradientBoosting => Encoding {
            scale: false,
            impute_numeric: false,
        },
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

fn fit_err(kind: ModelKind, e: impl std::fmt::Display) -> TrainError {
    TrainError::Fit {
        kind: kind.id(),
        message: e.to_string(),
    }
}

/// Fits preprocessing and model on `rows`; returns the bundle (no report,
/// empty metadata) and notes about the fit.
pub fn fit_bundle(
    kind: ModelKind,
    table: &Table,
    ds: &Dataset,
    rows: &[usize],
    cfg: &TrainConfig,
    progress: &dyn Progress,
) -> Result<(Bundle, Vec<String>), TrainError> {
    let schema = prep::fit_schema(table, ds, rows, encoding_for(kind));
    let x =
        prep::encode_rows(&schema, table, ds, rows).map_err(|(line, source)| TrainError::Row {
            path: table.file_name(),
            line,
            source,
        })?;
    let y: Vec<bool> = rows.iter().map(|&r| ds.labels[r]).collect();
    let background = x.column_means();
    let mut notes = Vec::new();
    let (model, calibration) = match kind {
        ModelKind::LogisticRegression => {
            progress.start("logistic regression", 1);
            let m = linear::fit_logistic(&x, &y, &cfg.lr).map_err(|e| fit_err(kind, e))?;
            (Model::Linear(m), Calibration::LOGISTIC)
        }
        ModelKind::LinearSvm | ModelKind::RbfSvm => {
            let rbf = kind == ModelKind::RbfSvm;
            // Only the kernel solver needs a row cap; the linear one is O(rows).
            let (xs, ys) = if rbf && x.rows > cfg.svm_max_rows {
                let frac = 1.0 - cfg.svm_max_rows as f64 / x.rows as f64;
                let (keep, _) = split::stratified_split(&y, frac, cfg.seed ^ 0xa11);
                notes.push(format!(
                    "SVM trained on a stratified sample of {} of {} training rows (--svm-max-rows)",
                    keep.len(),
                    x.rows
                ));
                (x.select(&keep), keep.iter().map(|&i| y[i]).collect())
            } else {
                (x.clone(), y.clone())
            };
            progress.start(
                if rbf {
                    "RBF SVM + Platt"
                } else {
                    "linear SVM + Platt"
                },
                1,
            );
            let svm = SvmParams {
                seed: cfg.seed,
                ..cfg.svm.clone()
            };
            let (m, cal) = linear::fit_svm(&xs, &ys, &svm, rbf).map_err(|e| fit_err(kind, e))?;
            let model = match m {
                SvmModel::Linear(l) => Model::Linear(l),
                SvmModel::Kernel(k) => {
                    notes.push(format!(
                        "embeds {} support vectors: scaled feature rows of training customers",
                        k.coef.len()
                    ));
                    Model::KernelSvm(k)
                }
            };
            (model, cal)
        }
        ModelKind::RandomForest => {
            progress.start("random forest", cfg.rf.trees as u64);
            let p = ForestParams {
                seed: cfg.seed,
                ..cfg.rf.clone()
            };
            let m = forest::fit(&x, &y, &p, &|d| progress.set(d as u64))
                .map_err(|e| fit_err(kind, e))?;
            (Model::Trees(m), Calibration::Identity)
        }
        ModelKind::GradientBoosting => {
            let p = GbmParams {
                seed: cfg.seed,
                ..cfg.gbm.clone()
            };
            progress.start("gradient boosting", p.trees as u64);
            let m = gbm::fit(&x, &y, &p, &mut |round, _, _| progress.set(round as u64))
                .map_err(|e| fit_err(kind, e))?;
            (Model::Trees(m), Calibration::LOGISTIC)
        }
        ModelKind::Attention => {
            let p = crate::attention::AttentionParams {
                seed: cfg.seed,
                ..cfg.attention.clone()
            };
            let slots = ferrisk::model::attention::feature_slots(&schema);
            progress.start("attention (epochs)", p.epochs as u64);
            let m = crate::attention::fit(&x, &y, &slots, &p, &mut |epoch, _, _, _| {
                progress.set(epoch as u64)
            })
            .map_err(|e| fit_err(kind, e))?;
            (Model::Attention(Box::new(m)), Calibration::LOGISTIC)
        }
    };
    progress.finish();
    Ok((
        Bundle {
            kind,
            schema,
            model,
            calibration,
            threshold: cfg.threshold,
            background,
            report: None,
            metadata: Metadata::default(),
            scorecard: cfg.scorecard,
            reasons: cfg.reasons.clone(),
            drift: None,
        },
        notes,
    ))
}

/// Scores table rows through the runtime exactly as CSV scoring does.
pub fn score_rows(scorer: &Scorer, table: &Table, rows: &[usize]) -> Result<Vec<f32>, TrainError> {
    let map = scorer
        .map_header(&table.header)
        .map_err(|e| TrainError::Data(format!("{}: {e}", table.file_name())))?;
    let mut x = Vec::with_capacity(scorer.width());
    let mut warnings = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for &r in rows {
        let line = table.lines[r];
        let row_err = |source| TrainError::Row {
            path: table.file_name(),
            line,
            source,
        };
        let values = scorer.parse_row(&map, &table.rows[r]).map_err(row_err)?;
        warnings.clear();
        scorer
            .encode(&values, &mut x, &mut warnings)
            .map_err(row_err)?;
        out.push(scorer.probability(&x).map_err(row_err)?);
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
    kind: ModelKind,
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
    kind: ModelKind,
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
