//! `report.md`: the published report in GitHub-flavoured Markdown, for a repository or a
//! pull request: the same sections as `index.html`.

use std::fmt::Write as _;

use super::super::summary;
use super::badge;
use super::matrix::Verdict;
use super::publish::Publication;

/// Inline code, safe in a table cell.
fn code(s: &str) -> String {
    let s = s.replace('|', "\\|").replace('\n', " ");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// Text safe in a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A fenced block longer than any run of backticks inside it.
fn fence(lang: &str, body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let f = "`".repeat(longest.max(2) + 1);
    format!("{f}{lang}\n{}\n{f}\n", body.trim_end())
}

fn link(name: &str) -> String {
    format!("[{}](#{})", code(name), Publication::anchor(name))
}

pub fn render(p: &Publication) -> String {
    let meta = p.meta;
    let score = p.score();
    let (proven, rows) = p.totals();
    let mut out = String::from("# Conformance report\n\n");
    let _ = writeln!(
        out,
        "![conformance {pct}](badge.svg) **{pct}** of the documented rows proven ({proven} of {rows}) over {} API(s); {}.\n",
        p.matrices.len(),
        super::summary(p.outcomes),
        pct = badge::percent(score),
    );
    out.push_str("| | |\n|---|---|\n");
    let _ = writeln!(out, "| target | {} |", code(&meta.target));
    let _ = writeln!(out, "| date | {} |", meta.date);
    let _ = writeln!(out, "| apiconform | {} |", meta.version);
    let _ = writeln!(
        out,
        "| command | {} |",
        code(format!("apiconform test {}", meta.options).trim_end())
    );
    if let Some(s) = &meta.shard {
        let _ = writeln!(
            out,
            "| shard | {s} (this report covers that part of the cases) |"
        );
    }
    if let Some(b) = p.baseline {
        let _ = writeln!(out, "| baseline | {} |", code(&b.file));
    }

    out.push_str("\n## Summary\n\n| API | score | rows proven | failed | not tested | spec | SHA-256 | endpoint |\n|---|--:|--:|--:|--:|---|---|---|\n");
    for m in &p.matrices {
        let (file, sha) = meta
            .specs
            .get(&m.api)
            .map_or((String::new(), String::new()), |o| {
                (code(&o.file), code(&o.sha256))
            });
        let _ = writeln!(
            out,
            "| [{api}](#matrix-{api}) | **{}** | {} of {} | {} | {} | {file} | {sha} | {} |",
            badge::percent(m.score()),
            m.count(Verdict::Proven),
            m.rows.len(),
            m.count(Verdict::Failed),
            m.count(Verdict::NotTested),
            meta.endpoints
                .get(&m.api)
                .map_or(String::new(), |e| code(e)),
            api = m.api,
        );
    }
    out.push_str("\n### Cases by category\n\n| API | category | passed | failed | skipped |\n|---|---|--:|--:|--:|\n");
    for (api, cats) in summary::by_api(p.outcomes) {
        for (cat, c) in cats {
            let b = if cat == "all" { "**" } else { "" };
            let _ = writeln!(
                out,
                "| {} | {b}{cat}{b} | {b}{}{b} | {b}{}{b} | {b}{}{b} |",
                code(&api),
                c.passed,
                c.failed,
                c.skipped
            );
        }
    }

    if let Some(b) = p.baseline {
        let _ = writeln!(
            out,
            "\n### Against the baseline\n\n{}: {} accepted failure(s) seen, {} outside the baseline, {} fixed.\n",
            code(&b.file),
            b.known.len(),
            b.regressions.len(),
            b.fixed.len()
        );
        for r in &b.regressions {
            let _ = writeln!(
                out,
                "- **new** {}: {}{}",
                link(&r.case),
                code(&r.cause),
                r.accepted
                    .as_ref()
                    .map_or(String::new(), |a| format!(" (accepted: {})", code(a)))
            );
        }
        for e in &b.fixed {
            let _ = writeln!(
                out,
                "- **fixed** {}: passes now, the entry can go",
                code(&e.case)
            );
        }
        for e in &b.unknown {
            let _ = writeln!(out, "- **stale** {}: no such case", code(&e.case));
        }
    }

    let groups = summary::groups(p.outcomes);
    if !groups.is_empty() {
        out.push_str("\n### Failures by cause\n\n| cases | the target answered | the cases expected | first cases |\n|--:|---|---|---|\n");
        for g in &groups {
            let first: Vec<String> = g
                .outcomes
                .iter()
                .take(3)
                .map(|o| link(&o.case.name))
                .collect();
            let more = g.outcomes.len().saturating_sub(3);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}{} |",
                g.outcomes.len(),
                code(&g.cause),
                cell(&summary::expected_breakdown(&g.outcomes)),
                first.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
    }

    for m in &p.matrices {
        let _ = writeln!(
            out,
            "\n<a id=\"matrix-{api}\"></a>\n\n## {api}: {}, {}\n\n**{}** of the documented rows proven: {} proven, {} failed, {} not tested, of {}.",
            cell(&m.title),
            cell(&m.operation),
            badge::percent(m.score()),
            m.count(Verdict::Proven),
            m.count(Verdict::Failed),
            m.count(Verdict::NotTested),
            m.rows.len(),
            api = m.api,
        );
        for (kind, head) in [
            ("constraint", "Parameter constraints"),
            ("rule", "Rules"),
            ("error", "Error rows"),
            ("example", "Document examples"),
            ("effect", "Effects on the state"),
        ] {
            let rows: Vec<_> = m.rows.iter().filter(|r| r.kind == kind).collect();
            if rows.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "\n### {head} ({})\n\n| item | the spec says | verdict | why | failed cases |\n|---|---|---|---|---|",
                rows.len()
            );
            for r in rows {
                let failed: Vec<String> = r
                    .cases
                    .iter()
                    .filter(|c| c.result == "failed")
                    .take(4)
                    .map(|c| link(&c.name))
                    .collect();
                let n_failed = r.cases.iter().filter(|c| c.result == "failed").count();
                let _ = writeln!(
                    out,
                    "| {} | {} | **{}** | {} | {}{} |",
                    code(&r.subject),
                    cell(&r.detail),
                    r.verdict.label(),
                    cell(&r.why),
                    failed.join(", "),
                    if n_failed > failed.len() {
                        format!(" and {} more", n_failed - failed.len())
                    } else {
                        String::new()
                    }
                );
            }
        }
    }

    let failures: Vec<_> = p.failures().collect();
    let _ = writeln!(out, "\n## Failures ({})\n", failures.len());
    if failures.is_empty() {
        out.push_str("None.\n");
    }
    for o in failures {
        let _ = writeln!(
            out,
            "<a id=\"{}\"></a>\n\n### {}\n\n{} · cause {}{}\n",
            Publication::anchor(&o.case.name),
            code(&o.case.name),
            summary::category(&o.case),
            code(&summary::cause(o).unwrap_or_default()),
            p.baseline
                .map(|b| if b.regressions.iter().any(|r| r.case == o.case.name) {
                    " · **outside the baseline**"
                } else {
                    " · accepted by the baseline"
                })
                .unwrap_or_default()
        );
        for f in &o.failures {
            let _ = writeln!(out, "- {}", cell(&p.redactor.text(&f.to_string())));
        }
        for w in &o.warnings {
            let _ = writeln!(out, "- warning: {}", cell(w));
        }
        let _ = writeln!(
            out,
            "\nRe-run: {}  \nReplay: {}\n",
            code(&p.invocation.rerun(&o.case.name)),
            code(&p.invocation.replay(&o.case.name))
        );
        match p.exchange(o, 8 * 1024) {
            Some((req, resp)) => {
                let _ = writeln!(
                    out,
                    "<details><summary>Request, as sent, and the answer</summary>\n\n{}\n{}\n</details>\n",
                    fence("http", &req),
                    fence("http", &resp)
                );
            }
            None => {
                out.push_str(&fence("", &p.redactor.text(&o.request)));
                out.push('\n');
            }
        }
        for d in [&o.diff, &o.state_diff].into_iter().flatten() {
            out.push_str(&fence("diff", &p.redactor.text(d)));
            out.push('\n');
        }
        for n in &o.notes {
            let _ = writeln!(out, "> {}\n", n.replace('\n', " "));
        }
    }

    let skipped: Vec<_> = p.outcomes.iter().filter(|o| o.skipped.is_some()).collect();
    let _ = writeln!(out, "\n## Skipped ({})\n", skipped.len());
    if skipped.is_empty() {
        out.push_str("None: the target ran every case.\n");
    } else {
        out.push_str("| case | why |\n|---|---|\n");
        for o in skipped {
            let _ = writeln!(
                out,
                "| {} | {} |",
                code(&o.case.name),
                cell(o.skipped.as_deref().unwrap_or_default())
            );
        }
    }
    let _ = writeln!(
        out,
        "\n---\nGenerated by apiconform {} on {}. The cases and their expected answers come from the specs, never from an implementation.",
        meta.version, meta.date
    );
    out
}
