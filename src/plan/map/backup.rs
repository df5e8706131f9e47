//! AWS Backup: `aws_backup_plan` (its selections, `aws_backup_selection`,
//! tell whether it is in use), `aws_backup_vault` and its
//! `aws_backup_vault_lock_configuration`.

use serde_json::Value as Json;

use super::{Draft, field, key_manager, object};
use crate::model::schema::{AttrType, BACKUP_PLAN, BACKUP_VAULT};
use crate::model::{Resource, Value, schedule};
use crate::plan::view::{Element, Fact, KNOWN_AFTER_APPLY, PlanView, Planned};

pub fn map(plan: &PlanView, out: &mut Vec<(usize, Resource)>) {
    for (i, planned) in plan.of_type("aws_backup_plan") {
        out.push((i, backup_plan(plan, i, planned)));
    }
    for (i, planned) in plan.of_type("aws_backup_vault") {
        out.push((i, vault(plan, i, planned)));
    }
}

fn backup_plan(plan: &PlanView, i: usize, planned: &Planned) -> Resource {
    let mut draft = Draft::new(planned, BACKUP_PLAN, "id");
    draft.put_path("name", "name");
    let rules: Vec<Value> = planned
        .each("rule")
        .iter()
        .map(|rule| backup_rule(plan, planned, rule))
        .collect();
    match planned.fact("rule") {
        Fact::AfterApply => draft.unknown("rules", KNOWN_AFTER_APPLY),
        _ => draft.value("rules", Value::List(rules)),
    };
    let selected = plan
        .of_type("aws_backup_selection")
        .any(|(_, s)| plan.target_of(s, "plan_id", "aws_backup_plan", "id") == Some(i));
    draft.split_setting(
        "has_selections",
        selected.then_some(Value::Bool(true)),
        plan.has_loose("aws_backup_selection", "plan_id", "aws_backup_plan", "id"),
        Value::Bool(false),
    );
    draft.finish()
}

fn backup_rule(plan: &PlanView, owner: &Planned, rule: &Element) -> Value {
    let schedule_expression = rule.fact("schedule");
    let frequency = match schedule_expression {
        Fact::Known(Json::String(s)) => {
            schedule::frequency_hours(s).map_or(Value::Unknown, Value::Int)
        }
        Fact::Absent => Value::Null,
        _ => Value::Unknown,
    };
    let copies: Vec<Value> = rule
        .each("copy_action")
        .iter()
        .map(|copy| copy_destination(plan, owner, copy))
        .collect();
    object([
        ("name", field(rule.fact("rule_name"), AttrType::STR)),
        (
            "schedule_expression",
            field(schedule_expression, AttrType::STR),
        ),
        ("frequency_hours", frequency),
        (
            "retention_days",
            match rule.each("lifecycle").first() {
                _ if rule.fact("lifecycle") == Fact::AfterApply => Value::Unknown,
                Some(lifecycle) => match lifecycle.fact("delete_after") {
                    // The provider writes 0 for "never deleted".
                    Fact::Known(Json::Number(d)) if d.as_i64() == Some(0) => Value::Null,
                    fact => field(fact, AttrType::Int),
                },
                None => Value::Null,
            },
        ),
        (
            "target_vault",
            field(rule.fact("target_vault_name"), AttrType::STR),
        ),
        ("copy_destinations", Value::List(copies)),
    ])
}

/// A copy action's vault: region and account from its ARN, or, for a vault
/// created in the same plan, its region from the vault's provider.
fn copy_destination(plan: &PlanView, owner: &Planned, copy: &Element) -> Value {
    // `rule` and `copy_action` are sets: see `PlanView::find_in_set`.
    let path = "rule.copy_action.destination_vault_arn";
    let arn = copy.fact("destination_vault_arn");
    // arn:partition:backup:REGION:ACCOUNT:backup-vault:NAME
    let part = |n: usize| match arn.str().and_then(|a| a.split(':').nth(n)) {
        Some(p) if !p.is_empty() => Value::from(p),
        _ => Value::Unknown,
    };
    let (mut region, account) = (part(3), part(4));
    if region.is_unknown()
        && let Some(vault) = plan.find_in_set(owner, arn.str(), path, "aws_backup_vault", "arn")
    {
        region = Value::from(plan.resources[vault].region.as_str());
    }
    let retention = match copy.each("lifecycle").first() {
        Some(lifecycle) => field(lifecycle.fact("delete_after"), AttrType::Int),
        None => Value::Null,
    };
    object([
        ("vault_arn", field(arn, AttrType::STR)),
        ("region", region),
        ("account", account),
        ("retention_days", retention),
    ])
}

fn vault(plan: &PlanView, i: usize, planned: &Planned) -> Resource {
    let mut draft = Draft::new(planned, BACKUP_VAULT, "name");
    draft
        .put_path("name", "name")
        .put_path("encryption_key_arn", "kms_key_arn");
    match key_manager(planned, "kms_key_arn") {
        Some(manager) => draft.value("kms_key_managed_by", manager),
        None => draft.unknown("kms_key_managed_by", KNOWN_AFTER_APPLY),
    };
    let lock = plan
        .of_type("aws_backup_vault_lock_configuration")
        .find(|(_, l)| {
            plan.target_of(l, "backup_vault_name", "aws_backup_vault", "name") == Some(i)
        })
        .map(|(_, l)| l);
    match lock {
        Some(lock) => {
            draft
                .value("locked", Value::Bool(true))
                .put("lock_min_retention_days", lock.fact("min_retention_days"))
                .put("lock_max_retention_days", lock.fact("max_retention_days"));
        }
        None => {
            let loose = plan.has_loose(
                "aws_backup_vault_lock_configuration",
                "backup_vault_name",
                "aws_backup_vault",
                "name",
            );
            draft.split_setting("locked", None, loose, Value::Bool(false));
            draft.split_setting("lock_min_retention_days", None, loose, Value::Null);
            draft.split_setting("lock_max_retention_days", None, loose, Value::Null);
        }
    }
    draft.finish()
}
