//! The JUnit XML report, for CI test-report viewers: one test suite per
//! rule, one test case per evaluated resource.
//!
//! quick-junit escapes markup characters and drops C0 controls; we also
//! flatten line breaks in attribute values (an XML parser would turn them
//! into spaces anyway) so that what a viewer shows is what we wrote.

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::escape::{multi_line, one_line};
use super::resource_label;
use crate::report::{Finding, Report, Status};
use crate::rules::Rule;

/// The `time` of every case, suite and report: see [`write`].
const NOT_TIMED: Duration = Duration::ZERO;

/// The end of the document, after the last suite.
const CLOSING: &[u8] = b"\n</testsuites>\n";

/// `rules` (the audit's compiled rules, possibly none) give each case the
/// file and line to annotate: see [`super::anchor`].
pub fn render(report: &Report, rules: &[Rule]) -> String {
    let mut xml = Vec::new();
    write(report, rules, &mut xml).expect("writing to memory cannot fail");
    String::from_utf8(xml).expect("quick-junit writes UTF-8")
}

/// The report as [`render`] gives it, written one suite at a time: the
/// whole tree of a 100,000-resource audit, and its text, would take
/// hundreds of megabytes. quick-junit serializes only whole reports, so
/// each suite is serialized as a report of its own and cut out of it: at
/// the same depth, its bytes are those of the whole report's suite.
pub fn write(report: &Report, rules: &[Rule], out: &mut impl io::Write) -> io::Result<()> {
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in &report.results {
        by_rule.entry(&finding.rule).or_default().push(finding);
    }
    // chrono is quick-junit's time type, not ours: going through RFC 3339
    // text (the field's type drives the parse) saves a direct dependency.
    let timestamp = report.generated_at.to_string().parse().ok();
    let new_report = || {
        let mut junit = quick_junit::Report::new("backstop");
        // Judging one resource takes microseconds and is not timed, so every
        // case takes 0 s and so does every suite and the whole report (the
        // sums). Viewers show 0 ms where a missing `time` shows as NaN.
        junit.set_time(NOT_TIMED);
        junit.timestamp = timestamp;
        junit
    };

    // The totals quick-junit would sum over the suites, counted here as it
    // counts them, since the suites are not all there at once.
    let mut totals = new_report();
    for finding in &report.results {
        totals.tests += 1;
        match finding.status {
            Status::Pass => {}
            Status::Fail => totals.failures += 1,
            Status::Error => totals.errors += 1,
            Status::Waived => totals.skipped += 1,
        }
    }
    let mut xml = serialized(&totals);
    let head = xml
        .strip_suffix(CLOSING)
        .expect("an empty report ends with its closing tag");
    out.write_all(head)?;

    for (rule, findings) in by_rule {
        let mut suite = TestSuite::new(one_line(rule));
        suite.timestamp = timestamp;
        suite.set_time(NOT_TIMED);
        let first = findings[0];
        suite.add_properties([
            Property::new("title", one_line(&first.title)),
            Property::new("severity", first.severity.as_str()),
            Property::new("category", one_line(&first.category)),
        ]);
        let rule = rules.iter().find(|r| r.id() == rule);
        suite.add_test_cases(findings.into_iter().map(|f| test_case(f, rule)));
        let mut alone = new_report();
        alone.add_test_suite(suite);
        xml = serialized(&alone);
        out.write_all(suite_of(&xml))?;
    }
    out.write_all(CLOSING)
}

fn serialized(junit: &quick_junit::Report) -> Vec<u8> {
    let mut xml = Vec::new();
    junit
        .serialize(&mut xml)
        .expect("writing XML to memory cannot fail");
    xml
}

/// The suite of a one-suite report: what lies between the `<testsuites>`
/// start tag (attribute values escape `>`, so its first `>` ends it) and
/// the closing tag.
fn suite_of(xml: &[u8]) -> &[u8] {
    let start = xml
        .windows(b"<testsuites".len())
        .position(|w| w == b"<testsuites")
        .expect("a report opens <testsuites>");
    let end_of_tag = start
        + xml[start..]
            .iter()
            .position(|&b| b == b'>')
            .expect("the start tag ends");
    xml[end_of_tag + 1..]
        .strip_suffix(CLOSING)
        .expect("a report ends with its closing tag")
}

fn test_case(finding: &Finding, rule: Option<&Rule>) -> TestCase {
    let mut status = match finding.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Fail => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_type(finding.severity.as_str());
            status
        }
        Status::Error => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_type("error");
            status
        }
        Status::Waived => TestCaseStatus::skipped(),
    };
    match finding.status {
        Status::Pass => {}
        Status::Fail | Status::Error => {
            status.set_message(one_line(&finding.message));
            if let Some(text) = failure_text(finding) {
                status.set_description(text);
            }
        }
        Status::Waived => {
            status.set_message(one_line(&waived_message(finding)));
            status.set_description(multi_line(&finding.message));
        }
    }
    let mut case = TestCase::new(one_line(&resource_label(finding)), status);
    case.set_time(NOT_TIMED);
    case.set_classname(one_line(&finding.rule));
    // Test-report actions annotate this file and line; without them they
    // guess a path from the class name.
    if let Some((file, line)) = super::anchor(finding, rule) {
        case.extra.insert("file".into(), one_line(file).into());
        if line >= 1 {
            case.extra.insert("line".into(), line.to_string().into());
        }
    }
    case
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
