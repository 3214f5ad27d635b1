//! Crafted model files that pass the checksum and decode, but used to hang,
//! explode or lie (the hostile-input issue's families): each is refused at
//! load with a message naming the problem, or loads and can neither hang nor
//! give NaN. Built from real golden files, re-framed with a valid SHA-256.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(not(target_arch = "wasm32"))]

use ferrisk::format::{self, frame};
use ferrisk::kinds::{Model, Node, Tree, LEAF};
use ferrisk::{Bundle, Calibration, FormatError, Scorer};

fn golden(kind: &str) -> Bundle {
    let bytes = std::fs::read(format!(
        "{}/tests/golden/{kind}.frk",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    Scorer::from_bytes(&bytes).unwrap().into_bundle()
}

/// Writes a bundle without validating it (as a hostile writer would) and
/// loads it.
fn load_crafted(b: &Bundle) -> Result<Scorer, FormatError> {
    let body = format::v2::encode(b).unwrap();
    Scorer::from_bytes(&frame(2, 1, &body))
}

fn refused(b: &Bundle, needle: &str) {
    match load_crafted(b) {
        Ok(_) => panic!("a crafted file loaded; expected an error containing '{needle}'"),
        Err(e) => assert!(e.to_string().contains(needle), "{e}"),
    }
}

fn trees(b: &mut Bundle) -> &mut ferrisk::kinds::TreeEnsemble {
    match &mut b.model {
        Model::Trees(e) => e,
        _ => panic!("not a tree ensemble"),
    }
}

fn node(left: u32, right: u32) -> Node {
    Node {
        feature: 0,
        threshold: 0.5,
        left,
        right,
        value: 0.1,
        cover: 1.0,
        default_left: true,
    }
}

#[test]
fn a_ladder_dag_tree_is_refused() {
    // 4 kB, node i -> (i + 1, i + 1): explanation was exponential (40 nodes: > 60 s).
    let mut b = golden("gbm");
    let mut nodes: Vec<Node> = (0..40).map(|i| node(i + 1, i + 1)).collect();
    nodes.push(Node {
        left: LEAF,
        right: LEAF,
        ..node(0, 0)
    });
    trees(&mut b).trees[0] = Tree { nodes };
    refused(&b, "tree 0: node 0: child index");
}

#[test]
fn a_deep_chain_is_refused() {
    // A valid tree 20,000 deep made TreeSHAP ask for 6.4 GB.
    let mut b = golden("gbm");
    let mut nodes = Vec::new();
    for i in 0..20_000u32 {
        nodes.push(node(2 * i + 1, 2 * i + 2));
        nodes.push(Node {
            left: LEAF,
            right: LEAF,
            ..node(0, 0)
        });
    }
    nodes.push(Node {
        left: LEAF,
        right: LEAF,
        ..node(0, 0)
    });
    trees(&mut b).trees[0] = Tree { nodes };
    refused(&b, "deeper than the limit of 64 levels");
}

#[test]
fn non_finite_parameters_are_refused() {
    // An RF with a NaN base scored NaN ("decision: no"); an LR with one NaN
    // weight or NaN Platt parameters scored 0.5 for everyone.
    let mut b = golden("v3-trees/rf");
    trees(&mut b).base = f32::NAN;
    refused(&b, "base value is not a finite number");
    let mut b = golden("lr");
    if let Model::Linear(l) = &mut b.model {
        l.weights[3] = f32::NAN;
    }
    refused(&b, "linear weights[3] is not a finite number");
    let mut b = golden("svm-linear");
    b.calibration = Calibration::Platt {
        a: f32::NAN,
        b: 0.0,
    };
    refused(&b, "Platt calibration parameters");
    let mut b = golden("svm-rbf");
    if let Model::KernelSvm(k) = &mut b.model {
        k.support[7] = f32::INFINITY;
    }
    refused(&b, "SVM support vectors[7] is not a finite number");
    let mut b = golden("svm-rbf");
    if let Model::KernelSvm(k) = &mut b.model {
        k.coef[0] = f32::NAN;
    }
    refused(&b, "SVM coefficients[0]");
    let mut b = golden("lr");
    b.background[0] = f32::NAN;
    refused(&b, "background[0]");
}

#[test]
fn a_calibration_or_encoding_that_does_not_fit_the_kind_is_refused() {
    // Identity calibration on an LR/SVM, or a non-tree model without
    // numeric imputation, yielded NaN.
    let mut b = golden("lr");
    b.calibration = Calibration::Identity;
    refused(&b, "does not fit a 'linear' model");
    let mut b = golden("v3-trees/rf");
    b.calibration = Calibration::Logistic;
    refused(&b, "does not fit a 'trees' model");
    let mut b = golden("lr");
    b.schema.encoding.impute_numeric = false;
    refused(&b, "cannot take missing values");
}

#[test]
fn an_oversized_attention_model_is_refused_with_its_cost() {
    // Inside the old shape limits, a 4.3 MB attention model took 0.86 s per
    // prediction and hours per explanation.
    let mut b = golden("attention");
    if let Model::Attention(a) = &mut b.model {
        let d = 1024usize;
        let f = 8192usize;
        a.d_model = d;
        a.d_ffn = f;
        a.n_heads = 1;
        // Shapes are checked before cost, so make them consistent.
        let blocks = a.blocks.len();
        let n_num = a.features.iter().filter(|s| s.numeric).count();
        a.num_weight = vec![0.01; n_num * d];
        a.num_bias = vec![0.0; n_num * d];
        let cat_rows: usize = a
            .features
            .iter()
            .filter(|s| !s.numeric)
            .map(|s| s.width as usize + 1)
            .sum();
        a.cat_embed = vec![0.01; cat_rows * d];
        a.cls = vec![0.0; d];
        for blk in &mut a.blocks {
            blk.ln_attn.gamma = vec![1.0; d];
            blk.ln_attn.beta = vec![0.0; d];
            blk.ln_ffn.gamma = vec![1.0; d];
            blk.ln_ffn.beta = vec![0.0; d];
            for w in [&mut blk.wq, &mut blk.wk, &mut blk.wv, &mut blk.wo] {
                *w = vec![0.001; d * d];
            }
            for bias in [&mut blk.bq, &mut blk.bk, &mut blk.bv, &mut blk.bo] {
                *bias = vec![0.0; d];
            }
            blk.w1 = vec![0.001; f * d];
            blk.b1 = vec![0.0; f];
            blk.w2 = vec![0.001; d * f];
            blk.b2 = vec![0.0; d];
        }
        a.final_ln.gamma = vec![1.0; d];
        a.final_ln.beta = vec![0.0; d];
        a.head_w = vec![0.01; d];
        assert_eq!(a.blocks.len(), blocks);
    }
    let body = format::v2::encode(&b).unwrap();
    let err = Scorer::from_bytes(&frame(2, 2, &body)).unwrap_err();
    assert!(
        err.to_string().contains("one prediction would cost"),
        "{err}"
    );
}

#[test]
fn every_golden_model_explains_within_its_budget() {
    for kind in [
        "lr",
        "svm-linear",
        "svm-rbf",
        "rf",
        "gbm",
        "attention",
        "stump",
    ] {
        let b = golden(kind);
        let groups = ferrisk::kinds::groups(&b.schema);
        let design = b.design(&groups);
        let cost = b.model.cost(&design);
        assert!(
            cost.predict <= ferrisk::kinds::PREDICT_BUDGET,
            "{kind}: {cost:?}"
        );
        assert!(
            cost.explain <= ferrisk::kinds::EXPLAIN_BUDGET,
            "{kind}: {cost:?}"
        );
        assert!(
            cost.predict > 0 && cost.explain >= cost.predict,
            "{kind}: {cost:?}"
        );
    }
}

#[test]
fn an_explanation_over_budget_is_refused_with_the_figure_and_the_model_still_scores() {
    // 60,000 support vectors: one prediction is affordable, but sampling
    // Shapley values would evaluate the model thousands of times.
    let mut b = golden("svm-rbf");
    let width = b.schema.width();
    if let Model::KernelSvm(k) = &mut b.model {
        k.coef = vec![0.001; 60_000];
        k.support = vec![0.5; 60_000 * width];
    }
    let s = load_crafted(&b).unwrap();
    let x = vec![0.0f32; width];
    assert!(s.probability(&x).unwrap().is_finite());
    let err = s
        .explain([("age", ferrisk::RawValue::Number(30.0))])
        .unwrap_err();
    assert!(
        matches!(err, ferrisk::ScoreError::ExplainBudget { cost, budget } if cost > budget),
        "{err:?}"
    );
    assert!(err.to_string().contains("units, over the budget"), "{err}");
}

/// The exact explanation of an RBF SVM with a background set costs
/// O(centres · rows · p²): a file with enough centres is refused by the
/// same budget, and a modest one explains exactly and adds up.
#[test]
fn the_exact_svm_explanation_is_charged_to_the_budget() {
    let base = golden("svm-rbf");
    let width = base.schema.width();
    let set = ferrisk::explain::BackgroundSet {
        rows: vec![0.25; 8 * width],
        weights: vec![1.0; 8],
    };
    let customer = [("age", ferrisk::RawValue::Number(30.0))];
    // 300,000 centres: one prediction is within its budget, the exact
    // explanation is not.
    for (centres, refused) in [(400usize, false), (300_000, true)] {
        let mut b = base.clone();
        b.background_set = Some(set.clone());
        if let Model::KernelSvm(k) = &mut b.model {
            k.coef = (0..centres)
                .map(|i| 0.001 * (i % 7) as f32 - 0.002)
                .collect();
            k.support = (0..centres * width)
                .map(|i| (i % 13) as f32 / 13.0)
                .collect();
        }
        let s = load_crafted(&b).unwrap();
        assert!(s.probability(&vec![0.0f32; width]).unwrap().is_finite());
        match s.explain(customer.clone()) {
            Ok(e) => {
                assert!(!refused, "{centres} centres explained");
                assert!(e.convergence.is_none(), "exact, not sampled");
                let sum = e.base as f64
                    + e.contributions
                        .iter()
                        .map(|c| c.contribution as f64)
                        .sum::<f64>();
                assert!(
                    (sum - e.output as f64).abs() < 1e-5,
                    "{sum} vs {}",
                    e.output
                );
            }
            Err(err) => {
                assert!(refused, "{centres}: {err}");
                assert!(
                    matches!(err, ferrisk::ScoreError::ExplainBudget { cost, budget } if cost > budget),
                    "{err:?}"
                );
            }
        }
    }
}

#[test]
fn the_fuzzers_model_findings_are_refused_or_never_pass_nan_off_as_a_probability() {
    // fuzz/regressions: files that loaded and gave NaN reported as 0.5
    // (overflowing weights, a subnormal std), explanations that did not add
    // up (unreachable huge leaves, zero covers), constant outputs (a
    // subnormal Platt slope, a duplicated feature name), and an attention
    // model whose predictions took 0.3 s.
    let dir = format!("{}/fuzz/regressions", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read_to_string(format!(
        "{}/tests/golden/synthetic.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !(name.ends_with(".bin") && (name.starts_with("model-") || name.starts_with("family-")))
        {
            continue;
        }
        seen += 1;
        let Ok(s) = Scorer::from_bytes(&std::fs::read(&path).unwrap()) else {
            continue;
        };
        if let Ok(rows) = s.score_csv(&data, |_| {}) {
            for r in rows {
                if let ferrisk::RowScore::Scored { probability, line } = r {
                    assert!(
                        (0.0..=1.0).contains(&probability),
                        "{name} line {line}: {probability}"
                    );
                }
            }
        }
    }
    assert!(seen >= 7, "only {seen} model findings in {dir}");
}

#[test]
fn a_duplicated_feature_name_is_refused() {
    // Found by the fuzzer: a second feature named like the first hid it, so
    // the first was always imputed and every customer scored alike.
    let mut b = golden("lr");
    let first = b.schema.features[0].name.clone();
    b.schema.features[1].name = first.clone();
    let err = load_crafted(&b).err().unwrap();
    assert!(
        err.to_string()
            .contains(&format!("feature '{first}' appears twice")),
        "{err}"
    );
}

/// A bundle with an explanation background set, written as format v3
/// without validation.
fn load_crafted_v3(b: &Bundle) -> Result<Scorer, FormatError> {
    let body = format::v3::encode(b).unwrap();
    Scorer::from_bytes(&frame(3, format::v3::min_reader(b), &body))
}

#[test]
fn a_bad_explanation_background_is_refused_naming_it() {
    let base = golden("svm-rbf");
    let width = base.schema.width();
    let set = |rows: usize, fill: f32, weight: f32| ferrisk::explain::BackgroundSet {
        rows: vec![fill; rows * width],
        weights: vec![weight; rows],
    };
    let mut good = base.clone();
    good.background_set = Some(set(3, 0.5, 20.0));
    load_crafted_v3(&good).unwrap();
    for (bad, needle) in [
        (set(0, 0.0, 1.0), "explanation background: 0 weights"),
        (set(65, 0.0, 1.0), "explanation background: 65 weights"),
        (
            set(2, f32::NAN, 1.0),
            "explanation background[0] is not a finite number",
        ),
        (set(2, 0.0, 0.0), "positive weights"),
        (set(2, 0.0, f32::INFINITY), "positive weights"),
        (
            ferrisk::explain::BackgroundSet {
                rows: vec![0.0; 2 * width + 1],
                weights: vec![1.0; 2],
            },
            "rows of width",
        ),
    ] {
        let mut b = base.clone();
        b.background_set = Some(bad);
        match load_crafted_v3(&b) {
            Ok(_) => panic!("loaded; expected '{needle}'"),
            Err(e) => assert!(e.to_string().contains(needle), "{e}"),
        }
    }
    // Bytes that are not a background section, and a second section.
    let body = format::v3::encode(&good).unwrap();
    let (v2, ext) = body.split_at(format::v2::encode(&good).unwrap().len());
    let reframed = |ext: &format::v3::ExtV3| {
        let mut b = v2.to_vec();
        b.extend_from_slice(&postcard::to_allocvec(ext).unwrap());
        frame(3, 1, &b)
    };
    let mut broken: format::v3::ExtV3 = postcard::from_bytes(ext).unwrap();
    broken.sections[0].body = &[0xff, 0xff, 0xff];
    let err = Scorer::from_bytes(&reframed(&broken)).unwrap_err();
    assert!(
        err.to_string().contains("section 'explain/background'"),
        "{err}"
    );
    let mut twice: format::v3::ExtV3 = postcard::from_bytes(ext).unwrap();
    twice.sections.push(format::v3::SectionV3 {
        ..twice.sections[0]
    });
    let doubled = reframed(&twice);
    let err = Scorer::from_bytes(&doubled).unwrap_err();
    assert!(err.to_string().contains("more than one"), "{err}");
}

/// The golden forest file with its `model/forest` section's bytes replaced
/// (the section is the postcard bytes of one byte string).
fn forest_file_with(section: &[u8]) -> Vec<u8> {
    let good = golden("rf");
    assert_eq!(good.model.tag(), "forest");
    let body = format::v3::encode(&good).unwrap();
    let (v2, ext) = body.split_at(format::v2::encode(&good).unwrap().len());
    let mut ext: format::v3::ExtV3 = postcard::from_bytes(ext).unwrap();
    let wrapped =
        postcard::to_allocvec(&ferrisk::kinds::forest::ForestWire(section.to_vec())).unwrap();
    let slot = ext
        .sections
        .iter_mut()
        .find(|s| s.tag == "model/forest")
        .expect("a forest section");
    slot.body = &wrapped;
    let mut b = v2.to_vec();
    b.extend_from_slice(&postcard::to_allocvec(&ext).unwrap());
    frame(3, 3, &b)
}

fn leb(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A node of a hand-written forest section.
#[derive(Clone, Copy)]
enum N {
    /// cover, positives
    Leaf(u32, u32),
    /// column, default left, threshold index, right-child offset
    Split(u32, bool, u32, u32),
}

/// A forest section: base 0, averaged, the golden file's 17 design columns
/// each with thresholds 0.5 and 1.5 (column 0 with `extra` besides), then
/// `trees` (each written with `count` as its node count when given).
fn section(trees: &[(&[N], Option<u32>)], extra: &[f32]) -> Vec<u8> {
    let mut out = 0f32.to_le_bytes().to_vec();
    out.push(1);
    leb(&mut out, trees.len() as u32);
    leb(&mut out, 17);
    leb(&mut out, 2 + extra.len() as u32);
    for _ in 1..17 {
        leb(&mut out, 2);
    }
    for c in 0..17 {
        let mut t = vec![0.5f32, 1.5];
        if c == 0 {
            t.extend_from_slice(extra);
        }
        for v in t {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    for (nodes, count) in trees {
        leb(&mut out, count.unwrap_or(nodes.len() as u32));
        for n in *nodes {
            match *n {
                N::Leaf(cover, pos) => {
                    leb(&mut out, 0);
                    leb(&mut out, cover);
                    leb(&mut out, pos);
                }
                N::Split(col, left, index, offset) => {
                    leb(&mut out, 1 + 2 * col + u32::from(left));
                    leb(&mut out, index);
                    leb(&mut out, offset);
                }
            }
        }
    }
    out
}

fn forest_refused(section: &[u8], needles: &[&str]) {
    match Scorer::from_bytes(&forest_file_with(section)) {
        Ok(_) => panic!("a crafted forest loaded; expected {needles:?}"),
        Err(e) => {
            let e = e.to_string();
            for n in needles {
                assert!(e.contains(n), "{e} (expected '{n}')");
            }
        }
    }
}

const STUMP: &[N] = &[N::Split(2, true, 1, 1), N::Leaf(3, 1), N::Leaf(5, 5)];

#[test]
fn a_hand_written_forest_section_loads_and_scores() {
    let s = Scorer::from_bytes(&forest_file_with(&section(&[(STUMP, None)], &[]))).unwrap();
    let x = |v: f32| {
        let mut x = vec![0.0f32; s.width()];
        x[2] = v;
        x
    };
    // Column 2 at most 1.5 goes left: 1 of 3; else 5 of 5; missing goes left.
    let m = &s.bundle().model;
    assert_eq!(m.output(&x(1.5)), (1.0f64 / 3.0) as f32);
    assert_eq!(m.output(&x(1.500_000_1)), 1.0);
    assert_eq!(m.output(&x(f32::NAN)), (1.0f64 / 3.0) as f32);
}

#[test]
fn a_damaged_forest_section_is_refused_naming_the_section_tree_and_node() {
    let good = section(&[(STUMP, None), (STUMP, None)], &[]);
    // Every truncation is refused, none panics.
    for cut in 0..good.len() {
        forest_refused(&good[..cut], &["model section 'forest'"]);
    }
    forest_refused(
        &[good.as_slice(), &[0]].concat(),
        &["bytes after the last tree"],
    );
    let mut flag = good.clone();
    flag[4] = 2;
    forest_refused(&flag, &["averaging flag"]);
    // Counts beyond the bytes are refused before anything is allocated.
    forest_refused(
        &section(&[(STUMP, Some(1_000_000))], &[]),
        &["tree 0, node 0", "more nodes than bytes"],
    );
    let mut many = good[..5].to_vec();
    leb(&mut many, u32::MAX);
    leb(&mut many, 17);
    many.extend_from_slice(&good[7..]);
    forest_refused(&many, &["more trees or columns than bytes"]);
    // Indices out of range.
    let bad = |n: N| {
        section(
            &[(STUMP, None), (&[n, N::Leaf(3, 1), N::Leaf(5, 5)], None)],
            &[],
        )
    };
    forest_refused(
        &bad(N::Split(2, true, 2, 1)),
        &["tree 1, node 0", "threshold index"],
    );
    forest_refused(
        &bad(N::Split(17, true, 0, 1)),
        &["tree 1, node 0", "column out of range"],
    );
    forest_refused(
        &bad(N::Split(2, true, 0, 2)),
        &["tree 1, node 0", "right child"],
    );
    forest_refused(
        &bad(N::Split(2, true, 0, 0)),
        &["tree 1, node 0", "right child"],
    );
    // Leaf counts: no cover, more positives than draws.
    let leaf = |cover, pos| {
        section(
            &[(
                &[N::Split(2, true, 0, 1), N::Leaf(cover, pos), N::Leaf(5, 5)],
                None,
            )],
            &[],
        )
    };
    forest_refused(&leaf(0, 0), &["tree 0, node 1", "leaf counts"]);
    forest_refused(&leaf(3, 4), &["tree 0, node 1", "leaf counts"]);
    forest_refused(&leaf(1 << 25, 1), &["tree 0, node 1", "leaf counts"]);
}

#[test]
fn a_forest_section_that_is_not_a_tree_is_refused() {
    // Right offsets that land inside the left subtree: node 3 is both node
    // 1's right child and node 0's, node 4 is nobody's.
    let shared: &[N] = &[
        N::Split(0, true, 0, 2),
        N::Split(1, true, 0, 1),
        N::Leaf(1, 0),
        N::Leaf(1, 1),
        N::Leaf(1, 1),
    ];
    forest_refused(
        &section(&[(shared, None)], &[]),
        &["tree 0", "more than one parent"],
    );
    // A chain deeper than the limit (every split's left child a split).
    let mut chain = Vec::new();
    for i in 0..70u32 {
        chain.push(N::Split(0, true, 0, (70 - i) + 69 - i));
    }
    let mut deep = chain.clone();
    deep.extend(std::iter::repeat_n(N::Leaf(1, 0), 71));
    forest_refused(&section(&[(&deep, None)], &[]), &["deeper than the limit"]);
    // A NaN threshold in the table.
    forest_refused(
        &section(
            &[(
                &[N::Split(0, true, 2, 1), N::Leaf(1, 0), N::Leaf(1, 1)],
                None,
            )],
            &[f32::NAN],
        ),
        &["threshold is NaN"],
    );
}
