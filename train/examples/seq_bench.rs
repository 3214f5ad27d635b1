//! The sequence models (GRU, TCN) against ferrisk's GBM on the frozen
//! synthetic histories (issue 14): for each seed, generates
//! `synth_history::generate(ROWS, 12, 0, seed)`, splits it 70/30
//! (stratified, by the seed), fits each model on the 70 % (the sequence
//! models and the GBM hold out their own validation split of it for early
//! stopping) and prints the fit time and the test ROC AUC, then the means
//! and each model's difference to the GBM. Used by scripts/bench-sequence.sh.
//!
//! cargo run --release -p ferrisk-train --example seq_bench -- \
//!   [ROWS SEEDS THREADS MODELS EPOCHS HIDDEN LR BATCH LAYERS DROPOUT]
//! (defaults 30000 3 2 gru,tcn,gbm; the rest `-` = the trainer's default)
//!
//! Inputs built here (the schema's sequence support is later work):
//! - sequence: 12 monthly steps, oldest first, 3 channels: status (months
//!   in arrears), ln(1 + balance), ln(1 + paid), each standardised with
//!   the training rows' mean and deviation over present cells; a step is
//!   present when any of its channels is, missing cells are 0;
//! - statics: age, ln(1 + income) (0 when missing, plus a missing flag),
//!   ln(1 + credit limit), existing credits (standardised), employment
//!   and housing one-hot;
//! - the GBM reads the same columns flattened and raw: the numeric
//!   statics, the one-hot categories and the 36 sequence cells (NaN when
//!   missing), as `ferrisk train --model gbm` would see them.

use std::time::Instant;

use ferrisk::Kind as _;
use ferrisk_train::algo::gbm::GbmParams;
use ferrisk_train::algo::sequence::{self, SeqData, SeqParams};
use ferrisk_train::bins::Matrix;
use ferrisk_train::{split, synth_history};

const MONTHS: usize = 12;
const EMPLOYMENT: [&str; 4] = ["permanent", "temporary", "self-employed", "unemployed"];
const HOUSING: [&str; 3] = ["own", "rent", "free"];

/// One customer as read from the generator's CSV.
struct Customer {
    /// age, income, credit limit, existing credits (NaN = missing).
    num: [f64; 4],
    employment: usize,
    housing: usize,
    /// `MONTHS × 3` (status, balance, paid), oldest first; NaN = missing.
    cells: Vec<f64>,
    label: bool,
}

fn parse(text: &str) -> Result<Vec<Customer>, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty CSV")?.split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or(format!("no column {name}"))
    };
    let num_cols = [
        col("age")?,
        col("income")?,
        col("credit_limit")?,
        col("existing_credits")?,
    ];
    let (emp, hou, lab) = (
        col("employment")?,
        col("housing")?,
        col(synth_history::LABEL)?,
    );
    let mut seq_cols = Vec::new();
    for age in (1..=MONTHS).rev() {
        for ch in synth_history::CHANNELS {
            seq_cols.push(col(&synth_history::column(ch, age))?);
        }
    }
    let value = |s: &str| -> f64 {
        if s.is_empty() {
            f64::NAN
        } else {
            s.parse().unwrap_or(f64::NAN)
        }
    };
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let get = |i: usize| f.get(i).copied().unwrap_or("");
            Ok(Customer {
                num: num_cols.map(|c| value(get(c))),
                employment: EMPLOYMENT.iter().position(|e| *e == get(emp)).unwrap_or(0),
                housing: HOUSING.iter().position(|h| *h == get(hou)).unwrap_or(0),
                cells: seq_cols.iter().map(|&c| value(get(c))).collect(),
                label: get(lab) == synth_history::POSITIVE,
            })
        })
        .collect()
}

/// Mean and deviation of the finite values.
fn moments(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut n, mut s, mut s2) = (0.0, 0.0, 0.0);
    for v in values.filter(|v| v.is_finite()) {
        n += 1.0;
        s += v;
        s2 += v * v;
    }
    let mean = s / f64::max(n, 1.0);
    let var = s2 / f64::max(n, 1.0) - mean * mean;
    (mean, var.max(1e-12).sqrt())
}

/// Channel transform before standardising.
fn channel(ch: usize, v: f64) -> f64 {
    if ch == 0 {
        v
    } else {
        v.max(0.0).ln_1p()
    }
}

fn static_transform(i: usize, v: f64) -> f64 {
    if i == 1 || i == 2 {
        v.max(0.0).ln_1p()
    } else {
        v
    }
}

/// The sequence models' inputs for `rows`, scaled with `train`'s moments.
fn seq_data(cs: &[Customer], rows: &[usize], train: &[usize]) -> SeqData {
    let ch_m: Vec<(f64, f64)> = (0..3)
        .map(|ch| {
            moments(
                train
                    .iter()
                    .flat_map(|&r| (0..MONTHS).map(move |s| channel(ch, cs[r].cells[s * 3 + ch]))),
            )
        })
        .collect();
    let st_m: Vec<(f64, f64)> = (0..4)
        .map(|i| moments(train.iter().map(|&r| static_transform(i, cs[r].num[i]))))
        .collect();
    let statics = 4 + 1 + EMPLOYMENT.len() + HOUSING.len();
    let mut d = SeqData {
        rows: rows.len(),
        steps: MONTHS,
        channels: 3,
        statics,
        seq: vec![0.0; rows.len() * MONTHS * 3],
        mask: vec![0.0; rows.len() * MONTHS],
        stat: vec![0.0; rows.len() * statics],
    };
    for (i, &r) in rows.iter().enumerate() {
        let c = &cs[r];
        for s in 0..MONTHS {
            let cell = &c.cells[s * 3..s * 3 + 3];
            if cell.iter().any(|v| v.is_finite()) {
                d.mask[i * MONTHS + s] = 1.0;
            }
            for (ch, &v) in cell.iter().enumerate() {
                if v.is_finite() {
                    let (m, sd) = ch_m[ch];
                    d.seq[(i * MONTHS + s) * 3 + ch] = ((channel(ch, v) - m) / sd) as f32;
                }
            }
        }
        let st = &mut d.stat[i * statics..(i + 1) * statics];
        for (k, &v) in c.num.iter().enumerate() {
            if v.is_finite() {
                let (m, sd) = st_m[k];
                st[k] = ((static_transform(k, v) - m) / sd) as f32;
            }
        }
        st[4] = if c.num[1].is_finite() { 0.0 } else { 1.0 };
        st[5 + c.employment] = 1.0;
        st[5 + EMPLOYMENT.len() + c.housing] = 1.0;
    }
    d
}

/// The GBM's flattened matrix: raw numeric statics, one-hot categories,
/// the 36 sequence cells (NaN = missing).
fn flat(cs: &[Customer], rows: &[usize]) -> Matrix {
    let cols = 4 + EMPLOYMENT.len() + HOUSING.len() + MONTHS * 3;
    let mut m = Matrix::zeros(rows.len(), cols);
    for (i, &r) in rows.iter().enumerate() {
        let c = &cs[r];
        let row = m.row_mut(i);
        for (o, &v) in row.iter_mut().zip(&c.num) {
            *o = v as f32;
        }
        row[4 + c.employment] = 1.0;
        row[4 + EMPLOYMENT.len() + c.housing] = 1.0;
        for (o, &v) in row[4 + EMPLOYMENT.len() + HOUSING.len()..]
            .iter_mut()
            .zip(&c.cells)
        {
            *o = v as f32;
        }
    }
    m
}

fn auc(scores: &[f32], y: &[bool]) -> f64 {
    let s: Vec<f64> = scores.iter().map(|&v| f64::from(v)).collect();
    ferrisk_train::stats::auc(&s, y).unwrap_or(f64::NAN)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let arg = |i: usize| a.get(i).filter(|v| v.as_str() != "-");
    let rows: usize = arg(1).map_or(Ok(30_000), |v| v.parse())?;
    let seeds: u64 = arg(2).map_or(Ok(3), |v| v.parse())?;
    let threads: usize = arg(3).map_or(Ok(2), |v| v.parse())?;
    let models: Vec<String> = arg(4)
        .map_or("gru,tcn,gbm", |v| v.as_str())
        .split(',')
        .map(str::to_string)
        .collect();
    let tune = |mut p: SeqParams| -> Result<SeqParams, Box<dyn std::error::Error>> {
        if let Some(v) = arg(5) {
            p.epochs = v.parse()?;
        }
        if let Some(v) = arg(6) {
            p.hidden = v.parse()?;
        }
        if let Some(v) = arg(7) {
            p.lr = v.parse()?;
        }
        if let Some(v) = arg(8) {
            p.batch_size = v.parse()?;
        }
        if let Some(v) = arg(9) {
            p.layers = v.parse()?;
        }
        if let Some(v) = arg(10) {
            p.dropout = v.parse()?;
        }
        Ok(p)
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    println!(
        "{rows} customers x {MONTHS} months, seeds 1..={seeds}, {threads} thread(s), models {}",
        models.join(",")
    );
    // Per model: (name, test AUC per seed, fit seconds per seed).
    let mut results: Vec<(String, Vec<f64>, Vec<f64>)> = models
        .iter()
        .map(|m| (m.clone(), Vec::new(), Vec::new()))
        .collect();
    for seed in 1..=seeds {
        let cs = parse(&synth_history::generate(rows, MONTHS, 0, seed))?;
        let y: Vec<bool> = cs.iter().map(|c| c.label).collect();
        let (train, test) = split::stratified_split(&y, 0.3, seed);
        let yt: Vec<bool> = test.iter().map(|&r| y[r]).collect();
        let ytr: Vec<bool> = train.iter().map(|&r| y[r]).collect();
        let w = vec![1.0f32; train.len()];
        println!(
            "seed {seed}: {} training rows ({} positive), {} test rows",
            train.len(),
            ytr.iter().filter(|&&t| t).count(),
            test.len()
        );
        for (name, aucs, secs) in &mut results {
            let started = Instant::now();
            let scores: Vec<f32> = match name.as_str() {
                "gru" | "tcn" => {
                    let base = if name == "gru" {
                        SeqParams::gru()
                    } else {
                        SeqParams::tcn()
                    };
                    let p = tune(base)?.seed(seed);
                    let dtr = seq_data(&cs, &train, &train);
                    let dte = seq_data(&cs, &test, &train);
                    let mut best = (f64::INFINITY, f64::NAN);
                    let (model, outcome) = pool.install(|| {
                        sequence::fit(&dtr, &ytr, &w, &p, &mut |e| {
                            println!("  {name} {}", e.line());
                            if e.best {
                                best = (e.valid_loss, e.valid_auc);
                            }
                        })
                    })?;
                    println!(
                        "  {name}: {outcome:?}; best validation loss {:.4} AUC {:.4}; {:?} hidden {} layers {} kernel {} lr {} batch {} dropout {}",
                        best.0, best.1, p.encoder, p.hidden, p.layers, p.kernel, p.lr, p.batch_size, p.dropout
                    );
                    pool.install(|| sequence::logits(&model, &dte))?
                }
                "gbm" => {
                    let p = GbmParams::default().seed(seed).threads(threads);
                    let m = p.fit(&flat(&cs, &train), &ytr, &w, &mut |_, _, _| {})?;
                    let xt = flat(&cs, &test);
                    (0..xt.rows).map(|r| m.output(xt.row(r))).collect()
                }
                other => return Err(format!("unknown model {other}").into()),
            };
            let s = started.elapsed().as_secs_f64();
            let a = auc(&scores, &yt);
            println!("  {name} seed {seed}: fit {s:.1} s, test AUC {a:.4}");
            aucs.push(a);
            secs.push(s);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let gbm = results.iter().find(|r| r.0 == "gbm").map(|r| mean(&r.1));
    println!("summary ({rows} customers x {MONTHS} months, {threads} thread(s)):");
    for (name, aucs, secs) in &results {
        let per: Vec<String> = aucs.iter().map(|a| format!("{a:.4}")).collect();
        let diff = gbm.map_or(String::new(), |g| {
            format!(", vs GBM {:+.4}", mean(aucs) - g)
        });
        println!(
            "  {name:4} test AUC {} (mean {:.4}{diff}), fit s {} (max {:.1})",
            per.join(" "),
            mean(aucs),
            secs.iter()
                .map(|s| format!("{s:.1}"))
                .collect::<Vec<_>>()
                .join(" "),
            secs.iter().copied().fold(0.0, f64::max)
        );
    }
    Ok(())
}
