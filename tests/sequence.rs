//! The sequence kinds (`gru`, `tcn`, issue 14): the runtime's forward pass
//! against an independent f64 reference written from the documented weight
//! layouts, with missing steps and categorical channels matched by text;
//! block scoring bit for bit; the file round trip; hostile sections; and
//! the explanation over time (statics + steps) against a brute-force
//! Shapley oracle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop
)]
#![cfg(not(target_arch = "wasm32"))]

use ferrisk::explain::shapley::{self, BackgroundSet, Game};
use ferrisk::format::{self, frame};
use ferrisk::kinds::{ConvLayer, Gru, GruLayer, Kind, Model, Tcn};
use ferrisk::schema::{CategoricalFeature, Encoding, Feature, FeatureKind, NumericFeature};
use ferrisk::{
    Bundle, Calibration, Channel, ChannelInput, Head, History, RawValue, Schema, Scorer, SeqInputs,
};

/// A small deterministic generator (the runtime has none; the test needs
/// weights and rows).
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

fn num(name: &str, mean: f32, std: f32) -> Feature {
    Feature {
        name: name.into(),
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

fn cat(name: &str, cats: &[&str]) -> Feature {
    Feature {
        name: name.into(),
        kind: FeatureKind::Categorical(CategoricalFeature {
            categories: cats.iter().map(|c| c.to_string()).collect(),
            frequencies: vec![1.0 / cats.len() as f32; cats.len()],
            mode: 0,
        }),
        missing_rate: 0.0,
    }
}

fn schema(features: Vec<Feature>) -> Schema {
    Schema {
        features,
        label: "default".into(),
        positive: "1".into(),
        negative: "0".into(),
        encoding: Encoding {
            scale: false,
            impute_numeric: false,
        },
    }
}

/// Statics age (0), purpose (2, categorical), income (7); a 3-step history
/// of a categorical `status` (features 1, 3, 5, each with its own category
/// list, one of them with a category the channel lacks) and a numeric
/// `balance` (4, 6, 8). Design columns:
/// age 0 | status_3 1..4 | purpose 4..6 | status_2 6..9 | bal_3 9 |
/// status_1 10..12 | bal_2 12 | income 13 | bal_1 14.
fn mixed() -> (Schema, History) {
    let s = schema(vec![
        num("age", 40.0, 10.0),
        cat("status_3", &["0", "1", "2"]),
        cat("purpose", &["car", "tv"]),
        cat("status_2", &["1", "0", "9"]),
        num("bal_3", 100.0, 50.0),
        cat("status_1", &["2", "0"]),
        num("bal_2", 100.0, 50.0),
        num("income", 3.0, 1.5),
        num("bal_1", 100.0, 50.0),
    ]);
    let h = History {
        name: "history".into(),
        unit: "month".into(),
        steps: 3,
        channels: vec![
            Channel {
                name: "status".into(),
                features: vec![1, 3, 5],
                input: ChannelInput::Categorical {
                    categories: vec!["0".into(), "1".into(), "2".into(), "3".into()],
                },
            },
            Channel {
                name: "balance".into(),
                features: vec![4, 6, 8],
                input: ChannelInput::Numeric {
                    mean: 90.0,
                    std: 40.0,
                },
            },
        ],
    };
    (s, h)
}

/// `(start, category texts)` of the categorical features, for the reference.
const STATUS: [(usize, &[&str]); 3] = [
    (1, &["0", "1", "2"]),
    (6, &["1", "0", "9"]),
    (10, &["2", "0"]),
];
const BAL: [usize; 3] = [9, 12, 14];
const TABLE: [&str; 4] = ["0", "1", "2", "3"];

/// The reference inputs of [`mixed`]: seq (3 × 5), mask, stat (4), f64.
fn ref_inputs(x: &[f32]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut seq = vec![0.0; 3 * 5];
    let mut mask = vec![0.0; 3];
    for t in 0..3 {
        let (start, cats) = STATUS[t];
        for (j, c) in cats.iter().enumerate() {
            if let Some(k) = TABLE.iter().position(|k| k == c) {
                seq[t * 5 + k] += x[start + j] as f64;
            }
        }
        let b = x[BAL[t]];
        if !b.is_nan() {
            mask[t] = 1.0;
            seq[t * 5 + 4] = (b as f64 - 90.0) / 40.0;
        }
    }
    let age = if x[0].is_nan() {
        0.0
    } else {
        (x[0] as f64 - 40.0) / 10.0
    };
    let income = if x[13].is_nan() {
        0.0
    } else {
        (x[13] as f64 - 3.0) / 1.5
    };
    (seq, mask, vec![age, x[4] as f64, x[5] as f64, income])
}

/// A random design row of [`mixed`]: one-hot categoricals (status_2 in its
/// category "9", unknown to the channel, a third of the time), balances
/// missing a third of the time.
fn row(r: &mut Lcg) -> Vec<f32> {
    let mut x = vec![0.0f32; 15];
    x[0] = 40.0 + 30.0 * r.next();
    x[13] = 3.0 + 4.0 * r.next();
    let pick = |r: &mut Lcg, n: usize| (((r.next() + 0.5) * n as f32) as usize).min(n - 1);
    x[4 + pick(r, 2)] = 1.0;
    for (start, cats) in STATUS {
        x[start + pick(r, cats.len())] = 1.0;
    }
    for b in BAL {
        x[b] = if r.next() < -0.17 {
            f32::NAN
        } else {
            100.0 + 200.0 * r.next()
        };
    }
    x
}

fn head(r: &mut Lcg, inputs: usize, units: usize) -> Head {
    Head {
        w1: r.vec(units * inputs, 1.0),
        b1: r.vec(units, 0.5),
        w2: r.vec(units, 1.0),
        b2: r.next(),
    }
}

fn gru(s: &Schema, h: History, hidden: usize, layers: usize, seed: u64) -> Gru {
    let inputs = SeqInputs::new(s, h).unwrap();
    let (c, st) = (inputs.input_channels(), inputs.static_inputs());
    let mut r = Lcg(seed);
    let mut input = c;
    let mut ls = Vec::new();
    for _ in 0..layers {
        ls.push(GruLayer {
            w: r.vec(3 * hidden * input, 1.2),
            u: r.vec(3 * hidden * hidden, 1.2),
            bi: r.vec(3 * hidden, 0.4),
            bh: r.vec(3 * hidden, 0.4),
        });
        input = hidden;
    }
    let hd = head(&mut r, hidden + st, 6);
    Gru::new(inputs, hidden, ls, hd).unwrap()
}

fn tcn(s: &Schema, h: History, hidden: usize, kernel: usize, blocks: usize, seed: u64) -> Tcn {
    let inputs = SeqInputs::new(s, h).unwrap();
    let (c, st) = (inputs.input_channels(), inputs.static_inputs());
    let mut r = Lcg(seed);
    let in_w = r.vec(hidden * (c + 1), 1.0);
    let in_b = r.vec(hidden, 0.3);
    let bs = (0..blocks)
        .map(|_| ConvLayer {
            w: r.vec(hidden * kernel * hidden, 0.8),
            b: r.vec(hidden, 0.3),
        })
        .collect();
    let hd = head(&mut r, hidden + st, 6);
    Tcn::new(inputs, hidden, kernel, (in_w, in_b), bs, hd).unwrap()
}

fn sig(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

fn ref_head(hd: &Head, cat: &[f64]) -> f64 {
    let n = cat.len();
    let mut z = hd.b2 as f64;
    for o in 0..hd.b1.len() {
        let mut pre = hd.b1[o] as f64;
        for i in 0..n {
            pre += hd.w1[o * n + i] as f64 * cat[i];
        }
        z += hd.w2[o] as f64 * pre.max(0.0);
    }
    z
}

/// The GRU from its equations, f64.
fn ref_gru(m: &Gru, seq: &[f64], mask: &[f64], stat: &[f64]) -> f64 {
    let m = &m.0;
    let h = m.hidden;
    let t = mask.len();
    let mut xs = seq.to_vec();
    let mut width = seq.len() / t;
    let mut state = vec![0.0; h];
    for l in m.weights.chunks(4) {
        let l = GruLayer {
            w: l[0].clone(),
            u: l[1].clone(),
            bi: l[2].clone(),
            bh: l[3].clone(),
        };
        state = vec![0.0; h];
        let mut out = Vec::new();
        for s in 0..t {
            if mask[s] == 1.0 {
                let x = &xs[s * width..(s + 1) * width];
                let lin = |w: &[f32], k: usize, v: &[f64]| -> f64 {
                    (0..v.len()).map(|i| w[k * v.len() + i] as f64 * v[i]).sum()
                };
                let mut next = vec![0.0; h];
                for j in 0..h {
                    let z = sig(lin(&l.w, j, x)
                        + l.bi[j] as f64
                        + lin(&l.u, j, &state)
                        + l.bh[j] as f64);
                    let r = sig(lin(&l.w, h + j, x)
                        + l.bi[h + j] as f64
                        + lin(&l.u, h + j, &state)
                        + l.bh[h + j] as f64);
                    let n = (lin(&l.w, 2 * h + j, x)
                        + l.bi[2 * h + j] as f64
                        + r * (lin(&l.u, 2 * h + j, &state) + l.bh[2 * h + j] as f64))
                        .tanh();
                    next[j] = (1.0 - z) * n + z * state[j];
                }
                state = next;
            }
            out.extend_from_slice(&state);
        }
        xs = out;
        width = h;
    }
    let mut cat = state;
    cat.extend_from_slice(stat);
    ref_head(&m.head, &cat)
}

/// The TCN from its equations, f64.
fn ref_tcn(m: &Tcn, seq: &[f64], mask: &[f64], stat: &[f64]) -> f64 {
    let m = &m.0;
    let (h, k) = (m.hidden, m.kernel);
    let (in_w, in_b) = (&m.weights[0], &m.weights[1]);
    let blocks: Vec<ConvLayer> = m.weights[2..]
        .chunks(2)
        .map(|b| ConvLayer {
            w: b[0].clone(),
            b: b[1].clone(),
        })
        .collect();
    let t = mask.len();
    let c = seq.len() / t;
    let mut u = vec![0.0; t * h];
    for s in 0..t {
        for o in 0..h {
            let mut v = in_b[o] as f64;
            for i in 0..c {
                v += in_w[o * (c + 1) + i] as f64 * seq[s * c + i];
            }
            v += in_w[o * (c + 1) + c] as f64 * mask[s];
            u[s * h + o] = v;
        }
    }
    for (b, blk) in blocks.iter().enumerate() {
        let d = 1usize << b;
        let mut next = u.clone();
        for s in 0..t {
            for o in 0..h {
                let mut v = blk.b[o] as f64;
                for j in 0..k {
                    let back = (k - 1 - j) * d;
                    if back > s {
                        continue;
                    }
                    for i in 0..h {
                        v += blk.w[o * k * h + j * h + i] as f64 * u[(s - back) * h + i];
                    }
                }
                next[s * h + o] += v.max(0.0);
            }
        }
        u = next;
    }
    let mut cat = u[(t - 1) * h..].to_vec();
    cat.extend_from_slice(stat);
    ref_head(&m.head, &cat)
}

fn close(got: f32, want: f64, what: &str) {
    assert!(
        (got as f64 - want).abs() <= 2e-5 * (1.0 + want.abs()),
        "{what}: runtime {got}, reference {want}"
    );
}

#[test]
fn inputs_follow_the_documented_rule() {
    let (s, h) = mixed();
    let inputs = SeqInputs::new(&s, h).unwrap();
    assert_eq!(
        (
            inputs.input_channels(),
            inputs.static_inputs(),
            inputs.steps()
        ),
        (5, 4, 3)
    );
    let mut r = Lcg(7);
    for _ in 0..200 {
        let x = row(&mut r);
        let (mut seq, mut mask, mut stat) = (vec![9.0; 15], vec![9.0; 3], vec![9.0; 4]);
        inputs.inputs(&x, &mut seq, &mut mask, &mut stat);
        let (rs, rm, rt) = ref_inputs(&x);
        for (a, b) in seq.iter().zip(&rs).chain(mask.iter().zip(&rm)) {
            assert_eq!(*a as f64, (*b as f32) as f64, "{x:?}");
        }
        for (a, b) in stat.iter().zip(&rt) {
            assert_eq!(*a, *b as f32, "{x:?}");
        }
    }
}

#[test]
fn gru_forward_matches_an_f64_reference_with_missing_steps() {
    let (s, h) = mixed();
    for (hidden, layers, seed) in [(4, 1, 1), (7, 2, 2), (3, 3, 3)] {
        let m = gru(&s, h.clone(), hidden, layers, seed);
        let mut r = Lcg(seed + 100);
        let mut missing = 0;
        for _ in 0..300 {
            let x = row(&mut r);
            let (seq, mask, stat) = ref_inputs(&x);
            missing += mask.iter().filter(|&&v| v == 0.0).count();
            close(m.output(&x), ref_gru(&m, &seq, &mask, &stat), "gru");
        }
        assert!(missing > 100, "rows with missing steps were tested");
    }
}

#[test]
fn tcn_forward_matches_an_f64_reference_with_missing_steps() {
    let (s, h) = mixed();
    for (hidden, kernel, blocks, seed) in [(4, 2, 1, 1), (5, 3, 2, 2), (3, 5, 3, 3)] {
        let m = tcn(&s, h.clone(), hidden, kernel, blocks, seed);
        let mut r = Lcg(seed + 100);
        for _ in 0..300 {
            let x = row(&mut r);
            let (seq, mask, stat) = ref_inputs(&x);
            close(m.output(&x), ref_tcn(&m, &seq, &mask, &stat), "tcn");
        }
    }
}

/// A loadable bundle around a sequence model of [`mixed`].
fn bundle(model: Model, s: Schema, with_set: bool) -> Bundle {
    let golden = std::fs::read(format!(
        "{}/tests/golden/stump.frk",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut b = Scorer::from_bytes(&golden).unwrap().into_bundle();
    let width = s.width();
    let mut r = Lcg(99);
    let mut mean = vec![0.0f32; width];
    let mut rows = Vec::new();
    for _ in 0..40 {
        let x = row(&mut r);
        for (m, v) in mean.iter_mut().zip(&x) {
            *m += if v.is_nan() { 100.0 } else { *v } / 40.0;
        }
        if rows.len() < 3 * width {
            rows.extend(x.iter().map(|v| if v.is_nan() { 100.0 } else { *v }));
        }
    }
    b.schema = s;
    b.model = model;
    b.calibration = Calibration::Logistic;
    b.background = mean;
    b.background_set = with_set.then(|| BackgroundSet {
        rows,
        weights: vec![20.0, 30.0, 25.0],
    });
    b.drift = None;
    b.reasons = Vec::new();
    b.governance = None;
    b.decision = None;
    b
}

fn models() -> Vec<(Model, Schema)> {
    let (s, h) = mixed();
    vec![
        (gru(&s, h.clone(), 5, 2, 11).into(), s.clone()),
        (tcn(&s, h, 4, 3, 2, 12).into(), s),
    ]
}

#[test]
fn both_kinds_survive_the_file_and_score_blocks_bit_for_bit() {
    for (m, s) in models() {
        let tag = m.tag();
        let b = bundle(m, s, true);
        let bytes = format::encode(&b).unwrap();
        let (h, _) = format::read_header(&bytes).unwrap();
        assert_eq!(h.min_reader, 3, "{tag}: a kind only v3 knows");
        let loaded = Scorer::from_bytes(&bytes).unwrap();
        assert_eq!(loaded.bundle().model, b.model, "{tag}");
        let mut r = Lcg(5);
        let xs: Vec<f32> = (0..37).flat_map(|_| row(&mut r)).collect();
        let mut block = vec![0.0f32; 37];
        loaded.bundle().model.outputs(&xs, 15, &mut block);
        for (x, o) in xs.chunks(15).zip(&block) {
            assert_eq!(o.to_bits(), b.model.output(x).to_bits(), "{tag}");
            assert!(o.is_finite());
        }
        // Scoring raw values: texts of the step categories, a missing month.
        let p = loaded
            .predict([
                ("age", RawValue::Number(35.0)),
                ("status_3", RawValue::Text("2")),
                ("purpose", RawValue::Text("tv")),
                ("status_2", RawValue::Text("1")),
                ("bal_3", RawValue::Missing),
                ("status_1", RawValue::Text("0")),
                ("bal_2", RawValue::Number(250.0)),
                ("income", RawValue::Number(2.5)),
                ("bal_1", RawValue::Number(300.0)),
            ])
            .unwrap();
        assert!(p.probability > 0.0 && p.probability < 1.0, "{tag}");
    }
}

/// Writes a bundle without validating it and loads it.
fn load_crafted(b: &Bundle) -> Result<Scorer, ferrisk::FormatError> {
    let body = format::v3::encode(b).unwrap();
    Scorer::from_bytes(&frame(3, 3, &body))
}

fn refused(b: &Bundle, needle: &str) {
    match load_crafted(b) {
        Ok(_) => panic!("a crafted file loaded; expected an error containing '{needle}'"),
        Err(e) => assert!(e.to_string().contains(needle), "{needle}: {e}"),
    }
}

#[test]
fn hostile_sequence_sections_are_refused_naming_the_problem() {
    let (s, h) = mixed();
    let base = bundle(gru(&s, h.clone(), 4, 1, 3).into(), s.clone(), true);
    load_crafted(&base).unwrap();
    let edit = |f: &dyn Fn(&mut Gru)| {
        let mut b = base.clone();
        let Model::Gru(g) = &mut b.model else {
            panic!()
        };
        f(g);
        b
    };
    refused(
        &edit(&|g| g.0.weights[1][3] = f32::NAN),
        "encoder: weight vector 1, value 3 is not finite",
    );
    refused(
        &edit(&|g| g.0.head.b2 = f32::INFINITY),
        "head: weight vector 3, value 0",
    );
    refused(
        &edit(&|g| g.0.hidden = 5),
        "encoder: weight vector 0 holds 60 values, not 75",
    );
    refused(&edit(&|g| g.0.weights.clear()), "layers in 1..=8");
    refused(
        &edit(&|g| g.0.head.w1.pop().map(|_| ()).unwrap()),
        "head: weight vector 0 holds",
    );
    refused(
        &edit(&|g| {
            g.0.inputs.history.steps = 0;
            for c in &mut g.0.inputs.history.channels {
                c.features.clear();
            }
        }),
        "steps must be in 1..=512, channels in 1..=256",
    );
    refused(
        &edit(&|g| {
            g.0.inputs.history.channels[0]
                .features
                .pop()
                .map(|_| ())
                .unwrap()
        }),
        "wrong step count or too many inputs in channel 'status'",
    );
    refused(
        &edit(&|g| g.0.inputs.history.channels[1].features[2] = 3),
        "a feature used twice: 'status_2'",
    );
    refused(
        &edit(&|g| g.0.inputs.history.channels[1].features[2] = 40),
        "a feature outside the schema in channel 'balance'",
    );
    refused(
        &edit(&|g| g.0.inputs.history.channels[1].features[2] = 7),
        "the statics are not the features outside the history",
    );
    refused(
        &edit(&|g| g.0.inputs.history.channels[1].features[0] = 2),
        "a feature of another type: 'purpose'",
    );
    refused(
        &edit(&|g| {
            g.0.inputs.history.channels[1].input = ChannelInput::Numeric {
                mean: 1.0,
                std: 0.0,
            }
        }),
        "std <= 0",
    );
    refused(
        &edit(&|g| g.0.inputs.statics[0].scale = Some((f32::NAN, 1.0))),
        "a mean or std that is not finite",
    );
    let mut scaled = base.clone();
    scaled.schema.encoding.scale = true;
    refused(&scaled, "the schema must not scale");
    let mut t = bundle(tcn(&s, h, 4, 3, 2, 3).into(), s, true);
    if let Model::Tcn(m) = &mut t.model {
        m.0.kernel = 6;
    }
    refused(&t, "kernel in 2..=5");
}

#[test]
fn damaged_sequence_sections_never_panic() {
    for (m, s) in models() {
        let tag = m.tag();
        let b = bundle(m, s, true);
        let (_, body) = b.model.encode_section().unwrap();
        // Every truncation of the section is refused by the reader.
        for cut in 0..body.len() {
            let bytes = body.get(..cut).unwrap();
            assert!(
                Model::decode_section(tag, bytes).unwrap().is_err(),
                "{tag}: cut at {cut}"
            );
        }
        // Every byte changed: refused, or loads and scores finite or refuses the row.
        let bytes = format::encode(&b).unwrap();
        let mut x = Lcg(3);
        let rows: Vec<Vec<f32>> = (0..4).map(|_| row(&mut x)).collect();
        let at = bytes
            .windows(body.len())
            .position(|w| w == body.as_slice())
            .unwrap();
        for i in 0..body.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad_body = body.clone();
                bad_body[i] ^= flip;
                let mut f = bytes[format::HEADER_LEN..].to_vec();
                f[at - format::HEADER_LEN..at - format::HEADER_LEN + body.len()]
                    .copy_from_slice(&bad_body);
                if let Ok(sc) = Scorer::from_bytes(&frame(3, 3, &f)) {
                    for r in &rows {
                        let _ = sc.bundle().model.output(r);
                    }
                }
            }
        }
    }
}

/// Exact Shapley values by the definition: every coalition's value against
/// the weighted background rows, `players[i]` the design columns of player
/// `i` (written out by hand, not taken from the runtime).
fn oracle(
    f: &dyn Fn(&[f32]) -> f32,
    x: &[f32],
    set: &BackgroundSet,
    players: &[Vec<usize>],
) -> (f64, Vec<f64>) {
    let p = players.len();
    let width = x.len();
    let total: f64 = set.weights.iter().map(|&w| w as f64).sum();
    let value = |mask: usize| -> f64 {
        let mut v = 0.0;
        for (b, &w) in set.weights.iter().enumerate() {
            let mut z = set.rows[b * width..(b + 1) * width].to_vec();
            for (i, cols) in players.iter().enumerate() {
                if mask >> i & 1 == 1 {
                    for &c in cols {
                        z[c] = x[c];
                    }
                }
            }
            v += w as f64 / total * f(&z) as f64;
        }
        v
    };
    let v: Vec<f64> = (0..1usize << p).map(value).collect();
    let fact = |n: usize| (1..=n).map(|k| k as f64).product::<f64>();
    let mut phi = vec![0.0; p];
    for (i, f) in phi.iter_mut().enumerate() {
        for mask in 0..1usize << p {
            if mask >> i & 1 == 0 {
                let s = mask.count_ones() as usize;
                *f += fact(s) * fact(p - s - 1) / fact(p) * (v[mask | 1 << i] - v[mask]);
            }
        }
    }
    (v[0], phi)
}

#[test]
fn exact_step_shapley_values_equal_brute_force_on_8_statics_and_6_steps() {
    // Statics s0..s7 and the steps h0..h5 (one numeric channel), interleaved.
    let mut features = Vec::new();
    for i in 0..6 {
        features.push(num(&format!("s{i}"), 1.0, 2.0));
        features.push(num(&format!("h{i}"), 5.0, 3.0));
    }
    features.push(num("s6", 0.0, 1.0));
    features.push(num("s7", -2.0, 0.5));
    let s = schema(features);
    let h = History {
        name: "history".into(),
        unit: "month".into(),
        steps: 6,
        channels: vec![Channel {
            name: "balance".into(),
            features: (0..6).map(|t| 2 * t + 1).collect(),
            input: ChannelInput::Numeric {
                mean: 5.0,
                std: 3.0,
            },
        }],
    };
    let mut players: Vec<Vec<usize>> = (0..6).map(|i| vec![2 * i]).collect();
    players.push(vec![12]);
    players.push(vec![13]);
    players.extend((0..6).map(|t| vec![2 * t + 1]));
    let mut r = Lcg(41);
    let set = BackgroundSet {
        rows: r.vec(2 * 14, 6.0),
        weights: vec![3.0, 5.0],
    };
    for m in [
        Model::from(gru(&s, h.clone(), 4, 1, 8)),
        Model::from(tcn(&s, h.clone(), 3, 2, 2, 9)),
    ] {
        let inputs = m.sequence().unwrap();
        assert_eq!(inputs.players().len(), 14);
        let mut x = r.vec(14, 8.0);
        x[3] = f32::NAN; // a missing month
        let game = Game {
            x: &x,
            set: &set,
            groups: inputs.players(),
            scale: 1.0,
            offset: 0.0,
        };
        let mut eval = |xs: &[f32], out: &mut [f32]| m.outputs(xs, 14, out);
        let e = shapley::exact(&game, &mut eval);
        let (base, phi) = oracle(&|z| m.output(z), &x, &set, &players);
        let scale: f64 = phi.iter().map(|v| v.abs()).sum();
        assert!(scale > 0.1, "{}: the game is not trivial", m.tag());
        assert!((e.base - base).abs() < 1e-9, "{}", m.tag());
        for (a, b) in e.phi.iter().zip(&phi) {
            assert!((a - b).abs() < 1e-9 * scale, "{}: {a} vs {b}", m.tag());
        }
        let sum: f64 = e.phi.iter().sum::<f64>() + e.base;
        assert!((sum - m.output(&x) as f64).abs() < 1e-5);
    }
}

fn customer() -> Vec<(&'static str, RawValue<'static>)> {
    vec![
        ("age", RawValue::Number(35.0)),
        ("status_3", RawValue::Text("2")),
        ("purpose", RawValue::Text("tv")),
        ("status_2", RawValue::Text("9")),
        ("bal_3", RawValue::Missing),
        ("status_1", RawValue::Text("0")),
        ("bal_2", RawValue::Number(250.0)),
        ("income", RawValue::Number(2.5)),
        ("bal_1", RawValue::Number(300.0)),
    ]
}

#[test]
fn explanations_list_statics_then_steps_and_equal_brute_force() {
    // Players of `mixed` by hand: age, purpose, income; each step's status
    // columns and balance column.
    let players = vec![
        vec![0],
        vec![4, 5],
        vec![13],
        vec![1, 2, 3, 9],
        vec![6, 7, 8, 12],
        vec![10, 11, 14],
    ];
    for (m, s) in models() {
        let tag = m.tag();
        let b = bundle(m, s, true);
        let sc = Scorer::from_bytes(&format::encode(&b).unwrap()).unwrap();
        let e = sc.explain(customer()).unwrap();
        let names: Vec<&str> = e.contributions.iter().map(|c| c.feature.as_str()).collect();
        assert_eq!(
            names,
            [
                "age",
                "purpose",
                "income",
                "history 3 months ago",
                "history 2 months ago",
                "history 1 month ago"
            ],
            "{tag}"
        );
        let steps: Vec<_> = e.contributions[3..]
            .iter()
            .map(|c| c.step.clone().unwrap())
            .collect();
        assert_eq!(
            steps.iter().map(|s| s.age).collect::<Vec<_>>(),
            [3, 2, 1],
            "{tag}"
        );
        assert_eq!(
            steps[0].values,
            [
                ("status".to_string(), "2".to_string()),
                ("balance".to_string(), "missing".to_string())
            ]
        );
        assert_eq!(e.contributions[4].value, "status 9, balance 250");
        assert!(e.contributions[..3].iter().all(|c| c.step.is_none()));
        // Additive, and every coalition's value by brute force.
        let x = {
            let (values, mut w) = sc.parse_record(customer()).unwrap();
            let mut x = Vec::new();
            sc.design_row(&values, &mut x, &mut w).unwrap();
            x
        };
        let raw = b.model.output(&x) as f64;
        let sum: f64 = e.base as f64
            + e.contributions
                .iter()
                .map(|c| c.contribution as f64)
                .sum::<f64>();
        assert!((sum - raw).abs() < 1e-5, "{tag}: {sum} vs {raw}");
        let set = b.background_set.as_ref().unwrap();
        let (base, phi) = oracle(&|z| b.model.output(z), &x, set, &players);
        assert!((e.base as f64 - base).abs() < 1e-6, "{tag}");
        for (c, want) in e.contributions.iter().zip(&phi) {
            assert!(
                (c.contribution as f64 - want).abs() < 1e-6,
                "{tag} {}: {} vs {want}",
                c.feature,
                c.contribution
            );
        }
        // Files without a background set: the sampler against the mean row,
        // still additive.
        let plain = bundle(b.model.clone(), b.schema.clone(), false);
        let sc = Scorer::from_bytes(&format::encode(&plain).unwrap()).unwrap();
        let e = sc.explain(customer()).unwrap();
        let sum: f64 = e.base as f64
            + e.contributions
                .iter()
                .map(|c| c.contribution as f64)
                .sum::<f64>();
        assert!((sum - raw).abs() < 1e-5, "{tag}: {sum} vs {raw}");
        assert_eq!(e.contributions.len(), 6);
    }
}

#[test]
fn step_reasons_read_like_a_lender_s() {
    use ferrisk::credit::{reasons, ReasonText, Scorecard};
    use ferrisk::explain::{Contribution, Explanation, Step, Unit};
    let step = |age: u32, status: &str, balance: &str, c: f32| Contribution {
        feature: format!("history {age} months ago"),
        value: String::new(),
        contribution: c,
        step: Some(Step {
            age,
            ago: format!("{age} month{} ago", if age == 1 { "" } else { "s" }),
            values: vec![
                ("status".into(), status.into()),
                ("balance".into(), balance.into()),
            ],
        }),
    };
    let e = Explanation {
        base: -1.0,
        output: 0.5,
        unit: Unit::LogOdds,
        method: "",
        convergence: None,
        contributions: vec![
            Contribution {
                feature: "age".into(),
                value: "23".into(),
                contribution: 0.2,
                step: None,
            },
            step(2, "3", "1200", 0.9),
            step(1, "0", "800", 0.4),
        ],
        probability: 0.6,
        warnings: Vec::new(),
    };
    let texts = |catalogue: &[ReasonText]| -> Vec<String> {
        reasons(&e, &Scorecard::default(), catalogue, 4, "en", None)
            .into_iter()
            .map(|r| r.text)
            .collect()
    };
    assert_eq!(
        texts(&[]),
        [
            "status 3, balance 1200 2 months ago",
            "status 0, balance 800 1 month ago",
            "Age: 23 increases the risk"
        ]
    );
    let catalogue = [
        ReasonText {
            feature: "status".into(),
            lang: "en".into(),
            text: "status {value} (in arrears) {age}".into(),
        },
        ReasonText {
            feature: "balance".into(),
            lang: "en".into(),
            text: "a balance of {value}".into(),
        },
    ];
    assert_eq!(
        texts(&catalogue)[..2],
        [
            "status 3 (in arrears) 2 months ago, a balance of 1200",
            "status 0 (in arrears) 1 month ago, a balance of 800"
        ]
    );
}

#[test]
fn the_metadata_view_describes_the_history() {
    for (m, s) in models() {
        let b = bundle(m, s, true);
        let v = ferrisk::views::MetadataView::new(&b, 3);
        let h = v.history.unwrap();
        assert_eq!(
            (h.name.as_str(), h.unit.as_str(), h.steps),
            ("history", "month", 3)
        );
        assert_eq!(h.channels[0].kind, "categorical");
        assert_eq!(h.channels[1].kind, "numeric");
        assert_eq!(h.channels[1].features, ["bal_3", "bal_2", "bal_1"]);
    }
}

#[test]
fn block_scoring_of_coalition_rows_reuses_the_encoder_bit_for_bit() {
    // Rows as an explanation walks them: a background row, then one more
    // player of the customer at a time in a random order, then another
    // background row; the block scorer recomputes from the first changed
    // step only, and must give every row the bits of scoring it alone.
    let players = [
        vec![0],
        vec![4, 5],
        vec![13],
        vec![1, 2, 3, 9],
        vec![6, 7, 8, 12],
        vec![10, 11, 14],
    ];
    for (m, _) in models() {
        let mut r = Lcg(77);
        let mut xs = Vec::new();
        for _ in 0..20 {
            let (x, mut z) = (row(&mut r), row(&mut r));
            xs.extend_from_slice(&z);
            let mut order: Vec<usize> = (0..players.len()).collect();
            for i in (1..order.len()).rev() {
                let j = (((r.next() + 0.5) * (i + 1) as f32) as usize).min(i);
                order.swap(i, j);
            }
            for &p in &order {
                for &c in &players[p] {
                    z[c] = x[c];
                }
                xs.extend_from_slice(&z);
            }
        }
        let n = xs.len() / 15;
        let mut block = vec![0.0f32; n];
        m.outputs(&xs, 15, &mut block);
        for (x, o) in xs.chunks(15).zip(&block) {
            assert_eq!(o.to_bits(), m.output(x).to_bits(), "{}", m.tag());
        }
    }
}

#[test]
fn reason_texts_may_name_a_channel_of_the_history() {
    use ferrisk::credit::ReasonText;
    let (m, s) = models().remove(0);
    let mut b = bundle(m, s, true);
    b.reasons = vec![ReasonText {
        feature: "status".into(),
        lang: "en".into(),
        text: "status {value} {age}".into(),
    }];
    let sc = Scorer::from_bytes(&format::encode(&b).unwrap()).unwrap();
    assert_eq!(sc.bundle().reasons, b.reasons);
    b.reasons[0].feature = "arrears".into();
    assert!(format::encode(&b)
        .unwrap_err()
        .to_string()
        .contains("reason text for unknown feature 'arrears'"));
}

#[test]
fn extreme_finite_inputs_give_a_probability_or_a_clear_error_never_nan() {
    // The largest finite numbers a user can type pass parsing; the scaled
    // inputs and the dot products may overflow to ±∞ and their sum to NaN.
    // Scoring must then say so (NotFiniteOutput), never report NaN or panic,
    // and an explanation is finite or refused the same way.
    for (m, s) in models() {
        let tag = m.tag();
        let sc = Scorer::from_bytes(&format::encode(&bundle(m, s, true)).unwrap()).unwrap();
        for big in [3.4e38, -3.4e38, 1e30, -1e30] {
            let fields: Vec<(&str, RawValue<'_>)> = customer()
                .into_iter()
                .map(|(n, v)| match v {
                    RawValue::Number(_) => (n, RawValue::Number(big)),
                    other => (n, other),
                })
                .collect();
            match sc.predict(fields.clone()) {
                Ok(p) => assert!(p.probability.is_finite(), "{tag} {big}: {}", p.probability),
                Err(e) => assert!(
                    matches!(e, ferrisk::ScoreError::NotFiniteOutput),
                    "{tag} {big}: {e}"
                ),
            }
            match sc.explain(fields) {
                Ok(e) => {
                    assert!(e.probability.is_finite(), "{tag} {big}");
                    assert!(
                        e.contributions.iter().all(|c| c.contribution.is_finite()),
                        "{tag} {big}: a contribution is not finite"
                    );
                }
                Err(e) => assert!(
                    matches!(e, ferrisk::ScoreError::NotFiniteOutput),
                    "{tag} {big}: {e}"
                ),
            }
        }
    }
}
