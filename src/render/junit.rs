//! The JUnit XML report, for CI test-report viewers: one test suite per
//! rule, one test case per evaluated resource.
//!
//! Every text goes through [`one_line`] or [`multi_line`], which drop
//! control characters and escape sequences (XML 1.0 forbids most controls)
//! and flatten line breaks in attribute values (an XML parser would turn
//! them into spaces anyway), so that what a viewer shows is what we wrote.
//! quick-xml then escapes the markup characters and lays the document out.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

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
/// The layout is the one CI viewers were tested with (quick-junit's, whose
/// tree we no longer build): four spaces a level, a status's text inline.
pub fn write(report: &Report, rules: &[Rule], out: impl io::Write) -> io::Result<()> {
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in &report.results {
        by_rule.entry(&finding.rule).or_default().push(finding);
    }
    let timestamp = timestamp(report);
    let mut xml = Writer::new_with_indent(out, b' ', 4);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let counts = Counts::of(report.results.iter());
    let tests = report.results.len().to_string();
    let [skipped, failures, errors] = [counts.skipped, counts.failures, counts.errors];
    let mut start = BytesStart::new("testsuites");
    start.extend_attributes([
        ("name", "backstop"),
        ("tests", &tests),
        ("skipped", &skipped.to_string()),
        ("failures", &failures.to_string()),
        ("errors", &errors.to_string()),
        ("timestamp", &timestamp),
        ("time", NOT_TIMED),
    ]);
    xml.write_event(Event::Start(start))?;
    for (rule, findings) in by_rule {
        let rule_def = rules.iter().find(|r| r.id() == rule);
        suite(&mut xml, rule, &findings, rule_def, &timestamp)?;
    }
    xml.write_event(Event::End(BytesEnd::new("testsuites")))?;
    // A closing newline, as every text file has.
    xml.write_indent()
}

/// quick-junit's form of the report's time: RFC 3339 with milliseconds and
/// an explicit UTC offset.
fn timestamp(report: &Report) -> String {
    let at = &report.generated_at;
    format!(
        "{}.{:03}+00:00",
        at.strftime("%Y-%m-%dT%H:%M:%S"),
        at.subsec_millisecond()
    )
}

#[derive(Default)]
struct Counts {
    skipped: usize,
    failures: usize,
    errors: usize,
}

impl Counts {
    fn of<'a>(findings: impl Iterator<Item = &'a Finding>) -> Counts {
        let mut counts = Counts::default();
        for finding in findings {
            match finding.status {
                Status::Pass => {}
                Status::Fail => counts.failures += 1,
                Status::Error => counts.errors += 1,
                Status::Waived => counts.skipped += 1,
            }
        }
        counts
    }
}

fn suite<W: io::Write>(
    xml: &mut Writer<W>,
    rule: &str,
    findings: &[&Finding],
    rule_def: Option<&Rule>,
    timestamp: &str,
) -> io::Result<()> {
    let counts = Counts::of(findings.iter().copied());
    let name = one_line(rule);
    let mut start = BytesStart::new("testsuite");
    start.extend_attributes([
        ("name", &*name),
        ("tests", &findings.len().to_string()),
        ("skipped", &counts.skipped.to_string()),
        ("errors", &counts.errors.to_string()),
        ("failures", &counts.failures.to_string()),
        ("timestamp", timestamp),
        ("time", NOT_TIMED),
    ]);
    xml.write_event(Event::Start(start))?;
    let first = findings[0];
    xml.write_event(Event::Start(BytesStart::new("properties")))?;
    for (property, value) in [
        ("title", one_line(&first.title)),
        ("severity", Cow::Borrowed(first.severity.as_str())),
        ("category", one_line(&first.category)),
    ] {
        xml.create_element("property")
            .with_attributes([("name", property), ("value", &value)])
            .write_empty()?;
    }
    xml.write_event(Event::End(BytesEnd::new("properties")))?;
    for finding in findings {
        test_case(xml, finding, &name, rule_def)?;
    }
    xml.write_event(Event::End(BytesEnd::new("testsuite")))
}

fn test_case<W: io::Write>(
    xml: &mut Writer<W>,
    finding: &Finding,
    classname: &str,
    rule: Option<&Rule>,
) -> io::Result<()> {
    let label = resource_label(finding);
    let mut start = BytesStart::new("testcase");
    start.extend_attributes([
        ("name", &*one_line(&label)),
        ("classname", classname),
        ("time", NOT_TIMED),
    ]);
    // Test-report actions annotate this file and line; without them they
    // guess a path from the class name.
    if let Some((file, line)) = super::anchor(finding, rule) {
        start.push_attribute(("file", &*one_line(file)));
        if line >= 1 {
            start.push_attribute(("line", line.to_string().as_str()));
        }
    }
    let (tag, message, kind, text) = match finding.status {
        Status::Pass => return xml.write_event(Event::Empty(start)),
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
            Cow::Owned(one_line(&waived_message(finding)).into_owned()),
            None,
            Some(multi_line(&finding.message).into_owned()),
        ),
    };
    xml.write_event(Event::Start(start))?;
    let mut status = xml
        .create_element(tag)
        .with_attribute(("message", &*message));
    if let Some(kind) = kind {
        status = status.with_attribute(("type", kind));
    }
    match text {
        Some(text) => status.write_text_content(BytesText::new(&text))?,
        None => status.write_empty()?,
    };
    xml.write_event(Event::End(BytesEnd::new("testcase")))
}

/// The remediation, and the waiver that no longer covers the finding.
fn failure_text(finding: &Finding) -> Option<String> {
    let mut lines = Vec::new();
    if !finding.remediation.is_empty() {
        lines.push(multi_line(&finding.remediation));
    }
    let expired = finding.waiver.as_ref().filter(|w| w.expired);
    if let Some(waiver) = expired {
        lines.push(Cow::Owned(one_line(&waiver.describe()).into_owned()));
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
