//! The attention model (FT-Transformer-style tabular transformer, trained
//! with candle): kind `attention`, output in log-odds.

use ferrisk::kinds::attention::feature_slots;
use ferrisk::schema::Encoding;
use ferrisk::{Calibration, Model};

use super::{kv, FitInput, Fitted, Flags, Trainer};
use crate::algo::attention::AttentionParams;

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
    /// Attention: maximum epochs (early stopping on a validation split may stop sooner).
    #[arg(id = "attn-epochs", long = "attn-epochs", default_value_t = AttentionParams::default().epochs)]
    pub epochs: usize,
    /// Attention: AdamW learning rate.
    #[arg(id = "attn-lr", long = "attn-lr", default_value_t = AttentionParams::default().lr)]
    pub lr: f64,
    /// Attention: probability of hiding each input feature while training
    /// (teaches the model what "missing" means; regularises).
    #[arg(id = "attn-feature-dropout", long = "attn-feature-dropout", default_value_t = AttentionParams::default().feature_dropout)]
    pub feature_dropout: f64,
    /// Attention: AdamW weight decay.
    #[arg(id = "attn-weight-decay", long = "attn-weight-decay", default_value_t = AttentionParams::default().weight_decay)]
    pub weight_decay: f64,
    /// Attention: dropout rate while training.
    #[arg(id = "attn-dropout", long = "attn-dropout", default_value_t = AttentionParams::default().dropout)]
    pub dropout: f64,
    /// Attention: epochs without validation improvement before stopping.
    #[arg(id = "attn-patience", long = "attn-patience", default_value_t = AttentionParams::default().patience)]
    pub patience: usize,
}

impl Default for Params {
    fn default() -> Self {
        let p = AttentionParams::default();
        Params {
            d_model: p.d_model,
            heads: p.n_heads,
            blocks: p.n_blocks,
            epochs: p.epochs,
            lr: p.lr,
            feature_dropout: p.feature_dropout,
            weight_decay: p.weight_decay,
            dropout: p.dropout,
            patience: p.patience,
        }
    }
}

impl Params {
    fn attention(&self, seed: u64) -> AttentionParams {
        AttentionParams::default()
            .d_model(self.d_model)
            .n_heads(self.heads)
            .n_blocks(self.blocks)
            .epochs(self.epochs)
            .lr(self.lr)
            .feature_dropout(self.feature_dropout)
            .weight_decay(self.weight_decay)
            .dropout(self.dropout)
            .patience(self.patience)
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
        let p = self.attention(0);
        kv(&[
            ("attn_d_model", p.d_model.to_string()),
            ("attn_heads", p.n_heads.to_string()),
            ("attn_blocks", p.n_blocks.to_string()),
            ("attn_d_ffn", p.d_ffn.to_string()),
            ("attn_epochs", p.epochs.to_string()),
            ("attn_batch_size", p.batch_size.to_string()),
            ("attn_lr", p.lr.to_string()),
            ("attn_feature_dropout", p.feature_dropout.to_string()),
            ("attn_weight_decay", p.weight_decay.to_string()),
            ("attn_dropout", p.dropout.to_string()),
            ("attn_patience", p.patience.to_string()),
            (
                "attn_validation_fraction",
                p.validation_fraction.to_string(),
            ),
        ])
    }

    fn fit(&self, input: &FitInput<'_>) -> Result<Fitted, String> {
        let p = self.attention(input.seed);
        let slots = feature_slots(input.schema);
        input.progress.start("attention (epochs)", p.epochs as u64);
        // candle's matrix products run on rayon: in a pool of `threads`.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(input.threads.max(1))
            .build()
            .map_err(|e| format!("cannot start {} training threads: {e}", input.threads))?;
        let m = pool.install(|| {
            p.fit(
                input.x,
                input.y,
                input.weights,
                &slots,
                &mut |epoch, _, _, _| input.progress.set(epoch as u64),
            )
            .map_err(|e| e.to_string())
        })?;
        Ok(Fitted {
            model: Model::from(m),
            calibration: Calibration::Logistic,
            notes: Vec::new(),
        })
    }
}
