//! The attention trainer on one table: splits a CSV as `ferrisk train` does
//! (stratified, seed 42, 30 % test), encodes it with the attention kind's
//! encoding, fits once (the final model's fit, without the pipeline's CV)
//! and prints the per-epoch progress, the fit time and the test ROC AUC.
//! Used by scripts/bench-attention.sh.
//!
//! cargo run --release -p ferrisk-train --example attn_bench -- \
//!   DATA.csv LABEL POSITIVE DROP(,..|-) THREADS [EPOCHS BATCH LR PATIENCE DROPOUT FEATURE_DROPOUT]
//! (omitted or `-` = the trainer's default)

use std::time::Instant;

use ferrisk::kinds::attention::feature_slots;
use ferrisk::kinds::Kind;
use ferrisk::schema::Encoding;
use ferrisk_train::algo::attention::AttentionParams;
use ferrisk_train::data::{prepare, SchemaFile, Table};
use ferrisk_train::{prep, split};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 6 {
        return Err(
            "usage: attn_bench DATA LABEL POSITIVE DROP THREADS [EPOCHS BATCH LR PATIENCE DROPOUT FDROP]".into(),
        );
    }
    let drop: Vec<String> = if a[4] == "-" {
        Vec::new()
    } else {
        a[4].split(',').map(str::to_string).collect()
    };
    let threads: usize = a[5].parse()?;
    let arg = |i: usize| a.get(i).filter(|v| v.as_str() != "-");
    let table = Table::read(std::path::Path::new(&a[1]))?;
    let ds = prepare(&table, &a[2], &a[3], &drop, &SchemaFile::default())?;
    let (train, test) = split::stratified_split(&ds.labels, 0.3, 42);
    // What `ferrisk train` uses: sized to the training rows unless given.
    let mut p = AttentionParams::default().sized(train.len());
    if let Some(v) = arg(6) {
        p.epochs = v.parse()?;
    }
    if let Some(v) = arg(7) {
        p.batch_size = v.parse()?;
    }
    if let Some(v) = arg(8) {
        p.lr = v.parse()?;
    }
    if let Some(v) = arg(9) {
        p.patience = v.parse()?;
    }
    if let Some(v) = arg(10) {
        p.dropout = v.parse()?;
    }
    if let Some(v) = arg(11) {
        p.feature_dropout = v.parse()?;
    }
    let enc = Encoding {
        scale: true,
        impute_numeric: true,
    };
    let schema = prep::fit_schema(&table, &ds, &train, enc).map_err(|e| format!("{e}"))?;
    let x = prep::encode_rows(&schema, &table, &ds, &train).map_err(|e| format!("{e}"))?;
    let xt = prep::encode_rows(&schema, &table, &ds, &test).map_err(|e| format!("{e}"))?;
    let y: Vec<bool> = train.iter().map(|&r| ds.labels[r]).collect();
    let yt: Vec<bool> = test.iter().map(|&r| ds.labels[r]).collect();
    let w = vec![1.0f32; y.len()];
    println!(
        "{} training rows, {} test rows, {} design columns, {threads} thread(s); {p:?}",
        x.rows, xt.rows, x.cols
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let t = Instant::now();
    let m = pool.install(|| {
        p.fit(&x, &y, &w, &feature_slots(&schema), &mut |e| {
            println!("  {}", e.line());
        })
    })?;
    let fit_s = t.elapsed().as_secs_f64();
    let scores: Vec<f32> = (0..xt.rows).map(|r| m.output(xt.row(r))).collect();
    let auc = ferrisk::metrics::compute(
        &scores
            .iter()
            .map(|&z| 1.0 / (1.0 + (-z).exp()))
            .collect::<Vec<f32>>(),
        &yt,
        0.5,
    )
    .map_or(f64::NAN, |m| m.roc_auc);
    println!("attention fit: {fit_s:.1} s, test AUC {auc:.4}");
    Ok(())
}
