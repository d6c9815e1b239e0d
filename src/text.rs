//! Small text helpers shared by the codecs and the SigV4 verifier.

/// `s.split(sep)` for an ASCII separator, found by `memchr`. The texts split on every
/// request (paths, SigV4's `Authorization`, `SignedHeaders` and credential) are a few dozen
/// to a few hundred bytes, where `str::split`'s searcher costs more than the bytes it looks
/// at, and a plain byte loop (not vectorised) was 6 % of a request.
pub(crate) fn split(s: &str, sep: u8) -> impl Iterator<Item = &str> + Clone {
    debug_assert!(sep.is_ascii(), "an ASCII separator keeps the pieces UTF-8");
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match memchr::memchr(sep, r.as_bytes()) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn split_gives_what_str_split_gives() {
        for s in [
            "",
            "/",
            "//",
            "/a",
            "a/",
            "/api/v1/users/{UserId}",
            "x",
            "é/ü//z",
        ] {
            assert_eq!(
                super::split(s, b'/').collect::<Vec<_>>(),
                s.split('/').collect::<Vec<_>>(),
                "{s:?}"
            );
        }
    }
}
