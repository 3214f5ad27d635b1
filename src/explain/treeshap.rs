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

// Lane arithmetic indexes several arrays in step.
#![allow(clippy::needless_range_loop)]

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

/// Most quadrature points: `⌈MAX_DEPTH / 2⌉`, in chunks of [`LANES`]
/// (a fixed inner loop the compiler unrolls; unused points weigh 0).
const Q: usize = MAX_DEPTH.div_ceil(2);
const LANES: usize = 2;
const CHUNKS: usize = Q.div_ceil(LANES);
type Lane = [f64; LANES];

/// Quadrature points and weights, and the numbers of each level of the
/// walk, reused from tree to tree.
pub struct Scratch {
    /// Chunks of points in use.
    chunks: usize,
    t: [Lane; CHUNKS],
    w: [Lane; CHUNKS],
    levels: Vec<Level>,
    stack: Vec<(u32, u32)>,
    /// Per feature: the deepest open level whose edge splits on it.
    last: Vec<usize>,
}

/// One level of the walk: the node there and, per quadrature point, `F`
/// and `1/F` of the edge into it, `P` (the product of the path's `F`), `S`
/// (Σ v·P over the leaves below), `SA` (the `S` of the next edges below on
/// the same feature; then this edge's `A`) and `AA` (their `A`).
#[derive(Clone)]
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
    f: [Lane; CHUNKS],
    inv: [Lane; CHUNKS],
    p: [Lane; CHUNKS],
    s: [Lane; CHUNKS],
    sa: [Lane; CHUNKS],
    aa: [Lane; CHUNKS],
}

const NONE: usize = usize::MAX;

impl Level {
    const EMPTY: Level = Level {
        node: 0,
        hot: 0,
        feature: 0,
        z: 1.0,
        o: 1.0,
        prev: NONE,
        f: [[0.0; LANES]; CHUNKS],
        inv: [[0.0; LANES]; CHUNKS],
        p: [[0.0; LANES]; CHUNKS],
        s: [[0.0; LANES]; CHUNKS],
        sa: [[0.0; LANES]; CHUNKS],
        aa: [[0.0; LANES]; CHUNKS],
    };
}

impl Scratch {
    /// Room for trees up to `depth` levels deep (capped at `MAX_DEPTH`).
    #[inline(never)]
    pub fn new(depth: usize) -> Scratch {
        let depth = depth.min(MAX_DEPTH);
        let q = depth.div_ceil(2).clamp(1, Q);
        // Unused points: t = 1/2 (F stays positive), weight 0.
        let mut s = Scratch {
            chunks: q.div_ceil(LANES),
            t: [[0.5; LANES]; CHUNKS],
            w: [[0.0; LANES]; CHUNKS],
            levels: vec![Level::EMPTY; depth + 1],
            stack: Vec::with_capacity(depth + 2),
            last: Vec::new(),
        };
        for (j, (a, b)) in gauss_legendre(q).into_iter().enumerate() {
            if let (Some(x), Some(y)) = (
                s.t.get_mut(j / LANES).and_then(|c| c.get_mut(j % LANES)),
                s.w.get_mut(j / LANES).and_then(|c| c.get_mut(j % LANES)),
            ) {
                (*x, *y) = (a, b);
            }
        }
        s
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
    let nc = s.chunks.min(CHUNKS);
    let (t, w) = (&s.t, &s.w);
    let levels = s.levels.as_mut_slice();
    let last = &mut s.last;
    last.clear();
    last.resize(x.len(), NONE);
    let stack = &mut s.stack;
    stack.clear();
    stack.push((0, 0));
    let mut open = 0usize;
    while let Some((c, k)) = stack.pop() {
        let k = k as usize;
        if k >= levels.len() {
            return;
        }
        while open > k {
            open -= 1;
            finish(nodes, levels, last, open, nc, w, phi, scale);
        }
        let Some(n) = nodes.get(c as usize) else {
            return;
        };
        let (above, rest) = levels.split_at_mut(k);
        let Some(here) = rest.first_mut() else {
            return;
        };
        here.node = c;
        for ch in 0..nc {
            here.s[ch] = [0.0; LANES];
            here.sa[ch] = [0.0; LANES];
            here.aa[ch] = [0.0; LANES];
        }
        match above.last() {
            None => {
                here.prev = NONE;
                for ch in 0..nc {
                    here.f[ch] = [1.0; LANES];
                    here.inv[ch] = [1.0; LANES];
                    here.p[ch] = [1.0; LANES];
                }
            }
            Some(up) => {
                let Some(pn) = nodes.get(up.node as usize) else {
                    return;
                };
                let (Some(l), Some(r)) =
                    (nodes.get(pn.left as usize), nodes.get(pn.right as usize))
                else {
                    return;
                };
                let ratio = n.cover as f64 / (l.cover as f64 + r.cover as f64);
                here.feature = pn.feature;
                let slot = last.get_mut(pn.feature as usize);
                here.prev = slot.as_deref().copied().unwrap_or(NONE);
                if let Some(slot) = slot {
                    *slot = k;
                }
                let prev = above.get(here.prev);
                let (z0, o0) = prev.map_or((1.0, 1.0), |v| (v.z, v.o));
                let z = (z0 * ratio).max(TINY);
                let o = if up.hot == c { o0 } else { 0.0 };
                (here.z, here.o) = (z, o);
                for ch in 0..nc {
                    for j in 0..LANES {
                        let tt = t[ch][j];
                        let f = z * (1.0 - tt) + o * tt;
                        here.f[ch][j] = f;
                        here.inv[ch][j] = 1.0 / f;
                        here.p[ch][j] = up.p[ch][j] * f;
                    }
                }
                if let Some(v) = prev {
                    for ch in 0..nc {
                        for j in 0..LANES {
                            here.p[ch][j] *= v.inv[ch][j];
                        }
                    }
                }
            }
        }
        if !n.is_leaf() {
            here.hot = if goes_left(n, c as usize, x, cats) {
                n.left
            } else {
                n.right
            };
            // Leaf children are closed here; inner ones wait on the stack.
            let k1 = k as u32 + 1;
            for child in [n.right, n.left] {
                match nodes.get(child as usize) {
                    Some(leaf) if leaf.is_leaf() => {
                        let edge = Edge {
                            split: n,
                            child,
                            leaf,
                            hot: here.hot,
                        };
                        leaf_edge(edge, nodes, above, here, last, nc, t, w, phi, scale);
                    }
                    _ => stack.push((child, k1)),
                }
            }
        }
        open = k + 1;
    }
    while open > 0 {
        open -= 1;
        finish(nodes, levels, last, open, nc, w, phi, scale);
    }
}

/// A split's child that is a leaf.
struct Edge<'a> {
    split: &'a Node,
    child: u32,
    leaf: &'a Node,
    hot: u32,
}

/// The edge from the node at level `k` (`here`) to a leaf, closed at once:
/// with `P` the path's product down to the split and `F` the edge's
/// factor, the leaf's `A = v·P / F_prev` and `S = A·F`.
#[allow(clippy::too_many_arguments)]
fn leaf_edge(
    e: Edge<'_>,
    nodes: &[Node],
    above: &mut [Level],
    here: &mut Level,
    last: &[usize],
    nc: usize,
    t: &[Lane; CHUNKS],
    w: &[Lane; CHUNKS],
    phi: &mut [f64],
    scale: f64,
) {
    let nc = nc.min(CHUNKS);
    let (Some(l), Some(r)) = (
        nodes.get(e.split.left as usize),
        nodes.get(e.split.right as usize),
    ) else {
        return;
    };
    let ratio = e.leaf.cover as f64 / (l.cover as f64 + r.cover as f64);
    let feature = e.split.feature;
    let prev = last.get(feature as usize).copied().unwrap_or(NONE);
    // The previous edge on this feature is an open level: `here` itself or
    // one above it.
    let k = above.len();
    let (z0, o0) = if prev == k {
        (here.z, here.o)
    } else {
        above.get(prev).map_or((1.0, 1.0), |v| (v.z, v.o))
    };
    let z = (z0 * ratio).max(TINY);
    let o = if e.hot == e.child { o0 } else { 0.0 };
    let lanes = LeafLanes {
        nc,
        t,
        w,
        v: e.leaf.value as f64,
        z,
        o,
    };
    let total = if prev == k {
        let Level {
            p, s, inv, sa, aa, ..
        } = here;
        lanes.add(p, s, Some((inv, sa, aa)))
    } else {
        match above.get_mut(prev) {
            Some(pv) => lanes.add(
                &here.p,
                &mut here.s,
                Some((&pv.inv, &mut pv.sa, &mut pv.aa)),
            ),
            None => lanes.add(&here.p, &mut here.s, None),
        }
    };
    let delta = (o - z) - (o0 - z0);
    if let Some(p) = phi.get_mut(feature as usize) {
        *p += scale * delta * total;
    }
}

/// The numbers of one leaf edge.
struct LeafLanes<'a> {
    nc: usize,
    t: &'a [Lane; CHUNKS],
    w: &'a [Lane; CHUNKS],
    v: f64,
    z: f64,
    o: f64,
}

type Prev<'a> = (
    &'a [Lane; CHUNKS],
    &'a mut [Lane; CHUNKS],
    &'a mut [Lane; CHUNKS],
);

impl LeafLanes<'_> {
    /// Adds the leaf's `S` to the split's sum (and its `S` and `A` to the
    /// previous edge on its feature, whose `1/F` divides `P`); returns Σ w·A.
    fn add(&self, p: &[Lane; CHUNKS], s: &mut [Lane; CHUNKS], prev: Option<Prev<'_>>) -> f64 {
        let nc = self.nc.min(CHUNKS);
        let (v, z, o) = (self.v, self.z, self.o);
        let mut total = [0.0; LANES];
        match prev {
            None => {
                for ch in 0..nc {
                    for j in 0..LANES {
                        let tt = self.t[ch][j];
                        let a = v * p[ch][j];
                        total[j] += self.w[ch][j] * a;
                        s[ch][j] += a * (z * (1.0 - tt) + o * tt);
                    }
                }
            }
            Some((inv, sa, aa)) => {
                for ch in 0..nc {
                    for j in 0..LANES {
                        let tt = self.t[ch][j];
                        let a = v * p[ch][j] * inv[ch][j];
                        let sv = a * (z * (1.0 - tt) + o * tt);
                        total[j] += self.w[ch][j] * a;
                        s[ch][j] += sv;
                        sa[ch][j] += sv;
                        aa[ch][j] += a;
                    }
                }
            }
        }
        total[0] + total[1]
    }
}

/// Closes level `k`: a leaf's sum is its value × `P`; the edge into the node
/// adds its share to its feature and hands its sums up.
#[allow(clippy::too_many_arguments)]
fn finish(
    nodes: &[Node],
    levels: &mut [Level],
    last: &mut [usize],
    k: usize,
    nc: usize,
    w: &[Lane; CHUNKS],
    phi: &mut [f64],
    scale: f64,
) {
    let nc = nc.min(CHUNKS);
    let (above, rest) = levels.split_at_mut(k);
    let Some(here) = rest.first_mut() else {
        return;
    };
    if let Some(n) = nodes.get(here.node as usize).filter(|n| n.is_leaf()) {
        let v = n.value as f64;
        for ch in 0..nc {
            for j in 0..LANES {
                here.s[ch][j] = v * here.p[ch][j];
            }
        }
    }
    let prev = here.prev;
    let Some(up) = above.last_mut() else {
        return;
    };
    if let Some(slot) = last.get_mut(here.feature as usize) {
        *slot = prev;
    }
    // A(t) = (S − SA) / F + AA, kept in SA; Σ w A.
    let mut total = [0.0; LANES];
    for ch in 0..nc {
        for j in 0..LANES {
            let a = (here.s[ch][j] - here.sa[ch][j]) * here.inv[ch][j] + here.aa[ch][j];
            here.sa[ch][j] = a;
            total[j] += w[ch][j] * a;
            up.s[ch][j] += here.s[ch][j];
        }
    }
    let (z0, o0) = above.get(prev).map_or((1.0, 1.0), |v| (v.z, v.o));
    let delta = (here.o - here.z) - (o0 - z0);
    if let Some(p) = phi.get_mut(here.feature as usize) {
        *p += scale * delta * (total[0] + total[1]);
    }
    // S and A to the previous edge on the same feature.
    if let Some(pv) = above.get_mut(prev) {
        for ch in 0..nc {
            for j in 0..LANES {
                pv.sa[ch][j] += here.s[ch][j];
                pv.aa[ch][j] += here.sa[ch][j];
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
