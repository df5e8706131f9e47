//! `backstop audit` end to end: the real binary against the moto emulator
//! (tests/support/moto.rs), directly and through a fault-injecting proxy
//! (tests/support/proxy.rs).
//!
//! Each test starts its own moto, seeds it through the AWS SDK, and runs
//! the binary with a clean environment: the emulator's endpoint and fake
//! credentials, `HOME` in a temporary folder and no profile, so no local
//! AWS configuration leaks in. Two regions are audited throughout:
//! us-east-1 and eu-west-1.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Output;

use aws_sdk_s3::types::ReplicationRuleStatus;
use backstop::collect::Credentials;
use jiff::Timestamp;
use serde_json::Value as Json;
use support::moto::{ACCOUNT, Moto, test_credentials};
use support::proxy::{Fault, FaultRule, Logged, Proxy, Trigger};
use support::seed::{EventSelection, Seed, sns_topic};
use support::stub::Stub;

const USE1: &str = "us-east-1";
const EUW1: &str = "eu-west-1";
const REGIONS: &str = "us-east-1,eu-west-1";

/// The services a full audit with the built-in rules calls.
const AUDITED_SERVICES: [&str; 8] = [
    "backup",
    "ecr",
    "kms",
    "logs",
    "rds",
    "s3",
    "secretsmanager",
    "sts",
];

// ---------------------------------------------------------------------------
// Reaching the emulator

/// Where the binary reaches moto. moto 5.1.22 does not implement CloudWatch
/// Logs `DescribeAccountPolicies` (HTTP 500 `NotImplementedError`), which
/// logs-centralized needs; a loopback stand-in answers it as AWS does for an
/// account without account-level policies (an empty list) and forwards
/// every other request unchanged (the signature stays valid). The policies
/// themselves are tested on canned answers in tests/live_collect.rs.
///
/// moto does not implement RDS `DescribeSourceRegions` either (the regions
/// where snapshot copies are looked for by default): the stand-in answers
/// it with [`SOURCE_REGIONS`], in AWS's wire format.
fn endpoint(moto: &Moto) -> String {
    Stub::start(Some(moto.endpoint()), |request| {
        if request.target.as_deref() == Some("Logs_20140328.DescribeAccountPolicies") {
            return Some((200, r#"{"accountPolicies":[]}"#.to_string()));
        }
        request
            .body
            .starts_with("Action=DescribeSourceRegions")
            .then(|| (200, source_regions_answer()))
    })
    .endpoint
}

/// The regions RDS can copy snapshots between, as the stand-in answers
/// DescribeSourceRegions: the audited two and us-west-2, which no test
/// audits.
const SOURCE_REGIONS: &[&str] = &[USE1, EUW1, USW2];
const USW2: &str = "us-west-2";

fn source_regions_answer() -> String {
    let regions: String = SOURCE_REGIONS
        .iter()
        .map(|r| {
            format!(
                "<SourceRegion><RegionName>{r}</RegionName>\
                 <Endpoint>https://rds.{r}.amazonaws.com</Endpoint>\
                 <Status>available</Status></SourceRegion>"
            )
        })
        .collect();
    format!(
        "<DescribeSourceRegionsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\
         <DescribeSourceRegionsResult><SourceRegions>{regions}</SourceRegions>\
         </DescribeSourceRegionsResult><ResponseMetadata><RequestId>0</RequestId>\
         </ResponseMetadata></DescribeSourceRegionsResponse>"
    )
}

// ---------------------------------------------------------------------------
// Running the binary

/// A temporary folder that is the binary's HOME and working directory, and
/// holds its input and output files.
struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("create a temporary folder"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    fn json(&self, name: &str) -> Json {
        serde_json::from_str(&self.read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Runs `backstop ARGS` against `endpoint` as `credentials`, with
    /// nothing of the caller's environment but `extra`.
    fn backstop(
        &self,
        endpoint: &str,
        credentials: &Credentials,
        args: &[&str],
        extra: &[(&str, &str)],
    ) -> Output {
        support::isolated_backstop(self.dir.path(), endpoint, credentials)
            .args(args)
            .envs(extra.iter().copied())
            .output()
            .expect("run backstop")
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "backstop exited {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

/// A multi-thread runtime for seeding through the SDK (the tests
/// themselves are synchronous: they run the binary).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

// ---------------------------------------------------------------------------
// Reading reports

/// `(rule, resource type, region, resource id)`.
type Key = (String, String, String, String);

/// One result of a JSON report: status and message (up to any request id).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    status: String,
    message: String,
    severity: String,
}

fn text(v: &Json) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, found {v}"))
        .to_string()
}

/// The report's results by rule and resource (each key once).
fn verdicts(report: &Json) -> BTreeMap<Key, Verdict> {
    assert_eq!(report["schema"], "backstop.report/v1");
    let mut out = BTreeMap::new();
    for r in report["results"].as_array().expect("results") {
        let res = &r["resource"];
        let key = (
            text(&r["rule"]),
            text(&res["type"]),
            text(&res["region"]),
            text(&res["id"]),
        );
        let mut message = text(&r["message"]);
        // The emulator's error pages carry a random request id.
        if let Some(at) = message.find("<RequestId>") {
            message.truncate(at);
        }
        let verdict = Verdict {
            status: text(&r["status"]),
            message,
            severity: text(&r["severity"]),
        };
        assert!(
            out.insert(key.clone(), verdict).is_none(),
            "{key:?} twice in the report"
        );
    }
    out
}

fn verdict<'a>(all: &'a BTreeMap<Key, Verdict>, rule: &str, region: &str, id: &str) -> &'a Verdict {
    all.iter()
        .find(|((r, _, reg, i), _)| r == rule && reg == region && i == id)
        .map(|(_, v)| v)
        .unwrap_or_else(|| {
            let have: Vec<_> = all
                .keys()
                .filter(|(r, ..)| r == rule)
                .map(|(_, _, reg, i)| format!("{reg}/{i}"))
                .collect();
            panic!("no {rule} result for {id} in {region}; {rule} has {have:?}")
        })
}

fn assert_status(all: &BTreeMap<Key, Verdict>, rule: &str, region: &str, id: &str, status: &str) {
    let v = verdict(all, rule, region, id);
    assert_eq!(v.status, status, "{rule} on {id} in {region}: {v:?}");
}

/// The results of one rule.
fn of_rule<'a>(all: &'a BTreeMap<Key, Verdict>, rule: &str) -> Vec<(&'a Key, &'a Verdict)> {
    all.iter().filter(|((r, ..), _)| r == rule).collect()
}

fn count(all: &BTreeMap<Key, Verdict>, status: &str) -> usize {
    all.values().filter(|v| v.status == status).count()
}

// ---------------------------------------------------------------------------
// Seeding

/// The mixed account most tests audit:
///
/// | resource | region | state |
/// |---|---|---|
/// | orders-db | us-east-1 | compliant; snapshot copied to eu-west-1 |
/// | scratch-db | us-east-1 | no backups, unencrypted, no copy |
/// | eu-db | eu-west-1 | 1 day of backups, no deletion protection |
/// | acme-backups-use1 | us-east-1 | versioned, 30-day expiry, encrypted, blocked, replicated to eu-west-1, exports/ |
/// | acme-backups-euw1 | eu-west-1 | versioned, no lifecycle, no replication |
/// | legacy-backups-euw1 | eu-west-1 | unversioned, no lifecycle |
/// | acme-assets-use1 | us-east-1 | not a backup bucket; unencrypted, not blocked |
/// | prod/api | us-east-1 | immutable, lifecycle policy |
/// | dev/tool | us-east-1 | mutable, no lifecycle policy |
/// | eu/app | eu-west-1 | mutable, no lifecycle policy |
/// | /app/api | us-east-1 | 30-day retention |
/// | /app/forever | us-east-1 | never expires |
/// | /eu/short | eu-west-1 | 7-day retention |
async fn seed_mixed_account(moto: &Moto) {
    let east = Seed::new(moto, USE1).await;
    let west = Seed::new(moto, EUW1).await;
    let (east_key, west_key) = (east.key().await, west.key().await);

    east.compliant_instance("orders-db", &east_key, &west, &west_key)
        .await;
    east.instance("scratch-db")
        .backup_retention_period(0)
        .publicly_accessible(true)
        .send()
        .await
        .unwrap();
    west.instance("eu-db")
        .backup_retention_period(1)
        .send()
        .await
        .unwrap();

    east.bucket("acme-backups-use1").await;
    west.bucket("acme-backups-euw1").await;
    west.bucket("legacy-backups-euw1").await;
    east.bucket("acme-assets-use1").await;
    east.versioned("acme-backups-use1").await;
    west.versioned("acme-backups-euw1").await;
    east.expires_after_30_days("acme-backups-use1").await;
    east.encrypted("acme-backups-use1", None).await;
    west.encrypted("acme-backups-euw1", None).await;
    east.public_access_block("acme-backups-use1", true).await;
    east.replicates(
        "acme-backups-use1",
        &[("dr", ReplicationRuleStatus::Enabled, "acme-backups-euw1")],
    )
    .await;
    east.put_object(
        "acme-backups-use1",
        "exports/orders.csv",
        b"id,total\n1,2\n",
    )
    .await;

    east.repository("prod/api", true).await;
    east.repository("dev/tool", false).await;
    west.repository("eu/app", false).await;

    east.log_group("/app/api", Some(30)).await;
    east.log_group("/app/forever", None).await;
    west.log_group("/eu/short", Some(7)).await;
}

/// The configuration of the mixed account: one export location.
const MIXED_CONFIG: &str =
    "export_locations:\n  - bucket: acme-backups-use1\n    prefix: exports/\n";

/// Starts moto, seeds the mixed account, and writes its configuration.
fn mixed_account() -> (Moto, Workdir, Timestamp) {
    let moto = Moto::start();
    block_on(seed_mixed_account(&moto));
    let work = Workdir::new();
    std::fs::write(work.path("backstop.yaml"), MIXED_CONFIG).unwrap();
    // The audit clock of the tests: after every seeded object and
    // snapshot, and within the hour of moto's LatestRestorableTime ("now").
    (moto, work, Timestamp::now())
}

// ---------------------------------------------------------------------------
// Tests

/// Two reports judge every rule and resource the same way (status and
/// message); the differences are listed otherwise.
fn assert_same_verdicts(
    expected: &BTreeMap<Key, Verdict>,
    actual: &BTreeMap<Key, Verdict>,
    what: &str,
) {
    let mut differences = Vec::new();
    for key in expected
        .keys()
        .chain(actual.keys())
        .collect::<BTreeSet<_>>()
    {
        let (e, a) = (expected.get(key), actual.get(key));
        if e != a {
            differences.push(format!("{key:?}:\n  expected {e:?}\n  actual   {a:?}"));
        }
    }
    assert!(
        differences.is_empty(),
        "{what}: {} results differ:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

fn attr<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name)
        .unwrap_or_else(|| panic!("<{}> has no {name}", node.tag_name().name()))
}

fn attr_count(node: roxmltree::Node<'_, '_>, name: &str) -> usize {
    attr(node, name)
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The whole audit through the binary: collection in two regions, the
/// verdicts on named resources, the exit status and the three report files;
/// then `collect` + `audit --inventory` gives exactly the same results.
#[test]
fn audits_a_seeded_account_end_to_end() {
    let (moto, work, _) = mixed_account();
    let creds = test_credentials();
    let config = work.arg("backstop.yaml");

    // The saved inventory first: its collection time is the clock of both
    // audits.
    let out = work.backstop(
        &endpoint(&moto),
        &creds,
        &[
            "collect",
            "--regions",
            REGIONS,
            "--config",
            &config,
            "--output",
            &work.arg("inventory.json"),
        ],
        &[],
    );
    assert_exit(&out, 0);
    let inventory = work.json("inventory.json");
    let now = text(&inventory["collected_at"]);
    assert!(
        inventory["errors"].as_array().unwrap().is_empty(),
        "{}",
        inventory["errors"]
    );

    let out = work.backstop(
        &endpoint(&moto),
        &creds,
        &[
            "audit",
            "--regions",
            REGIONS,
            "--config",
            &config,
            "--now",
            &now,
            "--junit",
            &work.arg("report.xml"),
            "--json",
            &work.arg("report.json"),
            "--markdown",
            &work.arg("report.md"),
        ],
        &[],
    );
    // High-severity failures fail the gate at the default threshold.
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("gate failed"), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("legacy-backups-euw1"), "{table}");

    // --- JSON
    let report = work.json("report.json");
    assert_eq!(report["source"]["kind"], "live");
    assert_eq!(report["source"]["account"], ACCOUNT);
    assert_eq!(report["source"]["regions"], serde_json::json!([USE1, EUW1]));
    assert_eq!(text(&report["generated_at"]), now);
    assert_eq!(report["collection_errors"], serde_json::json!([]));
    let all = verdicts(&report);
    for (key, v) in &all {
        assert!([USE1, EUW1].contains(&key.2.as_str()), "{key:?}");
        assert!(
            ["pass", "fail"].contains(&v.status.as_str()),
            "{key:?}: {v:?}"
        );
    }
    for status in ["pass", "fail", "error", "waived"] {
        assert_eq!(
            report["summary"][status],
            count(&all, status),
            "summary.{status}"
        );
    }
    let by_category: usize = report["summary"]["by_category"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| {
            ["pass", "fail", "error", "waived"]
                .iter()
                .map(|s| c[s].as_u64().unwrap() as usize)
                .sum::<usize>()
        })
        .sum();
    assert_eq!(by_category, all.len());

    // S3: only backup buckets are judged on versioning and lifecycle.
    let judged: BTreeSet<_> = of_rule(&all, "s3-versioning")
        .into_iter()
        .map(|(k, _)| k.3.as_str())
        .collect();
    assert_eq!(
        judged,
        BTreeSet::from([
            "acme-backups-euw1",
            "acme-backups-use1",
            "legacy-backups-euw1"
        ])
    );
    assert_status(&all, "s3-versioning", USE1, "acme-backups-use1", "pass");
    assert_status(&all, "s3-versioning", EUW1, "acme-backups-euw1", "pass");
    let unversioned = verdict(&all, "s3-versioning", EUW1, "legacy-backups-euw1");
    assert_eq!(unversioned.status, "fail");
    assert_eq!(
        unversioned.message,
        r#"versioning is "Disabled", expected "Enabled""#
    );
    assert_status(
        &all,
        "s3-lifecycle-expiration",
        USE1,
        "acme-backups-use1",
        "pass",
    );
    assert_status(
        &all,
        "s3-lifecycle-expiration",
        EUW1,
        "acme-backups-euw1",
        "fail",
    );
    assert_status(
        &all,
        "s3-lifecycle-expiration",
        EUW1,
        "legacy-backups-euw1",
        "fail",
    );
    assert_status(
        &all,
        "s3-cross-region-replication",
        USE1,
        "acme-backups-use1",
        "pass",
    );
    assert_status(
        &all,
        "s3-cross-region-replication",
        EUW1,
        "acme-backups-euw1",
        "fail",
    );
    assert_status(
        &all,
        "s3-default-encryption",
        USE1,
        "acme-assets-use1",
        "fail",
    );
    assert_status(
        &all,
        "s3-default-encryption",
        USE1,
        "acme-backups-use1",
        "pass",
    );
    assert_status(
        &all,
        "s3-public-access-blocked",
        USE1,
        "acme-assets-use1",
        "fail",
    );
    assert_status(
        &all,
        "s3-public-access-blocked",
        USE1,
        "acme-backups-use1",
        "pass",
    );
    assert_status(
        &all,
        "s3-exports-fresh",
        USE1,
        "acme-backups-use1/exports/",
        "pass",
    );

    // RDS
    for rule in [
        "rds-backup-retention",
        "rds-deletion-protection",
        "rds-multi-az",
        "rds-storage-encrypted",
        "rds-pitr-fresh",
        "rds-cross-region-backups",
    ] {
        assert_status(&all, rule, USE1, "orders-db", "pass");
        assert_status(&all, rule, USE1, "scratch-db", "fail");
    }
    let eu_db = verdict(&all, "rds-backup-retention", EUW1, "eu-db");
    assert_eq!(eu_db.status, "fail");
    assert_eq!(eu_db.message, "backup_retention_days is 1, expected >= 7");
    assert_status(&all, "rds-deletion-protection", EUW1, "eu-db", "fail");
    assert_status(
        &all,
        "rds-snapshot-encrypted",
        USE1,
        "orders-db-daily",
        "pass",
    );
    assert_status(
        &all,
        "rds-snapshot-encrypted",
        EUW1,
        "orders-db-daily-copy",
        "pass",
    );
    assert_status(
        &all,
        "rds-snapshot-not-public",
        EUW1,
        "orders-db-daily-copy",
        "pass",
    );

    // ECR
    assert_status(&all, "ecr-lifecycle-policy", USE1, "prod/api", "pass");
    assert_status(&all, "ecr-lifecycle-policy", USE1, "dev/tool", "fail");
    let eu_app = verdict(&all, "ecr-lifecycle-policy", EUW1, "eu/app");
    assert_eq!(eu_app.status, "fail");
    assert_eq!(eu_app.message, "lifecycle_policy is false, expected true");
    assert_eq!(eu_app.severity, "medium");
    assert_status(&all, "ecr-tag-immutability", USE1, "prod/api", "pass");
    assert_status(&all, "ecr-tag-immutability", EUW1, "eu/app", "fail");

    // Logs
    assert_status(&all, "logs-retention", USE1, "/app/api", "pass");
    let forever = verdict(&all, "logs-retention", USE1, "/app/forever");
    assert_eq!(forever.status, "fail");
    assert_eq!(
        forever.message,
        "retention_days is absent (events never expire), expected present"
    );
    let short = verdict(&all, "logs-retention", EUW1, "/eu/short");
    assert_eq!(short.status, "fail");
    assert_eq!(short.message, "retention_days is 7, expected >= 30");

    // --- JUnit: counts on <testsuites> and on each <testsuite>, one suite
    // per rule and one case per result.
    let xml = work.read("report.xml");
    let doc = roxmltree::Document::parse(&xml).expect("JUnit is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(attr_count(root, "tests"), all.len());
    assert_eq!(attr_count(root, "failures"), count(&all, "fail"));
    assert_eq!(attr_count(root, "errors"), 0);
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let rules: BTreeSet<_> = all.keys().map(|k| k.0.as_str()).collect();
    assert_eq!(
        suites
            .iter()
            .map(|s| attr(*s, "name"))
            .collect::<BTreeSet<_>>(),
        rules
    );
    for suite in &suites {
        let rule = attr(*suite, "name");
        let results = of_rule(&all, rule);
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), results.len(), "{rule}");
        assert_eq!(attr_count(*suite, "tests"), results.len(), "{rule}");
        let failing = results.iter().filter(|(_, v)| v.status == "fail").count();
        assert_eq!(attr_count(*suite, "failures"), failing, "{rule}");
        assert_eq!(
            cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
                .count(),
            failing,
            "{rule}"
        );
    }
    let case = |rule: &str, name: &str| {
        doc.descendants()
            .find(|n| {
                n.has_tag_name("testcase")
                    && n.attribute("classname") == Some(rule)
                    && n.attribute("name") == Some(name)
            })
            .unwrap_or_else(|| panic!("no testcase {rule} {name}"))
    };
    let failure = case(
        "logs-retention",
        &format!("arn:aws:logs:{USE1}:{ACCOUNT}:log-group:/app/forever"),
    )
    .children()
    .find(|n| n.has_tag_name("failure"))
    .expect("a <failure>");
    assert_eq!(failure.attribute("type"), Some("low"));
    assert_eq!(
        failure.attribute("message"),
        Some("retention_days is absent (events never expire), expected present")
    );
    let pass = case("s3-versioning", "arn:aws:s3:::acme-backups-use1");
    assert!(
        pass.children().all(|n| !n.is_element()),
        "a pass has no children"
    );

    // --- Markdown: the headline counts, and a checkbox per result.
    let markdown = work.read("report.md");
    assert!(
        markdown.starts_with(&format!(
            "**backstop: {} failing, 0 errors, {} passing**",
            count(&all, "fail"),
            count(&all, "pass")
        )),
        "{markdown}"
    );
    let failing = |rule: &str, id: &str| {
        markdown.lines().any(|l| {
            l.starts_with("- [ ]")
                && l.contains(&format!("`{rule}`"))
                && l.contains(&format!("`{id}`"))
        })
    };
    assert!(
        failing("s3-versioning", "legacy-backups-euw1"),
        "{markdown}"
    );
    assert!(failing("ecr-lifecycle-policy", "dev/tool"), "{markdown}");
    // Passes are counted per rule in a folded table: `| rule | title | n |`.
    let passing: BTreeMap<&str, usize> = markdown
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            let rule = cells
                .first()?
                .trim_start_matches("| `")
                .trim_end_matches('`');
            let n = cells.last()?.trim_end_matches(" |").parse().ok()?;
            Some((rule, n))
        })
        .collect();
    assert!(passing.contains_key("s3-versioning"), "{markdown}");
    assert!(passing.contains_key("rds-pitr-fresh"), "{markdown}");
    let checkboxes = markdown
        .lines()
        .filter(|l| l.starts_with("- [ ]") || l.starts_with("- [x]"))
        .count();
    let passes = all.values().filter(|v| v.status == "pass").count();
    assert_eq!(
        checkboxes,
        all.len() - passes,
        "one line per result needing action"
    );
    assert_eq!(
        passing.values().sum::<usize>(),
        passes,
        "every pass counted"
    );

    // --- The saved inventory, audited offline at the same clock, gives
    // exactly the live audit's results.
    let out = work.backstop(
        &endpoint(&moto),
        &creds,
        &[
            "audit",
            "--inventory",
            &work.arg("inventory.json"),
            "--config",
            &config,
            "--now",
            &now,
            "--json",
            &work.arg("offline.json"),
        ],
        &[],
    );
    assert_exit(&out, 1);
    let offline = work.json("offline.json");
    assert_eq!(offline["source"]["account"], ACCOUNT);
    assert_same_verdicts(
        &all,
        &verdicts(&offline),
        "live audit vs. collect + audit --inventory",
    );
    assert_eq!(offline["summary"], report["summary"]);
}

/// An account where nothing outside ECR fails at medium or above: a
/// compliant instance (with its cross-region copy), an encrypted and
/// blocked non-backup bucket, log groups (their rules are low), and one
/// ECR repository per region.
async fn seed_denial_account(moto: &Moto) {
    let east = Seed::new(moto, USE1).await;
    let west = Seed::new(moto, EUW1).await;
    let (east_key, west_key) = (east.key().await, west.key().await);
    east.compliant_instance("orders-db", &east_key, &west, &west_key)
        .await;
    // Its backup events reach a confirmed subscriber (rds-backup-alerts).
    let alerts = sns_topic(moto, USE1, "db-alerts", Some("dba@example.com")).await;
    let backups = EventSelection {
        source_type: Some("db-instance"),
        source_ids: &["orders-db"],
        categories: &["backup"],
        enabled: true,
    };
    east.event_subscription("orders-backups", &alerts, backups)
        .await;
    east.bucket("acme-assets-use1").await;
    east.encrypted("acme-assets-use1", None).await;
    east.public_access_block("acme-assets-use1", true).await;
    east.log_group("/app/api", Some(30)).await;
    east.log_group("/app/forever", None).await;
    west.log_group("/eu/archive", Some(365)).await;
    east.repository("prod/api", true).await;
    west.repository("eu/app", true).await;
}

/// An auditor whose policy denies all of ECR: every ECR rule reports
/// `error` (never pass) in each region, the other services get complete
/// pass/fail verdicts, the report names the failed calls, and the gate
/// counts the errors at their rule's severity (medium) unless
/// `--allow-errors`.
#[test]
fn denied_ecr_reads_are_errors_at_their_rules_severity() {
    let moto = Moto::start();
    block_on(seed_denial_account(&moto));
    let auditor = moto.iam_user(
        "auditor",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","Action":"ecr:*","Resource":"*"}]}"#,
    );
    moto.enforce_iam();
    let work = Workdir::new();
    let now = Timestamp::now().to_string();
    // Once IAM is enforced moto refuses AWS Backup's REST requests (see
    // `without_aws_backup`): the AWS Backup rules are left out.
    let config = work.arg("backstop.yaml");
    let backup_rules: Vec<String> = backstop::rules::RuleSet::builtin()
        .unwrap()
        .rules()
        .iter()
        .filter(|r| {
            r.resource_types
                .iter()
                .any(|t| t.name.starts_with("aws.backup."))
        })
        .map(|r| r.id.clone())
        .collect();
    std::fs::write(&config, format!("disable: [{}]\n", backup_rules.join(", "))).unwrap();
    let audit = |name: &str, extra: &[&str]| {
        let json = work.arg(name);
        let mut args = vec![
            "audit",
            "--regions",
            REGIONS,
            "--now",
            &now,
            "--json",
            &json,
            "--config",
            &config,
        ];
        args.extend_from_slice(extra);
        work.backstop(&endpoint(&moto), &auditor, &args, &[])
    };

    let pack = backstop::rules::RuleSet::builtin().unwrap();
    let ecr_rule_ids: BTreeSet<&str> = pack
        .rules()
        .iter()
        .filter(|r| r.applies_to("aws.ecr.repository"))
        .map(|r| r.id.as_str())
        .collect();
    // One error per ECR rule in each of the two regions.
    let ecr_errors = 2 * ecr_rule_ids.len();

    let out = audit("medium.json", &["--fail-on", "medium"]);
    assert_exit(&out, 1);
    // Exactly the ECR errors fail the gate.
    assert!(
        stderr(&out).contains(&format!(
            "gate failed: {ecr_errors} results at or above `medium`"
        )),
        "{}",
        stderr(&out)
    );
    let report = work.json("medium.json");
    let all = verdicts(&report);

    let ecr: Vec<_> = all
        .iter()
        .filter(|(k, _)| k.1 == "aws.ecr.repository")
        .collect();
    let ecr_rules: BTreeSet<_> = ecr.iter().map(|(k, _)| k.0.as_str()).collect();
    assert_eq!(ecr_rules, ecr_rule_ids);
    for ((rule, _, region, id), v) in &ecr {
        assert_eq!(v.status, "error", "{rule} {region} {id}: {v:?}");
        assert_eq!(id, "*", "a failed listing stands for the whole region");
        assert_eq!(v.severity, "medium");
        assert!(
            v.message.contains("ecr DescribeRepositories failed in")
                && v.message.contains(region.as_str())
                && v.message
                    .contains("not authorized to perform: ecr:DescribeRepositories"),
            "{rule}: {}",
            v.message
        );
    }
    assert_eq!(
        ecr.len(),
        ecr_errors,
        "one error per ECR rule and region: {ecr:#?}"
    );

    // Everything else is judged completely.
    let others: Vec<_> = all
        .iter()
        .filter(|(k, _)| k.1 != "aws.ecr.repository")
        .collect();
    for ((rule, _, region, id), v) in &others {
        assert!(
            ["pass", "fail"].contains(&v.status.as_str()),
            "{rule} {region} {id}: {v:?}"
        );
    }
    for rule in [
        "rds-backup-retention",
        "rds-cross-region-backups",
        "rds-pitr-fresh",
        "rds-multi-az",
    ] {
        assert_status(&all, rule, USE1, "orders-db", "pass");
    }
    assert_status(
        &all,
        "rds-snapshot-encrypted",
        EUW1,
        "orders-db-daily-copy",
        "pass",
    );
    assert_status(
        &all,
        "s3-public-access-blocked",
        USE1,
        "acme-assets-use1",
        "pass",
    );
    assert_status(
        &all,
        "s3-default-encryption",
        USE1,
        "acme-assets-use1",
        "pass",
    );
    assert_status(&all, "logs-retention", USE1, "/app/api", "pass");
    assert_status(&all, "logs-retention", USE1, "/app/forever", "fail");
    assert_status(&all, "logs-retention", EUW1, "/eu/archive", "pass");
    assert_eq!(report["summary"]["error"], ecr_errors);

    // The failed calls, by service, operation, region and code. (AWS says
    // AccessDeniedException; the emulator's IAM layer answers ECR's JSON
    // protocol in XML, so only the HTTP status is known.)
    let mut failed: Vec<_> = report["collection_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                text(&e["service"]),
                text(&e["operation"]),
                text(&e["region"]),
                text(&e["code"]),
            )
        })
        .collect();
    failed.sort();
    let expected: Vec<_> = ["DescribeRegistry", "DescribeRepositories"]
        .iter()
        .flat_map(|op| {
            [EUW1, USE1].map(|r| {
                (
                    "ecr".to_string(),
                    op.to_string(),
                    r.to_string(),
                    "HTTP403".to_string(),
                )
            })
        })
        .collect();
    assert_eq!(failed, expected);

    // The errors are why the gate fails: allowed, it passes ...
    let out = audit("allowed.json", &["--fail-on", "medium", "--allow-errors"]);
    assert_exit(&out, 0);
    assert_same_verdicts(
        &all,
        &verdicts(&work.json("allowed.json")),
        "--allow-errors",
    );
    // ... and at the default threshold (high) medium errors are reported
    // but do not fail it.
    let out = audit("default.json", &[]);
    assert_exit(&out, 0);
    let default = verdicts(&work.json("default.json"));
    assert_same_verdicts(&all, &default, "default --fail-on");
    assert_eq!(count(&default, "error"), 6);

    // Credentials of no IAM user: nothing can be audited (exit 3), and no
    // report claims otherwise.
    let out = work.backstop(
        &endpoint(&moto),
        &test_credentials(),
        &[
            "audit",
            "--regions",
            REGIONS,
            "--json",
            &work.arg("rejected.json"),
        ],
        &[],
    );
    assert_exit(&out, 3);
    assert!(
        stderr(&out).contains("AWS rejected the credentials"),
        "{}",
        stderr(&out)
    );
    assert!(!work.path("rejected.json").exists());
}

/// Runs the mixed account's audit against `endpoint` and returns the
/// exit status and the JSON report's verdicts.
fn audit_mixed(
    work: &Workdir,
    endpoint: &str,
    now: Timestamp,
    name: &str,
    env: &[(&str, &str)],
) -> (Option<i32>, Json) {
    let json = work.arg(name);
    let config = work.arg("backstop.yaml");
    let now = now.to_string();
    let out = work.backstop(
        endpoint,
        &test_credentials(),
        &[
            "audit",
            "--regions",
            REGIONS,
            "--config",
            &config,
            "--now",
            &now,
            "--json",
            &json,
        ],
        env,
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{name}: backstop exited {:?}\n{}",
        out.status,
        stderr(&out)
    );
    (out.status.code(), work.json(name))
}

/// Every faulted call was retried and a later attempt of it was answered
/// by the emulator.
fn assert_all_recovered(log: &[Logged]) {
    let answered: BTreeSet<&str> = log
        .iter()
        .filter(|l| l.upstream_status.is_some())
        .map(|l| l.invocation.as_str())
        .collect();
    for l in log.iter().filter(|l| l.fault.is_some()) {
        assert!(!l.invocation.is_empty(), "{l:?}");
        assert!(
            answered.contains(l.invocation.as_str()),
            "{} {} in {} never got through after {:?}",
            l.service,
            l.operation,
            l.region,
            l.fault
        );
    }
}

fn faults_by_kind(log: &[Logged]) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for l in log {
        if let Some(f) = l.fault {
            *kinds.entry(format!("{f:?}")).or_default() += 1;
        }
    }
    kinds
}

/// The first three calls of every operation fail once each: one throttled,
/// one answered 500, one dropped.
fn first_calls_faulted() -> Vec<FaultRule> {
    vec![FaultRule::new(
        None,
        Trigger::FirstAttemptOfFirstCalls(3),
        &[Fault::Throttle, Fault::ServerError, Fault::Drop],
    )]
}

/// Transient faults (throttling in each protocol's shape, HTTP 500,
/// dropped connections) are retried by the SDK: the audit reaches exactly
/// the verdicts of an undisturbed run.
#[test]
fn transient_faults_are_retried_to_the_same_verdicts() {
    let (moto, work, now) = mixed_account();
    let (status, report) = audit_mixed(&work, &endpoint(&moto), now, "clean.json", &[]);
    assert_eq!(status, Some(1));
    let clean = verdicts(&report);
    assert_eq!(count(&clean, "error"), 0);

    // 1. The first three calls of every operation fail once each: one
    // throttled, one answered 500, one dropped. (How long the retries take
    // is a benchmark's business, not a test's: in the SDK's adaptive mode,
    // the default until 0547442, this run took 48-78 s instead of about 4.)
    let proxy = Proxy::start(&endpoint(&moto), first_calls_faulted());
    let (status, report) = audit_mixed(&work, &proxy.endpoint(), now, "first-calls.json", &[]);
    assert_eq!(status, Some(1));
    assert_eq!(report["collection_errors"], serde_json::json!([]));
    assert_same_verdicts(&clean, &verdicts(&report), "first calls faulted");
    let log = proxy.log();
    assert_all_recovered(&log);
    let kinds = faults_by_kind(&log);
    eprintln!("{kinds:?}");
    for kind in ["Throttle", "ServerError", "Drop"] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) >= 4,
            "{kind}: {kinds:?}"
        );
    }
    // Every service was disturbed.
    let services: BTreeSet<_> = log
        .iter()
        .filter(|l| l.fault.is_some())
        .map(|l| l.service.as_str())
        .collect();
    assert_eq!(services, BTreeSet::from(AUDITED_SERVICES));
    drop(proxy);

    // 2. Every call's first attempt fails (500 or dropped in turn).
    let proxy = Proxy::start(
        &endpoint(&moto),
        vec![FaultRule::new(
            None,
            Trigger::FirstAttempt,
            &[Fault::ServerError, Fault::Drop],
        )],
    );
    let started = std::time::Instant::now();
    let (status, report) = audit_mixed(&work, &proxy.endpoint(), now, "every-call.json", &[]);
    eprintln!(
        "every call's first attempt faulted: {:?}",
        started.elapsed()
    );
    assert_eq!(status, Some(1));
    assert_eq!(report["collection_errors"], serde_json::json!([]));
    assert_same_verdicts(&clean, &verdicts(&report), "every first attempt faulted");
    let log = proxy.log();
    assert_all_recovered(&log);
    let first_attempts = log.iter().filter(|l| l.attempt == 1).count();
    assert_eq!(
        log.iter().filter(|l| l.fault.is_some()).count(),
        first_attempts
    );
    assert!(first_attempts > 40, "{first_attempts} calls");
}

/// Faults on every attempt of one operation: with two attempts per call,
/// the results that need it are `error` (never pass), naming the operation
/// and the code, and the rest of the audit is exactly as without faults.
#[test]
fn persistent_faults_become_errors_naming_the_call() {
    let (moto, work, now) = mixed_account();
    let (_, report) = audit_mixed(&work, &endpoint(&moto), now, "clean.json", &[]);
    let clean = verdicts(&report);

    let proxy = Proxy::start(
        &endpoint(&moto),
        vec![
            FaultRule::new(
                Some("GetBucketVersioning"),
                Trigger::EveryAttempt,
                &[Fault::ServerError],
            ),
            FaultRule::new(
                Some("DescribeLogGroups"),
                Trigger::EveryAttempt,
                &[Fault::Throttle],
            ),
            FaultRule::new(Some("ListObjectsV2"), Trigger::EveryAttempt, &[Fault::Drop]),
        ],
    );
    let started = std::time::Instant::now();
    let (status, report) = audit_mixed(
        &work,
        &proxy.endpoint(),
        now,
        "faulted.json",
        &[("AWS_MAX_ATTEMPTS", "2")],
    );
    eprintln!("persistent faults: {:?}", started.elapsed());
    assert_eq!(status, Some(1));
    let faulted = verdicts(&report);

    // s3-lifecycle-expiration reads versioning too (a versioned bucket
    // must also expire noncurrent versions).
    let affected = |rule: &str| {
        rule == "s3-versioning"
            || rule == "s3-lifecycle-expiration"
            || rule == "s3-exports-fresh"
            || rule.starts_with("logs-")
    };
    // Untouched rules: exactly the undisturbed verdicts.
    let keep = |all: &BTreeMap<Key, Verdict>| -> BTreeMap<Key, Verdict> {
        all.iter()
            .filter(|(k, _)| !affected(&k.0))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    assert_same_verdicts(
        &keep(&clean),
        &keep(&faulted),
        "rules that need none of the failed calls",
    );

    let expect_errors = |rule: &str, ids: &[(&str, &str)], needle: &[&str]| {
        let results = of_rule(&faulted, rule);
        let got: BTreeSet<_> = results
            .iter()
            .map(|(k, _)| (k.2.as_str(), k.3.as_str()))
            .collect();
        assert_eq!(got, ids.iter().copied().collect::<BTreeSet<_>>(), "{rule}");
        for (k, v) in results {
            assert_eq!(v.status, "error", "{k:?}: {v:?}");
            for n in needle {
                assert!(v.message.contains(n), "{k:?}: {:?} lacks {n:?}", v.message);
            }
        }
    };
    // Versioning unknown for each backup bucket (an HTTP 500 every time):
    // so is whether its lifecycle rules must also expire noncurrent
    // versions.
    for rule in ["s3-versioning", "s3-lifecycle-expiration"] {
        expect_errors(
            rule,
            &[
                (EUW1, "acme-backups-euw1"),
                (EUW1, "legacy-backups-euw1"),
                (USE1, "acme-backups-use1"),
            ],
            &[
                "could not read versioning",
                "GetBucketVersioning",
                "InternalError",
            ],
        );
    }
    // Log groups could not be listed in either region (throttled every
    // time): one error per rule and region instead of per group.
    for rule in ["logs-retention", "logs-kms-encryption", "logs-centralized"] {
        expect_errors(
            rule,
            &[(EUW1, "*"), (USE1, "*")],
            &[
                "could not list aws.logs.log_group",
                "DescribeLogGroups",
                "ThrottlingException",
            ],
        );
    }
    // The export location could not be listed (connection dropped).
    expect_errors(
        "s3-exports-fresh",
        &[(USE1, "acme-backups-use1/exports/")],
        &["ListObjectsV2", "DispatchFailure"],
    );
    // The other bucket facts of the same buckets were read.
    for (rule, region, id) in [
        ("s3-cross-region-replication", USE1, "acme-backups-use1"),
        ("s3-default-encryption", EUW1, "legacy-backups-euw1"),
    ] {
        let before = verdict(&clean, rule, region, id);
        assert_ne!(before.status, "error", "{rule} {id}");
        assert_eq!(verdict(&faulted, rule, region, id), before, "{rule} {id}");
    }

    // The report lists each failed call once, with its code.
    let mut failed: Vec<_> = report["collection_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (text(&e["operation"]), text(&e["code"])))
        .collect();
    failed.sort();
    let mut expected = vec![
        (
            "DescribeLogGroups".to_string(),
            "ThrottlingException".to_string(),
        ),
        (
            "DescribeLogGroups".to_string(),
            "ThrottlingException".to_string(),
        ),
        ("ListObjectsV2".to_string(), "DispatchFailure".to_string()),
    ];
    // Versioning is read for every bucket, backup bucket or not.
    expected.extend((0..4).map(|_| {
        (
            "GetBucketVersioning".to_string(),
            "InternalError".to_string(),
        )
    }));
    expected.sort();
    assert_eq!(failed, expected);

    // Each faulted call was tried exactly twice (AWS_MAX_ATTEMPTS=2).
    let mut attempts: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    let log = proxy.log();
    for l in log.iter().filter(|l| l.fault.is_some()) {
        *attempts
            .entry((l.operation.as_str(), l.invocation.as_str()))
            .or_default() += 1;
    }
    assert_eq!(attempts.len(), 7, "{attempts:?}");
    assert!(attempts.values().all(|&n| n == 2), "{attempts:?}");
    assert!(
        log.iter()
            .filter(|l| l.fault.is_none())
            .all(|l| l.upstream_status.is_some())
    );
}

/// Which calls a full audit and a full collection make: reads only
/// (Describe*, Get*, List*), of every service.
#[test]
fn a_full_audit_makes_only_read_calls() {
    let (moto, work, now) = mixed_account();
    let proxy = Proxy::start(&endpoint(&moto), vec![]);
    let (status, report) = audit_mixed(&work, &proxy.endpoint(), now, "audit.json", &[]);
    assert_eq!(status, Some(1));
    assert_eq!(report["collection_errors"], serde_json::json!([]));
    let out = work.backstop(
        &proxy.endpoint(),
        &test_credentials(),
        &[
            "collect",
            "--regions",
            REGIONS,
            "--config",
            &work.arg("backstop.yaml"),
            "--output",
            &work.arg("inventory.json"),
        ],
        &[],
    );
    assert_exit(&out, 0);

    let log = proxy.log();
    assert!(log.len() > 40, "{} requests", log.len());
    let mut calls: BTreeMap<(String, String), usize> = BTreeMap::new();
    for l in &log {
        *calls
            .entry((l.service.clone(), l.operation.clone()))
            .or_default() += 1;
    }
    eprintln!("{calls:#?}");
    let writes: Vec<_> = calls
        .keys()
        .filter(|(_, op)| {
            !["Describe", "Get", "List"]
                .iter()
                .any(|p| op.starts_with(p))
        })
        .collect();
    assert!(writes.is_empty(), "not reads: {writes:?}");
    let services: BTreeSet<_> = calls.keys().map(|(s, _)| s.as_str()).collect();
    assert_eq!(services, BTreeSet::from(AUDITED_SERVICES));
    assert!(calls.contains_key(&("sts".to_string(), "GetCallerIdentity".to_string())));
    for (service, op) in [
        ("rds", "DescribeDBInstances"),
        ("s3", "ListBuckets"),
        ("s3", "GetBucketVersioning"),
        ("s3", "ListObjectsV2"),
        ("ecr", "DescribeRepositories"),
        ("logs", "DescribeLogGroups"),
    ] {
        assert!(
            calls.contains_key(&(service.to_string(), op.to_string())),
            "{service} {op}"
        );
    }
    // Both regions were read, and us-west-2 (never audited) was searched
    // for snapshot copies.
    let regions: BTreeSet<_> = log.iter().map(|l| l.region.as_str()).collect();
    assert_eq!(regions, BTreeSet::from([EUW1, USE1, USW2]));
    let elsewhere: BTreeSet<_> = log
        .iter()
        .filter(|l| l.region == USW2)
        .map(|l| l.operation.as_str())
        .collect();
    assert_eq!(elsewhere, BTreeSet::from(["DescribeDBSnapshots"]));
}

/// The counts of one plain progress line ("backstop: collecting… 812
/// calls done, 9/12 listings done (listing rds in eu-west-1), 120/480
/// details"): calls, listed, listings, detailed, details.
fn progress_counts(line: &str) -> [u64; 5] {
    let rest = line
        .strip_prefix("backstop: collecting… ")
        .unwrap_or_else(|| panic!("not a progress line: {line}"));
    let numbers: Vec<u64> = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .map(|n| n.parse().unwrap())
        .collect();
    // A listing's label may hold digits (eu-west-1); they come after the
    // listings and before the details.
    let (first, details) = (&numbers[..3], &numbers[numbers.len() - 2..]);
    let failed = rest.contains("failed)");
    assert!(!failed, "no call fails here: {line}");
    [first[0], first[1], first[2], details[0], details[1]]
}

/// Off a terminal, a live audit says every interval that it is alive, with
/// counts that only grow; stdout (the report) has none of it.
#[test]
fn a_live_audit_off_a_terminal_prints_progress_lines() {
    let (moto, work, _) = mixed_account();
    let out = work.backstop(
        &endpoint(&moto),
        &test_credentials(),
        &[
            "audit",
            "--regions",
            REGIONS,
            "--config",
            &work.arg("backstop.yaml"),
            "--format",
            "json",
        ],
        &[("BACKSTOP_PROGRESS_INTERVAL_MS", "5")],
    );
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(!stdout.contains("collecting"), "{stdout}");
    let report: Json = serde_json::from_str(&stdout).expect("stdout is the JSON report alone");
    assert_eq!(report["collection_errors"], serde_json::json!([]));
    let text = stderr(&out);
    eprintln!("{text}");
    let lines: Vec<[u64; 5]> = text
        .lines()
        .filter(|l| l.starts_with("backstop: collecting"))
        .map(progress_counts)
        .collect();
    assert!(!lines.is_empty(), "no progress line: {text}");
    for [_, listed, listings, detailed, details] in &lines {
        assert!(listed <= listings && detailed <= details, "{text}");
    }
    for pair in lines.windows(2) {
        assert!(
            pair[0].iter().zip(&pair[1]).all(|(a, b)| a <= b),
            "counts went down: {text}"
        );
    }
    let last = lines.last().unwrap();
    assert!(last[0] > 0 && last[2] > 0, "{text}");
    // Two regions: RDS, ECR, Logs, Secrets Manager, backup plans, vaults
    // and jobs in each, the buckets once, and us-west-2's snapshot copies.
    assert!(last[2] <= 16, "{text}");
}

/// How the proxy names the requests it sees (the read-only test depends on
/// it).
#[test]
fn the_proxy_names_operations_like_the_api() {
    use support::proxy::operation_of;
    let none: &[(String, String)] = &[];
    let s3 = |method: &str, target: &str| operation_of(method, target, none, b"");
    assert_eq!(s3("GET", "/"), "ListBuckets");
    assert_eq!(s3("GET", "/b?versioning"), "GetBucketVersioning");
    assert_eq!(s3("GET", "/b?lifecycle"), "GetBucketLifecycleConfiguration");
    assert_eq!(
        s3("GET", "/b?list-type=2&prefix=exports%2F"),
        "ListObjectsV2"
    );
    assert_eq!(s3("GET", "/b?location"), "GetBucketLocation");
    assert_eq!(s3("GET", "/b?encryption"), "GetBucketEncryption");
    assert_eq!(s3("GET", "/b?replication"), "GetBucketReplication");
    assert_eq!(s3("GET", "/b?object-lock"), "GetObjectLockConfiguration");
    assert_eq!(s3("GET", "/b?publicAccessBlock"), "GetPublicAccessBlock");
    assert_eq!(s3("GET", "/b?tagging"), "GetBucketTagging");
    assert_eq!(s3("PUT", "/b"), "CreateBucket");
    assert_eq!(s3("PUT", "/b?versioning"), "PutBucketConfiguration");
    assert_eq!(s3("PUT", "/b/k"), "PutObject");
    assert_eq!(s3("DELETE", "/b"), "DeleteBucketOrConfiguration");
    // An object body is never taken for a query-protocol form.
    let headers = [("Content-Type".to_string(), "text/plain".to_string())];
    assert_eq!(
        operation_of("PUT", "/b/k", &headers, b"Action=ListBuckets"),
        "PutObject"
    );
    let form = [(
        "Content-Type".to_string(),
        "application/x-www-form-urlencoded; charset=utf-8".to_string(),
    )];
    assert_eq!(
        operation_of(
            "POST",
            "/",
            &form,
            b"Action=DescribeDBInstances&Version=2014-10-31"
        ),
        "DescribeDBInstances"
    );
    let json = [(
        "X-Amz-Target".to_string(),
        "Logs_20140328.DescribeLogGroups".to_string(),
    )];
    assert_eq!(operation_of("POST", "/", &json, b"{}"), "DescribeLogGroups");
}

/// The proxy serves until dropped, then refuses connections.
#[test]
fn the_proxy_stops_when_dropped() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    // Upstream: nothing listens there, so a forwarded request fails and the
    // proxy closes the connection; a faulted one is answered by the proxy.
    let upstream = format!("http://127.0.0.1:{}", support::moto::free_port());
    let proxy = Proxy::start(
        &upstream,
        vec![FaultRule::new(
            Some("ListBuckets"),
            Trigger::EveryAttempt,
            &[Fault::Throttle],
        )],
    );
    let address = proxy.endpoint().trim_start_matches("http://").to_string();
    let mut client = TcpStream::connect(&address).expect("the proxy listens");
    client
        .write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: AWS4-HMAC-SHA256 \
              Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, \
              Signature=0\r\n\r\n",
        )
        .unwrap();
    let mut answer = String::new();
    client.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503 Slow Down\r\n"), "{answer}");
    assert!(answer.ends_with("<Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>00000000-0000-4000-8000-fau17e1ec7ed</RequestId></Error>"), "{answer}");
    let log = proxy.log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].operation, "ListBuckets");
    assert_eq!(
        (log[0].service.as_str(), log[0].region.as_str()),
        ("s3", USE1)
    );
    assert_eq!(log[0].fault, Some(Fault::Throttle));
    // An idle keep-alive connection does not keep the proxy alive.
    let idle = TcpStream::connect(&address).unwrap();
    drop(proxy);
    assert!(TcpStream::connect(&address).is_err(), "still listening");
    let mut rest = Vec::new();
    assert_eq!(
        (&idle)
            .read_to_end(&mut rest)
            .map(|_| rest.len())
            .unwrap_or(0),
        0
    );
}

/// A bucket whose `GetBucketLocation` fails is one `error` per rule, not
/// one per audited region; a region criterion in `scope` cannot drop it
/// (where it lives is unknown). Under a tag scope, an export location is
/// judged by its bucket's tags, which the audit reads even when no bucket
/// rule is enabled.
#[test]
fn unlocated_buckets_and_export_locations_under_a_scope() {
    let (moto, work, now) = mixed_account();
    let buckets = [
        "acme-assets-use1",
        "acme-backups-euw1",
        "acme-backups-use1",
        "legacy-backups-euw1",
    ];

    // 1. Every GetBucketLocation fails (HTTP 500, both attempts).
    let proxy = Proxy::start(
        &endpoint(&moto),
        vec![FaultRule::new(
            Some("GetBucketLocation"),
            Trigger::EveryAttempt,
            &[Fault::ServerError],
        )],
    );
    for config in [
        MIXED_CONFIG.to_string(),
        format!("{MIXED_CONFIG}scope:\n  include: {{ regions: [eu-west-1] }}\n"),
    ] {
        std::fs::write(work.path("backstop.yaml"), &config).unwrap();
        let (status, report) = audit_mixed(
            &work,
            &proxy.endpoint(),
            now,
            "unlocated.json",
            &[("AWS_MAX_ATTEMPTS", "2")],
        );
        assert_eq!(status, Some(1), "{config}");
        let located: Vec<(String, String)> = report["collection_errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["operation"] == "GetBucketLocation")
            .map(|e| (text(&e["resource_id"]), text(&e["region"])))
            .collect();
        let mut ids: Vec<&str> = located.iter().map(|(id, _)| id.as_str()).collect();
        ids.sort();
        assert_eq!(
            ids, buckets,
            "one failure per bucket: {located:?}\n{config}"
        );
        // Recorded where the question was asked: the first audited region.
        assert!(
            located.iter().all(|(_, region)| region == USE1),
            "{located:?}"
        );
        let all = verdicts(&report);
        for rule in ["s3-default-encryption", "s3-public-access-blocked"] {
            let mut results: Vec<(&str, &str, &str)> = of_rule(&all, rule)
                .into_iter()
                .map(|(k, v)| (k.3.as_str(), k.2.as_str(), v.status.as_str()))
                .collect();
            results.sort();
            let expected: Vec<(&str, &str, &str)> =
                buckets.iter().map(|b| (*b, USE1, "error")).collect();
            assert_eq!(results, expected, "{rule}\n{config}");
            for (k, v) in of_rule(&all, rule) {
                assert!(
                    v.message.contains("GetBucketLocation") && v.message.contains("InternalError"),
                    "{k:?}: {}",
                    v.message
                );
            }
        }
    }
    drop(proxy);

    // 2. A tag scope: the export bucket is tagged, the export location has
    // no tags of its own. Only s3-exports-fresh is enabled.
    block_on(async {
        let s3 = moto.s3(USE1).await;
        s3.put_bucket_tagging()
            .bucket("acme-backups-use1")
            .tagging(
                aws_sdk_s3::types::Tagging::builder()
                    .tag_set(
                        aws_sdk_s3::types::Tag::builder()
                            .key("team")
                            .value("data")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    });
    let only_exports = |scope: &str| {
        let disable: Vec<String> = backstop::rules::RuleSet::builtin()
            .unwrap()
            .rules()
            .iter()
            .map(|r| r.id.clone())
            .filter(|id| id != "s3-exports-fresh")
            .collect();
        format!(
            "{MIXED_CONFIG}disable: [{}]\nscope:\n  include: {{ tags: {{ {scope} }} }}\n",
            disable.join(", ")
        )
    };
    let proxy = Proxy::start(&endpoint(&moto), Vec::new());
    std::fs::write(work.path("backstop.yaml"), only_exports("team: data")).unwrap();
    let (status, report) = audit_mixed(&work, &proxy.endpoint(), now, "tagged.json", &[]);
    assert_eq!(status, Some(0), "{report}");
    let all = verdicts(&report);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_status(
        &all,
        "s3-exports-fresh",
        USE1,
        "acme-backups-use1/exports/",
        "pass",
    );
    assert!(
        proxy
            .log()
            .iter()
            .any(|l| l.operation == "GetBucketTagging"),
        "the bucket's tags were read"
    );
    // The bucket is out of scope: so is its export location.
    std::fs::write(work.path("backstop.yaml"), only_exports("team: web")).unwrap();
    let (status, report) = audit_mixed(&work, &proxy.endpoint(), now, "other.json", &[]);
    assert_eq!(status, Some(0));
    assert_eq!(report["results"], serde_json::json!([]));
}

/// A DR copy usually lives in a region nobody audits: by default the
/// audit looks for snapshot copies in every region RDS can copy between
/// (here us-west-2, never audited), `copy_regions` in backstop.yaml
/// narrows the search, and a region name that is not one is a config
/// error at its position.
#[test]
fn copies_in_unaudited_regions_count() {
    let moto = Moto::start();
    block_on(async {
        let east = Seed::new(&moto, USE1).await;
        let oregon = Seed::new(&moto, USW2).await;
        let key = east.key().await;
        let oregon_key = oregon.key().await;
        east.compliant_instance("orders-db", &key, &oregon, &oregon_key)
            .await;
    });
    let work = Workdir::new();
    let audit = |config: Option<&str>, json: &str| {
        let mut args = vec![
            "audit",
            "--regions",
            REGIONS,
            "--json",
            json,
            "--fail-on",
            "never",
        ];
        let path = work.arg("backstop.yaml");
        if let Some(config) = config {
            std::fs::write(&path, config).unwrap();
            args.extend(["--config", path.as_str()]);
        }
        let args: Vec<String> = args.into_iter().map(str::to_string).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        work.backstop(&endpoint(&moto), &test_credentials(), &args, &[])
    };

    let out = audit(None, "default.json");
    assert_exit(&out, 0);
    let all = verdicts(&work.json("default.json"));
    assert_status(&all, "rds-cross-region-backups", USE1, "orders-db", "pass");
    // The copy is no resource of the audit: us-west-2 is not audited.
    assert!(all.keys().all(|k| k.2 != USW2), "{all:#?}");

    let out = audit(
        Some("params:\n  rds-cross-region-backups:\n    copy_regions: [eu-central-1]\n"),
        "narrowed.json",
    );
    assert_exit(&out, 0);
    let all = verdicts(&work.json("narrowed.json"));
    assert_status(&all, "rds-cross-region-backups", USE1, "orders-db", "fail");

    let out = audit(
        Some("params:\n  rds-cross-region-backups:\n    copy_regions: [us-west2]\n"),
        "typo.json",
    );
    assert_exit(&out, 2);
    let message = stderr(&out);
    assert!(
        message.contains("backstop.yaml:3:20") && message.contains("\"us-west2\""),
        "{message}"
    );
}
