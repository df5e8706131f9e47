//! The Markdown report, for `$GITHUB_STEP_SUMMARY`, a PR comment or a
//! pre-review checklist: a verdict line, counts by severity, then one
//! checklist per gap category with what needs action first.
//!
//! All text from the account or from rule files goes through
//! [`markdown`] / [`markdown_code`], so a hostile name can neither add
//! markup nor break the page's structure. Nothing here emits raw HTML.

use std::fmt::Write as _;

use super::escape::{markdown, markdown_code, markdown_link};
use crate::report::{Finding, Report, Severity, Status, category_heading};

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    headline(&mut out, report);
    severity_table(&mut out, report);

    for (category, _) in report.summary.categories_in_order() {
        let mut findings: Vec<&Finding> = report
            .results
            .iter()
            .filter(|f| f.category == category)
            .collect();
        findings.sort_by(|a, b| a.action_order(b));
        writeln!(out, "\n## {}\n", markdown(category_heading(category))).unwrap();
        for finding in findings {
            item(&mut out, finding);
        }
    }

    if !report.collection_errors.is_empty() {
        out.push_str("\n## Could not be read\n\n");
        out.push_str("The rules that needed these calls report error.\n\n");
        for e in &report.collection_errors {
            writeln!(
                out,
                "- {} {} in {}: {}: {}",
                markdown(&e.service),
                markdown_code(&e.operation),
                markdown(&e.region),
                markdown_code(&e.code),
                markdown(&e.message),
            )
            .unwrap();
        }
    }

    if !report.not_evaluated.is_empty() {
        out.push_str(
            "\n## Not evaluated\n\nThese rules read facts that only a live account has; a plan's resources were not judged by them.\n\n",
        );
        for n in &report.not_evaluated {
            writeln!(
                out,
                "- {} ({} resource{}): {}",
                markdown_code(&n.rule),
                n.resources,
                if n.resources == 1 { "" } else { "s" },
                markdown(&n.reason),
            )
            .unwrap();
        }
    }

    if !report.unused_waivers.is_empty() {
        out.push_str(
            "\n## Unused waivers\n\nThese waivers matched no failing result; remove them.\n\n",
        );
        for w in &report.unused_waivers {
            writeln!(
                out,
                "- {} for {} ({}): {}",
                markdown_code(&w.rule),
                markdown_code(&w.resource),
                markdown(&w.location),
                markdown(&w.reason),
            )
            .unwrap();
        }
    }
    out
}

fn headline(out: &mut String, report: &Report) {
    let s = &report.summary;
    let mut parts = vec![
        format!("{} failing", s.fail),
        plural(s.error, "error", "errors"),
    ];
    if s.waived > 0 {
        parts.push(format!("{} waived", s.waived));
    }
    parts.push(format!("{} passing", s.pass));
    writeln!(out, "**backstop: {}**\n", parts.join(", ")).unwrap();

    let source = &report.source;
    let mut context = Vec::new();
    if let Some(account) = &source.account {
        context.push(format!("account {}", markdown(account)));
    }
    if !source.regions.is_empty() {
        context.push(format!("regions {}", markdown(&source.regions.join(", "))));
    }
    if !source.kind.is_empty() {
        context.push(format!("source {}", markdown(&source.kind)));
    }
    context.push(format!("generated {}", report.generated_at));
    writeln!(out, "Audited {}.", context.join(", ")).unwrap();
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn severity_table(out: &mut String, report: &Report) {
    out.push_str("\n| Severity | Fail | Error | Waived | Pass |\n");
    out.push_str("|----------|-----:|------:|-------:|-----:|\n");
    for severity in Severity::ALL {
        let [fail, error, waived, pass] =
            [Status::Fail, Status::Error, Status::Waived, Status::Pass].map(|status| {
                report
                    .results
                    .iter()
                    .filter(|f| f.severity == severity && f.status == status)
                    .count()
            });
        writeln!(out, "| {severity} | {fail} | {error} | {waived} | {pass} |").unwrap();
    }
}

/// One checklist line; what needs action carries its fix beneath it.
fn item(out: &mut String, finding: &Finding) {
    let title = markdown(&finding.title);
    let rule = markdown_code(&finding.rule);
    let resource = resource(finding);
    match finding.status {
        Status::Fail | Status::Error => {
            let verb = if finding.status == Status::Error {
                "could not check "
            } else {
                ""
            };
            writeln!(
                out,
                "- [ ] **{title}** ({}, {rule}): {verb}{resource}: {}",
                finding.severity,
                markdown(&finding.message),
            )
            .unwrap();
            if !finding.remediation.is_empty() {
                writeln!(out, "  - Fix: {}", markdown(&finding.remediation)).unwrap();
            }
            if let Some(waiver) = &finding.waiver {
                writeln!(out, "  - {}", markdown(&waiver.describe())).unwrap();
            }
        }
        Status::Waived => {
            let note = finding
                .waiver
                .as_ref()
                .map_or("waived".to_string(), |w| w.describe());
            writeln!(
                out,
                "- [x] ~~**{title}** ({rule}): {resource}~~ {}",
                markdown(&note)
            )
            .unwrap();
        }
        Status::Pass => {
            writeln!(out, "- [x] **{title}** ({rule}): {resource}").unwrap();
        }
    }
}

/// `` `id` in region ``; a failed listing stands for every resource of its
/// type in the region.
fn resource(finding: &Finding) -> String {
    let r = &finding.resource;
    let what = if finding.covers_whole_listing() {
        format!("every {}", markdown_code(&r.resource_type))
    } else {
        markdown_code(&r.id)
    };
    let placed = if r.region.is_empty() {
        what
    } else {
        format!("{what} in {}", markdown(&r.region))
    };
    // A plan's resource: its address, and a link to its block.
    match (&r.address, &finding.location) {
        (Some(address), Some(at)) => format!(
            "{placed} ({}, {})",
            markdown_code(address),
            markdown_link(
                &format!("{}:{}", at.file, at.line),
                &format!("{}#L{}", at.file, at.line)
            )
        ),
        (Some(address), None) => format!("{placed} ({})", markdown_code(address)),
        _ => placed,
    }
}
