//! The JUnit XML report, for CI test-report viewers: one test suite per
//! rule, one test case per evaluated resource.
//!
//! quick-junit escapes markup characters and drops C0 controls; we also
//! flatten line breaks in attribute values (an XML parser would turn them
//! into spaces anyway) so that what a viewer shows is what we wrote.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::escape::{multi_line, one_line};
use super::resource_label;
use crate::report::{Finding, Report, Status};
use crate::rules::Rule;

/// The `time` of every case, suite and report: see [`render`].
const NOT_TIMED: Duration = Duration::ZERO;

/// `rules` (the audit's compiled rules, possibly none) give each case the
/// file and line to annotate: see [`super::anchor`].
pub fn render(report: &Report, rules: &[Rule]) -> String {
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in &report.results {
        by_rule.entry(&finding.rule).or_default().push(finding);
    }

    let mut junit = quick_junit::Report::new("backstop");
    // Judging one resource takes microseconds and is not timed, so every
    // case takes 0 s and so does every suite and the whole report (the sums).
    // Viewers show 0 ms where a missing `time` shows as NaN.
    junit.set_time(NOT_TIMED);
    // chrono is quick-junit's time type, not ours: going through RFC 3339
    // text (the field's type drives the parse) saves a direct dependency.
    let timestamp = report.generated_at.to_string().parse().ok();
    junit.timestamp = timestamp;
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
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .expect("writing XML to memory cannot fail")
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
