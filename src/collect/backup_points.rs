//! AWS Backup: the resources it protects (their recovery points, backup
//! jobs and restore jobs), and the AWS Backup copies of RDS instances and
//! clusters held in other regions.
//!
//! Copies are read from the source region: ListCopyJobs (COMPLETED) there
//! names every copy of every resource with its destination vault, in one
//! listing per audited region, where searching the recovery points of
//! every other region would take a call per resource and region. A copy
//! holds the data of its source recovery point, so it is dated by that
//! point's creation time (ListRecoveryPointsByResource, for the copied
//! resources only), never by the copy job's own time: a fresh copy of an
//! old point is an old backup. A copy whose source point is no longer
//! listed cannot be dated and does not count (at worst a false fail).
//!
//! A listed copy job is no proof that its copy is still there: the copy
//! may have been deleted since, by hand or with its vault. So the copy
//! that decides a resource's copy time (its newest) is confirmed with
//! DescribeRecoveryPoint in the destination region; one that is gone
//! (ResourceNotFoundException) or no longer COMPLETED does not count and
//! the next newest is asked, at most [`CONFIRMED_COPIES`] in all; a copy
//! that cannot be confirmed for another reason leaves the copy time
//! unknown. A copy to another account's vault cannot be described from
//! this account, so it does not count (a fail, never a pass).

use std::collections::{BTreeSet, HashMap};

use aws_sdk_backup::types::{
    CopyJobState, RecoveryPointStatus, RestoreJobStatus, RestoreJobsListMember,
};
use futures::StreamExt;
use futures::future::OptionFuture;
use jiff::Timestamp;

use super::errors::{CallFailure, NotConfigured, Target, detail_error, listing_error};
use super::{Ctx, arn_region, known_type, set_enum, timestamp};
use crate::model::Resource;
use crate::model::schema::{BACKUP_PROTECTED_RESOURCE, DB_CLUSTER, DB_INSTANCE, Operation, ops};

/// How many copies of one resource are confirmed, newest first, before it
/// counts as having none left.
const CONFIRMED_COPIES: usize = 3;

/// A resource's `aws_backup_cross_region_copy_time`, or the call that left
/// it unknown and why.
type CopyTime = Result<Option<Timestamp>, (&'static Operation, CallFailure)>;

/// What one region's AWS Backup collection found.
pub(crate) struct RegionPoints {
    region: String,
    /// `None`: not listed (no rule needs it).
    protected: Option<Result<Vec<Protected>, CallFailure>>,
    /// The recovery points read, by resource ARN.
    points: HashMap<String, Result<Vec<Point>, CallFailure>>,
    backup_jobs: Option<Result<HashMap<String, BTreeSet<String>>, CallFailure>>,
    copies: Option<Result<Vec<Copy>, CallFailure>>,
    /// The copy times of the copied RDS instances and clusters, by ARN.
    copy_times: HashMap<String, CopyTime>,
}

struct Protected {
    arn: String,
    resource_type: Option<String>,
    last_backup_time: Option<Timestamp>,
    /// `None`: not read.
    restore: Option<Result<Option<RestoreFacts>, CallFailure>>,
}

struct Point {
    arn: String,
    completed: bool,
    created: Option<Timestamp>,
}

#[derive(Debug, PartialEq)]
struct RestoreFacts {
    status: String,
    completed_at: Option<Timestamp>,
    duration_seconds: Option<i64>,
}

/// A completed copy job: which resource's recovery point went to which
/// region.
struct Copy {
    resource_arn: String,
    source_point_arn: String,
    destination_region: Option<String>,
    destination_vault_arn: Option<String>,
    destination_point_arn: Option<String>,
}

impl Copy {
    /// Whether the copy went to a region other than `region`.
    fn leaves(&self, region: &str) -> bool {
        self.destination_region
            .as_deref()
            .is_some_and(|d| d != region)
    }

    /// Whether the destination vault belongs to `account`.
    fn stays_in(&self, account: &str) -> bool {
        self.destination_vault_arn
            .as_deref()
            .and_then(|arn| arn.split(':').nth(4))
            .is_some_and(|a| a == account)
    }

    /// The destination vault's name
    /// (`arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME`).
    fn vault_name(&self) -> Option<&str> {
        let arn = self.destination_vault_arn.as_deref()?;
        let (_, name) = arn.split_once(":backup-vault:")?;
        (!name.is_empty()).then_some(name)
    }
}

/// Whether `arn` is that of an RDS instance or cluster (whose copy time a
/// rule reads).
fn is_rds_instance_or_cluster(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    matches!(
        parts.as_slice(),
        ["arn", _, "rds", _, _, "db" | "cluster", _]
    )
}

pub(crate) async fn collect_region(ctx: &Ctx<'_>, region: &str) -> RegionPoints {
    let plan = ctx.plan;
    let want_protected = plan.needs_type(known_type(BACKUP_PROTECTED_RESOURCE));
    let want_copies = plan.needs(&ops::BACKUP_LIST_COPY_JOBS);
    let mut result = RegionPoints {
        region: region.to_string(),
        protected: None,
        points: HashMap::new(),
        backup_jobs: None,
        copies: None,
        copy_times: HashMap::new(),
    };
    if !(want_protected || want_copies) {
        return result;
    }
    let want_backup_jobs = want_protected && plan.needs(&ops::BACKUP_LIST_BACKUP_JOBS);
    let listing = ctx.progress.listing(format!("backup jobs in {region}"));
    let (protected, backup_jobs, copies) = futures::join!(
        OptionFuture::from(want_protected.then(|| list_protected(ctx, region))),
        OptionFuture::from(want_backup_jobs.then(|| backup_plans(ctx, region))),
        OptionFuture::from(want_copies.then(|| copy_jobs(ctx, region))),
    );
    drop(listing);
    if let Some(Err(failure)) = &backup_jobs {
        let target = Target::every(known_type(BACKUP_PROTECTED_RESOURCE), region);
        let op = &ops::BACKUP_LIST_BACKUP_JOBS;
        ctx.record(detail_error(op, target, failure.clone()));
    }
    if let Some(Err(failure)) = &protected {
        let op = &ops::BACKUP_LIST_PROTECTED_RESOURCES;
        let kind = known_type(BACKUP_PROTECTED_RESOURCE);
        ctx.record(listing_error(op, region, kind, failure.clone()));
    }
    // Recovery points: of every protected resource when a rule reads
    // them, and of the resources copied to another region, to date the
    // copies.
    let mut dated: BTreeSet<String> = BTreeSet::new();
    if let Some(Ok(copies)) = &copies {
        dated.extend(
            copies
                .iter()
                .filter(|c| c.leaves(region))
                .map(|c| c.resource_arn.clone()),
        );
    }
    let protected = match protected {
        Some(Ok(list)) => Some(Ok(futures::stream::iter(list)
            .map(|p| restore_jobs(ctx, region, p))
            .buffered(ctx.concurrency)
            .collect::<Vec<_>>()
            .await)),
        other => other,
    };
    let points_op = &ops::BACKUP_LIST_RECOVERY_POINTS_BY_RESOURCE;
    if let Some(Ok(list)) = &protected
        && plan.needs(points_op)
    {
        dated.extend(list.iter().map(|p| p.arn.clone()));
    }
    result.points = futures::stream::iter(dated)
        .map(|arn| async move {
            let points = recovery_points(ctx, region, &arn).await;
            (arn, points)
        })
        .buffered(ctx.concurrency)
        .collect()
        .await;
    if let Some(Ok(copies)) = &copies {
        let copied: BTreeSet<&str> = copies
            .iter()
            .filter(|c| c.leaves(region) && is_rds_instance_or_cluster(&c.resource_arn))
            .map(|c| c.resource_arn.as_str())
            .collect();
        let points = &result.points;
        result.copy_times = futures::stream::iter(copied)
            .map(|arn| async move {
                let time = copy_time(ctx, region, arn, copies, points.get(arn)).await;
                (arn.to_string(), time)
            })
            .buffered(ctx.concurrency)
            .collect()
            .await;
    }
    result.protected = protected;
    result.backup_jobs = backup_jobs;
    result.copies = copies;
    result
}

async fn list_protected(ctx: &Ctx<'_>, region: &str) -> Result<Vec<Protected>, CallFailure> {
    let mut pages = ctx
        .clients(region)
        .backup
        .list_protected_resources()
        .set_max_results(ctx.page_size(1, 1000))
        .into_paginator()
        .send();
    let op = &ops::BACKUP_LIST_PROTECTED_RESOURCES;
    let pages = ctx
        .all_pages(op, region, |cx| pages.poll_next(cx), |p| p.next_token())
        .await
        .map_err(|err| CallFailure::from_sdk(&err))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.results())
        .filter_map(|r| {
            Some(Protected {
                arn: r.resource_arn()?.to_string(),
                resource_type: r.resource_type().map(str::to_string),
                last_backup_time: r.last_backup_time().and_then(timestamp),
                restore: None,
            })
        })
        .collect())
}

/// Every recovery point of the resource `arn` in `region`.
async fn recovery_points(
    ctx: &Ctx<'_>,
    region: &str,
    arn: &str,
) -> Result<Vec<Point>, CallFailure> {
    let mut pages = ctx
        .clients(region)
        .backup
        .list_recovery_points_by_resource()
        .resource_arn(arn)
        // Only AWS Backup's own: by default the listing also holds the
        // service's snapshots (RDS automated ones), which say nothing about
        // whether the backup plan works.
        .managed_by_aws_backup_only(true)
        .set_max_results(ctx.page_size(1, 100))
        .into_paginator()
        .send();
    ctx.ask_pages(
        &ops::BACKUP_LIST_RECOVERY_POINTS_BY_RESOURCE,
        region,
        |cx| pages.poll_next(cx),
        |p| p.next_token(),
        NotConfigured::Never,
        |pages| {
            Ok(pages
                .iter()
                .flat_map(|p| p.recovery_points())
                .filter_map(|p| {
                    Some(Point {
                        arn: p.recovery_point_arn()?.to_string(),
                        completed: p.status().is_some_and(|s| s.as_str() == "COMPLETED"),
                        created: p.creation_date().and_then(timestamp),
                    })
                })
                .collect())
        },
    )
    .await
}

/// Reads a protected resource's restore jobs, when the plan needs them.
async fn restore_jobs(ctx: &Ctx<'_>, region: &str, mut protected: Protected) -> Protected {
    let op = &ops::BACKUP_LIST_RESTORE_JOBS_BY_PROTECTED_RESOURCE;
    if !ctx.plan.needs(op) {
        return protected;
    }
    let mut pages = ctx
        .clients(region)
        .backup
        .list_restore_jobs_by_protected_resource()
        .resource_arn(&protected.arn)
        .set_max_results(ctx.page_size(1, 1000))
        .into_paginator()
        .send();
    let read = ctx
        .ask_pages(
            op,
            region,
            |cx| pages.poll_next(cx),
            |p| p.next_token(),
            NotConfigured::Never,
            |pages| Ok(last_finished(pages.iter().flat_map(|p| p.restore_jobs()))),
        )
        .await;
    protected.restore = Some(read);
    protected
}

/// The newest restore job that has finished (by completion time, else
/// creation time: a job AWS lists without a completion date must not sort
/// below an older success); jobs still pending or running say nothing yet.
fn last_finished<'a>(
    jobs: impl Iterator<Item = &'a RestoreJobsListMember>,
) -> Option<RestoreFacts> {
    jobs.filter(|j| {
        !matches!(
            j.status(),
            None | Some(RestoreJobStatus::Pending | RestoreJobStatus::Running)
        )
    })
    .max_by_key(|j| {
        j.completion_date()
            .or(j.creation_date())
            .and_then(timestamp)
    })
    .map(|j| {
        let created = j.creation_date().and_then(timestamp);
        let completed_at = j.completion_date().and_then(timestamp);
        let completed = j.status() == Some(&RestoreJobStatus::Completed);
        let duration_seconds = match (created, completed_at) {
            (Some(start), Some(end)) if completed => Some(end.as_second() - start.as_second()),
            _ => None,
        };
        RestoreFacts {
            status: j
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            completed_at,
            duration_seconds,
        }
    })
}

/// The backup plans whose backup jobs backed up each resource (by ARN).
async fn backup_plans(
    ctx: &Ctx<'_>,
    region: &str,
) -> Result<HashMap<String, BTreeSet<String>>, CallFailure> {
    let mut pages = ctx
        .clients(region)
        .backup
        .list_backup_jobs()
        .set_max_results(ctx.page_size(1, 1000))
        .into_paginator()
        .send();
    let op = &ops::BACKUP_LIST_BACKUP_JOBS;
    let pages = ctx
        .all_pages(op, region, |cx| pages.poll_next(cx), |p| p.next_token())
        .await
        .map_err(|err| CallFailure::from_sdk(&err))?;
    let mut plans: HashMap<String, BTreeSet<String>> = HashMap::new();
    for job in pages.iter().flat_map(|p| p.backup_jobs()) {
        let Some(arn) = job.resource_arn() else {
            continue;
        };
        let entry = plans.entry(arn.to_string()).or_default();
        if let Some(plan) = job.created_by().and_then(|c| c.backup_plan_id()) {
            entry.insert(plan.to_string());
        }
    }
    Ok(plans)
}

async fn copy_jobs(ctx: &Ctx<'_>, region: &str) -> Result<Vec<Copy>, CallFailure> {
    let mut pages = ctx
        .clients(region)
        .backup
        .list_copy_jobs()
        .by_state(CopyJobState::Completed)
        .set_max_results(ctx.page_size(1, 1000))
        .into_paginator()
        .send();
    let op = &ops::BACKUP_LIST_COPY_JOBS;
    let pages = ctx
        .all_pages(op, region, |cx| pages.poll_next(cx), |p| p.next_token())
        .await
        .map_err(|err| CallFailure::from_sdk(&err))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.copy_jobs())
        .filter(|j| j.state() == Some(&CopyJobState::Completed))
        .filter_map(|j| {
            Some(Copy {
                resource_arn: j.resource_arn()?.to_string(),
                source_point_arn: j.source_recovery_point_arn()?.to_string(),
                destination_region: j
                    .destination_backup_vault_arn()
                    .and_then(arn_region)
                    .map(str::to_string),
                destination_vault_arn: j.destination_backup_vault_arn().map(str::to_string),
                destination_point_arn: j.destination_recovery_point_arn().map(str::to_string),
            })
        })
        .collect())
}

/// The copy time of the resource `arn` of `region`: the creation time of
/// the source point of its newest copy in another region that is still
/// there (see the module's documentation).
async fn copy_time(
    ctx: &Ctx<'_>,
    region: &str,
    arn: &str,
    copies: &[Copy],
    points: Option<&Result<Vec<Point>, CallFailure>>,
) -> CopyTime {
    let copies: Vec<&Copy> = copies
        .iter()
        .filter(|c| c.resource_arn == arn && c.leaves(region))
        .collect();
    let points = match points {
        _ if copies.is_empty() => return Ok(None),
        None => return Ok(None),
        Some(Ok(points)) => points,
        Some(Err(failure)) => {
            let failure = failure.clone().context(
                "the recovery points its AWS Backup copies were made of could not be read",
            );
            return Err((&ops::BACKUP_LIST_RECOVERY_POINTS_BY_RESOURCE, failure));
        }
    };
    let created: HashMap<&str, Timestamp> = points
        .iter()
        .filter_map(|p| Some((p.arn.as_str(), p.created?)))
        .collect();
    let mut dated: Vec<(Timestamp, &Copy)> = copies
        .into_iter()
        .filter(|c| c.stays_in(&ctx.account))
        .filter_map(|c| Some((*created.get(c.source_point_arn.as_str())?, c)))
        .collect();
    dated.sort_by_key(|(time, _)| std::cmp::Reverse(*time));
    for (time, copy) in dated.into_iter().take(CONFIRMED_COPIES) {
        match still_there(ctx, copy).await {
            Ok(true) => return Ok(Some(time)),
            Ok(false) => {}
            Err(failure) => {
                let failure = failure.context(format!(
                    "whether its AWS Backup copy {} still exists could not be read",
                    copy.destination_point_arn.as_deref().unwrap_or_default()
                ));
                return Err((&ops::BACKUP_DESCRIBE_RECOVERY_POINT, failure));
            }
        }
    }
    Ok(None)
}

/// Whether a copy's recovery point is still in its vault, COMPLETED
/// (DescribeRecoveryPoint in the vault's region). A copy job that names no
/// destination point cannot be confirmed: false.
async fn still_there(ctx: &Ctx<'_>, copy: &Copy) -> Result<bool, CallFailure> {
    let (Some(region), Some(vault), Some(point)) = (
        copy.destination_region.as_deref(),
        copy.vault_name(),
        copy.destination_point_arn.as_deref(),
    ) else {
        return Ok(false);
    };
    let call = ctx
        .backup(region)
        .describe_recovery_point()
        .backup_vault_name(vault)
        .recovery_point_arn(point)
        .send();
    ctx.ask(
        &ops::BACKUP_DESCRIBE_RECOVERY_POINT,
        region,
        call,
        // The point, or its vault, is gone.
        NotConfigured::When(&["ResourceNotFoundException"], false),
        |out| Ok(out.status() == Some(&RecoveryPointStatus::Completed)),
    )
    .await
}

/// The protected resources of every region, and the
/// `aws_backup_cross_region_copy_time` of the RDS instances and clusters
/// among `resources`. Records what could not be read.
pub(crate) fn finish(
    ctx: &Ctx<'_>,
    regions: Vec<RegionPoints>,
    resources: &mut [Resource],
) -> Vec<Resource> {
    let want_protected = ctx.plan.needs_type(known_type(BACKUP_PROTECTED_RESOURCE));
    let mut found = Vec::new();
    for region in &regions {
        if ctx.plan.needs(&ops::BACKUP_LIST_COPY_JOBS) {
            copy_times(ctx, region, resources);
        }
        if want_protected && let Some(Ok(list)) = &region.protected {
            found.extend(list.iter().map(|p| protected_resource(ctx, region, p)));
        }
    }
    found
}

fn protected_resource(ctx: &Ctx<'_>, region: &RegionPoints, p: &Protected) -> Resource {
    let kind = known_type(BACKUP_PROTECTED_RESOURCE);
    let mut r = ctx.resource(kind, &p.arn, &p.arn, &region.region);
    r.set("resource_arn", p.arn.as_str());
    r.set("resource_type", p.resource_type.clone());
    r.set("last_backup_time", p.last_backup_time);
    let target = Target::resource(kind, &region.region, &p.arn);
    let points_op = &ops::BACKUP_LIST_RECOVERY_POINTS_BY_RESOURCE;
    if let Some(points) = region.points.get(&p.arn).map(Result::as_ref)
        && let Some(points) = ctx.keep(points_op, target, points.map_err(Clone::clone))
    {
        let newest = points
            .iter()
            .filter(|p| p.completed)
            .filter_map(|p| p.created)
            .max();
        r.set("last_recovery_point_time", newest);
    }
    let restore_op = &ops::BACKUP_LIST_RESTORE_JOBS_BY_PROTECTED_RESOURCE;
    if let Some(restore) = p.restore.as_ref().map(Result::as_ref)
        && let Some(restore) = ctx.keep(restore_op, target, restore.map_err(Clone::clone))
    {
        let restore = restore.as_ref();
        r.set(
            "last_restore_job_time",
            restore.and_then(|job| job.completed_at),
        );
        set_enum(
            &mut r,
            "last_restore_job_status",
            restore.map(|job| job.status.as_str()),
        );
        r.set(
            "last_restore_duration_seconds",
            restore.and_then(|job| job.duration_seconds),
        );
    }
    if let Some(Ok(plans)) = &region.backup_jobs {
        let ids: Vec<String> = plans
            .get(&p.arn)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default();
        r.set("plan_ids", ids);
    }
    r
}

/// Sets `aws_backup_cross_region_copy_time` on the region's RDS instances
/// and clusters; where the copy listing failed, records that and leaves it
/// unknown.
fn copy_times(ctx: &Ctx<'_>, region: &RegionPoints, resources: &mut [Resource]) {
    let here = region.region.as_str();
    let kinds = [known_type(DB_INSTANCE), known_type(DB_CLUSTER)];
    match &region.copies {
        Some(Ok(_)) => {}
        Some(Err(failure)) => {
            for kind in kinds.into_iter().filter(|k| ctx.plan.needs_type(k)) {
                let failure = failure
                    .clone()
                    .context("AWS Backup copies could not be listed");
                let target = Target::every(kind, here);
                ctx.record(detail_error(&ops::BACKUP_LIST_COPY_JOBS, target, failure));
            }
            return;
        }
        None => return,
    }
    for resource in resources
        .iter_mut()
        .filter(|r| r.region == here && kinds.contains(&r.resource_type))
    {
        // No entry: no copy in another region.
        match region.copy_times.get(&resource.arn) {
            None => {
                resource.set("aws_backup_cross_region_copy_time", None::<Timestamp>);
            }
            Some(Ok(time)) => {
                resource.set("aws_backup_cross_region_copy_time", *time);
            }
            Some(Err((op, failure))) => {
                let target = Target::resource(resource.resource_type, here, &resource.id);
                ctx.record(detail_error(op, target, failure.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_backup::primitives::DateTime;

    fn job(
        status: RestoreJobStatus,
        created: i64,
        completed: Option<i64>,
    ) -> RestoreJobsListMember {
        RestoreJobsListMember::builder()
            .status(status)
            .creation_date(DateTime::from_secs(created))
            .set_completion_date(completed.map(DateTime::from_secs))
            .build()
    }

    #[test]
    fn the_last_finished_restore_job_counts() {
        let jobs = [
            job(RestoreJobStatus::Completed, 1_000, Some(2_800)),
            job(RestoreJobStatus::Failed, 5_000, Some(5_100)),
            job(RestoreJobStatus::Running, 9_000, None),
        ];
        let last = last_finished(jobs.iter()).unwrap();
        assert_eq!(last.status, "FAILED");
        assert_eq!(
            last.duration_seconds, None,
            "a failed restore has no duration"
        );
        let last = last_finished(jobs[..1].iter()).unwrap();
        assert_eq!(last.duration_seconds, Some(1_800));
        assert_eq!(last_finished(jobs[2..].iter()), None);
    }
}
