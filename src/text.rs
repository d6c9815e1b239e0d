//! Small text helpers shared by the codecs and the SigV4 verifier.

use std::borrow::Cow;

/// `s.split(sep)` for an ASCII separator, found by [`find`]. The texts split on every
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

/// An order of names for binary search: shorter first, names of one length in text order.
/// Most steps of a search then compare two lengths, not two texts.
pub(crate) fn by_length(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// `application/x-www-form-urlencoded` pairs of a text, as `form_urlencoded::parse` gives
/// them (empty pieces skipped, `+` a space, `%XX` decoded, invalid UTF-8 replaced), but
/// for text already known to be UTF-8: a piece with no `%` or `+` (most names and many
/// values) is borrowed as it is, without the crate's three passes over it.
pub(crate) fn pairs(text: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    fn decoded(piece: &str) -> Cow<'_, str> {
        if memchr::memchr2(b'%', b'+', piece.as_bytes()).is_none() {
            return Cow::Borrowed(piece);
        }
        let spaced = match memchr::memchr(b'+', piece.as_bytes()).is_some() {
            true => Cow::Owned(piece.replace('+', " ")),
            false => Cow::Borrowed(piece),
        };
        // One copy for the escapes, none more: the spaced text is kept when it has none.
        let unescaped = match percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy() {
            Cow::Owned(s) => Some(s),
            Cow::Borrowed(_) => None,
        };
        unescaped.map_or(spaced, Cow::Owned)
    }
    split(text, b'&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            // The first `=` (an ASCII byte: both sides stay UTF-8).
            let (name, value) = match find(b'=', piece.as_bytes()) {
                Some(i) => (&piece[..i], &piece[i + 1..]),
                None => (piece, ""),
            };
            (decoded(name), decoded(value))
        })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The pairs of a UTF-8 text are the ones `form_urlencoded` reads from its bytes.
        #[test]
        fn pairs_are_read_as_form_urlencoded_reads_them(
            pieces in proptest::collection::vec(prop_oneof![
                Just("&"), Just("="), Just("+"), Just("%"), Just("%2F"), Just("%2f"),
                Just("%zz"), Just("%C3%A9"), Just("%FF"), Just("%E2%82"), Just("é"),
                Just("Action"), Just("UpdateUser"), Just("a b"), Just("/path/"), Just("x"),
            ], 0..16),
        ) {
            let text = pieces.concat();
            let ours: Vec<_> = super::pairs(&text).collect();
            let theirs: Vec<_> = form_urlencoded::parse(text.as_bytes()).collect();
            prop_assert_eq!(ours, theirs);
        }
    }
}
