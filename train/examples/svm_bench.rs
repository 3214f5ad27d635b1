//! The RBF SVM benchmark's ferrisk half (scripts/bench-svm.sh runs it, then
//! scikit-learn's SVC on the rows it writes). Splits a CSV as `ferrisk
//! train` does (stratified, seed 42, 30 % test), optionally samples the
//! training rows, encodes them with the RBF SVM's encoding, writes the
//! encoded rows (`train.csv`: y, weight, columns; `test.csv`: y, columns)
//! and `params.txt` (C, γ, class weights), then times our exact solver on
//! the training rows (the fit scikit-learn's SVC is timed against), the
//! landmark expansion, and the Platt folds separately, and prints test
//! AUCs of the exact model and of the shipped expansion.
//!
//! cargo run --release -p ferrisk-train --example svm_bench -- \
//!   DATA.csv LABEL POSITIVE DROP(,..|-) ROWS(0 = all) OUT_DIR CLASS_WEIGHT(none|balanced) THREADS

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use ferrisk::schema::Encoding;
use ferrisk_train::algo::linear::default_gamma;
use ferrisk_train::algo::svm;
use ferrisk_train::bins::Matrix;
use ferrisk_train::data::{prepare, SchemaFile, Table};
use ferrisk_train::{prep, split};

fn write_rows(path: &PathBuf, x: &Matrix, y: &[bool], w: Option<&[f32]>) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for r in 0..x.rows {
        write!(f, "{}", u8::from(y[r]))?;
        if let Some(w) = w {
            write!(f, ",{}", w[r])?;
        }
        for v in x.row(r) {
            write!(f, ",{v}")?;
        }
        writeln!(f)?;
    }
    f.flush()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 9 {
        return Err(
            "usage: svm_bench DATA LABEL POSITIVE DROP ROWS OUT_DIR CLASS_WEIGHT THREADS".into(),
        );
    }
    let drop: Vec<String> = if a[4] == "-" {
        Vec::new()
    } else {
        a[4].split(',').map(str::to_string).collect()
    };
    let max_rows: usize = a[5].parse()?;
    let out = PathBuf::from(&a[6]);
    let balanced = a[7] == "balanced";
    let threads: usize = a[8].parse()?;
    std::fs::create_dir_all(&out)?;
    let table = Table::read(std::path::Path::new(&a[1]))?;
    let ds = prepare(&table, &a[2], &a[3], &drop, &SchemaFile::default())?;
    let (mut train, test) = split::stratified_split(&ds.labels, 0.3, 42);
    if max_rows > 0 && train.len() > max_rows {
        // As the trainer samples for --svm-max-rows.
        let yt: Vec<bool> = train.iter().map(|&r| ds.labels[r]).collect();
        let frac = 1.0 - max_rows as f64 / train.len() as f64;
        let (keep, _) = split::stratified_split(&yt, frac, 42 ^ 0xa11);
        train = keep.iter().map(|&k| train[k]).collect();
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
    let pos = y.iter().filter(|&&v| v).count();
    let (wp, wn) = if balanced {
        let n = y.len() as f64;
        (
            (n / (2.0 * pos as f64)) as f32,
            (n / (2.0 * (y.len() - pos) as f64)) as f32,
        )
    } else {
        (1.0, 1.0)
    };
    let w: Vec<f32> = y.iter().map(|&v| if v { wp } else { wn }).collect();
    let c = 1.0;
    let gamma = default_gamma(&x);
    write_rows(&out.join("train.csv"), &x, &y, Some(&w))?;
    write_rows(&out.join("test.csv"), &xt, &yt, None)?;
    std::fs::write(
        out.join("params.txt"),
        format!("C={c}\ngamma={gamma:e}\nweight_pos={wp}\nweight_neg={wn}\n"),
    )?;
    println!(
        "rows: {} training ({} positive), {} test, {} design columns; C {c}, gamma {gamma:.6}, \
         class weights pos {wp} neg {wn}, {threads} thread(s)",
        x.rows, pos, xt.rows, x.cols
    );

    let bounds: Vec<f64> = w.iter().map(|&v| c * f64::from(v)).collect();
    let p = svm::SmoParams {
        threads,
        ..svm::SmoParams::default()
    };
    let t0 = Instant::now();
    let s = svm::solve(&x, &y, &bounds, gamma, &p)?;
    let solve_s = t0.elapsed().as_secs_f64();
    let exact = s.expansion(&x, &y, gamma);
    let exact_test = exact.decisions(&xt, threads);
    let t1 = Instant::now();
    let marks = svm::landmarks_by_class(&x, &y, svm::landmark_budget(x.rows, x.cols), 42, threads)
        .ok_or("no landmarks")?;
    let shipped = svm::approximate(&x, &s.train_decisions(&y), &w, &marks, gamma, 42, threads)?;
    let approx_s = t1.elapsed().as_secs_f64();
    let k = shipped.to_kernel();
    use ferrisk::kinds::Kind;
    let shipped_test: Vec<f64> = (0..xt.rows)
        .map(|r| f64::from(k.output(xt.row(r))))
        .collect();
    println!(
        "ferrisk exact SMO: {solve_s:.2} s, {} iterations, {} kernel rows computed, {} support vectors, test AUC {:.4}",
        s.iterations,
        s.kernel_rows,
        exact.coef.len(),
        ferrisk_train::stats::auc(&exact_test, &yt).unwrap_or(f64::NAN)
    );
    println!(
        "ferrisk shipped expansion: {:.2} s (k-means + least squares), {} landmarks (min {} rows \
         each, gamma {:.6}), {} KB of landmark values, test AUC {:.4}",
        approx_s,
        marks.members.len(),
        marks.members.iter().min().copied().unwrap_or(0),
        shipped.gamma,
        (k.support.len() + k.coef.len()) * 4 / 1000,
        ferrisk_train::stats::auc(&shipped_test, &yt).unwrap_or(f64::NAN)
    );
    // The Platt folds (3, as the trainer): exact fits on each complement.
    let t2 = Instant::now();
    // FERRISK_BENCH_NO_FOLDS=1 skips them.
    let skip = std::env::var("FERRISK_BENCH_NO_FOLDS").is_ok();
    for fold in split::stratified_folds(&y, 3, 42 ^ 0x5eed) {
        if skip {
            break;
        }
        let tr = split::complement(y.len(), &fold);
        let xs = x.select(&tr);
        let ys: Vec<bool> = tr.iter().map(|&i| y[i]).collect();
        let bs: Vec<f64> = tr.iter().map(|&i| bounds[i]).collect();
        svm::solve(&xs, &ys, &bs, gamma, &p)?;
    }
    println!(
        "ferrisk Platt folds (3 exact fits on 2/3 of the rows): {:.2} s",
        t2.elapsed().as_secs_f64()
    );
    // FERRISK_BENCH_FILE=1: the svm-rbf kind's own fit (exact solver,
    // landmarks, Platt folds) on the same training rows as a model file
    // (without the pipeline's CV, test report and drift bins, which add a
    // few KB), its size, and a check that no stored centre is a training row.
    if std::env::var("FERRISK_BENCH_FILE").is_ok() {
        use ferrisk_train::pipeline::{fit_bundle, Quiet, TrainConfig};
        let mut cfg = TrainConfig {
            threads,
            ..TrainConfig::default()
        };
        cfg.kinds.svm.max_rows = train.len().max(1);
        let kind = cfg.kinds.get("svm-rbf").ok_or("no svm-rbf kind")?;
        let t3 = Instant::now();
        let (bundle, notes) = fit_bundle(kind.as_ref(), &table, &ds, &train, &cfg, &Quiet)?;
        let bytes = ferrisk::format::encode(&bundle)?;
        std::fs::write(out.join("svm-rbf.frk"), &bytes)?;
        let ferrisk::Model::KernelSvm(k) = &bundle.model else {
            return Err("not a kernel model".into());
        };
        let rows: std::collections::HashSet<Vec<u32>> = (0..x.rows)
            .map(|r| x.row(r).iter().map(|v| v.to_bits()).collect())
            .collect();
        let stored = k
            .support
            .chunks_exact(x.cols)
            .filter(|c| rows.contains(&c.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()))
            .count();
        println!(
            "model file (kind fit incl. Platt folds, {:.0} s): {} bytes, {} centres, {} of them training rows",
            t3.elapsed().as_secs_f64(),
            bytes.len(),
            k.coef.len(),
            stored
        );
        for n in notes {
            println!("  note: {n}");
        }
    }
    std::fs::write(
        out.join("ferrisk.txt"),
        format!(
            "solve_s={solve_s}\nauc_exact={}\nauc_shipped={}\n",
            ferrisk_train::stats::auc(&exact_test, &yt).unwrap_or(f64::NAN),
            ferrisk_train::stats::auc(&shipped_test, &yt).unwrap_or(f64::NAN)
        ),
    )?;
    Ok(())
}
