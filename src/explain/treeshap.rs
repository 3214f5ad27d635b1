//! Exact path-dependent TreeSHAP (the values of Lundberg et al., "From local
//! explanations to global understanding with explainable AI for trees",
//! 2020, Alg. 2) in O(nodes × depth) per tree instead of O(leaves × depth²).
//!
//! For one tree and one design row it returns, per design column, the
//! Shapley value of the conditional expectation `E[f(x) | x_S]` where the
//! expectation follows the training covers stored in each node.
//!
//! **How.** Along the path to a leaf `l` each feature `j` met on it has a
//! *zero* fraction `z_j` (the product of the cover ratios of its edges) and a
//! *one* fraction `o_j` (1 when `x` follows all of them, else 0). The leaf's
//! game gives feature `i` the Shapley value
//! `v_l (o_i − z_i) ∫₀¹ Π_{j≠i} (z_j (1−t) + o_j t) dt`
//! (the Shapley weights `|S|!(d−|S|−1)!/d!` are the Beta integrals of
//! `t^|S| (1−t)^(d−1−|S|)`; features off the path have `z = o = 1` and drop
//! out). The integrand is a polynomial of degree < depth, so Gauss–Legendre
//! quadrature with `⌈depth/2⌉` points integrates it exactly, and at a fixed
//! point `t` everything is a number, not a polynomial: with
//! `F_j(t) = z_j (1−t) + o_j t` and `P_l(t) = Π_j F_j(t)`, the sum over the
//! leaves below an edge of `v_l P_l(t) / F_i(t)` is gathered bottom-up in one
//! walk (the linear-time idea of Linear TreeShap, Yu et al. 2022): an edge on
//! feature `i` takes the leaves below it whose last edge on `i` it is
//! (`(S − S_deeper) / F`) plus what the next edges on `i` below it gathered,
//! and `o_i − z_i` telescopes over the edges on `i` along the path, so each
//! edge adds `((o − z) − (o_prev − z_prev)) · Σ_t w_t A(t)` to its feature.
//!
//! One depth-first walk with an explicit stack (no recursion; at most
//! `MAX_DEPTH` + 1 levels, which validation guarantees), `q = ⌈depth/2⌉`
//! numbers per level and per node. Arithmetic is `f64` with only
//! `+ − × ÷` in a fixed order, which IEEE makes identical on every platform,
//! so native and wasm agree exactly. Checked against brute-force enumeration
//! and against the recursive algorithm of the paper (`tests/explain.rs`).

use crate::explain::product::gauss_legendre;
use crate::kinds::trees::{goes_left, CatSplit, MAX_DEPTH};
use crate::kinds::{Node, Tree};

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

/// Smallest zero fraction kept: far below any tree whose covers add up
/// (a path's fractions multiply to at least leaf cover / root cover, which
/// `f32` covers keep above 1e-83), it only keeps `F > 0` for hostile covers.
const TINY: f64 = 1e-200;

/// Quadrature points and weights, and the per-level numbers of the walk,
/// reused from tree to tree.
pub struct Scratch {
    t: Vec<f64>,
    w: Vec<f64>,
    /// Per level: `F`, `P`, `S` (sum below), `SA` (sum below the next edges
    /// on the same feature), `AA` (what those edges gathered): `q` each.
    f: Vec<f64>,
    p: Vec<f64>,
    s: Vec<f64>,
    sa: Vec<f64>,
    aa: Vec<f64>,
    levels: Vec<Level>,
    stack: Vec<(u32, u32)>,
}

#[derive(Clone, Copy)]
struct Level {
    node: u32,
    /// The child `x` goes to (inner nodes).
    hot: u32,
    /// Feature of the edge into this node (the parent's split); none at the root.
    feature: u32,
    z: f64,
    o: f64,
    /// Level of the nearest edge above on the same feature, or `NONE`.
    prev: usize,
}

const NONE: usize = usize::MAX;

impl Scratch {
    /// Room for trees up to `depth` levels deep (capped at `MAX_DEPTH`).
    pub fn new(depth: usize) -> Scratch {
        let depth = depth.min(MAX_DEPTH);
        let q = depth.div_ceil(2).max(1);
        let (t, w) = gauss_legendre(q).into_iter().unzip();
        let cells = (depth + 1) * q;
        Scratch {
            t,
            w,
            f: vec![0.0; cells],
            p: vec![0.0; cells],
            s: vec![0.0; cells],
            sa: vec![0.0; cells],
            aa: vec![0.0; cells],
            levels: vec![
                Level {
                    node: 0,
                    hot: 0,
                    feature: 0,
                    z: 1.0,
                    o: 1.0,
                    prev: NONE,
                };
                depth + 1
            ],
            stack: Vec::with_capacity(depth + 2),
        }
    }

    fn depth(&self) -> usize {
        self.levels.len().saturating_sub(1)
    }
}

/// Adds `scale ×` the tree's SHAP values for `x` into `phi` (one per design
/// column).
pub fn tree_shap(tree: &Tree, x: &[f32], phi: &mut [f64], scale: f64) {
    let mut s = Scratch::new(tree.shape().0);
    tree_shap_in(tree, &[], x, phi, scale, &mut s)
}

/// [`tree_shap`] for a tree with categorical splits (a categorical node's
/// player is its feature's first one-hot column), with the scratch of a
/// depth at least the tree's ([`Scratch::new`]); the walk stops at a node
/// deeper than that (the caller sized it wrong), without panicking.
pub fn tree_shap_in(
    tree: &Tree,
    cats: &[CatSplit],
    x: &[f32],
    phi: &mut [f64],
    scale: f64,
    s: &mut Scratch,
) {
    let nodes = tree.nodes.as_slice();
    let q = s.t.len();
    let max = s.depth();
    s.stack.clear();
    s.stack.push((0, 0));
    let mut open = 0usize;
    while let Some((c, k)) = s.stack.pop() {
        let k = k as usize;
        if k > max {
            return;
        }
        while open > k {
            open -= 1;
            finish(nodes, s, open, q, phi, scale);
        }
        let Some(n) = nodes.get(c as usize) else {
            return;
        };
        // Enter node c at level k.
        let mut level = Level {
            node: c,
            hot: 0,
            feature: 0,
            z: 1.0,
            o: 1.0,
            prev: NONE,
        };
        if k == 0 {
            if let (Some(f), Some(p)) = (s.f.get_mut(..q), s.p.get_mut(..q)) {
                f.fill(1.0);
                p.fill(1.0);
            }
        } else {
            let Some(&up) = s.levels.get(k - 1) else {
                return;
            };
            let Some(pn) = nodes.get(up.node as usize) else {
                return;
            };
            let (Some(l), Some(r)) = (nodes.get(pn.left as usize), nodes.get(pn.right as usize))
            else {
                return;
            };
            let ratio = n.cover as f64 / (l.cover as f64 + r.cover as f64);
            level.feature = pn.feature;
            level.prev = (1..k)
                .rev()
                .find(|&j| s.levels.get(j).is_some_and(|v| v.feature == pn.feature))
                .unwrap_or(NONE);
            let (z0, o0) = s.levels.get(level.prev).map_or((1.0, 1.0), |v| (v.z, v.o));
            level.z = (z0 * ratio).max(TINY);
            level.o = if up.hot == c { o0 } else { 0.0 };
            let (z, o) = (level.z, level.o);
            let (parent, here) = s.p.split_at_mut(k * q);
            let (Some(pp), Some(ph)) = (parent.get((k - 1) * q..), here.get_mut(..q)) else {
                return;
            };
            let (fs, fh) = s.f.split_at_mut(k * q);
            let Some(fh) = fh.get_mut(..q) else { return };
            let fprev = match level.prev {
                NONE => &[][..],
                j => fs.get(j * q..).unwrap_or(&[]),
            };
            for j in 0..q {
                let t = s.t.get(j).copied().unwrap_or(0.0);
                let f = z * (1.0 - t) + o * t;
                let before = fprev.get(j).copied().unwrap_or(1.0);
                if let (Some(a), Some(b), Some(&pv)) = (fh.get_mut(j), ph.get_mut(j), pp.get(j)) {
                    *a = f;
                    *b = pv * f / before;
                }
            }
        }
        for v in [&mut s.s, &mut s.sa, &mut s.aa] {
            if let Some(row) = v.get_mut(k * q..(k + 1) * q) {
                row.fill(0.0);
            }
        }
        if !n.is_leaf() {
            level.hot = if goes_left(n, c as usize, x, cats) {
                n.left
            } else {
                n.right
            };
            let k1 = k as u32 + 1;
            s.stack.push((n.right, k1));
            s.stack.push((n.left, k1));
        }
        if let Some(slot) = s.levels.get_mut(k) {
            *slot = level;
        }
        open = k + 1;
    }
    while open > 0 {
        open -= 1;
        finish(nodes, s, open, q, phi, scale);
    }
}

/// Closes level `k`: a leaf's sum is its value × `P`; the edge into the node
/// adds its share to its feature and hands its sums up.
fn finish(nodes: &[Node], s: &mut Scratch, k: usize, q: usize, phi: &mut [f64], scale: f64) {
    let Some(&level) = s.levels.get(k) else {
        return;
    };
    let Some(n) = nodes.get(level.node as usize) else {
        return;
    };
    let lo = k * q;
    if n.is_leaf() {
        let v = n.value as f64;
        for j in lo..lo + q {
            if let (Some(a), Some(&p)) = (s.s.get_mut(j), s.p.get(j)) {
                *a = v * p;
            }
        }
    }
    if k == 0 {
        return;
    }
    // A(t) = (S − SA) / F + AA, kept in SA's row; Σ w A.
    let mut total = 0.0;
    for j in 0..q {
        let i = lo + j;
        let (Some(&sv), Some(&f), Some(&aa), Some(&w)) =
            (s.s.get(i), s.f.get(i), s.aa.get(i), s.w.get(j))
        else {
            continue;
        };
        let Some(sa) = s.sa.get_mut(i) else { continue };
        let a = (sv - *sa) / f + aa;
        *sa = a;
        total += w * a;
    }
    let (z0, o0) = s.levels.get(level.prev).map_or((1.0, 1.0), |v| (v.z, v.o));
    let delta = (level.o - level.z) - (o0 - z0);
    if let Some(p) = phi.get_mut(level.feature as usize) {
        *p += scale * delta * total;
    }
    // Hand the sums up: S to the parent, S and A to the previous edge on
    // the same feature.
    let prev = level.prev;
    for j in 0..q {
        let i = lo + j;
        let (Some(&sv), Some(&a)) = (s.s.get(i), s.sa.get(i)) else {
            continue;
        };
        if let Some(up) = s.s.get_mut(i - q) {
            *up += sv;
        }
        if prev != NONE {
            let pi = prev * q + j;
            if let Some(x) = s.sa.get_mut(pi) {
                *x += sv;
            }
            if let Some(x) = s.aa.get_mut(pi) {
                *x += a;
            }
        }
    }
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

    #[test]
    fn a_tree_deeper_than_the_scratch_stops_the_walk() {
        let t = Tree {
            nodes: vec![
                node(0, 0.5, 1, 2, 4.0),
                leaf(1.0, 3.0),
                node(1, 0.5, 3, 4, 1.0),
                leaf(2.0, 0.5),
                leaf(3.0, 0.5),
            ],
        };
        // Too shallow a scratch stops the walk (whatever it added), no panic.
        let mut phi = vec![0.0; 2];
        tree_shap_in(&t, &[], &[1.0, 1.0], &mut phi, 1.0, &mut Scratch::new(1));
        assert!(phi.iter().all(|v| v.is_finite()));
        let mut phi = vec![0.0; 2];
        tree_shap_in(&t, &[], &[1.0, 1.0], &mut phi, 1.0, &mut Scratch::new(2));
        let sum: f64 = phi.iter().sum();
        assert!((expected_value(&t) + sum - 3.0).abs() < 1e-12, "{phi:?}");
    }
}
