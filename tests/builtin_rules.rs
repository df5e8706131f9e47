//! The built-in rule pack against the semantics DESIGN.md pins down ("What each
//! built-in rule means"): every rule passes a compliant resource, fails a
//! non-compliant one with a message that names the gap, and stays silent on
//! resources its `when` excludes.

use std::collections::{BTreeMap, BTreeSet};

use backstop::lang::yaml;
use backstop::model::schema;
use backstop::model::{Inventory, Resource, Value};
use backstop::report::Status;
use backstop::rules::{Engine, ParamValue, RuleSet, Settings};
use jiff::{SignedDuration, Timestamp};

const NOW: &str = "2026-03-01T12:00:00Z";
const HOUR: i64 = 3600;

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn ago(secs: i64) -> Timestamp {
    now() - SignedDuration::from_secs(secs)
}

/// The 26 ids of DESIGN.md's gap table, with their categories.
const GAP_TABLE: &[(&str, &str)] = &[
    ("rds-backup-retention", "retention"),
    ("rds-cluster-backup-retention", "retention"),
    ("rds-deletion-protection", "deletion-protection"),
    ("rds-cluster-deletion-protection", "deletion-protection"),
    ("rds-multi-az", "availability"),
    ("rds-cluster-multi-az", "availability"),
    ("rds-storage-encrypted", "encryption"),
    ("rds-cluster-storage-encrypted", "encryption"),
    ("rds-encryption-customer-key", "encryption"),
    ("rds-snapshot-encrypted", "encryption"),
    ("s3-default-encryption", "encryption"),
    ("logs-kms-encryption", "encryption"),
    ("rds-cross-region-backups", "cross-region"),
    ("s3-cross-region-replication", "cross-region"),
    ("ecr-cross-region-replication", "cross-region"),
    ("rds-pitr-fresh", "recovery-point"),
    ("rds-cluster-pitr-fresh", "recovery-point"),
    ("s3-exports-fresh", "recovery-point"),
    ("s3-versioning", "retention"),
    ("s3-lifecycle-expiration", "retention"),
    ("ecr-lifecycle-policy", "lifecycle"),
    ("ecr-tag-immutability", "lifecycle"),
    ("logs-retention", "logging"),
    ("logs-centralized", "logging"),
    ("rds-snapshot-not-public", "exposure"),
    ("s3-public-access-blocked", "exposure"),
];

fn pack() -> RuleSet {
    RuleSet::builtin().unwrap_or_else(|d| panic!("the built-in pack does not load:\n{d}"))
}

fn builtin() -> Engine {
    pack().compile(&Settings::default()).unwrap()
}

/// The pack with param overrides: (rule, param, YAML value).
fn builtin_with(overrides: &[(&str, &str, &str)]) -> Engine {
    let mut settings = Settings::default();
    for (rule, param, value) in overrides {
        let node = yaml::parse(value).unwrap();
        settings
            .params
            .entry(rule.to_string())
            .or_insert_with(BTreeMap::new)
            .insert(
                param.to_string(),
                ParamValue {
                    node,
                    file: "backstop.yaml".into(),
                },
            );
    }
    pack().compile(&settings).unwrap_or_else(|d| panic!("{d}"))
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Pass,
    Fail(String),
    /// Undecided: a fact the rule needs is unknown.
    Error(String),
    Skipped,
}
use Outcome::{Pass, Skipped};

fn fail(message: &str) -> Outcome {
    Outcome::Fail(message.to_string())
}

/// Every verdict of the whole pack on one resource: rule id → outcome.
fn verdicts(engine: &Engine, r: &Resource) -> BTreeMap<String, Outcome> {
    let inventory = Inventory {
        resources: vec![r.clone()],
        ..Default::default()
    };
    let mut out = BTreeMap::new();
    for v in engine.evaluate(&inventory, now()) {
        let outcome = match v.status {
            Status::Pass => Pass,
            Status::Fail => Outcome::Fail(v.message.unwrap()),
            Status::Error => Outcome::Error(v.message.unwrap()),
            other => panic!("unexpected {other:?}: {v:?}"),
        };
        let previous = out.insert(engine.rules()[v.rule].id().to_string(), outcome);
        assert!(
            previous.is_none(),
            "two verdicts of one rule on one resource"
        );
    }
    out
}

/// One rule's outcome on one resource.
fn judge_with(engine: &Engine, rule: &str, r: &Resource) -> Outcome {
    assert!(
        engine.rules().iter().any(|x| x.id() == rule),
        "no rule {rule}"
    );
    verdicts(engine, r).remove(rule).unwrap_or(Skipped)
}

fn judge(rule: &str, r: &Resource) -> Outcome {
    judge_with(&builtin(), rule, r)
}

/// A resource as a collector that read everything leaves it: what the
/// test does not set and can be none is known to be absent (no KMS key, not
/// in a cluster); what cannot be none stays unknown until set.
fn resource(kind: &str, id: &str) -> Resource {
    let kind = schema::resource_type(kind).unwrap();
    let mut r = Resource::new(kind, id);
    r.region = "eu-west-1".into();
    r.account = "123456789012".into();
    r.arn = format!("arn:aws:test:eu-west-1:123456789012:{id}");
    r.set_tags(BTreeMap::new());
    for attribute in kind.attributes.iter().filter(|a| a.none.is_some()) {
        r.set(attribute.name, Value::Null);
    }
    r
}

fn unknown(message: &str) -> Outcome {
    Outcome::Error(message.to_string())
}

fn strings(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::Str(s.to_string())).collect())
}

fn object(fields: &[(&str, Value)]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn with(mut r: Resource, name: &str, value: impl Into<Value>) -> Resource {
    r.set(name, value);
    r
}

// ---------------------------------------------------------------------------
// Compliant resources: each passes every rule of its type that applies

fn good_instance() -> Resource {
    let mut r = resource(schema::DB_INSTANCE, "orders");
    r.set("engine", "postgres")
        .set("backup_retention_days", 7)
        .set("multi_az", true)
        .set("storage_encrypted", true)
        .set("kms_key_id", "arn:aws:kms:eu-west-1:123456789012:key/k")
        .set("kms_key_managed_by", "CUSTOMER")
        .set("deletion_protection", true)
        .set("latest_restorable_time", ago(5 * 60))
        .set("backup_replication_regions", strings(&["eu-central-1"]))
        .set(
            "backup_replications",
            Value::List(vec![backup_replication("eu-central-1", Some(ago(HOUR)))]),
        );
    r
}

/// A `backup_replications` entry: automated backups replicated to `region`,
/// restorable up to `latest` (`None`: no restore window there).
fn backup_replication(region: &str, latest: Option<Timestamp>) -> Value {
    let mut fields = vec![("region", Value::from(region))];
    if let Some(latest) = latest {
        fields.push(("latest_restorable_time", Value::Time(latest)));
        fields.push(("status", Value::from("replicating")));
    }
    object(&fields)
}

fn good_cluster() -> Resource {
    let mut r = resource(schema::DB_CLUSTER, "aurora-orders");
    r.set("engine", "aurora-postgresql")
        .set("backup_retention_days", 14)
        .set("multi_az", true)
        .set("storage_encrypted", true)
        .set("deletion_protection", true)
        .set("latest_restorable_time", ago(5 * 60))
        .set("members", strings(&["aurora-orders-1", "aurora-orders-2"]));
    r
}

fn good_snapshot() -> Resource {
    let mut r = resource(schema::DB_SNAPSHOT, "orders-manual-2026-02-28");
    r.set("snapshot_type", "manual")
        .set("source_id", "orders")
        .set("encrypted", true)
        .set("created_at", ago(30 * HOUR))
        .set("public", false)
        .set("shared_with", strings(&[]));
    r
}

fn replication_rule(enabled: bool, region: Option<&str>) -> Value {
    let mut fields = vec![
        ("id", Value::from("to-backup-region")),
        ("enabled", enabled.into()),
        ("destination_bucket", "acme-db-backups-replica".into()),
        ("prefix", "".into()),
    ];
    if let Some(region) = region {
        fields.push(("destination_region", region.into()));
    }
    object(&fields)
}

fn lifecycle_rule(enabled: bool, expiration: Option<i64>, noncurrent: Option<i64>) -> Value {
    let mut fields = vec![
        ("id", Value::from("expire")),
        ("enabled", enabled.into()),
        ("prefix", "".into()),
    ];
    if let Some(days) = expiration {
        fields.push(("expiration_days", days.into()));
    }
    if let Some(days) = noncurrent {
        fields.push(("noncurrent_expiration_days", days.into()));
    }
    object(&fields)
}

fn good_bucket(id: &str) -> Resource {
    let mut r = resource(schema::S3_BUCKET, id);
    r.set("encryption", "aws:kms")
        .set("versioning", "Enabled")
        .set("public_access_blocked", true)
        .set(
            "lifecycle_rules",
            Value::List(vec![lifecycle_rule(true, Some(30), Some(30))]),
        )
        .set(
            "replication_rules",
            Value::List(vec![replication_rule(true, Some("eu-central-1"))]),
        );
    r
}

fn good_export() -> Resource {
    let mut r = resource(schema::S3_EXPORT_LOCATION, "acme-exports/daily/");
    r.set("bucket", "acme-exports")
        .set("prefix", "daily/")
        .set("latest_object_time", ago(2 * HOUR))
        .set("object_count", 30)
        .set("total_bytes", 1_000_000);
    r
}

fn good_repository() -> Resource {
    let mut r = resource(schema::ECR_REPOSITORY, "web");
    r.set("tag_mutability", "IMMUTABLE")
        .set("lifecycle_policy", true)
        .set("replication_regions", strings(&["eu-central-1"]));
    r
}

fn good_log_group() -> Resource {
    let mut r = resource(schema::LOG_GROUP, "/aws/lambda/orders");
    r.set("retention_days", 90)
        .set("kms_key_id", "arn:aws:kms:eu-west-1:123456789012:key/k")
        .set(
            "subscription_destinations",
            strings(&["arn:aws:firehose:eu-west-1:123456789012:deliverystream/central"]),
        );
    r
}

// ---------------------------------------------------------------------------
// The pack itself

#[test]
fn the_pack_holds_exactly_the_gap_table() {
    let set = pack();
    let ids: BTreeSet<_> = set.rules().iter().map(|r| r.id.as_str()).collect();
    let expected: BTreeSet<_> = GAP_TABLE.iter().map(|(id, _)| *id).collect();
    assert_eq!(expected.len(), 26);
    assert_eq!(ids, expected);
    assert_eq!(set.rules().len(), 26, "an id is defined twice");
    for (id, category) in GAP_TABLE {
        assert_eq!(set.get(id).unwrap().category, *category, "{id}");
    }
}

#[test]
fn every_rule_is_documented_and_its_remediation_names_the_resource() {
    for rule in pack().rules() {
        let id = &rule.id;
        assert!(rule.title.len() > 10, "{id}: title");
        assert!(rule.rationale.len() > 40, "{id}: rationale");
        assert!(!rule.remediation.trim().is_empty(), "{id}: remediation");
        assert!(!rule.references.is_empty(), "{id}: references");
        assert!(
            rule.references.iter().all(|r| !r.trim().is_empty()),
            "{id}: empty reference"
        );
        assert!(
            rule.remediation.contains("{id}") || rule.remediation.contains("{arn}"),
            "{id}: the remediation does not name the resource: {}",
            rule.remediation
        );
        assert!(
            rule.file.starts_with("builtin:rules/"),
            "{id}: {}",
            rule.file
        );
        assert!(
            rule.file.ends_with(&format!("/{id}.yaml")),
            "{id}: {}",
            rule.file
        );
    }
}

#[test]
fn each_rule_reads_the_resource_type_the_design_names() {
    let set = pack();
    let kind = |id: &str| set.get(id).unwrap().kind.name;
    for rule in set.rules() {
        let id = rule.id.as_str();
        let expected = if id.starts_with("rds-cluster-") {
            schema::DB_CLUSTER
        } else if id.starts_with("rds-snapshot-") {
            schema::DB_SNAPSHOT
        } else if id.starts_with("rds-") {
            schema::DB_INSTANCE
        } else if id == "s3-exports-fresh" {
            schema::S3_EXPORT_LOCATION
        } else if id.starts_with("s3-") {
            schema::S3_BUCKET
        } else if id.starts_with("ecr-") {
            schema::ECR_REPOSITORY
        } else {
            schema::LOG_GROUP
        };
        assert_eq!(kind(id), expected, "{id}");
    }
}

#[test]
fn failures_fill_the_resource_into_the_remediation() {
    let engine = builtin();
    // Encrypted, and every other instance setting off: every other instance
    // rule fails.
    let mut bad = resource(schema::DB_INSTANCE, "orders");
    bad.arn = "arn:aws:rds:eu-west-1:123456789012:db:orders".into();
    bad.set("storage_encrypted", true)
        .set("backup_retention_days", 0)
        .set("multi_az", false)
        .set("deletion_protection", false)
        .set("backup_replication_regions", strings(&[]))
        .set("backup_replications", Value::List(vec![]));
    let inventory = Inventory {
        resources: vec![bad],
        ..Default::default()
    };
    let report = engine.audit(&inventory, now());
    let failures: Vec<_> = report
        .results
        .iter()
        .filter(|f| f.status == Status::Fail)
        .collect();
    assert_eq!(failures.len(), 6, "every other instance rule fails");
    for f in failures {
        assert!(
            !f.remediation.contains('{'),
            "{}: {}",
            f.rule,
            f.remediation
        );
        assert!(
            f.remediation.contains("orders"),
            "{}: the remediation does not name the instance: {}",
            f.rule,
            f.remediation
        );
    }
}

// ---------------------------------------------------------------------------
// Every rule: passes, fails, and (with a `when`) stays silent

#[test]
fn compliant_resources_pass_every_rule_of_their_type() {
    let engine = builtin();
    let expect = |r: &Resource, rules: &[&str]| {
        let found = verdicts(&engine, r);
        let expected: BTreeMap<String, Outcome> =
            rules.iter().map(|id| (id.to_string(), Pass)).collect();
        assert_eq!(found, expected, "{}", r.id);
    };
    expect(
        &good_instance(),
        &[
            "rds-backup-retention",
            "rds-cross-region-backups",
            "rds-deletion-protection",
            "rds-encryption-customer-key",
            "rds-multi-az",
            "rds-pitr-fresh",
            "rds-storage-encrypted",
        ],
    );
    expect(
        &good_cluster(),
        &[
            "rds-cluster-backup-retention",
            "rds-cluster-deletion-protection",
            "rds-cluster-multi-az",
            "rds-cluster-pitr-fresh",
            "rds-cluster-storage-encrypted",
        ],
    );
    expect(
        &good_snapshot(),
        &["rds-snapshot-encrypted", "rds-snapshot-not-public"],
    );
    expect(
        &good_bucket("acme-db-backups"),
        &[
            "s3-cross-region-replication",
            "s3-default-encryption",
            "s3-lifecycle-expiration",
            "s3-public-access-blocked",
            "s3-versioning",
        ],
    );
    expect(&good_export(), &["s3-exports-fresh"]);
    expect(
        &good_repository(),
        &[
            "ecr-cross-region-replication",
            "ecr-lifecycle-policy",
            "ecr-tag-immutability",
        ],
    );
    expect(
        &good_log_group(),
        &["logs-centralized", "logs-kms-encryption", "logs-retention"],
    );
}

/// (rule, a resource that fails it, the exact explanation).
fn failing_cases() -> Vec<(&'static str, Resource, &'static str)> {
    vec![
        (
            "rds-backup-retention",
            with(good_instance(), "backup_retention_days", 1),
            "backup_retention_days is 1, expected >= 7",
        ),
        (
            "rds-deletion-protection",
            with(good_instance(), "deletion_protection", false),
            "deletion_protection is false, expected true",
        ),
        (
            "rds-multi-az",
            with(good_instance(), "multi_az", false),
            "multi_az is false, expected true",
        ),
        (
            "rds-storage-encrypted",
            with(good_instance(), "storage_encrypted", false),
            "storage_encrypted is false, expected true",
        ),
        (
            "rds-encryption-customer-key",
            with(good_instance(), "kms_key_managed_by", "AWS"),
            r#"kms_key_managed_by is "AWS", expected "CUSTOMER""#,
        ),
        (
            "rds-cross-region-backups",
            with(good_instance(), "backup_replications", Value::List(vec![])),
            "backup_replications is [], expected at least one element where region != its region \
             (eu-west-1) and latest_restorable_time newer than 26h; or cross_region_copy_time is \
             absent (no copy in any of those regions), expected newer than 26h",
        ),
        (
            "rds-pitr-fresh",
            with(good_instance(), "latest_restorable_time", ago(2 * HOUR)),
            "latest_restorable_time is 2026-03-01T10:00:00Z (2h 0m ago), expected newer than 1h",
        ),
        (
            "rds-cluster-backup-retention",
            with(good_cluster(), "backup_retention_days", 3),
            "backup_retention_days is 3, expected >= 7",
        ),
        (
            "rds-cluster-deletion-protection",
            with(good_cluster(), "deletion_protection", false),
            "deletion_protection is false, expected true",
        ),
        (
            "rds-cluster-multi-az",
            with(good_cluster(), "multi_az", false),
            "multi_az is false, expected true",
        ),
        (
            "rds-cluster-storage-encrypted",
            with(good_cluster(), "storage_encrypted", false),
            "storage_encrypted is false, expected true",
        ),
        (
            "rds-cluster-pitr-fresh",
            with(
                good_cluster(),
                "latest_restorable_time",
                ago(3 * HOUR + 600),
            ),
            "latest_restorable_time is 2026-03-01T08:50:00Z (3h 10m ago), expected newer than 1h",
        ),
        (
            "rds-snapshot-encrypted",
            with(good_snapshot(), "encrypted", false),
            "encrypted is false, expected true",
        ),
        (
            "rds-snapshot-not-public",
            with(good_snapshot(), "public", true),
            "public is true, expected false",
        ),
        (
            "s3-default-encryption",
            with(good_bucket("acme-db-backups"), "encryption", "none"),
            r#"encryption is "none", expected not "none""#,
        ),
        (
            "s3-public-access-blocked",
            with(
                good_bucket("acme-db-backups"),
                "public_access_blocked",
                false,
            ),
            "public_access_blocked is false, expected true",
        ),
        (
            "s3-versioning",
            with(good_bucket("acme-db-backups"), "versioning", "Suspended"),
            r#"versioning is "Suspended", expected "Enabled""#,
        ),
        (
            "s3-lifecycle-expiration",
            with(
                good_bucket("acme-db-backups"),
                "lifecycle_rules",
                Value::List(vec![]),
            ),
            "lifecycle_rules is [], expected at least one element where enabled == true and \
             prefix == \"\" and expiration_days present; versioning is \"Enabled\", expected \
             \"Disabled\"; or lifecycle_rules is [], expected at least one element where \
             enabled == true and prefix == \"\" and noncurrent_expiration_days present",
        ),
        (
            "s3-cross-region-replication",
            with(
                good_bucket("acme-db-backups"),
                "replication_rules",
                Value::List(vec![]),
            ),
            "replication_rules is [], expected at least one element where enabled == true and \
             prefix == \"\" and destination_region present and destination_region != its region (eu-west-1)",
        ),
        (
            "s3-exports-fresh",
            with(good_export(), "latest_object_time", ago(30 * HOUR)),
            "latest_object_time is 2026-02-28T06:00:00Z (1d 6h ago), expected newer than 26h",
        ),
        (
            "ecr-lifecycle-policy",
            with(good_repository(), "lifecycle_policy", false),
            "lifecycle_policy is false, expected true",
        ),
        (
            "ecr-tag-immutability",
            with(good_repository(), "tag_mutability", "MUTABLE"),
            r#"tag_mutability is "MUTABLE", expected one of ["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"]"#,
        ),
        (
            "ecr-cross-region-replication",
            with(good_repository(), "replication_regions", strings(&[])),
            "replication_regions is [], expected at least one element != its region (eu-west-1)",
        ),
        (
            "logs-retention",
            with(good_log_group(), "retention_days", 7),
            "retention_days is 7, expected >= 30",
        ),
        (
            "logs-kms-encryption",
            with(good_log_group(), "kms_key_id", Value::Null),
            "kms_key_id is absent (not encrypted with a KMS key), expected present",
        ),
        (
            "logs-centralized",
            with(good_log_group(), "subscription_destinations", strings(&[])),
            "subscription_destinations is [], expected length > 0",
        ),
    ]
}

#[test]
fn every_rule_fails_a_noncompliant_resource_and_says_why() {
    let engine = builtin();
    let cases = failing_cases();
    let covered: BTreeSet<_> = cases.iter().map(|(rule, _, _)| *rule).collect();
    let all: BTreeSet<_> = GAP_TABLE.iter().map(|(id, _)| *id).collect();
    assert_eq!(covered, all, "every rule has a failing case");
    for (rule, resource, message) in cases {
        let found = verdicts(&engine, &resource);
        assert_eq!(found.get(rule), Some(&fail(message)), "{rule}");
        // Only the one gap is reported: the other rules still pass.
        let others: Vec<_> = found
            .iter()
            .filter(|(id, o)| *id != rule && **o != Pass)
            .collect();
        assert!(
            others.is_empty(),
            "{rule}: other rules fail too: {others:?}"
        );
    }
}

/// (rule, a resource of its type that its `when` excludes).
fn excluded_cases() -> Vec<(&'static str, Resource)> {
    let member = || {
        // An Aurora member: judged through its cluster, so it may look bad.
        let mut r = resource(schema::DB_INSTANCE, "aurora-orders-1");
        r.set("cluster_id", "aurora-orders")
            .set("engine", "aurora-postgresql")
            .set("backup_retention_days", 1)
            .set("multi_az", false)
            .set("storage_encrypted", true)
            .set("kms_key_managed_by", "AWS")
            .set("deletion_protection", false);
        r
    };
    let assets = || {
        let mut r = resource(schema::S3_BUCKET, "acme-web-assets");
        r.set("versioning", "Disabled")
            .set("encryption", "AES256")
            .set("public_access_blocked", true);
        r
    };
    let automated = with(
        with(good_snapshot(), "snapshot_type", "automated"),
        "encrypted",
        false,
    );
    vec![
        ("rds-backup-retention", member()),
        ("rds-deletion-protection", member()),
        ("rds-multi-az", member()),
        ("rds-storage-encrypted", member()),
        ("rds-encryption-customer-key", member()),
        (
            "rds-encryption-customer-key",
            with(good_instance(), "storage_encrypted", false),
        ),
        ("rds-cross-region-backups", member()),
        ("rds-pitr-fresh", member()),
        ("rds-snapshot-encrypted", automated),
        ("s3-versioning", assets()),
        ("s3-lifecycle-expiration", assets()),
        ("s3-cross-region-replication", assets()),
    ]
}

#[test]
fn rules_with_when_stay_silent_on_resources_they_do_not_apply_to() {
    let engine = builtin();
    let with_when: BTreeSet<_> = engine
        .rules()
        .iter()
        .filter(|r| r.applicability().is_some())
        .map(|r| r.id().to_string())
        .collect();
    let cases = excluded_cases();
    let covered: BTreeSet<_> = cases.iter().map(|(rule, _)| rule.to_string()).collect();
    assert_eq!(
        covered, with_when,
        "every rule with a `when` has an excluded case"
    );
    for (rule, resource) in cases {
        assert_eq!(
            judge_with(&engine, rule, &resource),
            Skipped,
            "{rule} on {}",
            resource.id
        );
    }
}

#[test]
fn an_aurora_member_gets_no_instance_result_at_all() {
    let member = excluded_cases().remove(0).1;
    assert_eq!(verdicts(&builtin(), &member), BTreeMap::new());
}

// ---------------------------------------------------------------------------
// Semantics pinned by DESIGN.md

#[test]
fn rds_backup_retention_boundary_and_param() {
    assert_eq!(
        judge(
            "rds-backup-retention",
            &with(good_instance(), "backup_retention_days", 7)
        ),
        Pass
    );
    assert_eq!(
        judge(
            "rds-backup-retention",
            &with(good_instance(), "backup_retention_days", 6)
        ),
        fail("backup_retention_days is 6, expected >= 7")
    );
    assert_eq!(
        judge(
            "rds-backup-retention",
            &with(good_instance(), "backup_retention_days", Value::Null)
        ),
        unknown(
            "could not decide: backup_retention_days is unknown (it was not collected, or AWS did not report it)"
        )
    );
    let strict = builtin_with(&[("rds-backup-retention", "min_days", "35")]);
    assert_eq!(
        judge_with(
            &strict,
            "rds-backup-retention",
            &with(good_instance(), "backup_retention_days", 14)
        ),
        fail("backup_retention_days is 14, expected >= 35")
    );
}

#[test]
fn rds_cross_region_backups_replication_or_a_recent_copy() {
    let rule = "rds-cross-region-backups";
    let replicated =
        |entries: Vec<Value>| with(good_instance(), "backup_replications", Value::List(entries));
    let no_replication = replicated(vec![]);
    // Automated backups replicated to another region, restorable to a
    // point within 26h.
    assert_eq!(judge(rule, &good_instance()), Pass);
    assert_eq!(
        judge(
            rule,
            &replicated(vec![backup_replication("us-east-1", Some(ago(25 * HOUR)))])
        ),
        Pass
    );
    // A stalled replication: the other region restores only to 30h ago.
    assert_eq!(
        judge(
            rule,
            &replicated(vec![backup_replication("us-east-1", Some(ago(30 * HOUR)))])
        ),
        fail(
            "backup_replications is [{latest_restorable_time: 2026-02-28T06:00:00Z, region: \
             \"us-east-1\", status: \"replicating\"}], expected at least one element where region \
             != its region (eu-west-1) and latest_restorable_time newer than 26h; or \
             cross_region_copy_time is absent (no copy in any of those regions), expected newer than 26h"
        )
    );
    // Replicated, but the other region holds nothing restorable (not found
    // there, or no restore window yet).
    assert!(matches!(
        judge(
            rule,
            &replicated(vec![backup_replication("us-east-1", None)])
        ),
        Outcome::Fail(_)
    ));
    // One recent replication is enough.
    assert_eq!(
        judge(
            rule,
            &replicated(vec![
                backup_replication("us-east-1", None),
                backup_replication("eu-central-1", Some(ago(HOUR))),
            ])
        ),
        Pass
    );
    // The replication regions alone no longer count: recency is required.
    assert!(matches!(
        judge(
            rule,
            &with(
                no_replication.clone(),
                "backup_replication_regions",
                strings(&["eu-central-1"])
            )
        ),
        Outcome::Fail(_)
    ));
    // Or a snapshot copy in another region newer than 26h.
    assert_eq!(
        judge(
            rule,
            &with(
                no_replication.clone(),
                "cross_region_copy_time",
                ago(2 * HOUR)
            )
        ),
        Pass
    );
    assert_eq!(
        judge(
            rule,
            &with(
                no_replication.clone(),
                "cross_region_copy_time",
                ago(25 * HOUR)
            )
        ),
        Pass
    );
    // A copy 30h old is too old.
    assert_eq!(
        judge(
            rule,
            &with(
                no_replication.clone(),
                "cross_region_copy_time",
                ago(30 * HOUR)
            )
        ),
        fail(
            "backup_replications is [], expected at least one element where region != its region \
             (eu-west-1) and latest_restorable_time newer than 26h; or cross_region_copy_time is \
             2026-02-28T06:00:00Z (1d 6h ago), expected newer than 26h"
        )
    );
    // Replication into the instance's own region is no cross-region backup.
    assert!(matches!(
        judge(
            rule,
            &replicated(vec![backup_replication("eu-west-1", Some(ago(HOUR)))])
        ),
        Outcome::Fail(_)
    ));
    // Nothing known: fail.
    assert!(matches!(
        judge(
            rule,
            &with(good_instance(), "backup_replications", Value::Null)
        ),
        Outcome::Error(_)
    ));
    // max_copy_age is a param, for replications and copies alike.
    let lenient = builtin_with(&[(rule, "max_copy_age", "2d")]);
    assert_eq!(
        judge_with(
            &lenient,
            rule,
            &with(
                no_replication.clone(),
                "cross_region_copy_time",
                ago(30 * HOUR)
            )
        ),
        Pass
    );
    assert_eq!(
        judge_with(
            &lenient,
            rule,
            &replicated(vec![backup_replication("us-east-1", Some(ago(30 * HOUR)))])
        ),
        Pass
    );
    let strict = builtin_with(&[(rule, "max_copy_age", "30m")]);
    assert!(matches!(
        judge_with(&strict, rule, &good_instance()),
        Outcome::Fail(_)
    ));
}

#[test]
fn rds_pitr_fresh_needs_backups_on_and_a_recent_restorable_time() {
    let rule = "rds-pitr-fresh";
    // Retention 0 (backups off) fails even with a fresh restorable time.
    assert_eq!(
        judge(rule, &with(good_instance(), "backup_retention_days", 0)),
        fail("backup_retention_days is 0, expected > 0")
    );
    assert_eq!(
        judge(
            rule,
            &with(good_instance(), "latest_restorable_time", Value::Null)
        ),
        fail(
            "latest_restorable_time is absent (automated backups are off), expected newer than 1h"
        )
    );
    assert_eq!(
        judge(
            rule,
            &with(good_instance(), "latest_restorable_time", ago(59 * 60))
        ),
        Pass
    );
    let lenient = builtin_with(&[(rule, "max_lag", "4h")]);
    assert_eq!(
        judge_with(
            &lenient,
            rule,
            &with(good_instance(), "latest_restorable_time", ago(3 * HOUR))
        ),
        Pass
    );
    // The cluster rule is the same.
    assert_eq!(
        judge(
            "rds-cluster-pitr-fresh",
            &with(good_cluster(), "backup_retention_days", 0)
        ),
        fail("backup_retention_days is 0, expected > 0")
    );
}

#[test]
fn rds_encryption_customer_key_applies_to_encrypted_standalone_instances() {
    let rule = "rds-encryption-customer-key";
    assert_eq!(
        judge(rule, &with(good_instance(), "storage_encrypted", false)),
        Skipped
    );
    // Unknown encryption: whether the rule applies is undecided, and so is
    // rds-storage-encrypted.
    let undecided = with(good_instance(), "storage_encrypted", Value::Null);
    assert_eq!(
        judge(rule, &undecided),
        unknown(
            "could not decide whether the rule applies: storage_encrypted is unknown (it was not collected, or AWS did not report it)"
        )
    );
    assert!(matches!(
        judge("rds-storage-encrypted", &undecided),
        Outcome::Error(_)
    ));
    // An encrypted instance without a key (known absence) is not on a
    // customer key; an unread key manager is undecided.
    assert_eq!(
        judge(
            rule,
            &with(good_instance(), "kms_key_managed_by", Value::Null)
        ),
        fail(r#"kms_key_managed_by is absent (no KMS key), expected "CUSTOMER""#)
    );
    assert!(matches!(
        judge(
            rule,
            &with(good_instance(), "kms_key_managed_by", Value::Unknown)
        ),
        Outcome::Error(_)
    ));
}

#[test]
fn rds_snapshot_rules() {
    // Copies are manual snapshots too.
    let copy = with(
        with(good_snapshot(), "source_region", "us-east-1"),
        "encrypted",
        false,
    );
    assert_eq!(
        judge("rds-snapshot-encrypted", &copy),
        fail("encrypted is false, expected true")
    );
    // Every snapshot, automated included, must not be public; unknown fails.
    let automated = with(good_snapshot(), "snapshot_type", "automated");
    assert_eq!(judge("rds-snapshot-not-public", &automated), Pass);
    assert_eq!(
        judge(
            "rds-snapshot-not-public",
            &with(automated.clone(), "public", true)
        ),
        fail("public is true, expected false")
    );
    assert_eq!(
        judge(
            "rds-snapshot-not-public",
            &with(automated, "public", Value::Null)
        ),
        unknown(
            "could not decide: public is unknown (it was not collected, or AWS did not report it)"
        )
    );
}

#[test]
fn s3_default_encryption_and_require_kms() {
    let rule = "s3-default-encryption";
    let bucket = |enc: &str| with(good_bucket("acme-web-assets"), "encryption", enc);
    for enc in ["AES256", "aws:kms", "aws:kms:dsse"] {
        assert_eq!(judge(rule, &bucket(enc)), Pass, "{enc}");
    }
    assert_eq!(
        judge(rule, &bucket("none")),
        fail(r#"encryption is "none", expected not "none""#)
    );
    assert_eq!(
        judge(rule, &with(good_bucket("b"), "encryption", Value::Null)),
        unknown(
            "could not decide: encryption is unknown (it was not collected, or AWS did not report it)"
        )
    );

    let kms = builtin_with(&[(rule, "require_kms", "true")]);
    assert_eq!(
        judge_with(&kms, rule, &bucket("AES256")),
        fail(r#"encryption is "AES256", expected one of ["aws:kms", "aws:kms:dsse"]"#)
    );
    assert_eq!(judge_with(&kms, rule, &bucket("aws:kms")), Pass);
    assert_eq!(judge_with(&kms, rule, &bucket("aws:kms:dsse")), Pass);
    assert!(matches!(
        judge_with(&kms, rule, &bucket("none")),
        Outcome::Fail(_)
    ));
}

#[test]
fn s3_public_access_blocked_applies_to_every_bucket() {
    let assets = with(
        good_bucket("acme-web-assets"),
        "public_access_blocked",
        false,
    );
    assert_eq!(
        judge("s3-public-access-blocked", &assets),
        fail("public_access_blocked is false, expected true")
    );
    assert!(matches!(
        judge(
            "s3-public-access-blocked",
            &with(assets, "public_access_blocked", Value::Null)
        ),
        Outcome::Error(_)
    ));
}

#[test]
fn s3_backup_buckets_are_chosen_by_the_backup_buckets_param() {
    let suspended = |id: &str| with(good_bucket(id), "versioning", "Suspended");
    for id in ["acme-db-backups", "backup", "nightly-backup-eu"] {
        assert!(
            matches!(judge("s3-versioning", &suspended(id)), Outcome::Fail(_)),
            "{id}"
        );
    }
    assert_eq!(judge("s3-versioning", &suspended("acme-exports")), Skipped);
    assert!(matches!(
        judge(
            "s3-versioning",
            &with(good_bucket("acme-backups"), "versioning", "Disabled")
        ),
        Outcome::Fail(_)
    ));

    let custom = builtin_with(&[
        (
            "s3-versioning",
            "backup_buckets",
            "[\"acme-exports*\", \"dr-*\"]",
        ),
        ("s3-lifecycle-expiration", "backup_buckets", "[\"dr-*\"]"),
    ]);
    assert!(matches!(
        judge_with(&custom, "s3-versioning", &suspended("acme-exports")),
        Outcome::Fail(_)
    ));
    assert!(matches!(
        judge_with(&custom, "s3-versioning", &suspended("dr-orders")),
        Outcome::Fail(_)
    ));
    assert_eq!(
        judge_with(&custom, "s3-versioning", &suspended("acme-db-backups")),
        Skipped
    );
    // Each rule has its own param.
    assert_eq!(
        judge_with(
            &custom,
            "s3-lifecycle-expiration",
            &good_bucket("acme-exports")
        ),
        Skipped
    );
    assert_eq!(
        judge_with(
            &custom,
            "s3-cross-region-replication",
            &good_bucket("acme-exports")
        ),
        Skipped
    );
    assert_eq!(
        judge_with(
            &custom,
            "s3-cross-region-replication",
            &good_bucket("acme-db-backups")
        ),
        Pass
    );
}

/// A lifecycle rule limited to `prefix` (`None`: narrowed by a tag or an
/// object size, so the collector leaves `prefix` absent).
fn partial_lifecycle_rule(prefix: Option<&str>) -> Value {
    let Value::Object(mut rule) = lifecycle_rule(true, Some(30), Some(30)) else {
        unreachable!("lifecycle rules are objects")
    };
    match prefix {
        Some(prefix) => rule.insert("prefix".into(), prefix.into()),
        None => rule.remove("prefix"),
    };
    Value::Object(rule)
}

#[test]
fn s3_lifecycle_expiration_needs_an_enabled_expiring_rule() {
    let rule = "s3-lifecycle-expiration";
    let bucket = |versioning: &str, items: Vec<Value>| {
        with(
            with(good_bucket("acme-db-backups"), "versioning", versioning),
            "lifecycle_rules",
            Value::List(items),
        )
    };
    let rules = |items: Vec<Value>| bucket("Enabled", items);
    let unversioned = |items: Vec<Value>| bucket("Disabled", items);
    assert_eq!(
        judge(rule, &rules(vec![lifecycle_rule(true, Some(30), Some(30))])),
        Pass
    );
    // Current and noncurrent expiration may come from two whole-bucket rules.
    assert_eq!(
        judge(
            rule,
            &rules(vec![
                lifecycle_rule(true, Some(30), None),
                lifecycle_rule(true, None, Some(7)),
            ])
        ),
        Pass
    );
    // An unversioned bucket has no noncurrent versions to expire.
    assert_eq!(
        judge(
            rule,
            &unversioned(vec![lifecycle_rule(true, Some(30), None)])
        ),
        Pass
    );
    assert_eq!(
        judge(
            rule,
            &unversioned(vec![
                lifecycle_rule(false, Some(30), None),
                lifecycle_rule(true, Some(7), None)
            ])
        ),
        Pass
    );
    // Disabled, or enabled but expiring nothing.
    assert!(matches!(
        judge(
            rule,
            &rules(vec![lifecycle_rule(false, Some(30), Some(30))])
        ),
        Outcome::Fail(_)
    ));
    assert!(matches!(
        judge(rule, &rules(vec![lifecycle_rule(true, None, None)])),
        Outcome::Fail(_)
    ));
    // Noncurrent expiration alone keeps every current backup forever.
    assert!(matches!(
        judge(
            rule,
            &unversioned(vec![lifecycle_rule(true, None, Some(30))])
        ),
        Outcome::Fail(_)
    ));
    assert!(matches!(
        judge(rule, &rules(vec![lifecycle_rule(true, None, Some(30))])),
        Outcome::Fail(_)
    ));
    // A versioned bucket whose rule expires current versions only: the
    // expired data stays as noncurrent versions.
    assert_eq!(
        judge(rule, &rules(vec![lifecycle_rule(true, Some(30), None)])),
        fail(
            "versioning is \"Enabled\", expected \"Disabled\"; or lifecycle_rules is \
             [{enabled: true, expiration_days: 30, id: \"expire\", prefix: \"\"}], expected at \
             least one element where enabled == true and prefix == \"\" and \
             noncurrent_expiration_days present"
        )
    );
    // Suspended versioning keeps the versions written while it was enabled.
    assert!(matches!(
        judge(
            rule,
            &bucket("Suspended", vec![lifecycle_rule(true, Some(30), None)])
        ),
        Outcome::Fail(_)
    ));
    assert_eq!(
        judge(
            rule,
            &bucket("Suspended", vec![lifecycle_rule(true, Some(30), Some(30))])
        ),
        Pass
    );
    // Only rules that cover the whole bucket count: one limited to `tmp/`,
    // or narrowed by a tag or an object size, does not.
    for partial in [
        partial_lifecycle_rule(Some("tmp/")),
        partial_lifecycle_rule(None),
    ] {
        assert!(
            matches!(judge(rule, &rules(vec![partial.clone()])), Outcome::Fail(_)),
            "{partial:?}"
        );
        assert!(
            matches!(
                judge(rule, &unversioned(vec![partial.clone()])),
                Outcome::Fail(_)
            ),
            "{partial:?}"
        );
        // Next to a whole-bucket rule it does no harm.
        assert_eq!(
            judge(
                rule,
                &rules(vec![partial, lifecycle_rule(true, Some(30), Some(30))])
            ),
            Pass
        );
    }
    // A whole-bucket current-version rule plus a partial noncurrent one is
    // not enough for a versioned bucket.
    let Value::Object(mut partial_noncurrent) = partial_lifecycle_rule(Some("tmp/")) else {
        unreachable!()
    };
    partial_noncurrent.remove("expiration_days");
    assert!(matches!(
        judge(
            rule,
            &rules(vec![
                lifecycle_rule(true, Some(30), None),
                Value::Object(partial_noncurrent)
            ])
        ),
        Outcome::Fail(_)
    ));
    // No lifecycle configuration is a fact: fail.
    assert!(matches!(
        judge(
            rule,
            &with(
                good_bucket("acme-db-backups"),
                "lifecycle_rules",
                Value::List(vec![])
            )
        ),
        Outcome::Fail(_)
    ));
    // Not read: undecided.
    assert!(matches!(
        judge(
            rule,
            &with(
                good_bucket("acme-db-backups"),
                "lifecycle_rules",
                Value::Unknown
            )
        ),
        Outcome::Error(_)
    ));
}

#[test]
fn s3_cross_region_replication_needs_an_enabled_rule_to_a_known_other_region() {
    let rule = "s3-cross-region-replication";
    let rules = |items: Vec<Value>| {
        with(
            good_bucket("acme-db-backups"),
            "replication_rules",
            Value::List(items),
        )
    };
    assert_eq!(
        judge(
            rule,
            &rules(vec![replication_rule(true, Some("us-east-1"))])
        ),
        Pass
    );
    // The only destination is in the bucket's own region.
    let same = rules(vec![replication_rule(true, Some("eu-west-1"))]);
    assert_eq!(
        judge(rule, &same),
        fail(
            r#"replication_rules is [{destination_bucket: "acme-db-backups-replica", destination_region: "eu-west-1", enabled: true, id: "to-backup-region", prefix: ""}], expected at least one element where enabled == true and prefix == "" and destination_region present and destination_region != its region (eu-west-1)"#
        )
    );
    // The destination bucket does not exist (no region, a known absence).
    assert!(matches!(
        judge(rule, &rules(vec![replication_rule(true, None)])),
        Outcome::Fail(_)
    ));
    // Its region could not be resolved: undecided, never a pass.
    let Value::Object(mut unresolved) = replication_rule(true, None) else {
        unreachable!("replication rules are objects")
    };
    unresolved.insert("destination_region".to_string(), Value::Unknown);
    let unresolved = Value::Object(unresolved);
    assert_eq!(
        judge(rule, &rules(vec![unresolved.clone()])),
        unknown(
            "could not decide: replication_rules[0].destination_region is unknown (it was not collected, or AWS did not report it)"
        )
    );
    // ... unless another rule replicates the whole bucket elsewhere.
    assert_eq!(
        judge(
            rule,
            &rules(vec![unresolved, replication_rule(true, Some("us-east-1"))])
        ),
        Pass
    );
    // It copies only part of the bucket (a prefix, or a tag filter: prefix absent).
    for prefix in [Value::from("tmp/"), Value::Null] {
        let Value::Object(mut partial) = replication_rule(true, Some("us-east-1")) else {
            unreachable!("replication rules are objects")
        };
        partial.insert("prefix".to_string(), prefix);
        assert!(matches!(
            judge(rule, &rules(vec![Value::Object(partial)])),
            Outcome::Fail(_)
        ));
    }
    // The replication rule is disabled.
    assert!(matches!(
        judge(
            rule,
            &rules(vec![replication_rule(false, Some("us-east-1"))])
        ),
        Outcome::Fail(_)
    ));
    // One good rule among bad ones is enough.
    assert_eq!(
        judge(
            rule,
            &rules(vec![
                replication_rule(true, None),
                replication_rule(false, Some("us-east-1")),
                replication_rule(true, Some("eu-central-1")),
            ])
        ),
        Pass
    );
    assert!(matches!(
        judge(
            rule,
            &with(
                good_bucket("acme-db-backups"),
                "replication_rules",
                Value::List(vec![])
            )
        ),
        Outcome::Fail(_)
    ));
    assert!(matches!(
        judge(
            rule,
            &with(
                good_bucket("acme-db-backups"),
                "replication_rules",
                Value::Unknown
            )
        ),
        Outcome::Error(_)
    ));
}

#[test]
fn s3_exports_fresh_with_a_per_location_max_age() {
    let rule = "s3-exports-fresh";
    assert_eq!(
        judge(
            rule,
            &with(good_export(), "latest_object_time", ago(25 * HOUR))
        ),
        Pass
    );
    // No objects at all.
    assert_eq!(
        judge(
            rule,
            &with(good_export(), "latest_object_time", Value::Null)
        ),
        fail("latest_object_time is absent (no objects), expected newer than 26h")
    );
    // The location's own max_age wins over the param.
    let weekly = with(
        with(good_export(), "max_age", "8d"),
        "latest_object_time",
        ago(30 * HOUR),
    );
    assert_eq!(judge(rule, &weekly), Pass);
    let hourly = with(
        with(good_export(), "max_age", "2h"),
        "latest_object_time",
        ago(3 * HOUR),
    );
    assert_eq!(
        judge(rule, &hourly),
        fail("latest_object_time is 2026-03-01T09:00:00Z (3h 0m ago), expected newer than 2h")
    );
    let lenient = builtin_with(&[(rule, "max_age", "2d")]);
    assert_eq!(
        judge_with(
            &lenient,
            rule,
            &with(good_export(), "latest_object_time", ago(30 * HOUR))
        ),
        Pass
    );
}

#[test]
fn ecr_rules() {
    for mutability in ["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"] {
        assert_eq!(
            judge(
                "ecr-tag-immutability",
                &with(good_repository(), "tag_mutability", mutability)
            ),
            Pass,
            "{mutability}"
        );
    }
    assert!(matches!(
        judge(
            "ecr-tag-immutability",
            &with(
                good_repository(),
                "tag_mutability",
                "MUTABLE_WITH_EXCLUSION"
            )
        ),
        Outcome::Fail(_)
    ));
    assert_eq!(
        judge(
            "ecr-lifecycle-policy",
            &with(good_repository(), "lifecycle_policy", false)
        ),
        fail("lifecycle_policy is false, expected true")
    );
    // Not read (or not reported): undecided, never a verdict.
    assert_eq!(
        judge(
            "ecr-lifecycle-policy",
            &with(good_repository(), "lifecycle_policy", Value::Unknown)
        ),
        unknown(
            "could not decide: lifecycle_policy is unknown (it was not collected, or AWS did not report it)"
        )
    );
    assert_eq!(
        judge(
            "ecr-cross-region-replication",
            &with(
                good_repository(),
                "replication_regions",
                strings(&["eu-west-1"])
            )
        ),
        fail(
            r#"replication_regions is ["eu-west-1"], expected at least one element != its region (eu-west-1)"#
        )
    );
    assert_eq!(
        judge(
            "ecr-cross-region-replication",
            &with(
                good_repository(),
                "replication_regions",
                strings(&["eu-west-1", "us-east-1"])
            )
        ),
        Pass
    );
}

#[test]
fn logs_retention_never_expire_is_no_policy() {
    let rule = "logs-retention";
    assert_eq!(
        judge(rule, &with(good_log_group(), "retention_days", Value::Null)),
        fail("retention_days is absent (events never expire), expected present")
    );
    assert_eq!(
        judge(rule, &with(good_log_group(), "retention_days", 30)),
        Pass
    );
    assert_eq!(
        judge(rule, &with(good_log_group(), "retention_days", 29)),
        fail("retention_days is 29, expected >= 30")
    );
    let short = builtin_with(&[(rule, "min_days", "7")]);
    assert_eq!(
        judge_with(&short, rule, &with(good_log_group(), "retention_days", 7)),
        Pass
    );
    assert!(matches!(
        judge(
            "logs-centralized",
            &with(good_log_group(), "subscription_destinations", Value::Null)
        ),
        Outcome::Error(_)
    ));
    assert!(matches!(
        judge(
            "logs-centralized",
            &with(good_log_group(), "subscription_destinations", strings(&[]))
        ),
        Outcome::Fail(_)
    ));
}

#[test]
fn built_in_params_reject_overrides_of_the_wrong_type() {
    let cases = [
        ("rds-backup-retention", "min_days", "seven"),
        ("s3-default-encryption", "require_kms", "yes please"),
        ("s3-versioning", "backup_buckets", "\"*backup*\""),
        ("rds-pitr-fresh", "max_lag", "60"),
    ];
    for (rule, param, value) in cases {
        let mut settings = Settings::default();
        settings.params.insert(
            rule.into(),
            BTreeMap::from([(
                param.to_string(),
                ParamValue {
                    node: yaml::parse(value).unwrap(),
                    file: "backstop.yaml".into(),
                },
            )]),
        );
        let d = pack().compile(&settings).unwrap_err();
        assert_eq!(d.0.len(), 1, "{rule}.{param}: {d}");
        assert_eq!(
            (d.0[0].file.as_str(), d.0[0].code.as_str()),
            ("backstop.yaml", "type-mismatch"),
            "{d}"
        );
        assert!(
            d.0[0]
                .message
                .contains(&format!("param `{param}` of rule `{rule}`")),
            "{d}"
        );
    }
    // A duration param with a string that is not a duration.
    let mut settings = Settings::default();
    settings.params.insert(
        "rds-pitr-fresh".into(),
        BTreeMap::from([(
            "max_lag".to_string(),
            ParamValue {
                node: yaml::parse("an hour").unwrap(),
                file: "backstop.yaml".into(),
            },
        )]),
    );
    let d = pack().compile(&settings).unwrap_err();
    assert_eq!(d.0[0].code, "invalid-duration", "{d}");
}

/// A bucket whose location could not be read is known only by name: rules
/// whose `when` excludes that name stay silent, the others report `error`.
#[test]
fn unreadable_named_resources_are_judged_by_name_where_possible() {
    let engine = backstop::rules::RuleSet::builtin()
        .unwrap()
        .compile(&Default::default())
        .unwrap();
    let error = |id: &str| backstop::model::CollectionError {
        service: "s3".into(),
        region: "eu-west-1".into(),
        operation: "GetBucketLocation".into(),
        code: "Throttling".into(),
        message: "slow down".into(),
        resource_type: "aws.s3.bucket".into(),
        resource_id: Some(id.into()),
        attributes: vec![],
    };
    let inventory = backstop::model::Inventory {
        errors: vec![error("web-assets"), error("db-backups")],
        ..Default::default()
    };
    let report = engine.audit(&inventory, "2026-11-20T09:00:00Z".parse().unwrap());
    let rules_for = |id: &str| {
        let mut rules: Vec<&str> = report
            .results
            .iter()
            .filter(|f| f.resource.id == id)
            .inspect(|f| assert_eq!(f.status, backstop::report::Status::Error))
            .map(|f| f.rule.as_str())
            .collect();
        rules.sort();
        rules
    };
    assert_eq!(
        rules_for("web-assets"),
        ["s3-default-encryption", "s3-public-access-blocked"]
    );
    assert_eq!(
        rules_for("db-backups"),
        [
            "s3-cross-region-replication",
            "s3-default-encryption",
            "s3-lifecycle-expiration",
            "s3-public-access-blocked",
            "s3-versioning"
        ]
    );
}

/// A type listed by two calls that both fail gives one `error` per rule and
/// region, naming both calls.
#[test]
fn listing_failures_of_one_type_and_region_are_reported_once() {
    let engine = backstop::rules::RuleSet::builtin()
        .unwrap()
        .compile(&Default::default())
        .unwrap();
    let failed = |operation: &str| backstop::model::CollectionError {
        service: "rds".into(),
        region: "eu-west-1".into(),
        operation: operation.into(),
        code: "AccessDenied".into(),
        message: "no".into(),
        resource_type: "aws.rds.db_snapshot".into(),
        resource_id: None,
        attributes: vec![],
    };
    let inventory = backstop::model::Inventory {
        errors: vec![
            failed("DescribeDBSnapshots"),
            failed("DescribeDBClusterSnapshots"),
        ],
        ..Default::default()
    };
    let report = engine.audit(&inventory, "2026-11-20T09:00:00Z".parse().unwrap());
    let results: Vec<_> = report
        .results
        .iter()
        .filter(|f| f.rule == "rds-snapshot-not-public")
        .collect();
    assert_eq!(results.len(), 1, "{results:#?}");
    assert!(
        results[0].message.contains("DescribeDBSnapshots"),
        "{}",
        results[0].message
    );
    assert!(
        results[0].message.contains("DescribeDBClusterSnapshots"),
        "{}",
        results[0].message
    );
}

/// `copy_regions` of rds-cross-region-backups is read by collection, not by
/// a condition: it reaches the collection plan (empty: every region), and
/// a value that is not a list of region names is an error at its position.
#[test]
fn rds_cross_region_backups_copy_regions_reach_the_plan() {
    use backstop::collect::{CopyRegions, Plan};
    let rule = "rds-cross-region-backups";
    assert_eq!(
        Plan::for_engine(&builtin()).copy_regions,
        CopyRegions::Enabled
    );
    let named = builtin_with(&[(rule, "copy_regions", "[us-west-2, eu-central-1]")]);
    assert_eq!(
        Plan::for_engine(&named).copy_regions,
        CopyRegions::Also(["eu-central-1".to_string(), "us-west-2".to_string()].into())
    );
    // The verdicts do not depend on it: it only widens the search.
    assert_eq!(judge_with(&named, rule, &good_instance()), Pass);
    let mut settings = Settings::default();
    settings.disabled.insert(rule.to_string());
    assert_eq!(
        Plan::for_engine(&pack().compile(&settings).unwrap()).copy_regions,
        CopyRegions::Audited,
        "no rule reads cross_region_copy_time"
    );

    let compile = |value: &str| {
        let mut settings = Settings::default();
        settings.params.insert(
            rule.to_string(),
            BTreeMap::from([(
                "copy_regions".to_string(),
                ParamValue {
                    node: yaml::parse(value).unwrap(),
                    file: "backstop.yaml".into(),
                },
            )]),
        );
        pack().compile(&settings)
    };
    let err = compile("[us-west-2, eu-west1]").unwrap_err();
    let [d] = &err.0[..] else { panic!("{err}") };
    assert_eq!(d.code, "invalid-region");
    assert_eq!(d.file, "backstop.yaml");
    assert_eq!((d.line, d.col), (1, 13));
    assert!(d.message.contains("\"eu-west1\""), "{}", d.message);
    let err = compile("us-west-2").unwrap_err();
    assert_eq!(err.0[0].code, "type-mismatch", "{err}");
}

/// A user rule may declare `copy_regions` only when it reads
/// cross_region_copy_time; its regions join the built-in rule's.
#[test]
fn copy_regions_is_a_param_only_of_rules_reading_copies() {
    use backstop::collect::{CopyRegions, Plan};
    let mut set = pack();
    let user = "id: my-copies\ntitle: t\nresource: aws.rds.db_instance\nseverity: low\n\
                category: cross-region\nparams:\n  copy_regions: [ap-southeast-2]\n\
                assert:\n  cross_region_copy_time: { present: true }\n\
                rationale: r\nremediation: r\n";
    set.add_source("rules/my-copies.yaml", user).unwrap();
    let mut settings = Settings::default();
    settings
        .params
        .entry("rds-cross-region-backups".to_string())
        .or_default()
        .insert(
            "copy_regions".to_string(),
            ParamValue {
                node: yaml::parse("[us-west-2]").unwrap(),
                file: "backstop.yaml".into(),
            },
        );
    assert_eq!(
        Plan::for_engine(&set.compile(&settings).unwrap()).copy_regions,
        CopyRegions::Also(["ap-southeast-2".to_string(), "us-west-2".to_string()].into())
    );

    let unused = user.replace("my-copies", "my-retention").replace(
        "cross_region_copy_time: { present: true }",
        "backup_retention_days: { gte: 7 }",
    );
    let err = pack()
        .add_source("rules/my-retention.yaml", &unused)
        .unwrap_err();
    assert_eq!(err.0[0].code, "unused-param", "{err}");
}
