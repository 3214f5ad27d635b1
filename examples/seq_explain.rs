//! Explanation time of the sequence kinds at the size issue 14 names: 20
//! static features and a 12-month history of 3 channels (a categorical
//! status, a balance and an amount paid), the trainer's default networks
//! (GRU: 1 layer, hidden 16; TCN: kernel 3, 3 blocks, hidden 16; head 32)
//! with random weights, 8 background centroids (the most a trainer stores).
//!
//!   cargo run --release --example seq_explain [-- OUT_DIR]
//!
//! Prints the time of one explanation (mean, median, worst over 60
//! customers, some with missing months) per kind, and writes the two model
//! files and the customers (customers.csv) to OUT_DIR (default
//! target/seq-bench) for scripts/bench-seq-explain.mjs, which times the
//! same explanations in headless Chromium's worker.
use std::fmt::Write as _;
use std::time::Instant;

use ferrisk::explain::BackgroundSet;
use ferrisk::kinds::{ConvLayer, Gru, GruLayer, Model, Tcn};
use ferrisk::schema::{CategoricalFeature, Encoding, Feature, FeatureKind, NumericFeature};
use ferrisk::{
    Calibration, Channel, ChannelInput, Head, History, RawValue, Schema, Scorer, SeqInputs,
};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    }
    fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| scale * self.next()).collect()
    }
}

const STATUS: [&str; 5] = ["-1", "0", "1", "2", "3"];
const MONTHS: usize = 12;

fn numeric(name: String, mean: f32, std: f32) -> Feature {
    Feature {
        name,
        kind: FeatureKind::Numeric(NumericFeature {
            min: mean - 3.0 * std,
            max: mean + 3.0 * std,
            mean,
            std,
            median: mean,
        }),
        missing_rate: 0.0,
    }
}

fn categorical(name: String, cats: &[&str]) -> Feature {
    Feature {
        name,
        kind: FeatureKind::Categorical(CategoricalFeature {
            categories: cats.iter().map(|c| c.to_string()).collect(),
            frequencies: vec![1.0 / cats.len() as f32; cats.len()],
            mode: 0,
        }),
        missing_rate: 0.0,
    }
}

fn schema() -> Schema {
    let mut f = Vec::new();
    for i in 0..15 {
        f.push(numeric(format!("x{i}"), 10.0, 5.0));
    }
    for i in 0..5 {
        f.push(categorical(format!("c{i}"), &["a", "b", "c", "d"]));
    }
    for a in (1..=MONTHS).rev() {
        f.push(categorical(format!("status_m{a}"), &STATUS));
        f.push(numeric(format!("balance_m{a}"), 2000.0, 1500.0));
        f.push(numeric(format!("paid_m{a}"), 300.0, 400.0));
    }
    Schema {
        features: f,
        label: "default".into(),
        positive: "1".into(),
        negative: "0".into(),
        encoding: Encoding {
            scale: false,
            impute_numeric: false,
        },
    }
}

fn history() -> History {
    let col = |k: u32| (0..MONTHS as u32).map(|t| 20 + 3 * t + k).collect();
    History {
        name: "history".into(),
        unit: "month".into(),
        steps: MONTHS as u32,
        channels: vec![
            Channel {
                name: "status".into(),
                features: col(0),
                input: ChannelInput::Categorical {
                    categories: STATUS.iter().map(|s| s.to_string()).collect(),
                },
            },
            Channel {
                name: "balance".into(),
                features: col(1),
                input: ChannelInput::Numeric {
                    mean: 2000.0,
                    std: 1500.0,
                },
            },
            Channel {
                name: "paid".into(),
                features: col(2),
                input: ChannelInput::Numeric {
                    mean: 300.0,
                    std: 400.0,
                },
            },
        ],
    }
}

fn models(s: &Schema, r: &mut Lcg) -> Result<Vec<Model>, String> {
    let (h, units) = (16, 32);
    let inputs = SeqInputs::new(s, history())?;
    let (c, st) = (inputs.input_channels(), inputs.static_inputs());
    let head = |r: &mut Lcg| Head {
        w1: r.vec(units * (h + st), 0.5),
        b1: r.vec(units, 0.2),
        w2: r.vec(units, 0.5),
        b2: r.next(),
    };
    let gru = Gru::new(
        inputs.clone(),
        h,
        vec![GruLayer {
            w: r.vec(3 * h * c, 0.8),
            u: r.vec(3 * h * h, 0.8),
            bi: r.vec(3 * h, 0.2),
            bh: r.vec(3 * h, 0.2),
        }],
        head(r),
    )?;
    let blocks = (0..3)
        .map(|_| ConvLayer {
            w: r.vec(h * 3 * h, 0.4),
            b: r.vec(h, 0.2),
        })
        .collect();
    let tcn = Tcn::new(
        inputs,
        h,
        3,
        (r.vec(h * (c + 1), 0.8), r.vec(h, 0.2)),
        blocks,
        head(r),
    )?;
    Ok(vec![gru.into(), tcn.into()])
}

/// One customer as CSV texts (schema order), a month missing now and then.
fn customer(s: &Schema, r: &mut Lcg) -> Vec<String> {
    s.features
        .iter()
        .map(|f| match &f.kind {
            FeatureKind::Numeric(n) => {
                if f.name.contains("_m") && r.next() < -0.4 {
                    String::new()
                } else {
                    ((n.mean + 3.0 * n.std * r.next()) as i64).to_string()
                }
            }
            FeatureKind::Categorical(c) => {
                let k = ((r.next() + 0.5) * c.categories.len() as f32) as usize;
                c.categories[k.min(c.categories.len() - 1)].clone()
            }
        })
        .collect()
}

/// User + system CPU ticks of this thread (Linux; 0 elsewhere).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are
    // the 12th and 13th of them.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)
}

fn main() -> Result<(), String> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/seq-bench".into());
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let golden = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/stump.frk"
    ))
    .map_err(|e| e.to_string())?;
    let base = Scorer::from_bytes(&golden)
        .map_err(|e| e.to_string())?
        .into_bundle();
    let s = schema();
    let mut r = Lcg(2026);
    let customers: Vec<Vec<String>> = (0..60).map(|_| customer(&s, &mut r)).collect();
    let mut csv = String::new();
    let names: Vec<&str> = s.features.iter().map(|f| f.name.as_str()).collect();
    let _ = writeln!(csv, "{}", names.join(","));
    for c in &customers {
        let _ = writeln!(csv, "{}", c.join(","));
    }
    std::fs::write(format!("{out}/customers.csv"), csv).map_err(|e| e.to_string())?;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load: {}", load.trim());
    for m in models(&s, &mut r)? {
        let tag = m.tag();
        let mut b = base.clone();
        let width = s.width();
        // Background: 8 design rows of typical customers.
        let mut rows = Vec::new();
        for _ in 0..8 {
            let c = customer(&s, &mut r);
            let sc = Scorer::from_bytes(
                &ferrisk::format::encode(&{
                    let mut t = b.clone();
                    t.schema = s.clone();
                    t.model = m.clone();
                    t.calibration = Calibration::Logistic;
                    t.background = vec![0.0; width];
                    t.background_set = None;
                    t.drift = None;
                    t.reasons = Vec::new();
                    t.governance = None;
                    t.decision = None;
                    t
                })
                .map_err(|e| e.to_string())?,
            )
            .map_err(|e| e.to_string())?;
            let fields: Vec<(&str, RawValue)> = names
                .iter()
                .zip(&c)
                .map(|(n, v)| (*n, RawValue::Text(v.as_str())))
                .collect();
            let (values, mut w) = sc.parse_record(fields).map_err(|e| e.to_string())?;
            let mut x = Vec::new();
            sc.design_row(&values, &mut x, &mut w)
                .map_err(|e| e.to_string())?;
            // Centroids have no missing month.
            rows.extend(x.iter().map(|v| if v.is_nan() { 1000.0 } else { *v }));
        }
        b.schema = s.clone();
        b.model = m;
        b.calibration = Calibration::Logistic;
        b.background = rows.get(..width).unwrap_or_default().to_vec();
        b.background_set = Some(BackgroundSet {
            rows,
            weights: vec![100.0; 8],
        });
        b.drift = None;
        b.reasons = Vec::new();
        b.governance = None;
        b.decision = None;
        let bytes = ferrisk::format::encode(&b).map_err(|e| e.to_string())?;
        std::fs::write(format!("{out}/{tag}.frk"), &bytes).map_err(|e| e.to_string())?;
        let sc = Scorer::from_bytes(&bytes).map_err(|e| e.to_string())?;
        // One forward pass on rows that share nothing (the background rows
        // repeated in turn), and the costs the file states.
        let set = b.background_set.as_ref().map_or(&[][..], |s| &s.rows[..]);
        let xs: Vec<f32> = set.iter().copied().cycle().take(set.len() * 500).collect();
        let mut o = vec![0.0f32; xs.len() / width];
        let t = Instant::now();
        sc.bundle().model.outputs(&xs, width, &mut o);
        let us = t.elapsed().as_secs_f64() * 1e6 / o.len() as f64;
        let cost = sc
            .bundle()
            .model
            .cost(&sc.bundle().design(&ferrisk::kinds::groups(&s)));
        println!(
            "{tag}: one forward pass {us:.1} us; stated cost: predict {}, explain {}",
            cost.predict, cost.explain
        );
        let mut ms = Vec::new();
        let mut conv = 0.0f32;
        let cpu0 = cpu_ticks();
        for c in &customers {
            let fields: Vec<(&str, RawValue)> = names
                .iter()
                .zip(c)
                .map(|(n, v)| (*n, RawValue::Text(v.as_str())))
                .collect();
            let t = Instant::now();
            let e = sc.explain(fields).map_err(|e| e.to_string())?;
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            conv = conv.max(e.convergence.unwrap_or(0.0));
        }
        // This thread's CPU time (10 ms ticks): the figure the machine's
        // load does not inflate.
        let cpu_ms = (cpu_ticks() - cpu0) as f64 * 10.0 / customers.len() as f64;
        ms.sort_by(|a, b| a.total_cmp(b));
        let mean = ms.iter().sum::<f64>() / ms.len() as f64;
        println!(
            "{tag}: 20 statics + 12 months x 3 channels ({} players), 8 centroids: one explanation \
             mean {mean:.1} ms, median {:.1} ms, worst {:.1} ms natively over {} customers \
             (CPU time {cpu_ms:.1} ms each on average; worst convergence {conv:.4})",
            32,
            ms[ms.len() / 2],
            ms[ms.len() - 1],
            ms.len()
        );
    }
    Ok(())
}
