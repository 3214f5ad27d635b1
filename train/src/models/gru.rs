//! The GRU over the customer's history (`--sequence`) combined with the
//! static features: kind `gru`, output in log-odds. The network and its
//! training loop are [`crate::algo::sequence`]; the history's inputs,
//! channel statistics and the conversion into the runtime's kind are
//! [`crate::history`].

use ferrisk::schema::Encoding;

use super::{kv, FitInput, Fitted, Flags, Trainer};
use crate::algo::sequence::SeqParams;

#[derive(clap::Args, Debug, Clone)]
#[group(id = "gru-params")]
#[command(next_help_heading = "GRU (needs --sequence)")]
pub struct Params {
    /// GRU: state width.
    #[arg(id = "gru-hidden", long = "gru-hidden", default_value_t = SeqParams::gru().hidden)]
    pub hidden: usize,
    /// GRU: stacked layers.
    #[arg(id = "gru-layers", long = "gru-layers", default_value_t = SeqParams::gru().layers)]
    pub layers: usize,
    /// GRU: units of the head's hidden layer (over the encoding and the statics).
    #[arg(id = "gru-head", long = "gru-head", default_value_t = SeqParams::gru().head)]
    pub head: usize,
    /// GRU: dropout rate of the head's hidden layer while training.
    #[arg(id = "gru-dropout", long = "gru-dropout", default_value_t = SeqParams::gru().dropout)]
    pub dropout: f64,
    /// GRU: maximum epochs (early stopping on a validation split may stop sooner).
    #[arg(id = "gru-epochs", long = "gru-epochs", default_value_t = SeqParams::gru().epochs)]
    pub epochs: usize,
    /// GRU: rows per batch.
    #[arg(id = "gru-batch-size", long = "gru-batch-size", default_value_t = SeqParams::gru().batch_size)]
    pub batch_size: usize,
    /// GRU: AdamW learning rate.
    #[arg(id = "gru-lr", long = "gru-lr", default_value_t = SeqParams::gru().lr)]
    pub lr: f64,
    /// GRU: AdamW weight decay (weight matrices only).
    #[arg(id = "gru-weight-decay", long = "gru-weight-decay", default_value_t = SeqParams::gru().weight_decay)]
    pub weight_decay: f64,
    /// GRU: epochs without validation improvement before stopping (0: never).
    #[arg(id = "gru-patience", long = "gru-patience", default_value_t = SeqParams::gru().patience)]
    pub patience: usize,
}

impl Default for Params {
    fn default() -> Self {
        let p = SeqParams::gru();
        Params {
            hidden: p.hidden,
            layers: p.layers,
            head: p.head,
            dropout: p.dropout,
            epochs: p.epochs,
            batch_size: p.batch_size,
            lr: p.lr,
            weight_decay: p.weight_decay,
            patience: p.patience,
        }
    }
}

impl Params {
    fn seq(&self, seed: u64, max_time: Option<f64>) -> SeqParams {
        SeqParams::gru()
            .hidden(self.hidden)
            .layers(self.layers)
            .head(self.head)
            .dropout(self.dropout)
            .epochs(self.epochs)
            .batch_size(self.batch_size)
            .lr(self.lr)
            .weight_decay(self.weight_decay)
            .patience(self.patience)
            .seed(seed)
            .max_seconds(max_time)
    }
}

impl Flags for Params {
    fn trainers(&self) -> Vec<Box<dyn Trainer + '_>> {
        vec![Box::new(self.clone())]
    }
}

impl Trainer for Params {
    fn id(&self) -> &'static str {
        "gru"
    }

    fn name(&self) -> &'static str {
        "GRU over the history"
    }

    fn encoding(&self) -> Encoding {
        // Numbers raw or NaN: the history's channel statistics and the
        // statics' scaling are applied by the kind (ferrisk::SeqInputs).
        Encoding {
            scale: false,
            impute_numeric: false,
        }
    }

    fn params(&self) -> Vec<(String, String)> {
        let p = self.seq(0, None);
        kv(&[
            ("gru_hidden", p.hidden.to_string()),
            ("gru_layers", p.layers.to_string()),
            ("gru_head", p.head.to_string()),
            ("gru_dropout", p.dropout.to_string()),
            ("gru_epochs", p.epochs.to_string()),
            ("gru_batch_size", p.batch_size.to_string()),
            ("gru_lr", p.lr.to_string()),
            ("gru_weight_decay", p.weight_decay.to_string()),
            ("gru_patience", p.patience.to_string()),
            ("gru_validation_fraction", p.validation_fraction.to_string()),
        ])
    }

    fn needs_history(&self) -> bool {
        true
    }

    fn stops_on_interrupt(&self) -> bool {
        true
    }

    fn fit(&self, input: &FitInput<'_>) -> Result<Fitted, String> {
        crate::history::fit_sequence(self.seq(input.seed, input.max_time), input)
    }
}
