//! Wire structs of format version 1. These are frozen: once a file of this
//! version exists, the structs below never change (field order and types
//! are the encoding). Model types evolve freely; conversion happens here.

use serde::{Deserialize, Serialize};

use super::wire::Wire;
use crate::bundle::{Algorithm, Bundle, CvReport, Metadata, TrainingReport};
use crate::calibration::Calibration;
use crate::error::FormatError;
use crate::kinds::{KernelSvm, Linear, Model, Node, Tree, TreeEnsemble};
use crate::metrics::{Confusion, Metrics, RocPoint};
use crate::schema::{CategoricalFeature, Encoding, Feature, FeatureKind, NumericFeature, Schema};

#[derive(Debug, Serialize, Deserialize)]
pub struct FileV1 {
    pub kind: u8,
    pub schema: SchemaV1,
    pub model: ModelV1,
    pub calibration: CalibrationV1,
    pub threshold: f32,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub background: Vec<f32>,
    pub report: Option<ReportV1>,
    pub metadata: MetadataV1,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SchemaV1 {
    #[serde(deserialize_with = "crate::format::bounded::vec")]
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
        #[serde(deserialize_with = "crate::format::bounded::vec")]
        categories: Vec<String>,
        #[serde(deserialize_with = "crate::format::bounded::vec")]
        frequencies: Vec<f32>,
        mode: u32,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum ModelV1 {
    Linear {
        #[serde(deserialize_with = "crate::format::bounded::vec")]
        weights: Vec<f32>,
        bias: f32,
    },
    KernelSvm {
        gamma: f32,
        #[serde(deserialize_with = "crate::format::bounded::vec")]
        support: Vec<f32>,
        #[serde(deserialize_with = "crate::format::bounded::vec")]
        coef: Vec<f32>,
        bias: f32,
    },
    Trees {
        base: f32,
        average: bool,
        #[serde(deserialize_with = "crate::format::bounded::nested")]
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

/// Trees in their v1 wire form (also the node form of the `trees-cat`
/// section, which shares this encoder and [`trees_from`]).
pub(crate) fn trees_to(trees: &[Tree]) -> Vec<Vec<NodeV1>> {
    trees
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
        .collect()
}

/// Trees from their v1 wire form (also the node form of the `trees-cat`
/// section, which shares this decoder).
pub(crate) fn trees_from(trees: Vec<Vec<NodeV1>>) -> Vec<Tree> {
    trees
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
        .collect()
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
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub roc: Vec<[f32; 3]>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ReportV1 {
    pub test: MetricsV1,
    pub train_rows: u64,
    pub test_rows: u64,
    #[serde(deserialize_with = "crate::format::bounded::opt_vec")]
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
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub params: Vec<(String, String)>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub notes: Vec<String>,
}

/// The algorithms format v1 numbered, frozen: (code, id, display name).
/// Later algorithms are named in format v3's extension.
pub const LEGACY_ALGORITHMS: [(u8, &str, &str); 6] = [
    (0, "lr", "logistic regression"),
    (1, "svm-linear", "linear SVM (Platt-calibrated)"),
    (2, "svm-rbf", "RBF SVM (Platt-calibrated)"),
    (3, "rf", "random forest"),
    (4, "gbm", "gradient boosting"),
    // Carried by format v2's extension; see `format::v2`.
    (5, "attention", "attention (tabular transformer)"),
];

/// The v1 code for a bundle: its algorithm's when v1 numbered it, else the
/// code of the v1 algorithm whose model it can stand in for (an imported
/// booster reads as gradient boosting to an old reader).
fn kind_code(b: &Bundle) -> u8 {
    if let Some((code, _, _)) = LEGACY_ALGORITHMS
        .iter()
        .find(|(_, id, _)| *id == b.algorithm.id)
    {
        return *code;
    }
    match (&b.model, &b.calibration) {
        (Model::Linear(_), Calibration::Logistic) => 0,
        (Model::Linear(_), _) => 1,
        (Model::KernelSvm(_), _) => 2,
        (Model::Trees(e), _) if e.average => 3,
        (Model::Trees(_), _) => 4,
        (Model::Attention(_), _) => 5,
        // Kinds only format v3 knows: their files need reader 3, which
        // reads the algorithm from the v3 extension.
        _ => u8::MAX,
    }
}

pub(crate) fn algorithm_from(code: u8) -> Result<Algorithm, FormatError> {
    if code == u8::MAX {
        // "Named in the v3 extension"; validation refuses a file that does not.
        return Ok(Algorithm::new("", ""));
    }
    LEGACY_ALGORITHMS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, id, name)| Algorithm::new(id, name))
        .ok_or_else(|| FormatError::Invalid(format!("unknown model kind code {code}")))
}

/// The model as the v1 slot holds it; `None` for kinds v1 cannot hold
/// (written with an empty linear placeholder and a minimum reader above 1).
pub(crate) fn model_slot(m: &Model) -> Option<ModelV1> {
    Some(match m {
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
            trees: trees_to(&e.trees),
        },
        _ => return None,
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
        extra: None,
    }
}

impl From<&Bundle> for FileV1 {
    fn from(b: &Bundle) -> Self {
        let s = &b.schema;
        FileV1 {
            kind: kind_code(b),
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
            model: model_slot(&b.model).unwrap_or(ModelV1::Linear {
                weights: Vec::new(),
                bias: 0.0,
            }),
            calibration: match b.calibration {
                Calibration::Identity | Calibration::Isotonic(_) => CalibrationV1::Identity,
                Calibration::Logistic => CalibrationV1::Platt { a: -1.0, b: 0.0 },
                Calibration::Platt { a, b } => CalibrationV1::Platt { a, b },
                // Format 3 holds it (and isotonic) in a required section; an
                // older reader refuses the file (`v3::min_reader`).
                Calibration::PlattLogit { .. } => CalibrationV1::Identity,
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
            ModelV1::Linear { weights, bias } => Model::from(Linear { weights, bias }),
            ModelV1::KernelSvm {
                gamma,
                support,
                coef,
                bias,
            } => Model::from(KernelSvm {
                gamma,
                support,
                coef,
                bias,
            }),
            ModelV1::Trees {
                base,
                average,
                trees,
            } => Model::from(TreeEnsemble {
                base,
                average,
                trees: trees_from(trees),
            }),
        };
        Ok(Bundle {
            algorithm: algorithm_from(w.kind)?,
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
                // How every format version spells the logistic function.
                CalibrationV1::Platt { a, b } if a == -1.0 && b == 0.0 => Calibration::Logistic,
                CalibrationV1::Platt { a, b } => Calibration::Platt { a, b },
            },
            threshold: w.threshold,
            background: w.background,
            background_set: None,
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
            decision: None,
            governance: None,
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
    super::read_body(body, 1)
}

/// A bundle with nothing in it, for [`read`] to fill.
pub(crate) fn empty() -> Bundle {
    Bundle {
        algorithm: Algorithm::new("", ""),
        schema: Schema {
            features: Vec::new(),
            label: String::new(),
            positive: String::new(),
            negative: String::new(),
            encoding: Encoding {
                scale: false,
                impute_numeric: false,
            },
        },
        model: Model::from(Linear {
            weights: Vec::new(),
            bias: 0.0,
        }),
        calibration: Calibration::Identity,
        threshold: 0.0,
        background: Vec::new(),
        background_set: None,
        report: None,
        scorecard: Default::default(),
        reasons: Vec::new(),
        drift: None,
        decision: None,
        governance: None,
        metadata: Metadata::default(),
    }
}

/// Reads a v1 body ([`FileV1`]) into `b`, an [`empty`] bundle, by hand
/// (see [`super::wire`]); the algorithm stays empty and its v1 code is
/// returned, for the caller to resolve once the whole body has been read.
pub(crate) fn read(w: &mut Wire<'_>, b: &mut Bundle) -> u8 {
    let code = w.u8();
    let s = &mut b.schema;
    s.features = w.list(|w| {
        let name = w.string();
        let missing_rate = w.f32();
        let kind = if w.variant(2) == 0 {
            FeatureKind::Numeric(NumericFeature {
                min: w.f32(),
                max: w.f32(),
                mean: w.f32(),
                std: w.f32(),
                median: w.f32(),
            })
        } else {
            FeatureKind::Categorical(CategoricalFeature {
                categories: w.strings(),
                frequencies: w.f32s(),
                mode: w.u32(),
            })
        };
        Feature {
            name,
            kind,
            missing_rate,
        }
    });
    s.label = w.string();
    s.positive = w.string();
    s.negative = w.string();
    s.encoding = Encoding {
        scale: w.bool(),
        impute_numeric: w.bool(),
    };
    b.model = match w.variant(3) {
        0 => Model::from(Linear {
            weights: w.f32s(),
            bias: w.f32(),
        }),
        1 => Model::from(KernelSvm {
            gamma: w.f32(),
            support: w.f32s(),
            coef: w.f32s(),
            bias: w.f32(),
        }),
        _ => Model::from(TreeEnsemble {
            base: w.f32(),
            average: w.bool(),
            trees: read_trees(w),
        }),
    };
    b.calibration = if w.variant(2) == 0 {
        Calibration::Identity
    } else {
        match (w.f32(), w.f32()) {
            // How every format version spells the logistic function.
            (a, b) if a == -1.0 && b == 0.0 => Calibration::Logistic,
            (a, b) => Calibration::Platt { a, b },
        }
    };
    b.threshold = w.f32();
    b.background = w.f32s();
    b.report = w.option(|w| TrainingReport {
        test: read_metrics(w),
        train_rows: w.u64(),
        test_rows: w.u64(),
        cv: w.option(|w| CvReport {
            folds: w.list(Wire::f64),
        }),
        fit_seconds: w.f64(),
    });
    b.metadata = Metadata {
        producer: w.string(),
        created_unix: w.u64(),
        data_name: w.string(),
        data_sha256: w.string(),
        data_rows: w.u64(),
        params: w.list(|w| (w.string(), w.string())),
        notes: w.strings(),
    };
    code
}

/// Trees in their v1 wire form (`Vec<Vec<NodeV1>>`), read by hand (also
/// the node form of the `trees-cat` section).
pub(crate) fn read_trees(w: &mut Wire<'_>) -> Vec<Tree> {
    w.list(|w| Tree {
        nodes: w.list(|w| Node {
            feature: w.u32(),
            threshold: w.f32(),
            left: w.u32(),
            right: w.u32(),
            value: w.f32(),
            cover: w.f32(),
            default_left: w.bool(),
        }),
    })
}

fn read_metrics(w: &mut Wire<'_>) -> Metrics {
    Metrics {
        rows: w.u64(),
        positives: w.u64(),
        threshold: w.f32(),
        accuracy: w.f64(),
        precision: w.f64(),
        recall: w.f64(),
        f1: w.f64(),
        roc_auc: w.f64(),
        ks: w.f64(),
        brier: w.f64(),
        log_loss: w.f64(),
        confusion: Confusion {
            tn: w.u64(),
            fp: w.u64(),
            fn_: w.u64(),
            tp: w.u64(),
        },
        roc: w.list(|w| RocPoint {
            fpr: w.f32(),
            tpr: w.f32(),
            threshold: w.f32(),
        }),
        extra: None,
    }
}

pub fn encode(b: &Bundle) -> Result<Vec<u8>, FormatError> {
    postcard::to_allocvec(&FileV1::from(b)).map_err(|e| FormatError::Encode(e.to_string()))
}
