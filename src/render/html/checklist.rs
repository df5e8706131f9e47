//! The checklist per gap category, as the Markdown report has it, and the
//! sections of `backstop diff` against the previous report.

use std::fmt::Write as _;

use crate::model::CollectionError;
use crate::render::accounts::{AccountGroup, by_account};
use crate::render::diff::{sections, waiver_detail};
use crate::render::escape::{html_block, html_text};
use crate::render::markdown::plural;
use crate::render::markdown::{failing_by_category, passes_by_rule, waived};
use crate::report::{Diff, Finding, Report, Status, category_heading};

/// What needs action first (failures and errors by category, each with its
/// fix), then waivers, passes as per-rule counts, and what could not be
/// read, judged, or matched. Unlike the Markdown, nothing is cut.
pub(super) fn section(report: &Report) -> String {
    let mut out = String::from("<section id=\"checklist\">\n<h2>Checklist</h2>\n");
    let accounts = by_account(report);
    match &accounts {
        None => {
            let all: Vec<&Finding> = report.results.iter().collect();
            needs_action(&mut out, report, &all, "h3");
        }
        Some(accounts) => {
            for account in accounts {
                account_heading(&mut out, account);
                needs_action(&mut out, report, &account.results, "h4");
                could_not_be_read(&mut out, &account.collection_errors, "h4");
            }
        }
    }

    let passes = passes_by_rule(report);
    if !passes.is_empty() {
        let _ = writeln!(
            out,
            "<details id=\"passes\"><summary>{} in {}</summary>\n\
             <table>\n<tr><th>Rule</th><th>Checks</th><th>Passing</th></tr>",
            plural(report.summary.pass, "passing result", "passing results"),
            plural(passes.len(), "rule", "rules"),
        );
        for (rule, title, n) in passes {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{n}</td></tr>",
                html_text(rule),
                html_text(title)
            );
        }
        out.push_str("</table>\n</details>\n");
    }
    if accounts.is_none() {
        let errors: Vec<&CollectionError> = report.collection_errors.iter().collect();
        could_not_be_read(&mut out, &errors, "h3");
    }
    not_evaluated(&mut out, report);
    unused_waivers(&mut out, report);
    out.push_str("</section>\n");
    out
}

/// The failing results among `results` by category, then the waived
/// ones, under headings of `level`.
fn needs_action(out: &mut String, report: &Report, results: &[&Finding], level: &str) {
    let groups = failing_by_category(report, results);
    if groups.is_empty() {
        out.push_str("<p>Nothing fails.</p>\n");
    }
    for (category, findings) in groups {
        let _ = writeln!(
            out,
            "<{level} class=\"category\">{} ({})</{level}>\n<ul class=\"checklist\">",
            html_text(category_heading(category)),
            findings.len()
        );
        for finding in findings {
            item(out, finding);
        }
        out.push_str("</ul>\n");
    }

    let waived = waived(results);
    if !waived.is_empty() {
        let _ = writeln!(
            out,
            "<{level}>Waived ({})</{level}>\n<ul class=\"checklist\">",
            waived.len()
        );
        for finding in waived {
            item(out, finding);
        }
        out.push_str("</ul>\n");
    }
}

/// An account's heading: its name, its counts, and prominently, why it
/// could not be read.
fn account_heading(out: &mut String, account: &AccountGroup<'_>) {
    let _ = writeln!(
        out,
        "<h3 class=\"account\">Account {}</h3>\n<p class=\"account-counts\">{}.</p>",
        html_text(&account.label),
        account.counts_line()
    );
    if let Some(error) = account.error {
        let _ = writeln!(
            out,
            "<p class=\"not-read\"><strong>Not read: {}.</strong> Every rule reports error for this account.</p>",
            html_text(error)
        );
    }
}

/// One checklist item; what needs action carries its fix beneath it.
fn item(out: &mut String, finding: &Finding) {
    let title = html_text(&finding.title);
    let rule = html_text(&finding.rule);
    let resource = resource(finding);
    let status = finding.status;
    let _ = write!(
        out,
        "<li class=\"{status}\"><span class=\"status\">{status}</span> <strong>{title}</strong> \
         ({}, <code>{rule}</code>): ",
        finding.severity
    );
    match status {
        Status::Fail | Status::Error => {
            let verb = if status == Status::Error {
                "could not check "
            } else {
                ""
            };
            let _ = write!(out, "{verb}{resource}: {}", html_text(&finding.message));
            if !finding.remediation.is_empty() {
                let _ = write!(
                    out,
                    "\n<div class=\"fix\">Fix:<pre><code>{}</code></pre></div>",
                    html_block(finding.remediation.trim_end())
                );
            }
            if let Some(waiver) = &finding.waiver {
                let _ = write!(out, "\n<div>{}</div>", html_text(&waiver.describe()));
            }
        }
        Status::Waived => {
            let note = finding
                .waiver
                .as_ref()
                .map_or("waived".to_string(), |w| w.describe());
            let _ = write!(out, "{resource}: {}", html_text(&note));
        }
        Status::Pass => out.push_str(&resource),
    }
    out.push_str("</li>\n");
}

/// `<code>id</code> in region`; a failed listing stands for every resource
/// of its type in the region; a plan's resource adds its address and block.
fn resource(finding: &Finding) -> String {
    let r = &finding.resource;
    let what = if finding.covers_whole_listing() {
        format!("every <code>{}</code>", html_text(&r.resource_type))
    } else {
        format!("<code>{}</code>", html_text(&r.id))
    };
    let placed = if r.region.is_empty() {
        what
    } else {
        format!("{what} in {}", html_text(&r.region))
    };
    match (&r.address, &finding.location) {
        (Some(address), Some(at)) => format!(
            "{placed} (<code>{}</code>, {}:{})",
            html_text(address),
            html_text(&at.file),
            at.line
        ),
        (Some(address), None) => format!("{placed} (<code>{}</code>)", html_text(address)),
        _ => placed,
    }
}

/// The calls that failed, under a heading of `level`.
fn could_not_be_read(out: &mut String, errors: &[&CollectionError], level: &str) {
    if errors.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<{level}>Could not be read</{level}>\n<p>The rules that needed these calls report error.</p>\n<ul>\n",
    );
    for e in errors {
        let _ = writeln!(
            out,
            "<li>{} <code>{}</code> in {}: <code>{}</code>: {}</li>",
            html_text(&e.service),
            html_text(&e.operation),
            html_text(&e.region),
            html_text(&e.code),
            html_text(&e.message),
        );
    }
    out.push_str("</ul>\n");
}

fn not_evaluated(out: &mut String, report: &Report) {
    if report.not_evaluated.is_empty() {
        return;
    }
    out.push_str(
        "<h3>Not evaluated</h3>\n<p>These rules read facts that only a live account has; \
         a plan's resources were not judged by them.</p>\n<ul>\n",
    );
    for n in &report.not_evaluated {
        let _ = writeln!(
            out,
            "<li><code>{}</code> ({}): {}</li>",
            html_text(&n.rule),
            plural(n.resources, "resource", "resources"),
            html_text(&n.reason),
        );
    }
    out.push_str("</ul>\n");
}

fn unused_waivers(out: &mut String, report: &Report) {
    if report.unused_waivers.is_empty() {
        return;
    }
    out.push_str(
        "<h3>Unused waivers</h3>\n<p>These waivers matched no failing result; remove them.</p>\n<ul>\n",
    );
    for w in &report.unused_waivers {
        let _ = writeln!(
            out,
            "<li><code>{}</code> for <code>{}</code> ({}): {}</li>",
            html_text(&w.rule),
            html_text(&w.resource),
            html_text(&w.location),
            html_text(&w.reason),
        );
    }
    out.push_str("</ul>\n");
}

/// The diff against the previous report, section by section as `backstop
/// diff` lists them, then the resources that appeared or disappeared.
pub(super) fn changes(diff: Option<&Diff>) -> String {
    let mut out = String::from("<section id=\"changes\">\n<h2>Since the previous report</h2>\n");
    let Some(diff) = diff else {
        out.push_str("<p>No previous report given.</p>\n</section>\n");
        return out;
    };
    let _ = writeln!(
        out,
        "<p>From {} to {}.</p>",
        diff.old_generated_at, diff.new_generated_at
    );
    for section in sections(diff) {
        let _ = writeln!(
            out,
            "<h3>{} ({})</h3>\n<p class=\"meaning\">{}</p>",
            section.title,
            section.findings.len(),
            section.meaning
        );
        if section.findings.is_empty() {
            out.push_str("<p>None.</p>\n");
            continue;
        }
        out.push_str("<ul class=\"checklist\">\n");
        for f in section.findings {
            let _ = write!(
                out,
                "<li class=\"{status}\"><span class=\"status\">{status}</span> <strong>{}</strong> \
                 ({}, <code>{}</code>): <code>{}</code> in {}: {}",
                html_text(&f.title),
                f.severity,
                html_text(&f.rule),
                html_text(&f.resource.id),
                html_text(&f.resource.region),
                html_text(&f.message),
                status = f.status,
            );
            if let Some(detail) = waiver_detail(&section, f) {
                let _ = write!(out, "\n<div>{}</div>", html_text(&detail));
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    for (title, list) in [
        ("Appeared", &diff.appeared),
        ("Disappeared", &diff.disappeared),
    ] {
        let _ = writeln!(out, "<h3>{title} ({})</h3>", list.len());
        if list.is_empty() {
            out.push_str("<p>None.</p>\n");
            continue;
        }
        out.push_str("<ul>\n");
        for r in list {
            let _ = writeln!(
                out,
                "<li><code>{}</code> <code>{}</code> in {}</li>",
                html_text(&r.resource_type),
                html_text(&r.id),
                html_text(&r.region)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
    out
}
