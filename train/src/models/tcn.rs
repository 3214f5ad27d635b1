//! The temporal convolution network (causal, dilated) over the customer's history (`--sequence`) combined with the
//! static features: kind `tcn`, output in log-odds. The network and its
//! training loop are [`crate::algo::sequence`]; the history's inputs,
//! channel statistics and the conversion into the runtime's kind are
//! [`crate::history`].

use ferrisk::schema::Encoding;

use super::{kv, FitInput, Fitted, Flags, Trainer};
use crate::algo::sequence::SeqParams;

#[derive(clap::Args, Debug, Clone)]
#[group(id = "tcn-params")]
#[command(next_help_heading = "Temporal CNN (needs --sequence)")]
pub struct Params {
    /// TCN: channels of every block.
    #[arg(id = "tcn-hidden", long = "tcn-hidden", default_value_t = SeqParams::tcn().hidden)]
    pub hidden: usize,
    /// TCN: residual blocks of causal convolutions (dilations 1, 2, 4, ...).
    #[arg(id = "tcn-blocks", long = "tcn-blocks", default_value_t = SeqParams::tcn().layers)]
    pub layers: usize,
    /// TCN: kernel width (2 to 5; the receptive field is 1 + (kernel - 1)(2^blocks - 1) steps).
    #[arg(id = "tcn-kernel", long = "tcn-kernel", default_value_t = SeqParams::tcn().kernel)]
    pub kernel: usize,
    /// TCN: units of the head's hidden layer (over the encoding and the statics).
    #[arg(id = "tcn-head", long = "tcn-head", default_value_t = SeqParams::tcn().head)]
    pub head: usize,
    /// TCN: dropout rate of the head's hidden layer while training.
    #[arg(id = "tcn-dropout", long = "tcn-dropout", default_value_t = SeqParams::tcn().dropout)]
    pub dropout: f64,
    /// TCN: maximum epochs (early stopping on a validation split may stop sooner).
    #[arg(id = "tcn-epochs", long = "tcn-epochs", default_value_t = SeqParams::tcn().epochs)]
    pub epochs: usize,
    /// TCN: rows per batch.
    #[arg(id = "tcn-batch-size", long = "tcn-batch-size", default_value_t = SeqParams::tcn().batch_size)]
    pub batch_size: usize,
    /// TCN: AdamW learning rate.
    #[arg(id = "tcn-lr", long = "tcn-lr", default_value_t = SeqParams::tcn().lr)]
    pub lr: f64,
    /// TCN: AdamW weight decay (weight matrices only).
    #[arg(id = "tcn-weight-decay", long = "tcn-weight-decay", default_value_t = SeqParams::tcn().weight_decay)]
    pub weight_decay: f64,
    /// TCN: epochs without validation improvement before stopping (0: never).
    #[arg(id = "tcn-patience", long = "tcn-patience", default_value_t = SeqParams::tcn().patience)]
    pub patience: usize,
}

impl Default for Params {
    fn default() -> Self {
        let p = SeqParams::tcn();
        Params {
            hidden: p.hidden,
            layers: p.layers,
            kernel: p.kernel,
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
        SeqParams::tcn()
            .hidden(self.hidden)
            .layers(self.layers)
            .kernel(self.kernel)
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
        "tcn"
    }

    fn name(&self) -> &'static str {
        "temporal CNN over the history"
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
            ("tcn_hidden", p.hidden.to_string()),
            ("tcn_blocks", p.layers.to_string()),
            ("tcn_kernel", p.kernel.to_string()),
            ("tcn_head", p.head.to_string()),
            ("tcn_dropout", p.dropout.to_string()),
            ("tcn_epochs", p.epochs.to_string()),
            ("tcn_batch_size", p.batch_size.to_string()),
            ("tcn_lr", p.lr.to_string()),
            ("tcn_weight_decay", p.weight_decay.to_string()),
            ("tcn_patience", p.patience.to_string()),
            ("tcn_validation_fraction", p.validation_fraction.to_string()),
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
