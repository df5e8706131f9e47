//! The Markdown report, for `$GITHUB_STEP_SUMMARY`, a PR comment or a
//! pre-review checklist: a verdict line, counts by severity, then one
//! checklist per gap category with what needs action first.
//!
//! All text from the account or from rule files goes through
//! [`markdown`] / [`markdown_code`], so a hostile name can neither add
//! markup nor break the page's structure. Nothing here emits raw HTML.

use std::fmt::Write as _;

use super::accounts::{AccountGroup, by_account};
use super::escape::{fenced, markdown, markdown_code, markdown_link};
use crate::model::CollectionError;
use crate::report::{Finding, Report, Severity, Status, category_heading};

/// The default cap, in characters: under GitHub's 65,536-character limit of
/// a pull-request comment, and so (at most 4 bytes a character) far under
/// the 1 MiB limit of a job summary, past which GitHub drops the summary.
pub const DEFAULT_MAX_CHARS: usize = 60_000;

/// Room kept for the line that says the report was cut.
const TRUNCATION_ROOM: usize = 400;

/// The report in at most `max_chars` characters. What needs action comes
/// first (failures and errors by category, then waivers), passes only as
/// per-rule counts in a collapsed block; when the cap is reached, whole
/// items are left out from the end and a last line says how many, and that
/// the full report is in the JSON and JUnit files.
pub fn render(report: &Report, max_chars: usize) -> String {
    let mut out = Budget::new(max_chars);
    let mut head = String::new();
    headline(&mut head, report);
    severity_table(&mut head, report);
    out.push_always(&head);

    let mut omitted = 0usize;
    let errors = match by_account(report) {
        None => {
            let all: Vec<&Finding> = report.results.iter().collect();
            let mut groups = category_groups(report, &all, "##");
            groups.push(("\n## Waived\n\n".to_string(), waived_unsorted(&all)));
            omitted += checklist(&mut out, &mut String::new(), groups);
            could_not_be_read(&report.collection_errors, "##")
        }
        Some(accounts) => {
            // Every account's failures before any waiver: under the cap,
            // what needs action is what stays.
            for account in &accounts {
                let mut heading = account_heading(account);
                let groups = category_groups(report, &account.results, "###");
                omitted += checklist(&mut out, &mut heading, groups);
                let errors = could_not_be_read(account.collection_errors.iter().copied(), "###");
                heading.push_str(&errors);
                if !heading.is_empty() && !out.push(&heading) {
                    omitted += 1;
                }
            }
            let waived_by_account = accounts
                .iter()
                .map(|a| {
                    (
                        format!("\n### {}\n\n", markdown(&a.label)),
                        waived_unsorted(&a.results),
                    )
                })
                .collect();
            omitted += checklist(
                &mut out,
                &mut "\n## Waived\n".to_string(),
                waived_by_account,
            );
            // Listed under each account.
            String::new()
        }
    };

    let passes = passing_counts(report);
    if !passes.is_empty() && !out.push(&passes) {
        omitted += report.summary.pass;
    }

    for section in [errors, not_evaluated(report), unused_waivers(report)] {
        if !section.is_empty() && !out.push(&section) {
            omitted += 1;
        }
    }
    if omitted > 0 {
        out.push_always(&format!(
            "\n---\n\n**Cut to {} characters: {omitted} more item{} not shown.** \
             The JSON and JUnit reports (the workflow's report artifact) hold every result.\n",
            out.max,
            if omitted == 1 { "" } else { "s" },
        ));
    }
    out.text
}

/// Text that grows only while it stays within its cap (in characters).
struct Budget {
    text: String,
    chars: usize,
    max: usize,
    /// Set when a checklist item did not fit: no later item is tried.
    items_closed: bool,
}

impl Budget {
    fn new(max: usize) -> Budget {
        Budget {
            text: String::new(),
            chars: 0,
            max,
            items_closed: false,
        }
    }

    /// Appends `part` when it fits, keeping room for the truncation line.
    fn push(&mut self, part: &str) -> bool {
        let n = part.chars().count();
        if self.chars + n + TRUNCATION_ROOM > self.max {
            return false;
        }
        self.push_always(part);
        true
    }

    /// More items than can still fit, however short: the rest need not be
    /// written, nor even sorted.
    fn most_items(&self) -> usize {
        if self.items_closed {
            return 0;
        }
        let room = self.max.saturating_sub(self.chars + TRUNCATION_ROOM);
        room / MIN_ITEM_CHARS + 1
    }

    fn push_always(&mut self, part: &str) {
        self.chars += part.chars().count();
        self.text.push_str(part);
    }
}

/// Fewer characters than any checklist item takes (`- [ ] **…** (low, …): …`).
const MIN_ITEM_CHARS: usize = 16;

/// Items under headings, each heading going out with the first of its items
/// that fits, and `pending` (an account's heading) before the first item
/// that fits at all; `pending` is left as it was when none did. Returns
/// how many items did not fit.
///
/// The first item that does not fit closes the budget to items: this one's
/// and every later checklist's are only counted. The cut is then at one
/// point of the order (what needs action first stays), and the hundreds of
/// thousands of items of a large audit are not written out to be thrown
/// away.
fn checklist(
    out: &mut Budget,
    pending: &mut String,
    groups: Vec<(String, Vec<&Finding>)>,
) -> usize {
    let mut omitted = 0;
    for (heading, mut findings) in groups {
        // Only the head of the order can fit: it alone is sorted.
        let fit = out.most_items().min(findings.len());
        omitted += findings.len() - fit;
        if fit < findings.len() {
            findings.select_nth_unstable_by(fit, |a, b| a.action_order(b));
            findings.truncate(fit);
        }
        findings.sort_by(|a, b| a.action_order(b));
        let mut first = true;
        for finding in &findings {
            if out.items_closed {
                omitted += 1;
                continue;
            }
            let mut text = pending.clone();
            if first {
                text.push_str(&heading);
            }
            item(&mut text, finding);
            if out.push(&text) {
                first = false;
                pending.clear();
            } else {
                out.items_closed = true;
                omitted += 1;
            }
        }
    }
    omitted
}

/// [`failing_by_category`] under Markdown headings of `level`.
fn category_groups<'a>(
    report: &'a Report,
    results: &[&'a Finding],
    level: &str,
) -> Vec<(String, Vec<&'a Finding>)> {
    failing_unsorted(report, results)
        .into_iter()
        .map(|(category, findings)| {
            let heading = format!("\n{level} {}\n\n", markdown(category_heading(category)));
            (heading, findings)
        })
        .collect()
}

/// An account's heading: its name, its counts, and prominently, why it
/// could not be read.
fn account_heading(account: &AccountGroup<'_>) -> String {
    let mut out = format!(
        "\n## Account {}\n\n{}.\n",
        markdown(&account.label),
        account.counts_line()
    );
    if let Some(error) = account.error {
        writeln!(
            out,
            "\n**Not read: {}.** Every rule reports error for this account.",
            markdown(error)
        )
        .unwrap();
    }
    out
}

/// The checklist's groups: each gap category with failing (fail or error)
/// results among `results`, in report order, what needs action first
/// within each.
pub(super) fn failing_by_category<'a>(
    report: &'a Report,
    results: &[&'a Finding],
) -> Vec<(&'a str, Vec<&'a Finding>)> {
    let mut groups = failing_unsorted(report, results);
    for (_, findings) in &mut groups {
        findings.sort_by(|a, b| a.action_order(b));
    }
    groups
}

/// [`failing_by_category`] before each group is sorted.
fn failing_unsorted<'a>(
    report: &'a Report,
    results: &[&'a Finding],
) -> Vec<(&'a str, Vec<&'a Finding>)> {
    let categories = report.summary.categories_in_order();
    let mut groups: Vec<(&str, Vec<&Finding>)> =
        categories.iter().map(|(c, _)| (*c, Vec::new())).collect();
    // One pass: a large audit has hundreds of thousands of results.
    for &finding in results.iter().filter(|f| f.status.is_failing()) {
        if let Some((_, findings)) = groups.iter_mut().find(|(c, _)| *c == &*finding.category) {
            findings.push(finding);
        }
    }
    groups.retain(|(_, findings)| !findings.is_empty());
    groups
}

/// The waived results among `results`, worst first.
pub(super) fn waived<'a>(results: &[&'a Finding]) -> Vec<&'a Finding> {
    let mut waived = waived_unsorted(results);
    waived.sort_by(|a, b| a.action_order(b));
    waived
}

fn waived_unsorted<'a>(results: &[&'a Finding]) -> Vec<&'a Finding> {
    results
        .iter()
        .copied()
        .filter(|f| f.status == Status::Waived)
        .collect()
}

/// Passing results as (rule, title, count), by rule id: a pass needs no
/// action, and one line each would crowd out the failures.
pub(super) fn passes_by_rule(report: &Report) -> Vec<(&str, &str, usize)> {
    let mut by_rule: Vec<(&str, &str, usize)> = Vec::new();
    for f in report.results.iter().filter(|f| f.status == Status::Pass) {
        match by_rule.iter_mut().find(|(rule, _, _)| *rule == f.rule) {
            Some((_, _, n)) => *n += 1,
            None => by_rule.push((&f.rule, &f.title, 1)),
        }
    }
    by_rule.sort();
    by_rule
}

/// Passing results as one count per rule, in a collapsed block.
fn passing_counts(report: &Report) -> String {
    let by_rule = passes_by_rule(report);
    if by_rule.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    // `<details>` is the one piece of HTML here, and holds no user text
    // of its own: the table inside is Markdown, escaped as everywhere.
    writeln!(
        out,
        "\n<details><summary>{} passing in {} rule{}</summary>\n\n| Rule | Checks | Passing |\n|------|--------|--------:|",
        plural(report.summary.pass, "result", "results"),
        by_rule.len(),
        if by_rule.len() == 1 { "" } else { "s" },
    )
    .unwrap();
    for (rule, title, n) in by_rule {
        writeln!(
            out,
            "| {} | {} | {n} |",
            markdown_code(rule),
            markdown(title)
        )
        .unwrap();
    }
    out.push_str("\n</details>\n");
    out
}

/// The calls that failed, under a heading of `level`.
fn could_not_be_read<'a>(
    errors: impl IntoIterator<Item = &'a CollectionError>,
    level: &str,
) -> String {
    let mut out = String::new();
    let mut errors = errors.into_iter().peekable();
    if errors.peek().is_none() {
        return out;
    }
    writeln!(out, "\n{level} Could not be read\n").unwrap();
    out.push_str("The rules that needed these calls report error.\n\n");
    for e in errors {
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
    out
}

fn not_evaluated(report: &Report) -> String {
    let mut out = String::new();
    if report.not_evaluated.is_empty() {
        return out;
    }
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
    out
}

fn unused_waivers(report: &Report) -> String {
    let mut out = String::new();
    if report.unused_waivers.is_empty() {
        return out;
    }
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

    writeln!(out, "Audited {}.", super::audited(report, markdown)).unwrap();
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
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
                out.push_str("  - Fix:\n\n");
                out.push_str(&fenced(&finding.remediation, "    "));
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
