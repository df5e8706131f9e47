//! The condition language end to end: rules compiled from YAML text, judged
//! against hand-built resources on a fixed audit clock.
//!
//! Every operator and combinator passes and fails; unknown facts (not read,
//! not sent) neither pass nor fail but leave the rule undecided (`error`),
//! while known absences are judged like values; type errors are caught when
//! the rule loads, and failures explain themselves.

use std::collections::{BTreeMap, BTreeSet};

use backstop::lang::{Diagnostic, Diagnostics, yaml};
use backstop::model::schema::{self, ops};
use backstop::model::{CollectionError, Inventory, Resource, Value};
use backstop::report::{Severity, Status};
use backstop::rules::evaluate::Target;
use backstop::rules::{Engine, ParamValue, RuleSet, Settings};
use jiff::{SignedDuration, Timestamp};

// ---------------------------------------------------------------------------
// Helpers

/// The audit clock of every test.
const NOW: &str = "2026-03-01T12:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn ago(secs: i64) -> Timestamp {
    now() - SignedDuration::from_secs(secs)
}

const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// A complete rule file around `body` (params / when / assert lines).
fn rule_text(id: &str, kind: &str, body: &str) -> String {
    format!(
        "id: {id}\ntitle: Test rule {id}\nresource: {kind}\nseverity: medium\ncategory: retention\n{body}\n\
         rationale: Because.\nremediation: fix {{id}} in {{region}}\nreferences: [https://example.com]\n"
    )
}

fn try_rule_set(kind: &str, body: &str) -> Result<RuleSet, Diagnostics> {
    let mut set = RuleSet::default();
    set.add_source("t.yaml", &rule_text("t", kind, body))?;
    Ok(set)
}

fn engine(kind: &str, body: &str) -> Engine {
    let set = try_rule_set(kind, body).unwrap_or_else(|d| panic!("rule does not compile:\n{d}"));
    set.compile(&Settings::default())
        .unwrap_or_else(|d| panic!("{d}"))
}

/// The diagnostics of a rule that must not compile.
fn errors(kind: &str, body: &str) -> Vec<Diagnostic> {
    match try_rule_set(kind, body) {
        Ok(_) => panic!("rule compiled, expected an error:\n{body}"),
        Err(d) => d.0,
    }
}

/// The one diagnostic of a rule that must not compile, as (code, message).
fn error(kind: &str, body: &str) -> (&'static str, String) {
    let d = errors(kind, body);
    assert_eq!(
        d.len(),
        1,
        "expected one diagnostic, got:\n{}",
        Diagnostics(d.clone())
    );
    (d[0].code.as_str(), d[0].message.clone())
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Pass,
    Fail(String),
    Errored(String),
    /// The rule's `when` does not select the resource.
    Skipped,
}
use Outcome::{Pass, Skipped};

fn fail(message: &str) -> Outcome {
    Outcome::Fail(message.to_string())
}

/// The engine's single rule judged on one resource.
fn judge(engine: &Engine, r: &Resource) -> Outcome {
    let inventory = Inventory {
        resources: vec![r.clone()],
        ..Default::default()
    };
    judge_in(engine, &inventory)
}

fn judge_in(engine: &Engine, inventory: &Inventory) -> Outcome {
    let verdicts = engine.evaluate(inventory, now());
    assert!(verdicts.len() <= 1, "more than one verdict: {verdicts:?}");
    match verdicts.first() {
        None => Skipped,
        Some(v) => match v.status {
            Status::Pass => {
                assert_eq!(v.message, None);
                Pass
            }
            Status::Fail => {
                Outcome::Fail(v.message.clone().expect("a failure explains itself").into())
            }
            Status::Error => {
                Outcome::Errored(v.message.clone().expect("an error explains itself").into())
            }
            Status::Waived => panic!("the engine never waives"),
        },
    }
}

/// A resource as a collector that read it leaves it: its tags are read,
/// the attributes that can be none and are not set are known to be absent,
/// every other attribute is unknown until set.
fn resource(kind: &str, id: &str) -> Resource {
    let kind = schema::resource_type(kind).unwrap();
    let mut r = Resource::new(kind, id);
    r.region = "eu-west-1".into();
    r.account = "111122223333".into();
    r.arn = format!("arn:aws:test:eu-west-1:111122223333:{id}");
    r.set_tags(BTreeMap::new());
    for attribute in kind.attributes.iter().filter(|a| a.none.is_some()) {
        r.set(attribute.name, Value::Null);
    }
    r
}

/// The error of a rule that needs facts that are unknown.
fn undecided(facts: &str) -> Outcome {
    let several = facts.contains(", ");
    Outcome::Errored(format!(
        "could not decide: {facts} {} unknown ({} not collected, or AWS did not report {})",
        if several { "are" } else { "is" },
        if several { "they were" } else { "it was" },
        if several { "them" } else { "it" },
    ))
}

fn db() -> Resource {
    resource(schema::DB_INSTANCE, "db-1")
}

fn db_with(name: &str, value: impl Into<Value>) -> Resource {
    let mut r = db();
    r.set(name, value);
    r
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

// ---------------------------------------------------------------------------
// Comparison operators

#[test]
fn eq_on_integers_booleans_enums_strings_and_times() {
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {backup_retention_days: {eq: 7}}",
    );
    assert_eq!(judge(&e, &db_with("backup_retention_days", 7)), Pass);
    assert_eq!(
        judge(&e, &db_with("backup_retention_days", 1)),
        fail("backup_retention_days is 1, expected 7")
    );
    assert_eq!(judge(&e, &db()), undecided("backup_retention_days"));

    let e = engine(schema::DB_INSTANCE, "assert: {multi_az: {eq: true}}");
    assert_eq!(judge(&e, &db_with("multi_az", true)), Pass);
    assert_eq!(
        judge(&e, &db_with("multi_az", false)),
        fail("multi_az is false, expected true")
    );
    assert_eq!(judge(&e, &db()), undecided("multi_az"));

    let e = engine(
        schema::DB_INSTANCE,
        "assert: {kms_key_managed_by: {eq: CUSTOMER}}",
    );
    assert_eq!(judge(&e, &db_with("kms_key_managed_by", "CUSTOMER")), Pass);
    assert_eq!(
        judge(&e, &db_with("kms_key_managed_by", "AWS")),
        fail(r#"kms_key_managed_by is "AWS", expected "CUSTOMER""#)
    );

    // A quoted scalar is a string: `"true"` does not compare with a bool.
    let e = engine(schema::DB_INSTANCE, r#"assert: {engine: {eq: "15"}}"#);
    assert_eq!(judge(&e, &db_with("engine", "15")), Pass);

    let e = engine(
        schema::DB_INSTANCE,
        r#"assert: {latest_restorable_time: {eq: "2026-03-01T11:00:00Z"}}"#,
    );
    assert_eq!(
        judge(&e, &db_with("latest_restorable_time", ago(HOUR))),
        Pass
    );
    assert_eq!(
        judge(&e, &db_with("latest_restorable_time", ago(2 * HOUR))),
        fail("latest_restorable_time is 2026-03-01T10:00:00Z, expected 2026-03-01T11:00:00Z")
    );
}

#[test]
fn ne_is_false_on_an_absent_value() {
    let e = engine(schema::DB_INSTANCE, "assert: {engine: {ne: postgres}}");
    assert_eq!(judge(&e, &db_with("engine", "mysql")), Pass);
    assert_eq!(
        judge(&e, &db_with("engine", "postgres")),
        fail(r#"engine is "postgres", expected not "postgres""#)
    );
    // An unknown engine is not "not postgres".
    assert_eq!(judge(&e, &db()), undecided("engine"));
}

#[test]
fn ordering_operators_on_integers() {
    let cases: &[(&str, i64, bool)] = &[
        ("gt", 6, false),
        ("gt", 7, false),
        ("gt", 8, true),
        ("gte", 6, false),
        ("gte", 7, true),
        ("gte", 8, true),
        ("lt", 6, true),
        ("lt", 7, false),
        ("lt", 8, false),
        ("lte", 6, true),
        ("lte", 7, true),
        ("lte", 8, false),
    ];
    for &(op, value, passes) in cases {
        let e = engine(
            schema::DB_INSTANCE,
            &format!("assert: {{backup_retention_days: {{{op}: 7}}}}"),
        );
        let symbol = match op {
            "gt" => ">",
            "gte" => ">=",
            "lt" => "<",
            _ => "<=",
        };
        let expected = if passes {
            Pass
        } else {
            fail(&format!(
                "backup_retention_days is {value}, expected {symbol} 7"
            ))
        };
        assert_eq!(
            judge(&e, &db_with("backup_retention_days", value)),
            expected,
            "{op} {value}"
        );
        assert_eq!(
            judge(&e, &db()),
            undecided("backup_retention_days"),
            "{op} on absent"
        );
    }
    // The issue's example, word for word.
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {backup_retention_days: {gte: 7}}",
    );
    assert_eq!(
        judge(&e, &db_with("backup_retention_days", 1)),
        fail("backup_retention_days is 1, expected >= 7")
    );
    // Negative numbers are integers too.
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {backup_retention_days: {gt: -1}}",
    );
    assert_eq!(judge(&e, &db_with("backup_retention_days", 0)), Pass);
}

#[test]
fn ordering_operators_on_timestamps() {
    let e = engine(
        schema::DB_INSTANCE,
        r#"assert: {latest_restorable_time: {gte: "2026-03-01T00:00:00Z", lt: "2026-03-02T00:00:00Z"}}"#,
    );
    assert_eq!(
        judge(&e, &db_with("latest_restorable_time", ago(HOUR))),
        Pass
    );
    assert_eq!(
        judge(&e, &db_with("latest_restorable_time", ago(DAY))),
        fail("latest_restorable_time is 2026-02-28T12:00:00Z, expected >= 2026-03-01T00:00:00Z")
    );
    assert_eq!(
        judge(&e, &db()),
        fail(
            "latest_restorable_time is absent (automated backups are off), expected >= 2026-03-01T00:00:00Z"
        )
    );
}

#[test]
fn in_and_not_in() {
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {engine: {in: [postgres, mysql]}}",
    );
    assert_eq!(judge(&e, &db_with("engine", "mysql")), Pass);
    assert_eq!(
        judge(&e, &db_with("engine", "mariadb")),
        fail(r#"engine is "mariadb", expected one of ["postgres", "mysql"]"#)
    );
    assert_eq!(judge(&e, &db()), undecided("engine"));

    let e = engine(
        schema::DB_INSTANCE,
        "assert: {engine: {not_in: [postgres, mysql]}}",
    );
    assert_eq!(judge(&e, &db_with("engine", "mariadb")), Pass);
    assert_eq!(
        judge(&e, &db_with("engine", "postgres")),
        fail(r#"engine is "postgres", expected none of ["postgres", "mysql"]"#)
    );
    // Absent is not "none of them": it is unknown.
    assert_eq!(judge(&e, &db()), undecided("engine"));

    let e = engine(
        schema::DB_INSTANCE,
        "assert: {backup_retention_days: {in: [7, 14, 35]}}",
    );
    assert_eq!(judge(&e, &db_with("backup_retention_days", 14)), Pass);
    assert_eq!(
        judge(&e, &db_with("backup_retention_days", 1)),
        fail("backup_retention_days is 1, expected one of [7, 14, 35]")
    );
}

#[test]
fn present_and_absent_are_the_only_operators_true_on_absent_values() {
    let present = engine(schema::DB_INSTANCE, "assert: {cluster_id: {present: true}}");
    let absent = engine(schema::DB_INSTANCE, "assert: {cluster_id: {absent: true}}");
    let not_present = engine(
        schema::DB_INSTANCE,
        "assert: {cluster_id: {present: false}}",
    );
    let not_absent = engine(schema::DB_INSTANCE, "assert: {cluster_id: {absent: false}}");
    let member = db_with("cluster_id", "aurora-1");
    assert_eq!(judge(&present, &member), Pass);
    assert_eq!(
        judge(&present, &db()),
        fail("cluster_id is absent (standalone, not in a cluster), expected present")
    );
    assert_eq!(judge(&absent, &db()), Pass);
    assert_eq!(
        judge(&absent, &member),
        fail(r#"cluster_id is "aurora-1", expected absent"#)
    );
    assert_eq!(judge(&not_present, &db()), Pass);
    assert_eq!(
        judge(&not_present, &member),
        fail(r#"cluster_id is "aurora-1", expected absent"#)
    );
    assert_eq!(judge(&not_absent, &member), Pass);
    assert_eq!(
        judge(&not_absent, &db()),
        fail("cluster_id is absent (standalone, not in a cluster), expected present")
    );
}

#[test]
fn matches_takes_a_regex() {
    let e = engine(
        schema::DB_INSTANCE,
        r"assert: {instance_class: {matches: '^db\.(t3|t4g)\.'}}",
    );
    assert_eq!(judge(&e, &db_with("instance_class", "db.t4g.micro")), Pass);
    assert_eq!(
        judge(&e, &db_with("instance_class", "db.r5.large")),
        fail(r#"instance_class is "db.r5.large", expected matching /^db\.(t3|t4g)\./"#)
    );
    assert_eq!(judge(&e, &db()), undecided("instance_class"));
    // Unanchored: a match anywhere counts.
    let e = engine(schema::DB_INSTANCE, "assert: {engine: {matches: sql}}");
    assert_eq!(judge(&e, &db_with("engine", "aurora-postgresql")), Pass);
}

#[test]
fn glob_takes_one_pattern_or_a_list() {
    let e = engine(schema::DB_INSTANCE, r#"assert: {id: {glob: "prod-*"}}"#);
    assert_eq!(
        judge(&e, &resource(schema::DB_INSTANCE, "prod-orders")),
        Pass
    );
    assert_eq!(
        judge(&e, &db()),
        fail(r#"id is "db-1", expected matching prod-*"#)
    );

    let e = engine(
        schema::DB_INSTANCE,
        r#"assert: {id: {glob: ["prod-*", "*-live"]}}"#,
    );
    assert_eq!(
        judge(&e, &resource(schema::DB_INSTANCE, "orders-live")),
        Pass
    );
    assert_eq!(
        judge(&e, &db()),
        fail(r#"id is "db-1", expected matching prod-* or *-live"#)
    );

    // On an attribute that is absent.
    let e = engine(schema::DB_INSTANCE, r#"assert: {cluster_id: {glob: "*"}}"#);
    assert_eq!(
        judge(&e, &db()),
        fail("cluster_id is absent (standalone, not in a cluster), expected matching *")
    );
    assert_eq!(judge(&e, &db_with("cluster_id", "")), Pass);
}

#[test]
fn contains_on_lists_and_strings() {
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {backup_replication_regions: {contains: us-east-1}}",
    );
    assert_eq!(
        judge(
            &e,
            &db_with(
                "backup_replication_regions",
                strings(&["eu-central-1", "us-east-1"])
            )
        ),
        Pass
    );
    assert_eq!(
        judge(
            &e,
            &db_with("backup_replication_regions", strings(&["eu-central-1"]))
        ),
        fail(r#"backup_replication_regions is ["eu-central-1"], expected containing "us-east-1""#)
    );
    assert_eq!(judge(&e, &db()), undecided("backup_replication_regions"));

    let e = engine(schema::DB_INSTANCE, "assert: {engine: {contains: aurora}}");
    assert_eq!(judge(&e, &db_with("engine", "aurora-mysql")), Pass);
    assert_eq!(
        judge(&e, &db_with("engine", "mysql")),
        fail(r#"engine is "mysql", expected containing "aurora""#)
    );
}

#[test]
fn length_of_lists_and_strings() {
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {backup_replication_regions: {length: {gte: 2}}}",
    );
    assert_eq!(
        judge(
            &e,
            &db_with(
                "backup_replication_regions",
                strings(&["us-east-1", "us-west-2"])
            )
        ),
        Pass
    );
    assert_eq!(
        judge(
            &e,
            &db_with("backup_replication_regions", strings(&["us-east-1"]))
        ),
        fail(r#"backup_replication_regions is ["us-east-1"], expected length >= 2"#)
    );
    assert_eq!(judge(&e, &db()), undecided("backup_replication_regions"));

    // An empty list has length 0; an absent one has no length.
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {backup_replication_regions: {length: {eq: 0}}}",
    );
    assert_eq!(
        judge(&e, &db_with("backup_replication_regions", strings(&[]))),
        Pass
    );
    assert_eq!(judge(&e, &db()), undecided("backup_replication_regions"));

    // Strings count characters; several comparisons all apply.
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {backup_window: {length: {gt: 10, lte: 11}}}",
    );
    assert_eq!(judge(&e, &db_with("backup_window", "03:00-04:00")), Pass);
    assert_eq!(
        judge(&e, &db_with("backup_window", "3:00-4:00")),
        fail(r#"backup_window is "3:00-4:00", expected length > 10 and <= 11"#)
    );

    // Lists of objects have a length too.
    let e = engine(
        schema::S3_BUCKET,
        "assert: {lifecycle_rules: {length: {gt: 0}}}",
    );
    let mut bucket = resource(schema::S3_BUCKET, "b");
    bucket.set(
        "lifecycle_rules",
        Value::List(vec![object(&[("id", "r".into())])]),
    );
    assert_eq!(judge(&e, &bucket), Pass);
}

#[test]
fn quantifiers_over_lists_of_strings() {
    let any = engine(
        schema::DB_INSTANCE,
        "assert: {backup_replication_regions: {any: {eq: us-east-1}}}",
    );
    let all = engine(
        schema::DB_INSTANCE,
        r#"assert: {backup_replication_regions: {all: {glob: "us-*"}}}"#,
    );
    let none = engine(
        schema::DB_INSTANCE,
        "assert: {backup_replication_regions: {none: {eq: eu-west-1}}}",
    );
    let regions = |items: &[&str]| db_with("backup_replication_regions", strings(items));

    assert_eq!(judge(&any, &regions(&["eu-west-2", "us-east-1"])), Pass);
    assert_eq!(
        judge(&any, &regions(&["eu-west-2"])),
        fail(
            r#"backup_replication_regions is ["eu-west-2"], expected at least one element == "us-east-1""#
        )
    );
    assert_eq!(judge(&all, &regions(&["us-east-1", "us-west-2"])), Pass);
    assert_eq!(
        judge(&all, &regions(&["us-east-1", "eu-west-2"])),
        fail(
            r#"backup_replication_regions is ["us-east-1", "eu-west-2"], expected every element matching us-*"#
        )
    );
    assert_eq!(judge(&none, &regions(&["us-east-1"])), Pass);
    assert_eq!(
        judge(&none, &regions(&["eu-west-1"])),
        fail(r#"backup_replication_regions is ["eu-west-1"], expected no element == "eu-west-1""#)
    );

    // Empty lists: nothing matches, so `any` fails and `all` / `none` hold.
    assert_eq!(
        judge(&any, &regions(&[])),
        fail(r#"backup_replication_regions is [], expected at least one element == "us-east-1""#)
    );
    assert_eq!(judge(&all, &regions(&[])), Pass);
    assert_eq!(judge(&none, &regions(&[])), Pass);

    // Unread lists are unknown: no quantifier decides.
    for e in [&any, &all, &none] {
        assert_eq!(judge(e, &db()), undecided("backup_replication_regions"));
    }
}

fn lifecycle_rule(id: &str, enabled: bool, expiration_days: Option<i64>) -> Value {
    let mut fields = vec![("id", Value::from(id)), ("enabled", enabled.into())];
    if let Some(days) = expiration_days {
        fields.push(("expiration_days", days.into()));
    }
    object(&fields)
}

fn bucket_with_lifecycle(rules: Vec<Value>) -> Resource {
    let mut b = resource(schema::S3_BUCKET, "backups");
    b.set("lifecycle_rules", Value::List(rules));
    b
}

#[test]
fn quantifiers_over_lists_of_objects() {
    let any = engine(
        schema::S3_BUCKET,
        "assert: {lifecycle_rules: {any: {enabled: {eq: true}, expiration_days: {lte: 30}}}}",
    );
    assert_eq!(
        judge(
            &any,
            &bucket_with_lifecycle(vec![
                lifecycle_rule("old", false, Some(7)),
                lifecycle_rule("new", true, Some(30))
            ])
        ),
        Pass
    );
    // Both fields must hold on the same element.
    assert_eq!(
        judge(
            &any,
            &bucket_with_lifecycle(vec![
                lifecycle_rule("a", false, Some(7)),
                lifecycle_rule("b", true, Some(90))
            ])
        ),
        fail(
            r#"lifecycle_rules is [{enabled: false, expiration_days: 7, id: "a"}, {enabled: true, expiration_days: 90, id: "b"}], expected at least one element where enabled == true and expiration_days <= 30"#
        )
    );
    // A field absent from the element is unknown, so it does not match.
    assert!(matches!(
        judge(
            &any,
            &bucket_with_lifecycle(vec![lifecycle_rule("a", true, None)])
        ),
        Outcome::Fail(_)
    ));

    let all = engine(
        schema::S3_BUCKET,
        "assert: {lifecycle_rules: {all: {enabled: {eq: true}}}}",
    );
    assert_eq!(
        judge(
            &all,
            &bucket_with_lifecycle(vec![lifecycle_rule("a", true, None)])
        ),
        Pass
    );
    assert_eq!(
        judge(
            &all,
            &bucket_with_lifecycle(vec![
                lifecycle_rule("a", true, None),
                lifecycle_rule("b", false, None)
            ])
        ),
        fail(
            r#"lifecycle_rules is [{enabled: true, id: "a"}, {enabled: false, id: "b"}], expected every element where enabled == true"#
        )
    );

    let none = engine(
        schema::S3_BUCKET,
        "assert: {lifecycle_rules: {none: {enabled: {eq: false}}}}",
    );
    assert_eq!(
        judge(
            &none,
            &bucket_with_lifecycle(vec![lifecycle_rule("a", true, None)])
        ),
        Pass
    );
    assert_eq!(
        judge(
            &none,
            &bucket_with_lifecycle(vec![lifecycle_rule("a", false, None)])
        ),
        fail(
            r#"lifecycle_rules is [{enabled: false, id: "a"}], expected no element where enabled == false"#
        )
    );
    // An element whose field is unknown cannot be shown not to match.
    assert!(matches!(
        judge(
            &none,
            &bucket_with_lifecycle(vec![object(&[("id", "x".into())])])
        ),
        Outcome::Errored(_)
    ));
    assert_eq!(
        judge(&none, &resource(schema::S3_BUCKET, "b")),
        undecided("lifecycle_rules")
    );

    // Combinators work inside an element.
    let nested = engine(
        schema::S3_BUCKET,
        "assert: {lifecycle_rules: {any: {enabled: {eq: true}, any: [{expiration_days: {present: true}}, {noncurrent_expiration_days: {present: true}}]}}}",
    );
    let mut noncurrent = lifecycle_rule("nc", true, None);
    if let Value::Object(fields) = &mut noncurrent {
        fields.insert("noncurrent_expiration_days".into(), Value::Int(30));
    }
    assert_eq!(
        judge(&nested, &bucket_with_lifecycle(vec![noncurrent])),
        Pass
    );
    assert!(matches!(
        judge(
            &nested,
            &bucket_with_lifecycle(vec![lifecycle_rule("x", true, None)])
        ),
        Outcome::Fail(_)
    ));
}

#[test]
fn newer_than_and_older_than_use_the_audit_clock() {
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {latest_restorable_time: {newer_than: 1h}}",
    );
    assert_eq!(
        judge(&e, &db_with("latest_restorable_time", ago(30 * MIN))),
        Pass
    );
    assert_eq!(
        judge(&e, &db_with("latest_restorable_time", ago(2 * HOUR))),
        fail("latest_restorable_time is 2026-03-01T10:00:00Z (2h 0m ago), expected newer than 1h")
    );
    // Exactly at the limit is not newer.
    assert!(matches!(
        judge(&e, &db_with("latest_restorable_time", ago(HOUR))),
        Outcome::Fail(_)
    ));
    assert_eq!(
        judge(&e, &db()),
        fail(
            "latest_restorable_time is absent (automated backups are off), expected newer than 1h"
        )
    );

    let e = engine(
        schema::DB_SNAPSHOT,
        "assert: {created_at: {older_than: 30d}}",
    );
    let snapshot = |t: Timestamp| {
        let mut s = resource(schema::DB_SNAPSHOT, "snap-1");
        s.set("created_at", t);
        s
    };
    assert_eq!(judge(&e, &snapshot(ago(31 * DAY))), Pass);
    assert_eq!(
        judge(&e, &snapshot(ago(DAY + 3 * HOUR))),
        fail("created_at is 2026-02-28T09:00:00Z (1d 3h ago), expected older than 30d")
    );
    assert_eq!(
        judge(&e, &resource(schema::DB_SNAPSHOT, "snap-1")),
        undecided("created_at")
    );

    // Compound durations, and a different clock changes the answer.
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {latest_restorable_time: {newer_than: 1h30m}}",
    );
    let r = db_with("latest_restorable_time", ago(HOUR + 20 * MIN));
    assert_eq!(judge(&e, &r), Pass);
    let inventory = Inventory {
        resources: vec![r],
        ..Default::default()
    };
    let later = now() + SignedDuration::from_secs(HOUR);
    let verdicts = e.evaluate(&inventory, later);
    assert_eq!(verdicts[0].status, Status::Fail);
    assert_eq!(
        verdicts[0].message.as_deref(),
        Some(
            "latest_restorable_time is 2026-03-01T10:40:00Z (2h 20m ago), expected newer than 90m"
        )
    );
}

/// What `backup_window: {within_windows: ALLOWED}` gives on an instance
/// with a backup window.
fn backup_window_within(allowed: &str) -> impl Fn(&str) -> Outcome {
    let e = engine(
        schema::DB_INSTANCE,
        &format!("assert: {{backup_window: {{within_windows: {allowed}}}}}"),
    );
    move |window| judge(&e, &db_with("backup_window", window))
}

#[test]
fn within_windows_holds_when_the_window_lies_inside_an_allowed_one() {
    let window = backup_window_within("[\"00:00-06:00\"]");
    // Inside, equal, and touching the end from inside.
    assert_eq!(window("02:00-02:30"), Pass);
    assert_eq!(window("00:00-06:00"), Pass);
    assert_eq!(window("05:30-06:00"), Pass);
    assert_eq!(window("00:00-00:30"), Pass);
    // Touching an edge from outside, or crossing one, is not inside.
    assert_eq!(
        window("07:00-07:30"),
        fail("backup_window is 07:00-07:30, expected within 00:00-06:00")
    );
    assert!(matches!(window("06:00-06:30"), Outcome::Fail(_)));
    assert!(matches!(window("23:30-00:00"), Outcome::Fail(_)));
    assert!(matches!(window("05:45-06:15"), Outcome::Fail(_)));
    // A window that wraps midnight is not inside one that does not.
    assert!(matches!(window("23:30-00:30"), Outcome::Fail(_)));
}

#[test]
fn within_windows_wraps_midnight_on_either_side() {
    let window = backup_window_within("[\"22:00-02:00\"]");
    assert_eq!(window("23:00-01:00"), Pass);
    assert_eq!(window("22:00-02:00"), Pass);
    assert_eq!(window("22:00-22:30"), Pass);
    assert_eq!(window("01:30-02:00"), Pass);
    assert_eq!(window("00:00-00:30"), Pass);
    assert_eq!(
        window("21:30-22:30"),
        fail("backup_window is 21:30-22:30, expected within 22:00-02:00")
    );
    assert!(matches!(window("01:30-02:30"), Outcome::Fail(_)));
    assert!(matches!(window("02:00-02:30"), Outcome::Fail(_)));
    assert!(matches!(window("12:00-12:30"), Outcome::Fail(_)));
    // A subject wrapping midnight inside a long allowed window that does not.
    let window = backup_window_within("[\"00:00-23:59\", \"20:00-23:59\"]");
    assert!(matches!(window("23:30-00:30"), Outcome::Fail(_)));
}

#[test]
fn within_windows_accepts_any_of_several_windows_from_a_param() {
    let e = engine(
        schema::DB_INSTANCE,
        "params: {allowed: [\"00:00-02:00\", \"04:00-06:00\"]}\n\
         assert: {backup_window: {within_windows: $allowed}}",
    );
    let window = |w: &str| judge(&e, &db_with("backup_window", w));
    assert_eq!(window("01:00-01:30"), Pass);
    assert_eq!(window("04:30-05:00"), Pass);
    // Covered by the two together, but by neither alone.
    assert_eq!(
        window("01:30-04:30"),
        fail("backup_window is 01:30-04:30, expected within 00:00-02:00 or 04:00-06:00")
    );
    assert_eq!(
        e.rules()[0].expectation(),
        "backup_window within 00:00-02:00 or 04:00-06:00"
    );
}

#[test]
fn within_windows_on_absent_unknown_and_malformed_values() {
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {backup_window: {within_windows: [\"00:00-06:00\"]}}",
    );
    // A known absence is in no window.
    assert_eq!(
        judge(&e, &db()),
        fail("backup_window is absent (AWS names no backup window), expected within 00:00-06:00")
    );
    assert_eq!(
        judge(&e, &db_with("backup_window", Value::Unknown)),
        undecided("backup_window")
    );
    // What AWS sent is no window: it can be neither inside nor outside,
    // however the rule is phrased.
    let not_a_window = |value: &str| {
        Outcome::Errored(format!(
            "could not decide: backup_window is \"{value}\", not a time window (HH:MM-HH:MM)"
        ))
    };
    for value in [
        "soon",
        "7:00-7:30",
        "07:00-24:30",
        "07:00-07:60",
        "07:00-07:00",
        "",
    ] {
        assert_eq!(
            judge(&e, &db_with("backup_window", value)),
            not_a_window(value)
        );
    }
    let negated = engine(
        schema::DB_INSTANCE,
        "assert: {not: {backup_window: {within_windows: [\"00:00-06:00\"]}}}",
    );
    assert_eq!(
        judge(&negated, &db_with("backup_window", "soon")),
        not_a_window("soon")
    );
    let applies = engine(
        schema::DB_INSTANCE,
        "when: {backup_window: {within_windows: [\"00:00-06:00\"]}}\nassert: {multi_az: {eq: true}}",
    );
    assert_eq!(
        judge(&applies, &db_with("backup_window", "soon")),
        Outcome::Errored(
            "could not decide whether the rule applies: backup_window is \"soon\", \
             not a time window (HH:MM-HH:MM)"
                .into()
        )
    );
    // Inside a list, the element that is no window is named.
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {backup_replication_regions: {any: {within_windows: [\"00:00-06:00\"]}}}",
    );
    assert_eq!(
        judge(
            &e,
            &db_with("backup_replication_regions", strings(&["07:00-08:00", "x"]))
        ),
        Outcome::Errored(
            "could not decide: backup_replication_regions[1] is \"x\", not a time window \
             (HH:MM-HH:MM)"
                .into()
        )
    );
}

#[test]
fn within_windows_operands_are_checked_when_the_rule_loads() {
    let assert = |operand: &str| {
        error(
            schema::DB_INSTANCE,
            &format!("assert: {{backup_window: {{within_windows: {operand}}}}}"),
        )
    };
    let window_error = |found: &str| {
        (
            "invalid-window",
            format!(
                "expected a time window like \"00:00-06:00\" (HH:MM-HH:MM, UTC), found \"{found}\""
            ),
        )
    };
    assert_eq!(assert("[\"7-8\"]"), window_error("7-8"));
    assert_eq!(
        assert("[\"00:00-06:00\", \"24:00-06:00\"]"),
        window_error("24:00-06:00")
    );
    assert_eq!(assert("[\"00:00-06:60\"]"), window_error("00:00-06:60"));
    assert_eq!(assert("[\"00:00 - 06:00\"]"), window_error("00:00 - 06:00"));
    assert_eq!(
        assert("[\"06:00-06:00\"]"),
        (
            "invalid-window",
            "the time window \"06:00-06:00\" is empty: it ends where it starts".to_string()
        )
    );
    assert_eq!(
        assert("[]"),
        (
            "invalid-window",
            "`within_windows` needs at least one time window".to_string()
        )
    );
    assert_eq!(
        assert("\"00:00-06:00\""),
        (
            "type-mismatch",
            "`within_windows` takes a list of time windows like [\"00:00-06:00\"], found a string"
                .to_string()
        )
    );
    assert_eq!(
        assert("[6]"),
        (
            "type-mismatch",
            "`within_windows` takes a string, found an integer".to_string()
        )
    );
    assert_eq!(
        error(
            schema::DB_INSTANCE,
            "assert: {multi_az: {within_windows: [\"00:00-06:00\"]}}"
        ),
        (
            "type-mismatch",
            "`within_windows` does not apply to `multi_az`, which is a bool".to_string()
        )
    );
    // Each malformed window is reported, at its own position.
    let d = errors(
        schema::DB_INSTANCE,
        "assert:\n  backup_window:\n    within_windows:\n      - \"00:00-06:00\"\n      - \"1am-2am\"\n      - \"25:00-01:00\"",
    );
    let found: Vec<_> = d.iter().map(|d| (d.line, d.col, d.code.as_str())).collect();
    // The rule text starts with 5 header lines.
    assert_eq!(
        found,
        [(10, 9, "invalid-window"), (11, 9, "invalid-window")]
    );
}

// ---------------------------------------------------------------------------
// Combinators

#[test]
fn several_checks_at_one_level_must_all_hold() {
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {multi_az: {eq: true}, deletion_protection: {eq: true}}",
    );
    let mut r = db();
    r.set("multi_az", true).set("deletion_protection", true);
    assert_eq!(judge(&e, &r), Pass);
    r.set("deletion_protection", false);
    // Only what failed is explained.
    assert_eq!(
        judge(&e, &r),
        fail("deletion_protection is false, expected true")
    );
    r.set("multi_az", false);
    assert_eq!(
        judge(&e, &r),
        fail("multi_az is false, expected true; deletion_protection is false, expected true")
    );
}

#[test]
fn all_any_and_not() {
    let all = engine(
        schema::DB_INSTANCE,
        "assert: {all: [{multi_az: {eq: true}}, {backup_retention_days: {gte: 7}}]}",
    );
    let any = engine(
        schema::DB_INSTANCE,
        "assert: {any: [{multi_az: {eq: true}}, {backup_retention_days: {gte: 7}}]}",
    );
    let mut both = db();
    both.set("multi_az", true).set("backup_retention_days", 7);
    let mut one = db();
    one.set("multi_az", false).set("backup_retention_days", 7);
    let mut neither = db();
    neither
        .set("multi_az", false)
        .set("backup_retention_days", 1);

    assert_eq!(judge(&all, &both), Pass);
    assert_eq!(judge(&all, &one), fail("multi_az is false, expected true"));
    assert_eq!(
        judge(&all, &neither),
        fail("multi_az is false, expected true; backup_retention_days is 1, expected >= 7")
    );
    assert_eq!(judge(&any, &both), Pass);
    assert_eq!(judge(&any, &one), Pass);
    assert_eq!(
        judge(&any, &neither),
        fail("multi_az is false, expected true; or backup_retention_days is 1, expected >= 7")
    );
    assert_eq!(
        judge(&any, &db()),
        undecided("multi_az, backup_retention_days")
    );

    let not = engine(
        schema::DB_INSTANCE,
        "assert: {not: {publicly_accessible: {eq: true}}}",
    );
    assert_eq!(judge(&not, &db_with("publicly_accessible", false)), Pass);
    assert_eq!(
        judge(&not, &db_with("publicly_accessible", true)),
        fail("publicly_accessible is true, expected not (publicly_accessible == true)")
    );
}

#[test]
fn not_of_an_unknown_fact_is_still_unknown() {
    // `not: {x: {eq: true}}` means `x: {ne: true}`, which fails on an absent x:
    // an unknown fact never passes, however the condition is phrased.
    let not = engine(
        schema::DB_INSTANCE,
        "assert: {not: {publicly_accessible: {eq: true}}}",
    );
    assert_eq!(judge(&not, &db()), undecided("publicly_accessible"));
    let ne = engine(
        schema::DB_INSTANCE,
        "assert: {publicly_accessible: {ne: true}}",
    );
    assert_eq!(judge(&ne, &db()), undecided("publicly_accessible"));
    // A known absence is a fact: it is not equal to anything.
    let not_in_cluster = engine(
        schema::DB_INSTANCE,
        "assert: {not: {cluster_id: {eq: aurora-1}}}",
    );
    assert_eq!(judge(&not_in_cluster, &db()), Pass);
    let ne_cluster = engine(schema::DB_INSTANCE, "assert: {cluster_id: {ne: aurora-1}}");
    assert_eq!(judge(&ne_cluster, &db()), Pass);
    let eq_cluster = engine(schema::DB_INSTANCE, "assert: {cluster_id: {eq: aurora-1}}");
    assert_eq!(
        judge(&eq_cluster, &db()),
        fail(r#"cluster_id is absent (standalone, not in a cluster), expected "aurora-1""#)
    );

    let double = engine(
        schema::DB_INSTANCE,
        "assert: {not: {not: {multi_az: {eq: true}}}}",
    );
    assert_eq!(judge(&double, &db_with("multi_az", true)), Pass);
    assert!(matches!(
        judge(&double, &db_with("multi_az", false)),
        Outcome::Fail(_)
    ));
    assert_eq!(judge(&double, &db()), undecided("multi_az"));

    // `any` is decided by a known true alternative even when another is unknown;
    // `not (any)` then is known false.
    let any = engine(
        schema::DB_INSTANCE,
        "assert: {not: {any: [{multi_az: {eq: true}}, {deletion_protection: {eq: true}}]}}",
    );
    assert_eq!(
        judge(&any, &db_with("multi_az", true)),
        fail(
            "multi_az is true, deletion_protection is unknown, expected not ((multi_az == true or deletion_protection == true))"
        )
    );
    let mut known = db();
    known
        .set("multi_az", false)
        .set("deletion_protection", false);
    assert_eq!(judge(&any, &known), Pass);
    // `all` is decided by a known false part even when another is unknown.
    let all = engine(
        schema::DB_INSTANCE,
        "assert: {not: {all: [{multi_az: {eq: true}}, {deletion_protection: {eq: true}}]}}",
    );
    assert_eq!(judge(&all, &db_with("multi_az", false)), Pass);
    assert_eq!(
        judge(&all, &db_with("multi_az", true)),
        undecided("deletion_protection")
    );

    // A `none` over elements whose field is unknown is unknown too.
    let none = engine(
        schema::S3_BUCKET,
        "assert: {not: {lifecycle_rules: {any: {enabled: {eq: true}}}}}",
    );
    assert_eq!(
        judge(
            &none,
            &bucket_with_lifecycle(vec![object(&[("id", "x".into())])])
        ),
        undecided("lifecycle_rules[0].enabled")
    );
    assert_eq!(
        judge(
            &none,
            &bucket_with_lifecycle(vec![lifecycle_rule("x", false, None)])
        ),
        Pass
    );
}

#[test]
fn combinators_nest() {
    let e = engine(
        schema::DB_INSTANCE,
        "assert:\n  any:\n    - all:\n        - multi_az: {eq: true}\n        - not: {engine: {in: [sqlserver-ex]}}\n    - \
         cluster_id: {present: true}",
    );
    let mut r = db();
    r.set("multi_az", true).set("engine", "postgres");
    assert_eq!(judge(&e, &r), Pass);
    r.set("engine", "sqlserver-ex");
    assert_eq!(
        judge(&e, &r),
        fail(
            r#"engine is "sqlserver-ex", expected not (engine one of ["sqlserver-ex"]); or cluster_id is absent (standalone, not in a cluster), expected present"#
        )
    );
    r.set("cluster_id", "aurora-1");
    assert_eq!(judge(&e, &r), Pass);
    assert_eq!(
        e.rules()[0].expectation(),
        r#"((multi_az == true and not (engine one of ["sqlserver-ex"])) or cluster_id present)"#
    );
}

// ---------------------------------------------------------------------------
// Subjects and operands

#[test]
fn params_as_operands() {
    let e = engine(
        schema::DB_INSTANCE,
        "params: {min_days: 7, engines: [postgres, mysql], names: [\"prod-*\"], max_lag: 1h}\n\
         assert:\n  backup_retention_days: {gte: $min_days}\n  engine: {in: $engines}\n  id: {glob: $names}\n  \
         latest_restorable_time: {newer_than: $max_lag}",
    );
    let mut r = resource(schema::DB_INSTANCE, "prod-1");
    r.set("backup_retention_days", 7)
        .set("engine", "postgres")
        .set("latest_restorable_time", ago(MIN));
    assert_eq!(judge(&e, &r), Pass);
    r.set("backup_retention_days", 3).set("engine", "oracle-ee");
    assert_eq!(
        judge(&e, &r),
        fail(
            r#"backup_retention_days is 3, expected >= 7; engine is "oracle-ee", expected one of ["postgres", "mysql"]"#
        )
    );
}

#[test]
fn params_inside_a_list_operand_are_substituted() {
    let e = engine(
        schema::DB_INSTANCE,
        "params: {main: postgres, days: 14}\nassert:\n  engine: {in: [$main, mysql]}\n  \
         backup_retention_days: {not_in: [$days]}",
    );
    let mut r = db();
    r.set("engine", "postgres").set("backup_retention_days", 7);
    assert_eq!(judge(&e, &r), Pass);
    r.set("engine", "$main");
    assert_eq!(
        judge(&e, &r),
        fail(r#"engine is "$main", expected one of ["postgres", "mysql"]"#)
    );
    let (code, message) = error(
        schema::DB_INSTANCE,
        "params: {days: 14}\nassert: {engine: {in: [$days]}}",
    );
    assert_eq!(
        (code, message.as_str()),
        (
            "type-mismatch",
            "expected a string, found an integer (from `$days`)"
        )
    );
}

#[test]
fn a_param_as_a_subject() {
    let body = "params: {strict: false}\nassert:\n  any:\n    - $strict: {eq: false}\n    - multi_az: {eq: true}";
    let e = engine(schema::DB_INSTANCE, body);
    assert_eq!(judge(&e, &db_with("multi_az", false)), Pass);
    assert_eq!(judge(&e, &db()), Pass);

    let strict = compile_with_params("t", body, &[("strict", "true")]).unwrap();
    assert_eq!(judge(&strict, &db_with("multi_az", true)), Pass);
    // A constant alternative that cannot hold is left out of the explanation.
    assert_eq!(
        judge(&strict, &db_with("multi_az", false)),
        fail("multi_az is false, expected true")
    );

    // A list param as a subject.
    let e = engine(
        schema::DB_INSTANCE,
        "params: {regions: [eu-west-1]}\nassert: {$regions: {contains: $self.region}}",
    );
    assert_eq!(judge(&e, &db()), Pass);
    let mut elsewhere = db();
    elsewhere.region = "us-east-1".into();
    assert_eq!(
        judge(&e, &elsewhere),
        fail(r#"$regions is ["eu-west-1"], expected containing its region (us-east-1)"#)
    );
}

#[test]
fn self_operands_read_the_resource() {
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {backup_replication_regions: {any: {ne: $self.region}}}",
    );
    let regions = |items: &[&str]| db_with("backup_replication_regions", strings(items));
    assert_eq!(judge(&e, &regions(&["eu-west-1", "eu-central-1"])), Pass);
    assert_eq!(
        judge(&e, &regions(&["eu-west-1"])),
        fail(
            r#"backup_replication_regions is ["eu-west-1"], expected at least one element != its region (eu-west-1)"#
        )
    );

    // Integers, and `$self` inside a list-of-objects element means the resource.
    let e = engine(
        schema::S3_EXPORT_LOCATION,
        "assert: {total_bytes: {gte: $self.object_count}}",
    );
    let mut loc = resource(schema::S3_EXPORT_LOCATION, "exports/db");
    loc.set("total_bytes", 10).set("object_count", 2);
    assert_eq!(judge(&e, &loc), Pass);
    loc.set("total_bytes", 1);
    assert_eq!(
        judge(&e, &loc),
        fail("total_bytes is 1, expected >= its object_count (2)")
    );
    // An absent `$self` operand is unknown.
    let mut no_count = resource(schema::S3_EXPORT_LOCATION, "exports/db");
    no_count.set("total_bytes", 10);
    assert_eq!(judge(&e, &no_count), undecided("object_count"));
    let ne = engine(
        schema::S3_EXPORT_LOCATION,
        "assert: {not: {total_bytes: {eq: $self.object_count}}}",
    );
    assert_eq!(judge(&ne, &no_count), undecided("object_count"));

    let e = engine(
        schema::S3_BUCKET,
        "assert: {replication_rules: {any: {destination_region: {ne: $self.region}}}}",
    );
    let mut b = resource(schema::S3_BUCKET, "backups");
    b.set(
        "replication_rules",
        Value::List(vec![object(&[("destination_region", "us-east-1".into())])]),
    );
    assert_eq!(judge(&e, &b), Pass);
    b.set(
        "replication_rules",
        Value::List(vec![object(&[("destination_region", "eu-west-1".into())])]),
    );
    assert!(matches!(judge(&e, &b), Outcome::Fail(_)));
}

#[test]
fn tags_and_common_subjects() {
    let mut r = db();
    r.tags.insert("backup".into(), "daily".into());
    let e = engine(schema::DB_INSTANCE, "assert: {tags.backup: {eq: daily}}");
    assert_eq!(judge(&e, &r), Pass);
    assert_eq!(
        judge(&e, &db()),
        fail(r#"tags.backup is absent, expected "daily""#)
    );
    let e = engine(schema::DB_INSTANCE, "assert: {tags.owner: {present: true}}");
    assert_eq!(
        judge(&e, &r),
        fail("tags.owner is absent, expected present")
    );
    // Tag keys may contain dots and colons.
    let e = engine(
        schema::DB_INSTANCE,
        "assert: {tags.aws:backup:plan: {present: true}}",
    );
    r.tags.insert("aws:backup:plan".into(), "p".into());
    assert_eq!(judge(&e, &r), Pass);

    let e = engine(
        schema::DB_INSTANCE,
        r#"assert: {id: {eq: db-1}, region: {eq: eu-west-1}, account: {in: ["111122223333"]}, arn: {matches: '^arn:aws:'}}"#,
    );
    assert_eq!(judge(&e, &db()), Pass);
    let mut other = db();
    other.region = "us-east-1".into();
    other.account = "999999999999".into();
    assert_eq!(
        judge(&e, &other),
        fail(
            r#"region is "us-east-1", expected "eu-west-1"; account is "999999999999", expected one of ["111122223333"]"#
        )
    );
}

// ---------------------------------------------------------------------------
// Compile-time errors in the language

#[test]
fn type_mismatches_are_caught_when_the_rule_loads() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            schema::DB_INSTANCE,
            "{multi_az: {gte: 3}}",
            "type-mismatch",
            "`gte` does not apply to `multi_az`, which is a bool",
        ),
        (
            schema::DB_INSTANCE,
            "{engine: {lt: m}}",
            "type-mismatch",
            "`lt` does not apply to `engine`, which is a string",
        ),
        (
            schema::DB_INSTANCE,
            r#"{backup_retention_days: {eq: "seven"}}"#,
            "type-mismatch",
            "expected an integer, found a string",
        ),
        (
            schema::DB_INSTANCE,
            "{backup_retention_days: {eq: 7.5}}",
            "type-mismatch",
            "expected an integer, found a number",
        ),
        (
            schema::DB_INSTANCE,
            "{multi_az: {eq: yes}}",
            "type-mismatch",
            "expected a bool, found a string",
        ),
        (
            schema::DB_INSTANCE,
            "{engine: {eq: 5}}",
            "type-mismatch",
            "expected a string, found an integer",
        ),
        (
            schema::DB_INSTANCE,
            "{engine: {eq: ~}}",
            "type-mismatch",
            "expected a string, found nothing (null)",
        ),
        (
            schema::DB_INSTANCE,
            "{latest_restorable_time: {gt: yesterday}}",
            "type-mismatch",
            "expected an RFC 3339 timestamp, found \"yesterday\"",
        ),
        (
            schema::DB_INSTANCE,
            "{engine: {newer_than: 1h}}",
            "type-mismatch",
            "`newer_than` does not apply to `engine`, which is a string",
        ),
        (
            schema::DB_INSTANCE,
            "{latest_restorable_time: {newer_than: 3600}}",
            "type-mismatch",
            "`newer_than` takes a string, found an integer",
        ),
        (
            schema::DB_INSTANCE,
            "{multi_az: {contains: x}}",
            "type-mismatch",
            "`contains` does not apply to `multi_az`, which is a bool",
        ),
        (
            schema::DB_INSTANCE,
            "{backup_retention_days: {matches: x}}",
            "type-mismatch",
            "`matches` does not apply to `backup_retention_days`, which is an integer",
        ),
        (
            schema::DB_INSTANCE,
            "{multi_az: {length: {gt: 1}}}",
            "type-mismatch",
            "`length` does not apply to `multi_az`, which is a bool",
        ),
        (
            schema::DB_INSTANCE,
            "{engine: {any: {eq: x}}}",
            "type-mismatch",
            "`any` does not apply to `engine`, which is a string",
        ),
        (
            schema::DB_INSTANCE,
            "{multi_az: {in: [true]}}",
            "type-mismatch",
            "`in` does not apply to `multi_az`, which is a bool",
        ),
        (
            schema::DB_INSTANCE,
            "{engine: {in: postgres}}",
            "type-mismatch",
            "`in` takes a list, found a string",
        ),
        (
            schema::DB_INSTANCE,
            "{cluster_id: {present: yes}}",
            "type-mismatch",
            "`present` takes true or false, found a string",
        ),
        (
            schema::DB_INSTANCE,
            "{backup_replication_regions: {eq: us-east-1}}",
            "type-mismatch",
            "`eq` does not apply to `backup_replication_regions`, which is a list of strings; use `contains`, `length` or `any`",
        ),
        (
            schema::S3_BUCKET,
            "{lifecycle_rules: {contains: x}}",
            "type-mismatch",
            "`contains` does not apply to `lifecycle_rules`, which is a list of objects",
        ),
        (
            schema::S3_BUCKET,
            "{lifecycle_rules: {eq: x}}",
            "type-mismatch",
            "`eq` does not apply to `lifecycle_rules`, which is a list of objects; use `length`, `any`, `all` or `none`",
        ),
        (
            schema::DB_INSTANCE,
            "{backup_retention_days: {length: {eq: 1}}}",
            "type-mismatch",
            "`length` does not apply to `backup_retention_days`, which is an integer",
        ),
        (
            schema::DB_INSTANCE,
            "{backup_replication_regions: {length: {eq: x}}}",
            "type-mismatch",
            "expected an integer, found a string",
        ),
        (
            schema::DB_INSTANCE,
            "{backup_retention_days: {eq: $self.engine}}",
            "type-mismatch",
            "`$self.engine` is a string, expected an integer",
        ),
        (
            schema::DB_INSTANCE,
            "{engine: {in: [$self.engine]}}",
            "invalid-operand",
            "`$self.engine` cannot be used here; `$self.ATTR` is an operand of eq, ne, gt, gte, lt, lte and contains",
        ),
        (
            schema::DB_INSTANCE,
            "{versioning: {eq: x}}",
            "unknown-attribute",
            "aws.rds.db_instance has no attribute `versioning`",
        ),
        (
            schema::DB_INSTANCE,
            "{engine: {eq: $self.nope}}",
            "unknown-attribute",
            "aws.rds.db_instance has no attribute `nope`",
        ),
        (
            schema::S3_BUCKET,
            "{versioning: {eq: enabled}}",
            "unknown-value",
            "\"enabled\" never occurs here; possible values: Enabled, Suspended, Disabled",
        ),
        (
            schema::DB_INSTANCE,
            "{engine: {matches: '('}}",
            "invalid-regex",
            "invalid regex: unclosed group",
        ),
        (
            schema::DB_INSTANCE,
            "{id: {glob: 'a[b'}}",
            "invalid-glob",
            "invalid glob \"a[b\": unclosed character class; missing ']'",
        ),
        (
            schema::DB_INSTANCE,
            "{latest_restorable_time: {older_than: 1y}}",
            "invalid-duration",
            "invalid duration \"1y\": expected a number and a unit (s, m, h, d, w), e.g. `26h` or `30d`",
        ),
        (
            schema::DB_INSTANCE,
            "{multi_az: {equals: true}}",
            "unknown-operator",
            "unknown operator `equals`",
        ),
        (
            schema::DB_INSTANCE,
            "{multi_az: true}",
            "invalid-condition",
            "`multi_az` needs a mapping of operators, found a boolean",
        ),
        (
            schema::DB_INSTANCE,
            "{multi_az: {}}",
            "invalid-condition",
            "`multi_az` has no operator",
        ),
        (
            schema::DB_INSTANCE,
            "{all: {multi_az: {eq: true}}}",
            "invalid-condition",
            "`all:` takes a list of conditions, found a mapping",
        ),
        (
            schema::DB_INSTANCE,
            "{any: []}",
            "invalid-condition",
            "`any:` must not be empty",
        ),
        (
            schema::DB_INSTANCE,
            "{not: [{multi_az: {eq: true}}]}",
            "invalid-condition",
            "a condition must be a mapping of `attribute: {operator: value}`, found a list",
        ),
        (
            schema::DB_INSTANCE,
            "{}",
            "invalid-condition",
            "a condition must not be empty",
        ),
        (
            schema::DB_INSTANCE,
            "{$nope: {eq: 1}}",
            "unknown-param",
            "unknown param `$nope`",
        ),
        (
            schema::S3_BUCKET,
            "{lifecycle_rules: {any: {expiration: {gt: 1}}}}",
            "unknown-attribute",
            "unknown field `expiration`; list elements have: id, enabled, prefix, expiration_days, noncurrent_expiration_days",
        ),
    ];
    for &(kind, assert, code, message) in cases {
        let found = error(kind, &format!("assert: {assert}"));
        assert_eq!(found, (code, message.to_string()), "assert: {assert}");
    }
}

#[test]
fn compile_errors_point_at_the_offending_node() {
    let d = errors(
        schema::DB_INSTANCE,
        "assert:\n  multi_az: {gte: 3}\n  backup_retention_days: {eq: \"seven\"}\n  engin: {eq: postgres}",
    );
    let found: Vec<_> = d
        .iter()
        .map(|d| (d.line, d.col, d.code.as_str(), d.help.clone()))
        .collect();
    // The rule text starts with 5 header lines.
    assert_eq!(
        found,
        vec![
            (7, 14, "type-mismatch", None),
            (8, 31, "type-mismatch", None),
            (
                9,
                3,
                "unknown-attribute",
                Some("did you mean `engine`?".into())
            ),
        ]
    );
}

#[test]
fn a_param_used_where_the_rule_fails_to_compile_is_not_also_unused() {
    // Only the real mistake is reported, not a knock-on "unused param".
    for assert in [
        "{multi_az: {gte: $min}}",
        "{nope: {gte: $min}}",
        "{engine: {in: [$min]}}",
    ] {
        let d = errors(
            schema::DB_INSTANCE,
            &format!("params: {{min: 7}}\nassert: {assert}"),
        );
        let codes: Vec<_> = d.iter().map(|d| d.code.as_str()).collect();
        assert!(
            !codes.contains(&"unused-param"),
            "{assert}: {}",
            Diagnostics(d)
        );
    }
}

// ---------------------------------------------------------------------------
// Settings: param overrides, severities, disabled rules

/// A config-file node for `value`, as `backstop.yaml` line 3 would hold it.
fn config_value(name: &str, value: &str) -> ParamValue {
    let text = format!("rules:\n  t:\n    {name}: {value}\n");
    let root = yaml::parse(&text).unwrap();
    let rules = &root.as_map().unwrap()[0].1;
    let t = &rules.as_map().unwrap()[0].1;
    ParamValue {
        node: t.as_map().unwrap()[0].1.clone(),
        file: "backstop.yaml".into(),
    }
}

fn compile_with_params(
    id: &str,
    body: &str,
    overrides: &[(&str, &str)],
) -> Result<Engine, Diagnostics> {
    let mut set = RuleSet::default();
    set.add_source(
        &format!("{id}.yaml"),
        &rule_text(id, schema::DB_INSTANCE, body),
    )?;
    let mut settings = Settings::default();
    let params: BTreeMap<_, _> = overrides
        .iter()
        .map(|(name, value)| (name.to_string(), config_value(name, value)))
        .collect();
    settings.params.insert(id.to_string(), params);
    set.compile(&settings)
}

const RETENTION: &str = "params: {min_days: 7, max_lag: 1h}\nassert:\n  backup_retention_days: {gte: $min_days}\n  \
                         latest_restorable_time: {newer_than: $max_lag}";

#[test]
fn param_overrides_change_the_rule() {
    let e = compile_with_params("t", RETENTION, &[("min_days", "14"), ("max_lag", "4h")]).unwrap();
    let mut r = db();
    r.set("backup_retention_days", 7)
        .set("latest_restorable_time", ago(3 * HOUR));
    assert_eq!(
        judge(&e, &r),
        fail("backup_retention_days is 7, expected >= 14")
    );
    r.set("backup_retention_days", 14);
    assert_eq!(judge(&e, &r), Pass);
    // The defaults are untouched for an audit without overrides.
    let default = engine(schema::DB_INSTANCE, RETENTION);
    assert!(
        matches!(judge(&default, &r), Outcome::Fail(m) if m.contains("expected newer than 1h"))
    );
}

#[test]
fn mistyped_param_overrides_point_at_the_config_file() {
    let d = compile_with_params("t", RETENTION, &[("min_days", "fourteen")])
        .unwrap_err()
        .0;
    assert_eq!(
        d.iter().map(ToString::to_string).collect::<Vec<_>>(),
        vec![
            "backstop.yaml:3:15: error[type-mismatch]: param `min_days` of rule `t` takes an integer (default: 7), found a string"
                .to_string()
        ]
    );
    // Right shape, wrong meaning: the duration is checked where it was written.
    let d = compile_with_params("t", RETENTION, &[("max_lag", "soon")])
        .unwrap_err()
        .0;
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].file.as_str(), d[0].line, d[0].col, d[0].code.as_str()),
        ("backstop.yaml", 3, 14, "invalid-duration")
    );
    assert!(
        d[0].message.ends_with("(from `$max_lag`)"),
        "{}",
        d[0].message
    );
    // A param the rule does not have.
    let d = compile_with_params("t", RETENTION, &[("min_day", "3")])
        .unwrap_err()
        .0;
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].file.as_str(), d[0].code.as_str()),
        ("backstop.yaml", "unknown-param")
    );
    assert_eq!(d[0].message, "rule `t` has no param `min_day`");
    assert_eq!(d[0].help.as_deref(), Some("did you mean `min_days`?"));
    // A list where a list is expected must still hold the right items.
    let d = compile_with_params(
        "t",
        "params: {engines: [postgres]}\nassert: {engine: {in: $engines}}",
        &[("engines", "postgres")],
    )
    .unwrap_err()
    .0;
    assert_eq!(d[0].code, "type-mismatch");
    assert!(d[0].message.contains("takes a list"), "{}", d[0].message);
}

#[test]
fn severity_overrides_and_disabled_rules() {
    let mut set = RuleSet::default();
    set.add_source(
        "a.yaml",
        &rule_text("a", schema::DB_INSTANCE, "assert: {multi_az: {eq: true}}"),
    )
    .unwrap();
    set.add_source(
        "b.yaml",
        &rule_text(
            "b",
            schema::DB_INSTANCE,
            "assert: {deletion_protection: {eq: true}}",
        ),
    )
    .unwrap();
    let mut settings = Settings::default();
    settings.severity.insert("a".into(), Severity::Critical);
    let e = set.compile(&settings).unwrap();
    let severities: Vec<_> = e.rules().iter().map(|r| (r.id(), r.severity)).collect();
    assert_eq!(
        severities,
        vec![("a", Severity::Critical), ("b", Severity::Medium)]
    );
    let mut unprotected = db();
    unprotected
        .set("multi_az", false)
        .set("deletion_protection", false);
    let inventory = Inventory {
        resources: vec![unprotected],
        ..Default::default()
    };
    let report = e.audit(&inventory, now());
    let found: Vec<_> = report
        .results
        .iter()
        .map(|f| (f.rule.as_str(), f.severity, f.status))
        .collect();
    assert_eq!(
        found,
        vec![
            ("a", Severity::Critical, Status::Fail),
            ("b", Severity::Medium, Status::Fail)
        ]
    );
    assert_eq!(report.results[0].remediation, "fix db-1 in eu-west-1");

    settings.disabled.insert("b".into());
    let e = set.compile(&settings).unwrap();
    assert_eq!(
        e.rules().iter().map(|r| r.id()).collect::<Vec<_>>(),
        vec!["a"]
    );
    let verdicts = e.evaluate(&inventory, now());
    assert_eq!(verdicts.len(), 1);
    assert_eq!(e.rules()[verdicts[0].rule].id(), "a");
}

fn operation_names(e: &Engine) -> BTreeSet<&'static str> {
    e.required_operations()
        .into_iter()
        .map(|op| op.iam_action)
        .collect()
}

#[test]
fn required_operations_are_only_those_the_enabled_rules_need() {
    let multi_az = engine(schema::DB_INSTANCE, "assert: {multi_az: {eq: true}}");
    assert_eq!(
        operation_names(&multi_az),
        BTreeSet::from(["rds:DescribeDBInstances", "sts:GetCallerIdentity"])
    );
    let kms = engine(
        schema::DB_INSTANCE,
        "assert: {kms_key_managed_by: {eq: CUSTOMER}}",
    );
    assert!(kms.required_operations().contains(&ops::KMS_DESCRIBE_KEY));
    assert!(
        !multi_az
            .required_operations()
            .contains(&ops::KMS_DESCRIBE_KEY)
    );
    // What `when` reads counts, and so do `$self` operands and tags.
    let when = engine(
        schema::DB_INSTANCE,
        "when: {kms_key_managed_by: {eq: AWS}}\nassert: {multi_az: {eq: true}}",
    );
    assert!(when.required_operations().contains(&ops::KMS_DESCRIBE_KEY));
    let copies = engine(
        schema::DB_INSTANCE,
        "assert: {latest_restorable_time: {gt: $self.cross_region_copy_time}}",
    );
    assert!(
        copies
            .required_operations()
            .contains(&ops::RDS_DESCRIBE_DB_SNAPSHOTS)
    );
    let tags = engine(schema::S3_BUCKET, "assert: {tags.backup: {present: true}}");
    assert_eq!(
        operation_names(&tags),
        BTreeSet::from([
            "s3:GetBucketLocation",
            "s3:GetBucketTagging",
            "s3:ListAllMyBuckets",
            "sts:GetCallerIdentity"
        ])
    );
    // Disabled rules need nothing; no rules need no calls at all.
    let mut settings = Settings::default();
    settings.disabled.insert("t".into());
    let none = try_rule_set(
        schema::DB_INSTANCE,
        "assert: {kms_key_managed_by: {eq: CUSTOMER}}",
    )
    .unwrap()
    .compile(&settings)
    .unwrap();
    assert!(none.required_operations().is_empty());
}

// ---------------------------------------------------------------------------
// Collection errors: an unreadable fact is an `error`, never a pass

fn collection_error(
    resource_id: Option<&str>,
    region: &str,
    attributes: &[&str],
) -> CollectionError {
    CollectionError {
        account: None,
        service: "kms".into(),
        region: region.into(),
        operation: "DescribeKey".into(),
        code: "AccessDeniedException".into(),
        message: "not authorized to perform kms:DescribeKey".into(),
        resource_type: schema::DB_INSTANCE.into(),
        resource_id: resource_id.map(str::to_string),
        attributes: attributes.iter().map(|a| a.to_string()).collect(),
    }
}

/// Two rules: `key` reads kms_key_managed_by, `maz` reads multi_az.
fn two_rules() -> Engine {
    let mut set = RuleSet::default();
    set.add_source(
        "key.yaml",
        &rule_text(
            "key",
            schema::DB_INSTANCE,
            "assert: {kms_key_managed_by: {eq: CUSTOMER}}",
        ),
    )
    .unwrap();
    set.add_source(
        "maz.yaml",
        &rule_text("maz", schema::DB_INSTANCE, "assert: {multi_az: {eq: true}}"),
    )
    .unwrap();
    set.compile(&Settings::default()).unwrap()
}

fn instance(id: &str, region: &str) -> Resource {
    let mut r = resource(schema::DB_INSTANCE, id);
    r.region = region.into();
    // Looks compliant: a collector may leave a stale or default value behind.
    r.set("kms_key_managed_by", "CUSTOMER")
        .set("multi_az", true);
    r
}

/// (rule id, resource id, status, message) of every verdict.
fn outcomes(e: &Engine, inventory: &Inventory) -> Vec<(String, String, Status, Option<String>)> {
    let mut found: Vec<_> = e
        .evaluate(inventory, now())
        .into_iter()
        .map(|v| {
            let id = match v.target {
                Target::Resource(i) => inventory.resources[i].id.clone(),
                Target::Listing(_) => "*".to_string(),
            };
            (
                e.rules()[v.rule].id().to_string(),
                id,
                v.status,
                v.message.map(String::from),
            )
        })
        .collect();
    found.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    found
}

const KMS_MESSAGE: &str = "could not read kms_key_managed_by: kms DescribeKey failed in eu-west-1: AccessDeniedException: not authorized to perform kms:DescribeKey";

#[test]
fn a_failed_detail_call_affects_only_the_rules_reading_it_on_that_resource() {
    let e = two_rules();
    let inventory = Inventory {
        resources: vec![instance("db-1", "eu-west-1"), instance("db-2", "eu-west-1")],
        errors: vec![collection_error(
            Some("db-1"),
            "eu-west-1",
            &["kms_key_managed_by"],
        )],
        ..Default::default()
    };
    assert_eq!(
        outcomes(&e, &inventory),
        vec![
            (
                "key".into(),
                "db-1".into(),
                Status::Error,
                Some(KMS_MESSAGE.into())
            ),
            ("key".into(), "db-2".into(), Status::Pass, None),
            ("maz".into(), "db-1".into(), Status::Pass, None),
            ("maz".into(), "db-2".into(), Status::Pass, None),
        ]
    );
}

#[test]
fn a_failed_call_for_every_resource_of_a_region_affects_them_all() {
    let e = two_rules();
    let inventory = Inventory {
        resources: vec![
            instance("db-1", "eu-west-1"),
            instance("db-2", "eu-west-1"),
            instance("db-3", "us-east-1"),
        ],
        errors: vec![collection_error(None, "eu-west-1", &["kms_key_managed_by"])],
        ..Default::default()
    };
    let found = outcomes(&e, &inventory);
    let statuses: Vec<_> = found
        .iter()
        .map(|(rule, id, status, _)| (rule.as_str(), id.as_str(), *status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("key", "db-1", Status::Error),
            ("key", "db-2", Status::Error),
            ("key", "db-3", Status::Pass),
            ("maz", "db-1", Status::Pass),
            ("maz", "db-2", Status::Pass),
            ("maz", "db-3", Status::Pass),
        ]
    );
    assert_eq!(found[0].3.as_deref(), Some(KMS_MESSAGE));
}

#[test]
fn a_failed_listing_gives_each_rule_of_the_type_one_error() {
    let mut set = RuleSet::default();
    for (id, kind, assert) in [
        (
            "key",
            schema::DB_INSTANCE,
            "{kms_key_managed_by: {eq: CUSTOMER}}",
        ),
        ("maz", schema::DB_INSTANCE, "{multi_az: {eq: true}}"),
        ("ver", schema::S3_BUCKET, "{versioning: {eq: Enabled}}"),
    ] {
        set.add_source(
            &format!("{id}.yaml"),
            &rule_text(id, kind, &format!("assert: {assert}")),
        )
        .unwrap();
    }
    let e = set.compile(&Settings::default()).unwrap();
    let listing = CollectionError {
        account: None,
        service: "rds".into(),
        region: "us-east-1".into(),
        operation: "DescribeDBInstances".into(),
        code: "AccessDenied".into(),
        message: "User is not authorized to perform rds:DescribeDBInstances".into(),
        resource_type: schema::DB_INSTANCE.into(),
        resource_id: None,
        attributes: vec![],
    };
    let mut inventory = Inventory {
        resources: vec![instance("db-1", "eu-west-1")],
        errors: vec![listing],
        ..Default::default()
    };
    inventory.source.account = Some("111122223333".into());
    let report = e.audit(&inventory, now());
    let found: Vec<_> = report
        .results
        .iter()
        .map(|f| {
            (
                f.rule.as_str(),
                f.resource.id.as_str(),
                f.resource.region.as_str(),
                f.status,
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("key", "db-1", "eu-west-1", Status::Pass),
            ("key", "*", "us-east-1", Status::Error),
            ("maz", "db-1", "eu-west-1", Status::Pass),
            ("maz", "*", "us-east-1", Status::Error),
        ]
    );
    let error = &report.results[1];
    assert_eq!(error.resource.resource_type, schema::DB_INSTANCE);
    assert_eq!(error.resource.account, "111122223333");
    assert!(error.covers_whole_listing());
    assert_eq!(
        error.message,
        "could not list aws.rds.db_instance: rds DescribeDBInstances failed in us-east-1: AccessDenied: User is not authorized to perform rds:DescribeDBInstances"
    );
    assert!(
        error.remediation.contains("iam-policy"),
        "{}",
        error.remediation
    );
    assert_eq!(report.summary.error, 2);
    assert_eq!(report.collection_errors.len(), 1);
}

#[test]
fn an_unreadable_fact_in_when_is_an_error_but_a_rule_that_does_not_apply_is_silent() {
    // The rule applies to standalone, encrypted instances only.
    let e = engine(
        schema::DB_INSTANCE,
        "when: {cluster_id: {absent: true}, storage_encrypted: {eq: true}}\nassert: {kms_key_managed_by: {eq: CUSTOMER}}",
    );
    let mut member = instance("member", "eu-west-1");
    member
        .set("cluster_id", "aurora-1")
        .set("storage_encrypted", true);
    let mut plain = instance("plain", "eu-west-1");
    plain.set("storage_encrypted", false);
    let mut standalone = instance("standalone", "eu-west-1");
    standalone.set("storage_encrypted", true);
    let inventory = Inventory {
        resources: vec![member, plain, standalone],
        errors: vec![collection_error(None, "eu-west-1", &["kms_key_managed_by"])],
        ..Default::default()
    };
    assert_eq!(
        outcomes(&e, &inventory),
        vec![(
            "t".into(),
            "standalone".into(),
            Status::Error,
            Some(KMS_MESSAGE.into())
        )]
    );

    // When `when` itself cannot be read, whether the rule applies is unknown.
    let e = engine(
        schema::DB_INSTANCE,
        "when: {kms_key_managed_by: {eq: AWS}}\nassert: {multi_az: {eq: true}}",
    );
    let inventory = Inventory {
        resources: vec![instance("db-1", "eu-west-1")],
        errors: vec![collection_error(
            Some("db-1"),
            "eu-west-1",
            &["kms_key_managed_by"],
        )],
        ..Default::default()
    };
    assert_eq!(
        judge_in(&e, &inventory),
        Outcome::Errored(KMS_MESSAGE.into())
    );
}

#[test]
fn unreadable_tags_affect_rules_reading_tags() {
    let e = engine(schema::DB_INSTANCE, "assert: {tags.backup: {absent: true}}");
    let mut error = collection_error(Some("db-1"), "eu-west-1", &["tags"]);
    error.operation = "ListTagsForResource".into();
    error.service = "rds".into();
    let inventory = Inventory {
        resources: vec![db()],
        errors: vec![error.clone()],
        ..Default::default()
    };
    assert!(
        matches!(judge_in(&e, &inventory), Outcome::Errored(m) if m.starts_with("could not read tags: rds ListTagsForResource"))
    );
    // A rule that does not read tags is unaffected.
    let e = engine(schema::DB_INSTANCE, "assert: {cluster_id: {absent: true}}");
    assert_eq!(judge_in(&e, &inventory), Pass);
    // Nor are resources of other types or regions.
    let e = engine(schema::DB_INSTANCE, "assert: {tags.backup: {absent: true}}");
    let mut elsewhere = db();
    elsewhere.region = "us-east-1".into();
    let inventory = Inventory {
        resources: vec![elsewhere],
        errors: vec![error],
        ..Default::default()
    };
    assert_eq!(judge_in(&e, &inventory), Pass);
}

#[test]
fn a_window_param_overridden_in_the_config_is_checked_where_it_was_written() {
    let d = compile_with_params(
        "t",
        "params: {allowed: [\"00:00-06:00\"]}\nassert: {backup_window: {within_windows: $allowed}}",
        &[("allowed", "[\"00:00-06:00\", \"late\"]")],
    )
    .unwrap_err()
    .0;
    assert_eq!(
        d.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "backstop.yaml:3:30: error[invalid-window]: expected a time window like \"00:00-06:00\" \
             (HH:MM-HH:MM, UTC), found \"late\" (from `$allowed`)"
        ]
    );
}

// ---------------------------------------------------------------------------
// Rules over several resource types

/// `resource:` of a rule judging RDS instances and clusters.
const INSTANCES_AND_CLUSTERS: &str = "[aws.rds.db_instance, aws.rds.db_cluster]";

fn cluster_with(name: &str, value: impl Into<Value>) -> Resource {
    let mut r = resource(schema::DB_CLUSTER, "cluster-1");
    r.set(name, value);
    r
}

/// One rule judging instances and clusters, for its backup window.
fn window_rule() -> Engine {
    engine(
        INSTANCES_AND_CLUSTERS,
        "params: {allowed: [\"00:00-06:00\"]}\nassert: {backup_window: {within_windows: $allowed}}",
    )
}

#[test]
fn a_rule_over_several_types_judges_every_resource_of_each() {
    let e = window_rule();
    assert_eq!(e.rules().len(), 1);
    let inventory = Inventory {
        resources: vec![
            db_with("backup_window", "07:00-07:30"),
            resource(schema::S3_BUCKET, "bucket-1"),
            cluster_with("backup_window", "01:00-01:30"),
        ],
        ..Default::default()
    };
    let evaluation = e.judge(&inventory, now());
    assert!(e.coverage_gaps(&inventory, &evaluation).is_empty());
    let findings = e.findings(&inventory, &evaluation.verdicts);
    let found: Vec<_> = findings
        .iter()
        .map(|f| {
            let resource = (f.resource.resource_type.as_str(), f.resource.id.as_str());
            (f.rule.as_str(), resource, f.status, f.message.as_str())
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "t",
                (schema::DB_INSTANCE, "db-1"),
                Status::Fail,
                "backup_window is 07:00-07:30, expected within 00:00-06:00"
            ),
            (
                "t",
                (schema::DB_CLUSTER, "cluster-1"),
                Status::Pass,
                "backup_window within 00:00-06:00"
            ),
        ]
    );
    // A resource of either type left without a result is a coverage gap.
    let mut dropped = evaluation;
    dropped.verdicts.retain(|v| v.target != Target::Resource(2));
    assert_eq!(e.coverage_gaps(&inventory, &dropped), [(0, 2)]);
}

#[test]
fn a_rule_over_several_types_applies_its_when_to_each() {
    let e = engine(
        INSTANCES_AND_CLUSTERS,
        "when: {multi_az: {eq: true}}\nassert: {deletion_protection: {eq: true}}",
    );
    let mut instance = db_with("multi_az", true);
    instance.set("deletion_protection", false);
    let mut cluster = cluster_with("multi_az", false);
    cluster.set("deletion_protection", false);
    let inventory = Inventory {
        resources: vec![instance, cluster],
        ..Default::default()
    };
    let evaluation = e.judge(&inventory, now());
    assert_eq!(evaluation.not_applicable, [(0, 1)]);
    assert_eq!(evaluation.verdicts.len(), 1);
    assert_eq!(evaluation.verdicts[0].target, Target::Resource(0));
    assert!(e.coverage_gaps(&inventory, &evaluation).is_empty());
}

#[test]
fn a_rule_over_several_types_reports_each_types_failed_calls() {
    let e = window_rule();
    let listing = |resource_type: &str| CollectionError {
        account: None,
        resource_type: resource_type.into(),
        ..collection_error(None, "eu-west-1", &[])
    };
    // Both listings failed in one region, and another type's: one error per
    // type of the rule, none for the bucket listing.
    let inventory = Inventory {
        errors: vec![
            listing(schema::DB_INSTANCE),
            listing(schema::S3_BUCKET),
            listing(schema::DB_CLUSTER),
        ],
        ..Default::default()
    };
    let verdicts = e.evaluate(&inventory, now());
    let targets: Vec<_> = verdicts.iter().map(|v| (v.target, v.status)).collect();
    assert_eq!(
        targets,
        [
            (Target::Listing(0), Status::Error),
            (Target::Listing(2), Status::Error)
        ]
    );
    // A detail call that failed for the cluster leaves only it undecided.
    let inventory = Inventory {
        resources: vec![
            db_with("backup_window", "01:00-01:30"),
            cluster_with("backup_window", "01:00-01:30"),
        ],
        errors: vec![CollectionError {
            account: None,
            resource_type: schema::DB_CLUSTER.into(),
            ..collection_error(Some("cluster-1"), "eu-west-1", &["backup_window"])
        }],
        ..Default::default()
    };
    let statuses: Vec<_> = e
        .evaluate(&inventory, now())
        .iter()
        .map(|v| v.status)
        .collect();
    assert_eq!(statuses, [Status::Pass, Status::Error]);
}

#[test]
fn a_rule_over_several_types_needs_the_calls_of_each() {
    assert_eq!(
        operation_names(&window_rule()),
        BTreeSet::from([
            "rds:DescribeDBClusters",
            "rds:DescribeDBInstances",
            "sts:GetCallerIdentity"
        ])
    );
}

#[test]
fn a_rule_over_several_types_is_listed_and_explained_once() {
    let e = window_rule();
    let explained = backstop::describe::explain(&e.rules()[0]);
    assert!(
        explained.contains("Resource:  aws.rds.db_instance, aws.rds.db_cluster\n"),
        "{explained}"
    );
    assert!(
        explained.contains("Applies:   every resource of those types\n"),
        "{explained}"
    );
    let listed = backstop::describe::rules_table(&e);
    assert!(
        listed.contains("aws.rds.db_instance, aws.rds.db_cluster"),
        "{listed}"
    );
    assert!(listed.ends_with("\n1 rules\n"), "{listed}");
}

// ---------------------------------------------------------------------------
// Integers that measure time: compared with durations in their unit

fn restore(seconds: i64) -> Resource {
    let mut r = resource(schema::BACKUP_PROTECTED_RESOURCE, "arn:aws:rds:db:orders");
    r.set("last_restore_duration_seconds", seconds);
    r
}

/// A backup plan with one rule, run every `hours`.
fn plan(hours: i64) -> Resource {
    let mut r = resource(schema::BACKUP_PLAN, "plan-1");
    r.set(
        "rules",
        Value::List(vec![object(&[("frequency_hours", Value::Int(hours))])]),
    );
    r
}

#[test]
fn durations_are_converted_to_the_unit_of_the_integer() {
    let e = engine(
        schema::BACKUP_PROTECTED_RESOURCE,
        "assert: {last_restore_duration_seconds: {lte: 1h}}",
    );
    assert_eq!(judge(&e, &restore(3600)), Pass);
    assert_eq!(
        judge(&e, &restore(3601)),
        fail("last_restore_duration_seconds is 3601, expected <= 3600 (1h)")
    );
    // From a param, and in a list element's field.
    let e = engine(
        schema::BACKUP_PLAN,
        "params: {max_interval: 2d}\nassert: {rules: {all: {frequency_hours: {lte: $max_interval}}}}",
    );
    assert_eq!(judge(&e, &plan(48)), Pass);
    assert!(
        matches!(judge(&e, &plan(49)), Outcome::Fail(m) if m.ends_with("expected every element where frequency_hours <= 48 (2d)")),
    );
    // A whole number of the unit compares exactly, `eq` and `ne` included.
    let e = engine(
        schema::BACKUP_PLAN,
        "assert: {rules: {all: {frequency_hours: {eq: 1d, ne: 1h}}}}",
    );
    assert_eq!(judge(&e, &plan(24)), Pass);
    // A plain integer is still a number of the unit, as saved rules and
    // configs write it.
    let e = engine(
        schema::BACKUP_PROTECTED_RESOURCE,
        "params: {rto: 3600}\nassert: {last_restore_duration_seconds: {lte: $rto}}",
    );
    assert_eq!(
        judge(&e, &restore(3601)),
        fail("last_restore_duration_seconds is 3601, expected <= 3600")
    );
}

#[test]
fn a_duration_between_two_whole_units_decides_as_the_exact_comparison_would() {
    // 90m is 1.5 hours: an integer number of hours n is <= 1.5 exactly when
    // n <= 1, and >= 1.5 exactly when n >= 2, so rounding down for `lte` and
    // `gt` and up for `lt` and `gte` neither passes nor fails anything the
    // exact comparison would not, under `not:` too.
    let verdicts = |op: &str| {
        let e = engine(
            schema::BACKUP_PLAN,
            &format!("assert: {{rules: {{all: {{frequency_hours: {{{op}: 90m}}}}}}}}"),
        );
        [1, 2].map(|hours| judge(&e, &plan(hours)) == Pass)
    };
    assert_eq!(verdicts("lte"), [true, false]);
    assert_eq!(verdicts("lt"), [true, false]);
    assert_eq!(verdicts("gte"), [false, true]);
    assert_eq!(verdicts("gt"), [false, true]);
    let e = engine(
        schema::BACKUP_PLAN,
        "assert: {rules: {all: {frequency_hours: {lt: 90m}}}}",
    );
    assert!(
        matches!(judge(&e, &plan(2)), Outcome::Fail(m) if m.ends_with("frequency_hours < 2 (90m)")),
    );
    // Equality with a fraction of the unit could never decide: refused.
    for op in ["eq", "ne"] {
        let (code, message) = error(
            schema::BACKUP_PLAN,
            &format!("assert: {{rules: {{all: {{frequency_hours: {{{op}: 90m}}}}}}}}"),
        );
        assert_eq!(code, "invalid-operand");
        assert_eq!(
            message,
            format!(
                "`frequency_hours` counts whole hours, and `90m` is not a whole number of hours: \
                 `{op}` would never decide on it"
            )
        );
    }
}

#[test]
fn a_duration_is_no_operand_of_an_integer_that_measures_no_time() {
    let d = errors(
        schema::DB_INSTANCE,
        "params: {days: 7d}\nassert:\n  all:\n    - backup_retention_days: {gte: 7d}\n    - backup_retention_days: {lte: $days}",
    );
    let found: Vec<_> = d
        .iter()
        .map(|d| (d.line, d.col, d.code.as_str(), d.message.as_str()))
        .collect();
    // The rule text starts with 5 header lines.
    assert_eq!(
        found,
        vec![
            (
                9,
                36,
                "type-mismatch",
                "expected an integer, found a string"
            ),
            (
                6,
                16,
                "type-mismatch",
                "expected an integer, found a string (from `$days`)"
            ),
        ]
    );
    // Nor is anything but a duration or an integer an operand of one that does.
    let (code, message) = error(
        schema::BACKUP_PROTECTED_RESOURCE,
        "assert: {last_restore_duration_seconds: {lte: true}}",
    );
    assert_eq!(code, "type-mismatch");
    assert_eq!(
        message,
        "expected a duration like `24h` or an integer (seconds), found a boolean"
    );
    let (code, _) = error(
        schema::BACKUP_PROTECTED_RESOURCE,
        "assert: {last_restore_duration_seconds: {lte: 1 hour}}",
    );
    assert_eq!(code, "invalid-duration");
}

/// The built-in `backup-restore-within-rto` with `overrides` from `backstop.yaml`.
fn restore_within_rto(overrides: &[(&str, &str)]) -> Result<Engine, Diagnostics> {
    let id = "backup-restore-within-rto";
    let mut set = RuleSet::default();
    set.add_source(
        &format!("{id}.yaml"),
        include_str!("../rules/backup/backup-restore-within-rto.yaml"),
    )?;
    let mut settings = Settings::default();
    let params = overrides
        .iter()
        .map(|(name, value)| (name.to_string(), config_value(name, value)))
        .collect();
    settings.params.insert(id.to_string(), params);
    set.compile(&settings)
}

#[test]
fn a_duration_param_of_a_built_in_rule_is_overridden_in_the_config() {
    let mut r = restore(5400);
    r.set("resource_type", "RDS")
        .set("last_restore_job_status", "COMPLETED");
    let default = restore_within_rto(&[]).unwrap();
    assert_eq!(
        judge(&default, &r),
        fail("last_restore_duration_seconds is 5400, expected <= 3600 (1h)")
    );
    let e = restore_within_rto(&[("rto", "90m")]).unwrap();
    assert_eq!(judge(&e, &r), Pass);
    r.set("last_restore_duration_seconds", 5401);
    assert_eq!(
        judge(&e, &r),
        fail("last_restore_duration_seconds is 5401, expected <= 5400 (90m)")
    );
    // A config saved when the param was a number of seconds still works.
    let e = restore_within_rto(&[("rto", "7200")]).unwrap();
    assert_eq!(judge(&e, &r), Pass);
    // A mistyped duration is pointed at in the config file.
    let d = restore_within_rto(&[("rto", "90 min")]).unwrap_err().0;
    assert_eq!(
        d.iter()
            .map(|d| (d.file.as_str(), d.line, d.code.as_str()))
            .collect::<Vec<_>>(),
        [("backstop.yaml", 3, "invalid-duration")]
    );
    // Not so a param that is also, or only, used otherwise: an age.
    let d = compile_with_params("t", RETENTION, &[("max_lag", "3600")])
        .unwrap_err()
        .0;
    assert_eq!(
        d.iter()
            .map(|d| (d.file.as_str(), d.line, d.code.as_str(), d.message.as_str()))
            .collect::<Vec<_>>(),
        [(
            "backstop.yaml",
            3,
            "type-mismatch",
            "param `max_lag` of rule `t` takes a string (default: 1h), found an integer"
        )]
    );
}
