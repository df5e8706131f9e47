//! backstop.yaml, waivers, scope, the gate, `init`, `diff` and `merge`.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use backstop::audit;
use backstop::config::{Config, FailOn};
use backstop::gate::{self, GateOptions};
use backstop::render;
use backstop::report::{self, Diff, Finding, Report, Severity, Status, WaiverNote};

fn parse(text: &str) -> Result<Config, String> {
    Config::parse("backstop.yaml", text, Path::new("/cfg")).map_err(|d| d.to_string())
}

fn demo_report(config: &Config, now: &str) -> Report {
    let (_, engine) = audit::load_rules(config, &[]).unwrap_or_else(|d| panic!("{d}"));
    audit::run(
        &engine,
        backstop::demo::inventory().unwrap(),
        config,
        now.parse().unwrap(),
    )
}

fn find<'a>(report: &'a Report, rule: &str, id: &str) -> &'a Finding {
    report
        .results
        .iter()
        .find(|f| f.rule == rule && f.resource.id == id)
        .unwrap_or_else(|| panic!("no result for {rule} on {id}"))
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backstop"))
        .args(args)
        .current_dir(dir)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap()
}

const DEMO_NOW: &str = "2026-11-20T09:00:00Z";

#[test]
fn loads_every_field() {
    let config = parse(
        r#"
regions: [eu-west-1, us-east-1]
fail_on: medium
rules: [./more-rules]
disable: [rds-multi-az]
severity: { logs-retention: high }
params:
  rds-backup-retention: { min_days: 14 }
scope:
  include: { tags: { app: "sales-*" }, regions: [eu-west-1] }
  exclude: { names: ["*-scratch"], accounts: ["999999999999"] }
export_locations:
  - { bucket: b, prefix: exports/, max_age: 2d }
waivers:
  - { rule: rds-multi-az, resource: "*-staging", reason: r, owner: o, expires: 2027-01-31 }
"#,
    )
    .unwrap();
    assert_eq!(config.regions, ["eu-west-1", "us-east-1"]);
    assert_eq!(config.fail_on, Some(FailOn::Severity(Severity::Medium)));
    assert_eq!(config.rule_dirs, [Path::new("/cfg/./more-rules")]);
    assert!(config.settings.disabled.contains("rds-multi-az"));
    assert_eq!(config.settings.severity["logs-retention"], Severity::High);
    assert!(config.settings.params["rds-backup-retention"].contains_key("min_days"));
    assert_eq!(config.export_locations[0].max_age.as_deref(), Some("2d"));
    assert_eq!(config.waivers[0].expires.unwrap().to_string(), "2027-01-31");
    assert!(config.scope.reads_tags());
    // An empty file is the defaults.
    assert!(parse("").unwrap().waivers.is_empty());
}

#[test]
fn every_config_error_has_a_location() {
    let cases = [
        (
            "regoins: [x]\n",
            "backstop.yaml:1:1: error[unknown-field]: unknown config field `regoins`\n  help: did you mean `regions`?",
        ),
        (
            "fail_on: severe\n",
            "backstop.yaml:1:10: error[invalid-value]",
        ),
        (
            "regions: eu-west-1\n",
            "backstop.yaml:1:10: error[type-mismatch]: `regions` must be a list",
        ),
        (
            "severity: { logs-retention: huge }\n",
            "backstop.yaml:1:29: error[invalid-severity]",
        ),
        (
            "waivers:\n  - rule: rds-multi-az\n    resource: x\n    reason: r\n    expires: 31/12/2026\n",
            "backstop.yaml:5:14: error[invalid-date]: `expires` must be a date like 2026-12-31",
        ),
        (
            "waivers:\n  - rule: rds-multi-az\n    resource: x\n",
            "backstop.yaml:2:5: error[missing-field]: a waiver needs `reason`",
        ),
        (
            "waivers:\n  - { rule: rds-multi-az, resource: \"[x\", reason: r }\n",
            "error[invalid-glob]",
        ),
        (
            "export_locations:\n  - { bucket: b, max_age: soon }\n",
            "backstop.yaml:2:27: error[invalid-duration]",
        ),
        (
            "export_locations:\n  - { prefix: p }\n",
            "error[missing-field]: an export location needs `bucket`",
        ),
        (
            "scope: { include: { colour: red } }\n",
            "backstop.yaml:1:21: error[unknown-field]: unknown field `colour`",
        ),
        ("a: [1\n", "error[yaml-syntax]"),
        (
            "regions: [eu-west-1, euwest1]\n",
            "backstop.yaml:1:22: error[invalid-region]: \"euwest1\" is not an AWS region name",
        ),
        ("- just\n- a list\n", "the config file must be a mapping"),
        // Scope criteria are checked like the top-level fields: a typo would
        // otherwise match nothing (an include empties the audit, an exclude
        // does nothing).
        (
            "scope: { include: { regions: [eu-west1] } }\n",
            "backstop.yaml:1:31: error[invalid-region]: \"eu-west1\" is not an AWS region name",
        ),
        (
            "scope:\n  exclude:\n    regions: [eu-west-1, \"EU-WEST-2\"]\n",
            "backstop.yaml:3:26: error[invalid-region]: \"EU-WEST-2\" is not an AWS region name",
        ),
        (
            "scope: { include: { accounts: [\"12345678901\"] } }\n",
            "backstop.yaml:1:32: error[invalid-account]: \"12345678901\" is not an AWS account id (12 digits",
        ),
        (
            "scope:\n  exclude: { accounts: [prod-account] }\n",
            "backstop.yaml:2:25: error[invalid-account]: \"prod-account\" is not an AWS account id",
        ),
        (
            "scope:\n  exclude: { accounts: [1234567890123] }\n",
            "backstop.yaml:2:25: error[invalid-account]",
        ),
        (
            "scope:\n  exclude: { accounts: [[1]] }\n",
            "backstop.yaml:2:25: error[type-mismatch]: each item of `accounts` must be an account id",
        ),
        // An empty waiver field is refused where it is, not silently ignored.
        (
            "waivers:\n  - rule: rds-multi-az\n    resource: x\n    reason: \"\"\n",
            "backstop.yaml:4:13: error[empty-field]: a waiver's `reason` must not be empty",
        ),
        (
            "waivers:\n  - { rule: rds-multi-az, resource: \"\", reason: r }\n",
            "backstop.yaml:2:37: error[empty-field]: a waiver's `resource` must not be empty",
        ),
        (
            "waivers:\n  - { rule: \"\", resource: x, reason: r }\n",
            "backstop.yaml:2:13: error[empty-field]: a waiver's `rule` must not be empty",
        ),
        (
            "waivers:\n  - rule: rds-multi-az\n    resource: \"  \"\n    reason: \"\\t\"\n",
            "backstop.yaml:3:15: error[empty-field]: a waiver's `resource` must not be empty",
        ),
    ];
    for (text, expected) in cases {
        let err = parse(text).expect_err(text);
        assert!(
            err.contains(expected),
            "for {text:?}:\n{err}\nexpected to contain: {expected}"
        );
    }
    // Several problems are all reported at once.
    let err = parse("regoins: []\nfail_on: x\n").unwrap_err();
    assert_eq!(
        err.lines().filter(|l| l.contains("error[")).count(),
        2,
        "{err}"
    );
}

#[test]
fn rule_ids_and_params_are_checked_against_the_rules() {
    let config = parse(
        "disable: [rds-mutli-az]\nwaivers:\n  - { rule: no-such-rule, resource: x, reason: r }\n",
    )
    .unwrap();
    let err = audit::load_rules(&config, &[]).unwrap_err().to_string();
    assert!(
        err.contains("backstop.yaml:1:11: error[unknown-rule]: unknown rule `rds-mutli-az`"),
        "{err}"
    );
    assert!(err.contains("did you mean `rds-multi-az`?"), "{err}");
    assert!(
        err.contains("backstop.yaml:3:13: error[unknown-rule]: unknown rule `no-such-rule`"),
        "{err}"
    );

    let config =
        parse("params:\n  rds-backup-retention:\n    min_days: seven\n    max_days: 3\n").unwrap();
    let err = audit::load_rules(&config, &[]).unwrap_err().to_string();
    assert!(
        err.contains("backstop.yaml:3:15: error[type-mismatch]: param `min_days`"),
        "{err}"
    );
    assert!(err.contains("backstop.yaml:4:15: error[unknown-param]: rule `rds-backup-retention` has no param `max_days`"), "{err}");
}

#[test]
fn params_severity_and_disable_change_the_verdicts() {
    let config = parse(
        "params:\n  rds-backup-retention: { min_days: 1 }\nseverity: { rds-multi-az: critical }\ndisable: [logs-kms-encryption]\n",
    )
    .unwrap();
    let report = demo_report(&config, DEMO_NOW);
    assert_eq!(
        find(&report, "rds-backup-retention", "sales-scorecard-staging").status,
        Status::Pass
    );
    assert_eq!(
        find(&report, "rds-multi-az", "sales-scorecard-prod").severity,
        Severity::Critical
    );
    assert!(
        !report
            .results
            .iter()
            .any(|f| f.rule == "logs-kms-encryption")
    );
}

#[test]
fn scope_includes_and_excludes() {
    let config = parse("scope:\n  include: { tags: { env: prod* } }\n").unwrap();
    let report = demo_report(&config, DEMO_NOW);
    assert!(
        report
            .results
            .iter()
            .all(|f| f.resource.id == "sales-scorecard-prod"),
        "only the tagged instance"
    );
    let config = parse("scope:\n  exclude: { names: [\"/aws/*\", \"*-staging\"] }\n").unwrap();
    let report = demo_report(&config, DEMO_NOW);
    assert!(
        !report
            .results
            .iter()
            .any(|f| f.resource.id.starts_with("/aws/") || f.resource.id.ends_with("-staging"))
    );
    assert!(
        report
            .results
            .iter()
            .any(|f| f.resource.id == "/ecs/sales-scorecard-api")
    );
}

#[test]
fn export_location_max_age_overrides_the_rule_default() {
    // The demo export is 6h46m old at DEMO_NOW.
    let report = demo_report(&Config::default(), DEMO_NOW);
    assert_eq!(
        find(
            &report,
            "s3-exports-fresh",
            "sales-scorecard-backups/exports/daily/"
        )
        .status,
        Status::Pass
    );
    let config = parse("export_locations:\n  - { bucket: sales-scorecard-backups, prefix: exports/daily/, max_age: 6h }\n").unwrap();
    let report = demo_report(&config, DEMO_NOW);
    let f = find(
        &report,
        "s3-exports-fresh",
        "sales-scorecard-backups/exports/daily/",
    );
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.contains("expected newer than 6h"),
        "{}",
        f.message
    );
}

#[test]
fn waivers_apply_expire_and_go_unused() {
    let config = parse(
        r#"waivers:
  - rule: rds-multi-az
    resource: sales-scorecard-staging
    reason: staging tolerates downtime
    owner: platform
    expires: 2026-12-31
  - rule: rds-multi-az
    resource: "arn:aws:rds:eu-west-1:123456789012:db:sales-scorecard-pr*"
    reason: migrating in Q4
    expires: 2026-11-19
  - rule: ecr-lifecycle-policy
    resource: some-other-repo
    reason: typo
  - rule: rds-deletion-protection
    resource: sales-scorecard-prod
    reason: it passes anyway
"#,
    )
    .unwrap();
    let report = demo_report(&config, DEMO_NOW);
    let staging = find(&report, "rds-multi-az", "sales-scorecard-staging");
    assert_eq!(staging.status, Status::Waived);
    let waiver = staging.waiver.as_ref().unwrap();
    assert_eq!(waiver.reason, "staging tolerates downtime");
    assert!(!waiver.expired);
    // Expired the day before the audit (matched by an ARN glob): reported again with a note.
    let prod = find(&report, "rds-multi-az", "sales-scorecard-prod");
    assert_eq!(prod.status, Status::Fail);
    assert!(prod.waiver.as_ref().unwrap().expired);
    assert!(
        prod.message
            .contains("was waived until 2026-11-19: migrating in Q4"),
        "{}",
        prod.message
    );
    // A waiver holds through its last day.
    let report = demo_report(&config, "2026-11-19T23:59:00Z");
    assert_eq!(
        find(&report, "rds-multi-az", "sales-scorecard-prod").status,
        Status::Waived
    );

    let report = demo_report(&config, DEMO_NOW);
    let unused: Vec<_> = report
        .unused_waivers
        .iter()
        .map(|w| (w.rule.as_str(), w.resource.as_str()))
        .collect();
    assert_eq!(
        unused,
        [
            ("ecr-lifecycle-policy", "some-other-repo"),
            ("rds-deletion-protection", "sales-scorecard-prod")
        ]
    );
    assert_eq!(report.unused_waivers[0].location, "backstop.yaml:11:5");
    assert_eq!(report.summary.waived, 1);

    // JUnit shows the waived result as skipped with reason and expiry.
    let xml = render::junit::render(&report, &[]);
    assert!(xml.contains("waived: staging tolerates downtime"), "{xml}");
    assert!(xml.contains("2026-12-31"), "{xml}");
}

fn finding(rule: &str, id: &str, severity: Severity, status: Status) -> Finding {
    Finding {
        rule: rule.into(),
        title: rule.into(),
        severity,
        category: "retention".into(),
        status,
        message: Default::default(),
        remediation: String::new(),
        resource: Arc::new(backstop::model::ResourceRef {
            resource_type: "aws.rds.db_instance".into(),
            id: id.into(),
            arn: String::new(),
            region: "eu-west-1".into(),
            account: "1".into(),
            address: None,
        }),
        location: None,
        waiver: None,
    }
}

fn report_of(findings: Vec<Finding>, at: &str) -> Report {
    Report::new(at.parse().unwrap(), Default::default(), findings, vec![])
}

#[test]
fn gate_levels_errors_and_baseline() {
    let report = report_of(
        vec![
            finding("a", "x", Severity::Medium, Status::Fail),
            finding("b", "x", Severity::High, Status::Error),
            finding("c", "x", Severity::Critical, Status::Waived),
            finding("d", "x", Severity::Critical, Status::Pass),
        ],
        DEMO_NOW,
    );
    let blocking = |fail_on: &str, allow_errors: bool, baseline: Option<&Report>| {
        gate::blocking(
            &report,
            GateOptions {
                fail_on: fail_on.parse().unwrap(),
                allow_errors,
            },
            baseline,
        )
        .iter()
        .map(|f| f.rule.clone())
        .collect::<Vec<_>>()
    };
    assert_eq!(blocking("critical", false, None), Vec::<String>::new());
    assert_eq!(blocking("high", false, None), ["b"]);
    assert_eq!(blocking("high", true, None), Vec::<String>::new());
    assert_eq!(blocking("medium", false, None), ["a", "b"]);
    assert_eq!(blocking("low", true, None), ["a"]);
    assert_eq!(blocking("never", false, None), Vec::<String>::new());
    // Default threshold is high.
    assert_eq!(
        gate::blocking(&report, GateOptions::default(), None).len(),
        1
    );
    // Already failing in the baseline: shown, but does not fail the gate.
    let baseline = report_of(
        vec![finding("a", "x", Severity::Medium, Status::Fail)],
        "2026-11-13T09:00:00Z",
    );
    assert_eq!(blocking("medium", false, Some(&baseline)), ["b"]);
    // Known means same status: an `error` that became a `fail` (or the
    // reverse) is new; `error` → `error` and `fail` → `fail` are known.
    let baseline = report_of(
        vec![
            finding("a", "x", Severity::Medium, Status::Error),
            finding("b", "x", Severity::High, Status::Fail),
        ],
        "2026-11-13T09:00:00Z",
    );
    assert_eq!(blocking("medium", false, Some(&baseline)), ["a", "b"]);
    let baseline = report_of(
        vec![
            finding("a", "x", Severity::Medium, Status::Fail),
            finding("b", "x", Severity::High, Status::Error),
        ],
        "2026-11-13T09:00:00Z",
    );
    assert_eq!(
        blocking("medium", false, Some(&baseline)),
        Vec::<String>::new()
    );
    // Waived in the baseline, failing now (the waiver expired): new.
    let baseline = report_of(
        vec![finding("a", "x", Severity::Medium, Status::Waived)],
        "2026-11-13T09:00:00Z",
    );
    assert_eq!(blocking("medium", false, Some(&baseline)), ["a", "b"]);
}

/// The issue's row: an instance that was `error` in the baseline and is
/// `fail` now fails the gate through the CLI.
#[test]
fn baseline_error_that_is_now_a_fail_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let last = dir.path().join("last.json");
    let this = dir.path().join("this.json");
    let out = run_in(
        dir.path(),
        &[
            "audit",
            "--demo",
            "--fail-on",
            "never",
            "--json",
            this.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    // The baseline: the same audit, with the failing multi-AZ result of the
    // staging instance an `error` instead (its facts could not be read).
    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&this).unwrap()).unwrap();
    let mut changed = 0;
    for result in report["results"].as_array_mut().unwrap() {
        if result["rule"] == "rds-multi-az" && result["status"] == "fail" {
            result["status"] = "error".into();
            changed += 1;
        }
    }
    assert!(changed > 0);
    std::fs::write(&last, serde_json::to_string(&report).unwrap()).unwrap();
    let gate = |baseline: &Path| {
        run_in(
            dir.path(),
            &[
                "audit",
                "--demo",
                "--fail-on",
                "low",
                "--baseline",
                baseline.to_str().unwrap(),
            ],
        )
    };
    let out = gate(&last);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "gate failed: {changed} result{} at or above `low` that are new since the baseline",
            if changed == 1 { "" } else { "s" }
        )),
        "{stderr}"
    );
    // Against an identical baseline nothing is new.
    let out = gate(&this);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn gate_exit_statuses_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("last.json");
    let out = run_in(
        dir.path(),
        &["audit", "--demo", "--json", json.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    // Nothing new since last time: the gate passes even at low.
    let out = run_in(
        dir.path(),
        &[
            "audit",
            "--demo",
            "--fail-on",
            "low",
            "--baseline",
            json.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // fail_on from the config, overridden by the flag.
    std::fs::write(dir.path().join("backstop.yaml"), "fail_on: critical\n").unwrap();
    assert_eq!(
        run_in(dir.path(), &["audit", "--demo"]).status.code(),
        Some(0)
    );
    assert_eq!(
        run_in(dir.path(), &["audit", "--demo", "--fail-on", "high"])
            .status
            .code(),
        Some(1)
    );
    // A broken config is exit 2 with its location.
    std::fs::write(
        dir.path().join("backstop.yaml"),
        "fail_on: critical\nwaivers: [{ rule: rds-multi-az }]\n",
    )
    .unwrap();
    let out = run_in(dir.path(), &["audit", "--demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("backstop.yaml:2:11: error[missing-field]"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Unused waivers are warned about on stderr.
    std::fs::write(
        dir.path().join("backstop.yaml"),
        "waivers: [{ rule: rds-multi-az, resource: nothing, reason: r }]\n",
    )
    .unwrap();
    let out = run_in(dir.path(), &["audit", "--demo"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning[unused-waiver]: backstop.yaml:1:11"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn init_writes_a_valid_starter_that_it_will_not_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(0));
    let config = Config::load(&dir.path().join("backstop.yaml")).unwrap();
    audit::load_rules(&config, &[]).unwrap();
    let out = run_in(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(
        run_in(dir.path(), &["init", "--force"]).status.code(),
        Some(0)
    );
    // The starter is used by the next audit.
    assert_eq!(
        run_in(dir.path(), &["audit", "--demo", "--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn diff_sorts_changes() {
    let waiver = |expired| {
        Some(WaiverNote {
            reason: "single-AZ by design".into(),
            owner: "team-data".into(),
            expires: Some("2026-11-25".parse().unwrap()),
            expired,
            location: None,
        })
    };
    let with_waiver = |id, status, note: Option<WaiverNote>| Finding {
        waiver: note.map(Box::new),
        ..finding("r", id, Severity::High, status)
    };
    let old = report_of(
        vec![
            finding("r", "fixed-db", Severity::High, Status::Fail),
            finding("r", "still-db", Severity::High, Status::Fail),
            finding("r", "gone-db", Severity::High, Status::Fail),
            finding("r", "worse-db", Severity::High, Status::Pass),
            with_waiver("expired-db", Status::Waived, waiver(false)),
            finding("r", "accepted-db", Severity::High, Status::Fail),
            finding("r", "readable-db", Severity::High, Status::Error),
            finding("r", "unreadable-db", Severity::High, Status::Fail),
            // A rule disabled since: its gap must not leave the diff unsaid.
            finding("r2", "still-db", Severity::High, Status::Fail),
        ],
        "2026-11-13T09:00:00Z",
    );
    let new = report_of(
        vec![
            finding("r", "fixed-db", Severity::High, Status::Pass),
            finding("r", "still-db", Severity::High, Status::Fail),
            finding("r", "worse-db", Severity::High, Status::Fail),
            finding("r", "new-db", Severity::High, Status::Fail),
            with_waiver("expired-db", Status::Fail, waiver(true)),
            with_waiver("accepted-db", Status::Waived, waiver(false)),
            finding("r", "readable-db", Severity::High, Status::Fail),
            finding("r", "unreadable-db", Severity::High, Status::Error),
        ],
        DEMO_NOW,
    );
    let d = Diff::between(&old, &new);
    let ids = |v: &[Finding]| v.iter().map(|f| f.resource.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&d.newly_failing), ["new-db", "worse-db"]);
    assert_eq!(ids(&d.fixed), ["fixed-db"]);
    assert_eq!(ids(&d.still_failing), ["still-db"]);
    assert_eq!(ids(&d.waiver_expired), ["expired-db"]);
    assert_eq!(ids(&d.newly_waived), ["accepted-db"]);
    assert_eq!(ids(&d.error_to_fail), ["readable-db"]);
    assert_eq!(ids(&d.fail_to_error), ["unreadable-db"]);
    assert_eq!(ids(&d.no_longer_checked), ["still-db"]);
    assert_eq!(d.no_longer_checked[0].rule, "r2");
    assert_eq!(
        d.appeared.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["new-db"]
    );
    assert_eq!(
        d.disappeared
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        ["gone-db"]
    );
    let md = render::diff::markdown(&d);
    // Every section, in order: what needs action first.
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        headings.join(" | ").replace("## ", ""),
        "Newly failing (2) | Waiver expired (1) | Error to fail (1) | Fail to error (1) | \
         No longer checked (1) | Newly waived (1) | Fixed (1) | Still failing (1) | \
         Appeared (1) | Disappeared (1)"
    );
    assert!(md.contains("- [x] **r**"), "{md}");
    assert!(
        md.contains(
            "expired-db in eu-west-1: \n  - waiver expired 2026-11-25: single-AZ by design (team-data)\n"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "accepted-db in eu-west-1: \n  - waived: single-AZ by design (team-data, expires 2026-11-25)\n"
        ),
        "{md}"
    );
    let text = render::diff::text(&d);
    assert!(
        text.contains(
            "2 newly failing, 1 waiver expired, 1 error to fail, 1 fail to error, \
             1 no longer checked, 1 newly waived, 1 fixed, 1 still failing, \
             1 resources appeared, 1 disappeared"
        ),
        "{text}"
    );
    assert!(
        text.contains("\nWaiver expired:\n  fail   high     r                                expired-db (eu-west-1)\n         waiver expired 2026-11-25: single-AZ by design (team-data)\n"),
        "{text}"
    );
    let back: Diff = serde_json::from_str(&render::diff::json(&d)).unwrap();
    assert_eq!(back, d);
}

/// Waivers in backstop.yaml, week over week: one expires, one is added.
#[test]
fn diff_tells_waivers_that_began_and_expired() {
    let last_week = parse(
        "waivers:\n  - { rule: rds-multi-az, resource: sales-scorecard-staging, reason: staging, expires: 2026-11-25 }\n",
    )
    .unwrap();
    let this_week = parse(
        "waivers:\n  - { rule: rds-multi-az, resource: sales-scorecard-staging, reason: staging, expires: 2026-11-25 }\n  - { rule: rds-multi-az, resource: sales-scorecard-prod, reason: moving to Aurora, owner: team-data }\n",
    )
    .unwrap();
    let d = Diff::between(
        &demo_report(&last_week, DEMO_NOW),
        &demo_report(&this_week, "2026-11-27T09:00:00Z"),
    );
    let listed = |v: &[Finding]| {
        v.iter()
            .filter(|f| f.rule == "rds-multi-az")
            .map(|f| f.resource.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(listed(&d.waiver_expired), ["sales-scorecard-staging"]);
    assert_eq!(listed(&d.newly_waived), ["sales-scorecard-prod"]);
    for section in [&d.newly_failing, &d.fixed, &d.still_failing] {
        assert!(listed(section).is_empty(), "{d:#?}");
    }
    let text = render::diff::text(&d);
    assert!(
        text.contains("waiver expired 2026-11-25: staging")
            && text.contains("waived: moving to Aurora (team-data)"),
        "{text}"
    );
}

#[test]
fn merge_combines_accounts_and_deduplicates() {
    let mut a = report_of(
        vec![
            finding("r", "db-1", Severity::High, Status::Fail),
            finding("r", "db-2", Severity::High, Status::Pass),
        ],
        "2026-11-20T08:00:00Z",
    );
    a.source.account = Some("111111111111".into());
    a.source.regions = vec!["eu-west-1".into()];
    let mut b = report_of(
        vec![
            // The same result again, newer: it wins.
            finding("r", "db-1", Severity::High, Status::Pass),
            finding("r", "db-3", Severity::High, Status::Fail),
        ],
        "2026-11-20T09:00:00Z",
    );
    b.source.account = Some("222222222222".into());
    b.source.regions = vec!["us-east-1".into()];
    let merged = report::merge(&[b.clone(), a.clone()]);
    assert_eq!(merged.results.len(), 3);
    assert_eq!(
        merged
            .results
            .iter()
            .find(|f| f.resource.id == "db-1")
            .unwrap()
            .status,
        Status::Pass
    );
    assert_eq!(merged.summary.fail, 1);
    assert_eq!(merged.summary.pass, 2);
    assert_eq!(merged.source.kind, "merged");
    assert_eq!(merged.source.account, None);
    assert_eq!(merged.source.regions, ["eu-west-1", "us-east-1"]);
    assert_eq!(merged.generated_at.to_string(), "2026-11-20T09:00:00Z");

    // Through the CLI.
    let dir = tempfile::tempdir().unwrap();
    let pa = dir.path().join("a.json");
    let pb = dir.path().join("b.json");
    std::fs::write(&pa, render::json::render(&a)).unwrap();
    std::fs::write(&pb, render::json::render(&b)).unwrap();
    let out = run_in(dir.path(), &["merge", "a.json", "b.json", "-o", "all.json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all =
        Report::from_json(&std::fs::read_to_string(dir.path().join("all.json")).unwrap()).unwrap();
    assert_eq!(all.results.len(), 3);
    let out = run_in(
        dir.path(),
        &["diff", "a.json", "all.json", "--format", "markdown"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("## Newly failing (1)"));
    std::fs::write(dir.path().join("bad.json"), "{}").unwrap();
    let out = run_in(dir.path(), &["diff", "a.json", "bad.json"]);
    assert_eq!(out.status.code(), Some(2));
}

/// One region's audit of one account, as a matrix job writes it: a failing
/// and a passing result, and a failed call that names no account.
fn matrix_job(account: &str, region: &str, at: &str) -> Report {
    let mut findings = vec![
        finding("r", "db-1", Severity::High, Status::Fail),
        finding("r", "db-2", Severity::High, Status::Pass),
    ];
    for f in &mut findings {
        Arc::make_mut(&mut f.resource).account = account.into();
        Arc::make_mut(&mut f.resource).region = region.into();
    }
    let error = backstop::model::CollectionError {
        account: None,
        service: "rds".into(),
        region: region.into(),
        operation: "DescribeDBSnapshots".into(),
        code: "AccessDenied".into(),
        message: format!("denied in {account}"),
        resource_type: "aws.rds.db_snapshot".into(),
        resource_id: None,
        attributes: vec![],
    };
    let mut report = Report::new(
        at.parse().unwrap(),
        Default::default(),
        findings,
        vec![error],
    );
    report.source.kind = "live".into();
    report.source.account = Some(account.into());
    report.source.regions = vec![region.into()];
    report
}

#[test]
fn merging_one_report_per_account_keeps_every_account_attributable() {
    let a = matrix_job("111111111111", "eu-west-1", "2026-11-20T08:00:00Z");
    let b = matrix_job("222222222222", "us-east-1", "2026-11-20T09:00:00Z");
    let merged = report::merge(&[b, a]);
    let accounts: Vec<(&str, &[String])> = merged
        .source
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a.regions.as_slice()))
        .collect();
    assert_eq!(
        accounts,
        [
            ("111111111111", &["eu-west-1".to_string()][..]),
            ("222222222222", &["us-east-1".to_string()][..]),
        ]
    );
    for e in &merged.collection_errors {
        let account = e.account.as_deref().expect("an attributed error");
        assert_eq!(e.message, format!("denied in {account}"));
    }
    assert_eq!(merged.collection_errors.len(), 2);
    // Read back (as `merge` writes it), and rendered account by account.
    let merged = Report::from_json(&render::json::render(&merged)).unwrap();
    let options = render::table::TableOptions::default();
    let table = render::table::render(&merged, &options);
    let first = table
        .find("Account 111111111111: 1 fail, 0 error, 0 waived, 1 pass")
        .unwrap();
    let second = table
        .find("Account 222222222222: 1 fail, 0 error, 0 waived, 1 pass")
        .unwrap();
    let denied = |account: &str| table.find(&format!("denied in {account}")).unwrap();
    assert!(
        first < denied("111111111111") && denied("111111111111") < second,
        "{table}"
    );
    assert!(second < denied("222222222222"), "{table}");
    let md = render::markdown::render(&merged, render::markdown::DEFAULT_MAX_CHARS);
    assert!(
        md.contains("## Account 111111111111\n") && md.contains("## Account 222222222222\n"),
        "{md}"
    );

    // Reports of one account (two regions) merge as they always have.
    let a = matrix_job("111111111111", "eu-west-1", "2026-11-20T08:00:00Z");
    let b = matrix_job("111111111111", "us-east-1", "2026-11-20T09:00:00Z");
    let merged = report::merge(&[a, b]);
    assert!(merged.source.accounts.is_empty());
    assert_eq!(merged.source.account.as_deref(), Some("111111111111"));
    assert!(merged.collection_errors.iter().all(|e| e.account.is_none()));
    assert!(!render::table::render(&merged, &options).contains("Account "));
}

/// A tag scope cannot decide about a resource whose tags could not be read:
/// its results are `error`, it does not silently leave the audit.
#[test]
fn unreadable_tags_under_a_tag_scope_give_errors_not_silence() {
    let config = parse("scope:\n  include: { tags: { app: sales-* } }\n").unwrap();
    let (_, engine) = audit::load_rules(&config, &[]).unwrap();
    let mut inventory = backstop::demo::inventory().unwrap();
    for r in &mut inventory.resources {
        if r.id == "sales-scorecard-backups" {
            r.tags.clear();
        }
    }
    inventory.errors.push(backstop::model::CollectionError {
        account: None,
        service: "s3".into(),
        region: "eu-west-1".into(),
        operation: "GetBucketTagging".into(),
        code: "AccessDenied".into(),
        message: "denied".into(),
        resource_type: "aws.s3.bucket".into(),
        resource_id: Some("sales-scorecard-backups".into()),
        attributes: vec!["tags".into()],
    });
    let report = audit::run(&engine, inventory, &config, DEMO_NOW.parse().unwrap());
    let bucket: Vec<&Finding> = report
        .results
        .iter()
        .filter(|f| f.resource.id == "sales-scorecard-backups")
        .collect();
    assert!(!bucket.is_empty());
    assert!(
        bucket.iter().all(|f| f.status == Status::Error),
        "{bucket:#?}"
    );
    assert!(
        bucket[0]
            .message
            .contains("whether it is in scope is unknown"),
        "{}",
        bucket[0].message
    );
    assert!(
        bucket[0].message.contains("AccessDenied"),
        "{}",
        bucket[0].message
    );
    // Resources excluded by other criteria stay out quietly.
    let config = parse(
        "scope:\n  include: { tags: { app: sales-* } }\n  exclude: { names: [\"*-backups\"] }\n",
    )
    .unwrap();
    let mut inventory = backstop::demo::inventory().unwrap();
    inventory.errors.push(report.collection_errors[0].clone());
    let report = audit::run(&engine, inventory, &config, DEMO_NOW.parse().unwrap());
    assert!(
        !report
            .results
            .iter()
            .any(|f| f.resource.id == "sales-scorecard-backups")
    );
}

/// A waiver never turns an unreadable result into `waived`, and is not
/// reported unused because of it.
#[test]
fn waivers_do_not_hide_errors() {
    let config = parse(
        "waivers:\n  - { rule: logs-retention, resource: /ecs/sales-scorecard-api, reason: r }\n",
    )
    .unwrap();
    let (_, engine) = audit::load_rules(&config, &[]).unwrap();
    let mut inventory = backstop::demo::inventory().unwrap();
    inventory.errors.push(backstop::model::CollectionError {
        account: None,
        service: "logs".into(),
        region: "eu-west-1".into(),
        operation: "DescribeLogGroups".into(),
        code: "ThrottlingException".into(),
        message: "Rate exceeded".into(),
        resource_type: "aws.logs.log_group".into(),
        resource_id: Some("/ecs/sales-scorecard-api".into()),
        attributes: vec!["retention_days".into()],
    });
    let report = audit::run(&engine, inventory, &config, DEMO_NOW.parse().unwrap());
    assert_eq!(
        find(&report, "logs-retention", "/ecs/sales-scorecard-api").status,
        Status::Error
    );
    assert!(
        report.unused_waivers.is_empty(),
        "{:?}",
        report.unused_waivers
    );
}

/// A misspelt scope region or account, or an empty waiver field, stops the
/// audit with exit 2 at the field: before, the audit ran and passed.
#[test]
fn scope_typos_and_empty_waiver_fields_stop_the_cli_at_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "scope: { include: { regions: [eu-west1] } }\n",
            "backstop.yaml:1:31: error[invalid-region]: \"eu-west1\" is not an AWS region name",
        ),
        (
            "scope:\n  exclude:\n    accounts: [\"99999999999\"]\n",
            "backstop.yaml:3:16: error[invalid-account]",
        ),
        (
            "waivers:\n  - rule: rds-multi-az\n    resource: sales-scorecard-staging\n    reason: \"\"\n",
            "backstop.yaml:4:13: error[empty-field]: a waiver's `reason` must not be empty",
        ),
        (
            "waivers:\n  - rule: rds-multi-az\n    resource: \" \"\n    reason: staging\n",
            "backstop.yaml:3:15: error[empty-field]: a waiver's `resource` must not be empty",
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(dir.path().join("backstop.yaml"), text).unwrap();
        let out = run_in(dir.path(), &["audit", "--demo", "--fail-on", "never"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{text:?}:\n{stderr}\nexpected: {expected}"
        );
    }
    // Well-formed ids pass, quoted or not (an unquoted id is a YAML integer).
    let config = parse(
        "scope:\n  include: { accounts: [123456789012, \"012345678901\"], regions: [us-gov-west-1] }\n",
    )
    .unwrap();
    assert_eq!(
        config.scope.include.accounts,
        ["123456789012", "012345678901"]
    );
    assert_eq!(config.scope.include.regions, ["us-gov-west-1"]);
}

const EXPORT: &str = "sales-scorecard-backups/exports/daily/";

fn exports_fresh(report: &Report) -> Vec<&Finding> {
    report
        .results
        .iter()
        .filter(|f| f.rule == "s3-exports-fresh")
        .collect()
}

/// Export locations have no tags: they follow their bucket's scope (its
/// name, region, account and tags), and are never dropped silently.
#[test]
fn export_locations_follow_their_buckets_scope() {
    // The demo bucket is tagged app: sales-scorecard.
    let config = parse("scope:\n  include: { tags: { app: \"sales-*\" } }\n").unwrap();
    let report = demo_report(&config, DEMO_NOW);
    assert_eq!(
        find(&report, "s3-exports-fresh", EXPORT).status,
        Status::Pass
    );
    // The bucket is out of scope, so is its export location.
    for text in [
        "scope:\n  include: { tags: { env: \"prod*\" } }\n",
        "scope:\n  exclude: { tags: { purpose: backups } }\n",
        "scope:\n  exclude: { names: [\"*-backups\"] }\n",
        "scope:\n  include: { names: [\"sales-scorecard-prod\"] }\n",
    ] {
        let report = demo_report(&parse(text).unwrap(), DEMO_NOW);
        assert!(exports_fresh(&report).is_empty(), "{text}");
    }
    // Names look at the bucket's name, not at `bucket/prefix`.
    let config = parse("scope:\n  include: { names: [sales-scorecard-backups] }\n").unwrap();
    let report = demo_report(&config, DEMO_NOW);
    assert_eq!(
        find(&report, "s3-exports-fresh", EXPORT).status,
        Status::Pass
    );

    let (_, engine) = audit::load_rules(&Config::default(), &[]).unwrap();
    let config = parse("scope:\n  include: { tags: { app: \"sales-*\" } }\n").unwrap();
    // The bucket's tags could not be read: the export location is an error.
    let mut inventory = backstop::demo::inventory().unwrap();
    for r in &mut inventory.resources {
        if r.id == "sales-scorecard-backups" {
            r.tags.clear();
        }
    }
    inventory.errors.push(backstop::model::CollectionError {
        account: None,
        service: "s3".into(),
        region: "eu-west-1".into(),
        operation: "GetBucketTagging".into(),
        code: "AccessDenied".into(),
        message: "denied".into(),
        resource_type: "aws.s3.bucket".into(),
        resource_id: Some("sales-scorecard-backups".into()),
        attributes: vec!["tags".into()],
    });
    let report = audit::run(&engine, inventory, &config, DEMO_NOW.parse().unwrap());
    let f = find(&report, "s3-exports-fresh", EXPORT);
    assert_eq!(f.status, Status::Error);
    assert!(
        f.message.contains(
            "the tags of its bucket `sales-scorecard-backups` could not be read, so whether it is in scope is unknown"
        ) && f.message.contains("GetBucketTagging")
            && f.message.contains("AccessDenied"),
        "{}",
        f.message
    );
    // The bucket was not collected at all (another region, or a saved
    // inventory without it): its tags are unknown too.
    let mut inventory = backstop::demo::inventory().unwrap();
    inventory
        .resources
        .retain(|r| r.id != "sales-scorecard-backups");
    let report = audit::run(&engine, inventory, &config, DEMO_NOW.parse().unwrap());
    let f = find(&report, "s3-exports-fresh", EXPORT);
    assert_eq!(f.status, Status::Error);
    assert!(
        f.message.contains("is not in the inventory"),
        "{}",
        f.message
    );
    // Without a tag criterion, a missing bucket is placed by its name.
    let config = parse("scope:\n  exclude: { names: [\"*-backups\"] }\n").unwrap();
    let mut inventory = backstop::demo::inventory().unwrap();
    inventory
        .resources
        .retain(|r| r.id != "sales-scorecard-backups");
    let report = audit::run(&engine, inventory, &config, DEMO_NOW.parse().unwrap());
    assert!(exports_fresh(&report).is_empty());
}

/// A live audit under a tag scope reads the tags of the buckets that hold
/// export locations, even when no bucket rule is enabled.
#[test]
fn a_tag_scope_reads_the_export_buckets_tags() {
    use backstop::model::schema::ops;
    let bucket_rules = "disable: [s3-default-encryption, s3-public-access-blocked, s3-versioning, s3-lifecycle-expiration, s3-cross-region-replication]\n";
    let plan = |text: &str| {
        let config = parse(text).unwrap();
        let (_, engine) = audit::load_rules(&config, &[]).unwrap();
        audit::collection_plan(&engine, &config)
    };
    let untagged = plan(bucket_rules);
    assert!(untagged.needs(&ops::S3_LIST_OBJECTS_V2));
    assert!(!untagged.needs(&ops::S3_LIST_BUCKETS));
    assert!(!untagged.needs(&ops::S3_GET_BUCKET_TAGGING));
    let tagged = plan(&format!(
        "{bucket_rules}scope:\n  include: {{ tags: {{ app: \"sales-*\" }} }}\n"
    ));
    assert!(tagged.needs(&ops::S3_LIST_BUCKETS));
    assert!(tagged.needs(&ops::S3_GET_BUCKET_LOCATION));
    assert!(tagged.needs(&ops::S3_GET_BUCKET_TAGGING));
    // Only what placing the buckets takes.
    assert!(!tagged.needs(&ops::S3_GET_BUCKET_VERSIONING));
}

/// Collection errors follow the scope like results do, `include.names`
/// included; a listing failure (`*`) stays, as it may hide in-scope
/// resources.
#[test]
fn errors_follow_the_scope_including_include_names() {
    let config = parse("scope:\n  include: { names: [\"sales-scorecard-*\"] }\n").unwrap();
    let (_, engine) = audit::load_rules(&config, &[]).unwrap();
    let error =
        |kind: &str, id: Option<&str>, attributes: &[&str]| backstop::model::CollectionError {
            account: None,
            service: "x".into(),
            region: "eu-west-1".into(),
            operation: "Op".into(),
            code: "AccessDenied".into(),
            message: "denied".into(),
            resource_type: kind.into(),
            resource_id: id.map(str::to_string),
            attributes: attributes.iter().map(|a| a.to_string()).collect(),
        };
    let mut inventory = backstop::demo::inventory().unwrap();
    inventory.errors = vec![
        // A bucket outside include.names that could not be read at all.
        error("aws.s3.bucket", Some("other-team-backups"), &[]),
        // A collected log group outside include.names, a detail failure.
        error(
            "aws.logs.log_group",
            Some("/ecs/sales-scorecard-api"),
            &["retention_days"],
        ),
        // In scope by name.
        error("aws.s3.bucket", Some("sales-scorecard-archive"), &[]),
        // A listing failure: stays.
        error("aws.ecr.repository", None, &[]),
    ];
    let report = audit::run(&engine, inventory, &config, DEMO_NOW.parse().unwrap());
    let ids: Vec<Option<&str>> = report
        .collection_errors
        .iter()
        .map(|e| e.resource_id.as_deref())
        .collect();
    assert_eq!(ids, [Some("sales-scorecard-archive"), None]);
    assert!(
        !report
            .results
            .iter()
            .any(|f| f.resource.id == "other-team-backups"
                || f.resource.id == "/ecs/sales-scorecard-api")
    );
    assert_eq!(
        find(&report, "s3-default-encryption", "sales-scorecard-archive").status,
        Status::Error
    );
    assert_eq!(
        find(&report, "ecr-lifecycle-policy", "*").status,
        Status::Error
    );

    // Errors of resources left out by tags go with them; a region or
    // account out of scope drops listing failures too.
    let config = parse(
        "scope:\n  include: { tags: { app: \"sales-*\" } }\n  exclude: { regions: [us-east-1] }\n",
    )
    .unwrap();
    let mut inventory = backstop::demo::inventory().unwrap();
    let untagged = inventory
        .resources
        .iter()
        .find(|r| r.tags.get("app").is_none_or(|a| !a.starts_with("sales-")))
        .map(|r| (r.resource_type.name, r.id.clone(), r.region.clone()))
        .expect("the demo has a resource outside app: sales-*");
    let mut detail = error(untagged.0, Some(&untagged.1), &["kms_key_id"]);
    detail.region = untagged.2.clone();
    let mut elsewhere = error("aws.ecr.repository", None, &[]);
    elsewhere.region = "us-east-1".into();
    inventory.errors = vec![detail, elsewhere];
    let report = audit::run(&engine, inventory, &config, DEMO_NOW.parse().unwrap());
    assert!(
        report.collection_errors.is_empty(),
        "{:#?}",
        report.collection_errors
    );
}
