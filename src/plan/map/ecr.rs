//! ECR: `aws_ecr_repository`, its `aws_ecr_lifecycle_policy`, and the
//! registry's `aws_ecr_replication_configuration`.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::Draft;
use crate::model::schema::ECR_REPOSITORY;
use crate::model::{Resource, Value, ecr_lifecycle};
use crate::plan::view::{Fact, KNOWN_AFTER_APPLY, NOT_IN_PLAN, NOT_MANAGED, PlanView, Planned};

pub fn map(plan: &PlanView, out: &mut Vec<(usize, Resource)>) {
    for (i, planned) in plan.of_type("aws_ecr_repository") {
        out.push((i, repository(plan, i, planned)));
    }
}

fn repository(plan: &PlanView, i: usize, planned: &Planned) -> Resource {
    let mut draft = Draft::new(planned, ECR_REPOSITORY, "name");
    draft
        .put_path("tag_mutability", "image_tag_mutability")
        .put_path(
            "scan_on_push",
            "image_scanning_configuration.0.scan_on_push",
        );
    match planned.fact("encryption_configuration") {
        // Without the block ECR encrypts with AES256.
        Fact::Absent | Fact::Known(Json::Array(_))
            if planned.each("encryption_configuration").is_empty() =>
        {
            draft
                .value("encryption", Value::from("AES256"))
                .value("kms_key_id", Value::Null);
        }
        _ => {
            draft
                .put_path("encryption", "encryption_configuration.0.encryption_type")
                .put_path("kms_key_id", "encryption_configuration.0.kms_key");
        }
    }

    let policy = plan
        .of_type("aws_ecr_lifecycle_policy")
        .find(|(_, p)| plan.target_of(p, "repository", "aws_ecr_repository", "name") == Some(i))
        .map(|(_, p)| p);
    match policy {
        Some(policy) => {
            draft.value("lifecycle_policy", Value::Bool(true));
            match policy.fact("policy") {
                Fact::Known(Json::String(text)) => match ecr_lifecycle::lifecycle_rules(text) {
                    Ok(rules) => draft.value("lifecycle_rules", Value::from(rules)),
                    Err(_) => draft.unknown("lifecycle_rules", NOT_IN_PLAN),
                },
                Fact::AfterApply => draft.unknown("lifecycle_rules", KNOWN_AFTER_APPLY),
                _ => draft.unknown("lifecycle_rules", NOT_IN_PLAN),
            };
        }
        None if planned.is_new()
            && !plan.has_loose(
                "aws_ecr_lifecycle_policy",
                "repository",
                "aws_ecr_repository",
                "name",
            ) =>
        {
            draft
                .value("lifecycle_policy", Value::Bool(false))
                .value("lifecycle_rules", Value::List(Vec::new()));
        }
        None => {
            draft
                .unknown("lifecycle_policy", NOT_MANAGED)
                .unknown("lifecycle_rules", NOT_MANAGED);
        }
    }

    // Replication is the registry's, one configuration per region: only
    // the plan's own configuration for the repository's region tells.
    let configuration = plan
        .of_type("aws_ecr_replication_configuration")
        .find(|(_, c)| c.region == planned.region)
        .map(|(_, c)| c);
    match (configuration, planned.fact("name").str()) {
        (Some(configuration), Some(name)) => {
            match replication_regions(configuration, name) {
                Some(regions) => draft.value("replication_regions", Value::from(regions)),
                None => draft.unknown("replication_regions", KNOWN_AFTER_APPLY),
            };
        }
        (Some(_), None) => {
            draft.unknown("replication_regions", KNOWN_AFTER_APPLY);
        }
        (None, _) => {
            draft.unknown("replication_regions", NOT_MANAGED);
        }
    }
    draft.finish()
}

/// Destination regions of the rules whose filters match `name` (as the
/// live collector reads DescribeRegistry): a rule without filters applies
/// to every repository, a PREFIX_MATCH filter to names starting with it.
fn replication_regions(configuration: &Planned, name: &str) -> Option<Vec<String>> {
    let mut regions = BTreeSet::new();
    for rule in configuration.each("replication_configuration.0.rule") {
        let filters = rule.each("repository_filter");
        let mut applies = filters.is_empty();
        for filter in &filters {
            let kind = filter.fact("filter_type").str()?;
            let prefix = filter.fact("filter").str()?;
            applies |= kind == "PREFIX_MATCH" && name.starts_with(prefix);
        }
        if applies {
            for destination in rule.each("destination") {
                regions.insert(destination.fact("region").str()?.to_string());
            }
        }
    }
    Some(regions.into_iter().collect())
}
