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

/// A section of findings as both renderings list them.
pub(super) struct Section<'a> {
    pub(super) title: &'static str,
    /// What moved a finding here, for the Markdown reader.
    pub(super) meaning: &'static str,
    /// The Markdown list marker: a task, a task done, or a plain item.
    mark: &'static str,
    /// What to say of a finding here that carries no waiver note.
    without_waiver: Option<&'static str>,
    pub(super) findings: &'a [Finding],
}

/// What needs action first: new gaps, then the transitions, then news that
/// is good or old.
pub(super) fn sections(diff: &Diff) -> [Section<'_>; 8] {
    [
        Section {
            title: "Newly failing",
            meaning: "Failing now; passing or not judged before.",
            mark: "- [ ]",
            without_waiver: None,
            findings: &diff.newly_failing,
        },
        Section {
            title: "Waiver expired",
            meaning: "Waived before; failing again now: the waiver expired or no longer applies.",
            mark: "- [ ]",
            without_waiver: Some("no waiver applies any more"),
            findings: &diff.waiver_expired,
        },
        Section {
            title: "Error to fail",
            meaning: "Could not be read before; read now, and failing.",
            mark: "- [ ]",
            without_waiver: None,
            findings: &diff.error_to_fail,
        },
        Section {
            title: "Fail to error",
            meaning: "Failing or waived before; can no longer be read, so not fixed.",
            mark: "- [ ]",
            without_waiver: None,
            findings: &diff.fail_to_error,
        },
        Section {
            title: "No longer checked",
            meaning: "Failing or waived before, shown as it was; no result now although the resource is still audited: the rule was disabled, scoped out, or no longer applies.",
            mark: "- [ ]",
            without_waiver: None,
            findings: &diff.no_longer_checked,
        },
        Section {
            title: "Newly waived",
            meaning: "A gap accepted by a waiver now; not waived before.",
            mark: "-",
            without_waiver: None,
            findings: &diff.newly_waived,
        },
        Section {
            title: "Fixed",
            meaning: "Failing or waived before; passing now.",
            mark: "- [x]",
            without_waiver: None,
            findings: &diff.fixed,
        },
        Section {
            title: "Still failing",
            meaning: "Failing as before.",
            mark: "- [ ]",
            without_waiver: None,
            findings: &diff.still_failing,
        },
    ]
}

/// "2 newly failing, 0 waiver expired, ...": every section's count.
pub(super) fn counts(diff: &Diff) -> String {
    sections(diff)
        .iter()
        .map(|s| format!("{} {}", s.findings.len(), s.title.to_lowercase()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The waiver behind a listed finding, unescaped: its note, or for a gap
/// whose waiver went away without one, that it no longer applies.
pub(super) fn waiver_detail(section: &Section<'_>, finding: &Finding) -> Option<String> {
    match &finding.waiver {
        Some(note) => Some(note.describe()),
        None => section.without_waiver.map(str::to_string),
    }
}

/// Plain text for the terminal. Every name from the reports is shown
/// on one line without control characters, as in the table report.
pub fn text(diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "backstop diff {} -> {}: {}, {} resources appeared, {} disappeared",
        diff.old_generated_at,
        diff.new_generated_at,
        counts(diff),
        diff.appeared.len(),
        diff.disappeared.len()
    );
    for section in sections(diff) {
        if section.findings.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}:", section.title);
        for f in section.findings {
            let _ = writeln!(
                out,
                "  {:<6} {:<8} {:<32} {} ({})",
                f.status.as_str(),
                f.severity.as_str(),
                escape::one_line(&f.rule),
                escape::one_line(&f.resource.id),
                escape::one_line(&f.resource.region)
            );
            if let Some(detail) = waiver_detail(&section, f) {
                let _ = writeln!(out, "         {}", escape::one_line(&detail));
            }
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
    let _ = writeln!(out, "**backstop weekly diff: {}**\n", counts(diff));
    let _ = writeln!(
        out,
        "From {} to {}.",
        diff.old_generated_at, diff.new_generated_at
    );
    for section in sections(diff) {
        let _ = writeln!(
            out,
            "\n## {} ({})\n\n{}\n",
            section.title,
            section.findings.len(),
            section.meaning
        );
        if section.findings.is_empty() {
            let _ = writeln!(out, "None.");
        }
        for f in section.findings {
            let _ = writeln!(
                out,
                "{} **{}** ({}, {}): {} in {}: {}",
                section.mark,
                escape::markdown(&f.title),
                f.severity,
                escape::markdown_code(&f.rule),
                escape::markdown(&f.resource.id),
                escape::markdown(&f.resource.region),
                escape::markdown(&f.message)
            );
            if let Some(detail) = waiver_detail(&section, f) {
                let _ = writeln!(out, "  - {}", escape::markdown(&detail));
            }
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
