//! Redirects followed as python-requests follows them, for the APIs whose clients do
//! ([`Protocol::follows_redirects`](crate::spec::model::Protocol::follows_redirects):
//! nimble-sdk sends through `requests`). Checked against requests 2.32's
//! `SessionRedirectMixin`: which answers are redirects, the method and body each one
//! leaves, the headers dropped, and the limit of 30.

use bytes::Bytes;
use http::header;
use reqwest::Url;

/// requests' `max_redirects`: the 31st redirect in a row is an error.
pub(crate) const MAX_REDIRECTS: usize = 30;

/// The `Location` of a redirect answer (301, 302, 303, 307 or 308 with one), else `None`.
pub(crate) fn target(status: u16, headers: &http::HeaderMap) -> Option<&str> {
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    headers.get(header::LOCATION)?.to_str().ok()
}

/// The request that follows `req` (sent to `from`) after a `status` redirect to
/// `location`, with the URL it goes to.
pub(crate) fn follow(
    from: &Url,
    req: &http::Request<Bytes>,
    status: u16,
    location: &str,
) -> Result<(Url, http::Request<Bytes>), String> {
    // Relative to the URL redirected from (`//host/path` keeps its scheme).
    let to = from
        .join(location)
        .map_err(|e| format!("redirect to {location:?}: {e}"))?;
    let mut method = req.method().clone();
    let found_or_see_other = matches!(status, 302 | 303) && method != http::Method::HEAD;
    if found_or_see_other || (status == 301 && method == http::Method::POST) {
        method = http::Method::GET;
    }
    let mut headers = req.headers().clone();
    let mut body = req.body().clone();
    // Only 307 and 308 send the body again.
    if !matches!(status, 307 | 308) {
        for h in [
            header::CONTENT_LENGTH,
            header::CONTENT_TYPE,
            header::TRANSFER_ENCODING,
        ] {
            headers.remove(h);
        }
        body = Bytes::new();
    }
    headers.remove(header::COOKIE);
    if strips_authorization(from, &to) {
        headers.remove(header::AUTHORIZATION);
    }
    // Host is written from the new URL by the transport.
    headers.remove(header::HOST);
    let mut next = http::Request::new(body);
    *next.method_mut() = method;
    let path_and_query = match to.query() {
        Some(q) => format!("{}?{q}", to.path()),
        None => to.path().to_string(),
    };
    *next.uri_mut() = path_and_query
        .parse()
        .map_err(|e| format!("redirect to {to}: {e}"))?;
    *next.headers_mut() = headers;
    Ok((to, next))
}

/// requests' `should_strip_auth`: another host, or another port or scheme, except
/// http to https on the default ports.
fn strips_authorization(from: &Url, to: &Url) -> bool {
    if from.host_str() != to.host_str() {
        return true;
    }
    // `Url::port` is `None` for the scheme's default port, as requests compares them.
    if from.scheme() == "http"
        && from.port().is_none()
        && to.scheme() == "https"
        && to.port().is_none()
    {
        return false;
    }
    from.port() != to.port() || from.scheme() != to.scheme()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(uri: &str) -> http::Request<Bytes> {
        http::Request::builder()
            .method("PUT")
            .uri(uri)
            .header("host", "a.example")
            .header("content-type", "application/json")
            .header("content-length", "2")
            .header("authorization", "Bearer t")
            .header("x-auth-token", "t")
            .header("cookie", "c=1")
            .body(Bytes::from_static(b"{}"))
            .unwrap()
    }

    #[test]
    fn only_307_and_308_keep_the_method_and_the_body() {
        let from: Url = "http://a.example/v1/users/1".parse().unwrap();
        let cases = [
            (301, "PUT", true),
            (302, "GET", true),
            (303, "GET", true),
            (307, "PUT", false),
            (308, "PUT", false),
        ];
        for (status, method, purged) in cases {
            let (to, next) = follow(&from, &put("/v1/users/1"), status, "/v2/users/1").unwrap();
            assert_eq!(to.as_str(), "http://a.example/v2/users/1");
            assert_eq!(next.uri(), "/v2/users/1");
            assert_eq!(next.method(), method, "{status}");
            assert_eq!(next.body().is_empty(), purged, "{status}");
            assert_eq!(next.headers().contains_key("content-type"), !purged);
            assert!(!next.headers().contains_key("cookie"));
            assert!(!next.headers().contains_key("host"));
            // The same host: the credentials go on.
            assert!(next.headers().contains_key("authorization"));
            assert!(next.headers().contains_key("x-auth-token"));
        }
        let mut post = put("/v1/users");
        *post.method_mut() = http::Method::POST;
        assert_eq!(follow(&from, &post, 301, "/x").unwrap().1.method(), "GET");
        let mut head = put("/v1/users");
        *head.method_mut() = http::Method::HEAD;
        assert_eq!(follow(&from, &head, 303, "/x").unwrap().1.method(), "HEAD");
    }

    #[test]
    fn authorization_stays_on_the_same_origin_and_on_an_upgrade_to_https() {
        let from: Url = "http://a.example/v1".parse().unwrap();
        let auth = |location: &str| {
            let (_, next) = follow(&from, &put("/v1"), 307, location).unwrap();
            next.headers().contains_key("authorization")
        };
        assert!(auth("http://a.example:80/v2"));
        assert!(auth("https://a.example/v2"));
        assert!(!auth("http://b.example/v2"));
        assert!(!auth("http://a.example:8080/v2"));
        assert!(!auth("https://a.example:8443/v2"));
        // Scheme-relative and query-carrying locations resolve against the old URL.
        let (to, next) = follow(&from, &put("/v1"), 307, "//b.example/v3?x=1").unwrap();
        assert_eq!(to.as_str(), "http://b.example/v3?x=1");
        assert_eq!(next.uri(), "/v3?x=1");
    }

    #[test]
    fn a_redirect_needs_a_location() {
        let mut h = http::HeaderMap::new();
        assert_eq!(target(302, &h), None);
        h.insert("location", "/x".parse().unwrap());
        assert_eq!(target(302, &h), Some("/x"));
        assert_eq!(target(300, &h), None);
        assert_eq!(target(304, &h), None);
    }
}
