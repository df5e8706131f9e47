//! Seeding the moto emulator through the AWS SDK, one region per [`Seed`].
//!
//! The helpers cover what the live tests set up again and again; anything
//! one-off is seeded in the test itself through the public clients.

use aws_sdk_rds::operation::create_db_cluster::builders::CreateDBClusterFluentBuilder;
use aws_sdk_rds::operation::create_db_instance::builders::CreateDBInstanceFluentBuilder;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::builders::LifecycleRuleBuilder;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, ReplicationRuleStatus,
};

use super::moto::{ACCOUNT, Moto};
use backstop::collect::Credentials;

/// The region where a bucket takes no location constraint.
const USE1: &str = "us-east-1";

/// A lifecycle rule expiring the objects under `prefix` after `days`, to
/// be configured further.
pub fn expiry_rule(
    id: &str,
    status: ExpirationStatus,
    prefix: &str,
    days: i32,
) -> LifecycleRuleBuilder {
    LifecycleRule::builder()
        .id(id)
        .status(status)
        .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
        .expiration(LifecycleExpiration::builder().days(days).build())
}

/// SDK clients for one region of the emulator.
pub struct Seed {
    pub rds: aws_sdk_rds::Client,
    pub s3: aws_sdk_s3::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub kms: aws_sdk_kms::Client,
    pub region: String,
}

impl Seed {
    pub async fn new(moto: &Moto, region: &str) -> Seed {
        Seed::new_as(moto, region, super::moto::test_credentials()).await
    }

    /// Seeds the account `credentials` belong to (moto keeps one state per
    /// account).
    pub async fn new_as(moto: &Moto, region: &str, credentials: Credentials) -> Seed {
        let config = moto.sdk_config_as(region, credentials).await;
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build();
        Seed {
            rds: aws_sdk_rds::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3),
            ecr: aws_sdk_ecr::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            kms: aws_sdk_kms::Client::new(&config),
            region: region.to_string(),
        }
    }

    /// A new KMS key; returns its ARN.
    pub async fn key(&self) -> String {
        let key = self.kms.create_key().send().await.unwrap();
        key.key_metadata().unwrap().arn().unwrap().to_string()
    }

    /// A small Postgres instance, to be configured further and sent.
    pub fn instance(&self, id: &str) -> CreateDBInstanceFluentBuilder {
        self.rds
            .create_db_instance()
            .db_instance_identifier(id)
            .db_instance_class("db.t3.micro")
            .engine("postgres")
            .allocated_storage(20)
            .master_username("admin")
            .master_user_password("password123")
    }

    /// An Aurora PostgreSQL cluster, to be configured further and sent.
    pub fn cluster(&self, id: &str) -> CreateDBClusterFluentBuilder {
        self.rds
            .create_db_cluster()
            .db_cluster_identifier(id)
            .engine("aurora-postgresql")
            .master_username("admin")
            .master_user_password("password123")
    }

    /// A manual snapshot of `cluster` that the accounts in `restore` (or
    /// everyone: `"all"`) may restore.
    pub async fn cluster_snapshot(&self, cluster: &str, id: &str, restore: &[&str]) {
        self.rds
            .create_db_cluster_snapshot()
            .db_cluster_identifier(cluster)
            .db_cluster_snapshot_identifier(id)
            .send()
            .await
            .unwrap();
        if !restore.is_empty() {
            self.rds
                .modify_db_cluster_snapshot_attribute()
                .db_cluster_snapshot_identifier(id)
                .attribute_name("restore")
                .set_values_to_add(Some(restore.iter().map(|v| v.to_string()).collect()))
                .send()
                .await
                .unwrap();
        }
    }

    /// A well-run instance: 7 days of backups, Multi-AZ, encrypted with
    /// `key`, deletion protection, and a manual snapshot copied to
    /// `copy_to` (the cross-region backup).
    pub async fn compliant_instance(&self, id: &str, key: &str, copy_to: &Seed, copy_key: &str) {
        self.instance(id)
            .backup_retention_period(7)
            .multi_az(true)
            .storage_encrypted(true)
            .kms_key_id(key)
            .deletion_protection(true)
            .send()
            .await
            .unwrap();
        let snapshot = format!("{id}-daily");
        self.rds
            .create_db_snapshot()
            .db_instance_identifier(id)
            .db_snapshot_identifier(&snapshot)
            .send()
            .await
            .unwrap();
        copy_to
            .rds
            .copy_db_snapshot()
            .source_db_snapshot_identifier(format!(
                "arn:aws:rds:{}:{ACCOUNT}:snapshot:{snapshot}",
                self.region
            ))
            .target_db_snapshot_identifier(format!("{snapshot}-copy"))
            .kms_key_id(copy_key)
            .send()
            .await
            .unwrap();
    }

    /// A bucket in this seed's region.
    pub async fn bucket(&self, name: &str) {
        let mut create = self.s3.create_bucket().bucket(name);
        if self.region != USE1 {
            create = create.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(self.region.as_str().into())
                    .build(),
            );
        }
        create.send().await.unwrap();
    }

    pub async fn versioned(&self, bucket: &str) {
        use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
        self.s3
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    /// Default encryption: SSE-KMS with `kms_key`, or SSE-S3 (AES256)
    /// without one.
    pub async fn encrypted(&self, bucket: &str, kms_key: Option<&str>) {
        use aws_sdk_s3::types::{
            ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
            ServerSideEncryptionRule,
        };
        let by_default = match kms_key {
            Some(key) => ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::AwsKms)
                .kms_master_key_id(key),
            None => {
                ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256)
            }
        };
        self.s3
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(by_default.build().unwrap())
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }

    /// A public access block: public ACLs blocked and ignored, public
    /// policies blocked, and (`all_four`) public buckets restricted.
    pub async fn public_access_block(&self, bucket: &str, all_four: bool) {
        self.s3
            .put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(
                aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(all_four)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    /// A lifecycle configuration of `rules` (built here).
    pub async fn lifecycle(
        &self,
        bucket: &str,
        rules: impl IntoIterator<Item = LifecycleRuleBuilder>,
    ) {
        let mut configuration = BucketLifecycleConfiguration::builder();
        for rule in rules {
            configuration = configuration.rules(rule.build().unwrap());
        }
        self.s3
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(configuration.build().unwrap())
            .send()
            .await
            .unwrap();
    }

    /// One whole-bucket rule expiring current and noncurrent versions
    /// after 30 days.
    pub async fn expires_after_30_days(&self, bucket: &str) {
        self.lifecycle(
            bucket,
            [expiry_rule("expire", ExpirationStatus::Enabled, "", 30)
                .noncurrent_version_expiration(
                    aws_sdk_s3::types::NoncurrentVersionExpiration::builder()
                        .noncurrent_days(30)
                        .build(),
                )],
        )
        .await;
    }

    /// Replication of `bucket` by `rules` (rule id, status, destination
    /// bucket), each of priority 1 for the whole bucket, delete markers not
    /// replicated.
    pub async fn replicates(&self, bucket: &str, rules: &[(&str, ReplicationRuleStatus, &str)]) {
        use aws_sdk_s3::types::{
            DeleteMarkerReplication, DeleteMarkerReplicationStatus, Destination,
            ReplicationConfiguration, ReplicationRule, ReplicationRuleFilter,
        };
        let mut configuration = ReplicationConfiguration::builder()
            .role(format!("arn:aws:iam::{ACCOUNT}:role/replication"));
        for (id, status, destination) in rules {
            configuration = configuration.rules(
                ReplicationRule::builder()
                    .id(*id)
                    .priority(1)
                    .status(status.clone())
                    .filter(ReplicationRuleFilter::builder().prefix("").build())
                    .delete_marker_replication(
                        DeleteMarkerReplication::builder()
                            .status(DeleteMarkerReplicationStatus::Disabled)
                            .build(),
                    )
                    .destination(
                        Destination::builder()
                            .bucket(format!("arn:aws:s3:::{destination}"))
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            );
        }
        self.s3
            .put_bucket_replication()
            .bucket(bucket)
            .replication_configuration(configuration.build().unwrap())
            .send()
            .await
            .unwrap();
    }

    pub async fn put_object(&self, bucket: &str, key: &str, body: &[u8]) {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .unwrap();
    }

    /// A repository; `governed`: immutable tags and a lifecycle policy.
    pub async fn repository(&self, name: &str, governed: bool) {
        use aws_sdk_ecr::types::ImageTagMutability;
        self.ecr
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(if governed {
                ImageTagMutability::Immutable
            } else {
                ImageTagMutability::Mutable
            })
            .send()
            .await
            .unwrap();
        if governed {
            self.ecr
                .put_lifecycle_policy()
                .repository_name(name)
                .lifecycle_policy_text(
                    r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged",
                    "countType":"sinceImagePushed","countUnit":"days","countNumber":14},
                    "action":{"type":"expire"}}]}"#,
                )
                .send()
                .await
                .unwrap();
        }
    }

    /// A log group kept `retention` days (`None`: never expires). The name
    /// is owned, so that many can be created concurrently.
    pub async fn log_group(&self, name: impl Into<String>, retention: Option<i32>) {
        let name = name.into();
        self.logs
            .create_log_group()
            .log_group_name(&name)
            .send()
            .await
            .unwrap();
        if let Some(days) = retention {
            self.logs
                .put_retention_policy()
                .log_group_name(name)
                .retention_in_days(days)
                .send()
                .await
                .unwrap();
        }
    }
}

// ---------------------------------------------------------------------------
// Secrets Manager

/// A Secrets Manager client for one region of the emulator.
pub async fn secrets_client(moto: &Moto, region: &str) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&moto.sdk_config(region).await)
}

/// Creates secret `name` tagged `team=<team>`, encrypted with `kms_key`
/// (`None`: the AWS managed key) and replicated to `replicas`; returns its
/// ARN.
pub async fn secret(
    client: &aws_sdk_secretsmanager::Client,
    name: &str,
    team: &str,
    kms_key: Option<&str>,
    replicas: &[&str],
) -> String {
    use aws_sdk_secretsmanager::types::{ReplicaRegionType, Tag};
    let created = client
        .create_secret()
        .name(name)
        .secret_string("s3cr3t")
        .set_kms_key_id(kms_key.map(str::to_string))
        .tags(Tag::builder().key("team").value(team).build())
        .set_add_replica_regions((!replicas.is_empty()).then(|| {
            replicas
                .iter()
                .map(|r| ReplicaRegionType::builder().region(*r).build())
                .collect()
        }))
        .send()
        .await
        .unwrap();
    created.arn().unwrap().to_string()
}

/// Schedules `name` for deletion with the shortest recovery window (7 days).
pub async fn schedule_deletion(client: &aws_sdk_secretsmanager::Client, name: &str) {
    client
        .delete_secret()
        .secret_id(name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
}

// --- AWS Backup plans and vaults

impl Seed {
    /// Tags `bucket` with one tag (tag-based backup selections).
    pub async fn tag_bucket(&self, bucket: &str, key: &str, value: &str) {
        use aws_sdk_s3::types::{Tag, Tagging};
        let tag = Tag::builder().key(key).value(value).build().unwrap();
        let tagging = Tagging::builder().tag_set(tag).build().unwrap();
        self.s3
            .put_bucket_tagging()
            .bucket(bucket)
            .tagging(tagging)
            .send()
            .await
            .unwrap();
    }
}

/// AWS Backup in one region of the emulator.
pub struct BackupSeed {
    pub backup: aws_sdk_backup::Client,
}

impl BackupSeed {
    pub async fn new(moto: &Moto, region: &str) -> BackupSeed {
        BackupSeed {
            backup: aws_sdk_backup::Client::new(&moto.sdk_config(region).await),
        }
    }

    /// A vault encrypted with `key` (the AWS-managed key when `None`),
    /// under a vault lock of `lock_min_days` when given; returns its ARN.
    pub async fn vault(&self, name: &str, key: Option<&str>, lock_min_days: Option<i64>) -> String {
        let created = self
            .backup
            .create_backup_vault()
            .backup_vault_name(name)
            .set_encryption_key_arn(key.map(str::to_string))
            .send()
            .await
            .unwrap();
        if let Some(days) = lock_min_days {
            self.backup
                .put_backup_vault_lock_configuration()
                .backup_vault_name(name)
                .min_retention_days(days)
                .max_retention_days(365)
                .send()
                .await
                .unwrap();
        }
        created.backup_vault_arn().unwrap().to_string()
    }

    /// A plan of one rule running on `schedule` into `vault`, keeping
    /// `keep_days`, copied to `copy_to` (a vault ARN) when given; returns
    /// its id.
    pub async fn plan(
        &self,
        name: &str,
        schedule: &str,
        vault: &str,
        keep_days: i64,
        copy_to: Option<&str>,
    ) -> String {
        use aws_sdk_backup::types::{BackupPlanInput, BackupRuleInput, CopyAction, Lifecycle};
        let keep = Lifecycle::builder().delete_after_days(keep_days).build();
        let rule = BackupRuleInput::builder()
            .rule_name(format!("{name}-rule"))
            .target_backup_vault_name(vault)
            .schedule_expression(schedule)
            .lifecycle(keep.clone())
            .set_copy_actions(copy_to.map(|arn| {
                vec![
                    CopyAction::builder()
                        .destination_backup_vault_arn(arn)
                        .lifecycle(keep)
                        .build()
                        .unwrap(),
                ]
            }))
            .build()
            .unwrap();
        let plan = BackupPlanInput::builder()
            .backup_plan_name(name)
            .rules(rule)
            .build()
            .unwrap();
        let created = self
            .backup
            .create_backup_plan()
            .backup_plan(plan)
            .send()
            .await
            .unwrap();
        created.backup_plan_id().unwrap().to_string()
    }
}

// --- RDS backup alerts: event subscriptions and their SNS topics

/// An SNS topic in `region`; with `subscriber`, an email subscription to
/// it, which the emulator confirms at once (AWS waits for the recipient).
/// Returns the topic's ARN.
pub async fn sns_topic(moto: &Moto, region: &str, name: &str, subscriber: Option<&str>) -> String {
    let sns = aws_sdk_sns::Client::new(&moto.sdk_config(region).await);
    let topic = sns.create_topic().name(name).send().await.unwrap();
    let arn = topic.topic_arn().unwrap().to_string();
    if let Some(email) = subscriber {
        sns.subscribe()
            .topic_arn(&arn)
            .protocol("email")
            .endpoint(email)
            .send()
            .await
            .unwrap();
    }
    arn
}

/// Which RDS events an event subscription sends: empty lists mean every
/// source of the type, every category.
pub struct EventSelection<'a> {
    pub source_type: Option<&'a str>,
    pub source_ids: &'a [&'a str],
    pub categories: &'a [&'a str],
    pub enabled: bool,
}

impl Seed {
    /// An RDS event subscription sending `events` to `topic_arn`. Enabled
    /// is always sent: the emulator defaults it to false, AWS to true.
    pub async fn event_subscription(
        &self,
        name: &str,
        topic_arn: &str,
        events: EventSelection<'_>,
    ) {
        let strings = |items: &[&str]| Some(items.iter().map(|s| s.to_string()).collect());
        self.rds
            .create_event_subscription()
            .subscription_name(name)
            .sns_topic_arn(topic_arn)
            .set_source_type(events.source_type.map(str::to_string))
            .set_source_ids(strings(events.source_ids))
            .set_event_categories(strings(events.categories))
            .enabled(events.enabled)
            .send()
            .await
            .unwrap();
    }
}
