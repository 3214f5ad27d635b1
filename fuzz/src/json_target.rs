//! Target `json`: the `/predict` request body, scored as the service scores
//! it but without a server: `serde_json::from_slice`, the `model`,
//! `customers`, `explain`, `lang` and `reasons` members read as
//! `ferrisk_serve`'s handler reads them, each customer through the public
//! `ferrisk_serve::customer_fields` and `RowScorer::score_fields`, the
//! results as `ScoredView`s with the drift report, serialised with
//! `serde_json::to_vec` like the response.
//!
//! Oracles beyond "no panic": no NaN probability, and the response body is
//! JSON that parses again.

use ferrisk::views::{DriftView, ScoredView};
use ferrisk::ScoreOptions;
use serde::Serialize;
use serde_json::{json, Map, Value as Json};

use crate::rng::Rng;
use crate::{Context, Input, Outcome};

/// The response shape of `/predict` (as `ferrisk_serve` writes it).
#[derive(Serialize)]
struct PredictResponse<'a> {
    model: &'a str,
    results: Vec<ScoredView>,
    drift: Option<DriftView>,
}

pub fn execute(bytes: &[u8], ctx: &Context) -> Outcome {
    let req: Json = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(_) => return Outcome::rejected("not JSON".into()),
    };
    let Some(model) = req.get("model").and_then(Json::as_str) else {
        return Outcome::rejected("no model".into());
    };
    let Some(customers) = req.get("customers").and_then(Json::as_array) else {
        return Outcome::rejected("no customers".into());
    };
    let Some((id, scorer)) = ctx.scorers.iter().find(|(id, _)| id == model) else {
        return Outcome::rejected("unknown model".into());
    };
    let opts = ScoreOptions {
        explain: req.get("explain").and_then(Json::as_bool).unwrap_or(true),
        lang: req
            .get("lang")
            .and_then(Json::as_str)
            .unwrap_or("en")
            .to_string(),
        reasons: req
            .get("reasons")
            .and_then(Json::as_u64)
            .map_or(ferrisk::credit::DEFAULT_REASONS, |k| k.min(64) as usize),
        reasons_always: req
            .get("allReasons")
            .and_then(Json::as_bool)
            .unwrap_or(false),
        drift: true,
        record: req.get("record").and_then(Json::as_bool).unwrap_or(false),
    };
    let mut out = Outcome::accepted();
    let mut rows = scorer.rows(opts);
    let mut results = Vec::with_capacity(customers.len());
    for c in customers {
        let fields = match ferrisk_serve::customer_fields(c) {
            Ok(f) => f,
            Err(_) => {
                out.class = "customer rejected".into();
                return out;
            }
        };
        match rows.score_fields(fields) {
            Ok(s) => {
                let p = s.prediction.probability;
                if p.is_nan() || !(0.0..=1.0).contains(&p) {
                    out.find("nan-probability", id, &format!("p = {p}"));
                }
                results.push(ScoredView::from(&s));
            }
            Err(e) => {
                let _ = e.to_string();
                out.class = "score error".into();
                return out;
            }
        }
    }
    let drift = rows
        .into_drift()
        .and_then(|c| scorer.drift_report(&c).ok())
        .map(|r| DriftView::from(&r));
    let body = PredictResponse {
        model: id,
        results,
        drift,
    };
    match serde_json::to_vec(&body) {
        Ok(bytes) => {
            if serde_json::from_slice::<Json>(&bytes).is_err() {
                out.find("response-not-json", id, "the response does not parse");
            }
        }
        Err(e) => out.find("response-not-serialisable", id, &e.to_string()),
    }
    out
}

/// Generates `/predict` bodies for the golden models: customers from the
/// synthetic data with wild values, extra and missing members, wrong types,
/// then sometimes text-level damage.
/// A feature as the generator needs it: name, numeric, categories.
struct Spec {
    name: String,
    numeric: bool,
    cats: Vec<String>,
}

pub struct Generator {
    models: Vec<(String, Vec<Spec>)>,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn wild_value(rng: &mut Rng, cats: &[String]) -> Json {
    match rng.below(24) {
        0 => Json::Null,
        1 => json!(true),
        2 => json!([]),
        3 => json!({"a": 1}),
        4 => json!(""),
        5 => json!(" "),
        6 => json!("NA"),
        7 => json!(1e308),
        8 => json!(-1e308),
        9 => json!(3.5e38),
        10 => json!(5e-324),
        11 => json!(-0.0),
        12 => json!(u64::MAX),
        13 => json!(i64::MIN),
        14 => json!("1e999"),
        15 => json!("  12  "),
        16 => json!("１２"),
        17 => json!("x".repeat(rng.range(100, 20_000))),
        18 => json!("ünï\u{0}"),
        19 => cats
            .get(rng.below(cats.len().max(1)))
            .map_or(json!("?"), |c| json!(format!(" {} ", c.to_uppercase()))),
        20 => json!(rng.below(1000) as f64 - 500.0),
        21 => json!(f32::MAX as f64 * 0.999_999),
        22 => json!(1.5),
        _ => cats
            .get(rng.below(cats.len().max(1)))
            .map_or(json!(7), |c| json!(c)),
    }
}

const DAMAGE: &[&str] = &[
    "1e400",
    "-0",
    "\"\\ud800\"",
    "NaN",
    ",",
    "}",
    "]",
    "{",
    "[",
    "\"",
    ":",
    "null",
    "\\",
    "\u{0}",
    "1",
    "9999999999999999999999999",
];

impl Generator {
    pub fn new(ctx: &Context) -> Generator {
        let models = ctx
            .scorers
            .iter()
            .map(|(id, s)| {
                let feats = s
                    .bundle()
                    .schema
                    .features
                    .iter()
                    .map(|f| {
                        let cats = match &f.kind {
                            ferrisk::schema::FeatureKind::Categorical(c) => c.categories.clone(),
                            ferrisk::schema::FeatureKind::Numeric(_) => Vec::new(),
                        };
                        Spec {
                            name: f.name.clone(),
                            numeric: f.is_numeric(),
                            cats,
                        }
                    })
                    .collect();
                (id.clone(), feats)
            })
            .collect();
        let (header, rows) = crate::corpus::synthetic_rows(64);
        Generator {
            models,
            header,
            rows,
        }
    }

    fn customer(&self, rng: &mut Rng, feats: &[Spec]) -> Json {
        let mut m = Map::new();
        let row = rng.pick(&self.rows);
        for Spec {
            name,
            numeric,
            cats,
        } in feats
        {
            if rng.one_in(10) {
                continue;
            }
            let cell = row.and_then(|r| {
                self.header
                    .iter()
                    .position(|h| h == name)
                    .and_then(|i| r.get(i))
            });
            let v = if rng.one_in(5) {
                wild_value(rng, cats)
            } else {
                match cell {
                    Some(c) if *numeric && rng.coin() => {
                        c.parse::<f64>().map_or(json!(c), |x| json!(x))
                    }
                    Some(c) => json!(c),
                    None => json!(1),
                }
            };
            m.insert(name.clone(), v);
        }
        if rng.one_in(6) {
            let key = ["default", "", "unknown_feature", "AGE", "age "][rng.below(5)];
            m.insert(key.to_string(), wild_value(rng, &[]));
        }
        Json::Object(m)
    }

    pub fn next(&mut self, rng: &mut Rng) -> Input {
        let Some((id, feats)) = rng.pick(&self.models) else {
            return Input {
                bytes: b"{}".to_vec(),
                note: "no models".into(),
            };
        };
        let n = if rng.one_in(20) {
            rng.range(20, 60)
        } else {
            rng.range(1, 4)
        };
        let mut customers: Vec<Json> = (0..n).map(|_| self.customer(rng, feats)).collect();
        if rng.one_in(16) {
            customers.push([json!(null), json!(3), json!([1]), json!("x")][rng.below(4)].clone());
        }
        let mut req = Map::new();
        req.insert(
            "model".into(),
            if rng.one_in(30) {
                json!("nope")
            } else {
                json!(id)
            },
        );
        req.insert("customers".into(), Json::Array(customers));
        if rng.one_in(3) {
            req.insert(
                "explain".into(),
                [json!(true), json!(false), json!("yes"), json!(1)][rng.below(4)].clone(),
            );
        }
        if rng.one_in(3) {
            req.insert(
                "reasons".into(),
                [
                    json!(0),
                    json!(3),
                    json!(64),
                    json!(u64::MAX),
                    json!(-1),
                    json!(2.5),
                ][rng.below(6)]
                .clone(),
            );
        }
        if rng.one_in(3) {
            req.insert(
                "lang".into(),
                [json!("de"), json!("zh"), json!(""), json!("xx-\u{0}")][rng.below(4)].clone(),
            );
        }
        let mut bytes = serde_json::to_vec(&Json::Object(req)).unwrap_or_default();
        let mut note = format!("request for {id}");
        if rng.one_in(4) {
            for _ in 0..rng.small(4) {
                let at = rng.below(bytes.len() + 1);
                match rng.below(3) {
                    0 => {
                        let t = rng.pick(DAMAGE).copied().unwrap_or(",");
                        bytes.splice(at..at, t.bytes());
                    }
                    1 if at < bytes.len() => {
                        let len = rng.range(1, 16.min(bytes.len() - at));
                        bytes.drain(at..at + len);
                    }
                    _ if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
                    _ => {}
                }
            }
            note.push_str(" + text damage");
        }
        Input { bytes, note }
    }
}
