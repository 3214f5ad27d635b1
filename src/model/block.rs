//! Scoring a block of design rows at once (the wasm `predictBatch` path and
//! the native batch benchmark).
//!
//! [`Model::margins`] gives, for every row, exactly the `f32` that
//! [`Model::margin`] gives: each row's arithmetic is the same operations in
//! the same order. Only the order *across* rows changes, for speed:
//!
//! - tree ensembles walk one tree over the whole block before the next, so a
//!   tree stays in cache (a 100-tree forest is ~0.5 MB of nodes); each row
//!   still adds the trees' outputs in tree order;
//! - RBF SVMs compute the distances of four rows to a support vector
//!   together: four independent dependency chains instead of one, so the
//!   CPU overlaps them; each row still sums its squared differences in
//!   column order and its kernel terms in support-vector order.

use super::{KernelSvm, Model, TreeEnsemble};

impl Model {
    /// Margins of the rows of `xs` (row-major, `width` values each) into
    /// `out`, one per row; `min(out.len(), xs.len() / width)` rows are
    /// scored. Bit-identical to [`Model::margin`] on each row.
    pub fn margins(&self, xs: &[f32], width: usize, out: &mut [f32]) {
        if width == 0 {
            out.fill(self.margin(&[]));
            return;
        }
        let rows = out.len().min(xs.len() / width);
        let (xs, out) = (&xs[..rows * width], &mut out[..rows]);
        match self {
            Model::KernelSvm(m) => m.margins(xs, width, out),
            Model::Trees(e) => e.margins(xs, width, out),
            _ => {
                for (x, o) in xs.chunks_exact(width).zip(out) {
                    *o = self.margin(x);
                }
            }
        }
    }
}

impl TreeEnsemble {
    /// See [`Model::margins`]; `xs` holds exactly `out.len()` rows.
    fn margins(&self, xs: &[f32], width: usize, out: &mut [f32]) {
        out.fill(0.0);
        for t in &self.trees {
            for (x, o) in xs.chunks_exact(width).zip(out.iter_mut()) {
                *o += t.predict(x);
            }
        }
        for o in out {
            let mut acc = *o;
            if self.average && !self.trees.is_empty() {
                acc /= self.trees.len() as f32;
            }
            *o = self.base + acc;
        }
    }
}

impl KernelSvm {
    /// See [`Model::margins`]; `xs` holds exactly `out.len()` rows.
    fn margins(&self, xs: &[f32], width: usize, out: &mut [f32]) {
        let mut quads = xs.chunks_exact(4 * width);
        let mut outs = out.chunks_exact_mut(4);
        for (x4, o4) in (&mut quads).zip(&mut outs) {
            let (x0, rest) = x4.split_at(width);
            let (x1, rest) = rest.split_at(width);
            let (x2, x3) = rest.split_at(width);
            let mut acc = [self.bias; 4];
            for (sv, c) in self.support.chunks_exact(width).zip(&self.coef) {
                let mut d = [0.0f32; 4];
                for ((((a, b0), b1), b2), b3) in sv.iter().zip(x0).zip(x1).zip(x2).zip(x3) {
                    let t0 = a - b0;
                    let t1 = a - b1;
                    let t2 = a - b2;
                    let t3 = a - b3;
                    d[0] += t0 * t0;
                    d[1] += t1 * t1;
                    d[2] += t2 * t2;
                    d[3] += t3 * t3;
                }
                for (a, dist) in acc.iter_mut().zip(d) {
                    *a += c * libm::expf(-self.gamma * dist);
                }
            }
            o4.copy_from_slice(&acc);
        }
        for (x, o) in quads
            .remainder()
            .chunks_exact(width)
            .zip(outs.into_remainder())
        {
            *o = self.margin(x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Linear, Node, Tree, LEAF};

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
            .map(|x| m.margin(x).to_bits())
            .collect()
    }

    fn blocked(m: &Model, xs: &[f32], width: usize) -> Vec<u32> {
        let mut out = vec![f32::NAN; xs.len() / width];
        m.margins(xs, width, &mut out);
        out.into_iter().map(f32::to_bits).collect()
    }

    #[test]
    fn svm_block_equals_row_by_row_bit_for_bit() {
        let width = 7;
        let m = Model::KernelSvm(KernelSvm {
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
            let m = Model::Trees(TreeEnsemble {
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
        let m = Model::Linear(Linear {
            weights: vec![0.5, -1.5],
            bias: 0.25,
        });
        let xs = values(10, 5);
        assert_eq!(blocked(&m, &xs, 2), per_row(&m, &xs, 2));
        // Only as many rows as `out` holds are scored; the rest is untouched.
        let mut out = [7.0f32; 2];
        m.margins(&xs[..2], 2, &mut out);
        assert_eq!(out[0].to_bits(), m.margin(&xs[..2]).to_bits());
        assert_eq!(out[1], 7.0);
    }
}
