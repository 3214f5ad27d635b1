//! Wire structs of format version 1. These are frozen: once a file of this
//! version exists, the structs below never change (field order and types
//! are the encoding). Model types evolve freely; conversion happens here.

use serde::{Deserialize, Serialize};

use crate::bundle::{Bundle, CvReport, Metadata, TrainingReport};
use crate::error::FormatError;
use crate::metrics::{Confusion, Metrics, RocPoint};
use crate::model::{Calibration, KernelSvm, Linear, Model, ModelKind, Node, Tree, TreeEnsemble};
use crate::schema::{CategoricalFeature, Encoding, Feature, FeatureKind, NumericFeature, Schema};

#[derive(Debug, Serialize, Deserialize)]
pub struct FileV1 {
    pub kind: u8,
    pub schema: SchemaV1,
    pub model: ModelV1,
    pub calibration: CalibrationV1,
    pub threshold: f32,
    pub background: Vec<f32>,
    pub report: Option<ReportV1>,
    pub metadata: MetadataV1,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SchemaV1 {
    pub features: Vec<FeatureV1>,
    pub label: String,
    pub positive: String,
    pub negative: String,
    pub scale: bool,
    pub impute_numeric: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FeatureV1 {
    pub name: String,
    pub missing_rate: f32,
    pub kind: FeatureKindV1,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum FeatureKindV1 {
    Numeric {
        min: f32,
        max: f32,
        mean: f32,
        std: f32,
        median: f32,
    },
    Categorical {
        categories: Vec<String>,
        frequencies: Vec<f32>,
        mode: u32,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum ModelV1 {
    Linear {
        weights: Vec<f32>,
        bias: f32,
    },
    KernelSvm {
        gamma: f32,
        support: Vec<f32>,
        coef: Vec<f32>,
        bias: f32,
    },
    Trees {
        base: f32,
        average: bool,
        trees: Vec<Vec<NodeV1>>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub struct NodeV1 {
    pub feature: u32,
    pub threshold: f32,
    pub left: u32,
    pub right: u32,
    pub value: f32,
    pub cover: f32,
    pub default_left: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum CalibrationV1 {
    Identity,
    Platt { a: f32, b: f32 },
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MetricsV1 {
    pub rows: u64,
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
    /// tn, fp, fn, tp
    pub confusion: [u64; 4],
    /// (fpr, tpr, threshold) triples
    pub roc: Vec<[f32; 3]>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ReportV1 {
    pub test: MetricsV1,
    pub train_rows: u64,
    pub test_rows: u64,
    pub cv_folds: Option<Vec<f64>>,
    pub fit_seconds: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MetadataV1 {
    pub producer: String,
    pub created_unix: u64,
    pub data_name: String,
    pub data_sha256: String,
    pub data_rows: u64,
    pub params: Vec<(String, String)>,
    pub notes: Vec<String>,
}

fn kind_code(k: ModelKind) -> u8 {
    match k {
        ModelKind::LogisticRegression => 0,
        ModelKind::LinearSvm => 1,
        ModelKind::RbfSvm => 2,
        ModelKind::RandomForest => 3,
        ModelKind::GradientBoosting => 4,
        // Carried by format v2's extension; see `format::v2`.
        ModelKind::Attention => 5,
    }
}

fn kind_from(code: u8) -> Result<ModelKind, FormatError> {
    Ok(match code {
        0 => ModelKind::LogisticRegression,
        1 => ModelKind::LinearSvm,
        2 => ModelKind::RbfSvm,
        3 => ModelKind::RandomForest,
        4 => ModelKind::GradientBoosting,
        5 => ModelKind::Attention,
        c => return Err(FormatError::Invalid(format!("unknown model kind code {c}"))),
    })
}

fn metrics_to(m: &Metrics) -> MetricsV1 {
    MetricsV1 {
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
        confusion: [
            m.confusion.tn,
            m.confusion.fp,
            m.confusion.fn_,
            m.confusion.tp,
        ],
        roc: m.roc.iter().map(|p| [p.fpr, p.tpr, p.threshold]).collect(),
    }
}

fn metrics_from(m: MetricsV1) -> Metrics {
    let [tn, fp, fn_, tp] = m.confusion;
    Metrics {
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
        confusion: Confusion { tn, fp, fn_, tp },
        roc: m
            .roc
            .into_iter()
            .map(|[fpr, tpr, threshold]| RocPoint {
                fpr,
                tpr,
                threshold,
            })
            .collect(),
    }
}

impl From<&Bundle> for FileV1 {
    fn from(b: &Bundle) -> Self {
        let s = &b.schema;
        FileV1 {
            kind: kind_code(b.kind),
            schema: SchemaV1 {
                features: s
                    .features
                    .iter()
                    .map(|f| FeatureV1 {
                        name: f.name.clone(),
                        missing_rate: f.missing_rate,
                        kind: match &f.kind {
                            FeatureKind::Numeric(n) => FeatureKindV1::Numeric {
                                min: n.min,
                                max: n.max,
                                mean: n.mean,
                                std: n.std,
                                median: n.median,
                            },
                            FeatureKind::Categorical(c) => FeatureKindV1::Categorical {
                                categories: c.categories.clone(),
                                frequencies: c.frequencies.clone(),
                                mode: c.mode,
                            },
                        },
                    })
                    .collect(),
                label: s.label.clone(),
                positive: s.positive.clone(),
                negative: s.negative.clone(),
                scale: s.encoding.scale,
                impute_numeric: s.encoding.impute_numeric,
            },
            model: match &b.model {
                // The attention model lives in the v2 extension; the v1 slot
                // holds an empty placeholder (such files need reader v2).
                Model::Attention(_) => ModelV1::Linear {
                    weights: Vec::new(),
                    bias: 0.0,
                },
                Model::Linear(m) => ModelV1::Linear {
                    weights: m.weights.clone(),
                    bias: m.bias,
                },
                Model::KernelSvm(m) => ModelV1::KernelSvm {
                    gamma: m.gamma,
                    support: m.support.clone(),
                    coef: m.coef.clone(),
                    bias: m.bias,
                },
                Model::Trees(e) => ModelV1::Trees {
                    base: e.base,
                    average: e.average,
                    trees: e
                        .trees
                        .iter()
                        .map(|t| {
                            t.nodes
                                .iter()
                                .map(|n| NodeV1 {
                                    feature: n.feature,
                                    threshold: n.threshold,
                                    left: n.left,
                                    right: n.right,
                                    value: n.value,
                                    cover: n.cover,
                                    default_left: n.default_left,
                                })
                                .collect()
                        })
                        .collect(),
                },
            },
            calibration: match b.calibration {
                Calibration::Identity => CalibrationV1::Identity,
                Calibration::Platt { a, b } => CalibrationV1::Platt { a, b },
            },
            threshold: b.threshold,
            background: b.background.clone(),
            report: b.report.as_ref().map(|r| ReportV1 {
                test: metrics_to(&r.test),
                train_rows: r.train_rows,
                test_rows: r.test_rows,
                cv_folds: r.cv.as_ref().map(|c| c.folds.clone()),
                fit_seconds: r.fit_seconds,
            }),
            metadata: MetadataV1 {
                producer: b.metadata.producer.clone(),
                created_unix: b.metadata.created_unix,
                data_name: b.metadata.data_name.clone(),
                data_sha256: b.metadata.data_sha256.clone(),
                data_rows: b.metadata.data_rows,
                params: b.metadata.params.clone(),
                notes: b.metadata.notes.clone(),
            },
        }
    }
}

impl TryFrom<FileV1> for Bundle {
    type Error = FormatError;

    fn try_from(w: FileV1) -> Result<Self, FormatError> {
        let features = w
            .schema
            .features
            .into_iter()
            .map(|f| Feature {
                name: f.name,
                missing_rate: f.missing_rate,
                kind: match f.kind {
                    FeatureKindV1::Numeric {
                        min,
                        max,
                        mean,
                        std,
                        median,
                    } => FeatureKind::Numeric(NumericFeature {
                        min,
                        max,
                        mean,
                        std,
                        median,
                    }),
                    FeatureKindV1::Categorical {
                        categories,
                        frequencies,
                        mode,
                    } => FeatureKind::Categorical(CategoricalFeature {
                        categories,
                        frequencies,
                        mode,
                    }),
                },
            })
            .collect();
        let model = match w.model {
            ModelV1::Linear { weights, bias } => Model::Linear(Linear { weights, bias }),
            ModelV1::KernelSvm {
                gamma,
                support,
                coef,
                bias,
            } => Model::KernelSvm(KernelSvm {
                gamma,
                support,
                coef,
                bias,
            }),
            ModelV1::Trees {
                base,
                average,
                trees,
            } => Model::Trees(TreeEnsemble {
                base,
                average,
                trees: trees
                    .into_iter()
                    .map(|nodes| Tree {
                        nodes: nodes
                            .into_iter()
                            .map(|n| Node {
                                feature: n.feature,
                                threshold: n.threshold,
                                left: n.left,
                                right: n.right,
                                value: n.value,
                                cover: n.cover,
                                default_left: n.default_left,
                            })
                            .collect(),
                    })
                    .collect(),
            }),
        };
        Ok(Bundle {
            kind: kind_from(w.kind)?,
            schema: Schema {
                features,
                label: w.schema.label,
                positive: w.schema.positive,
                negative: w.schema.negative,
                encoding: Encoding {
                    scale: w.schema.scale,
                    impute_numeric: w.schema.impute_numeric,
                },
            },
            model,
            calibration: match w.calibration {
                CalibrationV1::Identity => Calibration::Identity,
                CalibrationV1::Platt { a, b } => Calibration::Platt { a, b },
            },
            threshold: w.threshold,
            background: w.background,
            report: w.report.map(|r| TrainingReport {
                test: metrics_from(r.test),
                train_rows: r.train_rows,
                test_rows: r.test_rows,
                cv: r.cv_folds.map(|folds| CvReport { folds }),
                fit_seconds: r.fit_seconds,
            }),
            scorecard: Default::default(),
            reasons: Vec::new(),
            drift: None,
            metadata: Metadata {
                producer: w.metadata.producer,
                created_unix: w.metadata.created_unix,
                data_name: w.metadata.data_name,
                data_sha256: w.metadata.data_sha256,
                data_rows: w.metadata.data_rows,
                params: w.metadata.params,
                notes: w.metadata.notes,
            },
        })
    }
}

/// Decodes a whole v1 body; trailing bytes are an error.
pub fn decode(body: &[u8]) -> Result<Bundle, FormatError> {
    Bundle::try_from(super::decode_exact::<FileV1>(body)?)
}

pub fn encode(b: &Bundle) -> Result<Vec<u8>, FormatError> {
    postcard::to_allocvec(&FileV1::from(b)).map_err(|e| FormatError::Encode(e.to_string()))
}
