//! TEMPORARY compile stub; replaced by the real verifier (helper in progress).
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
}
pub struct Expected<'a> {
    pub service: &'a str,
    pub region: Option<&'a str>,
    pub session_token_required: bool,
    pub max_skew: time::Duration,
    pub double_encode_path: bool,
}
pub struct Verified {
    pub access_key: String,
    pub session_token: Option<String>,
    pub region: String,
}
pub enum AuthFailure {
    Missing,
    Incomplete,
    UnknownKey,
    BadSignature,
    Expired,
}
#[derive(Debug, thiserror::Error)]
#[error("stub")]
pub struct SigV4Error;
impl SigV4Error {
    pub fn kind(&self) -> AuthFailure {
        AuthFailure::Missing
    }
}
pub fn verify(
    _p: &http::request::Parts,
    _b: &[u8],
    _e: &Expected,
    _now: time::OffsetDateTime,
    _l: impl Fn(&str) -> Option<Credentials>,
) -> Result<Verified, SigV4Error> {
    Err(SigV4Error)
}
