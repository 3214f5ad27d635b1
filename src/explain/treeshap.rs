//! Exact path-dependent TreeSHAP (Lundberg et al., "From local explanations
//! to global understanding with explainable AI for trees", 2020, Alg. 2).
//!
//! For one tree and one design row it returns, per design column, the
//! Shapley value of the conditional expectation `E[f(x) | x_S]` where the
//! expectation follows the training covers stored in each node. Runs in
//! O(L·D²) per tree. Arithmetic is `f64` with only `+ − × ÷`, which IEEE
//! makes identical on every platform, so native and wasm agree exactly.

use crate::kinds::trees::{goes_left, CatSplit};
use crate::kinds::{Node, Tree};

#[derive(Clone, Copy, Default)]
struct PathElement {
    feature: i64,
    zero: f64,
    one: f64,
    weight: f64,
}

/// Expected value of the tree under its covers (the SHAP base value).
/// Bottom-up over the node array: a validated tree lists every child after
/// its parent, so no recursion is needed.
pub fn expected_value(tree: &Tree) -> f64 {
    let nodes = &tree.nodes;
    let mut value = vec![0.0f64; nodes.len()];
    for i in (0..nodes.len()).rev() {
        let Some(n) = nodes.get(i) else { continue };
        let v = if n.is_leaf() {
            n.value as f64
        } else {
            let (l, r) = (n.left as usize, n.right as usize);
            match (nodes.get(l), nodes.get(r), value.get(l), value.get(r)) {
                (Some(a), Some(b), Some(&vl), Some(&vr)) => {
                    let (cl, cr) = (a.cover as f64, b.cover as f64);
                    let total = cl + cr;
                    if total <= 0.0 {
                        (vl + vr) / 2.0
                    } else {
                        (cl * vl + cr * vr) / total
                    }
                }
                _ => n.value as f64,
            }
        };
        if let Some(slot) = value.get_mut(i) {
            *slot = v;
        }
    }
    value.first().copied().unwrap_or(0.0)
}

/// Depth of the tree (a single leaf has depth 0).
pub fn depth(tree: &Tree) -> usize {
    tree.shape().0
}

fn extend(path: &mut [PathElement], depth: usize, zero: f64, one: f64, feature: i64) {
    path[depth] = PathElement {
        feature,
        zero,
        one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    };
    let d1 = (depth + 1) as f64;
    for i in (0..depth).rev() {
        path[i + 1].weight += one * path[i].weight * (i + 1) as f64 / d1;
        path[i].weight = zero * path[i].weight * (depth - i) as f64 / d1;
    }
}

fn unwind(path: &mut [PathElement], depth: usize, index: usize) {
    let one = path[index].one;
    let zero = path[index].zero;
    let mut next = path[depth].weight;
    let d1 = (depth + 1) as f64;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = path[i].weight;
            path[i].weight = next * d1 / ((i + 1) as f64 * one);
            next = tmp - path[i].weight * zero * (depth - i) as f64 / d1;
        } else if zero != 0.0 {
            path[i].weight = path[i].weight * d1 / (zero * (depth - i) as f64);
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero = path[i + 1].zero;
        path[i].one = path[i + 1].one;
    }
}

fn unwound_sum(path: &[PathElement], depth: usize, index: usize) -> f64 {
    let one = path[index].one;
    let zero = path[index].zero;
    let mut next = path[depth].weight;
    let mut total = 0.0;
    let d1 = (depth + 1) as f64;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = next * d1 / ((i + 1) as f64 * one);
            total += tmp;
            next = path[i].weight - tmp * zero * ((depth - i) as f64 / d1);
        } else if zero != 0.0 {
            total += (path[i].weight / zero) / ((depth - i) as f64 / d1);
        }
    }
    total
}

struct Walk<'a> {
    nodes: &'a [Node],
    cats: &'a [CatSplit],
    x: &'a [f32],
    phi: &'a mut [f64],
    scale: f64,
}

impl Walk<'_> {
    #[allow(clippy::too_many_arguments)]
    fn recurse(
        &mut self,
        node: usize,
        buf: &mut [PathElement],
        offset: usize,
        depth: usize,
        zero: f64,
        one: f64,
        feature: i64,
    ) {
        let Some(n) = self.nodes.get(node).copied() else {
            return;
        };
        // This level's path lives after the parent's; copy the parent's in.
        let next_offset = offset + depth + 1;
        if next_offset + depth + 2 > buf.len() {
            return;
        }
        let (parent, rest) = buf.split_at_mut(next_offset);
        let path = &mut rest[..depth + 2];
        path[..depth + 1].copy_from_slice(&parent[offset..offset + depth + 1]);
        extend(path, depth, zero, one, feature);
        if n.is_leaf() {
            for i in 1..=depth {
                let w = unwound_sum(path, depth, i);
                let e = path[i];
                if let Some(p) = usize::try_from(e.feature)
                    .ok()
                    .and_then(|f| self.phi.get_mut(f))
                {
                    *p += w * (e.one - e.zero) * n.value as f64 * self.scale;
                }
            }
            return;
        }
        let go_left = goes_left(&n, node, self.x, self.cats);
        let (hot, cold) = if go_left {
            (n.left, n.right)
        } else {
            (n.right, n.left)
        };
        let (Some(h), Some(c)) = (self.nodes.get(hot as usize), self.nodes.get(cold as usize))
        else {
            return;
        };
        let cover = (h.cover as f64 + c.cover as f64).max(f64::MIN_POSITIVE);
        let (hot_zero, cold_zero) = (h.cover as f64 / cover, c.cover as f64 / cover);
        let (mut in_zero, mut in_one) = (1.0, 1.0);
        let mut depth = depth;
        let split = n.feature as i64;
        if let Some(k) = (0..=depth).find(|&k| path[k].feature == split) {
            in_zero = path[k].zero;
            in_one = path[k].one;
            unwind(path, depth, k);
            depth -= 1;
        }
        let own = next_offset;
        self.recurse(
            hot as usize,
            buf,
            own,
            depth + 1,
            hot_zero * in_zero,
            in_one,
            split,
        );
        self.recurse(
            cold as usize,
            buf,
            own,
            depth + 1,
            cold_zero * in_zero,
            0.0,
            split,
        );
    }
}

/// Adds `scale ×` the tree's SHAP values for `x` into `phi` (one per design
/// column). Recursive, but only as deep as the tree, which validation caps
/// at [`crate::kinds::trees::MAX_DEPTH`]; a validated tree is a tree (no
/// shared nodes), so the walk visits each node once.
pub fn tree_shap(tree: &Tree, x: &[f32], phi: &mut [f64], scale: f64) {
    tree_shap_in(tree, &[], x, phi, scale)
}

/// [`tree_shap`] for a tree with categorical splits (a categorical node's
/// player is its feature's first one-hot column).
pub fn tree_shap_in(tree: &Tree, cats: &[CatSplit], x: &[f32], phi: &mut [f64], scale: f64) {
    let d = depth(tree) + 2;
    let mut buf = vec![PathElement::default(); (d + 2) * (d + 3) / 2 + 2 * d + 4];
    let mut walk = Walk {
        nodes: &tree.nodes,
        cats,
        x,
        phi,
        scale,
    };
    // The root's virtual parent path has one dummy element (feature -1).
    walk.recurse(0, &mut buf, 0, 0, 1.0, 1.0, -1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::LEAF;

    fn node(feature: u32, threshold: f32, left: u32, right: u32, cover: f32) -> Node {
        Node {
            feature,
            threshold,
            left,
            right,
            value: 0.0,
            cover,
            default_left: true,
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

    #[test]
    fn stump_gets_the_whole_difference() {
        // f = 1 if x0 <= 0.5 else 3; covers 3:1, so E[f] = 1.5.
        let t = Tree {
            nodes: vec![node(0, 0.5, 1, 2, 4.0), leaf(1.0, 3.0), leaf(3.0, 1.0)],
        };
        assert_eq!(expected_value(&t), 1.5);
        let mut phi = vec![0.0; 2];
        tree_shap(&t, &[1.0, 0.0], &mut phi, 1.0);
        assert!((phi[0] - 1.5).abs() < 1e-12, "{phi:?}");
        assert_eq!(phi[1], 0.0);
    }
}
