//! Live collection against the moto emulator (see tests/support/moto.rs).
//!
//! Each test starts its own moto (about 1.5 s) and seeds it through the AWS
//! SDK. Two regions are audited throughout: us-east-1 and eu-west-1.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use backstop::collect::{
    CollectError, CollectOptions, Collected, CopyRegions, Credentials, Plan, SdkOverrides,
    collect_with,
};
use backstop::model::schema::{self, ops};
use backstop::model::{CollectionError, ExportLocation, Inventory, Resource, Value};
use backstop::report::{Finding, Report, Severity, Status};
use backstop::rules::{Engine, RuleSet};
use jiff::Timestamp;
use support::moto::{ACCOUNT, Moto, free_port, without_aws_backup};
use support::seed::{BackupSeed, Seed, expiry_rule, schedule_deletion, secret, secrets_client};
use support::stub::{Stub, StubResponse};

const USE1: &str = "us-east-1";
const EUW1: &str = "eu-west-1";
const REGIONS: &[&str] = &[USE1, EUW1];

fn find<'a>(inv: &'a Inventory, kind: &str, region: &str, id: &str) -> &'a Resource {
    inv.resources
        .iter()
        .find(|r| r.resource_type.name == kind && r.region == region && r.id == id)
        .unwrap_or_else(|| {
            let have: Vec<_> = inv
                .resources
                .iter()
                .map(|r| format!("{} {} {}", r.resource_type.name, r.region, r.id))
                .collect();
            panic!("no {kind} {id} in {region}; have {have:#?}")
        })
}

fn of_kind<'a>(inv: &'a Inventory, kind: &str) -> Vec<&'a Resource> {
    inv.resources
        .iter()
        .filter(|r| r.resource_type.name == kind)
        .collect()
}

fn strs(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::from(*s)).collect())
}

fn obj(fields: &[(&str, Value)]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn no_errors(collected: &Collected) {
    assert!(
        collected.inventory.errors.is_empty(),
        "unexpected collection errors: {:#?}",
        collected.inventory.errors
    );
}

// ---------------------------------------------------------------------------
// Seeding

/// Seeds one of everything, with settings that make every attribute
/// observable. Returns the us-east-1 KMS key ARN.
async fn seed_account(moto: &Moto) -> String {
    let east = Seed::new(moto, USE1).await;
    let west = Seed::new(moto, EUW1).await;
    let key = east.key().await;
    let west_key = west.key().await;

    // --- RDS, us-east-1: a well-configured instance, one with backups off,
    // an Aurora cluster with a member, manual snapshots (one shared, one
    // public).
    east.instance("orders-db")
        .backup_retention_period(7)
        .preferred_backup_window("03:00-04:00")
        .preferred_maintenance_window("sun:05:00-sun:06:00")
        .multi_az(true)
        .storage_encrypted(true)
        .kms_key_id(&key)
        .deletion_protection(true)
        .copy_tags_to_snapshot(true)
        .publicly_accessible(false)
        .tags(
            aws_sdk_rds::types::Tag::builder()
                .key("team")
                .value("orders")
                .build(),
        )
        .send()
        .await
        .unwrap();
    east.instance("scratch-db")
        .backup_retention_period(0)
        .publicly_accessible(true)
        .send()
        .await
        .unwrap();
    east.rds
        .create_db_cluster()
        .db_cluster_identifier("ledger")
        .engine("aurora-postgresql")
        .master_username("admin")
        .master_user_password("password123")
        .backup_retention_period(5)
        .preferred_backup_window("02:00-03:00")
        .storage_encrypted(true)
        .kms_key_id(&key)
        .deletion_protection(false)
        .send()
        .await
        .unwrap();
    east.rds
        .create_db_instance()
        .db_instance_identifier("ledger-1")
        .db_cluster_identifier("ledger")
        .db_instance_class("db.r6g.large")
        .engine("aurora-postgresql")
        .send()
        .await
        .unwrap();
    for (snapshot, restore) in [("orders-shared", "111122223333"), ("orders-public", "all")] {
        east.rds
            .create_db_snapshot()
            .db_instance_identifier("orders-db")
            .db_snapshot_identifier(snapshot)
            .send()
            .await
            .unwrap();
        east.rds
            .modify_db_snapshot_attribute()
            .db_snapshot_identifier(snapshot)
            .attribute_name("restore")
            .values_to_add(restore)
            .send()
            .await
            .unwrap();
    }

    // --- RDS, eu-west-1: a copy of orders-db's snapshot (the cross-region
    // backup), and an instance with no copy anywhere.
    west.rds
        .copy_db_snapshot()
        .source_db_snapshot_identifier(format!(
            "arn:aws:rds:{USE1}:{ACCOUNT}:snapshot:orders-shared"
        ))
        .target_db_snapshot_identifier("orders-copy")
        .kms_key_id(&west_key)
        .send()
        .await
        .unwrap();
    west.instance("eu-db")
        .backup_retention_period(1)
        .send()
        .await
        .unwrap();

    // --- S3
    use aws_sdk_s3::types::{
        ExpirationStatus, NoncurrentVersionExpiration, ReplicationRuleStatus, Tag, Tagging,
    };
    east.bucket("acme-backups-use1").await;
    west.bucket("acme-backups-euw1").await;
    west.bucket("acme-plain-euw1").await;
    let sydney = Seed::new(moto, "ap-southeast-2").await;
    sydney.bucket("acme-far-apse2").await;
    west.s3
        .create_bucket()
        .bucket("acme-locked-euw1")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(EUW1.into())
                .build(),
        )
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();

    east.versioned("acme-backups-use1").await;
    west.versioned("acme-backups-euw1").await;
    east.encrypted("acme-backups-use1", Some(&key)).await;
    west.encrypted("acme-backups-euw1", None).await;
    east.lifecycle(
        "acme-backups-use1",
        [
            expiry_rule("expire-db", ExpirationStatus::Enabled, "db/", 30)
                .noncurrent_version_expiration(
                    NoncurrentVersionExpiration::builder()
                        .noncurrent_days(7)
                        .build(),
                ),
            expiry_rule("old", ExpirationStatus::Disabled, "", 365),
        ],
    )
    .await;
    east.replicates(
        "acme-backups-use1",
        &[
            ("to-eu", ReplicationRuleStatus::Enabled, "acme-backups-euw1"),
            (
                "to-sydney",
                ReplicationRuleStatus::Enabled,
                "acme-far-apse2",
            ),
            (
                "to-nowhere",
                ReplicationRuleStatus::Disabled,
                "bucket-of-another-account",
            ),
        ],
    )
    .await;
    east.public_access_block("acme-backups-use1", true).await;
    west.public_access_block("acme-backups-euw1", false).await;
    east.s3
        .put_bucket_tagging()
        .bucket("acme-backups-use1")
        .tagging(
            Tagging::builder()
                .tag_set(
                    Tag::builder()
                        .key("purpose")
                        .value("backup")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    for (key, size) in [
        ("exports/a.csv", 10),
        ("exports/b.csv", 20),
        ("exports/c.csv", 30),
        ("other/x", 99),
    ] {
        east.put_object("acme-backups-use1", key, &vec![b'x'; size])
            .await;
    }
    west.put_object("acme-backups-euw1", "dumps/eu.sql", &[b'x'; 5])
        .await;

    // --- ECR
    use aws_sdk_ecr::types::{
        EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
        ReplicationDestination, RepositoryFilter, RepositoryFilterType,
    };
    east.ecr
        .create_repository()
        .repository_name("prod/api")
        .image_tag_mutability(ImageTagMutability::Immutable)
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .encryption_configuration(
            EncryptionConfiguration::builder()
                .encryption_type(EncryptionType::Kms)
                .kms_key(&key)
                .build()
                .unwrap(),
        )
        .tags(
            aws_sdk_ecr::types::Tag::builder()
                .key("team")
                .value("platform")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    east.ecr
        .create_repository()
        .repository_name("dev/tool")
        .send()
        .await
        .unwrap();
    west.ecr
        .create_repository()
        .repository_name("eu/app")
        .send()
        .await
        .unwrap();
    east.ecr
        .put_lifecycle_policy()
        .repository_name("prod/api")
        .lifecycle_policy_text(
            r#"{"rules":[{"rulePriority":1,"description":"drop untagged",
            "selection":{"tagStatus":"untagged","countType":"sinceImagePushed",
            "countUnit":"days","countNumber":14},"action":{"type":"expire"}},
            {"rulePriority":2,"selection":{"tagStatus":"any",
            "countType":"imageCountMoreThan","countNumber":50},"action":{"type":"expire"}}]}"#,
        )
        .send()
        .await
        .unwrap();
    east.ecr
        .put_replication_configuration()
        .replication_configuration(
            aws_sdk_ecr::types::ReplicationConfiguration::builder()
                .rules(
                    aws_sdk_ecr::types::ReplicationRule::builder()
                        .destinations(
                            ReplicationDestination::builder()
                                .region(EUW1)
                                .registry_id(ACCOUNT)
                                .build()
                                .unwrap(),
                        )
                        .repository_filters(
                            RepositoryFilter::builder()
                                .filter("prod/")
                                .filter_type(RepositoryFilterType::PrefixMatch)
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // --- Logs: a group shipping to a central group in eu-west-1 (a logs
    // destination the emulator accepts without Kinesis), and one kept forever.
    west.log_group("/central/archive", Some(365)).await;
    east.logs
        .create_log_group()
        .log_group_name("/app/api")
        .kms_key_id(&key)
        .tags("team", "api")
        .send()
        .await
        .unwrap();
    east.logs
        .put_retention_policy()
        .log_group_name("/app/api")
        .retention_in_days(30)
        .send()
        .await
        .unwrap();
    east.logs
        .create_log_stream()
        .log_group_name("/app/api")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let now_ms = jiff::Timestamp::now().as_millisecond();
    east.logs
        .put_log_events()
        .log_group_name("/app/api")
        .log_stream_name("s")
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now_ms)
                .message("hello world")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // Events are written before the subscription exists: the emulator
    // forwards later events to a same-named stream in the destination
    // group, which does not exist, and fails the write.
    east.logs
        .put_subscription_filter()
        .log_group_name("/app/api")
        .filter_name("to-central")
        .filter_pattern("")
        .destination_arn(format!(
            "arn:aws:logs:{EUW1}:{ACCOUNT}:log-group:/central/archive:*"
        ))
        .send()
        .await
        .unwrap();
    east.log_group("/app/forever", None).await;

    seed_secrets(moto, &key).await;
    key
}

fn export_location(bucket: &str, prefix: &str) -> ExportLocation {
    ExportLocation {
        bucket: bucket.into(),
        prefix: prefix.into(),
        max_age: None,
    }
}

// ---------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collects_every_attribute_of_every_type_in_two_regions() {
    let moto = Moto::start();
    let started = jiff::Timestamp::now();
    let key = seed_account(&moto).await;
    let mut options = moto.options(REGIONS);
    options.export_locations = vec![
        export_location("acme-backups-use1", "exports/"),
        export_location("acme-backups-euw1", "dumps/"),
        export_location("no-such-export-bucket", "daily/"),
    ];
    // Exercises the progress bar's code path (indicatif draws nothing:
    // stderr is not a terminal under the test harness).
    options.progress = backstop::collect::ProgressDisplay::Bar;
    let collected = collect_moto(&moto, &options).await;
    no_errors(&collected);
    let inv = &collected.inventory;

    assert_eq!(inv.source.kind, "live");
    assert_eq!(inv.source.account.as_deref(), Some(ACCOUNT));
    assert_eq!(inv.source.regions, REGIONS);
    assert!(inv.collected_at.unwrap() >= started);
    for r in &inv.resources {
        assert_eq!(r.account, ACCOUNT, "{} {}", r.resource_type.name, r.id);
        assert!(
            REGIONS.contains(&r.region.as_str()),
            "{} {}",
            r.id,
            r.region
        );
        assert!(
            !r.arn.is_empty(),
            "{} {} has no ARN",
            r.resource_type.name,
            r.id
        );
    }

    // --- RDS instances
    let orders = find(inv, schema::DB_INSTANCE, USE1, "orders-db");
    assert_eq!(
        orders.arn,
        format!("arn:aws:rds:{USE1}:{ACCOUNT}:db:orders-db")
    );
    assert_eq!(orders.tags["team"], "orders");
    assert_eq!(orders.get("engine"), &Value::from("postgres"));
    assert!(orders.get("engine_version").as_str().is_some());
    assert_eq!(orders.get("instance_class"), &Value::from("db.t3.micro"));
    assert!(orders.get("cluster_id").is_null());
    assert_eq!(orders.get("backup_retention_days"), &Value::Int(7));
    assert_eq!(orders.get("backup_window"), &Value::from("03:00-04:00"));
    assert_eq!(
        orders.get("maintenance_window"),
        &Value::from("sun:05:00-sun:06:00")
    );
    assert_eq!(orders.get("multi_az"), &Value::Bool(true));
    assert_eq!(orders.get("storage_encrypted"), &Value::Bool(true));
    assert_eq!(orders.get("kms_key_id"), &Value::from(key.as_str()));
    // moto's KMS reports CUSTOMER for every key, AWS-managed ones too.
    assert_eq!(orders.get("kms_key_managed_by"), &Value::from("CUSTOMER"));
    assert_eq!(orders.get("deletion_protection"), &Value::Bool(true));
    assert_eq!(orders.get("copy_tags_to_snapshot"), &Value::Bool(true));
    assert_eq!(orders.get("publicly_accessible"), &Value::Bool(false));
    assert!(matches!(
        orders.get("latest_restorable_time"),
        Value::Time(_)
    ));
    assert_eq!(orders.get("backup_replication_regions"), &strs(&[]));
    // The copy in eu-west-1 holds data taken when orders-shared was.
    let shared = find(inv, schema::DB_SNAPSHOT, USE1, "orders-shared");
    assert_eq!(
        orders.get("cross_region_copy_time"),
        shared.get("created_at"),
        "cross_region_copy_time is the copy's data time"
    );
    assert!(matches!(
        orders.get("cross_region_copy_time"),
        Value::Time(_)
    ));

    let scratch = find(inv, schema::DB_INSTANCE, USE1, "scratch-db");
    assert_eq!(scratch.get("backup_retention_days"), &Value::Int(0));
    assert!(
        scratch.get("latest_restorable_time").is_null(),
        "no backups, no point-in-time restore"
    );
    assert_eq!(scratch.get("storage_encrypted"), &Value::Bool(false));
    assert!(scratch.get("kms_key_managed_by").is_null());
    assert_eq!(scratch.get("publicly_accessible"), &Value::Bool(true));
    assert!(scratch.get("cross_region_copy_time").is_null());

    let member = find(inv, schema::DB_INSTANCE, USE1, "ledger-1");
    assert_eq!(member.get("cluster_id"), &Value::from("ledger"));
    let eu_db = find(inv, schema::DB_INSTANCE, EUW1, "eu-db");
    assert_eq!(eu_db.get("backup_retention_days"), &Value::Int(1));
    assert!(eu_db.get("cross_region_copy_time").is_null());

    // --- RDS cluster
    let ledger = find(inv, schema::DB_CLUSTER, USE1, "ledger");
    assert_eq!(ledger.get("engine"), &Value::from("aurora-postgresql"));
    assert!(ledger.get("engine_version").as_str().is_some());
    assert_eq!(ledger.get("backup_retention_days"), &Value::Int(5));
    assert_eq!(ledger.get("backup_window"), &Value::from("02:00-03:00"));
    assert!(ledger.get("cluster_id").is_null(), "no member of a cluster");
    assert!(ledger.get("maintenance_window").as_str().is_some());
    assert!(matches!(ledger.get("multi_az"), Value::Bool(_)));
    assert_eq!(ledger.get("storage_encrypted"), &Value::Bool(true));
    assert_eq!(ledger.get("kms_key_id"), &Value::from(key.as_str()));
    assert_eq!(ledger.get("kms_key_managed_by"), &Value::from("CUSTOMER"));
    assert_eq!(ledger.get("deletion_protection"), &Value::Bool(false));
    assert!(matches!(
        ledger.get("copy_tags_to_snapshot"),
        Value::Bool(_)
    ));
    assert!(matches!(
        ledger.get("latest_restorable_time"),
        Value::Time(_)
    ));
    assert_eq!(ledger.get("members"), &strs(&["ledger-1"]));

    // --- RDS snapshots
    assert_eq!(shared.get("snapshot_type"), &Value::from("manual"));
    assert_eq!(shared.get("source_id"), &Value::from("orders-db"));
    assert_eq!(shared.get("source_kind"), &Value::from("instance"));
    assert!(shared.get("source_region").is_null());
    assert_eq!(shared.get("encrypted"), &Value::Bool(true));
    assert_eq!(shared.get("kms_key_id"), &Value::from(key.as_str()));
    assert!(matches!(shared.get("created_at"), Value::Time(_)));
    assert_eq!(shared.get("public"), &Value::Bool(false));
    assert_eq!(shared.get("shared_with"), &strs(&["111122223333"]));
    let public = find(inv, schema::DB_SNAPSHOT, USE1, "orders-public");
    assert_eq!(public.get("public"), &Value::Bool(true));
    assert_eq!(public.get("shared_with"), &strs(&[]));
    let copy = find(inv, schema::DB_SNAPSHOT, EUW1, "orders-copy");
    assert_eq!(copy.get("snapshot_type"), &Value::from("manual"));
    assert_eq!(copy.get("source_id"), &Value::from("orders-db"));
    assert_eq!(copy.get("public"), &Value::Bool(false));
    let automated: Vec<_> = of_kind(inv, schema::DB_SNAPSHOT)
        .into_iter()
        .filter(|s| s.get("snapshot_type") == &Value::from("automated"))
        .collect();
    // The emulator takes one automated snapshot per instance at creation.
    assert!(automated.len() >= 3, "{automated:#?}");
    for s in automated {
        assert_eq!(s.get("public"), &Value::Bool(false));
        assert_eq!(s.get("shared_with"), &strs(&[]));
    }
    // The Aurora cluster's snapshots are snapshots too: the emulator takes
    // one automated snapshot per cluster at creation.
    let of_clusters: Vec<_> = of_kind(inv, schema::DB_SNAPSHOT)
        .into_iter()
        .filter(|s| s.get("source_kind") == &Value::from("cluster"))
        .collect();
    let [ledger_snapshot] = of_clusters[..] else {
        panic!("{of_clusters:#?}")
    };
    assert!(
        ledger_snapshot.id.starts_with("rds:ledger-"),
        "{ledger_snapshot:?}"
    );
    assert_eq!(ledger_snapshot.region, USE1);
    assert_eq!(
        ledger_snapshot.arn,
        format!(
            "arn:aws:rds:{USE1}:{ACCOUNT}:cluster-snapshot:{}",
            ledger_snapshot.id
        )
    );
    assert_eq!(
        ledger_snapshot.get("snapshot_type"),
        &Value::from("automated")
    );
    assert_eq!(ledger_snapshot.get("source_id"), &Value::from("ledger"));
    assert_eq!(ledger_snapshot.get("encrypted"), &Value::Bool(true));
    assert_eq!(
        ledger_snapshot.get("kms_key_id"),
        &Value::from(key.as_str())
    );
    assert!(matches!(ledger_snapshot.get("created_at"), Value::Time(_)));
    assert_eq!(ledger_snapshot.get("public"), &Value::Bool(false));
    assert_eq!(ledger_snapshot.get("shared_with"), &strs(&[]));

    // --- S3 buckets: only those in audited regions.
    let buckets: Vec<_> = of_kind(inv, schema::S3_BUCKET)
        .iter()
        .map(|b| b.id.as_str())
        .collect();
    assert_eq!(
        buckets,
        [
            "acme-backups-euw1",
            "acme-locked-euw1",
            "acme-plain-euw1",
            "acme-backups-use1"
        ]
    );
    let backups = find(inv, schema::S3_BUCKET, USE1, "acme-backups-use1");
    assert_eq!(backups.arn, "arn:aws:s3:::acme-backups-use1");
    assert_eq!(backups.tags["purpose"], "backup");
    assert_eq!(backups.get("encryption"), &Value::from("aws:kms"));
    assert_eq!(backups.get("kms_key_id"), &Value::from(key.as_str()));
    assert_eq!(backups.get("versioning"), &Value::from("Enabled"));
    assert_eq!(
        backups.get("lifecycle_rules"),
        &Value::List(vec![
            obj(&[
                ("id", "expire-db".into()),
                ("enabled", true.into()),
                ("prefix", "db/".into()),
                ("expiration_days", 30.into()),
                ("noncurrent_expiration_days", 7.into()),
            ]),
            obj(&[
                ("id", "old".into()),
                ("enabled", false.into()),
                ("prefix", "".into()),
                ("expiration_days", 365.into()),
                ("noncurrent_expiration_days", Value::Null),
            ]),
        ])
    );
    assert_eq!(
        backups.get("replication_rules"),
        &Value::List(vec![
            obj(&[
                ("id", "to-eu".into()),
                ("enabled", true.into()),
                ("destination_bucket", "acme-backups-euw1".into()),
                ("destination_region", EUW1.into()),
                ("prefix", "".into()),
            ]),
            obj(&[
                ("id", "to-sydney".into()),
                ("enabled", true.into()),
                ("destination_bucket", "acme-far-apse2".into()),
                ("destination_region", "ap-southeast-2".into()),
                ("prefix", "".into()),
            ]),
            obj(&[
                ("id", "to-nowhere".into()),
                ("enabled", false.into()),
                ("destination_bucket", "bucket-of-another-account".into()),
                // HeadBucket says it does not exist: a known absence.
                ("destination_region", Value::Null),
                ("prefix", "".into()),
            ]),
        ])
    );
    assert_eq!(backups.get("object_lock_enabled"), &Value::Bool(false));
    assert_eq!(backups.get("public_access_blocked"), &Value::Bool(true));

    let eu_backups = find(inv, schema::S3_BUCKET, EUW1, "acme-backups-euw1");
    assert_eq!(eu_backups.get("encryption"), &Value::from("AES256"));
    assert!(eu_backups.get("kms_key_id").is_null());
    assert_eq!(
        eu_backups.get("public_access_blocked"),
        &Value::Bool(false),
        "three of four flags is not blocked"
    );
    let locked = find(inv, schema::S3_BUCKET, EUW1, "acme-locked-euw1");
    assert_eq!(locked.get("object_lock_enabled"), &Value::Bool(true));

    // Nothing configured: every "not configured" answer is a fact.
    let plain = find(inv, schema::S3_BUCKET, EUW1, "acme-plain-euw1");
    assert_eq!(plain.get("encryption"), &Value::from("none"));
    assert!(plain.get("kms_key_id").is_null());
    assert_eq!(plain.get("versioning"), &Value::from("Disabled"));
    assert_eq!(plain.get("lifecycle_rules"), &Value::List(vec![]));
    assert_eq!(plain.get("replication_rules"), &Value::List(vec![]));
    assert_eq!(plain.get("object_lock_enabled"), &Value::Bool(false));
    assert_eq!(plain.get("public_access_blocked"), &Value::Bool(false));
    assert!(plain.tags.is_empty());

    // --- Export locations
    let exports = find(
        inv,
        schema::S3_EXPORT_LOCATION,
        USE1,
        "acme-backups-use1/exports/",
    );
    assert_eq!(exports.arn, "arn:aws:s3:::acme-backups-use1/exports/");
    assert_eq!(exports.get("bucket"), &Value::from("acme-backups-use1"));
    assert_eq!(exports.get("prefix"), &Value::from("exports/"));
    assert_eq!(exports.get("object_count"), &Value::Int(3));
    assert_eq!(exports.get("total_bytes"), &Value::Int(60));
    let Value::Time(latest) = exports.get("latest_object_time") else {
        panic!("no latest_object_time: {exports:?}")
    };
    // S3 keeps whole seconds.
    assert!(*latest >= started - jiff::SignedDuration::from_secs(1));
    let eu_exports = find(
        inv,
        schema::S3_EXPORT_LOCATION,
        EUW1,
        "acme-backups-euw1/dumps/",
    );
    assert_eq!(eu_exports.get("object_count"), &Value::Int(1));
    assert_eq!(eu_exports.get("total_bytes"), &Value::Int(5));
    // A configured location whose bucket does not exist has no exports.
    let missing = find(
        inv,
        schema::S3_EXPORT_LOCATION,
        USE1,
        "no-such-export-bucket/daily/",
    );
    assert_eq!(missing.get("object_count"), &Value::Int(0));
    assert!(missing.get("latest_object_time").is_null());

    // --- ECR
    let api = find(inv, schema::ECR_REPOSITORY, USE1, "prod/api");
    assert_eq!(
        api.arn,
        format!("arn:aws:ecr:{USE1}:{ACCOUNT}:repository/prod/api")
    );
    assert_eq!(api.tags["team"], "platform");
    assert_eq!(api.get("tag_mutability"), &Value::from("IMMUTABLE"));
    assert_eq!(api.get("scan_on_push"), &Value::Bool(true));
    assert_eq!(api.get("encryption"), &Value::from("KMS"));
    assert_eq!(api.get("kms_key_id"), &Value::from(key.as_str()));
    assert_eq!(api.get("lifecycle_policy"), &Value::Bool(true));
    assert_eq!(
        api.get("lifecycle_rules"),
        &Value::List(vec![
            obj(&[
                ("priority", 1.into()),
                ("description", "drop untagged".into()),
                ("tag_status", "untagged".into()),
                ("count_type", "sinceImagePushed".into()),
                ("count_number", 14.into()),
            ]),
            obj(&[
                ("priority", 2.into()),
                ("description", Value::Null),
                ("tag_status", "any".into()),
                ("count_type", "imageCountMoreThan".into()),
                ("count_number", 50.into()),
            ]),
        ])
    );
    assert_eq!(api.get("replication_regions"), &strs(&[EUW1]));
    let tool = find(inv, schema::ECR_REPOSITORY, USE1, "dev/tool");
    assert_eq!(tool.get("tag_mutability"), &Value::from("MUTABLE"));
    assert_eq!(tool.get("scan_on_push"), &Value::Bool(false));
    assert_eq!(tool.get("encryption"), &Value::from("AES256"));
    assert!(tool.get("kms_key_id").is_null());
    assert_eq!(tool.get("lifecycle_policy"), &Value::Bool(false));
    assert_eq!(tool.get("lifecycle_rules"), &Value::List(vec![]));
    assert_eq!(
        tool.get("replication_regions"),
        &strs(&[]),
        "the only rule's filter does not match dev/"
    );
    assert!(tool.tags.is_empty());
    let eu_app = find(inv, schema::ECR_REPOSITORY, EUW1, "eu/app");
    assert_eq!(eu_app.get("replication_regions"), &strs(&[]));

    // --- Logs
    let api_logs = find(inv, schema::LOG_GROUP, USE1, "/app/api");
    assert_eq!(
        api_logs.arn,
        format!("arn:aws:logs:{USE1}:{ACCOUNT}:log-group:/app/api")
    );
    assert_eq!(api_logs.tags["team"], "api");
    assert_eq!(api_logs.get("retention_days"), &Value::Int(30));
    assert_eq!(api_logs.get("kms_key_id"), &Value::from(key.as_str()));
    assert_eq!(
        api_logs.get("stored_bytes"),
        &Value::Int("hello world".len() as i64)
    );
    assert_eq!(
        api_logs.get("subscription_destinations"),
        &strs(&[&format!(
            "arn:aws:logs:{EUW1}:{ACCOUNT}:log-group:/central/archive:*"
        )])
    );
    let forever = find(inv, schema::LOG_GROUP, USE1, "/app/forever");
    assert!(forever.get("retention_days").is_null(), "never expires");
    assert!(forever.get("kms_key_id").is_null());
    assert_eq!(forever.get("stored_bytes"), &Value::Int(0));
    assert_eq!(forever.get("subscription_destinations"), &strs(&[]));
    let central = find(inv, schema::LOG_GROUP, EUW1, "/central/archive");
    assert_eq!(central.get("retention_days"), &Value::Int(365));

    // --- Call counts: one DescribeKey per distinct key (orders-db and the
    // ledger cluster share one); one listing page per type and region (two
    // for each kind of snapshot: AWS Backup's are listed apart);
    // DescribeDBSnapshotAttributes only for the manual snapshots, and so no
    // DescribeDBClusterSnapshotAttributes (the cluster's only snapshot is
    // automated).
    eprintln!("calls: {:#?}", collected.calls);
    let calls = |op| collected.calls_to(op);
    assert_eq!(calls(&ops::STS_GET_CALLER_IDENTITY), 1);
    assert_eq!(calls(&ops::KMS_DESCRIBE_KEY), 1, "{:#?}", collected.calls);
    assert_eq!(calls(&ops::RDS_DESCRIBE_DB_INSTANCES), 2);
    assert_eq!(calls(&ops::RDS_DESCRIBE_DB_SNAPSHOTS), 4);
    assert_eq!(calls(&ops::RDS_DESCRIBE_DB_SNAPSHOT_ATTRIBUTES), 3);
    assert_eq!(calls(&ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS), 4);
    assert_eq!(calls(&ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES), 0);
    assert_eq!(calls(&ops::S3_LIST_BUCKETS), 1);
    // The 5 listed buckets; the unknown replication destination is asked
    // with HeadBucket.
    assert_eq!(calls(&ops::S3_GET_BUCKET_LOCATION), 5);
    assert_eq!(calls(&ops::S3_HEAD_BUCKET), 1);
    assert_eq!(calls(&ops::S3_GET_BUCKET_LIFECYCLE), 4);
    assert_eq!(calls(&ops::S3_LIST_OBJECTS_V2), 3);
    assert_eq!(calls(&ops::ECR_DESCRIBE_REGISTRY), 2);
    assert_eq!(calls(&ops::ECR_GET_LIFECYCLE_POLICY), 3);
    assert_eq!(calls(&ops::LOGS_DESCRIBE_SUBSCRIPTION_FILTERS), 3);
    // One account-policy listing per region (answered by the stub).
    assert_eq!(calls(&ops::LOGS_DESCRIBE_ACCOUNT_POLICIES), 2);

    // Every attribute of every type is filled on at least one resource,
    // except one the emulator cannot produce (its copies carry no
    // SourceRegion; the mapping is unit-tested in src/collect/rds.rs) and
    // one that comes from the configuration, not from AWS, and one that is
    // always none (a cluster's cluster_id).
    let not_from_aws = [
        (schema::DB_SNAPSHOT, "source_region"),
        (schema::S3_EXPORT_LOCATION, "max_age"),
        (schema::DB_CLUSTER, "cluster_id"),
    ];
    // AWS Backup plans and vaults are seeded by their own tests: a plan
    // here would make every ListBackupSelections fail (moto does not
    // implement it).
    let seeded_elsewhere = [schema::BACKUP_PLAN, schema::BACKUP_VAULT];
    // moto has no AWS Backup protected resources, recovery points or copy
    // jobs: tests/backup_points.rs reads them from recorded answers.
    let not_in_moto = [
        (schema::DB_INSTANCE, "aws_backup_cross_region_copy_time"),
        (schema::DB_CLUSTER, "aws_backup_cross_region_copy_time"),
    ];
    for kind in schema::RESOURCE_TYPES {
        if seeded_elsewhere.contains(&kind.name) || kind.name == schema::BACKUP_PROTECTED_RESOURCE {
            continue;
        }
        for attribute in kind.attributes {
            if not_from_aws.contains(&(kind.name, attribute.name))
                || not_in_moto.contains(&(kind.name, attribute.name))
            {
                continue;
            }
            assert!(
                inv.resources
                    .iter()
                    .any(|r| std::ptr::eq(r.resource_type, kind)
                        && !r.get(attribute.name).is_null()
                        && !r.get(attribute.name).is_unknown()),
                "{}.{} is never filled",
                kind.name,
                attribute.name
            );
        }
    }
    // And the inventory survives its own file format.
    let back = Inventory::from_json(&inv.to_json(), "collected").unwrap();
    assert_eq!(&back, inv);
}

/// Pagination past one page. 120 log groups at the API's default page size
/// (50) are 3 pages, and cost under a second to create. DB instances are
/// the slow thing to create in the emulator, so 25 of them are listed with
/// the test hook's page size 20 (the smallest RDS accepts): 2 pages; export
/// objects likewise (25 at page size 10: 3 pages) rather than 1001 objects
/// at S3's default of 1000. DescribeDBSnapshots pages too (25 automated
/// snapshots), although the emulator ignores MaxRecords there and answers
/// in one page; moto's ECR ignores maxResults as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_pagination_past_the_first_page() {
    let moto = Moto::start();
    let east = &Seed::new(&moto, USE1).await;
    let groups = futures::future::join_all(
        (0..120).map(|i| east.log_group(format!("/paged/group-{i:03}"), None)),
    );
    let instances = futures::future::join_all((0..25).map(|i| async move {
        east.instance(&format!("paged-db-{i:02}"))
            .backup_retention_period(1)
            .send()
            .await
            .unwrap();
    }));
    let objects = async {
        east.bucket("paged-exports").await;
        for i in 0..25 {
            east.put_object(
                "paged-exports",
                &format!("daily/{i:02}.json"),
                &vec![b'x'; i + 1],
            )
            .await;
        }
    };
    futures::join!(groups, instances, objects);

    // Log groups at the default page size.
    let mut options = moto.options(&[USE1]);
    options.plan = Plan::new([&ops::LOGS_DESCRIBE_LOG_GROUPS]);
    let collected = collect_moto(&moto, &options).await;
    no_errors(&collected);
    assert_eq!(of_kind(&collected.inventory, schema::LOG_GROUP).len(), 120);
    assert_eq!(collected.calls_to(&ops::LOGS_DESCRIBE_LOG_GROUPS), 3);

    // Instances and export objects with small pages.
    let mut options = moto.options(&[USE1]);
    options.plan = Plan::new([&ops::RDS_DESCRIBE_DB_INSTANCES, &ops::S3_LIST_OBJECTS_V2]);
    options.export_locations = vec![export_location("paged-exports", "daily/")];
    let overrides = SdkOverrides {
        page_size: Some(10),
        ..no_account_policies(&moto)
    };
    let collected = collect_with(&options, &overrides).await.unwrap();
    no_errors(&collected);
    let inv = &collected.inventory;
    assert_eq!(of_kind(inv, schema::DB_INSTANCE).len(), 25);
    assert_eq!(collected.calls_to(&ops::RDS_DESCRIBE_DB_INSTANCES), 2);
    let exports = find(
        inv,
        schema::S3_EXPORT_LOCATION,
        USE1,
        "paged-exports/daily/",
    );
    assert_eq!(exports.get("object_count"), &Value::Int(25));
    assert_eq!(exports.get("total_bytes"), &Value::Int((1..=25).sum()));
    assert_eq!(collected.calls_to(&ops::S3_LIST_OBJECTS_V2), 3);
}

fn errors_for<'a>(inv: &'a Inventory, op: &str) -> Vec<&'a CollectionError> {
    inv.errors.iter().filter(|e| e.operation == op).collect()
}

/// Denied calls become errors of the right shape, and everything else is
/// still collected. Seeded first; then IAM is enforced and collection runs
/// as a user whose policy denies all of ECR, S3 lifecycle reads and RDS
/// snapshot listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_calls_become_collection_errors() {
    let moto = Moto::start();
    let east = Seed::new(&moto, USE1).await;
    let west = Seed::new(&moto, EUW1).await;
    east.instance("denied-db")
        .backup_retention_period(7)
        .send()
        .await
        .unwrap();
    west.instance("denied-eu-db").send().await.unwrap();
    east.bucket("denied-east").await;
    east.versioned("denied-east").await;
    west.bucket("denied-west").await;
    east.ecr
        .create_repository()
        .repository_name("hidden")
        .send()
        .await
        .unwrap();
    east.log_group("/denied/visible", None).await;
    let user = moto.iam_user(
        "auditor",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","Action":["ecr:*","s3:GetLifecycleConfiguration",
             "rds:DescribeDBSnapshots"],"Resource":"*"}]}"#,
    );
    moto.enforce_iam();

    let overrides = SdkOverrides {
        credentials: Some(user),
        ..no_account_policies(&moto)
    };
    let mut options = moto.options(REGIONS);
    options.plan = without_aws_backup(options.plan);
    let collected = collect_with(&options, &overrides).await.unwrap();
    let inv = &collected.inventory;

    // ECR: the listing failed in both regions; nothing of it is known.
    let listing = errors_for(inv, "DescribeRepositories");
    let regions: Vec<_> = listing.iter().map(|e| e.region.as_str()).collect();
    assert_eq!(regions, [EUW1, USE1], "{:#?}", inv.errors);
    for e in &listing {
        assert_eq!(e.service, "ecr");
        // AWS answers AccessDeniedException; the emulator's IAM layer
        // answers ECR's JSON protocol with a Query-style XML error the SDK
        // cannot parse, so only the status is known.
        assert_eq!(e.code, "HTTP403", "{e:#?}");
        assert!(
            e.message
                .contains("not authorized to perform: ecr:DescribeRepositories"),
            "{}",
            e.message
        );
        assert!(!e.message.is_empty());
        assert_eq!(e.resource_type, schema::ECR_REPOSITORY);
        assert_eq!(e.resource_id, None);
        assert!(e.is_listing_failure());
    }
    // The registry's replication rules: unknown for every repository.
    let registry = errors_for(inv, "DescribeRegistry");
    assert_eq!(registry.len(), 2, "{:#?}", inv.errors);
    for e in &registry {
        assert_eq!(e.resource_id, None);
        assert_eq!(e.attributes, ["replication_regions"]);
    }
    assert!(of_kind(inv, schema::ECR_REPOSITORY).is_empty());

    // S3: one detail failure per bucket, naming the attribute it fills;
    // the rest of each bucket is read.
    let lifecycle = errors_for(inv, "GetBucketLifecycleConfiguration");
    let mut failed: Vec<_> = lifecycle
        .iter()
        .map(|e| (e.resource_id.as_deref().unwrap(), e.region.as_str()))
        .collect();
    failed.sort();
    assert_eq!(failed, [("denied-east", USE1), ("denied-west", EUW1)]);
    for e in &lifecycle {
        assert_eq!(e.service, "s3");
        assert_eq!(e.code, "AccessDenied");
        assert_eq!(e.resource_type, schema::S3_BUCKET);
        assert_eq!(e.attributes, ["lifecycle_rules"]);
    }
    let bucket = find(inv, schema::S3_BUCKET, USE1, "denied-east");
    assert!(
        bucket.get("lifecycle_rules").is_unknown(),
        "never a false []"
    );
    assert_eq!(bucket.get("versioning"), &Value::from("Enabled"));
    assert_eq!(bucket.get("encryption"), &Value::from("none"));

    // RDS: instances are read; snapshots are a listing failure per region,
    // and each region's cross_region_copy_time is unknown because the
    // other region's snapshots could not be listed.
    let instance = find(inv, schema::DB_INSTANCE, USE1, "denied-db");
    assert_eq!(instance.get("backup_retention_days"), &Value::Int(7));
    assert!(instance.get("cross_region_copy_time").is_unknown());
    find(inv, schema::DB_INSTANCE, EUW1, "denied-eu-db");
    assert!(of_kind(inv, schema::DB_SNAPSHOT).is_empty());
    let snapshots = errors_for(inv, "DescribeDBSnapshots");
    let listing: Vec<_> = snapshots
        .iter()
        .filter(|e| e.resource_type == schema::DB_SNAPSHOT)
        .collect();
    assert_eq!(listing.len(), 2, "{snapshots:#?}");
    for e in &listing {
        assert!(e.is_listing_failure());
        // The emulator nests its Query error one level deeper than AWS
        // (`<Errors><Error>`), so the SDK finds no code here either.
        assert_eq!(e.code, "HTTP403", "{e:#?}");
        assert!(
            e.message.contains("rds:DescribeDBSnapshots"),
            "{}",
            e.message
        );
    }
    let mut copy_time: Vec<_> = snapshots
        .iter()
        .filter(|e| e.resource_type == schema::DB_INSTANCE)
        .collect();
    copy_time.sort_by_key(|e| e.region.clone());
    assert_eq!(copy_time.len(), 2, "{snapshots:#?}");
    for (e, (region, other)) in copy_time.iter().zip([(EUW1, USE1), (USE1, EUW1)]) {
        assert_eq!(e.region, region);
        assert_eq!(e.resource_id, None);
        assert_eq!(e.attributes, ["cross_region_copy_time"]);
        assert!(e.message.contains(other), "{}", e.message);
    }

    // Logs: untouched.
    find(inv, schema::LOG_GROUP, USE1, "/denied/visible");
    assert_eq!(
        inv.errors.len(),
        listing.len() + copy_time.len() + lifecycle.len() + registry.len() + 2,
        "{:#?}",
        inv.errors
    );

    // The emulator's default credentials belong to no IAM user: nothing can
    // be audited.
    let err = collect_with(&moto.options(REGIONS), &moto.overrides())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CollectError::InvalidCredentials { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("AWS rejected the credentials"),
        "{err}"
    );
}

/// The plan decides which calls are made: without S3 in the plan there are
/// no S3 calls, resources or errors; a bucket rule reading only versioning
/// makes no lifecycle (or other detail) call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_skips_what_no_rule_reads() {
    let moto = Moto::start();
    let east = Seed::new(&moto, USE1).await;
    east.bucket("planned-bucket").await;
    east.instance("planned-db").send().await.unwrap();
    east.log_group("/planned/group", None).await;
    east.ecr
        .create_repository()
        .repository_name("planned/repo")
        .send()
        .await
        .unwrap();

    let mut plan = Plan::default();
    plan.add_type(
        schema::resource_type(schema::LOG_GROUP).unwrap(),
        ["retention_days"],
        false,
    );
    let mut options = moto.options(REGIONS);
    options.plan = plan.clone();
    options.export_locations = vec![export_location("planned-bucket", "")];
    let collected = collect_moto(&moto, &options).await;
    no_errors(&collected);
    let kinds: Vec<_> = collected
        .inventory
        .resources
        .iter()
        .map(|r| r.resource_type.name)
        .collect();
    assert_eq!(kinds, [schema::LOG_GROUP]);
    let services: Vec<_> = collected.calls.keys().collect();
    assert_eq!(
        services,
        ["logs:DescribeLogGroups", "sts:GetCallerIdentity"],
        "{:#?}",
        collected.calls
    );
    let group = &collected.inventory.resources[0];
    assert!(
        group.get("subscription_destinations").is_unknown(),
        "not read, so not claimed to be empty"
    );

    plan.add_type(
        schema::resource_type(schema::S3_BUCKET).unwrap(),
        ["versioning"],
        false,
    );
    options.plan = plan;
    let collected = collect_moto(&moto, &options).await;
    no_errors(&collected);
    let bucket = find(
        &collected.inventory,
        schema::S3_BUCKET,
        USE1,
        "planned-bucket",
    );
    assert_eq!(bucket.get("versioning"), &Value::from("Disabled"));
    assert!(bucket.get("lifecycle_rules").is_unknown());
    assert!(bucket.get("encryption").is_unknown());
    let s3_calls: BTreeMap<_, _> = collected
        .calls
        .iter()
        .filter(|(k, _)| k.starts_with("s3:"))
        .collect();
    assert_eq!(
        s3_calls,
        BTreeMap::from([
            (&"s3:GetBucketLocation".to_string(), &1),
            (&"s3:GetBucketVersioning".to_string(), &1),
            (&"s3:ListBuckets".to_string(), &1),
        ])
    );
}

// ---------------------------------------------------------------------------
// Cluster snapshots

/// The built-in rules with default settings.
fn builtin_engine() -> Engine {
    RuleSet::builtin()
        .unwrap()
        .compile(&Default::default())
        .unwrap()
}

/// The one result of `rule` on `id` in `region`.
fn result<'a>(report: &'a Report, rule: &str, region: &str, id: &str) -> &'a Finding {
    let found: Vec<_> = report
        .results
        .iter()
        .filter(|f| f.rule == rule && f.resource.region == region && f.resource.id == id)
        .collect();
    match found[..] {
        [one] => one,
        _ => panic!(
            "{} results of {rule} on {id} in {region}: {:#?}",
            found.len(),
            report.results
        ),
    }
}

/// Aurora (and Multi-AZ) cluster snapshots are `aws.rds.db_snapshot`s of
/// `source_kind: cluster`: collected with who may restore them and judged
/// by the two snapshot rules like instance snapshots. A cluster snapshot is
/// never taken for a copy of a same-named instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_snapshots_are_collected_and_judged() {
    let moto = Moto::start();
    let east = Seed::new(&moto, USE1).await;
    let west = Seed::new(&moto, EUW1).await;
    let (key, west_key) = (east.key().await, west.key().await);
    east.cluster("vault")
        .storage_encrypted(true)
        .kms_key_id(&key)
        .send()
        .await
        .unwrap();
    east.cluster("plain").send().await.unwrap();
    east.cluster_snapshot("vault", "vault-public", &["all"])
        .await;
    east.cluster_snapshot("vault", "vault-shared", &["111122223333"])
        .await;
    east.cluster_snapshot("plain", "plain-manual", &[]).await;
    // An instance, and in the other region a cluster of the same name with
    // a manual snapshot.
    east.instance("twin")
        .backup_retention_period(7)
        .send()
        .await
        .unwrap();
    west.cluster("twin")
        .storage_encrypted(true)
        .kms_key_id(&west_key)
        .send()
        .await
        .unwrap();
    west.cluster_snapshot("twin", "twin-weekly", &[]).await;

    // What the built-in rules need, as `backstop audit` plans it.
    let engine = builtin_engine();
    let mut options = moto.options(REGIONS);
    options.plan = Plan::new(engine.required_operations());
    assert!(options.plan.needs(&ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS));
    assert!(
        options
            .plan
            .needs(&ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES)
    );
    // MaxRecords is sent (the emulator ignores it and answers in one page;
    // paging is tested on canned answers below).
    let overrides = SdkOverrides {
        page_size: Some(20),
        ..no_account_policies(&moto)
    };
    let collected = collect_with(&options, &overrides).await.unwrap();
    no_errors(&collected);
    let inv = &collected.inventory;

    let public = find(inv, schema::DB_SNAPSHOT, USE1, "vault-public");
    assert_eq!(
        public.arn,
        format!("arn:aws:rds:{USE1}:{ACCOUNT}:cluster-snapshot:vault-public")
    );
    assert_eq!(public.account, ACCOUNT);
    assert_eq!(public.get("snapshot_type"), &Value::from("manual"));
    assert_eq!(public.get("source_id"), &Value::from("vault"));
    assert_eq!(public.get("source_kind"), &Value::from("cluster"));
    assert!(public.get("source_region").is_null());
    assert_eq!(public.get("encrypted"), &Value::Bool(true));
    assert_eq!(public.get("kms_key_id"), &Value::from(key.as_str()));
    assert!(matches!(public.get("created_at"), Value::Time(_)));
    assert_eq!(public.get("public"), &Value::Bool(true));
    assert_eq!(public.get("shared_with"), &strs(&[]));

    let shared = find(inv, schema::DB_SNAPSHOT, USE1, "vault-shared");
    assert_eq!(shared.get("public"), &Value::Bool(false));
    assert_eq!(shared.get("shared_with"), &strs(&["111122223333"]));
    assert_eq!(shared.get("encrypted"), &Value::Bool(true));

    let plain = find(inv, schema::DB_SNAPSHOT, USE1, "plain-manual");
    assert_eq!(plain.get("source_id"), &Value::from("plain"));
    assert_eq!(plain.get("encrypted"), &Value::Bool(false));
    assert!(
        plain.get("kms_key_id").is_null(),
        "no key for an unencrypted snapshot (the emulator says default_kms_key_id)"
    );
    assert_eq!(plain.get("public"), &Value::Bool(false));
    assert_eq!(plain.get("shared_with"), &strs(&[]));

    let weekly = find(inv, schema::DB_SNAPSHOT, EUW1, "twin-weekly");
    assert_eq!(weekly.get("source_id"), &Value::from("twin"));
    assert_eq!(weekly.get("source_kind"), &Value::from("cluster"));
    assert_eq!(weekly.get("kms_key_id"), &Value::from(west_key.as_str()));
    let twin = find(inv, schema::DB_INSTANCE, USE1, "twin");
    assert!(
        twin.get("cross_region_copy_time").is_null(),
        "a snapshot of cluster `twin` in {EUW1} is no copy of instance `twin`"
    );

    // One automated snapshot per cluster (the emulator takes it at
    // creation); nobody else can restore those.
    let automated: Vec<_> = of_kind(inv, schema::DB_SNAPSHOT)
        .into_iter()
        .filter(|s| {
            s.get("source_kind") == &Value::from("cluster")
                && s.get("snapshot_type") == &Value::from("automated")
        })
        .collect();
    let mut sources: Vec<_> = automated
        .iter()
        .map(|s| (s.region.as_str(), s.get("source_id").as_str().unwrap()))
        .collect();
    sources.sort();
    assert_eq!(
        sources,
        [(EUW1, "twin"), (USE1, "plain"), (USE1, "vault")],
        "{automated:#?}"
    );
    for s in &automated {
        assert_eq!(s.get("public"), &Value::Bool(false));
        assert_eq!(s.get("shared_with"), &strs(&[]));
    }
    // The instance's automated snapshot says what it is of.
    let of_instances: Vec<_> = of_kind(inv, schema::DB_SNAPSHOT)
        .into_iter()
        .filter(|s| s.get("source_kind") == &Value::from("instance"))
        .collect();
    assert_eq!(of_instances.len(), 1, "{of_instances:#?}");
    assert_eq!(of_instances[0].get("source_id"), &Value::from("twin"));

    // Two listings per region (AWS Backup's snapshots apart), one
    // attribute read per manual cluster snapshot.
    assert_eq!(
        collected.calls_to(&ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS),
        4
    );
    assert_eq!(
        collected.calls_to(&ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES),
        4
    );

    // The built-in snapshot rules judge them.
    let report = engine.audit(inv, Timestamp::now());
    let exposed = result(&report, "rds-snapshot-not-public", USE1, "vault-public");
    assert_eq!(exposed.status, Status::Fail, "{exposed:#?}");
    assert_eq!(exposed.severity, Severity::Critical);
    assert_eq!(exposed.resource.arn, public.arn);
    assert!(exposed.message.contains("public"), "{}", exposed.message);
    for (region, id) in [
        (USE1, "vault-shared"),
        (USE1, "plain-manual"),
        (EUW1, "twin-weekly"),
    ] {
        let r = result(&report, "rds-snapshot-not-public", region, id);
        assert_eq!(r.status, Status::Pass, "{r:#?}");
    }
    for s in &automated {
        let r = result(&report, "rds-snapshot-not-public", &s.region, &s.id);
        assert_eq!(r.status, Status::Pass, "{r:#?}");
    }
    let unencrypted = result(&report, "rds-snapshot-encrypted", USE1, "plain-manual");
    assert_eq!(unencrypted.status, Status::Fail, "{unencrypted:#?}");
    assert!(
        unencrypted.message.contains("encrypted"),
        "{}",
        unencrypted.message
    );
    for (region, id) in [
        (USE1, "vault-public"),
        (USE1, "vault-shared"),
        (EUW1, "twin-weekly"),
    ] {
        let r = result(&report, "rds-snapshot-encrypted", region, id);
        assert_eq!(r.status, Status::Pass, "{r:#?}");
    }
    // Automated snapshots are not judged on encryption (plain's is
    // unencrypted).
    assert!(
        report
            .results
            .iter()
            .filter(|f| f.rule == "rds-snapshot-encrypted")
            .all(|f| !f.resource.id.starts_with("rds:")),
        "{:#?}",
        report.results
    );
}

/// Cluster snapshots that could not be read give `error`, never pass:
/// a denied DescribeDBClusterSnapshotAttributes makes rds-snapshot-not-public
/// an error on each manual cluster snapshot (the rules that do not need it
/// still judge), and a denied DescribeDBClusterSnapshots is a listing
/// failure of the snapshot type in each region, which leaves the instance
/// snapshots and the instances' cross_region_copy_time untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_cluster_snapshots_are_errors_never_passes() {
    let moto = Moto::start();
    let east = Seed::new(&moto, USE1).await;
    let west = Seed::new(&moto, EUW1).await;
    east.cluster("vault").send().await.unwrap();
    east.cluster_snapshot("vault", "vault-public", &["all"])
        .await;
    east.cluster_snapshot("vault", "vault-private", &[]).await;
    east.instance("orders-db").send().await.unwrap();
    east.rds
        .create_db_snapshot()
        .db_instance_identifier("orders-db")
        .db_snapshot_identifier("orders-manual")
        .send()
        .await
        .unwrap();
    west.instance("eu-db").send().await.unwrap();
    let deny = |action: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":"*","Resource":"*"}},
                {{"Effect":"Deny","Action":"{action}","Resource":"*"}}]}}"#
        )
    };
    let no_attributes = moto.iam_user(
        "no-attributes",
        &deny("rds:DescribeDBClusterSnapshotAttributes"),
    );
    let no_listing = moto.iam_user("no-listing", &deny("rds:DescribeDBClusterSnapshots"));
    moto.enforce_iam();

    let engine = builtin_engine();
    let mut options = moto.options(REGIONS);
    options.plan = without_aws_backup(Plan::new(engine.required_operations()));
    let collect_as = |credentials: Credentials| {
        let overrides = SdkOverrides {
            credentials: Some(credentials),
            ..no_account_policies(&moto)
        };
        let options = options.clone();
        async move { collect_with(&options, &overrides).await.unwrap() }
    };
    let now = Timestamp::now();

    // 1. Who may restore the manual cluster snapshots is unknown.
    let collected = collect_as(no_attributes).await;
    let inv = &collected.inventory;
    let errors = errors_for(inv, "DescribeDBClusterSnapshotAttributes");
    let mut ids: Vec<_> = errors
        .iter()
        .map(|e| e.resource_id.as_deref().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["vault-private", "vault-public"], "{:#?}", inv.errors);
    for e in &errors {
        assert_eq!(e.service, "rds");
        assert_eq!(e.region, USE1);
        assert_eq!(e.resource_type, schema::DB_SNAPSHOT);
        assert_eq!(e.attributes, ["public", "shared_with"]);
        assert!(!e.is_listing_failure());
        // The emulator nests its Query error one level deeper than AWS, so
        // only the status is known (as for DescribeDBSnapshots).
        assert_eq!(e.code, "HTTP403", "{e:#?}");
        assert!(
            e.message
                .contains("rds:DescribeDBClusterSnapshotAttributes"),
            "{}",
            e.message
        );
    }
    assert_eq!(inv.errors.len(), 2, "{:#?}", inv.errors);
    let public = find(inv, schema::DB_SNAPSHOT, USE1, "vault-public");
    assert!(public.get("public").is_unknown(), "never a false `false`");
    assert!(public.get("shared_with").is_unknown());
    assert_eq!(public.get("encrypted"), &Value::Bool(false));

    let report = engine.audit(inv, now);
    for id in ["vault-public", "vault-private"] {
        let r = result(&report, "rds-snapshot-not-public", USE1, id);
        assert_eq!(r.status, Status::Error, "{r:#?}");
        assert!(
            r.message.contains("could not read public")
                && r.message.contains("DescribeDBClusterSnapshotAttributes"),
            "{}",
            r.message
        );
        // The encryption rule needs no attribute call: still judged.
        let r = result(&report, "rds-snapshot-encrypted", USE1, id);
        assert_eq!(r.status, Status::Fail, "{r:#?}");
    }
    let r = result(&report, "rds-snapshot-not-public", USE1, "orders-manual");
    assert_eq!(r.status, Status::Pass, "{r:#?}");

    // 2. The cluster snapshots cannot be listed in either region.
    let collected = collect_as(no_listing).await;
    let inv = &collected.inventory;
    let errors = errors_for(inv, "DescribeDBClusterSnapshots");
    let regions: Vec<_> = errors.iter().map(|e| e.region.as_str()).collect();
    assert_eq!(regions, [EUW1, USE1], "{:#?}", inv.errors);
    for e in &errors {
        assert!(e.is_listing_failure(), "{e:#?}");
        assert_eq!(e.resource_type, schema::DB_SNAPSHOT);
        assert_eq!(e.resource_id, None);
        assert_eq!(e.code, "HTTP403", "{e:#?}");
        assert!(
            e.message.contains("rds:DescribeDBClusterSnapshots"),
            "{}",
            e.message
        );
    }
    assert_eq!(inv.errors.len(), 2, "{:#?}", inv.errors);
    assert!(
        of_kind(inv, schema::DB_SNAPSHOT)
            .iter()
            .all(|s| s.get("source_kind") == &Value::from("instance")),
    );
    let orders = find(inv, schema::DB_SNAPSHOT, USE1, "orders-manual");
    assert_eq!(orders.get("public"), &Value::Bool(false));

    let report = engine.audit(inv, now);
    for rule in ["rds-snapshot-not-public", "rds-snapshot-encrypted"] {
        for region in REGIONS {
            let r = result(&report, rule, region, "*");
            assert_eq!(r.status, Status::Error, "{r:#?}");
            assert!(
                r.message.contains("could not list aws.rds.db_snapshot")
                    && r.message.contains("DescribeDBClusterSnapshots"),
                "{}",
                r.message
            );
        }
    }
    let r = result(&report, "rds-snapshot-not-public", USE1, "orders-manual");
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    let r = result(&report, "rds-cross-region-backups", EUW1, "eu-db");
    assert_eq!(r.status, Status::Fail, "judged, not an error: {r:#?}");
}

const RDS_XMLNS: &str = "http://rds.amazonaws.com/doc/2014-10-31/";

fn cluster_snapshot_xml(id: &str, snapshot_type: &str, encrypted: bool) -> String {
    let key = if encrypted {
        format!("<KmsKeyId>arn:aws:kms:{USE1}:{ACCOUNT}:key/k1</KmsKeyId>")
    } else {
        String::new()
    };
    format!(
        "<DBClusterSnapshot>\
           <DBClusterSnapshotIdentifier>{id}</DBClusterSnapshotIdentifier>\
           <DBClusterIdentifier>ledger</DBClusterIdentifier>\
           <DBClusterSnapshotArn>arn:aws:rds:{USE1}:{ACCOUNT}:cluster-snapshot:{id}</DBClusterSnapshotArn>\
           <SnapshotType>{snapshot_type}</SnapshotType>\
           <SnapshotCreateTime>2026-01-01T00:00:00Z</SnapshotCreateTime>\
           <StorageEncrypted>{encrypted}</StorageEncrypted>{key}<TagList/>\
         </DBClusterSnapshot>"
    )
}

fn query_response(action: &str, result: &str) -> String {
    let xmlns = if action == "GetCallerIdentity" {
        "https://sts.amazonaws.com/doc/2011-06-15/"
    } else {
        RDS_XMLNS
    };
    format!(
        "<{action}Response xmlns=\"{xmlns}\"><{action}Result>{result}</{action}Result>\
         <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId>\
         </ResponseMetadata></{action}Response>"
    )
}

fn rds_error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"{RDS_XMLNS}\"><Error><Type>Sender</Type><Code>{code}</Code>\
         <Message>{message}</Message></Error><RequestId>0</RequestId></ErrorResponse>"
    )
}

/// Standalone instances in us-east-1 whose automated backups are
/// replicated (what the emulator cannot do): `replicated-db` to
/// eu-central-1, restorable to an hour ago; `stalled-db` to eu-central-1,
/// 30 hours behind; `gone-db` to us-west-2, where the backups are not
/// found; `unreadable-db` to ap-south-1, which refuses the call; and
/// `plain-db`, not replicated.
fn replicated_instances_xml() -> String {
    let instance = |id: &str, replicated_to: Option<(&str, &str)>| {
        let replications = replicated_to
            .map(|(region, backup)| {
                format!(
                    "<DBInstanceAutomatedBackupsReplications><DBInstanceAutomatedBackupsReplication>\
                     <DBInstanceAutomatedBackupsArn>arn:aws:rds:{region}:{ACCOUNT}:auto-backup:{backup}\
                     </DBInstanceAutomatedBackupsArn></DBInstanceAutomatedBackupsReplication>\
                     </DBInstanceAutomatedBackupsReplications>"
                )
            })
            .unwrap_or_default();
        format!(
            "<DBInstance><DBInstanceIdentifier>{id}</DBInstanceIdentifier>\
             <DBInstanceArn>arn:aws:rds:{USE1}:{ACCOUNT}:db:{id}</DBInstanceArn>\
             <Engine>postgres</Engine><BackupRetentionPeriod>7</BackupRetentionPeriod>\
             {replications}<TagList/></DBInstance>"
        )
    };
    format!(
        "<DBInstances>{}{}{}{}{}</DBInstances>",
        instance("replicated-db", Some(("eu-central-1", "ab-fresh"))),
        instance("stalled-db", Some(("eu-central-1", "ab-stalled"))),
        instance("gone-db", Some(("us-west-2", "ab-gone"))),
        instance("unreadable-db", Some(("ap-south-1", "ab-denied"))),
        instance("plain-db", None),
    )
}

/// The canned answer to one request: (HTTP status, body).
fn canned_answer(form: &BTreeMap<String, String>) -> (u16, String) {
    let param = |name: &str| form.get(name).map(String::as_str);
    let action = param("Action").unwrap_or_default();
    let body = match action {
        "GetCallerIdentity" => format!(
            "<Arn>arn:aws:iam::{ACCOUNT}:user/auditor</Arn>\
             <UserId>AIDAEXAMPLE</UserId><Account>{ACCOUNT}</Account>"
        ),
        "DescribeDBClusterSnapshots" => {
            let (snapshots, marker) = match (param("SnapshotType"), param("Marker")) {
                (None, None) => (
                    cluster_snapshot_xml("ledger-manual-1", "manual", true),
                    "<Marker>page-2</Marker>",
                ),
                (None, Some("page-2")) => (
                    cluster_snapshot_xml("ledger-manual-2", "manual", false)
                        + &cluster_snapshot_xml("rds:ledger-auto", "automated", true),
                    "",
                ),
                (Some("awsbackup"), None) => (
                    cluster_snapshot_xml("awsbackup:job-1", "awsbackup", true),
                    "",
                ),
                other => panic!("unexpected listing {other:?}"),
            };
            format!("<DBClusterSnapshots>{snapshots}</DBClusterSnapshots>{marker}")
        }
        // A broken paginator: every page names the same next page.
        "DescribeDBClusters" => "<DBClusters></DBClusters><Marker>again</Marker>".to_string(),
        "DescribeDBInstances" => replicated_instances_xml(),
        "DescribeDBSnapshots" => "<DBSnapshots></DBSnapshots>".to_string(),
        "DescribeDBInstanceAutomatedBackups" => {
            let arn = param("DBInstanceAutomatedBackupsArn").unwrap_or_default();
            let hours_behind = match arn.rsplit(':').next() {
                Some("ab-fresh") => 1,
                Some("ab-stalled") => 30,
                Some("ab-gone") => {
                    return (
                        404,
                        rds_error(
                            "DBInstanceAutomatedBackupNotFound",
                            &format!("{arn} is not found"),
                        ),
                    );
                }
                _ => {
                    return (
                        403,
                        rds_error(
                            "AccessDenied",
                            "not authorized to perform: rds:DescribeDBInstanceAutomatedBackups",
                        ),
                    );
                }
            };
            let latest = Timestamp::now() - jiff::SignedDuration::from_hours(hours_behind);
            let latest = latest.strftime("%Y-%m-%dT%H:%M:%SZ");
            format!(
                "<DBInstanceAutomatedBackups><DBInstanceAutomatedBackup>\
                   <DBInstanceArn>arn:aws:rds:{USE1}:{ACCOUNT}:db:x</DBInstanceArn>\
                   <Region>{USE1}</Region>\
                   <RestoreWindow><EarliestTime>2026-01-01T00:00:00Z</EarliestTime>\
                   <LatestTime>{latest}</LatestTime></RestoreWindow>\
                   <Status>replicating</Status>\
                   <DBInstanceAutomatedBackupsArn>{arn}</DBInstanceAutomatedBackupsArn>\
                 </DBInstanceAutomatedBackup></DBInstanceAutomatedBackups>"
            )
        }
        "DescribeDBClusterSnapshotAttributes" => {
            let id = param("DBClusterSnapshotIdentifier").unwrap();
            let restore = match id {
                "ledger-manual-1" => Some(""),
                "ledger-manual-2" => Some("<AttributeValue>all</AttributeValue>"),
                // An answer without the `restore` attribute.
                _ => None,
            };
            let attributes = restore
                .map(|values| {
                    format!(
                        "<DBClusterSnapshotAttribute><AttributeName>restore</AttributeName>\
                         <AttributeValues>{values}</AttributeValues></DBClusterSnapshotAttribute>"
                    )
                })
                .unwrap_or_default();
            format!(
                "<DBClusterSnapshotAttributesResult>\
                 <DBClusterSnapshotIdentifier>{id}</DBClusterSnapshotIdentifier>\
                 <DBClusterSnapshotAttributes>{attributes}</DBClusterSnapshotAttributes>\
                 </DBClusterSnapshotAttributesResult>"
            )
        }
        _ => {
            return (
                400,
                format!(
                    "<ErrorResponse xmlns=\"{RDS_XMLNS}\"><Error><Type>Sender</Type>\
                     <Code>InvalidAction</Code><Message>not canned: {action}</Message>\
                     </Error><RequestId>0</RequestId></ErrorResponse>"
                ),
            );
        }
    };
    (200, query_response(action, &body))
}

/// A stand-in for STS and RDS answering in AWS's documented wire format
/// (query protocol, XML, from [`canned_answer`]), for what the emulator
/// cannot show: it answers DescribeDBClusterSnapshots in one page whatever
/// MaxRecords says, holds no AWS Backup snapshots, and always includes the
/// `restore` attribute.
fn canned_aws() -> Stub {
    Stub::start(None, |request| Some(canned_answer(&request.form())))
}

/// What the emulator cannot show, on canned answers in AWS's wire format:
/// the cluster snapshot listing follows MaxRecords / Marker past the first
/// page, lists AWS Backup's snapshots apart, and an attributes answer
/// without `restore` is an error for that snapshot (rds-snapshot-not-public
/// says `error`, never pass).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_snapshot_listing_pages_and_needs_the_restore_attribute() {
    let aws = canned_aws();
    let options = CollectOptions {
        regions: vec![USE1.to_string()],
        operation_timeout: Duration::from_secs(10),
        plan: Plan::new([
            &ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS,
            &ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES,
        ]),
        ..CollectOptions::default()
    };
    let overrides = SdkOverrides {
        page_size: Some(20),
        ..offline_overrides(aws.endpoint.clone())
    };
    let collected = collect_with(&options, &overrides).await.unwrap();
    let inv = &collected.inventory;

    let listings: Vec<_> = aws
        .forms()
        .iter()
        .filter(|f| f["Action"] == "DescribeDBClusterSnapshots")
        .map(|f| {
            (
                f.get("SnapshotType").cloned(),
                f.get("Marker").cloned(),
                f.get("MaxRecords").cloned(),
            )
        })
        .collect();
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        listings,
        [
            (None, None, some("20")),
            (None, some("page-2"), some("20")),
            (some("awsbackup"), None, some("20")),
        ]
    );
    assert_eq!(
        collected.calls_to(&ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS),
        3
    );
    // The automated snapshot's attributes are not read.
    assert_eq!(
        collected.calls_to(&ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES),
        3
    );

    let ids: Vec<_> = of_kind(inv, schema::DB_SNAPSHOT)
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "awsbackup:job-1",
            "ledger-manual-1",
            "ledger-manual-2",
            "rds:ledger-auto"
        ]
    );
    let second_page = find(inv, schema::DB_SNAPSHOT, USE1, "ledger-manual-2");
    assert_eq!(second_page.get("public"), &Value::Bool(true));
    assert_eq!(second_page.get("encrypted"), &Value::Bool(false));
    let backup = find(inv, schema::DB_SNAPSHOT, USE1, "awsbackup:job-1");
    assert_eq!(backup.get("snapshot_type"), &Value::from("manual"));
    assert_eq!(backup.get("source_kind"), &Value::from("cluster"));
    assert!(backup.get("public").is_unknown());

    let [error] = &inv.errors[..] else {
        panic!("{:#?}", inv.errors)
    };
    assert_eq!(error.operation, "DescribeDBClusterSnapshotAttributes");
    assert_eq!(error.code, "ResponseError");
    assert!(error.message.contains("restore"), "{}", error.message);
    assert_eq!(error.resource_type, schema::DB_SNAPSHOT);
    assert_eq!(error.resource_id.as_deref(), Some("awsbackup:job-1"));
    assert_eq!(error.attributes, ["public", "shared_with"]);

    let report = builtin_engine().audit(inv, Timestamp::now());
    let status = |id: &str| result(&report, "rds-snapshot-not-public", USE1, id).status;
    assert_eq!(status("awsbackup:job-1"), Status::Error);
    assert_eq!(status("ledger-manual-2"), Status::Fail);
    assert_eq!(status("ledger-manual-1"), Status::Pass);
    assert_eq!(status("rds:ledger-auto"), Status::Pass);
}

fn offline_options() -> CollectOptions {
    CollectOptions {
        regions: vec![USE1.to_string()],
        operation_timeout: Duration::from_secs(2),
        ..CollectOptions::default()
    }
}

fn offline_overrides(endpoint: String) -> SdkOverrides {
    SdkOverrides {
        endpoint_url: Some(endpoint),
        credentials: Some(Credentials::new("testing", "testing", None, None, "test")),
        max_attempts: Some(1),
        page_size: None,
    }
}

/// Nothing listens: nothing can be audited, and the message says what to
/// check.
#[tokio::test]
async fn an_unreachable_endpoint_is_a_collect_error() {
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let err = collect_with(&offline_options(), &offline_overrides(endpoint.clone()))
        .await
        .unwrap_err();
    let CollectError::Unreachable { code, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(code, "DispatchFailure");
    let message = err.to_string();
    eprintln!("{message}");
    assert!(message.contains(&endpoint), "{message}");
    assert!(
        !message.contains("ConnectorError {"),
        "no Debug dumps: {message}"
    );
    assert!(message.contains("AWS_ENDPOINT_URL"), "{message}");
}

/// A server that accepts connections and never answers: the attempt
/// timeout ends the call (the SDK has no read timeout of its own).
#[tokio::test]
async fn a_silent_endpoint_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let hold = std::thread::spawn(move || {
        // Keep accepted connections open, unanswered, until the test ends.
        let (connection, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(5));
        drop(connection);
    });
    // The server would close the connection after 5 s, which would be a
    // different error: `Timeout` shows the 2 s limit ended the call.
    let err = collect_with(&offline_options(), &offline_overrides(endpoint))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CollectError::Unreachable { code, .. } if code == "Timeout"),
        "{err:?}"
    );
    drop(hold);
}

/// A profile that does not exist gives no credentials: nothing can be
/// audited, and the message says how to provide them. (The endpoint is a
/// closed local port, so even a credential from the environment could never
/// reach AWS from a test.)
#[tokio::test]
async fn missing_credentials_are_a_collect_error() {
    let options = CollectOptions {
        profile: Some("backstop-test-no-such-profile".to_string()),
        ..offline_options()
    };
    let overrides = SdkOverrides {
        credentials: None,
        ..offline_overrides(format!("http://127.0.0.1:{}", free_port()))
    };
    let err = collect_with(&options, &overrides).await.unwrap_err();
    assert!(matches!(err, CollectError::NoCredentials { .. }), "{err:?}");
    let message = err.to_string();
    eprintln!("{message}");
    assert!(
        message.contains("backstop-test-no-such-profile"),
        "{message}"
    );
    assert!(message.contains("--demo"), "{message}");
}

/// The SDK's paginators stop quietly when a service repeats a continuation
/// token; the listing is then incomplete, so it must be an error, never a
/// short list that looks complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_continuation_token_is_an_error_not_a_short_list() {
    let aws = canned_aws();
    let options = CollectOptions {
        regions: vec![USE1.to_string()],
        operation_timeout: Duration::from_secs(10),
        plan: Plan::new([&ops::RDS_DESCRIBE_DB_CLUSTERS]),
        ..CollectOptions::default()
    };
    let collected = collect_with(&options, &offline_overrides(aws.endpoint.clone()))
        .await
        .unwrap();
    let [error] = &collected.inventory.errors[..] else {
        panic!("{:#?}", collected.inventory.errors)
    };
    assert_eq!(error.operation, "DescribeDBClusters");
    assert_eq!(error.code, "ResponseError");
    assert!(
        error.message.contains("repeated a continuation token"),
        "{}",
        error.message
    );
    assert!(error.is_listing_failure());
    assert_eq!(error.resource_type, schema::DB_CLUSTER);
}

// ---------------------------------------------------------------------------
// JSON-protocol stand-ins

/// moto 5.1.22 does not implement CloudWatch Logs `DescribeAccountPolicies`
/// (it answers HTTP 500 `NotImplementedError`), which every audit reading
/// `subscription_destinations` calls. Collections against moto therefore go
/// through a [`Stub`] that answers it as AWS does for an account without
/// account-level policies (an empty list) and forwards everything else to
/// moto. What the policies do is tested on canned answers below.
fn no_account_policies(moto: &Moto) -> SdkOverrides {
    let stub = Stub::start(Some(moto.endpoint()), |request| {
        (request.target.as_deref() == Some("Logs_20140328.DescribeAccountPolicies"))
            .then(|| (200, r#"{"accountPolicies":[]}"#.to_string()))
    });
    let overrides = SdkOverrides {
        endpoint_url: Some(stub.endpoint.clone()),
        ..moto.overrides()
    };
    // The stub's threads serve until the test process ends.
    overrides
}

async fn collect_moto(moto: &Moto, options: &CollectOptions) -> Collected {
    collect_with(options, &no_account_policies(moto))
        .await
        .unwrap_or_else(|e| panic!("collect against moto failed: {e}"))
}

// ---------------------------------------------------------------------------
// Account-level subscription filter policies (canned: moto does not
// implement PutAccountPolicy / DescribeAccountPolicies)

const CENTRAL: &str = "arn:aws:logs:us-east-1:999999999999:destination:central";
const ARCHIVE: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/archive";
const OWN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/own";

fn subscription_policy(name: &str, destination: &str, criteria: Option<&str>) -> serde_json::Value {
    let mut policy = serde_json::json!({
        "policyName": name,
        "policyType": "SUBSCRIPTION_FILTER_POLICY",
        "policyDocument": serde_json::json!({
            "DestinationArn": destination,
            "FilterPattern": "",
            "Distribution": "Random",
        }).to_string(),
        "scope": "ALL",
        "lastUpdatedTime": 1767225600000_i64,
        "accountId": ACCOUNT,
    });
    if let Some(criteria) = criteria {
        policy["selectionCriteria"] = criteria.into();
    }
    policy
}

/// CloudWatch Logs on canned answers: the groups `/app/api`, `/app/loop`
/// and `/app/own` (only the last has a filter of its own, to OWN), and
/// DescribeAccountPolicies answered by `policies` (status, body) per
/// request body.
fn logs_stub(
    policies: impl Fn(&serde_json::Value) -> (u16, serde_json::Value) + Send + Sync + 'static,
) -> Stub {
    Stub::start(None, move |request| {
        if request.target.is_none() {
            return Some(canned_answer(&request.form()));
        }
        let body = request.json();
        let answer = match request.target.as_deref()? {
            "Logs_20140328.DescribeLogGroups" => (
                200,
                serde_json::json!({
                    "logGroups": (["/app/api", "/app/loop", "/app/own"].map(|name| {
                        let arn = format!("arn:aws:logs:{USE1}:{ACCOUNT}:log-group:{name}");
                        serde_json::json!({
                            "logGroupName": name,
                            "arn": format!("{arn}:*"),
                            "logGroupArn": arn,
                            "retentionInDays": 30,
                            "storedBytes": 0,
                        })
                    }))
                }),
            ),
            "Logs_20140328.DescribeSubscriptionFilters" => {
                let filters = if body["logGroupName"] == "/app/own" {
                    serde_json::json!([{
                        "filterName": "own",
                        "logGroupName": "/app/own",
                        "filterPattern": "",
                        "destinationArn": OWN,
                    }])
                } else {
                    serde_json::json!([])
                };
                (200, serde_json::json!({ "subscriptionFilters": filters }))
            }
            "Logs_20140328.DescribeAccountPolicies" => {
                assert_eq!(body["policyType"], "SUBSCRIPTION_FILTER_POLICY", "{body}");
                policies(&body)
            }
            _ => return None,
        };
        Some((answer.0, answer.1.to_string()))
    })
}

/// What `backstop audit` plans for the log group rules.
fn log_group_plan() -> Plan {
    let mut plan = Plan::default();
    plan.add_type(
        schema::resource_type(schema::LOG_GROUP).unwrap(),
        ["retention_days", "kms_key_id", "subscription_destinations"],
        false,
    );
    plan
}

async fn collect_logs(stub: &Stub) -> Collected {
    let options = CollectOptions {
        regions: vec![USE1.to_string()],
        operation_timeout: Duration::from_secs(10),
        plan: log_group_plan(),
        ..CollectOptions::default()
    };
    collect_with(&options, &offline_overrides(stub.endpoint.clone()))
        .await
        .unwrap()
}

fn destinations(inv: &Inventory, group: &str) -> Value {
    find(inv, schema::LOG_GROUP, USE1, group)
        .get("subscription_destinations")
        .clone()
}

/// Account-level subscription filter policies count as the destinations of
/// every group they cover, across the listing's pages: one without
/// selection criteria covers all groups, one with `LogGroupName NOT IN
/// [...]` all but the named ones. logs-centralized then passes for a group
/// without a filter of its own, and fails for a group no policy covers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_subscription_policies_count_for_the_groups_they_cover() {
    assert!(log_group_plan().needs(&ops::LOGS_DESCRIBE_ACCOUNT_POLICIES));
    // Page 1: everything but /app/loop goes to CENTRAL; page 2: everything
    // goes to ARCHIVE.
    let stub = logs_stub(
        |body| match body.get("nextToken").and_then(|t| t.as_str()) {
            None => (
                200,
                serde_json::json!({
                    "accountPolicies": [subscription_policy(
                        "central",
                        CENTRAL,
                        Some(r#"LogGroupName NOT IN ["/app/loop", "/elsewhere"]"#),
                    )],
                    "nextToken": "page-2",
                }),
            ),
            Some("page-2") => (
                200,
                serde_json::json!({
                    "accountPolicies": [subscription_policy("archive", ARCHIVE, None)],
                }),
            ),
            other => panic!("unexpected token {other:?}"),
        },
    );
    let collected = collect_logs(&stub).await;
    no_errors(&collected);
    let inv = &collected.inventory;
    assert_eq!(collected.calls_to(&ops::LOGS_DESCRIBE_ACCOUNT_POLICIES), 2);
    assert_eq!(
        stub.requests_to("Logs_20140328.DescribeAccountPolicies")
            .len(),
        2
    );
    assert_eq!(destinations(inv, "/app/api"), strs(&[ARCHIVE, CENTRAL]));
    assert_eq!(destinations(inv, "/app/loop"), strs(&[ARCHIVE]));
    assert_eq!(
        destinations(inv, "/app/own"),
        strs(&[ARCHIVE, OWN, CENTRAL])
    );
    let report = builtin_engine().audit(inv, Timestamp::now());
    for group in ["/app/api", "/app/loop", "/app/own"] {
        let r = result(&report, "logs-centralized", USE1, group);
        assert_eq!(r.status, Status::Pass, "{r:#?}");
    }

    // Only the exclusion policy: the excluded group has no destination and
    // fails; a group without a filter of its own passes through the policy.
    let stub = logs_stub(|_| {
        (
            200,
            serde_json::json!({
                "accountPolicies": [subscription_policy(
                    "central",
                    CENTRAL,
                    Some(r#"LogGroupName NOT IN ["/app/loop"]"#),
                )],
            }),
        )
    });
    let collected = collect_logs(&stub).await;
    no_errors(&collected);
    let inv = &collected.inventory;
    assert_eq!(destinations(inv, "/app/api"), strs(&[CENTRAL]));
    assert_eq!(destinations(inv, "/app/loop"), strs(&[]));
    assert_eq!(destinations(inv, "/app/own"), strs(&[OWN, CENTRAL]));
    let report = builtin_engine().audit(inv, Timestamp::now());
    let status = |group: &str| result(&report, "logs-centralized", USE1, group).status;
    assert_eq!(status("/app/api"), Status::Pass);
    assert_eq!(status("/app/loop"), Status::Fail);
    assert_eq!(status("/app/own"), Status::Pass);
}

/// A failed DescribeAccountPolicies, or a policy whose selection criteria
/// cannot be read, leaves every group's destinations unknown in the region:
/// logs-centralized is `error` for each group (even one with a filter of
/// its own), never a guess; the other log rules are still judged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_account_policies_are_errors_never_guesses() {
    let denied = logs_stub(|_| {
        (
            400,
            serde_json::json!({
                "__type": "AccessDeniedException",
                "message": "User is not authorized to perform: logs:DescribeAccountPolicies",
            }),
        )
    });
    let unknown_criteria = logs_stub(|_| {
        (
            200,
            serde_json::json!({
                "accountPolicies": [subscription_policy(
                    "central",
                    CENTRAL,
                    Some(r#"LogGroupNamePrefix IN ["/app"]"#),
                )],
            }),
        )
    });
    for (stub, code, needle) in [
        (
            &denied,
            "AccessDeniedException",
            "logs:DescribeAccountPolicies",
        ),
        (&unknown_criteria, "ResponseError", "LogGroupNamePrefix"),
    ] {
        let collected = collect_logs(stub).await;
        let inv = &collected.inventory;
        let [error] = &inv.errors[..] else {
            panic!("{:#?}", inv.errors)
        };
        assert_eq!(error.operation, "DescribeAccountPolicies");
        assert_eq!(error.service, "logs");
        assert_eq!(error.region, USE1);
        assert_eq!(error.code, code);
        assert!(error.message.contains(needle), "{}", error.message);
        assert_eq!(error.resource_type, schema::LOG_GROUP);
        assert_eq!(error.resource_id, None);
        assert_eq!(error.attributes, ["subscription_destinations"]);
        for group in ["/app/api", "/app/own"] {
            assert!(
                destinations(inv, group).is_unknown(),
                "never a partial list"
            );
        }
        let report = builtin_engine().audit(inv, Timestamp::now());
        for group in ["/app/api", "/app/loop", "/app/own"] {
            let r = result(&report, "logs-centralized", USE1, group);
            assert_eq!(r.status, Status::Error, "{r:#?}");
            assert!(
                r.message.contains("DescribeAccountPolicies"),
                "{}",
                r.message
            );
            let r = result(&report, "logs-retention", USE1, group);
            assert_eq!(r.status, Status::Pass, "{r:#?}");
        }
    }
}

// ---------------------------------------------------------------------------
// ECR pagination (canned: moto ignores maxResults)

fn repository_json(name: &str) -> serde_json::Value {
    serde_json::json!({
        "repositoryName": name,
        "repositoryArn": format!("arn:aws:ecr:{USE1}:{ACCOUNT}:repository/{name}"),
        "registryId": ACCOUNT,
        "repositoryUri": format!("{ACCOUNT}.dkr.ecr.{USE1}.amazonaws.com/{name}"),
        "createdAt": 1767225600.0,
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": { "scanOnPush": true },
        "encryptionConfiguration": { "encryptionType": "AES256" },
    })
}

/// DescribeRepositories follows `nextToken` past the first page (with the
/// page size sent as `maxResults`): every repository of both pages is
/// collected. The caller's identity comes from the canned STS answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecr_repository_listing_follows_next_token() {
    let stub = Stub::start(None, |request| {
        if request.target.is_none() {
            return Some(canned_answer(&request.form()));
        }
        if request.target.as_deref()? != "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"
        {
            return None;
        }
        let body = request.json();
        let page = match body.get("nextToken").and_then(|t| t.as_str()) {
            None => serde_json::json!({
                "repositories": [repository_json("app/api"), repository_json("app/web")],
                "nextToken": "page-2",
            }),
            Some("page-2") => serde_json::json!({
                "repositories": [repository_json("base/image")],
            }),
            other => panic!("unexpected token {other:?}"),
        };
        Some((200, page.to_string()))
    });
    let options = CollectOptions {
        regions: vec![USE1.to_string()],
        operation_timeout: Duration::from_secs(10),
        plan: Plan::new([&ops::ECR_DESCRIBE_REPOSITORIES]),
        ..CollectOptions::default()
    };
    let overrides = SdkOverrides {
        page_size: Some(2),
        ..offline_overrides(stub.endpoint.clone())
    };
    let collected = collect_with(&options, &overrides).await.unwrap();
    no_errors(&collected);
    let inv = &collected.inventory;
    assert_eq!(inv.source.account.as_deref(), Some(ACCOUNT));
    assert_eq!(collected.calls_to(&ops::ECR_DESCRIBE_REPOSITORIES), 2);
    assert_eq!(collected.calls_to(&ops::STS_GET_CALLER_IDENTITY), 1);
    let sent: Vec<_> = stub
        .requests_to("AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
        .iter()
        .map(|r| {
            let body = r.json();
            (body["maxResults"].clone(), body["nextToken"].clone())
        })
        .collect();
    assert_eq!(
        sent,
        [
            (serde_json::json!(2), serde_json::Value::Null),
            (serde_json::json!(2), serde_json::json!("page-2")),
        ]
    );
    let ids: Vec<_> = of_kind(inv, schema::ECR_REPOSITORY)
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids, ["app/api", "app/web", "base/image"]);
    let last = find(inv, schema::ECR_REPOSITORY, USE1, "base/image");
    assert_eq!(last.get("tag_mutability"), &Value::from("IMMUTABLE"));
    assert_eq!(last.get("scan_on_push"), &Value::Bool(true));
    assert_eq!(last.account, ACCOUNT);
}

// ---------------------------------------------------------------------------
// Replication destinations outside the account

const PARTNER_ACCOUNT: &str = "210987654321";

/// An S3 client acting as another account of the same moto (credentials
/// from `sts:AssumeRole` into that account).
async fn s3_of_account(moto: &Moto, account: &str, region: &str) -> aws_sdk_s3::Client {
    let sts = aws_sdk_sts::Client::new(&moto.sdk_config(USE1).await);
    let assumed = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/partner"))
        .role_session_name("seed")
        .send()
        .await
        .unwrap();
    let c = assumed.credentials().unwrap();
    let credentials = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "partner",
    );
    let config = moto.sdk_config_as(region, credentials).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

/// Backup buckets in us-east-1 replicating to: `acme-dr-euw1` (the
/// account's own, eu-west-1), `partner-dr` (another account's,
/// ap-northeast-1) and `deleted-dr` (no such bucket), one source bucket
/// each.
async fn seed_replication_destinations(moto: &Moto) {
    use aws_sdk_s3::types::ReplicationRuleStatus::Enabled;
    let east = Seed::new(moto, USE1).await;
    let west = Seed::new(moto, EUW1).await;
    west.bucket("acme-dr-euw1").await;
    s3_of_account(moto, PARTNER_ACCOUNT, "ap-northeast-1")
        .await
        .create_bucket()
        .bucket("partner-dr")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint("ap-northeast-1".into())
                .build(),
        )
        .send()
        .await
        .unwrap();
    for (source, destination) in [
        ("own-backups", "acme-dr-euw1"),
        ("partner-backups", "partner-dr"),
        ("gone-backups", "deleted-dr"),
    ] {
        east.bucket(source).await;
        east.versioned(source).await;
        east.replicates(source, &[("dr", Enabled, destination)])
            .await;
    }
}

/// What the S3 bucket rules of the pack read, and nothing else.
fn bucket_plan() -> Plan {
    let mut plan = Plan::default();
    plan.add_type(
        schema::resource_type(schema::S3_BUCKET).unwrap(),
        ["replication_rules", "versioning", "lifecycle_rules"],
        false,
    );
    plan
}

fn destination_region_of(inv: &Inventory, bucket: &str) -> Value {
    let Value::List(rules) = find(inv, schema::S3_BUCKET, USE1, bucket).get("replication_rules")
    else {
        panic!("{bucket}: replication_rules not read")
    };
    let [Value::Object(rule)] = &rules[..] else {
        panic!("{rules:?}")
    };
    rule.get("destination_region")
        .cloned()
        .unwrap_or(Value::Null)
}

/// A destination in the account is located from the bucket listing; one in
/// another account with HeadBucket (moto answers it across accounts, with
/// `x-amz-bucket-region`); one that does not exist has no region, which is
/// a fact, not an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_destinations_are_located_with_head_bucket() {
    let moto = Moto::start();
    seed_replication_destinations(&moto).await;
    let mut options = moto.options(&[USE1]);
    options.plan = bucket_plan();
    let collected = moto.collect(&options).await;
    no_errors(&collected);
    let inv = &collected.inventory;
    assert_eq!(destination_region_of(inv, "own-backups"), Value::from(EUW1));
    assert_eq!(
        destination_region_of(inv, "partner-backups"),
        Value::from("ap-northeast-1")
    );
    assert_eq!(destination_region_of(inv, "gone-backups"), Value::Null);
    // Only the two destinations missing from the listing are asked.
    assert_eq!(collected.calls_to(&ops::S3_HEAD_BUCKET), 2);

    let report = builtin_engine().audit(inv, Timestamp::now());
    let status = |id: &str| result(&report, "s3-cross-region-replication", USE1, id).status;
    assert_eq!(status("own-backups"), Status::Pass);
    assert_eq!(status("partner-backups"), Status::Pass);
    assert_eq!(status("gone-backups"), Status::Fail);
}

/// Another account's bucket usually refuses HeadBucket (403), and S3 still
/// names its region in `x-amz-bucket-region`: that resolves it. A refusal
/// without the header, or a server error, leaves the region unknown: a
/// collection error for the source bucket, whose replication verdict is
/// `error`, never pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_head_bucket_still_names_the_region() {
    let moto = Moto::start();
    seed_replication_destinations(&moto).await;
    let east = Seed::new(&moto, USE1).await;
    use aws_sdk_s3::types::ReplicationRuleStatus::Enabled;
    for (source, destination) in [
        ("silent-backups", "silent-dr"),
        ("flaky-backups", "flaky-dr"),
    ] {
        east.bucket(source).await;
        east.versioned(source).await;
        east.replicates(source, &[("dr", Enabled, destination)])
            .await;
    }
    let aws = Stub::start_with_headers(Some(moto.endpoint()), |request| {
        if request.method != "HEAD" {
            return None;
        }
        let bucket = request.path.split('?').next().unwrap_or_default();
        let (status, headers) = match bucket.trim_matches('/') {
            "partner-dr" => (
                403,
                vec![(
                    "x-amz-bucket-region".to_string(),
                    "ap-northeast-1".to_string(),
                )],
            ),
            "silent-dr" => (403, vec![]),
            "flaky-dr" => (500, vec![]),
            _ => return None,
        };
        Some(StubResponse {
            status,
            headers,
            body: String::new(),
        })
    });
    let mut options = moto.options(&[USE1]);
    options.plan = bucket_plan();
    let overrides = SdkOverrides {
        endpoint_url: Some(aws.endpoint.clone()),
        ..moto.overrides()
    };
    let collected = collect_with(&options, &overrides).await.unwrap();
    let inv = &collected.inventory;
    assert_eq!(
        destination_region_of(inv, "partner-backups"),
        Value::from("ap-northeast-1")
    );
    assert_eq!(destination_region_of(inv, "own-backups"), Value::from(EUW1));

    let errors = errors_for(inv, "HeadBucket");
    let sources: Vec<_> = errors
        .iter()
        .map(|e| e.resource_id.as_deref().unwrap())
        .collect();
    assert_eq!(sources, ["flaky-backups", "silent-backups"], "{errors:#?}");
    for e in &errors {
        assert_eq!(e.resource_type, schema::S3_BUCKET);
        assert_eq!(e.region, USE1);
        assert_eq!(e.attributes, ["replication_rules"]);
        assert!(e.message.contains("could not be resolved"), "{}", e.message);
    }
    assert_eq!(inv.errors.len(), 2, "{:#?}", inv.errors);

    let report = builtin_engine().audit(inv, Timestamp::now());
    let status = |id: &str| result(&report, "s3-cross-region-replication", USE1, id).status;
    assert_eq!(status("partner-backups"), Status::Pass);
    assert_eq!(status("own-backups"), Status::Pass);
    assert_eq!(status("silent-backups"), Status::Error);
    assert_eq!(status("flaky-backups"), Status::Error);
    assert_eq!(status("gone-backups"), Status::Fail);
    // The bucket's other facts were read.
    assert_eq!(
        result(&report, "s3-versioning", USE1, "silent-backups").status,
        Status::Pass
    );
}

// ---------------------------------------------------------------------------
// Replicated automated backups (not implemented by the emulator)

/// Replicated automated backups count only while the region holding them
/// can restore to a recent point: each replication is read in its own
/// region (DescribeDBInstanceAutomatedBackups, RestoreWindow.LatestTime),
/// judged with `max_copy_age`. Backups not found there are a fact (fail);
/// a refused read is an error for that instance only, never a pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicated_backups_must_be_recent_in_the_region_holding_them() {
    let aws = canned_aws();
    let mut plan = Plan::default();
    plan.add_type(
        schema::resource_type(schema::DB_INSTANCE).unwrap(),
        [
            "backup_replications",
            "cross_region_copy_time",
            "aws_backup_cross_region_copy_time",
        ],
        false,
    );
    let options = CollectOptions {
        regions: vec![USE1.to_string()],
        operation_timeout: Duration::from_secs(10),
        plan,
        ..CollectOptions::default()
    };
    let collected = collect_with(&options, &offline_overrides(aws.endpoint.clone()))
        .await
        .unwrap();
    let inv = &collected.inventory;

    // One call per replication, asking for exactly that replication, in
    // the region holding it.
    let asked: Vec<String> = aws
        .requests()
        .iter()
        .filter(|r| r.target.is_none())
        .filter(|r| {
            r.form().get("Action").map(String::as_str) == Some("DescribeDBInstanceAutomatedBackups")
        })
        .map(|r| {
            let arn = r.form()["DBInstanceAutomatedBackupsArn"].clone();
            let signed_for = r.signing_region().unwrap();
            assert_eq!(Some(signed_for.as_str()), arn.split(':').nth(3), "{arn}");
            arn
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        asked,
        [
            ("ap-south-1", "ab-denied"),
            ("eu-central-1", "ab-fresh"),
            ("eu-central-1", "ab-stalled"),
            ("us-west-2", "ab-gone"),
        ]
        .map(|(r, b)| format!("arn:aws:rds:{r}:{ACCOUNT}:auto-backup:{b}"))
    );
    assert_eq!(
        collected.calls_to(&ops::RDS_DESCRIBE_DB_INSTANCE_AUTOMATED_BACKUPS),
        4
    );

    let replications =
        |id: &str| find(inv, schema::DB_INSTANCE, USE1, id).get("backup_replications");
    let Value::List(fresh) = replications("replicated-db") else {
        panic!("{:?}", replications("replicated-db"))
    };
    let [Value::Object(fresh)] = &fresh[..] else {
        panic!("{fresh:?}")
    };
    assert_eq!(fresh["region"], Value::from("eu-central-1"));
    assert_eq!(fresh["status"], Value::from("replicating"));
    assert!(matches!(fresh["latest_restorable_time"], Value::Time(_)));
    assert_eq!(
        replications("gone-db"),
        &Value::List(vec![obj(&[
            ("region", "us-west-2".into()),
            ("latest_restorable_time", Value::Null),
            ("status", Value::Null),
        ])])
    );
    assert_eq!(replications("plain-db"), &Value::List(vec![]));
    assert!(replications("unreadable-db").is_unknown());

    let [error] = &inv.errors[..] else {
        panic!("{:#?}", inv.errors)
    };
    assert_eq!(error.operation, "DescribeDBInstanceAutomatedBackups");
    assert_eq!(error.code, "AccessDenied");
    assert_eq!(error.region, USE1);
    assert_eq!(error.resource_type, schema::DB_INSTANCE);
    assert_eq!(error.resource_id.as_deref(), Some("unreadable-db"));
    assert_eq!(error.attributes, ["backup_replications"]);
    assert!(error.message.contains("ap-south-1"), "{}", error.message);

    let report = builtin_engine().audit(inv, Timestamp::now());
    let status = |id: &str| result(&report, "rds-cross-region-backups", USE1, id).status;
    assert_eq!(status("replicated-db"), Status::Pass);
    assert_eq!(status("stalled-db"), Status::Fail);
    assert_eq!(status("gone-db"), Status::Fail);
    assert_eq!(status("plain-db"), Status::Fail);
    assert_eq!(status("unreadable-db"), Status::Error);
    // The other facts of the unreadable instance were read.
    assert_eq!(
        result(&report, "rds-backup-retention", USE1, "unreadable-db").status,
        Status::Pass
    );
}

// ---------------------------------------------------------------------------
// Snapshot copies in regions nobody audits

const USW2: &str = "us-west-2";

/// `orders` in us-east-1 with a snapshot copied to us-west-2, a region
/// that is not audited; `lonely` with no copy anywhere.
async fn seed_copy_elsewhere(moto: &Moto) {
    let east = Seed::new(moto, USE1).await;
    let oregon = Seed::new(moto, USW2).await;
    let key = east.key().await;
    let oregon_key = oregon.key().await;
    east.compliant_instance("orders", &key, &oregon, &oregon_key)
        .await;
    east.instance("lonely").send().await.unwrap();
}

fn copy_options(copy_regions: CopyRegions) -> CollectOptions {
    let mut plan = Plan::default();
    plan.add_type(
        schema::resource_type(schema::DB_INSTANCE).unwrap(),
        [
            "cross_region_copy_time",
            "aws_backup_cross_region_copy_time",
            "backup_replications",
            "cluster_id",
        ],
        false,
    );
    plan.copy_regions = copy_regions;
    CollectOptions {
        regions: vec![USE1.to_string()],
        operation_timeout: Duration::from_secs(20),
        plan,
        ..CollectOptions::default()
    }
}

fn copy_status(inv: &Inventory, id: &str) -> Status {
    let report = builtin_engine().audit(inv, Timestamp::now());
    result(&report, "rds-cross-region-backups", USE1, id).status
}

/// A copy in a region named by `copy_regions` counts; the snapshots found
/// there only feed cross_region_copy_time, they are no resources of the
/// inventory. Without the region, the copy is not seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_are_found_in_copy_regions_that_are_not_audited() {
    let moto = Moto::start();
    seed_copy_elsewhere(&moto).await;

    let named = CopyRegions::Also([USW2.to_string()].into());
    let collected = moto.collect(&copy_options(named)).await;
    no_errors(&collected);
    let inv = &collected.inventory;
    let orders = find(inv, schema::DB_INSTANCE, USE1, "orders");
    assert!(
        matches!(orders.get("cross_region_copy_time"), Value::Time(_)),
        "{orders:#?}"
    );
    assert!(
        find(inv, schema::DB_INSTANCE, USE1, "lonely")
            .get("cross_region_copy_time")
            .is_null()
    );
    assert!(
        inv.resources.iter().all(|r| r.region == USE1),
        "nothing of us-west-2 is audited"
    );
    // Two listings (all types, then AWS Backup's) per region.
    assert_eq!(collected.calls_to(&ops::RDS_DESCRIBE_DB_SNAPSHOTS), 4);
    assert_eq!(collected.calls_to(&ops::RDS_DESCRIBE_SOURCE_REGIONS), 0);
    assert_eq!(copy_status(inv, "orders"), Status::Pass);
    assert_eq!(copy_status(inv, "lonely"), Status::Fail);

    // The audited regions only: the copy is not seen.
    let collected = moto.collect(&copy_options(CopyRegions::Audited)).await;
    no_errors(&collected);
    assert!(
        find(&collected.inventory, schema::DB_INSTANCE, USE1, "orders")
            .get("cross_region_copy_time")
            .is_null()
    );
}

/// What the stand-in answers for the regions RDS can copy between, and for
/// snapshot listings in regions the test breaks.
struct CopyRegionAnswers {
    source_regions: Result<&'static [&'static str], (u16, &'static str)>,
    /// Region → (status, error code) of its DescribeDBSnapshots.
    broken: &'static [(&'static str, u16, &'static str)],
}

fn copy_region_stub(moto: &Moto, answers: CopyRegionAnswers) -> Stub {
    Stub::start(Some(moto.endpoint()), move |request| {
        if request.target.is_some() || !request.body.starts_with("Action=") {
            return None;
        }
        let form = request.form();
        match form["Action"].as_str() {
            "DescribeSourceRegions" => Some(match answers.source_regions {
                Ok(regions) => {
                    let listed: String = regions
                        .iter()
                        .map(|r| {
                            format!(
                                "<SourceRegion><RegionName>{r}</RegionName>\
                                 <Endpoint>https://rds.{r}.amazonaws.com</Endpoint>\
                                 <Status>available</Status></SourceRegion>"
                            )
                        })
                        .collect();
                    (
                        200,
                        query_response(
                            "DescribeSourceRegions",
                            &format!("<SourceRegions>{listed}</SourceRegions>"),
                        ),
                    )
                }
                Err((status, code)) => (status, rds_error(code, "canned failure")),
            }),
            "DescribeDBSnapshots" => {
                let region = request.signing_region()?;
                answers
                    .broken
                    .iter()
                    .find(|(r, _, _)| *r == region)
                    .map(|(_, status, code)| {
                        (
                            *status,
                            rds_error(code, &format!("canned failure in {region}")),
                        )
                    })
            }
            _ => None,
        }
    })
}

async fn collect_through(moto: &Moto, stub: &Stub, copy_regions: CopyRegions) -> Collected {
    let overrides = SdkOverrides {
        endpoint_url: Some(stub.endpoint.clone()),
        ..moto.overrides()
    };
    collect_with(&copy_options(copy_regions), &overrides)
        .await
        .unwrap()
}

/// By default copies are looked for in every region RDS can copy snapshots
/// between (DescribeSourceRegions, which the emulator lacks: canned here,
/// everything else is the emulator's). A region the account has not
/// enabled is skipped; one that cannot be listed, or a failed
/// DescribeSourceRegions, makes the instances' results `error`, never pass
/// and never a silent fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_copies_are_looked_for_in_every_region() {
    let moto = Moto::start();
    seed_copy_elsewhere(&moto).await;

    // 1. Found in us-west-2; ap-east-1 is not enabled for the account.
    let stub = copy_region_stub(
        &moto,
        CopyRegionAnswers {
            source_regions: Ok(&[USW2, "ap-east-1", "eu-central-1"]),
            broken: &[("ap-east-1", 403, "InvalidClientTokenId")],
        },
    );
    let collected = collect_through(&moto, &stub, CopyRegions::Enabled).await;
    no_errors(&collected);
    let inv = &collected.inventory;
    assert_eq!(collected.calls_to(&ops::RDS_DESCRIBE_SOURCE_REGIONS), 1);
    let listed_in: std::collections::BTreeSet<String> = stub
        .requests()
        .iter()
        .filter(|r| r.body.starts_with("Action=DescribeDBSnapshots"))
        .filter_map(|r| r.signing_region())
        .collect();
    assert_eq!(
        listed_in,
        [USE1, USW2, "ap-east-1", "eu-central-1"]
            .map(str::to_string)
            .into()
    );
    assert!(matches!(
        find(inv, schema::DB_INSTANCE, USE1, "orders").get("cross_region_copy_time"),
        Value::Time(_)
    ));
    assert_eq!(copy_status(inv, "orders"), Status::Pass);
    assert_eq!(copy_status(inv, "lonely"), Status::Fail);

    // 2. eu-central-1 cannot be listed: a copy might be there.
    let stub = copy_region_stub(
        &moto,
        CopyRegionAnswers {
            source_regions: Ok(&[USW2, "eu-central-1"]),
            broken: &[("eu-central-1", 403, "AccessDenied")],
        },
    );
    let collected = collect_through(&moto, &stub, CopyRegions::Enabled).await;
    let inv = &collected.inventory;
    let [error] = &inv.errors[..] else {
        panic!("{:#?}", inv.errors)
    };
    assert_eq!(error.operation, "DescribeDBSnapshots");
    assert_eq!(error.code, "AccessDenied");
    assert_eq!(
        error.region, USE1,
        "the audited region whose instances it affects"
    );
    assert_eq!(error.resource_type, schema::DB_INSTANCE);
    assert_eq!(error.attributes, ["cross_region_copy_time"]);
    assert!(error.message.contains("eu-central-1"), "{}", error.message);
    assert_eq!(copy_status(inv, "orders"), Status::Error);
    assert_eq!(copy_status(inv, "lonely"), Status::Error);

    // 3. A region named in copy_regions must be searchable, even one that
    // says it is not enabled.
    let stub = copy_region_stub(
        &moto,
        CopyRegionAnswers {
            source_regions: Ok(&[]),
            broken: &[("ap-east-1", 403, "InvalidClientTokenId")],
        },
    );
    let named = CopyRegions::Also(["ap-east-1".to_string(), USW2.to_string()].into());
    let collected = collect_through(&moto, &stub, named).await;
    let inv = &collected.inventory;
    let [error] = &inv.errors[..] else {
        panic!("{:#?}", inv.errors)
    };
    assert_eq!(error.code, "InvalidClientTokenId");
    assert!(error.message.contains("ap-east-1"), "{}", error.message);
    assert_eq!(collected.calls_to(&ops::RDS_DESCRIBE_SOURCE_REGIONS), 0);
    assert_eq!(copy_status(inv, "lonely"), Status::Error);

    // 4. The regions themselves cannot be listed.
    let stub = copy_region_stub(
        &moto,
        CopyRegionAnswers {
            source_regions: Err((403, "AccessDenied")),
            broken: &[],
        },
    );
    let collected = collect_through(&moto, &stub, CopyRegions::Enabled).await;
    let inv = &collected.inventory;
    let [error] = &inv.errors[..] else {
        panic!("{:#?}", inv.errors)
    };
    assert_eq!(error.operation, "DescribeSourceRegions");
    assert_eq!(error.region, USE1);
    assert_eq!(error.resource_type, schema::DB_INSTANCE);
    assert_eq!(error.attributes, ["cross_region_copy_time"]);
    assert_eq!(copy_status(inv, "orders"), Status::Error);
    assert_eq!(copy_status(inv, "lonely"), Status::Error);
    // Judged on what was read: the instances' other facts.
    let report = builtin_engine().audit(inv, Timestamp::now());
    assert_eq!(
        result(&report, "rds-backup-retention", USE1, "orders").status,
        Status::Pass
    );
}

/// Issue row: a backup bucket whose only lifecycle rule covers `tmp/`, or
/// is narrowed by a tag, does not pass
/// s3-lifecycle-expiration; a whole-bucket rule does (with noncurrent
/// expiration, as the buckets are versioned).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_whole_bucket_lifecycle_rules_expire_backups() {
    use aws_sdk_s3::types::{
        ExpirationStatus::Enabled, LifecycleRuleAndOperator, LifecycleRuleFilter,
        NoncurrentVersionExpiration, Tag,
    };
    let moto = Moto::start();
    let east = Seed::new(&moto, USE1).await;
    let noncurrent = || {
        NoncurrentVersionExpiration::builder()
            .noncurrent_days(30)
            .build()
    };
    let tag = || Tag::builder().key("kind").value("db").build().unwrap();
    let filters = [
        (
            "whole-backups",
            LifecycleRuleFilter::builder().prefix("").build(),
        ),
        (
            "tmp-backups",
            LifecycleRuleFilter::builder().prefix("tmp/").build(),
        ),
        (
            "tagged-backups",
            LifecycleRuleFilter::builder().tag(tag()).build(),
        ),
        (
            "and-tagged-backups",
            LifecycleRuleFilter::builder()
                .and(
                    LifecycleRuleAndOperator::builder()
                        .prefix("")
                        .tags(tag())
                        .build(),
                )
                .build(),
        ),
    ];
    for (bucket, filter) in filters {
        east.bucket(bucket).await;
        east.versioned(bucket).await;
        east.lifecycle(
            bucket,
            [expiry_rule("expire", Enabled, "", 30)
                .filter(filter)
                .noncurrent_version_expiration(noncurrent())],
        )
        .await;
    }
    let mut options = moto.options(&[USE1]);
    options.plan = bucket_plan();
    let collected = moto.collect(&options).await;
    no_errors(&collected);
    let inv = &collected.inventory;
    let prefix = |bucket: &str| {
        let Value::List(rules) = find(inv, schema::S3_BUCKET, USE1, bucket).get("lifecycle_rules")
        else {
            panic!("{bucket}: lifecycle_rules not read")
        };
        let [Value::Object(rule)] = &rules[..] else {
            panic!("{rules:?}")
        };
        rule.get("prefix").cloned().unwrap_or(Value::Null)
    };
    assert_eq!(prefix("whole-backups"), Value::from(""));
    assert_eq!(prefix("tmp-backups"), Value::from("tmp/"));
    // (moto drops object-size filters from lifecycle rules; their mapping is
    // tested on SDK-built rules in src/collect/s3.rs.)
    for narrowed in ["tagged-backups", "and-tagged-backups"] {
        assert!(prefix(narrowed).is_null(), "{narrowed}");
    }

    let report = builtin_engine().audit(inv, Timestamp::now());
    let status = |id: &str| result(&report, "s3-lifecycle-expiration", USE1, id).status;
    assert_eq!(status("whole-backups"), Status::Pass);
    for partial in ["tmp-backups", "tagged-backups", "and-tagged-backups"] {
        assert_eq!(status(partial), Status::Fail, "{partial}");
    }
}

// ---------------------------------------------------------------------------
// Secrets Manager (all against moto, which implements what is read here:
// ListSecrets with IncludePlannedDeletion, DescribeSecret with
// ReplicationStatus, a replica listed in its own region with PrimaryRegion)

/// In us-east-1: `app/db` (a customer key, replicated to eu-west-1 and to
/// us-west-2, which is not audited), `app/plain` (not replicated),
/// `app/retired` (scheduled for deletion) and `eu/clash`, whose replication
/// to eu-west-1 fails: a secret of that name already lives there.
async fn seed_secrets(moto: &Moto, key: &str) {
    let east = secrets_client(moto, USE1).await;
    let west = secrets_client(moto, EUW1).await;
    secret(&east, "app/db", "app", Some(key), &[EUW1, "us-west-2"]).await;
    secret(&east, "app/plain", "app", None, &[]).await;
    secret(&east, "app/retired", "ops", None, &[]).await;
    schedule_deletion(&east, "app/retired").await;
    secret(&west, "eu/clash", "eu", None, &[]).await;
    secret(&east, "eu/clash", "app", None, &[EUW1]).await;
}

fn secret_plan() -> Plan {
    Plan::new([&ops::SECRETS_LIST_SECRETS, &ops::SECRETS_DESCRIBE_SECRET])
}

fn replica(region: &str, status: &str, message: &str) -> Value {
    obj(&[
        ("region", Value::from(region)),
        ("status", Value::from(status)),
        ("status_message", Value::from(message)),
    ])
}

/// Every secret of the audited regions is read, scheduled deletions and
/// replicas included; only an in-sync replica counts as one; a replica is
/// left to its primary by the replication rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_collected_with_their_replicas_and_scheduled_deletions() {
    let moto = Moto::start();
    let started = Timestamp::now();
    let key = Seed::new(&moto, USE1).await.key().await;
    seed_secrets(&moto, &key).await;
    let mut options = moto.options(REGIONS);
    options.plan = secret_plan();
    let collected = moto.collect(&options).await;
    no_errors(&collected);
    let inv = &collected.inventory;

    let db = find(inv, schema::SECRET, USE1, "app/db");
    assert!(
        db.arn.starts_with(&format!(
            "arn:aws:secretsmanager:{USE1}:{ACCOUNT}:secret:app/db-"
        )),
        "{}",
        db.arn
    );
    assert_eq!(db.tags["team"], "app");
    assert_eq!(db.get("name"), &Value::from("app/db"));
    assert_eq!(db.get("kms_key_id"), &Value::from(key.as_str()));
    assert_eq!(db.get("primary_region"), &Value::from(USE1));
    assert_eq!(db.get("replica_regions"), &strs(&[EUW1, "us-west-2"]));
    assert_eq!(
        db.get("replicas"),
        &Value::List(vec![
            replica(EUW1, "InSync", "Replication succeeded"),
            replica("us-west-2", "InSync", "Replication succeeded"),
        ])
    );
    assert!(db.get("deleted_date").is_null());
    assert_eq!(db.get("rotation_enabled"), &Value::Bool(false));

    let plain = find(inv, schema::SECRET, USE1, "app/plain");
    assert!(plain.get("kms_key_id").is_null(), "the AWS managed key");
    assert_eq!(plain.get("replica_regions"), &strs(&[]));
    assert_eq!(plain.get("replicas"), &Value::List(vec![]));

    let retired = find(inv, schema::SECRET, USE1, "app/retired");
    assert_eq!(retired.tags["team"], "ops");
    match retired.get("deleted_date") {
        // The emulator keeps whole seconds.
        Value::Time(t) => assert!(
            t.as_second() >= started.as_second(),
            "{t} is before {started}"
        ),
        other => panic!("deleted_date is {other:?}"),
    }

    let clash = find(inv, schema::SECRET, USE1, "eu/clash");
    assert_eq!(clash.get("replica_regions"), &strs(&[]), "a failed replica");
    match clash.get("replicas").as_list() {
        Some([Value::Object(failed)]) => {
            assert_eq!(failed["region"], Value::from(EUW1));
            assert_eq!(failed["status"], Value::from("Failed"));
        }
        other => panic!("replicas of eu/clash: {other:?}"),
    }

    // eu-west-1 lists the replica of app/db (its primary in us-east-1) and
    // its own eu/clash; us-west-2 is not audited.
    let copy = find(inv, schema::SECRET, EUW1, "app/db");
    assert!(copy.arn.contains(&format!(":{EUW1}:")), "{}", copy.arn);
    assert_eq!(copy.get("primary_region"), &Value::from(USE1));
    assert_eq!(copy.tags["team"], "app");
    let own = find(inv, schema::SECRET, EUW1, "eu/clash");
    assert_eq!(own.get("primary_region"), &Value::from(EUW1));
    assert_eq!(own.tags["team"], "eu");
    assert_eq!(of_kind(inv, schema::SECRET).len(), 6);

    // One listing page per region, one DescribeSecret per secret.
    assert_eq!(collected.calls_to(&ops::SECRETS_LIST_SECRETS), 2);
    assert_eq!(collected.calls_to(&ops::SECRETS_DESCRIBE_SECRET), 6);

    let report = builtin_engine().audit(inv, Timestamp::now());
    let replicated = |region, id| result(&report, "secrets-cross-region-replica", region, id);
    assert_eq!(replicated(USE1, "app/db").status, Status::Pass);
    for (region, id) in [
        (USE1, "app/plain"),
        (USE1, "app/retired"),
        (USE1, "eu/clash"),
        (EUW1, "eu/clash"),
    ] {
        let r = replicated(region, id);
        assert_eq!(r.status, Status::Fail, "{r:#?}");
        assert!(r.message.contains("replica_regions is []"), "{}", r.message);
    }
    assert!(
        !report
            .results
            .iter()
            .any(|f| f.rule == "secrets-cross-region-replica"
                && f.resource.region == EUW1
                && f.resource.id == "app/db"),
        "a replica is judged through its primary"
    );
    let pending = |region, id| result(&report, "secrets-not-pending-deletion", region, id);
    let r = pending(USE1, "app/retired");
    assert_eq!(r.status, Status::Fail, "{r:#?}");
    assert!(r.message.starts_with("deleted_date is "), "{}", r.message);
    for (region, id) in [(USE1, "app/db"), (EUW1, "app/db"), (EUW1, "eu/clash")] {
        assert_eq!(pending(region, id).status, Status::Pass);
    }
}

/// The listing is read to its last page, and a plan that reads no replica
/// makes no DescribeSecret call (the replicas stay unknown, never `[]`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_listing_pages_and_describe_secret_follows_the_plan() {
    let moto = Moto::start();
    let key = Seed::new(&moto, USE1).await.key().await;
    seed_secrets(&moto, &key).await;
    let secret_kind = schema::resource_type(schema::SECRET).unwrap();
    let mut plan = Plan::default();
    plan.add_type(secret_kind, ["deleted_date"], false);
    let mut options = moto.options(REGIONS);
    options.plan = plan;
    let overrides = SdkOverrides {
        page_size: Some(1),
        ..moto.overrides()
    };
    let collected = collect_with(&options, &overrides).await.unwrap();
    no_errors(&collected);
    let inv = &collected.inventory;
    // Four secrets in us-east-1 and two in eu-west-1, one per page.
    assert_eq!(collected.calls_to(&ops::SECRETS_LIST_SECRETS), 6);
    assert_eq!(collected.calls_to(&ops::SECRETS_DESCRIBE_SECRET), 0);
    assert_eq!(of_kind(inv, schema::SECRET).len(), 6);
    let retired = find(inv, schema::SECRET, USE1, "app/retired");
    assert!(matches!(retired.get("deleted_date"), Value::Time(_)));
    let db = find(inv, schema::SECRET, USE1, "app/db");
    assert!(db.get("replica_regions").is_unknown());
    assert!(db.get("replicas").is_unknown());
}

/// A denied DescribeSecret leaves each secret's replicas unknown (a detail
/// error naming them: the replication rule reports `error`, the deletion
/// rule still judges); a denied ListSecrets is a listing failure per
/// region, and both rules report `error` there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_secret_calls_are_errors_never_passes() {
    let moto = Moto::start();
    let key = Seed::new(&moto, USE1).await.key().await;
    seed_secrets(&moto, &key).await;
    let deny = |action: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":"*","Resource":"*"}},
                {{"Effect":"Deny","Action":"{action}","Resource":"*"}}]}}"#
        )
    };
    let no_details = moto.iam_user("no-details", &deny("secretsmanager:DescribeSecret"));
    let no_listing = moto.iam_user("no-listing", &deny("secretsmanager:ListSecrets"));
    moto.enforce_iam();
    let mut options = moto.options(REGIONS);
    options.plan = secret_plan();
    let collect_as = |credentials: Credentials| {
        let overrides = SdkOverrides {
            credentials: Some(credentials),
            ..moto.overrides()
        };
        let options = options.clone();
        async move { collect_with(&options, &overrides).await.unwrap() }
    };
    let engine = builtin_engine();
    let now = Timestamp::now();

    // 1. Every secret is listed; none of their replicas is known.
    let collected = collect_as(no_details).await;
    let inv = &collected.inventory;
    assert_eq!(of_kind(inv, schema::SECRET).len(), 6);
    assert_eq!(inv.errors.len(), 6, "{:#?}", inv.errors);
    for e in &inv.errors {
        assert_eq!(e.service, "secretsmanager");
        assert_eq!(e.operation, "DescribeSecret");
        assert_eq!(e.resource_type, schema::SECRET);
        assert!(e.resource_id.is_some(), "{e:#?}");
        assert_eq!(e.attributes, ["replica_regions", "replicas"]);
        assert!(
            e.message.contains("secretsmanager:DescribeSecret"),
            "{}",
            e.message
        );
    }
    let db = find(inv, schema::SECRET, USE1, "app/db");
    assert!(db.get("replica_regions").is_unknown(), "never a false []");
    let report = engine.audit(inv, now);
    let r = result(&report, "secrets-cross-region-replica", USE1, "app/plain");
    assert_eq!(r.status, Status::Error, "{r:#?}");
    assert!(r.message.contains("DescribeSecret"), "{}", r.message);
    let r = result(&report, "secrets-not-pending-deletion", USE1, "app/retired");
    assert_eq!(r.status, Status::Fail, "judged, not an error: {r:#?}");

    // 2. Nothing can be listed in either region.
    let collected = collect_as(no_listing).await;
    let inv = &collected.inventory;
    assert!(of_kind(inv, schema::SECRET).is_empty());
    let regions: Vec<_> = inv.errors.iter().map(|e| e.region.as_str()).collect();
    assert_eq!(regions, [EUW1, USE1], "{:#?}", inv.errors);
    for e in &inv.errors {
        assert!(e.is_listing_failure(), "{e:#?}");
        assert_eq!(e.operation, "ListSecrets");
        assert!(
            e.message.contains("secretsmanager:ListSecrets"),
            "{}",
            e.message
        );
    }
    assert_eq!(collected.calls_to(&ops::SECRETS_DESCRIBE_SECRET), 0);
    let report = engine.audit(inv, now);
    for rule in [
        "secrets-cross-region-replica",
        "secrets-not-pending-deletion",
    ] {
        for region in REGIONS {
            let r = result(&report, rule, region, "*");
            assert_eq!(r.status, Status::Error, "{r:#?}");
            assert!(r.message.contains("ListSecrets"), "{}", r.message);
        }
    }
}

// ---------------------------------------------------------------------------
// AWS Backup plans and vaults. moto implements plans (rules, CopyActions,
// lifecycle), vaults and vault lock; it does not implement backup
// selections (ListBackupSelections answers HTTP 500), so selections and
// what they assign are tested on recorded AWS wire-format answers (a Stub in
// front of moto), below.

fn backup_plan_and_vault_plan(plan_attributes: &[&str]) -> Plan {
    let mut plan = Plan::default();
    plan.add_type(
        schema::resource_type(schema::BACKUP_PLAN).unwrap(),
        plan_attributes.iter().copied(),
        false,
    );
    let vault = schema::resource_type(schema::BACKUP_VAULT).unwrap();
    plan.add_type(vault, vault.attributes.iter().map(|a| a.name), false);
    plan
}

/// Plans with their rules (schedule, frequency, retention, copies) and
/// vaults with their key, key manager and vault lock, read from moto.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_plans_and_vaults_are_collected() {
    let moto = Moto::start();
    let east = BackupSeed::new(&moto, USE1).await;
    let west = BackupSeed::new(&moto, EUW1).await;
    let key = Seed::new(&moto, USE1).await.key().await;
    east.vault("locked", Some(&key), Some(7)).await;
    east.vault("open", None, None).await;
    let dr = west.vault("dr", None, None).await;
    let daily = east
        .plan("daily", "cron(0 5 ? * * *)", "locked", 35, Some(&dr))
        .await;
    let weekly = east
        .plan("weekly", "cron(0 5 ? * 1 *)", "open", 3, None)
        .await;

    let mut options = moto.options(REGIONS);
    options.plan = backup_plan_and_vault_plan(&["name", "rules"]);
    let collected = moto.collect(&options).await;
    no_errors(&collected);
    assert_eq!(collected.calls_to(&ops::BACKUP_LIST_BACKUP_SELECTIONS), 0);
    let inv = &collected.inventory;

    let plan = find(inv, schema::BACKUP_PLAN, USE1, &daily);
    assert_eq!(plan.get("name"), &Value::from("daily"));
    assert!(plan.arn.contains(":backup-plan:"), "{}", plan.arn);
    assert_eq!(
        plan.get("rules"),
        &Value::List(vec![obj(&[
            (
                "copy_destinations",
                Value::List(vec![obj(&[
                    ("account", Value::from(ACCOUNT)),
                    ("region", Value::from(EUW1)),
                    ("retention_days", Value::Int(35)),
                    ("vault_arn", Value::from(dr.as_str())),
                ])]),
            ),
            ("frequency_hours", Value::Int(24)),
            ("name", Value::from("daily-rule")),
            ("retention_days", Value::Int(35)),
            ("schedule_expression", Value::from("cron(0 5 ? * * *)")),
            ("target_vault", Value::from("locked")),
        ])])
    );
    // Not planned: left unknown, not "no selections".
    assert!(plan.get("has_selections").is_unknown());
    let Value::List(rules) = find(inv, schema::BACKUP_PLAN, USE1, &weekly).get("rules") else {
        panic!("weekly rules")
    };
    let Value::Object(rule) = &rules[0] else {
        panic!("{rules:?}")
    };
    assert_eq!(rule["frequency_hours"], Value::Int(168));
    assert_eq!(rule["copy_destinations"], Value::List(vec![]));

    let locked = find(inv, schema::BACKUP_VAULT, USE1, "locked");
    assert_eq!(locked.get("encryption_key_arn"), &Value::from(key.as_str()));
    // moto reports every key as CUSTOMER-managed.
    assert_eq!(locked.get("kms_key_managed_by"), &Value::from("CUSTOMER"));
    assert_eq!(locked.get("locked"), &Value::Bool(true));
    assert_eq!(locked.get("lock_min_retention_days"), &Value::Int(7));
    assert_eq!(locked.get("lock_max_retention_days"), &Value::Int(365));
    assert_eq!(locked.get("recovery_points"), &Value::Int(0));
    let open = find(inv, schema::BACKUP_VAULT, USE1, "open");
    assert_eq!(open.get("locked"), &Value::Bool(false));
    assert_eq!(open.get("lock_min_retention_days"), &Value::Null);
    find(inv, schema::BACKUP_VAULT, EUW1, "dr");

    // The vault rules judge them: locked passes, open fails.
    let report = builtin_engine().audit(inv, Timestamp::now());
    let status = |id: &str| result(&report, "backup-vault-locked", USE1, id).status;
    assert_eq!(status("locked"), Status::Pass);
    assert_eq!(status("open"), Status::Fail);
}

/// Recorded AWS answers for the selections of the plans `tagged` and
/// `wildcard` (moto does not implement them): `tagged` assigns what is
/// tagged backup=daily (ListOfTags); `wildcard` every DB instance
/// (`arn:aws:rds:*:*:db:*`) but scratch-db (NotResources) and those tagged
/// stage=dev (Conditions). `get_selection` answers GetBackupSelection of
/// `wildcard`, so a failure can be put in its place.
fn selections_stub(
    moto: &Moto,
    tagged: String,
    wildcard: String,
    get_wildcard: impl Fn() -> (u16, serde_json::Value) + Send + Sync + 'static,
) -> Stub {
    Stub::start(Some(moto.endpoint()), move |request| {
        let path = request.path.split('?').next().unwrap_or_default();
        // ListBackupSelections: /backup/plans/ID/selections;
        // GetBackupSelection: /backup/plans/ID/selections/SELECTION.
        let rest = path.strip_prefix("/backup/plans/")?;
        let (plan, selection) = rest.split_once("/selections")?;
        let selection = selection.trim_start_matches('/');
        let listed = |id: &str| {
            serde_json::json!({
                "SelectionId": format!("{id}-selection"),
                "SelectionName": format!("{id}-selection"),
                "BackupPlanId": id,
                "IamRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/backup"),
            })
        };
        let answer = match (selection, plan) {
            ("", _) => (
                200,
                serde_json::json!({ "BackupSelectionsList": [listed(plan)] }),
            ),
            (_, p) if p == tagged => (
                200,
                serde_json::json!({
                    "BackupPlanId": p,
                    "SelectionId": selection,
                    "BackupSelection": {
                        "SelectionName": selection,
                        "IamRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/backup"),
                        "Resources": [],
                        "ListOfTags": [{
                            "ConditionType": "STRINGEQUALS",
                            "ConditionKey": "backup",
                            "ConditionValue": "daily",
                        }],
                    },
                }),
            ),
            (_, p) if p == wildcard => get_wildcard(),
            _ => return None,
        };
        Some((answer.0, answer.1.to_string()))
    })
}

fn wildcard_selection() -> (u16, serde_json::Value) {
    (
        200,
        serde_json::json!({
            "BackupSelection": {
                "SelectionName": "all-databases",
                "IamRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/backup"),
                "Resources": ["arn:aws:rds:*:*:db:*"],
                "NotResources": [format!("arn:aws:rds:{USE1}:{ACCOUNT}:db:scratch-db")],
                "Conditions": {
                    "StringEquals": [],
                    "StringNotEquals": [{ "ConditionKey": "aws:ResourceTag/stage", "ConditionValue": "dev" }],
                    "StringLike": [],
                    "StringNotLike": [],
                },
            },
        }),
    )
}

/// Seeds us-east-1: orders-db (tagged backup=daily), scratch-db, dev-db
/// (tagged stage=dev), the bucket `assets` (tagged backup=daily) and the
/// plans `tagged` and `wildcard`; returns their ids.
async fn seed_assignments(moto: &Moto) -> (String, String) {
    let east = Seed::new(moto, USE1).await;
    let tag = |k: &str, v: &str| aws_sdk_rds::types::Tag::builder().key(k).value(v).build();
    east.instance("orders-db")
        .tags(tag("backup", "daily"))
        .send()
        .await
        .unwrap();
    east.instance("scratch-db").send().await.unwrap();
    east.instance("dev-db")
        .tags(tag("stage", "dev"))
        .send()
        .await
        .unwrap();
    east.bucket("assets").await;
    east.tag_bucket("assets", "backup", "daily").await;
    let backup = BackupSeed::new(moto, USE1).await;
    backup.vault("main", None, None).await;
    let tagged = backup
        .plan("tagged", "cron(0 5 ? * * *)", "main", 35, None)
        .await;
    let wildcard = backup
        .plan("wildcard", "cron(0 5 ? * * *)", "main", 35, None)
        .await;
    (tagged, wildcard)
}

fn assignment_plan() -> Plan {
    let mut plan = Plan::default();
    for (kind, attributes) in [
        (schema::DB_INSTANCE, &["backup_plan_ids"][..]),
        (schema::S3_BUCKET, &["backup_plan_ids"]),
        (
            schema::BACKUP_PLAN,
            &["has_selections", "protected_resource_arns"],
        ),
    ] {
        plan.add_type(
            schema::resource_type(kind).unwrap(),
            attributes.iter().copied(),
            false,
        );
    }
    plan
}

async fn collect_assignments(moto: &Moto, stub: &Stub) -> Collected {
    let mut options = moto.options(&[USE1]);
    options.plan = assignment_plan();
    let overrides = SdkOverrides {
        endpoint_url: Some(stub.endpoint.clone()),
        ..moto.overrides()
    };
    collect_with(&options, &overrides).await.unwrap()
}

/// Which plans assign which resources, from their selections: by tag
/// (ListOfTags) for an instance and a bucket, by wildcard ARN narrowed by
/// NotResources and Conditions for instances. A plan lists the audited
/// resources it assigns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_selections_assign_resources_to_plans() {
    let moto = Moto::start();
    let (tagged, wildcard) = seed_assignments(&moto).await;
    let stub = selections_stub(&moto, tagged.clone(), wildcard.clone(), wildcard_selection);
    let collected = collect_assignments(&moto, &stub).await;
    no_errors(&collected);
    let inv = &collected.inventory;
    let ids = |kind: &str, id: &str| find(inv, kind, USE1, id).get("backup_plan_ids").clone();
    let mut both = [tagged.as_str(), wildcard.as_str()];
    both.sort();
    assert_eq!(ids(schema::DB_INSTANCE, "orders-db"), strs(&both));
    assert_eq!(ids(schema::DB_INSTANCE, "scratch-db"), strs(&[]));
    assert_eq!(ids(schema::DB_INSTANCE, "dev-db"), strs(&[]));
    assert_eq!(ids(schema::S3_BUCKET, "assets"), strs(&[&tagged]));

    let db = |id: &str| format!("arn:aws:rds:{USE1}:{ACCOUNT}:db:{id}");
    let plan = find(inv, schema::BACKUP_PLAN, USE1, &tagged);
    assert_eq!(plan.get("has_selections"), &Value::Bool(true));
    assert_eq!(
        plan.get("protected_resource_arns"),
        &strs(&[&db("orders-db"), "arn:aws:s3:::assets"])
    );
    assert_eq!(
        find(inv, schema::BACKUP_PLAN, USE1, &wildcard).get("protected_resource_arns"),
        &strs(&[&db("orders-db")])
    );

    // The built-in plan rules read has_selections only: the selections are
    // listed, not read one by one.
    let mut options = moto.options(&[USE1]);
    options.plan = Plan::new(
        Plan::for_engine(&builtin_engine())
            .operations()
            .filter(|op| op.service == "backup"),
    );
    let overrides = SdkOverrides {
        endpoint_url: Some(stub.endpoint.clone()),
        ..moto.overrides()
    };
    let collected = collect_with(&options, &overrides).await.unwrap();
    no_errors(&collected);
    assert_eq!(collected.calls_to(&ops::BACKUP_LIST_BACKUP_SELECTIONS), 2);
    assert_eq!(collected.calls_to(&ops::BACKUP_GET_BACKUP_SELECTION), 0);
    let plan = find(&collected.inventory, schema::BACKUP_PLAN, USE1, &tagged);
    assert_eq!(plan.get("has_selections"), &Value::Bool(true));
    assert!(plan.get("protected_resource_arns").is_unknown());
}

/// A selection that could not be read leaves unknown which plans assign
/// the region's resources and what that plan protects, and is recorded
/// against both; it is never taken for "no plan".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_selection_leaves_assignments_unknown() {
    let moto = Moto::start();
    let (tagged, wildcard) = seed_assignments(&moto).await;
    let stub = selections_stub(&moto, tagged.clone(), wildcard.clone(), || {
        (
            403,
            serde_json::json!({
                "__type": "AccessDeniedException",
                "message": "not authorized to perform backup:GetBackupSelection",
            }),
        )
    });
    let collected = collect_assignments(&moto, &stub).await;
    let inv = &collected.inventory;
    for (kind, id) in [
        (schema::DB_INSTANCE, "orders-db"),
        (schema::DB_INSTANCE, "scratch-db"),
        (schema::S3_BUCKET, "assets"),
    ] {
        assert!(
            find(inv, kind, USE1, id)
                .get("backup_plan_ids")
                .is_unknown(),
            "{id}"
        );
    }
    // The selection was listed: that the plan has one is known.
    let plan = find(inv, schema::BACKUP_PLAN, USE1, &wildcard);
    assert_eq!(plan.get("has_selections"), &Value::Bool(true));
    assert!(plan.get("protected_resource_arns").is_unknown());
    // The other plan's selections were read, and it assigns orders-db;
    // but whether the failed one covers it too is unknown.
    let other = find(inv, schema::BACKUP_PLAN, USE1, &tagged);
    assert_eq!(other.get("has_selections"), &Value::Bool(true));

    let failed: Vec<(&str, Option<&str>, &[String])> = inv
        .errors
        .iter()
        .map(|e| {
            assert_eq!(e.operation, "GetBackupSelection");
            assert_eq!(e.code, "AccessDeniedException");
            (
                e.resource_type.as_str(),
                e.resource_id.as_deref(),
                e.attributes.as_slice(),
            )
        })
        .collect();
    let plan_ids = ["backup_plan_ids".to_string()];
    let protected = ["protected_resource_arns".to_string()];
    // Clusters are listed too: what a plan protects includes them.
    assert_eq!(
        failed,
        [
            (schema::BACKUP_PLAN, Some(wildcard.as_str()), &protected[..]),
            (schema::DB_CLUSTER, None, &plan_ids[..]),
            (schema::DB_INSTANCE, None, &plan_ids[..]),
            (schema::S3_BUCKET, None, &plan_ids[..]),
        ]
    );
}

// ---------------------------------------------------------------------------
// RDS backup alerts: event subscriptions and whether their topics deliver

/// What reading the backup alerts and windows of instances and clusters
/// takes.
fn backup_alert_plan() -> Plan {
    let mut plan = Plan::default();
    for kind in [schema::DB_INSTANCE, schema::DB_CLUSTER] {
        plan.add_type(
            schema::resource_type(kind).unwrap(),
            ["backup_event_subscriptions", "backup_window", "cluster_id"],
            false,
        );
    }
    plan
}

fn alert(name: &str, topic_arn: &str, confirmed: Value) -> Value {
    obj(&[
        ("name", Value::from(name)),
        ("topic_arn", Value::from(topic_arn)),
        ("status", Value::from("active")),
        ("confirmed", confirmed),
    ])
}

fn alerts_of(inv: &Inventory, kind: &str, region: &str, id: &str) -> Value {
    find(inv, kind, region, id)
        .get("backup_event_subscriptions")
        .clone()
}

/// On the emulator (which implements event subscriptions and SNS): each
/// instance and cluster gets the enabled subscriptions on backup events
/// that cover it, with whether the topic has a confirmed subscription;
/// every topic in use is asked once, one nobody's alerts use never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_alerts_come_from_event_subscriptions_and_their_topics() {
    use support::seed::{EventSelection, sns_topic};
    let moto = Moto::start();
    let east = Seed::new(&moto, USE1).await;
    let west = Seed::new(&moto, EUW1).await;
    east.instance("alerted-db")
        .preferred_backup_window("01:00-01:30")
        .send()
        .await
        .unwrap();
    east.instance("quiet-db").send().await.unwrap();
    east.cluster("alerted-cluster")
        .preferred_backup_window("23:30-00:30")
        .send()
        .await
        .unwrap();
    west.instance("eu-db").send().await.unwrap();
    let db_alerts = sns_topic(&moto, USE1, "db-alerts", Some("dba@example.com")).await;
    let nobody = sns_topic(&moto, USE1, "nobody", None).await;
    let unused = sns_topic(&moto, USE1, "unused", Some("dba@example.com")).await;
    let deleted = format!("arn:aws:sns:{USE1}:{ACCOUNT}:deleted-topic");
    let eu_alerts = sns_topic(&moto, EUW1, "eu-alerts", Some("dba@example.com")).await;
    let events = |source_type, source_ids, categories, enabled| EventSelection {
        source_type,
        source_ids,
        categories,
        enabled,
    };
    let instances = Some("db-instance");
    let clusters = Some("db-cluster");
    for (name, topic, selection) in [
        (
            "orders-backups",
            &db_alerts,
            events(instances, &["alerted-db"][..], &["backup"][..], true),
        ),
        (
            "cluster-everything",
            &nobody,
            events(clusters, &[], &[], true),
        ),
        (
            "gone-topic",
            &deleted,
            events(clusters, &["alerted-cluster"], &["backup"], true),
        ),
        ("disabled", &db_alerts, events(instances, &[], &[], false)),
        (
            "failover-only",
            &db_alerts,
            events(instances, &[], &["failover"], true),
        ),
        (
            "someone-else",
            &unused,
            events(instances, &["no-such-db"], &["backup"], true),
        ),
    ] {
        east.event_subscription(name, topic, selection).await;
    }
    west.event_subscription("eu-all", &eu_alerts, events(None, &[], &[], true))
        .await;

    let mut options = moto.options(REGIONS);
    options.plan = backup_alert_plan();
    let collected = moto.collect(&options).await;
    no_errors(&collected);
    let inv = &collected.inventory;
    assert_eq!(
        alerts_of(inv, schema::DB_INSTANCE, USE1, "alerted-db"),
        Value::List(vec![alert("orders-backups", &db_alerts, Value::Bool(true))])
    );
    assert_eq!(
        alerts_of(inv, schema::DB_INSTANCE, USE1, "quiet-db"),
        Value::List(vec![])
    );
    // A topic without subscribers and one that does not exist (SNS answers
    // NotFound) deliver to nobody.
    assert_eq!(
        alerts_of(inv, schema::DB_CLUSTER, USE1, "alerted-cluster"),
        Value::List(vec![
            alert("cluster-everything", &nobody, Value::Bool(false)),
            alert("gone-topic", &deleted, Value::Bool(false)),
        ])
    );
    // No source type: every source's events.
    assert_eq!(
        alerts_of(inv, schema::DB_INSTANCE, EUW1, "eu-db"),
        Value::List(vec![alert("eu-all", &eu_alerts, Value::Bool(true))])
    );
    let window = |kind, id| find(inv, kind, USE1, id).get("backup_window").clone();
    assert_eq!(
        window(schema::DB_INSTANCE, "alerted-db"),
        Value::from("01:00-01:30")
    );
    assert_eq!(
        window(schema::DB_CLUSTER, "alerted-cluster"),
        Value::from("23:30-00:30")
    );
    assert_eq!(
        collected.calls_to(&ops::RDS_DESCRIBE_EVENT_SUBSCRIPTIONS),
        2
    );
    assert_eq!(
        collected.calls_to(&ops::SNS_LIST_SUBSCRIPTIONS_BY_TOPIC),
        4,
        "db-alerts, nobody, deleted-topic, eu-alerts: {:#?}",
        collected.calls
    );
    // Instances created without a window get the emulator's 13:14-13:44.
    let report = builtin_engine().audit(inv, Timestamp::now());
    let status = |rule, region, id| result(&report, rule, region, id).status;
    for (region, id, alerts, window) in [
        (USE1, "alerted-db", Status::Pass, Status::Pass),
        (USE1, "quiet-db", Status::Fail, Status::Fail),
        (USE1, "alerted-cluster", Status::Fail, Status::Fail),
        (EUW1, "eu-db", Status::Pass, Status::Fail),
    ] {
        assert_eq!(status("rds-backup-alerts", region, id), alerts, "{id}");
        assert_eq!(status("rds-backup-window", region, id), window, "{id}");
    }

    // Not planned: not called, and not claimed to be empty.
    options.plan = Plan::new([
        &ops::RDS_DESCRIBE_DB_INSTANCES,
        &ops::RDS_DESCRIBE_DB_CLUSTERS,
    ]);
    let collected = moto.collect(&options).await;
    no_errors(&collected);
    assert_eq!(
        collected.calls_to(&ops::RDS_DESCRIBE_EVENT_SUBSCRIPTIONS),
        0
    );
    assert_eq!(collected.calls_to(&ops::SNS_LIST_SUBSCRIPTIONS_BY_TOPIC), 0);
    assert!(
        alerts_of(
            &collected.inventory,
            schema::DB_INSTANCE,
            USE1,
            "alerted-db"
        )
        .is_unknown()
    );
}

const SNS_XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// A ListSubscriptionsByTopic page in AWS's wire format (query protocol,
/// XML): one email subscription still awaiting confirmation, and the
/// token of the next page, if any.
fn pending_subscriptions_page(topic_arn: &str, next_token: Option<&str>) -> String {
    let next = next_token
        .map(|t| format!("<NextToken>{t}</NextToken>"))
        .unwrap_or_default();
    format!(
        "<ListSubscriptionsByTopicResponse xmlns=\"{SNS_XMLNS}\"><ListSubscriptionsByTopicResult>\
         <Subscriptions><member><TopicArn>{topic_arn}</TopicArn><Protocol>email</Protocol>\
         <SubscriptionArn>PendingConfirmation</SubscriptionArn><Owner>{ACCOUNT}</Owner>\
         <Endpoint>dba@example.com</Endpoint></member></Subscriptions>{next}\
         </ListSubscriptionsByTopicResult><ResponseMetadata>\
         <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>\
         </ListSubscriptionsByTopicResponse>"
    )
}

/// What the emulator cannot show, on recorded answers in AWS's wire format
/// (everything else is the emulator's): a topic whose only subscriptions
/// await confirmation (over two pages, both read) alerts nobody; a topic
/// whose subscriptions cannot be listed leaves `confirmed` unknown and is
/// recorded against the resources it alerts on; a failed
/// DescribeEventSubscriptions leaves every instance's and cluster's alerts
/// unknown. The rules then say fail and error, never pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfirmed_or_unreadable_alerts_are_never_passes() {
    use support::seed::{EventSelection, sns_topic};
    let moto = Moto::start();
    let east = Seed::new(&moto, USE1).await;
    east.instance("pending-db").send().await.unwrap();
    east.instance("unreadable-db").send().await.unwrap();
    east.cluster("plain-cluster").send().await.unwrap();
    let pending = sns_topic(&moto, USE1, "pending-topic", None).await;
    let unreadable = sns_topic(&moto, USE1, "unreadable-topic", None).await;
    for (name, topic, id) in [
        ("pending-alerts", &pending, "pending-db"),
        ("unreadable-alerts", &unreadable, "unreadable-db"),
    ] {
        let selection = EventSelection {
            source_type: Some("db-instance"),
            source_ids: &[id],
            categories: &["backup"],
            enabled: true,
        };
        east.event_subscription(name, topic, selection).await;
    }

    let (pending_arn, unreadable_arn) = (pending.clone(), unreadable.clone());
    let stub = Stub::start(Some(moto.endpoint()), move |request| {
        let form = request.form();
        if form.get("Action").map(String::as_str) != Some("ListSubscriptionsByTopic") {
            return None;
        }
        let topic = form.get("TopicArn").cloned().unwrap_or_default();
        if topic == pending_arn {
            let next = (!form.contains_key("NextToken")).then_some("page-2");
            Some((200, pending_subscriptions_page(&topic, next)))
        } else if topic == unreadable_arn {
            Some((
                403,
                format!(
                    "<ErrorResponse xmlns=\"{SNS_XMLNS}\"><Error><Type>Sender</Type>\
                     <Code>AuthorizationError</Code><Message>User is not authorized to perform: \
                     SNS:ListSubscriptionsByTopic</Message></Error>\
                     <RequestId>0</RequestId></ErrorResponse>"
                ),
            ))
        } else {
            None
        }
    });
    let overrides = SdkOverrides {
        endpoint_url: Some(stub.endpoint.clone()),
        ..moto.overrides()
    };
    let mut options = moto.options(&[USE1]);
    options.plan = backup_alert_plan();
    let collected = collect_with(&options, &overrides).await.unwrap();
    let inv = &collected.inventory;
    assert_eq!(
        alerts_of(inv, schema::DB_INSTANCE, USE1, "pending-db"),
        Value::List(vec![alert("pending-alerts", &pending, Value::Bool(false))])
    );
    assert_eq!(
        alerts_of(inv, schema::DB_INSTANCE, USE1, "unreadable-db"),
        Value::List(vec![alert(
            "unreadable-alerts",
            &unreadable,
            Value::Unknown
        )])
    );
    assert_eq!(
        collected.calls_to(&ops::SNS_LIST_SUBSCRIPTIONS_BY_TOPIC),
        3,
        "both pages of pending-topic, then unreadable-topic"
    );
    let [error] = &inv.errors[..] else {
        panic!("{:#?}", inv.errors)
    };
    assert_eq!(error.service, "sns");
    assert_eq!(error.operation, "ListSubscriptionsByTopic");
    assert_eq!(error.code, "AuthorizationError");
    assert_eq!(error.resource_type, schema::DB_INSTANCE);
    assert_eq!(error.resource_id.as_deref(), Some("unreadable-db"));
    assert_eq!(error.attributes, ["backup_event_subscriptions"]);
    assert!(error.message.contains(&unreadable), "{}", error.message);
    let report = builtin_engine().audit(inv, Timestamp::now());
    let status = |id| result(&report, "rds-backup-alerts", USE1, id).status;
    assert_eq!(status("pending-db"), Status::Fail);
    assert_eq!(status("unreadable-db"), Status::Error);

    // The region's event subscriptions cannot be listed.
    let refusing = Stub::start(Some(moto.endpoint()), |request| {
        let action = request.form().get("Action").cloned();
        (action.as_deref() == Some("DescribeEventSubscriptions")).then(|| {
            (
                403,
                rds_error(
                    "AccessDenied",
                    "User is not authorized to perform: rds:DescribeEventSubscriptions",
                ),
            )
        })
    });
    let overrides = SdkOverrides {
        endpoint_url: Some(refusing.endpoint.clone()),
        ..moto.overrides()
    };
    let collected = collect_with(&options, &overrides).await.unwrap();
    let inv = &collected.inventory;
    for (kind, id) in [
        (schema::DB_INSTANCE, "pending-db"),
        (schema::DB_CLUSTER, "plain-cluster"),
    ] {
        assert!(alerts_of(inv, kind, USE1, id).is_unknown(), "{id}");
    }
    assert_eq!(collected.calls_to(&ops::SNS_LIST_SUBSCRIPTIONS_BY_TOPIC), 0);
    let failed: Vec<_> = inv
        .errors
        .iter()
        .map(|e| {
            (
                e.resource_type.as_str(),
                e.resource_id.as_deref(),
                e.code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            (schema::DB_CLUSTER, None, "AccessDenied"),
            (schema::DB_INSTANCE, None, "AccessDenied"),
        ]
    );
    for e in &inv.errors {
        assert_eq!(e.operation, "DescribeEventSubscriptions");
        assert_eq!(e.attributes, ["backup_event_subscriptions"]);
    }
    let report = builtin_engine().audit(inv, Timestamp::now());
    for id in ["pending-db", "unreadable-db", "plain-cluster"] {
        let found = result(&report, "rds-backup-alerts", USE1, id);
        assert_eq!(found.status, Status::Error, "{id}");
    }
}
