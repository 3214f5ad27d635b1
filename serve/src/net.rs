//! The connection loop: HTTP/1 connections served by hyper with a
//! header-read timeout, an idle timeout and a cap on open connections.
//!
//! * **Header timeout** (`--header-timeout`): a request's headers must be
//!   complete this long after the connection opened or the previous
//!   response was sent, else the connection is closed (hyper's
//!   `header_read_timeout`). Slow-header clients cannot hold a connection
//!   longer than this however slowly they trickle bytes.
//! * **Idle timeout** (`--idle-timeout`): a connection with no request in
//!   progress that moves no byte in either direction for this long is
//!   closed (silent sockets, keep-alive connections nobody uses, clients
//!   that stop reading their response).
//! * **Open connections** (`--max-connections`): when a new connection
//!   arrives and the cap is reached, the oldest idle connection is closed to
//!   make room, preferring connections that have not yet sent a complete
//!   request (slow-header and idle floods); if every connection has a
//!   request in progress, the new one is closed at once. So a flood of idle
//!   or slow connections cannot keep a well-behaved client out, and the
//!   process never runs out of file descriptors.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Largest buffer hyper keeps per connection for request headers (and body
/// reads); requests whose headers do not fit are refused (431).
pub const HEADER_BUFFER: usize = 64 * 1024;
/// Most header lines in one request.
pub const MAX_HEADERS: usize = 64;

/// Connection limits (see the module doc).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
}

/// Milliseconds since the first call: the connections' activity clock.
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// One open connection as the loop sees it.
#[derive(Debug)]
struct Conn {
    /// Requests being handled now.
    busy: AtomicUsize,
    /// Requests handled so far.
    served: AtomicU64,
    /// [`now_ms`] of the last byte read or written.
    last: AtomicU64,
    /// Told to close (evicted to make room).
    close: Notify,
}

impl Conn {
    fn touch(&self) {
        self.last.store(now_ms(), Ordering::Relaxed);
    }

    fn idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0
    }
}

/// Counts a request in progress on its connection while alive.
struct Busy(Arc<Conn>);

impl Busy {
    fn new(c: Arc<Conn>) -> Busy {
        c.busy.fetch_add(1, Ordering::AcqRel);
        Busy(c)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.served.fetch_add(1, Ordering::Relaxed);
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The open connections, by arrival order.
#[derive(Debug, Default)]
struct Registry {
    open: Mutex<BTreeMap<u64, Arc<Conn>>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Conn>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers connection `id`, closing the oldest idle connection first
    /// when `max` are open; `None` when all of them have work in progress.
    fn admit(&self, id: u64, max: usize) -> Option<Arc<Conn>> {
        let mut open = self.lock();
        if open.len() >= max {
            let never_served = open
                .iter()
                .find(|(_, c)| c.idle() && c.served.load(Ordering::Relaxed) == 0);
            let victim = never_served
                .or_else(|| open.iter().find(|(_, c)| c.idle()))
                .map(|(k, _)| *k)?;
            if let Some(c) = open.remove(&victim) {
                c.close.notify_one();
            }
        }
        let c = Arc::new(Conn {
            busy: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            last: AtomicU64::new(now_ms()),
            close: Notify::new(),
        });
        open.insert(id, Arc::clone(&c));
        Some(c)
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }
}

/// A TCP stream that records when bytes last moved.
struct Tracked {
    io: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.conn.touch();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.conn.touch();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.conn.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Accepts connections on `listener` and serves `app` on them until
/// `shutdown` completes.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true)
        .max_buf_size(HEADER_BUFFER)
        .max_headers(MAX_HEADERS);
    let builder = Arc::new(builder);
    let registry = Arc::new(Registry::default());
    let service = TowerToHyperService::new(app);
    tokio::pin!(shutdown);
    let mut next_id: u64 = 0;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => return,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of file descriptors or a connection reset before it
                // was accepted: wait a little instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        next_id += 1;
        let id = next_id;
        let Some(conn) = registry.admit(id, limits.max_connections) else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Tracked {
            io: stream,
            conn: Arc::clone(&conn),
        });
        let svc = service.clone();
        let on = Arc::clone(&conn);
        let per_request = hyper::service::service_fn(move |req| {
            let busy = Busy::new(Arc::clone(&on));
            let fut = svc.call(req);
            async move {
                let res = fut.await;
                drop(busy);
                res
            }
        });
        let builder = Arc::clone(&builder);
        let registry = Arc::clone(&registry);
        let idle = limits.idle_timeout;
        tokio::spawn(async move {
            let served = builder.serve_connection(io, per_request);
            tokio::pin!(served);
            loop {
                let wait = if conn.idle() {
                    let quiet = now_ms().saturating_sub(conn.last.load(Ordering::Relaxed));
                    match idle.checked_sub(Duration::from_millis(quiet)) {
                        Some(w) if !w.is_zero() => w,
                        _ => break,
                    }
                } else {
                    idle
                };
                tokio::select! {
                    _ = served.as_mut() => break,
                    () = conn.close.notified() => break,
                    () = tokio::time::sleep(wait) => {}
                }
            }
            registry.remove(id);
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_full_registry_evicts_the_oldest_idle_connection_that_never_sent_a_request() {
        let r = Registry::default();
        let a = r.admit(1, 3).unwrap();
        let b = r.admit(2, 3).unwrap();
        let _c = r.admit(3, 3).unwrap();
        // a served a request, b never did: b goes first.
        a.served.store(1, Ordering::Relaxed);
        r.admit(4, 3).unwrap();
        assert!(!r.lock().contains_key(&2) && r.lock().contains_key(&1));
        drop(b);
        // All busy: the newcomer is refused.
        for c in r.lock().values() {
            c.busy.store(1, Ordering::Relaxed);
        }
        assert!(r.admit(5, 3).is_none());
        assert_eq!(r.lock().len(), 3);
    }
}
