//! hyper's client on the connection, for the requests reqwest's layers add nothing to.
//!
//! A request to a plain-HTTP target, with no proxy in the environment, goes through
//! here: the same hyper connection pool and the same bytes on the wire as through
//! reqwest (its default `accept: */*` included), without reqwest parsing the URL again,
//! matching proxies, and running its redirect and retry layers for every request. TLS
//! and proxies stay with reqwest; redirects are followed above both ([`super::redirect`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::{Answer, Failed};

/// The variables reqwest reads for a plain-HTTP request's proxy.
const PROXY_VARIABLES: [&str; 4] = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];

/// Whether `var` gives one of the proxy variables a value.
fn proxy_set(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    PROXY_VARIABLES
        .iter()
        .any(|v| var(v).is_some_and(|s| !s.is_empty()))
}

pub(crate) struct Direct {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl Direct {
    /// A client with reqwest's defaults (no Nagle, keep-alive probes every 15 s, idle
    /// connections kept 90 s); `None` when a proxy variable is set, which reqwest honours.
    pub(crate) fn new(timeout: Duration) -> Option<Self> {
        if proxy_set(|v| std::env::var_os(v)) {
            return None;
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_keepalive(Some(Duration::from_secs(15)));
        connector.set_keepalive_interval(Some(Duration::from_secs(15)));
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Some(Self { client, timeout })
    }

    /// Sends `req` to `url` (whose path and query the request line carries, as reqwest
    /// would send them), the whole exchange within the timeout.
    pub(crate) async fn send(
        &self,
        url: &str,
        req: http::Request<Bytes>,
    ) -> Result<Answer, Failed> {
        let (mut parts, body) = req.into_parts();
        parts.uri = url
            .parse()
            .map_err(|e| Failed::NoAnswer(format!("bad URL {url}: {e}"), false))?;
        // As reqwest: Host written from the URL (after the headers given), `accept: */*`
        // unless one is given.
        parts.headers.remove(http::header::HOST);
        parts
            .headers
            .entry(http::header::ACCEPT)
            .or_insert(http::HeaderValue::from_static("*/*"));
        let req = http::Request::from_parts(parts, Full::new(body));
        let headed = AtomicBool::new(false);
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| Failed::NoAnswer(super::error_chain(&e), false))?;
            headed.store(true, Ordering::Relaxed);
            let (parts, body) = resp.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| Failed::CutShort(super::error_chain(&e), false))?
                .to_bytes();
            Ok((parts.status.as_u16(), parts.headers, body))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => {
                let message = format!("timed out after {:?}", self.timeout);
                Err(if headed.load(Ordering::Relaxed) {
                    Failed::CutShort(message, true)
                } else {
                    Failed::NoAnswer(message, true)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Accepts one connection, answers 200 to one request, and returns the request's bytes.
    async fn capture(listener: &tokio::net::TcpListener) -> Vec<u8> {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).to_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .map_or(0, |n| n.trim().parse::<usize>().unwrap());
                if got.len() >= end + 4 + length {
                    break;
                }
            }
            assert!(n > 0, "closed before the request ended");
        }
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .await
            .unwrap();
        got
    }

    /// A request as `client::prepare` makes it: Host first (it is signed).
    fn request(host: &str, body: &'static str) -> http::Request<Bytes> {
        http::Request::builder()
            .method("POST")
            .uri("/a%20b/?Action=UpdateUser&x=%2F")
            .header("host", host)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-amz-date", "20261204T000000Z")
            .body(Bytes::from(body))
            .unwrap()
    }

    /// The same request leaves as the same bytes through here as through reqwest.
    #[tokio::test]
    async fn a_request_leaves_as_reqwest_would_send_it() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let url = format!("http://{host}/a%20b/?Action=UpdateUser&x=%2F");
        let direct = Direct::new(Duration::from_secs(5)).expect("no proxy set in tests");
        let reqwest = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        for body in ["UserName=a&NewUserName=b", ""] {
            let (via_direct, answer) =
                tokio::join!(capture(&listener), direct.send(&url, request(&host, body)));
            let (status, _, answer) = answer.unwrap();
            assert_eq!((status, &answer[..]), (200, &b"ok"[..]));
            let mut r = reqwest::Request::new(http::Method::POST, url.parse().unwrap());
            // What the runner hands reqwest (which writes Host from the URL).
            *r.headers_mut() = request(&host, body).headers().clone();
            r.headers_mut().remove(http::header::HOST);
            *r.body_mut() = Some(Bytes::from(body).into());
            let (via_reqwest, answer) = tokio::join!(capture(&listener), reqwest.execute(r));
            assert_eq!(answer.unwrap().status(), 200);
            assert_eq!(
                String::from_utf8_lossy(&via_direct),
                String::from_utf8_lossy(&via_reqwest)
            );
        }
    }

    #[tokio::test]
    async fn a_silent_target_times_out_as_no_answer_and_a_stalled_body_as_cut_short() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let direct = Direct::new(Duration::from_millis(200)).unwrap();
        let get = || http::Request::get("/").body(Bytes::new()).unwrap();
        let silent = async {
            let (s, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
            drop(s);
        };
        let (_, r) = tokio::join!(silent, direct.send(&url, get()));
        assert!(matches!(r, Err(Failed::NoAnswer(ref m, true)) if m.contains("timed out")));
        let stalled = async {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await.unwrap();
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nok")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        let (_, r) = tokio::join!(stalled, direct.send(&url, get()));
        assert!(matches!(r, Err(Failed::CutShort(ref m, true)) if m.contains("timed out")));
    }

    #[test]
    fn a_proxy_variable_leaves_the_request_to_reqwest() {
        let only = |name: &'static str, value: &'static str| {
            move |v: &str| (v == name).then(|| value.into())
        };
        assert!(!proxy_set(|_| None));
        assert!(proxy_set(only("HTTP_PROXY", "http://proxy:3128")));
        assert!(proxy_set(only("all_proxy", "socks5://proxy")));
        assert!(!proxy_set(only("http_proxy", "")));
        // Only HTTPS requests use it, and those go through reqwest anyway.
        assert!(!proxy_set(only("HTTPS_PROXY", "http://proxy:3128")));
    }
}
