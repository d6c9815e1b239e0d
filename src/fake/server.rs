//! The HTTP adapter: a hyper server (HTTP/1.1, optional TLS) in front of the [`Engine`].
//! It reads each body up to a limit, hands the request to the engine and writes the
//! answer; it never interprets a request itself.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::engine::{json_response, Engine};

/// How the server listens.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub addr: SocketAddr,
    pub tls: Option<TlsOptions>,
    /// Largest request body accepted; larger ones get 413.
    pub body_limit: usize,
    /// Largest request head (request line and headers); larger ones get 431.
    pub max_header_bytes: usize,
    /// Time a client has to send its request head; the connection is closed after it.
    pub header_timeout: Duration,
    /// Time a client has to send its body once the head is in; 408 after it.
    pub body_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: None,
            body_limit: 10 * 1024 * 1024,
            max_header_bytes: 64 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// The per-connection limits, as the accept loop applies them.
#[derive(Debug, Clone, Copy)]
struct Limits {
    body: usize,
    header_bytes: usize,
    header_timeout: Duration,
    body_timeout: Duration,
}

/// TLS: a certificate made at start (self-signed for localhost and 127.0.0.1), or given.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

/// A running server. Dropping it stops accepting; `shutdown` also waits for it.
pub struct Server {
    addr: SocketAddr,
    tls: bool,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds and starts serving `engine` in the background.
    pub async fn start(engine: Arc<Engine>, options: ServerOptions) -> Result<Self, ServeError> {
        let listener =
            TcpListener::bind(options.addr)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: options.addr,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: options.addr,
            source,
        })?;
        let acceptor = match &options.tls {
            Some(t) => Some(tls_acceptor(t)?),
            None => None,
        };
        let (stop, stopped) = watch::channel(false);
        let tls = acceptor.is_some();
        let task = tokio::spawn(accept_loop(
            listener,
            engine,
            acceptor,
            Limits {
                body: options.body_limit,
                header_bytes: options.max_header_bytes,
                header_timeout: options.header_timeout,
                body_timeout: options.body_timeout,
            },
            stopped,
        ));
        Ok(Self {
            addr,
            tls,
            stop,
            task: Some(task),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (or `https://`).
    pub fn uri(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    /// Stops accepting, lets open requests finish (up to 5 s) and returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn accept_loop(
    listener: TcpListener,
    engine: Arc<Engine>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let engine = engine.clone();
        let service = service_fn(move |req| {
            let engine = engine.clone();
            async move { Ok::<_, Infallible>(answer(&engine, req, limits, peer).await) }
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            // hyper's smallest buffer is 8 KiB; a head beyond it gets 431.
            .max_buf_size(limits.header_bytes.max(8192))
            .writev(false);
        match &acceptor {
            None => {
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            Some(acc) => {
                let acc = acc.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let Ok(Ok(tls)) =
                        tokio::time::timeout(Duration::from_secs(10), acc.accept(stream)).await
                    else {
                        return;
                    };
                    let conn = builder.serve_connection(TokioIo::new(tls), service);
                    let _ = watcher.watch(conn).await;
                });
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

async fn answer(
    engine: &Engine,
    req: http::Request<Incoming>,
    limits: Limits,
    peer: SocketAddr,
) -> http::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    // Timed only when a request is logged (`-v`): a clock reading per request otherwise.
    let log = tracing::enabled!(target: "apiconform::request", tracing::Level::INFO);
    let started = log.then(std::time::Instant::now);
    let limit = limits.body;
    // A body that came in with the head needs no timer: poll once before arming one (a
    // timer per request costs more than the rest of the body handling).
    let mut collect = std::pin::pin!(Limited::new(body, limit).collect());
    let first = std::future::poll_fn(|cx| Poll::Ready(collect.as_mut().poll(cx))).await;
    let read = match first {
        Poll::Ready(r) => Ok(r),
        Poll::Pending => tokio::time::timeout(limits.body_timeout, collect).await,
    };
    let bytes = match read {
        Err(_) => {
            let msg = format!(
                "the request body did not arrive within {} s",
                limits.body_timeout.as_secs_f64()
            );
            let resp = json_response(
                http::StatusCode::REQUEST_TIMEOUT,
                &serde_json::json!({ "error": msg }),
            );
            return resp.map(Full::new);
        }
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) => {
            let too_big = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let (status, msg) = if too_big {
                (
                    http::StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body larger than {limit} bytes"),
                )
            } else {
                (
                    http::StatusCode::BAD_REQUEST,
                    format!("could not read the request body: {e}"),
                )
            };
            let resp = json_response(status, &serde_json::json!({ "error": msg }));
            return resp.map(Full::new);
        }
    };
    // The request line is kept for the log only when a request is logged (`-v`).
    let logged = started.map(|t| (t, parts.method.clone(), parts.uri.path().to_string()));
    let resp = engine.handle(http::Request::from_parts(parts, bytes));
    if let Some((started, method, path)) = logged {
        tracing::info!(
            target: "apiconform::request",
            "{peer} {method} {path} -> {} ({} µs)",
            resp.status().as_u16(),
            started.elapsed().as_micros()
        );
    }
    resp.map(Full::new)
}

fn tls_acceptor(t: &TlsOptions) -> Result<tokio_rustls::TlsAcceptor, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let err = |e: &dyn std::fmt::Display| ServeError::Tls(e.to_string());
    let (certs, key): (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) =
        match (&t.cert, &t.key) {
            (Some(c), Some(k)) => {
                let certs = CertificateDer::pem_file_iter(c)
                    .map_err(|e| err(&format!("{}: {e}", c.display())))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| err(&format!("{}: {e}", c.display())))?;
                let key = PrivateKeyDer::from_pem_file(k)
                    .map_err(|e| err(&format!("{}: {e}", k.display())))?;
                (certs, key)
            }
            (None, None) => {
                let ck = rcgen::generate_simple_self_signed(vec![
                    "localhost".to_string(),
                    "127.0.0.1".to_string(),
                ])
                .map_err(|e| err(&e))?;
                let key =
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
                (vec![ck.cert.der().clone()], key)
            }
            _ => return Err(ServeError::Tls("--cert and --key go together".into())),
        };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(&e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| err(&e))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
