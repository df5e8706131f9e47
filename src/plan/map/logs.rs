//! CloudWatch Logs: `aws_cloudwatch_log_group` and the
//! `aws_cloudwatch_log_subscription_filter`s that send it on.

use serde_json::Value as Json;

use super::Draft;
use crate::model::schema::LOG_GROUP;
use crate::model::{Resource, Value};
use crate::plan::view::{Fact, KNOWN_AFTER_APPLY, NOT_MANAGED, PlanView, Planned};

pub fn map(plan: &PlanView, out: &mut Vec<(usize, Resource)>) {
    for (i, planned) in plan.of_type("aws_cloudwatch_log_group") {
        out.push((i, log_group(plan, i, planned)));
    }
}

fn log_group(plan: &PlanView, i: usize, planned: &Planned) -> Resource {
    let mut draft = Draft::new(planned, LOG_GROUP, "name");
    match planned.fact("retention_in_days") {
        // 0 is the provider's "never expire".
        Fact::Known(Json::Number(n)) if n.as_i64() == Some(0) => {
            draft.value("retention_days", Value::Null);
        }
        fact => {
            draft.put("retention_days", fact);
        }
    }
    draft.put_path("kms_key_id", "kms_key_id");

    let filters: Vec<&Planned> = plan
        .of_type("aws_cloudwatch_log_subscription_filter")
        .filter(|(_, f)| {
            plan.target_of(f, "log_group_name", "aws_cloudwatch_log_group", "name") == Some(i)
        })
        .map(|(_, f)| f)
        .collect();
    let destinations: Option<Vec<String>> = filters
        .iter()
        .map(|f| f.fact("destination_arn").str().map(str::to_string))
        .collect();
    match destinations {
        Some(destinations) if !destinations.is_empty() => {
            draft.value("subscription_destinations", Value::from(destinations));
        }
        // A filter whose destination is created in the same plan.
        Some(_) if !filters.is_empty() => {
            draft.unknown("subscription_destinations", KNOWN_AFTER_APPLY);
        }
        None => {
            draft.unknown("subscription_destinations", KNOWN_AFTER_APPLY);
        }
        // No filter in the plan: an account-level subscription policy,
        // which the plan does not show, may still cover the group.
        Some(_) => {
            draft.unknown("subscription_destinations", NOT_MANAGED);
        }
    }
    draft.finish()
}
