//! Inference types: every model kind the runtime can score. These are the
//! project's own types (never a training library's structs), all `f32`, and
//! every arithmetic step is written out in a fixed order with `libm`'s
//! portable functions, so the native and the wasm scorer agree bit for bit.

pub mod attention;
mod block;
mod tree;

pub use tree::{Node, Tree, TreeEnsemble, LEAF};

use crate::error::ScoreError;

/// A linear decision function `bias + w·x` over the (scaled) design row.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    pub weights: Vec<f32>,
    pub bias: f32,
}

impl Linear {
    pub fn margin(&self, x: &[f32]) -> f32 {
        let mut acc = self.bias;
        for (w, v) in self.weights.iter().zip(x) {
            acc += w * v;
        }
        acc
    }
}

/// An RBF-kernel SVM: `bias + Σ coef_i · exp(-gamma · |x - sv_i|²)`.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelSvm {
    pub gamma: f32,
    /// Support vectors, row-major, `coef.len()` rows of the design width.
    pub support: Vec<f32>,
    pub coef: Vec<f32>,
    pub bias: f32,
}

impl KernelSvm {
    pub fn margin(&self, x: &[f32]) -> f32 {
        let d = x.len();
        if d == 0 {
            return self.bias;
        }
        let mut acc = self.bias;
        for (sv, c) in self.support.chunks_exact(d).zip(&self.coef) {
            let mut dist = 0.0f32;
            for (a, b) in sv.iter().zip(x) {
                let t = a - b;
                dist += t * t;
            }
            acc += c * libm::expf(-self.gamma * dist);
        }
        acc
    }
}

/// Which algorithm produced the model; drives display and explanation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    LogisticRegression,
    LinearSvm,
    RbfSvm,
    RandomForest,
    GradientBoosting,
    Attention,
}

impl ModelKind {
    pub const ALL: [ModelKind; 6] = [
        ModelKind::LogisticRegression,
        ModelKind::LinearSvm,
        ModelKind::RbfSvm,
        ModelKind::RandomForest,
        ModelKind::GradientBoosting,
        ModelKind::Attention,
    ];

    /// Short identifier used on the command line and in file names.
    pub fn id(self) -> &'static str {
        match self {
            ModelKind::LogisticRegression => "lr",
            ModelKind::LinearSvm => "svm-linear",
            ModelKind::RbfSvm => "svm-rbf",
            ModelKind::RandomForest => "rf",
            ModelKind::GradientBoosting => "gbm",
            ModelKind::Attention => "attention",
        }
    }

    pub fn from_id(id: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().find(|k| k.id() == id)
    }

    pub fn display(self) -> &'static str {
        match self {
            ModelKind::LogisticRegression => "logistic regression",
            ModelKind::LinearSvm => "linear SVM (Platt-calibrated)",
            ModelKind::RbfSvm => "RBF SVM (Platt-calibrated)",
            ModelKind::RandomForest => "random forest",
            ModelKind::GradientBoosting => "gradient boosting",
            ModelKind::Attention => "attention (tabular transformer)",
        }
    }
}

/// The decision function of a model.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    Linear(Linear),
    KernelSvm(KernelSvm),
    Trees(TreeEnsemble),
    Attention(Box<attention::Attention>),
}

impl Model {
    /// Raw model output for one design row (log-odds, decision value, or
    /// forest probability, depending on the kind; see [`Calibration`]).
    pub fn margin(&self, x: &[f32]) -> f32 {
        match self {
            Model::Linear(m) => m.margin(x),
            Model::KernelSvm(m) => m.margin(x),
            Model::Trees(m) => m.margin(x),
            Model::Attention(m) => m.margin(x),
        }
    }

    /// Design width the model expects (checked against the schema at load).
    pub fn input_width(&self) -> Option<usize> {
        match self {
            Model::Linear(m) => Some(m.weights.len()),
            Model::Attention(m) => Some(m.input_width()),
            Model::KernelSvm(_) | Model::Trees(_) => None,
        }
    }
}

/// Turns a margin into a probability of the positive class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Calibration {
    /// The margin already is a probability (random forest).
    Identity,
    /// `p = 1 / (1 + exp(a·m + b))`: the logistic function when `a = -1, b = 0`,
    /// Platt scaling of an SVM decision value otherwise.
    Platt { a: f32, b: f32 },
}

impl Calibration {
    pub const LOGISTIC: Calibration = Calibration::Platt { a: -1.0, b: 0.0 };

    pub fn probability(self, margin: f32) -> f32 {
        match self {
            Calibration::Identity => margin.clamp(0.0, 1.0),
            Calibration::Platt { a, b } => {
                let p = 1.0 / (1.0 + libm::expf(a * margin + b));
                if p.is_nan() {
                    0.5
                } else {
                    p
                }
            }
        }
    }

    /// Log-odds of the calibrated probability as an affine map of the margin,
    /// when there is one (`Some((scale, offset))`: log-odds = scale·m + offset).
    pub fn log_odds_affine(self) -> Option<(f32, f32)> {
        match self {
            Calibration::Identity => None,
            Calibration::Platt { a, b } => Some((-a, -b)),
        }
    }
}

/// Checks a design row before it reaches a model.
pub fn check_width(x: &[f32], width: usize) -> Result<(), ScoreError> {
    if x.len() != width {
        return Err(ScoreError::FeatureCount {
            expected: width,
            got: x.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_margin_in_order() {
        let m = Linear {
            weights: vec![0.5, -2.0],
            bias: 1.0,
        };
        assert_eq!(m.margin(&[2.0, 1.0]), 0.0);
    }

    #[test]
    fn rbf_margin_matches_formula() {
        let m = KernelSvm {
            gamma: 0.5,
            support: vec![0.0, 0.0, 1.0, 1.0],
            coef: vec![1.0, -1.0],
            bias: 0.25,
        };
        let x = [1.0f32, 0.0];
        let expect = 0.25 + (-0.5f64).exp() - (-0.5f64).exp();
        assert!((m.margin(&x) as f64 - expect).abs() < 1e-6);
    }

    #[test]
    fn platt_and_logistic() {
        assert_eq!(Calibration::LOGISTIC.probability(0.0), 0.5);
        let p = Calibration::LOGISTIC.probability(2.0);
        assert!((p as f64 - 1.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-7);
        let p = Calibration::Platt { a: -2.0, b: 1.0 }.probability(0.5);
        assert_eq!(p, 0.5);
        assert_eq!(Calibration::Identity.probability(1.5), 1.0);
    }

    #[test]
    fn kind_ids_round_trip() {
        for k in ModelKind::ALL {
            assert_eq!(ModelKind::from_id(k.id()), Some(k));
        }
        assert_eq!(ModelKind::from_id("nope"), None);
    }
}
