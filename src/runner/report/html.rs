//! `index.html`: the published report as one self-contained page (styles inline, the badge
//! as inline SVG, no scripts, fonts or images fetched; a Content-Security-Policy that lets
//! the browser load nothing else). It is well-formed XML as well, so tools can read it.

use std::fmt::Write as _;

use super::super::summary::{self, CATEGORIES};
use super::badge;
use super::matrix::{ApiMatrix, Verdict};
use super::publish::Publication;

fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

const STYLE: &str = r#"
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg2: #f6f8fa;
  --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9; --na: #7d4e00; --na-bg: #fff8c5; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); margin: 0 auto; max-width: 1200px; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; display: flex; gap: .75rem; align-items: center; }
h2 { font-size: 1.3rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem; margin-top: 2.5rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--bg2); font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.meta th { width: 11rem; }
code, pre { font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
code { background: var(--bg2); padding: 0 .25rem; border-radius: 4px; overflow-wrap: anywhere; }
pre { background: var(--bg2); padding: .6rem .8rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.v { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: 12px; font-weight: 600; white-space: nowrap; }
.proven, .passed { color: var(--ok); background: var(--ok-bg); }
.failed { color: var(--bad); background: var(--bad-bg); }
.not-tested, .skipped, .not-run { color: var(--na); background: var(--na-bg); }
.score { font-weight: 700; }
.muted { color: var(--muted); }
nav { margin: 1rem 0; display: flex; flex-wrap: wrap; gap: .4rem 1rem; }
nav a, a { color: #0969da; text-decoration: none; }
a:hover { text-decoration: underline; }
article { border: 1px solid var(--line); border-radius: 8px; padding: .2rem 1rem .6rem; margin: 1rem 0; }
article h3 { margin-top: .6rem; overflow-wrap: anywhere; }
details > summary { cursor: pointer; color: var(--muted); margin: .3rem 0; }
.diff .add { color: var(--ok); background: var(--ok-bg); display: block; }
.diff .del { color: var(--bad); background: var(--bad-bg); display: block; }
.diff .hunk { color: var(--muted); display: block; }
ul.cases { margin: .2rem 0; padding-left: 1.1rem; }
table.matrix td:first-child { width: 22%; } table.matrix td:nth-child(2) { width: 26%; } table.matrix td:nth-child(3) { width: 14%; }
footer { margin-top: 3rem; color: var(--muted); font-size: 12px; }
"#;

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Proven => "proven",
        Verdict::Failed => "failed",
        Verdict::NotTested => "not-tested",
    }
}

fn result_class(r: &str) -> &'static str {
    match r {
        "passed" => "passed",
        "failed" => "failed",
        "skipped" => "skipped",
        _ => "not-run",
    }
}

fn pill(class: &str, text: &str) -> String {
    format!("<span class=\"v {class}\">{}</span>", esc(text))
}

fn case_link(name: &str, result: &str) -> String {
    if result == "failed" {
        format!(
            "<a href=\"#{}\"><code>{}</code></a>",
            Publication::anchor(name),
            esc(name)
        )
    } else {
        format!("<code>{}</code>", esc(name))
    }
}

fn diff_html(d: &str) -> String {
    let mut out = String::from("<pre class=\"diff\">");
    for line in d.lines() {
        let class = if line.starts_with("+++") || line.starts_with("---") || line.starts_with("@@")
        {
            "hunk"
        } else if line.starts_with('+') {
            "add"
        } else if line.starts_with('-') {
            "del"
        } else {
            ""
        };
        if class.is_empty() {
            let _ = writeln!(out, "{}", esc(line));
        } else {
            let _ = write!(out, "<span class=\"{class}\">{}</span>", esc(line));
        }
    }
    out.push_str("</pre>");
    out
}

fn matrix_section(m: &ApiMatrix, out: &mut String) {
    let score = m.score();
    let _ = writeln!(
        out,
        "<section id=\"matrix-{api}\">\n<h2>{api}: {title}, {op}</h2>",
        api = esc(&m.api),
        title = esc(&m.title),
        op = esc(&m.operation)
    );
    let _ = writeln!(
        out,
        "<p><span class=\"score\" style=\"color:{}\">{}</span> of the documented rows proven: {} proven, {} failed, {} not tested, of {}.</p>",
        badge::colour(score),
        badge::percent(score),
        m.count(Verdict::Proven),
        m.count(Verdict::Failed),
        m.count(Verdict::NotTested),
        m.rows.len()
    );
    let heads = [
        ("constraint", "Parameter constraints"),
        ("rule", "Rules"),
        ("error", "Error rows"),
        ("example", "Document examples"),
        ("effect", "Effects on the state"),
    ];
    for (kind, head) in heads {
        let rows: Vec<_> = m.rows.iter().filter(|r| r.kind == kind).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "<h3>{head} ({})</h3>", rows.len());
        out.push_str("<table class=\"matrix\"><thead><tr><th>item</th><th>the spec says</th><th>verdict</th><th>cases</th></tr></thead><tbody>\n");
        for r in rows {
            let failed: Vec<String> = r
                .cases
                .iter()
                .filter(|c| c.result == "failed")
                .take(8)
                .map(|c| case_link(&c.name, c.result))
                .collect();
            let mut cell = String::new();
            if !failed.is_empty() {
                let _ = write!(cell, "{}", failed.join(" "));
                let more = r.cases.iter().filter(|c| c.result == "failed").count() - failed.len();
                if more > 0 {
                    let _ = write!(cell, " <span class=\"muted\">and {more} more failed</span>");
                }
            }
            if !r.cases.is_empty() {
                let _ = write!(
                    cell,
                    "<details><summary>{} case{}</summary><ul class=\"cases\">",
                    r.cases.len(),
                    if r.cases.len() == 1 { "" } else { "s" }
                );
                for c in &r.cases {
                    let _ = write!(
                        cell,
                        "<li>{} {}</li>",
                        case_link(&c.name, c.result),
                        pill(result_class(c.result), c.result)
                    );
                }
                cell.push_str("</ul></details>");
            }
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}<br/><span class=\"muted\">{}</span></td><td>{cell}</td></tr>",
                esc(&r.subject),
                esc(&r.detail),
                pill(verdict_class(r.verdict), r.verdict.label()),
                esc(&r.why),
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
}

/// The page.
pub fn render(p: &Publication) -> String {
    let meta = p.meta;
    let score = p.score();
    let (proven, rows) = p.totals();
    let apis: Vec<&str> = p.matrices.iter().map(|m| m.api.as_str()).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"/>\n\
         <meta name=\"generator\" content=\"apiconform {}\"/>\n\
         <title>Conformance report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        esc(&meta.version),
        esc(&apis.join(", "))
    );
    let _ = writeln!(
        out,
        "<header>\n<h1>Conformance report {}</h1>",
        badge::svg("conformance", &badge::percent(score), score)
    );
    let _ = writeln!(
        out,
        "<p>{proven} of {rows} documented rows proven ({}) over {} API{}; {}.</p>",
        badge::percent(score),
        apis.len(),
        if apis.len() == 1 { "" } else { "s" },
        esc(&super::summary(p.outcomes))
    );
    out.push_str("<table class=\"meta\"><tbody>\n");
    let mut meta_row = |k: &str, v: String| {
        let _ = writeln!(out, "<tr><th>{k}</th><td>{v}</td></tr>");
    };
    meta_row("target", format!("<code>{}</code>", esc(&meta.target)));
    meta_row("date", esc(&meta.date));
    meta_row("apiconform", esc(&meta.version));
    meta_row(
        "command",
        format!(
            "<code>apiconform test{}{}</code>",
            if meta.options.is_empty() { "" } else { " " },
            esc(&meta.options)
        ),
    );
    if let Some(s) = &meta.shard {
        meta_row(
            "shard",
            format!("{} (this report covers that part of the cases)", esc(s)),
        );
    }
    if let Some(b) = p.baseline {
        meta_row("baseline", format!("<code>{}</code>", esc(&b.file)));
    }
    out.push_str("</tbody></table>\n");
    out.push_str("<nav><a href=\"#summary\">Summary</a>");
    for a in &apis {
        let _ = write!(out, "<a href=\"#matrix-{0}\">{0}</a>", esc(a));
    }
    out.push_str(
        "<a href=\"#failures\">Failures</a><a href=\"#skipped\">Skipped</a></nav>\n</header>\n",
    );

    // Summary.
    out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n");
    out.push_str("<table><thead><tr><th>API</th><th>score</th><th>rows proven</th><th>failed</th><th>not tested</th><th>spec (SHA-256)</th><th>endpoint</th></tr></thead><tbody>\n");
    for m in &p.matrices {
        let s = m.score();
        let spec = meta.specs.get(&m.api).map_or_else(
            || "<span class=\"muted\">unknown</span>".to_string(),
            |o| {
                format!(
                    "<code>{}</code><br/><code class=\"muted\">{}</code>",
                    esc(&o.file),
                    esc(&o.sha256)
                )
            },
        );
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#matrix-{api}\">{api}</a></td><td class=\"n score\" style=\"color:{c}\">{pct}</td><td class=\"n\">{} of {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{spec}</td><td><code>{}</code></td></tr>",
            m.count(Verdict::Proven),
            m.rows.len(),
            m.count(Verdict::Failed),
            m.count(Verdict::NotTested),
            esc(meta.endpoints.get(&m.api).map_or("", String::as_str)),
            api = esc(&m.api),
            c = badge::colour(s),
            pct = badge::percent(s),
        );
    }
    out.push_str("</tbody></table>\n");

    out.push_str("<h3>Cases by category</h3>\n<table><thead><tr><th>API</th><th>category</th><th>passed</th><th>failed</th><th>skipped</th></tr></thead><tbody>\n");
    for (api, cats) in summary::by_api(p.outcomes) {
        let n = cats.len();
        for (i, (cat, c)) in cats.iter().enumerate() {
            let api_cell = if i == 0 {
                format!("<td rowspan=\"{n}\"><code>{}</code></td>", esc(&api))
            } else {
                String::new()
            };
            let strong = |s: String| {
                if *cat == "all" {
                    format!("<strong>{s}</strong>")
                } else {
                    s
                }
            };
            let _ = writeln!(
                out,
                "<tr>{api_cell}<td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                strong(esc(cat)),
                strong(c.passed.to_string()),
                strong(c.failed.to_string()),
                strong(c.skipped.to_string())
            );
        }
    }
    out.push_str("</tbody></table>\n");
    let _ = writeln!(
        out,
        "<p class=\"muted\">Categories: {}. A row is proven when the cases covering it ran and passed; failed when one of them failed; not tested when none ran, with the reason.</p>",
        CATEGORIES.join(", ")
    );

    if let Some(b) = p.baseline {
        let _ = writeln!(
            out,
            "<h3>Against the baseline</h3>\n<p><code>{}</code>: {} accepted failure{} seen, {} outside the baseline, {} fixed.</p>",
            esc(&b.file),
            b.known.len(),
            if b.known.len() == 1 { "" } else { "s" },
            b.regressions.len(),
            b.fixed.len()
        );
        if !b.regressions.is_empty() || !b.fixed.is_empty() || !b.unknown.is_empty() {
            out.push_str("<ul>\n");
            for r in &b.regressions {
                let _ = writeln!(
                    out,
                    "<li>{} {}: {}{}</li>",
                    pill("failed", "new"),
                    case_link(&r.case, "failed"),
                    esc(&r.cause),
                    r.accepted.as_ref().map_or(String::new(), |a| format!(
                        " <span class=\"muted\">(accepted: {})</span>",
                        esc(a)
                    ))
                );
            }
            for e in &b.fixed {
                let _ = writeln!(
                    out,
                    "<li>{} <code>{}</code> passes now: the entry can go</li>",
                    pill("passed", "fixed"),
                    esc(&e.case)
                );
            }
            for e in &b.unknown {
                let _ = writeln!(
                    out,
                    "<li>{} <code>{}</code>: no such case</li>",
                    pill("not-run", "stale"),
                    esc(&e.case)
                );
            }
            out.push_str("</ul>\n");
        }
    }

    let groups = summary::groups(p.outcomes);
    if !groups.is_empty() {
        let _ = writeln!(out, "<h3>Failures by cause ({})</h3>\n<table><thead><tr><th>cases</th><th>the target answered</th><th>the cases expected</th><th>cases</th></tr></thead><tbody>", groups.len());
        for g in &groups {
            let links: Vec<String> = g
                .outcomes
                .iter()
                .take(6)
                .map(|o| case_link(&o.case.name, "failed"))
                .collect();
            let more = g.outcomes.len().saturating_sub(6);
            let _ = writeln!(
                out,
                "<tr><td class=\"n\">{}</td><td><code>{}</code></td><td>{}</td><td>{}{}</td></tr>",
                g.outcomes.len(),
                esc(&g.cause),
                esc(&summary::expected_breakdown(&g.outcomes)),
                links.join(" "),
                if more > 0 {
                    format!(" <span class=\"muted\">and {more} more</span>")
                } else {
                    String::new()
                }
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");

    for m in &p.matrices {
        matrix_section(m, &mut out);
    }

    // Failures in full.
    let failures: Vec<_> = p.failures().collect();
    let _ = writeln!(
        out,
        "<section id=\"failures\">\n<h2>Failures ({})</h2>",
        failures.len()
    );
    if failures.is_empty() {
        out.push_str("<p>None.</p>\n");
    }
    for o in failures {
        let _ = writeln!(
            out,
            "<article id=\"{}\">\n<h3>{}</h3>",
            Publication::anchor(&o.case.name),
            esc(&o.case.name)
        );
        let _ = writeln!(
            out,
            "<p>{} · {} · cause <code>{}</code>{}</p>",
            pill("failed", "failed"),
            esc(summary::category(&o.case)),
            esc(&summary::cause(o).unwrap_or_default()),
            p.baseline
                .map(|b| if b.regressions.iter().any(|r| r.case == o.case.name) {
                    format!(" · {}", pill("failed", "outside the baseline"))
                } else {
                    format!(" · {}", pill("not-run", "accepted by the baseline"))
                })
                .unwrap_or_default()
        );
        out.push_str("<ul>\n");
        for f in &o.failures {
            let _ = writeln!(out, "<li>{}</li>", esc(&p.redactor.text(&f.to_string())));
        }
        for w in &o.warnings {
            let _ = writeln!(out, "<li class=\"muted\">warning: {}</li>", esc(w));
        }
        out.push_str("</ul>\n");
        let _ = writeln!(
            out,
            "<p>Re-run: <code>{}</code><br/>Replay: <code>{}</code></p>",
            esc(&p.invocation.rerun(&o.case.name)),
            esc(&p.invocation.replay(&o.case.name))
        );
        match p.exchange(o, 16 * 1024) {
            Some((req, resp)) => {
                let _ = writeln!(
                    out,
                    "<details open=\"open\"><summary>Request, as sent (credentials and signature redacted)</summary><pre>{}</pre></details>",
                    esc(req.trim_end())
                );
                let _ = writeln!(
                    out,
                    "<details><summary>Answer, as received</summary><pre>{}</pre></details>",
                    esc(resp.trim_end())
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "<details open=\"open\"><summary>Request</summary><pre>{}</pre></details>",
                    esc(&p.redactor.text(o.request.trim_end()))
                );
            }
        }
        for d in [&o.diff, &o.state_diff].into_iter().flatten() {
            out.push_str(&diff_html(&p.redactor.text(d)));
            out.push('\n');
        }
        for n in &o.notes {
            let _ = writeln!(out, "<p class=\"muted\">{}</p>", esc(n));
        }
        out.push_str("</article>\n");
    }
    out.push_str("</section>\n");

    // Skipped, by reason.
    let mut skipped: Vec<(&str, Vec<&str>)> = Vec::new();
    for o in p.outcomes {
        if let Some(why) = &o.skipped {
            match skipped.iter_mut().find(|(w, _)| *w == why.as_str()) {
                Some((_, names)) => names.push(&o.case.name),
                None => skipped.push((why, vec![&o.case.name])),
            }
        }
    }
    let total: usize = skipped.iter().map(|(_, n)| n.len()).sum();
    let _ = writeln!(out, "<section id=\"skipped\">\n<h2>Skipped ({total})</h2>");
    if skipped.is_empty() {
        out.push_str("<p>None: the target ran every case.</p>\n");
    } else {
        out.push_str("<table><thead><tr><th>why</th><th>cases</th></tr></thead><tbody>\n");
        for (why, names) in &skipped {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(why),
                names
                    .iter()
                    .map(|n| format!("<code>{}</code>", esc(n)))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
    let _ = writeln!(
        out,
        "<footer>Generated by apiconform {} on {}. The cases and their expected answers come from the specs, never from an implementation.</footer>\n</body>\n</html>",
        esc(&meta.version),
        esc(&meta.date)
    );
    out
}
