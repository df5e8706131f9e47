//! AWS Backup protected resources, recovery points, backup, restore and
//! copy jobs, and the AWS Backup copies of RDS instances.
//!
//! moto 5.1.22 does not implement ListProtectedResources (HTTP 404),
//! recovery points, or backup, restore and copy jobs, so everything here
//! runs on recorded AWS wire-format answers served by a [`Stub`] (AWS
//! Backup is a REST-JSON API; STS and RDS answer in the query protocol).

mod support;

use std::sync::Arc;
use std::time::Duration;

use backstop::collect::{CollectOptions, Collected, Credentials, Plan, SdkOverrides, collect_with};
use backstop::model::schema::{self, ops};
use backstop::model::{Inventory, Resource, Value};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use support::stub::{Stub, StubRequest, url_decode};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn rds_arn(kind: &str, id: &str) -> String {
    format!("arn:aws:rds:{REGION}:{ACCOUNT}:{kind}:{id}")
}

fn vault(region: &str, account: &str) -> String {
    format!("arn:aws:backup:{region}:{account}:backup-vault:dr")
}

/// The recovery point a copy of `point` made in `region`'s vault.
fn copy_point(point: &str, region: &str) -> String {
    format!("arn:aws:rds:{region}:{ACCOUNT}:snapshot:awsbackup:copy-of-{point}")
}

/// Epoch seconds `hours` ago, as AWS Backup's REST-JSON answers write
/// timestamps.
fn hours_ago(hours: i64) -> f64 {
    (Timestamp::now() - SignedDuration::from_hours(hours)).as_second() as f64
}

fn error(status: u16, code: &str, message: &str) -> (u16, String) {
    (
        status,
        json!({ "__type": code, "message": message }).to_string(),
    )
}

/// The recorded account: the RDS instance `orders` (two pages of recovery
/// points, a completed restore 5 days ago that took 25 minutes, a copy of
/// its newest point to eu-central-1 and one of an older point within its
/// own region), the Aurora cluster `ledger` whose recovery points cannot
/// be read, and an EBS volume whose restore jobs cannot be read. The
/// protected resources come in two pages. `copies` answers ListCopyJobs,
/// `described` DescribeRecoveryPoint (given the copy's ARN and the region
/// the request was signed for).
struct Account {
    empty: bool,
    copies: Box<dyn Fn() -> (u16, String) + Send + Sync>,
    described: Box<Describe>,
}

/// Answers DescribeRecoveryPoint: given the copy's ARN and the region the
/// request was signed for.
type Describe = dyn Fn(&str, &str) -> (u16, String) + Send + Sync;

/// A copy of one of `orders`' points: the point, the destination region
/// and the destination vault's account.
type CopyOf<'a> = (&'a str, &'a str, &'a str);

fn answer(account: &Account, request: &StubRequest) -> (u16, String) {
    if request.method == "POST" {
        return query_answer(account, &request.form());
    }
    let path = url_decode(&request.path);
    let (route, query) = path.split_once('?').unwrap_or((&path, ""));
    let orders = rds_arn("db", "orders");
    let ledger = rds_arn("cluster", "ledger");
    let volume = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-1");
    if route == "/resources" {
        if account.empty {
            return (200, json!({ "Results": [] }).to_string());
        }
        let protected = |arn: &str, kind: &str| json!({ "ResourceArn": arn, "ResourceType": kind, "LastBackupTime": hours_ago(2) });
        let page = if query.contains("nextToken=page-2") {
            json!({ "Results": [protected(&volume, "EBS")] })
        } else {
            json!({
                "Results": [protected(&orders, "RDS"), protected(&ledger, "Aurora")],
                "NextToken": "page-2",
            })
        };
        return (200, page.to_string());
    }
    if route == "/copy-jobs" {
        assert!(query.contains("state=COMPLETED"), "{query}");
        return (account.copies)();
    }
    if let Some(rest) = route.strip_prefix("/backup-vaults/") {
        let (vault, copy) = rest
            .split_once("/recovery-points/")
            .expect("DescribeRecoveryPoint");
        assert_eq!(vault, "dr");
        let region = request.signing_region().unwrap_or_default();
        return (account.described)(copy, &region);
    }
    if route == "/backup-jobs" {
        let jobs = json!({ "BackupJobs": [
            { "ResourceArn": orders, "State": "COMPLETED",
              "CreatedBy": { "BackupPlanId": "plan-daily" } },
            { "ResourceArn": orders, "State": "FAILED",
              "CreatedBy": { "BackupPlanId": "plan-hourly" } },
            { "ResourceArn": volume, "State": "COMPLETED" },
        ]});
        return (200, jobs.to_string());
    }
    let point = |id: &str, hours: i64, status: &str| {
        json!({
            "RecoveryPointArn": format!("arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:awsbackup:{id}"),
            "CreationDate": hours_ago(hours),
            "Status": status,
        })
    };
    if let Some(resource) = route
        .strip_prefix("/resources/")
        .and_then(|r| r.strip_suffix("/recovery-points"))
    {
        return match resource {
            r if r == orders && query.contains("nextToken=page-2") => (
                200,
                json!({ "RecoveryPoints": [point("rp-old", 72, "COMPLETED")] }).to_string(),
            ),
            r if r == orders => (
                200,
                json!({
                    "RecoveryPoints": [point("rp-new", 3, "COMPLETED"), point("rp-partial", 1, "PARTIAL")],
                    "NextToken": "page-2",
                })
                .to_string(),
            ),
            r if r == ledger => error(
                403,
                "AccessDeniedException",
                "not authorized to perform: backup:ListRecoveryPointsByResource",
            ),
            _ => (200, json!({ "RecoveryPoints": [] }).to_string()),
        };
    }
    if let Some(resource) = route
        .strip_prefix("/resources/")
        .and_then(|r| r.strip_suffix("/restore-jobs"))
    {
        return match resource {
            r if r == orders => {
                let jobs = json!({ "RestoreJobs": [
                    { "RestoreJobId": "r-1", "Status": "COMPLETED",
                      "CreationDate": hours_ago(120), "CompletionDate": hours_ago(120) + 1500.0 },
                    { "RestoreJobId": "r-2", "Status": "RUNNING", "CreationDate": hours_ago(1) },
                ]});
                (200, jobs.to_string())
            }
            r if r == volume => error(400, "ThrottlingException", "Rate exceeded"),
            _ => (200, json!({ "RestoreJobs": [] }).to_string()),
        };
    }
    panic!("not canned: {} {path}", request.method)
}

fn query_answer(
    account: &Account,
    form: &std::collections::BTreeMap<String, String>,
) -> (u16, String) {
    let action = form.get("Action").map(String::as_str).unwrap_or_default();
    let (xmlns, result) = match action {
        "GetCallerIdentity" => (
            "https://sts.amazonaws.com/doc/2011-06-15/",
            format!(
                "<Arn>arn:aws:iam::{ACCOUNT}:user/auditor</Arn><UserId>AIDAEXAMPLE</UserId>\
                 <Account>{ACCOUNT}</Account>"
            ),
        ),
        "DescribeDBInstances" => {
            let instance = |id: &str| {
                format!(
                    "<DBInstance><DBInstanceIdentifier>{id}</DBInstanceIdentifier>\
                     <DBInstanceArn>{}</DBInstanceArn><Engine>postgres</Engine>\
                     <BackupRetentionPeriod>7</BackupRetentionPeriod><TagList/></DBInstance>",
                    rds_arn("db", id)
                )
            };
            let instances = if account.empty {
                instance("plain")
            } else {
                instance("orders") + &instance("plain")
            };
            (
                "http://rds.amazonaws.com/doc/2014-10-31/",
                format!("<DBInstances>{instances}</DBInstances>"),
            )
        }
        other => panic!("not canned: {other}"),
    };
    let body = format!(
        "<{action}Response xmlns=\"{xmlns}\"><{action}Result>{result}</{action}Result>\
         <ResponseMetadata><RequestId>0</RequestId></ResponseMetadata></{action}Response>"
    );
    (200, body)
}

/// A ListCopyJobs answer: completed copies of `orders`, each of one of
/// its recovery points to a vault `dr` of an account in a region.
fn copies_of_orders(copies: &[CopyOf<'_>]) -> (u16, String) {
    let jobs: Vec<_> = copies
        .iter()
        .map(|(point, region, account)| {
            json!({
                "CopyJobId": format!("copy-{point}-{region}"),
                "ResourceArn": rds_arn("db", "orders"),
                "SourceRecoveryPointArn": format!("arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:awsbackup:{point}"),
                "DestinationBackupVaultArn": vault(region, account),
                "DestinationRecoveryPointArn": copy_point(point, region),
                "State": "COMPLETED",
                "CreationDate": hours_ago(0),
            })
        })
        .collect();
    (200, json!({ "CopyJobs": jobs }).to_string())
}

/// Completed copies of `orders`: its newest point to eu-central-1, an
/// older one within us-east-1.
fn orders_copies() -> (u16, String) {
    copies_of_orders(&[
        ("rp-new", "eu-central-1", ACCOUNT),
        ("rp-old", REGION, ACCOUNT),
    ])
}

/// A DescribeRecoveryPoint answer: the copy `arn`, in `status`.
fn recovery_point(arn: &str, status: &str) -> (u16, String) {
    let point = json!({
        "RecoveryPointArn": arn,
        "BackupVaultName": "dr",
        "Status": status,
        "CreationDate": hours_ago(0),
    });
    (200, point.to_string())
}

/// Every copy is still there.
fn all_there(arn: &str, _region: &str) -> (u16, String) {
    recovery_point(arn, "COMPLETED")
}

/// The DescribeRecoveryPoint requests received: the copy asked about and
/// the region the request was signed for.
fn described(stub: &Stub) -> Vec<(String, String)> {
    stub.requests()
        .iter()
        .filter_map(|r| {
            let path = url_decode(&r.path);
            let (_, copy) = path.split_once("/recovery-points/")?;
            path.starts_with("/backup-vaults/")
                .then(|| (copy.to_string(), r.signing_region().unwrap_or_default()))
        })
        .collect()
}

fn start(account: Account) -> Stub {
    let account = Arc::new(account);
    Stub::start_canned(move |request| answer(&account, request))
}

/// What `backstop audit` plans for the AWS Backup rules and
/// rds-cross-region-backups' AWS Backup copies.
fn backup_plan() -> Plan {
    let protected = schema::resource_type(schema::BACKUP_PROTECTED_RESOURCE).unwrap();
    let mut plan = Plan::default();
    plan.add_type(
        protected,
        protected.attributes.iter().map(|a| a.name),
        false,
    );
    plan.extend(copy_time_plan().operations());
    plan
}

/// What rds-cross-region-backups' AWS Backup copies alone need.
fn copy_time_plan() -> Plan {
    let mut plan = Plan::default();
    plan.add_type(
        schema::resource_type(schema::DB_INSTANCE).unwrap(),
        ["aws_backup_cross_region_copy_time"],
        false,
    );
    plan
}

async fn collect(stub: &Stub, plan: Plan, page_size: Option<i32>) -> Collected {
    let options = CollectOptions {
        regions: vec![REGION.to_string()],
        operation_timeout: Duration::from_secs(10),
        plan,
        ..CollectOptions::default()
    };
    let overrides = SdkOverrides {
        endpoint_url: Some(stub.endpoint.clone()),
        credentials: Some(Credentials::new("testing", "testing", None, None, "test")),
        max_attempts: Some(1),
        page_size,
    };
    collect_with(&options, &overrides).await.unwrap()
}

fn find<'a>(inv: &'a Inventory, kind: &str, id: &str) -> &'a Resource {
    inv.resources
        .iter()
        .find(|r| r.resource_type.name == kind && r.id == id)
        .unwrap_or_else(|| panic!("no {kind} {id}"))
}

fn time_hours_ago(value: &Value) -> i64 {
    let Value::Time(t) = value else {
        panic!("not a time: {value:?}")
    };
    (Timestamp::now().as_second() - t.as_second() + 1800) / 3600
}

/// Every attribute read from paginated answers (errors sorted by resource); a recovery point listing
/// and a restore job listing that fail leave just their attributes of
/// their resource unknown, each recorded; a copy is dated by the point it
/// copied, and a copy within the region does not count.
#[tokio::test]
async fn protected_resources_and_copies_from_recorded_answers() {
    let stub = start(Account {
        empty: false,
        copies: Box::new(orders_copies),
        described: Box::new(all_there),
    });
    let collected = collect(&stub, backup_plan(), Some(2)).await;
    let inv = &collected.inventory;
    let kind = schema::BACKUP_PROTECTED_RESOURCE;

    let orders = find(inv, kind, &rds_arn("db", "orders"));
    assert_eq!(orders.arn, rds_arn("db", "orders"));
    assert_eq!(orders.get("resource_type"), &Value::from("RDS"));
    assert_eq!(time_hours_ago(orders.get("last_backup_time")), 2);
    // rp-partial (1h) is not completed; rp-old is on the second page.
    assert_eq!(time_hours_ago(orders.get("last_recovery_point_time")), 3);
    assert_eq!(
        orders.get("plan_ids"),
        &Value::from(vec!["plan-daily".to_string(), "plan-hourly".to_string()])
    );
    // The running restore says nothing yet: the completed one counts.
    assert_eq!(time_hours_ago(orders.get("last_restore_job_time")), 120);
    assert_eq!(
        orders.get("last_restore_job_status"),
        &Value::from("COMPLETED")
    );
    assert_eq!(
        orders.get("last_restore_duration_seconds"),
        &Value::Int(1500)
    );

    let ledger = find(inv, kind, &rds_arn("cluster", "ledger"));
    assert!(ledger.get("last_recovery_point_time").is_unknown());
    assert_eq!(ledger.get("last_restore_job_time"), &Value::Null);
    assert_eq!(ledger.get("last_restore_job_status"), &Value::Null);
    assert_eq!(ledger.get("plan_ids"), &Value::List(Vec::new()));

    let volume = find(
        inv,
        kind,
        &format!("arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-1"),
    );
    assert_eq!(volume.get("last_recovery_point_time"), &Value::Null);
    assert!(volume.get("last_restore_job_time").is_unknown());
    assert!(volume.get("last_restore_duration_seconds").is_unknown());

    let copy_time = |id: &str| {
        find(inv, schema::DB_INSTANCE, id)
            .get("aws_backup_cross_region_copy_time")
            .clone()
    };
    assert_eq!(time_hours_ago(&copy_time("orders")), 3);
    assert_eq!(copy_time("plain"), Value::Null);

    let failed: Vec<_> = inv
        .errors
        .iter()
        .map(|e| {
            (
                e.operation.as_str(),
                e.code.as_str(),
                e.resource_id.clone().unwrap_or_default(),
                e.attributes.clone(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            (
                "ListRestoreJobsByProtectedResource",
                "ThrottlingException",
                format!("arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-1"),
                vec![
                    "last_restore_job_time".to_string(),
                    "last_restore_job_status".to_string(),
                    "last_restore_duration_seconds".to_string(),
                ],
            ),
            (
                "ListRecoveryPointsByResource",
                "AccessDeniedException",
                rds_arn("cluster", "ledger"),
                vec!["last_recovery_point_time".to_string()],
            ),
        ]
    );
    // Page size 2: both listings went to their second page.
    assert_eq!(collected.calls_to(&ops::BACKUP_LIST_PROTECTED_RESOURCES), 2);
    assert_eq!(
        collected.calls_to(&ops::BACKUP_LIST_RECOVERY_POINTS_BY_RESOURCE),
        4
    );
}

/// A copy listing that fails is no "no copy": the instances' copy time is
/// unknown, recorded for every instance of the region.
#[tokio::test]
async fn a_failed_copy_listing_leaves_copy_times_unknown() {
    let stub = start(Account {
        empty: false,
        copies: Box::new(|| {
            error(
                403,
                "AccessDeniedException",
                "not authorized: backup:ListCopyJobs",
            )
        }),
        described: Box::new(all_there),
    });
    let collected = collect(&stub, copy_time_plan(), None).await;
    let inv = &collected.inventory;
    for id in ["orders", "plain"] {
        assert!(
            find(inv, schema::DB_INSTANCE, id)
                .get("aws_backup_cross_region_copy_time")
                .is_unknown()
        );
    }
    let [error] = &inv.errors[..] else {
        panic!("{:#?}", inv.errors)
    };
    assert_eq!(error.operation, "ListCopyJobs");
    assert_eq!(error.code, "AccessDeniedException");
    assert_eq!(error.resource_type, schema::DB_INSTANCE);
    assert_eq!(error.resource_id, None);
    assert_eq!(error.attributes, ["aws_backup_cross_region_copy_time"]);
    // No rule reads protected resources: none are in the inventory, and
    // only the copied resource's recovery points were read, to date them
    // (none here: the copies could not be listed).
    assert!(
        inv.resources
            .iter()
            .all(|r| r.resource_type.name == schema::DB_INSTANCE)
    );
    assert_eq!(
        collected.calls_to(&ops::BACKUP_LIST_RECOVERY_POINTS_BY_RESOURCE),
        0
    );
    assert_eq!(
        collected.calls_to(&ops::BACKUP_LIST_RESTORE_JOBS_BY_PROTECTED_RESOURCE),
        0
    );
}

/// Only the copied resource's recovery points are read to date copies
/// when no rule reads protected resources.
#[tokio::test]
async fn copies_alone_read_only_the_copied_resources_points() {
    let stub = start(Account {
        empty: false,
        copies: Box::new(orders_copies),
        described: Box::new(all_there),
    });
    let collected = collect(&stub, copy_time_plan(), None).await;
    assert!(
        collected.inventory.errors.is_empty(),
        "{:#?}",
        collected.inventory.errors
    );
    // The two pages of `orders`' recovery points, no other resource's.
    assert_eq!(
        collected.calls_to(&ops::BACKUP_LIST_RECOVERY_POINTS_BY_RESOURCE),
        2
    );
    let read: Vec<String> = stub
        .requests()
        .iter()
        .map(|r| url_decode(&r.path))
        .filter(|p| p.starts_with("/resources/") && p.contains("/recovery-points"))
        .collect();
    assert!(read.iter().all(|p| p.contains(":db:orders/")), "{read:#?}");
    // Only AWS Backup's own recovery points: RDS's automated snapshots of
    // the same instance would say nothing about the backup plan.
    assert!(
        read.iter()
            .all(|p| p.contains("managedByAWSBackupOnly=true")),
        "{read:#?}"
    );
    let orders = find(&collected.inventory, schema::DB_INSTANCE, "orders");
    assert_eq!(
        time_hours_ago(orders.get("aws_backup_cross_region_copy_time")),
        3
    );
    // The copy that decides is confirmed, in its own region; the copy
    // within the region is not asked about.
    assert_eq!(
        described(&stub),
        [(
            copy_point("rp-new", "eu-central-1"),
            "eu-central-1".to_string()
        )]
    );
    assert_eq!(collected.calls_to(&ops::BACKUP_DESCRIBE_RECOVERY_POINT), 1);
}

/// A listed copy job is no proof that its copy is still there: a copy
/// since deleted (ResourceNotFoundException) or no longer COMPLETED does
/// not count, and the next newest copy is asked about, at most three; a
/// copy to another account's vault is not counted (it cannot be
/// confirmed from this account) nor asked about.
#[tokio::test]
async fn copies_that_are_gone_do_not_count() {
    let gone = |arn: &str, region: &str| -> (u16, String) {
        if arn == copy_point("rp-old", "eu-west-1") {
            assert_eq!(region, "eu-west-1");
            return recovery_point(arn, "COMPLETED");
        }
        if arn == copy_point("rp-partial", "eu-central-1") {
            return recovery_point(arn, "EXPIRED");
        }
        error(404, "ResourceNotFoundException", "Recovery point not found")
    };
    let other = "210987654321";
    let scenarios: [(&[CopyOf<'_>], Option<i64>, usize); 4] = [
        // The newest copy was deleted: the older one counts.
        (
            &[
                ("rp-new", "eu-central-1", ACCOUNT),
                ("rp-old", "eu-west-1", ACCOUNT),
            ],
            Some(72),
            2,
        ),
        // The only copy was deleted: none.
        (&[("rp-new", "eu-central-1", ACCOUNT)], None, 1),
        // Three copies gone or expired: the fourth is not asked about.
        (
            &[
                ("rp-partial", "eu-central-1", ACCOUNT),
                ("rp-new", "eu-central-1", ACCOUNT),
                ("rp-new", "eu-west-1", ACCOUNT),
                ("rp-old", "eu-west-1", ACCOUNT),
            ],
            None,
            3,
        ),
        // A newer copy in another account's vault does not count.
        (
            &[
                ("rp-new", "eu-central-1", other),
                ("rp-old", "eu-west-1", ACCOUNT),
            ],
            Some(72),
            1,
        ),
    ];
    for (copies, hours, asked) in scenarios {
        let listed = copies_of_orders(copies);
        let stub = start(Account {
            empty: false,
            copies: Box::new(move || listed.clone()),
            described: Box::new(gone),
        });
        let collected = collect(&stub, copy_time_plan(), None).await;
        let inv = &collected.inventory;
        assert!(inv.errors.is_empty(), "{copies:?}: {:#?}", inv.errors);
        let time =
            find(inv, schema::DB_INSTANCE, "orders").get("aws_backup_cross_region_copy_time");
        match hours {
            Some(hours) => assert_eq!(time_hours_ago(time), hours, "{copies:?}"),
            None => assert_eq!(time, &Value::Null, "{copies:?}"),
        }
        assert_eq!(described(&stub).len(), asked, "{copies:?}");
        assert!(
            described(&stub)
                .iter()
                .all(|(copy, _)| !copy.contains(other)),
            "{copies:?}"
        );
    }
}

/// A copy whose existence cannot be read is no copy and no absence: the
/// copy time is unknown, recorded against the instance, naming the copy.
#[tokio::test]
async fn a_copy_that_cannot_be_confirmed_leaves_the_copy_time_unknown() {
    let stub = start(Account {
        empty: false,
        copies: Box::new(orders_copies),
        described: Box::new(|_, _| {
            error(
                403,
                "AccessDeniedException",
                "not authorized to perform: backup:DescribeRecoveryPoint",
            )
        }),
    });
    let collected = collect(&stub, copy_time_plan(), None).await;
    let inv = &collected.inventory;
    assert!(
        find(inv, schema::DB_INSTANCE, "orders")
            .get("aws_backup_cross_region_copy_time")
            .is_unknown()
    );
    assert_eq!(
        find(inv, schema::DB_INSTANCE, "plain").get("aws_backup_cross_region_copy_time"),
        &Value::Null
    );
    let [error] = &inv.errors[..] else {
        panic!("{:#?}", inv.errors)
    };
    assert_eq!(error.operation, "DescribeRecoveryPoint");
    assert_eq!(error.code, "AccessDeniedException");
    assert_eq!(error.resource_type, schema::DB_INSTANCE);
    assert_eq!(error.resource_id.as_deref(), Some("orders"));
    assert_eq!(error.attributes, ["aws_backup_cross_region_copy_time"]);
    assert!(
        error
            .message
            .contains(&copy_point("rp-new", "eu-central-1")),
        "{}",
        error.message
    );
}

/// `backstop iam-policy` and the plan name the new call with the copy
/// time.
#[test]
fn the_copy_time_needs_describe_recovery_point() {
    let plan = copy_time_plan();
    assert!(plan.needs(&ops::BACKUP_DESCRIBE_RECOVERY_POINT));
    assert!(
        plan.operations()
            .any(|op| op.iam_action == "backup:DescribeRecoveryPoint")
    );
}

/// An account without AWS Backup: no protected resources, no copies (a
/// known absence), no errors; and no AWS Backup call when no rule needs
/// one.
#[tokio::test]
async fn an_empty_account_and_an_unneeded_service() {
    let stub = start(Account {
        empty: true,
        copies: Box::new(|| (200, json!({ "CopyJobs": [] }).to_string())),
        described: Box::new(all_there),
    });
    let collected = collect(&stub, backup_plan(), None).await;
    let inv = &collected.inventory;
    assert!(inv.errors.is_empty(), "{:#?}", inv.errors);
    assert!(
        !inv.resources
            .iter()
            .any(|r| r.resource_type.name == schema::BACKUP_PROTECTED_RESOURCE)
    );
    assert_eq!(
        find(inv, schema::DB_INSTANCE, "plain").get("aws_backup_cross_region_copy_time"),
        &Value::Null
    );

    let mut plan = Plan::default();
    plan.add_type(
        schema::resource_type(schema::DB_INSTANCE).unwrap(),
        ["backup_retention_days"],
        false,
    );
    let before = stub.requests().len();
    collect(&stub, plan, None).await;
    let backup_calls = stub.requests()[before..]
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(backup_calls, 0);
}
