//! RDS: DB instances, DB clusters, and the snapshots of both (manual and
//! automated); the event subscriptions that alert on backups.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_rds::operation::describe_db_cluster_snapshot_attributes::DescribeDBClusterSnapshotAttributesError;
use aws_sdk_rds::operation::describe_db_cluster_snapshots::DescribeDBClusterSnapshotsError;
use aws_sdk_rds::operation::describe_db_snapshot_attributes::DescribeDBSnapshotAttributesError;
use aws_sdk_rds::operation::describe_db_snapshots::DescribeDBSnapshotsError;
use aws_sdk_rds::types::{
    DbCluster, DbClusterSnapshot, DbInstance, DbInstanceAutomatedBackup, DbSnapshot,
    EventSubscription, Tag,
};
use futures::StreamExt;
use jiff::Timestamp;

use super::errors::{CallFailure, NotConfigured, Target, detail_error, listing_error};
use super::{
    CopyRegions, Ctx, ProvideErrorMetadata, SdkError, arn_region, client_region, key_manager,
    known_type, set_enum, sns, timestamp,
};
use crate::model::schema::{DB_CLUSTER, DB_INSTANCE, DB_SNAPSHOT, Operation, ops};
use crate::model::{Resource, Value};

/// What one region's RDS collection found, before cross-region linking.
pub(crate) struct RegionRds {
    region: String,
    instances: Vec<Instance>,
    /// Clusters and snapshots: complete as they are.
    others: Vec<Resource>,
    /// The instance snapshots, for instances' cross_region_copy_time
    /// (cluster snapshots are not copies of an instance).
    snapshots: Snapshots,
}

struct Instance {
    resource: Resource,
    dbi_resource_id: Option<String>,
    /// ARNs of its automated backups replicated to other regions.
    replications: Vec<String>,
}

pub(crate) enum Snapshots {
    NotListed,
    Listed(Vec<SnapshotFacts>),
    Failed(CallFailure),
}

/// What cross-region matching needs to know about a snapshot.
#[derive(Debug, Clone)]
pub(crate) struct SnapshotFacts {
    instance_id: Option<String>,
    dbi_resource_id: Option<String>,
    /// The region it was copied from, when AWS says (SourceRegion, or the
    /// region of a SourceDBSnapshotIdentifier ARN).
    source_region: Option<String>,
    automated: bool,
    taken_at: Option<Timestamp>,
}

pub(crate) async fn collect_region(ctx: &Ctx<'_>, region: &str) -> RegionRds {
    let plan = ctx.plan;
    let mut result = RegionRds {
        region: region.to_string(),
        instances: Vec::new(),
        others: Vec::new(),
        snapshots: Snapshots::NotListed,
    };
    let want_instances = plan.needs_type(known_type(DB_INSTANCE));
    let want_clusters = plan.needs_type(known_type(DB_CLUSTER));
    // Listed for the snapshot type and for instances' cross_region_copy_time.
    let want_snapshots = plan.needs(&ops::RDS_DESCRIBE_DB_SNAPSHOTS);
    // Listed for the snapshot type only.
    let want_cluster_snapshots = plan.needs(&ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS);
    if !(want_instances || want_clusters || want_snapshots || want_cluster_snapshots) {
        return result;
    }
    let listing = ctx.progress.listing(format!("rds in {region}"));
    let want_alerts =
        plan.needs(&ops::RDS_DESCRIBE_EVENT_SUBSCRIPTIONS) && (want_instances || want_clusters);
    let (instances, clusters, snapshots, cluster_snapshots, alerts) = futures::join!(
        when(want_instances, list_instances(ctx, region)),
        when(want_clusters, list_clusters(ctx, region)),
        when(
            want_snapshots,
            list_audited_snapshots::<DbSnapshot>(ctx, region)
        ),
        when(
            want_cluster_snapshots,
            list_audited_snapshots::<DbClusterSnapshot>(ctx, region)
        ),
        when(want_alerts, list_backup_alerts(ctx, region)),
    );
    drop(listing);

    let mut instances: Vec<Instance> = listed(instances)
        .iter()
        .map(|db| Instance {
            resource: instance_resource(&ctx.account, region, db),
            dbi_resource_id: db.dbi_resource_id().map(str::to_string),
            replications: replication_arns(region, db),
        })
        .collect();
    let mut clusters: Vec<Resource> = listed(clusters)
        .iter()
        .map(|c| cluster_resource(&ctx.account, region, c))
        .collect();
    if let Some(snapshots) = &snapshots {
        result.snapshots = Snapshots::of(region, snapshots);
    }
    let snapshots = listed(snapshots);
    let cluster_snapshots = listed(cluster_snapshots);

    backup_replications(ctx, region, &mut instances).await;
    let alerts = alerts.and_then(|listed| {
        let alerted = [(want_instances, DB_INSTANCE), (want_clusters, DB_CLUSTER)];
        let kinds = alerted.iter().filter(|(wanted, _)| *wanted);
        listed
            .map_err(|failure| {
                for (_, kind) in kinds {
                    let target = Target::every(known_type(kind), region);
                    let failure = failure
                        .clone()
                        .context("the region's RDS event subscriptions could not be listed");
                    ctx.record(detail_error(
                        &ops::RDS_DESCRIBE_EVENT_SUBSCRIPTIONS,
                        target,
                        failure,
                    ));
                }
            })
            .ok()
    });
    let topics = alerting_topics(
        alerts.as_deref().unwrap_or_default(),
        instances.iter().map(|i| &i.resource).chain(&clusters),
    );
    let (_, confirmed, snapshot_resources, cluster_snapshot_resources) = futures::join!(
        key_managers(
            ctx,
            region,
            instances
                .iter_mut()
                .map(|i| &mut i.resource)
                .chain(clusters.iter_mut())
        ),
        confirmed_topics(ctx, region, topics),
        snapshot_resources(ctx, region, &snapshots),
        snapshot_resources(ctx, region, &cluster_snapshots),
    );
    if let Some(alerts) = &alerts {
        let alerted = instances
            .iter_mut()
            .map(|i| &mut i.resource)
            .chain(clusters.iter_mut());
        set_backup_alerts(ctx, region, alerts, &confirmed, alerted);
    }
    result.instances = instances;
    result.others = clusters;
    result.others.extend(snapshot_resources);
    result.others.extend(cluster_snapshot_resources);
    result
}

/// The result of `listing` when it is wanted; `None`: not made.
async fn when<T>(wanted: bool, listing: impl Future<Output = T>) -> Option<T> {
    if wanted { Some(listing.await) } else { None }
}

/// What a listing found: nothing when it was not made or failed (the
/// failure is recorded already).
fn listed<T>(listing: Option<Result<Vec<T>, CallFailure>>) -> Vec<T> {
    listing.and_then(Result::ok).unwrap_or_default()
}

async fn list_instances(ctx: &Ctx<'_>, region: &str) -> Result<Vec<DbInstance>, CallFailure> {
    let mut pages = ctx
        .clients(region)
        .rds
        .describe_db_instances()
        .set_max_records(ctx.page_size(20, 100))
        .into_paginator()
        .send();
    let op = &ops::RDS_DESCRIBE_DB_INSTANCES;
    let pages = ctx
        .list(
            op,
            region,
            known_type(DB_INSTANCE),
            |cx| pages.poll_next(cx),
            |p| p.marker(),
        )
        .await?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.db_instances.unwrap_or_default())
        .collect())
}

async fn list_clusters(ctx: &Ctx<'_>, region: &str) -> Result<Vec<DbCluster>, CallFailure> {
    let mut pages = ctx
        .clients(region)
        .rds
        .describe_db_clusters()
        .set_max_records(ctx.page_size(20, 100))
        .into_paginator()
        .send();
    let op = &ops::RDS_DESCRIBE_DB_CLUSTERS;
    let pages = ctx
        .list(
            op,
            region,
            known_type(DB_CLUSTER),
            |cx| pages.poll_next(cx),
            |p| p.marker(),
        )
        .await?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.db_clusters.unwrap_or_default())
        .collect())
}

/// Instance snapshots (DescribeDBSnapshots) and cluster snapshots
/// (DescribeDBClusterSnapshots) are one resource type, read the same way:
/// what differs is the SDK calls and how each answer names a field.
trait Snapshot: Sized {
    /// The listing.
    const LISTING: &'static Operation;
    /// The call that reads who may restore a snapshot.
    const ATTRIBUTES: &'static Operation;
    /// What the snapshot is of (`source_kind`).
    const SOURCE_KIND: &'static str;

    type ListingError: ProvideErrorMetadata + std::error::Error + 'static;
    type AttributesError: ProvideErrorMetadata + std::error::Error + 'static;

    /// Every page of one listing of the account's snapshots in the
    /// client's region: those of `snapshot_type`, or (`None`) the manual
    /// and automated ones.
    async fn list(
        ctx: &Ctx<'_>,
        rds: &aws_sdk_rds::Client,
        snapshot_type: Option<&str>,
    ) -> Result<Vec<Self>, SdkError<Self::ListingError>>;

    /// The values of the snapshot's `restore` attribute (`None`: the
    /// answer has no such attribute).
    async fn restore_values(
        rds: &aws_sdk_rds::Client,
        id: &str,
    ) -> Result<Option<Vec<String>>, SdkError<Self::AttributesError>>;

    fn snapshot_id(&self) -> Option<&str>;
    fn snapshot_arn(&self) -> Option<&str>;
    fn listed_tags(&self) -> &[Tag];
    /// The API's SnapshotType (`manual`, `automated`, `awsbackup`, ...).
    fn api_type(&self) -> Option<&str>;
    /// The instance or cluster it is a snapshot of.
    fn source_id(&self) -> Option<&str>;
    /// The region it was copied from (absent when not a copy, or when AWS
    /// does not say).
    fn copied_from(&self, region: &str) -> Option<String>;
    fn is_encrypted(&self) -> Option<bool>;
    fn key_id(&self) -> Option<&str>;
    /// When the snapshot's data was taken.
    fn taken_at(&self) -> Option<Timestamp>;

    fn is_automated(&self) -> bool {
        self.api_type() == Some("automated")
    }
}

impl Snapshot for DbSnapshot {
    const LISTING: &'static Operation = &ops::RDS_DESCRIBE_DB_SNAPSHOTS;
    const ATTRIBUTES: &'static Operation = &ops::RDS_DESCRIBE_DB_SNAPSHOT_ATTRIBUTES;
    const SOURCE_KIND: &'static str = "instance";
    type ListingError = DescribeDBSnapshotsError;
    type AttributesError = DescribeDBSnapshotAttributesError;

    async fn list(
        ctx: &Ctx<'_>,
        rds: &aws_sdk_rds::Client,
        snapshot_type: Option<&str>,
    ) -> Result<Vec<Self>, SdkError<Self::ListingError>> {
        let mut pages = rds
            .describe_db_snapshots()
            .set_snapshot_type(snapshot_type.map(str::to_string))
            .set_max_records(ctx.page_size(20, 100))
            .into_paginator()
            .send();
        let region = client_region(rds.config().region());
        let pages = ctx
            .all_pages(
                Self::LISTING,
                &region,
                |cx| pages.poll_next(cx),
                |p| p.marker(),
            )
            .await?;
        Ok(pages
            .into_iter()
            .flat_map(|p| p.db_snapshots.unwrap_or_default())
            .collect())
    }

    async fn restore_values(
        rds: &aws_sdk_rds::Client,
        id: &str,
    ) -> Result<Option<Vec<String>>, SdkError<Self::AttributesError>> {
        let out = rds
            .describe_db_snapshot_attributes()
            .db_snapshot_identifier(id)
            .send()
            .await?;
        Ok(out
            .db_snapshot_attributes_result()
            .and_then(|res| {
                res.db_snapshot_attributes()
                    .iter()
                    .find(|a| a.attribute_name() == Some("restore"))
            })
            .map(|a| a.attribute_values().to_vec()))
    }

    fn snapshot_id(&self) -> Option<&str> {
        self.db_snapshot_identifier()
    }
    fn snapshot_arn(&self) -> Option<&str> {
        self.db_snapshot_arn()
    }
    fn listed_tags(&self) -> &[Tag] {
        self.tag_list()
    }
    fn api_type(&self) -> Option<&str> {
        self.snapshot_type()
    }
    fn source_id(&self) -> Option<&str> {
        self.db_instance_identifier()
    }
    fn copied_from(&self, region: &str) -> Option<String> {
        source_region(region, self)
    }
    fn is_encrypted(&self) -> Option<bool> {
        self.encrypted()
    }
    fn key_id(&self) -> Option<&str> {
        self.kms_key_id()
    }
    /// A copy's SnapshotCreateTime is the time of copying,
    /// OriginalSnapshotCreateTime that of the data it holds.
    fn taken_at(&self) -> Option<Timestamp> {
        self.original_snapshot_create_time()
            .or(self.snapshot_create_time())
            .and_then(timestamp)
    }
}

impl Snapshot for DbClusterSnapshot {
    const LISTING: &'static Operation = &ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS;
    const ATTRIBUTES: &'static Operation = &ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES;
    const SOURCE_KIND: &'static str = "cluster";
    type ListingError = DescribeDBClusterSnapshotsError;
    type AttributesError = DescribeDBClusterSnapshotAttributesError;

    async fn list(
        ctx: &Ctx<'_>,
        rds: &aws_sdk_rds::Client,
        snapshot_type: Option<&str>,
    ) -> Result<Vec<Self>, SdkError<Self::ListingError>> {
        let mut pages = rds
            .describe_db_cluster_snapshots()
            .set_snapshot_type(snapshot_type.map(str::to_string))
            .set_max_records(ctx.page_size(20, 100))
            .into_paginator()
            .send();
        let region = client_region(rds.config().region());
        let pages = ctx
            .all_pages(
                Self::LISTING,
                &region,
                |cx| pages.poll_next(cx),
                |p| p.marker(),
            )
            .await?;
        Ok(pages
            .into_iter()
            .flat_map(|p| p.db_cluster_snapshots.unwrap_or_default())
            .collect())
    }

    async fn restore_values(
        rds: &aws_sdk_rds::Client,
        id: &str,
    ) -> Result<Option<Vec<String>>, SdkError<Self::AttributesError>> {
        let out = rds
            .describe_db_cluster_snapshot_attributes()
            .db_cluster_snapshot_identifier(id)
            .send()
            .await?;
        Ok(out
            .db_cluster_snapshot_attributes_result()
            .and_then(|res| {
                res.db_cluster_snapshot_attributes()
                    .iter()
                    .find(|a| a.attribute_name() == Some("restore"))
            })
            .map(|a| a.attribute_values().to_vec()))
    }

    fn snapshot_id(&self) -> Option<&str> {
        self.db_cluster_snapshot_identifier()
    }
    fn snapshot_arn(&self) -> Option<&str> {
        self.db_cluster_snapshot_arn()
    }
    fn listed_tags(&self) -> &[Tag] {
        self.tag_list()
    }
    fn api_type(&self) -> Option<&str> {
        self.snapshot_type()
    }
    fn source_id(&self) -> Option<&str> {
        self.db_cluster_identifier()
    }
    fn copied_from(&self, region: &str) -> Option<String> {
        self.source_db_cluster_snapshot_arn()
            .and_then(arn_region)
            .filter(|r| *r != region)
            .map(str::to_string)
    }
    fn is_encrypted(&self) -> Option<bool> {
        self.storage_encrypted()
    }
    /// AWS names a key only for encrypted snapshots; a key id given for an
    /// unencrypted one protects nothing, so it is not reported.
    fn key_id(&self) -> Option<&str> {
        self.kms_key_id()
            .filter(|_| self.storage_encrypted() != Some(false))
    }
    /// Cluster snapshots have no OriginalSnapshotCreateTime.
    fn taken_at(&self) -> Option<Timestamp> {
        self.snapshot_create_time().and_then(timestamp)
    }
}

/// The account's manual, automated and AWS Backup snapshots of one kind in
/// the client's region (not those shared with it). Without a type filter
/// the listings return only manual and automated snapshots, so AWS
/// Backup's are a second listing.
async fn list_snapshots<S: Snapshot>(
    ctx: &Ctx<'_>,
    rds: &aws_sdk_rds::Client,
    region: &str,
) -> Result<Vec<S>, CallFailure> {
    let mut snapshots = Vec::new();
    for snapshot_type in [None, Some("awsbackup")] {
        match S::list(ctx, rds, snapshot_type).await {
            Ok(listed) => snapshots.extend(listed),
            Err(err) => {
                let failure = CallFailure::from_sdk(&err);
                tracing::debug!("{} in {region}: {failure:?}", S::LISTING.name);
                return Err(failure);
            }
        }
    }
    Ok(snapshots)
}

/// [`list_snapshots`] in an audited region: a failure is also a listing
/// error of the snapshot type there.
async fn list_audited_snapshots<S: Snapshot>(
    ctx: &Ctx<'_>,
    region: &str,
) -> Result<Vec<S>, CallFailure> {
    let listed = list_snapshots(ctx, &ctx.clients(region).rds, region).await;
    if let Err(failure) = &listed {
        ctx.record(listing_error(
            S::LISTING,
            region,
            known_type(DB_SNAPSHOT),
            failure.clone(),
        ));
    }
    listed
}

impl Snapshots {
    /// What a listing of the instance snapshots in `region` tells about
    /// copies.
    fn of(region: &str, listing: &Result<Vec<DbSnapshot>, CallFailure>) -> Snapshots {
        match listing {
            Ok(list) => Snapshots::Listed(list.iter().map(|s| snapshot_facts(region, s)).collect()),
            Err(failure) => Snapshots::Failed(failure.clone()),
        }
    }
}

/// Answers from a region the account has not enabled (an opt-in region):
/// it cannot hold the account's snapshots.
const REGION_NOT_ENABLED: &[&str] = &[
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
    "OptInRequired",
];

/// Snapshots held in regions that are not audited, listed only to find
/// the audited instances' copies (`cross_region_copy_time`); they are not
/// resources of the inventory. The regions come from the plan's
/// [`CopyRegions`]: named ones (any failure there is an error), or every
/// region RDS can copy snapshots between, from DescribeSourceRegions in
/// each audited region (a region answering that the account has not
/// enabled it is skipped: no snapshot can be there). Returns (region,
/// listing) pairs for [`finish`].
pub(crate) async fn copy_region_snapshots(ctx: &Ctx<'_>) -> Vec<(String, Snapshots)> {
    let plan = ctx.plan;
    if !(plan.needs(&ops::RDS_DESCRIBE_DB_SNAPSHOTS) && plan.needs_type(known_type(DB_INSTANCE))) {
        return Vec::new();
    }
    let (regions, named): (BTreeSet<String>, bool) = match &plan.copy_regions {
        CopyRegions::Audited => return Vec::new(),
        CopyRegions::Also(regions) => (regions.clone(), true),
        CopyRegions::Enabled => (source_regions(ctx).await, false),
    };
    let regions: Vec<String> = regions.into_iter().filter(|r| !ctx.is_audited(r)).collect();
    futures::stream::iter(regions)
        .map(|region| async move {
            let rds = ctx.rds(&region);
            let _listing = ctx
                .progress
                .listing(format!("rds snapshot copies in {region}"));
            let listing = list_snapshots::<DbSnapshot>(ctx, &rds, &region).await;
            let listed = match listing {
                Err(failure) if !named && REGION_NOT_ENABLED.contains(&failure.code.as_str()) => {
                    tracing::info!(
                        "{region} not searched for snapshot copies: not enabled for the account \
                         ({}: {})",
                        failure.code,
                        failure.message
                    );
                    Snapshots::NotListed
                }
                listing => Snapshots::of(&region, &listing),
            };
            (region, listed)
        })
        .buffer_unordered(ctx.concurrency)
        .collect()
        .await
}

/// The regions RDS can copy snapshots between and the audited ones, from
/// DescribeSourceRegions in each audited region. Where that fails, whether
/// the region's instances have a copy elsewhere is unknown: a detail error
/// of the region's instances.
async fn source_regions(ctx: &Ctx<'_>) -> BTreeSet<String> {
    let op = &ops::RDS_DESCRIBE_SOURCE_REGIONS;
    let mut found = BTreeSet::new();
    if !ctx.plan.needs(op) {
        return found;
    }
    let asked = futures::future::join_all(ctx.regions().iter().map(|region| async move {
        let mut pages = ctx
            .clients(region)
            .rds
            .describe_source_regions()
            .set_max_records(ctx.page_size(20, 100))
            .into_paginator()
            .send();
        let answer = ctx
            .all_pages(op, region, |cx| pages.poll_next(cx), |p| p.marker())
            .await;
        (region, answer)
    }))
    .await;
    for (region, answer) in asked {
        let read = answer.map_err(|err| {
            CallFailure::from_sdk(&err)
                .context("the regions that may hold snapshot copies could not be listed")
        });
        if let Some(pages) = ctx.keep(op, Target::every(known_type(DB_INSTANCE), region), read) {
            found.extend(
                pages
                    .iter()
                    .flat_map(|p| p.source_regions())
                    .filter_map(|r| r.region_name())
                    .map(str::to_string),
            );
        }
    }
    found
}

fn tags(list: &[Tag]) -> BTreeMap<String, String> {
    list.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
        .collect()
}

/// Maps one `DescribeDBInstances` entry (everything but the attributes that
/// take other calls: kms_key_managed_by, cross_region_copy_time).
fn instance_resource(account: &str, region: &str, db: &DbInstance) -> Resource {
    let mut r = Resource::new(
        known_type(DB_INSTANCE),
        db.db_instance_identifier().unwrap_or_default(),
    );
    r.arn = db.db_instance_arn().unwrap_or_default().to_string();
    r.account = account.to_string();
    r.region = region.to_string();
    r.set_tags(tags(db.tag_list()));
    let retention = db.backup_retention_period();
    // AWS omits LatestRestorableTime when backups are off: without backups
    // there is no point-in-time restore, whatever time an answer names.
    let restorable = db
        .latest_restorable_time()
        .and_then(timestamp)
        .filter(|_| retention != Some(0));
    let mut replication_regions: Vec<String> = db
        .db_instance_automated_backups_replications()
        .iter()
        .filter_map(|rep| arn_region(rep.db_instance_automated_backups_arn()?))
        .map(str::to_string)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    replication_regions.retain(|r| r != region);
    r.set("engine", db.engine())
        .set("engine_version", db.engine_version())
        .set("instance_class", db.db_instance_class())
        .set("cluster_id", db.db_cluster_identifier())
        .set("backup_retention_days", retention)
        .set("backup_window", db.preferred_backup_window())
        .set("maintenance_window", db.preferred_maintenance_window())
        .set("multi_az", db.multi_az())
        .set("storage_encrypted", db.storage_encrypted())
        .set("kms_key_id", db.kms_key_id())
        .set("deletion_protection", db.deletion_protection())
        .set("copy_tags_to_snapshot", db.copy_tags_to_snapshot())
        .set("publicly_accessible", db.publicly_accessible())
        .set("latest_restorable_time", restorable)
        .set("backup_replication_regions", replication_regions);
    r
}

/// The ARNs of an instance's automated backups replicated to another
/// region (each ARN names the region holding them), without duplicates.
fn replication_arns(region: &str, db: &DbInstance) -> Vec<String> {
    db.db_instance_automated_backups_replications()
        .iter()
        .filter_map(|rep| rep.db_instance_automated_backups_arn())
        .filter(|arn| arn_region(arn).is_some_and(|r| r != region))
        .map(str::to_string)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// One `backup_replications` entry from the destination region's answer
/// about the replicated backups `arn` (`None`: it has none).
fn replicated_backup(
    arn: &str,
    found: Option<&DbInstanceAutomatedBackup>,
) -> BTreeMap<String, Value> {
    let region = arn_region(arn).unwrap_or_default().to_string();
    let latest = found
        .and_then(|b| b.restore_window())
        .and_then(|w| w.latest_time())
        .and_then(timestamp);
    BTreeMap::from([
        ("region".to_string(), Value::from(region)),
        ("latest_restorable_time".to_string(), Value::from(latest)),
        (
            "status".to_string(),
            Value::from(found.and_then(|b| b.status())),
        ),
    ])
}

/// The error code of DescribeDBInstanceAutomatedBackups when the region
/// holds no such replicated backups.
const AUTOMATED_BACKUPS_NOT_FOUND: &[&str] = &["DBInstanceAutomatedBackupNotFound"];

/// Sets `backup_replications` on instances whose automated backups are
/// replicated: one DescribeDBInstanceAutomatedBackups per replication, in
/// the region holding it (audited or not). A failed call leaves the
/// instance's attribute unknown (a detail error); an answer that the
/// backups are not there is a fact (no restorable time).
async fn backup_replications(ctx: &Ctx<'_>, region: &str, instances: &mut [Instance]) {
    let op = &ops::RDS_DESCRIBE_DB_INSTANCE_AUTOMATED_BACKUPS;
    if !ctx.plan.needs(op) {
        return;
    }
    let read: Vec<Result<Vec<BTreeMap<String, Value>>, CallFailure>> =
        futures::stream::iter(instances.iter())
            .map(|instance| async move {
                let mut entries = Vec::new();
                for arn in &instance.replications {
                    let held_in = arn_region(arn).unwrap_or(region);
                    let call = ctx
                        .rds(held_in)
                        .describe_db_instance_automated_backups()
                        .db_instance_automated_backups_arn(arn)
                        .send();
                    let not_there = replicated_backup(arn, None);
                    let entry = ctx
                        .ask(
                            op,
                            region,
                            call,
                            NotConfigured::When(AUTOMATED_BACKUPS_NOT_FOUND, not_there),
                            |out| {
                                let found = out
                                    .db_instance_automated_backups()
                                    .iter()
                                    .find(|b| b.db_instance_automated_backups_arn() == Some(arn));
                                Ok(replicated_backup(arn, found))
                            },
                        )
                        .await
                        .map_err(|failure| {
                            failure.context(format!(
                                "replicated automated backups in {held_in} could not be read"
                            ))
                        })?;
                    entries.push(entry);
                }
                Ok(entries)
            })
            .buffered(ctx.concurrency)
            .collect()
            .await;
    for (instance, read) in instances.iter_mut().zip(read) {
        let target = Target::resource(known_type(DB_INSTANCE), region, &instance.resource.id);
        if let Some(entries) = ctx.keep(op, target, read) {
            instance.resource.set("backup_replications", entries);
        }
    }
}

/// The event category of backup events.
const BACKUP_CATEGORY: &str = "backup";

/// An enabled RDS event subscription that notifies of backup events.
#[derive(Debug, Clone, PartialEq)]
struct BackupAlert {
    name: String,
    /// The source type it covers (`db-instance`, ...); `None`: every type.
    source_type: Option<String>,
    /// The sources it covers; empty: every source of its type.
    source_ids: Vec<String>,
    topic_arn: String,
    status: Option<String>,
}

impl BackupAlert {
    /// Whether it alerts on the backups of `resource`.
    fn covers(&self, resource: &Resource) -> bool {
        self.source_type
            .as_deref()
            .is_none_or(|t| Some(t) == event_source_type(resource))
            && (self.source_ids.is_empty()
                || self
                    .source_ids
                    .iter()
                    .any(|id| id.eq_ignore_ascii_case(&resource.id)))
    }
}

/// The event source type RDS names `resource`'s events with.
fn event_source_type(resource: &Resource) -> Option<&'static str> {
    match resource.resource_type.name {
        DB_INSTANCE => Some("db-instance"),
        DB_CLUSTER => Some("db-cluster"),
        _ => None,
    }
}

/// `subscription` as a backup alert; `None` when it is disabled or sends
/// other categories only. An empty category list means every category.
fn backup_alert(subscription: &EventSubscription) -> Result<Option<BackupAlert>, CallFailure> {
    let name = subscription.cust_subscription_id().unwrap_or_default();
    let malformed = |missing: &str| {
        CallFailure::new(
            "ResponseError",
            format!(
                "DescribeEventSubscriptions answered without {missing} for subscription {name:?}"
            ),
        )
    };
    let enabled = subscription.enabled().ok_or_else(|| malformed("Enabled"))?;
    let categories = subscription.event_categories_list();
    let on_backups = categories.is_empty() || categories.iter().any(|c| c == BACKUP_CATEGORY);
    if !(enabled && on_backups) {
        return Ok(None);
    }
    let topic_arn = subscription
        .sns_topic_arn()
        .ok_or_else(|| malformed("SnsTopicArn"))?;
    Ok(Some(BackupAlert {
        name: name.to_string(),
        source_type: subscription
            .source_type()
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        source_ids: subscription.source_ids_list().to_vec(),
        topic_arn: topic_arn.to_string(),
        status: subscription.status().map(str::to_string),
    }))
}

/// The region's enabled event subscriptions on backup events, from every
/// page of DescribeEventSubscriptions. A failure is returned, not recorded.
async fn list_backup_alerts(ctx: &Ctx<'_>, region: &str) -> Result<Vec<BackupAlert>, CallFailure> {
    let mut pages = ctx
        .clients(region)
        .rds
        .describe_event_subscriptions()
        .set_max_records(ctx.page_size(20, 100))
        .into_paginator()
        .send();
    let pages = ctx
        .all_pages(
            &ops::RDS_DESCRIBE_EVENT_SUBSCRIPTIONS,
            region,
            |cx| pages.poll_next(cx),
            |p| p.marker(),
        )
        .await
        .map_err(|err| CallFailure::from_sdk(&err))?;
    pages
        .iter()
        .flat_map(|p| p.event_subscriptions_list())
        .filter_map(|s| backup_alert(s).transpose())
        .collect()
}

/// The topics of the alerts that cover at least one of `resources`.
fn alerting_topics<'r>(
    alerts: &[BackupAlert],
    resources: impl Iterator<Item = &'r Resource>,
) -> BTreeSet<String> {
    let resources: Vec<&Resource> = resources.collect();
    alerts
        .iter()
        .filter(|alert| resources.iter().any(|r| alert.covers(r)))
        .map(|alert| alert.topic_arn.clone())
        .collect()
}

/// Whether each topic has a confirmed subscription (one
/// ListSubscriptionsByTopic per topic), when the plan needs it.
async fn confirmed_topics(
    ctx: &Ctx<'_>,
    region: &str,
    topics: BTreeSet<String>,
) -> HashMap<String, Result<bool, CallFailure>> {
    if !ctx.plan.needs(&ops::SNS_LIST_SUBSCRIPTIONS_BY_TOPIC) {
        return HashMap::new();
    }
    futures::stream::iter(topics)
        .map(|topic| async move {
            let confirmed = sns::has_confirmed_subscription(ctx, region, &topic).await;
            (topic, confirmed)
        })
        .buffer_unordered(ctx.concurrency)
        .collect()
        .await
}

/// Sets backup_event_subscriptions on each resource: the alerts covering
/// it. Where a topic's subscriptions could not be listed, its alerts'
/// `confirmed` is unknown and the failure is recorded against the resource.
fn set_backup_alerts<'r>(
    ctx: &Ctx<'_>,
    region: &str,
    alerts: &[BackupAlert],
    confirmed: &HashMap<String, Result<bool, CallFailure>>,
    resources: impl Iterator<Item = &'r mut Resource>,
) {
    for resource in resources {
        let mut entries = Vec::new();
        for alert in alerts.iter().filter(|a| a.covers(resource)) {
            let confirmed = match confirmed.get(&alert.topic_arn) {
                Some(Ok(confirmed)) => Value::Bool(*confirmed),
                Some(Err(failure)) => {
                    let target = Target::resource(resource.resource_type, region, &resource.id);
                    let failure = failure.clone().context(format!(
                        "whether SNS topic {} has a confirmed subscription could not be read",
                        alert.topic_arn
                    ));
                    ctx.record(detail_error(
                        &ops::SNS_LIST_SUBSCRIPTIONS_BY_TOPIC,
                        target,
                        failure,
                    ));
                    Value::Unknown
                }
                None => Value::Unknown,
            };
            entries.push(BTreeMap::from([
                ("name".to_string(), Value::from(alert.name.as_str())),
                (
                    "topic_arn".to_string(),
                    Value::from(alert.topic_arn.as_str()),
                ),
                ("status".to_string(), Value::from(alert.status.as_deref())),
                ("confirmed".to_string(), confirmed),
            ]));
        }
        resource.set("backup_event_subscriptions", entries);
    }
}

fn cluster_resource(account: &str, region: &str, c: &DbCluster) -> Resource {
    let mut r = Resource::new(
        known_type(DB_CLUSTER),
        c.db_cluster_identifier().unwrap_or_default(),
    );
    r.arn = c.db_cluster_arn().unwrap_or_default().to_string();
    r.account = account.to_string();
    r.region = region.to_string();
    r.set_tags(tags(c.tag_list()));
    let members: Vec<String> = c
        .db_cluster_members()
        .iter()
        .filter_map(|m| m.db_instance_identifier().map(str::to_string))
        .collect();
    r.set("engine", c.engine())
        .set("engine_version", c.engine_version())
        .set("backup_retention_days", c.backup_retention_period())
        .set("backup_window", c.preferred_backup_window())
        .set("maintenance_window", c.preferred_maintenance_window())
        .set("multi_az", c.multi_az())
        .set("storage_encrypted", c.storage_encrypted())
        .set("kms_key_id", c.kms_key_id())
        .set("deletion_protection", c.deletion_protection())
        .set("copy_tags_to_snapshot", c.copy_tags_to_snapshot())
        .set(
            "latest_restorable_time",
            c.latest_restorable_time().and_then(timestamp),
        )
        .set("members", members)
        .set("cluster_id", Value::Null);
    r
}

/// The region an instance snapshot was copied from (absent when not a copy,
/// or when AWS does not say).
fn source_region(region: &str, s: &DbSnapshot) -> Option<String> {
    s.source_region()
        .or_else(|| s.source_db_snapshot_identifier().and_then(arn_region))
        .filter(|r| *r != region)
        .map(str::to_string)
}

fn snapshot_facts(region: &str, s: &DbSnapshot) -> SnapshotFacts {
    SnapshotFacts {
        instance_id: s.db_instance_identifier().map(str::to_string),
        dbi_resource_id: s.dbi_resource_id().map(str::to_string),
        source_region: source_region(region, s),
        automated: s.is_automated(),
        taken_at: Snapshot::taken_at(s),
    }
}

/// The snapshot_type attribute: "awsbackup" snapshots are user-managed
/// like manual ones.
fn snapshot_type(api_type: Option<&str>) -> Option<&str> {
    api_type.map(|t| match t {
        "automated" => "automated",
        "manual" | "awsbackup" => "manual",
        other => other,
    })
}

/// Maps one listed snapshot (all but public / shared_with of manual
/// snapshots, which take another call).
fn snapshot_resource<S: Snapshot>(account: &str, region: &str, s: &S) -> Resource {
    let mut r = Resource::new(known_type(DB_SNAPSHOT), s.snapshot_id().unwrap_or_default());
    r.arn = s.snapshot_arn().unwrap_or_default().to_string();
    r.account = account.to_string();
    r.region = region.to_string();
    r.set_tags(tags(s.listed_tags()));
    set_enum(&mut r, "snapshot_type", snapshot_type(s.api_type()));
    r.set("source_id", s.source_id())
        .set("source_kind", S::SOURCE_KIND)
        .set("source_region", s.copied_from(region))
        .set("encrypted", s.is_encrypted())
        .set("kms_key_id", s.key_id())
        .set("created_at", s.taken_at());
    if s.is_automated() {
        // Automated snapshots cannot be shared or made public.
        r.set("public", false)
            .set("shared_with", Vec::<String>::new());
    }
    r
}

/// public and shared_with from a snapshot's `restore` attribute values.
fn who_may_restore(restore: Option<Vec<String>>) -> Result<(bool, Vec<String>), CallFailure> {
    // AWS always lists the `restore` attribute (empty when not shared);
    // without it, "not public" would be a guess.
    let restore = restore.ok_or_else(|| {
        CallFailure::new(
            "ResponseError",
            "the answer has no `restore` attribute, so who may restore the snapshot is unknown",
        )
    })?;
    let public = restore.iter().any(|v| v == "all");
    let shared = restore.into_iter().filter(|v| v != "all").collect();
    Ok((public, shared))
}

/// Builds the snapshot resources; manual ones get their "restore"
/// attribute read (public / shared_with) when the plan needs it.
async fn snapshot_resources<S: Snapshot>(
    ctx: &Ctx<'_>,
    region: &str,
    snapshots: &[S],
) -> Vec<Resource> {
    let rds = &ctx.clients(region).rds;
    ctx.read_each(snapshots, |s| async move {
        let mut r = snapshot_resource(&ctx.account, region, s);
        if s.is_automated() {
            return r;
        }
        let target = Target::resource(known_type(DB_SNAPSHOT), region, &r.id);
        let restore = ctx.fetch(
            S::ATTRIBUTES,
            target,
            S::restore_values(rds, &r.id),
            NotConfigured::Never,
            who_may_restore,
        );
        if let Some((public, shared)) = restore.await {
            r.set("public", public).set("shared_with", shared);
        }
        r
    })
    .await
}

/// Sets kms_key_managed_by on encrypted instances and clusters: one
/// DescribeKey per distinct key.
async fn key_managers<'r>(
    ctx: &Ctx<'_>,
    region: &str,
    resources: impl Iterator<Item = &'r mut Resource>,
) {
    let op = &ops::KMS_DESCRIBE_KEY;
    if !ctx.plan.needs(op) {
        return;
    }
    let mut encrypted: Vec<(&mut Resource, String)> = Vec::new();
    for r in resources {
        if r.get("storage_encrypted") == &false.into() {
            // Not encrypted: no key manages its storage, whatever key id the
            // service reports.
            r.set("kms_key_managed_by", Value::Null);
            continue;
        }
        match r.get("kms_key_id") {
            Value::Str(key) if r.get("storage_encrypted") == &true.into() => {
                let key = key.clone();
                encrypted.push((r, key));
            }
            // AWS said there is no key: so there is no key manager either.
            Value::Null => {
                r.set("kms_key_managed_by", Value::Null);
            }
            _ => {}
        }
    }
    let keys: BTreeSet<String> = encrypted.iter().map(|(_, k)| k.clone()).collect();
    let managers: HashMap<String, Result<Option<String>, CallFailure>> =
        futures::stream::iter(keys)
            .map(|key| async move {
                let answer = key_manager(ctx, region, &key).await;
                (key, answer)
            })
            .buffer_unordered(ctx.concurrency)
            .collect()
            .await;
    for (resource, key) in encrypted {
        let target = Target::resource(resource.resource_type, region, &resource.id);
        if let Some(manager) = ctx.keep(op, target, managers[&key].clone()) {
            set_enum(resource, "kms_key_managed_by", manager.as_deref());
        }
    }
}

/// Whether `snapshot`, held in another region, is a copy of `instance`
/// (in `instance_region`). A copy keeps its instance's
/// DBInstanceIdentifier; SourceRegion / a source ARN and the instance's
/// DbiResourceId, where the answer has them, rule out a same-named instance
/// elsewhere.
fn is_copy_of(instance: &Instance, instance_region: &str, snapshot: &SnapshotFacts) -> bool {
    !snapshot.automated
        && snapshot.instance_id.as_deref() == Some(instance.resource.id.as_str())
        && snapshot
            .source_region
            .as_deref()
            .is_none_or(|r| r == instance_region)
        && match (&snapshot.dbi_resource_id, &instance.dbi_resource_id) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// Links regions: sets each instance's cross_region_copy_time from the
/// snapshots listed in the other audited regions, records an error for the
/// instances of every region that depends on a region whose snapshot
/// listing failed, and returns all resources.
pub(crate) fn finish(
    ctx: &Ctx<'_>,
    mut regions: Vec<RegionRds>,
    copy_regions: Vec<(String, Snapshots)>,
) -> Vec<Resource> {
    let op = &ops::RDS_DESCRIBE_DB_SNAPSHOTS;
    if ctx.plan.needs(op) && ctx.plan.needs_type(known_type(DB_INSTANCE)) {
        let snapshots: Vec<(String, &[SnapshotFacts])> = regions
            .iter()
            .map(|r| (&r.region, &r.snapshots))
            .chain(copy_regions.iter().map(|(region, s)| (region, s)))
            .filter_map(|(region, snapshots)| match snapshots {
                Snapshots::Listed(list) => Some((region.clone(), list.as_slice())),
                _ => None,
            })
            .collect();
        let mut times: Vec<Vec<Option<Timestamp>>> = Vec::new();
        for region in &regions {
            times.push(
                region
                    .instances
                    .iter()
                    .map(|instance| {
                        snapshots
                            .iter()
                            .filter(|(held_in, _)| *held_in != region.region)
                            .flat_map(|(_, list)| list.iter())
                            .filter(|s| is_copy_of(instance, &region.region, s))
                            .filter_map(|s| s.taken_at)
                            .max()
                    })
                    .collect(),
            );
        }
        let failed: Vec<String> = regions
            .iter()
            .filter(|r| matches!(r.snapshots, Snapshots::Failed(_)))
            .map(|r| r.region.clone())
            .collect();
        for (region, times) in regions.iter_mut().zip(times) {
            // "No copy" is known only when every other region was listed.
            if failed.iter().any(|f| *f != region.region) {
                continue;
            }
            for (instance, time) in region.instances.iter_mut().zip(times) {
                instance.resource.set("cross_region_copy_time", time);
            }
        }
        let failed_listings = regions
            .iter()
            .map(|r| (&r.region, &r.snapshots))
            .chain(copy_regions.iter().map(|(region, s)| (region, s)));
        for (failed_region, snapshots) in failed_listings {
            let Snapshots::Failed(failure) = snapshots else {
                continue;
            };
            for affected in ctx.regions().iter().filter(|r| *r != failed_region) {
                let failure = failure.clone().context(format!(
                    "snapshots held in {failed_region} could not be listed"
                ));
                let target = Target::every(known_type(DB_INSTANCE), affected);
                ctx.record(detail_error(op, target, failure));
            }
        }
    }
    regions
        .into_iter()
        .flat_map(|r| r.instances.into_iter().map(|i| i.resource).chain(r.others))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::primitives::DateTime;
    use aws_sdk_rds::types::DbInstanceAutomatedBackupsReplication;

    use crate::model::Value;

    // The mapping of DBInstanceAutomatedBackupsReplications, on an SDK
    // DbInstance built the way the SDK's deserializer builds it.
    #[test]
    fn replicated_backups_give_their_regions() {
        let arn = |region: &str| {
            DbInstanceAutomatedBackupsReplication::builder()
                .db_instance_automated_backups_arn(format!(
                    "arn:aws:rds:{region}:123456789012:auto-backup:ab-abcdefghijklmnop"
                ))
                .build()
        };
        let db = DbInstance::builder()
            .db_instance_identifier("orders")
            .db_instance_arn("arn:aws:rds:eu-west-1:123456789012:db:orders")
            .engine("postgres")
            .backup_retention_period(7)
            .storage_encrypted(true)
            .kms_key_id("arn:aws:kms:eu-west-1:123456789012:key/k1")
            .latest_restorable_time(DateTime::from_secs(1_767_225_600))
            .db_instance_automated_backups_replications(arn("eu-central-1"))
            .db_instance_automated_backups_replications(arn("us-east-1"))
            .db_instance_automated_backups_replications(arn("eu-central-1"))
            .tag_list(Tag::builder().key("team").value("db").build())
            .build();
        let r = instance_resource("123456789012", "eu-west-1", &db);
        assert_eq!(
            r.get("backup_replication_regions"),
            &Value::from(vec!["eu-central-1".to_string(), "us-east-1".to_string()])
        );
        assert_eq!(r.get("backup_retention_days"), &Value::Int(7));
        assert_eq!(
            r.get("latest_restorable_time"),
            &Value::Time("2026-01-01T00:00:00Z".parse().unwrap())
        );
        assert!(r.get("cluster_id").is_null());
        assert_eq!(r.tags["team"], "db");

        let plain = instance_resource(
            "123456789012",
            "eu-west-1",
            &DbInstance::builder()
                .db_instance_identifier("x")
                .backup_retention_period(0)
                .latest_restorable_time(DateTime::from_secs(1_767_225_600))
                .build(),
        );
        assert_eq!(
            plain.get("backup_replication_regions"),
            &Value::List(vec![])
        );
        assert!(plain.get("latest_restorable_time").is_null());
    }

    /// A DescribeDBInstances answer in AWS's documented wire format (query
    /// protocol, XML), with automated backups replicated to another region.
    const DESCRIBE_WITH_REPLICATION: &str = r#"<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBInstancesResult>
    <DBInstances>
      <DBInstance>
        <DBInstanceIdentifier>orders</DBInstanceIdentifier>
        <DBInstanceArn>arn:aws:rds:eu-west-1:123456789012:db:orders</DBInstanceArn>
        <Engine>postgres</Engine>
        <BackupRetentionPeriod>7</BackupRetentionPeriod>
        <MultiAZ>true</MultiAZ>
        <StorageEncrypted>true</StorageEncrypted>
        <DeletionProtection>true</DeletionProtection>
        <LatestRestorableTime>2026-01-01T00:00:00Z</LatestRestorableTime>
        <DBInstanceAutomatedBackupsReplications>
          <DBInstanceAutomatedBackupsReplication>
            <DBInstanceAutomatedBackupsArn>arn:aws:rds:eu-central-1:123456789012:auto-backup:ab-3lyhtkmtq6spkvvhwl6lfzjvuy</DBInstanceAutomatedBackupsArn>
          </DBInstanceAutomatedBackupsReplication>
        </DBInstanceAutomatedBackupsReplications>
        <TagList/>
      </DBInstance>
    </DBInstances>
  </DescribeDBInstancesResult>
  <ResponseMetadata><RequestId>4f1b1f0a-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</DescribeDBInstancesResponse>"#;

    /// Serves one canned HTTP answer on a loopback port.
    fn serve_once(body: &'static str) -> String {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut request = vec![0; length];
            reader.read_exact(&mut request).unwrap();
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            reader.get_mut().write_all(answer.as_bytes()).unwrap();
        });
        endpoint
    }

    // The same mapping, but from the bytes AWS sends, through the SDK's own
    // HTTP client and XML deserializer.
    #[tokio::test]
    async fn replicated_backups_from_the_wire_format() {
        let config = aws_sdk_rds::Config::builder()
            .behavior_version(aws_sdk_rds::config::BehaviorVersion::latest())
            .region(aws_sdk_rds::config::Region::new("eu-west-1"))
            .endpoint_url(serve_once(DESCRIBE_WITH_REPLICATION))
            .credentials_provider(aws_sdk_rds::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .build();
        let out = aws_sdk_rds::Client::from_conf(config)
            .describe_db_instances()
            .send()
            .await
            .unwrap();
        let r = instance_resource("123456789012", "eu-west-1", &out.db_instances()[0]);
        assert_eq!(
            r.get("backup_replication_regions"),
            &Value::from(vec!["eu-central-1".to_string()])
        );
        assert_eq!(r.get("multi_az"), &Value::Bool(true));
        assert_eq!(r.get("deletion_protection"), &Value::Bool(true));
    }

    /// A DescribeDBClusterSnapshots answer in AWS's documented wire format:
    /// a cross-region copy (with its SourceDBClusterSnapshotArn), an
    /// unencrypted manual snapshot, an automated one and one taken by AWS
    /// Backup.
    const DESCRIBE_CLUSTER_SNAPSHOTS: &str = r#"<DescribeDBClusterSnapshotsResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBClusterSnapshotsResult>
    <DBClusterSnapshots>
      <DBClusterSnapshot>
        <DBClusterSnapshotIdentifier>ledger-weekly-copy</DBClusterSnapshotIdentifier>
        <DBClusterIdentifier>ledger</DBClusterIdentifier>
        <DBClusterSnapshotArn>arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:ledger-weekly-copy</DBClusterSnapshotArn>
        <SourceDBClusterSnapshotArn>arn:aws:rds:us-east-1:123456789012:cluster-snapshot:ledger-weekly</SourceDBClusterSnapshotArn>
        <SnapshotType>manual</SnapshotType>
        <SnapshotCreateTime>2026-01-01T00:00:00Z</SnapshotCreateTime>
        <Engine>aurora-postgresql</Engine>
        <StorageEncrypted>true</StorageEncrypted>
        <KmsKeyId>arn:aws:kms:eu-west-1:123456789012:key/k1</KmsKeyId>
        <TagList><Tag><Key>team</Key><Value>ledger</Value></Tag></TagList>
      </DBClusterSnapshot>
      <DBClusterSnapshot>
        <DBClusterSnapshotIdentifier>legacy-final</DBClusterSnapshotIdentifier>
        <DBClusterIdentifier>legacy</DBClusterIdentifier>
        <DBClusterSnapshotArn>arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:legacy-final</DBClusterSnapshotArn>
        <SnapshotType>manual</SnapshotType>
        <SnapshotCreateTime>2025-12-31T23:00:00Z</SnapshotCreateTime>
        <StorageEncrypted>false</StorageEncrypted>
        <TagList/>
      </DBClusterSnapshot>
      <DBClusterSnapshot>
        <DBClusterSnapshotIdentifier>rds:ledger-2026-01-01-03-00</DBClusterSnapshotIdentifier>
        <DBClusterIdentifier>ledger</DBClusterIdentifier>
        <DBClusterSnapshotArn>arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:rds:ledger-2026-01-01-03-00</DBClusterSnapshotArn>
        <SnapshotType>automated</SnapshotType>
        <SnapshotCreateTime>2026-01-01T03:00:00Z</SnapshotCreateTime>
        <StorageEncrypted>true</StorageEncrypted>
        <KmsKeyId>arn:aws:kms:eu-west-1:123456789012:key/k1</KmsKeyId>
        <TagList/>
      </DBClusterSnapshot>
      <DBClusterSnapshot>
        <DBClusterSnapshotIdentifier>awsbackup:job-0123456789</DBClusterSnapshotIdentifier>
        <DBClusterIdentifier>ledger</DBClusterIdentifier>
        <DBClusterSnapshotArn>arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:awsbackup:job-0123456789</DBClusterSnapshotArn>
        <SnapshotType>awsbackup</SnapshotType>
        <SnapshotCreateTime>2026-01-01T04:00:00Z</SnapshotCreateTime>
        <StorageEncrypted>true</StorageEncrypted>
        <KmsKeyId>arn:aws:kms:eu-west-1:123456789012:key/k1</KmsKeyId>
        <TagList/>
      </DBClusterSnapshot>
    </DBClusterSnapshots>
  </DescribeDBClusterSnapshotsResult>
  <ResponseMetadata><RequestId>4f1b1f0a-0000-0000-0000-000000000001</RequestId></ResponseMetadata>
</DescribeDBClusterSnapshotsResponse>"#;

    #[tokio::test]
    async fn cluster_snapshots_from_the_wire_format() {
        let config = aws_sdk_rds::Config::builder()
            .behavior_version(aws_sdk_rds::config::BehaviorVersion::latest())
            .region(aws_sdk_rds::config::Region::new("eu-west-1"))
            .endpoint_url(serve_once(DESCRIBE_CLUSTER_SNAPSHOTS))
            .credentials_provider(aws_sdk_rds::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .build();
        let out = aws_sdk_rds::Client::from_conf(config)
            .describe_db_cluster_snapshots()
            .send()
            .await
            .unwrap();
        let snapshots: Vec<Resource> = out
            .db_cluster_snapshots()
            .iter()
            .map(|s| snapshot_resource("123456789012", "eu-west-1", s))
            .collect();
        let [copy, unencrypted, automated, backup] = &snapshots[..] else {
            panic!("{snapshots:#?}")
        };
        let time = |t: &str| Value::Time(t.parse().unwrap());

        assert_eq!(copy.resource_type.name, DB_SNAPSHOT);
        assert_eq!(copy.id, "ledger-weekly-copy");
        assert_eq!(
            copy.arn,
            "arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:ledger-weekly-copy"
        );
        assert_eq!(copy.region, "eu-west-1");
        assert_eq!(copy.tags["team"], "ledger");
        assert_eq!(copy.get("snapshot_type"), &Value::from("manual"));
        assert_eq!(copy.get("source_id"), &Value::from("ledger"));
        assert_eq!(copy.get("source_kind"), &Value::from("cluster"));
        assert_eq!(copy.get("source_region"), &Value::from("us-east-1"));
        assert_eq!(copy.get("encrypted"), &Value::Bool(true));
        assert_eq!(
            copy.get("kms_key_id"),
            &Value::from("arn:aws:kms:eu-west-1:123456789012:key/k1")
        );
        assert_eq!(copy.get("created_at"), &time("2026-01-01T00:00:00Z"));
        assert!(copy.get("public").is_unknown(), "read by another call");
        assert!(copy.get("shared_with").is_unknown());

        assert_eq!(unencrypted.get("encrypted"), &Value::Bool(false));
        assert!(unencrypted.get("kms_key_id").is_null());
        assert!(unencrypted.get("source_region").is_null());
        assert_eq!(unencrypted.get("source_kind"), &Value::from("cluster"));

        assert_eq!(automated.get("snapshot_type"), &Value::from("automated"));
        assert_eq!(automated.get("public"), &Value::Bool(false));
        assert_eq!(automated.get("shared_with"), &Value::List(vec![]));
        assert_eq!(automated.get("created_at"), &time("2026-01-01T03:00:00Z"));

        // AWS Backup's snapshots are user-managed: judged as manual ones,
        // and who may restore them is read.
        assert_eq!(backup.get("snapshot_type"), &Value::from("manual"));
        assert!(backup.get("public").is_unknown());
    }

    /// A DescribeDBInstanceAutomatedBackups answer in the region holding
    /// replicated backups, in AWS's documented wire format.
    const DESCRIBE_REPLICATED_BACKUPS: &str = r#"<DescribeDBInstanceAutomatedBackupsResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBInstanceAutomatedBackupsResult>
    <DBInstanceAutomatedBackups>
      <DBInstanceAutomatedBackup>
        <DBInstanceArn>arn:aws:rds:eu-west-1:123456789012:db:orders</DBInstanceArn>
        <DbiResourceId>db-AAAAAAAAAAAAAAAAAAAAAAAAAA</DbiResourceId>
        <Region>eu-west-1</Region>
        <DBInstanceIdentifier>orders</DBInstanceIdentifier>
        <RestoreWindow>
          <EarliestTime>2025-12-25T00:00:00Z</EarliestTime>
          <LatestTime>2026-01-01T00:00:00Z</LatestTime>
        </RestoreWindow>
        <Status>replicating</Status>
        <Engine>postgres</Engine>
        <BackupRetentionPeriod>7</BackupRetentionPeriod>
        <DBInstanceAutomatedBackupsArn>arn:aws:rds:eu-central-1:123456789012:auto-backup:ab-3lyhtkmtq6spkvvhwl6lfzjvuy</DBInstanceAutomatedBackupsArn>
      </DBInstanceAutomatedBackup>
    </DBInstanceAutomatedBackups>
  </DescribeDBInstanceAutomatedBackupsResult>
  <ResponseMetadata><RequestId>4f1b1f0a-0000-0000-0000-000000000002</RequestId></ResponseMetadata>
</DescribeDBInstanceAutomatedBackupsResponse>"#;

    #[tokio::test]
    async fn replicated_backups_restore_window_from_the_wire_format() {
        let arn = "arn:aws:rds:eu-central-1:123456789012:auto-backup:ab-3lyhtkmtq6spkvvhwl6lfzjvuy";
        let config = aws_sdk_rds::Config::builder()
            .behavior_version(aws_sdk_rds::config::BehaviorVersion::latest())
            .region(aws_sdk_rds::config::Region::new("eu-central-1"))
            .endpoint_url(serve_once(DESCRIBE_REPLICATED_BACKUPS))
            .credentials_provider(aws_sdk_rds::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .build();
        let out = aws_sdk_rds::Client::from_conf(config)
            .describe_db_instance_automated_backups()
            .db_instance_automated_backups_arn(arn)
            .send()
            .await
            .unwrap();
        let entry = replicated_backup(arn, out.db_instance_automated_backups().first());
        assert_eq!(entry["region"], Value::from("eu-central-1"));
        assert_eq!(
            entry["latest_restorable_time"],
            Value::Time("2026-01-01T00:00:00Z".parse().unwrap())
        );
        assert_eq!(entry["status"], Value::from("replicating"));

        // Not found there: the region, and explicitly no restorable time.
        let missing = replicated_backup(arn, None);
        assert_eq!(missing["region"], Value::from("eu-central-1"));
        assert!(missing["latest_restorable_time"].is_null());
        assert!(missing["status"].is_null());
    }

    #[test]
    fn replications_into_the_own_region_are_not_cross_region() {
        let rep = |region: &str| {
            DbInstanceAutomatedBackupsReplication::builder()
                .db_instance_automated_backups_arn(format!(
                    "arn:aws:rds:{region}:123456789012:auto-backup:ab-1"
                ))
                .build()
        };
        let db = DbInstance::builder()
            .db_instance_automated_backups_replications(rep("eu-west-1"))
            .db_instance_automated_backups_replications(rep("us-east-1"))
            .db_instance_automated_backups_replications(rep("us-east-1"))
            .build();
        assert_eq!(
            replication_arns("eu-west-1", &db),
            ["arn:aws:rds:us-east-1:123456789012:auto-backup:ab-1"]
        );
    }

    fn subscription(name: &str) -> aws_sdk_rds::types::builders::EventSubscriptionBuilder {
        EventSubscription::builder()
            .cust_subscription_id(name)
            .sns_topic_arn("arn:aws:sns:eu-west-1:123456789012:db-alerts")
            .status("active")
            .enabled(true)
    }

    #[test]
    fn only_enabled_subscriptions_on_backup_events_alert() {
        let alert = |s: EventSubscription| backup_alert(&s).unwrap();
        let on_backups = alert(subscription("a").event_categories_list("backup").build());
        assert_eq!(
            on_backups,
            Some(BackupAlert {
                name: "a".into(),
                source_type: None,
                source_ids: Vec::new(),
                topic_arn: "arn:aws:sns:eu-west-1:123456789012:db-alerts".into(),
                status: Some("active".into()),
            })
        );
        // No categories: every category, backups included.
        assert!(alert(subscription("all").build()).is_some());
        let failover = subscription("f").event_categories_list("failover").build();
        assert_eq!(alert(failover), None);
        assert_eq!(alert(subscription("off").enabled(false).build()), None);
        // Without Enabled, whether it alerts is unknown: an error.
        let unsaid = EventSubscription::builder()
            .cust_subscription_id("x")
            .build();
        let failure = backup_alert(&unsaid).unwrap_err();
        assert_eq!(failure.code, "ResponseError");
        assert!(failure.message.contains("Enabled"), "{}", failure.message);
    }

    #[test]
    fn subscriptions_cover_their_source_type_and_ids() {
        let instance = Resource::new(known_type(DB_INSTANCE), "orders");
        let cluster = Resource::new(known_type(DB_CLUSTER), "orders");
        let alert = |s: EventSubscription| backup_alert(&s).unwrap().unwrap();

        let every_instance = alert(subscription("i").source_type("db-instance").build());
        assert!(every_instance.covers(&instance));
        assert!(!every_instance.covers(&cluster));
        let named = alert(
            subscription("n")
                .source_type("db-cluster")
                .source_ids_list("Orders")
                .build(),
        );
        assert!(named.covers(&cluster), "identifiers ignore case");
        assert!(!named.covers(&instance));
        let other = alert(
            subscription("o")
                .source_type("db-instance")
                .source_ids_list("billing")
                .build(),
        );
        assert!(!other.covers(&instance));
        // No source type: the events of every source.
        let everything = alert(subscription("e").build());
        assert!(everything.covers(&instance) && everything.covers(&cluster));
    }

    #[test]
    fn instance_snapshots_say_so() {
        let s = DbSnapshot::builder()
            .db_snapshot_identifier("orders-1")
            .db_instance_identifier("orders")
            .snapshot_type("manual")
            .build();
        let r = snapshot_resource("123456789012", "eu-west-1", &s);
        assert_eq!(r.get("source_kind"), &Value::from("instance"));
        assert_eq!(r.get("source_id"), &Value::from("orders"));
    }

    #[test]
    fn copies_match_their_source_instance_only() {
        let instance = Instance {
            resource: Resource::new(known_type(DB_INSTANCE), "orders"),
            dbi_resource_id: Some("db-AAA".into()),
            replications: Vec::new(),
        };
        let copy = SnapshotFacts {
            instance_id: Some("orders".into()),
            dbi_resource_id: None,
            source_region: None,
            automated: false,
            taken_at: None,
        };
        assert!(is_copy_of(&instance, "eu-west-1", &copy));
        let from_elsewhere = SnapshotFacts {
            source_region: Some("us-west-2".into()),
            ..copy.clone()
        };
        assert!(!is_copy_of(&instance, "eu-west-1", &from_elsewhere));
        let other_instance = SnapshotFacts {
            dbi_resource_id: Some("db-BBB".into()),
            ..copy.clone()
        };
        assert!(!is_copy_of(&instance, "eu-west-1", &other_instance));
        let automated = SnapshotFacts {
            automated: true,
            ..copy.clone()
        };
        assert!(!is_copy_of(&instance, "eu-west-1", &automated));
    }

    #[test]
    fn copies_report_their_source_region() {
        let s = DbSnapshot::builder()
            .db_snapshot_identifier("copy")
            .source_db_snapshot_identifier("arn:aws:rds:us-east-1:123456789012:snapshot:orders-1")
            .snapshot_type("manual")
            .build();
        assert_eq!(source_region("eu-west-1", &s).as_deref(), Some("us-east-1"));
        let s = DbSnapshot::builder()
            .source_region("us-east-1")
            .snapshot_type("manual")
            .build();
        assert_eq!(source_region("eu-west-1", &s).as_deref(), Some("us-east-1"));
        let local = DbSnapshot::builder().snapshot_type("manual").build();
        assert_eq!(source_region("eu-west-1", &local), None);
    }
}
