//! Decision-tree ensembles (random forest, gradient boosting, imported
//! boosters) in flat form.
//!
//! Each tree is one `Vec<Node>`; node 0 is the root, a node is a leaf when
//! `left == LEAF`. Splits compare the raw `f32` feature value with an `f32`
//! threshold, `x <= threshold` going left, in the same code for training-time
//! metrics and for scoring, so a value on a split point goes the same way
//! everywhere. A missing value (NaN) follows `default_left`.

use serde::{Deserialize, Serialize};

use super::{Attribution, Cost, Design, Kind, Output, PerPlayer};
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
        self.leaf_in(x, &[])
    }

    /// [`Tree::leaf_index`] with the tree's categorical splits.
    pub fn leaf_in(&self, x: &[f32], cats: &[CatSplit]) -> usize {
        let mut i = 0usize;
        while let Some(n) = self.nodes.get(i) {
            if n.is_leaf() {
                return i;
            }
            i = if goes_left(n, i, x, cats) {
                n.left
            } else {
                n.right
            } as usize;
        }
        0
    }

    pub fn predict(&self, x: &[f32]) -> f32 {
        self.predict_in(x, &[])
    }

    pub fn predict_in(&self, x: &[f32], cats: &[CatSplit]) -> f32 {
        self.nodes
            .get(self.leaf_in(x, cats))
            .map_or(0.0, |n| n.value)
    }

    /// Checks that the nodes form one tree: every node is reached exactly
    /// once from the root (children come after their parent, so traversal
    /// cannot loop, and no node is shared, so explanation cannot blow up on a
    /// DAG), the depth is at most [`MAX_DEPTH`], features are within `width`,
    /// thresholds are not NaN, and values and covers are finite (covers not
    /// negative). Iterative: no recursion whose depth a file controls.
    pub fn validate(&self, width: usize) -> Result<(), String> {
        self.validate_in(width, &[])
    }

    /// [`Tree::validate`] for a tree with categorical splits: `cats` lists
    /// them in increasing node order; each is an inner node with the
    /// threshold −∞ (which no number is at most, so without its split the
    /// node would send every number right) and one-hot columns within the
    /// design width.
    pub fn validate_in(&self, width: usize, cats: &[CatSplit]) -> Result<(), String> {
        let n = self.nodes.len();
        let mut prev: Option<u32> = None;
        for c in cats {
            // In node order; an inner node marked -inf; columns in the design.
            let fits = self.nodes.get(c.node as usize).is_some_and(|node| {
                !node.is_leaf()
                    && node.threshold == f32::NEG_INFINITY
                    && c.width > 0
                    && node.feature as u64 + c.width as u64 <= width as u64
                    && c.left.len() as u64 == (c.width as u64).div_ceil(32)
            });
            if !fits || prev.is_some_and(|p| p >= c.node) {
                return Err(format!(
                    "categorical split of node {}: not an inner node marked -inf in order, or its {} categories do not fit",
                    c.node, c.width
                ));
            }
            prev = Some(c.node);
        }
        if n == 0 {
            return Err("a tree has no nodes".into());
        }
        if n > MAX_NODES {
            return Err(format!("{n} nodes, more than the limit of {MAX_NODES}"));
        }
        let mut depth = vec![u32::MAX; n];
        if let Some(d) = depth.first_mut() {
            *d = 0;
        }
        for (i, node) in self.nodes.iter().enumerate() {
            let d = depth.get(i).copied().unwrap_or(u32::MAX);
            if d == u32::MAX {
                return Err(format!("node {i} is not reached from the root"));
            }
            if !node.value.is_finite() {
                return Err(format!("node {i}: value is not finite"));
            }
            if !(node.cover.is_finite() && node.cover > 0.0) {
                return Err(format!(
                    "node {i}: cover {} is not a positive finite count",
                    crate::num::F32(node.cover)
                ));
            }
            if node.is_leaf() {
                if node.right != LEAF {
                    return Err(format!("node {i}: leaf with a right child"));
                }
                continue;
            }
            let (l, r) = (node.left as usize, node.right as usize);
            if l <= i || r <= i || l >= n || r >= n || l == r {
                return Err(format!(
                    "node {i}: child index out of range ({l}, {r}) in a tree of {n} nodes"
                ));
            }
            if d as usize >= MAX_DEPTH {
                return Err(format!(
                    "node {i}: deeper than the limit of {MAX_DEPTH} levels"
                ));
            }
            for c in [l, r] {
                match depth.get_mut(c) {
                    Some(slot) if *slot == u32::MAX => *slot = d + 1,
                    _ => return Err(format!("node {c} has more than one parent")),
                }
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

    /// Depth (a single leaf has depth 0) and number of leaves. Iterative;
    /// meaningful for a tree that passed [`Tree::validate`].
    pub fn shape(&self) -> (usize, usize) {
        let mut depth = vec![0usize; self.nodes.len()];
        let (mut max, mut leaves) = (0, 0);
        for (i, node) in self.nodes.iter().enumerate() {
            let d = depth.get(i).copied().unwrap_or(0);
            max = max.max(d);
            if node.is_leaf() {
                leaves += 1;
                continue;
            }
            for c in [node.left, node.right] {
                if let Some(slot) = depth.get_mut(c as usize) {
                    *slot = d + 1;
                }
            }
        }
        (max, leaves)
    }
}

/// Deepest tree level a file may hold. Every tree the trainer writes with
/// its documented flags stays below (`--rf-max-depth` and `--gbm-max-depth`
/// are refused beyond it), and so do boosters of other libraries (XGBoost
/// grows depth-wise to `max_depth`, typically ≤ 20; LightGBM's leaf-wise
/// trees of 31–255 leaves stay far below 64). TreeSHAP's memory and time per
/// tree grow with depth².
pub const MAX_DEPTH: usize = 64;
/// Nodes per tree.
pub const MAX_NODES: usize = 1 << 20;
/// Largest leaf value (log-odds increment) of a summed ensemble.
pub const MAX_LEAF: f32 = 1.0e4;

/// Where an inner node sends `x`: a missing value (NaN) by `default_left`,
/// a number left when `x <= threshold`; a categorical node (threshold −∞,
/// listed in `cats`) by its category set. A −∞ threshold without a split
/// sends every number right, as `x <= −∞` does.
#[inline]
pub fn goes_left(n: &Node, i: usize, x: &[f32], cats: &[CatSplit]) -> bool {
    let v = x.get(n.feature as usize).copied().unwrap_or(f32::NAN);
    if v.is_nan() {
        n.default_left
    } else if v <= n.threshold {
        true
    } else if n.threshold == f32::NEG_INFINITY {
        category_left(cats, i, x, n.feature as usize)
    } else {
        false
    }
}

#[inline(never)]
fn category_left(cats: &[CatSplit], i: usize, x: &[f32], start: usize) -> bool {
    cats.iter()
        .find(|c| c.node as usize == i)
        .is_some_and(|c| c.goes_left(x, start))
}

/// A native categorical split (imported XGBoost / LightGBM boosters): the
/// node's `feature` is the first one-hot design column of a categorical
/// feature and its threshold is −∞; the row goes left when the category
/// whose column is hot is in `left` (bit `k % 32` of word `k / 32`), and by
/// `none_left` when no column is hot (a category the file does not know).
#[derive(Debug, Clone, PartialEq)]
pub struct CatSplit {
    pub node: u32,
    /// Number of categories (one-hot columns) of the feature.
    pub width: u32,
    pub left: Vec<u32>,
    pub none_left: bool,
}

impl CatSplit {
    fn goes_left(&self, x: &[f32], start: usize) -> bool {
        for k in 0..self.width as usize {
            if x.get(start + k).is_some_and(|&v| v > 0.5) {
                return self
                    .left
                    .get(k / 32)
                    .is_some_and(|w| (w >> (k % 32)) & 1 == 1);
            }
        }
        self.none_left
    }
}

/// The categorical splits of tree `i` (none for plain ensembles).
fn cats_of(cats: &[Vec<CatSplit>], i: usize) -> &[CatSplit] {
    cats.get(i).map_or(&[], Vec::as_slice)
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
    #[serde(deserialize_with = "crate::format::bounded::nested")]
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

impl TreeEnsemble {
    pub(crate) fn validate_in(&self, d: &Design<'_>, cats: &[Vec<CatSplit>]) -> Result<(), String> {
        if self.trees.is_empty() {
            return Err("tree ensemble has no trees".into());
        }
        if !self.base.is_finite() {
            return Err("tree ensemble base value is not a finite number".into());
        }
        // Leaf values a trainer can produce: probabilities for an averaged
        // forest, bounded log-odds increments for boosting. Values far
        // outside (a leaf of -3e23 no customer reaches) make explanations
        // cancel catastrophically.
        let (lo, hi) = if self.average {
            (0.0, 1.0)
        } else {
            (-MAX_LEAF, MAX_LEAF)
        };
        for (i, t) in self.trees.iter().enumerate() {
            t.validate_in(d.width, cats_of(cats, i))
                .map_err(|m| format!("tree {i}: {m}"))?;
            if let Some((k, n)) = t
                .nodes
                .iter()
                .enumerate()
                .find(|(_, n)| n.is_leaf() && !(lo..=hi).contains(&n.value))
            {
                return Err(format!(
                    "tree {i}: node {k}: leaf value {} is outside [{}, {}]",
                    crate::num::F32(n.value),
                    crate::num::F32(lo),
                    crate::num::F32(hi)
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn output_in(&self, x: &[f32], cats: &[Vec<CatSplit>]) -> f32 {
        let mut acc = 0.0f32;
        for (i, t) in self.trees.iter().enumerate() {
            acc += t.predict_in(x, cats_of(cats, i));
        }
        if self.average && !self.trees.is_empty() {
            acc /= self.trees.len() as f32;
        }
        self.base + acc
    }

    pub(crate) fn outputs_in(
        &self,
        xs: &[f32],
        width: usize,
        out: &mut [f32],
        cats: &[Vec<CatSplit>],
    ) {
        out.fill(0.0);
        for (i, t) in self.trees.iter().enumerate() {
            let c = cats_of(cats, i);
            for (x, o) in xs.chunks_exact(width).zip(out.iter_mut()) {
                *o += t.predict_in(x, c);
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

    pub(crate) fn explain_in(
        &self,
        x: &[f32],
        scale: f64,
        offset: f64,
        cats: &[Vec<CatSplit>],
    ) -> Attribution {
        let depth = self.trees.iter().map(|t| t.shape().0).max().unwrap_or(0);
        let shape = (self.trees.len(), depth, self.base, self.average);
        explain_trees(shape, x, (scale, offset), &mut |each| {
            for (i, t) in self.trees.iter().enumerate() {
                each(t, cats_of(cats, i));
            }
        })
    }
}

/// A visitor of an ensemble's trees (with their categorical splits).
pub(crate) type Visit<'a> = dyn FnMut(&mut dyn FnMut(&Tree, &[CatSplit])) + 'a;

/// TreeSHAP of an ensemble of `count` trees at most `depth` deep with a
/// `base` value, averaged or summed, whose trees `visit` hands over in
/// order (shared by the `trees`, `trees-cat` and `forest` kinds).
pub(crate) fn explain_trees(
    (count, depth, base, average): (usize, usize, f32, bool),
    x: &[f32],
    (scale, offset): (f64, f64),
    visit: &mut Visit<'_>,
) -> Attribution {
    let per_tree = if average && count > 0 {
        1.0 / count as f64
    } else {
        1.0
    };
    let mut cols = vec![0.0f64; x.len()];
    let mut expected = 0.0f64;
    let mut scratch = treeshap::Scratch::new(depth);
    visit(&mut |t, cats| {
        expected += treeshap::expected_value(t);
        treeshap::tree_shap_in(t, cats, x, &mut cols, per_tree * scale, &mut scratch);
    });
    let base_output = base as f64 + expected * per_tree;
    Attribution {
        base: scale * base_output + offset,
        per: PerPlayer::Columns(cols),
        convergence: None,
    }
}

impl Kind for TreeEnsemble {
    const TAG: &'static str = "trees";
    type Wire = TreesWire;
    const IN_LEGACY_SLOT: bool = true;

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
        self.validate_in(d, &[])
    }

    fn output_kind(&self) -> Output {
        if self.average {
            Output::Probability
        } else {
            Output::Score
        }
    }

    fn output(&self, x: &[f32]) -> f32 {
        self.output_in(x, &[])
    }

    /// Walks one tree over the whole block before the next, so a tree stays
    /// in cache (a 100-tree forest is ~0.5 MB of nodes); each row still adds
    /// the trees' outputs in tree order.
    fn outputs(&self, xs: &[f32], width: usize, out: &mut [f32]) {
        self.outputs_in(xs, width, out, &[])
    }

    fn explain(&self, _: &Design<'_>, x: &[f32], scale: f64, offset: f64) -> Attribution {
        self.explain_in(x, scale, offset, &[])
    }

    fn takes_missing(&self) -> bool {
        true
    }

    fn method(&self) -> &'static str {
        "TreeSHAP (exact, path-dependent, over training covers)"
    }

    fn cost(&self, _: &Design<'_>) -> Cost {
        let (mut predict, mut explain) = (0u64, 0u64);
        for t in &self.trees {
            let (depth, leaves) = t.shape();
            let d = depth as u64 + 1;
            predict = predict.saturating_add(d);
            explain = explain.saturating_add((leaves as u64).saturating_mul(d * d));
        }
        Cost { predict, explain }
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

    fn split_node(left: u32, right: u32) -> Node {
        Node {
            feature: 0,
            threshold: 0.5,
            left,
            right,
            value: 0.0,
            cover: 1.0,
            default_left: true,
        }
    }

    fn leaf_node() -> Node {
        Node {
            left: LEAF,
            right: LEAF,
            ..split_node(0, 0)
        }
    }

    #[test]
    fn a_ladder_dag_is_refused() {
        // Node i -> (i + 1, i + 1) passed "children after the parent" and made
        // explanation exponential; both children must be distinct nodes with
        // one parent each.
        let mut nodes: Vec<Node> = (0..40).map(|i| split_node(i + 1, i + 1)).collect();
        nodes.push(leaf_node());
        let err = Tree { nodes }.validate(1).unwrap_err();
        assert!(err.contains("child index"), "{err}");
        // A diamond (two parents for one node) is refused too.
        let nodes = vec![
            split_node(1, 2),
            split_node(3, 4),
            split_node(3, 5),
            leaf_node(),
            leaf_node(),
            leaf_node(),
        ];
        let err = Tree { nodes }.validate(1).unwrap_err();
        assert!(err.contains("more than one parent"), "{err}");
    }

    #[test]
    fn a_deep_chain_is_refused_and_unreached_nodes_are_named() {
        // A chain 20,000 deep made TreeSHAP allocate gigabytes. Split 2i
        // has a leaf at 2i + 1 and the next split at 2i + 2.
        let mut t = Tree { nodes: Vec::new() };
        let depth = 20_000u32;
        for i in 0..depth {
            t.nodes.push(split_node(2 * i + 1, 2 * i + 2));
            t.nodes.push(leaf_node());
        }
        t.nodes.push(leaf_node());
        let err = t.validate(1).unwrap_err();
        assert!(err.contains(&format!("limit of {MAX_DEPTH}")), "{err}");
        let ok_depth = MAX_DEPTH as u32;
        let mut t = Tree { nodes: Vec::new() };
        for i in 0..ok_depth {
            t.nodes.push(split_node(2 * i + 1, 2 * i + 2));
            t.nodes.push(leaf_node());
        }
        t.nodes.push(leaf_node());
        assert_eq!(t.validate(1), Ok(()));
        assert_eq!(t.shape(), (MAX_DEPTH, MAX_DEPTH + 1));
        let mut t = stump(1.0, true);
        t.nodes.push(leaf_node());
        assert!(t.validate(1).unwrap_err().contains("node 3 is not reached"));
    }

    #[test]
    fn non_finite_values_and_covers_are_refused() {
        let mut t = stump(1.0, true);
        t.nodes[0].value = f32::NAN;
        assert!(t.validate(1).unwrap_err().contains("value is not finite"));
        let mut t = stump(1.0, true);
        t.nodes[2].cover = f32::INFINITY;
        assert!(t.validate(1).unwrap_err().contains("cover"));
        let mut t = stump(1.0, true);
        t.nodes[1].cover = -1.0;
        assert!(t.validate(1).unwrap_err().contains("cover"));
        let mut t = stump(1.0, true);
        t.nodes[1].cover = 0.0;
        assert!(t.validate(1).unwrap_err().contains("cover"));
    }
}
