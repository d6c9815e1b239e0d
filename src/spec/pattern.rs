//! Spec patterns: Java/AWS regular expressions, always matched against the whole value.
//!
//! AWS models write Java regexes where `\w` and `\d` are ASCII and `\uXXXX` is a code point;
//! the Rust `regex` crate reads those as Unicode classes. `compile` translates the escapes
//! and anchors the result, so `[\w+=,.@-]+` rejects `é` exactly as IAM does. Java's
//! character classes (`\p{javaLowerCase}`, the POSIX `\p{Alpha}` family) are translated
//! too, and a pattern with look-arounds or back-references (`^(?!aws:).*`, used in AWS
//! models) is compiled by `fancy-regex`, which hands the rest to `regex`.

use regex::Regex;
use regex_automata::dfa::{dense, Automaton};
use regex_automata::{Anchored, Input};

/// A compiled full-match pattern, keeping the source text for messages.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    regex: Compiled,
}

#[derive(Debug, Clone)]
enum Compiled {
    /// A run of byte sets, each taken a fixed number of times but the last (most spec
    /// patterns: `[\w+=,.@-]+`, `s-[0-9a-f]{17}`, `[\w][\w@.-]{2,99}`), matched by a table
    /// lookup per byte: an automaton costs more to start than such a value takes to read.
    Steps(Box<[Step]>),
    /// What the `regex` crate compiles: linear time, with a [`Hot`] DFA beside it.
    Plain(Regex, Hot),
    /// Look-arounds and back-references (backtracking, bounded by fancy-regex's limit).
    Fancy(Box<fancy_regex::Regex>),
}

/// Whether a pattern needs backtracking (look-around or back-reference).
fn needs_fancy(translated: &str) -> bool {
    ["(?=", "(?!", "(?<=", "(?<!"]
        .iter()
        .any(|l| translated.contains(l))
        || translated
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b'\\' && w[1].is_ascii_digit() && w[1] != b'0')
}

impl Pattern {
    /// Compiles a Java-style pattern as a full match. Leading `^` and trailing `$` in the
    /// source are harmless: the whole value must match either way.
    pub fn compile(source: &str) -> Result<Self, String> {
        let translated = translate(source)?;
        let anchored = format!("^(?:{translated})$");
        if needs_fancy(&translated) {
            let regex = fancy_regex::Regex::new(&anchored).map_err(|e| e.to_string())?;
            return Ok(Self {
                source: source.to_string(),
                regex: Compiled::Fancy(Box::new(regex)),
            });
        }
        let regex = match steps(&translated) {
            Some(steps) => Compiled::Steps(steps.into()),
            None => Compiled::Plain(whole_match(&translated)?, Hot::default()),
        };
        Ok(Self {
            source: source.to_string(),
            regex,
        })
    }

    pub fn is_match(&self, value: &str) -> bool {
        match &self.regex {
            Compiled::Steps(steps) => steps_match(steps, value.as_bytes()),
            Compiled::Plain(r, hot) => match hot.dfa(r) {
                Some(dfa) => {
                    let input = Input::new(value).anchored(Anchored::Yes);
                    match dfa.try_search_fwd(&input) {
                        Ok(found) => found.is_some(),
                        Err(_) => r.is_match(value),
                    }
                }
                None => r.is_match(value),
            },
            // A match that exceeds the backtracking limit is no match (the value is refused,
            // never a panic or a hang).
            Compiled::Fancy(r) => r.is_match(value).unwrap_or(false),
        }
    }
}

/// One step of [`Compiled::Steps`]: a byte in `set`, `min` to `max` times.
#[derive(Debug, Clone)]
struct Step {
    set: Box<[bool; 256]>,
    min: usize,
    max: usize,
}

/// The steps of a pattern that is a sequence of ASCII classes and literal bytes, each
/// repeated a fixed number of times but the last (so that taking as many bytes as each
/// step can is the only way to match). `None` for any other pattern: alternation,
/// look-around, a class with a character outside ASCII (whose bytes are not its
/// characters), a count that varies before the end.
fn steps(translated: &str) -> Option<Vec<Step>> {
    use regex_syntax::hir::{Class, Hir, HirKind, Look};
    fn set(hir: &Hir) -> Option<Vec<[bool; 256]>> {
        let mut table = [false; 256];
        match hir.kind() {
            HirKind::Literal(l) => Some(
                l.0.iter()
                    .map(|&b| {
                        let mut one = [false; 256];
                        one[usize::from(b)] = true;
                        one
                    })
                    .collect(),
            ),
            HirKind::Class(class) => {
                // A class of characters or of bytes: the same table, from its ranges.
                let ranges: Vec<(u32, u32)> = match class {
                    Class::Unicode(c) => c
                        .ranges()
                        .iter()
                        .map(|r| (u32::from(r.start()), u32::from(r.end())))
                        .collect(),
                    Class::Bytes(c) => c
                        .ranges()
                        .iter()
                        .map(|r| (u32::from(r.start()), u32::from(r.end())))
                        .collect(),
                };
                for (start, end) in ranges {
                    if end > 0x7f {
                        return None;
                    }
                    (start as usize..=end as usize).for_each(|b| table[b] = true);
                }
                Some(vec![table])
            }
            HirKind::Capture(c) => set(&c.sub),
            _ => None,
        }
    }
    fn walk(hir: &Hir, out: &mut Vec<Step>) -> Option<()> {
        match hir.kind() {
            HirKind::Empty => {}
            HirKind::Concat(parts) => {
                for p in parts {
                    walk(p, out)?;
                }
            }
            HirKind::Capture(c) => walk(&c.sub, out)?,
            HirKind::Repetition(r) => {
                // One byte set repeated (`[a-z]{3}`, `a+`), not a sequence (`(ab)+`).
                let [set] = <[[bool; 256]; 1]>::try_from(set(&r.sub)?).ok()?;
                out.push(Step {
                    set: Box::new(set),
                    min: r.min as usize,
                    max: r.max.map_or(usize::MAX, |m| m as usize),
                });
            }
            _ => out.extend(set(hir)?.into_iter().map(|set| Step {
                set: Box::new(set),
                min: 1,
                max: 1,
            })),
        }
        Some(())
    }
    let hir = regex_syntax::Parser::new().parse(translated).ok()?;
    // Anchors the source wrote are the whole match's own: dropped at either end.
    let parts: Vec<&Hir> = match hir.kind() {
        HirKind::Concat(parts) => parts.iter().collect(),
        _ => vec![&hir],
    };
    let anchor = |h: &Hir, look: Look| matches!(h.kind(), HirKind::Look(l) if *l == look);
    let start = usize::from(parts.first().is_some_and(|h| anchor(h, Look::Start)));
    let end = parts.len()
        - usize::from(parts.len() > start && parts.last().is_some_and(|h| anchor(h, Look::End)));
    let mut out = Vec::new();
    for part in &parts[start..end] {
        walk(part, &mut out)?;
    }
    let fixed_before_last = out.iter().rev().skip(1).all(|s| s.min == s.max);
    fixed_before_last.then_some(out)
}

/// Whether `value` is the steps' bytes, each step taking as many as it can (up to its
/// `max`), and all of `value` taken.
fn steps_match(steps: &[Step], value: &[u8]) -> bool {
    let mut at = 0;
    for s in steps {
        let run = value[at..]
            .iter()
            .take(s.max)
            .take_while(|&&b| s.set[usize::from(b)])
            .count();
        if run < s.min {
            return false;
        }
        at += run;
    }
    at == value.len()
}

/// A dense DFA for a pattern that is matched often, when it is small enough (most spec
/// patterns: a class or two and a count), walked directly: `Regex::is_match` first
/// fetches a cache from its pool and goes through its meta engine's checks, which costs
/// more than the DFA takes to read a name. Built at the pattern's 17th match, so that the
/// few matches of loading (each spec's documented examples are validated) do not build
/// one: building them all took 4.5 ms of start-up. The `Regex` answers until then, for
/// anything the DFA gives up on, and for every pattern too large for one.
#[derive(Debug, Default)]
struct Hot {
    dfa: std::sync::OnceLock<Option<Box<dense::DFA<Vec<u32>>>>>,
    /// Matches before the DFA was asked for.
    uses: std::sync::atomic::AtomicU32,
}

impl Clone for Hot {
    fn clone(&self) -> Self {
        Self {
            dfa: self.dfa.clone(),
            uses: self.uses.load(std::sync::atomic::Ordering::Relaxed).into(),
        }
    }
}

impl Hot {
    const AFTER: u32 = 16;

    /// The DFA, once the pattern has been matched [`Self::AFTER`] times and when it has one.
    fn dfa(&self, regex: &Regex) -> Option<&dense::DFA<Vec<u32>>> {
        if let Some(built) = self.dfa.get() {
            return built.as_deref();
        }
        if self.uses.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < Self::AFTER {
            return None;
        }
        self.dfa
            .get_or_init(|| small_dfa(regex.as_str()).map(Box::new))
            .as_deref()
    }
}

/// `anchored` (a [`whole_match`] regex's text) as a dense DFA for anchored searches, when
/// it is small: `None` when it would take more than 64 KiB, or uses what a DFA cannot (a
/// Unicode word boundary).
fn small_dfa(anchored: &str) -> Option<dense::DFA<Vec<u32>>> {
    const LIMIT: usize = 64 * 1024;
    dense::Builder::new()
        .configure(
            dense::Config::new()
                .start_kind(regex_automata::dfa::StartKind::Anchored)
                .dfa_size_limit(Some(LIMIT))
                .determinize_size_limit(Some(4 * LIMIT)),
        )
        .build(anchored)
        .ok()
}

/// A Rust `regex` that must match the whole value (`source` anchored), or why it does not
/// compile, in one line.
pub fn whole_match(source: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{source})$")).map_err(|e| match e {
        regex::Error::Syntax(s) => s
            .lines()
            .last()
            .unwrap_or("syntax error")
            .trim_start_matches("error: ")
            .to_string(),
        other => other.to_string(),
    })
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
            'p' | 'P' if chars.peek() == Some(&'{') => {
                chars.next();
                let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let class = java_class(&name)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("\\p{{{name}}}"));
                if e == 'P' {
                    // Negated: `[^...]` of a bracket class, `\P{..}` of a Unicode one.
                    match class.strip_prefix('[') {
                        Some(inner) => out.push_str(&format!("[^{inner}")),
                        None => out.push_str(&format!("\\P{{{name}}}")),
                    }
                } else {
                    out.push_str(&class);
                }
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// Java's named classes in Rust regex syntax: the `java*` methods of `Character` and the
/// POSIX classes (ASCII only, as in Java without UNICODE_CHARACTER_CLASS).
fn java_class(name: &str) -> Option<&'static str> {
    Some(match name {
        "javaLowerCase" => r"[\p{Ll}\p{Other_Lowercase}]",
        "javaUpperCase" => r"[\p{Lu}\p{Other_Uppercase}]",
        "javaWhitespace" => r"[\t\n\x0B\x0C\r\x1C-\x1F\p{Zs}\p{Zl}\p{Zp}]",
        "javaLetter" => r"[\p{L}]",
        "javaDigit" => r"[\p{Nd}]",
        "javaLetterOrDigit" => r"[\p{L}\p{Nd}]",
        "javaAlphabetic" | "IsAlphabetic" => r"[\p{Alphabetic}]",
        "Lower" => "[a-z]",
        "Upper" => "[A-Z]",
        "ASCII" => r"[\x00-\x7F]",
        "Alpha" => "[a-zA-Z]",
        "Digit" => "[0-9]",
        "Alnum" => "[a-zA-Z0-9]",
        "Punct" => r"[!-/:-@\[-`{-~]",
        "Graph" => "[!-~]",
        "Print" => "[ -~]",
        "Blank" => r"[ \t]",
        "Cntrl" => r"[\x00-\x1F\x7F]",
        "XDigit" => "[0-9a-fA-F]",
        "Space" => r"[ \t\n\x0B\x0C\r]",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pattern of the embedded specs, and the ones this module's tests use: the
    /// DFA says what the `regex` crate says, over values built from the characters the
    /// patterns name (and some they do not).
    #[test]
    fn the_dfa_and_the_steps_match_as_the_regex_does() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        fn all(p: &crate::spec::model::Parameter, out: &mut Vec<String>) {
            out.extend(p.pattern.clone());
            p.member.iter().for_each(|m| all(m, out));
            p.members.iter().for_each(|m| all(m, out));
        }
        let mut sources = vec![
            r"[\w+=,.@-]+".to_string(),
            r"[\u0020-\u00FF]+".to_string(),
            r"\S+".to_string(),
            r"^[a-z]{3}$|".to_string(),
            r"\p{javaLowerCase}+".to_string(),
            // Steps, and the shapes next to them that are not.
            r"^[a-f0-9]{2}s-$".to_string(),
            r"(?i)S-[A-F]+".to_string(),
            r"\d{3}-[0-9]{1,4}".to_string(),
            String::new(),
            r"[^a]+".to_string(),
            r"(s-)+".to_string(),
            r"é+".to_string(),
            r"[a-f]{1,3}0".to_string(),
        ];
        for spec in crate::spec::embedded().expect("embedded specs") {
            spec.parameters.iter().for_each(|p| all(p, &mut sources));
        }
        sources.sort();
        sources.dedup();
        let (mut with_dfa, mut with_steps) = (0, 0);
        for source in &sources {
            let pattern = Pattern::compile(source).expect("compiles");
            let (regex, hot) = match &pattern.regex {
                Compiled::Plain(regex, hot) if small_dfa(regex.as_str()).is_some() => {
                    with_dfa += 1;
                    (regex.clone(), Some(hot))
                }
                Compiled::Steps(_) => {
                    // Held to the `regex` crate's reading of the same pattern.
                    with_steps += 1;
                    let translated = translate(source).expect("translates");
                    (whole_match(&translated).expect("compiles"), None)
                }
                _ => continue,
            };
            let value = proptest::collection::vec(
                prop_oneof![
                    Just("a"),
                    Just("Z"),
                    Just("0"),
                    Just("9"),
                    Just("f"),
                    Just("_"),
                    Just("-"),
                    Just("."),
                    Just("@"),
                    Just("/"),
                    Just(":"),
                    Just(" "),
                    Just("\t"),
                    Just("\n"),
                    Just("="),
                    Just("+"),
                    Just("s-"),
                    Just("arn:"),
                    Just("role/"),
                    Just("ssh-"),
                    Just("é"),
                    Just("\u{1F600}"),
                    Just("\u{7F}"),
                    Just("\u{0}"),
                    Just("ÿ"),
                ],
                0..24,
            )
            .prop_map(|pieces| pieces.concat());
            if let Some(hot) = hot {
                // Its first matches are the Regex's; the DFA is built after them.
                for _ in 0..Hot::AFTER {
                    pattern.is_match("x");
                }
                assert!(
                    hot.dfa.get().is_none(),
                    "{source}: a DFA before {} matches",
                    Hot::AFTER
                );
                pattern.is_match("x");
                assert!(
                    hot.dfa.get().is_some_and(|d| d.is_some()),
                    "{source}: no DFA"
                );
            }
            let mut runner = TestRunner::new(Config::with_cases(400));
            runner
                .run(&value, |v| {
                    prop_assert_eq!(
                        pattern.is_match(&v),
                        regex.is_match(&v),
                        "{} on {:?}",
                        source,
                        v
                    );
                    Ok(())
                })
                .unwrap();
            // Long values, past every count in the specs.
            for n in [17, 99, 100, 101, 1024, 2049] {
                for c in ["a", "0", "/", " "] {
                    let v = format!("s-{}", c.repeat(n));
                    assert_eq!(
                        pattern.is_match(&v),
                        regex.is_match(&v),
                        "{source} on {v:?}"
                    );
                    let v = c.repeat(n);
                    assert_eq!(
                        pattern.is_match(&v),
                        regex.is_match(&v),
                        "{source} on {v:?}"
                    );
                }
            }
        }
        eprintln!("{with_dfa} DFA, {with_steps} steps of {}", sources.len());
        assert!(
            (with_dfa + with_steps) * 2 > sources.len() && with_steps >= 10,
            "{with_dfa} of {} patterns have a DFA, {with_steps} are steps",
            sources.len()
        );
    }

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
    fn look_arounds_as_aws_models_write_them() {
        // IAM tag keys and similar: anything not starting with `aws:`.
        let p = Pattern::compile(r"^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]*$").unwrap();
        assert!(p.is_match("team:owner"));
        assert!(!p.is_match("aws:createdBy"));
        let p = Pattern::compile(r"(?<![.])[a-z.]+").unwrap();
        assert!(p.is_match("a.b"));
    }

    #[test]
    fn java_character_classes() {
        let p = Pattern::compile(r"[\p{javaLowerCase}\p{Digit}]+").unwrap();
        assert!(p.is_match("abcé9"));
        assert!(!p.is_match("Abc"));
        let p = Pattern::compile(r"\p{Alpha}\P{Alpha}").unwrap();
        assert!(p.is_match("a1"));
        assert!(!p.is_match("é1"), "POSIX classes are ASCII in Java");
        let p = Pattern::compile(r"\p{javaWhitespace}+").unwrap();
        assert!(p.is_match(" \t"));
        // Unicode classes Rust knows pass through.
        let p = Pattern::compile(r"\p{L}+").unwrap();
        assert!(p.is_match("Ωmega"));
    }

    #[test]
    fn broken_pattern_is_an_error_in_words() {
        let e = Pattern::compile("[a-").unwrap_err();
        assert!(!e.is_empty());
        assert!(Pattern::compile(r"\u12").is_err());
    }
}
