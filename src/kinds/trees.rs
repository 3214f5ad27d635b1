//! Decision-tree ensembles (random forest, gradient boosting, imported
//! boosters) in flat form.
//!
//! Each tree is one `Vec<Node>`; node 0 is the root, a node is a leaf when
//! `left == LEAF`. Splits compare the raw `f32` feature value with an `f32`
//! threshold, `x <= threshold` going left, in the same code for training-time
//! metrics and for scoring, so a value on a split point goes the same way
//! everywhere. A missing value (NaN) follows `default_left`.

use serde::{Deserialize, Serialize};

use super::{Attribution, Design, Kind, Output, PerPlayer};
use crate::explain::treeshap;

/// Marker in `Node::left` / `Node::right` for a leaf.
pub const LEAF: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    pub feature: u32,
    pub threshold: f32,
    pub left: u32,
    pub right: u32,
    /// Leaf output (probability for forests, log-odds increment for boosting);
    /// for inner nodes the cover-weighted mean of the leaves below (used by
    /// explanations).
    pub value: f32,
    /// Training samples (forest) or hessian sum (boosting) reaching the node.
    pub cover: f32,
    pub default_left: bool,
}

impl Node {
    pub fn is_leaf(&self) -> bool {
        self.left == LEAF
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    /// Index of the leaf that `x` reaches. The structure was validated at
    /// load (children in range and after their parent), so this terminates.
    pub fn leaf_index(&self, x: &[f32]) -> usize {
        let mut i = 0usize;
        while let Some(n) = self.nodes.get(i) {
            if n.is_leaf() {
                return i;
            }
            let v = x.get(n.feature as usize).copied().unwrap_or(f32::NAN);
            let go_left = if v.is_nan() {
                n.default_left
            } else {
                v <= n.threshold
            };
            i = if go_left { n.left } else { n.right } as usize;
        }
        0
    }

    pub fn predict(&self, x: &[f32]) -> f32 {
        self.nodes.get(self.leaf_index(x)).map_or(0.0, |n| n.value)
    }

    /// Checks the structure: children exist and come after their parent
    /// (so traversal cannot loop), features within `width`, thresholds not NaN.
    pub fn validate(&self, width: usize) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("a tree has no nodes".into());
        }
        let n = self.nodes.len();
        for (i, node) in self.nodes.iter().enumerate() {
            if node.is_leaf() {
                if node.right != LEAF {
                    return Err(format!("node {i}: leaf with a right child"));
                }
                if !node.value.is_finite() {
                    return Err(format!("node {i}: leaf value is not finite"));
                }
                continue;
            }
            let (l, r) = (node.left as usize, node.right as usize);
            if l <= i || r <= i || l >= n || r >= n {
                return Err(format!(
                    "node {i}: child index out of range ({l}, {r}) in a tree of {n} nodes"
                ));
            }
            if node.feature as usize >= width {
                return Err(format!(
                    "node {i}: feature {} outside the design width {width}",
                    node.feature
                ));
            }
            if node.threshold.is_nan() {
                return Err(format!("node {i}: threshold is NaN"));
            }
        }
        Ok(())
    }
}

/// A sum or an average of trees plus a base value.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeEnsemble {
    pub trees: Vec<Tree>,
    pub base: f32,
    /// Average the tree outputs (forest) instead of summing them (boosting).
    pub average: bool,
}

/// Section `trees` (format v3): the ensemble, each tree its flat nodes.
#[derive(Debug, Serialize, Deserialize)]
pub struct TreesWire {
    pub base: f32,
    pub average: bool,
    pub trees: Vec<Vec<NodeWire>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct NodeWire {
    pub feature: u32,
    pub threshold: f32,
    pub left: u32,
    pub right: u32,
    pub value: f32,
    pub cover: f32,
    pub default_left: bool,
}

impl Kind for TreeEnsemble {
    const TAG: &'static str = "trees";
    type Wire = TreesWire;

    fn to_wire(&self) -> TreesWire {
        TreesWire {
            base: self.base,
            average: self.average,
            trees: self
                .trees
                .iter()
                .map(|t| {
                    t.nodes
                        .iter()
                        .map(|n| NodeWire {
                            feature: n.feature,
                            threshold: n.threshold,
                            left: n.left,
                            right: n.right,
                            value: n.value,
                            cover: n.cover,
                            default_left: n.default_left,
                        })
                        .collect()
                })
                .collect(),
        }
    }

    fn from_wire(w: TreesWire) -> Result<Self, String> {
        Ok(TreeEnsemble {
            base: w.base,
            average: w.average,
            trees: w
                .trees
                .into_iter()
                .map(|nodes| Tree {
                    nodes: nodes
                        .into_iter()
                        .map(|n| Node {
                            feature: n.feature,
                            threshold: n.threshold,
                            left: n.left,
                            right: n.right,
                            value: n.value,
                            cover: n.cover,
                            default_left: n.default_left,
                        })
                        .collect(),
                })
                .collect(),
        })
    }

    fn validate(&self, d: &Design<'_>) -> Result<(), String> {
        if self.trees.is_empty() {
            return Err("tree ensemble has no trees".into());
        }
        if !self.base.is_finite() {
            return Err("tree ensemble base value is not a finite number".into());
        }
        for (i, t) in self.trees.iter().enumerate() {
            t.validate(d.width).map_err(|m| format!("tree {i}: {m}"))?;
        }
        Ok(())
    }

    fn output_kind(&self) -> Output {
        if self.average {
            Output::Probability
        } else {
            Output::Score
        }
    }

    fn output(&self, x: &[f32]) -> f32 {
        let mut acc = 0.0f32;
        for t in &self.trees {
            acc += t.predict(x);
        }
        if self.average && !self.trees.is_empty() {
            acc /= self.trees.len() as f32;
        }
        self.base + acc
    }

    /// Walks one tree over the whole block before the next, so a tree stays
    /// in cache (a 100-tree forest is ~0.5 MB of nodes); each row still adds
    /// the trees' outputs in tree order.
    fn outputs(&self, xs: &[f32], width: usize, out: &mut [f32]) {
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

    fn explain(&self, _: &Design<'_>, x: &[f32], scale: f64, offset: f64) -> Attribution {
        let per_tree = if self.average && !self.trees.is_empty() {
            1.0 / self.trees.len() as f64
        } else {
            1.0
        };
        let mut cols = vec![0.0f64; x.len()];
        let mut expected = 0.0f64;
        for t in &self.trees {
            expected += treeshap::expected_value(t);
            treeshap::tree_shap(t, x, &mut cols, per_tree * scale);
        }
        let base_output = self.base as f64 + expected * per_tree;
        Attribution {
            base: scale * base_output + offset,
            per: PerPlayer::Columns(cols),
        }
    }

    fn takes_missing(&self) -> bool {
        true
    }

    fn method(&self) -> &'static str {
        "TreeSHAP (exact, path-dependent, over training covers)"
    }

    fn summary(&self) -> String {
        format!(
            "{} trees, {} nodes{}",
            self.trees.len(),
            self.trees.iter().map(|t| t.nodes.len()).sum::<usize>(),
            if self.average {
                " (averaged)"
            } else {
                " (summed, log-odds)"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stump(threshold: f32, default_left: bool) -> Tree {
        Tree {
            nodes: vec![
                Node {
                    feature: 0,
                    threshold,
                    left: 1,
                    right: 2,
                    value: 0.5,
                    cover: 10.0,
                    default_left,
                },
                Node {
                    feature: 0,
                    threshold: 0.0,
                    left: LEAF,
                    right: LEAF,
                    value: 0.2,
                    cover: 6.0,
                    default_left: false,
                },
                Node {
                    feature: 0,
                    threshold: 0.0,
                    left: LEAF,
                    right: LEAF,
                    value: 0.9,
                    cover: 4.0,
                    default_left: false,
                },
            ],
        }
    }

    #[test]
    fn split_point_goes_left_and_nan_follows_default() {
        let t = stump(1.5, false);
        assert_eq!(t.predict(&[1.5]), 0.2);
        assert_eq!(t.predict(&[1.500_000_1]), 0.9);
        assert_eq!(t.predict(&[f32::NAN]), 0.9);
        assert_eq!(stump(1.5, true).predict(&[f32::NAN]), 0.2);
    }

    #[test]
    fn ensemble_average_and_sum() {
        let e = TreeEnsemble {
            trees: vec![stump(1.0, true), stump(3.0, true)],
            base: 0.0,
            average: true,
        };
        assert!((e.output(&[2.0]) - 0.55).abs() < 1e-7);
        let g = TreeEnsemble {
            average: false,
            base: 1.0,
            ..e
        };
        assert!((g.output(&[2.0]) - 2.1).abs() < 1e-6);
    }

    #[test]
    fn validate_rejects_loops_and_bad_features() {
        let mut t = stump(1.0, true);
        assert!(t.validate(1).is_ok());
        assert!(t.validate(0).is_err());
        t.nodes[0].left = 0;
        assert!(t.validate(1).unwrap_err().contains("child index"));
        assert!(Tree { nodes: vec![] }.validate(1).is_err());
    }
}
