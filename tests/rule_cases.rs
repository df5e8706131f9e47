//! The built-in rules against their case files.
//!
//! Beside each rule file `rules/<service>/<id>.yaml` lies `<id>.cases.yaml`:
//! resources the rule must pass, fail, leave out or be unable to judge, each
//! fail and error with its exact message. This harness finds every case
//! file, checks that rule files and case files pair up, and judges every
//! case with the real inventory reader and rule engine. A case file:
//!
//! ```yaml
//! now: 2026-03-01T12:00:00Z        # the audit clock
//! resource:                        # what every case starts from, as in an
//!   id: orders                     # inventory file (the rule names its type)
//!   region: eu-west-1
//!   account: "123456789012"
//!   tags: {}                       # left out: the tags were not read
//!   attributes: { cluster_id: null, backup_retention_days: 7 }
//! cases:
//!   - name: six days are too few
//!     resource:                    # laid over the file's: its fields and
//!       attributes:                # attributes replace the file's
//!         backup_retention_days: 6
//!     expect: fail                 # pass | fail | error | not_applicable
//!     message: backup_retention_days is 6, expected >= 7
//!   - name: a retention that was not read
//!     unknown: [backup_retention_days]   # attributes left out
//!     expect: error
//!     message: >-
//!       could not decide: backup_retention_days is unknown (it was not
//!       collected, or AWS did not report it)
//!   - name: min_days lowered to 6
//!     params: { min_days: 6 }      # overrides of the rule's params
//!     resource: { attributes: { backup_retention_days: 6 } }
//!     expect: pass
//! ```
//!
//! A case may add `other_rules: pass` (or `not_applicable`): every other
//! rule of the pack on the resource's type must give that, or leave the
//! resource out. Every case file has a `pass`, a `fail` and an `error` case,
//! and a `not_applicable` one when its rule has a `when`.
//!
//! A rule over several resource types (`resource: [A, B]`) cannot name the
//! type of its cases: the file's resource says it with `type: A`, and a
//! case may lay another over it (`resource: { type: B }`). Each of the
//! rule's types needs at least one case.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use backstop::lang::yaml::{self, Mark, Node, NodeKind, Scalar};
use backstop::model::Inventory;
use backstop::model::inventory::INVENTORY_SCHEMA;
use backstop::rules::{CASE_FILE_SUFFIX, Engine, ParamValue, RuleDef, RuleSet, Settings};
use jiff::Timestamp;
use serde_json::{Map, Value as Json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

const STATUSES: [&str; 4] = ["pass", "fail", "error", "not_applicable"];

fn pack() -> RuleSet {
    RuleSet::builtin().unwrap_or_else(|d| panic!("the built-in pack does not load:\n{d}"))
}

/// The case file of a built-in rule, relative to the repository.
fn case_file_of(rule: &RuleDef) -> String {
    let rule_file = rule.file.trim_start_matches("builtin:");
    let stem = rule_file.strip_suffix(".yaml").unwrap_or(rule_file);
    format!("{stem}{CASE_FILE_SUFFIX}")
}

/// Every case file below `dir`, relative to the repository.
fn case_files_below(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let shown = path
            .strip_prefix(ROOT)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            case_files_below(&path, out);
        } else if shown.ends_with(CASE_FILE_SUFFIX) {
            out.insert(shown.replace('\\', "/"));
        }
    }
}

/// What a rule gives on one resource.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    /// One of [`STATUSES`].
    status: String,
    /// Why it failed or errored.
    message: Option<String>,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => write!(f, "{}: {message}", self.status),
            None => f.write_str(&self.status),
        }
    }
}

/// One case of a case file, its resource already read as an inventory.
struct Case {
    /// `file:line:col: case `name``: how problems name the case.
    at: String,
    inventory: Inventory,
    /// The type of the case's resource.
    resource_type: String,
    params: BTreeMap<String, ParamValue>,
    expect: Outcome,
    /// What every other rule on the resource's type must give, unless it
    /// leaves the resource out.
    other_rules: Option<String>,
}

/// A case file, read.
struct CaseFile {
    path: String,
    now: Timestamp,
    cases: Vec<Case>,
}

/// The keys a case file, a case and a resource may have.
const FILE_KEYS: &[&str] = &["now", "resource", "cases"];
const CASE_KEYS: &[&str] = &[
    "name",
    "resource",
    "unknown",
    "params",
    "expect",
    "message",
    "other_rules",
];
const RESOURCE_KEYS: &[&str] = &[
    "type",
    "id",
    "arn",
    "region",
    "account",
    "tags",
    "attributes",
];

fn at(file: &str, mark: Mark) -> String {
    format!("{file}:{}:{}", mark.line, mark.col)
}

/// A mapping of a case file, by key.
struct Fields<'a> {
    file: &'a str,
    mark: Mark,
    entries: BTreeMap<&'a str, &'a Node>,
}

impl<'a> Fields<'a> {
    /// The mapping `node`, whose keys must be among `known`.
    fn read(file: &'a str, node: &'a Node, known: &[&str]) -> Result<Fields<'a>, String> {
        let entries = node
            .as_map()
            .ok_or_else(|| format!("{}: expected a mapping", at(file, node.mark)))?;
        let mut fields = Fields {
            file,
            mark: node.mark,
            entries: BTreeMap::new(),
        };
        for (key, value) in entries {
            let name = key.text().unwrap_or_default();
            if !known.contains(&name) {
                return Err(format!(
                    "{}: unknown key `{name}`; known: {}",
                    at(file, key.mark),
                    known.join(", ")
                ));
            }
            fields.entries.insert(name, value);
        }
        Ok(fields)
    }

    fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries.get(key).copied()
    }

    fn required(&self, key: &str) -> Result<&'a Node, String> {
        self.get(key)
            .ok_or_else(|| format!("{}: `{key}` is missing", at(self.file, self.mark)))
    }

    fn string(&self, node: &'a Node) -> Result<&'a str, String> {
        node.as_str()
            .ok_or_else(|| format!("{}: expected a string", at(self.file, node.mark)))
    }

    fn list(&self, node: &'a Node) -> Result<&'a [Node], String> {
        node.as_seq()
            .ok_or_else(|| format!("{}: expected a list", at(self.file, node.mark)))
    }

    /// A resource or its overlay, as inventory JSON.
    fn resource(&self, node: &'a Node) -> Result<Map<String, Json>, String> {
        let fields = Fields::read(self.file, node, RESOURCE_KEYS)?;
        if let Some(attributes) = fields.get("attributes").filter(|a| a.as_map().is_none()) {
            let place = at(self.file, attributes.mark);
            return Err(format!("{place}: `attributes` is a mapping"));
        }
        match json(node) {
            Json::Object(resource) => Ok(resource),
            _ => unreachable!("a mapping"),
        }
    }
}

/// A YAML node as the JSON an inventory file would hold.
fn json(node: &Node) -> Json {
    match &node.kind {
        NodeKind::Seq(items) => Json::Array(items.iter().map(json).collect()),
        NodeKind::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(key, value)| (key.text().unwrap_or_default().to_string(), json(value)))
                .collect(),
        ),
        NodeKind::Scalar { .. } => match node.scalar() {
            Some(Scalar::Bool(b)) => Json::Bool(b),
            Some(Scalar::Int(i)) => Json::from(i),
            Some(Scalar::Float(f)) => Json::from(f),
            Some(Scalar::Str(s)) => Json::from(s),
            Some(Scalar::Null) | None => Json::Null,
        },
    }
}

/// The file's resource with a case's overlay laid over it (its attributes
/// one by one) and the `unknown` attributes left out, read as a
/// one-resource inventory file of one of `rule`'s types.
fn inventory(
    rule: &RuleDef,
    mut resource: Map<String, Json>,
    overlay: Map<String, Json>,
    unknown: &[&str],
    origin: &str,
) -> Result<Inventory, String> {
    for (key, value) in overlay {
        match (resource.get_mut(&key), value) {
            (Some(Json::Object(attributes)), Json::Object(more)) if key == "attributes" => {
                attributes.extend(more)
            }
            (_, value) => {
                resource.insert(key, value);
            }
        }
    }
    let attributes = resource
        .entry("attributes")
        .or_insert_with(|| Json::Object(Map::new()));
    for name in unknown {
        if attributes
            .as_object_mut()
            .and_then(|a| a.remove(*name))
            .is_none()
        {
            return Err(format!(
                "{origin}: `unknown` names `{name}`, which the resource does not set"
            ));
        }
    }
    let kind = match (resource.get("type"), &rule.resource_types[..]) {
        (Some(Json::String(kind)), _) if rule.applies_to(kind) => kind.clone(),
        (None, [only]) => only.name.to_string(),
        (Some(other), _) => {
            return Err(format!(
                "{origin}: `type` {other} is not a type rule `{}` judges ({})",
                rule.id,
                rule.resource_type_names()
            ));
        }
        (None, _) => {
            return Err(format!(
                "{origin}: rule `{}` judges several types ({}): the resource needs its `type`",
                rule.id,
                rule.resource_type_names()
            ));
        }
    };
    resource.insert("type".into(), kind.into());
    let file = serde_json::json!({ "schema": INVENTORY_SCHEMA, "resources": [resource] });
    Inventory::from_json(&file.to_string(), origin).map_err(|e| e.to_string())
}

fn read_case(
    file: &str,
    rule: &RuleDef,
    base: &Map<String, Json>,
    node: &Node,
) -> Result<Case, String> {
    let case = Fields::read(file, node, CASE_KEYS)?;
    let name = case.string(case.required("name")?)?;
    let origin = format!("{}: case `{name}`", at(file, node.mark));
    let status = |node| match case.string(node)? {
        s if STATUSES.contains(&s) => Ok(s.to_string()),
        s => Err(format!("{origin}: `{s}` is none of {STATUSES:?}")),
    };
    let expect = Outcome {
        status: status(case.required("expect")?)?,
        message: case
            .get("message")
            .map(|m| case.string(m).map(str::to_string))
            .transpose()?,
    };
    if matches!(expect.status.as_str(), "fail" | "error") != expect.message.is_some() {
        return Err(format!(
            "{origin}: a fail or error case needs its `message`, and only they have one"
        ));
    }
    let unknown: Vec<&str> = match case.get("unknown") {
        Some(list) => case
            .list(list)?
            .iter()
            .map(|item| case.string(item))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let param_names: Vec<&str> = rule.params.keys().map(String::as_str).collect();
    let params = match case.get("params") {
        Some(params) => Fields::read(file, params, &param_names)?.entries,
        None => BTreeMap::new(),
    };
    let overlay = match case.get("resource") {
        Some(overlay) => case.resource(overlay)?,
        None => Map::new(),
    };
    let inventory = inventory(rule, base.clone(), overlay, &unknown, &origin)?;
    Ok(Case {
        resource_type: inventory.resources[0].resource_type.name.to_string(),
        inventory,
        params: params
            .into_iter()
            .map(|(name, node)| {
                let value = ParamValue {
                    node: node.clone(),
                    file: file.to_string(),
                };
                (name.to_string(), value)
            })
            .collect(),
        other_rules: case.get("other_rules").map(status).transpose()?,
        at: origin,
        expect,
    })
}

/// Reads the case file of `rule`.
fn read_case_file(rule: &RuleDef) -> Result<CaseFile, String> {
    let path = case_file_of(rule);
    let text =
        std::fs::read_to_string(Path::new(ROOT).join(&path)).map_err(|e| format!("{path}: {e}"))?;
    parse_case_file(path, &text, rule)
}

/// Reads the case file `path` of `rule`, whose text is `text`.
fn parse_case_file(path: String, text: &str, rule: &RuleDef) -> Result<CaseFile, String> {
    let root = yaml::parse(text).map_err(|e| format!("{}: {}", at(&path, e.mark), e.message))?;
    let file = Fields::read(&path, &root, FILE_KEYS)?;
    let now = file.required("now")?;
    let now = file
        .string(now)?
        .parse()
        .map_err(|e| format!("{}: {e}", at(&path, now.mark)))?;
    let base = file.resource(file.required("resource")?)?;
    let cases = file
        .list(file.required("cases")?)?
        .iter()
        .map(|node| read_case(&path, rule, &base, node))
        .collect::<Result<_, _>>()?;
    Ok(CaseFile {
        path: path.clone(),
        now,
        cases,
    })
}

/// What every rule of the resource's type gives on the one resource of
/// `inventory`, by rule id.
fn outcomes(engine: &Engine, inventory: &Inventory, now: Timestamp) -> BTreeMap<String, Outcome> {
    let evaluation = engine.judge(inventory, now);
    let judged = evaluation
        .verdicts
        .into_iter()
        .map(|v| (v.rule, v.status.as_str(), v.message));
    let left_out = evaluation
        .not_applicable
        .into_iter()
        .map(|(rule, _)| (rule, "not_applicable", None));
    let mut out = BTreeMap::new();
    for (rule, status, message) in judged.chain(left_out) {
        let id = engine.rules()[rule].id().to_string();
        let outcome = Outcome {
            status: status.to_string(),
            message: message.map(String::from),
        };
        assert!(
            out.insert(id, outcome).is_none(),
            "two outcomes of one rule on one resource"
        );
    }
    out
}

/// The outcomes `file`'s cases lack: each one `rule` can give, and a case
/// on each of its types.
fn missing_outcomes(rule: &RuleDef, file: &CaseFile) -> Vec<String> {
    let covered: BTreeSet<&str> = file
        .cases
        .iter()
        .map(|c| c.expect.status.as_str())
        .collect();
    let needed = STATUSES
        .iter()
        .filter(|s| **s != "not_applicable" || rule.when.is_some());
    let mut problems: Vec<String> = needed
        .filter(|s| !covered.contains(*s))
        .map(|status| format!("{}: no `{status}` case", file.path))
        .collect();
    for resource_type in &rule.resource_types {
        if !file
            .cases
            .iter()
            .any(|c| c.resource_type == resource_type.name)
        {
            problems.push(format!("{}: no case on {}", file.path, resource_type.name));
        }
    }
    problems
}

/// The problems of one case: its rule's outcome, and the other rules'.
fn check(rule: &str, case: &Case, engine: &Engine, now: Timestamp) -> Vec<String> {
    let found = outcomes(engine, &case.inventory, now);
    let mut problems = Vec::new();
    match found.get(rule) {
        Some(outcome) if *outcome == case.expect => {}
        Some(outcome) => problems.push(format!(
            "{}:\n  expected {}\n  got      {outcome}",
            case.at, case.expect
        )),
        None => problems.push(format!("{}: {rule} gave nothing", case.at)),
    }
    if let Some(status) = &case.other_rules {
        let others: Vec<String> = found
            .iter()
            .filter(|(id, outcome)| {
                *id != rule && ![status, "not_applicable"].contains(&outcome.status.as_str())
            })
            .map(|(id, outcome)| format!("{id}: {outcome}"))
            .collect();
        if !others.is_empty() {
            problems.push(format!(
                "{}: expected every other rule to give {status}, got\n  {}",
                case.at,
                others.join("\n  ")
            ));
        }
    }
    problems
}

/// Asserts no problems, listing them all.
fn assert_none(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_rule_has_a_case_file_and_every_case_file_a_rule() {
    let expected: BTreeSet<String> = pack().rules().iter().map(case_file_of).collect();
    let mut found = BTreeSet::new();
    case_files_below(&Path::new(ROOT).join("rules"), &mut found);
    let missing: Vec<_> = expected.difference(&found).collect();
    let orphans: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && orphans.is_empty(),
        "rules without a case file: {missing:?}\ncase files without a rule: {orphans:?}"
    );
}

#[test]
fn every_case_file_has_a_case_of_each_outcome_its_rule_can_give() {
    let mut problems = Vec::new();
    for rule in pack().rules() {
        let Ok(file) = read_case_file(rule) else {
            continue; // reported by every_case_holds
        };
        problems.extend(missing_outcomes(rule, &file));
    }
    assert_none(&problems);
}

/// The problems of every case of `file`, a case file of `rule`.
fn run(pack: &RuleSet, rule: &RuleDef, file: &CaseFile) -> Vec<String> {
    let mut problems = Vec::new();
    for case in &file.cases {
        let mut settings = Settings::default();
        settings.params.insert(rule.id.clone(), case.params.clone());
        match pack.compile(&settings) {
            Ok(engine) => problems.extend(check(&rule.id, case, &engine, file.now)),
            Err(d) => problems.push(format!("{}: the pack does not compile:\n{d}", case.at)),
        }
    }
    problems
}

#[test]
fn every_case_holds() {
    let pack = pack();
    let mut problems = Vec::new();
    for rule in pack.rules() {
        match read_case_file(rule) {
            Ok(file) => problems.extend(run(&pack, rule, &file)),
            Err(problem) => problems.push(problem),
        }
    }
    assert_none(&problems);
}

/// The README's example case file, named by its first line.
#[test]
fn the_readme_example_case_file_holds() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let (path, text) = readme
        .split("```yaml\n# ")
        .filter_map(|block| block.split("\n```").next()?.split_once('\n'))
        .find(|(first_line, _)| first_line.ends_with(CASE_FILE_SUFFIX))
        .expect("README.md has an example case file");
    let pack = pack();
    let rule = pack
        .rules()
        .iter()
        .find(|r| case_file_of(r) == path)
        .unwrap_or_else(|| panic!("no rule for the README's {path}"));
    let file =
        parse_case_file(format!("README.md: {path}"), text, rule).unwrap_or_else(|p| panic!("{p}"));
    assert!(!file.cases.is_empty());
    assert_none(&run(&pack, rule, &file));
}

// ---------------------------------------------------------------------------
// Case files beside rules in a rule folder are not loaded as rules

const USER_RULE: &str = "id: my-multi-az\ntitle: Instances are Multi-AZ\n\
    resource: aws.rds.db_instance\nseverity: low\ncategory: availability\n\
    assert:\n  multi_az: { eq: true }\nrationale: r\nremediation: fix {id}\n";

const USER_CASES: &str = "now: 2026-03-01T12:00:00Z\nresource: { id: db, attributes: { multi_az: true } }\n\
    cases:\n  - { name: standby, expect: pass }\n";

#[test]
fn the_rule_folder_loads_its_rules_and_skips_their_case_files() {
    let ids =
        |set: &RuleSet| -> BTreeSet<String> { set.rules().iter().map(|r| r.id.clone()).collect() };
    let mut folder = RuleSet::default();
    let loaded = folder.add_dir(&Path::new(ROOT).join("rules")).unwrap();
    assert_eq!(loaded, pack().rules().len());
    assert_eq!(ids(&folder), ids(&pack()));
}

#[test]
fn rules_check_and_audit_read_a_rule_folder_holding_case_files() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("my-multi-az.yaml"), USER_RULE).unwrap();
    std::fs::write(
        rules.join(format!("my-multi-az{CASE_FILE_SUFFIX}")),
        USER_CASES,
    )
    .unwrap();
    let backstop = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_backstop"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };

    let out = backstop(&["rules", "check", "rules"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout, "rules: 1 rule file OK\n");

    let out = backstop(&[
        "audit",
        "--demo",
        "--rules",
        "rules",
        "--json",
        "audit.json",
    ]);
    // The demo account has gaps: the gate fails.
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = std::fs::read_to_string(dir.path().join("audit.json")).unwrap();
    assert!(report.contains("\"my-multi-az\""), "{report}");

    // Without its rule beside it, a file so named is read as a rule, so a
    // rule with an unlucky name fails loudly instead of going missing.
    std::fs::remove_file(rules.join("my-multi-az.yaml")).unwrap();
    let out = backstop(&["rules", "check", "rules"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr.contains(&format!("my-multi-az{CASE_FILE_SUFFIX}")),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------
// A rule over several resource types: its case files name each case's type

const WINDOW_RULE: &str = "id: my-window\ntitle: Backups run at night\n\
    resource: [aws.rds.db_instance, aws.rds.db_cluster]\nseverity: low\ncategory: retention\n\
    params: { allowed: [\"00:00-06:00\"] }\n\
    assert:\n  backup_window: { within_windows: $allowed }\nrationale: r\nremediation: fix {id}\n";

/// The pack of `WINDOW_RULE` alone, and the rule.
fn window_pack() -> (RuleSet, RuleDef) {
    let mut pack = RuleSet::default();
    pack.add_source("my-window.yaml", WINDOW_RULE).unwrap();
    let rule = pack.rules()[0].clone();
    (pack, rule)
}

#[test]
fn a_case_file_of_a_rule_over_several_types_names_the_type_of_each_case() {
    let (pack, rule) = window_pack();
    let text = "now: 2026-03-01T12:00:00Z\n\
        resource: { type: aws.rds.db_instance, id: db, attributes: { backup_window: \"01:00-01:30\" } }\n\
        cases:\n\
        \x20 - { name: instance at night, expect: pass }\n\
        \x20 - name: cluster by day\n\
        \x20   resource: { type: aws.rds.db_cluster, attributes: { backup_window: \"12:00-12:30\" } }\n\
        \x20   expect: fail\n\
        \x20   message: backup_window is 12:00-12:30, expected within 00:00-06:00\n\
        \x20 - name: instance window unread\n\
        \x20   unknown: [backup_window]\n\
        \x20   expect: error\n\
        \x20   message: >-\n\
        \x20     could not decide: backup_window is unknown (it was not collected, or AWS did\n\
        \x20     not report it)\n";
    let file = parse_case_file("my-window.cases.yaml".into(), text, &rule).unwrap();
    let types: Vec<&str> = file
        .cases
        .iter()
        .map(|c| c.resource_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "aws.rds.db_instance",
            "aws.rds.db_cluster",
            "aws.rds.db_instance"
        ]
    );
    assert_none(&run(&pack, &rule, &file));
    assert_none(&missing_outcomes(&rule, &file));

    // Every type needs a case.
    let instances_only = text.replace("type: aws.rds.db_cluster, ", "");
    let file = parse_case_file("my-window.cases.yaml".into(), &instances_only, &rule).unwrap();
    assert_eq!(
        missing_outcomes(&rule, &file),
        ["my-window.cases.yaml: no case on aws.rds.db_cluster"]
    );
    let problem = |text: &str| {
        parse_case_file("my-window.cases.yaml".into(), text, &rule)
            .err()
            .unwrap()
    };
    // Without a type, the case cannot say which of the rule's types it is.
    assert_eq!(
        problem(&text.replace("type: aws.rds.db_instance, ", "")),
        "my-window.cases.yaml:4:5: case `instance at night`: rule `my-window` judges several \
         types (aws.rds.db_instance, aws.rds.db_cluster): the resource needs its `type`"
    );
    assert_eq!(
        problem(&text.replace("type: aws.rds.db_cluster", "type: aws.s3.bucket")),
        "my-window.cases.yaml:5:5: case `cluster by day`: `type` \"aws.s3.bucket\" is not a type \
         rule `my-window` judges (aws.rds.db_instance, aws.rds.db_cluster)"
    );
}
