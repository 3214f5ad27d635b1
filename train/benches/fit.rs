//! Training-time benchmark on the real datasets (../shared/data): for each
//! model kind, the fit time of the final model on the 70% training split,
//! the whole `train` pipeline time, and the test ROC AUC. Prints figures;
//! asserts nothing about time. `cargo bench -p ferrisk-train --bench fit`.
//! Set FERRISK_BENCH_KINDS=rf,gbm to choose kinds.

use std::path::PathBuf;
use std::time::Instant;

use ferrisk_train::data::{prepare, SchemaFile, Table};
use ferrisk_train::models::KindParams;
use ferrisk_train::pipeline::{train, Quiet, TrainConfig};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    let sets = [
        (
            "German credit",
            "statlog_german_credit/german_credit.csv",
            "creditability",
            "bad",
            vec![],
        ),
        (
            "Bank Marketing",
            "bank_marketing/bank-full.csv",
            "y",
            "yes",
            vec!["duration".to_string()],
        ),
    ];
    let kinds: Vec<String> = match std::env::var("FERRISK_BENCH_KINDS") {
        Ok(list) => list.split(',').map(|k| k.trim().to_string()).collect(),
        Err(_) => KindParams::ids().iter().map(|k| k.to_string()).collect(),
    };
    for (name, rel, label, positive, drop) in sets {
        let path = root.join(rel);
        let Ok(table) = Table::read(&path) else {
            println!("{name}: {} not found; skipped", path.display());
            continue;
        };
        let Ok(ds) = prepare(&table, label, positive, &drop, &SchemaFile::default()) else {
            println!("{name}: cannot prepare the data; skipped");
            continue;
        };
        println!(
            "\n{name}: {} rows, {} features",
            ds.labels.len(),
            ds.features.len()
        );
        println!(
            "{:<12} {:>10} {:>12} {:>9}",
            "kind", "fit s", "pipeline s", "test AUC"
        );
        for id in &kinds {
            let mut cfg = TrainConfig::default();
            let short_attention = id == "attention" && ds.labels.len() > 10_000;
            if short_attention {
                // A full attention run on 45k rows takes minutes; time 10 epochs.
                cfg.kinds.attention.epochs = Some(10);
            }
            let Some(kind) = cfg.kinds.get(id) else {
                println!("{id:<12} is not a kind (ferrisk kinds lists them)");
                continue;
            };
            if kind.needs_history() {
                println!("{id:<12} needs a history (scripts/bench-sequence-cli.sh); skipped");
                continue;
            }
            let t0 = Instant::now();
            match train(kind.as_ref(), &table, &ds, &cfg, &Quiet) {
                Ok(t) => {
                    let r = t.bundle.report.as_ref();
                    println!(
                        "{:<12} {:>10.2} {:>12.2} {:>9.4}{}",
                        kind.id(),
                        r.map_or(0.0, |r| r.fit_seconds),
                        t0.elapsed().as_secs_f64(),
                        r.map_or(0.0, |r| r.test.roc_auc),
                        if short_attention { "  (10 epochs)" } else { "" }
                    );
                }
                Err(e) => println!("{:<12} failed: {e}", kind.id()),
            }
        }
    }
}
