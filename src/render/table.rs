//! The terminal report: what needs action, then counts per category, then
//! what could not be read.
//!
//! Every cell goes through [`one_line`]: resource names and messages come
//! from the audited account and must not be able to drive the terminal.

use std::fmt::Write as _;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, Width};

use super::accounts::by_account;
use super::escape::one_line;
use crate::model::CollectionError;
use crate::report::{Finding, Report, Status, category_heading};

#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    /// Also list waived and passing results.
    pub verbose: bool,
    /// Colour the statuses with ANSI escapes (`--color`).
    pub color: bool,
    /// The terminal's width in columns: long cells wrap inside their
    /// column so each table fits it. `None` (not a terminal): no limit,
    /// one line per row.
    pub width: Option<u16>,
}

/// The most results a table lists, the worst first. Hundreds of thousands
/// of rows (a large account's passes with `--verbose`) are read by no one
/// and take longer to lay out than the audit takes; a line says how many
/// were left out and which reports list every result. In a report of
/// several accounts the cap applies to each account's table.
pub const MAX_ROWS: usize = 1_000;

/// The width of the terminal on stdout; `None` when stdout is none.
pub fn terminal_width() -> Option<u16> {
    Table::new().width()
}

pub fn render(report: &Report, options: &TableOptions) -> String {
    let mut out = String::new();
    match by_account(report) {
        None => {
            findings_table(&mut out, report.results.iter().collect(), options);
            counts_table(&mut out, report, options);
            errors_table(&mut out, &report.collection_errors, options);
        }
        Some(groups) => {
            for group in groups {
                writeln!(
                    out,
                    "Account {}: {}",
                    one_line(&group.label),
                    group.counts_line()
                )
                .unwrap();
                if let Some(error) = group.error {
                    writeln!(
                        out,
                        "NOT READ: {} (every rule reports error for this account)",
                        one_line(error)
                    )
                    .unwrap();
                }
                findings_table(&mut out, group.results, options);
                errors_table(&mut out, group.collection_errors, options);
                out.push('\n');
            }
            counts_table(&mut out, report, options);
        }
    }
    if !report.not_evaluated.is_empty() {
        let rules: Vec<String> = report
            .not_evaluated
            .iter()
            .map(|n| one_line(&n.rule).into_owned())
            .collect();
        writeln!(
            out,
            "Not evaluated on the plan's resources (they read facts only a live account has): {}",
            rules.join(", ")
        )
        .unwrap();
    }
    for w in &report.unused_waivers {
        writeln!(
            out,
            "Unused waiver ({}): rule {} resource {} matched no failing result",
            one_line(&w.location),
            one_line(&w.rule),
            one_line(&w.resource)
        )
        .unwrap();
    }
    out
}

/// The failing results (all with `--verbose`), what needs action first.
fn findings_table(out: &mut String, mut shown: Vec<&Finding>, options: &TableOptions) {
    shown.retain(|f| options.verbose || f.status.is_failing());
    shown.sort_by(|a, b| a.action_order(b));
    let left_out = shown.len().saturating_sub(MAX_ROWS);
    shown.truncate(MAX_ROWS);
    if shown.is_empty() {
        out.push_str(if options.verbose {
            "No results.\n"
        } else {
            "No failing or erroring results.\n"
        });
        return;
    }
    let mut table = new_table(
        options,
        ["Status", "Rule", "Severity", "Resource", "Message"],
    );
    room_for_messages(&mut table, options);
    // Rule ids are copied into `backstop explain`: kept whole (with
    // the cell's padding) while they take at most 30% of the width.
    let longest_rule = shown.iter().map(|f| f.rule.chars().count() + 2).max();
    if let (Some(width), Some(longest), Some(rule)) =
        (options.width, longest_rule, table.column_mut(1))
    {
        let whole = u16::try_from(longest)
            .unwrap_or(u16::MAX)
            .min(width * 3 / 10);
        rule.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(whole)));
    }
    for finding in shown {
        table.add_row(vec![
            status_cell(finding.status, options),
            Cell::new(one_line(&finding.rule)),
            Cell::new(finding.severity),
            Cell::new(one_line(&resource_label(finding))),
            Cell::new(one_line(&message(finding))),
        ]);
    }
    writeln!(out, "{table}").unwrap();
    if left_out > 0 {
        writeln!(
            out,
            "… and {left_out} more result{} not shown here: the JSON, JUnit, SARIF and CSV \
             reports (--format json, --junit, --sarif, --csv) list every result",
            if left_out == 1 { "" } else { "s" }
        )
        .unwrap();
    }
}

/// The counts per category, and the totals.
fn counts_table(out: &mut String, report: &Report, options: &TableOptions) {
    let mut counts = new_table(options, ["Category", "Pass", "Fail", "Error", "Waived"]);
    for (category, c) in report.summary.categories_in_order() {
        counts.add_row(vec![
            Cell::new(one_line(category_heading(category))),
            number(c.pass),
            number(c.fail),
            number(c.error),
            number(c.waived),
        ]);
    }
    let summary = &report.summary;
    let total = summary.pass + summary.fail + summary.error + summary.waived;
    writeln!(
        out,
        "\n{counts}\nTotal: {} fail, {} error, {} waived, {} pass ({total} results)",
        summary.fail, summary.error, summary.waived, summary.pass,
    )
    .unwrap();
}

/// The calls that failed, and what that means for the results.
fn errors_table<'a>(
    out: &mut String,
    collection_errors: impl IntoIterator<Item = &'a CollectionError>,
    options: &TableOptions,
) {
    let mut errors = new_table(
        options,
        ["Service", "Region", "Operation", "Code", "Message"],
    );
    room_for_messages(&mut errors, options);
    let mut n = 0;
    for e in collection_errors {
        errors.add_row(
            [&e.service, &e.region, &e.operation, &e.code, &e.message].map(|s| one_line(s)),
        );
        n += 1;
    }
    if n == 0 {
        return;
    }
    let calls = if n == 1 { "call" } else { "calls" };
    writeln!(
        out,
        "\nCould not be read ({n} {calls} failed; the rules that needed them report error):\n{errors}"
    )
    .unwrap();
}

fn new_table(options: &TableOptions, header: [&str; 5]) -> Table {
    let mut table = Table::new();
    // The caller knows whether stdout is a terminal; comfy-table must not
    // look for itself, or the output would depend on where tests run.
    if options.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.load_style(UTF8_FULL_CONDENSED).set_header(header);
    match options.width {
        Some(width) => table
            .set_width(width)
            .set_content_arrangement(ContentArrangement::Dynamic),
        None => table.set_content_arrangement(ContentArrangement::Disabled),
    };
    table
}

/// In a fitted table, the last column (the message, the longest text)
/// keeps at least a third of the width; shared out evenly, it would wrap
/// every few words.
fn room_for_messages(table: &mut Table, options: &TableOptions) {
    if options.width.is_none() {
        return;
    }
    if let Some(message) = table.column_mut(4) {
        message.set_constraint(ColumnConstraint::LowerBoundary(Width::Percentage(33)));
    }
}

fn status_cell(status: Status, options: &TableOptions) -> Cell {
    let cell = Cell::new(status);
    if !options.color {
        return cell;
    }
    cell.fg(match status {
        Status::Fail => Color::Red,
        Status::Error => Color::Magenta,
        Status::Waived => Color::Yellow,
        Status::Pass => Color::Green,
    })
}

fn number(n: usize) -> Cell {
    Cell::new(n).set_alignment(CellAlignment::Right)
}

/// `id (region)`; a failed listing stands for every resource of its type.
fn resource_label(finding: &Finding) -> String {
    let resource = &finding.resource;
    let what = if finding.covers_whole_listing() {
        format!("all {}", resource.resource_type)
    } else {
        resource.id.clone()
    };
    let placed = if resource.region.is_empty() {
        what
    } else {
        format!("{what} ({})", resource.region)
    };
    match &finding.location {
        Some(at) => format!("{placed} {}:{}", at.file, at.line),
        None => placed,
    }
}

/// The finding's message, with the waiver that explains a waived status or
/// no longer covers a failure.
fn message(finding: &Finding) -> String {
    match &finding.waiver {
        Some(waiver) => format!("{}; {}", finding.message, waiver.describe()),
        None => finding.message.to_string(),
    }
}
