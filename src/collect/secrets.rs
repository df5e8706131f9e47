//! Secrets Manager: secrets (those scheduled for deletion included), their
//! replicas and replication status.
//!
//! `ListSecrets` gives everything but the replicas: its entries carry no
//! `ReplicationStatus`, so each secret takes a `DescribeSecret` when a rule
//! reads its replicas. A replica is listed in its own region with
//! `PrimaryRegion` naming the primary's; it is collected like any secret, and
//! rules that judge only primaries say so with `primary_region`.

use std::collections::BTreeMap;

use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::{ReplicationStatusType, SecretListEntry};

use super::errors::{CallFailure, NotConfigured, Target};
use super::{Ctx, known_type, timestamp};
use crate::model::schema::{REPLICA_STATUSES, SECRET, ops};
use crate::model::{Resource, Value};

/// The secret was deleted for good between listing and detail: it is not
/// audited (it no longer exists to be judged).
const GONE: &[&str] = &["ResourceNotFoundException"];

pub(crate) async fn collect_region(ctx: &Ctx<'_>, region: &str) -> Vec<Resource> {
    let secret_kind = known_type(SECRET);
    if !ctx.plan.needs_type(secret_kind) {
        return Vec::new();
    }
    let listing = ctx.progress.listing(format!("secrets in {region}"));
    let mut pages = ctx
        .clients(region)
        .secrets
        .list_secrets()
        // A secret scheduled for deletion is still there (and restorable):
        // leaving it out would hide it from secrets-not-pending-deletion.
        .include_planned_deletion(true)
        .set_max_results(ctx.page_size(1, 100))
        .into_paginator()
        .send();
    let Ok(pages) = ctx
        .list(
            &ops::SECRETS_LIST_SECRETS,
            region,
            secret_kind,
            |cx| pages.poll_next(cx),
            |p| p.next_token(),
        )
        .await
    else {
        return Vec::new();
    };
    drop(listing);
    let secrets = pages
        .into_iter()
        .flat_map(|p| p.secret_list.unwrap_or_default());
    ctx.read_each(secrets, |entry| secret(ctx, region, entry))
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Maps one `ListSecrets` entry (everything but the replicas).
fn listed_secret(ctx: &Ctx<'_>, region: &str, entry: &SecretListEntry) -> Resource {
    let name = entry.name().unwrap_or_default();
    let mut r = ctx.resource(
        known_type(SECRET),
        name,
        entry.arn().unwrap_or_default(),
        region,
    );
    r.set("name", name)
        .set("kms_key_id", entry.kms_key_id())
        // Secrets Manager leaves out the fields that have no value: without
        // PrimaryRegion the secret is its own primary, without
        // RotationEnabled its rotation was never configured.
        .set("primary_region", entry.primary_region().unwrap_or(region))
        .set("deleted_date", entry.deleted_date().and_then(timestamp))
        .set(
            "rotation_enabled",
            entry.rotation_enabled().unwrap_or(false),
        );
    r.set_tags(
        entry
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
            .collect(),
    );
    r
}

/// `None` when the secret no longer exists.
async fn secret(ctx: &Ctx<'_>, region: &str, entry: SecretListEntry) -> Option<Resource> {
    let mut r = listed_secret(ctx, region, &entry);
    let call = ctx
        .clients(region)
        .secrets
        .describe_secret()
        .secret_id(entry.arn().unwrap_or(&r.id))
        .send();
    let replicas = ctx
        .fetch(
            &ops::SECRETS_DESCRIBE_SECRET,
            Target::resource(known_type(SECRET), region, &r.id),
            call,
            NotConfigured::When(GONE, None),
            |out| replicas(&out).map(Some),
        )
        .await;
    match replicas {
        // Not planned, or failed (recorded): the replicas stay unknown.
        None => {}
        Some(None) => return None,
        Some(Some(replicas)) => {
            let in_sync: Vec<Value> = replicas
                .iter()
                .filter(|replica| replica["status"] == Value::from("InSync"))
                .map(|replica| replica["region"].clone())
                .collect();
            r.set("replica_regions", Value::List(in_sync))
                .set("replicas", replicas);
        }
    }
    Some(r)
}

/// The `replicas` of a `DescribeSecret` answer; no `ReplicationStatus`
/// means no replica.
fn replicas(out: &DescribeSecretOutput) -> Result<Vec<BTreeMap<String, Value>>, CallFailure> {
    out.replication_status().iter().map(replica).collect()
}

fn replica(status: &ReplicationStatusType) -> Result<BTreeMap<String, Value>, CallFailure> {
    let region = status.region().ok_or_else(|| {
        CallFailure::new(
            "ResponseError",
            "DescribeSecret named a replica without its region",
        )
    })?;
    let state = match status.status().map(|s| s.as_str()) {
        Some(known) if REPLICA_STATUSES.contains(&known) => Value::from(known),
        other => {
            tracing::warn!(
                "secret replica in {region}: status {other:?}, which backstop does not know; \
                 left unknown"
            );
            Value::Unknown
        }
    };
    Ok(BTreeMap::from([
        ("region".to_string(), Value::from(region)),
        ("status".to_string(), state),
        (
            "status_message".to_string(),
            Value::from(status.status_message()),
        ),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_secretsmanager::types::StatusType;

    fn status(region: Option<&str>, state: &str) -> ReplicationStatusType {
        ReplicationStatusType::builder()
            .set_region(region.map(str::to_string))
            .status(StatusType::from(state))
            .build()
    }

    #[test]
    fn replicas_keep_their_status_and_refuse_a_missing_region() {
        let out = DescribeSecretOutput::builder()
            .replication_status(status(Some("eu-west-1"), "InSync"))
            .replication_status(status(Some("us-west-2"), "Failed"))
            .replication_status(status(Some("ap-south-1"), "Sideways"))
            .build();
        let read = replicas(&out).unwrap();
        assert_eq!(read[0]["status"], Value::from("InSync"));
        assert_eq!(read[1]["region"], Value::from("us-west-2"));
        assert_eq!(read[1]["status"], Value::from("Failed"));
        assert!(read[1]["status_message"].is_null());
        assert!(
            read[2]["status"].is_unknown(),
            "a new status is not guessed"
        );
        assert!(
            replicas(&DescribeSecretOutput::builder().build())
                .unwrap()
                .is_empty()
        );
        let nameless = DescribeSecretOutput::builder()
            .replication_status(status(None, "InSync"))
            .build();
        assert_eq!(replicas(&nameless).unwrap_err().code, "ResponseError");
    }
}
