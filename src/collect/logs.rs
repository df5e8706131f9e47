//! CloudWatch Logs: log groups, their retention, encryption and
//! subscription filters.

use std::collections::BTreeMap;

use aws_sdk_cloudwatchlogs::types::LogGroup;
use futures::StreamExt;

use super::errors::{Failure, detail_error, is_not_configured, listing_error};
use super::{Ctx, all_pages, kind};
use crate::model::Resource;
use crate::model::schema::{LOG_GROUP, ops};

/// The group was deleted between listing and detail: it is not audited
/// (reporting it as failing `logs-centralized` would be false).
const GONE: &[&str] = &["ResourceNotFoundException"];

pub(crate) async fn collect_region(ctx: &Ctx<'_>, region: &str) -> Vec<Resource> {
    let group_kind = kind(LOG_GROUP);
    if !ctx.plan.needs_type(group_kind) {
        return Vec::new();
    }
    let op = &ops::LOGS_DESCRIBE_LOG_GROUPS;
    let request = ctx
        .clients(region)
        .logs
        .describe_log_groups()
        .set_limit(ctx.page_size(1, 50));
    let groups: Vec<LogGroup> =
        match all_pages!(ctx, op, request.into_paginator(), |p| p.next_token()) {
            Ok(pages) => pages
                .into_iter()
                .flat_map(|p| p.log_groups.unwrap_or_default())
                .collect(),
            Err(err) => {
                ctx.record(listing_error(
                    op,
                    region,
                    group_kind,
                    Failure::from_sdk(&err),
                ));
                return Vec::new();
            }
        };
    futures::stream::iter(groups)
        .map(|group| log_group(ctx, region, group))
        .buffer_unordered(ctx.concurrency)
        .filter_map(|group| async move { group })
        .collect()
        .await
}

/// `None` when the group no longer exists.
async fn log_group(ctx: &Ctx<'_>, region: &str, group: LogGroup) -> Option<Resource> {
    let group_kind = kind(LOG_GROUP);
    let client = &ctx.clients(region).logs;
    let name = group.log_group_name().unwrap_or_default().to_string();
    // `arn` ends in ":*"; `logGroupArn` is the group's own ARN.
    let arn = group
        .log_group_arn()
        .map(str::to_string)
        .or_else(|| group.arn().map(|a| a.trim_end_matches(":*").to_string()))
        .unwrap_or_default();
    let mut r = ctx.resource(group_kind, &name, &arn, region);
    r.set("retention_days", group.retention_in_days())
        .set("kms_key_id", group.kms_key_id())
        .set("stored_bytes", group.stored_bytes());

    let subscriptions = async {
        let op = &ops::LOGS_DESCRIBE_SUBSCRIPTION_FILTERS;
        if !ctx.plan.needs(op) {
            return None;
        }
        let request = client
            .describe_subscription_filters()
            .log_group_name(&name)
            .set_limit(ctx.page_size(1, 50));
        let _permit = ctx.permit().await;
        Some(
            match all_pages!(ctx, op, request.into_paginator(), |p| p.next_token()) {
                Ok(pages) => {
                    let mut destinations: Vec<String> = pages
                        .iter()
                        .flat_map(|p| p.subscription_filters())
                        .filter_map(|f| f.destination_arn().map(str::to_string))
                        .collect();
                    destinations.sort();
                    destinations.dedup();
                    Ok(Some(destinations))
                }
                Err(err) if is_not_configured(&err, GONE) => Ok(None),
                Err(err) => Err(Failure::from_sdk(&err)),
            },
        )
    };
    let tags = async {
        let op = &ops::LOGS_LIST_TAGS;
        if !ctx.plan.needs(op) {
            return None;
        }
        if arn.is_empty() {
            return Some(Err(Failure::new(
                "ResponseError",
                "DescribeLogGroups gave no ARN, so the group's tags cannot be read",
            )));
        }
        let call = client.list_tags_for_resource().resource_arn(&arn).send();
        Some(match ctx.detail(op, call).await {
            Ok(out) => Ok(Some(
                out.tags()
                    .map(|t| {
                        t.iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect::<BTreeMap<_, _>>()
                    })
                    .unwrap_or_default(),
            )),
            Err(err) if is_not_configured(&err, GONE) => Ok(None),
            Err(err) => Err(Failure::from_sdk(&err)),
        })
    };
    let (subscriptions, tags) = futures::join!(subscriptions, tags);
    if matches!(subscriptions, Some(Ok(None))) || matches!(tags, Some(Ok(None))) {
        return None;
    }
    match subscriptions {
        None | Some(Ok(None)) => {}
        Some(Ok(Some(destinations))) => {
            r.set("subscription_destinations", destinations);
        }
        Some(Err(failure)) => ctx.record(detail_error(
            &ops::LOGS_DESCRIBE_SUBSCRIPTION_FILTERS,
            region,
            group_kind,
            Some(&name),
            failure,
        )),
    }
    match tags {
        None | Some(Ok(None)) => {}
        Some(Ok(Some(tags))) => r.tags = tags,
        Some(Err(failure)) => ctx.record(detail_error(
            &ops::LOGS_LIST_TAGS,
            region,
            group_kind,
            Some(&name),
            failure,
        )),
    }
    Some(r)
}
