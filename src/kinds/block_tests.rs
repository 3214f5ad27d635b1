//! [`Model::outputs`] (block scoring: the wasm `predictBatch` path and the
//! native batch benchmark) gives, for every row, exactly the `f32` that
//! [`Model::output`] gives: each row's arithmetic is the same operations in
//! the same order; only the order across rows changes, for speed.

use super::{KernelSvm, Linear, Model, Node, Tree, TreeEnsemble, LEAF};

/// A deterministic pseudo-random sequence in [-2, 2) (no rand in the runtime).
fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 * 4.0 - 2.0
        })
        .collect()
}

fn per_row(m: &Model, xs: &[f32], width: usize) -> Vec<u32> {
    xs.chunks_exact(width)
        .map(|x| m.output(x).to_bits())
        .collect()
}

fn blocked(m: &Model, xs: &[f32], width: usize) -> Vec<u32> {
    let mut out = vec![f32::NAN; xs.len() / width];
    m.outputs(xs, width, &mut out);
    out.into_iter().map(f32::to_bits).collect()
}

#[test]
fn svm_block_equals_row_by_row_bit_for_bit() {
    let width = 7;
    let m = Model::from(KernelSvm {
        gamma: 0.37,
        support: values(13 * width, 1),
        coef: values(13, 2),
        bias: 0.125,
    });
    // 11 rows: two quads and a remainder of three.
    let xs = values(11 * width, 3);
    assert_eq!(blocked(&m, &xs, width), per_row(&m, &xs, width));
}

#[test]
fn forest_block_equals_row_by_row_bit_for_bit() {
    let width = 3;
    let split = |feature: u32, threshold, left, default_left| Node {
        feature,
        threshold,
        left,
        right: left + 1,
        value: 0.0,
        cover: 1.0,
        default_left,
    };
    let leaf = |value| Node {
        feature: 0,
        threshold: 0.0,
        left: LEAF,
        right: LEAF,
        value,
        cover: 1.0,
        default_left: false,
    };
    // Seven depth-2 trees with pseudo-random thresholds and leaf values.
    let trees: Vec<Tree> = (0..7u32)
        .map(|i| {
            let t = values(3, 10 + i);
            let v = values(4, 20 + i);
            Tree {
                nodes: vec![
                    split(i % 3, t[0], 1, i % 2 == 0),
                    split((i + 1) % 3, t[1], 3, true),
                    split((i + 2) % 3, t[2], 5, false),
                    leaf(v[0]),
                    leaf(v[1]),
                    leaf(v[2]),
                    leaf(v[3]),
                ],
            }
        })
        .collect();
    for average in [true, false] {
        let m = Model::from(TreeEnsemble {
            trees: trees.clone(),
            base: if average { 0.0 } else { -0.3 },
            average,
        });
        let mut xs = values(200 * width, 4);
        for i in (0..xs.len()).step_by(7) {
            xs[i] = f32::NAN; // missing values take the default branch
        }
        assert_eq!(blocked(&m, &xs, width), per_row(&m, &xs, width));
    }
}

#[test]
fn other_models_and_short_outputs() {
    let m = Model::from(Linear {
        weights: vec![0.5, -1.5],
        bias: 0.25,
    });
    let xs = values(10, 5);
    assert_eq!(blocked(&m, &xs, 2), per_row(&m, &xs, 2));
    // Only as many rows as `out` holds are scored; the rest is untouched.
    let mut out = [7.0f32; 2];
    m.outputs(&xs[..2], 2, &mut out);
    assert_eq!(out[0].to_bits(), m.output(&xs[..2]).to_bits());
    assert_eq!(out[1], 7.0);
}
