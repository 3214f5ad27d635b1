//! The result shapes every surface speaks: one set of serde structs
//! (camelCase) that the CLI's `--json`, the HTTP service and the wasm
//! bindings all serialise, so a call gives the same JSON everywhere.
//!
//! The TypeScript declarations of the wasm package are generated from these
//! structs (ts-rs, at test time only: `cargo test -p ferrisk views` checks
//! that `wasm/src/types.d.ts` is what they generate, and rewrites it with
//! `FERRISK_BLESS=1`), so the runtime gains no dependency. `f32` values are
//! serialised as `f32` (serde_json prints their shortest round-trip text,
//! `0.1` not `0.10000000149011612`; non-finite values become `null`).

use serde::Serialize;

use crate::bundle::Bundle;
use crate::credit::Reason;
use crate::drift::{level, DriftReport};
use crate::explain::Explanation;
use crate::metrics::Metrics;
use crate::policy::{CutFigures, Decision, Policy};
use crate::schema::{FeatureKind, Warning};
use crate::scorer::{Prediction, Scored};

fn texts(w: &[Warning]) -> Vec<String> {
    w.iter().map(ToString::to_string).collect()
}

/// The model's input features with their training statistics.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Schema"))]
pub struct SchemaView {
    pub label: String,
    pub positive: String,
    pub negative: String,
    pub features: Vec<FeatureView>,
}

/// One input feature.
#[derive(Debug, Clone, Serialize)]
#[serde(
    tag = "type",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Feature"))]
pub enum FeatureView {
    Numeric {
        name: String,
        min: f32,
        max: f32,
        mean: f32,
        median: f32,
        /// The typical value as text (the training median).
        typical: String,
        missing_rate: f32,
    },
    Categorical {
        name: String,
        /// Training categories; `predictBatch` codes index into this list.
        categories: Vec<String>,
        /// Share of training rows in each category (same order).
        frequencies: Vec<f32>,
        /// The most frequent category.
        typical: String,
        missing_rate: f32,
    },
}

impl SchemaView {
    pub fn new(b: &Bundle) -> SchemaView {
        let s = &b.schema;
        SchemaView {
            label: s.label.clone(),
            positive: s.positive.clone(),
            negative: s.negative.clone(),
            features: s
                .features
                .iter()
                .map(|f| match &f.kind {
                    FeatureKind::Numeric(n) => FeatureView::Numeric {
                        name: f.name.clone(),
                        min: n.min,
                        max: n.max,
                        mean: n.mean,
                        median: n.median,
                        typical: f.typical_text(),
                        missing_rate: f.missing_rate,
                    },
                    FeatureKind::Categorical(c) => FeatureView::Categorical {
                        name: f.name.clone(),
                        categories: c.categories.clone(),
                        frequencies: c.frequencies.clone(),
                        typical: f.typical_text(),
                        missing_rate: f.missing_rate,
                    },
                })
                .collect(),
        }
    }
}

/// Provenance and description of a model file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Metadata"))]
pub struct MetadataView {
    /// Id of the training algorithm (`ferrisk kinds`): "lr", "gbm", ...
    pub kind: String,
    /// Display name of the training algorithm.
    pub kind_name: String,
    /// The model kind the runtime scores ("linear", "trees", ...).
    #[cfg_attr(test, ts(type = "ModelKind"))]
    pub model_kind: String,
    pub format_version: u16,
    pub producer: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub created_unix: u64,
    pub data_name: String,
    pub data_sha256: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub data_rows: u64,
    pub params: Vec<(String, String)>,
    pub notes: Vec<String>,
    pub threshold: f32,
    pub explanation_method: String,
    pub embeds_training_rows: bool,
    /// How the threshold was chosen (null for files written before
    /// threshold policies).
    pub decision: Option<DecisionView>,
    /// The calibration applied and how it was chosen (null likewise).
    pub calibration: Option<CalibrationView>,
    /// Protected attributes, fairness audit, proxy screening and monotone
    /// constraints (null for files trained without them). The runtime
    /// carries it as the file's JSON text: the wasm `metadata()`, the CLI
    /// and the service give the parsed object.
    #[cfg_attr(test, ts(type = "Governance | null"))]
    pub governance: Option<String>,
    /// The history a sequence kind reads (absent for other kinds).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub history: Option<HistoryView>,
}

/// A threshold policy and the figures at its cut-off.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Decision"))]
pub struct DecisionView {
    /// Canonical text: "cost:FN=5,FP=1", "approval-rate:0.7", "max-f1", "ks", "fixed:0.5".
    pub policy: String,
    #[cfg_attr(
        test,
        ts(type = r#""fixed" | "cost" | "approval-rate" | "max-f1" | "ks""#)
    )]
    pub kind: String,
    /// Cost of approving a bad customer (a false negative); cost policies.
    pub cost_fn: Option<f64>,
    /// Cost of refusing a good customer (a false positive); cost policies.
    pub cost_fp: Option<f64>,
    pub target_approval_rate: Option<f64>,
    pub threshold: f32,
    /// The rows the threshold was chosen on.
    pub chosen_on: String,
    /// At the threshold, on those rows.
    pub approval_rate: f64,
    pub bad_rate_approved: f64,
    pub expected_cost: Option<f64>,
    /// The same on the evaluation rows (null without them).
    pub evaluated: Option<CutView>,
    /// And on the evaluation rows at the threshold 0.5, for comparison.
    pub evaluated_at_half: Option<CutView>,
}

/// Approval, bad rate and cost at one threshold.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Cut"))]
pub struct CutView {
    pub threshold: f32,
    #[cfg_attr(test, ts(type = "number"))]
    pub rows: u64,
    pub approval_rate: f64,
    pub bad_rate_approved: f64,
    pub expected_cost: Option<f64>,
}

impl From<&CutFigures> for CutView {
    fn from(c: &CutFigures) -> CutView {
        CutView {
            threshold: c.threshold,
            rows: c.rows,
            approval_rate: c.approval_rate,
            bad_rate_approved: c.bad_rate_approved,
            expected_cost: c.expected_cost,
        }
    }
}

/// The calibration a file applies.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "CalibrationInfo"))]
pub struct CalibrationView {
    pub method: String,
    pub chosen_by: String,
}

impl DecisionView {
    pub fn new(d: &Decision, threshold: f32) -> DecisionView {
        let (cost_fn, cost_fp) = d.policy.costs().unzip();
        DecisionView {
            policy: d.policy.text(),
            kind: d.policy.kind().to_string(),
            cost_fn,
            cost_fp,
            target_approval_rate: match d.policy {
                Policy::ApprovalRate(r) => Some(r),
                _ => None,
            },
            threshold,
            chosen_on: d.chosen_on.clone(),
            approval_rate: d.chosen.approval_rate,
            bad_rate_approved: d.chosen.bad_rate_approved,
            expected_cost: d.chosen.expected_cost,
            evaluated: d.evaluated.as_ref().map(|(a, _)| a.into()),
            evaluated_at_half: d.evaluated.as_ref().map(|(_, h)| h.into()),
        }
    }
}

impl MetadataView {
    /// `format_version`: the version of the file the bundle was read from.
    pub fn new(b: &Bundle, format_version: u16) -> MetadataView {
        let m = &b.metadata;
        MetadataView {
            kind: b.algorithm.id.clone(),
            kind_name: b.algorithm.name.clone(),
            model_kind: b.model.tag().to_string(),
            format_version,
            producer: m.producer.clone(),
            created_unix: m.created_unix,
            data_name: m.data_name.clone(),
            data_sha256: m.data_sha256.clone(),
            data_rows: m.data_rows,
            params: m.params.clone(),
            notes: m.notes.clone(),
            threshold: b.threshold,
            explanation_method: crate::explain::method(b).to_string(),
            embeds_training_rows: b.embeds_training_rows(),
            decision: b
                .decision
                .as_ref()
                .map(|d| DecisionView::new(d, b.threshold)),
            calibration: b.decision.as_ref().map(|d| CalibrationView {
                method: d.calibration.clone(),
                chosen_by: d.calibration_chosen_by.clone(),
            }),
            governance: b.governance.as_ref().map(|g| g.report.clone()),
            history: HistoryView::new(b),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Confusion"))]
pub struct ConfusionView {
    #[cfg_attr(test, ts(type = "number"))]
    pub tn: u64,
    #[cfg_attr(test, ts(type = "number"))]
    pub fp: u64,
    #[serde(rename = "fn")]
    #[cfg_attr(test, ts(type = "number"))]
    pub fn_: u64,
    #[cfg_attr(test, ts(type = "number"))]
    pub tp: u64,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "RocPoint"))]
pub struct RocPointView {
    pub fpr: f32,
    pub tpr: f32,
    /// Scores >= threshold are called positive at this point.
    pub threshold: f32,
}

/// One bin of the reliability curve.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "ReliabilityBin"))]
pub struct ReliabilityView {
    pub mean_predicted: f64,
    pub observed: f64,
    #[cfg_attr(test, ts(type = "number"))]
    pub rows: u64,
}

/// Metrics of scored, labelled rows; the training report adds the split
/// sizes, cross-validation and fit time (null otherwise).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Metrics"))]
pub struct MetricsView {
    #[cfg_attr(test, ts(type = "number"))]
    pub rows: u64,
    #[cfg_attr(test, ts(type = "number"))]
    pub positives: u64,
    pub threshold: f32,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub roc_auc: f64,
    pub ks: f64,
    pub brier: f64,
    pub log_loss: f64,
    pub confusion: ConfusionView,
    pub roc: Vec<RocPointView>,
    /// Expected calibration error over 10 equal-frequency bins (null for
    /// metrics stored before it was).
    pub ece: Option<f64>,
    /// The reliability curve's bins, lowest probabilities first ([] when unknown).
    pub reliability: Vec<ReliabilityView>,
    pub average_precision: Option<f64>,
    /// What the metrics were computed on (training report only).
    pub evaluated_on: Option<String>,
    /// Cross-validation AUC per fold (training report only).
    pub cv_auc: Option<Vec<f64>>,
    #[cfg_attr(test, ts(type = "number | null"))]
    pub train_rows: Option<u64>,
    #[cfg_attr(test, ts(type = "number | null"))]
    pub test_rows: Option<u64>,
    pub fit_seconds: Option<f64>,
}

impl MetricsView {
    pub fn new(m: &Metrics) -> MetricsView {
        MetricsView {
            rows: m.rows,
            positives: m.positives,
            threshold: m.threshold,
            accuracy: m.accuracy,
            precision: m.precision,
            recall: m.recall,
            f1: m.f1,
            roc_auc: m.roc_auc,
            ks: m.ks,
            brier: m.brier,
            log_loss: m.log_loss,
            confusion: ConfusionView {
                tn: m.confusion.tn,
                fp: m.confusion.fp,
                fn_: m.confusion.fn_,
                tp: m.confusion.tp,
            },
            roc: m
                .roc
                .iter()
                .map(|p| RocPointView {
                    fpr: p.fpr,
                    tpr: p.tpr,
                    threshold: p.threshold,
                })
                .collect(),
            ece: m.extra.as_ref().map(|e| e.ece),
            reliability: m
                .extra
                .iter()
                .flat_map(|e| &e.reliability)
                .map(|r| ReliabilityView {
                    mean_predicted: r.mean_predicted,
                    observed: r.observed,
                    rows: r.rows,
                })
                .collect(),
            average_precision: m.extra.as_ref().map(|e| e.average_precision),
            evaluated_on: None,
            cv_auc: None,
            train_rows: None,
            test_rows: None,
            fit_seconds: None,
        }
    }

    /// The training report stored in a file, if any.
    pub fn report(b: &Bundle) -> Option<MetricsView> {
        let r = b.report.as_ref()?;
        let mut v = MetricsView::new(&r.test);
        v.cv_auc = r.cv.as_ref().map(|c| c.folds.clone());
        v.train_rows = Some(r.train_rows);
        v.test_rows = Some(r.test_rows);
        v.fit_seconds = Some(r.fit_seconds);
        v.evaluated_on = b.decision.as_ref().map(|d| d.evaluated_on.clone());
        Some(v)
    }
}

/// One customer's score.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Prediction"))]
pub struct PredictionView {
    /// Probability of the positive class.
    pub probability: f32,
    /// `probability >= threshold`.
    pub decision: bool,
    pub threshold: f32,
    /// The model's raw output before calibration.
    pub margin: f32,
    /// Imputed values, unknown categories, ignored fields.
    pub warnings: Vec<String>,
}

impl From<&Prediction> for PredictionView {
    fn from(p: &Prediction) -> Self {
        PredictionView {
            probability: p.probability,
            decision: p.decision,
            threshold: p.threshold,
            margin: p.margin,
            warnings: texts(&p.warnings),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Contribution"))]
pub struct ContributionView {
    pub feature: String,
    /// The customer's value as display text (after imputation).
    pub value: String,
    pub contribution: f32,
    /// Present when the player is a step of a history (sequence kinds).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub step: Option<StepView>,
}

/// A step of a history as an explanation player.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Step"))]
pub struct StepView {
    /// 1 = the most recent step.
    pub age: u32,
    /// "2 months ago".
    pub ago: String,
    /// Each channel's display value at this step, in the order of
    /// `Metadata.history.channels`.
    pub values: Vec<String>,
}

/// A history the model reads (sequence kinds): enough to build its table.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "History"))]
pub struct HistoryView {
    pub name: String,
    /// "month".
    pub unit: String,
    pub steps: u32,
    pub channels: Vec<ChannelView>,
}

/// One channel of a history.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "HistoryChannel"))]
pub struct ChannelView {
    pub name: String,
    #[cfg_attr(test, ts(type = "\"numeric\" | \"categorical\""))]
    pub kind: &'static str,
    /// The schema feature of each step, oldest first.
    pub features: Vec<String>,
}

impl HistoryView {
    pub fn new(b: &Bundle) -> Option<HistoryView> {
        let h = &b.model.sequence()?.history;
        let name = |f: &u32| {
            b.schema
                .features
                .get(*f as usize)
                .map(|f| f.name.clone())
                .unwrap_or_default()
        };
        Some(HistoryView {
            name: h.name.clone(),
            unit: h.unit.clone(),
            steps: h.steps,
            channels: h
                .channels
                .iter()
                .map(|c| ChannelView {
                    name: c.name.clone(),
                    kind: match c.input {
                        crate::sequence::ChannelInput::Numeric { .. } => "numeric",
                        crate::sequence::ChannelInput::Categorical { .. } => "categorical",
                    },
                    features: c.features.iter().map(name).collect(),
                })
                .collect(),
        })
    }
}

/// Per-feature contributions: `base + Σ contributions = output` in `unit`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Explanation"))]
pub struct ExplanationView {
    pub base: f32,
    pub output: f32,
    #[cfg_attr(test, ts(type = "\"log-odds\" | \"probability\""))]
    pub unit: String,
    pub method: String,
    /// Sampled explanations: the largest estimated standard error of a
    /// contribution relative to the sum of their absolute values (e.g.
    /// 0.002); null for exact methods.
    pub convergence: Option<f32>,
    pub probability: f32,
    pub contributions: Vec<ContributionView>,
    pub warnings: Vec<String>,
}

impl From<&Explanation> for ExplanationView {
    fn from(e: &Explanation) -> Self {
        ExplanationView {
            base: e.base,
            output: e.output,
            unit: e.unit.id().to_string(),
            method: e.method.to_string(),
            convergence: e.convergence,
            probability: e.probability,
            contributions: e
                .contributions
                .iter()
                .map(|c| ContributionView {
                    feature: c.feature.clone(),
                    value: c.value.clone(),
                    contribution: c.contribution,
                    step: c.step.as_ref().map(|s| StepView {
                        age: s.age,
                        ago: s.ago.clone(),
                        values: s.values.iter().map(|(_, v)| v.clone()).collect(),
                    }),
                })
                .collect(),
            warnings: texts(&e.warnings),
        }
    }
}

/// A principal reason for a score.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Reason"))]
pub struct ReasonView {
    pub rank: u32,
    pub feature: String,
    pub value: String,
    /// Contribution towards the positive class, in the explanation's unit.
    pub contribution: f32,
    /// Scorecard points this feature cost the customer (negative).
    pub points: f32,
    pub text: String,
}

impl From<&Reason> for ReasonView {
    fn from(r: &Reason) -> Self {
        ReasonView {
            rank: r.rank,
            feature: r.feature.clone(),
            value: r.value.clone(),
            contribution: r.contribution,
            points: r.points,
            text: r.text.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "FeaturePoints"))]
pub struct FeaturePointsView {
    pub feature: String,
    pub points: f32,
}

/// The score in points split by feature: `base + Σ features = points`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "PointsBreakdown"))]
pub struct PointsBreakdownView {
    /// Points of an average customer.
    pub base: f32,
    /// Every feature's points, schema order.
    pub features: Vec<FeaturePointsView>,
}

/// A scored customer with what a lender shows: points, and on request the
/// explanation, the principal reasons and the points per feature. The CLI's
/// `explain --json`, each result of the service's `/predict` and the wasm
/// `score()` return this shape.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Scored"))]
pub struct ScoredView {
    pub probability: f32,
    pub decision: bool,
    pub threshold: f32,
    pub margin: f32,
    pub warnings: Vec<String>,
    /// The score in scorecard points (PDO scaling stored in the model file).
    pub points: f32,
    /// Present when an explanation was asked for.
    pub explanation: Option<ExplanationView>,
    /// The principal reasons, largest first (empty without an explanation).
    pub reasons: Vec<ReasonView>,
    pub points_breakdown: Option<PointsBreakdownView>,
    /// The decision record, when asked for (`record: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub record: Option<RecordView>,
}

/// A decision record (see `ferrisk::record`): enough to reproduce a
/// decision bit for bit with `ferrisk replay` and the customer's inputs.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "DecisionRecord"))]
pub struct RecordView {
    /// Layout version of the record (1).
    pub record: u32,
    /// SHA-256 of the model file (without a signature block).
    pub model_sha256: String,
    /// The ferrisk version that scored the row.
    pub ferrisk: String,
    /// The file's threshold policy ("max-f1", "cost:FN=5,FP=1", ...).
    pub policy: String,
    pub threshold: f32,
    /// SHA-256 of the inputs as parsed (schema order).
    pub inputs_sha256: String,
    pub probability: f32,
    pub decision: bool,
    pub points: f32,
    /// The principal reasons' features, rank order.
    pub reasons: Vec<String>,
    /// Reasons asked for (0: no explanation).
    pub reason_count: u32,
    /// Reasons given whatever the decision.
    pub all_reasons: bool,
}

impl From<&Scored> for ScoredView {
    fn from(s: &Scored) -> Self {
        let p = &s.prediction;
        ScoredView {
            probability: p.probability,
            decision: p.decision,
            threshold: p.threshold,
            margin: p.margin,
            warnings: texts(&p.warnings),
            points: s.points,
            explanation: s.explanation.as_ref().map(ExplanationView::from),
            reasons: s.reasons.iter().map(ReasonView::from).collect(),
            points_breakdown: s.explanation.as_ref().zip(s.breakdown.as_ref()).map(
                |(e, (base, per))| PointsBreakdownView {
                    base: *base,
                    features: e
                        .contributions
                        .iter()
                        .zip(per)
                        .map(|(c, &points)| FeaturePointsView {
                            feature: c.feature.clone(),
                            points,
                        })
                        .collect(),
                },
            ),
            record: s.record.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Psi"))]
pub struct PsiView {
    pub psi: f64,
    #[cfg_attr(test, ts(type = "\"stable\" | \"watch\" | \"shift\""))]
    pub level: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "FeaturePsi"))]
pub struct FeaturePsiView {
    pub feature: String,
    pub psi: f64,
    #[cfg_attr(test, ts(type = "\"stable\" | \"watch\" | \"shift\""))]
    pub level: String,
}

/// Population stability of a batch against the training population.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "DriftReport"))]
pub struct DriftView {
    #[cfg_attr(test, ts(type = "number"))]
    pub rows: u64,
    pub score: PsiView,
    pub features: Vec<FeaturePsiView>,
}

impl From<&DriftReport> for DriftView {
    fn from(r: &DriftReport) -> Self {
        DriftView {
            rows: r.rows,
            score: PsiView {
                psi: r.score,
                level: level(r.score).to_string(),
            },
            features: r
                .features
                .iter()
                .map(|(f, p)| FeaturePsiView {
                    feature: f.clone(),
                    psi: *p,
                    level: level(*p).to_string(),
                })
                .collect(),
        }
    }
}

/// The attention model's `[CLS]` weight on one feature.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "FeatureAttention"))]
pub struct FeatureAttentionView {
    pub feature: String,
    /// `[CLS]` attention weight on this feature (last block, mean over heads).
    pub weight: f32,
}

/// A row that could not be scored.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "CsvRowError"))]
pub struct RowErrorView {
    #[cfg_attr(test, ts(type = "number"))]
    pub line: usize,
    pub message: String,
    /// The error's stable code (`crate::error::CODES`): `CSV_ROW` for a
    /// record the reader could not split, `BAD_VALUE` for a bad value, ...
    #[cfg_attr(test, ts(type = "ErrorCode"))]
    pub code: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ts_rs::TS;

    /// Every view's TypeScript declaration, in a stable order.
    fn declarations() -> String {
        let cfg = ts_rs::Config::default();
        let decls = [
            SchemaView::decl(&cfg),
            FeatureView::decl(&cfg),
            MetadataView::decl(&cfg),
            DecisionView::decl(&cfg),
            CutView::decl(&cfg),
            CalibrationView::decl(&cfg),
            crate::governance::Governance::decl(&cfg),
            crate::governance::Protected::decl(&cfg),
            crate::governance::Group::decl(&cfg),
            crate::governance::Proxy::decl(&cfg),
            crate::governance::Monotone::decl(&cfg),
            ConfusionView::decl(&cfg),
            RocPointView::decl(&cfg),
            ReliabilityView::decl(&cfg),
            MetricsView::decl(&cfg),
            PredictionView::decl(&cfg),
            ContributionView::decl(&cfg),
            StepView::decl(&cfg),
            HistoryView::decl(&cfg),
            ChannelView::decl(&cfg),
            ExplanationView::decl(&cfg),
            ReasonView::decl(&cfg),
            FeaturePointsView::decl(&cfg),
            PointsBreakdownView::decl(&cfg),
            ScoredView::decl(&cfg),
            RecordView::decl(&cfg),
            PsiView::decl(&cfg),
            FeaturePsiView::decl(&cfg),
            DriftView::decl(&cfg),
            FeatureAttentionView::decl(&cfg),
            RowErrorView::decl(&cfg),
        ];
        let mut out = String::from(
            "// Generated from src/views.rs by `FERRISK_BLESS=1 cargo test -p ferrisk views`.\n\
             // Do not edit: change the view structs and regenerate.\n",
        );
        for d in decls {
            out.push_str("\nexport ");
            out.push_str(&d);
            out.push('\n');
        }
        // Closed sets as string-literal unions: the kinds this runtime
        // scores (a file of another kind does not load) and every error
        // code (`ferrisk::error::CODES`).
        let union = |name: &str, items: &mut dyn Iterator<Item = &str>| {
            let items: Vec<String> = items.map(|i| format!("\"{i}\"")).collect();
            format!("\nexport type {name} = {};\n", items.join(" | "))
        };
        out.push_str("\n/** The model kinds this runtime scores (`Metadata.modelKind`). */");
        out.push_str(&union("ModelKind", &mut crate::kinds::TAGS.iter().copied()));
        out.push_str("\n/** Every `FerriskError.code` (ferrisk::error::CODES). */");
        out.push_str(&union(
            "ErrorCode",
            &mut crate::error::CODES.iter().map(|(c, _)| *c),
        ));
        out
    }

    #[test]
    fn typescript_declarations_are_generated_from_the_views() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/wasm/src/types.d.ts");
        let want = declarations();
        if std::env::var_os("FERRISK_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "{path} is out of date with src/views.rs; regenerate it with \
             FERRISK_BLESS=1 cargo test -p ferrisk views"
        );
    }
}
