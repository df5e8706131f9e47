//! The SARIF 2.1.0 log, for GitHub code scanning and other SARIF viewers:
//! one run, one `reportingDescriptor` per rule that has results, and one
//! result per failing, erroring or waived finding (passes are not alerts).
//!
//! Each result is anchored where a reader can act on it: the `.tf` block of
//! a plan's resource, else the waiver in `backstop.yaml` of a waived one,
//! else the rule's own file. Its `partialFingerprints` hash what identifies
//! the finding across runs (the rule and the resource, [`FindingKey`]), so
//! an alert keeps its identity while its message and status change.
//!
//! All text from the account and from rule files goes through the escaping
//! helpers: messages on one line with no embedded links, help Markdown
//! escaped, commands in fenced blocks.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::escape::{fenced, markdown, multi_line, one_line, sarif_text, uri};
use super::resource_label;
use crate::report::{Finding, FindingKey, Report, Severity, Status};
use crate::rules::Rule;

/// The schema URL GitHub's documentation and most producers name.
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The `partialFingerprints` key: a new way of computing the fingerprint
/// gets a new version, so that old and new alerts are not mismatched.
const FINGERPRINT_KEY: &str = "backstopFinding/v1";

/// Renders `report`; `rules` (the engine's) give each rule its help text
/// and its file.
pub fn render(report: &Report, rules: &[Rule]) -> String {
    let mut text = Vec::new();
    write(report, rules, &mut text).expect("writing to memory cannot fail");
    String::from_utf8(text).expect("JSON is UTF-8")
}

/// The log as [`render`] gives it, written as it goes: each result is built
/// and written in turn, never all of a large audit's at once.
pub fn write(report: &Report, rules: &[Rule], mut out: impl std::io::Write) -> std::io::Result<()> {
    let rules_by_id: HashMap<&str, &Rule> = rules.iter().map(|r| (r.id(), r)).collect();
    let mut descriptors = Vec::new();
    let mut rule_index: HashMap<&str, usize> = HashMap::new();
    let mut alerts = Vec::new();
    for finding in report.results.iter().filter(|f| f.status != Status::Pass) {
        let rule = rules_by_id.get(finding.rule.as_str()).copied();
        let index = *rule_index.entry(&finding.rule).or_insert_with(|| {
            descriptors.push(descriptor(finding, rule));
            descriptors.len() - 1
        });
        alerts.push((finding, index, rule));
    }

    let mut driver = json!({
        "name": "backstop",
        "version": one_line(&report.tool_version),
        "rules": descriptors,
    });
    let repository = env!("CARGO_PKG_REPOSITORY");
    if !repository.is_empty() {
        driver["informationUri"] = json!(repository);
    }
    // Fields in the order a JSON object's keys are written (sorted), as
    // when the log was one `json!` value.
    #[derive(Serialize)]
    struct Log<'a> {
        #[serde(rename = "$schema")]
        schema: &'static str,
        runs: [Run<'a>; 1],
        version: &'static str,
    }
    #[derive(Serialize)]
    struct Run<'a> {
        results: Results<'a>,
        tool: Value,
    }
    struct Results<'a>(Vec<(&'a Finding, usize, Option<&'a Rule>)>);
    impl Serialize for Results<'_> {
        fn serialize<S: serde::Serializer>(&self, out: S) -> Result<S::Ok, S::Error> {
            out.collect_seq(
                self.0
                    .iter()
                    .map(|&(f, index, rule)| result(f, index, rule)),
            )
        }
    }
    let log = Log {
        schema: SARIF_SCHEMA,
        runs: [Run {
            results: Results(alerts),
            tool: json!({ "driver": driver }),
        }],
        version: "2.1.0",
    };
    serde_json::to_writer_pretty(&mut out, &log)?;
    out.write_all(b"\n")
}

/// The rule as code scanning describes it. The title, severity and category
/// come from the finding (the configuration may override the severity);
/// the help from the rule file.
fn descriptor(finding: &Finding, rule: Option<&Rule>) -> Value {
    let id = one_line(&finding.rule);
    let mut tags = vec![one_line(&finding.category).into_owned()];
    // GitHub reads `security-severity` only on rules tagged `security`;
    // losing backups is losing the availability of data.
    for tag in ["backup", "security"] {
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_string());
        }
    }
    let mut descriptor = json!({
        "id": id,
        "name": id,
        "shortDescription": { "text": one_line(&finding.title) },
        "defaultConfiguration": { "level": level(finding.severity) },
        "properties": {
            "security-severity": security_severity(finding.severity),
            // A rule states a fact about a resource: no heuristics, no
            // false positives to weigh.
            "precision": "very-high",
            "tags": tags,
        },
    });
    if let Some(def) = rule.map(|r| &r.def) {
        descriptor["fullDescription"] = json!({ "text": multi_line(&def.rationale) });
        descriptor["help"] = json!({
            "text": format!(
                "{}\n\nHow to fix:\n{}",
                multi_line(&def.rationale).trim_end(),
                multi_line(&def.remediation).trim_end()
            ),
            "markdown": help_markdown(&def.rationale, &def.remediation),
        });
    }
    descriptor
}

/// The rationale as escaped paragraphs, the remediation as a code block to
/// copy (its `{id}`-style placeholders stand for the resource's values).
fn help_markdown(rationale: &str, remediation: &str) -> String {
    let paragraphs: Vec<String> = multi_line(rationale)
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(markdown)
        .collect();
    format!(
        "{}\n\n**How to fix**\n\n{}",
        paragraphs.join("\n\n"),
        fenced(remediation, "")
    )
}

/// SARIF's levels are those of a compiler; a gap that fails the default
/// gate (`high`) is an error.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's security severity, a CVSS-like score that it buckets as
/// critical (9.0 and up), high (7.0–8.9), medium (4.0–6.9) and low (0.1–3.9):
/// each of our severities lands mid-bucket, so that it shows under the same
/// name. `info` has no bucket of its own and shows as low.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn result(finding: &Finding, rule_index: usize, rule: Option<&Rule>) -> Value {
    let resource = resource_label(finding);
    let message = match finding.status {
        Status::Error => format!("could not check {resource}: {}", finding.message),
        _ => format!("{resource}: {}", finding.message),
    };
    let level = match finding.status {
        // An unreadable fact may hide any gap: never a mere note.
        Status::Error => "error",
        _ => level(finding.severity),
    };
    let mut location = json!({
        "logicalLocations": [{
            "name": one_line(&finding.resource.id),
            "fullyQualifiedName": one_line(&resource),
            "kind": "resource",
        }],
    });
    if let Some(physical) = physical_location(finding, rule) {
        location["physicalLocation"] = physical;
    }
    let mut result = json!({
        "ruleId": one_line(&finding.rule),
        "ruleIndex": rule_index,
        "level": level,
        "message": { "text": sarif_text(&message) },
        "locations": [location],
        "partialFingerprints": { FINGERPRINT_KEY: fingerprint(finding.key()) },
        "properties": {
            "status": finding.status.as_str(),
            "severity": finding.severity.as_str(),
            "resourceType": one_line(&finding.resource.resource_type),
        },
    });
    if finding.status == Status::Waived {
        let reason = finding.waiver.as_ref().map_or("waived", |w| &w.reason);
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": one_line(reason),
        }]);
    }
    result
}

/// Where to fix it: see [`super::anchor`].
fn physical_location(finding: &Finding, rule: Option<&Rule>) -> Option<Value> {
    let (file, line) = super::anchor(finding, rule)?;
    let mut physical = json!({ "artifactLocation": { "uri": uri(file) } });
    // SARIF lines start at 1; a line we do not know is left out.
    if line >= 1 {
        physical["region"] = json!({ "startLine": line });
    }
    Some(physical)
}

/// FNV-1a (64-bit) of the key's fields, each preceded by its length so that
/// no two keys hash the same bytes: stable across runs, platforms and Rust
/// versions, unlike std's hashers.
fn fingerprint(key: FindingKey<'_>) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET_BASIS;
    for field in [key.rule, key.resource_type, key.account, key.region, key.id] {
        let length = (field.len() as u64).to_le_bytes();
        for &byte in length.iter().chain(field.as_bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key<'a>(rule: &'a str, id: &'a str) -> FindingKey<'a> {
        FindingKey {
            rule,
            resource_type: "aws.rds.db_instance",
            account: "111122223333",
            region: "eu-west-1",
            id,
        }
    }

    #[test]
    fn fingerprints_are_pinned() {
        // A change here re-opens every alert on GitHub: bump FINGERPRINT_KEY.
        assert_eq!(
            fingerprint(key("rds-multi-az", "orders")),
            "4145577e84b9913d"
        );
    }

    #[test]
    fn fingerprints_tell_fields_apart() {
        // Moving bytes from one field to the next changes the hash.
        assert_ne!(
            fingerprint(key("rds-multi-az", "orders")),
            fingerprint(key("rds-multi-a", "zorders"))
        );
    }

    #[test]
    fn help_keeps_paragraphs_and_fences_the_command() {
        assert_eq!(
            help_markdown("Why *this*.\n\nAnd <that>.\n", "aws x --id {id}\n"),
            "Why \\*this\\*.\n\nAnd &lt;that&gt;.\n\n**How to fix**\n\n```\naws x --id {id}\n```\n"
        );
    }
}
