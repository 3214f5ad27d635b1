//! `POST /predict`: bounded, cancellable batch scoring.
//!
//! The request is read (at most `--max-body` bytes, within the deadline),
//! then parsed in a blocking task, which takes a scoring slot only once the
//! request is known to be well formed and within the caps (so refused
//! requests never hold one) and scores the customers. A request of at most
//! [`EXPRESS_MAX_CUSTOMERS`] customers that finds every slot busy may use
//! one of [`EXPRESS_SLOTS`] slots kept for such requests, so a few large
//! batches cannot keep an advisor's single-customer requests waiting. The
//! customers stay slices of the body until each is scored, so memory is
//! bounded by the body and the response cap, not by what the JSON expands
//! to. The task stops between customers when the deadline passes or the
//! client goes away (the handler's future is dropped, and its guard raises
//! the cancellation flag).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ferrisk::views::{DriftView, ScoredView};
use ferrisk::{RawValue, ScoreOptions};
use http_body_util::BodyExt;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserializer, Serialize};
use serde_json::value::RawValue as JsonText;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{error, unknown_model_text, Shared};

/// Fewest scored customers in one request for which `/predict` reports
/// drift. PSI over ~10 bins carries about 0.1 of pure sampling noise at 100
/// rows (and reads 8–16, "shift", for a single customer); at 1,000 rows the
/// noise is about 0.01, well under the 0.1 "watch" level.
pub const DRIFT_MIN_ROWS: u64 = 1000;

/// Largest request (in customers) that may use an express slot.
pub const EXPRESS_MAX_CUSTOMERS: usize = 10;
/// Scoring slots kept for requests of at most [`EXPRESS_MAX_CUSTOMERS`].
pub const EXPRESS_SLOTS: usize = 1;

/// Most principal reasons a request may ask for.
const MAX_REASONS: u64 = 64;

const USAGE: &str = r#"expected {"model": "<id>", "customers": [{"<feature>": value, ...}, ...], "explain": false}"#;

/// The limits of `/predict` (flags of `ferrisk serve`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PredictLimits {
    pub max_body: usize,
    pub max_customers: usize,
    pub max_fields: usize,
    pub max_response: usize,
    pub request_timeout: Duration,
}

/// Scoring slots and request slots, shared by all requests.
#[derive(Debug)]
pub(crate) struct Slots {
    /// Blocking scoring tasks (`--workers`).
    pub scoring: Arc<Semaphore>,
    /// Extra slots for small requests ([`EXPRESS_SLOTS`]).
    pub express: Arc<Semaphore>,
    /// `/predict` requests in progress, reading or scoring (`--max-requests`).
    pub requests: Arc<Semaphore>,
}

/// 503 with `Retry-After`: a slot is free again soon.
fn busy(message: String) -> Response {
    let mut res = error(StatusCode::SERVICE_UNAVAILABLE, message);
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// Raises the cancellation flag when dropped: when the handler returns, and
/// when its future is dropped because the client went away.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

enum BodyError {
    TooLarge,
    Read(String),
}

async fn read_body(body: Body, limit: usize, hint: usize) -> Result<Bytes, BodyError> {
    let mut body = body;
    // Trust the announced length only so far: memory follows the bytes.
    let mut buf = Vec::with_capacity(hint.min(limit).min(1 << 20));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

pub(crate) async fn predict(State(st): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let lim = st.limits;
    let deadline = tokio::time::Instant::now() + lim.request_timeout;
    let Ok(request) = Arc::clone(&st.slots.requests).try_acquire_owned() else {
        return busy(format!(
            "too many /predict requests in progress (at most {}, --max-requests); retry shortly",
            st.max_requests
        ));
    };
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "request body is larger than the server's limit of {} bytes (--max-body)",
                lim.max_body
            ),
        )
    };
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n > lim.max_body as u64) {
        return too_large();
    }
    let hint = length.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let body = match tokio::time::timeout_at(deadline, read_body(body, lim.max_body, hint)).await {
        Ok(Ok(b)) => b,
        Ok(Err(BodyError::TooLarge)) => return too_large(),
        Ok(Err(BodyError::Read(e))) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {e}"),
            )
        }
        Err(_) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within the deadline of {} (--request-timeout)",
                    seconds(lim.request_timeout)
                ),
            )
        }
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(Arc::clone(&cancel));
    let job = Job {
        st: Arc::clone(&st),
        body,
        cancel,
        deadline: deadline.into_std(),
        _request: request,
    };
    let task = tokio::task::spawn_blocking(move || job.run());
    let expired = || {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the request did not finish within the deadline of {} (--request-timeout) and its \
                 scoring was stopped; send fewer customers or leave \"explain\" off",
                seconds(lim.request_timeout)
            ),
        )
    };
    match tokio::time::timeout_at(deadline, task).await {
        Ok(Ok(Outcome::Done(bytes))) => {
            let mut res = Body::from(bytes).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            res
        }
        Ok(Ok(Outcome::Refused(res))) => res,
        Ok(Ok(Outcome::Cancelled)) | Err(_) => expired(),
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("scoring failed: {e}"),
        ),
    }
}

enum Outcome {
    /// The response body.
    Done(Vec<u8>),
    /// A whole-request refusal (4xx).
    Refused(Response),
    /// Deadline passed or client gone.
    Cancelled,
}

/// One request's work, run on a blocking thread.
struct Job {
    st: Shared,
    body: Bytes,
    cancel: Arc<AtomicBool>,
    deadline: Instant,
    /// Held until the work ends, even when the client has gone.
    _request: OwnedSemaphorePermit,
}

/// `/predict`'s request, customers still as JSON text.
#[derive(Default)]
struct Request<'a> {
    model: Option<String>,
    customers: Option<Vec<&'a JsonText>>,
    explain: Option<bool>,
    lang: Option<String>,
    reasons: Option<u64>,
    all_reasons: Option<bool>,
    /// A decision record per scored customer (`ferrisk::record`).
    record: Option<bool>,
}

/// Counts of one `/predict` answer.
#[derive(Debug, Default, Serialize)]
struct Summary {
    customers: u64,
    scored: u64,
    failed: u64,
    /// Warnings over all scored customers.
    warnings: u64,
}

/// A customer that could not be scored: its place in `customers` and why.
#[derive(Serialize)]
struct CustomerError<'a> {
    index: usize,
    error: &'a str,
}

/// What follows `results` in `/predict`'s answer (see the crate doc).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PredictTail {
    summary: Summary,
    /// `null` unless at least [`DRIFT_MIN_ROWS`] customers were scored.
    drift: Option<DriftView>,
    /// Why `drift` is `null`; `null` when it is not.
    drift_note: Option<String>,
}

impl Job {
    fn stopped(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || Instant::now() >= self.deadline
    }

    fn run(self) -> Outcome {
        match self.score() {
            Ok(bytes) => Outcome::Done(bytes),
            Err(Stop::Refused(status, msg)) => Outcome::Refused(error(status, msg)),
            Err(Stop::Busy(msg)) => Outcome::Refused(busy(msg)),
            Err(Stop::Cancelled) => Outcome::Cancelled,
        }
    }

    /// A scoring slot, or an express slot for a small request; held until
    /// the scoring ends (also when the request was abandoned).
    fn slot(&self, customers: usize) -> Result<OwnedSemaphorePermit, Stop> {
        let slots = &self.st.slots;
        Arc::clone(&slots.scoring)
            .try_acquire_owned()
            .or_else(|_| {
                if customers <= EXPRESS_MAX_CUSTOMERS {
                    Arc::clone(&slots.express).try_acquire_owned()
                } else {
                    Err(tokio::sync::TryAcquireError::NoPermits)
                }
            })
            .map_err(|_| {
                Stop::Busy(format!(
                    "all {} scoring slots are busy (--workers); retry shortly",
                    self.st.workers
                ))
            })
    }

    fn score(&self) -> Result<Vec<u8>, Stop> {
        let lim = self.st.limits;
        let bad = |msg: String| Stop::Refused(StatusCode::BAD_REQUEST, msg);
        let over = Cell::new(false);
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        let parsed = RequestSeed {
            max_customers: lim.max_customers,
            over: &over,
        }
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|()| r));
        let req = match parsed {
            Ok(r) => r,
            Err(_) if over.get() => {
                return Err(Stop::Refused(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                    "too many customers: at most {} per request (--max-customers); split the batch",
                    lim.max_customers
                ),
                ))
            }
            Err(e) if e.is_data() => return Err(bad(format!("{e}; {USAGE}"))),
            Err(e) => return Err(bad(format!("request body is not valid JSON: {e}"))),
        };
        let Some(model) = req.model else {
            return Err(bad(format!("missing \"model\" (a text); {USAGE}")));
        };
        let Some(customers) = req.customers else {
            return Err(bad(format!("missing \"customers\" (an array); {USAGE}")));
        };
        let Some(m) = self.st.by_id.get(&model) else {
            return Err(Stop::Refused(
                StatusCode::NOT_FOUND,
                unknown_model_text(&self.st, &model),
            ));
        };
        let _slot = self.slot(customers.len())?;
        if self.stopped() {
            return Err(Stop::Cancelled);
        }
        let opts = ScoreOptions {
            explain: req.explain.unwrap_or(false),
            lang: req.lang.unwrap_or_else(|| "en".into()),
            reasons: req.reasons.map_or(ferrisk::credit::DEFAULT_REASONS, |k| {
                usize::try_from(k.min(MAX_REASONS)).unwrap_or(0)
            }),
            reasons_always: req.all_reasons.unwrap_or(false),
            drift: true,
            record: req.record.unwrap_or(false),
        };
        let mut rows = m.scorer.rows(opts);
        let mut summary = Summary {
            customers: customers.len() as u64,
            ..Summary::default()
        };
        let too_big = |done: usize| {
            Stop::Refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the response would be larger than {} bytes (--max-response) after {done} of {} \
                     customers; send fewer customers per request or leave \"explain\" off",
                    lim.max_response,
                    customers.len()
                ),
            )
        };
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(b"{\"model\":");
        write_json(&mut out, &m.id)?;
        out.extend_from_slice(b",\"results\":[");
        for (i, raw) in customers.iter().enumerate() {
            if self.stopped() {
                return Err(Stop::Cancelled);
            }
            if i > 0 {
                out.push(b',');
            }
            let scored = parse_customer(raw.get(), lim.max_fields).and_then(|fields| {
                rows.score_fields(fields.iter().map(|(k, v)| (k.as_ref(), v.raw())))
                    .map_err(|e| e.to_string())
            });
            match scored {
                Ok(s) => {
                    summary.scored += 1;
                    summary.warnings += s.prediction.warnings.len() as u64;
                    write_json(&mut out, &ScoredView::from(&s))?;
                }
                Err(msg) => {
                    summary.failed += 1;
                    write_json(
                        &mut out,
                        &CustomerError {
                            index: i,
                            error: &msg,
                        },
                    )?;
                }
            }
            if out.len() > lim.max_response {
                return Err(too_big(i + 1));
            }
        }
        out.push(b']');
        let (drift, drift_note) = if summary.scored < DRIFT_MIN_ROWS {
            (
                None,
                Some(format!(
                    "drift is reported for batches of at least {DRIFT_MIN_ROWS} scored customers \
                     (PSI of a smaller batch is mostly sampling noise); this one scored {}",
                    summary.scored
                )),
            )
        } else {
            match rows.into_drift().map(|c| m.scorer.drift_report(&c)) {
                Some(Ok(r)) => (Some(DriftView::from(&r)), None),
                Some(Err(e)) => (None, Some(e.to_string())),
                None => (
                    None,
                    Some("this model file has no training-population profile".to_string()),
                ),
            }
        };
        let tail = PredictTail {
            summary,
            drift,
            drift_note,
        };
        let at = out.len();
        write_json(&mut out, &tail)?;
        // `{"summary":...}` continues the object: its `{` becomes `,`.
        if let Some(b) = out.get_mut(at) {
            *b = b',';
        }
        if out.len() > lim.max_response {
            return Err(too_big(customers.len()));
        }
        Ok(out)
    }
}

enum Stop {
    Refused(StatusCode, String),
    /// No scoring slot free: 503 with `Retry-After`.
    Busy(String),
    Cancelled,
}

fn write_json(out: &mut Vec<u8>, v: &impl Serialize) -> Result<(), Stop> {
    serde_json::to_writer(out, v).map_err(|e| {
        Stop::Refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the response: {e}"),
        )
    })
}

/// Parses the request object; `customers` is collected as JSON texts, and
/// parsing stops (with `over` set) at the first customer past the cap.
struct RequestSeed<'c> {
    max_customers: usize,
    over: &'c Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for RequestSeed<'_> {
    type Value = Request<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Request<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RequestSeed<'_> {
    type Value = Request<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a request object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Request<'de>, A::Error> {
        let mut r = Request::default();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let field = |e: A::Error| de::Error::custom(format!("\"{}\": {e}", key.0));
            match key.0.as_ref() {
                "model" => r.model = Some(map.next_value::<String>().map_err(field)?),
                "customers" => {
                    r.customers = Some(
                        map.next_value_seed(CustomersSeed {
                            max: self.max_customers,
                            over: self.over,
                        })
                        .map_err(field)?,
                    )
                }
                "explain" => r.explain = Some(map.next_value::<bool>().map_err(field)?),
                "lang" => r.lang = Some(map.next_value::<String>().map_err(field)?),
                "reasons" => r.reasons = Some(map.next_value::<u64>().map_err(field)?),
                "record" => r.record = Some(map.next_value::<bool>().map_err(field)?),
                "allReasons" | "all_reasons" => {
                    r.all_reasons = Some(map.next_value::<bool>().map_err(field)?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(r)
    }
}

struct CustomersSeed<'c> {
    max: usize,
    over: &'c Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for CustomersSeed<'_> {
    type Value = Vec<&'de JsonText>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for CustomersSeed<'_> {
    type Value = Vec<&'de JsonText>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of customers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(c) = seq.next_element::<&'de JsonText>()? {
            if out.len() == self.max {
                self.over.set(true);
                return Err(de::Error::custom(format!(
                    "more than {} customers",
                    self.max
                )));
            }
            out.push(c);
        }
        Ok(out)
    }
}

/// A string, borrowed from the body when it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// One feature value of a customer as sent.
#[derive(Debug)]
enum Field<'a> {
    Missing,
    Number(f64),
    Text(Cow<'a, str>),
    /// Not a number, a text or null: what it was.
    Other(&'static str),
}

impl Field<'_> {
    fn raw(&self) -> RawValue<'_> {
        match self {
            Field::Missing | Field::Other(_) => RawValue::Missing,
            Field::Number(x) => RawValue::Number(*x),
            Field::Text(s) => RawValue::Text(s),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a text or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Field<'de>, E> {
        Ok(Field::Missing)
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Field<'de>, E> {
        Ok(Field::Number(x))
    }
    fn visit_i64<E: de::Error>(self, x: i64) -> Result<Field<'de>, E> {
        Ok(Field::Number(x as f64))
    }
    fn visit_u64<E: de::Error>(self, x: u64) -> Result<Field<'de>, E> {
        Ok(Field::Number(x as f64))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Field<'de>, E> {
        Ok(Field::Text(Cow::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Field<'de>, E> {
        Ok(Field::Text(Cow::Owned(s.to_string())))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Field<'de>, E> {
        Ok(Field::Other("a boolean"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Other("an object"))
    }
}

type Fields<'a> = Vec<(Cow<'a, str>, Field<'a>)>;

/// A customer object, or what was sent instead, or the first problem found
/// in its fields (the rest are skipped without being kept).
struct CustomerVisitor {
    max_fields: usize,
}

impl<'de> Visitor<'de> for CustomerVisitor {
    type Value = Result<Fields<'de>, String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of feature values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::new();
        let mut problem = None;
        while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
            if problem.is_some() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if fields.len() == self.max_fields {
                problem = Some(format!(
                    "more than {} fields in one customer (--max-fields)",
                    self.max_fields
                ));
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            match map.next_value::<Field<'de>>()? {
                Field::Other(kind) => {
                    problem = Some(format!(
                        "field '{name}': expected a number, a text or null, got {kind}"
                    ));
                }
                Field::Number(x) if !x.is_finite() => {
                    problem = Some(format!("field '{name}': {x} is not a finite number"));
                }
                v => fields.push((name, v)),
            }
        }
        Ok(problem.map_or(Ok(fields), Err))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err(not_an_object("null")))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err(not_an_object("a boolean")))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err(not_an_object("a number")))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err(not_an_object("a number")))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err(not_an_object("a number")))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err(not_an_object("a text")))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err(not_an_object("an array")))
    }
}

fn not_an_object(kind: &str) -> String {
    format!("expected an object of feature values, got {kind}")
}

/// Parses one customer's JSON text (already checked to be JSON).
fn parse_customer(text: &str, max_fields: usize) -> Result<Fields<'_>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_any(CustomerVisitor { max_fields })
        .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn customers_parse_to_fields_or_say_what_is_wrong() {
        let f = parse_customer(r#"{"a": 1, "b": "x\"y", "c": null}"#, 10).unwrap();
        let names: Vec<&str> = f.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(matches!(f[1].1.raw(), RawValue::Text("x\"y")));
        let e = |t: &str| parse_customer(t, 2).unwrap_err();
        assert_eq!(e("5"), "expected an object of feature values, got a number");
        assert_eq!(
            e("[1]"),
            "expected an object of feature values, got an array"
        );
        assert!(
            e(r#"{"a": true}"#).contains("field 'a'") && e(r#"{"a": true}"#).contains("a boolean")
        );
        assert!(e(r#"{"a": {"x": [1]}, "b": 1}"#).contains("an object"));
        assert!(e(r#"{"a": 1, "b": 2, "c": 3}"#).contains("more than 2 fields"));
        assert!(e(r#"{"a": 1e999}"#).contains("number out of range"));
    }

    #[test]
    fn the_customer_cap_stops_parsing() {
        let over = Cell::new(false);
        let body = format!(r#"{{"model":"m","customers":[{}]}}"#, ["{}"; 5].join(","));
        let mut de = serde_json::Deserializer::from_str(&body);
        let r = RequestSeed {
            max_customers: 4,
            over: &over,
        }
        .deserialize(&mut de);
        assert!(r.is_err() && over.get());
        let mut de = serde_json::Deserializer::from_str(&body);
        let r = RequestSeed {
            max_customers: 5,
            over: &over,
        }
        .deserialize(&mut de)
        .unwrap();
        assert_eq!(r.customers.unwrap().len(), 5);
        assert_eq!(r.model.as_deref(), Some("m"));
    }
}
