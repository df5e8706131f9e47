//! AWS Backup plans (their rules and resource selections) and backup vaults
//! (encryption, vault lock), and which plans assign the audited RDS
//! instances and clusters and S3 buckets.
//!
//! A plan protects only resources of its own region. Whether a selection
//! assigns a resource is decided as AWS Backup does: `Resources` (ARNs and
//! wildcards) OR `ListOfTags`, then AND every `Conditions` entry, and never
//! what `NotResources` names. A selection that could not be read, or one that
//! depends on tags that could not be read, leaves the assignment unknown,
//! never "no plan protects this".

use std::collections::BTreeMap;

use aws_sdk_backup::types::{BackupRule, BackupSelection, ConditionType, CopyAction};
use futures::StreamExt;

use super::errors::{CallFailure, NotConfigured, Target, detail_error};
use super::{Ctx, key_manager, known_type, set_enum, timestamp};
use crate::model::schema::{
    BACKUP_PLAN, BACKUP_VAULT, DB_CLUSTER, DB_INSTANCE, Operation, S3_BUCKET, ops,
};
use crate::model::{Resource, Value, schedule};

/// The resource types whose `backup_plan_ids` this module resolves.
const ASSIGNABLE: &[&str] = &[DB_INSTANCE, DB_CLUSTER, S3_BUCKET];

/// What one region's AWS Backup collection found.
pub(crate) struct RegionBackup {
    region: String,
    /// `None`: the plans were not listed (not planned, or failed: recorded).
    plans: Option<Vec<PlanRead>>,
    vaults: Vec<Resource>,
}

struct PlanRead {
    resource: Resource,
    /// `None`: not read (not planned, or failed: recorded).
    selections: Option<Vec<Selection>>,
}

pub(crate) async fn collect_region(ctx: &Ctx<'_>, region: &str) -> RegionBackup {
    let (plans, vaults) = futures::join!(plans(ctx, region), vaults(ctx, region));
    RegionBackup {
        region: region.to_string(),
        plans,
        vaults,
    }
}

/// Whether the plan needs to know which plans assign which resources.
fn wants_assignments(ctx: &Ctx<'_>) -> bool {
    ctx.plan.needs(&ops::BACKUP_LIST_BACKUP_SELECTIONS)
}

/// Records `failure` of `op` against the `backup_plan_ids` of every
/// assignable resource of `region`.
fn assignments_unknown(ctx: &Ctx<'_>, op: &Operation, region: &str, failure: &CallFailure) {
    for kind in ASSIGNABLE.iter().map(|name| known_type(name)) {
        if ctx.plan.needs_type(kind) {
            ctx.record(detail_error(
                op,
                Target::every(kind, region),
                failure.clone(),
            ));
        }
    }
}

async fn plans(ctx: &Ctx<'_>, region: &str) -> Option<Vec<PlanRead>> {
    let plan_kind = known_type(BACKUP_PLAN);
    if !ctx.plan.needs_type(plan_kind) && !wants_assignments(ctx) {
        return None;
    }
    let op = &ops::BACKUP_LIST_BACKUP_PLANS;
    let listing = ctx.progress.listing(format!("backup plans in {region}"));
    let mut pages = ctx
        .clients(region)
        .backup
        .list_backup_plans()
        .set_max_results(ctx.page_size(1, 1000))
        .into_paginator()
        .send();
    let listed = if ctx.plan.needs_type(plan_kind) {
        ctx.list(
            op,
            region,
            plan_kind,
            |cx| pages.poll_next(cx),
            |p| p.next_token(),
        )
        .await
    } else {
        ctx.all_pages(op, region, |cx| pages.poll_next(cx), |p| p.next_token())
            .await
            .map_err(|err| CallFailure::from_sdk(&err))
    };
    let pages = match listed {
        Ok(pages) => pages,
        Err(failure) => {
            let failure = failure.context("the backup plans could not be listed");
            assignments_unknown(ctx, op, region, &failure);
            return None;
        }
    };
    drop(listing);
    let listed = pages
        .into_iter()
        .flat_map(|p| p.backup_plans_list.unwrap_or_default());
    let plans = ctx
        .read_each(listed, |listed| {
            let id = listed.backup_plan_id().unwrap_or_default().to_string();
            let mut resource = ctx.resource(
                plan_kind,
                &id,
                listed.backup_plan_arn().unwrap_or_default(),
                region,
            );
            resource.set("name", listed.backup_plan_name());
            plan(ctx, region, resource)
        })
        .await;
    Some(plans)
}

async fn plan(ctx: &Ctx<'_>, region: &str, mut resource: Resource) -> PlanRead {
    let plan_kind = known_type(BACKUP_PLAN);
    let client = &ctx.clients(region).backup;
    let id = resource.id.clone();
    let target = Target::resource(plan_kind, region, &id);
    let rules = ctx.fetch(
        &ops::BACKUP_GET_BACKUP_PLAN,
        target,
        client.get_backup_plan().backup_plan_id(&id).send(),
        NotConfigured::Never,
        |out| {
            let Some(plan) = out.backup_plan() else {
                return Err(CallFailure::new(
                    "ResponseError",
                    "GetBackupPlan answered without a plan",
                ));
            };
            plan.rules()
                .iter()
                .map(backup_rule)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|problem| CallFailure::new("ResponseError", problem))
        },
    );
    let (rules, selections) = futures::join!(rules, selections(ctx, region, &id));
    if let Some(rules) = rules {
        resource.set("rules", rules);
    }
    let Some(read) = selections else {
        return PlanRead {
            resource,
            selections: None,
        };
    };
    if let Some(listed) = read.listed {
        resource.set("has_selections", listed > 0);
    }
    let selections = match read.selections {
        None => None,
        Some(Ok(selections)) => Some(selections),
        Some(Err((op, failure))) => {
            ctx.record(detail_error(op, target, failure.clone()));
            let failure = failure.context(format!("the selections of backup plan {id}"));
            assignments_unknown(ctx, op, region, &failure);
            None
        }
    };
    PlanRead {
        resource,
        selections,
    }
}

/// What was read of a plan's selections.
struct SelectionsRead {
    /// How many it has; `None` when they could not be listed.
    listed: Option<usize>,
    /// Each read whole; `None` when not planned; the failed operation and
    /// why when a call failed.
    selections: Option<Result<Vec<Selection>, (&'static Operation, CallFailure)>>,
}

/// A plan's selections, each read with GetBackupSelection when planned.
async fn selections(ctx: &Ctx<'_>, region: &str, plan_id: &str) -> Option<SelectionsRead> {
    let list_op = &ops::BACKUP_LIST_BACKUP_SELECTIONS;
    if !ctx.plan.needs(list_op) {
        return None;
    }
    let client = &ctx.clients(region).backup;
    let mut pages = client
        .list_backup_selections()
        .backup_plan_id(plan_id)
        .set_max_results(ctx.page_size(1, 1000))
        .into_paginator()
        .send();
    let listed = ctx
        .ask_pages(
            list_op,
            region,
            |cx| pages.poll_next(cx),
            |p| p.next_token(),
            NotConfigured::Never,
            |pages| {
                // A selection listed without its id cannot be read: the
                // plan's assignments would be guessed, so the answer fails.
                pages
                    .into_iter()
                    .flat_map(|p| p.backup_selections_list.unwrap_or_default())
                    .map(|s| {
                        s.selection_id.ok_or_else(|| {
                            CallFailure::new(
                                "ResponseError",
                                "ListBackupSelections listed a selection without its id",
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            },
        )
        .await;
    let ids = match listed {
        Ok(ids) => ids,
        Err(failure) => {
            return Some(SelectionsRead {
                listed: None,
                selections: Some(Err((list_op, failure))),
            });
        }
    };
    let get_op = &ops::BACKUP_GET_BACKUP_SELECTION;
    let listed = Some(ids.len());
    if !ctx.plan.needs(get_op) {
        return Some(SelectionsRead {
            listed,
            selections: None,
        });
    }
    let read: Vec<Result<Selection, CallFailure>> = futures::stream::iter(ids)
        .map(|selection_id| async move {
            let call = client
                .get_backup_selection()
                .backup_plan_id(plan_id)
                .selection_id(&selection_id)
                .send();
            ctx.ask(get_op, region, call, NotConfigured::Never, |out| {
                let selection = out.backup_selection().ok_or_else(|| {
                    CallFailure::new(
                        "ResponseError",
                        format!("GetBackupSelection answered {selection_id} without a selection"),
                    )
                })?;
                Selection::read(selection).map_err(|problem| {
                    CallFailure::new(
                        "ResponseError",
                        format!(
                            "selection {:?}: {problem}, so what it assigns is unknown",
                            selection.selection_name()
                        ),
                    )
                })
            })
            .await
        })
        .buffer_unordered(ctx.concurrency)
        .collect()
        .await;
    Some(SelectionsRead {
        listed,
        selections: Some(
            read.into_iter()
                .collect::<Result<Vec<_>, _>>()
                .map_err(|failure| (get_op, failure)),
        ),
    })
}

/// A plan's rule; an error when its schedule cannot be read (an object
/// field that may be none cannot be unknown, so the whole list is).
fn backup_rule(rule: &BackupRule) -> Result<BTreeMap<String, Value>, String> {
    let schedule = rule.schedule_expression().filter(|s| !s.trim().is_empty());
    let frequency = match schedule {
        None => None,
        Some(expression) => Some(schedule::frequency_hours(expression).ok_or_else(|| {
            format!(
                "backup rule {:?}: schedule {expression:?} is not one backstop can read, so its \
                 frequency is unknown",
                rule.rule_name()
            )
        })?),
    };
    let copies: Vec<BTreeMap<String, Value>> = rule.copy_actions().iter().map(copy).collect();
    Ok(BTreeMap::from([
        ("name".to_string(), Value::from(rule.rule_name())),
        ("schedule_expression".to_string(), Value::from(schedule)),
        ("frequency_hours".to_string(), Value::from(frequency)),
        (
            "retention_days".to_string(),
            Value::from(rule.lifecycle().and_then(|l| l.delete_after_days())),
        ),
        (
            "target_vault".to_string(),
            Value::from(rule.target_backup_vault_name()),
        ),
        ("copy_destinations".to_string(), Value::from(copies)),
    ]))
}

fn copy(action: &CopyAction) -> BTreeMap<String, Value> {
    let arn = action.destination_backup_vault_arn();
    // arn:partition:backup:REGION:ACCOUNT:backup-vault:NAME
    let field = |n: usize| {
        arn.split(':')
            .nth(n)
            .filter(|f| !f.is_empty())
            .map_or(Value::Unknown, Value::from)
    };
    BTreeMap::from([
        ("vault_arn".to_string(), Value::from(arn)),
        ("region".to_string(), field(3)),
        ("account".to_string(), field(4)),
        (
            "retention_days".to_string(),
            Value::from(action.lifecycle().and_then(|l| l.delete_after_days())),
        ),
    ])
}

async fn vaults(ctx: &Ctx<'_>, region: &str) -> Vec<Resource> {
    let vault_kind = known_type(BACKUP_VAULT);
    if !ctx.plan.needs_type(vault_kind) {
        return Vec::new();
    }
    let listing = ctx.progress.listing(format!("backup vaults in {region}"));
    let mut pages = ctx
        .clients(region)
        .backup
        .list_backup_vaults()
        .set_max_results(ctx.page_size(1, 1000))
        .into_paginator()
        .send();
    let Ok(pages) = ctx
        .list(
            &ops::BACKUP_LIST_BACKUP_VAULTS,
            region,
            vault_kind,
            |cx| pages.poll_next(cx),
            |p| p.next_token(),
        )
        .await
    else {
        return Vec::new();
    };
    drop(listing);
    let listed = pages
        .into_iter()
        .flat_map(|p| p.backup_vault_list.unwrap_or_default());
    ctx.read_each(listed, |listed| async move {
        let name = listed.backup_vault_name().unwrap_or_default().to_string();
        let mut r = ctx.resource(
            vault_kind,
            &name,
            listed.backup_vault_arn().unwrap_or_default(),
            region,
        );
        r.set("name", name.as_str())
            .set("encryption_key_arn", listed.encryption_key_arn())
            .set("recovery_points", listed.number_of_recovery_points());
        vault_details(ctx, region, &mut r).await;
        r
    })
    .await
}

/// The vault lock (DescribeBackupVault) and who manages the vault's key.
async fn vault_details(ctx: &Ctx<'_>, region: &str, r: &mut Resource) {
    let client = &ctx.clients(region).backup;
    let target = Target::resource(r.resource_type, region, &r.id);
    let lock = ctx.fetch(
        &ops::BACKUP_DESCRIBE_BACKUP_VAULT,
        target,
        client
            .describe_backup_vault()
            .backup_vault_name(&r.id)
            .send(),
        NotConfigured::Never,
        |out| {
            // Without Locked the lock's state is unknown, not "unlocked".
            let locked = out.locked().ok_or_else(|| {
                CallFailure::new(
                    "ResponseError",
                    "DescribeBackupVault answered without Locked",
                )
            })?;
            Ok((
                locked,
                out.min_retention_days(),
                out.max_retention_days(),
                out.lock_date().and_then(timestamp),
            ))
        },
    );
    let manager = async {
        let key = match r.get("encryption_key_arn") {
            Value::Str(key) => key.clone(),
            _ => return None,
        };
        if !ctx.plan.needs(&ops::KMS_DESCRIBE_KEY) {
            return None;
        }
        Some(key_manager(ctx, region, &key).await)
    };
    let (lock, manager) = futures::join!(lock, manager);
    if let Some((locked, min, max, lock_date)) = lock {
        r.set("locked", locked)
            .set("lock_min_retention_days", min)
            .set("lock_max_retention_days", max)
            .set("lock_date", lock_date);
    }
    if r.get("encryption_key_arn") == &Value::Null {
        r.set("kms_key_managed_by", Value::Null);
    }
    let target = Target::resource(r.resource_type, region, &r.id);
    if let Some(manager) = manager.and_then(|read| ctx.keep(&ops::KMS_DESCRIBE_KEY, target, read)) {
        set_enum(r, "kms_key_managed_by", manager.as_deref());
    }
}

/// Sets `backup_plan_ids` on the assignable resources and
/// `protected_resource_arns` on the plans, and returns the plans and vaults.
pub(crate) fn finish(
    ctx: &Ctx<'_>,
    regions: Vec<RegionBackup>,
    resources: &mut [Resource],
) -> Vec<Resource> {
    let mut out = Vec::new();
    for region in regions {
        // Known only when every plan of the region and its selections were read.
        let selections: Option<Vec<(&str, &[Selection])>> =
            region.plans.as_ref().and_then(|plans| {
                plans
                    .iter()
                    .map(|p| Some((p.resource.id.as_str(), p.selections.as_deref()?)))
                    .collect()
            });
        let mut protected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut undecided: Vec<&str> = Vec::new();
        if let Some(selections) = &selections {
            let assignable = resources.iter_mut().filter(|r| {
                r.region == region.region && ASSIGNABLE.contains(&r.resource_type.name)
            });
            for resource in assignable {
                let tags = resource.tags_read.then_some(&resource.tags);
                let mut ids = Vec::new();
                let mut known = true;
                for (plan_id, plan_selections) in selections {
                    match plan_assigns(plan_selections, &resource.arn, tags) {
                        Some(true) => {
                            ids.push(plan_id.to_string());
                            protected
                                .entry(plan_id)
                                .or_default()
                                .push(resource.arn.clone());
                        }
                        Some(false) => {}
                        None => {
                            known = false;
                            undecided.push(plan_id);
                        }
                    }
                }
                if known {
                    ids.sort();
                    resource.set("backup_plan_ids", ids);
                }
            }
        }
        // Every assignable resource of the region was listed and read.
        let all_listed = ASSIGNABLE.iter().all(|name| {
            let kind = known_type(name);
            ctx.plan.needs_type(kind) && !ctx.listing_failed(kind, &region.region)
        });
        let protected: BTreeMap<String, Vec<String>> = protected
            .into_iter()
            .map(|(id, arns)| (id.to_string(), arns))
            .collect();
        let undecided: Vec<String> = undecided.into_iter().map(str::to_string).collect();
        for mut plan in region.plans.into_iter().flatten() {
            let id = plan.resource.id.clone();
            if plan.selections.is_some() && all_listed && !undecided.contains(&id) {
                let mut arns = protected.get(&id).cloned().unwrap_or_default();
                arns.sort();
                plan.resource.set("protected_resource_arns", arns);
            }
            out.push(plan.resource);
        }
        out.extend(region.vaults);
    }
    out
}

/// Whether any of a plan's selections assigns the resource; `None` when
/// none does for sure and one depends on tags that were not read.
fn plan_assigns(
    selections: &[Selection],
    arn: &str,
    tags: Option<&BTreeMap<String, String>>,
) -> Option<bool> {
    let mut undecided = false;
    for selection in selections {
        match selection.assigns(arn, tags) {
            Some(true) => return Some(true),
            Some(false) => {}
            None => undecided = true,
        }
    }
    (!undecided).then_some(false)
}

/// A resource selection, as far as assignment goes.
#[derive(Debug, Clone, Default, PartialEq)]
struct Selection {
    /// ARNs and wildcards; any one assigns.
    resources: Vec<String>,
    /// ARNs and wildcards never assigned.
    not_resources: Vec<String>,
    /// `ListOfTags`: tag key and value, any one assigns.
    any_tags: Vec<(String, String)>,
    /// `Conditions`: all must hold.
    conditions: Vec<TagCondition>,
}

#[derive(Debug, Clone, PartialEq)]
struct TagCondition {
    test: TagTest,
    key: String,
    value: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TagTest {
    Equals,
    NotEquals,
    Like,
    NotLike,
}

impl TagCondition {
    /// IAM-style: a missing tag is "not equal" and "not like".
    fn holds(&self, tags: &BTreeMap<String, String>) -> bool {
        let value = tags.get(&self.key).map(String::as_str);
        match self.test {
            TagTest::Equals => value == Some(self.value.as_str()),
            TagTest::NotEquals => value != Some(self.value.as_str()),
            TagTest::Like => value.is_some_and(|v| wildcard_match(&self.value, v)),
            TagTest::NotLike => !value.is_some_and(|v| wildcard_match(&self.value, v)),
        }
    }
}

/// A selection's condition key names a tag as `aws:ResourceTag/KEY` (or,
/// in older ListOfTags entries, as the bare key).
fn tag_key(key: &str) -> String {
    key.strip_prefix("aws:ResourceTag/")
        .unwrap_or(key)
        .to_string()
}

impl Selection {
    /// Reads a selection; an error for a condition backstop cannot decide.
    fn read(selection: &BackupSelection) -> Result<Selection, String> {
        let any_tags = selection
            .list_of_tags()
            .iter()
            .map(|c| match c.condition_type() {
                ConditionType::Stringequals => {
                    Ok((tag_key(c.condition_key()), c.condition_value().to_string()))
                }
                other => Err(format!(
                    "unknown ListOfTags condition type {:?}",
                    other.as_str()
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut conditions = Vec::new();
        if let Some(all) = selection.conditions() {
            for (test, parameters) in [
                (TagTest::Equals, all.string_equals()),
                (TagTest::NotEquals, all.string_not_equals()),
                (TagTest::Like, all.string_like()),
                (TagTest::NotLike, all.string_not_like()),
            ] {
                for p in parameters {
                    let (Some(key), Some(value)) = (p.condition_key(), p.condition_value()) else {
                        return Err("a condition without a key or value".to_string());
                    };
                    conditions.push(TagCondition {
                        test,
                        key: tag_key(key),
                        value: value.to_string(),
                    });
                }
            }
        }
        Ok(Selection {
            resources: selection.resources().to_vec(),
            not_resources: selection.not_resources().to_vec(),
            any_tags,
            conditions,
        })
    }

    /// Whether it assigns the resource `arn` with `tags` (`None`: not
    /// read); `None` when that depends on the tags and they were not read.
    fn assigns(&self, arn: &str, tags: Option<&BTreeMap<String, String>>) -> Option<bool> {
        if self.not_resources.iter().any(|p| wildcard_match(p, arn)) {
            return Some(false);
        }
        // Naming neither resources nor tags selects every resource.
        let named = self.resources.is_empty() && self.any_tags.is_empty()
            || self.resources.iter().any(|p| wildcard_match(p, arn));
        let included = if named {
            Some(true)
        } else if self.any_tags.is_empty() {
            Some(false)
        } else {
            tags.map(|t| {
                self.any_tags
                    .iter()
                    .any(|(k, v)| t.get(k).is_some_and(|have| have == v))
            })
        };
        let conditions = if self.conditions.is_empty() {
            Some(true)
        } else {
            tags.map(|t| self.conditions.iter().all(|c| c.holds(t)))
        };
        match (included, conditions) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        }
    }
}

/// `*` matches any run of characters, `?` any one character (the wildcards
/// of selection ARNs and of `StringLike`).
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and how much of the text it has taken.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == t[ti] && p[pi] != '*' {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((star_at, taken)) = star {
            pi = star_at + 1;
            ti = taken + 1;
            star = Some((star_at, taken + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match(
            "arn:aws:rds:*:*:db:*",
            "arn:aws:rds:us-east-1:123456789012:db:orders"
        ));
        assert!(!wildcard_match(
            "arn:aws:rds:*:*:db:*",
            "arn:aws:rds:us-east-1:123456789012:cluster:ledger"
        ));
        assert!(wildcard_match("*", "anything"));
        // AWS Backup documents `*` only: `?` is an ordinary character.
        assert!(!wildcard_match("prod-?", "prod-1"));
        assert!(wildcard_match("prod-?", "prod-?"));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const DB: &str = "arn:aws:rds:us-east-1:123456789012:db:orders";

    #[test]
    fn selections_combine_resources_tags_and_conditions() {
        let by_tag = Selection {
            any_tags: vec![("backup".into(), "daily".into())],
            ..Selection::default()
        };
        let daily = tags(&[("backup", "daily")]);
        assert_eq!(by_tag.assigns(DB, Some(&daily)), Some(true));
        assert_eq!(by_tag.assigns(DB, Some(&tags(&[]))), Some(false));
        assert_eq!(by_tag.assigns(DB, None), None);

        // Resources OR ListOfTags: the ARN alone assigns, tags unread.
        let either = Selection {
            resources: vec!["arn:aws:rds:*:*:db:*".into()],
            ..by_tag.clone()
        };
        assert_eq!(either.assigns(DB, None), Some(true));

        // Conditions narrow what Resources name.
        let narrowed = Selection {
            resources: vec!["arn:aws:rds:*:*:db:*".into()],
            conditions: vec![TagCondition {
                test: TagTest::NotEquals,
                key: "stage".into(),
                value: "dev".into(),
            }],
            ..Selection::default()
        };
        assert_eq!(narrowed.assigns(DB, Some(&tags(&[]))), Some(true));
        assert_eq!(
            narrowed.assigns(DB, Some(&tags(&[("stage", "dev")]))),
            Some(false)
        );
        assert_eq!(narrowed.assigns(DB, None), None);
        // Not named at all: the tags do not matter.
        assert_eq!(narrowed.assigns("arn:aws:s3:::logs", None), Some(false));

        // NotResources wins, and nothing named means everything.
        let all_but = Selection {
            not_resources: vec![DB.into()],
            ..Selection::default()
        };
        assert_eq!(all_but.assigns(DB, None), Some(false));
        assert_eq!(all_but.assigns("arn:aws:s3:::logs", None), Some(true));

        // One plan: any selection that assigns is enough; an undecided
        // one leaves "not assigned" unknown.
        assert_eq!(
            plan_assigns(&[by_tag.clone(), either], DB, None),
            Some(true)
        );
        assert_eq!(plan_assigns(&[by_tag, all_but], DB, None), None);
    }

    #[test]
    fn like_conditions_and_tag_keys() {
        let like = TagCondition {
            test: TagTest::Like,
            key: tag_key("aws:ResourceTag/team"),
            value: "ord*".into(),
        };
        assert!(like.holds(&tags(&[("team", "orders")])));
        assert!(!like.holds(&tags(&[])));
        let not_like = TagCondition {
            test: TagTest::NotLike,
            ..like
        };
        assert!(not_like.holds(&tags(&[])));
        assert!(!not_like.holds(&tags(&[("team", "orders")])));
    }
}
