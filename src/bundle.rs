//! Everything one model file carries, as in-memory types. The file's wire
//! structs live in `format::v1`, `v2`, `v3` and each kind's module, and are
//! converted to and from these.

use crate::calibration::Calibration;
use crate::credit::{ReasonText, Scorecard};
use crate::drift::DriftProfile;
use crate::explain::shapley::BackgroundSet;
use crate::kinds::{Design, Model};
use crate::metrics::Metrics;
use crate::num::F32;
use crate::schema::Schema;

/// The training algorithm that produced a model: provenance, shown to
/// people. Several algorithms share a model kind (logistic regression and
/// the linear SVM are both `linear`), and the runtime scores by kind, so it
/// keeps no list of algorithms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Algorithm {
    /// Short id, as on the command line and in file names (`lr`, `gbm`).
    pub id: String,
    /// Display name (`logistic regression`).
    pub name: String,
}

impl Algorithm {
    pub fn new(id: &str, name: &str) -> Algorithm {
        Algorithm {
            id: id.to_string(),
            name: name.to_string(),
        }
    }
}

/// Cross-validation summary: ROC AUC of each fold.
#[derive(Debug, Clone, PartialEq)]
pub struct CvReport {
    pub folds: Vec<f64>,
}

impl CvReport {
    pub fn mean(&self) -> f64 {
        if self.folds.is_empty() {
            return 0.0;
        }
        self.folds.iter().sum::<f64>() / self.folds.len() as f64
    }

    pub fn std(&self) -> f64 {
        if self.folds.len() < 2 {
            return 0.0;
        }
        let m = self.mean();
        let v = self.folds.iter().map(|a| (a - m) * (a - m)).sum::<f64>()
            / (self.folds.len() - 1) as f64;
        v.sqrt()
    }
}

/// Training-time evaluation stored in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingReport {
    /// Metrics on the held-out test split, computed by this runtime on the
    /// exported model.
    pub test: Metrics,
    pub train_rows: u64,
    pub test_rows: u64,
    pub cv: Option<CvReport>,
    /// Seconds spent fitting the final model.
    pub fit_seconds: f64,
}

/// Provenance of a model file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    /// `ferrisk x.y.z` of the program that wrote the file.
    pub producer: String,
    /// Seconds since the Unix epoch when the file was written.
    pub created_unix: u64,
    /// Name of the training data file (no directories).
    pub data_name: String,
    /// Hex SHA-256 of the training data file's bytes.
    pub data_sha256: String,
    pub data_rows: u64,
    /// Training parameters as `name = value` pairs, in a stable order.
    pub params: Vec<(String, String)>,
    /// Free-form notes, e.g. that the file embeds support vectors.
    pub notes: Vec<String>,
}

/// A complete model: schema and preprocessing, decision function,
/// calibration, threshold, evaluation and provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub algorithm: Algorithm,
    pub schema: Schema,
    pub model: Model,
    pub calibration: Calibration,
    /// Probabilities `>= threshold` are decided positive.
    pub threshold: f32,
    /// Mean design row over the training split (explanation baseline of
    /// linear models, and of the other kinds in files without
    /// `background_set`). Not customer-level data.
    pub background: Vec<f32>,
    /// Centroids of training rows (each standing for 20 or more of them)
    /// that model-agnostic explanations average over (format v3 section
    /// `explain/background`; absent in older files).
    pub background_set: Option<BackgroundSet>,
    pub report: Option<TrainingReport>,
    pub metadata: Metadata,
    /// Points scaling for the score in points (format v2; v1 files get the default).
    pub scorecard: Scorecard,
    /// Reason texts per feature and language (format v2; may be empty).
    pub reasons: Vec<ReasonText>,
    /// Training-population bins for PSI drift checks (format v2).
    pub drift: Option<DriftProfile>,
    /// How the threshold and calibration were chosen and what the metrics
    /// were computed on (format v3 `report/decision` section; absent in
    /// files written before it).
    pub decision: Option<crate::policy::Decision>,
    /// Protected attributes, fairness audit, proxies and monotone
    /// constraints (format v3 `report/governance`; absent in older files
    /// and in files trained without `--protected` or `--monotone`).
    pub governance: Option<crate::governance::Section>,
}

/// The parameter in which a file states what its RBF centres are.
pub const CENTRES_PARAM: &str = "svm_centres";
/// [`CENTRES_PARAM`]'s value for centres that are no customer's row.
pub const LANDMARKS: &str = "landmarks (centroids of >= 20 training rows)";

impl Bundle {
    /// True when the file embeds rows derived from training customers
    /// (support vectors of an RBF SVM), unless its writer states in the
    /// parameters that the kernel centres are landmarks (k-means centroids
    /// of at least 20 rows each, as the trainer ships since issue 16).
    pub fn embeds_training_rows(&self) -> bool {
        self.model.embeds_training_rows()
            && !self
                .metadata
                .params
                .iter()
                .any(|(k, v)| k == CENTRES_PARAM && v == LANDMARKS)
    }

    /// What the kind sees of this file; `groups` are `kinds::groups(&self.schema)`.
    pub fn design<'a>(&'a self, groups: &'a [(usize, usize)]) -> Design<'a> {
        Design {
            schema: &self.schema,
            width: self.schema.width(),
            background: &self.background,
            groups,
            background_set: self.background_set.as_ref(),
        }
    }

    /// Validates internal consistency (after decoding a file, before encoding one).
    pub fn validate(&self) -> Result<(), String> {
        let width = self.schema.width();
        if self.algorithm.id.is_empty() {
            return Err("the file names no training algorithm".into());
        }
        if self.schema.features.is_empty() {
            return Err("schema has no features".into());
        }
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(format!(
                "threshold {} is not in (0, 1)",
                F32(self.threshold)
            ));
        }
        if self.background.len() != width {
            return Err(format!(
                "background has {} values for a design width of {width}",
                self.background.len()
            ));
        }
        crate::kinds::all_finite("background", &self.background)?;
        if let Some(set) = &self.background_set {
            set.validate(width)?;
        }
        for f in &self.schema.features {
            match &f.kind {
                crate::schema::FeatureKind::Numeric(n) => {
                    // A subnormal std (1e-45) scales any value to infinity.
                    if !(n.std.is_finite()
                        && n.std >= f32::MIN_POSITIVE
                        && n.mean.is_finite()
                        && n.median.is_finite()
                        && n.min.is_finite()
                        && n.max.is_finite())
                    {
                        return Err(format!("feature '{}': invalid scaling statistics", f.name));
                    }
                }
                crate::schema::FeatureKind::Categorical(c) => {
                    if c.categories.is_empty() {
                        return Err(format!("feature '{}' has no categories", f.name));
                    }
                    if c.frequencies.len() != c.categories.len()
                        || c.mode as usize >= c.categories.len()
                    {
                        return Err(format!("feature '{}': category tables disagree", f.name));
                    }
                }
            }
        }
        self.calibration.validate()?;
        if self.calibration.expects() != self.model.output_kind() {
            return Err(format!(
                "{} calibration does not fit a '{}' model, whose output is a {}",
                self.calibration.name(),
                self.model.tag(),
                match self.model.output_kind() {
                    crate::kinds::Output::Probability => "probability",
                    crate::kinds::Output::Score => "score",
                }
            ));
        }
        if !self.schema.encoding.impute_numeric && !self.model.takes_missing() {
            return Err(format!(
                "a '{}' model cannot take missing values, but the schema does not impute them",
                self.model.tag()
            ));
        }
        self.scorecard.validate()?;
        if let Some(d) = &self.decision {
            d.validate()?;
        }
        if let Some(e) = self.report.as_ref().and_then(|r| r.test.extra.as_ref()) {
            let unit = |v: f64| (0.0..=1.0).contains(&v);
            if e.reliability.len() > crate::metrics::RELIABILITY_BINS
                || !unit(e.ece)
                || !unit(e.average_precision)
                || e.reliability
                    .iter()
                    .any(|b| !(unit(b.mean_predicted) && unit(b.observed)))
            {
                return Err("report: calibration figures are out of range".into());
            }
        }
        if let Some(d) = &self.drift {
            d.validate(&self.schema)?;
        }
        // A reason text names a feature, or a channel of the model's history
        // (the text of that channel at any step, `credit::reasons`).
        let channel = |name: &str| {
            self.model
                .sequence()
                .is_some_and(|s| s.history.channels.iter().any(|c| c.name == name))
        };
        for r in &self.reasons {
            if self.schema.position(&r.feature).is_none() && !channel(&r.feature) {
                return Err(format!("reason text for unknown feature '{}'", r.feature));
            }
        }
        let groups = crate::kinds::groups(&self.schema);
        let design = self.design(&groups);
        self.model.validate(&design)?;
        let cost = self.model.cost(&design);
        if cost.predict > crate::kinds::PREDICT_BUDGET {
            return Err(format!(
                "one prediction would cost {} units, over the budget of {} (the model is too large to score safely)",
                cost.predict,
                crate::kinds::PREDICT_BUDGET
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_writer_stating_landmarks_clears_the_training_rows_warning() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/svm-rbf.frk"
        ))
        .unwrap();
        let mut b = crate::format::decode(&bytes).unwrap();
        assert!(b.embeds_training_rows(), "support vectors are rows");
        b.metadata
            .params
            .push((CENTRES_PARAM.into(), "support vectors".into()));
        assert!(b.embeds_training_rows());
        b.metadata
            .params
            .push((CENTRES_PARAM.into(), LANDMARKS.into()));
        assert!(!b.embeds_training_rows());
    }
}
