//! Random forest (own CART on histogram bins, soft leaf probabilities and
//! node covers): kind `trees`, averaged, output a probability.

use ferrisk::schema::Encoding;
use ferrisk::{Calibration, Model};

use super::{kv, FitInput, Fitted, Flags, Trainer};
use crate::algo::forest::{self, ForestParams};

#[derive(clap::Args, Debug, Clone)]
#[group(id = "rf-params")]
#[command(next_help_heading = "Random forest")]
pub struct Params {
    /// Random forest: number of trees.
    #[arg(id = "rf-trees", long = "rf-trees", default_value_t = ForestParams::default().trees)]
    pub trees: usize,
    /// Random forest: maximum tree depth.
    #[arg(id = "rf-max-depth", long = "rf-max-depth", default_value_t = ForestParams::default().max_depth)]
    pub max_depth: usize,
    /// Random forest: minimum (bootstrap, weighted) samples in a leaf.
    #[arg(id = "rf-min-samples-leaf", long = "rf-min-samples-leaf", default_value_t = ForestParams::default().min_samples_leaf)]
    pub min_samples_leaf: u32,
    /// Random forest: features tried per split (default √columns).
    #[arg(id = "rf-max-features", long = "rf-max-features")]
    pub max_features: Option<usize>,
}

impl Default for Params {
    fn default() -> Self {
        let p = ForestParams::default();
        Params {
            trees: p.trees,
            max_depth: p.max_depth,
            min_samples_leaf: p.min_samples_leaf,
            max_features: p.max_features,
        }
    }
}

impl Flags for Params {
    fn trainers(&self) -> Vec<Box<dyn Trainer + '_>> {
        vec![Box::new(self.clone())]
    }
}

impl Trainer for Params {
    fn id(&self) -> &'static str {
        "rf"
    }

    fn name(&self) -> &'static str {
        "random forest"
    }

    fn encoding(&self) -> Encoding {
        Encoding {
            scale: false,
            impute_numeric: true,
        }
    }

    fn params(&self) -> Vec<(String, String)> {
        kv(&[
            ("rf_trees", self.trees.to_string()),
            ("rf_max_depth", self.max_depth.to_string()),
            ("rf_min_samples_leaf", self.min_samples_leaf.to_string()),
            (
                "rf_max_features",
                self.max_features.map_or("sqrt".into(), |m| m.to_string()),
            ),
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
        input.progress.start(self.name(), self.trees as u64);
        let p = ForestParams {
            trees: self.trees,
            max_depth: self.max_depth,
            min_samples_leaf: self.min_samples_leaf,
            max_features: self.max_features,
            seed: input.seed,
            threads: input.threads,
            ..ForestParams::default()
        };
        let m = forest::fit(input.x, input.y, input.weights, &p, &|d| {
            input.progress.set(d as u64)
        })
        .map_err(|e| e.to_string())?;
        // The compact `forest` kind when it reproduces the trees exactly
        // (every forest this trainer grows), else the `trees` kind.
        let model = match ferrisk::kinds::Forest::pack(&m) {
            Some(f) => Model::from(f),
            None => Model::from(m),
        };
        Ok(Fitted {
            model,
            calibration: Calibration::Identity,
            notes: Vec::new(),
        })
    }
}
