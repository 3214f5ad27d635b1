//! Gradient boosting (own histogram GBDT with learned missing-value
//! directions): kind `trees`, summed, output in log-odds.

use ferrisk::schema::Encoding;
use ferrisk::{Calibration, Model};

use super::{kv, FitInput, Fitted, Flags, Trainer};
use crate::algo::gbm::GbmParams;

#[derive(clap::Args, Debug, Clone)]
#[group(id = "gbm-params")]
#[command(next_help_heading = "Gradient boosting")]
pub struct Params {
    /// Gradient boosting: maximum rounds (early stopping may use fewer).
    #[arg(id = "gbm-trees", long = "gbm-trees", default_value_t = GbmParams::default().trees)]
    pub trees: usize,
    /// Gradient boosting: learning rate (shrinkage).
    #[arg(id = "gbm-learning-rate", long = "gbm-learning-rate", default_value_t = GbmParams::default().learning_rate)]
    pub learning_rate: f32,
    /// Gradient boosting: maximum tree depth.
    #[arg(id = "gbm-max-depth", long = "gbm-max-depth", default_value_t = GbmParams::default().max_depth)]
    pub max_depth: usize,
    /// Gradient boosting: L2 regularisation λ on leaf values.
    #[arg(id = "gbm-lambda", long = "gbm-lambda", default_value_t = GbmParams::default().lambda)]
    pub lambda: f64,
    /// Gradient boosting: minimum hessian (child weight) in a leaf.
    #[arg(id = "gbm-min-child-weight", long = "gbm-min-child-weight", default_value_t = GbmParams::default().min_child_weight)]
    pub min_child_weight: f64,
    /// Gradient boosting: fraction of rows sampled per tree.
    #[arg(id = "gbm-subsample", long = "gbm-subsample", default_value_t = GbmParams::default().subsample)]
    pub subsample: f64,
    /// Gradient boosting: fraction of columns sampled per tree.
    #[arg(id = "gbm-colsample", long = "gbm-colsample", default_value_t = GbmParams::default().colsample)]
    pub colsample: f64,
    /// Gradient boosting: stop after this many rounds without validation improvement.
    #[arg(id = "gbm-early-stopping", long = "gbm-early-stopping", default_value_t = GbmParams::default().early_stopping_rounds)]
    pub early_stopping: usize,
}

impl Default for Params {
    fn default() -> Self {
        let p = GbmParams::default();
        Params {
            trees: p.trees,
            learning_rate: p.learning_rate,
            max_depth: p.max_depth,
            lambda: p.lambda,
            min_child_weight: p.min_child_weight,
            subsample: p.subsample,
            colsample: p.colsample,
            early_stopping: p.early_stopping_rounds,
        }
    }
}

impl Params {
    fn gbm(&self, seed: u64) -> GbmParams {
        GbmParams::default()
            .trees(self.trees)
            .learning_rate(self.learning_rate)
            .max_depth(self.max_depth)
            .lambda(self.lambda)
            .min_child_weight(self.min_child_weight)
            .subsample(self.subsample)
            .colsample(self.colsample)
            .early_stopping_rounds(self.early_stopping)
            .seed(seed)
    }
}

impl Flags for Params {
    fn trainers(&self) -> Vec<Box<dyn Trainer + '_>> {
        vec![Box::new(self.clone())]
    }
}

impl Trainer for Params {
    fn id(&self) -> &'static str {
        "gbm"
    }

    fn name(&self) -> &'static str {
        "gradient boosting"
    }

    fn encoding(&self) -> Encoding {
        Encoding {
            scale: false,
            impute_numeric: false,
        }
    }

    fn params(&self) -> Vec<(String, String)> {
        let p = self.gbm(0);
        kv(&[
            ("gbm_trees", p.trees.to_string()),
            ("gbm_learning_rate", p.learning_rate.to_string()),
            ("gbm_max_depth", p.max_depth.to_string()),
            ("gbm_max_leaves", p.max_leaves.to_string()),
            ("gbm_lambda", p.lambda.to_string()),
            ("gbm_min_child_weight", p.min_child_weight.to_string()),
            ("gbm_subsample", p.subsample.to_string()),
            ("gbm_colsample", p.colsample.to_string()),
            ("gbm_max_bins", p.max_bins.to_string()),
            ("gbm_early_stopping", p.early_stopping_rounds.to_string()),
            ("gbm_validation_fraction", p.validation_fraction.to_string()),
        ])
    }

    fn fit(&self, input: &FitInput<'_>) -> Result<Fitted, String> {
        let limit = ferrisk::kinds::trees::MAX_DEPTH;
        if self.max_depth > limit {
            return Err(format!(
                "a maximum depth of {} is over the model file's limit of {limit}",
                self.max_depth
            ));
        }
        let mut p = self.gbm(input.seed).threads(input.threads);
        if !input.monotone.is_empty() {
            let groups = ferrisk::kinds::groups(input.schema);
            let mut dirs = vec![0i8; input.x.cols];
            for (name, d) in input.monotone {
                let i = input
                    .schema
                    .position(name)
                    .ok_or_else(|| format!("--monotone: '{name}' is not an input of the model"))?;
                if !matches!(
                    input.schema.features[i].kind,
                    ferrisk::schema::FeatureKind::Numeric(_)
                ) {
                    return Err(format!(
                        "--monotone: '{name}' is categorical; constraints apply to numeric features"
                    ));
                }
                if let Some(slot) = dirs.get_mut(groups[i].0) {
                    *slot = *d;
                }
            }
            p = p.monotone(dirs);
        }
        input.progress.start(self.name(), p.trees as u64);
        let m = p
            .fit(input.x, input.y, input.weights, &mut |round, _, _| {
                input.progress.set(round as u64)
            })
            .map_err(|e| e.to_string())?;
        Ok(Fitted {
            model: Model::from(m),
            calibration: Calibration::Logistic,
            notes: Vec::new(),
        })
    }
}
