//! Listings whose continuation tokens go round in a cycle (A, B, A, ...)
//! stop at the first token already received and are errors: never an
//! endless listing, never a short list that looks complete. Offline, on
//! canned answers in AWS's wire format (see tests/support/stub.rs).

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use backstop::collect::{CollectOptions, Collected, Credentials, Plan, SdkOverrides, collect_with};
use backstop::model::schema::{self, ops};
use support::moto::ACCOUNT;
use support::stub::Stub;

const USE1: &str = "us-east-1";

/// A safety valve: past this many requests a stub ends the listing, so a
/// collector that does not notice the cycle fails the test instead of
/// hanging it.
const MAX_REQUESTS: usize = 25;

/// The next token after `token` in the cycle A → B → A: the first page
/// (no token) names "A", "A" names "B", "B" names "A" again. `None` once
/// the safety valve is reached.
fn cycling(token: Option<&str>, served: &AtomicUsize) -> Option<&'static str> {
    if served.fetch_add(1, Ordering::SeqCst) >= MAX_REQUESTS {
        return None;
    }
    Some(match token {
        None | Some("B") => "A",
        Some(_) => "B",
    })
}

fn query_response(action: &str, xmlns: &str, result: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{xmlns}\"><{action}Result>{result}</{action}Result>\
         <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId>\
         </ResponseMetadata></{action}Response>"
    )
}

/// STS's answer, and RDS DescribeDBClusters with cycling markers.
fn query_answer(form: &BTreeMap<String, String>, served: &AtomicUsize) -> (u16, String) {
    match form.get("Action").map(String::as_str) {
        Some("GetCallerIdentity") => (
            200,
            query_response(
                "GetCallerIdentity",
                "https://sts.amazonaws.com/doc/2011-06-15/",
                &format!(
                    "<Arn>arn:aws:iam::{ACCOUNT}:user/auditor</Arn>\
                     <UserId>AIDAEXAMPLE</UserId><Account>{ACCOUNT}</Account>"
                ),
            ),
        ),
        Some("DescribeDBClusters") => {
            let marker = cycling(form.get("Marker").map(String::as_str), served)
                .map(|m| format!("<Marker>{m}</Marker>"))
                .unwrap_or_default();
            (
                200,
                query_response(
                    "DescribeDBClusters",
                    "http://rds.amazonaws.com/doc/2014-10-31/",
                    &format!("<DBClusters></DBClusters>{marker}"),
                ),
            )
        }
        other => (400, format!("not canned: {other:?}")),
    }
}

fn overrides(endpoint: String) -> SdkOverrides {
    SdkOverrides {
        endpoint_url: Some(endpoint),
        credentials: Some(Credentials::new("testing", "testing", None, None, "test")),
        max_attempts: Some(1),
        page_size: None,
    }
}

async fn collect(stub: &Stub, plan: Plan) -> Collected {
    let options = CollectOptions {
        regions: vec![USE1.to_string()],
        operation_timeout: Duration::from_secs(10),
        plan,
        ..CollectOptions::default()
    };
    tokio::time::timeout(
        Duration::from_secs(60),
        collect_with(&options, &overrides(stub.endpoint.clone())),
    )
    .await
    .expect("a cycling listing must end")
    .unwrap()
}

/// The one collection error of `collected`, which must be the cycle's.
fn cycle_error(collected: &Collected, operation: &str, kind: &str) {
    let [error] = &collected.inventory.errors[..] else {
        panic!("{:#?}", collected.inventory.errors)
    };
    assert_eq!(error.operation, operation);
    assert_eq!(error.code, "ResponseError");
    assert!(
        error.message.contains("repeated a continuation token"),
        "{}",
        error.message
    );
    assert_eq!(error.resource_type, kind);
}

/// The SDK's paginator (read through `Ctx::all_pages` for every listing,
/// S3 ListObjectsV2 included) only stops when a token repeats the one just
/// sent; A, B, A would go on for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycling_query_listing_stops_and_is_an_error() {
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let stub = Stub::start(None, move |request| {
        Some(query_answer(&request.form(), &counter))
    });
    let collected = collect(&stub, Plan::new([&ops::RDS_DESCRIBE_DB_CLUSTERS])).await;
    cycle_error(&collected, "DescribeDBClusters", schema::DB_CLUSTER);
    assert!(collected.inventory.errors[0].is_listing_failure());
    // First page, A, B: B names A again, and the listing stops there.
    assert_eq!(collected.calls_to(&ops::RDS_DESCRIBE_DB_CLUSTERS), 3);
    let markers: Vec<_> = stub
        .forms()
        .iter()
        .filter(|f| f["Action"] == "DescribeDBClusters")
        .map(|f| f.get("Marker").cloned())
        .collect();
    assert_eq!(
        markers,
        [None, Some("A".to_string()), Some("B".to_string())]
    );
}

/// The same for a JSON-protocol listing (ECR DescribeRepositories).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycling_json_listing_stops_and_is_an_error() {
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let stub = Stub::start(None, move |request| {
        let Some(target) = request.target.as_deref() else {
            return Some(query_answer(&request.form(), &counter));
        };
        if target != "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories" {
            return None;
        }
        let body = request.json();
        let next = cycling(body.get("nextToken").and_then(|t| t.as_str()), &counter);
        Some((
            200,
            serde_json::json!({ "repositories": [], "nextToken": next }).to_string(),
        ))
    });
    let collected = collect(&stub, Plan::new([&ops::ECR_DESCRIBE_REPOSITORIES])).await;
    cycle_error(&collected, "DescribeRepositories", schema::ECR_REPOSITORY);
    assert_eq!(collected.calls_to(&ops::ECR_DESCRIBE_REPOSITORIES), 3);
}

/// CloudWatch Logs DescribeAccountPolicies is paged by hand (not through a
/// paginator): the same rule holds there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycling_hand_paged_listing_stops_and_is_an_error() {
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let stub = Stub::start(None, move |request| {
        let Some(target) = request.target.as_deref() else {
            return Some(query_answer(&request.form(), &counter));
        };
        let body = request.json();
        let answer = match target {
            "Logs_20140328.DescribeLogGroups" => serde_json::json!({
                "logGroups": [{
                    "logGroupName": "/app/api",
                    "arn": format!("arn:aws:logs:{USE1}:{ACCOUNT}:log-group:/app/api:*"),
                    "logGroupArn": format!("arn:aws:logs:{USE1}:{ACCOUNT}:log-group:/app/api"),
                    "retentionInDays": 30,
                    "storedBytes": 0,
                }]
            }),
            "Logs_20140328.DescribeSubscriptionFilters" => {
                serde_json::json!({ "subscriptionFilters": [] })
            }
            "Logs_20140328.DescribeAccountPolicies" => {
                let next = cycling(body.get("nextToken").and_then(|t| t.as_str()), &counter);
                serde_json::json!({ "accountPolicies": [], "nextToken": next })
            }
            _ => return None,
        };
        Some((200, answer.to_string()))
    });
    let mut plan = Plan::default();
    plan.add_type(
        schema::resource_type(schema::LOG_GROUP).unwrap(),
        ["subscription_destinations"],
        false,
    );
    let collected = collect(&stub, plan).await;
    cycle_error(&collected, "DescribeAccountPolicies", schema::LOG_GROUP);
    assert_eq!(collected.calls_to(&ops::LOGS_DESCRIBE_ACCOUNT_POLICIES), 3);
    let group = collected
        .inventory
        .resources
        .iter()
        .find(|r| r.id == "/app/api")
        .unwrap();
    assert!(
        group.get("subscription_destinations").is_unknown(),
        "never a partial list"
    );
}
