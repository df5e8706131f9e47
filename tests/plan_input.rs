//! `backstop audit --plan`: Terraform plans (`terraform show -json`) judged by
//! the built-in rules, with the `.tf` line of each resource. The fixtures in
//! `tests/fixtures/plans/` are real Terraform 1.11 / AWS provider 5.100
//! plans (see their README); the last test seeds the emulator with what the
//! review plan would create and checks the live audit agrees.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use backstop::model::Inventory;
use backstop::report::{Report, Status};
use backstop::rules::RuleSet;
use jiff::Timestamp;
use serde_json::Value as Json;
use support::moto::Moto;
use support::seed::Seed;

const NOW: &str = "2026-12-01T00:00:00Z";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs backstop from the repository root.
fn backstop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backstop"))
        .args(args)
        .current_dir(root())
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn plan(name: &str) -> String {
    format!("tests/fixtures/plans/{name}/plan.json")
}

/// The JSON report of the fixture plan `name`, with `extra` flags.
fn audit(name: &str, extra: &[&str]) -> (Output, Json) {
    audit_plan(&plan(name), extra)
}

/// The JSON report of the plan file at `plan`, with `extra` flags.
fn audit_plan(plan: &str, extra: &[&str]) -> (Output, Json) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let mut args = vec![
        "audit",
        "--plan",
        plan,
        "--now",
        NOW,
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = backstop(&args);
    let text = std::fs::read_to_string(&json)
        .unwrap_or_else(|_| panic!("no report: {}", String::from_utf8_lossy(&out.stderr).trim()));
    (out, serde_json::from_str(&text).unwrap())
}

/// (rule, resource id) → (status, message, address, "file:line").
fn results(report: &Json) -> BTreeMap<(String, String), (String, String, String, String)> {
    let mut out = BTreeMap::new();
    for r in report["results"].as_array().unwrap() {
        let location = match &r["location"] {
            Json::Null => String::new(),
            l => format!("{}:{}", l["file"].as_str().unwrap(), l["line"]),
        };
        let key = (
            r["rule"].as_str().unwrap().to_string(),
            r["resource"]["id"].as_str().unwrap().to_string(),
        );
        let value = (
            r["status"].as_str().unwrap().to_string(),
            r["message"].as_str().unwrap().to_string(),
            r["resource"]["address"].as_str().unwrap_or("").to_string(),
            location,
        );
        assert!(out.insert(key, value).is_none(), "one result per pair");
    }
    out
}

fn status_of(report: &Json, rule: &str, id: &str) -> String {
    let all = results(report);
    all.get(&(rule.to_string(), id.to_string()))
        .unwrap_or_else(|| panic!("no result of {rule} on {id}: {all:#?}"))
        .0
        .clone()
}

const REVIEW_FILE: &str = "tests/fixtures/plans/review/main.tf";
const REVIEW_MODULE_FILE: &str = "tests/fixtures/plans/review/modules/backup_bucket/main.tf";

/// The line of the `resource "TYPE" "NAME"` block in `file`, read here
/// independently of the HCL parser the tool uses.
fn block_line(file: &str, tf_type: &str, name: &str) -> usize {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let head = format!("resource \"{tf_type}\" \"{name}\"");
    text.lines()
        .position(|l| l.trim_start().starts_with(&head))
        .unwrap_or_else(|| panic!("{head} not in {file}"))
        + 1
}

#[test]
fn a_review_plan_fails_on_the_three_gaps_at_their_tf_lines() {
    let (out, report) = audit("review", &[]);
    assert_eq!(out.status.code(), Some(1), "high failures fail the gate");
    assert_eq!(report["source"]["kind"], "terraform-plan");
    let all = results(&report);
    let expect = [
        (
            "rds-backup-retention",
            "orders",
            "aws_db_instance.orders",
            REVIEW_FILE,
            ("aws_db_instance", "orders"),
            "backup_retention_days is 1, expected >= 7",
        ),
        (
            "s3-versioning",
            "acme-db-backups",
            "module.backup.aws_s3_bucket.this",
            REVIEW_MODULE_FILE,
            ("aws_s3_bucket", "this"),
            "versioning is \"Disabled\", expected \"Enabled\"",
        ),
        (
            "ecr-lifecycle-policy",
            "app",
            "aws_ecr_repository.app",
            REVIEW_FILE,
            ("aws_ecr_repository", "app"),
            "lifecycle_policy is false, expected true",
        ),
    ];
    for (rule, id, address, file, (tf_type, name), message) in expect {
        let (status, got_message, got_address, location) =
            &all[&(rule.to_string(), id.to_string())];
        assert_eq!(status, "fail", "{rule} on {id}");
        assert_eq!(got_message, message);
        assert_eq!(got_address, address);
        assert_eq!(
            location,
            &format!("{file}:{}", block_line(file, tf_type, name)),
            "{rule} on {id}"
        );
    }
    // A fact computed at apply is an error that says so, never a pass.
    let (status, message, ..) = &all[&("rds-backup-window".into(), "orders".into())];
    assert_eq!(status, "error");
    assert_eq!(
        message,
        "could not decide: backup_window is known after apply"
    );
    // The AWS defaults of a new bucket: SSE-S3 at least, public access blocked.
    assert_eq!(
        status_of(&report, "s3-public-access-blocked", "acme-db-backups"),
        "pass"
    );
}

#[test]
fn live_only_rules_are_listed_once_not_judged() {
    let (_, report) = audit("review", &[]);
    let not_evaluated: BTreeMap<&str, (&str, u64)> = report["not_evaluated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["rule"].as_str().unwrap(),
                (
                    n["reason"].as_str().unwrap(),
                    n["resources"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    for rule in [
        "rds-pitr-fresh",
        "rds-cluster-pitr-fresh",
        "rds-cross-region-backups",
        "rds-backup-alerts",
        "s3-exports-fresh",
        "backup-recovery-point-fresh",
        "backup-restore-tested",
        "backup-restore-within-rto",
    ] {
        assert!(
            not_evaluated.contains_key(rule),
            "{rule}: {not_evaluated:?}"
        );
    }
    assert_eq!(
        not_evaluated["rds-pitr-fresh"],
        (
            "reads latest_restorable_time, which only a live account has (a plan cannot know it)",
            1
        )
    );
    let judged: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    for rule in not_evaluated.keys() {
        assert!(!judged.contains(rule), "{rule} was judged on a plan");
    }
    assert_eq!(report["results"].as_array().unwrap().len(), 17);
}

#[test]
fn the_markdown_checklist_of_a_plan_links_each_block() {
    let out = backstop(&[
        "audit",
        "--plan",
        &plan("review"),
        "--now",
        NOW,
        "--markdown",
        "-",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!(text);
}

#[test]
fn junit_carries_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    backstop(&[
        "audit",
        "--plan",
        &plan("review"),
        "--now",
        NOW,
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let xml = std::fs::read_to_string(junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("classname") == Some("s3-versioning"))
        .unwrap();
    assert_eq!(case.attribute("file"), Some(REVIEW_MODULE_FILE));
    assert_eq!(
        case.attribute("line"),
        Some(
            block_line(REVIEW_MODULE_FILE, "aws_s3_bucket", "this")
                .to_string()
                .as_str()
        )
    );
}

#[test]
fn split_out_resources_join_their_bucket_repository_group_vault_and_plan() {
    let (_, report) = audit("split-resources", &[]);
    for (rule, id, status) in [
        // v5 split S3 resources, joined through references (ids are unknown).
        ("s3-versioning", "acme-logs-backup", "pass"),
        ("s3-default-encryption", "acme-logs-backup", "pass"),
        ("s3-lifecycle-expiration", "acme-logs-backup", "pass"),
        // The destination bucket's region comes from its provider (aws.dr).
        ("s3-cross-region-replication", "acme-logs-backup", "pass"),
        ("s3-public-access-blocked", "acme-logs-backup", "pass"),
        ("s3-lifecycle-expiration", "acme-logs-backup-dr", "fail"),
        ("ecr-lifecycle-policy", "api", "pass"),
        ("ecr-cross-region-replication", "api", "pass"),
        ("logs-centralized", "/app/api", "pass"),
        ("logs-retention", "/app/api", "pass"),
        ("rds-cluster-backup-retention", "ledger", "pass"),
        ("rds-cluster-deletion-protection", "ledger", "pass"),
        ("rds-cluster-storage-encrypted", "ledger", "pass"),
        // A cluster without instances has no second zone.
        ("rds-cluster-multi-az", "ledger", "fail"),
        ("rds-encryption-customer-key", "billing", "pass"),
        (
            "rds-snapshot-encrypted",
            "billing-manual-2024-06-01",
            "pass",
        ),
        (
            "rds-snapshot-not-public",
            "ledger-manual-2024-06-01",
            "pass",
        ),
        ("backup-vault-locked", "main", "pass"),
        ("backup-vault-locked", "dr", "fail"),
        ("backup-vault-encrypted-cmk", "main", "pass"),
        ("backup-vault-encrypted-cmk", "dr", "fail"),
        (
            "backup-plan-cross-region-copy",
            "aws_backup_plan.daily",
            "pass",
        ),
        (
            "backup-plan-frequency-retention",
            "aws_backup_plan.daily",
            "pass",
        ),
        ("secrets-cross-region-replica", "db-password", "pass"),
        ("secrets-not-pending-deletion", "db-password", "pass"),
    ] {
        assert_eq!(status_of(&report, rule, id), status, "{rule} on {id}");
    }
}

#[test]
fn provider_v3_inline_blocks_are_read() {
    let (_, report) = audit("provider-v3", &[]);
    for (rule, id, status) in [
        ("s3-versioning", "acme-archive-backup", "pass"),
        ("s3-default-encryption", "acme-archive-backup", "pass"),
        ("s3-lifecycle-expiration", "acme-archive-backup", "pass"),
        ("s3-versioning", "acme-old-backup", "fail"),
        ("s3-lifecycle-expiration", "acme-old-backup", "fail"),
    ] {
        assert_eq!(status_of(&report, rule, id), status, "{rule} on {id}");
    }
    // The replication destination is not in the plan: its region is unknown.
    let all = results(&report);
    let (status, message, ..) = &all[&(
        "s3-cross-region-replication".into(),
        "acme-archive-backup".into(),
    )];
    assert_eq!(status, "error");
    assert!(
        message.contains("replication_rules[0].destination_region is not known from the plan"),
        "{message}"
    );
}

#[test]
fn modules_and_instance_keys_give_addresses_and_module_files() {
    let (_, report) = audit("modules", &[]);
    let all = results(&report);
    let db = "tests/fixtures/plans/modules/modules/db/main.tf";
    let line = block_line(db, "aws_db_instance", "this");
    for (id, address, status) in [
        (
            "prod-db",
            r#"module.env["prod"].module.db.aws_db_instance.this"#,
            "pass",
        ),
        (
            "staging-db",
            r#"module.env["staging"].module.db.aws_db_instance.this"#,
            "fail",
        ),
    ] {
        let (got, _, got_address, location) = &all[&("rds-backup-retention".into(), id.into())];
        assert_eq!((got.as_str(), got_address.as_str()), (status, address));
        assert_eq!(location, &format!("{db}:{line}"));
    }
    // count: each bucket gets the versioning of its own index.
    for id in ["acme-copies-backup-0", "acme-copies-backup-1"] {
        assert_eq!(status_of(&report, "s3-versioning", id), "pass", "{id}");
    }
    let (.., address, _) = &all[&("s3-versioning".into(), "acme-copies-backup-1".into())];
    assert_eq!(address, "aws_s3_bucket.copies[1]");
}

#[test]
fn facts_known_after_apply_are_errors_that_say_so() {
    let (_, report) = audit("unknown", &[]);
    let all = results(&report);
    let (status, message, ..) = &all[&(
        "rds-backup-retention".into(),
        "aws_db_instance.analytics".into(),
    )];
    assert_eq!(status, "error");
    assert_eq!(
        message,
        "could not decide: backup_retention_days is known after apply"
    );
    // A bucket named by `bucket_prefix` may match the backup-bucket glob:
    // whether the rule applies is unknown, never "not applicable".
    let (status, message, ..) = &all[&("s3-versioning".into(), "aws_s3_bucket.b".into())];
    assert_eq!(status, "error");
    assert_eq!(
        message,
        "could not decide whether the rule applies: id is known after apply"
    );
}

#[test]
fn deleted_resources_are_not_audited_replaced_and_kept_ones_are() {
    let (_, report) = audit("lifecycle", &[]);
    let ids: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource"]["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&"legacy"),
        "a deleted instance is not audited"
    );
    assert_eq!(
        status_of(&report, "rds-storage-encrypted", "reporting"),
        "pass"
    );
    assert_eq!(status_of(&report, "rds-backup-retention", "main"), "pass");
    assert_eq!(status_of(&report, "ecr-tag-immutability", "base"), "pass");
    assert!(ids.contains(&"acme-tf-backup"));
    // An existing repository's lifecycle policy is not in this configuration.
    let all = results(&report);
    let (status, message, ..) = &all[&("ecr-lifecycle-policy".into(), "base".into())];
    assert_eq!(status, "error");
    assert!(
        message.contains("not managed by this configuration"),
        "{message}"
    );
}

#[test]
fn bad_plan_files_are_exit_2_with_a_position() {
    for (file, expect) in [
        (
            "bad/not-a-plan.json",
            "not-a-plan.json:1:49: not a Terraform plan (missing field `format_version`)",
        ),
        (
            "bad/wrong-version.json",
            "wrong-version.json:2:3: format_version is \"2.0\"",
        ),
        (
            "bad/truncated.json",
            "truncated.json:41:0: not valid plan JSON: EOF while parsing",
        ),
    ] {
        let path = format!("tests/fixtures/plans/{file}");
        let out = backstop(&["audit", "--plan", &path]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains(expect), "{file}: {stderr}");
    }
    // A resource whose region no provider names, and none is given.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(plan("review")))
        .unwrap()
        .replace(
            r#""constant_value": "eu-west-1""#,
            r#""constant_value": null"#,
        );
    let path = dir.path().join("plan.json");
    std::fs::write(&path, text).unwrap();
    let out = backstop(&["audit", "--plan", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--regions REGION"));
    let out = backstop(&[
        "audit",
        "--plan",
        path.to_str().unwrap(),
        "--regions",
        "eu-west-1",
    ]);
    assert_eq!(out.status.code(), Some(1), "audited with the region given");
}

/// The lifecycle plan over an inventory of the account before apply.
fn before_apply() -> Inventory {
    let text = r#"{"schema":"backstop.inventory/v1",
      "source":{"kind":"live","account":"123456789012","regions":["eu-west-1"]},
      "collected_at":"2026-11-30T23:00:00Z",
      "resources":[
        {"type":"aws.rds.db_instance","id":"main","region":"eu-west-1","account":"123456789012",
         "attributes":{"backup_retention_days":1,"latest_restorable_time":"2026-11-30T23:55:00Z",
           "cluster_id":null,"deletion_protection":true,"multi_az":true}},
        {"type":"aws.rds.db_instance","id":"legacy","region":"eu-west-1","account":"123456789012",
         "attributes":{"backup_retention_days":0,"cluster_id":null,"deletion_protection":false}},
        {"type":"aws.ecr.repository","id":"base","region":"eu-west-1","account":"123456789012",
         "attributes":{"lifecycle_policy":true,"tag_mutability":"IMMUTABLE"}},
        {"type":"aws.ecr.repository","id":"untouched","region":"eu-west-1","account":"123456789012",
         "attributes":{"lifecycle_policy":false}}
      ],"errors":[]}"#;
    Inventory::from_json(text, "before.json").unwrap()
}

#[test]
fn a_plan_over_an_inventory_is_the_account_after_apply_and_diff_tells_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("before.json");
    std::fs::write(&inventory, before_apply().to_json()).unwrap();
    let inv = inventory.to_str().unwrap();
    let (_, after) = audit("lifecycle", &["--inventory", inv]);
    assert_eq!(after["source"]["kind"], "live+plan");
    let ids: Vec<&str> = after["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource"]["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"legacy"), "deleted by the plan");
    assert!(ids.contains(&"untouched"), "the rest of the account stays");
    // The planned retention wins; the live restore time is kept, so the
    // live-only rule is judged on the existing instance.
    assert_eq!(status_of(&after, "rds-backup-retention", "main"), "pass");
    assert_eq!(status_of(&after, "rds-pitr-fresh", "main"), "pass");
    // What the configuration does not manage comes from the account.
    assert_eq!(status_of(&after, "ecr-lifecycle-policy", "base"), "pass");
    // The replaced instance is new: no live fact of the old one carries over.
    let not_evaluated: Vec<&str> = after["not_evaluated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["rule"].as_str().unwrap())
        .collect();
    assert!(
        not_evaluated.contains(&"rds-pitr-fresh"),
        "{not_evaluated:?}"
    );

    // The account before apply, and the diff a reviewer reads.
    let before_json = dir.path().join("before-report.json");
    let out = backstop(&[
        "audit",
        "--inventory",
        inv,
        "--now",
        NOW,
        "--json",
        before_json.to_str().unwrap(),
    ]);
    assert!(out.status.code().is_some());
    let after_json = dir.path().join("after-report.json");
    std::fs::write(&after_json, serde_json::to_string(&after).unwrap()).unwrap();
    let out = backstop(&[
        "diff",
        before_json.to_str().unwrap(),
        after_json.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let diff: Json = serde_json::from_slice(&out.stdout).unwrap();
    let mentions = |section: &str, rule: &str, id: &str| {
        diff[section].as_array().is_some_and(|items| {
            items
                .iter()
                .any(|f| f["rule"] == rule && f["resource"]["id"] == id)
        })
    };
    assert!(
        mentions("fixed", "rds-backup-retention", "main"),
        "the plan fixes main's retention: {diff:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_plan_and_the_applied_account_agree() {
    let moto = Moto::start();
    let seed = Seed::new(&moto, "eu-west-1").await;
    // What applying tests/fixtures/plans/review would create.
    seed.instance("orders")
        .backup_retention_period(1)
        .deletion_protection(false)
        .multi_az(false)
        .storage_encrypted(true)
        .send()
        .await
        .unwrap();
    seed.bucket("acme-db-backups").await;
    let key = seed.key().await;
    seed.encrypted("acme-db-backups", Some(&key)).await;
    seed.public_access_block("acme-db-backups", true).await;
    seed.repository("app", false).await;
    seed.log_group("/app/orders", Some(90)).await;
    let mut options = moto.options(&["eu-west-1"]);
    options.plan = support::moto::without_aws_backup(options.plan);
    let inventory = moto.collect(&options).await.inventory;
    let engine = RuleSet::builtin()
        .unwrap()
        .compile(&Default::default())
        .unwrap();
    let now: Timestamp = NOW.parse().unwrap();
    let live: Report = engine.audit(&inventory, now);

    let (_, planned) = audit("review", &[]);
    let mut compared = 0;
    let mut unreadable_live = Vec::new();
    for ((rule, id), (status, ..)) in results(&planned) {
        // Errors are what the plan cannot know yet; the rest must agree.
        if status == "error" {
            continue;
        }
        let found = live
            .results
            .iter()
            .find(|f| f.rule == rule && f.resource.id == id)
            .unwrap_or_else(|| panic!("no live result of {rule} on {id}"));
        if found.status == Status::Error {
            unreadable_live.push(format!("{rule} on {id}: {}", found.message));
            continue;
        }
        let expected = match status.as_str() {
            "pass" => Status::Pass,
            _ => Status::Fail,
        };
        assert_eq!(found.status, expected, "{rule} on {id}: plan {status}");
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} verdicts compared");
    // moto has no AWS managed `aws/rds` key to describe: the live side of
    // this one verdict cannot be read from the emulator.
    assert_eq!(unreadable_live.len(), 1, "{unreadable_live:#?}");
    assert!(
        unreadable_live[0].starts_with("rds-encryption-customer-key on orders"),
        "{unreadable_live:#?}"
    );
    for (rule, id) in [
        ("rds-backup-retention", "orders"),
        ("s3-versioning", "acme-db-backups"),
        ("ecr-lifecycle-policy", "app"),
    ] {
        let live_status = live
            .results
            .iter()
            .find(|f| f.rule == rule && f.resource.id == id)
            .map(|f| f.status);
        assert_eq!(live_status, Some(Status::Fail), "{rule} on {id} live");
    }
}

#[test]
fn a_split_out_setting_that_cannot_be_placed_leaves_new_buckets_unknown() {
    // The public access block and encryption refer to their bucket through
    // an expression backstop does not follow: either may configure the new
    // bucket, so its AWS defaults cannot be assumed.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(plan("review")))
        .unwrap()
        .replace(r#""aws_s3_bucket.this.id""#, r#""each.value.id""#)
        .replace(r#""aws_s3_bucket.this""#, r#""each.value""#);
    let path = dir.path().join("plan.json");
    std::fs::write(&path, text).unwrap();
    let (_, report) = audit_plan(path.to_str().unwrap(), &[]);
    let all = results(&report);
    for rule in ["s3-public-access-blocked", "s3-default-encryption"] {
        let (status, message, ..) = &all[&(rule.to_string(), "acme-db-backups".to_string())];
        assert_eq!(status, "error", "{rule}");
        assert!(message.contains("known after apply"), "{rule}: {message}");
    }
}

#[test]
fn a_name_scope_cannot_drop_a_resource_named_at_apply() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("backstop.yaml");
    std::fs::write(&config, "scope:\n  exclude: { names: [\"*-scratch\"] }\n").unwrap();
    let (_, report) = audit("unknown", &["--config", config.to_str().unwrap()]);
    let all = results(&report);
    // `bucket_prefix`: the name is made at apply, so the scope cannot tell.
    let (status, message, ..) = &all[&("s3-versioning".into(), "aws_s3_bucket.b".into())];
    assert_eq!(status, "error");
    assert!(
        message.contains("its name is known only after apply"),
        "{message}"
    );
    // A named resource is placed as usual.
    assert_eq!(
        status_of(&report, "rds-storage-encrypted", "warehouse"),
        "pass"
    );
}

#[test]
fn a_setting_the_plan_changes_on_an_unmanaged_bucket_is_not_judged_on_its_old_value() {
    // The plan suspends versioning on a bucket its configuration does not
    // hold; laid over an account where that bucket is versioned today, the
    // old `Enabled` must not pass.
    let dir = tempfile::tempdir().unwrap();
    let plan = serde_json::json!({
        "format_version": "1.2",
        "planned_values": {"root_module": {}},
        "resource_changes": [{
            "address": "aws_s3_bucket_versioning.legacy",
            "mode": "managed",
            "type": "aws_s3_bucket_versioning",
            "name": "legacy",
            "change": {
                "actions": ["create"],
                "before": null,
                "after": {"bucket": "legacy-backups", "versioning_configuration": [{"status": "Suspended"}]},
                "after_unknown": {"id": true}
            }
        }],
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-west-1"}}}},
            "root_module": {"resources": [{
                "address": "aws_s3_bucket_versioning.legacy",
                "mode": "managed",
                "type": "aws_s3_bucket_versioning",
                "name": "legacy",
                "provider_config_key": "aws",
                "expressions": {"bucket": {"constant_value": "legacy-backups"}}
            }]}
        }
    });
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let inventory = r#"{"schema":"backstop.inventory/v1",
      "source":{"kind":"live","account":"123456789012","regions":["eu-west-1"]},
      "resources":[{"type":"aws.s3.bucket","id":"legacy-backups","region":"eu-west-1",
        "account":"123456789012","tags":{},
        "attributes":{"versioning":"Enabled","encryption":"AES256","kms_key_id":null,
          "lifecycle_rules":[],"replication_rules":[],"public_access_blocked":true}}],
      "errors":[]}"#;
    let inventory_path = dir.path().join("inv.json");
    std::fs::write(&inventory_path, inventory).unwrap();
    let (_, report) = audit_plan(
        plan_path.to_str().unwrap(),
        &["--inventory", inventory_path.to_str().unwrap()],
    );
    let all = results(&report);
    let (status, message, ..) = &all[&("s3-versioning".into(), "legacy-backups".into())];
    assert_eq!(status, "error");
    assert!(
        message.contains("aws_s3_bucket_versioning.legacy changes it at apply"),
        "{message}"
    );
    // What the plan does not touch is still judged on the account's facts.
    assert_eq!(
        status_of(&report, "s3-public-access-blocked", "legacy-backups"),
        "pass"
    );
}

#[test]
fn a_plan_with_change_actions_backstop_does_not_know_is_refused() {
    // A resource whose change cannot be read would leave the audit unsaid.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(plan("review")))
        .unwrap()
        .replacen(r#""create""#, r#""transmogrify""#, 1);
    let path = dir.path().join("plan.json");
    std::fs::write(&path, &text).unwrap();
    let out = backstop(&["audit", "--plan", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("has the change actions [\"transmogrify\"]"),
        "{stderr}"
    );
    // The position is that of the change's entry in `resource_changes`.
    // `error: PATH:LINE:COL: ...`
    let mut position = stderr.split(':').skip(2);
    let line: usize = position.next().unwrap().parse().unwrap();
    let col: usize = position.next().unwrap().parse().unwrap();
    let shown = text.lines().nth(line - 1).unwrap();
    assert!(shown[col - 1..].starts_with('"'), "{shown}");
    let changes_start = text.find("\"resource_changes\"").unwrap();
    assert!(text[..changes_start].lines().count() < line);
}
