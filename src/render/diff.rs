//! The week-over-week [`Diff`] as terminal text, Markdown or JSON.

use std::fmt::Write;

use super::escape;
use crate::model::ResourceRef;
use crate::report::{Diff, Finding};

/// The diff's serde form: the pinned `backstop.diff/v1` schema.
pub fn json(diff: &Diff) -> String {
    let mut text = serde_json::to_string_pretty(diff).expect("diff serializes");
    text.push('\n');
    text
}

/// Plain text for the terminal. Every name from the reports is shown
/// on one line without control characters, as in the table report.
pub fn text(diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "backstop diff {} -> {}: {} newly failing, {} fixed, {} still failing, {} resources appeared, {} disappeared",
        diff.old_generated_at,
        diff.new_generated_at,
        diff.newly_failing.len(),
        diff.fixed.len(),
        diff.still_failing.len(),
        diff.appeared.len(),
        diff.disappeared.len()
    );
    let sections: [(&str, &[Finding]); 3] = [
        ("Newly failing", &diff.newly_failing),
        ("Fixed", &diff.fixed),
        ("Still failing", &diff.still_failing),
    ];
    for (title, findings) in sections {
        if findings.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}:");
        for f in findings {
            let _ = writeln!(
                out,
                "  {:<6} {:<8} {:<32} {} ({})",
                f.status.as_str(),
                f.severity.as_str(),
                escape::one_line(&f.rule),
                escape::one_line(&f.resource.id),
                escape::one_line(&f.resource.region)
            );
        }
    }
    for (title, list) in [
        ("Appeared", &diff.appeared),
        ("Disappeared", &diff.disappeared),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}:");
        for r in list {
            let _ = writeln!(
                out,
                "  {} {} ({})",
                escape::one_line(&r.resource_type),
                escape::one_line(&r.id),
                escape::one_line(&r.region)
            );
        }
    }
    out
}

/// Markdown for a weekly issue or step summary. Every name from the
/// reports is escaped as in the Markdown report: no HTML, no forged
/// headings or list items, no @mentions.
pub fn markdown(diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "**backstop weekly diff: {} newly failing, {} fixed, {} still failing**\n",
        diff.newly_failing.len(),
        diff.fixed.len(),
        diff.still_failing.len()
    );
    let _ = writeln!(
        out,
        "From {} to {}.",
        diff.old_generated_at, diff.new_generated_at
    );
    let sections: [(&str, &[Finding], &str); 3] = [
        ("Newly failing", &diff.newly_failing, "- [ ]"),
        ("Fixed", &diff.fixed, "- [x]"),
        ("Still failing", &diff.still_failing, "- [ ]"),
    ];
    for (title, findings, mark) in sections {
        let _ = writeln!(out, "\n## {title} ({})\n", findings.len());
        if findings.is_empty() {
            let _ = writeln!(out, "None.");
        }
        for f in findings {
            let _ = writeln!(
                out,
                "{mark} **{}** ({}, {}): {} in {}: {}",
                escape::markdown(&f.title),
                f.severity,
                escape::markdown_code(&f.rule),
                escape::markdown(&f.resource.id),
                escape::markdown(&f.resource.region),
                escape::markdown(&f.message)
            );
        }
    }
    let lists: [(&str, &[ResourceRef]); 2] = [
        ("Appeared", &diff.appeared),
        ("Disappeared", &diff.disappeared),
    ];
    for (title, list) in lists {
        let _ = writeln!(out, "\n## {title} ({})\n", list.len());
        if list.is_empty() {
            let _ = writeln!(out, "None.");
        }
        for r in list {
            let _ = writeln!(
                out,
                "- {} {} in {}",
                escape::markdown_code(&r.resource_type),
                escape::markdown(&r.id),
                escape::markdown(&r.region)
            );
        }
    }
    out
}
