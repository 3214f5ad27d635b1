//! Random forests in a compact file and a compact, cache-friendly memory
//! layout: the kind `forest` (format v3 section `model/forest`).
//!
//! A forest the trainer grows counts bootstrap draws: every cover is a
//! whole number, an inner node's cover is the sum of its children's, and a
//! leaf's value is `(positives / cover)` rounded to `f32` through `f64`.
//! [`Forest::pack`] checks exactly that (else the trainer keeps the `trees`
//! kind), so a forest file need not store values or inner covers:
//!
//! - thresholds in one table per design column (`threshold_counts`,
//!   `thresholds`: each column's distinct split values, in increasing bit
//!   order), a node naming its split by its index there;
//! - the trees' nodes in pre-order, so a left child is the next node, as a
//!   byte stream of LEB128 numbers: per tree its node count, then per node
//!   `0, cover, positives` for a leaf, or `1 + 2·column + default_left,
//!   threshold index, right-child offset` for a split (the right child is
//!   `offset` nodes after the left one).
//!
//! Decoding checks every count against the bytes left before allocating,
//! every index and offset, and [`Kind::validate`] runs the checks of
//! [`Tree::validate`] on every tree (each node reached once, ≤ `MAX_DEPTH`
//! levels). In memory a node is 16 bytes in four arrays (column and flags,
//! threshold or leaf value, right child, cover); scoring walks one tree over
//! a block of rows, [`LANE`] rows in step, a fixed number of steps (the
//! tree's depth; a row at a leaf stays there), without branches on the
//! data. Each row still adds the trees' values in tree order, so a forest
//! scores exactly as the same trees in the `trees` kind, and explains
//! exactly as them too (TreeSHAP on each tree rebuilt as [`Tree`]).

use serde::{Deserialize, Serialize};

use super::trees::{Node, Tree, TreeEnsemble, LEAF, MAX_DEPTH, MAX_NODES};
use super::{Attribution, Cost, Design, Kind, Output, PerPlayer};
use crate::explain::treeshap;

/// Flag of a leaf in [`Forest::head`].
const IS_LEAF: u32 = 1 << 31;
/// Flag of a split sending missing values left.
const GOES_LEFT: u32 = 1 << 30;
/// The column of a split.
const COLUMN: u32 = GOES_LEFT - 1;
/// Largest whole cover (`f32` counts every integer up to it exactly).
const MAX_COUNT: u32 = 1 << 24;
/// Rows walked in step through a tree.
pub const LANE: usize = 8;

/// A forest of count trees, nodes of all trees in pre-order, one array per
/// field.
#[derive(Debug, Clone, PartialEq)]
pub struct Forest {
    pub base: f32,
    /// Average the tree outputs (a forest) instead of summing them.
    pub average: bool,
    /// First node of each tree, and one past the last node.
    starts: Vec<u32>,
    /// Steps from each tree's root to its deepest leaf.
    depths: Vec<u8>,
    /// Column | [`GOES_LEFT`] for a split; [`IS_LEAF`] for a leaf.
    head: Vec<u32>,
    /// Threshold of a split (`x <= t` goes left); value of a leaf.
    split: Vec<f32>,
    /// Index of a split's right child (its left child is the next node).
    right: Vec<u32>,
    cover: Vec<f32>,
}

/// Section `forest` (format v3). See the module documentation.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForestWire {
    pub base: f32,
    pub average: bool,
    pub trees: u32,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub threshold_counts: Vec<u32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub thresholds: Vec<f32>,
    #[serde(deserialize_with = "crate::format::bounded::vec")]
    pub nodes: Vec<u8>,
}

/// `value` as `positives / cover` rounded through `f64`, when it is one.
fn positives(value: f32, cover: u32) -> Option<u32> {
    let guess = (value as f64 * cover as f64) as i64;
    (guess - 1..=guess + 1)
        .filter_map(|k| u32::try_from(k).ok())
        .find(|&k| k <= cover && ratio(k, cover).to_bits() == value.to_bits())
}

fn ratio(k: u32, cover: u32) -> f32 {
    (k as f64 / cover as f64) as f32
}

/// `c` as a whole count in `1..=MAX_COUNT`.
fn count(c: f32) -> Option<u32> {
    let n = c as u32;
    (n >= 1 && n <= MAX_COUNT && n as f32 == c).then_some(n)
}

fn put(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads LEB128 numbers, naming the byte offset of a malformed one.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn next(&mut self) -> Result<u32, String> {
        let mut v = 0u64;
        for shift in 0..5 {
            let Some(&b) = self.bytes.get(self.at) else {
                return Err(format!("nodes end inside a number at byte {}", self.at));
            };
            self.at += 1;
            v |= u64::from(b & 0x7f) << (7 * shift);
            if b & 0x80 == 0 {
                return u32::try_from(v)
                    .map_err(|_| format!("number too large before byte {}", self.at));
            }
        }
        Err(format!("number too long before byte {}", self.at))
    }

    fn left(&self) -> usize {
        self.bytes.len().saturating_sub(self.at)
    }
}

impl Forest {
    /// The forest form of a trained ensemble, when it is a count forest
    /// (see the module documentation) that this layout reproduces exactly;
    /// `None` otherwise (the ensemble stays a `trees` model). The ensemble
    /// must be valid (it comes from the trainer).
    pub fn pack(e: &TreeEnsemble) -> Option<Forest> {
        let mut f = Forest {
            base: e.base,
            average: e.average,
            starts: vec![0],
            depths: Vec::with_capacity(e.trees.len()),
            head: Vec::new(),
            split: Vec::new(),
            right: Vec::new(),
            cover: Vec::new(),
        };
        for t in &e.trees {
            // Pre-order: (node, index its right-child slot must get).
            let mut stack = vec![0u32];
            let mut fix: Vec<(usize, u32)> = Vec::new();
            let mut new_of = vec![u32::MAX; t.nodes.len()];
            while let Some(i) = stack.pop() {
                let n = t.nodes.get(i as usize)?;
                let here = f.head.len();
                *new_of.get_mut(i as usize)? = u32::try_from(here).ok()?;
                let c = count(n.cover)?;
                f.cover.push(c as f32);
                if n.is_leaf() {
                    positives(n.value, c)?;
                    f.head.push(IS_LEAF);
                    f.split.push(n.value);
                    f.right.push(here as u32);
                } else {
                    let (l, r) = (
                        t.nodes.get(n.left as usize)?,
                        t.nodes.get(n.right as usize)?,
                    );
                    if n.feature > COLUMN || n.threshold.is_nan() || l.cover + r.cover != n.cover {
                        return None;
                    }
                    f.head
                        .push(n.feature | if n.default_left { GOES_LEFT } else { 0 });
                    f.split.push(n.threshold);
                    f.right.push(0);
                    fix.push((here, n.right));
                    stack.push(n.right);
                    stack.push(n.left);
                }
            }
            for (at, old) in fix {
                *f.right.get_mut(at)? = *new_of.get(old as usize)?;
            }
            f.starts.push(u32::try_from(f.head.len()).ok()?);
            let (depth, _) = t.shape();
            f.depths.push(u8::try_from(depth).ok()?);
        }
        Some(f)
    }

    pub fn trees(&self) -> usize {
        self.depths.len()
    }

    /// Node range of tree `i`.
    fn range(&self, i: usize) -> (usize, usize) {
        let a = self.starts.get(i).copied().unwrap_or(0) as usize;
        let b = self.starts.get(i + 1).copied().unwrap_or(0) as usize;
        (a, b.max(a))
    }

    /// Tree `i` as the `trees` kind holds it (child indices local to the
    /// tree, inner nodes valued 0: explanations use leaf values and covers).
    fn tree_into(&self, i: usize, out: &mut Tree) {
        let (a, b) = self.range(i);
        out.nodes.clear();
        for k in a..b {
            let h = self.head.get(k).copied().unwrap_or(IS_LEAF);
            let s = self.split.get(k).copied().unwrap_or(0.0);
            let cover = self.cover.get(k).copied().unwrap_or(0.0);
            let local = |j: usize| (j.wrapping_sub(a)) as u32;
            out.nodes.push(if h & IS_LEAF != 0 {
                Node {
                    feature: 0,
                    threshold: 0.0,
                    left: LEAF,
                    right: LEAF,
                    value: s,
                    cover,
                    default_left: false,
                }
            } else {
                Node {
                    feature: h & COLUMN,
                    threshold: s,
                    left: local(k + 1),
                    right: local(self.right.get(k).copied().unwrap_or(0) as usize),
                    value: 0.0,
                    cover,
                    default_left: h & GOES_LEFT != 0,
                }
            });
        }
    }

    /// Adds tree `i`'s leaf values for the rows of `xs` into `out`, `LANE`
    /// rows in step: each does `depth` steps (a leaf keeps its row).
    fn add_tree(&self, i: usize, xs: &[f32], width: usize, out: &mut [f32]) {
        let (a, _) = self.range(i);
        let depth = self.depths.get(i).copied().unwrap_or(0);
        let (head, split, right) = (&self.head[..], &self.split[..], &self.right[..]);
        let step = |k: u32, x: &[f32]| -> u32 {
            let h = head.get(k as usize).copied().unwrap_or(IS_LEAF);
            let t = split.get(k as usize).copied().unwrap_or(0.0);
            let v = x.get((h & COLUMN) as usize).copied().unwrap_or(f32::NAN);
            let left = v <= t || (v.is_nan() && h & GOES_LEFT != 0);
            let next = if left {
                k + 1
            } else {
                right.get(k as usize).copied().unwrap_or(k)
            };
            if h & IS_LEAF != 0 {
                k
            } else {
                next
            }
        };
        let mut rows = xs.chunks_exact(width).zip(out.iter_mut());
        loop {
            let mut at = [a as u32; LANE];
            let mut xs: [&[f32]; LANE] = [&[]; LANE];
            let mut outs: [Option<&mut f32>; LANE] = Default::default();
            let mut n = 0;
            for (slot, (x, o)) in xs.iter_mut().zip(outs.iter_mut()).zip(&mut rows) {
                *slot.0 = x;
                *slot.1 = Some(o);
                n += 1;
            }
            if n == 0 {
                return;
            }
            for _ in 0..depth {
                for (k, x) in at.iter_mut().zip(&xs) {
                    *k = step(*k, x);
                }
            }
            for (k, o) in at.iter().zip(outs.iter_mut()) {
                if let Some(o) = o {
                    **o += split.get(*k as usize).copied().unwrap_or(0.0);
                }
            }
        }
    }
}

impl Kind for Forest {
    const TAG: &'static str = "forest";
    type Wire = ForestWire;

    fn to_wire(&self) -> ForestWire {
        // Per column: its distinct thresholds in increasing bit order.
        let mut columns: Vec<Vec<u32>> = Vec::new();
        for (h, s) in self.head.iter().zip(&self.split) {
            if h & IS_LEAF == 0 {
                let c = (h & COLUMN) as usize;
                if columns.len() <= c {
                    columns.resize(c + 1, Vec::new());
                }
                if let Some(list) = columns.get_mut(c) {
                    list.push(s.to_bits());
                }
            }
        }
        for list in &mut columns {
            list.sort_unstable();
            list.dedup();
        }
        let mut nodes = Vec::new();
        for i in 0..self.trees() {
            let (a, b) = self.range(i);
            put(&mut nodes, (b - a) as u32);
            for k in a..b {
                let h = self.head.get(k).copied().unwrap_or(IS_LEAF);
                let s = self.split.get(k).copied().unwrap_or(0.0);
                let cover = self.cover.get(k).copied().unwrap_or(1.0) as u32;
                if h & IS_LEAF != 0 {
                    put(&mut nodes, 0);
                    put(&mut nodes, cover);
                    put(&mut nodes, positives(s, cover).unwrap_or(0));
                } else {
                    let c = h & COLUMN;
                    put(&mut nodes, 1 + 2 * c + u32::from(h & GOES_LEFT != 0));
                    let index = columns
                        .get(c as usize)
                        .and_then(|l| l.binary_search(&s.to_bits()).ok())
                        .unwrap_or(0);
                    put(&mut nodes, index as u32);
                    let r = self.right.get(k).copied().unwrap_or(0) as usize;
                    put(&mut nodes, r.saturating_sub(k + 1) as u32);
                }
            }
        }
        ForestWire {
            base: self.base,
            average: self.average,
            trees: self.trees() as u32,
            threshold_counts: columns.iter().map(|l| l.len() as u32).collect(),
            thresholds: columns
                .iter()
                .flatten()
                .map(|&b| f32::from_bits(b))
                .collect(),
            nodes,
        }
    }

    fn from_wire(w: ForestWire) -> Result<Self, String> {
        // Where each column's thresholds start.
        let mut first = Vec::with_capacity(w.threshold_counts.len());
        let mut total = 0u64;
        for &c in &w.threshold_counts {
            first.push(total as usize);
            total += u64::from(c);
        }
        if total != w.thresholds.len() as u64 {
            return Err(format!(
                "threshold counts add up to {total}, the table holds {}",
                w.thresholds.len()
            ));
        }
        // Every tree takes at least one byte: the count is bounded by the bytes.
        if w.trees as usize > w.nodes.len() {
            return Err(format!(
                "{} trees in {} bytes of nodes",
                w.trees,
                w.nodes.len()
            ));
        }
        let mut r = Reader {
            bytes: &w.nodes,
            at: 0,
        };
        let mut f = Forest {
            base: w.base,
            average: w.average,
            starts: Vec::with_capacity(w.trees as usize + 1),
            depths: Vec::with_capacity(w.trees as usize),
            head: Vec::new(),
            split: Vec::new(),
            right: Vec::new(),
            cover: Vec::new(),
        };
        f.starts.push(0);
        let mut depth: Vec<u8> = Vec::new();
        for t in 0..w.trees {
            let n = r.next()? as usize;
            // A node takes at least three bytes.
            if n == 0 || n > MAX_NODES || n > r.left() / 3 {
                return Err(format!(
                    "tree {t}: {n} nodes in the {} bytes left",
                    r.left()
                ));
            }
            let a = f.head.len();
            for v in [&mut f.head, &mut f.right] {
                v.reserve(n);
            }
            f.split.reserve(n);
            f.cover.reserve(n);
            depth.clear();
            depth.resize(n, 0);
            for k in 0..n {
                let bad = |m: &str| format!("tree {t}, node {k}: {m}");
                let head = r.next()?;
                let d = depth.get(k).copied().unwrap_or(0);
                if head == 0 {
                    let cover = r.next()?;
                    let pos = r.next()?;
                    if cover == 0 || cover > MAX_COUNT || pos > cover {
                        return Err(bad("leaf counts out of range"));
                    }
                    f.head.push(IS_LEAF);
                    f.split.push(ratio(pos, cover));
                    f.right.push((a + k) as u32);
                    f.cover.push(cover as f32);
                } else {
                    let column = (head - 1) / 2;
                    let index = r.next()? as usize;
                    let offset = r.next()? as usize;
                    let (Some(&count), Some(&at)) = (
                        w.threshold_counts.get(column as usize),
                        first.get(column as usize),
                    ) else {
                        return Err(bad("column has no thresholds"));
                    };
                    let Some(&threshold) = w
                        .thresholds
                        .get(at + index)
                        .filter(|_| index < count as usize)
                    else {
                        return Err(bad("threshold index out of range"));
                    };
                    let right = k + 1 + offset;
                    if offset == 0 || right >= n {
                        return Err(bad("right child out of range"));
                    }
                    if d as usize >= MAX_DEPTH {
                        return Err(bad("deeper than the limit"));
                    }
                    for c in [k + 1, right] {
                        if let Some(slot) = depth.get_mut(c) {
                            *slot = d + 1;
                        }
                    }
                    f.head
                        .push(column | if head % 2 == 0 { GOES_LEFT } else { 0 });
                    f.split.push(threshold);
                    f.right.push((a + right) as u32);
                    f.cover.push(0.0);
                }
            }
            // Inner covers: the sums of their children's (children follow
            // their parent, so from the back).
            for k in (a..a + n).rev() {
                if f.head.get(k).is_some_and(|h| h & IS_LEAF == 0) {
                    let r = f.right.get(k).copied().unwrap_or(0) as usize;
                    let sum = f.cover.get(k + 1).copied().unwrap_or(0.0) as f64
                        + f.cover.get(r).copied().unwrap_or(0.0) as f64;
                    if let Some(c) = f.cover.get_mut(k) {
                        *c = sum as f32;
                    }
                }
            }
            f.depths.push(depth.iter().copied().max().unwrap_or(0));
            f.starts.push(f.head.len() as u32);
        }
        if r.left() != 0 {
            return Err(format!("{} bytes after the last tree", r.left()));
        }
        Ok(f)
    }

    fn validate(&self, d: &Design<'_>) -> Result<(), String> {
        if self.trees() == 0 {
            return Err("forest has no trees".into());
        }
        if !self.base.is_finite() {
            return Err("forest base value is not a finite number".into());
        }
        let mut t = Tree { nodes: Vec::new() };
        for i in 0..self.trees() {
            self.tree_into(i, &mut t);
            t.validate(d.width).map_err(|m| format!("tree {i}: {m}"))?;
            // The depth scoring walks is the tree's.
            if self.depths.get(i).map(|&d| d as usize) != Some(t.shape().0) {
                return Err(format!("tree {i}: depth does not match its nodes"));
            }
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
        let mut out = [0.0f32];
        // No columns: every tree is a leaf; walk one row all the same.
        let none = [f32::NAN];
        let (xs, width) = if x.is_empty() {
            (&none[..], 1)
        } else {
            (x, x.len())
        };
        self.outputs(xs, width, &mut out);
        out[0]
    }

    /// Tree by tree over the block (a tree's nodes stay in cache), rows in
    /// step; each row adds the trees' values in tree order, then averages.
    fn outputs(&self, xs: &[f32], width: usize, out: &mut [f32]) {
        out.fill(0.0);
        for i in 0..self.trees() {
            self.add_tree(i, xs, width, out);
        }
        for o in out {
            let mut acc = *o;
            if self.average {
                acc /= self.trees() as f32;
            }
            *o = self.base + acc;
        }
    }

    fn explain(&self, _: &Design<'_>, x: &[f32], scale: f64, offset: f64) -> Attribution {
        let per_tree = if self.average {
            1.0 / self.trees() as f64
        } else {
            1.0
        };
        let mut cols = vec![0.0f64; x.len()];
        let mut expected = 0.0f64;
        let depth = self.depths.iter().copied().max().unwrap_or(0);
        let mut scratch = treeshap::Scratch::new(depth as usize);
        let mut t = Tree { nodes: Vec::new() };
        for i in 0..self.trees() {
            self.tree_into(i, &mut t);
            expected += treeshap::expected_value(&t);
            treeshap::tree_shap_in(&t, &[], x, &mut cols, per_tree * scale, &mut scratch);
        }
        let base_output = self.base as f64 + expected * per_tree;
        Attribution {
            base: scale * base_output + offset,
            per: PerPlayer::Columns(cols),
            convergence: None,
        }
    }

    fn takes_missing(&self) -> bool {
        true
    }

    fn method(&self) -> &'static str {
        "TreeSHAP (exact, path-dependent, over training covers)"
    }

    /// A prediction walks every tree to its depth; an explanation visits
    /// each node with `⌈depth/2⌉` quadrature points (a few operations each).
    fn cost(&self, _: &Design<'_>) -> Cost {
        let (mut predict, mut explain) = (0u64, 0u64);
        for i in 0..self.trees() {
            let (a, b) = self.range(i);
            let d = self.depths.get(i).copied().unwrap_or(0) as u64 + 1;
            predict = predict.saturating_add(d);
            explain = explain.saturating_add(((b - a) as u64).saturating_mul(4 * d + 8));
        }
        Cost { predict, explain }
    }

    fn summary(&self) -> String {
        format!(
            "{} trees, {} nodes ({}, compact)",
            self.trees(),
            self.head.len(),
            if self.average {
                "averaged"
            } else {
                "summed, log-odds"
            }
        )
    }
}
