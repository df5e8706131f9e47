//! CloudWatch Logs: log groups, their retention, encryption and
//! subscription filters (the group's own, and the account-level
//! subscription filter policies that cover it).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudwatchlogs::types::{LogGroup, PolicyType, Scope};

use super::calls::{REPEATED_TOKEN, SeenTokens};
use super::errors::{CallFailure, NotConfigured, Target};
use super::{Ctx, known_type};
use crate::model::Resource;
use crate::model::schema::{LOG_GROUP, ops};

/// The group was deleted between listing and detail: it is not audited
/// (reporting it as failing `logs-centralized` would be false).
const GONE: &[&str] = &["ResourceNotFoundException"];

pub(crate) async fn collect_region(ctx: &Ctx<'_>, region: &str) -> Vec<Resource> {
    let group_type = known_type(LOG_GROUP);
    if !ctx.plan.needs_type(group_type) {
        return Vec::new();
    }
    let listing = ctx.progress.listing(format!("logs in {region}"));
    let mut pages = ctx
        .clients(region)
        .logs
        .describe_log_groups()
        .set_limit(ctx.page_size(1, 50))
        .into_paginator()
        .send();
    let list = ctx.list(
        &ops::LOGS_DESCRIBE_LOG_GROUPS,
        region,
        group_type,
        |cx| pages.poll_next(cx),
        |p| p.next_token(),
    );
    let (listed, policies) = futures::join!(list, account_policies(ctx, region));
    drop(listing);
    let Ok(pages) = listed else {
        return Vec::new();
    };
    // `Some`: the account policies were read; `None`: not planned, or they
    // failed (then every group's subscription_destinations is unknown).
    let policies = policies.and_then(|read| {
        ctx.keep(
            &ops::LOGS_DESCRIBE_ACCOUNT_POLICIES,
            Target::every(group_type, region),
            read,
        )
    });
    let policies = policies.as_deref();
    let groups = pages
        .into_iter()
        .flat_map(|p| p.log_groups.unwrap_or_default());
    ctx.read_each(groups, |group| log_group(ctx, region, group, policies))
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// An account-level subscription filter policy: where it sends events and
/// which groups it leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AccountPolicy {
    destination: String,
    /// Names from `selectionCriteria`'s `LogGroupName NOT IN [...]`; empty:
    /// every group of the region.
    excluded: BTreeSet<String>,
}

impl AccountPolicy {
    fn covers(&self, group: &str) -> bool {
        !self.excluded.contains(group)
    }
}

/// The region's account-level subscription filter policies (every page).
/// `None` when not planned; an error when the call failed or a policy
/// cannot be understood (coverage is never guessed).
async fn account_policies(
    ctx: &Ctx<'_>,
    region: &str,
) -> Option<Result<Vec<AccountPolicy>, CallFailure>> {
    let op = &ops::LOGS_DESCRIBE_ACCOUNT_POLICIES;
    if !ctx.plan.needs(op) {
        return None;
    }
    let client = &ctx.clients(region).logs;
    let mut policies = Vec::new();
    let mut token: Option<String> = None;
    let mut seen = SeenTokens::default();
    loop {
        let call = client
            .describe_account_policies()
            .policy_type(PolicyType::SubscriptionFilterPolicy)
            .set_next_token(token.clone())
            .send();
        let page = match ctx.detail(op, region, call).await {
            Ok(page) => page,
            Err(err) => return Some(Err(CallFailure::from_sdk(&err))),
        };
        for policy in page.account_policies() {
            if policy.policy_type() != Some(&PolicyType::SubscriptionFilterPolicy) {
                continue;
            }
            match account_policy(policy) {
                Ok(p) => policies.push(p),
                Err(message) => {
                    let name = policy.policy_name().unwrap_or("(unnamed)");
                    return Some(Err(CallFailure::new(
                        "ResponseError",
                        format!("account policy {name:?}: {message}, so its coverage is unknown"),
                    )));
                }
            }
        }
        // A token already received means the listing cycles.
        if !seen.first_time(&page, |p| p.next_token()) {
            return Some(Err(CallFailure::new("ResponseError", REPEATED_TOKEN)));
        }
        match page.next_token().filter(|t| !t.is_empty()) {
            None => break,
            Some(next) => token = Some(next.to_string()),
        }
    }
    Some(Ok(policies))
}

/// Reads one subscription filter policy: `DestinationArn` from its JSON
/// document, the excluded groups from its selection criteria.
fn account_policy(
    policy: &aws_sdk_cloudwatchlogs::types::AccountPolicy,
) -> Result<AccountPolicy, String> {
    match policy.scope() {
        None | Some(Scope::All) => {}
        Some(other) => return Err(format!("unknown scope {:?}", other.as_str())),
    }
    let document: serde_json::Value = serde_json::from_str(policy.policy_document().unwrap_or(""))
        .map_err(|e| format!("policyDocument is not JSON ({e})"))?;
    let destination = document
        .get("DestinationArn")
        .and_then(|d| d.as_str())
        .filter(|d| !d.is_empty())
        .ok_or("policyDocument has no DestinationArn")?;
    Ok(AccountPolicy {
        destination: destination.to_string(),
        excluded: excluded_groups(policy.selection_criteria().unwrap_or(""))?,
    })
}

/// Parses a subscription filter policy's selection criteria. AWS documents
/// one form, `LogGroupName NOT IN ["name1", "name2"]`; absent or empty
/// criteria select every group. Anything else is an error.
fn excluded_groups(criteria: &str) -> Result<BTreeSet<String>, String> {
    let unknown = || format!("selectionCriteria {criteria:?} is not `LogGroupName NOT IN [...]`");
    let text = criteria.trim();
    if text.is_empty() {
        return Ok(BTreeSet::new());
    }
    // `word` (case-insensitive) and then whitespace or `[`.
    let keyword = |text: &'_ str, word: &str| -> Option<String> {
        let head = text.get(..word.len())?;
        let rest = &text[word.len()..];
        (head.eq_ignore_ascii_case(word)
            && rest.starts_with(|c: char| c.is_whitespace() || c == '['))
        .then(|| rest.trim_start().to_string())
    };
    let list = text
        .strip_prefix("LogGroupName")
        .filter(|rest| rest.starts_with(char::is_whitespace))
        .and_then(|rest| keyword(rest.trim_start(), "NOT"))
        .and_then(|rest| keyword(&rest, "IN"))
        .filter(|list| list.starts_with('['))
        .ok_or_else(unknown)?;
    let names: Vec<String> = serde_json::from_str(&list).map_err(|_| unknown())?;
    Ok(names.into_iter().collect())
}

/// `None` when the group no longer exists.
async fn log_group(
    ctx: &Ctx<'_>,
    region: &str,
    group: LogGroup,
    policies: Option<&[AccountPolicy]>,
) -> Option<Resource> {
    let group_type = known_type(LOG_GROUP);
    let client = &ctx.clients(region).logs;
    let name = group.log_group_name().unwrap_or_default().to_string();
    // `arn` ends in ":*"; `logGroupArn` is the group's own ARN.
    let arn = group
        .log_group_arn()
        .map(str::to_string)
        .or_else(|| group.arn().map(|a| a.trim_end_matches(":*").to_string()))
        .unwrap_or_default();
    let mut r = ctx.resource(group_type, &name, &arn, region);
    r.set("retention_days", group.retention_in_days())
        .set("kms_key_id", group.kms_key_id())
        .set("stored_bytes", group.stored_bytes());

    // Both calls are read before either failure is recorded: a group
    // deleted since the listing is not audited, so neither are its failures.
    let subscriptions_op = &ops::LOGS_DESCRIBE_SUBSCRIPTION_FILTERS;
    let subscriptions = async {
        if !ctx.plan.needs(subscriptions_op) {
            return None;
        }
        let mut pages = client
            .describe_subscription_filters()
            .log_group_name(&name)
            .set_limit(ctx.page_size(1, 50))
            .into_paginator()
            .send();
        let read = ctx.ask_pages(
            subscriptions_op,
            region,
            |cx| pages.poll_next(cx),
            |p| p.next_token(),
            NotConfigured::When(GONE, None),
            |pages| {
                let mut destinations: Vec<String> = pages
                    .iter()
                    .flat_map(|p| p.subscription_filters())
                    .filter_map(|f| f.destination_arn().map(str::to_string))
                    .collect();
                destinations.sort();
                destinations.dedup();
                Ok(Some(destinations))
            },
        );
        Some(read.await)
    };
    let tags_op = &ops::LOGS_LIST_TAGS;
    let tags = async {
        if !ctx.plan.needs(tags_op) {
            return None;
        }
        if arn.is_empty() {
            return Some(Err(CallFailure::new(
                "ResponseError",
                "DescribeLogGroups gave no ARN, so the group's tags cannot be read",
            )));
        }
        let read = ctx.ask(
            tags_op,
            region,
            client.list_tags_for_resource().resource_arn(&arn).send(),
            NotConfigured::When(GONE, None),
            |out| {
                Ok(Some(
                    out.tags()
                        .map(|t| {
                            t.iter()
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect::<BTreeMap<_, _>>()
                        })
                        .unwrap_or_default(),
                ))
            },
        );
        Some(read.await)
    };
    let (subscriptions, tags) = futures::join!(subscriptions, tags);
    if matches!(subscriptions, Some(Ok(None))) || matches!(tags, Some(Ok(None))) {
        return None;
    }
    let target = Target::resource(group_type, region, &name);
    let destinations = subscriptions.and_then(|read| ctx.keep(subscriptions_op, target, read));
    // Known only when the account policies were read too.
    if let (Some(Some(mut destinations)), Some(policies)) = (destinations, policies) {
        destinations.extend(
            policies
                .iter()
                .filter(|p| p.covers(&name))
                .map(|p| p.destination.clone()),
        );
        destinations.sort();
        destinations.dedup();
        r.set("subscription_destinations", destinations);
    }
    if let Some(Some(tags)) = tags.and_then(|read| ctx.keep(tags_op, target, read)) {
        r.set_tags(tags);
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn selection_criteria_parse() {
        assert_eq!(excluded_groups(""), Ok(BTreeSet::new()));
        assert_eq!(
            excluded_groups(r#"LogGroupName NOT IN ["a", "/b/c"]"#),
            Ok(names(&["a", "/b/c"]))
        );
        assert_eq!(
            excluded_groups(r#"  LogGroupName  not  in  []"#),
            Ok(BTreeSet::new())
        );
        for bad in [
            r#"LogGroupName IN ["a"]"#,
            r#"LogGroupNamePrefix NOT IN ["a"]"#,
            r#"LogGroupName NOT IN "a""#,
            r#"LogGroupName NOT IN ['a']"#,
            r#"LogGroupName NOT INTO ["a"]"#,
            r#"LogGroupName NOT IN ["a"] OR x"#,
            "LogGroupNamePrefix /app",
        ] {
            assert!(excluded_groups(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn policies_need_a_destination() {
        let policy = |doc: &str, criteria: Option<&str>| {
            aws_sdk_cloudwatchlogs::types::AccountPolicy::builder()
                .policy_name("p")
                .policy_type(PolicyType::SubscriptionFilterPolicy)
                .policy_document(doc)
                .set_selection_criteria(criteria.map(str::to_string))
                .build()
        };
        let read = account_policy(&policy(
            r#"{"DestinationArn": "arn:aws:kinesis:us-east-1:1:stream/s"}"#,
            Some(r#"LogGroupName NOT IN ["x"]"#),
        ))
        .unwrap();
        assert_eq!(read.destination, "arn:aws:kinesis:us-east-1:1:stream/s");
        assert!(!read.covers("x"));
        assert!(read.covers("y"));
        assert!(account_policy(&policy("{}", None)).is_err());
        assert!(account_policy(&policy("not json", None)).is_err());
    }
}
