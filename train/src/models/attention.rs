//! The attention model (FT-Transformer-style tabular transformer, trained
//! with the hand-written engine of `crate::nn`): kind `attention`, output in log-odds.

use ferrisk::kinds::attention::feature_slots;
use ferrisk::schema::Encoding;
use ferrisk::{Calibration, Model};

use super::{kv, FitInput, Fitted, Flags, Trainer};
use crate::algo::attention::{AttentionParams, Stop};

#[derive(clap::Args, Debug, Clone)]
#[group(id = "attention-params")]
#[command(next_help_heading = "Attention model")]
pub struct Params {
    /// Attention: token width d_model.
    #[arg(id = "attn-d-model", long = "attn-d-model", default_value_t = AttentionParams::default().d_model)]
    pub d_model: usize,
    /// Attention: heads per block (must divide d_model).
    #[arg(id = "attn-heads", long = "attn-heads", default_value_t = AttentionParams::default().n_heads)]
    pub heads: usize,
    /// Attention: transformer blocks.
    #[arg(id = "attn-blocks", long = "attn-blocks", default_value_t = AttentionParams::default().n_blocks)]
    pub blocks: usize,
    /// Attention: maximum epochs (early stopping on a validation split may stop sooner; default:
    /// 200, from 20,000 training rows 800,000 / rows, at most 25).
    #[arg(id = "attn-epochs", long = "attn-epochs")]
    pub epochs: Option<usize>,
    /// Attention: AdamW learning rate (default: 3e-4 under 4,000 training rows, else 1e-3 with
    /// batches of 256, from 20,000 rows of 128).
    #[arg(id = "attn-lr", long = "attn-lr")]
    pub lr: Option<f64>,
    /// Attention: probability of hiding each input feature while training
    /// (teaches the model what "missing" means; regularises; default: 0.2, from 20,000 training
    /// rows 0.1).
    #[arg(id = "attn-feature-dropout", long = "attn-feature-dropout")]
    pub feature_dropout: Option<f64>,
    /// Attention: AdamW weight decay.
    #[arg(id = "attn-weight-decay", long = "attn-weight-decay", default_value_t = AttentionParams::default().weight_decay)]
    pub weight_decay: f64,
    /// Attention: dropout rate while training.
    #[arg(id = "attn-dropout", long = "attn-dropout", default_value_t = AttentionParams::default().dropout)]
    pub dropout: f64,
    /// Attention: epochs without validation improvement before stopping (default: 20 under 4,000
    /// training rows, 40,000 / rows within 3..=10 under 20,000, else 5).
    #[arg(id = "attn-patience", long = "attn-patience")]
    pub patience: Option<usize>,
}

impl Default for Params {
    fn default() -> Self {
        let p = AttentionParams::default();
        Params {
            d_model: p.d_model,
            heads: p.n_heads,
            blocks: p.n_blocks,
            epochs: None,
            lr: None,
            feature_dropout: None,
            weight_decay: p.weight_decay,
            dropout: p.dropout,
            patience: None,
        }
    }
}

impl Params {
    /// The parameters for `rows` training rows (batch, lr and patience
    /// sized to the table unless given).
    fn attention(&self, seed: u64, rows: usize, max_time: Option<f64>) -> AttentionParams {
        let mut p = AttentionParams::default()
            .sized(rows)
            .d_model(self.d_model)
            .n_heads(self.heads)
            .n_blocks(self.blocks)
            .weight_decay(self.weight_decay)
            .dropout(self.dropout)
            .max_seconds(max_time)
            .seed(seed);
        if let Some(v) = self.feature_dropout {
            p.feature_dropout = v;
        }
        if let Some(epochs) = self.epochs {
            p.epochs = epochs;
        }
        if let Some(lr) = self.lr {
            p.lr = lr;
        }
        if let Some(patience) = self.patience {
            p.patience = patience;
        }
        p
    }
}

impl Flags for Params {
    fn trainers(&self) -> Vec<Box<dyn Trainer + '_>> {
        vec![Box::new(self.clone())]
    }
}

impl Trainer for Params {
    fn id(&self) -> &'static str {
        "attention"
    }

    fn name(&self) -> &'static str {
        "attention (tabular transformer)"
    }

    fn encoding(&self) -> Encoding {
        Encoding {
            scale: true,
            impute_numeric: true,
        }
    }

    fn params(&self) -> Vec<(String, String)> {
        // Sized parameters are recorded as given ("auto" when not).
        let p = self.attention(0, 0, None);
        let auto = |v: Option<String>| v.unwrap_or_else(|| "auto (by training rows)".into());
        kv(&[
            ("attn_d_model", p.d_model.to_string()),
            ("attn_heads", p.n_heads.to_string()),
            ("attn_blocks", p.n_blocks.to_string()),
            ("attn_d_ffn", p.d_ffn.to_string()),
            ("attn_epochs", auto(self.epochs.map(|v| v.to_string()))),
            (
                "attn_batch_size",
                "auto (64 under 4,000 training rows, 256 under 20,000, else 128)".into(),
            ),
            ("attn_lr", auto(self.lr.map(|v| v.to_string()))),
            (
                "attn_feature_dropout",
                auto(self.feature_dropout.map(|v| v.to_string())),
            ),
            ("attn_weight_decay", p.weight_decay.to_string()),
            ("attn_dropout", p.dropout.to_string()),
            ("attn_patience", auto(self.patience.map(|v| v.to_string()))),
            (
                "attn_best_epoch_by",
                "auto (validation AUC from 20,000 training rows, else log-loss)".into(),
            ),
            (
                "attn_weight_average",
                "auto (0.995 from 20,000 training rows, else none)".into(),
            ),
            (
                "attn_validation_fraction",
                p.validation_fraction.to_string(),
            ),
        ])
    }

    fn stops_on_interrupt(&self) -> bool {
        true
    }

    fn fit(&self, input: &FitInput<'_>) -> Result<Fitted, String> {
        let p = self.attention(input.seed, input.x.rows, input.max_time);
        let slots = feature_slots(input.schema);
        input.progress.start("attention (epochs)", p.epochs as u64);
        // The trainer's threads are this rayon pool's (`--threads`).
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(input.threads.max(1))
            .build()
            .map_err(|e| format!("cannot start {} training threads: {e}", input.threads))?;
        let (m, outcome) = pool.install(|| {
            p.fit_outcome(input.x, input.y, input.weights, &slots, &mut |e| {
                input.progress.set(e.epoch as u64);
                input.progress.line(&e.line());
            })
            .map_err(|e| e.to_string())
        })?;
        let mut notes = vec![format!(
            "attention: batch {}, lr {}, patience {}; {} epoch(s) run, kept epoch {}",
            p.batch_size, p.lr, p.patience, outcome.epochs, outcome.best_epoch
        )];
        match outcome.stop {
            Stop::Epochs | Stop::Patience => {}
            Stop::Timeout => notes.push(format!(
                "attention: training stopped by --max-time {} s; the best epoch so far was kept",
                p.max_seconds.unwrap_or(0.0)
            )),
            Stop::Interrupted => notes.push(
                "attention: training interrupted (Ctrl-C); the best epoch so far was kept".into(),
            ),
        }
        Ok(Fitted {
            model: Model::from(m),
            calibration: Calibration::Logistic,
            notes,
        })
    }
}
