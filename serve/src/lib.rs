//! `ferrisk serve`: the advisor page and a small JSON API over a directory
//! of model files.
//!
//! * `GET /` and every other path: the static files of `--www` (the page,
//!   its ES modules, the wasm package in `www/pkg`), with a strict
//!   Content-Security-Policy. Scoring on the page happens in the browser.
//! * `GET /models`: the loaded models, `[{id, kind, kindName, file, rocAuc}]`.
//! * `GET /models/{id}`: `{id, schema, metadata, metrics}` of one model.
//! * `GET /model-files/{id}.frk`: the model file's bytes.
//! * `POST /predict` `{"model": id, "customers": [{feature: value}, ...]}`:
//!   scores customers with the same runtime crate the wasm bundle links, so
//!   the numbers equal the page's and `ferrisk predict`'s.
//!
//! Every model file is loaded once at start; a file that fails to load is
//! reported on stderr and skipped. The service binds 127.0.0.1 by default.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ferrisk::views::{DriftView, MetadataView, MetricsView, SchemaView, ScoredView};
use ferrisk::{format, RawValue, ScoreOptions, Scorer};
use serde::Serialize;
use serde_json::{json, Value as Json};

/// Content-Security-Policy of the page (the same text is in a `<meta>` of
/// `www/index.html`, so static hosting keeps it): no inline code, no eval
/// (only wasm compilation), nothing fetched from elsewhere.
pub const CSP: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' data:; worker-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'";

#[derive(clap::Args, Debug)]
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
    /// Largest accepted request body in bytes (larger: 413).
    #[arg(long = "max-body", value_name = "BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_body: usize,
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
}

type Shared = Arc<AppState>;

/// Runs the service until the process is stopped.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
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
    let models = load_models(&args.models)?;
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
    let state = Arc::new(AppState { models, by_id, www });
    let app = router(state, args.max_body);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
        let addr = listener
            .local_addr()
            .context("cannot read the bound address")?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "serving http://{addr}/")?;
        out.flush()?;
        drop(out);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server stopped with an error")
    })
}

async fn shutdown_signal() {
    // If the handler cannot be installed, serve until killed.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Loads every `*.frk` of `dir`. Unloadable files are reported and skipped.
fn load_models(dir: &Path) -> anyhow::Result<Vec<Arc<Loaded>>> {
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

fn router(state: Shared, max_body: usize) -> Router {
    Router::new()
        .route("/models", get(list_models))
        .route("/models/{id}", get(model_detail))
        .route("/model-files/{file}", get(model_file))
        .route("/predict", post(predict))
        .fallback(static_file)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
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

/// `GET /models/{id}`.
#[derive(Serialize)]
struct ModelDetail<'a> {
    id: &'a str,
    schema: SchemaView,
    metadata: MetadataView,
    metrics: Option<MetricsView>,
}

/// `POST /predict`'s answer.
#[derive(Serialize)]
struct PredictResponse<'a> {
    model: &'a str,
    results: Vec<ScoredView>,
    drift: Option<DriftView>,
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

fn unknown_model(st: &AppState, id: &str) -> Response {
    let known: Vec<&str> = st.models.iter().map(|m| m.id.as_str()).collect();
    error(
        StatusCode::NOT_FOUND,
        format!("unknown model '{id}'; available: {}", known.join(", ")),
    )
}

async fn model_detail(State(st): State<Shared>, UrlPath(id): UrlPath<String>) -> Response {
    let Some(m) = st.by_id.get(&id) else {
        return unknown_model(&st, &id);
    };
    let b = m.scorer.bundle();
    json_ok(ModelDetail {
        id: &m.id,
        schema: SchemaView::new(b),
        metadata: MetadataView::new(b, m.format_version),
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

/// Why a customer could not be scored: index and message.
struct CustomerError(usize, String);

async fn predict(State(st): State<Shared>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body is larger than the server's limit (--max-body)",
            )
        }
        Err(r) => {
            return error(
                r.status(),
                format!("cannot read the request body: {}", r.body_text()),
            )
        }
    };
    let req: Json = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("request body is not valid JSON: {e}"),
            )
        }
    };
    let usage = r#"expected {"model": "<id>", "customers": [{"<feature>": value, ...}, ...]}"#;
    let Some(model) = req.get("model").and_then(Json::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("missing \"model\" (a text); {usage}"),
        );
    };
    let Some(customers) = req.get("customers").and_then(Json::as_array) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("missing \"customers\" (an array); {usage}"),
        );
    };
    let Some(m) = st.by_id.get(model).cloned() else {
        return unknown_model(&st, model);
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
        drift: true,
    };
    let customers = customers.clone();
    // Scoring is CPU work: keep it off the async workers.
    let scored = tokio::task::spawn_blocking(move || {
        let mut rows = m.scorer.rows(opts);
        let mut results = Vec::with_capacity(customers.len());
        for (i, c) in customers.iter().enumerate() {
            let fields = customer_fields(c).map_err(|e| CustomerError(i, e))?;
            let s = rows
                .score_fields(fields)
                .map_err(|e| CustomerError(i, e.to_string()))?;
            results.push(ScoredView::from(&s));
        }
        let drift = rows
            .into_drift()
            .and_then(|c| m.scorer.drift_report(&c).ok())
            .map(|r| DriftView::from(&r));
        let body = PredictResponse {
            model: &m.id,
            results,
            drift,
        };
        // Serialised here, in the blocking task: f32 values keep their
        // shortest text (as the CLI prints them).
        serde_json::to_vec(&body).map_err(|e| CustomerError(0, e.to_string()))
    })
    .await;
    match scored {
        Ok(Ok(bytes)) => {
            let mut res = Body::from(bytes).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            res
        }
        Ok(Err(CustomerError(i, msg))) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("customer {i}: {msg}"),
        ),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("scoring failed: {e}"),
        ),
    }
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
}
