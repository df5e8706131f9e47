//! Loading rule files: every mistake is reported with a stable code, a clear
//! message and the exact `file:line:col`, all of them at once, and no input
//! makes the loader panic.

use std::collections::BTreeMap;

use backstop::lang::{Diagnostic, Diagnostics, yaml};
use backstop::rules::{ParamValue, RuleSet, Settings};

/// A valid rule; the tests below break one thing at a time.
const GOOD: &str = "\
id: rds-test
title: Test rule
resource: aws.rds.db_instance
severity: high
category: retention
params:
  min_days: 7
when:
  cluster_id: { absent: true }
assert:
  backup_retention_days: { gte: $min_days }
rationale: Because.
remediation: fix {id}
references:
  - https://example.com
";

const FILE: &str = "rules/rds-test.yaml";

/// `GOOD` with `from` replaced by `to` (which must occur exactly once).
fn good_with(from: &str, to: &str) -> String {
    assert_eq!(GOOD.matches(from).count(), 1, "{from:?}");
    GOOD.replace(from, to)
}

/// `GOOD` with one more check in its `assert:` (line 12, indented by 2).
fn with_check(check: &str) -> String {
    good_with(
        "{ gte: $min_days }\n",
        &format!("{{ gte: $min_days }}\n  {check}\n"),
    )
}

/// The diagnostics of one file that must not load.
fn load_err(file: &str, text: &str) -> Diagnostics {
    match RuleSet::default().add_source(file, text) {
        Ok(()) => panic!("{file} loaded, expected an error:\n{text}"),
        Err(d) => d,
    }
}

fn codes(d: &Diagnostics) -> Vec<&'static str> {
    d.0.iter().map(|d| d.code.as_str()).collect()
}

/// The single diagnostic of `text`, checked for code and position.
fn single(text: &str, code: &str, line: usize, col: usize) -> Diagnostic {
    let d = load_err(FILE, text);
    assert_eq!(d.0.len(), 1, "expected one diagnostic:\n{d}");
    let d = d.0.into_iter().next().unwrap();
    assert_eq!(
        (d.file.as_str(), d.code.as_str(), d.line, d.col),
        (FILE, code, line, col),
        "{d}"
    );
    d
}

#[test]
fn the_base_rule_is_valid() {
    let mut set = RuleSet::default();
    set.add_source(FILE, GOOD).unwrap();
    assert_eq!(set.rules()[0].id, "rds-test");
    set.compile(&Settings::default()).unwrap();
    // Windows line endings are fine too.
    RuleSet::default()
        .add_source(FILE, &GOOD.replace('\n', "\r\n"))
        .unwrap();
}

// ---------------------------------------------------------------------------
// YAML-level errors

#[test]
fn yaml_syntax_error() {
    let d = single(
        &good_with("{ gte: $min_days }", "{ gte: $min_days"),
        "yaml-syntax",
        12,
        10,
    );
    insta::assert_snapshot!("yaml_syntax_error", d.to_string());
}

#[test]
fn yaml_syntax_error_counts_lines_with_crlf() {
    let text = good_with("{ gte: $min_days }", "{ gte: $min_days").replace('\n', "\r\n");
    let d = single(&text, "yaml-syntax", 12, 10);
    assert_eq!(
        d.message,
        "while parsing a flow mapping, did not find expected ',' or '}'"
    );
}

#[test]
fn duplicate_key() {
    let d = single(
        &good_with(
            "rationale: Because.\n",
            "rationale: Because.\ntitle: Again\n",
        ),
        "yaml-syntax",
        13,
        1,
    );
    assert_eq!(d.message, "duplicate key `title`");
    insta::assert_snapshot!("duplicate_key", d.to_string());
}

#[test]
fn billion_laughs_fails_fast() {
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let text = good_with(
        "params:\n",
        &format!("params:\n  {}", bomb.replace('\n', "\n  ")),
    );
    let started = std::time::Instant::now();
    let d = load_err(FILE, &text);
    assert!(
        started.elapsed().as_secs() < 2,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(codes(&d), vec!["yaml-syntax"]);
    assert!(d.0[0].message.contains("alias expansion is capped"), "{d}");
    insta::assert_snapshot!("billion_laughs", d.to_string());
}

#[test]
fn oversized_file() {
    let text = format!(
        "{GOOD}# {}\n",
        "x".repeat(backstop::lang::yaml::MAX_DOCUMENT_BYTES)
    );
    let d = single(&text, "yaml-syntax", 1, 1);
    assert!(d.message.contains("the limit is"), "{d}");
}

// ---------------------------------------------------------------------------
// Rule fields

#[test]
fn unknown_field_with_did_you_mean() {
    let d = single(&good_with("title:", "titel:"), "unknown-field", 2, 1);
    insta::assert_snapshot!("unknown_field", d.to_string());
    // Without a close match the help lists the fields.
    let d = load_err(FILE, &good_with("references:", "owner: me\nreferences:"));
    assert_eq!(codes(&d), vec!["unknown-field"]);
    assert!(
        d.0[0]
            .help
            .as_deref()
            .unwrap()
            .starts_with("rule fields: id, title,"),
        "{d}"
    );
}

#[test]
fn missing_fields_are_all_reported_at_the_start_of_the_rule() {
    let text = format!(
        "# A rule with no title and no assert.\n{}",
        good_with("title: Test rule\n", "")
    );
    let text = text.replace("assert:\n  backup_retention_days: { gte: $min_days }\n", "");
    let d = load_err(FILE, &text);
    insta::assert_snapshot!("missing_field", d.to_string());
    assert_eq!(codes(&d), vec!["missing-field", "missing-field"]);
    assert!(d.0.iter().all(|d| (d.line, d.col) == (2, 1)), "{d}");
}

#[test]
fn empty_or_null_required_fields() {
    // A null value points at its key; anything else at the value.
    for (value, found, col) in [
        ("~", "nothing (null)", 1),
        ("null", "nothing (null)", 1),
        ("", "nothing (null)", 1),
        ("[a]", "a list", 8),
        ("{a: b}", "a mapping", 8),
    ] {
        let d = single(
            &good_with("title: Test rule", &format!("title: {value}")),
            "type-mismatch",
            2,
            col,
        );
        assert_eq!(
            d.message,
            format!("`title` must be a non-empty string, found {found}"),
            "{value}"
        );
    }
    // A quoted "null" is a string.
    RuleSet::default()
        .add_source(FILE, &good_with("title: Test rule", "title: \"null\""))
        .unwrap();
}

#[test]
fn unknown_resource_type() {
    let d = single(
        &good_with("aws.rds.db_instance", "aws.rds.db_instances"),
        "unknown-resource-type",
        3,
        11,
    );
    insta::assert_snapshot!("unknown_resource_type", d.to_string());
}

/// `GOOD` judging instances and clusters, with a `when` on a setting both
/// types have.
fn over_instances_and_clusters(resource: &str) -> String {
    good_with(
        "resource: aws.rds.db_instance",
        &format!("resource: {resource}"),
    )
    .replace("cluster_id: { absent: true }", "multi_az: { eq: true }")
}

#[test]
fn a_rule_may_judge_several_resource_types() {
    let mut set = RuleSet::default();
    let text = over_instances_and_clusters("[aws.rds.db_instance, aws.rds.db_cluster]");
    set.add_source(FILE, &text).unwrap();
    let names: Vec<&str> = set.rules()[0]
        .resource_types
        .iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["aws.rds.db_instance", "aws.rds.db_cluster"]);
    let engine = set.compile(&Settings::default()).unwrap();
    assert_eq!(engine.rules().len(), 1);
    // A list of one is the single type.
    let mut set = RuleSet::default();
    let text = over_instances_and_clusters("[aws.rds.db_cluster]");
    set.add_source(FILE, &text).unwrap();
    assert_eq!(set.rules()[0].resource_type_names(), "aws.rds.db_cluster");
}

#[test]
fn each_listed_resource_type_must_be_known_and_listed_once() {
    let d = load_err(
        FILE,
        &over_instances_and_clusters("[aws.rds.db_instance, aws.rds.db_clusters, aws.s3.buckett]"),
    );
    let found: Vec<(usize, usize, &str, &str)> =
        d.0.iter()
            .map(|d| (d.line, d.col, d.code.as_str(), d.message.as_str()))
            .collect();
    assert_eq!(
        found,
        [
            (
                3,
                33,
                "unknown-resource-type",
                "unknown resource type `aws.rds.db_clusters`"
            ),
            (
                3,
                54,
                "unknown-resource-type",
                "unknown resource type `aws.s3.buckett`"
            ),
        ]
    );
    assert_eq!(
        d.0[0].help.as_deref(),
        Some("did you mean `aws.rds.db_cluster`?")
    );
    let d = single(
        &over_instances_and_clusters("[aws.rds.db_cluster, aws.rds.db_cluster]"),
        "invalid-rule",
        3,
        32,
    );
    assert_eq!(
        d.message,
        "resource type `aws.rds.db_cluster` is listed twice"
    );
    let d = single(&over_instances_and_clusters("[]"), "empty-field", 3, 11);
    assert_eq!(d.message, "`resource` must name at least one resource type");
    let d = single(
        &over_instances_and_clusters("[aws.rds.db_cluster, {a: b}]"),
        "type-mismatch",
        3,
        32,
    );
    assert_eq!(
        d.message,
        "each item of `resource` must be a non-empty string, found a mapping"
    );
}

#[test]
fn a_rule_over_several_types_compiles_against_each() {
    // `instance_class` is an attribute of instances only: the diagnostic
    // names the type that lacks it, at the attribute.
    let text = good_with(
        "resource: aws.rds.db_instance",
        "resource: [aws.rds.db_instance, aws.rds.db_cluster]",
    )
    .replace(
        "cluster_id: { absent: true }",
        "instance_class: { absent: true }",
    );
    let d = single(&text, "unknown-attribute", 9, 3);
    assert_eq!(
        d.message,
        "aws.rds.db_cluster has no attribute `instance_class`"
    );
    // A mistake in both types' eyes is reported once.
    let d = single(
        &over_instances_and_clusters("[aws.rds.db_instance, aws.rds.db_cluster]")
            .replace("{ gte: $min_days }", "{ gtee: $min_days }"),
        "unknown-operator",
        11,
        28,
    );
    assert_eq!(d.message, "unknown operator `gtee`");
}

#[test]
fn invalid_severity_and_category() {
    let d = single(
        &good_with("severity: high", "severity: hihg"),
        "invalid-severity",
        4,
        11,
    );
    insta::assert_snapshot!("invalid_severity", d.to_string());
    let d = single(
        &good_with("category: retention", "category: retension"),
        "invalid-category",
        5,
        11,
    );
    insta::assert_snapshot!("invalid_category", d.to_string());
}

#[test]
fn field_names_must_be_strings() {
    let d = single(&format!("[a, b]: 1\n{GOOD}"), "unknown-field", 1, 1);
    assert_eq!(d.message, "expected a field name, found a list");
    let d = single(&format!("{GOOD}: x\n"), "unknown-field", 16, 1);
    assert_eq!(d.message, "expected a field name, found nothing (null)");
    let d = single(&format!("{GOOD}7: x\n"), "unknown-field", 16, 1);
    assert_eq!(d.message, "expected a field name, found an integer");
}

#[test]
fn id_differs_from_file_stem() {
    let d = load_err("rules/rds/other-name.yaml", GOOD);
    assert_eq!(codes(&d), vec!["id-mismatch"]);
    assert_eq!((d.0[0].line, d.0[0].col), (1, 5));
    insta::assert_snapshot!("id_mismatch", d.to_string());
}

#[test]
fn invalid_id() {
    let d = load_err(
        "rules/Rds_Test.yaml",
        &good_with("id: rds-test", "id: Rds_Test"),
    );
    assert_eq!(codes(&d), vec!["invalid-id"]);
    assert_eq!(
        d.0[0].message,
        "rule id `Rds_Test` must be lowercase letters, digits and dashes"
    );
}

#[test]
fn duplicate_id_across_files_names_the_first() {
    let mut set = RuleSet::default();
    set.add_source("rules/a/rds-test.yaml", GOOD).unwrap();
    let d = set
        .add_source("rules/b/rds-test.yaml", &format!("# copy\n{GOOD}"))
        .unwrap_err();
    assert_eq!(codes(&d), vec!["duplicate-id"]);
    assert_eq!(
        d.0[0].help.as_deref(),
        Some("first defined at rules/a/rds-test.yaml:1:5")
    );
    insta::assert_snapshot!("duplicate_id", d.to_string());
    // The first definition stays.
    assert_eq!(set.rules().len(), 1);
    assert_eq!(set.rules()[0].file, "rules/a/rds-test.yaml");
}

// ---------------------------------------------------------------------------
// Conditions

#[test]
fn unknown_attribute_with_did_you_mean() {
    let d = single(
        &good_with("backup_retention_days:", "backup_retention_day:"),
        "unknown-attribute",
        11,
        3,
    );
    insta::assert_snapshot!("unknown_attribute", d.to_string());
    // Without a close match, the help points at `backstop schema`.
    let d = single(&good_with("cluster_id:", "zzz:"), "unknown-attribute", 9, 3);
    assert_eq!(
        d.help.as_deref(),
        Some("`backstop schema aws.rds.db_instance` lists its attributes")
    );
    // An operator written where an attribute belongs.
    let d = single(
        &good_with("cluster_id: { absent: true }", "absent: true"),
        "unknown-attribute",
        9,
        3,
    );
    assert_eq!(
        d.help.as_deref(),
        Some("operators go inside an attribute: `attribute: { op: value }`")
    );
}

#[test]
fn unknown_operator_with_did_you_mean() {
    let d = single(
        &good_with("{ gte: $min_days }", "{ gtee: $min_days }"),
        "unknown-operator",
        11,
        28,
    );
    insta::assert_snapshot!("unknown_operator", d.to_string());
}

#[test]
fn unknown_param() {
    let d = single(
        &good_with("{ gte: $min_days }", "{ gte: $min_day }"),
        "unknown-param",
        11,
        33,
    );
    insta::assert_snapshot!("unknown_param", d.to_string());
    // No params at all: the help says where to declare one.
    let text = good_with("params:\n  min_days: 7\n", "");
    let d = load_err(FILE, &text);
    assert_eq!(codes(&d), vec!["unknown-param"]);
    assert_eq!(d.0[0].help.as_deref(), Some("declare it under `params:`"));
}

#[test]
fn unused_param() {
    let d = single(
        &good_with("  min_days: 7\n", "  min_days: 7\n  max_days: 35\n"),
        "unused-param",
        8,
        13,
    );
    insta::assert_snapshot!("unused_param", d.to_string());
}

#[test]
fn type_mismatches() {
    let d = single(&with_check("multi_az: {gte: 3}"), "type-mismatch", 12, 14);
    insta::assert_snapshot!("type_mismatch_bool_ordered", d.to_string());
    let d = single(
        &good_with("{ gte: $min_days }", "{ gte: $min_days, eq: \"seven\" }"),
        "type-mismatch",
        11,
        48,
    );
    insta::assert_snapshot!("type_mismatch_string_for_integer", d.to_string());
    // A param of the wrong type is reported where the param is written.
    let d = load_err(FILE, &good_with("min_days: 7", "min_days: seven"));
    assert_eq!(codes(&d), vec!["type-mismatch"]);
    assert_eq!((d.0[0].line, d.0[0].col), (7, 13));
    assert_eq!(
        d.0[0].message,
        "expected an integer, found a string (from `$min_days`)"
    );
}

#[test]
fn unknown_enum_value_suggests_the_right_case() {
    let text = good_with("aws.rds.db_instance", "aws.s3.bucket")
        .replace("when:\n  cluster_id: { absent: true }\n", "")
        .replace(
            "backup_retention_days: { gte: $min_days }",
            "versioning: {eq: enabled}",
        )
        .replace("params:\n  min_days: 7\n", "");
    let d = single(&text, "unknown-value", 7, 20);
    assert_eq!(d.help.as_deref(), Some("did you mean `Enabled`?"));
    insta::assert_snapshot!("unknown_value", d.to_string());
}

#[test]
fn invalid_regex_glob_and_duration() {
    let d = single(
        &with_check("engine: {matches: '(postgres'}"),
        "invalid-regex",
        12,
        21,
    );
    insta::assert_snapshot!("invalid_regex", d.to_string());
    let d = single(
        &with_check("id: {glob: [\"db-*\", \"db-[\"]}"),
        "invalid-glob",
        12,
        23,
    );
    insta::assert_snapshot!("invalid_glob", d.to_string());
    let d = single(
        &with_check("latest_restorable_time: {newer_than: 1.5h}"),
        "invalid-duration",
        12,
        40,
    );
    insta::assert_snapshot!("invalid_duration", d.to_string());
    // From a param: the position is the param's.
    let d = single(
        &good_with("min_days: 7", "min_days: 7\n  lag: 1 hour").replace(
            "{ gte: $min_days }",
            "{ gte: $min_days }\n  latest_restorable_time: {newer_than: $lag}",
        ),
        "invalid-duration",
        8,
        8,
    );
    assert!(d.message.ends_with("(from `$lag`)"), "{d}");
}

#[test]
fn param_override_of_the_wrong_type_points_at_the_override() {
    let mut set = RuleSet::default();
    set.add_source(FILE, GOOD).unwrap();
    let config = "# backstop.yaml\nrules:\n  rds-test:\n    params:\n      min_days: \"14\"\n";
    let root = yaml::parse(config).unwrap();
    let node = root.as_map().unwrap()[0].1.as_map().unwrap()[0]
        .1
        .as_map()
        .unwrap()[0]
        .1
        .as_map()
        .unwrap()[0]
        .1
        .clone();
    let mut settings = Settings::default();
    settings.params.insert(
        "rds-test".into(),
        BTreeMap::from([(
            "min_days".to_string(),
            ParamValue {
                node,
                file: "backstop.yaml".into(),
            },
        )]),
    );
    let d = set.compile(&settings).unwrap_err();
    assert_eq!(codes(&d), vec!["type-mismatch"]);
    assert_eq!(
        (d.0[0].file.as_str(), d.0[0].line, d.0[0].col),
        ("backstop.yaml", 5, 17)
    );
    insta::assert_snapshot!("param_override_wrong_type", d.to_string());
}

#[test]
fn several_mistakes_in_one_file_are_all_reported() {
    let text = GOOD
        .replace("severity: high", "severity: urgent")
        .replace("title:", "titel:")
        .replace("cluster_id:", "clusterid:")
        .replace("{ gte: $min_days }", "{ gte: $min_days, lt: forty }");
    let d = load_err(FILE, &text);
    insta::assert_snapshot!("several_mistakes", d.to_string());
    // Field errors stop before conditions are compiled; fixing them reveals the rest.
    // `titel` is taken for `title`, which is not reported missing as well.
    assert_eq!(codes(&d), vec!["unknown-field", "invalid-severity"]);
    let d = load_err(
        FILE,
        &text.replace("titel:", "title:").replace("urgent", "high"),
    );
    assert_eq!(codes(&d), vec!["unknown-attribute", "type-mismatch"]);
}

// ---------------------------------------------------------------------------
// Folders

#[test]
fn add_dir_reports_every_bad_file_and_keeps_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &[u8]| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("rds/rds-test.yaml", GOOD.as_bytes());
    write(
        "rds/typo.yaml",
        good_with("id: rds-test", "id: typo")
            .replace("multi_az", "x")
            .replace("backup_retention_days", "backup_retention")
            .as_bytes(),
    );
    write("s3/broken.yml", b"id: broken\ntitle: [unclosed\n");
    write("s3/empty.yaml", b"");
    write("z-extra/rds-test.yaml", GOOD.as_bytes());
    write("logs/latin1.yaml", b"id: caf\xe9\n");
    write("README.md", b"not a rule");
    write("notes.txt", b"{{{{");

    let mut set = RuleSet::default();
    let d = set.add_dir(dir.path()).unwrap_err();
    let root = format!("{}/", dir.path().display());
    let shown = d.to_string().replace(&root, "<dir>/");
    insta::assert_snapshot!("add_dir", shown);
    // One diagnostic per bad file at least, each bad file named.
    for file in [
        "rds/typo.yaml",
        "s3/broken.yml",
        "s3/empty.yaml",
        "z-extra/rds-test.yaml",
        "logs/latin1.yaml",
    ] {
        assert!(
            d.0.iter().any(|d| d.file.ends_with(file)),
            "{file} not reported:\n{shown}"
        );
    }
    assert!(
        !shown.contains("README") && !shown.contains("notes.txt"),
        "{shown}"
    );
    // The good rule was loaded.
    assert_eq!(
        set.rules()
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        vec!["rds-test"]
    );
}

#[test]
fn add_dir_on_a_missing_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = RuleSet::default()
        .add_dir(&dir.path().join("nope"))
        .unwrap_err();
    assert_eq!(codes(&d), vec!["io"]);
    assert!(
        d.0[0].message.starts_with("cannot read rule folder:"),
        "{d}"
    );
    // An empty folder loads nothing, successfully.
    assert_eq!(RuleSet::default().add_dir(dir.path()).unwrap(), 0);
}

// ---------------------------------------------------------------------------
// Malformed input never panics

fn malformed_inputs() -> Vec<(&'static str, String)> {
    let header = "id: rds-test\ntitle: T\nresource: aws.rds.db_instance\nseverity: high\ncategory: retention\n\
                  rationale: r\nremediation: fix {id}\n";
    let with_assert = |assert: &str| format!("{header}assert: {assert}\n");
    vec![
        ("empty file", String::new()),
        ("only a document marker", "---\n".into()),
        ("only a comment", "# nothing here\n".into()),
        ("a scalar", "hello".into()),
        ("a number", "42\n".into()),
        ("a list", "- id: rds-test\n- title: T\n".into()),
        ("unclosed flow mapping", "{id: rds-test, title: T\n".into()),
        (
            "deep nesting",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)),
        ),
        (
            "deep condition nesting",
            with_assert(&format!(
                "{}{{multi_az: {{eq: true}}}}{}",
                "{not: ".repeat(300),
                "}".repeat(300)
            )),
        ),
        (
            "tab indentation",
            format!("{header}assert:\n\tmulti_az: {{eq: true}}\n"),
        ),
        (
            "weird unicode id",
            format!(
                "{}assert: {{multi_az: {{eq: true}}}}\n",
                header.replace("id: rds-test", "id: \u{202e}tset-sdr\u{200b}")
            ),
        ),
        ("emoji attribute", with_assert("{🦀: {eq: true}}")),
        ("NUL byte", format!("{header}\0assert: x\n")),
        (
            "two documents",
            format!(
                "{}assert: {{multi_az: {{eq: true}}}}\n---\nid: other\n",
                header
            ),
        ),
        ("assert is a list", with_assert("[]")),
        ("assert is null", with_assert("~")),
        ("all is a mapping", with_assert("{all: {}}")),
        ("empty all", with_assert("{all: []}")),
        ("any of lists", with_assert("{any: [[]]}")),
        ("empty not", with_assert("{not: {}}")),
        (
            "operators as a list",
            with_assert("{backup_retention_days: [gte, 7]}"),
        ),
        (
            "operand is a mapping",
            with_assert("{backup_retention_days: {gte: {a: 1}}}"),
        ),
        ("complex key", with_assert("{? [a, b] : {eq: 1}}")),
        ("empty key", with_assert("{'': {eq: 1}}")),
        ("empty tag key", with_assert("{tags.: {eq: x}}")),
        ("bare dollar subject", with_assert("{$: {eq: 1}}")),
        (
            "bare dollar operand",
            with_assert("{backup_retention_days: {gte: $}}"),
        ),
        ("bare self operand", with_assert("{engine: {eq: $self.}}")),
        (
            "huge integer",
            with_assert("{backup_retention_days: {gte: 99999999999999999999}}"),
        ),
        (
            "huge duration",
            with_assert("{latest_restorable_time: {newer_than: 99999999999999999999w}}"),
        ),
        (
            "empty duration list",
            with_assert("{latest_restorable_time: {newer_than: []}}"),
        ),
        (
            "huge regex",
            with_assert("{engine: {matches: 'a{1000}{1000}{1000}'}}"),
        ),
        ("unknown anchor", with_assert("{multi_az: {eq: *nope}}")),
        ("self-referencing anchor", "a: &x [*x]\n".into()),
        (
            "params is a list",
            format!("{header}params: [1, 2]\nassert: {{multi_az: {{eq: true}}}}\n"),
        ),
        (
            "param is a mapping",
            format!("{header}params: {{p: {{a: 1}}}}\nassert: {{$p: {{eq: 1}}}}\n"),
        ),
        (
            "references is a mapping",
            format!("{header}references: {{a: b}}\nassert: {{multi_az: {{eq: true}}}}\n"),
        ),
        ("key is a list", "[a]: 1\n".into()),
        ("tagged scalar root", "!!binary aGVsbG8=\n".into()),
        ("only colons", ": :\n".into()),
        ("long line", format!("id: {}\n", "a".repeat(200_000))),
    ]
}

#[test]
fn malformed_files_fail_with_a_positioned_diagnostic_and_never_panic() {
    let mut summary = String::new();
    for (name, text) in malformed_inputs() {
        let result =
            std::panic::catch_unwind(|| RuleSet::default().add_source("fuzz/rds-test.yaml", &text));
        let d = match result {
            Err(_) => panic!("{name}: the loader panicked"),
            Ok(Ok(())) => panic!("{name}: loaded, expected an error"),
            Ok(Err(d)) => d,
        };
        assert!(!d.0.is_empty(), "{name}: an error without diagnostics");
        for diag in &d.0 {
            assert_eq!(diag.file, "fuzz/rds-test.yaml", "{name}");
            assert!(
                diag.line >= 1 && diag.col >= 1,
                "{name}: unpositioned {diag}"
            );
            assert!(!diag.message.is_empty(), "{name}");
        }
        let first = d.0[0].to_string();
        let first = first.lines().next().unwrap();
        let first: String = first.chars().take(160).collect();
        summary.push_str(&format!("{name}: {first}\n"));
    }
    insta::assert_snapshot!("malformed_inputs", summary);
}

// ---------------------------------------------------------------------------
// Nesting depth

/// `GOOD` whose `assert:` is `multi_az: { eq: true }` under `nots` `not:`s,
/// one mapping level each, in block style.
fn nested_nots(nots: usize) -> String {
    let mut assert = String::from("assert:\n");
    for level in 1..=nots {
        assert.push_str(&format!("{}not:\n", " ".repeat(level)));
    }
    assert.push_str(&format!(
        "{}multi_az: {{ eq: true }}\n",
        " ".repeat(nots + 1)
    ));
    good_with(
        "assert:\n  backup_retention_days: { gte: $min_days }\n",
        &assert,
    )
    .replace("params:\n  min_days: 7\n", "")
}

/// The deepest rule the parser accepts compiles, and evaluates within a
/// small stack; one level more is refused where it happens, with the limit.
#[test]
fn the_deepest_accepted_rule_compiles_and_evaluates() {
    // The file's mapping, `assert`'s, one per `not:`, and `{ eq: true }`.
    let deepest = yaml::MAX_DEPTH - 3;
    let text = nested_nots(deepest);
    let run = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let mut set = RuleSet::default();
            set.add_source(FILE, &text).unwrap();
            let engine = set.compile(&Settings::default()).unwrap();
            let inventory = backstop::model::Inventory::from_json(
                r#"{"schema": "backstop.inventory/v1", "resources": [
                    {"type": "aws.rds.db_instance", "id": "db", "attributes": {"multi_az": true, "cluster_id": null}}]}"#,
                "inv.json",
            )
            .unwrap();
            let report = engine.audit(&inventory, jiff::Timestamp::UNIX_EPOCH);
            report
                .results
                .iter()
                .map(|r| r.status.as_str().to_string())
                .collect::<Vec<_>>()
        })
        .unwrap();
    // An odd number of `not:`s turns the check round.
    let expected = if deepest.is_multiple_of(2) {
        "pass"
    } else {
        "fail"
    };
    assert_eq!(run.join().unwrap(), [expected]);

    // The 65th level is `{ eq: true }`, on the line after the last `not:`
    // (the rule's first 8 lines come before the first one).
    let nots = deepest + 1;
    let d = single(
        &nested_nots(nots),
        "yaml-syntax",
        8 + nots + 1,
        (nots + 1) + "multi_az: ".len() + 1,
    );
    assert_eq!(
        d.message,
        format!(
            "nesting deeper than {} levels of lists and mappings",
            yaml::MAX_DEPTH
        )
    );
}

/// Conditions built in code (not parsed from a file, so not capped by the
/// parser) are capped by the compiler, with a diagnostic, not a crash.
#[test]
fn conditions_built_in_code_are_capped_too() {
    use backstop::lang::yaml::{Mark, Node, NodeKind};
    use backstop::rules::condition::{Compiler, MAX_CONDITION_DEPTH};
    let scalar = |text: &str| Node {
        mark: Mark { line: 1, col: 1 },
        kind: NodeKind::Scalar {
            text: text.into(),
            plain: true,
        },
    };
    let mut node = Node {
        mark: Mark { line: 1, col: 1 },
        kind: NodeKind::Map(vec![(
            scalar("multi_az"),
            Node {
                mark: Mark { line: 1, col: 1 },
                kind: NodeKind::Map(vec![(scalar("eq"), scalar("true"))]),
            },
        )]),
    };
    for level in 0..10_000 {
        node = Node {
            mark: Mark {
                line: 10_000 - level,
                col: 1,
            },
            kind: NodeKind::Map(vec![(scalar("not"), node)]),
        };
    }
    let params = BTreeMap::new();
    let kind = backstop::model::schema::resource_type("aws.rds.db_instance").unwrap();
    let mut compiler = Compiler::new("code", kind, &params);
    assert!(compiler.condition(&node).is_none());
    let [d] = &compiler.diagnostics[..] else {
        panic!("{:#?}", compiler.diagnostics)
    };
    assert_eq!(d.code, "invalid-condition");
    assert_eq!(
        d.message,
        format!("conditions nested deeper than {MAX_CONDITION_DEPTH} levels")
    );
    assert_eq!(d.line, MAX_CONDITION_DEPTH + 1);
    // Dropping a tree this deep is the caller's business; unwind it here
    // without recursion.
    let mut pending = vec![node];
    while let Some(mut n) = pending.pop() {
        if let NodeKind::Map(entries) = &mut n.kind {
            pending.extend(entries.drain(..).map(|(_, v)| v));
        }
    }
}

/// The rule files of a folder are regular files: a FIFO or a link to a
/// device named `*.yaml` is reported, never read (which would hang or
/// never end), and a folder linked into itself is not followed for ever.
#[cfg(unix)]
#[test]
fn add_dir_reads_regular_files_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rds-test.yaml"), GOOD).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("fifo.yaml"))
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yaml")).unwrap();
    std::fs::create_dir(dir.path().join("z-linked")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("rds-test.yaml"),
        dir.path().join("z-linked/rds-test.yml"),
    )
    .unwrap();
    let path = dir.path().to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut set = RuleSet::default();
        let d = set.add_dir(&path).unwrap_err();
        tx.send((d, set.rules().len())).unwrap();
    });
    let (d, loaded) = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("add_dir must not block on a FIFO");
    let root = format!("{}/", dir.path().display());
    let shown = d.to_string().replace(&root, "<dir>/");
    assert_eq!(
        shown,
        "<dir>/fifo.yaml:0:0: error[io]: cannot read rule file: it is a FIFO (named pipe), not a regular file; only regular files are read\n\
         <dir>/z-linked/rds-test.yml:1:5: error[duplicate-id]: rule id `rds-test` is already defined\n  \
         help: first defined at <dir>/rds-test.yaml:1:5\n\
         <dir>/zero.yaml:0:0: error[io]: cannot read rule file: it is a device, not a regular file; only regular files are read"
    );
    // The regular file was loaded, and the link to it read (a duplicate).
    assert_eq!(loaded, 1);

    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("again")).unwrap();
    let d = RuleSet::default().add_dir(dir.path()).unwrap_err();
    assert_eq!(codes(&d), ["io"]);
    assert!(d.0[0].message.contains("nested deeper than"), "{d}");
}
