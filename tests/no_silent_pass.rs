//! The truth rule end to end: a fact AWS was asked about and said "none" is a
//! known absence and judged like a value; a fact that was not read or not
//! sent is unknown and can only give `error`. Every enabled rule has exactly
//! one outcome on every resource of its type, however the facts are damaged.

use std::collections::BTreeMap;

use backstop::config::Config;
use backstop::model::schema::{AttrType, RESOURCE_TYPES, ResourceType};
use backstop::model::{CollectionError, Inventory, Resource, Value};
use backstop::report::Status;
use backstop::rules::evaluate::Target;
use backstop::rules::{Engine, Evaluation, RuleSet, Settings};
use jiff::{SignedDuration, Timestamp};

const NOW: &str = "2026-03-01T12:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn builtin() -> Engine {
    RuleSet::builtin()
        .unwrap()
        .compile(&Settings::default())
        .unwrap()
}

fn user_rule(body: &str) -> Engine {
    let mut set = RuleSet::default();
    let text = format!(
        "id: user-rule\ntitle: A user's own rule\nresource: aws.rds.db_instance\nseverity: high\n\
         category: retention\n{body}\nrationale: Because the team says so.\n\
         remediation: fix {{id}}\nreferences: [team wiki]\n"
    );
    set.add_source("user-rule.yaml", &text)
        .unwrap_or_else(|d| panic!("{d}"));
    set.compile(&Settings::default()).unwrap()
}

fn instance(id: &str) -> Resource {
    let kind = backstop::model::schema::resource_type("aws.rds.db_instance").unwrap();
    let mut r = Resource::new(kind, id);
    r.region = "eu-west-1".into();
    r.account = "123456789012".into();
    r
}

fn one_result(engine: &Engine, r: Resource) -> (Status, Option<String>) {
    let inventory = Inventory {
        resources: vec![r],
        ..Default::default()
    };
    let verdicts = engine.evaluate(&inventory, now());
    assert_eq!(verdicts.len(), 1, "{verdicts:?}");
    (
        verdicts[0].status,
        verdicts[0].message.as_deref().map(str::to_string),
    )
}

/// A tag key missing from a tag set that was read is a known absence: `eq`
/// on it is false, so `not: eq` holds and the rule applies. Before, the rule
/// produced no result at all on untagged instances.
#[test]
fn a_missing_tag_of_a_read_tag_set_is_a_known_absence() {
    let engine = user_rule(
        "when: { not: { tags.backup: { eq: \"off\" } } }\nassert: { multi_az: { eq: true } }",
    );
    let mut untagged = instance("orders");
    untagged.set_tags(BTreeMap::new()).set("multi_az", false);
    assert_eq!(
        one_result(&engine, untagged.clone()),
        (
            Status::Fail,
            Some("multi_az is false, expected true".into())
        )
    );
    // Opted out: the rule does not apply (and that is recorded, not lost).
    let mut opted_out = untagged.clone();
    opted_out.set_tags(BTreeMap::from([("backup".into(), "off".into())]));
    let inventory = Inventory {
        resources: vec![opted_out],
        ..Default::default()
    };
    let evaluation = engine.judge(&inventory, now());
    assert!(evaluation.verdicts.is_empty());
    assert_eq!(evaluation.not_applicable, vec![(0, 0)]);
}

/// A `when:` that cannot be decided gives an `error` result that says so.
#[test]
fn an_undecidable_when_is_an_error_never_silence() {
    let engine = user_rule(
        "when: { not: { tags.backup: { eq: \"off\" } } }\nassert: { multi_az: { eq: true } }",
    );
    let mut unread_tags = instance("orders");
    unread_tags.set("multi_az", false);
    assert_eq!(
        one_result(&engine, unread_tags),
        (
            Status::Error,
            Some(
                "could not decide whether the rule applies: tags.backup is unknown (it was not \
                 collected, or AWS did not report it)"
                    .into()
            )
        )
    );
}

/// An inventory record without a fact AWS did not send is `error`, not
/// `fail` (and never `pass`); an explicit `null` of an attribute that can be
/// none is a known absence and is judged.
#[test]
fn an_unsent_fact_in_an_inventory_is_an_error_not_a_fail() {
    let text = r#"{"schema": "backstop.inventory/v1", "resources": [
        {"type": "aws.rds.db_instance", "id": "no-multi-az-field", "region": "eu-west-1", "tags": {},
         "attributes": {"backup_retention_days": 7, "cluster_id": null, "storage_encrypted": true}},
        {"type": "aws.rds.db_instance", "id": "multi-az-null", "region": "eu-west-1", "tags": {},
         "attributes": {"multi_az": null, "cluster_id": null}}
    ]}"#;
    let inventory = Inventory::from_json(text, "inv.json").unwrap();
    let engine = builtin();
    let report = backstop::audit::run(&engine, inventory, &Config::default(), now());
    for id in ["no-multi-az-field", "multi-az-null"] {
        let multi_az = report
            .results
            .iter()
            .find(|f| f.rule == "rds-multi-az" && f.resource.id == id)
            .unwrap_or_else(|| panic!("rds-multi-az has no result on {id}"));
        assert_eq!(multi_az.status, Status::Error, "{id}");
        assert_eq!(
            multi_az.message,
            "could not decide: multi_az is unknown (it was not collected, or AWS did not report it)"
        );
        assert!(
            multi_az
                .remediation
                .starts_with("Collect the facts this rule reads"),
            "an error is not a gap to remediate: {}",
            multi_az.remediation
        );
    }
    // A known absence is judged: no KMS key means not a customer key.
    let retention = report
        .results
        .iter()
        .find(|f| f.rule == "rds-backup-retention" && f.resource.id == "no-multi-az-field")
        .unwrap();
    assert_eq!(retention.status, Status::Pass);
}

/// Saving and loading keeps the three kinds of fact apart.
#[test]
fn inventories_keep_known_absences_and_unknowns_apart() {
    let mut r = instance("orders");
    r.set("cluster_id", Value::Null)
        .set("multi_az", true)
        .set_tags(BTreeMap::new());
    let inventory = Inventory {
        resources: vec![r],
        ..Default::default()
    };
    let text = inventory.to_json();
    assert!(text.contains("\"cluster_id\": null"), "{text}");
    assert!(!text.contains("deletion_protection"), "{text}");
    let back = Inventory::from_json(&text, "t").unwrap();
    let r = &back.resources[0];
    assert!(r.get("cluster_id").is_null());
    assert!(r.get("deletion_protection").is_unknown());
    assert!(r.tags_read);
    assert_eq!(back, inventory);
    // Without `tags`, the tags were not read.
    let text = r#"{"schema": "backstop.inventory/v1", "resources": [{"type": "aws.rds.db_instance", "id": "x"}]}"#;
    let r = &Inventory::from_json(text, "t").unwrap().resources[0];
    assert!(!r.tags_read);
    assert!(r.tag("backup").is_unknown());
}

#[test]
fn inventory_errors_name_line_and_column() {
    let text = "{\"schema\": \"backstop.inventory/v1\", \"resources\": [\n  {\"type\": \"aws.rds.db_instance\", \"id\": \"a\"},\n  {\"type\": \"aws.rds.db_instance\", \"id\": \"b\",\n   \"attributes\": {\"multi_az\": \"yes\"}}\n]}";
    let err = Inventory::from_json(text, "inv.json")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "inv.json:4:31: resources[1] (b): attribute multi_az: expected bool, found \"yes\""
    );
    let text = "{\"schema\": \"backstop.inventory/v1\", \"resources\": [\n  {\"type\": \"aws.rds.db_instance\", \"id\": \"a\", \"atributes\": {}}\n]}";
    let err = Inventory::from_json(text, "inv.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("inv.json:2:56: resources[0] (?): unknown field `atributes`"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// Coverage and monotonicity over random inventories

/// A small deterministic generator (xorshift64*), so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const REGIONS: &[&str] = &["eu-west-1", "us-east-1"];
const WORDS: &[&str] = &[
    "",
    "backup",
    "acme-backups",
    "tmp/",
    "eu-central-1",
    "us-east-1",
    "CUSTOMER",
    "AWS",
];

fn random_value(rng: &mut Rng, ty: &AttrType) -> Value {
    match ty {
        AttrType::Bool => Value::Bool(rng.chance(50)),
        AttrType::Int => Value::Int([0, 1, 6, 7, 14, 30, 35, 90][rng.below(8)]),
        AttrType::Str { values } if !values.is_empty() => {
            Value::Str(values[rng.below(values.len())].into())
        }
        AttrType::Str { .. } => Value::Str(rng.pick(WORDS).into()),
        AttrType::Time => Value::Time(now() - SignedDuration::from_mins(rng.below(4000) as i64)),
        AttrType::StrList => Value::List(
            (0..rng.below(3))
                .map(|_| Value::Str(rng.pick(REGIONS).into()))
                .collect(),
        ),
        AttrType::ObjectList(fields) => Value::List(
            (0..rng.below(3))
                .map(|_| {
                    let mut object = BTreeMap::new();
                    for field in *fields {
                        match rng.below(10) {
                            0 => {}
                            1 => {
                                object.insert(field.name.to_string(), Value::Null);
                            }
                            _ => {
                                object.insert(field.name.to_string(), random_value(rng, &field.ty));
                            }
                        }
                    }
                    Value::Object(object)
                })
                .collect(),
        ),
    }
}

fn random_resource(rng: &mut Rng, kind: &'static ResourceType, n: usize) -> Resource {
    let id = format!(
        "{}-{n}",
        rng.pick(&["orders", "acme-backups", "web", "nightly-backup"])
    );
    let mut r = Resource::new(kind, id);
    r.region = rng.pick(REGIONS).into();
    r.account = "123456789012".into();
    if rng.chance(80) {
        let mut tags = BTreeMap::new();
        if rng.chance(50) {
            tags.insert(
                "backup".to_string(),
                rng.pick(&["off", "daily"]).to_string(),
            );
        }
        r.set_tags(tags);
    }
    for attribute in kind.attributes {
        match rng.below(10) {
            0 => {} // unknown
            1 if attribute.none.is_some() => {
                r.set(attribute.name, Value::Null);
            }
            _ => {
                r.set(attribute.name, random_value(rng, &attribute.ty));
            }
        }
    }
    r
}

fn random_inventory(seed: u64) -> Inventory {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut inventory = Inventory::default();
    for n in 0..(5 + rng.below(20)) {
        let kind = &RESOURCE_TYPES[rng.below(RESOURCE_TYPES.len())];
        inventory.resources.push(random_resource(&mut rng, kind, n));
    }
    for _ in 0..rng.below(3) {
        let kind = &RESOURCE_TYPES[rng.below(RESOURCE_TYPES.len())];
        let named = rng.chance(50).then(|| inventory.resources[0].id.clone());
        let attributes = if rng.chance(50) {
            Vec::new()
        } else {
            vec![
                kind.attributes[rng.below(kind.attributes.len())]
                    .name
                    .to_string(),
            ]
        };
        inventory.errors.push(CollectionError {
            account: None,
            service: "test".into(),
            region: rng.pick(REGIONS).into(),
            operation: "DescribeThings".into(),
            code: "AccessDenied".into(),
            message: "denied".into(),
            resource_type: kind.name.into(),
            resource_id: named,
            attributes,
        });
    }
    inventory
}

/// The outcome of each (rule, resource) pair: a status, or `None` when the
/// rule's `when` ruled the resource out.
fn outcomes(evaluation: &Evaluation) -> BTreeMap<(usize, usize), Option<Status>> {
    let mut out = BTreeMap::new();
    for v in &evaluation.verdicts {
        if let Target::Resource(i) = v.target {
            assert!(
                out.insert((v.rule, i), Some(v.status)).is_none(),
                "two results for one pair"
            );
        }
    }
    for &pair in &evaluation.not_applicable {
        assert!(
            out.insert(pair, None).is_none(),
            "a pair both judged and ruled out"
        );
    }
    out
}

fn cases() -> u64 {
    std::env::var("BACKSTOP_RANDOM_INVENTORIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

/// Every (enabled rule × resource of its type) has exactly one outcome, and
/// the report keeps every verdict, on the demo and on random inventories.
#[test]
fn every_rule_has_one_outcome_on_every_resource() {
    let engine = builtin();
    let demo = backstop::demo::inventory().unwrap();
    let mut inventories = vec![("demo".to_string(), demo)];
    for seed in 0..cases() {
        inventories.push((format!("seed {seed}"), random_inventory(seed)));
    }
    let mut seen: BTreeMap<Option<Status>, usize> = BTreeMap::new();
    for (name, inventory) in inventories {
        let evaluation = engine.judge(&inventory, now());
        assert!(
            engine.coverage_gaps(&inventory, &evaluation).is_empty(),
            "{name}"
        );
        let pairs = outcomes(&evaluation);
        let expected: usize = engine
            .rules()
            .iter()
            .map(|rule| {
                inventory
                    .resources
                    .iter()
                    .filter(|r| rule.def.applies_to(r.resource_type.name))
                    .count()
            })
            .sum();
        assert_eq!(pairs.len(), expected, "{name}");
        for outcome in pairs.values() {
            *seen.entry(*outcome).or_default() += 1;
        }
        let report = backstop::audit::run(&engine, inventory.clone(), &Config::default(), now());
        assert_eq!(report.results.len(), evaluation.verdicts.len(), "{name}");
    }
    // The inventories exercise every outcome, so the checks above are not vacuous.
    for outcome in [
        None,
        Some(Status::Pass),
        Some(Status::Fail),
        Some(Status::Error),
    ] {
        assert!(
            seen.get(&outcome).copied().unwrap_or(0) > 10,
            "{outcome:?}: {seen:?}"
        );
    }
}

/// Forgetting facts can only make results `error`: replacing any known
/// fact (or the tag set) by "unknown" never turns a result into another
/// verdict, never makes one vanish, and never creates a pass.
#[test]
fn forgetting_a_fact_only_ever_gives_errors() {
    let engine = builtin();
    let user = user_rule(
        "when: { not: { tags.backup: { eq: \"off\" } } }\nassert: { any: [ { multi_az: { eq: true } }, { cluster_id: { absent: false } } ] }",
    );
    for seed in 0..cases() {
        let inventory = random_inventory(seed);
        let mut rng = Rng(seed | 1);
        let mut damaged = inventory.clone();
        for r in &mut damaged.resources {
            for attribute in r.resource_type.attributes {
                if rng.chance(30) {
                    r.set(attribute.name, Value::Unknown);
                }
            }
            if rng.chance(30) {
                r.tags_read = false;
            }
        }
        for engine in [&engine, &user] {
            let before = outcomes(&engine.judge(&inventory, now()));
            let after = outcomes(&engine.judge(&damaged, now()));
            assert_eq!(
                before.len(),
                after.len(),
                "seed {seed}: a result vanished or appeared"
            );
            for (pair, was) in &before {
                let is = after[pair];
                assert!(
                    is == *was || is == Some(Status::Error),
                    "seed {seed}: rule {} on resource {} went from {was:?} to {is:?}",
                    engine.rules()[pair.0].id(),
                    damaged.resources[pair.1].id,
                );
            }
        }
    }
}

/// A tag scope cannot place a resource whose tags were never read (an
/// inventory saved without them): its results are `error`, not dropped.
#[test]
fn a_tag_scope_never_drops_resources_whose_tags_were_not_read() {
    let config = Config::parse(
        "backstop.yaml",
        "scope:\n  include: { tags: { env: \"prod*\" } }\n",
        std::path::Path::new("."),
    )
    .unwrap();
    let text = r#"{"schema": "backstop.inventory/v1", "resources": [
        {"type": "aws.rds.db_instance", "id": "untold", "region": "eu-west-1",
         "attributes": {"multi_az": false, "cluster_id": null}},
        {"type": "aws.rds.db_instance", "id": "staging", "region": "eu-west-1", "tags": {"env": "staging"},
         "attributes": {"multi_az": false, "cluster_id": null}}
    ]}"#;
    let inventory = Inventory::from_json(text, "inv.json").unwrap();
    let engine = builtin();
    let report = backstop::audit::run(&engine, inventory, &config, now());
    let multi_az: Vec<_> = report
        .results
        .iter()
        .filter(|f| f.rule == "rds-multi-az")
        .collect();
    assert_eq!(multi_az.len(), 1, "{multi_az:?}");
    assert_eq!(multi_az[0].resource.id, "untold");
    assert_eq!(multi_az[0].status, Status::Error);
    assert!(
        multi_az[0]
            .message
            .contains("whether it is in scope is unknown: the tags of aws.rds.db_instance `untold` were not collected"),
        "{}",
        multi_az[0].message
    );
}

/// A scope whose regions leave out every audited region would audit nothing
/// and pass the gate: it is refused instead.
#[test]
fn a_scope_that_leaves_out_every_audited_region_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("backstop.yaml");
    std::fs::write(&config, "scope:\n  include: { regions: [us-east-1] }\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backstop"))
        .args(["audit", "--demo", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("leave out every audited region ([eu-west-1]), so nothing would be audited"),
        "{stderr}"
    );
    // A scope that keeps one audited region is fine.
    std::fs::write(
        &config,
        "scope:\n  include: { regions: [eu-west-1, us-east-1] }\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backstop"))
        .args(["audit", "--demo", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A misspelt top-level key would drop the collection errors (a silent
/// pass); a repeated key would make one of two values a guess.
#[test]
fn inventories_refuse_unknown_keys_and_repeated_keys() {
    let text = r#"{"schema": "backstop.inventory/v1", "resources": [], "erors": []}"#;
    let err = Inventory::from_json(text, "inv.json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `erors`"), "{err}");
    let text = "{\"schema\": \"backstop.inventory/v1\", \"resources\": [\n  {\"type\": \"aws.rds.db_instance\", \"id\": \"a\", \"attributes\": {\"multi_az\": true, \"multi_az\": false}}]}";
    let err = Inventory::from_json(text, "inv.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("inv.json:2:") && err.contains("duplicate key \"multi_az\""),
        "{err}"
    );
    let text = "{\"schema\": \"backstop.inventory/v1\", \"resources\": [\n  {\"type\": \"aws.rds.db_instance\", \"id\": \"a\", \"tags\": {\"env\": \"prod\", \"env\": \"dev\"}}]}";
    let err = Inventory::from_json(text, "inv.json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("duplicate key \"env\""), "{err}");
}

/// The coverage check itself finds a dropped and a doubled outcome.
#[test]
fn the_coverage_check_finds_dropped_and_doubled_outcomes() {
    let engine = builtin();
    let inventory = backstop::demo::inventory().unwrap();
    let mut evaluation = engine.judge(&inventory, now());
    assert!(engine.coverage_gaps(&inventory, &evaluation).is_empty());
    let dropped = evaluation
        .verdicts
        .iter()
        .position(|v| matches!(v.target, Target::Resource(_)))
        .unwrap();
    let verdict = evaluation.verdicts.remove(dropped);
    let Target::Resource(i) = verdict.target else {
        unreachable!()
    };
    assert_eq!(
        engine.coverage_gaps(&inventory, &evaluation),
        vec![(verdict.rule, i)]
    );
    evaluation.verdicts.push(verdict.clone());
    evaluation.verdicts.push(verdict.clone());
    assert_eq!(
        engine.coverage_gaps(&inventory, &evaluation),
        vec![(verdict.rule, i)]
    );
}
