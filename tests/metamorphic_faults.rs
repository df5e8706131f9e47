//! Metamorphic fault test (issue 7): faults may only turn verdicts into
//! `error`, never into another verdict, and never make one disappear.
//!
//! One seeded account in moto (tests/support/seed.rs), audited by the
//! `backstop` binary through the fault-injecting proxy
//! (tests/support/proxy.rs), which also makes the emulator answer listings
//! in small pages so that they span several. The clean audit's results are
//! the reference. Then the same audit runs again: once with a repeated
//! continuation token on every listing, once with every listing's answer
//! cut off mid-transfer, and then `N` times, each time with a seeded
//! random plan of faults on a share of the calls the clean run made:
//! access denied, throttling and HTTP 500 past the retries (or on the first
//! attempt only, which the SDK retries), dropped connections, no answer
//! until the audit's `--timeout`, answers cut off mid-transfer, listing
//! pages whose continuation token repeats, and an S3 listing page that says
//! it is truncated but gives no token.
//!
//! Properties of each faulty run:
//! - every clean result is there (same rule, resource type, account,
//!   region and id) with the same status or `error`, or a failed listing
//!   replaced the region's resources of that type by one `error` result
//!   with id `*` for the rule;
//! - every other result is `error`: no new pass, no new fail, no result
//!   twice; error results come with `collection_errors`;
//! - a listing stops at the first continuation token it has seen before;
//! - the exit status is the gate's verdict on the run's own report (1 when
//!   a fail, or an error unless `--allow-errors`, is at or above
//!   `--fail-on`; else 0), or 3 without a report when the account could
//!   not be identified (STS itself faulted).
//!
//! Environment:
//! - `BACKSTOP_METAMORPHIC_SEED`: the seed (decimal or `0x` hex); default:
//!   from the clock. It is printed, and a failure names it with each
//!   failing run's plan. The same seed gives the same plans (calls are
//!   named by what they ask, not by when they are made).
//! - `BACKSTOP_METAMORPHIC_RUNS`: faulty runs (default 6).
//! - `BACKSTOP_METAMORPHIC_EXTRA=none` (or `-malformed,-cycle,
//!   -denied-location`): leave out the faults that found bugs (see
//!   [`Extra`]), to tell a new failure from an old one.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Output;
use std::time::Instant;

use aws_sdk_s3::types::{ExpirationStatus, ReplicationRuleStatus};
use jiff::Timestamp;
use serde_json::Value as Json;
use support::moto::{Moto, test_credentials};
use support::proxy::{Fault, FaultRule, Logged, Options, Proxy, Trigger};
use support::seed::{Seed, expiry_rule};
use support::stub::Stub;

const USE1: &str = "us-east-1";
const EUW1: &str = "eu-west-1";
const REGIONS: &str = "us-east-1,eu-west-1";

/// Faulty runs unless `BACKSTOP_METAMORPHIC_RUNS` says otherwise.
const DEFAULT_RUNS: usize = 6;

/// The audit's `--timeout` (seconds) in every run: how long a hung call
/// holds its part of the audit.
const TIMEOUT_SECS: &str = "3";

/// Page size the proxy asks the emulator for (RDS: 20, AWS's minimum).
const PAGE_SIZE: u32 = 2;

// ---------------------------------------------------------------------------
// A small seeded PRNG (SplitMix64): the plans depend on nothing else.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|e| panic!("{name}={text:?}: {e}")))
}

// ---------------------------------------------------------------------------
// The account

/// Two regions of an account with a bit of everything, pass and fail:
/// 23 DB instances (more than one DescribeDBInstances page of 20 in
/// us-east-1), clusters and snapshots, backup and other buckets with
/// assorted settings, an export location of five objects (three pages of
/// two), repositories, and log groups (several pages of two per region).
/// One snapshot is public (the only `critical` failure).
async fn seed_account(moto: &Moto) {
    let east = &Seed::new(moto, USE1).await;
    let west = &Seed::new(moto, EUW1).await;
    let (east_key, west_key) = (&east.key().await, &west.key().await);

    let rds = async {
        east.compliant_instance("orders-db", east_key, west, west_key)
            .await;
        east.instance("scratch-db")
            .backup_retention_period(0)
            .publicly_accessible(true)
            .send()
            .await
            .unwrap();
        futures::future::join_all((0..20).map(|i| async move {
            let mut instance = east
                .instance(&format!("fleet-db-{i:02}"))
                .backup_retention_period(if i % 3 == 0 { 1 } else { 7 })
                .multi_az(i % 2 == 0)
                .deletion_protection(i % 4 != 1);
            if i % 5 != 0 {
                instance = instance.storage_encrypted(true).kms_key_id(east_key);
            }
            instance.send().await.unwrap();
        }))
        .await;
        west.instance("eu-db")
            .backup_retention_period(1)
            .send()
            .await
            .unwrap();
        east.cluster("orders-cluster")
            .backup_retention_period(7)
            .deletion_protection(true)
            .storage_encrypted(true)
            .kms_key_id(east_key)
            .send()
            .await
            .unwrap();
        east.cluster("scratch-cluster")
            .backup_retention_period(1)
            .send()
            .await
            .unwrap();
        east.cluster_snapshot("orders-cluster", "orders-cluster-manual", &[])
            .await;
        // A snapshot anyone may restore: public, the one critical failure.
        east.rds
            .create_db_snapshot()
            .db_instance_identifier("scratch-db")
            .db_snapshot_identifier("scratch-db-shared")
            .send()
            .await
            .unwrap();
        east.rds
            .modify_db_snapshot_attribute()
            .db_snapshot_identifier("scratch-db-shared")
            .attribute_name("restore")
            .values_to_add("all")
            .send()
            .await
            .unwrap();
    };
    let s3 = async {
        for (region, bucket) in BUCKETS {
            let seed = if region == USE1 { east } else { west };
            seed.bucket(bucket).await;
        }
        east.versioned("acme-backups-use1").await;
        west.versioned("acme-backups-euw1").await;
        east.expires_after_30_days("acme-backups-use1").await;
        // Only tmp/ expires: not a whole-bucket rule.
        east.lifecycle(
            "db-backups-use1",
            [expiry_rule("tmp", ExpirationStatus::Enabled, "tmp/", 7)],
        )
        .await;
        east.encrypted("acme-backups-use1", None).await;
        east.encrypted("db-backups-use1", Some(east_key)).await;
        west.encrypted("acme-backups-euw1", None).await;
        east.public_access_block("acme-backups-use1", true).await;
        east.public_access_block("db-backups-use1", false).await;
        east.replicates(
            "acme-backups-use1",
            &[("dr", ReplicationRuleStatus::Enabled, "acme-backups-euw1")],
        )
        .await;
        for i in 0..5 {
            east.put_object(
                "acme-backups-use1",
                &format!("exports/orders-{i}.csv"),
                b"id,total\n1,2\n",
            )
            .await;
        }
    };
    let ecr = async {
        east.repository("prod/api", true).await;
        east.repository("prod/worker", true).await;
        east.repository("dev/tool", false).await;
        west.repository("eu/app", false).await;
        west.repository("eu/batch", true).await;
    };
    let logs = async {
        let groups = [
            (east, "/app/api", Some(30)),
            (east, "/app/worker", Some(90)),
            (east, "/app/forever", None),
            (east, "/app/short", Some(3)),
            (east, "/db/orders", Some(365)),
            (east, "/db/scratch", None),
            (east, "/ops/audit", Some(400)),
            (west, "/eu/short", Some(7)),
            (west, "/eu/app", Some(30)),
            (west, "/eu/archive", Some(3653)),
            (west, "/eu/forever", None),
        ];
        futures::future::join_all(
            groups
                .iter()
                .map(|(seed, name, days)| seed.log_group(*name, *days)),
        )
        .await;
    };
    futures::join!(rds, s3, ecr, logs);
}

/// The buckets, by region.
const BUCKETS: [(&str, &str); 5] = [
    (USE1, "acme-backups-use1"),
    (USE1, "db-backups-use1"),
    (USE1, "acme-assets-use1"),
    (EUW1, "acme-backups-euw1"),
    (EUW1, "legacy-backups-euw1"),
];

/// Two export locations: five objects, and none. Snapshot copies are looked
/// for in the audited regions only: the emulator does not answer RDS
/// `DescribeSourceRegions`, which the default (every region) asks.
const CONFIG: &str = "export_locations:\n  - bucket: acme-backups-use1\n    prefix: exports/\n  \
                      - bucket: acme-backups-euw1\n    prefix: dumps/\n\
                      params:\n  rds-cross-region-backups:\n    copy_regions: [us-east-1, eu-west-1]\n";

/// A multi-thread runtime for seeding through the SDK (the test itself is
/// synchronous: it runs the binary).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

/// Where the proxy forwards to: moto 5.1.22 does not implement CloudWatch
/// Logs `DescribeAccountPolicies` (HTTP 500), so a stand-in answers it as
/// AWS does for an account without account-level policies and forwards
/// everything else (as in tests/live_audit.rs).
fn upstream(moto: &Moto) -> String {
    Stub::start(Some(moto.endpoint()), |request| {
        (request.target.as_deref() == Some("Logs_20140328.DescribeAccountPolicies"))
            .then(|| (200, r#"{"accountPolicies":[]}"#.to_string()))
    })
    .endpoint
}

// ---------------------------------------------------------------------------
// Running the binary

/// One audit's flags besides the fixed ones.
#[derive(Debug, Clone)]
struct Gate {
    fail_on: &'static str,
    allow_errors: bool,
}

/// Runs `backstop audit` through `endpoint` with nothing of the caller's
/// environment, writing the JSON report to `json`.
fn audit(dir: &Path, endpoint: &str, now: &str, json: &Path, gate: &Gate) -> Output {
    let config = dir.join("backstop.yaml");
    let mut command = support::isolated_backstop(dir, endpoint, &test_credentials());
    command
        .arg("audit")
        .args(["--regions", REGIONS])
        .arg("--config")
        .arg(&config)
        .args(["--now", now, "--timeout", TIMEOUT_SECS])
        .args(["--fail-on", gate.fail_on])
        .arg("--json")
        .arg(json);
    if gate.allow_errors {
        command.arg("--allow-errors");
    }
    command.output().expect("run backstop")
}

// ---------------------------------------------------------------------------
// Reading reports

/// What makes two results the same finding: rule, resource type, account,
/// region, id.
type Identity = (String, String, String, String, String);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    status: String,
    severity: String,
    message: String,
}

fn text(v: &Json) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, found {v}"))
        .to_string()
}

/// The report's results by identity, and the identities found more than
/// once.
fn verdicts(report: &Json) -> (BTreeMap<Identity, Verdict>, Vec<Identity>) {
    assert_eq!(report["schema"], "backstop.report/v1");
    let mut all = BTreeMap::new();
    let mut twice = Vec::new();
    for r in report["results"].as_array().expect("results") {
        let res = &r["resource"];
        let identity = (
            text(&r["rule"]),
            text(&res["type"]),
            text(&res["account"]),
            text(&res["region"]),
            text(&res["id"]),
        );
        let verdict = Verdict {
            status: text(&r["status"]),
            severity: text(&r["severity"]),
            message: text(&r["message"]),
        };
        if all.insert(identity.clone(), verdict).is_some() {
            twice.push(identity);
        }
    }
    (all, twice)
}

const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];

fn rank(severity: &str) -> usize {
    SEVERITIES
        .iter()
        .position(|s| *s == severity)
        .unwrap_or_else(|| panic!("unknown severity {severity:?}"))
}

/// The exit status the gate owes a report: 1 when a fail, or an error
/// unless allowed, is at or above the threshold.
fn gate_status(all: &BTreeMap<Identity, Verdict>, gate: &Gate) -> i32 {
    let threshold = rank(gate.fail_on);
    let blocks = all.values().any(|v| {
        let counts = v.status == "fail" || (v.status == "error" && !gate.allow_errors);
        counts && rank(&v.severity) >= threshold
    });
    i32::from(blocks)
}

// ---------------------------------------------------------------------------
// Fault plans

/// One planned fault: the call it hits (a [`Logged::call`] of the clean
/// run), what it gets, and on which attempts.
#[derive(Debug, Clone)]
struct Planned {
    call: String,
    fault: Fault,
    every_attempt: bool,
}

impl std::fmt::Display for Planned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let attempts = if self.every_attempt {
            "every attempt"
        } else {
            "first attempt"
        };
        write!(f, "{:?} ({attempts}) on {}", self.fault, self.call)
    }
}

/// Every kind of fault but those of [`Extra`]. Each run forces one
/// of them (in turn) on a call that every run makes, so that a few runs
/// cover them all.
const KINDS: [Fault; 8] = [
    Fault::AccessDenied,
    Fault::Throttle,
    Fault::ServerError,
    Fault::Hang,
    Fault::RepeatToken,
    Fault::TruncatedBody,
    Fault::Drop,
    Fault::TruncatedNoToken,
];

/// The operations whose first call every audit makes, whatever else
/// failed: the listings (S3 export locations are listed even when the
/// bucket listing failed).
const ROOT_OPERATIONS: &[&str] = &[
    "ListBuckets",
    "DescribeDBInstances",
    "DescribeDBClusters",
    "DescribeDBSnapshots",
    "DescribeDBClusterSnapshots",
    "DescribeLogGroups",
    "DescribeAccountPolicies",
    "DescribeRepositories",
    "DescribeRegistry",
    "ListObjectsV2",
];

/// The operation in a call name (`SERVICE REGION OPERATION ...`).
fn operation_of_call(call: &str) -> &str {
    call.split(' ').nth(2).unwrap_or("")
}

fn is_root(call: &str) -> bool {
    ROOT_OPERATIONS.contains(&operation_of_call(call))
        && call.ends_with(" #1")
        // The second DescribeDB*Snapshots listing follows the first only
        // when that one succeeded.
        && !call.contains("SnapshotType=awsbackup")
        // An export location is listed in its bucket's region, which is
        // us-east-1 only when the bucket's location could not be read.
        && (operation_of_call(call) != "ListObjectsV2" || call.starts_with("s3 us-east-1 "))
}

/// At most this many hung calls per run (each holds its part of the audit
/// for the whole `--timeout`).
const MAX_HANGS: usize = 2;

/// Faults that found bugs (all fixed since), in every plan unless
/// `BACKSTOP_METAMORPHIC_EXTRA` is `none` or leaves one out (`-cycle`):
/// - `malformed` ([`Fault::MalformedBody`]): the SDK's deserializers take a
///   cut-off XML document in a well-framed answer for a complete one
///   (missing required members get defaults); the collectors now refuse an
///   XML answer whose root element does not close. A cut-off transfer
///   ([`Fault::TruncatedBody`], what a broken connection does) is in every
///   plan anyway.
/// - `cycle` ([`Fault::TokenCycle`]): listings whose tokens lead A, B, A, ...
///   were followed until the proxy gave up; a token seen before now ends
///   the listing as an error.
/// - `denied-location` ([`Fault::AccessDenied`] on `GetBucketLocation`,
///   otherwise planned as HTTP 500): a denied location of a listed bucket
///   that is another bucket's replication destination was taken for
///   "another account's bucket", turning a replication pass into a fail.
#[derive(Debug, Default)]
struct Extra {
    malformed: bool,
    cycle: bool,
    denied_location: bool,
}

impl Extra {
    fn from_env() -> Extra {
        let names = std::env::var("BACKSTOP_METAMORPHIC_EXTRA").unwrap_or_default();
        if names.trim() == "none" {
            return Extra::default();
        }
        let mut extra = Extra {
            malformed: true,
            cycle: true,
            denied_location: true,
        };
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.strip_prefix('-') {
                Some("malformed") => extra.malformed = false,
                Some("cycle") => extra.cycle = false,
                Some("denied-location") => extra.denied_location = false,
                _ => panic!("BACKSTOP_METAMORPHIC_EXTRA: expected none or -NAME, found {name:?}"),
            }
        }
        extra
    }

    fn kinds(&self) -> Vec<Fault> {
        let mut kinds = Vec::new();
        if self.malformed {
            kinds.push(Fault::MalformedBody);
        }
        if self.cycle {
            kinds.push(Fault::TokenCycle);
        }
        kinds
    }

    /// The fault to plan instead of `fault` on `operation`.
    fn instead(&self, fault: Fault, operation: &str) -> Fault {
        if fault == Fault::AccessDenied && operation == "GetBucketLocation" && !self.denied_location
        {
            Fault::ServerError
        } else {
            fault
        }
    }
}

/// The faults of run `run` of `seed`, on the calls of the clean run.
fn plan(seed: u64, run: usize, calls: &BTreeSet<String>, extra: &Extra) -> Vec<Planned> {
    let extra_kinds = extra.kinds();
    let mut rng = Rng::new(seed ^ (run as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
    // The share of calls faulted: 2% to 12%.
    let rate = 20 + rng.below(101) as u64;
    let mut planned = Vec::new();
    let mut hangs = 0;
    let mut fault_for = |rng: &mut Rng, call: &str, kind: Option<Fault>| -> Planned {
        let operation = operation_of_call(call);
        let fits: Vec<Fault> = KINDS
            .iter()
            .chain(&extra_kinds)
            .copied()
            .filter(|k| k.fits(operation))
            .collect();
        let mut fault = extra.instead(kind.unwrap_or_else(|| *rng.pick(&fits)), operation);
        if fault == Fault::Hang {
            if hangs == MAX_HANGS {
                fault = Fault::ServerError;
            } else {
                hangs += 1;
            }
        }
        // Transient faults sometimes (first attempt only: the SDK retries
        // them away); the others on every attempt, past the retries.
        let every_attempt = match fault {
            Fault::Throttle | Fault::ServerError | Fault::Drop => rng.chance(700),
            _ => true,
        };
        Planned {
            call: call.to_string(),
            fault,
            every_attempt,
        }
    };

    let forced = KINDS[(seed as usize).wrapping_add(run) % KINDS.len()];
    let roots: Vec<&String> = calls
        .iter()
        .filter(|c| is_root(c) && forced.fits(operation_of_call(c)))
        .collect();
    assert!(!roots.is_empty(), "no call takes {forced:?}: {calls:#?}");
    let root = rng.pick(&roots).to_string();
    planned.push(fault_for(&mut rng, &root, Some(forced)));

    for call in calls {
        if *call == root {
            continue;
        }
        // Without STS nothing at all is audited: rarely.
        let rate = if operation_of_call(call) == "GetCallerIdentity" {
            rate / 4
        } else {
            rate
        };
        if rng.chance(rate) {
            planned.push(fault_for(&mut rng, call, None));
        }
    }
    planned
}

fn rules_of(plan: &[Planned]) -> Vec<FaultRule> {
    plan.iter()
        .map(|p| {
            FaultRule::new(
                None,
                Trigger::Call {
                    call: p.call.clone(),
                    every_attempt: p.every_attempt,
                },
                &[p.fault],
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The properties

/// Whether STS told the audit its account.
fn identified(log: &[Logged]) -> bool {
    log.iter().any(|l| {
        l.operation == "GetCallerIdentity" && l.upstream_status == Some(200) && l.fault.is_none()
    })
}

/// What went wrong in one faulty run (empty: nothing).
fn check_run(
    clean: &BTreeMap<Identity, Verdict>,
    out: &Output,
    report: Option<&Json>,
    log: &[Logged],
    gate: &Gate,
) -> Vec<String> {
    let mut wrong = Vec::new();
    let status = out.status.code();
    // Without an answer from STS the account is unknown: nothing can be
    // audited (exit 3), and no report may claim otherwise.
    if !identified(log) {
        if status != Some(3) {
            wrong.push(format!(
                "STS never answered, yet exit {status:?} (expected 3)"
            ));
        }
        if report.is_some() {
            wrong.push("STS never answered, yet a report was written".to_string());
        }
        return wrong;
    }
    let Some(report) = report else {
        wrong.push(format!("no report (exit {status:?})"));
        return wrong;
    };
    let (faulty, twice) = verdicts(report);
    for identity in twice {
        wrong.push(format!("{identity:?} twice in the report"));
    }

    // Clean results: the same status or error, or covered by a `*` error.
    for (identity, before) in clean {
        let (rule, kind, account, region, _) = identity;
        match faulty.get(identity) {
            Some(after) if after.status == before.status || after.status == "error" => {}
            Some(after) => wrong.push(format!(
                "{identity:?} was {} ({}), now {} ({})",
                before.status, before.message, after.status, after.message
            )),
            None => {
                let star = (
                    rule.clone(),
                    kind.clone(),
                    account.clone(),
                    region.clone(),
                    "*".to_string(),
                );
                // A bucket whose location could not be read is reported,
                // once, where the question was asked: the same resource in
                // another region, as an error.
                let elsewhere = faulty.iter().any(|(k, v)| {
                    k.0 == *rule
                        && k.1 == *kind
                        && k.2 == *account
                        && k.4 == identity.4
                        && v.status == "error"
                });
                match faulty.get(&star) {
                    _ if elsewhere => {}
                    Some(v) if v.status == "error" => {}
                    Some(v) => wrong.push(format!(
                        "{identity:?} ({}) vanished; {star:?} is {} ({})",
                        before.status, v.status, v.message
                    )),
                    None => wrong.push(format!(
                        "{identity:?} ({}: {}) vanished without an error standing for it",
                        before.status, before.message
                    )),
                }
            }
        }
    }
    // Anything else: errors only.
    for (identity, after) in &faulty {
        if !clean.contains_key(identity) && after.status != "error" {
            wrong.push(format!(
                "{identity:?} is new and {} ({})",
                after.status, after.message
            ));
        }
    }
    // An error result stands for a failed call the report names.
    let collection_errors = report["collection_errors"].as_array().map_or(0, Vec::len);
    if count(&faulty, "error") > 0 && collection_errors == 0 {
        wrong.push("error results, yet no collection_errors".to_string());
    }
    // A listing whose made-up token repeats ends at the repetition: two
    // requests for a token that names itself, three for a cycle of two.
    let mut followed: BTreeMap<(&str, Fault), usize> = BTreeMap::new();
    for l in log {
        if let Some(f @ (Fault::RepeatToken | Fault::TokenCycle)) = l.fault {
            let listing = l.call.rsplit_once(" #").map_or(l.call.as_str(), |(c, _)| c);
            *followed.entry((listing, f)).or_default() += 1;
        }
    }
    for ((listing, fault), requests) in followed {
        let most = if fault == Fault::TokenCycle { 3 } else { 2 };
        if requests > most {
            wrong.push(format!(
                "{fault:?}: {requests} requests for {listing} (at most {most}: the listing \
                 must stop at the first token it has seen before)"
            ));
        }
    }
    // The gate judges the run's own report.
    let expected = gate_status(&faulty, gate);
    if status != Some(expected) {
        wrong.push(format!(
            "exit {status:?} with {gate:?}, expected {expected} from the report"
        ));
    }
    wrong
}

fn count(all: &BTreeMap<Identity, Verdict>, status: &str) -> usize {
    all.values().filter(|v| v.status == status).count()
}

/// The faults the proxy served, one line each.
fn served(log: &[Logged]) -> Vec<String> {
    log.iter()
        .filter_map(|l| {
            l.fault
                .map(|f| format!("{f:?} on {} (attempt {})", l.call, l.attempt))
        })
        .collect()
}

fn tail(bytes: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ---------------------------------------------------------------------------
// The test

#[test]
fn faults_only_ever_turn_results_into_errors() {
    let started = Instant::now();
    let seed = env_number("BACKSTOP_METAMORPHIC_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let runs = env_number("BACKSTOP_METAMORPHIC_RUNS").map_or(DEFAULT_RUNS, |n| n as usize);
    let extra = Extra::from_env();
    let extra_env = match std::env::var("BACKSTOP_METAMORPHIC_EXTRA") {
        Ok(names) if !names.trim().is_empty() => format!(" BACKSTOP_METAMORPHIC_EXTRA={names}"),
        _ => String::new(),
    };
    eprintln!("metamorphic fault test: BACKSTOP_METAMORPHIC_SEED={seed}{extra_env} ({runs} runs)");

    let moto = Moto::start();
    block_on(seed_account(&moto));
    let dir = tempfile::tempdir().expect("create a temporary folder");
    std::fs::write(dir.path().join("backstop.yaml"), CONFIG).unwrap();
    // After every seeded object and snapshot, within the hour of moto's
    // LatestRestorableTime ("now").
    let now = Timestamp::now().to_string();
    let upstream = upstream(&moto);
    let options = Options {
        page_size: Some(PAGE_SIZE),
        bucket_regions: BUCKETS
            .iter()
            .map(|(region, bucket)| (bucket.to_string(), region.to_string()))
            .collect(),
    };
    eprintln!("seeded in {:?}", started.elapsed());

    // The clean run: the reference results and the calls to fault.
    let clean_gate = Gate {
        fail_on: "high",
        allow_errors: false,
    };
    let proxy = Proxy::start_with(0, &upstream, Vec::new(), options.clone());
    let json = dir.path().join("clean.json");
    let run_started = Instant::now();
    let out = audit(dir.path(), &proxy.endpoint(), &now, &json, &clean_gate);
    eprintln!("clean run: {:?}", run_started.elapsed());
    let log = proxy.log();
    drop(proxy);
    assert_eq!(
        out.status.code(),
        Some(1),
        "clean run: high failures fail the gate\n{}",
        tail(&out.stderr, 20)
    );
    let report: Json =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).expect("clean report");
    assert_eq!(report["collection_errors"], serde_json::json!([]));
    let (clean, twice) = verdicts(&report);
    assert!(twice.is_empty(), "clean run: {twice:?} twice");
    assert_eq!(count(&clean, "error"), 0, "clean run: errors");
    assert!(count(&clean, "pass") > 50 && count(&clean, "fail") > 50);
    // Every listing that pages spanned several pages.
    let calls: BTreeSet<String> = log.iter().map(|l| l.call.clone()).collect();
    for operation in ["DescribeDBInstances", "DescribeLogGroups", "ListObjectsV2"] {
        assert!(
            calls
                .iter()
                .any(|c| operation_of_call(c) == operation && c.ends_with(" #2")),
            "{operation} never paged"
        );
    }
    assert!(log.iter().all(|l| l.fault.is_none()));

    // The faulty runs: first one fault on every listing (each listing's
    // handling of it, deterministically), then the random plans.
    let mut specs: Vec<(String, Vec<Planned>, Gate)> = [Fault::RepeatToken, Fault::TruncatedBody]
        .into_iter()
        .map(|fault| {
            let plan: Vec<Planned> = calls
                .iter()
                .filter(|c| is_root(c) && fault.fits(operation_of_call(c)))
                .map(|call| Planned {
                    call: call.clone(),
                    fault,
                    every_attempt: true,
                })
                .collect();
            (
                format!("{fault:?} on every listing"),
                plan,
                clean_gate.clone(),
            )
        })
        .collect();
    specs.extend((0..runs).map(|run| {
        // Gates in turn: the default, stricter and looser thresholds, and
        // errors allowed (only fails count then).
        let gate = Gate {
            fail_on: ["high", "critical", "medium", "low"][run % 4],
            allow_errors: run % 3 == 2,
        };
        (format!("run {run}"), plan(seed, run, &calls, &extra), gate)
    }));
    let mut failures = String::new();
    let mut served_total = 0;
    let mut kinds_served = BTreeSet::new();
    let mut runs_with_errors = 0;
    for (i, (label, plan, gate)) in specs.iter().enumerate() {
        let proxy = Proxy::start_with(0, &upstream, rules_of(plan), options.clone());
        let json = dir.path().join(format!("faulty-{i}.json"));
        let run_started = Instant::now();
        let out = audit(dir.path(), &proxy.endpoint(), &now, &json, gate);
        let took = run_started.elapsed();
        let log = proxy.log();
        drop(proxy);
        let report: Option<Json> = std::fs::read_to_string(&json)
            .ok()
            .map(|t| serde_json::from_str(&t).expect("a report is JSON"));
        let served = served(&log);
        served_total += served.len();
        kinds_served.extend(log.iter().filter_map(|l| l.fault));
        let errors = report
            .as_ref()
            .map_or(0, |r| count(&verdicts(r).0, "error"));
        if errors > 0 {
            runs_with_errors += 1;
        }
        eprintln!(
            "{label}: {} planned, {} served, {errors} error results, exit {:?}, {took:?}",
            plan.len(),
            served.len(),
            out.status.code()
        );
        let mut wrong = check_run(&clean, &out, report.as_ref(), &log, gate);
        // Faults on calls every audit makes are served (each random plan
        // has one).
        if identified(&log) {
            for p in plan.iter().filter(|p| is_root(&p.call)) {
                if !log
                    .iter()
                    .any(|l| l.call == p.call && l.fault == Some(p.fault))
                {
                    wrong.push(format!("not served: {p}"));
                }
            }
        }
        if !wrong.is_empty() {
            let _ = writeln!(
                failures,
                "\n=== {label} of BACKSTOP_METAMORPHIC_SEED={seed} ({gate:?}): {} problem(s)",
                wrong.len()
            );
            for w in &wrong {
                let _ = writeln!(failures, "  - {w}");
            }
            let _ = writeln!(failures, "  plan:");
            for p in plan {
                let _ = writeln!(failures, "    {p}");
            }
            let _ = writeln!(failures, "  served:");
            for s in &served {
                let _ = writeln!(failures, "    {s}");
            }
            let _ = writeln!(failures, "  stderr (end):\n{}", tail(&out.stderr, 15));
        }
    }
    eprintln!(
        "{runs} faulty runs in {:?} overall; faults served: {served_total} ({kinds_served:?})",
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "faults changed or dropped verdicts (rerun with \
         BACKSTOP_METAMORPHIC_SEED={seed} BACKSTOP_METAMORPHIC_RUNS={runs}{extra_env}):{failures}"
    );
    // Not vacuous: faults were served and some became errors.
    assert!(served_total >= specs.len(), "{served_total} faults served");
    assert!(runs_with_errors > 0, "no run had an error result");
    if runs >= KINDS.len() {
        for kind in KINDS {
            assert!(kinds_served.contains(&kind), "{kind:?} never served");
        }
    }
}
