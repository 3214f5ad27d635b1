//! LightGBM text models (`Booster.save_model("m.txt")`): the `binary`
//! objective, `gbdt` boosting (and GOSS sampling) or `rf` (outputs
//! averaged).
//!
//! LightGBM goes left when `x <= threshold` with both in `f64`; ferrisk
//! compares `f32` values, so each threshold becomes the largest `f32` at
//! most equal to it ([`super::f64_at_most`]), which routes every `f32` input
//! identically. Missing values follow the node's `missing_type`: `NaN` sends
//! NaN to the default side; `None` scores NaN as 0.0 (so the default side is
//! where 0 goes); `Zero` sends NaN and zero to the default side, taken when
//! that is also where zero goes by the threshold. The init score is inside
//! the first tree's leaves (LightGBM adds it there), so there is no base.

use super::{
    cover, f64_at_most, finite, invalid, layout, Foreign, ForeignCat, ForeignNode, ForeignTree,
    ImportError, Library, MAX_FEATURES, MAX_TREES,
};

/// LightGBM's `kZeroThreshold`: values within it count as zero.
const ZERO: f64 = 1.000_000_018_002_509_5e-35;

struct Block<'a> {
    /// Line number of the block's first line (1-based).
    line: usize,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Block<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn need(&self, key: &str, at: &str) -> Result<&'a str, ImportError> {
        self.get(key).ok_or_else(|| {
            invalid(
                at,
                format!("missing '{key}=' (block from line {})", self.line),
            )
        })
    }
}

fn list<T: std::str::FromStr>(
    b: &Block<'_>,
    key: &str,
    at: &str,
    len: usize,
) -> Result<Vec<T>, ImportError> {
    let v = b.need(key, at)?;
    let out: Vec<T> = v
        .split_ascii_whitespace()
        .enumerate()
        .map(|(i, s)| {
            s.parse::<T>().map_err(|_| {
                invalid(
                    format!("{at}: {key}[{i}]"),
                    format!("'{s}' is not a number"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    if out.len() != len {
        return Err(invalid(
            at,
            format!("'{key}' has {} entries, expected {len}", out.len()),
        ));
    }
    Ok(out)
}

/// Reads a LightGBM text model.
pub fn read(bytes: &[u8]) -> Result<Foreign, ImportError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| invalid("LightGBM model", format!("not UTF-8 text: {e}")))?;
    let mut header = Block {
        line: 1,
        pairs: Vec::new(),
    };
    let mut flags: Vec<&str> = Vec::new();
    let mut trees: Vec<Block<'_>> = Vec::new();
    let mut params: Vec<(&str, &str)> = Vec::new();
    let mut in_trees = false;
    let mut ended = false;
    let mut in_params = false;
    let mut pandas: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(rest) = line.strip_prefix("pandas_categorical:") {
            pandas = Some(rest);
            continue;
        }
        if line == "end of trees" {
            ended = true;
            in_trees = false;
            continue;
        }
        if line == "parameters:" {
            in_params = true;
            continue;
        }
        if line == "end of parameters" {
            in_params = false;
            continue;
        }
        if in_params {
            // [boosting: gbdt]
            if let Some((k, v)) = line
                .strip_prefix('[')
                .and_then(|l| l.strip_suffix(']'))
                .and_then(|l| l.split_once(':'))
            {
                params.push((k.trim(), v.trim()));
            }
            continue;
        }
        if ended || line.is_empty() {
            continue;
        }
        if let Some(n) = line.strip_prefix("Tree=") {
            if n.parse::<usize>().ok() != Some(trees.len()) {
                return Err(invalid(
                    format!("line {}", i + 1),
                    format!("'{line}' out of sequence (expected Tree={})", trees.len()),
                ));
            }
            if trees.len() >= MAX_TREES {
                return Err(invalid(
                    format!("line {}", i + 1),
                    format!("more than {MAX_TREES} trees"),
                ));
            }
            in_trees = true;
            trees.push(Block {
                line: i + 1,
                pairs: Vec::new(),
            });
            continue;
        }
        let block = if in_trees {
            match trees.last_mut() {
                Some(b) => b,
                None => continue,
            }
        } else {
            &mut header
        };
        match line.split_once('=') {
            Some((k, v)) => block.pairs.push((k, v)),
            None if !in_trees => flags.push(line),
            None => {}
        }
    }
    if header.pairs.is_empty() || !text.trim_start().starts_with("tree") {
        return Err(invalid(
            "LightGBM model",
            "no header (the file should start with 'tree')",
        ));
    }
    let version = header.get("version").unwrap_or("unknown").to_string();
    let objective = header.need("objective", "header")?.trim().to_string();
    let mut words = objective.split_ascii_whitespace();
    let name = words.next().unwrap_or("");
    let classes: usize = header
        .get("num_class")
        .unwrap_or("1")
        .trim()
        .parse()
        .map_err(|_| invalid("header", "num_class is not a count"))?;
    let per_iteration: usize = header
        .get("num_tree_per_iteration")
        .unwrap_or("1")
        .trim()
        .parse()
        .map_err(|_| invalid("header", "num_tree_per_iteration is not a count"))?;
    if classes > 1 || per_iteration > 1 || name.starts_with("multiclass") {
        return Err(ImportError::Unsupported(format!(
            "LightGBM model: objective '{objective}' with {classes} classes is a multi-class model; \
             only the binary objective imports"
        )));
    }
    if name != "binary" {
        return Err(ImportError::Unsupported(format!(
            "LightGBM model: objective '{objective}' is not supported; only 'binary' imports"
        )));
    }
    for w in words {
        if let Some(s) = w.strip_prefix("sigmoid:") {
            if s.parse::<f64>().ok() != Some(1.0) {
                return Err(ImportError::Unsupported(format!(
                    "LightGBM model: binary objective with sigmoid {s}; only sigmoid:1 (the default) imports"
                )));
            }
        }
    }
    let boosting = params
        .iter()
        .find(|(k, _)| *k == "boosting")
        .map(|(_, v)| *v)
        .unwrap_or("gbdt")
        .to_string();
    let average = flags.contains(&"average_output");
    match boosting.as_str() {
        "gbdt" | "gbrt" | "goss" => {}
        "rf" | "random_forest" => {}
        "dart" => return Err(ImportError::Unsupported(
            "LightGBM model: boosting 'dart' is not supported (dart re-weights dropped trees); \
                 only gbdt and rf import"
                .into(),
        )),
        other => {
            return Err(ImportError::Unsupported(format!(
                "LightGBM model: boosting '{other}' is not supported; only gbdt and rf import"
            )))
        }
    }
    let features: Vec<String> = header
        .need("feature_names", "header")?
        .split_ascii_whitespace()
        .map(str::to_string)
        .collect();
    if features.is_empty() || features.len() > MAX_FEATURES {
        return Err(invalid(
            "header",
            format!(
                "{} feature names, outside 1..={MAX_FEATURES}",
                features.len()
            ),
        ));
    }
    if trees.is_empty() {
        return Err(invalid("LightGBM model", "no trees"));
    }
    let categories = category_tables(&header, pandas, features.len())?;
    let out = trees
        .iter()
        .enumerate()
        .map(|(k, b)| tree(b, k, &features, &categories))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Foreign {
        library: Library::LightGBM,
        version,
        objective,
        booster: boosting,
        features,
        categories,
        trees: out,
        base_margin: 0.0,
        average,
        notes: Vec::new(),
    })
}

/// Category tables of the categorical features (those whose `feature_infos`
/// entry lists codes, `-1:0:1:2`, rather than a range `[min:max]`): the
/// `pandas_categorical` lists, in feature order, when the model was trained
/// on pandas categoricals; otherwise the codes themselves as text.
fn category_tables(
    header: &Block<'_>,
    pandas: Option<&str>,
    n: usize,
) -> Result<Vec<Option<Vec<String>>>, ImportError> {
    let infos: Vec<&str> = header
        .get("feature_infos")
        .unwrap_or("")
        .split_ascii_whitespace()
        .collect();
    let lists: Option<Vec<Vec<serde_json::Value>>> = match pandas.map(str::trim) {
        None | Some("null") | Some("") => None,
        Some(text) => Some(serde_json::from_str(text).map_err(|e| {
            invalid(
                "pandas_categorical",
                format!("not a JSON list of lists: {e}"),
            )
        })?),
    };
    let mut out = vec![None; n];
    let mut j = 0usize;
    for (i, slot) in out.iter_mut().enumerate() {
        let Some(info) = infos.get(i) else { break };
        if info.starts_with('[') || *info == "none" {
            continue;
        }
        let here = format!("feature_infos[{i}]");
        let table = match &lists {
            Some(lists) => {
                let list = lists
                    .get(j)
                    .ok_or_else(|| invalid(&here, "no pandas_categorical list for it"))?;
                list.iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            }
            None => {
                let mut max = 0i64;
                for c in info.split(':') {
                    let c: i64 = c
                        .parse()
                        .map_err(|_| invalid(&here, format!("'{c}' is not a category code")))?;
                    max = max.max(c);
                }
                if max >= 1 << 16 {
                    return Err(invalid(&here, format!("category code {max} is too large")));
                }
                (0..=max).map(|c| c.to_string()).collect()
            }
        };
        *slot = Some(table);
        j += 1;
    }
    Ok(out)
}

fn tree(
    b: &Block<'_>,
    k: usize,
    features: &[String],
    categories: &[Option<Vec<String>>],
) -> Result<ForeignTree, ImportError> {
    let at = format!("Tree={k} (line {})", b.line);
    let leaves: usize = b
        .need("num_leaves", &at)?
        .trim()
        .parse()
        .map_err(|_| invalid(&at, "num_leaves is not a count"))?;
    if leaves == 0 || leaves > ferrisk::kinds::trees::MAX_NODES / 2 {
        return Err(invalid(&at, format!("num_leaves {leaves} is out of range")));
    }
    if b.get("is_linear").map(str::trim) == Some("1") {
        return Err(ImportError::Unsupported(format!(
            "LightGBM model: {at} is a linear tree (linear_tree=true); only constant leaves import"
        )));
    }
    let cats: usize = b
        .get("num_cat")
        .unwrap_or("0")
        .trim()
        .parse()
        .map_err(|_| invalid(&at, "num_cat is not a count"))?;
    let (bounds, words): (Vec<usize>, Vec<u32>) = if cats > 0 {
        let bounds: Vec<usize> = list(b, "cat_boundaries", &at, cats + 1)?;
        let total = bounds.last().copied().unwrap_or(0);
        (bounds, list(b, "cat_threshold", &at, total)?)
    } else {
        (Vec::new(), Vec::new())
    };
    let values: Vec<f64> = list(b, "leaf_value", &at, leaves)?;
    if leaves == 1 {
        let v = finite(&format!("{at}: leaf 0"), "leaf value", values[0])?;
        return Ok(ForeignTree {
            nodes: vec![ForeignNode {
                feature: 0,
                threshold: 0.0,
                default_left: false,
                children: None,
                value: v,
                cover: 1.0,
                category: None,
            }],
        });
    }
    let inner = leaves - 1;
    let split: Vec<i64> = list(b, "split_feature", &at, inner)?;
    let threshold: Vec<f64> = list(b, "threshold", &at, inner)?;
    let decision: Vec<u32> = list(b, "decision_type", &at, inner)?;
    let left: Vec<i64> = list(b, "left_child", &at, inner)?;
    let right: Vec<i64> = list(b, "right_child", &at, inner)?;
    let leaf_count: Vec<f64> = list(b, "leaf_count", &at, leaves)?;
    let inner_count: Vec<f64> = list(b, "internal_count", &at, inner)?;
    // One index space: inner nodes 0..inner, leaf j at inner + j.
    let node_of = |c: i64| -> Option<usize> {
        if c >= 0 {
            let c = c as usize;
            (c < inner).then_some(c)
        } else {
            let j = (!c) as usize;
            (j < leaves).then_some(inner + j)
        }
    };
    let kids = |i: usize| -> Result<Option<(usize, usize)>, ImportError> {
        if i >= inner {
            return Ok(None);
        }
        match (node_of(left[i]), node_of(right[i])) {
            (Some(l), Some(r)) => Ok(Some((l, r))),
            _ => Err(invalid(
                format!("{at}: node {i}"),
                format!("child ({}, {}) outside the tree", left[i], right[i]),
            )),
        }
    };
    let order = layout(&at, inner + leaves, 0, kids)?;
    let mut nodes = Vec::with_capacity(order.len());
    for (src, children) in order {
        let node = match children {
            None => {
                let j = src - inner;
                let here = format!("{at}: leaf {j}");
                ForeignNode {
                    feature: 0,
                    threshold: 0.0,
                    default_left: false,
                    children: None,
                    value: finite(&here, "leaf value", values[j])?,
                    cover: cover(&here, leaf_count[j])?,
                    category: None,
                }
            }
            Some(ch) => {
                let here = format!("{at}: node {src}");
                let f = split[src];
                if f < 0 || f as usize >= features.len() {
                    return Err(invalid(
                        &here,
                        format!("split feature {f} is outside 0..{}", features.len()),
                    ));
                }
                let d = decision[src];
                if d & 1 != 0 {
                    // Categorical: the codes in the node's bitset go left;
                    // any other (unknown, negative, missing) goes right.
                    let n = categories
                        .get(f as usize)
                        .and_then(|c| c.as_ref())
                        .map_or(0, Vec::len);
                    let t = threshold[src];
                    let idx = t as usize;
                    let range = (t >= 0.0 && t.fract() == 0.0)
                        .then(|| bounds.get(idx).zip(bounds.get(idx + 1)))
                        .flatten()
                        .and_then(|(&a, &e)| words.get(a..e));
                    let Some(set) = range else {
                        return Err(invalid(
                            &here,
                            format!("categorical threshold {t} is not one of the tree's {cats} category sets"),
                        ));
                    };
                    if n == 0 {
                        return Err(invalid(
                            &here,
                            "categorical split on a feature without categories",
                        ));
                    }
                    let left: Vec<u32> = (0..n as u32)
                        .filter(|&c| {
                            set.get(c as usize / 32)
                                .is_some_and(|w| (w >> (c % 32)) & 1 == 1)
                        })
                        .collect();
                    nodes.push(ForeignNode {
                        feature: f as usize,
                        threshold: f32::NEG_INFINITY,
                        default_left: false,
                        children: Some(ch),
                        value: 0.0,
                        cover: cover(&here, inner_count[src])?,
                        category: Some(ForeignCat {
                            left,
                            unknown_left: false,
                        }),
                    });
                    continue;
                }
                // LightGBM writes `inf` for a split that sends every number
                // left (and only missing values right).
                let t = threshold[src];
                if t.is_nan() {
                    return Err(invalid(&here, "threshold is NaN"));
                }
                let flag_left = d & 2 != 0;
                let zero_left = 0.0 <= t;
                let default_left = match (d >> 2) & 3 {
                    0 => zero_left,
                    1 => {
                        // Zero and NaN go to the default side; exact in
                        // ferrisk when zero goes there by the threshold too
                        // and the threshold is outside LightGBM's zero band.
                        if flag_left != zero_left || (-ZERO..ZERO).contains(&t) {
                            return Err(ImportError::Unsupported(format!(
                                "LightGBM model: {here} treats zero as missing (zero_as_missing) and \
                                 sends it to the other side than its threshold {t}; not representable"
                            )));
                        }
                        flag_left
                    }
                    2 => flag_left,
                    m => return Err(invalid(&here, format!("missing type {m}"))),
                };
                ForeignNode {
                    feature: f as usize,
                    threshold: f64_at_most(t),
                    default_left,
                    children: Some(ch),
                    value: 0.0,
                    cover: cover(&here, inner_count[src])?,
                    category: None,
                }
            }
        };
        nodes.push(node);
    }
    Ok(ForeignTree { nodes })
}
