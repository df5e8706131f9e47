//! A synthetic account for benchmarks: `n` resources spread over every type
//! like a real account (many log groups and snapshots, fewer databases),
//! with attributes varied so that rules both pass and fail.

use backstop::model::schema::{self, resource_type};
use backstop::model::{Inventory, Resource, Source, Value};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

pub const NOW: &str = "2026-11-20T09:00:00Z";

pub fn inventory(n: usize) -> Inventory {
    let now: Timestamp = NOW.parse().unwrap();
    let regions = ["eu-west-1", "us-east-1", "eu-central-1"];
    // Shares per 20 resources.
    let mix: [(&str, usize); 7] = [
        (schema::LOG_GROUP, 6),
        (schema::DB_SNAPSHOT, 4),
        (schema::S3_BUCKET, 3),
        (schema::DB_INSTANCE, 3),
        (schema::ECR_REPOSITORY, 2),
        (schema::DB_CLUSTER, 1),
        (schema::S3_EXPORT_LOCATION, 1),
    ];
    let mut resources = Vec::with_capacity(n);
    let mut i = 0usize;
    while resources.len() < n {
        for (kind, share) in mix {
            for _ in 0..share {
                if resources.len() == n {
                    break;
                }
                let region = regions[i % regions.len()];
                resources.push(resource(kind, i, region, now));
                i += 1;
            }
        }
    }
    Inventory {
        source: Source {
            kind: "synthetic".into(),
            account: Some("123456789012".into()),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            accounts: Vec::new(),
        },
        collected_at: Some(now),
        resources,
        errors: Vec::new(),
    }
}

fn resource(kind: &str, i: usize, region: &str, now: Timestamp) -> Resource {
    let t = resource_type(kind).unwrap();
    let id = format!("{}-{i}", kind.rsplit('.').next().unwrap());
    let mut r = Resource::new(t, id.clone());
    r.region = region.into();
    r.account = "123456789012".into();
    r.arn = format!(
        "arn:aws:{}:{region}:123456789012:{id}",
        kind.split('.').nth(1).unwrap()
    );
    // Read in full: tags read, and what can be none is none unless set.
    r.set_tags(BTreeMap::new());
    for attribute in t.attributes.iter().filter(|a| a.none.is_some()) {
        r.set(attribute.name, Value::Null);
    }
    let flip = i.is_multiple_of(3);
    let ago = |h: i64| now - SignedDuration::from_hours(h);
    match kind {
        schema::DB_INSTANCE | schema::DB_CLUSTER => {
            r.set("backup_retention_days", (i % 14) as i64)
                .set("multi_az", flip)
                .set("storage_encrypted", !flip)
                .set("deletion_protection", i.is_multiple_of(2))
                .set("kms_key_managed_by", if flip { "AWS" } else { "CUSTOMER" })
                .set("latest_restorable_time", ago((i % 3) as i64));
            if kind == schema::DB_INSTANCE {
                r.set(
                    "backup_replication_regions",
                    if flip {
                        vec!["us-west-2".to_string()]
                    } else {
                        vec![]
                    },
                )
                .set("cross_region_copy_time", ago((i % 40) as i64))
                .set(
                    "backup_replications",
                    if flip {
                        vec![BTreeMap::from([
                            ("region".to_string(), Value::Str("us-west-2".into())),
                            (
                                "latest_restorable_time".to_string(),
                                Value::Time(ago((i % 30) as i64)),
                            ),
                        ])]
                    } else {
                        vec![]
                    },
                );
                if i.is_multiple_of(10) {
                    r.set("cluster_id", format!("cluster-{i}"));
                }
            }
        }
        schema::DB_SNAPSHOT => {
            r.set("snapshot_type", if flip { "automated" } else { "manual" })
                .set("encrypted", !i.is_multiple_of(5))
                .set("public", i.is_multiple_of(50))
                .set("created_at", ago(2));
        }
        schema::S3_BUCKET => {
            if i.is_multiple_of(2) {
                r.id = format!("{id}-backups");
            }
            let rule = BTreeMap::from([
                ("id".to_string(), Value::Str("expire".into())),
                ("enabled".to_string(), Value::Bool(!flip)),
                ("prefix".to_string(), Value::Str(String::new())),
                ("expiration_days".to_string(), Value::Int(30)),
                ("noncurrent_expiration_days".to_string(), Value::Int(30)),
            ]);
            let replication = BTreeMap::from([
                ("id".to_string(), Value::Str("dr".into())),
                ("enabled".to_string(), Value::Bool(true)),
                ("destination_bucket".to_string(), Value::Str("dr".into())),
                ("prefix".to_string(), Value::Str(String::new())),
                (
                    "destination_region".to_string(),
                    Value::Str(if flip { "us-west-2" } else { region }.into()),
                ),
            ]);
            r.set("encryption", if flip { "none" } else { "aws:kms" })
                .set("versioning", if flip { "Suspended" } else { "Enabled" })
                .set("lifecycle_rules", vec![rule])
                .set("replication_rules", vec![replication])
                .set("public_access_blocked", !flip);
        }
        schema::S3_EXPORT_LOCATION => {
            r.set("latest_object_time", ago((i % 48) as i64))
                .set("object_count", 10);
        }
        schema::ECR_REPOSITORY => {
            r.set("tag_mutability", if flip { "MUTABLE" } else { "IMMUTABLE" })
                .set("lifecycle_policy", !flip)
                .set("replication_regions", vec!["us-west-2".to_string()]);
        }
        schema::LOG_GROUP => {
            r.set(
                "retention_days",
                if flip { Value::Null } else { Value::Int(90) },
            )
            .set(
                "subscription_destinations",
                if flip {
                    vec![]
                } else {
                    vec!["arn:x".to_string()]
                },
            );
        }
        _ => unreachable!("every type is in the mix"),
    }
    r
}
