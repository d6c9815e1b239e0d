//! Reproducers: the raw HTTP exchange of a case (the request as signed and sent, the
//! answer as received), and the commands that re-run one case: `apiconform test --case
//! NAME` with the options of the run, and `apiconform replay NAME`, which sends that case's
//! request again (from the case's starting state, signed afresh) and prints the exchange.

use std::fmt::Write as _;

use bytes::Bytes;

/// Largest body kept in an [`Exchange`] (the rest is cut, with a note).
const BODY_KEPT: usize = 64 * 1024;

/// One request as it went on the wire and the answer as it came back, each written as
/// HTTP/1.1 text when asked for: every case keeps one, and only the reports and
/// reproducers of a few read it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request, its body cut at [`BODY_KEPT`] bytes, and the whole body's length.
    sent: http::Request<Bytes>,
    sent_len: usize,
    status: u16,
    headers: http::HeaderMap,
    /// The answer's body, cut the same way, and its whole length.
    body: Bytes,
    body_len: usize,
}

/// The first [`BODY_KEPT`] bytes of `body`; a longer body is copied, so that the rest of
/// it is not kept alive.
fn kept(body: &Bytes) -> Bytes {
    if body.len() > BODY_KEPT {
        Bytes::copy_from_slice(&body[..BODY_KEPT])
    } else {
        body.clone()
    }
}

impl Exchange {
    pub fn new(
        sent: http::Request<Bytes>,
        status: u16,
        headers: http::HeaderMap,
        body: &Bytes,
    ) -> Self {
        let sent_len = sent.body().len();
        Self {
            sent: sent.map(|b| kept(&b)),
            sent_len,
            status,
            headers,
            body: kept(body),
            body_len: body.len(),
        }
    }

    /// Request line, the headers apiconform set (signature included), `content-length`,
    /// a blank line and the body (cut at 64 KiB).
    pub fn request(&self) -> String {
        let mut s = request_head(&self.sent, self.sent_len);
        s.push_str(&kept_text(self.sent.body(), self.sent_len));
        s
    }

    /// Status line, headers, a blank line and the body (cut at 64 KiB).
    pub fn response(&self) -> String {
        let mut s = response_head(self.status, &self.headers);
        s.push_str(&kept_text(&self.body, self.body_len));
        s
    }
}

/// `kept`, the first bytes of a body of `len` bytes, with a note of what was cut.
fn kept_text(kept: &[u8], len: usize) -> String {
    let mut s = String::from_utf8_lossy(kept).into_owned();
    if len > kept.len() {
        let _ = write!(s, "\n[… {} more bytes]", len - kept.len());
    }
    s
}

/// The request line, the headers (`host` first, as it goes on the wire, and
/// `content-length` for a body of `len` bytes when the request does not carry it) and the
/// blank line after them.
fn request_head(req: &http::Request<Bytes>, len: usize) -> String {
    let mut s = format!("{} {} HTTP/1.1\n", req.method(), req.uri());
    if let Some(h) = req.headers().get("host") {
        let _ = writeln!(s, "host: {}", String::from_utf8_lossy(h.as_bytes()));
    }
    for (k, v) in req.headers() {
        if k != "host" {
            let _ = writeln!(s, "{k}: {}", String::from_utf8_lossy(v.as_bytes()));
        }
    }
    if len > 0 && !req.headers().contains_key("content-length") {
        let _ = writeln!(s, "content-length: {len}");
    }
    s.push('\n');
    s
}

/// The status line, the headers and the blank line after them.
fn response_head(status: u16, headers: &http::HeaderMap) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut s = format!("HTTP/1.1 {status} {reason}\n");
    for (k, v) in headers {
        let _ = writeln!(s, "{k}: {}", String::from_utf8_lossy(v.as_bytes()));
    }
    s.push('\n');
    s
}

/// `s` quoted for a POSIX shell when it needs to be.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_.:=+-@,%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The options of a run that a reproducer repeats (specs, suites, target, snapshots,
/// strictness), so that the command re-runs the case exactly as the run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Invocation {
    /// Options as typed, e.g. `["--target", "docs/moto/moto.yaml", "--strict"]`.
    pub args: Vec<String>,
    /// The target profile, if any (for the reports' header).
    pub target: Option<String>,
}

impl Invocation {
    fn args_text(&self) -> String {
        self.args
            .iter()
            .map(|a| format!(" {}", quote(a)))
            .collect::<String>()
    }

    /// `apiconform test OPTIONS --case NAME`.
    pub fn rerun(&self, case: &str) -> String {
        format!("apiconform test{} --case {}", self.args_text(), quote(case))
    }

    /// `apiconform replay NAME OPTIONS`.
    pub fn replay(&self, case: &str) -> String {
        format!("apiconform replay {}{}", quote(case), self.args_text())
    }
}

/// `apiconform replay`: runs the case named `name` on `runner` (from its starting state,
/// signed afresh) and renders the exchange (redacted unless `unredacted`) and the verdict;
/// `Ok((text, passed))`. `Err`: no case has that name (similar ones are named), or the
/// target cannot run it.
pub async fn replay(
    runner: &super::Runner,
    name: &str,
    unredacted: bool,
) -> Result<(String, bool), String> {
    let cases = runner.cases(&super::Selection::default());
    let Some(case) = cases.iter().find(|c| c.name == name) else {
        let last = name.rsplit('/').next().unwrap_or(name);
        let near: Vec<&str> = cases
            .iter()
            .map(|c| c.name.as_str())
            .filter(|n| n.contains(last))
            .take(8)
            .collect();
        return Err(format!(
            "no case is named '{name}'{} (`apiconform cases` lists them)",
            if near.is_empty() {
                String::new()
            } else {
                format!("; similar: {}", near.join(", "))
            }
        ));
    };
    let redactor = super::redact::Redactor::with_profile(runner.profile());
    let shown = |t: &str| {
        if unredacted {
            t.to_string()
        } else {
            redactor.http(t)
        }
    };
    let base = runner
        .profile()
        .apis
        .get(&case.api)
        .map(|t| t.base_url.clone())
        .unwrap_or_default();
    let o = runner.run_case(case).await;
    if let Some(why) = &o.skipped {
        return Err(format!("the target cannot run {}: {why}", case.name));
    }
    let mut out = format!("replay {} against {base}\n", case.name);
    match &o.exchange {
        Some(x) => {
            let _ = writeln!(
                out,
                "--- request, as sent{}",
                if unredacted {
                    ""
                } else {
                    " (credentials, signature and tokens redacted; --unredacted shows them)"
                }
            );
            let _ = writeln!(out, "{}", shown(&x.request()).trim_end());
            let _ = writeln!(out, "--- answer");
            let _ = writeln!(out, "{}", shown(&x.response()).trim_end());
        }
        None => out.push_str("--- no exchange: the request did not complete\n"),
    }
    out.push_str("--- verdict\n");
    if o.passed() {
        let _ = writeln!(out, "PASS {}", case.name);
        for w in &o.warnings {
            let _ = writeln!(out, "  warning: {w}");
        }
    } else {
        out.push_str(&super::report::text_block(&o));
    }
    Ok((out, o.passed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_only_when_the_shell_needs_it() {
        assert_eq!(
            quote("aws-iam/length/UserName/max+1"),
            "aws-iam/length/UserName/max+1"
        );
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        let inv = Invocation {
            args: vec!["--target".into(), "my profile.yaml".into()],
            target: Some("my profile.yaml".into()),
        };
        assert_eq!(
            inv.rerun("aws-iam/auth/unsigned"),
            "apiconform test --target 'my profile.yaml' --case aws-iam/auth/unsigned"
        );
        assert_eq!(
            inv.replay("aws-iam/auth/unsigned"),
            "apiconform replay aws-iam/auth/unsigned --target 'my profile.yaml'"
        );
    }

    #[test]
    fn an_exchange_is_written_as_http_text_with_a_long_body_cut() {
        let sent = http::Request::builder()
            .method("POST")
            .uri("/v1/users/1")
            .header("x-auth-token", "t0")
            .header("host", "127.0.0.1:1")
            .body(Bytes::from_static(b"{}"))
            .unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        let body = Bytes::from(vec![b'a'; BODY_KEPT + 10]);
        let x = Exchange::new(sent.clone(), 200, headers, &body);
        let head = "POST /v1/users/1 HTTP/1.1\nhost: 127.0.0.1:1\nx-auth-token: t0\n";
        assert_eq!(x.request(), format!("{head}content-length: 2\n\n{{}}"));
        // A long request body is cut as the answer's is, its whole length still shown.
        let long = Exchange::new(
            sent.map(|_| body.clone()),
            200,
            http::HeaderMap::new(),
            &body,
        );
        let text = long.request();
        let first = format!("{head}content-length: {}\n\naaa", BODY_KEPT + 10);
        assert!(text.starts_with(&first), "{}", &text[..200]);
        assert!(text.ends_with("a\n[… 10 more bytes]"));
        assert_eq!(
            text.len(),
            first.len() - 3 + BODY_KEPT + "\n[… 10 more bytes]".len()
        );
        assert_eq!(long.sent.body().len(), BODY_KEPT);
        let response = x.response();
        assert!(
            response.starts_with("HTTP/1.1 200 OK\ncontent-type: application/json\n\naaa"),
            "{response}"
        );
        assert!(response.ends_with("a\n[… 10 more bytes]"), "{response}");
        let response_head = "HTTP/1.1 200 OK\ncontent-type: application/json\n\n";
        assert_eq!(
            response.len(),
            response_head.len() + BODY_KEPT + "\n[… 10 more bytes]".len()
        );
        assert_eq!(x.body.len(), BODY_KEPT);
    }
}
