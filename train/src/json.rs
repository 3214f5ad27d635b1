//! JSON views of runtime types for `--json` output and the HTTP service.
//! Field names match the wasm API's (camelCase), so every surface speaks the
//! same shapes.

use ferrisk::explain::Explanation;
use ferrisk::schema::FeatureKind;
use ferrisk::{Bundle, Metrics, Prediction};
use serde_json::{json, Value};

/// An `f32` as the JSON number with its shortest round-trip text (so
/// `0.1f32` is `0.1`, not `0.10000000149011612`); non-finite → null.
pub fn num(x: f32) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    x.to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn nums(xs: &[f32]) -> Value {
    Value::Array(xs.iter().map(|&x| num(x)).collect())
}

pub fn metrics(m: &Metrics) -> Value {
    json!({
        "rows": m.rows,
        "positives": m.positives,
        "threshold": num(m.threshold),
        "accuracy": m.accuracy,
        "precision": m.precision,
        "recall": m.recall,
        "f1": m.f1,
        "rocAuc": m.roc_auc,
        "ks": m.ks,
        "brier": m.brier,
        "logLoss": m.log_loss,
        "confusion": {"tn": m.confusion.tn, "fp": m.confusion.fp, "fn": m.confusion.fn_, "tp": m.confusion.tp},
        "roc": m.roc.iter().map(|p| json!({"fpr": num(p.fpr), "tpr": num(p.tpr), "threshold": num(p.threshold)})).collect::<Vec<_>>(),
    })
}

pub fn schema(b: &Bundle) -> Value {
    let s = &b.schema;
    json!({
        "label": s.label,
        "positive": s.positive,
        "negative": s.negative,
        "features": s.features.iter().map(|f| {
            let mut v = match &f.kind {
                FeatureKind::Numeric(n) => json!({
                    "name": f.name, "type": "numeric",
                    "min": num(n.min), "max": num(n.max), "mean": num(n.mean), "median": num(n.median),
                }),
                FeatureKind::Categorical(c) => json!({
                    "name": f.name, "type": "categorical",
                    "categories": c.categories, "frequencies": nums(&c.frequencies),
                }),
            };
            v["typical"] = json!(f.typical_text());
            v["missingRate"] = num(f.missing_rate);
            v
        }).collect::<Vec<_>>(),
    })
}

/// Provenance; `format_version` is the version of the file it was read from.
pub fn metadata(b: &Bundle, format_version: u16) -> Value {
    let m = &b.metadata;
    json!({
        "kind": b.algorithm.id,
        "kindName": b.algorithm.name,
        "formatVersion": format_version,
        "producer": m.producer,
        "createdUnix": m.created_unix,
        "dataName": m.data_name,
        "dataSha256": m.data_sha256,
        "dataRows": m.data_rows,
        "params": m.params,
        "notes": m.notes,
        "threshold": num(b.threshold),
        "explanationMethod": ferrisk::explain::method(b),
        "embedsTrainingRows": b.embeds_training_rows(),
    })
}

/// The training report: test metrics plus CV and split sizes.
pub fn report(b: &Bundle) -> Value {
    match &b.report {
        None => Value::Null,
        Some(r) => {
            let mut v = metrics(&r.test);
            v["cvAuc"] = r.cv.as_ref().map_or(Value::Null, |c| json!(c.folds));
            v["trainRows"] = json!(r.train_rows);
            v["testRows"] = json!(r.test_rows);
            v["fitSeconds"] = json!(r.fit_seconds);
            v
        }
    }
}

pub fn prediction(p: &Prediction) -> Value {
    json!({
        "probability": num(p.probability),
        "decision": p.decision,
        "threshold": num(p.threshold),
        "margin": num(p.margin),
        "warnings": p.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
    })
}

pub fn explanation(e: &Explanation) -> Value {
    json!({
        "base": num(e.base),
        "output": num(e.output),
        "unit": e.unit.id(),
        "method": e.method,
        "probability": num(e.probability),
        "contributions": e.contributions.iter().map(|c| json!({
            "feature": c.feature, "value": c.value, "contribution": num(c.contribution),
        })).collect::<Vec<_>>(),
        "warnings": e.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
    })
}

pub fn reasons(r: &[ferrisk::credit::Reason]) -> Value {
    json!(r
        .iter()
        .map(|r| json!({
            "rank": r.rank, "feature": r.feature, "value": r.value,
            "contribution": num(r.contribution), "points": num(r.points), "text": r.text,
        }))
        .collect::<Vec<_>>())
}

pub fn drift(r: &ferrisk::drift::DriftReport) -> Value {
    use ferrisk::drift::level;
    json!({
        "rows": r.rows,
        "score": {"psi": r.score, "level": level(r.score)},
        "features": r.features.iter().map(|(n, p)| json!({"feature": n, "psi": p, "level": level(*p)})).collect::<Vec<_>>(),
    })
}

/// Base points and each feature's points contribution.
pub fn points(base: f32, per: &[f32], e: &Explanation) -> Value {
    json!({
        "base": num(base),
        "features": e.contributions.iter().zip(per).map(|(c, p)| json!({"feature": c.feature, "points": num(*p)})).collect::<Vec<_>>(),
    })
}
