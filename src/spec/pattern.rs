//! Spec patterns: Java/AWS regular expressions, always matched against the whole value.
//!
//! AWS models write Java regexes where `\w` and `\d` are ASCII and `\uXXXX` is a code point;
//! the Rust `regex` crate reads those as Unicode classes. `compile` translates the escapes
//! and anchors the result, so `[\w+=,.@-]+` rejects `é` exactly as IAM does.

use regex::Regex;

/// A compiled full-match pattern, keeping the source text for messages.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    regex: Regex,
}

impl Pattern {
    /// Compiles a Java-style pattern as a full match. Leading `^` and trailing `$` in the
    /// source are harmless: the whole value must match either way.
    pub fn compile(source: &str) -> Result<Self, String> {
        let translated = translate(source)?;
        let regex = Regex::new(&format!("^(?:{translated})$")).map_err(|e| match e {
            regex::Error::Syntax(s) => s
                .lines()
                .last()
                .unwrap_or("syntax error")
                .trim_start_matches("error: ")
                .to_string(),
            other => other.to_string(),
        })?;
        Ok(Self {
            source: source.to_string(),
            regex,
        })
    }

    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

/// Rewrites Java escapes into their ASCII meaning in Rust regex syntax.
fn translate(src: &str) -> Result<String, String> {
    let mut out = String::with_capacity(src.len() + 16);
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            return Err("pattern ends with a lone backslash".into());
        };
        match e {
            'w' => out.push_str("[[:word:]]"),
            'W' => out.push_str("[^[:word:]]"),
            'd' => out.push_str("[0-9]"),
            'D' => out.push_str("[^0-9]"),
            's' => out.push_str(r"[\t\n\x0B\x0C\r ]"),
            'S' => out.push_str(r"[^\t\n\x0B\x0C\r ]"),
            'u' => {
                let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                if hex.len() != 4 || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                    return Err(format!(
                        "\\u must be followed by 4 hex digits, found '{hex}'"
                    ));
                }
                out.push_str(&format!("\\x{{{hex}}}"));
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_class_is_ascii_like_java() {
        let p = Pattern::compile(r"[\w+=,.@-]+").unwrap();
        assert!(p.is_match("Bob_1+=,.@-"));
        assert!(!p.is_match("Bébé"));
        assert!(!p.is_match("with space"));
        assert!(!p.is_match(""));
    }

    #[test]
    fn unicode_escapes_and_alternation_match_whole_value() {
        let p = Pattern::compile(r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)").unwrap();
        assert!(p.is_match("/"));
        assert!(p.is_match("/division_abc/subdivision_xyz/"));
        assert!(!p.is_match("/a"));
        assert!(!p.is_match("x/"));
    }

    #[test]
    fn anchors_in_source_are_harmless() {
        let p = Pattern::compile(r"^s-([0-9a-f]{17})$").unwrap();
        assert!(p.is_match("s-01234567890abcdef"));
        assert!(!p.is_match("s-01234567890abcdefa"));
    }

    #[test]
    fn empty_alternative_matches_empty_string() {
        let p = Pattern::compile(r"|/.*").unwrap();
        assert!(p.is_match(""));
        assert!(p.is_match("/x"));
        assert!(!p.is_match("x"));
    }

    #[test]
    fn non_space_class() {
        let p = Pattern::compile(r"arn:.*role/\S+").unwrap();
        assert!(p.is_match("arn:aws:iam::123456789012:role/transfer-role"));
        assert!(!p.is_match("arn:aws:iam::123456789012:role/with space"));
    }

    #[test]
    fn broken_pattern_is_an_error_in_words() {
        let e = Pattern::compile("[a-").unwrap_err();
        assert!(!e.is_empty());
        assert!(Pattern::compile(r"\u12").is_err());
    }
}
