//! Secrets Manager: `aws_secretsmanager_secret` (with its `replica` blocks)
//! and `aws_secretsmanager_secret_rotation`.

use super::Draft;
use crate::model::schema::SECRET;
use crate::model::{Resource, Value};
use crate::plan::view::{KNOWN_AFTER_APPLY, PlanView, Planned};

pub fn map(plan: &PlanView, out: &mut Vec<(usize, Resource)>) {
    for (i, planned) in plan.of_type("aws_secretsmanager_secret") {
        out.push((i, secret(plan, i, planned)));
    }
}

fn secret(plan: &PlanView, i: usize, planned: &Planned) -> Resource {
    let mut draft = Draft::new(planned, SECRET, "name");
    draft
        .put_path("name", "name")
        .put_path("kms_key_id", "kms_key_id")
        // The configuration creates the primary; replicas are its blocks.
        .value("primary_region", Value::from(planned.region.as_str()))
        // A secret the configuration keeps is not scheduled for deletion.
        .value("deleted_date", Value::Null);
    let regions: Option<Vec<String>> = planned
        .each("replica")
        .iter()
        .map(|r| r.fact("region").str().map(str::to_string))
        .collect();
    match regions {
        Some(regions) => draft.value("replica_regions", Value::from(regions)),
        None => draft.unknown("replica_regions", KNOWN_AFTER_APPLY),
    };
    let rotation = plan
        .of_type("aws_secretsmanager_secret_rotation")
        .any(|(_, r)| {
            plan.target_of(r, "secret_id", "aws_secretsmanager_secret", "arn") == Some(i)
        });
    draft.split_setting(
        "rotation_enabled",
        rotation.then_some(Value::Bool(true)),
        plan.has_loose(
            "aws_secretsmanager_secret_rotation",
            "secret_id",
            "aws_secretsmanager_secret",
            "arn",
        ),
        Value::Bool(false),
    );
    draft.finish()
}
