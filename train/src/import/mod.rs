//! Importing gradient-boosted trees trained elsewhere: an XGBoost JSON model
//! (`save_model("m.json")`) or a LightGBM text model (`save_model("m.txt")`)
//! becomes a ferrisk `trees` model over a schema read from a sample CSV.
//!
//! The readers (`xgboost.rs`, `lightgbm.rs`) turn the library's file into a
//! [`Foreign`] ensemble: trees laid out as ferrisk lays them out (children
//! after their parent), split thresholds already converted to ferrisk's
//! `x <= t` in `f32` ([`strict_below`], [`f64_at_most`]), missing values sent
//! where the library sends them, covers from the file (XGBoost `sum_hessian`,
//! LightGBM `internal_count` / `leaf_count`) so that TreeSHAP reproduces the
//! library's own contributions. Everything read from the file is treated as
//! hostile: every index, count and float is checked, every tree must be a
//! tree (each node reached once from the root, at most
//! [`ferrisk::kinds::trees::MAX_DEPTH`] levels), and errors name the tree and
//! node. [`build`] maps the library's features to the data's columns and
//! writes a normal model file.

pub mod bundle;
pub mod lightgbm;
pub mod xgboost;

pub use bundle::{build, ImportOptions};

use ferrisk::kinds::trees::{MAX_DEPTH, MAX_NODES};

/// Most trees an imported ensemble may have (the runtime's prediction
/// budget refuses files far below this).
pub const MAX_TREES: usize = 100_000;
/// Most features a library model may declare.
pub const MAX_FEATURES: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A model the importer recognises but does not take (another objective,
    /// booster, several classes, ...), with what was found.
    #[error("{0}")]
    Unsupported(String),
    /// A malformed or hostile file; `at` names the place (tree, node, key).
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },
    /// The library's features do not map onto the data's columns.
    #[error("{0}")]
    Mapping(String),
    #[error(transparent)]
    Train(#[from] crate::pipeline::TrainError),
}

pub(crate) fn invalid(at: impl Into<String>, message: impl Into<String>) -> ImportError {
    ImportError::Invalid {
        at: at.into(),
        message: message.into(),
    }
}

/// Which library wrote the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Library {
    XGBoost,
    LightGBM,
}

impl Library {
    pub fn name(self) -> &'static str {
        match self {
            Library::XGBoost => "XGBoost",
            Library::LightGBM => "LightGBM",
        }
    }

    /// The algorithm id a file records (`Algorithm { id, name }`).
    pub fn id(self) -> &'static str {
        match self {
            Library::XGBoost => "xgboost",
            Library::LightGBM => "lightgbm",
        }
    }
}

/// A node of an imported tree in ferrisk's layout. `feature` is the
/// library's feature index; `left == None` marks a leaf.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignNode {
    pub feature: usize,
    /// ferrisk's threshold: left when `x <= threshold` (f32).
    pub threshold: f32,
    pub default_left: bool,
    pub children: Option<(u32, u32)>,
    /// Leaf value (raw score increment); unused for inner nodes.
    pub value: f64,
    pub cover: f64,
    /// A native categorical split (`threshold` is −∞, ferrisk's marker).
    pub category: Option<ForeignCat>,
}

/// A categorical split in the library's category codes.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignCat {
    /// Codes (positions in the feature's category table) that go left.
    pub left: Vec<u32>,
    /// Where a category the library does not know goes.
    pub unknown_left: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForeignTree {
    pub nodes: Vec<ForeignNode>,
}

/// A library's binary-classification tree ensemble, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Foreign {
    pub library: Library,
    /// The library version that wrote the file (as the file states it).
    pub version: String,
    pub objective: String,
    pub booster: String,
    /// Feature names in the library's order.
    pub features: Vec<String>,
    /// For a categorical feature, its category table (code -> text).
    pub categories: Vec<Option<Vec<String>>>,
    pub trees: Vec<ForeignTree>,
    /// Raw score added to the trees' output (XGBoost's base margin).
    pub base_margin: f64,
    /// Average the tree outputs (LightGBM rf) instead of summing them.
    pub average: bool,
    /// Facts worth recording in the file's notes.
    pub notes: Vec<String>,
}

impl Foreign {
    /// How many splits use each library feature.
    pub fn split_counts(&self) -> Vec<usize> {
        let mut counts = vec![0usize; self.features.len()];
        for t in &self.trees {
            for n in &t.nodes {
                if n.children.is_some() {
                    if let Some(c) = counts.get_mut(n.feature) {
                        *c += 1;
                    }
                }
            }
        }
        counts
    }
}

/// The next `f32` below `t` (toward −∞); `-0.0` and `0.0` both give the
/// negative smallest subnormal.
pub fn next_down(t: f32) -> f32 {
    if t.is_nan() || t == f32::NEG_INFINITY {
        return t;
    }
    if t == 0.0 {
        return -f32::from_bits(1);
    }
    let b = t.to_bits();
    if t > 0.0 {
        f32::from_bits(b - 1)
    } else {
        f32::from_bits(b + 1)
    }
}

/// XGBoost goes left when `x < t` (both f32). For every `f32` `x` (NaN
/// aside), `x < t` exactly when `x <= strict_below(t)`: the largest `f32`
/// below `t` separates the same values.
pub fn strict_below(t: f32) -> f32 {
    next_down(t)
}

/// LightGBM goes left when `(x as f64) <= t`. For every `f32` `x` (NaN
/// aside), that holds exactly when `x <= f64_at_most(t)`: the largest `f32`
/// whose value is at most `t` (monotone rounding, so nothing above it is at
/// most `t` and everything up to it is).
pub fn f64_at_most(t: f64) -> f32 {
    let y = t as f32;
    if f64::from(y) > t {
        next_down(y)
    } else {
        y
    }
}

/// A laid-out tree: per output position, the source node and its output
/// children (`None` for a leaf).
pub(crate) type Layout = Vec<(usize, Option<(u32, u32)>)>;

/// Lays out a tree given by its root and a child function in ferrisk's
/// order (breadth first: every child after its parent), checking that it
/// is a tree: child indices in range, each node reached exactly once, at
/// most [`MAX_DEPTH`] levels, at most [`MAX_NODES`] nodes, no node left
/// unreached. `children(i)` gives `Ok(None)` for a leaf. Returns, per
/// output position, the source node index, and the output children.
pub(crate) fn layout(
    at: &str,
    count: usize,
    root: usize,
    children: impl Fn(usize) -> Result<Option<(usize, usize)>, ImportError>,
) -> Result<Layout, ImportError> {
    if count == 0 {
        return Err(invalid(at, "the tree has no nodes"));
    }
    if count > MAX_NODES {
        return Err(invalid(
            at,
            format!("{count} nodes, more than the limit of {MAX_NODES}"),
        ));
    }
    let mut seen = vec![false; count];
    let mut order: Vec<(usize, usize)> = vec![(root, 0)]; // (source, depth)
    let mut out = Vec::with_capacity(count);
    if let Some(s) = seen.get_mut(root) {
        *s = true;
    } else {
        return Err(invalid(at, format!("root {root} is outside the tree")));
    }
    let mut k = 0usize;
    while let Some(&(src, depth)) = order.get(k) {
        k += 1;
        let kids = children(src)?;
        let Some((l, r)) = kids else {
            out.push((src, None));
            continue;
        };
        if depth >= MAX_DEPTH {
            return Err(invalid(
                format!("{at}: node {src}"),
                format!("deeper than the limit of {MAX_DEPTH} levels"),
            ));
        }
        let mut ids = [0u32; 2];
        for (slot, c) in ids.iter_mut().zip([l, r]) {
            match seen.get_mut(c) {
                None => {
                    return Err(invalid(
                        format!("{at}: node {src}"),
                        format!("child {c} is outside the tree of {count} nodes"),
                    ))
                }
                Some(true) => {
                    return Err(invalid(
                        format!("{at}: node {src}"),
                        format!("child {c} is reached twice (not a tree)"),
                    ))
                }
                Some(s) => *s = true,
            }
            *slot = order.len() as u32;
            order.push((c, depth + 1));
        }
        out.push((src, Some((ids[0], ids[1]))));
    }
    if let Some(u) = seen.iter().position(|s| !s) {
        return Err(invalid(
            format!("{at}: node {u}"),
            "is not reached from the root",
        ));
    }
    Ok(out)
}

/// Checks a float read from a file.
pub(crate) fn finite(at: &str, what: &str, v: f64) -> Result<f64, ImportError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(invalid(at, format!("{what} is not a finite number")))
    }
}

/// Checks a cover (hessian sum or row count): finite and positive, and
/// representable as a positive `f32`.
pub(crate) fn cover(at: &str, v: f64) -> Result<f64, ImportError> {
    if v.is_finite() && v > 0.0 && (v as f32) > 0.0 && (v as f32).is_finite() {
        Ok(v)
    } else {
        Err(invalid(
            at,
            format!(
                "cover {} is not a positive finite count",
                ferrisk::num::F64(v)
            ),
        ))
    }
}

/// Reads a model file of either library, by its content (JSON: XGBoost;
/// text starting `tree`: LightGBM).
pub fn read(bytes: &[u8]) -> Result<Foreign, ImportError> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .and_then(|i| bytes.get(i));
    match start {
        Some(b'{') => xgboost::read(bytes),
        Some(b't') => lightgbm::read(bytes),
        Some(b'[') | Some(b'b') => Err(ImportError::Unsupported(
            "this looks like a binary (UBJSON) XGBoost model: save it as JSON (save_model(\"m.json\"))"
                .into(),
        )),
        _ => Err(ImportError::Unsupported(
            "not an XGBoost JSON model (a JSON object) nor a LightGBM text model (starting with 'tree')"
                .into(),
        )),
    }
}

#[cfg(test)]
// Thresholds as LightGBM writes them (17 significant digits), on purpose.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    /// Every f32 within `radius` steps of `c`, plus a spread of others.
    fn around(c: f32, radius: i64) -> Vec<f32> {
        let mut out = Vec::new();
        let b = c.to_bits() as i64;
        for d in -radius..=radius {
            let v = f32::from_bits((b + d).clamp(0, u32::MAX as i64) as u32);
            if !v.is_nan() {
                out.push(v);
                out.push(-v);
            }
        }
        out
    }

    fn thresholds() -> Vec<f64> {
        let mut ts = vec![
            0.0,
            -0.0,
            1e-35,
            -1e-35,
            1.0000000180025095e-35,
            0.5,
            1.5,
            92.868000030517592,
            5087.6501464843759,
            -42.350000381469719,
            1e-45,
            -1e-45,
            f64::from(f32::MIN_POSITIVE),
            f64::from(f32::MAX),
            f64::from(f32::MAX) * 1.000_000_01,
            -f64::from(f32::MAX) * 1.000_000_01,
            1e300,
            -1e300,
        ];
        // f32 values, midpoints between neighbours, and values just off them.
        let mut s = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let f = f32::from_bits((s >> 32) as u32);
            if !f.is_finite() {
                continue;
            }
            let g = f64::from(f);
            let up = f64::from(-next_down(-f));
            ts.push(g);
            ts.push((g + up) / 2.0);
            ts.push(g * (1.0 + 1e-12));
            ts.push(g * (1.0 - 1e-12));
        }
        ts
    }

    #[test]
    fn lightgbm_thresholds_route_every_f32_as_the_f64_comparison() {
        // Proof by the two boundary facts (monotone comparison): y = f64_at_most(t)
        // satisfies y <= t, and the next f32 above y exceeds t. Checked on
        // thousands of thresholds, and exhaustively on the f32s around each.
        for t in thresholds() {
            let y = f64_at_most(t);
            assert!(!y.is_nan(), "{t}");
            assert!(f64::from(y) <= t, "{t}: {y} above the threshold");
            let above = -next_down(-y);
            if y != f32::INFINITY {
                assert!(f64::from(above) > t, "{t}: {above} is at most t but > {y}");
            }
            for x in around(t as f32, 40) {
                assert_eq!(f64::from(x) <= t, x <= y, "t = {t:e}, x = {x:e}, y = {y:e}");
            }
        }
    }

    #[test]
    fn xgboost_thresholds_route_every_f32_as_the_strict_comparison() {
        for t in thresholds() {
            let t = t as f32;
            if !t.is_finite() {
                continue;
            }
            let y = strict_below(t);
            assert!(y < t, "{t}");
            assert!(-next_down(-y) >= t, "{t}: nothing lies between y and t");
            for x in around(t, 40) {
                assert_eq!(x < t, x <= y, "t = {t:e}, x = {x:e}");
            }
        }
        // Zero: -0.0 < 0.0 is false, and -0.0 <= -1e-45 is false too.
        assert!(-0.0f32 > strict_below(0.0));
        assert!(0.0f32 > strict_below(-0.0));
        assert!(-1e-45f32 <= strict_below(0.0));
    }

    #[test]
    fn an_exhaustive_check_over_every_f32_for_two_thresholds() {
        // All 2^32 bit patterns would take too long in a unit test; every
        // 97th pattern covers every binade and sign.
        let (tl, tx) = (92.868000030517592f64, 0.5f32);
        let (yl, yx) = (f64_at_most(tl), strict_below(tx));
        let mut bits = 0u64;
        while bits <= u64::from(u32::MAX) {
            let x = f32::from_bits(bits as u32);
            if !x.is_nan() {
                assert_eq!(f64::from(x) <= tl, x <= yl, "{x:e}");
                assert_eq!(x < tx, x <= yx, "{x:e}");
            }
            bits += 97;
        }
    }

    #[test]
    fn layout_refuses_what_is_not_a_tree() {
        // 0 -> (1, 2); 2 -> (3, 1): node 1 reached twice.
        let kids = |i: usize| -> Result<Option<(usize, usize)>, ImportError> {
            Ok(match i {
                0 => Some((1, 2)),
                2 => Some((3, 1)),
                _ => None,
            })
        };
        let e = layout("tree 4", 4, 0, kids).unwrap_err().to_string();
        assert!(
            e.contains("tree 4: node 2") && e.contains("reached twice"),
            "{e}"
        );
        let e = layout("tree 0", 3, 0, |i| Ok((i == 0).then_some((1, 5))))
            .unwrap_err()
            .to_string();
        assert!(e.contains("child 5 is outside"), "{e}");
        let e = layout("tree 0", 4, 0, |i| Ok((i == 0).then_some((1, 2))))
            .unwrap_err()
            .to_string();
        assert!(e.contains("node 3") && e.contains("not reached"), "{e}");
        // A chain deeper than the limit.
        let n = 2 * (MAX_DEPTH + 5) + 1;
        let e = layout("tree 1", n, 0, |i| {
            Ok((i % 2 == 0 && i + 2 < n).then_some((i + 1, i + 2)))
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("limit of 64 levels"), "{e}");
        // A proper tree comes out breadth first, children after parents.
        let out = layout("t", 5, 0, |i| {
            Ok(match i {
                0 => Some((4, 1)),
                1 => Some((2, 3)),
                _ => None,
            })
        })
        .unwrap();
        assert_eq!(
            out,
            vec![
                (0, Some((1, 2))),
                (4, None),
                (1, Some((3, 4))),
                (2, None),
                (3, None)
            ]
        );
    }
}
