//! `ferrisk serve`: the advisor page and a small JSON API over a directory
//! of model files, safe to leave running on a shared network or a laptop.
//!
//! * `GET /` and every other path: the static files of `--www` (the page,
//!   its ES modules, the wasm package in `www/pkg`), with a strict
//!   Content-Security-Policy. Scoring on the page happens in the browser.
//! * `GET /models`: the loaded models, `[{id, kind, kindName, file, rocAuc}]`.
//! * `GET /models/{id}`: `{id, schema, metadata, metrics}` of one model.
//! * `GET /model-files/{id}.frk`: the model file's bytes.
//! * `POST /predict`: scores customers with the same runtime crate the wasm
//!   bundle links, so the numbers equal the page's and `ferrisk predict`'s.
//!
//! Every model file is loaded once at start; a file that fails to load is
//! reported on stderr and skipped. The service binds 127.0.0.1 by default.
//!
//! # `/predict`
//!
//! Request (`Content-Type: application/json`):
//! `{"model": id, "customers": [{feature: value, ...}, ...], "explain": false,
//! "reasons": 4, "lang": "en"}`. Values are numbers, texts or `null`
//! (missing). `explain` (default `false`) adds the explanation, the principal
//! reasons and the points per feature to every result; it is what costs CPU.
//!
//! Answer (200):
//!
//! ```json
//! {"model": "gbm",
//!  "results": [{ScoredView}, {"index": 1, "error": "field 'age': ..."}, ...],
//!  "summary": {"customers": 2, "scored": 1, "failed": 1, "warnings": 0},
//!  "drift": null,
//!  "driftNote": "drift is reported for batches of at least 1000 scored customers ..."}
//! ```
//!
//! `results[i]` is the fate of `customers[i]`: a scored customer is a
//! [`ferrisk::views::ScoredView`] (the shape of `ferrisk explain --json`;
//! without `explain`, `explanation` and `pointsBreakdown` are `null` and
//! `reasons` is empty, `points` is always there); a customer that could not
//! be scored (not an object, a value of the wrong type, an unparsable or
//! non-finite number, an unknown category...) is `{"index": i, "error":
//! message}` — a client tells them apart by the `error` key — and the
//! others are scored anyway. `summary.warnings` counts the warnings of all
//! scored customers. `drift` (population stability against the training
//! population) is reported only when at least [`predict::DRIFT_MIN_ROWS`]
//! customers were scored in the request, since the PSI of a small batch is
//! mostly sampling noise; otherwise it is `null` and `driftNote` says why.
//!
//! Only a malformed request fails as a whole, with `{"error": message}`:
//! 400 (not JSON, no `model`, `customers` not an array, a field of the wrong
//! type), 404 (unknown model), 413 (over a cap below), 408 (body not received
//! in time), 503 (deadline passed, or all slots busy: `Retry-After: 1`).
//!
//! # Limits (every one a flag of `ferrisk serve`)
//!
//! | flag | default | what happens beyond it |
//! |---|---|---|
//! | `--max-body` | 8 MiB | 413 before the body is read (by its length) or as soon as it passes the limit |
//! | `--max-customers` | 1,000 | 413 naming the cap; parsing stops at the first customer past it |
//! | `--max-fields` | 1,000 | that customer is an error entry (fields per customer) |
//! | `--max-response` | 32 MiB | 413; scoring stops as soon as the answer would pass it |
//! | `--request-timeout` | 10 s | 408 while reading the body, 503 while scoring; the scoring stops |
//! | `--workers` | number of CPUs | scoring tasks at once (plus [`predict::EXPRESS_SLOTS`] for requests of at most [`predict::EXPRESS_MAX_CUSTOMERS`] customers); more: 503 + `Retry-After` |
//! | `--max-requests` | 4 × workers | `/predict` requests in progress (reading or scoring); more: 503 + `Retry-After` |
//! | `--header-timeout` | 10 s | the connection is closed (see [`net`]) |
//! | `--idle-timeout` | 5 s | the connection is closed (see [`net`]) |
//! | `--max-connections` | 256 | the oldest idle connection is closed to make room (see [`net`]) |
//!
//! Fixed: request headers at most [`net::HEADER_BUFFER`] bytes and
//! [`net::MAX_HEADERS`] lines; at most 64 principal reasons.
//!
//! Scoring runs on a blocking thread that checks a cancellation flag between
//! customers: the flag is raised when the deadline passes and when the
//! client disconnects (the request's future is dropped), so abandoned work
//! stops within one customer.
//!
//! # Who may call
//!
//! * **Host allow-list**: a request whose `Host` is not `127.0.0.1`,
//!   `localhost` or `[::1]` with the bound port (or the bound address itself
//!   when it is a specific one), nor a name given with `--allow-host NAME`
//!   (repeatable; `NAME` or `NAME:PORT`), is refused with 421. This defeats
//!   DNS rebinding: a page of another site that makes its name resolve to
//!   this machine still sends its own name as `Host`.
//! * **Origins**: a request with an `Origin` header other than the
//!   service's own (`http(s)://` + its `Host`) is refused with 403 unless the
//!   origin is listed with `--allow-origin ORIGIN` (repeatable); only listed
//!   origins get `Access-Control-Allow-Origin` (and an answer to the
//!   preflight `OPTIONS`). No other CORS header is ever sent.
//! * **JSON only**: a `POST` without `Content-Type: application/json` is
//!   refused with 415, so a plain HTML form or a `text/plain` fetch of
//!   another site cannot post to the service.

mod guard;
pub mod net;
pub mod predict;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ferrisk::views::{MetadataView, MetricsView, SchemaView};
use ferrisk::{format, RawValue, Scorer};
use serde::Serialize;
use serde_json::{json, Value as Json};
use tokio::sync::Semaphore;

use crate::guard::Access;
use crate::net::ConnLimits;
use crate::predict::{PredictLimits, Slots};

/// Content-Security-Policy of the page (the same text is in a `<meta>` of
/// `www/index.html`, so static hosting keeps it): no inline code, no eval
/// (only wasm compilation), nothing fetched from elsewhere.
pub const CSP: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' data:; worker-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'";

const MIB: usize = 1024 * 1024;

/// Shown after the flags in `ferrisk serve --help`.
const NOTES: &str = "\
POST /predict {\"model\": ID, \"customers\": [{FEATURE: VALUE, ...}, ...], \"explain\": false}: \
results[i] is customers[i], scored (explain --json's shape) or {\"index\": i, \"error\": ...}; \
a summary counts scored, failed and warnings; drift only for at least 1000 scored customers \
(else null, with driftNote). Only a malformed request fails as a whole (400/404/413).

Requests whose Host is not 127.0.0.1, localhost or [::1] on the bound port (nor --allow-host) get 421; \
requests from another Origin (not --allow-origin) get 403; POSTs that are not application/json get 415. \
Durations: 10s, 250ms, 1.5 (seconds).";

#[derive(clap::Args, Debug)]
#[command(after_help = NOTES)]
pub struct ServeArgs {
    /// Directory whose *.frk model files are offered (id = file stem).
    #[arg(long, value_name = "DIR", default_value = "models")]
    pub models: PathBuf,
    /// Directory of the advisor page (index.html, modules, pkg/).
    #[arg(long, value_name = "DIR", default_value = "www")]
    pub www: PathBuf,
    /// Address to bind. Keep the default unless the machine is on a trusted network.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to bind; 0 picks any free port (the URL line tells which).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Serve only model files signed by a key of this public key file (from
    /// `ferrisk keygen`); others are reported on stderr and skipped.
    /// Repeatable; default: the files FERRISK_TRUSTED_KEYS lists.
    #[arg(long = "trusted-key", value_name = "FILE")]
    pub trusted_keys: Vec<PathBuf>,

    /// Largest accepted request body in bytes (larger: 413).
    #[arg(long = "max-body", value_name = "BYTES", default_value_t = 8 * MIB, help_heading = "Limits")]
    pub max_body: usize,
    /// Most customers in one /predict request (more: 413).
    #[arg(
        long = "max-customers",
        value_name = "N",
        default_value_t = 1000,
        help_heading = "Limits"
    )]
    pub max_customers: usize,
    /// Most fields in one customer (more: that customer is an error entry).
    #[arg(
        long = "max-fields",
        value_name = "N",
        default_value_t = 1000,
        help_heading = "Limits"
    )]
    pub max_fields: usize,
    /// Largest /predict answer in bytes; scoring stops with 413 as soon as it would pass it.
    #[arg(long = "max-response", value_name = "BYTES", default_value_t = 32 * MIB, help_heading = "Limits")]
    pub max_response: usize,
    /// Deadline of one request, body and scoring; past it the scoring stops (408 or 503).
    #[arg(long = "request-timeout", value_name = "DURATION", default_value = "10s", value_parser = parse_duration, help_heading = "Limits")]
    pub request_timeout: Duration,
    /// Scoring tasks at once (default: the number of CPUs); more: 503 with Retry-After.
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub workers: Option<usize>,
    /// /predict requests in progress at once, reading or scoring (default: 4 × workers); more: 503.
    #[arg(long = "max-requests", value_name = "N", help_heading = "Limits")]
    pub max_requests: Option<usize>,

    /// Time to receive a request's headers, from connect or the previous response; then the connection is closed.
    #[arg(long = "header-timeout", value_name = "DURATION", default_value = "10s", value_parser = parse_duration, help_heading = "Connections")]
    pub header_timeout: Duration,
    /// A connection with no request in progress and no byte moving for this long is closed.
    #[arg(long = "idle-timeout", value_name = "DURATION", default_value = "5s", value_parser = parse_duration, help_heading = "Connections")]
    pub idle_timeout: Duration,
    /// Most open connections; at the cap the oldest idle one is closed to make room.
    #[arg(
        long = "max-connections",
        value_name = "N",
        default_value_t = 256,
        help_heading = "Connections"
    )]
    pub max_connections: usize,

    /// Also answer requests whose Host is NAME (or NAME:PORT); repeatable. Default: loopback names only.
    #[arg(long = "allow-host", value_name = "NAME", help_heading = "Access")]
    pub allow_host: Vec<String>,
    /// Let pages of ORIGIN (scheme://host[:port]) call the API, with CORS; repeatable.
    #[arg(long = "allow-origin", value_name = "ORIGIN", help_heading = "Access")]
    pub allow_origin: Vec<String>,
}

/// `10s`, `250ms`, `2m` or a number of seconds (`1.5`); more than zero, at most a day.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let x: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (e.g. 10s, 250ms)"))?;
    let secs = match unit {
        "ms" => x / 1000.0,
        "s" => x,
        "m" => x * 60.0,
        _ => return Err(format!("'{s}': unit must be ms, s or m")),
    };
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!("'{s}': must be more than 0 and at most a day"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// One model file, loaded and checked.
struct Loaded {
    id: String,
    bytes: Bytes,
    scorer: Scorer,
    format_version: u16,
}

struct AppState {
    /// Sorted by model kind (registry order), then id.
    models: Vec<Arc<Loaded>>,
    by_id: BTreeMap<String, Arc<Loaded>>,
    /// Canonical path of the page directory.
    www: PathBuf,
    limits: PredictLimits,
    slots: Slots,
    workers: usize,
    max_requests: usize,
}

type Shared = Arc<AppState>;

/// Runs the service until the process is stopped.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    for (flag, n) in [
        ("--max-body", args.max_body),
        ("--max-customers", args.max_customers),
        ("--max-fields", args.max_fields),
        ("--max-response", args.max_response),
        ("--max-connections", args.max_connections),
        ("--workers", args.workers.unwrap_or(1)),
        ("--max-requests", args.max_requests.unwrap_or(1)),
    ] {
        if n == 0 {
            bail!("{flag} must be at least 1");
        }
    }
    let www = args
        .www
        .canonicalize()
        .with_context(|| format!("page directory {} not found", args.www.display()))?;
    if !www.join("index.html").is_file() {
        bail!(
            "{} has no index.html: pass the page directory with --www",
            www.display()
        );
    }
    let trust = ferrisk_trust::TrustedKeys::from_files_or_env(&args.trusted_keys)?;
    let models = load_models(&args.models, &trust)?;
    if models.is_empty() {
        eprintln!(
            "warning: no loadable model files (*.frk) in {}; the page can still open a model file",
            args.models.display()
        );
    }
    let by_id = models
        .iter()
        .map(|m| (m.id.clone(), Arc::clone(m)))
        .collect();
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    let max_requests = args.max_requests.unwrap_or(workers.saturating_mul(4));
    let state = Arc::new(AppState {
        models,
        by_id,
        www,
        limits: PredictLimits {
            max_body: args.max_body,
            max_customers: args.max_customers,
            max_fields: args.max_fields,
            max_response: args.max_response,
            request_timeout: args.request_timeout,
        },
        slots: Slots {
            scoring: Arc::new(Semaphore::new(workers.min(Semaphore::MAX_PERMITS))),
            express: Arc::new(Semaphore::new(predict::EXPRESS_SLOTS)),
            requests: Arc::new(Semaphore::new(max_requests.min(Semaphore::MAX_PERMITS))),
        },
        workers,
        max_requests,
    });
    let conn_limits = ConnLimits {
        max_connections: args.max_connections,
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Parsing and scoring tasks (at most --max-requests) plus file reads.
        .max_blocking_threads(max_requests.saturating_add(4))
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
        let addr = listener
            .local_addr()
            .context("cannot read the bound address")?;
        let access = Access::new(addr.ip(), addr.port(), &args.allow_host, &args.allow_origin)?;
        let app = router(state, Arc::new(access));
        let mut out = std::io::stdout().lock();
        writeln!(out, "serving http://{addr}/")?;
        out.flush()?;
        drop(out);
        net::serve(listener, app, conn_limits, shutdown_signal()).await;
        anyhow::Ok(())
    });
    // Scoring still running stops at its next customer (its request is gone).
    runtime.shutdown_timeout(Duration::from_secs(1));
    served
}

async fn shutdown_signal() {
    // If the handler cannot be installed, serve until killed.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Loads every `*.frk` of `dir`. Unloadable files are reported and skipped.
fn load_models(dir: &Path, trust: &ferrisk_trust::TrustedKeys) -> anyhow::Result<Vec<Arc<Loaded>>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the model directory {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "frk") && p.is_file())
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let Some(id) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            eprintln!("skipping {}: file name is not UTF-8", path.display());
            continue;
        };
        if !valid_id(&id) {
            eprintln!(
                "skipping {}: model ids use letters, digits, '-', '_' and '.'",
                path.display()
            );
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("skipping {}: {e}", path.display());
                continue;
            }
        };
        if let Err(e) = ferrisk_trust::check(&bytes, trust, std::time::SystemTime::now()) {
            eprintln!("skipping {}: {e}", path.display());
            continue;
        }
        let loaded = format::read_header(&bytes)
            .map(|(h, _)| h.version)
            .and_then(|v| Scorer::from_bytes(&bytes).map(|s| (v, s)));
        match loaded {
            Ok((format_version, scorer)) => out.push(Arc::new(Loaded {
                id,
                bytes: Bytes::from(bytes),
                scorer,
                format_version,
            })),
            Err(e) => eprintln!("skipping {}: {e}", path.display()),
        }
    }
    // By model kind in registry order, then id.
    let rank = |l: &Loaded| {
        let tag = l.scorer.bundle().model.tag();
        ferrisk::kinds::TAGS.iter().position(|t| *t == tag)
    };
    out.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn router(state: Shared, access: Arc<Access>) -> Router {
    Router::new()
        .route("/models", get(list_models))
        .route("/models/{id}", get(model_detail))
        .route("/model-files/{file}", get(model_file))
        .route("/predict", post(predict::predict))
        .fallback(static_file)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(access, guard::guard))
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    res
}

/// A JSON error body `{"error": message}`.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

fn json_ok(value: impl Serialize) -> Response {
    let mut res = axum::Json(value).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// One entry of `GET /models`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ModelEntry<'a> {
    id: &'a str,
    kind: &'a str,
    kind_name: &'a str,
    file: String,
    roc_auc: Option<f64>,
}

/// The metadata view as JSON, its governance report (the file's JSON text)
/// parsed: the shape the wasm `metadata()` gives. Also `inspect --json`'s.
pub fn metadata_json(b: &ferrisk::Bundle, format_version: u16) -> serde_json::Value {
    // Through text, so f32 fields keep their shortest form (`to_value`
    // would widen them to f64 digits).
    let mut v: serde_json::Value = serde_json::to_string(&MetadataView::new(b, format_version))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    if let (Some(g), Some(m)) = (&b.governance, v.as_object_mut()) {
        let parsed = serde_json::from_str(&g.report).unwrap_or(serde_json::Value::Null);
        m.insert("governance".into(), parsed);
    }
    v
}

/// `GET /models/{id}`.
#[derive(Serialize)]
struct ModelDetail<'a> {
    id: &'a str,
    schema: SchemaView,
    metadata: serde_json::Value,
    metrics: Option<MetricsView>,
}

async fn list_models(State(st): State<Shared>) -> Response {
    let list: Vec<ModelEntry> = st
        .models
        .iter()
        .map(|m| {
            let b = m.scorer.bundle();
            ModelEntry {
                id: &m.id,
                kind: &b.algorithm.id,
                kind_name: &b.algorithm.name,
                file: format!("/model-files/{}.frk", m.id),
                roc_auc: b.report.as_ref().map(|r| r.test.roc_auc),
            }
        })
        .collect();
    json_ok(list)
}

fn unknown_model_text(st: &AppState, id: &str) -> String {
    let known: Vec<&str> = st.models.iter().map(|m| m.id.as_str()).collect();
    format!("unknown model '{id}'; available: {}", known.join(", "))
}

fn unknown_model(st: &AppState, id: &str) -> Response {
    error(StatusCode::NOT_FOUND, unknown_model_text(st, id))
}

async fn model_detail(State(st): State<Shared>, UrlPath(id): UrlPath<String>) -> Response {
    let Some(m) = st.by_id.get(&id) else {
        return unknown_model(&st, &id);
    };
    let b = m.scorer.bundle();
    json_ok(ModelDetail {
        id: &m.id,
        schema: SchemaView::new(b),
        metadata: metadata_json(b, m.format_version),
        metrics: MetricsView::report(b),
    })
}

async fn model_file(State(st): State<Shared>, UrlPath(file): UrlPath<String>) -> Response {
    let Some(id) = file.strip_suffix(".frk") else {
        return error(StatusCode::NOT_FOUND, format!("no model file '{file}'"));
    };
    let Some(m) = st.by_id.get(id) else {
        return unknown_model(&st, id);
    };
    let mut res = Body::from(m.bytes.clone()).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a text",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// A customer given as a JSON object, as `(feature, value)` pairs for the
/// runtime: numbers, texts and null (missing). The CLI's `explain
/// --customer` reads customers with this too.
pub fn customer_fields(customer: &Json) -> Result<Vec<(&str, RawValue<'_>)>, String> {
    let Json::Object(fields) = customer else {
        return Err(format!(
            "expected an object of feature values, got {}",
            json_type(customer)
        ));
    };
    let mut raw = Vec::with_capacity(fields.len());
    for (name, v) in fields {
        let value = match v {
            Json::Null => RawValue::Missing,
            Json::String(s) => RawValue::Text(s),
            Json::Number(n) => match n.as_f64() {
                Some(x) if x.is_finite() => RawValue::Number(x),
                _ => return Err(format!("field '{name}': {n} is not a finite number")),
            },
            other => {
                return Err(format!(
                    "field '{name}': expected a number, a text or null, got {}",
                    json_type(other)
                ))
            }
        };
        raw.push((name.as_str(), value));
    }
    Ok(raw)
}

/// Content type by file extension; `None` for files the page does not use.
fn content_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "frk" => "application/octet-stream",
        "ts" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// Maps a URL path to a file under `root`, refusing anything that could leave it.
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let mut rel = PathBuf::new();
    let trimmed = url_path.strip_prefix('/')?;
    let trimmed = if trimmed.is_empty() || trimmed.ends_with('/') {
        format!("{trimmed}index.html")
    } else {
        trimmed.to_string()
    };
    for seg in trimmed.split('/') {
        if seg.is_empty() || seg.starts_with('.') || seg.contains(['\\', '%', ':', '\0']) {
            return None;
        }
        rel.push(seg);
    }
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let full = root.join(rel).canonicalize().ok()?;
    (full.starts_with(root) && full.is_file()).then_some(full)
}

async fn static_file(State(st): State<Shared>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed here"),
        );
    }
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            format!("no such page: {}", uri.path()),
        )
    };
    let Some(path) = resolve(&st.www, uri.path()) else {
        return not_found();
    };
    let Some(ctype) = content_type(&path) else {
        return not_found();
    };
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return not_found();
    };
    let mut res = Body::from(bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_stays_inside_the_root() {
        let dir =
            std::env::temp_dir().join(format!("ferrisk-serve-resolve-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        std::fs::write(dir.join("index.html"), "x").unwrap();
        std::fs::write(dir.join("pkg/a.js"), "x").unwrap();
        let root = dir.canonicalize().unwrap();
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(resolve(&root, "/pkg/a.js"), Some(root.join("pkg/a.js")));
        assert_eq!(resolve(&root, "/pkg/../index.html"), None);
        assert_eq!(resolve(&root, "/../etc/passwd"), None);
        assert_eq!(resolve(&root, "/%2e%2e/x"), None);
        assert_eq!(resolve(&root, "/.git/config"), None);
        assert_eq!(resolve(&root, "/pkg"), None);
        assert_eq!(resolve(&root, "//etc/passwd"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wasm_and_js_content_types() {
        assert_eq!(
            content_type(Path::new("a/b_bg.wasm")),
            Some("application/wasm")
        );
        assert_eq!(
            content_type(Path::new("a.js")),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(content_type(Path::new("secret.key")), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        for bad in ["0", "-1s", "x", "5h", "NaN", "1e9"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
