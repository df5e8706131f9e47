//! The built-in rule pack as a whole: the README's table of rules, their
//! documentation, their params and how they meet unreadable resources.
//! What each rule passes, fails, leaves out or cannot decide is in its case
//! file (`rules/<service>/<id>.cases.yaml`, run by `tests/rule_cases.rs`);
//! what an inventory file cannot express stays here.

use std::collections::BTreeMap;

use backstop::lang::yaml;
use backstop::model::schema;
use backstop::model::{Inventory, Resource, Value};
use backstop::report::Status;
use backstop::rules::{Engine, ParamValue, RuleDef, RuleSet, Settings};
use jiff::Timestamp;

const NOW: &str = "2026-03-01T12:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

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
            Status::Fail => Outcome::Fail(v.message.unwrap().into()),
            Status::Error => Outcome::Error(v.message.unwrap().into()),
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

fn strings(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::Str(s.to_string())).collect())
}

// ---------------------------------------------------------------------------
// The pack itself

/// The README's table of built-in rules: (category, rule ids).
fn readme_rule_table() -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## The built-in rules\n")
        .nth(1)
        .expect("README.md has a section \"The built-in rules\"");
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter_map(|line| {
            line.strip_prefix("| ")?
                .strip_suffix(" |")?
                .split_once(" | ")
        })
        .filter(|(category, _)| *category != "category")
        .map(|(category, ids)| {
            let ids = ids.split(", ").map(str::to_string).collect();
            (category.to_string(), ids)
        })
        .collect()
}

#[test]
fn the_readme_lists_every_built_in_rule_under_its_category() {
    let table = readme_rule_table();
    let listed: Vec<(&str, &str)> = table
        .iter()
        .flat_map(|(category, ids)| ids.iter().map(move |id| (id.as_str(), category.as_str())))
        .collect();
    let in_readme: BTreeMap<&str, &str> = listed.iter().copied().collect();
    assert_eq!(
        in_readme.len(),
        listed.len(),
        "the README lists a rule twice"
    );
    let set = pack();
    let defined: BTreeMap<&str, &str> = set
        .rules()
        .iter()
        .map(|r| (r.id.as_str(), r.category.as_str()))
        .collect();
    assert_eq!(set.rules().len(), defined.len(), "an id is defined twice");
    let not_in = |a: &BTreeMap<&str, &str>, b: &BTreeMap<&str, &str>| -> Vec<String> {
        let differ = |(id, category): &(&&str, &&str)| b.get(**id) != Some(*category);
        a.iter()
            .filter(differ)
            .map(|(id, c)| format!("{id} ({c})"))
            .collect()
    };
    let (readme_only, rules_only) = (not_in(&in_readme, &defined), not_in(&defined, &in_readme));
    assert!(
        readme_only.is_empty() && rules_only.is_empty(),
        "README.md's table of built-in rules and rules/ differ:\n  \
         only in the README: {readme_only:?}\n  only in rules/: {rules_only:?}"
    );
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
    let kinds = |id: &str| -> Vec<&str> {
        let rule = set.get(id).unwrap();
        rule.resource_types.iter().map(|t| t.name).collect()
    };
    for rule in set.rules() {
        let id = rule.id.as_str();
        // Standalone instances and clusters alike.
        if ["rds-backup-alerts", "rds-backup-window"].contains(&id) {
            let both = [schema::DB_INSTANCE, schema::DB_CLUSTER];
            assert_eq!(kinds(id), both, "{id}");
            continue;
        }
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
        } else if id.starts_with("secrets-") {
            schema::SECRET
        } else if id.starts_with("backup-plan-") {
            schema::BACKUP_PLAN
        } else if id.starts_with("backup-vault-") {
            schema::BACKUP_VAULT
        } else if id == "backup-recovery-point-fresh" || id.starts_with("backup-restore-") {
            schema::BACKUP_PROTECTED_RESOURCE
        } else {
            schema::LOG_GROUP
        };
        assert_eq!(kinds(id), [expected], "{id}");
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
// What an inventory file cannot express

/// A replication rule copying the whole bucket to `destination_region`.
fn replication_to(destination_region: Value) -> Value {
    let fields = [
        ("id", Value::from("to-backup-region")),
        ("enabled", true.into()),
        ("destination_bucket", "acme-db-backups-replica".into()),
        ("prefix", "".into()),
        ("destination_region", destination_region),
    ];
    Value::Object(fields.map(|(k, v)| (k.to_string(), v)).into())
}

fn replicated_bucket(id: &str, replication_rules: Vec<Value>) -> Resource {
    let mut r = resource(schema::S3_BUCKET, id);
    r.set("replication_rules", Value::List(replication_rules));
    r
}

/// A destination region that could not be resolved is unknown inside a
/// list element, which only a collector can leave (an inventory file's
/// missing field is a known absence).
#[test]
fn s3_cross_region_replication_to_an_unresolved_region_is_undecided() {
    let rule = "s3-cross-region-replication";
    let unresolved = replication_to(Value::Unknown);
    assert_eq!(
        judge(rule, &replicated_bucket("acme-db-backups", vec![unresolved.clone()])),
        Outcome::Error(
            "could not decide: replication_rules[0].destination_region is unknown (it was not collected, or AWS did not report it)".to_string()
        )
    );
    // ... unless another rule replicates the whole bucket elsewhere.
    let elsewhere = replication_to("us-east-1".into());
    assert_eq!(
        judge(
            rule,
            &replicated_bucket("acme-db-backups", vec![unresolved, elsewhere])
        ),
        Pass
    );
}

/// Each backup-bucket rule has its own `backup_buckets` param: setting the
/// others' leaves it alone.
#[test]
fn each_rule_has_its_own_backup_buckets_param() {
    let custom = builtin_with(&[
        (
            "s3-versioning",
            "backup_buckets",
            "[\"acme-exports*\", \"dr-*\"]",
        ),
        ("s3-lifecycle-expiration", "backup_buckets", "[\"dr-*\"]"),
    ]);
    let bucket = |id: &str| replicated_bucket(id, vec![replication_to("eu-central-1".into())]);
    let rule = "s3-cross-region-replication";
    assert_eq!(judge_with(&custom, rule, &bucket("acme-exports")), Skipped);
    assert_eq!(judge_with(&custom, rule, &bucket("acme-db-backups")), Pass);
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
        account: None,
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
    let bucket_rules = |keep: fn(&RuleDef) -> bool| {
        let mut ids: Vec<String> = pack()
            .rules()
            .iter()
            .filter(|r| r.applies_to(schema::S3_BUCKET) && keep(r))
            .map(|r| r.id.clone())
            .collect();
        ids.sort();
        ids
    };
    // Every bucket rule's `when` picks backup buckets by name.
    assert_eq!(rules_for("web-assets"), bucket_rules(|r| r.when.is_none()));
    assert_eq!(rules_for("db-backups"), bucket_rules(|_| true));
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
        account: None,
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
