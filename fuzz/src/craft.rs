//! Structure-aware generation: whole bundles built through the runtime's
//! public types with wild values, and named *families* of crafted files
//! (DAG trees, deep chains, NaN parameters, calibration/kind mismatches,
//! empty strings, oversized attention …) described by a one-line recipe.
//!
//! Bundles are written with `format::v3::encode` + `format::frame`, which,
//! unlike `format::encode`, do not validate first: the reader, not the
//! writer, is under test.

use ferrisk::credit::{ReasonText, Scorecard};
use ferrisk::drift::{Bins, DriftProfile};
use ferrisk::explain::BackgroundSet;
use ferrisk::kinds::attention::{feature_slots, Attention, Block, LayerNorm};
use ferrisk::kinds::{KernelSvm, Linear, Model, Node, Stump, Tree, TreeEnsemble, LEAF};
use ferrisk::schema::{CategoricalFeature, Encoding, Feature, FeatureKind, NumericFeature, Schema};
use ferrisk::{Algorithm, Bundle, Calibration, Metadata};

use crate::mutate::F32_SPECIAL;
use crate::rng::Rng;

/// A file for a bundle, as the current writer frames it (no validation).
pub fn file(b: &Bundle) -> Option<Vec<u8>> {
    let body = ferrisk::format::v3::encode(b).ok()?;
    Some(ferrisk::format::frame(
        ferrisk::format::FORMAT_VERSION,
        ferrisk::format::v3::min_reader(b),
        &body,
    ))
}

/// An `f32` that is usually ordinary and sometimes not.
fn wild(rng: &mut Rng, scale: f32) -> f32 {
    if rng.one_in(12) {
        f32::from_bits(*rng.pick(&F32_SPECIAL).unwrap_or(&0))
    } else {
        (rng.unit() as f32 * 2.0 - 1.0) * scale
    }
}

fn vals(rng: &mut Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| wild(rng, scale)).collect()
}

fn vals_near(rng: &mut Rng, n: usize, scale: f32) -> Vec<f32> {
    let len = len_near(rng, n);
    vals(rng, len, scale)
}

/// A length that is usually `n` and sometimes off by a little.
fn len_near(rng: &mut Rng, n: usize) -> usize {
    if rng.one_in(16) {
        [0, n.saturating_sub(1), n + 1, n * 2][rng.below(4)]
    } else {
        n
    }
}

fn name(rng: &mut Rng, i: usize, prev: &[Feature]) -> String {
    match rng.below(24) {
        0 => String::new(),
        1 => prev.last().map_or("f".into(), |f| f.name.clone()),
        2 => "NA".into(),
        3 => " spaced name ".into(),
        4 => "ünïcødé,\"quoted\"".into(),
        _ => format!("f{i}"),
    }
}

fn category_name(rng: &mut Rng, k: usize) -> String {
    match rng.below(20) {
        0 => String::new(),
        1 => "NA".into(),
        2 => "?".into(),
        3 => "c0".into(),
        _ => format!("c{k}"),
    }
}

fn schema(rng: &mut Rng, encoding: Encoding) -> Schema {
    let n = rng.range(1, 6);
    let mut features: Vec<Feature> = Vec::with_capacity(n);
    for i in 0..n {
        let kind = if rng.below(5) < 3 {
            let lo = wild(rng, 100.0);
            let hi = lo + (rng.unit() as f32) * 100.0;
            let std = if rng.one_in(10) {
                [1e-45f32, 1e-38, 1e30, f32::MAX][rng.below(4)]
            } else {
                0.1 + rng.unit() as f32 * 10.0
            };
            FeatureKind::Numeric(NumericFeature {
                min: lo,
                max: hi,
                mean: (lo + hi) / 2.0,
                std,
                median: lo + (hi - lo) / 3.0,
            })
        } else {
            let k = if rng.one_in(40) { 300 } else { rng.range(1, 5) };
            let categories: Vec<String> = (0..k).map(|j| category_name(rng, j)).collect();
            let len = len_near(rng, k);
            FeatureKind::Categorical(CategoricalFeature {
                frequencies: vals(rng, len, 1.0).into_iter().map(f32::abs).collect(),
                mode: if rng.one_in(16) { k as u32 } else { 0 },
                categories,
            })
        };
        let name = name(rng, i, &features);
        features.push(Feature {
            name,
            kind,
            missing_rate: rng.unit() as f32,
        });
    }
    let (positive, negative) = if rng.one_in(16) {
        (String::new(), String::new())
    } else {
        ("yes".into(), "no".into())
    };
    Schema {
        features,
        label: if rng.one_in(16) {
            "f0".into()
        } else {
            "default".into()
        },
        positive,
        negative,
        encoding,
    }
}

/// A proper tree (every node one parent, children after it), wild values.
fn tree(rng: &mut Rng, width: usize, max_depth: usize) -> Tree {
    fn grow(rng: &mut Rng, nodes: &mut Vec<Node>, width: usize, depth: usize) -> u32 {
        let i = nodes.len();
        let leaf = depth == 0 || rng.one_in(3);
        nodes.push(Node {
            feature: if rng.one_in(20) {
                width as u32
            } else {
                rng.below(width.max(1)) as u32
            },
            threshold: wild(rng, 3.0),
            left: LEAF,
            right: LEAF,
            value: wild(rng, 1.0),
            cover: if rng.one_in(16) {
                [0.0, -1.0, f32::NAN, f32::INFINITY][rng.below(4)]
            } else {
                1.0 + rng.below(100) as f32
            },
            default_left: rng.coin(),
        });
        if !leaf {
            let l = grow(rng, nodes, width, depth - 1);
            let r = grow(rng, nodes, width, depth - 1);
            if let Some(n) = nodes.get_mut(i) {
                n.left = l;
                n.right = r;
            }
        }
        i as u32
    }
    let mut nodes = Vec::new();
    grow(rng, &mut nodes, width, max_depth);
    Tree { nodes }
}

fn ln(rng: &mut Rng, d: usize) -> LayerNorm {
    LayerNorm {
        gamma: vals_near(rng, d, 2.0),
        beta: vals(rng, d, 1.0),
    }
}

fn attention(rng: &mut Rng, schema: &Schema) -> Attention {
    let d = [1usize, 2, 4, 8][rng.below(4)];
    let heads = if rng.one_in(10) {
        3
    } else {
        [1, d][rng.below(2)]
    };
    let blocks = rng.range(1, 2);
    let ffn = rng.range(1, 8);
    let features = feature_slots(schema);
    let numeric = features.iter().filter(|f| f.numeric).count();
    let cat_rows: usize = features
        .iter()
        .filter(|f| !f.numeric)
        .map(|f| f.width as usize + 1)
        .sum();
    let block = |rng: &mut Rng| Block {
        ln_attn: ln(rng, d),
        wq: vals(rng, d * d, 1.0),
        bq: vals(rng, d, 1.0),
        wk: vals(rng, d * d, 1.0),
        bk: vals(rng, d, 1.0),
        wv: vals_near(rng, d * d, 1.0),
        bv: vals(rng, d, 1.0),
        wo: vals(rng, d * d, 1.0),
        bo: vals(rng, d, 1.0),
        ln_ffn: ln(rng, d),
        w1: vals(rng, ffn * d, 1.0),
        b1: vals(rng, ffn, 1.0),
        w2: vals(rng, d * ffn, 1.0),
        b2: vals(rng, d, 1.0),
    };
    let blocks_v = (0..blocks).map(|_| block(rng)).collect();
    Attention {
        d_model: d,
        n_heads: heads,
        n_blocks: blocks,
        d_ffn: ffn,
        features,
        num_weight: vals(rng, numeric * d, 1.0),
        num_bias: vals(rng, numeric * d, 1.0),
        cat_embed: vals_near(rng, cat_rows * d, 1.0),
        cls: vals(rng, d, 1.0),
        blocks: blocks_v,
        final_ln: ln(rng, d),
        head_w: vals(rng, d, 1.0),
        head_b: wild(rng, 1.0),
    }
}

fn drift(rng: &mut Rng, schema: &Schema) -> DriftProfile {
    let bins = |rng: &mut Rng, edges: usize, shares: usize| Bins {
        edges: vals(rng, edges, 10.0),
        expected: vals_near(rng, shares, 1.0)
            .into_iter()
            .map(f32::abs)
            .collect(),
    };
    let features = schema
        .features
        .iter()
        .map(|f| match &f.kind {
            FeatureKind::Numeric(_) => {
                let e = rng.below(5);
                bins(rng, e, e + 2)
            }
            FeatureKind::Categorical(c) => bins(rng, 0, c.categories.len() + 1),
        })
        .collect();
    let e = rng.range(1, 5);
    DriftProfile {
        features,
        score: bins(rng, e, e + 2),
    }
}

/// A bundle of a random kind with wild values; mostly consistent shapes, so
/// that many reach the validator's later checks and some load.
pub fn random_bundle(rng: &mut Rng) -> Bundle {
    let kind = rng.below(6);
    let encoding = Encoding {
        scale: kind != 2 && kind != 3,
        impute_numeric: !(kind == 2 || kind == 3) || rng.coin(),
    };
    let schema = schema(rng, encoding);
    let width = schema.width();
    let (model, calibration) = match kind {
        0 => (
            Model::from(Linear {
                weights: vals_near(rng, width, 2.0),
                bias: wild(rng, 1.0),
            }),
            Calibration::Logistic,
        ),
        1 => {
            let n = rng.range(1, 6);
            (
                Model::from(KernelSvm {
                    gamma: wild(rng, 1.0).abs(),
                    support: vals_near(rng, n * width, 2.0),
                    coef: vals(rng, n, 2.0),
                    bias: wild(rng, 1.0),
                }),
                Calibration::Platt {
                    a: wild(rng, 3.0),
                    b: wild(rng, 1.0),
                },
            )
        }
        2 | 3 => {
            let average = kind == 2;
            let trees = (0..rng.range(1, 4))
                .map(|_| {
                    let depth = rng.range(0, 6);
                    tree(rng, width, depth)
                })
                .collect();
            (
                Model::from(TreeEnsemble {
                    trees,
                    base: wild(rng, 1.0),
                    average,
                }),
                if average && rng.coin() {
                    Calibration::PlattLogit {
                        a: wild(rng, 3.0),
                        b: wild(rng, 1.0),
                    }
                } else if average {
                    Calibration::Identity
                } else {
                    Calibration::Logistic
                },
            )
        }
        4 => (Model::from(attention(rng, &schema)), Calibration::Logistic),
        _ => (
            Model::from(Stump {
                column: rng.below(width + 1) as u32,
                threshold: wild(rng, 3.0),
                default_left: rng.coin(),
                left: wild(rng, 2.0),
                right: wild(rng, 2.0),
                left_cover: wild(rng, 50.0).abs(),
                right_cover: wild(rng, 50.0).abs(),
            }),
            Calibration::Logistic,
        ),
    };
    let calibration = if rng.one_in(16) {
        match rng.below(4) {
            0 => Calibration::Identity,
            1 => Calibration::Logistic,
            2 => Calibration::Platt { a: 1e-45, b: 0.0 },
            // Knots that are sometimes out of order, out of (0, 1) or
            // not finite.
            _ => {
                let n = 1 + rng.below(6);
                let x = (0..n).map(|_| wild(rng, 1.0)).collect();
                let y = (0..n).map(|_| wild(rng, 1.0)).collect();
                Calibration::Isotonic(ferrisk::calibration::Isotonic { x, y })
            }
        }
    } else {
        calibration
    };
    let reasons = (0..rng.below(3))
        .map(|i| ReasonText {
            feature: schema
                .features
                .get(i)
                .map_or(String::new(), |f| f.name.clone()),
            lang: ["en", "de", "", "zh"][rng.below(4)].into(),
            text: ["{value} {value}", "", "risk {value}"][rng.below(3)].into(),
        })
        .collect();
    let drift = rng.coin().then(|| drift(rng, &schema));
    let background_set = rng.coin().then(|| {
        let k = if rng.one_in(16) {
            rng.below(80)
        } else {
            rng.range(1, 6)
        };
        let weights = vals(rng, k, 40.0);
        BackgroundSet {
            rows: vals_near(rng, k * width, 2.0),
            weights: if rng.one_in(8) {
                weights
            } else {
                weights.into_iter().map(f32::abs).collect()
            },
        }
    });
    Bundle {
        algorithm: Algorithm::new(["lr", "gbm", "", "xgboost"][rng.below(4)], "fuzz-generated"),
        background: vals_near(rng, width, 1.0),
        background_set,
        schema,
        model,
        calibration,
        threshold: if rng.one_in(16) {
            wild(rng, 1.0)
        } else {
            rng.unit() as f32 * 0.98 + 0.01
        },
        report: None,
        metadata: Metadata {
            producer: "ferrisk-fuzz".into(),
            ..Metadata::default()
        },
        scorecard: if rng.one_in(10) {
            Scorecard {
                base_score: wild(rng, 1e3),
                base_odds: wild(rng, 100.0),
                pdo: wild(rng, 50.0),
            }
        } else {
            Scorecard::default()
        },
        reasons,
        drift,
        decision: rng.coin().then(|| decision(rng)),
        governance: rng.coin().then(|| ferrisk::governance::Section {
            protected: vec!["age_in_years".into(), "été".into()],
            report: r#"{"protected":[]}"#.into(),
        }),
    }
}

/// A decision section with values near and beyond their ranges.
fn decision(rng: &mut Rng) -> ferrisk::policy::Decision {
    use ferrisk::policy::{CutFigures, Decision, Policy};
    let cut = |rng: &mut Rng| CutFigures {
        threshold: wild(rng, 1.0),
        rows: rng.below(1000) as u64,
        approval_rate: f64::from(wild(rng, 1.0)),
        bad_rate_approved: rng.unit(),
        expected_cost: rng.coin().then(|| f64::from(wild(rng, 2.0))),
    };
    Decision {
        policy: match rng.below(5) {
            0 => Policy::Fixed(wild(rng, 1.0)),
            1 => Policy::Cost {
                fn_cost: f64::from(wild(rng, 5.0)),
                fp_cost: 1.0,
            },
            2 => Policy::ApprovalRate(rng.unit()),
            3 => Policy::MaxF1,
            _ => Policy::Ks,
        },
        chosen_on: "fuzz".into(),
        chosen: cut(rng),
        evaluated: rng.coin().then(|| (cut(rng), cut(rng))),
        evaluated_on: String::new(),
        calibration: "fuzz".into(),
        calibration_chosen_by: String::new(),
    }
}

// ---- families ---------------------------------------------------------

/// Names of the crafted families and a default recipe of each.
pub const FAMILIES: &[(&str, &str)] = &[
    ("dag-tree", "dag-tree nodes=48"),
    ("deep-chain", "deep-chain depth=3000"),
    ("deep-chain-at-limit", "deep-chain depth=64"),
    ("nan-inner-node", "nan-inner-node"),
    ("zero-cover-tree", "zero-cover-tree"),
    ("denormal-std", "denormal-std"),
    ("huge-finite-weights", "huge-finite-weights"),
    ("huge-finite-leaf", "huge-finite-leaf"),
    ("attention-huge-ffn", "attention-huge-ffn"),
    ("platt-denormal-slope", "platt-denormal-slope"),
    ("calibration-mismatch", "calibration-mismatch"),
    ("empty-strings", "empty-strings"),
    ("duplicate-feature-names", "duplicate-feature-names"),
    ("missing-token-categories", "missing-token-categories"),
    ("nan-drift-shares", "nan-drift-shares"),
    (
        "oversized-attention",
        "oversized-attention features=256 d=32 blocks=4 ffn=32",
    ),
    (
        "oversized-attention-heads",
        "oversized-attention features=826 d=8 heads=8 blocks=2 ffn=1",
    ),
    ("huge-svm", "huge-svm features=200 support=2000"),
];

fn numeric(name: &str) -> Feature {
    Feature {
        name: name.into(),
        kind: FeatureKind::Numeric(NumericFeature {
            min: 0.0,
            max: 10.0,
            mean: 5.0,
            std: 2.0,
            median: 5.0,
        }),
        missing_rate: 0.0,
    }
}

fn categorical(name: &str, cats: &[&str]) -> Feature {
    Feature {
        name: name.into(),
        kind: FeatureKind::Categorical(CategoricalFeature {
            categories: cats.iter().map(|c| c.to_string()).collect(),
            frequencies: vec![1.0 / cats.len().max(1) as f32; cats.len()],
            mode: 0,
        }),
        missing_rate: 0.0,
    }
}

fn base_bundle(features: Vec<Feature>, model: Model, calibration: Calibration) -> Bundle {
    let scale = !matches!(model, Model::Trees(_) | Model::Stump(_));
    let schema = Schema {
        features,
        label: "default".into(),
        positive: "yes".into(),
        negative: "no".into(),
        encoding: Encoding {
            scale,
            impute_numeric: true,
        },
    };
    Bundle {
        algorithm: Algorithm::new("fuzz", "crafted by ferrisk-fuzz"),
        background: vec![0.0; schema.width()],
        background_set: None,
        schema,
        model,
        calibration,
        threshold: 0.5,
        report: None,
        metadata: Metadata {
            producer: "ferrisk-fuzz".into(),
            ..Metadata::default()
        },
        scorecard: Scorecard::default(),
        reasons: Vec::new(),
        drift: None,
        decision: None,
        governance: None,
    }
}

fn leaf(value: f32, cover: f32) -> Node {
    Node {
        feature: 0,
        threshold: 0.0,
        left: LEAF,
        right: LEAF,
        value,
        cover,
        default_left: true,
    }
}

fn split(feature: u32, threshold: f32, left: u32, right: u32) -> Node {
    Node {
        feature,
        threshold,
        left,
        right,
        value: 0.0,
        cover: 1.0,
        default_left: true,
    }
}

fn trees_bundle(features: Vec<Feature>, trees: Vec<Tree>) -> Bundle {
    base_bundle(
        features,
        Model::from(TreeEnsemble {
            trees,
            base: 0.0,
            average: false,
        }),
        Calibration::Logistic,
    )
}

fn param(recipe: &str, key: &str, default: usize) -> usize {
    recipe
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(default)
}

/// The bundle of a family recipe (`<family> key=value …`).
pub fn family_bundle(recipe: &str) -> Option<Bundle> {
    let family = recipe.split_whitespace().next()?;
    let b = match family {
        // Every inner node sends both children to the next node: a DAG the
        // validator accepts (children after their parent); 2^n paths.
        "dag-tree" => {
            let n = param(recipe, "nodes", 48).max(2);
            let mut nodes: Vec<Node> = (0..n - 1)
                .map(|i| split(0, i as f32 * 0.1, i as u32 + 1, i as u32 + 1))
                .collect();
            nodes.push(leaf(0.5, 1.0));
            trees_bundle(vec![numeric("x")], vec![Tree { nodes }])
        }
        // A caterpillar tree `depth` splits deep (every right child a leaf).
        "deep-chain" => {
            let depth = param(recipe, "depth", 3000).max(1);
            let mut nodes = Vec::with_capacity(2 * depth + 1);
            for i in 0..depth {
                let at = 2 * i as u32;
                nodes.push(split(0, depth as f32 - i as f32, at + 2, at + 1));
                nodes.push(leaf(if i % 2 == 0 { 0.3 } else { -0.3 }, 1.0));
            }
            nodes.push(leaf(1.0, 1.0));
            trees_bundle(vec![numeric("x")], vec![Tree { nodes }])
        }
        // Inner-node values and covers are not validated (only leaves are).
        "nan-inner-node" => {
            let mut root = split(0, 5.0, 1, 2);
            root.value = f32::NAN;
            root.cover = f32::NAN;
            let nodes = vec![root, leaf(-1.0, f32::NAN), leaf(1.0, f32::INFINITY)];
            trees_bundle(vec![numeric("x"), numeric("y")], vec![Tree { nodes }])
        }
        // Covers of zero are allowed (non-negative): the expected value
        // and the TreeSHAP walk weigh the children differently.
        "zero-cover-tree" => {
            let mut root = split(0, 5.0, 1, 2);
            root.cover = 0.0;
            let mut inner = split(1, 5.0, 3, 4);
            inner.cover = 0.0;
            let nodes = vec![root, inner, leaf(2.0, 0.0), leaf(-1.0, 0.0), leaf(1.0, 0.0)];
            trees_bundle(vec![numeric("x"), numeric("y")], vec![Tree { nodes }])
        }
        // Finite weights of ±f32::MAX: w·x overflows to ±inf, and
        // inf − inf = NaN, which the logistic reports as 0.5.
        "huge-finite-weights" => base_bundle(
            vec![numeric("x"), numeric("y")],
            Model::from(Linear {
                weights: vec![f32::MAX, -f32::MAX],
                bias: 0.0,
            }),
            Calibration::Logistic,
        ),
        // An averaged forest (its output a probability) with one leaf of
        // -3e23 that no customer reaches: predictions are fine, TreeSHAP's
        // expected value and contributions cancel catastrophically.
        "huge-finite-leaf" => {
            let mut b = trees_bundle(
                vec![numeric("x"), numeric("y")],
                vec![
                    Tree {
                        nodes: vec![
                            split(0, 1e9, 1, 2),
                            split(1, 5.0, 3, 4),
                            leaf(-3e23, 1.0),
                            leaf(0.2, 3.0),
                            leaf(0.7, 3.0),
                        ],
                    },
                    Tree {
                        nodes: vec![split(1, 4.0, 1, 2), leaf(0.1, 3.0), leaf(0.9, 3.0)],
                    },
                ],
            );
            if let Model::Trees(t) = &mut b.model {
                t.average = true;
            }
            b.calibration = Calibration::Identity;
            b
        }
        // Finite attention weights of f32::MAX in the feed-forward layer:
        // the hidden units overflow to +inf and w2 subtracts them (NaN).
        "attention-huge-ffn" => {
            let mut b = base_bundle(
                vec![numeric("x"), numeric("y")],
                Model::from(Linear {
                    weights: Vec::new(),
                    bias: 0.0,
                }),
                Calibration::Logistic,
            );
            let d = 2;
            let ln = |beta: f32| LayerNorm {
                gamma: vec![1.0; d],
                beta: vec![beta; d],
            };
            let block = Block {
                ln_attn: ln(0.0),
                wq: vec![0.1, 0.2, 0.3, 0.4],
                bq: vec![0.0; d],
                wk: vec![0.2, 0.1, 0.4, 0.3],
                bk: vec![0.0; d],
                wv: vec![0.5, -0.5, 0.3, 0.1],
                bv: vec![0.0; d],
                wo: vec![1.0, 0.0, 0.0, 1.0],
                bo: vec![0.0; d],
                ln_ffn: ln(1.0),
                w1: vec![f32::MAX; 2 * d],
                b1: vec![0.0; 2],
                w2: vec![1.0, -1.0, 1.0, -1.0],
                b2: vec![0.0; d],
            };
            b.model = Model::from(Attention {
                d_model: d,
                n_heads: 1,
                n_blocks: 1,
                d_ffn: 2,
                features: feature_slots(&b.schema),
                num_weight: vec![0.5, -0.25, 0.75, 0.1],
                num_bias: vec![0.0; 2 * d],
                cat_embed: Vec::new(),
                cls: vec![0.3, -0.2],
                blocks: vec![block],
                final_ln: ln(0.0),
                head_w: vec![1.0, -1.0],
                head_b: 0.0,
            });
            b
        }
        // A positive, finite, denormal std: scaled values become ±inf and
        // w·x = inf − inf = NaN; the logistic maps NaN to 0.5.
        "denormal-std" => {
            let mut b = base_bundle(
                vec![numeric("x"), numeric("y")],
                Model::from(Linear {
                    weights: vec![1.0, 1.0],
                    bias: 0.0,
                }),
                Calibration::Logistic,
            );
            for f in &mut b.schema.features {
                if let FeatureKind::Numeric(n) = &mut f.kind {
                    n.std = 1e-45;
                    n.mean = 5.0;
                }
            }
            if let Some(Feature {
                kind: FeatureKind::Numeric(n),
                ..
            }) = b.schema.features.get_mut(1)
            {
                n.mean = 0.0;
            }
            if let Model::Linear(l) = &mut b.model {
                l.weights = vec![1.0, -1.0];
            }
            b
        }
        // Platt slope 1e-45 passes `a != 0`: every customer gets ~0.5.
        "platt-denormal-slope" => base_bundle(
            vec![numeric("x"), categorical("c", &["a", "b"])],
            Model::from(Linear {
                weights: vec![2.0, 1.0, -1.0],
                bias: 0.1,
            }),
            Calibration::Platt { a: 1e-45, b: 0.0 },
        ),
        // An averaged forest (a probability) with a logistic calibration.
        "calibration-mismatch" => {
            let mut b = trees_bundle(
                vec![numeric("x")],
                vec![Tree {
                    nodes: vec![split(0, 5.0, 1, 2), leaf(0.2, 1.0), leaf(0.8, 1.0)],
                }],
            );
            if let Model::Trees(t) = &mut b.model {
                t.average = true;
            }
            b
        }
        // Empty feature, category, label and class names.
        "empty-strings" => {
            let mut b = base_bundle(
                vec![numeric(""), categorical("", &["", "", ""])],
                Model::from(Linear {
                    weights: vec![1.0, 0.5, -0.5, 0.2],
                    bias: 0.0,
                }),
                Calibration::Logistic,
            );
            b.schema.label = String::new();
            b.schema.positive = String::new();
            b.schema.negative = String::new();
            b.reasons = vec![ReasonText {
                feature: String::new(),
                lang: String::new(),
                text: String::new(),
            }];
            b
        }
        // Two features with one name: the first can never be given.
        "duplicate-feature-names" => base_bundle(
            vec![numeric("age"), numeric("age")],
            Model::from(Linear {
                weights: vec![3.0, 0.0],
                bias: 0.0,
            }),
            Calibration::Logistic,
        ),
        // Categories named like the missing tokens can never be matched.
        "missing-token-categories" => base_bundle(
            vec![categorical("c", &["NA", "?", "x"])],
            Model::from(Linear {
                weights: vec![5.0, -5.0, 0.0],
                bias: 0.0,
            }),
            Calibration::Logistic,
        ),
        // Drift shares are not validated: NaN and negative shares.
        "nan-drift-shares" => {
            let mut b = base_bundle(
                vec![numeric("x")],
                Model::from(Linear {
                    weights: vec![1.0],
                    bias: 0.0,
                }),
                Calibration::Logistic,
            );
            b.drift = Some(DriftProfile {
                features: vec![Bins {
                    edges: vec![f32::NAN],
                    expected: vec![f32::NAN, -1.0, 2.0],
                }],
                score: Bins {
                    edges: vec![0.5],
                    expected: vec![f32::NAN, 0.0, 0.0],
                },
            });
            b
        }
        // Within every attention limit; the explanation does
        // 64 × features forward passes of O(features² · d) each.
        "oversized-attention" => {
            let nf = param(recipe, "features", 256).max(1);
            let d = param(recipe, "d", 32).max(1);
            let blocks = param(recipe, "blocks", 4).max(1);
            let ffn = param(recipe, "ffn", 32).max(1);
            let heads = param(recipe, "heads", 1).max(1);
            let features: Vec<Feature> = (0..nf).map(|i| numeric(&format!("x{i}"))).collect();
            let mut b = base_bundle(
                features,
                Model::from(Linear {
                    weights: Vec::new(),
                    bias: 0.0,
                }),
                Calibration::Logistic,
            );
            let small = |n: usize, k: usize| -> Vec<f32> {
                (0..n)
                    .map(|i| ((i * 7 + k * 13) % 17) as f32 * 0.01 - 0.08)
                    .collect()
            };
            let ones = vec![1.0; d];
            let block = |k: usize| Block {
                ln_attn: LayerNorm {
                    gamma: ones.clone(),
                    beta: vec![0.0; d],
                },
                wq: small(d * d, k),
                bq: vec![0.0; d],
                wk: small(d * d, k + 1),
                bk: vec![0.0; d],
                wv: small(d * d, k + 2),
                bv: vec![0.0; d],
                wo: small(d * d, k + 3),
                bo: vec![0.0; d],
                ln_ffn: LayerNorm {
                    gamma: ones.clone(),
                    beta: vec![0.0; d],
                },
                w1: small(ffn * d, k + 4),
                b1: vec![0.0; ffn],
                w2: small(d * ffn, k + 5),
                b2: vec![0.0; d],
            };
            b.model = Model::from(Attention {
                d_model: d,
                n_heads: heads,
                n_blocks: blocks,
                d_ffn: ffn,
                features: feature_slots(&b.schema),
                num_weight: small(nf * d, 1),
                num_bias: small(nf * d, 2),
                cat_embed: Vec::new(),
                cls: small(d, 3),
                blocks: (0..blocks).map(block).collect(),
                final_ln: LayerNorm {
                    gamma: ones.clone(),
                    beta: vec![0.0; d],
                },
                head_w: small(d, 4),
                head_b: 0.0,
            });
            b
        }
        // Support vectors × features is unbounded but for the body size;
        // the explanation costs 128 × features kernel rows.
        "huge-svm" => {
            let nf = param(recipe, "features", 200).max(1);
            let n = param(recipe, "support", 2000).max(1);
            let features: Vec<Feature> = (0..nf).map(|i| numeric(&format!("x{i}"))).collect();
            base_bundle(
                features,
                Model::from(KernelSvm {
                    gamma: 0.01,
                    support: (0..n * nf).map(|i| (i % 11) as f32 * 0.1).collect(),
                    coef: (0..n)
                        .map(|i| if i % 2 == 0 { 0.5 } else { -0.4 })
                        .collect(),
                    bias: 0.0,
                }),
                Calibration::Platt { a: -1.0, b: 0.0 },
            )
        }
        _ => return None,
    };
    Some(b)
}

/// The model file of a family recipe.
pub fn family_file(recipe: &str) -> Option<Vec<u8>> {
    file(&family_bundle(recipe)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_builds_a_file() {
        for (name, recipe) in FAMILIES {
            if name.contains("huge") || name.contains("oversized") {
                continue;
            }
            assert!(family_file(recipe).is_some(), "{name}");
        }
    }
}
