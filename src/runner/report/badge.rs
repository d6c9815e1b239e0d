//! An SVG badge with a score, in the usual two-part flat style, self-contained (no fonts
//! or images fetched: the text falls back to the viewer's sans-serif).

/// The colour of a score: green from 90 %, yellow-green from 75 %, yellow from 50 %, red below.
pub fn colour(score: f64) -> &'static str {
    if score >= 90.0 {
        "#4c1"
    } else if score >= 75.0 {
        "#97ca00"
    } else if score >= 50.0 {
        "#dfb317"
    } else {
        "#e05d44"
    }
}

/// A score as shown: `87%` (whole per cent, rounded down so that 99.6 % is not 100 %).
pub fn percent(score: f64) -> String {
    format!("{}%", score.floor() as i64)
}

/// Width of `text` in pixels at 11px Verdana, roughly.
fn width(text: &str) -> usize {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | '|' | '\'' | ' ' => 4,
            'm' | 'w' | 'M' | 'W' | '%' => 10,
            c if c.is_ascii_uppercase() || c.is_ascii_digit() => 8,
            _ => 7,
        })
        .sum::<usize>()
        + 10
}

fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// The badge: `label | value`, the value's background coloured by `score`.
pub fn svg(label: &str, value: &str, score: f64) -> String {
    let (lw, vw) = (width(label), width(value));
    let total = lw + vw;
    let (l, v) = (esc(label), esc(value));
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{l}: {v}"><title>{l}: {v}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{vw}" height="20" fill="{c}"/><rect width="{total}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="15" fill="#010101" fill-opacity=".3">{l}</text><text x="{lx}" y="14">{l}</text><text x="{vx}" y="15" fill="#010101" fill-opacity=".3">{v}</text><text x="{vx}" y="14">{v}</text></g></svg>"##,
        c = colour(score),
        lx = lw / 2,
        vx = lw + vw / 2,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_badge_is_svg_with_its_score() {
        let s = svg("conformance", &percent(86.7), 86.7);
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(s.contains(">86%</text>") && s.contains("#97ca00"), "{s}");
        let tree = crate::protocol::xml::read(s.as_bytes()).expect("well-formed XML");
        assert!(tree.get("svg").is_some());
        assert_eq!(percent(99.6), "99%");
        assert_eq!(colour(100.0), "#4c1");
        assert_eq!(colour(10.0), "#e05d44");
    }
}
