//! ECR: repositories, their lifecycle policies and the registry's
//! replication rules.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecr::types::{ReplicationRule, Repository, RepositoryFilterType};

use super::errors::{CallFailure, NotConfigured, Target, detail_error};
use super::{Ctx, known_type, set_enum};
use crate::model::schema::{ECR_REPOSITORY, ops};
use crate::model::{Resource, Value, ecr_lifecycle};

pub(crate) async fn collect_region(ctx: &Ctx<'_>, region: &str) -> Vec<Resource> {
    let repo_type = known_type(ECR_REPOSITORY);
    if !ctx.plan.needs_type(repo_type) {
        return Vec::new();
    }
    let listing = ctx.progress.listing(format!("ecr in {region}"));
    let client = &ctx.clients(region).ecr;
    let mut pages = client
        .describe_repositories()
        .set_max_results(ctx.page_size(1, 1000))
        .into_paginator()
        .send();
    let list = ctx.list(
        &ops::ECR_DESCRIBE_REPOSITORIES,
        region,
        repo_type,
        |cx| pages.poll_next(cx),
        |p| p.next_token(),
    );
    // A failure leaves every repository's replication_regions unknown.
    let registry = ctx.fetch(
        &ops::ECR_DESCRIBE_REGISTRY,
        Target::every(repo_type, region),
        client.describe_registry().send(),
        NotConfigured::Never,
        |out| {
            Ok(out
                .replication_configuration()
                .map(|c| c.rules().to_vec())
                .unwrap_or_default())
        },
    );
    let (pages, replication) = futures::join!(list, registry);
    drop(listing);
    let Ok(pages) = pages else {
        return Vec::new();
    };
    let replication = replication.as_deref();
    let repositories = pages
        .into_iter()
        .flat_map(|p| p.repositories.unwrap_or_default());
    ctx.read_each(repositories, |repo| {
        repository(ctx, region, repo, replication)
    })
    .await
}

/// Destination regions of the rules whose filters match `name`: a rule
/// without filters applies to every repository, a PREFIX_MATCH filter to
/// names starting with it.
fn replication_regions(rules: &[ReplicationRule], name: &str) -> Vec<String> {
    rules
        .iter()
        .filter(|rule| {
            rule.repository_filters().is_empty()
                || rule.repository_filters().iter().any(|f| {
                    *f.filter_type() == RepositoryFilterType::PrefixMatch
                        && name.starts_with(f.filter())
                })
        })
        .flat_map(|rule| rule.destinations().iter().map(|d| d.region().to_string()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

async fn repository(
    ctx: &Ctx<'_>,
    region: &str,
    repo: Repository,
    replication: Option<&[ReplicationRule]>,
) -> Resource {
    let repo_type = known_type(ECR_REPOSITORY);
    let client = &ctx.clients(region).ecr;
    let name = repo.repository_name().unwrap_or_default().to_string();
    let mut r = ctx.resource(
        repo_type,
        &name,
        repo.repository_arn().unwrap_or_default(),
        region,
    );
    set_enum(
        &mut r,
        "tag_mutability",
        repo.image_tag_mutability().map(|m| m.as_str()),
    );
    r.set(
        "scan_on_push",
        repo.image_scanning_configuration()
            .map(|c| c.scan_on_push()),
    );
    set_enum(
        &mut r,
        "encryption",
        repo.encryption_configuration()
            .map(|c| c.encryption_type().as_str()),
    );
    r.set(
        "kms_key_id",
        repo.encryption_configuration().and_then(|c| c.kms_key()),
    );
    if let Some(rules) = replication {
        r.set("replication_regions", replication_regions(rules, &name));
    }

    let target = Target::resource(repo_type, region, &name);
    let lifecycle = ctx.fetch(
        &ops::ECR_GET_LIFECYCLE_POLICY,
        target,
        client.get_lifecycle_policy().repository_name(&name).send(),
        NotConfigured::When(&["LifecyclePolicyNotFoundException"], None),
        |out| match out.lifecycle_policy_text() {
            Some(text) => Ok(Some(ecr_lifecycle::lifecycle_rules(text))),
            // A 200 without the policy text is not "no policy": say so.
            None => Err(CallFailure::new(
                "ResponseError",
                "GetLifecyclePolicy answered without the policy text",
            )),
        },
    );
    let tags = ctx.fetch(
        &ops::ECR_LIST_TAGS,
        target,
        client.list_tags_for_resource().resource_arn(&r.arn).send(),
        NotConfigured::Never,
        |out| {
            Ok(out
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect::<BTreeMap<_, _>>())
        },
    );
    let (lifecycle, tags) = futures::join!(lifecycle, tags);

    match lifecycle {
        None => {}
        Some(None) => {
            r.set("lifecycle_policy", false)
                .set("lifecycle_rules", Vec::<BTreeMap<String, Value>>::new());
        }
        Some(Some(Ok(rules))) => {
            r.set("lifecycle_policy", true)
                .set("lifecycle_rules", rules);
        }
        Some(Some(Err(parse_error))) => {
            // The policy exists; only its rules could not be understood.
            r.set("lifecycle_policy", true);
            let mut error = detail_error(
                &ops::ECR_GET_LIFECYCLE_POLICY,
                target,
                CallFailure::new("InvalidLifecyclePolicy", parse_error),
            );
            error.attributes = vec!["lifecycle_rules".to_string()];
            ctx.record(error);
        }
    }
    if let Some(tags) = tags {
        r.set_tags(tags);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecr::types::{ReplicationDestination, RepositoryFilter};

    fn rule(regions: &[&str], prefixes: &[&str]) -> ReplicationRule {
        let mut b = ReplicationRule::builder();
        for r in regions {
            b = b.destinations(
                ReplicationDestination::builder()
                    .region(*r)
                    .registry_id("123456789012")
                    .build()
                    .unwrap(),
            );
        }
        for p in prefixes {
            b = b.repository_filters(
                RepositoryFilter::builder()
                    .filter(*p)
                    .filter_type(RepositoryFilterType::PrefixMatch)
                    .build()
                    .unwrap(),
            );
        }
        b.build().unwrap()
    }

    #[test]
    fn filters_select_repositories() {
        let rules = [
            rule(&["us-west-2"], &[]),
            rule(&["eu-central-1"], &["prod/"]),
        ];
        assert_eq!(replication_regions(&rules, "dev/api"), ["us-west-2"]);
        assert_eq!(
            replication_regions(&rules, "prod/api"),
            ["eu-central-1", "us-west-2"]
        );
        assert!(replication_regions(&rules[1..], "dev/api").is_empty());
    }

    #[test]
    fn lifecycle_policies_parse() {
        let policy = r#"{"rules":[{"rulePriority":1,"description":"old",
            "selection":{"tagStatus":"untagged","countType":"sinceImagePushed",
            "countUnit":"days","countNumber":14},"action":{"type":"expire"}},
            {"rulePriority":2,"selection":{"tagStatus":"any",
            "countType":"sinceImagePulled","countNumber":3},"action":{"type":"expire"}}]}"#;
        let rules = ecr_lifecycle::lifecycle_rules(policy).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0]["priority"], Value::Int(1));
        assert_eq!(rules[0]["tag_status"], Value::from("untagged"));
        assert_eq!(rules[0]["count_type"], Value::from("sinceImagePushed"));
        assert_eq!(rules[0]["count_number"], Value::Int(14));
        assert!(rules[1]["description"].is_null());
        assert!(
            rules[1]["count_type"].is_null(),
            "unknown values stay absent"
        );
        assert!(ecr_lifecycle::lifecycle_rules("{").is_err());
    }
}
