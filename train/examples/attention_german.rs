//! Manual real-data check of the attention trainer on German credit.
//!
//! ```text
//! cargo run -p ferrisk-train --release --example attention_german -- \
//!     [path/to/german_credit.csv] [--seed N] [--cv K] [--quiet] \
//!     [--label creditability --positive bad --drop COLUMN] \
//!     [--d-model N --heads N --blocks N --d-ffn N --dropout P \
//!      --feature-dropout P --lr X --weight-decay X --epochs N \
//!      --batch-size N --patience N --validation-fraction P]
//! ```
//!
//! Default path: `../shared/data/statlog_german_credit/german_credit.csv`
//! (run from the repository root). Fits the scaled, imputed, one-hot design
//! on a stratified 70/30 split (or K stratified folds with `--cv K`), prints
//! per-epoch losses, the test ROC AUC from the runtime forward pass, the
//! fitted epochs and the training seconds; logistic regression on the same
//! split is printed for reference.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use ferrisk::kinds::attention::feature_slots;
use ferrisk::schema::Encoding;
use ferrisk::Kind as _;
use ferrisk_train::algo::attention::{self, AttentionParams};
use ferrisk_train::algo::linear;
use ferrisk_train::data::{self, SchemaFile, Table};
use ferrisk_train::{prep, split};

fn auc(margins: &[f32], y: &[bool]) -> Result<f64> {
    let probs: Vec<f32> = margins.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect();
    Ok(ferrisk::metrics::compute(&probs, y, 0.5)
        .ok_or_else(|| anyhow!("one class only"))?
        .roc_auc)
}

/// Fits on `train`, scores `test`: (attention AUC, LR AUC, epochs, seconds).
fn run(
    table: &Table,
    ds: &data::Dataset,
    train: &[usize],
    test: &[usize],
    p: &AttentionParams,
    quiet: bool,
) -> Result<(f64, f64, usize, f64)> {
    let enc = Encoding {
        scale: true,
        impute_numeric: true,
    };
    let schema = prep::fit_schema(table, ds, train, enc).map_err(|e| anyhow!("{e}"))?;
    let xt = prep::encode_rows(&schema, table, ds, train).map_err(|e| anyhow!("{e}"))?;
    let xv = prep::encode_rows(&schema, table, ds, test).map_err(|e| anyhow!("{e}"))?;
    let yt: Vec<bool> = train.iter().map(|&r| ds.labels[r]).collect();
    let yv: Vec<bool> = test.iter().map(|&r| ds.labels[r]).collect();
    let features = feature_slots(&schema);
    let mut epochs = 0;
    let start = Instant::now();
    let ones = vec![1.0; xt.rows];
    let model = attention::fit(&xt, &yt, &ones, &features, p, &mut |e| {
        epochs = e.epoch;
        if !quiet {
            println!("{}", e.line());
        }
    })?;
    let seconds = start.elapsed().as_secs_f64();
    model.check_shapes(schema.width()).map_err(|e| anyhow!(e))?;
    let margins: Vec<f32> = (0..xv.rows).map(|r| model.logit(xv.row(r))).collect();
    let lr = linear::fit_logistic(&xt, &yt, &ones, &Default::default())?;
    let lr_margins: Vec<f32> = (0..xv.rows).map(|r| lr.output(xv.row(r))).collect();
    Ok((auc(&margins, &yv)?, auc(&lr_margins, &yv)?, epochs, seconds))
}

fn main() -> Result<()> {
    let mut path = PathBuf::from("../shared/data/statlog_german_credit/german_credit.csv");
    let mut seed = 42u64;
    let mut cv = 0usize;
    let mut quiet = false;
    let (mut label, mut positive, mut drop) =
        ("creditability".to_string(), "bad".to_string(), Vec::new());
    let mut p = AttentionParams::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seed" => seed = value()?.parse()?,
            "--cv" => cv = value()?.parse()?,
            "--quiet" => quiet = true,
            "--label" => label = value()?,
            "--positive" => positive = value()?,
            "--drop" => drop.push(value()?),
            "--d-model" => p.d_model = value()?.parse()?,
            "--heads" => p.n_heads = value()?.parse()?,
            "--blocks" => p.n_blocks = value()?.parse()?,
            "--d-ffn" => p.d_ffn = value()?.parse()?,
            "--dropout" => p.dropout = value()?.parse()?,
            "--feature-dropout" => p.feature_dropout = value()?.parse()?,
            "--lr" => p.lr = value()?.parse()?,
            "--weight-decay" => p.weight_decay = value()?.parse()?,
            "--epochs" => p.epochs = value()?.parse()?,
            "--batch-size" => p.batch_size = value()?.parse()?,
            "--patience" => p.patience = value()?.parse()?,
            "--validation-fraction" => p.validation_fraction = value()?.parse()?,
            _ => path = PathBuf::from(a),
        }
    }
    let table = Table::read(&path)?;
    let ds = data::prepare(&table, &label, &positive, &drop, &SchemaFile::default())?;
    let p = p.seed(seed);
    println!("{p:?}");
    let n = ds.labels.len();
    if cv >= 2 {
        let folds = split::stratified_folds(&ds.labels, cv, seed);
        let mut total = (0.0, 0.0, 0.0);
        for (k, fold) in folds.iter().enumerate() {
            let train = split::complement(n, fold);
            let (a, b, e, s) = run(&table, &ds, &train, fold, &p, true)?;
            println!("fold {k}: attention AUC {a:.4}  LR AUC {b:.4}  epochs {e}  {s:.1} s");
            total = (total.0 + a, total.1 + b, total.2 + s);
        }
        let k = folds.len() as f64;
        println!(
            "{cv}-fold CV: attention AUC {:.4}  LR AUC {:.4}  mean fit {:.1} s",
            total.0 / k,
            total.1 / k,
            total.2 / k
        );
    } else {
        let (train, test) = split::stratified_split(&ds.labels, 0.3, seed);
        let (a, b, e, s) = run(&table, &ds, &train, &test, &p, quiet)?;
        println!("70/30 split: attention AUC {a:.4}  LR AUC {b:.4}  epochs {e}  fit {s:.1} s");
    }
    Ok(())
}
