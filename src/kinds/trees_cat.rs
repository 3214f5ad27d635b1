//! Tree ensembles with native categorical splits: models imported from
//! XGBoost (`enable_categorical`) and LightGBM (`categorical_feature`).
//!
//! The trees are [`TreeEnsemble`]'s, scored and explained by its code;
//! each tree adds its [`CatSplit`]s, which [`super::trees::goes_left`]
//! routes. A kind of its own only because the `trees` wire is frozen (and
//! lives in the legacy model slot): files of this kind need a v3 reader, and
//! older readers refuse them by their section tag.

use serde::{Deserialize, Serialize};

use super::trees::{CatSplit, TreeEnsemble};
use super::{Attribution, Cost, Design, Kind, Output};
use crate::format::v1::NodeV1;

/// The trees of [`TreeEnsemble`] plus, per tree, its [`CatSplit`]s.
#[derive(Debug, Clone, PartialEq)]
pub struct CatTrees {
    pub ensemble: TreeEnsemble,
    /// One list per tree, in increasing node order.
    pub cats: Vec<Vec<CatSplit>>,
}

/// Section `trees-cat` (format v3): the ensemble (as format 1 stores trees,
/// so the wasm bundle reuses that decoder) and every categorical split as
/// one run of numbers: `tree, node, width, none_left (0/1)`, then the
/// `⌈width / 32⌉` words of the bitset, split after split (a plain `u32`
/// list decodes with code the bundle already has).
#[derive(Debug, Serialize, Deserialize)]
pub struct CatTreesWire {
    pub base: f32,
    pub average: bool,
    #[serde(deserialize_with = "crate::format::bounded::nested")]
    pub trees: Vec<Vec<NodeV1>>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub cats: Vec<u32>,
}

impl CatTrees {
    /// The trees with their splits from the section's run of numbers
    /// (per split: tree, node, width, none_left, then its bitset words).
    fn build(ensemble: TreeEnsemble, run: &[u32]) -> Result<CatTrees, String> {
        let mut cats: Vec<Vec<CatSplit>> = vec![Vec::new(); ensemble.trees.len()];
        let mut rest = run;
        while let Some((head, tail)) = rest.split_first_chunk::<4>() {
            let [tree, node, width, none_left] = *head;
            let words = width.div_ceil(32) as usize;
            let (Some(list), Some(left), true) = (
                cats.get_mut(tree as usize),
                tail.get(..words),
                none_left <= 1,
            ) else {
                return Err(format!("categorical split of tree {tree}: malformed"));
            };
            list.push(CatSplit {
                node,
                width,
                left: left.to_vec(),
                none_left: none_left == 1,
            });
            rest = tail.get(words..).unwrap_or(&[]);
        }
        if !rest.is_empty() {
            return Err("categorical splits: trailing numbers".into());
        }
        Ok(CatTrees { ensemble, cats })
    }
}

impl Kind for CatTrees {
    const TAG: &'static str = "trees-cat";
    type Wire = CatTreesWire;

    fn to_wire(&self) -> CatTreesWire {
        let mut cats = Vec::new();
        for (t, list) in self.cats.iter().enumerate() {
            for c in list {
                cats.extend([t as u32, c.node, c.width, u32::from(c.none_left)]);
                cats.extend_from_slice(&c.left);
            }
        }
        let e = &self.ensemble;
        CatTreesWire {
            base: e.base,
            average: e.average,
            trees: crate::format::v1::trees_to(&e.trees),
            cats,
        }
    }

    fn from_wire(w: CatTreesWire) -> Result<Self, String> {
        CatTrees::build(
            TreeEnsemble {
                trees: crate::format::v1::trees_from(w.trees),
                base: w.base,
                average: w.average,
            },
            &w.cats,
        )
    }

    /// Reads [`CatTreesWire`] by hand (its trees as format 1's).
    fn decode(body: &[u8]) -> Result<Self, crate::error::FormatError> {
        super::read_section(
            body,
            |w| {
                let ensemble = TreeEnsemble {
                    base: w.f32(),
                    average: w.bool(),
                    trees: crate::format::v1::read_trees(w),
                };
                (ensemble, w.list(|w| w.u32()))
            },
            |(ensemble, cats)| CatTrees::build(ensemble, &cats),
        )
    }

    fn validate(&self, d: &Design<'_>) -> Result<(), String> {
        if self.cats.len() != self.ensemble.trees.len() {
            return Err("categorical splits do not match the trees".into());
        }
        self.ensemble.validate_in(d, &self.cats)
    }

    fn output_kind(&self) -> Output {
        self.ensemble.output_kind()
    }

    fn output(&self, x: &[f32]) -> f32 {
        self.ensemble.output_in(x, &self.cats)
    }

    fn outputs(&self, xs: &[f32], width: usize, out: &mut [f32]) {
        self.ensemble.outputs_in(xs, width, out, &self.cats)
    }

    fn explain(&self, _: &Design<'_>, x: &[f32], scale: f64, offset: f64) -> Attribution {
        self.ensemble.explain_in(x, scale, offset, &self.cats)
    }

    fn takes_missing(&self) -> bool {
        true
    }

    fn method(&self) -> &'static str {
        self.ensemble.method()
    }

    /// The trees' cost plus, per categorical split, a scan of its columns.
    fn cost(&self, d: &Design<'_>) -> Cost {
        let mut c = self.ensemble.cost(d);
        let scan: u64 = self
            .cats
            .iter()
            .flatten()
            .map(|s| u64::from(s.width))
            .fold(0u64, u64::saturating_add);
        c.predict = c.predict.saturating_add(scan);
        c.explain = c.explain.saturating_add(scan.saturating_mul(64));
        c
    }

    fn summary(&self) -> String {
        format!(
            "{}, {} categorical splits",
            self.ensemble.summary(),
            self.cats.iter().map(Vec::len).sum::<usize>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::trees::{Node, Tree, LEAF};

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

    /// Feature 0 numeric (column 0); feature 1 categorical with three
    /// one-hot columns (1, 2, 3). Root splits on the category: {0, 2} left.
    fn cat_model() -> CatTrees {
        let mut root = split_node(1, 2);
        root.feature = 1;
        root.threshold = f32::NEG_INFINITY;
        let mut l = leaf_node();
        l.value = -1.0;
        let mut r = leaf_node();
        r.value = 2.0;
        CatTrees {
            ensemble: TreeEnsemble {
                trees: vec![Tree {
                    nodes: vec![root, l, r],
                }],
                base: 0.5,
                average: false,
            },
            cats: vec![vec![CatSplit {
                node: 0,
                width: 3,
                left: vec![0b101],
                none_left: true,
            }]],
        }
    }

    #[test]
    fn categorical_splits_route_by_the_hot_column() {
        let m = cat_model();
        assert_eq!(m.output(&[0.0, 1.0, 0.0, 0.0]), -0.5);
        assert_eq!(m.output(&[0.0, 0.0, 1.0, 0.0]), 2.5);
        assert_eq!(m.output(&[0.0, 0.0, 0.0, 1.0]), -0.5);
        // No hot column (an unknown category): none_left.
        assert_eq!(m.output(&[0.0, 0.0, 0.0, 0.0]), -0.5);
        let mut out = [0.0f32; 2];
        m.outputs(&[0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0], 4, &mut out);
        assert_eq!(out, [2.5, -0.5]);
        // The wire round trip keeps every split.
        let again = CatTrees::from_wire(m.to_wire()).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn hostile_categorical_splits_are_refused() {
        let width = 4;
        let ok = cat_model();
        for t in &ok.ensemble.trees {
            assert_eq!(t.validate_in(width, &ok.cats[0]), Ok(()));
        }
        let check = |m: &CatTrees| -> String {
            m.ensemble.trees[0]
                .validate_in(width, &m.cats[0])
                .unwrap_err()
        };
        let mut m = cat_model();
        m.cats[0][0].width = 4; // columns 1..5 past the design width
        assert!(check(&m).contains("do not fit"), "{}", check(&m));
        let mut m = cat_model();
        m.cats[0][0].left = vec![];
        assert!(check(&m).contains("do not fit"));
        let mut m = cat_model();
        m.cats[0][0].node = 1; // a leaf
        assert!(check(&m).contains("not an inner node"));
        let mut m = cat_model();
        m.cats[0][0].node = 7;
        assert!(check(&m).contains("node 7: not an inner node"));
        let mut m = cat_model();
        m.ensemble.trees[0].nodes[0].threshold = 0.5; // not marked categorical
        assert!(check(&m).contains("marked -inf"));
        // Without its split the node sends every number right.
        let mut m = cat_model();
        m.cats[0].clear();
        assert_eq!(m.ensemble.trees[0].validate_in(width, &m.cats[0]), Ok(()));
        assert_eq!(m.output(&[0.0, 1.0, 0.0, 0.0]), 2.5);
        let mut m = cat_model();
        let again = m.cats[0][0].clone();
        m.cats[0].push(again);
        assert!(check(&m).contains("in order"));
        // A split for a tree the ensemble does not have; a cut-off record.
        let mut w = cat_model().to_wire();
        w.cats[0] = 5;
        assert!(CatTrees::from_wire(w).unwrap_err().contains("tree 5"));
        let mut w = cat_model().to_wire();
        w.cats.pop();
        assert!(CatTrees::from_wire(w).unwrap_err().contains("malformed"));
        let mut w = cat_model().to_wire();
        w.cats.push(0);
        assert!(CatTrees::from_wire(w).unwrap_err().contains("trailing"));
    }
}
