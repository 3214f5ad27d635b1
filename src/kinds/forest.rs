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
//! levels). In memory a node is 12 bytes (column and flag, threshold, right
//! child; a leaf: its cover, NaN, itself, so that every row stays at its
//! leaf) plus its value; scoring walks one tree over a block of rows,
//! [`LANE`] rows in step, a fixed number of steps (the tree's depth),
//! without branches on the data. Each row still adds the trees' values in tree order, so a forest
//! scores exactly as the same trees in the `trees` kind, and explains
//! exactly as them too (TreeSHAP on each tree rebuilt as [`Tree`]).

use serde::{Deserialize, Serialize};

use super::trees::{explain_trees, Node, Tree, TreeEnsemble, LEAF, MAX_DEPTH, MAX_NODES};
use super::{Attribution, Cost, Design, Kind, Output};

/// Flag of a split sending missing values left.
const GOES_LEFT: u32 = 1 << 30;
/// The column of a split (the cover of a leaf).
const COLUMN: u32 = GOES_LEFT - 1;
/// Largest whole cover (`f32` counts every integer up to it exactly).
const MAX_COUNT: u32 = 1 << 24;
/// Rows walked in step through a tree.
pub const LANE: usize = 4;

/// A node as scoring reads it. A split: `head` = column | [`GOES_LEFT`],
/// `x <= split` goes to the next node, else to `right`. A leaf: `head` =
/// its cover, `split` = NaN (no value is at most NaN) and `right` = itself,
/// so a row that reached it stays.
#[derive(Debug, Clone, Copy)]
struct Packed {
    head: u32,
    split: f32,
    right: u32,
}

/// Equal bits (a leaf's NaN equals itself).
impl PartialEq for Packed {
    fn eq(&self, o: &Packed) -> bool {
        (self.head, self.split.to_bits(), self.right) == (o.head, o.split.to_bits(), o.right)
    }
}

impl Packed {
    fn is_leaf(&self, k: usize) -> bool {
        self.right as usize == k
    }
}

/// A forest of count trees, nodes of all trees in pre-order.
#[derive(Debug, Clone, PartialEq)]
pub struct Forest {
    pub base: f32,
    /// Average the tree outputs (a forest) instead of summing them.
    pub average: bool,
    /// First node of each tree, and one past the last node.
    starts: Vec<u32>,
    /// Steps from each tree's root to its deepest leaf.
    depths: Vec<u8>,
    nodes: Vec<Packed>,
    /// Value of each leaf (0 for a split).
    value: Vec<f32>,
}

/// Section `forest` (format v3): one byte string (see the module
/// documentation for its layout), decoded by hand: a serde struct decoder
/// costs the wasm bundle more than this reader.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForestWire(#[serde(deserialize_with = "crate::format::bounded::vec")] pub Vec<u8>);

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
    ((1..=MAX_COUNT).contains(&n) && n as f32 == c).then_some(n)
}

fn put(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads the section's numbers; a failure says what was being read.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    /// A LEB128 number of at most 32 bits.
    fn next(&mut self) -> Result<u32, &'static str> {
        let mut v = 0u64;
        for shift in 0..5 {
            let Some(&b) = self.bytes.get(self.at) else {
                return Err("the section ends inside a number");
            };
            self.at += 1;
            v |= u64::from(b & 0x7f) << (7 * shift);
            if b & 0x80 == 0 {
                return u32::try_from(v).map_err(|_| "a number above 32 bits");
            }
        }
        Err("a number longer than 5 bytes")
    }

    /// Four little-endian bytes.
    fn word(&mut self) -> Result<u32, &'static str> {
        let b = self
            .bytes
            .get(self.at..self.at + 4)
            .ok_or("the section ends inside a number")?;
        self.at += 4;
        Ok(b.iter().rev().fold(0, |v, &x| (v << 8) | u32::from(x)))
    }

    fn left(&self) -> usize {
        self.bytes.len().saturating_sub(self.at)
    }
}

/// A decoding error naming where it happened.
#[inline(never)]
fn fail(tree: usize, node: usize, what: &str) -> String {
    format!("tree {tree}, node {node}: {what}")
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
            nodes: Vec::new(),
            value: Vec::new(),
        };
        for t in &e.trees {
            // Pre-order; splits' right children patched once numbered.
            let mut stack = vec![0u32];
            let mut fix: Vec<(usize, u32)> = Vec::new();
            let mut new_of = vec![u32::MAX; t.nodes.len()];
            while let Some(i) = stack.pop() {
                let n = t.nodes.get(i as usize)?;
                let here = f.nodes.len();
                *new_of.get_mut(i as usize)? = u32::try_from(here).ok()?;
                let c = count(n.cover)?;
                if n.is_leaf() {
                    positives(n.value, c)?;
                    f.nodes.push(Packed {
                        head: c,
                        split: f32::NAN,
                        right: here as u32,
                    });
                    f.value.push(n.value);
                } else {
                    let (l, r) = (
                        t.nodes.get(n.left as usize)?,
                        t.nodes.get(n.right as usize)?,
                    );
                    if n.feature > COLUMN || n.threshold.is_nan() || l.cover + r.cover != n.cover {
                        return None;
                    }
                    f.nodes.push(Packed {
                        head: n.feature | if n.default_left { GOES_LEFT } else { 0 },
                        split: n.threshold,
                        right: 0,
                    });
                    f.value.push(0.0);
                    fix.push((here, n.right));
                    stack.push(n.right);
                    stack.push(n.left);
                }
            }
            for (at, old) in fix {
                f.nodes.get_mut(at)?.right = *new_of.get(old as usize)?;
            }
            f.starts.push(u32::try_from(f.nodes.len()).ok()?);
            let (depth, _) = t.shape();
            f.depths.push(u8::try_from(depth).ok()?);
        }
        Some(f)
    }

    /// Decodes the section; `t` and `k` follow the tree and node being
    /// read (`t` = `usize::MAX` before the first tree) for the error.
    fn read(r: &mut Reader<'_>, t: &mut usize, k: &mut usize) -> Result<Forest, &'static str> {
        *t = usize::MAX;
        let base = f32::from_bits(r.word()?);
        let average = match r.bytes.get(r.at) {
            Some(&b) if b <= 1 => b == 1,
            _ => return Err("the averaging flag is not 0 or 1"),
        };
        r.at += 1;
        let trees = r.next()? as usize;
        let columns = r.next()? as usize;
        // Every count below is bounded by the bytes left before allocating.
        if trees > r.left() || columns > r.left() {
            return Err("more trees or columns than bytes");
        }
        let mut first = Vec::with_capacity(columns + 1);
        let mut total = 0usize;
        for _ in 0..columns {
            first.push(total);
            total = total.saturating_add(r.next()? as usize);
        }
        first.push(total);
        if total > r.left() / 4 {
            return Err("more thresholds than bytes");
        }
        let mut thresholds = Vec::with_capacity(total);
        for _ in 0..total {
            thresholds.push(f32::from_bits(r.word()?));
        }
        let mut f = Forest {
            base,
            average,
            starts: Vec::with_capacity(trees + 1),
            depths: Vec::with_capacity(trees),
            nodes: Vec::new(),
            value: Vec::new(),
        };
        f.starts.push(0);
        // A node takes three bytes or more: room for all at once (growing
        // tree by tree would double the peak).
        f.nodes.reserve_exact(r.left() / 3);
        f.value.reserve_exact(r.left() / 3);
        let mut depth: Vec<u8> = Vec::new();
        for tree in 0..trees {
            (*t, *k) = (tree, 0);
            let n = r.next()? as usize;
            // A node takes at least three bytes.
            if n == 0 || n > MAX_NODES || n > r.left() / 3 {
                return Err("more nodes than bytes left");
            }
            let a = f.nodes.len();
            depth.clear();
            depth.resize(n, 0);
            for node in 0..n {
                *k = node;
                let head = r.next()?;
                let d = depth.get(node).copied().unwrap_or(0);
                if head == 0 {
                    let cover = r.next()?;
                    let pos = r.next()?;
                    if cover == 0 || cover > MAX_COUNT || pos > cover {
                        return Err("leaf counts out of range");
                    }
                    f.nodes.push(Packed {
                        head: cover,
                        split: f32::NAN,
                        right: (a + node) as u32,
                    });
                    f.value.push(ratio(pos, cover));
                    continue;
                }
                let column = ((head - 1) / 2) as usize;
                let index = r.next()? as usize;
                let offset = r.next()? as usize;
                let (Some(&lo), Some(&hi)) = (first.get(column), first.get(column + 1)) else {
                    return Err("column out of range");
                };
                let Some(&threshold) = (index < hi.saturating_sub(lo))
                    .then(|| thresholds.get(lo + index))
                    .flatten()
                else {
                    return Err("threshold index out of range");
                };
                let right = node + 1 + offset;
                if offset == 0 || right >= n {
                    return Err("right child out of range");
                }
                if d as usize >= MAX_DEPTH {
                    return Err("deeper than the limit of 64 levels");
                }
                for c in [node + 1, right] {
                    if let Some(slot) = depth.get_mut(c) {
                        *slot = d + 1;
                    }
                }
                f.nodes.push(Packed {
                    head: column as u32 | if head % 2 == 0 { GOES_LEFT } else { 0 },
                    split: threshold,
                    right: (a + right) as u32,
                });
                f.value.push(0.0);
            }
            f.depths.push(depth.iter().copied().max().unwrap_or(0));
            f.starts.push(f.nodes.len() as u32);
        }
        *t = usize::MAX;
        if r.left() != 0 {
            return Err("bytes after the last tree");
        }
        Ok(f)
    }

    /// Decodes the section's byte string (see the module documentation).
    fn from_bytes(bytes: &[u8]) -> Result<Forest, String> {
        let mut r = Reader { bytes, at: 0 };
        let (mut t, mut k) = (0usize, 0usize);
        Forest::read(&mut r, &mut t, &mut k).map_err(|what| {
            if t == usize::MAX {
                format!("{what} (byte {})", r.at)
            } else {
                fail(t, k, what)
            }
        })
    }

    /// The trees as the `trees` kind holds them (inner nodes valued 0).
    pub fn unpack(&self) -> TreeEnsemble {
        let trees = (0..self.trees())
            .map(|i| {
                let mut t = Tree { nodes: Vec::new() };
                self.tree_into(i, &mut t);
                t
            })
            .collect();
        TreeEnsemble {
            trees,
            base: self.base,
            average: self.average,
        }
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
    /// tree, inner nodes valued 0: explanations use leaf values and covers;
    /// a split's cover is its children's sum).
    fn tree_into(&self, i: usize, out: &mut Tree) {
        let (a, b) = self.range(i);
        out.nodes.clear();
        let local = |j: usize| (j.wrapping_sub(a)) as u32;
        for (k, (n, &value)) in (a..b).zip(
            self.nodes
                .get(a..b)
                .unwrap_or(&[])
                .iter()
                .zip(self.value.get(a..b).unwrap_or(&[])),
        ) {
            out.nodes.push(if n.is_leaf(k) {
                Node {
                    feature: 0,
                    threshold: 0.0,
                    left: LEAF,
                    right: LEAF,
                    value,
                    cover: n.head as f32,
                    default_left: false,
                }
            } else {
                Node {
                    feature: n.head & COLUMN,
                    threshold: n.split,
                    left: local(k + 1),
                    right: local(n.right as usize),
                    value: 0.0,
                    cover: 0.0,
                    default_left: n.head & GOES_LEFT != 0,
                }
            });
        }
        // Children follow their parent: sum covers from the back.
        for k in (0..out.nodes.len()).rev() {
            let Some(&n) = out.nodes.get(k) else { continue };
            if !n.is_leaf() {
                let c = |j: u32| out.nodes.get(j as usize).map_or(0.0, |m| m.cover as f64);
                let sum = (c(n.left) + c(n.right)) as f32;
                if let Some(m) = out.nodes.get_mut(k) {
                    m.cover = sum;
                }
            }
        }
    }

    /// One step of a walk: a split sends `x` to a child, a leaf keeps it.
    #[inline(always)]
    fn step(&self, k: u32, x: &[f32]) -> u32 {
        match self.nodes.get(k as usize) {
            Some(n) => {
                let v = x
                    .get((n.head & COLUMN) as usize)
                    .copied()
                    .unwrap_or(f32::NAN);
                let left = (v <= n.split) | (v.is_nan() & (n.head & GOES_LEFT != 0));
                // A mask, not a branch: the direction is unpredictable.
                let m = 0u32.wrapping_sub(u32::from(left));
                ((k + 1) & m) | (n.right & !m)
            }
            None => k,
        }
    }

    /// Leaf value of tree `i` for one row.
    fn leaf_value(&self, i: usize, x: &[f32]) -> f32 {
        let mut k = self.range(i).0 as u32;
        for _ in 0..self.depths.get(i).copied().unwrap_or(0) {
            k = self.step(k, x);
        }
        self.value.get(k as usize).copied().unwrap_or(0.0)
    }

    /// Adds tree `i`'s leaf values for the rows of `xs` into `out`, `LANE`
    /// rows in step: each does `depth` steps (a leaf keeps its row); the
    /// rows after the last full `LANE` one at a time.
    #[inline(never)]
    fn add_tree(&self, i: usize, xs: &[f32], width: usize, out: &mut [f32]) {
        let root = self.range(i).0 as u32;
        let depth = self.depths.get(i).copied().unwrap_or(0);
        let mut blocks = xs.chunks_exact(width * LANE);
        let mut outs = out.chunks_exact_mut(LANE);
        for (block, o) in (&mut blocks).zip(&mut outs) {
            let mut at = [root; LANE];
            let rows: [&[f32]; LANE] =
                core::array::from_fn(|r| block.get(r * width..(r + 1) * width).unwrap_or(&[]));
            for _ in 0..depth {
                for (k, x) in at.iter_mut().zip(&rows) {
                    *k = self.step(*k, x);
                }
            }
            for (k, o) in at.iter().zip(o.iter_mut()) {
                *o += self.value.get(*k as usize).copied().unwrap_or(0.0);
            }
        }
        let rest = blocks.remainder().chunks_exact(width);
        for (x, o) in rest.zip(outs.into_remainder()) {
            *o += self.leaf_value(i, x);
        }
    }
}

impl Kind for Forest {
    const TAG: &'static str = "forest";
    type Wire = ForestWire;

    fn to_wire(&self) -> ForestWire {
        // Per column: its distinct thresholds in increasing bit order.
        let mut columns: Vec<Vec<u32>> = Vec::new();
        for (k, n) in self.nodes.iter().enumerate() {
            if !n.is_leaf(k) {
                let c = (n.head & COLUMN) as usize;
                if columns.len() <= c {
                    columns.resize(c + 1, Vec::new());
                }
                if let Some(list) = columns.get_mut(c) {
                    list.push(n.split.to_bits());
                }
            }
        }
        for list in &mut columns {
            list.sort_unstable();
            list.dedup();
        }
        let mut out = Vec::new();
        for i in 0..self.trees() {
            let (a, b) = self.range(i);
            put(&mut out, (b - a) as u32);
            for (k, (n, &v)) in (a..b).zip(self.nodes.iter().skip(a).zip(self.value.iter().skip(a)))
            {
                if n.is_leaf(k) {
                    put(&mut out, 0);
                    put(&mut out, n.head);
                    put(&mut out, positives(v, n.head).unwrap_or(0));
                } else {
                    let c = n.head & COLUMN;
                    put(&mut out, 1 + 2 * c + u32::from(n.head & GOES_LEFT != 0));
                    let index = columns
                        .get(c as usize)
                        .and_then(|l| l.binary_search(&n.split.to_bits()).ok())
                        .unwrap_or(0);
                    put(&mut out, index as u32);
                    put(&mut out, (n.right as usize).saturating_sub(k + 1) as u32);
                }
            }
        }
        let mut head = Vec::with_capacity(out.len() + 16);
        head.extend_from_slice(&self.base.to_bits().to_le_bytes());
        head.push(u8::from(self.average));
        put(&mut head, self.trees() as u32);
        put(&mut head, columns.len() as u32);
        for list in &columns {
            put(&mut head, list.len() as u32);
        }
        for b in columns.iter().flatten() {
            head.extend_from_slice(&b.to_le_bytes());
        }
        head.extend_from_slice(&out);
        ForestWire(head)
    }

    fn from_wire(w: ForestWire) -> Result<Self, String> {
        Forest::from_bytes(&w.0)
    }

    /// The byte string read in place (no copy), then as `from_wire`.
    fn decode(body: &[u8]) -> Result<Self, crate::error::FormatError> {
        super::read_section(body, |w| w.bytes(), Forest::from_bytes)
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
        let mut acc = 0.0f32;
        for i in 0..self.trees() {
            acc += self.leaf_value(i, x);
        }
        if self.average {
            acc /= self.trees() as f32;
        }
        self.base + acc
    }

    /// Tree by tree over the block (a tree's nodes stay in cache), rows in
    /// step; each row adds the trees' values in tree order, then averages.
    fn outputs(&self, xs: &[f32], width: usize, out: &mut [f32]) {
        if width == 0 {
            out.fill(self.output(&[]));
            return;
        }
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
        let depth = self.depths.iter().copied().max().unwrap_or(0) as usize;
        let shape = (self.trees(), depth, self.base, self.average);
        let mut t = Tree { nodes: Vec::new() };
        explain_trees(shape, x, (scale, offset), &mut |each| {
            for i in 0..self.trees() {
                self.tree_into(i, &mut t);
                each(&t, &[]);
            }
        })
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
            self.nodes.len(),
            if self.average {
                "averaged"
            } else {
                "summed, log-odds"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::PerPlayer;
    use crate::schema::{Encoding, Schema};

    fn next(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    /// A count tree as the trainer grows it: children appended after their
    /// parent (not in pre-order), whole covers, leaf values positives /
    /// cover through f64, a split's cover the sum of its children's.
    fn count_tree(s: &mut u64, width: u32, depth: u32) -> Tree {
        fn grow(
            nodes: &mut Vec<Node>,
            at: usize,
            s: &mut u64,
            width: u32,
            depth: u32,
        ) -> (u32, u32) {
            let r = next(s);
            if depth == 0 || r % 5 == 0 {
                let cover = 1 + (r >> 8) as u32 % 40;
                let k = (r >> 20) as u32 % (cover + 1);
                nodes[at] = Node {
                    feature: 0,
                    threshold: 0.0,
                    left: LEAF,
                    right: LEAF,
                    value: ratio(k, cover),
                    cover: cover as f32,
                    default_left: true,
                };
                return (cover, k);
            }
            let l = nodes.len();
            nodes.push(nodes[at]);
            nodes.push(nodes[at]);
            let (cl, kl) = grow(nodes, l, s, width, depth - 1);
            let (cr, kr) = grow(nodes, l + 1, s, width, depth - 1);
            let (cover, k) = (cl + cr, kl + kr);
            nodes[at] = Node {
                feature: (r >> 8) as u32 % width,
                // A few thresholds, so rows land on them exactly.
                threshold: ((r >> 16) % 9) as f32 / 4.0 - 1.0,
                left: l as u32,
                right: l as u32 + 1,
                value: ratio(k, cover),
                cover: cover as f32,
                default_left: (r >> 40) % 2 == 0,
            };
            (cover, k)
        }
        let mut nodes = vec![Node {
            feature: 0,
            threshold: 0.0,
            left: LEAF,
            right: LEAF,
            value: 0.0,
            cover: 1.0,
            default_left: true,
        }];
        grow(&mut nodes, 0, s, width, depth);
        Tree { nodes }
    }

    fn design(width: usize) -> (Schema, Vec<f32>) {
        let schema = Schema {
            features: Vec::new(),
            label: String::new(),
            positive: String::new(),
            negative: String::new(),
            encoding: Encoding {
                scale: false,
                impute_numeric: true,
            },
        };
        (schema, vec![0.0; width])
    }

    fn rows(s: &mut u64, n: usize, width: usize) -> Vec<f32> {
        (0..n * width)
            .map(|_| {
                let r = next(s);
                match r % 13 {
                    0 => f32::NAN,
                    // On a threshold exactly.
                    1 => ((r >> 16) % 9) as f32 / 4.0 - 1.0,
                    _ => ((r >> 8) % 1000) as f32 / 250.0 - 2.0,
                }
            })
            .collect()
    }

    #[test]
    fn a_packed_forest_scores_and_explains_as_its_trees_bit_for_bit() {
        let mut s = 0x5eed_1234_u64;
        for case in 0..40u32 {
            let width = 1 + case as usize % 7;
            let trees = (0..1 + case % 9)
                .map(|_| count_tree(&mut s, width as u32, 1 + case % 13))
                .collect();
            let e = TreeEnsemble {
                trees,
                base: 0.0,
                average: true,
            };
            let (schema, bg) = design(width);
            let d = Design {
                schema: &schema,
                width,
                background: &bg,
                groups: &[],
                background_set: None,
            };
            e.validate(&d).unwrap();
            let f = Forest::pack(&e).expect("a count forest packs");
            f.validate(&d).unwrap();
            // The file form decodes to the same forest.
            assert_eq!(Forest::from_wire(f.to_wire()).unwrap(), f, "case {case}");
            assert_eq!(f.cost(&d).predict, e.cost(&d).predict);
            // 37 rows: blocks of LANE and a remainder.
            let xs = rows(&mut s, 37, width);
            let mut block = vec![f32::NAN; 37];
            f.outputs(&xs, width, &mut block);
            for (x, b) in xs.chunks_exact(width).zip(&block) {
                let want = e.output(x);
                assert_eq!(f.output(x).to_bits(), want.to_bits(), "case {case}");
                assert_eq!(b.to_bits(), want.to_bits(), "case {case}");
                let (a, b) = (f.explain(&d, x, 2.0, 0.5), e.explain(&d, x, 2.0, 0.5));
                assert_eq!(a.base.to_bits(), b.base.to_bits(), "case {case}");
                let (PerPlayer::Columns(a), PerPlayer::Columns(b)) = (a.per, b.per) else {
                    panic!("columns")
                };
                let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
                assert_eq!(bits(a), bits(b), "case {case}");
            }
        }
    }

    #[test]
    fn trees_the_layout_cannot_reproduce_stay_trees() {
        let mut s = 7u64;
        let t = count_tree(&mut s, 3, 4);
        let pack = |f: &dyn Fn(&mut Tree)| {
            let mut t = t.clone();
            f(&mut t);
            Forest::pack(&TreeEnsemble {
                trees: vec![t],
                base: 0.0,
                average: true,
            })
        };
        assert!(pack(&|_| {}).is_some());
        let leaf = t.nodes.iter().position(Node::is_leaf).unwrap();
        let inner = t.nodes.iter().position(|n| !n.is_leaf()).unwrap();
        // A cover that is not a whole number, a leaf value that is no count
        // ratio, a split whose cover is not its children's sum.
        assert!(pack(&|t| t.nodes[leaf].cover += 0.5).is_none());
        assert!(pack(&|t| t.nodes[leaf].value = 0.123_456_79).is_none());
        assert!(pack(&|t| t.nodes[inner].cover += 1.0).is_none());
        assert!(pack(&|t| t.nodes[leaf].value = -0.0 - 1.0).is_none());
    }

    #[test]
    fn the_file_is_several_times_smaller_than_the_trees_section() {
        let mut s = 99u64;
        let e = TreeEnsemble {
            trees: (0..20).map(|_| count_tree(&mut s, 12, 10)).collect(),
            base: 0.0,
            average: true,
        };
        let f = Forest::pack(&e).unwrap();
        let packed = postcard::to_allocvec(&f.to_wire()).unwrap().len();
        let plain = postcard::to_allocvec(&e.to_wire()).unwrap().len();
        assert!(4 * packed < plain, "{packed} vs {plain} bytes");
    }
}
