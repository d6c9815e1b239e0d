//! AWS Signature Version 4: the verifier the fake runs on every IAM, Transfer, WorkDocs and
//! Nexfs request, and the signer the tests and the runner use to talk to any target.
//!
//! Both build the canonical request exactly as botocore does (double-encoded path for
//! non-S3 services, sorted and re-encoded query, trimmed header values, hex SHA-256 of the
//! body unless `x-amz-content-sha256` says otherwise), so a signature botocore makes is
//! one this module accepts, and the other way round. Signatures are compared in constant
//! time. Failures carry the wording AWS uses, and a [`AuthFailure`] kind that the spec maps
//! to its own error row (`fake::engine` `authenticate`):
//!
//! | refusal | kind |
//! |---|---|
//! | no `Authorization` header and no presigned query | `Missing` |
//! | an `Authorization` header that is not UTF-8; not `AWS4-HMAC-SHA256`, a missing `Credential`/`SignedHeaders`/`Signature`, no `X-Amz-Date` or `Date`, a date not in ISO-8601 basic form, a malformed credential, a signed header absent from the request | `Incomplete` |
//! | unknown access key; session token required but absent, or different from the key's, or sent for a key that has none | `UnknownKey` |
//! | wrong terminator, service, region or scope date; `host` not signed; `x-amz-content-sha256` not the body's hash (`UNSIGNED-PAYLOAD` outside S3); signature mismatch | `BadSignature` |
//! | date more than `max_skew` before or after now; presigned URL past `X-Amz-Expires` | `Expired` |

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::text::split;

use hmac::{Hmac, Mac};
use http::request::Parts;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::format_description::{well_known::Rfc2822, BorrowedFormatItem};
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";
const AMZ_DATE: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// An `x-amz-date` (`YYYYMMDDTHHMMSSZ`, [`AMZ_DATE`]) read by position, the date and time
/// checked by `time` as its parser checks them: the format-description parser took
/// about 3k instructions of every signed request. Agrees with
/// `PrimitiveDateTime::parse(s, AMZ_DATE)` (a property test compares them), except that
/// a signed year (`+2026…`), which `time` takes, is refused as AWS refuses it.
fn parse_amz_date(s: &str) -> Option<PrimitiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let number = |at: std::ops::Range<usize>| {
        b[at].iter().try_fold(0u16, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u16::from(c - b'0'))
        })
    };
    let byte = |at| number(at).and_then(|n| u8::try_from(n).ok());
    let month = time::Month::try_from(byte(4..6)?).ok()?;
    let date = time::Date::from_calendar_date(i32::from(number(0..4)?), month, byte(6..8)?);
    let time = time::Time::from_hms(byte(9..11)?, byte(11..13)?, byte(13..15)?);
    Some(PrimitiveDateTime::new(date.ok()?, time.ok()?))
}

/// Python's `email.utils.formatdate(t)`, which botocore writes into a `Date` header.
const HTTP_DATE: &[BorrowedFormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] -0000"
);

/// Headers [`sign`] leaves out unless `also_sign` names them: botocore's
/// `SIGNED_HEADERS_BLACKLIST` (botocore 1.43 `auth.py`), `authorization` (botocore deletes it
/// before signing), and the headers a botocore client only adds after signing
/// (`amz-sdk-*` by its retry handler, `content-length` and `accept-encoding` by the HTTP
/// layer), so that a request shaped like boto3's wire request gets boto3's signature.
const UNSIGNED_HEADERS: &[&str] = &[
    // botocore's blacklist
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
    // replaced or added after signing
    "authorization",
    "content-length",
    "accept-encoding",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
];
/// `x-amz-content-sha256` values that stand for a body that is not hashed (S3 only).
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// As [`STRICT`], keeping `/` (paths).
const PATH: &AsciiSet = &STRICT.remove(b'/');

/// A key pair, with the session token that goes with temporary credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
}

/// What the verifier requires of a request.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The credential scope's service, e.g. `iam`.
    pub service: &'a str,
    /// A fixed scope region; any region when `None`.
    pub region: Option<&'a str>,
    /// `X-Amz-Security-Token` must be sent.
    pub session_token_required: bool,
    /// Largest accepted distance between `X-Amz-Date` and now (AWS: 15 minutes).
    pub max_skew: Duration,
    /// Encode the path a second time (every service but S3).
    pub double_encode_path: bool,
}

/// A request whose signature checked out; what it names is borrowed from the request
/// where it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<'r> {
    pub access_key: Cow<'r, str>,
    pub session_token: Option<Cow<'r, str>>,
    /// The region of the credential scope.
    pub region: Cow<'r, str>,
}

impl Verified<'_> {
    /// The same, owning its text.
    pub fn into_owned(self) -> Verified<'static> {
        Verified {
            access_key: Cow::Owned(self.access_key.into_owned()),
            session_token: self.session_token.map(|t| Cow::Owned(t.into_owned())),
            region: Cow::Owned(self.region.into_owned()),
        }
    }
}

/// The kinds of failure; a spec names the error row each one answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No signature at all.
    Missing,
    /// A signature that cannot be read, or lacks a part.
    Incomplete,
    /// An access key or session token the server does not know.
    UnknownKey,
    /// The signature (or its scope) does not match.
    BadSignature,
    /// The date is too far from now.
    Expired,
}

/// Why a request's signature was refused. `Display` gives AWS's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    #[error("Request is missing Authentication Token")]
    Missing,
    #[error("{0}")]
    Incomplete(String),
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    #[error("The security token included in the request is invalid: {0}")]
    BadToken(&'static str),
    /// The credential scope (terminator, service, region, date) is wrong.
    #[error("{0}")]
    Scope(String),
    /// The signature cannot match: `host` unsigned, or the body hash header is wrong.
    #[error("{0}")]
    Refused(String),
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service \
         documentation for details."
    )]
    Mismatch,
    #[error("{0}")]
    Expired(String),
}

impl SigV4Error {
    pub fn kind(&self) -> AuthFailure {
        match self {
            SigV4Error::Missing => AuthFailure::Missing,
            SigV4Error::Incomplete(_) => AuthFailure::Incomplete,
            SigV4Error::UnknownKey | SigV4Error::BadToken(_) => AuthFailure::UnknownKey,
            SigV4Error::Scope(_) | SigV4Error::Refused(_) | SigV4Error::Mismatch => {
                AuthFailure::BadSignature
            }
            SigV4Error::Expired(_) => AuthFailure::Expired,
        }
    }
}

/// The parts of a signature, from the `Authorization` header or a presigned query,
/// borrowed from the request unless a query escape had to be decoded.
#[derive(Debug)]
struct Signature<'r> {
    /// `<key>/<date>/<region>/<service>/<terminator>`: five parts, checked by [`build`].
    credential: Cow<'r, str>,
    /// Where the credential's four `/` are, found once by [`build`].
    slashes: [usize; 4],
    /// The signed header names, lower-case and sorted, joined by `;`.
    signed_headers: Cow<'r, str>,
    signature: Cow<'r, str>,
    amz_date: Cow<'r, str>,
    session_token: Option<Cow<'r, str>>,
    /// Presigned URLs: seconds the signature stays valid.
    expires: Option<i64>,
    presigned: bool,
}

impl Signature<'_> {
    /// The credential's access key, date, region, service and terminator.
    fn scope(&self) -> [&str; 5] {
        let c = &self.credential;
        let [a, b, d, e] = self.slashes;
        [
            &c[..a],
            &c[a + 1..b],
            &c[b + 1..d],
            &c[d + 1..e],
            &c[e + 1..],
        ]
    }
}
/// What the verifier reads of a request: its method, URI and headers. Implemented for
/// `http::request::Parts` and for any `http::Request`, so a server verifies the request it
/// holds without copying its head.
pub trait Head {
    fn method(&self) -> &http::Method;
    fn uri(&self) -> &http::Uri;
    fn headers(&self) -> &http::HeaderMap;
}

impl Head for Parts {
    fn method(&self) -> &http::Method {
        &self.method
    }
    fn uri(&self) -> &http::Uri {
        &self.uri
    }
    fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }
}

impl<B> Head for http::Request<B> {
    fn method(&self) -> &http::Method {
        self.method()
    }
    fn uri(&self) -> &http::Uri {
        self.uri()
    }
    fn headers(&self) -> &http::HeaderMap {
        self.headers()
    }
}

/// A request's head as the verifier reads it: its headers gathered in one pass, as
/// (name, value) in the map's order, so each lookup compares a few short names instead of
/// parsing and hashing the name it looks for (a signed request is read a dozen times).
struct View<'r> {
    method: &'r http::Method,
    uri: &'r http::Uri,
    headers: smallvec::SmallVec<[(&'r str, &'r http::HeaderValue); 16]>,
}

impl<'r> View<'r> {
    fn of(head: &'r impl Head) -> Self {
        View {
            method: head.method(),
            uri: head.uri(),
            headers: head
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str(), v))
                .collect(),
        }
    }

    /// The first value of the header `name`, in any case (as the map's lookups).
    fn get(&self, name: &str) -> Option<&'r http::HeaderValue> {
        self.get_all(name).next()
    }

    /// Every value of the header `name`, in the order they came.
    fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'r http::HeaderValue> + 'a {
        self.headers
            .iter()
            // The map keeps names in lower case, as they are looked up: equal bytes first.
            .filter(move |(n, _)| *n == name || n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// What the verifier needs of a known access key: its secret, and the session token that
/// goes with it. Implemented for [`Credentials`] and for the fake's configured identities,
/// so a lookup hands out a reference instead of a copy.
pub trait Secret {
    fn secret_key(&self) -> &str;
    fn session_token(&self) -> Option<&str>;
}

impl Secret for Credentials {
    fn secret_key(&self) -> &str {
        &self.secret_key
    }
    fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
}

impl<T: Secret + ?Sized> Secret for &T {
    fn secret_key(&self) -> &str {
        (**self).secret_key()
    }
    fn session_token(&self) -> Option<&str> {
        (**self).session_token()
    }
}

/// Checks `parts` + `body` against the signature they carry. `lookup` finds the secret of
/// an access key. Nothing is copied from the request on the way: the canonical request is
/// hashed as it is written, and what the answer names is borrowed from `parts`.
pub fn verify<'r, K: Secret>(
    parts: &'r impl Head,
    body: &[u8],
    expected: &Expected,
    now: OffsetDateTime,
    lookup: impl Fn(&str) -> Option<K>,
) -> Result<Verified<'r>, SigV4Error> {
    let view = View::of(parts);
    let sig = read_signature(&view)?;
    let [access_key, date, region, service, terminator] = sig.scope();

    if terminator != TERMINATOR {
        return Err(SigV4Error::Scope(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'. "
        )));
    }
    if service != expected.service {
        return Err(SigV4Error::Scope(format!(
            "Credential should be scoped to correct service: '{}'. ",
            expected.service
        )));
    }
    if expected.region.is_some_and(|r| r != region) || region.is_empty() {
        return Err(SigV4Error::Scope(
            "Credential should be scoped to a valid region. ".into(),
        ));
    }
    let Some(when) = parse_amz_date(&sig.amz_date) else {
        return Err(SigV4Error::Incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            sig.amz_date
        )));
    };
    let when = when.assume_utc();
    if !sig.amz_date.starts_with(date) {
        return Err(SigV4Error::Scope(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
            date,
            sig.amz_date.get(..8).unwrap_or_default(),
            sig.amz_date
        )));
    }
    check_time(&sig, when, now, expected.max_skew)?;
    for h in split(&sig.signed_headers, b';') {
        let present = view.get(h).is_some() || (h == "host" && view.uri.authority().is_some());
        if !present {
            return Err(SigV4Error::Incomplete(format!(
                "'{h}' is named in SignedHeaders but is not in the request. Authorization={ALGORITHM}"
            )));
        }
    }

    let creds = lookup(access_key).ok_or(SigV4Error::UnknownKey)?;
    match (creds.session_token(), sig.session_token.as_deref()) {
        (_, None) if expected.session_token_required => {
            return Err(SigV4Error::BadToken("a session token is required"))
        }
        (Some(want), Some(got)) if !bool::from(want.as_bytes().ct_eq(got.as_bytes())) => {
            return Err(SigV4Error::UnknownKey)
        }
        (None, Some(_)) => return Err(SigV4Error::UnknownKey),
        _ => {}
    }

    let payload = verified_payload_hash(&view, body, !expected.double_encode_path)?;
    let mut canonical = Hashing::default();
    write_canonical_request(
        &mut canonical,
        &view,
        &sig.signed_headers,
        payload.as_str(),
        expected.double_encode_path,
        sig.presigned,
    );
    let want = signature(
        creds.secret_key(),
        &sig.amz_date,
        [date, region, service],
        &canonical.finish(),
    );
    if !same_signature(&want, sig.signature.as_bytes()) {
        return Err(SigV4Error::Mismatch);
    }
    let key_end = access_key.len();
    let region_at = key_end + date.len() + 2;
    let region_range = region_at..region_at + region.len();
    let Signature {
        credential,
        session_token,
        ..
    } = sig;
    let (access_key, region) = match credential {
        Cow::Borrowed(c) => (
            Cow::Borrowed(&c[..key_end]),
            Cow::Borrowed(&c[region_range]),
        ),
        Cow::Owned(c) => (
            Cow::Owned(c[..key_end].to_owned()),
            Cow::Owned(c[region_range].to_owned()),
        ),
    };
    Ok(Verified {
        access_key,
        session_token,
        region,
    })
}

fn check_time(
    sig: &Signature,
    when: OffsetDateTime,
    now: OffsetDateTime,
    skew: Duration,
) -> Result<(), SigV4Error> {
    let stamp = |t: OffsetDateTime| t.format(AMZ_DATE).unwrap_or_default();
    let minutes = skew.whole_minutes();
    // Compared as nanoseconds since the epoch, which order as the times do: the times
    // `now ± skew` (each a date normalized) are built only for a message.
    let (at, clock) = (when.unix_timestamp_nanos(), now.unix_timestamp_nanos());
    let slack = skew.whole_nanoseconds();
    if let Some(expires) = sig.expires {
        if at + i128::from(expires) * 1_000_000_000 < clock {
            return Err(SigV4Error::Expired(format!(
                "Request has expired (signed {} with X-Amz-Expires {expires}, now {})",
                sig.amz_date,
                stamp(now)
            )));
        }
    } else if at < clock - slack {
        return Err(SigV4Error::Expired(format!(
            "Signature expired: {} is now earlier than {} ({} - {minutes} min.)",
            sig.amz_date,
            stamp(now - skew),
            stamp(now)
        )));
    }
    if at > clock + slack {
        return Err(SigV4Error::Expired(format!(
            "Signature not yet current: {} is still later than {} ({} + {minutes} min.)",
            sig.amz_date,
            stamp(now + skew),
            stamp(now)
        )));
    }
    Ok(())
}

/// Signs `parts` as botocore's `SigV4Auth` does: adds `X-Amz-Date`, the session token when
/// there is one, and `Authorization`, signing every header present except those botocore
/// leaves out (`also_sign` forces some of those in).
pub fn sign(
    parts: &mut Parts,
    body: &[u8],
    creds: &Credentials,
    region: &str,
    service: &str,
    now: OffsetDateTime,
    also_sign: &[&str],
) {
    let amz_date = now.format(AMZ_DATE).unwrap_or_default();
    let date = amz_date.get(..8).unwrap_or_default().to_string();
    parts.headers.remove(http::header::AUTHORIZATION);
    if parts.headers.contains_key(http::header::DATE) {
        // botocore keeps a request's `Date` (rewritten to the signing time, in
        // `email.utils.formatdate` form) and sends no `X-Amz-Date` then.
        let date = now.format(HTTP_DATE).unwrap_or_default();
        insert(parts, "date", &date);
        parts.headers.remove("x-amz-date");
    } else {
        insert(parts, "x-amz-date", &amz_date);
    }
    if let Some(token) = &creds.session_token {
        insert(parts, "x-amz-security-token", token);
    }
    if !parts.headers.contains_key(http::header::HOST) {
        if let Some(host) = host_from_uri(&parts.uri) {
            insert(parts, "host", &host);
        }
    }
    let mut names: Vec<String> = parts
        .headers
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| {
            !UNSIGNED_HEADERS.contains(&k.as_str())
                || also_sign.iter().any(|a| a.eq_ignore_ascii_case(k))
        })
        .collect();
    names.sort();
    names.dedup();
    let signed = names.join(";");
    let mut canonical = Hashing::default();
    {
        let view = View::of(parts);
        write_canonical_request(
            &mut canonical,
            &view,
            &signed,
            payload_hash(&view, body).as_str(),
            service != "s3",
            false,
        );
    }
    let signature = signature(
        &creds.secret_key,
        &amz_date,
        [&date, region, service],
        &canonical.finish(),
    );
    let value = format!(
        "{ALGORITHM} Credential={}/{date}/{region}/{service}/{TERMINATOR}, SignedHeaders={signed}, Signature={}",
        creds.access_key,
        String::from_utf8_lossy(&signature)
    );
    insert(parts, "authorization", &value);
}

/// The `host` botocore signs when the request has no `Host` header (`_host_from_url`): the
/// authority's host in lower case, with the port only when it is not the scheme's default.
fn host_from_uri(uri: &http::Uri) -> Option<String> {
    let authority = uri.authority()?;
    let host = authority.host().to_ascii_lowercase();
    let default = match uri.scheme_str() {
        Some("http") => Some(80),
        Some("https") => Some(443),
        _ => None,
    };
    Some(match authority.port_u16() {
        Some(port) if Some(port) != default => format!("{host}:{port}"),
        _ => host,
    })
}

fn insert(parts: &mut Parts, name: &'static str, value: &str) {
    if let Ok(v) = http::HeaderValue::from_str(value) {
        parts.headers.insert(name, v);
    }
}

/// Reads the signature from the `Authorization` header, or from a presigned query string.
fn read_signature<'r>(parts: &View<'r>) -> Result<Signature<'r>, SigV4Error> {
    let token = parts
        .get("x-amz-security-token")
        .map(|v| String::from_utf8_lossy(v.as_bytes()));
    match parts.get("authorization") {
        Some(h) => match std::str::from_utf8(h.as_bytes()) {
            Ok(h) => read_header(h, parts, token),
            Err(_) => Err(SigV4Error::Incomplete(format!(
                "The Authorization header is not UTF-8 text. Authorization={}",
                String::from_utf8_lossy(h.as_bytes())
            ))),
        },
        None => {
            let query = query_pairs(parts.uri.query().unwrap_or_default());
            if query.iter().any(|(k, _)| k == "X-Amz-Algorithm") {
                read_query(&query, token)
            } else {
                Err(SigV4Error::Missing)
            }
        }
    }
}

fn read_header<'r>(
    header: &'r str,
    parts: &View<'r>,
    token: Option<Cow<'r, str>>,
) -> Result<Signature<'r>, SigV4Error> {
    let Some(rest) = header
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
    else {
        let algorithm = header.split_whitespace().next().unwrap_or_default();
        return Err(SigV4Error::Incomplete(format!(
            "Unsupported authorization type: '{algorithm}'. Authorization={header}"
        )));
    };
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for item in split(rest, b',') {
        // `name=value`, for the three names read (none of which holds a `=`): matched
        // as prefixes of a known length, which compile to a few word compares.
        let item = item.trim();
        if let Some(v) = item.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = item.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = item.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let amz_date = request_date(parts);
    let mut missing = String::new();
    for (name, present) in [
        ("Credential", credential.is_some()),
        ("Signature", signature.is_some()),
        ("SignedHeaders", signed.is_some()),
    ] {
        if !present {
            let _ = write!(
                missing,
                "Authorization header requires '{name}' parameter. "
            );
        }
    }
    if amz_date.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !missing.is_empty() {
        return Err(SigV4Error::Incomplete(format!(
            "{missing}Authorization={header}"
        )));
    }
    build(
        Cow::Borrowed(credential.unwrap_or_default()),
        Cow::Borrowed(signed.unwrap_or_default()),
        Cow::Borrowed(signature.unwrap_or_default()),
        amz_date.unwrap_or_default(),
        token,
        None,
        false,
    )
}

/// The request's date in `YYYYMMDDTHHMMSSZ` form: `X-Amz-Date`, else `Date` (which botocore
/// sends as RFC 2822 when the request already had a `Date`; an unreadable one is passed on
/// unchanged so the ISO-8601 check reports it).
fn request_date<'r>(parts: &View<'r>) -> Option<Cow<'r, str>> {
    let text = |name: &str| {
        parts
            .get(name)
            .map(|v| match String::from_utf8_lossy(v.as_bytes()) {
                Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
                Cow::Owned(s) => Cow::Owned(s.trim().to_owned()),
            })
    };
    if let Some(d) = text("x-amz-date") {
        return Some(d);
    }
    let date = text("date")?;
    if parse_amz_date(&date).is_some() {
        return Some(date);
    }
    let rfc = |d: &str| OffsetDateTime::parse(d, &Rfc2822).ok();
    let parsed = rfc(&date).or_else(|| {
        date.strip_suffix(" GMT")
            .or_else(|| date.strip_suffix(" UTC"))
            .and_then(|d| rfc(&format!("{d} +0000")))
    });
    match parsed.and_then(|t| t.to_offset(time::UtcOffset::UTC).format(AMZ_DATE).ok()) {
        Some(d) => Some(Cow::Owned(d)),
        None => Some(date),
    }
}

fn read_query<'r>(
    query: &[(Cow<'r, str>, Cow<'r, str>)],
    token: Option<Cow<'r, str>>,
) -> Result<Signature<'r>, SigV4Error> {
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if get("X-Amz-Algorithm").as_deref() != Some(ALGORITHM) {
        return Err(SigV4Error::Incomplete(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"".into(),
        ));
    }
    let mut missing = Vec::new();
    let mut need = |k: &'static str| {
        let v = get(k);
        if v.is_none() {
            missing.push(k);
        }
        v.unwrap_or_default()
    };
    let credential = need("X-Amz-Credential");
    let signed = need("X-Amz-SignedHeaders");
    let signature = need("X-Amz-Signature");
    let amz_date = need("X-Amz-Date");
    if !missing.is_empty() {
        return Err(SigV4Error::Incomplete(format!(
            "AWS query-string parameters must include {}. Re-examine the query-string parameters.",
            missing
                .iter()
                .map(|m| format!("'{m}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let expires = match get("X-Amz-Expires") {
        None => None,
        Some(e) => Some(e.parse::<i64>().map_err(|_| {
            SigV4Error::Incomplete(format!("X-Amz-Expires must be a number, not '{e}'"))
        })?),
    };
    build(
        credential,
        signed,
        signature,
        amz_date,
        get("X-Amz-Security-Token").or(token),
        expires,
        true,
    )
}

fn build<'r>(
    credential: Cow<'r, str>,
    signed: Cow<'r, str>,
    signature: Cow<'r, str>,
    amz_date: Cow<'r, str>,
    session_token: Option<Cow<'r, str>>,
    expires: Option<i64>,
    presigned: bool,
) -> Result<Signature<'r>, SigV4Error> {
    // Five parts: four `/` and no fifth.
    let mut at = memchr::memchr_iter(b'/', credential.as_bytes());
    let slashes = match (at.next(), at.next(), at.next(), at.next(), at.next()) {
        (Some(a), Some(b), Some(c), Some(d), None) => [a, b, c, d],
        _ => {
            return Err(SigV4Error::Incomplete(format!(
                "Credential is not of the form <key>/<date>/<region>/<service>/aws4_request: '{credential}'"
            )))
        }
    };
    if credential.starts_with('/') {
        return Err(SigV4Error::Incomplete(
            "Credential names no access key".into(),
        ));
    }
    let signed_headers = match signed {
        Cow::Borrowed(s) => sorted_lower_case(s),
        Cow::Owned(s) => Cow::Owned(sorted_lower_case(&s).into_owned()),
    };
    if !split(&signed_headers, b';').any(|h| h == "host") {
        return Err(SigV4Error::Refused(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    Ok(Signature {
        credential,
        slashes,
        signed_headers,
        signature,
        amz_date,
        session_token,
        expires,
        presigned,
    })
}

/// `SignedHeaders` as the canonical request lists them: lower-case, sorted. Clients send
/// them that way already, so the list is borrowed unless it has to change.
fn sorted_lower_case(signed: &str) -> Cow<'_, str> {
    let lower = !signed.bytes().any(|b| b.is_ascii_uppercase());
    if lower && split(signed, b';').is_sorted() {
        return Cow::Borrowed(signed);
    }
    let mut names: Vec<String> = signed.split(';').map(str::to_ascii_lowercase).collect();
    names.sort();
    Cow::Owned(names.join(";"))
}

/// A payload hash as the canonical request holds it: computed (hex) or as the request's
/// `x-amz-content-sha256` header gave it.
enum PayloadHash<'r> {
    Computed([u8; 64]),
    Sent(&'r str),
}

impl PayloadHash<'_> {
    fn as_str(&self) -> &str {
        match self {
            PayloadHash::Computed(hex) => std::str::from_utf8(hex).unwrap_or_default(),
            PayloadHash::Sent(s) => s,
        }
    }
}

/// The payload hash a signer puts in the canonical request: botocore takes
/// `x-amz-content-sha256` as it is when the request has one, else hashes the body.
fn payload_hash<'r>(parts: &View<'r>, body: &[u8]) -> PayloadHash<'r> {
    match parts
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        Some(v) => PayloadHash::Sent(v),
        None => PayloadHash::Computed(body_hash(body)),
    }
}

/// The lower-case hex SHA-256 of an empty body (every GET's and DELETE's payload hash).
const EMPTY_BODY_HASH: &[u8; 64] =
    b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The lower-case hex SHA-256 of a body; an empty body's is a constant.
fn body_hash(body: &[u8]) -> [u8; 64] {
    if body.is_empty() {
        return *EMPTY_BODY_HASH;
    }
    hex64(&Sha256::digest(body).into())
}

/// The payload hash for verifying. A `x-amz-content-sha256` header is signed as sent (as
/// botocore does), but must also be the body's real hash, so the header cannot vouch for
/// a body it does not describe; `UNSIGNED-PAYLOAD` is accepted for S3 (`allow_unsigned`)
/// only. Anything else is refused as S3 refuses it (`XAmzContentSHA256Mismatch`'s text).
fn verified_payload_hash<'r>(
    parts: &View<'r>,
    body: &[u8],
    allow_unsigned: bool,
) -> Result<PayloadHash<'r>, SigV4Error> {
    let actual = PayloadHash::Computed(body_hash(body));
    let Some(claimed) = parts.get("x-amz-content-sha256") else {
        return Ok(actual);
    };
    match std::str::from_utf8(claimed.as_bytes()) {
        Ok(claimed)
            if (allow_unsigned && claimed == UNSIGNED_PAYLOAD)
                || claimed.eq_ignore_ascii_case(actual.as_str()) =>
        {
            Ok(PayloadHash::Sent(claimed))
        }
        _ => Err(SigV4Error::Refused(
            "The provided 'x-amz-content-sha256' header does not match what was computed.".into(),
        )),
    }
}

/// A `fmt::Write` that hashes what is written to it, so the canonical request is hashed
/// as it is produced and never held. The canonical request comes in many small pieces (a
/// newline, a colon); they are gathered in a block-sized buffer and hashed a block at a
/// time rather than one `update` each.
struct Hashing {
    sha: Sha256,
    buf: [u8; 128],
    len: usize,
}

impl Default for Hashing {
    fn default() -> Self {
        Self {
            sha: Sha256::default(),
            buf: [0; 128],
            len: 0,
        }
    }
}

impl std::fmt::Write for Hashing {
    /// The canonical request's separators are ASCII: one byte into the buffer, not a
    /// `char` encoded and written as a string.
    fn write_char(&mut self, c: char) -> std::fmt::Result {
        if !c.is_ascii() || self.len == self.buf.len() {
            return self.write_str(c.encode_utf8(&mut [0; 4]));
        }
        self.buf[self.len] = c as u8;
        self.len += 1;
        Ok(())
    }

    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let bytes = s.as_bytes();
        if self.len + bytes.len() > self.buf.len() {
            self.sha.update(&self.buf[..self.len]);
            self.len = 0;
            if bytes.len() > self.buf.len() {
                self.sha.update(bytes);
                return Ok(());
            }
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }
}

impl Hashing {
    fn finish(mut self) -> [u8; 32] {
        self.sha.update(&self.buf[..self.len]);
        self.sha.finalize().into()
    }
}

/// Writes the canonical request of SigV4 over the headers named in `signed` (lower-case,
/// sorted, joined by `;`).
fn write_canonical_request(
    out: &mut impl std::fmt::Write,
    parts: &View<'_>,
    signed: &str,
    payload: &str,
    double_encode: bool,
    presigned: bool,
) {
    let mut write = || -> std::fmt::Result {
        out.write_str(parts.method.as_str())?;
        out.write_char('\n')?;
        write_canonical_uri(out, parts.uri.path(), double_encode)?;
        out.write_char('\n')?;
        write_canonical_query(out, parts.uri.query().unwrap_or_default(), presigned)?;
        out.write_char('\n')?;
        for name in split(signed, b';') {
            out.write_str(name)?;
            out.write_char(':')?;
            if name == "host" && parts.get("host").is_none() {
                out.write_str(parts.uri.authority().map_or("", |a| a.as_str()))?;
            } else {
                for (i, v) in parts.get_all(name).enumerate() {
                    if i > 0 {
                        out.write_char(',')?;
                    }
                    write_collapsed(out, v.as_bytes())?;
                }
            }
            out.write_char('\n')?;
        }
        out.write_char('\n')?;
        out.write_str(signed)?;
        out.write_char('\n')?;
        out.write_str(payload)
    };
    // Neither a String nor the hasher fails to take text.
    let _ = write();
}

/// A header value trimmed, with inner runs of whitespace written as one space (bytes that
/// are not UTF-8 written as U+FFFD).
fn write_collapsed(out: &mut impl std::fmt::Write, v: &[u8]) -> std::fmt::Result {
    // Most values (printable ASCII, single spaces inside) have nothing to collapse: seen
    // in one pass over the bytes, which also tells they are text (`HeaderValue::to_str`
    // would check them once more, and `contains("  ")` sets up a two-way searcher).
    let mut after_space = true;
    let simple = v.iter().all(|&c| {
        let ok = c.is_ascii_graphic() || (c == b' ' && !after_space);
        after_space = c == b' ';
        ok
    }) && (v.is_empty() || !after_space);
    if simple {
        if let Ok(v) = std::str::from_utf8(v) {
            return out.write_str(v);
        }
    }
    for (i, word) in String::from_utf8_lossy(v).split_whitespace().enumerate() {
        if i > 0 {
            out.write_char(' ')?;
        }
        out.write_str(word)?;
    }
    Ok(())
}

/// The path with dot segments removed and `//` collapsed, then encoded once more (non-S3)
/// keeping only unreserved characters and `/`: `%26` becomes `%2526`.
fn write_canonical_uri(
    out: &mut impl std::fmt::Write,
    path: &str,
    double_encode: bool,
) -> std::fmt::Result {
    if !double_encode {
        return out.write_str(if path.is_empty() { "/" } else { path });
    }
    if normal(path) {
        // The usual path needs no segment taken out: encoded as a whole (`PATH` keeps the
        // `/` between the segments), which writes a run of plain text at once.
        return write_path_encoded(out, path);
    }
    write_normalized_uri(out, path)
}

/// `utf8_percent_encode(path, PATH)`, written a run at a time: each run of the bytes
/// [`PATH`] keeps is found in the [`PLAIN_PATH`] table and written whole, each other byte
/// as `%XX`. The crate's encoder tests each byte against its set through two checks; a
/// WorkDocs path always has an escape (its user id's `&`), so it took that road on every
/// request.
fn write_path_encoded(out: &mut impl std::fmt::Write, path: &str) -> std::fmt::Result {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = path.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if PLAIN_PATH[usize::from(b)] {
            continue;
        }
        // A run that is not empty is ASCII, so it begins and ends between characters.
        if start < i {
            out.write_str(&path[start..i])?;
        }
        for c in [b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]] {
            out.write_char(char::from(c))?;
        }
        start = i + 1;
    }
    if start < bytes.len() {
        out.write_str(&path[start..])?;
    }
    Ok(())
}

/// Whether `path` needs no normalizing: absolute, with no empty, `.` or `..` segment but
/// a last empty one (a trailing `/`).
fn normal(path: &str) -> bool {
    let b = path.as_bytes();
    if b.first() != Some(&b'/') {
        return false;
    }
    // Each segment begins after a `/`: only those places are looked at.
    memchr::memchr_iter(b'/', b).all(|i| {
        let rest = &b[i + 1..];
        let dots = rest.iter().take_while(|&&c| c == b'.').count();
        let segment_ends = |at: usize| rest.get(at).is_none_or(|&c| c == b'/');
        // Empty but last (a trailing `/`), `.`, `..`.
        !(rest.first() == Some(&b'/') || ((1..=2).contains(&dots) && segment_ends(dots)))
    })
}

/// [`write_canonical_uri`] for a path that needs normalizing or encoding.
fn write_normalized_uri(out: &mut impl std::fmt::Write, path: &str) -> std::fmt::Result {
    // Only a `..` needs the segments held (it takes back the one before).
    let mut stacked = Vec::new();
    let climbs = path.split('/').any(|s| s == "..");
    if climbs {
        for seg in path.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    stacked.pop();
                }
                s => stacked.push(s),
            }
        }
    }
    let mut written = 0;
    let mut segment = |seg: &str| -> std::fmt::Result {
        written += 1;
        out.write_char('/')?;
        utf8_percent_encode(seg, PATH).try_for_each(|chunk| out.write_str(chunk))
    };
    if climbs {
        stacked.iter().try_for_each(|s| segment(s))?;
    } else {
        path.split('/')
            .filter(|s| !matches!(*s, "" | "."))
            .try_for_each(&mut segment)?;
    }
    if written == 0 || path.ends_with('/') {
        out.write_char('/')?;
    }
    Ok(())
}

/// The query decoded as a form: `%XX` escapes, and `+` as a space. That is how AWS reads a
/// query, and what botocore relies on: an `AWSRequest` with `params` goes on the wire through
/// `urlencode` (`a b` as `a+b`) but is signed as `quote(v, safe='-_.~')` (`a%20b`).
fn query_pairs(query: &str) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    crate::text::pairs(query).collect()
}

/// Query parameters decoded, re-encoded strictly, and sorted by name then value (as the
/// re-encoded text sorts, compared without building it).
fn write_canonical_query(
    out: &mut impl std::fmt::Write,
    query: &str,
    presigned: bool,
) -> std::fmt::Result {
    if query.is_empty() {
        return Ok(());
    }
    if let Some(mut pairs) = plain_pairs(query, presigned) {
        // Nothing to decode or encode (the usual query): each text is its own encoding,
        // so the pairs are taken from the query as they are, sorted and written.
        pairs.sort_unstable();
        return write_pairs(out, &pairs);
    }
    let mut pairs = query_pairs(query);
    pairs.retain(|(k, _)| !(presigned && k == "X-Amz-Signature"));
    if pairs.iter().all(|(k, v)| unreserved(k) && unreserved(v)) {
        // Decoded to plain text (`%41` for `A`): written as it is, sorted.
        pairs.sort_by(|(k1, v1), (k2, v2)| k1.cmp(k2).then_with(|| v1.cmp(v2)));
        return write_pairs(out, &pairs);
    }
    fn encoded(s: &str) -> impl Iterator<Item = u8> + '_ {
        utf8_percent_encode(s, STRICT).flat_map(str::bytes)
    }
    pairs.sort_by(|(k1, v1), (k2, v2)| {
        encoded(k1)
            .cmp(encoded(k2))
            .then_with(|| encoded(v1).cmp(encoded(v2)))
    });
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.write_char('&')?;
        }
        utf8_percent_encode(k, STRICT).try_for_each(|c| out.write_str(c))?;
        out.write_char('=')?;
        utf8_percent_encode(v, STRICT).try_for_each(|c| out.write_str(c))?;
    }
    Ok(())
}

/// Whether `s` is all characters [`STRICT`] leaves as they are.
fn unreserved(s: &str) -> bool {
    s.bytes().all(unreserved_byte)
}

fn unreserved_byte(b: u8) -> bool {
    UNRESERVED[usize::from(b)]
}

/// A table of the bytes that are ASCII letters and digits or in `extra`, for one load per
/// byte where a chain of ranges takes several tests.
const fn byte_set(extra: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut b = 0;
    while b < 256 {
        set[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        set[extra[i] as usize] = true;
        i += 1;
    }
    set
}

static UNRESERVED: [bool; 256] = byte_set(b"-_.~");
/// Unreserved characters and `/`: what [`PATH`] leaves as it is.
static PLAIN_PATH: [bool; 256] = byte_set(b"-_.~/");
/// Unreserved characters, and what separates a query's pairs.
static PLAIN_QUERY: [bool; 256] = byte_set(b"-_.~&=");

/// The pairs of a query that is unreserved text, `&` and `=` only (one `=` to a pair at
/// most), borrowed from it: what decoding and strict encoding would give back unchanged.
/// `None` for any other query. Empty pieces are skipped, as decoding skips them.
fn plain_pairs(query: &str, presigned: bool) -> Option<smallvec::SmallVec<[(&str, &str); 8]>> {
    if !query.bytes().all(|b| PLAIN_QUERY[usize::from(b)]) {
        return None;
    }
    let mut pairs = smallvec::SmallVec::new();
    for piece in split(query, b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match crate::text::find(b'=', piece.as_bytes()) {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, ""),
        };
        if memchr::memchr(b'=', v.as_bytes()).is_some() {
            // A second `=` is part of the value, and is encoded.
            return None;
        }
        if !(presigned && k == "X-Amz-Signature") {
            pairs.push((k, v));
        }
    }
    Some(pairs)
}

/// `k=v&k=v`, the pairs as they are.
fn write_pairs<K: AsRef<str>, V: AsRef<str>>(
    out: &mut impl std::fmt::Write,
    pairs: &[(K, V)],
) -> std::fmt::Result {
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.write_char('&')?;
        }
        out.write_str(k.as_ref())?;
        out.write_char('=')?;
        out.write_str(v.as_ref())?;
    }
    Ok(())
}

fn hmac(key: &[u8], data: &str) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Lower-case hex of a digest. A request writes three (the payload's hash, the canonical
/// request's, the signature): each byte's two digits are one load from a table of the
/// 256 pairs, in a loop of fixed length, where the hex crate's `encode_to_slice` looks up
/// each digit and checks each index it writes to (over 1 % of a WorkDocs request).
fn hex64(bytes: &[u8; 32]) -> [u8; 64] {
    static PAIRS: [[u8; 2]; 256] = {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut pairs = [[0; 2]; 256];
        let mut b = 0;
        while b < 256 {
            pairs[b] = [DIGITS[b >> 4], DIGITS[b & 0x0f]];
            b += 1;
        }
        pairs
    };
    let mut out = [0u8; 64];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&PAIRS[usize::from(b)]);
    }
    out
}

/// The HMAC keyed with the signing key for one secret, date, region and service: four
/// HMACs that every request of a client repeats within a day, and the keyed state's two
/// blocks (the key's inner and outer pads), so each thread keeps the last few (found by
/// comparing, so a hit allocates nothing) and each signature starts from a copy.
fn signing_mac(secret: &str, date: &str, region: &str, service: &str) -> Hmac<Sha256> {
    struct Cached {
        scope: [String; 4],
        mac: Hmac<Sha256>,
    }
    const KEPT: usize = 16;
    thread_local! {
        static KEYS: std::cell::RefCell<Vec<Cached>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let scope = [secret, date, region, service];
    let derive = || {
        let k_date = hmac(format!("AWS4{secret}").as_bytes(), date);
        let k_region = hmac(&k_date, region);
        let k_service = hmac(&k_region, service);
        let key = hmac(&k_service, TERMINATOR);
        Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length")
    };
    KEYS.with(|keys| {
        let Ok(mut keys) = keys.try_borrow_mut() else {
            return derive();
        };
        if let Some(c) = keys.iter().find(|c| c.scope == scope) {
            return c.mac.clone();
        }
        if keys.len() >= KEPT {
            keys.remove(0);
        }
        let mac = derive();
        keys.push(Cached {
            scope: scope.map(str::to_owned),
            mac: mac.clone(),
        });
        mac
    })
}

/// The signature (lower-case hex) of a canonical request, given its SHA-256: the
/// string to sign is fed to the HMAC in pieces.
fn signature(
    secret: &str,
    amz_date: &str,
    [date, region, service]: [&str; 3],
    canonical_hash: &[u8; 32],
) -> [u8; 64] {
    let mut mac = signing_mac(secret, date, region, service);
    for piece in [
        ALGORITHM, "\n", amz_date, "\n", date, "/", region, "/", service, "/", TERMINATOR, "\n",
    ] {
        mac.update(piece.as_bytes());
    }
    mac.update(&hex64(canonical_hash));
    hex64(&mac.finalize().into_bytes().into())
}
/// Whether the signature sent is the one computed, in time that does not depend on where
/// they differ: the differences of eight bytes at a time are gathered, and only the total
/// is compared (with `subtle`, so the compiler cannot turn it into an early exit).
/// `subtle`'s slice comparison does the same a byte at a time, behind a barrier each:
/// 2 % of a signed request.
fn same_signature(want: &[u8; 64], sent: &[u8]) -> bool {
    let Ok(sent) = <&[u8; 64]>::try_from(sent) else {
        return false;
    };
    let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().unwrap_or_default());
    let differ = want
        .chunks_exact(8)
        .zip(sent.chunks_exact(8))
        .fold(0u64, |acc, (w, s)| acc | (word(w) ^ word(s)));
    bool::from(differ.ct_eq(&0))
}

/// The canonical request as text (the tests compare it; the verifier and signer only hash it).
#[cfg(test)]
fn canonical_request(
    parts: &impl Head,
    signed: &[String],
    payload: &str,
    double_encode: bool,
    presigned: bool,
) -> String {
    let mut names: Vec<&str> = signed.iter().map(String::as_str).collect();
    names.sort_unstable();
    let mut out = String::new();
    write_canonical_request(
        &mut out,
        &View::of(parts),
        &names.join(";"),
        payload,
        double_encode,
        presigned,
    );
    out
}

#[cfg(test)]
fn canonical_uri(path: &str, double_encode: bool) -> String {
    let mut out = String::new();
    let _ = write_canonical_uri(&mut out, path, double_encode);
    out
}

#[cfg(test)]
fn canonical_query(query: &str, presigned: bool) -> String {
    let mut out = String::new();
    let _ = write_canonical_query(&mut out, query, presigned);
    out
}

/// The signature of a canonical request given as text, under `scope` (`date/region/service/...`).
#[cfg(test)]
fn signature_for(secret: &str, amz_date: &str, scope: &str, canonical: &str) -> String {
    let mut parts = scope.split('/');
    let scope = std::array::from_fn(|_| parts.next().unwrap_or_default());
    let hash: [u8; 32] = Sha256::digest(canonical.as_bytes()).into();
    String::from_utf8_lossy(&signature(secret, amz_date, scope, &hash)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// A path encoded whole is what normalizing and encoding each segment gives.
        #[test]
        fn a_normal_path_encoded_whole_is_its_canonical_uri(
            p in "(/[a.~_%& é-]{0,3}){0,5}/?|[a/.%~ é-]{0,16}"
        ) {
            let mut normalized = String::new();
            write_normalized_uri(&mut normalized, &p).unwrap();
            let mut canonical = String::new();
            write_canonical_uri(&mut canonical, &p, true).unwrap();
            prop_assert_eq!(&canonical, &normalized);
        }
    }

    #[test]
    fn a_body_hash_is_the_hex_sha256_of_the_body() {
        for body in [&b""[..], b"x", b"Action=UpdateUser&UserName=Bob"] {
            assert_eq!(
                body_hash(body).as_slice(),
                hex::encode(Sha256::digest(body)).as_bytes()
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// A path is normal when it is absolute and no segment but the last is empty,
        /// and none is `.` or `..`.
        #[test]
        fn a_path_is_normal_as_its_segments_say(p in "[a./]{0,12}") {
            let segments: Vec<&str> = p.split('/').collect();
            let last = segments.len() - 1;
            let want = p.starts_with('/')
                && segments.iter().enumerate().skip(1).all(|(i, s)| {
                    !(s.is_empty() && i < last) && *s != "." && *s != ".."
                });
            prop_assert_eq!(normal(&p), want, "{}", p);
        }
    }

    #[test]
    fn unreserved_is_what_strict_encoding_leaves_alone() {
        for c in (0u8..=127).map(char::from).chain(['é', '€', '😀']) {
            let s = c.to_string();
            let kept = utf8_percent_encode(&s, STRICT).to_string() == s;
            assert_eq!(unreserved(&s), kept, "{c:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The canonical query, with or without its plain-text path, is every pair
        /// encoded strictly and sorted by the encoded text.
        #[test]
        fn a_canonical_query_is_its_pairs_encoded_and_sorted(
            q in "[abAB09._~-]{0,6}(=[abAB09._~-]{0,6})?(&[abAB09._~-]{0,6}(=[abAB09._~-]{0,6})?){0,4}|(X-Amz-Signature=[ab]{0,3}&|[ab=&]{0,4}){0,5}|[abAB09._~%+= &é/-]{0,30}"
        ) {
            let enc = |s: &str| utf8_percent_encode(s, STRICT).to_string();
            for presigned in [false, true] {
                let mut want: Vec<(String, String)> = query_pairs(&q)
                    .iter()
                    .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
                    .map(|(k, v)| (enc(k), enc(v)))
                    .collect();
                want.sort();
                let want: Vec<String> = want.iter().map(|(k, v)| format!("{k}={v}")).collect();
                prop_assert_eq!(canonical_query(&q, presigned), want.join("&"));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        #[test]
        fn an_amz_date_reads_as_times_parser_reads_it(
            s in "[+-]?[0-9]{4}[0-9]{4}[T ][0-9]{6}[Z ]?|[0-9TZ:+-]{14,18}",
            shift in 0i64..4_000_000_000,
        ) {
            // `time` also takes a signed year (`+2026…`, 17 characters), which is not
            // ISO 8601's basic format: refused, as AWS refuses it.
            let by_time = PrimitiveDateTime::parse(&s, AMZ_DATE).ok();
            let signed_year = s.starts_with(['+', '-']);
            prop_assert_eq!(parse_amz_date(&s), by_time.filter(|_| !signed_year));
            // And every real date, written as signers write them.
            let t = OffsetDateTime::UNIX_EPOCH + Duration::seconds(shift);
            let text = t.format(AMZ_DATE).unwrap();
            prop_assert_eq!(parse_amz_date(&text), Some(PrimitiveDateTime::new(t.date(), t.time())));
        }
    }

    const KEY: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn creds(token: Option<&str>) -> Credentials {
        Credentials {
            access_key: KEY.into(),
            secret_key: SECRET.into(),
            session_token: token.map(Into::into),
        }
    }

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).expect("test request").into_parts().0
    }

    fn expected(service: &str) -> Expected<'_> {
        Expected {
            service,
            region: None,
            session_token_required: false,
            max_skew: Duration::minutes(15),
            double_encode_path: true,
        }
    }

    fn lookup(token: Option<&'static str>) -> impl Fn(&str) -> Option<Credentials> {
        move |k: &str| (k == KEY).then(|| creds(token))
    }

    /// The AWS SigV4 test suite's `get-vanilla` case.
    #[test]
    fn aws_test_suite_get_vanilla() {
        let now = datetime!(2015-08-30 12:36:00 UTC);
        let mut p = parts("GET", "/", &[("host", "example.amazonaws.com")]);
        sign(&mut p, b"", &creds(None), "us-east-1", "service", now, &[]);
        let auth = p.headers["authorization"].to_str().expect("ascii");
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        let v = verify(&p, b"", &expected("service"), now, lookup(None)).expect("verifies");
        assert_eq!(v.region, "us-east-1");
    }

    /// Produced by botocore 1.43 `SigV4Auth(creds, 'iam', 'us-east-1')` for a form POST to
    /// http://127.0.0.1:4580/ at 2026-11-24T12:00:00Z.
    #[test]
    fn botocore_iam_form_post() {
        let now = datetime!(2026-11-24 12:00:00 UTC);
        let body = b"Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewUserName=Robert";
        let mut p = parts(
            "POST",
            "/",
            &[
                ("host", "127.0.0.1:4580"),
                (
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                ),
            ],
        );
        sign(&mut p, body, &creds(None), "us-east-1", "iam", now, &[]);
        assert_eq!(
            p.headers["authorization"], BOTOCORE_IAM,
            "differs from botocore's signature"
        );
        verify(&p, body, &expected("iam"), now, lookup(None)).expect("verifies");
    }

    const BOTOCORE_IAM: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=e1b191be599d1f4d3c4b3e9102d8734e3d2276245743e173403adc59c22a2f7b";

    /// botocore `SigV4Auth(creds, 'workdocs', 'us-east-1')`: PATCH on a path with `%26`,
    /// the signed `Authentication` header, at 2026-11-24T12:00:00Z.
    #[test]
    fn botocore_workdocs_double_encoded_path() {
        let now = datetime!(2026-11-24 12:00:00 UTC);
        let body = br#"{"GivenName": "Ann"}"#;
        let mut p = parts(
            "PATCH",
            "/api/v1/users/S-1-1-11-1111111111-2222222222-3333333333-3333%26d-90670b3d16",
            &[
                ("host", "127.0.0.1:4580"),
                ("content-type", "application/json"),
                ("authentication", "tok123"),
            ],
        );
        sign(
            &mut p,
            body,
            &creds(None),
            "us-east-1",
            "workdocs",
            now,
            &[],
        );
        assert_eq!(p.headers["authorization"], BOTOCORE_WORKDOCS);
        verify(&p, body, &expected("workdocs"), now, lookup(None)).expect("verifies");
    }

    const BOTOCORE_WORKDOCS: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/workdocs/aws4_request, SignedHeaders=authentication;content-type;host;x-amz-date, Signature=592d715e15741f7fb664a96f15846bc20173718df2e1332bc4d4f16794d14517";

    /// botocore `SigV4Auth(creds with token, 'nexfsconsoleapi', 'nexfs')` on a GET with a
    /// query string, at 2026-11-24T12:00:00Z.
    #[test]
    fn botocore_nexfs_with_session_token() {
        let now = datetime!(2026-11-24 12:00:00 UTC);
        let mut p = parts(
            "GET",
            "/?Action=UpdateUser&UserId=ExampleUser&NewUserId=Example%20User2",
            &[("host", "127.0.0.1:4580")],
        );
        let c = creds(Some("EXAMPLESESSIONTOKEN"));
        sign(&mut p, b"", &c, "nexfs", "nexfsconsoleapi", now, &[]);
        assert_eq!(p.headers["authorization"], BOTOCORE_NEXFS);
        let exp = Expected {
            region: Some("nexfs"),
            session_token_required: true,
            ..expected("nexfsconsoleapi")
        };
        let v = verify(&p, b"", &exp, now, lookup(Some("EXAMPLESESSIONTOKEN"))).expect("ok");
        assert_eq!(v.session_token.as_deref(), Some("EXAMPLESESSIONTOKEN"));
    }

    const BOTOCORE_NEXFS: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/nexfs/nexfsconsoleapi/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=bfee514cd341f30a2ad3a1a8c5014a66796ed3316eed07bff69c1040d74fa731";

    /// The same request sent where the vendor serves the console API,
    /// `/nexfsconsoleapi`: botocore signs that path, so a signature made for `/` does not
    /// verify there (nor the other way round).
    #[test]
    fn botocore_nexfs_on_the_console_api_path() {
        let now = datetime!(2026-11-24 12:00:00 UTC);
        let query = "?Action=UpdateUser&UserId=ExampleUser&NewUserId=Example%20User2";
        let mut p = parts(
            "GET",
            &format!("/nexfsconsoleapi{query}"),
            &[("host", "127.0.0.1:4580")],
        );
        let c = creds(Some("EXAMPLESESSIONTOKEN"));
        sign(&mut p, b"", &c, "nexfs", "nexfsconsoleapi", now, &[]);
        assert_eq!(p.headers["authorization"], BOTOCORE_NEXFS_CONSOLE_API);
        let exp = Expected {
            region: Some("nexfs"),
            session_token_required: true,
            ..expected("nexfsconsoleapi")
        };
        verify(&p, b"", &exp, now, lookup(Some("EXAMPLESESSIONTOKEN"))).expect("verifies");
        let mut moved = parts("GET", &format!("/{query}"), &[("host", "127.0.0.1:4580")]);
        moved.headers = p.headers.clone();
        let e = verify(&moved, b"", &exp, now, lookup(Some("EXAMPLESESSIONTOKEN")))
            .expect_err("signed for another path");
        assert_eq!(e.kind(), AuthFailure::BadSignature);
    }

    const BOTOCORE_NEXFS_CONSOLE_API: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/nexfs/nexfsconsoleapi/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=fcf237e10cb79bef2cb3e363f1a1802e5c821319dfa131b33bcaf3f580e154cc";

    /// botocore `SigV4Auth` on an `AWSRequest` built with `params=`: the query goes on the
    /// wire through `urlencode` (`Example+User2`) but is signed as `Example%20User2`.
    #[test]
    fn botocore_params_plus_is_a_space() {
        let now = datetime!(2026-11-24 12:00:00 UTC);
        let uri = "/?Action=UpdateUser&NewUserId=Example+User2&Plus=a%2Bb&UserId=ExampleUser";
        let mut p = parts("GET", uri, &[("host", "127.0.0.1:4580")]);
        let c = creds(Some("EXAMPLESESSIONTOKEN"));
        sign(&mut p, b"", &c, "nexfs", "nexfsconsoleapi", now, &[]);
        assert_eq!(p.headers["authorization"], BOTOCORE_NEXFS_PARAMS);
        let exp = Expected {
            region: Some("nexfs"),
            session_token_required: true,
            ..expected("nexfsconsoleapi")
        };
        verify(&p, b"", &exp, now, lookup(Some("EXAMPLESESSIONTOKEN"))).expect("verifies");
        assert_eq!(
            canonical_query("b=x+y&a=%2B&c=a%20b", false),
            "a=%2B&b=x%20y&c=a%20b"
        );
    }

    const BOTOCORE_NEXFS_PARAMS: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/nexfs/nexfsconsoleapi/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=580f2f37ae0e18c4ff5196ef0957ca8727efab7a6ea6e05b4d18ab577b907763";

    /// botocore `SigV4Auth(creds, 'transfer', 'us-east-1')` on a request that already has a
    /// `Date` header: botocore rewrites `Date`, adds no `X-Amz-Date`, and signs `date`.
    #[test]
    fn botocore_date_header_instead_of_x_amz_date() {
        let now = datetime!(2026-11-24 12:00:00 UTC);
        let body = br#"{"ServerId":"s-1","UserName":"bob"}"#;
        let mut p = parts(
            "POST",
            "/",
            &[
                ("host", "127.0.0.1:4580"),
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "TransferService.UpdateUser"),
                ("date", "whatever"),
            ],
        );
        sign(
            &mut p,
            body,
            &creds(None),
            "us-east-1",
            "transfer",
            now,
            &[],
        );
        assert_eq!(p.headers["date"], "Tue, 24 Nov 2026 12:00:00 -0000");
        assert!(p.headers.get("x-amz-date").is_none());
        assert_eq!(p.headers["authorization"], BOTOCORE_TRANSFER_DATE);
        verify(&p, body, &expected("transfer"), now, lookup(None)).expect("verifies");
        let e = verify(
            &p,
            body,
            &expected("transfer"),
            datetime!(2026-11-24 12:16:00 UTC),
            lookup(None),
        )
        .expect_err("stale");
        assert_eq!(e.kind(), AuthFailure::Expired);
        // An RFC 7231 `GMT` date reads the same.
        let mut q = p.clone();
        q.headers.insert(
            "date",
            http::HeaderValue::from_static("Tue, 24 Nov 2026 12:00:00 GMT"),
        );
        assert_eq!(
            request_date(&View::of(&q)).as_deref(),
            Some("20261124T120000Z")
        );
    }

    const BOTOCORE_TRANSFER_DATE: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/transfer/aws4_request, SignedHeaders=content-type;date;host;x-amz-target, Signature=a7b359d9a81502563a2b26c56d5b2c4e9ad6a5612f984c2a002866c93b57298d";

    /// botocore on `http://Example.COM:80/` with no `Host` header (host taken from the URL,
    /// lower-cased, default port dropped), a `X-Amz-Content-SHA256` header (signed, used as
    /// the payload hash) and a `User-Agent` (not signed).
    #[test]
    fn botocore_host_from_url_and_content_sha256() {
        let now = datetime!(2026-11-24 12:00:00 UTC);
        let body = br#"{"ServerId":"s-1"}"#;
        let sha = "0acbecb0fd6b4044d2db536ec813c8cfe9cec7fc3d607618dc7d8404514baea1";
        let mut p = parts(
            "POST",
            "http://Example.COM:80/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "TransferService.UpdateUser"),
                ("x-amz-content-sha256", sha),
                ("user-agent", "ua/1"),
            ],
        );
        sign(
            &mut p,
            body,
            &creds(None),
            "us-east-1",
            "transfer",
            now,
            &[],
        );
        assert_eq!(p.headers["host"], "example.com");
        assert_eq!(p.headers["authorization"], BOTOCORE_TRANSFER_SHA);
        verify(&p, body, &expected("transfer"), now, lookup(None)).expect("verifies");

        // The header must describe the body it came with.
        let e = verify(&p, b"{}", &expected("transfer"), now, lookup(None)).expect_err("body");
        assert_eq!(e.kind(), AuthFailure::BadSignature);
        assert!(e.to_string().contains("x-amz-content-sha256"), "{e}");

        // UNSIGNED-PAYLOAD: S3 only.
        let mut p = parts(
            "PUT",
            "/bucket/key",
            &[("host", "h"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")],
        );
        sign(&mut p, b"data", &creds(None), "us-east-1", "s3", now, &[]);
        let s3 = Expected {
            double_encode_path: false,
            ..expected("s3")
        };
        verify(&p, b"other", &s3, now, lookup(None)).expect("S3 takes UNSIGNED-PAYLOAD");
        let mut p = parts(
            "POST",
            "/",
            &[("host", "h"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")],
        );
        sign(&mut p, b"data", &creds(None), "us-east-1", "iam", now, &[]);
        assert_eq!(
            kind(&p, b"data", &expected("iam"), now),
            AuthFailure::BadSignature
        );
    }

    const BOTOCORE_TRANSFER_SHA: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/transfer/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target, Signature=7b1e8211c502598e6280f77f55934a23f78a8e332ef7294403f8c6ed5e2d036b";

    /// `also_sign` brings in a header botocore would leave out.
    #[test]
    fn also_sign_adds_skipped_headers() {
        let now = datetime!(2026-11-24 12:00:00 UTC);
        let mut p = parts("GET", "/", &[("host", "h"), ("user-agent", "ua/1")]);
        sign(&mut p, b"", &creds(None), "us-east-1", "iam", now, &[]);
        let auth = p.headers["authorization"]
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(auth.contains("SignedHeaders=host;x-amz-date,"), "{auth}");
        let mut p = parts("GET", "/", &[("host", "h"), ("user-agent", "ua/1")]);
        sign(
            &mut p,
            b"",
            &creds(None),
            "us-east-1",
            "iam",
            now,
            &["User-Agent"],
        );
        let auth = p.headers["authorization"]
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(
            auth.contains("SignedHeaders=host;user-agent;x-amz-date,"),
            "{auth}"
        );
        verify(&p, b"", &expected("iam"), now, lookup(None)).expect("verifies");
    }

    fn signed_iam(now: OffsetDateTime) -> (Parts, Vec<u8>) {
        let body = b"Action=UpdateUser&Version=2010-05-08&UserName=Bob".to_vec();
        let mut p = parts(
            "POST",
            "/",
            &[
                ("host", "127.0.0.1:4580"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
        );
        sign(&mut p, &body, &creds(None), "us-east-1", "iam", now, &[]);
        (p, body)
    }

    fn kind(p: &Parts, body: &[u8], exp: &Expected, now: OffsetDateTime) -> AuthFailure {
        verify(p, body, exp, now, lookup(None))
            .expect_err("must be refused")
            .kind()
    }

    #[test]
    fn header_values_are_trimmed_and_their_spaces_collapsed() {
        for v in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "a b",
            "a  b",
            "  a   b  ",
            "a\tb",
            "a \t b",
            "\ta",
            "é b",
            "application/x-amz-json-1.1",
            "20261205T031500Z",
            "x  ",
            "x y z",
        ] {
            let mut out = String::new();
            write_collapsed(&mut out, v.as_bytes()).unwrap();
            assert_eq!(
                out,
                v.split_whitespace().collect::<Vec<_>>().join(" "),
                "{v:?}"
            );
        }
        // Bytes that are not UTF-8 (an obs-text header) as U+FFFD, and collapsed too.
        for (v, want) in [
            (&b"a\xff b"[..], "a\u{FFFD} b"),
            (b" \xe9t\xe9  x ", "\u{FFFD}t\u{FFFD} x"),
        ] {
            let mut out = String::new();
            write_collapsed(&mut out, v).unwrap();
            assert_eq!(out, want, "{v:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// A signing time is accepted exactly when it is within the skew of the clock
        /// (or, presigned, not past its expiry), as the times themselves compare: to the
        /// nanosecond at each bound.
        #[test]
        fn a_signing_time_is_checked_as_the_times_compare(
            far in -1_000i64..1_000,
            near in proptest::option::of((any::<bool>(), -1i64..=1)),
            nanos in prop_oneof![Just(0i64), 1i64..1_000_000_000],
            skew in 0i64..600,
            expires in proptest::option::of(-5i64..600),
        ) {
            // Half the times are a second or less from a bound.
            let offset = match (near, expires) {
                (Some((_, d)), Some(e)) => -e + d,
                (Some((later, d)), None) => if later { skew + d } else { -skew + d },
                (None, _) => far,
            };
            let now = datetime!(2026-12-05 09:15:00 UTC) + Duration::nanoseconds(nanos);
            let when = datetime!(2026-12-05 09:15:00 UTC) + Duration::seconds(offset);
            let skew = Duration::seconds(skew);
            let sig = Signature {
                credential: Cow::Borrowed("AKID/20261205/us-east-1/iam/aws4_request"),
                slashes: [4, 13, 23, 27],
                signed_headers: Cow::Borrowed("host"),
                signature: Cow::Borrowed(""),
                amz_date: Cow::Borrowed("20261205T091500Z"),
                session_token: None,
                expires,
                presigned: expires.is_some(),
            };
            let early = match expires {
                Some(e) => when + Duration::seconds(e) < now,
                None => when < now - skew,
            };
            let want = !early && when <= now + skew;
            prop_assert_eq!(check_time(&sig, when, now, skew).is_ok(), want);
        }

        /// A path is encoded as `percent_encoding` encodes it with [`PATH`]: plain runs
        /// kept, `/` kept, every other byte (of any character) as upper-case `%XX`.
        #[test]
        fn a_path_is_encoded_as_percent_encoding_encodes_it(p in "[a-zA-Z0-9/._~%& é€-]{0,12}") {
            let mut ours = String::new();
            write_path_encoded(&mut ours, &p).unwrap();
            prop_assert_eq!(ours, utf8_percent_encode(&p, PATH).to_string());
        }

        /// A digest's hex is the hex crate's, lower case.
        #[test]
        fn a_digest_is_written_in_hex_as_the_hex_crate_writes_it(bytes in any::<[u8; 32]>()) {
            prop_assert_eq!(hex64(&bytes).to_vec(), hex::encode(bytes).into_bytes());
        }
    }

    #[test]
    fn a_signature_matches_only_when_every_byte_and_the_length_do() {
        let want = hex64(&[0xa5; 32]);
        assert!(same_signature(&want, &want));
        for i in 0..64 {
            let mut sent = want;
            sent[i] ^= 0x01;
            assert!(!same_signature(&want, &sent), "byte {i}");
        }
        assert!(!same_signature(&want, &want[..63]));
        assert!(!same_signature(&want, &[&want[..], b"0"].concat()));
        assert!(!same_signature(&want, b""));
    }

    #[test]
    fn tampering_is_refused_with_the_right_kind() {
        let now = datetime!(2026-11-24 12:00:00 UTC);
        let exp = expected("iam");
        let (p, body) = signed_iam(now);

        assert_eq!(
            kind(&p, b"Action=UpdateUser&UserName=Mallory", &exp, now),
            AuthFailure::BadSignature
        );

        let mut q = p.clone();
        q.headers
            .insert("content-type", http::HeaderValue::from_static("text/plain"));
        assert_eq!(kind(&q, &body, &exp, now), AuthFailure::BadSignature);

        // An extra header that is not signed changes nothing.
        let mut q = p.clone();
        q.headers
            .insert("x-extra", http::HeaderValue::from_static("1"));
        verify(&q, &body, &exp, now, lookup(None)).expect("unsigned extra header is fine");

        // A signed header that is gone.
        let mut q = p.clone();
        q.headers.remove("content-type");
        let e = verify(&q, &body, &exp, now, lookup(None)).expect_err("signed header gone");
        assert_eq!(e.kind(), AuthFailure::Incomplete);
        assert!(
            e.to_string()
                .starts_with("'content-type' is named in SignedHeaders"),
            "{e}"
        );

        // `host` must be signed.
        let mut q = p.clone();
        let auth = q.headers["authorization"].to_str().expect("ascii").replace(
            "SignedHeaders=content-type;host;x-amz-date",
            "SignedHeaders=content-type;x-amz-date",
        );
        q.headers.insert(
            "authorization",
            http::HeaderValue::from_str(&auth).expect("header"),
        );
        let e = verify(&q, &body, &exp, now, lookup(None)).expect_err("host unsigned");
        assert_eq!(e.kind(), AuthFailure::BadSignature);
        assert!(e.to_string().contains("'Host' or ':authority'"), "{e}");

        assert_eq!(
            kind(&p, &body, &expected("transfer"), now),
            AuthFailure::BadSignature
        );
        let fixed = Expected {
            region: Some("eu-west-1"),
            ..expected("iam")
        };
        assert_eq!(kind(&p, &body, &fixed, now), AuthFailure::BadSignature);

        let mut q = p.clone();
        q.headers.remove("authorization");
        assert_eq!(kind(&q, &body, &exp, now), AuthFailure::Missing);

        let e = verify(&p, &body, &expected("transfer"), now, lookup(None)).expect_err("svc");
        assert_eq!(
            e.to_string(),
            "Credential should be scoped to correct service: 'transfer'. "
        );
        let e = verify(&p, &body, &fixed, now, lookup(None)).expect_err("region");
        assert_eq!(
            e.to_string(),
            "Credential should be scoped to a valid region. "
        );
        let e = verify(&p, b"Action=Other", &exp, now, lookup(None)).expect_err("body");
        assert!(
            e.to_string()
                .starts_with("The request signature we calculated does not match"),
            "{e}"
        );

        let stranger = |_: &str| None::<Credentials>;
        let e = verify(&p, &body, &exp, now, stranger).expect_err("unknown key");
        assert_eq!(e.kind(), AuthFailure::UnknownKey);
        assert_eq!(
            e.to_string(),
            "The security token included in the request is invalid."
        );
    }

    #[test]
    fn stale_and_future_dates_are_expired_with_aws_wording() {
        let signed_at = datetime!(2026-11-24 12:00:00 UTC);
        let (p, body) = signed_iam(signed_at);
        let e = verify(
            &p,
            &body,
            &expected("iam"),
            datetime!(2026-11-24 12:20:00 UTC),
            lookup(None),
        )
        .expect_err("stale");
        assert_eq!(e.kind(), AuthFailure::Expired);
        assert_eq!(
            e.to_string(),
            "Signature expired: 20261124T120000Z is now earlier than 20261124T120500Z (20261124T122000Z - 15 min.)"
        );
        let e = verify(
            &p,
            &body,
            &expected("iam"),
            datetime!(2026-11-24 11:40:00 UTC),
            lookup(None),
        )
        .expect_err("future");
        assert_eq!(e.kind(), AuthFailure::Expired);
        assert!(
            e.to_string().starts_with("Signature not yet current"),
            "{e}"
        );
        // Inside the window both ways.
        for now in [
            datetime!(2026-11-24 12:14:00 UTC),
            datetime!(2026-11-24 11:46:00 UTC),
        ] {
            verify(&p, &body, &expected("iam"), now, lookup(None)).expect("within skew");
        }
    }

    #[test]
    fn session_tokens_must_match_and_may_be_required() {
        let now = datetime!(2026-11-24 12:00:00 UTC);
        let mut p = parts("GET", "/?Action=UpdateUser", &[("host", "h")]);
        sign(
            &mut p,
            b"",
            &creds(Some("WRONG")),
            "nexfs",
            "nexfsconsoleapi",
            now,
            &[],
        );
        let exp = Expected {
            session_token_required: true,
            ..expected("nexfsconsoleapi")
        };
        let e = verify(&p, b"", &exp, now, lookup(Some("RIGHT"))).expect_err("wrong token");
        assert_eq!(e.kind(), AuthFailure::UnknownKey);

        let mut p = parts("GET", "/?Action=UpdateUser", &[("host", "h")]);
        sign(
            &mut p,
            b"",
            &creds(None),
            "nexfs",
            "nexfsconsoleapi",
            now,
            &[],
        );
        let e = verify(&p, b"", &exp, now, lookup(Some("RIGHT"))).expect_err("no token");
        assert_eq!(e.kind(), AuthFailure::UnknownKey);
    }

    #[test]
    fn broken_authorization_headers_are_incomplete_and_never_panic() {
        let now = datetime!(2026-11-24 12:00:00 UTC);
        let (p, body) = signed_iam(now);
        let full = p.headers["authorization"]
            .to_str()
            .expect("ascii")
            .to_string();
        let mut cases: Vec<String> = (0..full.len())
            .step_by(7)
            .filter_map(|n| full.get(..n).map(str::to_string))
            .collect();
        cases.extend(
            [
                "AWS4-HMAC-SHA256",
                "AWS4-HMAC-SHA256 ",
                "AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE, SignedHeaders=host, Signature=00",
                "AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, SignedHeaders=host, Signature=00",
                "Basic dXNlcjpwYXNz",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/iam/aws4_request, SignedHeaders=content-type, Signature=00",
                "\u{e9}\u{e9}",
            ]
            .map(String::from),
        );
        for bad in cases {
            let mut q = p.clone();
            match http::HeaderValue::from_str(&bad) {
                Ok(v) => q.headers.insert("authorization", v),
                Err(_) => continue,
            };
            let e = verify(&q, &body, &expected("iam"), now, lookup(None))
                .expect_err("broken header refused");
            assert!(
                matches!(
                    e.kind(),
                    AuthFailure::Incomplete | AuthFailure::BadSignature | AuthFailure::UnknownKey
                ),
                "{bad:?}: {e:?}"
            );
        }
        let mut q = p.clone();
        q.headers.remove("x-amz-date");
        let e = verify(&q, &body, &expected("iam"), now, lookup(None)).expect_err("no date");
        assert_eq!(e.kind(), AuthFailure::Incomplete);
        assert!(e.to_string().contains("'X-Amz-Date'"), "{e}");
    }

    #[test]
    fn presigned_query_strings_verify() {
        let now = datetime!(2026-11-24 12:00:00 UTC);
        // Build the presigned URL by hand, as botocore's SigV4QueryAuth does.
        let scope = "20261124/us-east-1/iam/aws4_request";
        let base = "/?Action=UpdateUser&UserName=Bob&Version=2010-05-08\
             &X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIDEXAMPLE%2F20261124%2Fus-east-1%2Fiam%2Faws4_request\
             &X-Amz-Date=20261124T120000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host";
        let p = parts("GET", base, &[("host", "127.0.0.1:4580")]);
        let canonical = canonical_request(
            &p,
            &["host".to_string()],
            &hex::encode(Sha256::digest(b"")),
            true,
            true,
        );
        let sig = signature_for(SECRET, "20261124T120000Z", scope, &canonical);
        let p = parts(
            "GET",
            &format!("{base}&X-Amz-Signature={sig}"),
            &[("host", "127.0.0.1:4580")],
        );
        verify(&p, b"", &expected("iam"), now, lookup(None)).expect("presigned verifies");
        let later = datetime!(2026-11-24 12:06:00 UTC);
        let e = verify(&p, b"", &expected("iam"), later, lookup(None)).expect_err("expired");
        assert_eq!(e.kind(), AuthFailure::Expired);
    }

    #[test]
    fn repeated_headers_are_joined_in_order_whatever_the_case_signed() {
        // As the AWS SigV4 test suite's get-header-key-duplicate: the values of a
        // repeated header, in the order sent, joined by commas and trimmed.
        let p = parts(
            "GET",
            "/",
            &[
                ("host", "example.amazonaws.com"),
                ("My-Header1", "value2"),
                ("x-amz-date", "20150830T123600Z"),
                ("my-header1", "  value2 "),
                ("MY-HEADER1", "value1"),
            ],
        );
        let signed = ["host", "my-header1", "x-amz-date"].map(String::from);
        let canonical = canonical_request(&p, &signed, "-", true, false);
        assert_eq!(
            canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n\
             x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n-"
        );
        // A name signed in another case is the same header (lookups ignore case).
        let mixed = ["host", "My-Header1", "x-amz-date"].map(String::from);
        let canonical = canonical_request(&p, &mixed, "-", true, false);
        assert!(
            canonical.contains("\nMy-Header1:value2,value2,value1\n"),
            "{canonical}"
        );
    }

    #[test]
    fn canonical_uri_double_encodes_and_normalises() {
        assert_eq!(canonical_uri("/", true), "/");
        assert_eq!(canonical_uri("", true), "/");
        assert_eq!(
            canonical_uri("/api/v1/users/a%2Bb%40c.d%26e%20f~g", true),
            "/api/v1/users/a%252Bb%2540c.d%2526e%2520f~g"
        );
        assert_eq!(canonical_uri("/a//b/./c/../d/", true), "/a/b/d/");
        assert_eq!(canonical_uri("/a%20b", false), "/a%20b");
    }

    #[test]
    fn canonical_query_sorts_and_reencodes() {
        assert_eq!(canonical_query("b=2&a=1&a=0&c", false), "a=0&a=1&b=2&c=");
        assert_eq!(canonical_query("k=a b&s=%2F", false), "k=a%20b&s=%2F");
        // Sorted as the encoded text sorts: `%C3%A9` before `~`, though `é` is after `~`.
        assert_eq!(canonical_query("%7E=2&%C3%A9=1", false), "%C3%A9=1&~=2");
        assert_eq!(
            canonical_query("X-Amz-Signature=ff&a=1", true),
            "a=1",
            "a presigned URL's signature is not signed"
        );
    }

    #[test]
    fn signed_headers_are_borrowed_when_already_canonical() {
        assert!(matches!(
            sorted_lower_case("content-type;host;x-amz-date"),
            Cow::Borrowed("content-type;host;x-amz-date")
        ));
        assert_eq!(
            sorted_lower_case("X-Amz-Date;Host;content-type"),
            "content-type;host;x-amz-date"
        );
    }
}
