//! S3: buckets (global listing, kept when located in an audited region) and
//! configured export locations.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_s3::types::{ExpirationStatus, ReplicationRuleStatus};
use futures::StreamExt;
use jiff::Timestamp;

use super::errors::{
    CallFailure, NotConfigured, Target, detail_error, is_not_configured, listing_error,
};
use super::{Ctx, SdkError, client_region, known_type, set_enum, timestamp};
use crate::model::ExportLocation;
use crate::model::schema::{S3_BUCKET, S3_EXPORT_LOCATION, ops};
use crate::model::{Resource, Value};

pub(crate) async fn collect(ctx: &Ctx<'_>, exports: &[ExportLocation]) -> Vec<Resource> {
    let mut resources = Vec::new();
    // Bucket name → region, for every bucket whose location is known.
    let mut locations = HashMap::new();
    if ctx.plan.needs_type(known_type(S3_BUCKET)) {
        let (buckets, known) = buckets(ctx).await;
        resources = buckets;
        locations = known;
    }
    if ctx.plan.needs(&ops::S3_LIST_OBJECTS_V2) && !exports.is_empty() {
        let locations = &locations;
        let found: Vec<Option<Resource>> = futures::stream::iter(exports)
            .map(|loc| export_location(ctx, loc, locations.get(&loc.bucket).cloned()))
            .buffer_unordered(ctx.concurrency)
            .collect()
            .await;
        resources.extend(found.into_iter().flatten());
    }
    resources
}

/// `GetBucketLocation`'s answer as a region: empty is us-east-1, `EU` the
/// legacy name of eu-west-1.
fn location_region(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(region) => region.to_string(),
    }
}

async fn bucket_location(
    ctx: &Ctx<'_>,
    client: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<String, CallFailure> {
    ctx.ask(
        &ops::S3_GET_BUCKET_LOCATION,
        &client_region(client.config().region()),
        client.get_bucket_location().bucket(bucket).send(),
        NotConfigured::Never,
        |out| {
            Ok(location_region(
                out.location_constraint().map(|c| c.as_str()),
            ))
        },
    )
    .await
}

/// Lists buckets and reads the details of those in audited regions.
/// Returns them and the known location of every listed bucket.
async fn buckets(ctx: &Ctx<'_>) -> (Vec<Resource>, HashMap<String, String>) {
    let bucket_type = known_type(S3_BUCKET);
    let first = &ctx.regions()[0];
    let client = ctx.clients(first).s3.clone();
    let op = &ops::S3_LIST_BUCKETS;
    let listing = ctx.progress.listing("s3 buckets (all regions)".to_string());
    let mut pages = client.list_buckets().into_paginator().send();
    let pages = ctx
        .all_pages(
            op,
            first,
            |cx| pages.poll_next(cx),
            |p| p.continuation_token(),
        )
        .await;
    let listed: Vec<(String, Option<String>)> = match pages {
        Ok(pages) => pages
            .into_iter()
            .flat_map(|p| p.buckets.unwrap_or_default())
            .filter_map(|b| Some((b.name?, b.bucket_region)))
            .collect(),
        Err(err) => {
            // Buckets are listed once for all regions: none is known anywhere.
            let failure = CallFailure::from_sdk(&err);
            for region in ctx.regions() {
                ctx.record(listing_error(op, region, bucket_type, failure.clone()));
            }
            return (Vec::new(), HashMap::new());
        }
    };

    // AWS now reports BucketRegion in ListBuckets; otherwise (older
    // partitions, S3-compatible services) one GetBucketLocation per bucket.
    let located: Vec<(String, Result<String, CallFailure>)> = futures::stream::iter(listed)
        .map(|(name, region)| {
            let client = &client;
            async move {
                let region = match region.filter(|r| !r.is_empty()) {
                    Some(region) => Ok(region),
                    None => bucket_location(ctx, client, &name).await,
                };
                (name, region)
            }
        })
        .buffer_unordered(ctx.concurrency)
        .collect()
        .await;
    drop(listing);
    let mut locations = HashMap::new();
    let mut audited = Vec::new();
    for (name, region) in located {
        match region {
            Ok(region) => {
                if ctx.is_audited(&region) {
                    audited.push((name.clone(), region.clone()));
                }
                locations.insert(name, region);
            }
            Err(failure) => {
                // Where the bucket lives is unknown: one failure for it, in
                // the region that was asked (scope keeps it whatever its
                // region criteria, see `audit::apply_scope`).
                let mut error =
                    listing_error(&ops::S3_GET_BUCKET_LOCATION, first, bucket_type, failure);
                error.resource_id = Some(name.clone());
                ctx.record(error);
            }
        }
    }

    let detailed: Vec<(Resource, Vec<ReplicationRule>)> = ctx
        .read_each(audited, |(name, region)| bucket(ctx, name, region))
        .await;

    // Resolve replication destinations not seen in the listing (another
    // account's buckets, or deleted ones) with HeadBucket, which names the
    // bucket's region even when it refuses access.
    let unknown: BTreeSet<String> = detailed
        .iter()
        .flat_map(|(_, rules)| rules.iter().map(|r| r.destination_bucket.clone()))
        .filter(|b| !b.is_empty() && !locations.contains_key(b))
        .collect();
    let resolved: Vec<(String, Result<Option<String>, CallFailure>)> =
        futures::stream::iter(unknown)
            .map(|name| {
                let client = &client;
                async move {
                    let region = destination_region(ctx, client, &name).await;
                    (name, region)
                }
            })
            .buffer_unordered(ctx.concurrency)
            .collect()
            .await;
    for (name, region) in resolved {
        match region {
            Ok(Some(region)) => {
                locations.insert(name, region);
            }
            // The bucket does not exist: replication into it copies nothing,
            // and its region is absent.
            Ok(None) => {
                tracing::info!("replication destination bucket {name} does not exist");
            }
            // Refused without naming a region, throttled, timed out, 5xx: the
            // answer might have been "another region", so the replication
            // verdict of each source is unknown.
            Err(failure) => {
                let failure = failure.context(format!(
                    "the region of replication destination bucket {name} could not be resolved"
                ));
                for (source, rules) in &detailed {
                    if rules.iter().any(|r| r.destination_bucket == name) {
                        let target = Target::resource(bucket_type, &source.region, &source.id);
                        ctx.record(detail_error(&ops::S3_HEAD_BUCKET, target, failure.clone()));
                    }
                }
            }
        }
    }

    let resources = detailed
        .into_iter()
        .map(|(mut resource, rules)| {
            if !resource.get("replication_rules").is_null() || !rules.is_empty() {
                let rules: Vec<BTreeMap<String, Value>> = rules
                    .into_iter()
                    .map(|rule| {
                        let region = locations.get(&rule.destination_bucket).cloned();
                        BTreeMap::from([
                            ("id".to_string(), Value::from(rule.id)),
                            ("enabled".to_string(), Value::from(rule.enabled)),
                            (
                                "destination_bucket".to_string(),
                                Value::from(rule.destination_bucket),
                            ),
                            ("destination_region".to_string(), Value::from(region)),
                            ("prefix".to_string(), Value::from(rule.prefix)),
                        ])
                    })
                    .collect();
                resource.set("replication_rules", rules);
            }
            resource
        })
        .collect();
    (resources, locations)
}

/// The key prefix a lifecycle rule is limited to: from its filter, or the
/// legacy rule-level Prefix that old configurations still carry. `None` when
/// a tag or object-size condition narrows it further, so that a rule never
/// looks like it covers the whole bucket when it does not.
#[allow(deprecated)]
fn lifecycle_prefix(rule: &aws_sdk_s3::types::LifecycleRule) -> Option<&str> {
    let Some(filter) = rule.filter() else {
        return Some(rule.prefix().unwrap_or(""));
    };
    let sized =
        filter.object_size_greater_than().is_some() || filter.object_size_less_than().is_some();
    if filter.tag().is_some() || sized {
        return None;
    }
    match filter.and() {
        Some(and) => {
            let narrowed = !and.tags().is_empty()
                || and.object_size_greater_than().is_some()
                || and.object_size_less_than().is_some();
            if narrowed {
                None
            } else {
                Some(and.prefix().unwrap_or(""))
            }
        }
        None => Some(filter.prefix().or(rule.prefix()).unwrap_or("")),
    }
}

struct ReplicationRule {
    id: Option<String>,
    enabled: bool,
    destination_bucket: String,
    /// `Some("")` for the whole bucket; `None` when the rule selects by tag,
    /// which covers an unknown part of the bucket.
    prefix: Option<String>,
}

/// The key prefix a replication rule copies: from its filter, or the legacy
/// rule-level Prefix. `None` when a tag narrows it.
#[allow(deprecated)]
fn replication_prefix(rule: &aws_sdk_s3::types::ReplicationRule) -> Option<String> {
    match rule.filter() {
        Some(f) if f.tag().is_some() => None,
        Some(f) => match f.and() {
            Some(and) if !and.tags().is_empty() => None,
            Some(and) => Some(and.prefix().unwrap_or("").to_string()),
            None => Some(f.prefix().unwrap_or("").to_string()),
        },
        None => Some(rule.prefix().unwrap_or("").to_string()),
    }
}

/// The region of a bucket that need not be the account's, from HeadBucket:
/// S3 names it in the `x-amz-bucket-region` header of its answer, also when
/// it refuses access (403) or redirects (301). `Ok(None)`: the bucket does
/// not exist (404). An answer without the header is a failure: the region
/// is unknown, not absent.
async fn destination_region(
    ctx: &Ctx<'_>,
    client: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<Option<String>, CallFailure> {
    let call = client.head_bucket().bucket(bucket).send();
    let region = client_region(client.config().region());
    match ctx.detail(&ops::S3_HEAD_BUCKET, &region, call).await {
        Ok(out) => match out.bucket_region().filter(|r| !r.is_empty()) {
            Some(region) => Ok(Some(region.to_string())),
            None => Err(CallFailure::new(
                "ResponseError",
                "HeadBucket answered without x-amz-bucket-region",
            )),
        },
        Err(err) => {
            if let Some(region) = redirect_region(&err) {
                return Ok(Some(region));
            }
            let status = err.raw_response().map(|r| r.status().as_u16());
            if matches!(&err, SdkError::ServiceError(e) if e.err().is_not_found())
                || status == Some(404)
            {
                return Ok(None);
            }
            Err(CallFailure::from_sdk(&err))
        }
    }
}

/// The bucket name in a destination ARN (`arn:aws:s3:::name`).
fn bucket_of_arn(arn: &str) -> &str {
    arn.rsplit_once(":::").map_or(arn, |(_, name)| name)
}

/// Reads one bucket's settings, each call only when the plan needs it.
/// Replication rules come back separately (their destination regions are
/// resolved once for all buckets); `replication_rules` is set to an empty
/// list when the replication call succeeded.
async fn bucket(ctx: &Ctx<'_>, name: String, region: String) -> (Resource, Vec<ReplicationRule>) {
    let bucket_type = known_type(S3_BUCKET);
    let client = ctx.s3(&region);
    let mut r = ctx.resource(bucket_type, &name, format!("arn:aws:s3:::{name}"), &region);
    let target = Target::resource(bucket_type, &region, &name);

    let tags = ctx.fetch(
        &ops::S3_GET_BUCKET_TAGGING,
        target,
        client.get_bucket_tagging().bucket(&name).send(),
        NotConfigured::When(&["NoSuchTagSet"], BTreeMap::new()),
        |out| Ok(tag_map(out.tag_set())),
    );
    // S3 has applied SSE-S3 to every bucket since 2023; older answers (and
    // S3-compatible services) say "not found": no default encryption.
    let encryption = ctx.fetch(
        &ops::S3_GET_BUCKET_ENCRYPTION,
        target,
        client.get_bucket_encryption().bucket(&name).send(),
        NotConfigured::When(
            &["ServerSideEncryptionConfigurationNotFoundError"],
            ("none".to_string(), None),
        ),
        |out| {
            Ok(default_encryption(
                out.server_side_encryption_configuration(),
            ))
        },
    );
    // No status: versioning was never enabled.
    let versioning = ctx.fetch(
        &ops::S3_GET_BUCKET_VERSIONING,
        target,
        client.get_bucket_versioning().bucket(&name).send(),
        NotConfigured::Never,
        |out| Ok(out.status().map_or("Disabled", |s| s.as_str()).to_string()),
    );
    let lifecycle = ctx.fetch(
        &ops::S3_GET_BUCKET_LIFECYCLE,
        target,
        client
            .get_bucket_lifecycle_configuration()
            .bucket(&name)
            .send(),
        NotConfigured::When(&["NoSuchLifecycleConfiguration"], Vec::new()),
        |out| Ok(out.rules().iter().map(lifecycle_rule).collect()),
    );
    let replication = ctx.fetch(
        &ops::S3_GET_BUCKET_REPLICATION,
        target,
        client.get_bucket_replication().bucket(&name).send(),
        NotConfigured::When(&["ReplicationConfigurationNotFoundError"], Vec::new()),
        |out| Ok(replication_rules(out.replication_configuration())),
    );
    let object_lock = ctx.fetch(
        &ops::S3_GET_OBJECT_LOCK,
        target,
        client.get_object_lock_configuration().bucket(&name).send(),
        NotConfigured::When(&["ObjectLockConfigurationNotFoundError"], false),
        |out| Ok(object_lock_enabled(out.object_lock_configuration())),
    );
    let public_access = ctx.fetch(
        &ops::S3_GET_PUBLIC_ACCESS_BLOCK,
        target,
        client.get_public_access_block().bucket(&name).send(),
        NotConfigured::When(&["NoSuchPublicAccessBlockConfiguration"], false),
        |out| {
            Ok(blocks_all_public_access(
                out.public_access_block_configuration(),
            ))
        },
    );

    let (tags, encryption, versioning, lifecycle, replication, object_lock, public_access) = futures::join!(
        tags,
        encryption,
        versioning,
        lifecycle,
        replication,
        object_lock,
        public_access
    );
    if let Some(tags) = tags {
        r.set_tags(tags);
    }
    if let Some((algorithm, key)) = encryption {
        set_enum(&mut r, "encryption", Some(&algorithm));
        r.set("kms_key_id", key);
    }
    if let Some(versioning) = versioning {
        set_enum(&mut r, "versioning", Some(&versioning));
    }
    if let Some(rules) = lifecycle {
        r.set("lifecycle_rules", rules);
    }
    if let Some(lock) = object_lock {
        r.set("object_lock_enabled", lock);
    }
    if let Some(blocked) = public_access {
        r.set("public_access_blocked", blocked);
    }
    let replication = match replication {
        Some(rules) => {
            r.set("replication_rules", Value::List(Vec::new()));
            rules
        }
        None => Vec::new(),
    };
    (r, replication)
}

fn tag_map(tags: &[aws_sdk_s3::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// The bucket's default encryption: its first rule's algorithm and KMS key
/// (`none` without a rule).
fn default_encryption(
    config: Option<&aws_sdk_s3::types::ServerSideEncryptionConfiguration>,
) -> (String, Option<String>) {
    let default = config
        .and_then(|c| c.rules().first())
        .and_then(|rule| rule.apply_server_side_encryption_by_default());
    match default {
        Some(d) => (
            d.sse_algorithm().as_str().to_string(),
            d.kms_master_key_id().map(str::to_string),
        ),
        None => ("none".to_string(), None),
    }
}

/// One `lifecycle_rules` entry.
fn lifecycle_rule(rule: &aws_sdk_s3::types::LifecycleRule) -> BTreeMap<String, Value> {
    BTreeMap::from([
        ("id".to_string(), Value::from(rule.id())),
        (
            "enabled".to_string(),
            Value::from(*rule.status() == ExpirationStatus::Enabled),
        ),
        ("prefix".to_string(), Value::from(lifecycle_prefix(rule))),
        (
            "expiration_days".to_string(),
            Value::from(rule.expiration().and_then(|e| e.days())),
        ),
        (
            "noncurrent_expiration_days".to_string(),
            Value::from(
                rule.noncurrent_version_expiration()
                    .and_then(|e| e.noncurrent_days()),
            ),
        ),
    ])
}

fn replication_rules(
    config: Option<&aws_sdk_s3::types::ReplicationConfiguration>,
) -> Vec<ReplicationRule> {
    config
        .map(|c| c.rules())
        .unwrap_or_default()
        .iter()
        .map(|rule| ReplicationRule {
            id: rule.id().map(str::to_string),
            enabled: *rule.status() == ReplicationRuleStatus::Enabled,
            destination_bucket: rule
                .destination()
                .map(|d| bucket_of_arn(d.bucket()).to_string())
                .unwrap_or_default(),
            prefix: replication_prefix(rule),
        })
        .collect()
}

fn object_lock_enabled(config: Option<&aws_sdk_s3::types::ObjectLockConfiguration>) -> bool {
    config
        .and_then(|c| c.object_lock_enabled())
        .is_some_and(|e| e.as_str() == "Enabled")
}

/// Whether all four public access blocks are on.
fn blocks_all_public_access(
    config: Option<&aws_sdk_s3::types::PublicAccessBlockConfiguration>,
) -> bool {
    config.is_some_and(|c| {
        c.block_public_acls() == Some(true)
            && c.ignore_public_acls() == Some(true)
            && c.block_public_policy() == Some(true)
            && c.restrict_public_buckets() == Some(true)
    })
}

/// The region S3 names in an error answer's `x-amz-bucket-region` header
/// (a wrong-region redirect, or HeadBucket refusing access).
fn redirect_region<E>(err: &SdkError<E>) -> Option<String> {
    err.raw_response()?
        .headers()
        .get("x-amz-bucket-region")
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

struct ObjectStats {
    count: i64,
    bytes: i64,
    latest: Option<Timestamp>,
}

/// Reads an export location: newest object, count and size under the
/// prefix. The bucket's region is taken from the bucket listing when known,
/// else from S3's redirect answer.
async fn export_location(
    ctx: &Ctx<'_>,
    location: &ExportLocation,
    known_region: Option<String>,
) -> Option<Resource> {
    let op = &ops::S3_LIST_OBJECTS_V2;
    let location_type = known_type(S3_EXPORT_LOCATION);
    let id = location.id();
    let mut region = known_region.unwrap_or_else(|| ctx.regions()[0].clone());
    let mut redirected = false;
    let stats = loop {
        let request = ctx
            .s3(&region)
            .list_objects_v2()
            .bucket(&location.bucket)
            .prefix(&location.prefix)
            .set_max_keys(ctx.page_size(1, 1000));
        let mut pages = request.into_paginator().send();
        let listing = ctx.all_pages(
            op,
            &region,
            |cx| pages.poll_next(cx),
            |p| {
                // Truncated without a token would also end the paginator early.
                p.next_continuation_token()
                    .or(p.is_truncated().filter(|t| *t).map(|_| "truncated"))
            },
        );
        match listing.await {
            Ok(pages) => {
                let mut stats = ObjectStats {
                    count: 0,
                    bytes: 0,
                    latest: None,
                };
                for object in pages.iter().flat_map(|p| p.contents()) {
                    stats.count += 1;
                    stats.bytes += object.size().unwrap_or(0);
                    let modified = object.last_modified().and_then(timestamp);
                    stats.latest = stats.latest.max(modified);
                }
                break stats;
            }
            Err(err) => {
                if let Some(actual) = redirect_region(&err).filter(|r| *r != region)
                    && !redirected
                {
                    region = actual;
                    redirected = true;
                    continue;
                }
                // A configured bucket that does not exist holds no exports:
                // a finding (nothing is exported), not a failed read.
                if is_not_configured(&err, &["NoSuchBucket"]) {
                    break ObjectStats {
                        count: 0,
                        bytes: 0,
                        latest: None,
                    };
                }
                let failure = CallFailure::from_sdk(&err);
                let mut error = listing_error(op, &region, location_type, failure);
                error.resource_id = Some(id);
                ctx.record(error);
                return None;
            }
        }
    };
    let arn = format!("arn:aws:s3:::{}/{}", location.bucket, location.prefix);
    let mut r = ctx.resource(location_type, id, arn, &region);
    // A bucket prefix cannot carry tags: its tag set is known to be empty.
    r.set_tags(BTreeMap::new());
    r.set("bucket", location.bucket.as_str())
        .set("prefix", location.prefix.as_str())
        .set("latest_object_time", stats.latest)
        .set("object_count", stats.count)
        .set("total_bytes", stats.bytes);
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_map_to_regions() {
        assert_eq!(location_region(None), "us-east-1");
        assert_eq!(location_region(Some("")), "us-east-1");
        assert_eq!(location_region(Some("EU")), "eu-west-1");
        assert_eq!(location_region(Some("ap-south-1")), "ap-south-1");
    }

    #[test]
    fn partial_rules_do_not_look_like_whole_bucket_rules() {
        use aws_sdk_s3::types::{
            LifecycleRule, LifecycleRuleFilter, ReplicationRule, ReplicationRuleFilter, Tag,
        };
        let tag = || Tag::builder().key("k").value("v").build().unwrap();
        let lifecycle = |filter: Option<LifecycleRuleFilter>| {
            LifecycleRule::builder()
                .status(ExpirationStatus::Enabled)
                .set_filter(filter)
                .build()
                .unwrap()
        };
        assert_eq!(lifecycle_prefix(&lifecycle(None)), Some(""));
        let by_prefix = LifecycleRuleFilter::builder().prefix("db/").build();
        assert_eq!(lifecycle_prefix(&lifecycle(Some(by_prefix))), Some("db/"));
        let by_tag = LifecycleRuleFilter::builder().tag(tag()).build();
        assert_eq!(lifecycle_prefix(&lifecycle(Some(by_tag))), None);
        let by_size = LifecycleRuleFilter::builder()
            .object_size_greater_than(1024)
            .build();
        assert_eq!(lifecycle_prefix(&lifecycle(Some(by_size))), None);
        let and = |and: aws_sdk_s3::types::LifecycleRuleAndOperator| {
            lifecycle(Some(LifecycleRuleFilter::builder().and(and).build()))
        };
        let and_sized = aws_sdk_s3::types::LifecycleRuleAndOperator::builder()
            .prefix("")
            .object_size_less_than(1024)
            .build();
        assert_eq!(lifecycle_prefix(&and(and_sized)), None);
        let and_prefix_only = aws_sdk_s3::types::LifecycleRuleAndOperator::builder()
            .prefix("db/")
            .build();
        assert_eq!(lifecycle_prefix(&and(and_prefix_only)), Some("db/"));

        let replication = |filter: ReplicationRuleFilter| {
            ReplicationRule::builder()
                .status(ReplicationRuleStatus::Enabled)
                .filter(filter)
                .destination(
                    aws_sdk_s3::types::Destination::builder()
                        .bucket("arn:aws:s3:::dr")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap()
        };
        let whole = ReplicationRuleFilter::builder().prefix("").build();
        assert_eq!(replication_prefix(&replication(whole)).as_deref(), Some(""));
        let part = ReplicationRuleFilter::builder().prefix("tmp/").build();
        assert_eq!(
            replication_prefix(&replication(part)).as_deref(),
            Some("tmp/")
        );
        let tagged = ReplicationRuleFilter::builder().tag(tag()).build();
        assert_eq!(replication_prefix(&replication(tagged)), None);
    }

    #[test]
    fn destination_arns_name_buckets() {
        assert_eq!(bucket_of_arn("arn:aws:s3:::backups-dr"), "backups-dr");
        assert_eq!(bucket_of_arn("backups-dr"), "backups-dr");
    }
}
