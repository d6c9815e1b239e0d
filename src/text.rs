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
        match find(sep, r.as_bytes()) {
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

/// Where `sep` first is in `bytes`: by `memchr` from 16 bytes on, and below that by a
/// plain loop, since under 16 bytes `memchr` reads them one by one too, after choosing its
/// routine and setting up its vectors (half its time on the pieces split per request).
pub(crate) fn find(sep: u8, bytes: &[u8]) -> Option<usize> {
    if bytes.len() < 16 {
        bytes.iter().position(|&b| b == sep)
    } else {
        memchr::memchr(sep, bytes)
    }
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
            "0123456789abcde/",
            "0123456789abcdef/",
            "0123456789abcde/f",
            "/0123456789abcdef0123456789abcdef0123456789/x//",
            "content-type;host;x-amz-date;x-amz-security-token",
        ] {
            for sep in ['/', ';'] {
                assert_eq!(
                    super::split(s, sep as u8).collect::<Vec<_>>(),
                    s.split(sep).collect::<Vec<_>>(),
                    "{s:?} on {sep:?}"
                );
            }
        }
    }
}
