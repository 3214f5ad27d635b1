//! Native scoring speed of the runtime, the baseline for the browser bench
//! (scripts/bench-browser.mjs compares wasm against these figures).
//!
//! `cargo bench --bench score` (harness = false; prints figures, asserts no
//! timings). For each model:
//! - batch: 100,000 rows (the data's rows cycled), encoded from parsed values
//!   into blocks of 128 design rows scored with `Model::outputs` and
//!   calibrated — the work `predictBatch` does — as rows per second (best of
//!   3 runs);
//! - single: `Scorer::predict` on one customer given as text fields (parse,
//!   encode, score — the work of the JS `predict`), median of 1,000 samples
//!   of 20 calls each, in µs per call;
//! - explain: `Scorer::explain_encoded` on one design row (TreeSHAP for
//!   trees, Shapley sampling for the RBF SVM and attention), median of 200,
//!   in ms per explanation.
//!
//! Models: the golden files (tests/golden/, on synthetic.csv) and the German
//! credit models that scripts/test-wasm.sh trains into target/wasm-fixtures/
//! (including the 100-tree random forest); `FERRISK_BENCH_FIXTURES` points
//! elsewhere. A missing set is skipped with a note. Results also go to
//! target/bench-native.json.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ferrisk::csv::CsvText;
use ferrisk::schema::RawValue;
use ferrisk::{Scorer, Value};

const BATCH_ROWS: usize = 100_000;
/// Rows scored together, as the wasm `predictBatch` does.
const BLOCK_ROWS: usize = 128;

struct Row {
    fields: Vec<(String, String)>,
    values: Vec<Value>,
}

struct Figures {
    set: &'static str,
    kind: String,
    detail: String,
    rows_per_s: f64,
    single_us: f64,
    explain_ms: f64,
}

fn read_rows(scorer: &Scorer, csv: &str) -> Result<Vec<Row>, String> {
    let mut t = CsvText::parse(csv).map_err(|e| e.to_string())?;
    let header = t.header().to_vec();
    let map = scorer.map_header(&header).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for r in &mut t {
        let (_, fields) = r.map_err(|e| e.to_string())?;
        if let Ok(values) = scorer.parse_row(&map, &fields) {
            rows.push(Row {
                fields: header.iter().cloned().zip(fields).collect(),
                values,
            });
        }
    }
    if rows.is_empty() {
        return Err("no scorable rows".into());
    }
    Ok(rows)
}

fn batch_rows_per_s(scorer: &Scorer, rows: &[Row]) -> f64 {
    let width = scorer.width();
    let bundle = scorer.bundle();
    let mut x = Vec::with_capacity(width);
    let mut warnings = Vec::new();
    let mut block = vec![0.0f32; BLOCK_ROWS * width];
    let mut margins = vec![0.0f32; BLOCK_ROWS];
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = Instant::now();
        let mut sink = 0.0f32;
        let mut i = 0;
        while i < BATCH_ROWS {
            let n = (BATCH_ROWS - i).min(BLOCK_ROWS);
            for (k, slot) in block.chunks_exact_mut(width).take(n).enumerate() {
                let row = &rows[(i + k) % rows.len()];
                warnings.clear();
                if scorer
                    .design_row(&row.values, &mut x, &mut warnings)
                    .is_ok()
                {
                    slot.copy_from_slice(&x);
                }
            }
            bundle
                .model
                .outputs(&block[..n * width], width, &mut margins[..n]);
            for &m in &margins[..n] {
                sink += bundle.calibration.probability(m);
            }
            i += n;
        }
        black_box(sink);
        best = best.min(start.elapsed().as_secs_f64());
    }
    BATCH_ROWS as f64 / best
}

fn single_us(scorer: &Scorer, rows: &[Row]) -> f64 {
    const CALLS: usize = 20;
    let mut samples = Vec::with_capacity(1000);
    let mut k = 0;
    for s in 0..1100 {
        let start = Instant::now();
        for _ in 0..CALLS {
            let row = &rows[k % rows.len()];
            k += 1;
            let p = scorer.predict(
                row.fields
                    .iter()
                    .map(|(n, v)| (n.as_str(), RawValue::Text(v))),
            );
            black_box(p.ok());
        }
        // The first 100 samples warm up caches and are not kept.
        if s >= 100 {
            samples.push(start.elapsed().as_secs_f64() * 1e6 / CALLS as f64);
        }
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// One explanation (`Scorer::explain_encoded`: TreeSHAP for trees), median
/// of 200 after 20 warm-up calls, in ms. Models whose explanation is over
/// the budget give NaN.
fn explain_ms(scorer: &Scorer, rows: &[Row]) -> f64 {
    let mut x = Vec::with_capacity(scorer.width());
    let mut warnings = Vec::new();
    let mut samples = Vec::with_capacity(200);
    for s in 0..220 {
        let row = &rows[s % rows.len()];
        warnings.clear();
        if scorer
            .design_row(&row.values, &mut x, &mut warnings)
            .is_err()
        {
            continue;
        }
        let start = Instant::now();
        let e = scorer.explain_encoded(&row.values, &x);
        let t = start.elapsed().as_secs_f64() * 1e3;
        if e.is_err() {
            return f64::NAN;
        }
        black_box(e.ok());
        if s >= 20 {
            samples.push(t);
        }
    }
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

fn bench_set(set: &'static str, dir: &Path, data: &str, out: &mut Vec<Figures>) {
    let csv_path = dir.join(data);
    let Ok(csv) = std::fs::read_to_string(&csv_path) else {
        println!(
            "note: {} not found; skipping the {set} models",
            csv_path.display()
        );
        return;
    };
    let mut kinds: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| {
                    e.file_name()
                        .to_str()?
                        .strip_suffix(".frk")
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    kinds.sort();
    for kind in kinds {
        let path = dir.join(format!("{kind}.frk"));
        let Ok(bytes) = std::fs::read(&path) else {
            println!("note: {} not found; skipping", path.display());
            continue;
        };
        let scorer = match Scorer::from_bytes(&bytes) {
            Ok(s) => s,
            Err(e) => {
                println!("note: {}: {e}; skipping", path.display());
                continue;
            }
        };
        let rows = match read_rows(&scorer, &csv) {
            Ok(r) => r,
            Err(e) => {
                println!("note: {}: {e}; skipping", csv_path.display());
                continue;
            }
        };
        let detail = scorer.bundle().model.summary();
        let rows_per_s = batch_rows_per_s(&scorer, &rows);
        let single = single_us(&scorer, &rows);
        let explain = explain_ms(&scorer, &rows);
        println!(
            "{set:<8} {kind:<11} {detail:<28} {:>12.0} rows/s {:>9.2} µs/row single {:>9.3} ms/explanation",
            rows_per_s, single, explain
        );
        out.push(Figures {
            set,
            kind: kind.clone(),
            detail,
            rows_per_s,
            single_us: single,
            explain_ms: explain,
        });
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let german = std::env::var_os("FERRISK_BENCH_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/wasm-fixtures"));
    println!(
        "native scoring: batch of {BATCH_ROWS} rows (best of 3), single-row predict (median of 1,000 x 20 calls)"
    );
    let mut figures = Vec::new();
    bench_set(
        "golden",
        &root.join("tests/golden"),
        "synthetic.csv",
        &mut figures,
    );
    if german.join("data.csv").exists() {
        bench_set("german", &german, "data.csv", &mut figures);
    } else {
        println!(
            "note: {} has no German-credit models; run scripts/test-wasm.sh (or set FERRISK_BENCH_FIXTURES)",
            german.display()
        );
    }

    let mut json = String::from("{\n  \"batch_rows\": 100000,\n  \"models\": [\n");
    for (i, f) in figures.iter().enumerate() {
        let _ = writeln!(
            json,
            "    {{\"set\": \"{}\", \"kind\": \"{}\", \"detail\": \"{}\", \"rows_per_s\": {:.1}, \"single_us\": {:.4}, \"explain_ms\": {}}}{}",
            f.set,
            f.kind,
            f.detail,
            f.rows_per_s,
            f.single_us,
            if f.explain_ms.is_finite() {
                format!("{:.4}", f.explain_ms)
            } else {
                "null".into()
            },
            if i + 1 < figures.len() { "," } else { "" }
        );
    }
    json.push_str("  ]\n}\n");
    let out = root.join("target/bench-native.json");
    match std::fs::write(&out, json) {
        Ok(()) => println!("wrote {}", out.display()),
        Err(e) => println!("note: cannot write {}: {e}", out.display()),
    }
}
