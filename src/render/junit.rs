//! The JUnit XML report, for CI test-report viewers: one test suite per
//! rule, one test case per evaluated resource.
//!
//! Every text goes through [`one_line`] or [`multi_line`], which drop
//! control characters and escape sequences (XML 1.0 forbids most controls)
//! and flatten line breaks in attribute values (an XML parser would turn
//! them into spaces anyway), so that what a viewer shows is what we wrote;
//! then the markup characters are escaped.

use std::collections::BTreeMap;
use std::io;

use super::escape::{multi_line, one_line};
use super::resource_label;
use crate::report::{Finding, Report, Status};
use crate::rules::Rule;

/// The `time` of every case, suite and report. Judging one resource takes
/// microseconds and is not timed, so every case takes 0 s and so does every
/// suite and the whole report (the sums). Viewers show 0 ms where a missing
/// `time` shows as NaN.
const NOT_TIMED: &str = "0.000";

/// `rules` (the audit's compiled rules, possibly none) give each case the
/// file and line to annotate: see [`super::anchor`].
pub fn render(report: &Report, rules: &[Rule]) -> String {
    let mut xml = Vec::new();
    write(report, rules, &mut xml).expect("writing to memory cannot fail");
    String::from_utf8(xml).expect("the report is UTF-8")
}

/// The report as [`render`] gives it, written as it goes: the tree of a
/// 100,000-resource audit, and its text, would take hundreds of megabytes.
/// The layout is quick-junit's (the format CI viewers were tested with):
/// four spaces a level, a status's text inline.
pub fn write(report: &Report, rules: &[Rule], out: &mut impl io::Write) -> io::Result<()> {
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    let [mut failures, mut errors, mut skipped] = [0usize; 3];
    for finding in &report.results {
        by_rule.entry(&finding.rule).or_default().push(finding);
        match finding.status {
            Status::Pass => {}
            Status::Fail => failures += 1,
            Status::Error => errors += 1,
            Status::Waived => skipped += 1,
        }
    }
    let ts = &report.generated_at;
    let timestamp = format!(
        "{}.{:03}+00:00",
        ts.strftime("%Y-%m-%dT%H:%M:%S"),
        ts.subsec_millisecond()
    );
    out.write_all(br#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    let tests = report.results.len().to_string();
    let counts = [failures, errors, skipped].map(|n| n.to_string());
    let [failures, errors, skipped] = counts.each_ref().map(String::as_str);
    open(
        out,
        0,
        "testsuites",
        &[
            ("name", "backstop"),
            ("tests", &tests),
            ("skipped", skipped),
            ("failures", failures),
            ("errors", errors),
            ("timestamp", &timestamp),
            ("time", NOT_TIMED),
        ],
        false,
    )?;
    for (rule, findings) in by_rule {
        suite(out, rule, &findings, rules, &timestamp)?;
    }
    out.write_all(b"\n</testsuites>\n")
}

fn suite(
    out: &mut impl io::Write,
    rule: &str,
    findings: &[&Finding],
    rules: &[Rule],
    timestamp: &str,
) -> io::Result<()> {
    let count = |status: Status| {
        findings
            .iter()
            .filter(|f| f.status == status)
            .count()
            .to_string()
    };
    let first = findings[0];
    open(
        out,
        1,
        "testsuite",
        &[
            ("name", &one_line(rule)),
            ("tests", &findings.len().to_string()),
            ("skipped", &count(Status::Waived)),
            ("errors", &count(Status::Error)),
            ("failures", &count(Status::Fail)),
            ("timestamp", timestamp),
            ("time", NOT_TIMED),
        ],
        false,
    )?;
    open(out, 2, "properties", &[], false)?;
    for (name, value) in [
        ("title", one_line(&first.title)),
        ("severity", first.severity.as_str().to_string()),
        ("category", one_line(&first.category)),
    ] {
        open(
            out,
            3,
            "property",
            &[("name", name), ("value", &value)],
            true,
        )?;
    }
    close(out, 2, "properties")?;
    let rule = rules.iter().find(|r| r.id() == rule);
    for finding in findings {
        test_case(out, finding, rule)?;
    }
    close(out, 1, "testsuite")
}

fn test_case(out: &mut impl io::Write, finding: &Finding, rule: Option<&Rule>) -> io::Result<()> {
    let name = one_line(&resource_label(finding));
    let classname = one_line(&finding.rule);
    // Test-report actions annotate this file and line; without them they
    // guess a path from the class name.
    let anchor = super::anchor(finding, rule);
    let file = anchor.map(|(file, _)| one_line(file));
    let line = anchor
        .map(|(_, line)| line)
        .filter(|line| *line >= 1)
        .map(|line| line.to_string());
    let mut attributes = vec![
        ("name", name.as_str()),
        ("classname", classname.as_str()),
        ("time", NOT_TIMED),
    ];
    attributes.extend(file.as_deref().map(|file| ("file", file)));
    attributes.extend(line.as_deref().map(|line| ("line", line)));

    let (tag, message, kind, text) = match finding.status {
        Status::Pass => return open(out, 2, "testcase", &attributes, true),
        Status::Fail => (
            "failure",
            one_line(&finding.message),
            Some(finding.severity.as_str()),
            failure_text(finding),
        ),
        Status::Error => (
            "error",
            one_line(&finding.message),
            Some("error"),
            failure_text(finding),
        ),
        Status::Waived => (
            "skipped",
            one_line(&waived_message(finding)),
            None,
            Some(multi_line(&finding.message)),
        ),
    };
    open(out, 2, "testcase", &attributes, false)?;
    let mut status = vec![("message", message.as_str())];
    status.extend(kind.map(|kind| ("type", kind)));
    match text {
        Some(text) => {
            open(out, 3, tag, &status, false)?;
            escaped(out, &text)?;
            out.write_all(b"</")?;
            out.write_all(tag.as_bytes())?;
            out.write_all(b">")?;
        }
        None => open(out, 3, tag, &status, true)?,
    }
    close(out, 2, "testcase")
}

/// A start tag (or an empty element) on a line of its own, `depth` levels
/// in.
fn open(
    out: &mut impl io::Write,
    depth: usize,
    tag: &str,
    attributes: &[(&str, &str)],
    empty: bool,
) -> io::Result<()> {
    out.write_all(b"\n")?;
    indent(out, depth)?;
    write!(out, "<{tag}")?;
    for (name, value) in attributes {
        write!(out, " {name}=\"")?;
        escaped(out, value)?;
        out.write_all(b"\"")?;
    }
    out.write_all(if empty { b"/>" } else { b">" })
}

fn close(out: &mut impl io::Write, depth: usize, tag: &str) -> io::Result<()> {
    out.write_all(b"\n")?;
    indent(out, depth)?;
    write!(out, "</{tag}>")
}

fn indent(out: &mut impl io::Write, depth: usize) -> io::Result<()> {
    for _ in 0..depth {
        out.write_all(b"    ")?;
    }
    Ok(())
}

/// Text or an attribute value with the five markup characters escaped, so
/// a hostile name cannot close its attribute or open an element.
fn escaped(out: &mut impl io::Write, text: &str) -> io::Result<()> {
    let mut rest = text;
    while let Some(at) = rest.find(['<', '>', '&', '\'', '"']) {
        out.write_all(&rest.as_bytes()[..at])?;
        out.write_all(match rest.as_bytes()[at] {
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'&' => b"&amp;",
            b'\'' => b"&apos;",
            _ => b"&quot;",
        })?;
        rest = &rest[at + 1..];
    }
    out.write_all(rest.as_bytes())
}

/// The remediation, and the waiver that no longer covers the finding.
fn failure_text(finding: &Finding) -> Option<String> {
    let mut lines = Vec::new();
    if !finding.remediation.is_empty() {
        lines.push(multi_line(&finding.remediation));
    }
    if let Some(waiver) = finding.waiver.as_ref().filter(|w| w.expired) {
        lines.push(one_line(&waiver.describe()));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn waived_message(finding: &Finding) -> String {
    match &finding.waiver {
        Some(waiver) => match waiver.expires {
            Some(date) => format!("waived: {}, expires {date}", waiver.reason),
            None => format!("waived: {}", waiver.reason),
        },
        None => "waived".to_string(),
    }
}
