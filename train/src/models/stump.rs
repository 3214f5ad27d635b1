//! The decision stump: kind `stump`, output in log-odds. The benchmark
//! every real model should beat, and the worked example of adding a kind.

use ferrisk::schema::Encoding;
use ferrisk::{Calibration, Model};

use super::{FitInput, Fitted, Flags, Trainer};

/// The stump has no parameters of its own.
#[derive(clap::Args, Debug, Clone, Default)]
#[group(id = "stump-params")]
pub struct Params {}

impl Flags for Params {
    fn trainers(&self) -> Vec<Box<dyn Trainer + '_>> {
        vec![Box::new(self.clone())]
    }
}

impl Trainer for Params {
    fn id(&self) -> &'static str {
        "stump"
    }

    fn name(&self) -> &'static str {
        "decision stump (benchmark)"
    }

    fn encoding(&self) -> Encoding {
        Encoding {
            scale: false,
            impute_numeric: true,
        }
    }

    fn params(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    fn fit(&self, input: &FitInput<'_>) -> Result<Fitted, String> {
        input.progress.start(self.name(), 1);
        crate::weights::check(input.weights, input.x.rows).map_err(|e| e.to_string())?;
        let s = crate::algo::stump::fit(input.x, input.y, input.weights)
            .ok_or("no column has two distinct values to split on")?;
        Ok(Fitted {
            model: Model::from(s),
            calibration: Calibration::Logistic,
            notes: Vec::new(),
        })
    }
}
