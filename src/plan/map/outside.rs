//! Settings a plan changes on resources it does not hold: a split-out
//! resource (`aws_s3_bucket_versioning`, ...) created, changed or deleted
//! for a bucket, repository, vault ... that this configuration does not
//! manage. Laid over the account, such a resource's setting is whatever
//! apply makes it, so the account's current value must not be judged.

use serde_json::Value as Json;

use crate::model::schema;
use crate::plan::format::ResourceChange;
use crate::plan::view::PlanView;

/// A split-out type: the argument naming its target, the target's type and
/// the target attribute (`bucket` = `aws_s3_bucket.bucket`) it is matched
/// on, and the model attributes it sets.
struct Split {
    tf_type: &'static str,
    argument: &'static str,
    target: &'static str,
    target_key: &'static str,
    model_type: &'static str,
    /// What `argument` holds: the target's name (its model id) or its ARN.
    holds_arn: bool,
    attributes: &'static [&'static str],
}

const SPLITS: &[Split] = &[
    Split {
        tf_type: "aws_s3_bucket_versioning",
        argument: "bucket",
        target: "aws_s3_bucket",
        target_key: "bucket",
        model_type: schema::S3_BUCKET,
        holds_arn: false,
        attributes: &["versioning"],
    },
    Split {
        tf_type: "aws_s3_bucket_server_side_encryption_configuration",
        argument: "bucket",
        target: "aws_s3_bucket",
        target_key: "bucket",
        model_type: schema::S3_BUCKET,
        holds_arn: false,
        attributes: &["encryption", "kms_key_id"],
    },
    Split {
        tf_type: "aws_s3_bucket_lifecycle_configuration",
        argument: "bucket",
        target: "aws_s3_bucket",
        target_key: "bucket",
        model_type: schema::S3_BUCKET,
        holds_arn: false,
        attributes: &["lifecycle_rules"],
    },
    Split {
        tf_type: "aws_s3_bucket_replication_configuration",
        argument: "bucket",
        target: "aws_s3_bucket",
        target_key: "bucket",
        model_type: schema::S3_BUCKET,
        holds_arn: false,
        attributes: &["replication_rules"],
    },
    Split {
        tf_type: "aws_s3_bucket_public_access_block",
        argument: "bucket",
        target: "aws_s3_bucket",
        target_key: "bucket",
        model_type: schema::S3_BUCKET,
        holds_arn: false,
        attributes: &["public_access_blocked"],
    },
    Split {
        tf_type: "aws_ecr_lifecycle_policy",
        argument: "repository",
        target: "aws_ecr_repository",
        target_key: "name",
        model_type: schema::ECR_REPOSITORY,
        holds_arn: false,
        attributes: &["lifecycle_policy", "lifecycle_rules"],
    },
    Split {
        tf_type: "aws_cloudwatch_log_subscription_filter",
        argument: "log_group_name",
        target: "aws_cloudwatch_log_group",
        target_key: "name",
        model_type: schema::LOG_GROUP,
        holds_arn: false,
        attributes: &["subscription_destinations"],
    },
    Split {
        tf_type: "aws_secretsmanager_secret_rotation",
        argument: "secret_id",
        target: "aws_secretsmanager_secret",
        target_key: "arn",
        model_type: schema::SECRET,
        holds_arn: true,
        attributes: &["rotation_enabled"],
    },
    Split {
        tf_type: "aws_backup_vault_lock_configuration",
        argument: "backup_vault_name",
        target: "aws_backup_vault",
        target_key: "name",
        model_type: schema::BACKUP_VAULT,
        holds_arn: false,
        attributes: &[
            "locked",
            "lock_min_retention_days",
            "lock_max_retention_days",
        ],
    },
    Split {
        tf_type: "aws_backup_selection",
        argument: "plan_id",
        target: "aws_backup_plan",
        target_key: "id",
        model_type: schema::BACKUP_PLAN,
        holds_arn: false,
        attributes: &["has_selections"],
    },
    Split {
        tf_type: "aws_db_instance_automated_backups_replication",
        argument: "source_db_instance_arn",
        target: "aws_db_instance",
        target_key: "arn",
        model_type: schema::DB_INSTANCE,
        holds_arn: true,
        attributes: &["backup_replication_regions"],
    },
];

/// A resource outside the plan whose settings apply changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedOutside {
    pub model_type: &'static str,
    /// Its region; `None` for an S3 bucket, whose name is global.
    pub region: Option<String>,
    /// Its id (name), or its ARN when `by_arn`.
    pub key: String,
    pub by_arn: bool,
    pub attributes: &'static [&'static str],
    /// The plan's address of the resource that changes them.
    pub by: String,
}

/// Every setting the plan changes on a resource it does not hold: split-out
/// resources kept or created that join no planned resource, and deleted
/// ones, named by the value of their target argument (before the change,
/// for a deleted one). A target named only by an expression the plan
/// computes cannot be matched to the account and is left out here; the
/// mappers already treat such a loose setting as unknown on new resources.
pub fn changed_outside(plan: &PlanView, deleted: &[&ResourceChange]) -> Vec<ChangedOutside> {
    let mut out = Vec::new();
    for split in SPLITS {
        for (_, planned) in plan.of_type(split.tf_type) {
            if plan
                .target_of(planned, split.argument, split.target, split.target_key)
                .is_some()
            {
                continue;
            }
            if let Some(key) = planned.fact(split.argument).str() {
                out.push(entry(split, key, &planned.region, planned.address()));
            }
        }
        for change in deleted.iter().filter(|c| c.resource_type == split.tf_type) {
            if let Some(Json::String(key)) = change.change.before.get(split.argument) {
                // Where a deleted resource was is not resolved: every region.
                let mut changed = entry(split, key, "", &change.address);
                changed.region = changed.region.filter(|r| !r.is_empty());
                out.push(changed);
            }
        }
    }
    // The registry's replication applies to every repository of its region.
    for (_, planned) in plan.of_type("aws_ecr_replication_configuration") {
        out.push(ChangedOutside {
            model_type: schema::ECR_REPOSITORY,
            region: Some(planned.region.clone()),
            key: EVERY.to_string(),
            by_arn: false,
            attributes: &["replication_regions"],
            by: planned.address().to_string(),
        });
    }
    for change in deleted
        .iter()
        .filter(|c| c.resource_type == "aws_ecr_replication_configuration")
    {
        out.push(ChangedOutside {
            model_type: schema::ECR_REPOSITORY,
            region: None,
            key: EVERY.to_string(),
            by_arn: false,
            attributes: &["replication_regions"],
            by: change.address.clone(),
        });
    }
    out
}

/// The key of a change to every resource of its type in its region.
pub const EVERY: &str = "*";

impl ChangedOutside {
    /// True when `resource` (one the plan does not hold) is the one changed.
    pub fn applies_to(&self, resource: &crate::model::Resource) -> bool {
        resource.resource_type.name == self.model_type
            && self.region.as_ref().is_none_or(|r| *r == resource.region)
            && (self.key == EVERY
                || if self.by_arn {
                    resource.arn == self.key
                } else {
                    resource.id == self.key
                })
    }
}

fn entry(split: &Split, key: &str, region: &str, by: &str) -> ChangedOutside {
    // An ARN names its own region (the replication of a DB instance lives
    // in another region than the instance).
    let arn_region = split
        .holds_arn
        .then(|| key.split(':').nth(3).map(str::to_string))
        .flatten()
        .filter(|r| !r.is_empty());
    ChangedOutside {
        model_type: split.model_type,
        region: match split.model_type {
            schema::S3_BUCKET => None,
            _ => Some(arn_region.unwrap_or_else(|| region.to_string())),
        },
        key: key.to_string(),
        by_arn: split.holds_arn,
        attributes: split.attributes,
        by: by.to_string(),
    }
}
