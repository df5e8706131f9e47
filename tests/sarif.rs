//! `audit --sarif` through the binary: the log validates against the
//! official SARIF 2.1.0 JSON schema, fingerprints are stable across runs and
//! tell findings apart, and each result points where a reader can act.
//!
//! `tests/fixtures/sarif-schema-2.1.0.json` is the OASIS schema as published
//! in github.com/oasis-tcs/sarif-spec, `Schemata/sarif-schema-2.1.0.json`
//! (commit 85971b3e048f61a6d643b95fc6233d073302f5b8, `$id`
//! https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json),
//! unchanged. It is checked with Python's `jsonschema`, which
//! `scripts/install-moto` installs into `.venv-moto`.

#[path = "support/bounded.rs"]
mod bounded;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Every run here answers in well under a second.
const TIME_LIMIT: Duration = Duration::from_secs(30);

/// Runs an audit in `dir` with `args`, which must fail the gate (every
/// audit here has gaps), and returns its SARIF log and JSON report.
fn audit(dir: &Path, args: &[&str]) -> (Value, Value) {
    let sarif = dir.join("out.sarif");
    let json = dir.join("out.json");
    let mut all = vec!["audit", "--sarif"];
    all.push(sarif.to_str().unwrap());
    all.extend(["--json", json.to_str().unwrap()]);
    all.extend(args);
    let out = bounded::run(dir, &all, TIME_LIMIT)
        .unwrap_or_else(|| panic!("`backstop {}` hung", all.join(" ")));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |path: &Path| serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    (read(&sarif), read(&json))
}

/// Validates `log` against the official schema, with formats checked. (The
/// schema itself is not checked against its meta-schema: one `pattern`, for
/// `language`, which backstop never writes, starts `^(?i)`, which Python's
/// regular expressions refuse.)
fn assert_valid(log: &Value) {
    let python = repo(".venv-moto/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-moto",
        python.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("log.sarif");
    std::fs::write(&file, serde_json::to_string(log).unwrap()).unwrap();
    let script = "import json, sys, jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        log = json.load(open(sys.argv[2]))\n\
        validator = jsonschema.validators.validator_for(schema)\n\
        errors = list(validator(schema, format_checker=jsonschema.FormatChecker()).iter_errors(log))\n\
        for e in errors: print(e.json_path, e.message[:300])\n\
        sys.exit(1 if errors else 0)\n";
    let out = Command::new(python)
        .args(["-c", script])
        .arg(repo("tests/fixtures/sarif-schema-2.1.0.json"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "not valid SARIF 2.1.0:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().unwrap()
}

fn fingerprint(result: &Value) -> &str {
    result["partialFingerprints"]["backstopFinding/v1"]
        .as_str()
        .unwrap()
}

#[test]
fn the_schema_check_rejects_what_sarif_does_not_allow() {
    // Proves the check is live: an unknown level fails it.
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = audit(dir.path(), &["--demo"]);
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    let check = std::panic::catch_unwind(|| assert_valid(&log));
    assert!(check.is_err());
}

/// The result's physical location: (uri, start line).
fn anchor(result: &Value) -> (&str, u64) {
    let physical = &result["locations"][0]["physicalLocation"];
    (
        physical["artifactLocation"]["uri"].as_str().unwrap(),
        physical["region"]["startLine"].as_u64().unwrap(),
    )
}

#[test]
fn the_demo_log_validates_and_holds_every_finding_that_needs_action() {
    let dir = tempfile::tempdir().unwrap();
    let (log, report) = audit(dir.path(), &["--demo"]);
    assert_valid(&log);

    let findings: Vec<&Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] != "pass")
        .collect();
    assert!(findings.len() > 10, "the demo account has gaps");
    let results = results(&log);
    assert_eq!(
        results.len(),
        findings.len(),
        "one result per non-pass finding"
    );

    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let rule_ids: BTreeSet<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules.len(),
        rule_ids.len(),
        "one descriptor per rule with results"
    );
    for result in results {
        let rule = &rules[result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], result["ruleId"]);
        let (uri, line) = anchor(result);
        let id = rule["id"].as_str().unwrap();
        assert!(uri.starts_with("rules/") && uri.ends_with(&format!("/{id}.yaml")));
        assert_eq!(line, 1, "a built-in rule's id is on its first line");
        assert!(result["locations"][0]["logicalLocations"][0]["name"].is_string());
    }
    let retention = rules
        .iter()
        .find(|r| r["id"] == "rds-backup-retention")
        .expect("the demo fails rds-backup-retention");
    assert_eq!(retention["defaultConfiguration"]["level"], "error");
    assert_eq!(retention["properties"]["security-severity"], "8.0");
    assert!(
        retention["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("```\naws rds modify-db-instance"),
        "{retention}"
    );
}

#[test]
fn fingerprints_are_stable_across_runs_and_differ_between_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = audit(dir.path(), &["--demo"]);
    // Another clock: messages may change, the identity of a finding must not.
    let (second, _) = audit(dir.path(), &["--demo", "--now", "2026-12-24T00:00:00Z"]);
    let by_rule_and_name = |log: &Value| -> BTreeMap<String, String> {
        results(log)
            .iter()
            .map(|r| {
                let name = &r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"];
                (
                    format!("{} {name}", r["ruleId"]),
                    fingerprint(r).to_string(),
                )
            })
            .collect()
    };
    let first = by_rule_and_name(&first);
    let second = by_rule_and_name(&second);
    // A month later more is stale; what failed before has the same identity.
    assert!(second.len() > first.len());
    for (finding, fingerprint) in &first {
        assert_eq!(second.get(finding), Some(fingerprint), "{finding}");
    }
    let distinct: BTreeSet<&String> = first.values().collect();
    assert_eq!(
        distinct.len(),
        first.len(),
        "two findings share a fingerprint"
    );
}

#[test]
fn a_waived_finding_points_at_its_waiver() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("backstop.yaml"),
        "fail_on: high\n\
         waivers:\n\
         \x20 - rule: logs-retention\n\
         \x20   resource: \"*\"\n\
         \x20   reason: kept by the central log archive\n",
    )
    .unwrap();
    let (log, _) = audit(dir.path(), &["--demo"]);
    assert_valid(&log);
    let waived: Vec<&Value> = results(&log)
        .iter()
        .filter(|r| r["ruleId"] == "logs-retention")
        .collect();
    assert!(!waived.is_empty());
    for result in waived {
        assert_eq!(anchor(result), ("backstop.yaml", 3), "{result}");
        assert_eq!(
            result["suppressions"],
            serde_json::json!([{
                "kind": "external",
                "status": "accepted",
                "justification": "kept by the central log archive",
            }])
        );
    }
    // Findings no waiver covers are not suppressed.
    assert!(
        results(&log)
            .iter()
            .any(|r| r["ruleId"] != "logs-retention" && r.get("suppressions").is_none())
    );
}

#[test]
fn a_plan_finding_points_at_its_tf_line() {
    let dir = tempfile::tempdir().unwrap();
    let plan = repo("tests/fixtures/plans/review/plan.json");
    let (log, report) = audit(dir.path(), &["--plan", plan.to_str().unwrap()]);
    assert_valid(&log);
    // The JSON report says where each of the plan's findings is defined.
    let mut located = BTreeMap::new();
    for finding in report["results"].as_array().unwrap() {
        if finding["status"] != "pass" && finding["location"].is_object() {
            let name = finding["resource"]["id"].as_str().unwrap().to_string();
            let key = (finding["rule"].as_str().unwrap().to_string(), name);
            located.insert(key, finding["location"].clone());
        }
    }
    assert!(
        !located.is_empty(),
        "the review plan has findings on .tf lines"
    );
    let mut checked = 0;
    for result in results(&log) {
        let name = result["locations"][0]["logicalLocations"][0]["name"]
            .as_str()
            .unwrap()
            .to_string();
        let key = (result["ruleId"].as_str().unwrap().to_string(), name);
        if let Some(at) = located.get(&key) {
            let (uri, line) = anchor(result);
            let file = at["file"].as_str().unwrap();
            assert!(file.ends_with(".tf"), "{file}");
            // The plan's folder is absolute here, so the file is a file:// URI.
            assert_eq!(uri, format!("file://{file}"));
            assert_eq!(line, at["line"].as_u64().unwrap());
            checked += 1;
        }
    }
    assert_eq!(checked, located.len());
}

/// Markdown and HTML specials, a forged link and code fence, terminal
/// escapes and a bidi override.
const HOSTILE: &str =
    "evil<b>&amp;|*_[x](1)`\n```\n# heading\u{1b}[31mred\u{1b}]0;title\u{7}\u{202e} {0} \\";

#[test]
fn a_report_with_hostile_names_validates_and_stays_inert() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = serde_json::to_string(HOSTILE).unwrap();
    let id = format!("/aws/{}", HOSTILE.replace('\n', " "));
    let inventory = serde_json::json!({
        "schema": "backstop.inventory/v1",
        "source": { "kind": "inventory", "account": "123456789012", "regions": ["eu-west-1"] },
        "collected_at": "2026-11-20T09:00:00Z",
        "resources": [{
            "type": "aws.logs.log_group",
            "id": id,
            "arn": format!("arn:aws:logs:eu-west-1:123456789012:log-group:{id}"),
            "account": "123456789012",
            "region": "eu-west-1",
            "tags": {},
            "attributes": { "kms_key_id": null, "retention_days": null, "subscription_destinations": [] },
        }],
    });
    std::fs::write(dir.path().join("inventory.json"), inventory.to_string()).unwrap();
    std::fs::create_dir(dir.path().join("my rules")).unwrap();
    std::fs::write(
        dir.path().join("my rules/logs-hostile.yaml"),
        format!(
            "id: logs-hostile\ntitle: {hostile}\nresource: aws.logs.log_group\nseverity: critical\n\
             category: logging\nassert:\n  retention_days: {{ gte: 1 }}\nrationale: {hostile}\n\
             remediation: {hostile}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("backstop.yaml"),
        format!(
            "waivers:\n  - {{ rule: logs-kms-encryption, resource: \"*\", reason: {hostile} }}\n"
        ),
    )
    .unwrap();
    let (log, _) = audit(
        dir.path(),
        &["--inventory", "inventory.json", "--rules", "my rules"],
    );
    assert_valid(&log);

    let text = serde_json::to_string(&log).unwrap();
    for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!text.contains(c), "{c:?} in the log");
    }
    let hostile_rule = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "logs-hostile")
        .unwrap();
    let help = hostile_rule["help"]["markdown"].as_str().unwrap();
    assert!(
        help.contains("\\[x\\](1)") && help.contains("&lt;b&gt;"),
        "{help}"
    );
    // The remediation's ``` cannot close its fence: the fence is longer.
    assert!(help.contains("````\n"), "{help}");
    for result in results(&log) {
        let message = result["message"]["text"].as_str().unwrap();
        assert!(!message.contains('\n'), "{message}");
        assert!(
            message.contains("\\[x\\](1)"),
            "no embedded link: {message}"
        );
        // A rule from a folder is anchored at its file, percent-encoded.
        if result["ruleId"] == "logs-hostile" {
            assert_eq!(anchor(result), ("my%20rules/logs-hostile.yaml", 1));
        }
    }
}
