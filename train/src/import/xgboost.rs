//! XGBoost JSON models (`Booster.save_model("m.json")`, XGBoost 1.0 and
//! later): `gbtree` boosters with the `binary:logistic` or
//! `binary:logitraw` objective.
//!
//! XGBoost goes left when `x < split_condition` in `f32` and sends a
//! missing value to `default_left`; leaves hold their (learning-rate scaled)
//! value in `split_conditions`. The base margin is `base_score` mapped
//! through the objective's link (`logit` for `binary:logistic`; the
//! identity for `binary:logitraw`, whose base score is a margin).

use serde_json::Value;

use super::{
    cover, finite, invalid, layout, strict_below, Foreign, ForeignCat, ForeignNode, ForeignTree,
    ImportError, Library, MAX_FEATURES, MAX_TREES,
};

fn get<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a Value, ImportError> {
    v.get(key)
        .ok_or_else(|| invalid(at, format!("missing key '{key}'")))
}

fn text<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a str, ImportError> {
    get(v, key, at)?
        .as_str()
        .ok_or_else(|| invalid(at, format!("'{key}' is not a string")))
}

/// A count XGBoost writes as a string ("120") or a number.
fn count(v: &Value, key: &str, at: &str) -> Result<u64, ImportError> {
    let x = get(v, key, at)?;
    let n = match x {
        Value::String(s) => s.trim().parse::<u64>().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    };
    n.ok_or_else(|| invalid(at, format!("'{key}' is not a count: {x}")))
}

fn array<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a Vec<Value>, ImportError> {
    get(v, key, at)?
        .as_array()
        .ok_or_else(|| invalid(at, format!("'{key}' is not an array")))
}

/// Array `key` of `len` entries, each converted by `get` (`what` names the
/// expected type in the error).
fn entries<T>(
    v: &Value,
    (key, at): (&str, &str),
    len: usize,
    what: &str,
    get: impl Fn(&Value) -> Option<T>,
) -> Result<Vec<T>, ImportError> {
    let a = array(v, key, at)?;
    if a.len() != len {
        return Err(invalid(
            at,
            format!("'{key}' has {} entries for {len} nodes", a.len()),
        ));
    }
    a.iter()
        .enumerate()
        .map(|(i, x)| get(x).ok_or_else(|| invalid(format!("{at}: {key}[{i}]"), what)))
        .collect()
}

fn numbers(v: &Value, key: &str, at: &str, len: usize) -> Result<Vec<f64>, ImportError> {
    entries(v, (key, at), len, "not a number", Value::as_f64)
}

fn ints(v: &Value, key: &str, at: &str, len: usize) -> Result<Vec<i64>, ImportError> {
    entries(v, (key, at), len, "not an integer", Value::as_i64)
}

/// `base_score` as XGBoost writes it: `"5E-1"`, or `"[5E-1]"` (3.x, one
/// value per target).
fn base_score(s: &str) -> Result<f64, ImportError> {
    let t = s.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(t);
    let parts: Vec<&str> = t.split(',').collect();
    if parts.len() != 1 {
        return Err(ImportError::Unsupported(format!(
            "XGBoost model: base_score has {} values ({s}): a multi-target model is not supported",
            parts.len()
        )));
    }
    let v = parts
        .first()
        .and_then(|p| p.trim().parse::<f64>().ok())
        .ok_or_else(|| {
            invalid(
                "learner_model_param",
                format!("base_score '{s}' is not a number"),
            )
        })?;
    finite("learner_model_param", "base_score", v)
}

/// Reads an XGBoost JSON model.
pub fn read(bytes: &[u8]) -> Result<Foreign, ImportError> {
    let root: Value = serde_json::from_slice(bytes)
        .map_err(|e| invalid("XGBoost JSON", format!("not valid JSON: {e}")))?;
    let version = match root.get("version").and_then(Value::as_array) {
        Some(v) => v
            .iter()
            .map(|x| x.as_u64().map(|n| n.to_string()).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("."),
        None => "unknown".into(),
    };
    let learner = get(&root, "learner", "model")?;
    let booster = get(learner, "gradient_booster", "learner")?;
    let booster_name = text(booster, "name", "learner.gradient_booster")?;
    match booster_name {
        "gbtree" => {}
        "dart" => {
            return Err(ImportError::Unsupported(
                "XGBoost model: booster 'dart' is not supported (dart drops and re-weights trees; \
                 only gbtree boosters import)"
                    .into(),
            ))
        }
        "gblinear" => {
            return Err(ImportError::Unsupported(
                "XGBoost model: booster 'gblinear' is a linear model, not trees; only gbtree boosters import"
                    .into(),
            ))
        }
        other => {
            return Err(ImportError::Unsupported(format!(
                "XGBoost model: booster '{other}' is not supported; only gbtree boosters import"
            )))
        }
    }
    let objective = text(
        get(learner, "objective", "learner")?,
        "name",
        "learner.objective",
    )?;
    let param = get(learner, "learner_model_param", "learner")?;
    let classes = count(param, "num_class", "learner_model_param")?;
    if classes > 1 || objective.starts_with("multi:") {
        return Err(ImportError::Unsupported(format!(
            "XGBoost model: objective '{objective}' with {classes} classes is a multi-class model; \
             only binary models (binary:logistic, binary:logitraw) import"
        )));
    }
    if !matches!(objective, "binary:logistic" | "binary:logitraw") {
        return Err(ImportError::Unsupported(format!(
            "XGBoost model: objective '{objective}' is not supported; only binary:logistic and \
             binary:logitraw import"
        )));
    }
    if let Some(t) = param.get("num_target") {
        let n = count(param, "num_target", "learner_model_param")?;
        if n > 1 {
            return Err(ImportError::Unsupported(format!(
                "XGBoost model: {n} targets ({t}); only single-target models import"
            )));
        }
    }
    let p = base_score(text(param, "base_score", "learner_model_param")?)?;
    // XGBoost keeps the margin in f32. binary:logistic stores the base score
    // as a probability (the margin is its logit); binary:logitraw stores the
    // margin itself.
    let base_margin = if objective == "binary:logistic" {
        if !(p > 0.0 && p < 1.0) {
            return Err(invalid(
                "learner_model_param",
                format!(
                    "base_score {} is not a probability in (0, 1)",
                    ferrisk::num::F64(p)
                ),
            ));
        }
        f64::from((-(1.0 / p - 1.0).ln()) as f32)
    } else {
        f64::from(p as f32)
    };

    let n_features = count(param, "num_feature", "learner_model_param")? as usize;
    if n_features == 0 || n_features > MAX_FEATURES {
        return Err(invalid(
            "learner_model_param",
            format!("num_feature {n_features} is outside 1..={MAX_FEATURES}"),
        ));
    }
    let features: Vec<String> = match learner.get("feature_names").and_then(Value::as_array) {
        Some(names) if !names.is_empty() => {
            if names.len() != n_features {
                return Err(invalid(
                    "learner.feature_names",
                    format!("{} names for {n_features} features", names.len()),
                ));
            }
            names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    n.as_str().map(str::to_string).ok_or_else(|| {
                        invalid(format!("learner.feature_names[{i}]"), "not a string")
                    })
                })
                .collect::<Result<_, _>>()?
        }
        // Trained on a bare matrix: XGBoost's own names.
        _ => (0..n_features).map(|i| format!("f{i}")).collect(),
    };
    let categorical: Vec<bool> = match learner.get("feature_types").and_then(Value::as_array) {
        Some(types) => (0..n_features)
            .map(|i| types.get(i).and_then(Value::as_str) == Some("c"))
            .collect(),
        None => vec![false; n_features],
    };
    let model = get(booster, "model", "learner.gradient_booster")?;
    let trees = array(model, "trees", "gradient_booster.model")?;
    if trees.is_empty() || trees.len() > MAX_TREES {
        return Err(invalid(
            "gradient_booster.model.trees",
            format!("{} trees, outside 1..={MAX_TREES}", trees.len()),
        ));
    }
    if let Some(info) = model.get("tree_info").and_then(Value::as_array) {
        if info.iter().any(|g| g.as_u64() != Some(0)) {
            return Err(ImportError::Unsupported(
                "XGBoost model: trees of several output groups (multi-class); only binary models import"
                    .into(),
            ));
        }
    }
    let categories = category_tables(model, &categorical, &features)?;
    let sizes: Vec<usize> = categories
        .iter()
        .map(|c| c.as_ref().map_or(0, Vec::len))
        .collect();
    let mut out = Vec::with_capacity(trees.len());
    for (k, t) in trees.iter().enumerate() {
        out.push(tree(t, k, n_features, &sizes)?);
    }
    let mut notes = Vec::new();
    if let Some(best) = learner
        .get("attributes")
        .and_then(|a| a.get("best_iteration"))
        .and_then(Value::as_str)
    {
        notes.push(format!(
            "the XGBoost file records best_iteration {best}; every one of its {} trees is imported",
            out.len()
        ));
    }
    Ok(Foreign {
        library: Library::XGBoost,
        version,
        objective: objective.to_string(),
        booster: booster_name.to_string(),
        features,
        categories,
        trees: out,
        base_margin,
        average: false,
        notes,
    })
}

/// The category tables of categorical features: XGBoost 3.1+ records each
/// categorical column's categories (`gradient_booster.model.cats.enc`: the
/// strings' bytes and their boundaries); code k is the k-th string.
fn category_tables(
    model: &Value,
    categorical: &[bool],
    features: &[String],
) -> Result<Vec<Option<Vec<String>>>, ImportError> {
    if !categorical.iter().any(|&c| c) {
        return Ok(vec![None; categorical.len()]);
    }
    let at = "gradient_booster.model.cats";
    let enc = model
        .get("cats")
        .and_then(|c| c.get("enc"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ImportError::Unsupported(
                "XGBoost model: categorical features without a category table (cats.enc, written by \
                 XGBoost 3.1 and later from pandas categoricals); re-save the model with a recent \
                 XGBoost"
                    .into(),
            )
        })?;
    let mut out = Vec::with_capacity(categorical.len());
    for (i, &is_cat) in categorical.iter().enumerate() {
        if !is_cat {
            out.push(None);
            continue;
        }
        let here = format!(
            "{at}.enc[{i}] ('{}')",
            features.get(i).map_or("?", String::as_str)
        );
        let e = enc.get(i).ok_or_else(|| invalid(&here, "missing"))?;
        let offsets = array(e, "offsets", &here)?;
        let values = array(e, "values", &here)?;
        let bytes: Vec<u8> = values
            .iter()
            .map(|v| v.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                ImportError::Unsupported(format!(
                    "XGBoost model: {here}: only string categories import"
                ))
            })?;
        let mut starts: Vec<usize> = offsets
            .iter()
            .map(|o| o.as_u64().map(|o| o as usize))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid(&here, "offsets are not counts"))?;
        // Boundaries of the strings: n + 1 offsets (the last = the length).
        if starts.last() != Some(&bytes.len()) {
            starts.push(bytes.len());
        }
        if starts.len() < 2 || starts.len() > 1 << 16 {
            return Err(invalid(&here, format!("{} category offsets", starts.len())));
        }
        let mut names = Vec::with_capacity(starts.len() - 1);
        for w in starts.windows(2) {
            let name = bytes
                .get(w[0]..w[1])
                .and_then(|b| std::str::from_utf8(b).ok())
                .ok_or_else(|| invalid(&here, "offsets out of order or not UTF-8"))?;
            names.push(name.to_string());
        }
        out.push(Some(names));
    }
    Ok(out)
}

fn tree(
    t: &Value,
    k: usize,
    n_features: usize,
    sizes: &[usize],
) -> Result<ForeignTree, ImportError> {
    let at = format!("tree {k}");
    let param = get(t, "tree_param", &at)?;
    let n = count(param, "num_nodes", &at)? as usize;
    if n == 0 || n > ferrisk::kinds::trees::MAX_NODES {
        return Err(invalid(&at, format!("num_nodes {n} is out of range")));
    }
    if let Some(size) = param.get("size_leaf_vector") {
        let s = count(param, "size_leaf_vector", &at)?;
        if s > 1 {
            return Err(ImportError::Unsupported(format!(
                "XGBoost model: {at} has vector leaves (size_leaf_vector {size}): a multi-output tree"
            )));
        }
    }
    let left = ints(t, "left_children", &at, n)?;
    let right = ints(t, "right_children", &at, n)?;
    let split = ints(t, "split_indices", &at, n)?;
    let cond = numbers(t, "split_conditions", &at, n)?;
    let hess = numbers(t, "sum_hessian", &at, n)?;
    let dleft = ints(t, "default_left", &at, n)?;
    let stype = match t.get("split_type") {
        Some(_) => ints(t, "split_type", &at, n)?,
        None => vec![0; n],
    };
    // Categorical splits: node ids, and each one's codes (those going right).
    let (cat_nodes, cat_sets) = if stype.contains(&1) {
        let nodes = ints(
            t,
            "categories_nodes",
            &at,
            array(t, "categories_nodes", &at)?.len(),
        )?;
        let segs = ints(t, "categories_segments", &at, nodes.len())?;
        let lens = ints(t, "categories_sizes", &at, nodes.len())?;
        let all = array(t, "categories", &at)?;
        let codes: Vec<i64> = ints(t, "categories", &at, all.len())?;
        let mut sets = Vec::with_capacity(nodes.len());
        for (j, (&s0, &len)) in segs.iter().zip(&lens).enumerate() {
            let set = usize::try_from(s0)
                .ok()
                .zip(usize::try_from(len).ok())
                .and_then(|(a, l)| codes.get(a..a.checked_add(l)?))
                .ok_or_else(|| {
                    invalid(format!("{at}: categories_segments[{j}]"), "out of range")
                })?;
            sets.push(set.to_vec());
        }
        (nodes, sets)
    } else {
        (Vec::new(), Vec::new())
    };
    let kids = |i: usize| -> Result<Option<(usize, usize)>, ImportError> {
        let (l, r) = (left[i], right[i]);
        if l == -1 && r == -1 {
            return Ok(None);
        }
        if l < 0 || r < 0 {
            return Err(invalid(
                format!("{at}: node {i}"),
                format!("children ({l}, {r}): one is a leaf marker, the other not"),
            ));
        }
        Ok(Some((l as usize, r as usize)))
    };
    let order = layout(&at, n, 0, kids)?;
    let mut nodes = Vec::with_capacity(n);
    for (src, children) in order {
        let here = format!("{at}: node {src}");
        let c = cover(&here, hess[src])?;
        let node = match children {
            None => ForeignNode {
                feature: 0,
                threshold: 0.0,
                default_left: false,
                children: None,
                value: finite(&here, "leaf value", cond[src])?,
                cover: c,
                category: None,
            },
            Some(ch) => {
                let f = split[src];
                if f < 0 || f as usize >= n_features {
                    return Err(invalid(
                        &here,
                        format!("split feature {f} is outside 0..{n_features}"),
                    ));
                }
                let default_left = match dleft[src] {
                    0 => false,
                    1 => true,
                    d => return Err(invalid(&here, format!("default_left is {d}"))),
                };
                if stype[src] == 1 {
                    // XGBoost sends the listed categories right, every other
                    // one (including one it never saw) left.
                    let n = sizes.get(f as usize).copied().unwrap_or(0);
                    let j = cat_nodes
                        .iter()
                        .position(|&c| c == src as i64)
                        .ok_or_else(|| invalid(&here, "categorical split without categories"))?;
                    let right_set = &cat_sets[j];
                    if n == 0 {
                        return Err(invalid(
                            &here,
                            "categorical split on a feature without categories",
                        ));
                    }
                    if let Some(bad) = right_set.iter().find(|&&c| c < 0 || c as usize >= n) {
                        return Err(invalid(
                            &here,
                            format!("category code {bad} outside 0..{n}"),
                        ));
                    }
                    let left: Vec<u32> = (0..n as u32)
                        .filter(|c| !right_set.contains(&i64::from(*c)))
                        .collect();
                    nodes.push(ForeignNode {
                        feature: f as usize,
                        threshold: f32::NEG_INFINITY,
                        default_left,
                        children: Some(ch),
                        value: 0.0,
                        cover: c,
                        category: Some(ForeignCat {
                            left,
                            unknown_left: true,
                        }),
                    });
                    continue;
                }
                if stype[src] != 0 {
                    return Err(invalid(&here, format!("split_type {}", stype[src])));
                }
                let t32 = finite(&here, "split condition", cond[src])? as f32;
                if !t32.is_finite() {
                    return Err(invalid(&here, "split condition overflows f32"));
                }
                ForeignNode {
                    feature: f as usize,
                    threshold: strict_below(t32),
                    default_left,
                    children: Some(ch),
                    value: 0.0,
                    cover: c,
                    category: None,
                }
            }
        };
        nodes.push(node);
    }
    Ok(ForeignTree { nodes })
}
