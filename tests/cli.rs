//! The `backstop` binary end to end, offline: the demo account, saved
//! inventories, exit statuses, report files and the helper commands.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn backstop(args: &[&str]) -> Output {
    backstop_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn backstop_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backstop"))
        .args(args)
        .current_dir(dir)
        // No AWS: live mode must never be reached by these tests.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env_remove("AWS_PROFILE")
        // Colour off a terminal only when a test asks for it.
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("backstop runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// `--color always|never` decide alone; with `auto` (stdout is no terminal
/// here) CLICOLOR_FORCE colours, unless NO_COLOR is set and not empty.
#[test]
fn color_follows_the_flag_and_the_environment() {
    let coloured = |flag: &str, env: &[(&str, &str)]| {
        let out = Command::new(env!("CARGO_BIN_EXE_backstop"))
            .args(["audit", "--demo", "--color", flag])
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .envs(env.iter().copied())
            .output()
            .expect("backstop runs");
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        stdout(&out).contains("\u{1b}[")
    };
    assert!(!coloured("auto", &[]));
    assert!(coloured("auto", &[("CLICOLOR_FORCE", "1")]));
    assert!(!coloured("auto", &[("CLICOLOR_FORCE", "0")]));
    assert!(!coloured(
        "auto",
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    ));
    assert!(coloured(
        "auto",
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")]
    ));
    assert!(coloured("always", &[("NO_COLOR", "1")]));
    assert!(!coloured("never", &[("CLICOLOR_FORCE", "1")]));
    let bad = backstop(&["audit", "--demo", "--color", "sometimes"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}

/// reports/ is what `scripts/demo-reports` writes; it must match the binary.
#[test]
fn demo_reports_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let out = backstop(&[
        "audit",
        "--demo",
        "--junit",
        &path("demo.junit.xml"),
        "--json",
        &path("demo.json"),
        "--markdown",
        &path("demo.md"),
        "--sarif",
        &path("demo.sarif"),
        "--csv",
        &path("demo.csv"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    std::fs::write(dir.path().join("demo.txt"), &out.stdout).unwrap();
    for name in [
        "demo.txt",
        "demo.junit.xml",
        "demo.json",
        "demo.md",
        "demo.sarif",
        "demo.csv",
    ] {
        let expected = std::fs::read_to_string(repo("reports").join(name)).unwrap();
        let actual = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(
            expected == actual,
            "reports/{name} is stale: run scripts/demo-reports and commit the result"
        );
    }
}

/// reports/demo.html is the page `scripts/demo-reports` builds from four
/// weekly demo audits; reports/demo.png (for the README) was taken of it.
/// Screenshots differ between Chromium builds, so the picture is checked
/// through the checksum of the page it shows.
#[test]
fn demo_html_report_and_its_picture_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let mut weeks = Vec::new();
    for day in ["2026-11-06", "2026-11-13", "2026-11-20", "2026-11-27"] {
        let path = dir.path().join(format!("{day}.json")).display().to_string();
        let now = format!("{day}T09:00:00Z");
        let out = backstop(&["audit", "--demo", "--now", &now, "--json", &path]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        weeks.push(path);
    }
    let page = dir.path().join("demo.html").display().to_string();
    let out = backstop(&[
        "report", "--html", &page, &weeks[3], &weeks[0], &weeks[1], &weeks[2],
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = std::fs::read(repo("reports/demo.html")).unwrap();
    assert!(
        std::fs::read(&page).unwrap() == expected,
        "reports/demo.html is stale: run scripts/demo-reports and commit the result"
    );
    let sha256 = Command::new("sha256sum")
        .arg(repo("reports/demo.html"))
        .output()
        .expect("sha256sum runs");
    let sha256 = String::from_utf8(sha256.stdout).unwrap();
    let source = std::fs::read_to_string(repo("reports/demo.png.source")).unwrap();
    assert_eq!(
        source.trim(),
        sha256.split_whitespace().next().unwrap(),
        "reports/demo.png was not taken of reports/demo.html: run scripts/demo-reports"
    );
    let png = std::fs::read(repo("reports/demo.png")).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "reports/demo.png is a PNG"
    );
}

/// The demo shows the backup-strategy document's gap list as failures.
#[test]
fn demo_shows_the_strategy_documents_gaps() {
    let out = backstop(&["audit", "--demo", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["schema"], "backstop.report/v1");
    let failing = |rule: &str, id: &str| {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == rule && r["resource"]["id"] == id && r["status"] == "fail")
    };
    let passing = |rule: &str, id: &str| {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == rule && r["resource"]["id"] == id && r["status"] == "pass")
    };
    // What the document lists as protected.
    assert!(passing("rds-backup-retention", "sales-scorecard-prod"));
    assert!(passing("rds-deletion-protection", "sales-scorecard-prod"));
    assert!(passing("rds-storage-encrypted", "sales-scorecard-prod"));
    assert!(passing("s3-versioning", "sales-scorecard-backups"));
    assert!(passing(
        "s3-lifecycle-expiration",
        "sales-scorecard-backups"
    ));
    assert!(passing("s3-default-encryption", "sales-scorecard-backups"));
    // What it lists as needing improvement.
    assert!(failing("rds-multi-az", "sales-scorecard-prod"));
    assert!(failing("rds-cross-region-backups", "sales-scorecard-prod"));
    assert!(failing(
        "s3-cross-region-replication",
        "sales-scorecard-backups"
    ));
    assert!(failing("ecr-lifecycle-policy", "sales-scorecard-api"));
    assert!(failing(
        "ecr-cross-region-replication",
        "sales-scorecard-api"
    ));
    assert!(failing("logs-retention", "/ecs/sales-scorecard-api"));
    assert!(failing("rds-backup-retention", "sales-scorecard-staging"));
    assert_eq!(report["summary"]["error"], 0);
}

#[test]
fn fail_on_sets_the_exit_status() {
    // The demo's worst failures are high.
    for (level, code) in [
        ("critical", 0),
        ("high", 1),
        ("medium", 1),
        ("low", 1),
        ("never", 0),
    ] {
        let out = backstop(&["audit", "--demo", "--fail-on", level]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "--fail-on {level}: {}",
            stderr(&out)
        );
        if code == 1 {
            assert!(stderr(&out).contains("gate failed"), "{}", stderr(&out));
        }
    }
    let out = backstop(&["audit", "--demo", "--fail-on", "severe"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("critical, high, medium, low or never"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn writes_every_report_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let out = backstop(&[
        "audit",
        "--demo",
        "--fail-on",
        "never",
        "--junit",
        p("r.xml").to_str().unwrap(),
        "--json",
        p("r.json").to_str().unwrap(),
        "--markdown",
        p("r.md").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let xml = std::fs::read_to_string(p("r.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "testsuites");
    assert_eq!(doc.root_element().attribute("failures"), Some("24"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("r.json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["fail"], 24);
    let md = std::fs::read_to_string(p("r.md")).unwrap();
    assert!(md.contains("- [ ] "), "{md}");
    // Passes are counted per rule in a folded block, not listed one by one.
    assert!(
        md.contains("<details><summary>21 results passing in "),
        "{md}"
    );
    // The table still went to stdout.
    assert!(stdout(&out).contains("rds-multi-az"));
}

/// The CSV has one row per result of the JSON, in the same order, with the
/// same statuses.
#[test]
fn the_demo_csv_holds_every_result_of_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    let out = backstop(&[
        "audit",
        "--demo",
        "--json",
        &p("r.json"),
        "--csv",
        &p("r.csv"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("r.json")).unwrap()).unwrap();
    let results = json["results"].as_array().unwrap();
    let mut reader = csv::Reader::from_path(p("r.csv")).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        backstop::render::csv::COLUMNS.as_slice()
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), results.len());
    assert!(rows.len() > 40, "the demo has passes and failures");
    for (row, result) in rows.iter().zip(results) {
        let cell = |name: &str| {
            let i = backstop::render::csv::COLUMNS
                .iter()
                .position(|c| *c == name);
            &row[i.unwrap()]
        };
        assert_eq!(cell("rule"), result["rule"], "{row:?}");
        assert_eq!(cell("status"), result["status"], "{row:?}");
        assert_eq!(cell("severity"), result["severity"], "{row:?}");
        assert_eq!(cell("resource_id"), result["resource"]["id"], "{row:?}");
        assert_eq!(cell("arn"), result["resource"]["arn"], "{row:?}");
        assert_eq!(cell("message"), result["message"], "{row:?}");
    }
    // RFC 4180 line ends.
    let text = std::fs::read_to_string(p("r.csv")).unwrap();
    assert!(text.starts_with("rule,title,severity,category,status,"));
    assert_eq!(text.matches("\r\n").count(), text.matches('\n').count());
}

#[test]
fn markdown_to_stdout_replaces_the_table() {
    let out = backstop(&["audit", "--demo", "--markdown", "-", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("**backstop:"), "{text}");
    assert!(!text.contains('┌'), "no table: {text}");
}

#[test]
fn audits_a_saved_inventory_at_its_collection_time() {
    let out = backstop(&[
        "audit",
        "--inventory",
        "demo/sales-scorecard.json",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["generated_at"], "2026-11-20T09:00:00Z");
    // A month later the point-in-time recovery is stale.
    let out = backstop(&[
        "audit",
        "--inventory",
        "demo/sales-scorecard.json",
        "--now",
        "2026-12-20T09:00:00Z",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pitr = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "rds-pitr-fresh" && r["resource"]["id"] == "sales-scorecard-prod")
        .unwrap();
    assert_eq!(pitr["status"], "fail");
    assert!(
        pitr["message"]
            .as_str()
            .unwrap()
            .contains("expected newer than 1h"),
        "{pitr}"
    );
}

#[test]
fn bad_inputs_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let bad_inventory = dir.path().join("inv.json");
    std::fs::write(&bad_inventory, r#"{"schema": "backstop.inventory/v1", "resources": [{"type": "aws.rds.db_instance", "id": "x", "attributes": {"multi_az": "no"}}]}"#).unwrap();
    let out = backstop(&["audit", "--inventory", bad_inventory.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("attribute multi_az: expected bool"),
        "{}",
        stderr(&out)
    );

    let out = backstop(&["audit", "--inventory", "/nonexistent/inv.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read /nonexistent/inv.json"),
        "{}",
        stderr(&out)
    );

    let out = backstop(&["audit", "--demo", "--now", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));

    let out = backstop(&["audit", "--demo", "--inventory", "x.json"]);
    assert_eq!(out.status.code(), Some(2), "conflicting flags");

    let out = backstop(&["audit", "--demo", "--json", "/nonexistent/dir/r.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
}

#[test]
fn bad_rule_files_exit_2_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("my-rule.yaml"),
        "id: my-rule\ntitle: t\nresource: aws.rds.db_instance\nseverity: high\ncategory: retention\nassert:\n  multi_azz: { eq: true }\nrationale: r\nremediation: x\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.yaml"), "id: [unclosed\n").unwrap();
    let rules = dir.path().to_str().unwrap();
    for args in [
        vec!["rules", "check", rules],
        vec!["audit", "--demo", "--rules", rules],
    ] {
        let out = backstop(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("my-rule.yaml:7:3: error[unknown-attribute]"),
            "{err}"
        );
        assert!(err.contains("did you mean `multi_az`?"), "{err}");
        assert!(err.contains("broken.yaml:"), "{err}");
        assert!(err.contains("error[yaml-syntax]"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_new_rule_is_just_a_yaml_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rds-copy-tags.yaml"),
        "id: rds-copy-tags\ntitle: Snapshots inherit tags\nresource: aws.rds.db_instance\nseverity: low\ncategory: retention\nassert:\n  copy_tags_to_snapshot: { eq: true }\nrationale: Tags drive backup policies.\nremediation: aws rds modify-db-instance --db-instance-identifier {id} --copy-tags-to-snapshot\nreferences: [x]\n",
    )
    .unwrap();
    let rules = dir.path().to_str().unwrap();
    let out = backstop(&["rules", "check", rules]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 rule file OK"));
    let out = backstop(&[
        "audit",
        "--demo",
        "--rules",
        rules,
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results: Vec<_> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "rds-copy-tags")
        .map(|r| {
            (
                r["resource"]["id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        results,
        vec![
            ("sales-scorecard-prod".to_string(), "pass".to_string()),
            ("sales-scorecard-staging".to_string(), "fail".to_string())
        ]
    );
}

#[test]
fn explain_schema_and_rules_list() {
    let out = backstop(&["explain", "rds-backup-retention"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for part in [
        "## Why it matters",
        "## How to fix",
        "backup_retention_days >= 7",
        "min_days = 7",
        "rds:DescribeDBInstances",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    let out = backstop(&["explain", "rds-backup-retentoin"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `rds-backup-retention`?"),
        "{}",
        stderr(&out)
    );

    let out = backstop(&["schema", "aws.s3.bucket"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("s3:GetLifecycleConfiguration"),
        "{}",
        stdout(&out)
    );
    let out = backstop(&["schema", "aws.s3.buckets"]);
    assert_eq!(out.status.code(), Some(2));

    let out = backstop(&["rules", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let count = backstop::rules::RuleSet::builtin().unwrap().rules().len();
    assert!(
        stdout(&out).contains(&format!("\n{count} rules\n")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn iam_policy_is_read_only_and_follows_the_enabled_rules() {
    let out = backstop(&["iam-policy"]);
    assert_eq!(out.status.code(), Some(0));
    let policy: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions: Vec<&str> = policy["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for action in &actions {
        let verb = action.split(':').nth(1).unwrap();
        assert!(
            ["Describe", "Get", "List"]
                .iter()
                .any(|p| verb.starts_with(p)),
            "{action} is not read-only"
        );
    }
    assert!(actions.contains(&"ecr:GetLifecyclePolicy"));
    assert!(actions.contains(&"kms:DescribeKey"));

    // With the ECR rules and the customer-key rules disabled, their calls go.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("backstop.yaml"),
        "disable: [ecr-lifecycle-policy, ecr-tag-immutability, ecr-cross-region-replication, rds-encryption-customer-key, backup-vault-encrypted-cmk]\n",
    )
    .unwrap();
    let out = backstop_in(dir.path(), &["iam-policy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("ecr:"), "{text}");
    assert!(!text.contains("kms:DescribeKey"), "{text}");
    assert!(text.contains("rds:DescribeDBInstances"), "{text}");
}

/// The JSON documents of `iam-policy --org`, each after its `#` lines.
fn org_documents(args: &[&str]) -> Vec<serde_json::Value> {
    let out = backstop(&[&["iam-policy", "--org"], args].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let json: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let documents: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&json)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(documents.len(), 3, "{text}");
    for (n, what) in [
        (1, "Permission policy of the role"),
        (2, "Trust policy of the role"),
        (3, "Permission policy of the credentials that run backstop"),
    ] {
        assert!(text.contains(&format!("# {n}. {what}")), "{text}");
    }
    documents
}

fn actions_of(statement: &serde_json::Value) -> Vec<&str> {
    match &statement["Action"] {
        serde_json::Value::String(one) => vec![one.as_str()],
        many => many
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect(),
    }
}

#[test]
fn iam_policy_for_an_organisation_gives_the_role_its_trust_and_the_caller_policy() {
    let [member, trust, caller] = <[_; 3]>::try_from(org_documents(&[])).unwrap();
    // 1: today's policy, plus what every member account is asked.
    let single: serde_json::Value =
        serde_json::from_slice(&backstop(&["iam-policy"]).stdout).unwrap();
    let member_actions = actions_of(&member["Statement"][0]);
    for action in actions_of(&single["Statement"][0]) {
        assert!(member_actions.contains(&action), "{action} missing");
    }
    assert!(member_actions.contains(&"iam:ListAccountAliases"));
    assert!(member_actions.contains(&"ec2:DescribeRegions"));
    // 2: the auditing account may assume the role; a placeholder until given.
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(actions_of(statement), ["sts:AssumeRole"]);
    assert_eq!(
        statement["Principal"]["AWS"],
        "arn:aws:iam::<AUDIT_ACCOUNT_ID>:root"
    );
    assert!(statement.get("Condition").is_none());
    // 3: list the organisation, and assume the role in any account.
    let listing = actions_of(&caller["Statement"][0]);
    assert_eq!(
        listing,
        [
            "organizations:ListAccounts",
            "organizations:ListAccountsForParent",
            "organizations:ListOrganizationalUnitsForParent"
        ]
    );
    assert_eq!(actions_of(&caller["Statement"][1]), ["sts:AssumeRole"]);
    assert_eq!(
        caller["Statement"][1]["Resource"],
        "arn:aws:iam::*:role/BackstopAudit"
    );

    let [_, trust, caller] = <[_; 3]>::try_from(org_documents(&[
        "--caller-account",
        "123456789012",
        "--external-id",
        "ext\"id",
        "--role-name",
        "Audit.Role",
    ]))
    .unwrap();
    let statement = &trust["Statement"][0];
    assert_eq!(
        statement["Principal"]["AWS"],
        "arn:aws:iam::123456789012:root"
    );
    assert_eq!(
        statement["Condition"]["StringEquals"]["sts:ExternalId"],
        "ext\"id"
    );
    assert_eq!(
        caller["Statement"][1]["Resource"],
        "arn:aws:iam::*:role/Audit.Role"
    );
}

#[test]
fn iam_policy_org_refuses_bad_names_and_stray_flags() {
    for args in [
        &["iam-policy", "--org", "--role-name", "a\n# b"][..],
        &["iam-policy", "--org", "--caller-account", "12345"],
        &["iam-policy", "--role-name", "BackstopAudit"],
        &["iam-policy", "--external-id", "x"],
    ] {
        let out = backstop(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
    }
}

#[test]
fn no_credentials_or_endpoint_exits_3() {
    let out = Command::new(env!("CARGO_BIN_EXE_backstop"))
        .args(["audit", "--regions", "us-east-1", "--timeout", "5"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot reach AWS"),
        "{}",
        stderr(&out)
    );
}

/// The rule-authoring example in the README is a working rule.
#[test]
fn readme_rule_example_is_valid() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let start = readme
        .find("# rules/rds/rds-copy-tags-to-snapshot.yaml")
        .expect("README has the example");
    let end = start + readme[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rds-copy-tags-to-snapshot.yaml"),
        &readme[start..end],
    )
    .unwrap();
    let out = backstop(&["rules", "check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn two_formats_cannot_share_stdout() {
    let out = backstop(&["audit", "--demo", "--markdown", "-", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("both write to stdout"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_report_in_a_missing_folder_is_refused_before_any_aws_call() {
    // Live mode against an endpoint nothing listens on: had the audit
    // started, it would have failed to reach AWS (exit 3), not exit 2.
    for flag in ["--json", "--sarif", "--csv"] {
        let out = Command::new(env!("CARGO_BIN_EXE_backstop"))
            .args(["audit", "--regions", "eu-west-1", flag, "no/such/folder/r"])
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("the folder no/such/folder does not exist"),
            "{flag}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn init_leaves_the_regions_to_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(backstop_in(dir.path(), &["init"]).status.code(), Some(0));
    let config = backstop::config::Config::load(&dir.path().join("backstop.yaml")).unwrap();
    assert!(config.regions.is_empty(), "{:?}", config.regions);
}
