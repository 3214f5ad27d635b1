//! Who may talk to the service: the `Host` allow-list (against DNS
//! rebinding), the `Origin` check with CORS for listed origins, and JSON-only
//! `POST` bodies (against cross-site form posts). Runs before every route.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error;

/// The names the service answers to and the foreign origins it serves.
#[derive(Debug)]
pub(crate) struct Access {
    /// The bound port: loopback names must carry it.
    port: u16,
    /// The bound address when it is one specific, non-loopback address.
    bound: Option<String>,
    /// `--allow-host` entries: a name, with a port or for any port.
    hosts: Vec<(String, Option<u16>)>,
    /// `--allow-origin` entries, normalised (lower case, no trailing `/`).
    origins: Vec<String>,
}

/// Names that always reach the service on its own port.
const LOOPBACK: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// Longest header text repeated in an error message.
const ECHO: usize = 200;

impl Access {
    pub(crate) fn new(
        bound: IpAddr,
        port: u16,
        allow_host: &[String],
        allow_origin: &[String],
    ) -> anyhow::Result<Access> {
        let mut hosts = Vec::new();
        for h in allow_host {
            match split_host_port(h) {
                Some((name, port)) if !name.is_empty() => hosts.push((name, port)),
                _ => anyhow::bail!(
                    "--allow-host {h:?}: expected a host name or address, optionally with :port"
                ),
            }
        }
        let mut origins = Vec::new();
        for o in allow_origin {
            origins.push(normalise_origin(o).ok_or_else(|| {
                anyhow::anyhow!(
                    "--allow-origin {o:?}: expected scheme://host[:port], e.g. https://advisor.example"
                )
            })?);
        }
        let bound = (!bound.is_unspecified() && !bound.is_loopback()).then(|| match bound {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => format!("[{a}]"),
        });
        Ok(Access {
            port,
            bound,
            hosts,
            origins,
        })
    }

    fn port_matches(&self, port: Option<u16>) -> bool {
        port.unwrap_or(80) == self.port
    }

    /// Is `value` (a `Host` header or a request's authority) one of ours?
    pub(crate) fn host_allowed(&self, value: &str) -> bool {
        let Some((name, port)) = split_host_port(value) else {
            return false;
        };
        if LOOPBACK.contains(&name.as_str()) || self.bound.as_deref() == Some(name.as_str()) {
            return self.port_matches(port);
        }
        self.hosts
            .iter()
            .any(|(n, p)| *n == name && p.is_none_or(|p| Some(p) == port))
    }

    /// The names the service answers to, for error messages.
    fn served_names(&self) -> String {
        let mut names: Vec<String> = LOOPBACK
            .iter()
            .map(|n| format!("{n}:{}", self.port))
            .collect();
        names.extend(self.bound.iter().map(|b| format!("{b}:{}", self.port)));
        names.extend(self.hosts.iter().map(|(n, p)| match p {
            Some(p) => format!("{n}:{p}"),
            None => n.clone(),
        }));
        names.join(", ")
    }

    fn origin_listed(&self, origin: &str) -> bool {
        normalise_origin(origin).is_some_and(|o| self.origins.contains(&o))
    }
}

/// `name[:port]` → (lower-case name, port). IPv6 addresses keep their
/// brackets. `None` for anything that is not a plain host.
pub(crate) fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (name, port) = if s.starts_with('[') {
        let end = s.find(']')?;
        let rest = &s[end + 1..];
        let port = match rest.strip_prefix(':') {
            Some(p) => Some(p),
            None if rest.is_empty() => None,
            None => return None,
        };
        (&s[..=end], port)
    } else {
        match s.rsplit_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse().ok()?),
        Some(_) => return None,
        None => None,
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    let inner = name.trim_start_matches('[').trim_end_matches(']');
    if name.is_empty() || !inner.chars().all(plain) || (inner.contains(':') && inner == name) {
        return None;
    }
    Some((name.to_ascii_lowercase(), port))
}

/// `scheme://host[:port]` in lower case without a trailing `/`; `None`
/// for anything else (paths, `null`, `*`).
fn normalise_origin(o: &str) -> Option<String> {
    let o = o.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = o.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+')
    {
        return None;
    }
    split_host_port(rest)?;
    Some(o)
}

fn echo(s: &str) -> String {
    s.chars().take(ECHO).collect()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// The middleware: refuses foreign hosts (421) and origins (403), non-JSON
/// posts (415); answers preflights of listed origins and marks their
/// responses with `Access-Control-Allow-Origin`.
pub(crate) async fn guard(State(acc): State<Arc<Access>>, req: Request, next: Next) -> Response {
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return error(StatusCode::BAD_REQUEST, "a Host header is required");
    };
    let authority = req.uri().authority().map(|a| a.as_str().to_string());
    for name in std::iter::once(&host).chain(authority.as_ref()) {
        if !acc.host_allowed(name) {
            return error(
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "host '{}' is not served here (this service answers to {}); \
                     start it with --allow-host NAME to serve it under another name",
                    echo(name),
                    acc.served_names()
                ),
            );
        }
    }

    let mut cors = None;
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("(not text)");
        let own = ["http://", "https://"]
            .iter()
            .any(|s| origin.eq_ignore_ascii_case(&format!("{s}{host}")));
        if !own {
            if !acc.origin_listed(origin) {
                return error(
                    StatusCode::FORBIDDEN,
                    format!(
                        "origin '{}' may not use this service; start it with --allow-origin ORIGIN to allow a page of another origin",
                        echo(origin)
                    ),
                );
            }
            cors = HeaderValue::from_str(origin).ok();
        }
    }

    if let Some(origin) = &cors {
        if req.method() == Method::OPTIONS
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            let mut res = StatusCode::NO_CONTENT.into_response();
            let h = res.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            h.insert(header::VARY, HeaderValue::from_static("Origin"));
            return res;
        }
    }

    if req.method() == Method::POST && !is_json(req.headers()) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST bodies must be JSON: send Content-Type: application/json",
        );
    }

    let mut res = next.run(req).await;
    if let Some(origin) = cors {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    res
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn host_and_port_are_split() {
        let s = |x: &str| split_host_port(x);
        assert_eq!(s("LocalHost:8080"), Some(("localhost".into(), Some(8080))));
        assert_eq!(s("[::1]:81"), Some(("[::1]".into(), Some(81))));
        assert_eq!(s("[::1]"), Some(("[::1]".into(), None)));
        assert_eq!(s("a.example"), Some(("a.example".into(), None)));
        for bad in [
            "", ":80", "a:", "a:x", "a:99999", "a/b:1", "[::1]x", "::1", "a b",
        ] {
            assert_eq!(s(bad), None, "{bad}");
        }
    }

    #[test]
    fn loopback_on_the_bound_port_and_listed_names_only() {
        let a = Access::new(
            "127.0.0.1".parse().unwrap(),
            8080,
            &["risk.bank.example".into(), "proxy:9000".into()],
            &["https://advisor.example/".into()],
        )
        .unwrap();
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "risk.bank.example",
            "risk.bank.example:443",
            "proxy:9000",
        ] {
            assert!(a.host_allowed(ok), "{ok}");
        }
        for bad in [
            "127.0.0.1:8081",
            "localhost",
            "attacker.example:8080",
            "proxy:9001",
            "127.0.0.2:8080",
            "localhost.:8080",
        ] {
            assert!(!a.host_allowed(bad), "{bad}");
        }
        assert!(a.origin_listed("https://ADVISOR.example"));
        assert!(!a.origin_listed("http://advisor.example"));
        assert!(!a.origin_listed("null"));
        assert!(Access::new("127.0.0.1".parse().unwrap(), 1, &[], &["*".into()]).is_err());
        assert!(Access::new("127.0.0.1".parse().unwrap(), 1, &["a/b".into()], &[]).is_err());
        // A specific bound address answers under its own literal.
        let b = Access::new("10.1.2.3".parse().unwrap(), 80, &[], &[]).unwrap();
        assert!(b.host_allowed("10.1.2.3") && b.host_allowed("10.1.2.3:80"));
        assert!(!b.host_allowed("10.1.2.4"));
    }
}
