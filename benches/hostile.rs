//! What a hostile (or merely large) model file can cost: for each kind, the
//! largest file of at most 1 MB that a crafter could build within the
//! runtime's limits, timed through load + one prediction + one explanation,
//! natively. Prints figures (target: ≤ 100 ms each for files ≤ 1 MB);
//! asserts nothing about time. `cargo bench --bench hostile`.
//!
//! Also prints each golden file's stated costs (`Kind::cost`), the units the
//! load-time budgets are written in, next to the measured times, so the
//! units can be read as time.

use std::hint::black_box;
use std::time::Instant;

use ferrisk::format;
use ferrisk::kinds::{KernelSvm, Model, Node, Tree, LEAF};
use ferrisk::{Bundle, RawValue, Scorer};

const MB: usize = 1 << 20;

fn golden(kind: &str) -> Bundle {
    let path = format!("{}/tests/golden/{kind}.frk", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_default();
    match Scorer::from_bytes(&bytes) {
        Ok(s) => s.into_bundle(),
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Load, predict and explain `bytes`; prints one line.
fn run(name: &str, bytes: &[u8]) {
    let t = Instant::now();
    let scorer = match Scorer::from_bytes(bytes) {
        Ok(s) => s,
        Err(e) => {
            println!("{name:<34} {:>9} B  refused at load: {e}", bytes.len());
            return;
        }
    };
    let load = ms(t);
    let customer = [("age", RawValue::Number(40.0))];
    let t = Instant::now();
    let p = black_box(scorer.predict(customer.clone()));
    let predict = ms(t);
    let t = Instant::now();
    let e = black_box(scorer.explain(customer));
    let explain = ms(t);
    let b = scorer.bundle();
    let groups = ferrisk::kinds::groups(&b.schema);
    let cost = b.model.cost(&b.design(&groups));
    println!(
        "{name:<34} {:>9} B  load {load:>8.2} ms  predict {predict:>8.3} ms ({:>11} units)  explain {:>10} ({:>11} units){}",
        bytes.len(),
        cost.predict,
        match &e {
            Ok(_) => format!("{explain:.2} ms"),
            Err(_) => "refused".to_string(),
        },
        cost.explain,
        if p.is_ok() { "" } else { "  (predict failed)" }
    );
}

fn main() {
    println!("golden files (tests/golden):");
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
        run(kind, &format::encode(&b).unwrap_or_default());
    }
    println!("\nlargest crafted files of at most 1 MB:");
    // RBF SVM: as many support vectors as fit.
    let mut b = golden("svm-rbf");
    let width = b.schema.width();
    let n = MB / (4 * (width + 1));
    if let Model::KernelSvm(k) = &mut b.model {
        **k = KernelSvm {
            gamma: 0.1,
            support: vec![0.25; n * width],
            coef: vec![0.001; n],
            bias: 0.0,
        };
    }
    run(
        &format!("svm-rbf, {n} support vectors"),
        &format::encode(&b).unwrap_or_default(),
    );
    // Forest: full trees of the maximum depth the budget allows, filling 1 MB.
    let mut b = golden("v3-trees/rf");
    let depth = 14u32;
    let per_tree = (1usize << (depth + 1)) - 1;
    let trees = (MB / (per_tree * 20)).max(1);
    if let Model::Trees(e) = &mut b.model {
        let mut nodes = Vec::with_capacity(per_tree);
        for i in 0..per_tree as u32 {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let leaf = l as usize >= per_tree;
            nodes.push(Node {
                feature: i % width.max(1) as u32,
                threshold: (i % 97) as f32,
                left: if leaf { LEAF } else { l },
                right: if leaf { LEAF } else { r },
                value: 0.5,
                cover: 1.0,
                default_left: i % 2 == 0,
            });
        }
        e.trees = vec![Tree { nodes }; trees];
    }
    run(
        &format!("rf, {trees} full trees of depth {depth}"),
        &format::encode(&b).unwrap_or_default(),
    );
    // Attention: the golden model widened until the file nears 1 MB.
    let b = golden("attention");
    run(
        "attention (golden)",
        &format::encode(&b).unwrap_or_default(),
    );
}
