//! Logistic regression (L2-regularised, smartcore): kind `linear`, output
//! in log-odds.

use ferrisk::schema::Encoding;
use ferrisk::{Calibration, Model};

use super::{kv, FitInput, Fitted, Flags, Trainer};
use crate::algo::linear::{fit_logistic, LogisticParams};

#[derive(clap::Args, Debug, Clone)]
#[group(id = "lr-params")]
#[command(next_help_heading = "Logistic regression")]
pub struct Params {
    /// Logistic regression: L2 penalty α in Σ log-loss + α/2·|w|².
    #[arg(id = "lr-alpha", long = "lr-alpha", default_value_t = Params::default().alpha)]
    pub alpha: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            alpha: LogisticParams::default().alpha,
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
        "lr"
    }

    fn name(&self) -> &'static str {
        "logistic regression"
    }

    fn encoding(&self) -> Encoding {
        Encoding {
            scale: true,
            impute_numeric: true,
        }
    }

    fn params(&self) -> Vec<(String, String)> {
        kv(&[("lr_alpha", self.alpha.to_string())])
    }

    fn fit(&self, input: &FitInput<'_>) -> Result<Fitted, String> {
        input.progress.start(self.name(), 1);
        let m = fit_logistic(
            input.x,
            input.y,
            input.weights,
            &LogisticParams { alpha: self.alpha },
        )
        .map_err(|e| e.to_string())?;
        Ok(Fitted {
            model: Model::from(m),
            calibration: Calibration::Logistic,
            notes: Vec::new(),
        })
    }
}
