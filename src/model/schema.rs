//! The attribute schema: every resource type, its attributes, their types and
//! the AWS operations that fill them.
//!
//! This table is the single source for rule validation, `backstop schema`,
//! the collection plan (which calls to make) and `backstop iam-policy`.

/// An AWS API operation the collectors may call. All are read-only.
#[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Operation {
    /// Service as it appears in IAM actions (`rds`, `s3`, ...).
    pub service: &'static str,
    /// The API operation name, as in the AWS error messages and SDK.
    pub name: &'static str,
    /// The IAM action that authorizes the call (differs from the API name for some S3 calls).
    pub iam_action: &'static str,
}

macro_rules! operations {
    ($($ident:ident = $service:literal $name:literal $iam:literal;)*) => {
        /// Every operation backstop may call, in one place.
        pub mod ops {
            use super::Operation;
            $(pub static $ident: Operation = Operation { service: $service, name: $name, iam_action: $iam };)*
            pub static ALL: &[&Operation] = &[$(&$ident),*];
        }
    };
}

operations! {
    STS_GET_CALLER_IDENTITY = "sts" "GetCallerIdentity" "sts:GetCallerIdentity";
    STS_ASSUME_ROLE = "sts" "AssumeRole" "sts:AssumeRole";
    ORGANIZATIONS_LIST_ACCOUNTS = "organizations" "ListAccounts" "organizations:ListAccounts";
    ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT = "organizations" "ListAccountsForParent" "organizations:ListAccountsForParent";
    ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT = "organizations" "ListOrganizationalUnitsForParent" "organizations:ListOrganizationalUnitsForParent";
    IAM_LIST_ACCOUNT_ALIASES = "iam" "ListAccountAliases" "iam:ListAccountAliases";
    EC2_DESCRIBE_REGIONS = "ec2" "DescribeRegions" "ec2:DescribeRegions";
    RDS_DESCRIBE_DB_INSTANCES = "rds" "DescribeDBInstances" "rds:DescribeDBInstances";
    RDS_DESCRIBE_DB_CLUSTERS = "rds" "DescribeDBClusters" "rds:DescribeDBClusters";
    RDS_DESCRIBE_DB_INSTANCE_AUTOMATED_BACKUPS = "rds" "DescribeDBInstanceAutomatedBackups" "rds:DescribeDBInstanceAutomatedBackups";
    RDS_DESCRIBE_DB_SNAPSHOTS = "rds" "DescribeDBSnapshots" "rds:DescribeDBSnapshots";
    RDS_DESCRIBE_SOURCE_REGIONS = "rds" "DescribeSourceRegions" "rds:DescribeSourceRegions";
    RDS_DESCRIBE_DB_SNAPSHOT_ATTRIBUTES = "rds" "DescribeDBSnapshotAttributes" "rds:DescribeDBSnapshotAttributes";
    RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS = "rds" "DescribeDBClusterSnapshots" "rds:DescribeDBClusterSnapshots";
    RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES = "rds" "DescribeDBClusterSnapshotAttributes" "rds:DescribeDBClusterSnapshotAttributes";
    KMS_DESCRIBE_KEY = "kms" "DescribeKey" "kms:DescribeKey";
    S3_LIST_BUCKETS = "s3" "ListBuckets" "s3:ListAllMyBuckets";
    S3_GET_BUCKET_LOCATION = "s3" "GetBucketLocation" "s3:GetBucketLocation";
    S3_GET_BUCKET_TAGGING = "s3" "GetBucketTagging" "s3:GetBucketTagging";
    S3_GET_BUCKET_ENCRYPTION = "s3" "GetBucketEncryption" "s3:GetEncryptionConfiguration";
    S3_GET_BUCKET_VERSIONING = "s3" "GetBucketVersioning" "s3:GetBucketVersioning";
    S3_GET_BUCKET_LIFECYCLE = "s3" "GetBucketLifecycleConfiguration" "s3:GetLifecycleConfiguration";
    S3_GET_BUCKET_REPLICATION = "s3" "GetBucketReplication" "s3:GetReplicationConfiguration";
    S3_GET_OBJECT_LOCK = "s3" "GetObjectLockConfiguration" "s3:GetBucketObjectLockConfiguration";
    S3_GET_PUBLIC_ACCESS_BLOCK = "s3" "GetPublicAccessBlock" "s3:GetBucketPublicAccessBlock";
    S3_HEAD_BUCKET = "s3" "HeadBucket" "s3:ListBucket";
    S3_LIST_OBJECTS_V2 = "s3" "ListObjectsV2" "s3:ListBucket";
    ECR_DESCRIBE_REPOSITORIES = "ecr" "DescribeRepositories" "ecr:DescribeRepositories";
    ECR_LIST_TAGS = "ecr" "ListTagsForResource" "ecr:ListTagsForResource";
    ECR_GET_LIFECYCLE_POLICY = "ecr" "GetLifecyclePolicy" "ecr:GetLifecyclePolicy";
    ECR_DESCRIBE_REGISTRY = "ecr" "DescribeRegistry" "ecr:DescribeRegistry";
    LOGS_DESCRIBE_LOG_GROUPS = "logs" "DescribeLogGroups" "logs:DescribeLogGroups";
    LOGS_LIST_TAGS = "logs" "ListTagsForResource" "logs:ListTagsForResource";
    LOGS_DESCRIBE_SUBSCRIPTION_FILTERS = "logs" "DescribeSubscriptionFilters" "logs:DescribeSubscriptionFilters";
    LOGS_DESCRIBE_ACCOUNT_POLICIES = "logs" "DescribeAccountPolicies" "logs:DescribeAccountPolicies";
    SECRETS_LIST_SECRETS = "secretsmanager" "ListSecrets" "secretsmanager:ListSecrets";
    SECRETS_DESCRIBE_SECRET = "secretsmanager" "DescribeSecret" "secretsmanager:DescribeSecret";
    BACKUP_LIST_BACKUP_PLANS = "backup" "ListBackupPlans" "backup:ListBackupPlans";
    BACKUP_GET_BACKUP_PLAN = "backup" "GetBackupPlan" "backup:GetBackupPlan";
    BACKUP_LIST_BACKUP_SELECTIONS = "backup" "ListBackupSelections" "backup:ListBackupSelections";
    BACKUP_GET_BACKUP_SELECTION = "backup" "GetBackupSelection" "backup:GetBackupSelection";
    BACKUP_LIST_BACKUP_VAULTS = "backup" "ListBackupVaults" "backup:ListBackupVaults";
    BACKUP_DESCRIBE_BACKUP_VAULT = "backup" "DescribeBackupVault" "backup:DescribeBackupVault";
    BACKUP_LIST_PROTECTED_RESOURCES = "backup" "ListProtectedResources" "backup:ListProtectedResources";
    BACKUP_LIST_RECOVERY_POINTS_BY_RESOURCE = "backup" "ListRecoveryPointsByResource" "backup:ListRecoveryPointsByResource";
    BACKUP_LIST_RESTORE_JOBS_BY_PROTECTED_RESOURCE = "backup" "ListRestoreJobsByProtectedResource" "backup:ListRestoreJobsByProtectedResource";
    BACKUP_LIST_BACKUP_JOBS = "backup" "ListBackupJobs" "backup:ListBackupJobs";
    BACKUP_LIST_COPY_JOBS = "backup" "ListCopyJobs" "backup:ListCopyJobs";
    BACKUP_DESCRIBE_RECOVERY_POINT = "backup" "DescribeRecoveryPoint" "backup:DescribeRecoveryPoint";
    RDS_DESCRIBE_EVENT_SUBSCRIPTIONS = "rds" "DescribeEventSubscriptions" "rds:DescribeEventSubscriptions";
    SNS_LIST_SUBSCRIPTIONS_BY_TOPIC = "sns" "ListSubscriptionsByTopic" "sns:ListSubscriptionsByTopic";
}

/// The type of an attribute's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttrType {
    Bool,
    Int,
    /// A string; `values` non-empty means only those values occur.
    Str {
        values: &'static [&'static str],
    },
    /// An RFC 3339 timestamp.
    Time,
    StrList,
    /// A list of objects with the given fields.
    ObjectList(&'static [Attribute]),
}

impl AttrType {
    pub const STR: AttrType = AttrType::Str { values: &[] };

    pub fn name(&self) -> &'static str {
        match self {
            AttrType::Bool => "bool",
            AttrType::Int => "integer",
            AttrType::Str { .. } => "string",
            AttrType::Time => "timestamp",
            AttrType::StrList => "list of strings",
            AttrType::ObjectList(_) => "list of objects",
        }
    }
}

#[derive(Debug, PartialEq)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: AttrType,
    pub doc: &'static str,
    /// The calls needed to fill it, beyond the listing of the resource type.
    pub calls: &'static [&'static Operation],
    /// What it means when AWS says there is none (`null` in an inventory).
    /// `None`: once read it always has a value, so a missing one is unknown.
    pub none: Option<&'static str>,
    /// For an integer that measures time: its unit. Comparisons of it then
    /// also take a duration (`24h`), converted to the unit when the rule
    /// compiles.
    pub unit: Option<TimeUnit>,
    /// A fact that exists only once the resource has run (a restore time, a
    /// recovery point, a subscription someone confirmed): a Terraform plan
    /// cannot know it, so rules that read it are not evaluated on resources
    /// only a plan knows.
    pub live_only: bool,
}

/// The unit of an integer attribute that measures time
/// (`frequency_hours`, `last_restore_duration_seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    /// Seconds in one of the unit.
    pub const fn seconds(self) -> i64 {
        match self {
            TimeUnit::Seconds => 1,
            TimeUnit::Minutes => 60,
            TimeUnit::Hours => 3600,
            TimeUnit::Days => 86_400,
        }
    }

    /// The unit's name in the plural: "a whole number of hours".
    pub const fn name(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "seconds",
            TimeUnit::Minutes => "minutes",
            TimeUnit::Hours => "hours",
            TimeUnit::Days => "days",
        }
    }
}

impl Attribute {
    /// Marks the attribute as one that can be none, and says what that means.
    const fn or_none(self, meaning: &'static str) -> Attribute {
        Attribute {
            none: Some(meaning),
            ..self
        }
    }

    /// Marks the attribute as one only the live account has.
    const fn live_only(self) -> Attribute {
        Attribute {
            live_only: true,
            ..self
        }
    }

    /// Marks an integer attribute as a measure of time in `unit`.
    const fn in_unit(self, unit: TimeUnit) -> Attribute {
        assert!(
            matches!(self.ty, AttrType::Int),
            "only an integer measures time in a unit"
        );
        Attribute {
            unit: Some(unit),
            ..self
        }
    }
}

#[derive(Debug, PartialEq)]
pub struct ResourceType {
    pub name: &'static str,
    pub doc: &'static str,
    /// The call that enumerates resources of this type; needed for any rule on it.
    pub listing: &'static [&'static Operation],
    /// Calls needed to read the resource's tags (for `tags.KEY` conditions and scope).
    pub tag_calls: &'static [&'static Operation],
    pub attributes: &'static [Attribute],
}

impl ResourceType {
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The calls that reading `attributes` (and the tags, when `tags`) of
    /// this type takes: its listing plus each attribute's own calls. Common
    /// attributes (`id`, `region`, ...) come with the listing.
    pub fn operations_for<'a>(
        &self,
        attributes: impl IntoIterator<Item = &'a str>,
        tags: bool,
    ) -> std::collections::BTreeSet<&'static Operation> {
        let mut ops: std::collections::BTreeSet<&'static Operation> =
            self.listing.iter().copied().collect();
        for name in attributes {
            if let Some(attribute) = self.attribute(name) {
                ops.extend(attribute.calls.iter().copied());
            }
        }
        if tags {
            ops.extend(self.tag_calls.iter().copied());
        }
        ops
    }
}

/// Attributes every resource has, stored outside `attributes` in inventories.
pub static COMMON_ATTRIBUTES: &[Attribute] = &[
    attr(
        "id",
        AttrType::STR,
        "The resource's name or identifier",
        &[],
    ),
    attr("arn", AttrType::STR, "The resource's ARN", &[]),
    attr(
        "account",
        AttrType::STR,
        "The AWS account id that owns it",
        &[],
    ),
    attr("region", AttrType::STR, "The region it lives in", &[]),
];

/// A rule param that steers collection instead of appearing in a
/// condition: a rule on `resource` that reads `attribute` may declare it
/// (as a list of region names), and the collector reads `attribute` with
/// it. It counts as used even though no condition names it.
#[derive(Debug, PartialEq)]
pub struct CollectionParam {
    pub resource: &'static str,
    pub attribute: &'static str,
    pub name: &'static str,
    pub doc: &'static str,
}

pub static COLLECTION_PARAMS: &[CollectionParam] = &[CollectionParam {
    resource: DB_INSTANCE,
    attribute: "cross_region_copy_time",
    name: "copy_regions",
    doc: "Regions searched for snapshot copies besides the audited ones (empty: every region \
          RDS can copy snapshots between, from DescribeSourceRegions)",
}];

/// The collection param `name` of a rule on `resource` reading `reads`.
pub fn collection_param(
    resource: &str,
    reads: &std::collections::BTreeSet<&str>,
    name: &str,
) -> Option<&'static CollectionParam> {
    COLLECTION_PARAMS
        .iter()
        .find(|p| p.resource == resource && p.name == name && reads.contains(p.attribute))
}

const fn attr(
    name: &'static str,
    ty: AttrType,
    doc: &'static str,
    calls: &'static [&'static Operation],
) -> Attribute {
    Attribute {
        name,
        ty,
        doc,
        calls,
        none: None,
        unit: None,
        live_only: false,
    }
}

const BOOL: AttrType = AttrType::Bool;
const INT: AttrType = AttrType::Int;
const STR: AttrType = AttrType::STR;
const TIME: AttrType = AttrType::Time;
const STR_LIST: AttrType = AttrType::StrList;
const KEY_MANAGERS: AttrType = AttrType::Str {
    values: &["AWS", "CUSTOMER"],
};

pub const DB_INSTANCE: &str = "aws.rds.db_instance";
pub const DB_CLUSTER: &str = "aws.rds.db_cluster";
pub const DB_SNAPSHOT: &str = "aws.rds.db_snapshot";
pub const S3_BUCKET: &str = "aws.s3.bucket";
pub const S3_EXPORT_LOCATION: &str = "aws.s3.export_location";
pub const ECR_REPOSITORY: &str = "aws.ecr.repository";
pub const LOG_GROUP: &str = "aws.logs.log_group";
pub const SECRET: &str = "aws.secretsmanager.secret";
pub const BACKUP_PLAN: &str = "aws.backup.plan";
pub const BACKUP_VAULT: &str = "aws.backup.vault";
pub const BACKUP_PROTECTED_RESOURCE: &str = "aws.backup.protected_resource";

use ops::*;

/// What reading which AWS Backup plans assign a resource takes: the plans,
/// their selections, and the resource's tags (for tag-based selections).
const BACKUP_PLAN_IDS_DOC: &str = "IDs of the AWS Backup plans of its region whose selections \
     assign it (by ARN or wildcard, ListOfTags, Conditions; NotResources excluded); unknown \
     when a plan's selections could not be read or depend on tags that could not be read";
const BACKUP_ASSIGNMENT_CALLS: &[&Operation] = &[
    &BACKUP_LIST_BACKUP_PLANS,
    &BACKUP_LIST_BACKUP_SELECTIONS,
    &BACKUP_GET_BACKUP_SELECTION,
];

static LIFECYCLE_RULE_FIELDS: &[Attribute] = &[
    attr("id", STR, "The lifecycle rule's id", &[]).or_none("no id"),
    attr("enabled", BOOL, "Status is Enabled", &[]),
    attr(
        "prefix",
        STR,
        "Object key prefix the rule is limited to (empty: whole bucket)",
        &[],
    )
    .or_none("narrowed by tag or object size"),
    attr(
        "expiration_days",
        INT,
        "Current versions expire after this many days",
        &[],
    )
    .or_none("current versions never expire"),
    attr(
        "noncurrent_expiration_days",
        INT,
        "Noncurrent versions expire after this many days",
        &[],
    )
    .or_none("noncurrent versions never expire"),
];

static BACKUP_REPLICATION_FIELDS: &[Attribute] = &[
    attr(
        "region",
        STR,
        "Region holding the replicated automated backups",
        &[],
    ),
    attr(
        "latest_restorable_time",
        TIME,
        "Latest time the replicated backups can restore to (RestoreWindow.LatestTime in that \
         region)",
        &[],
    )
    .or_none("that region holds no restorable backup of the instance (none found, or no restore window yet)"),
    attr(
        "status",
        STR,
        "Status of the replicated backups in that region (replicating, active, ...)",
        &[],
    )
    .or_none("none were found"),
];

static REPLICATION_RULE_FIELDS: &[Attribute] = &[
    attr("id", STR, "The replication rule's id", &[]).or_none("no id"),
    attr("enabled", BOOL, "Status is Enabled", &[]),
    attr("destination_bucket", STR, "Destination bucket name", &[]),
    attr(
        "destination_region",
        STR,
        "Destination bucket's region, from the account's bucket listing or else HeadBucket \
         (which names it even for another account's bucket that refuses access). A region \
         that could not be resolved is unknown (a collection error)",
        &[],
    )
    .or_none("the destination bucket does not exist"),
    attr(
        "prefix",
        STR,
        "Key prefix the rule copies (empty: the whole bucket)",
        &[],
    )
    .or_none("selected by tag"),
];

static ECR_LIFECYCLE_RULE_FIELDS: &[Attribute] = &[
    attr("priority", INT, "Rule priority", &[]),
    attr("description", STR, "Rule description", &[]).or_none("no description"),
    attr(
        "tag_status",
        AttrType::Str {
            values: &["tagged", "untagged", "any"],
        },
        "Which images the rule selects",
        &[],
    ),
    attr(
        "count_type",
        AttrType::Str {
            values: &["imageCountMoreThan", "sinceImagePushed"],
        },
        "How images are counted",
        &[],
    ),
    attr("count_number", INT, "Image count or age in days", &[]),
];

/// The replication states DescribeSecret reports for a replica.
pub const REPLICA_STATUSES: &[&str] = &["InSync", "InProgress", "Failed"];

static SECRET_REPLICA_FIELDS: &[Attribute] = &[
    attr("region", STR, "Region holding the replica", &[]),
    attr(
        "status",
        AttrType::Str {
            values: REPLICA_STATUSES,
        },
        "Replication status: InSync (the replica holds the secret), InProgress or Failed",
        &[],
    ),
    attr(
        "status_message",
        STR,
        "Why the replication is in that state (for a failure, the reason)",
        &[],
    )
    .or_none("no message"),
];

static BACKUP_COPY_FIELDS: &[Attribute] = &[
    attr("vault_arn", STR, "ARN of the vault the copy goes to", &[]),
    attr("region", STR, "Region of that vault (from its ARN)", &[]),
    attr("account", STR, "Account of that vault (from its ARN)", &[]),
    attr("retention_days", INT, "Days the copy is kept", &[]).or_none("kept until deleted by hand"),
];

static BACKUP_PLAN_RULE_FIELDS: &[Attribute] = &[
    attr("name", STR, "The rule's name", &[]),
    attr(
        "schedule_expression",
        STR,
        "When it runs: a cron (or rate) expression",
        &[],
    )
    .or_none("no schedule (continuous backup or on demand only)"),
    attr(
        "frequency_hours",
        INT,
        "Longest gap between two scheduled runs, in hours (rounded up; months counted as 31 \
         days), from the schedule expression (one backstop cannot read leaves the plan's rules \
         unknown, a collection error)",
        &[],
    )
    .in_unit(TimeUnit::Hours)
    .or_none("no schedule"),
    attr(
        "retention_days",
        INT,
        "Days its recovery points are kept",
        &[],
    )
    .or_none("kept until deleted by hand"),
    attr("target_vault", STR, "Name of the vault it backs up to", &[]),
    attr(
        "copy_destinations",
        AttrType::ObjectList(BACKUP_COPY_FIELDS),
        "Vaults each recovery point is copied to (empty: none)",
        &[],
    ),
];

static BACKUP_EVENT_SUBSCRIPTION_FIELDS: &[Attribute] = &[
    attr(
        "name",
        STR,
        "The event subscription's name (CustSubscriptionId)",
        &[],
    ),
    attr("topic_arn", STR, "SNS topic the events are sent to", &[]),
    attr(
        "status",
        STR,
        "The subscription's status (active; no-permission or topic-not-exist when RDS cannot \
         publish to the topic; creating, modifying, deleting)",
        &[],
    ),
    attr(
        "confirmed",
        BOOL,
        "The topic has at least one confirmed subscription (one pending confirmation does not \
         count; false when the topic does not exist); unknown when the topic's subscriptions \
         could not be listed",
        &[],
    ),
];

/// `aws_backup_cross_region_copy_time` of RDS instances and clusters.
const AWS_BACKUP_CROSS_REGION_COPY_TIME: Attribute = attr(
    "aws_backup_cross_region_copy_time",
    TIME,
    "Creation time of the newest AWS Backup recovery point of this resource that a completed \
     copy job (ListCopyJobs in its region, as far back as AWS Backup lists jobs) put in a vault \
     of this account in another region, and that is still there: dated by its source recovery \
     point in this region, so a copy whose source is no longer listed does not count; the \
     copy itself is confirmed with DescribeRecoveryPoint in its region (COMPLETED), and one \
     since deleted (ResourceNotFoundException) does not count, the next newest (of at most 3) \
     standing in for it; a copy to another account's vault cannot be confirmed from this one \
     and does not count",
    &AWS_BACKUP_COPY_CALLS,
)
.or_none("no AWS Backup copy in another region")
.live_only();

static AWS_BACKUP_COPY_CALLS: [&Operation; 3] = [
    &BACKUP_LIST_COPY_JOBS,
    &BACKUP_LIST_RECOVERY_POINTS_BY_RESOURCE,
    &BACKUP_DESCRIBE_RECOVERY_POINT,
];

static BACKUP_EVENT_SUBSCRIPTION_CALLS: &[&Operation] = &[
    &RDS_DESCRIBE_EVENT_SUBSCRIPTIONS,
    &SNS_LIST_SUBSCRIPTIONS_BY_TOPIC,
];

/// The RDS event subscriptions that alert on an instance's or a cluster's
/// backups.
const fn backup_event_subscriptions() -> Attribute {
    attr(
        "backup_event_subscriptions",
        AttrType::ObjectList(BACKUP_EVENT_SUBSCRIPTION_FIELDS),
        "Enabled RDS event subscriptions covering this resource (its source type, or every \
         type; all sources of the type, or this one) with the backup category or all \
         categories, each with its SNS topic and whether the topic has a confirmed \
         subscription (empty: none)",
        BACKUP_EVENT_SUBSCRIPTION_CALLS,
    )
    .live_only()
}

pub static RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType {
        name: DB_INSTANCE,
        doc: "An RDS DB instance (standalone, or a member of an Aurora cluster)",
        listing: &[&RDS_DESCRIBE_DB_INSTANCES],
        tag_calls: &[],
        attributes: &[
            attr(
                "engine",
                STR,
                "Database engine (postgres, mysql, aurora-postgresql, ...)",
                &[],
            ),
            attr("engine_version", STR, "Engine version", &[]),
            attr(
                "instance_class",
                STR,
                "Instance class (db.t3.micro, ...)",
                &[],
            ),
            attr("cluster_id", STR, "Aurora cluster it belongs to", &[])
                .or_none("standalone, not in a cluster"),
            attr(
                "backup_retention_days",
                INT,
                "Days automated backups are kept (0: backups off)",
                &[],
            ),
            attr(
                "backup_window",
                STR,
                "Daily backup window, hh:mm-hh:mm UTC",
                &[],
            )
            .or_none("AWS names no backup window"),
            attr(
                "maintenance_window",
                STR,
                "Weekly maintenance window, ddd:hh:mm-ddd:hh:mm UTC",
                &[],
            ),
            attr(
                "multi_az",
                BOOL,
                "A standby in another Availability Zone takes over on failure",
                &[],
            ),
            attr(
                "storage_encrypted",
                BOOL,
                "Storage (and so its backups and snapshots) is encrypted",
                &[],
            ),
            attr("kms_key_id", STR, "KMS key that encrypts the storage", &[])
                .or_none("storage is not encrypted"),
            attr(
                "kms_key_managed_by",
                KEY_MANAGERS,
                "Who manages that KMS key: AWS or CUSTOMER",
                &[&KMS_DESCRIBE_KEY],
            )
            .or_none("no KMS key"),
            attr(
                "deletion_protection",
                BOOL,
                "The instance cannot be deleted until this is turned off",
                &[],
            ),
            attr(
                "copy_tags_to_snapshot",
                BOOL,
                "Tags are copied to snapshots",
                &[],
            ),
            attr(
                "publicly_accessible",
                BOOL,
                "The instance has a public IP address",
                &[],
            ),
            attr(
                "latest_restorable_time",
                TIME,
                "Latest time point-in-time restore can reach",
                &[],
            )
            .or_none("automated backups are off")
            .live_only(),
            attr(
                "backup_replication_regions",
                STR_LIST,
                "Regions holding replicated automated backups (empty: not replicated)",
                &[],
            ),
            attr(
                "backup_replications",
                AttrType::ObjectList(BACKUP_REPLICATION_FIELDS),
                "The automated backups replicated to other regions, each read in the region \
                 holding it (empty: not replicated; unknown when a holding region could not be \
                 read)",
                &[&RDS_DESCRIBE_DB_INSTANCE_AUTOMATED_BACKUPS],
            )
            .live_only(),
            attr(
                "cross_region_copy_time",
                TIME,
                "Creation time of the newest snapshot of this instance held in another region: \
                 the audited ones and those of the reading rule's `copy_regions` param (empty: \
                 every region RDS can copy snapshots between, from DescribeSourceRegions); \
                 unknown when one of them could not be listed",
                &[&RDS_DESCRIBE_DB_SNAPSHOTS, &RDS_DESCRIBE_SOURCE_REGIONS],
            )
            .or_none("no copy in any of those regions")
            .live_only(),
            attr(
                "backup_plan_ids",
                STR_LIST,
                BACKUP_PLAN_IDS_DOC,
                BACKUP_ASSIGNMENT_CALLS,
            )
            .live_only(),
            AWS_BACKUP_CROSS_REGION_COPY_TIME,
            backup_event_subscriptions(),
        ],
    },
    ResourceType {
        name: DB_CLUSTER,
        doc: "An RDS (Aurora or Multi-AZ) DB cluster",
        listing: &[&RDS_DESCRIBE_DB_CLUSTERS],
        tag_calls: &[],
        attributes: &[
            attr(
                "engine",
                STR,
                "Database engine (aurora-postgresql, ...)",
                &[],
            ),
            attr("engine_version", STR, "Engine version", &[]),
            attr(
                "backup_retention_days",
                INT,
                "Days automated backups are kept",
                &[],
            ),
            attr(
                "backup_window",
                STR,
                "Daily backup window, hh:mm-hh:mm UTC",
                &[],
            )
            .or_none("AWS names no backup window"),
            attr("maintenance_window", STR, "Weekly maintenance window", &[]),
            attr(
                "multi_az",
                BOOL,
                "Instances in more than one Availability Zone",
                &[],
            ),
            attr("storage_encrypted", BOOL, "Storage is encrypted", &[]),
            attr("kms_key_id", STR, "KMS key that encrypts the storage", &[])
                .or_none("storage is not encrypted"),
            attr(
                "kms_key_managed_by",
                KEY_MANAGERS,
                "Who manages that KMS key: AWS or CUSTOMER",
                &[&KMS_DESCRIBE_KEY],
            )
            .or_none("no KMS key"),
            attr(
                "deletion_protection",
                BOOL,
                "The cluster cannot be deleted until this is turned off",
                &[],
            ),
            attr(
                "copy_tags_to_snapshot",
                BOOL,
                "Tags are copied to snapshots",
                &[],
            ),
            attr(
                "latest_restorable_time",
                TIME,
                "Latest time point-in-time restore can reach",
                &[],
            )
            .live_only(),
            attr(
                "members",
                STR_LIST,
                "DB instance identifiers of the cluster's members",
                &[],
            ),
            attr(
                "backup_plan_ids",
                STR_LIST,
                BACKUP_PLAN_IDS_DOC,
                BACKUP_ASSIGNMENT_CALLS,
            )
            .live_only(),
            AWS_BACKUP_CROSS_REGION_COPY_TIME,
            // So that one rule judges standalone instances and clusters
            // alike with `cluster_id: { absent: true }`.
            attr(
                "cluster_id",
                STR,
                "Always none: a cluster is no member of a cluster (as for a standalone instance)",
                &[],
            )
            .or_none("not in a cluster"),
            backup_event_subscriptions(),
        ],
    },
    ResourceType {
        name: DB_SNAPSHOT,
        doc: "An RDS DB snapshot or DB cluster snapshot (Aurora, Multi-AZ cluster), manual or automated (copies included)",
        listing: &[
            &RDS_DESCRIBE_DB_SNAPSHOTS,
            &RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS,
        ],
        tag_calls: &[],
        attributes: &[
            attr(
                "snapshot_type",
                AttrType::Str {
                    values: &["manual", "automated"],
                },
                "manual (copies included) or automated",
                &[],
            ),
            attr(
                "source_id",
                STR,
                "DB instance (for a cluster snapshot: DB cluster) the snapshot was taken of",
                &[],
            ),
            attr(
                "source_kind",
                AttrType::Str {
                    values: &["instance", "cluster"],
                },
                "Whether the snapshot is of a DB instance or a DB cluster",
                &[],
            ),
            attr(
                "source_region",
                STR,
                "Region the snapshot was copied from",
                &[],
            )
            .or_none("not a copy"),
            attr("encrypted", BOOL, "The snapshot is encrypted", &[]),
            attr("kms_key_id", STR, "KMS key that encrypts it", &[]).or_none("not encrypted"),
            attr("created_at", TIME, "When the snapshot was taken", &[]).live_only(),
            attr(
                "public",
                BOOL,
                "Anyone can restore it (restore attribute holds \"all\")",
                &[
                    &RDS_DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
                    &RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES,
                ],
            ),
            attr(
                "shared_with",
                STR_LIST,
                "Account ids allowed to restore it",
                &[
                    &RDS_DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
                    &RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES,
                ],
            ),
        ],
    },
    ResourceType {
        name: S3_BUCKET,
        doc: "An S3 bucket",
        listing: &[&S3_LIST_BUCKETS, &S3_GET_BUCKET_LOCATION],
        tag_calls: &[&S3_GET_BUCKET_TAGGING],
        attributes: &[
            attr(
                "encryption",
                AttrType::Str {
                    values: &["none", "AES256", "aws:kms", "aws:kms:dsse"],
                },
                "Default encryption of new objects",
                &[&S3_GET_BUCKET_ENCRYPTION],
            ),
            attr(
                "kms_key_id",
                STR,
                "KMS key of the default encryption",
                &[&S3_GET_BUCKET_ENCRYPTION],
            )
            .or_none("default encryption does not use KMS"),
            attr(
                "versioning",
                AttrType::Str {
                    values: &["Enabled", "Suspended", "Disabled"],
                },
                "Versioning status (Disabled: never enabled)",
                &[&S3_GET_BUCKET_VERSIONING],
            ),
            attr(
                "lifecycle_rules",
                AttrType::ObjectList(LIFECYCLE_RULE_FIELDS),
                "Lifecycle rules",
                &[&S3_GET_BUCKET_LIFECYCLE],
            ),
            attr(
                "replication_rules",
                AttrType::ObjectList(REPLICATION_RULE_FIELDS),
                "Replication rules",
                &[&S3_GET_BUCKET_REPLICATION, &S3_HEAD_BUCKET],
            ),
            attr(
                "object_lock_enabled",
                BOOL,
                "Object Lock is enabled",
                &[&S3_GET_OBJECT_LOCK],
            ),
            attr(
                "public_access_blocked",
                BOOL,
                "All four bucket-level public-access-block flags are on",
                &[&S3_GET_PUBLIC_ACCESS_BLOCK],
            ),
            attr(
                "backup_plan_ids",
                STR_LIST,
                BACKUP_PLAN_IDS_DOC,
                &[
                    &BACKUP_LIST_BACKUP_PLANS,
                    &BACKUP_LIST_BACKUP_SELECTIONS,
                    &BACKUP_GET_BACKUP_SELECTION,
                    &S3_GET_BUCKET_TAGGING,
                ],
            )
            .live_only(),
        ],
    },
    ResourceType {
        name: S3_EXPORT_LOCATION,
        doc: "A configured bucket + prefix where scheduled data exports land",
        listing: &[&S3_LIST_OBJECTS_V2],
        tag_calls: &[],
        attributes: &[
            attr("bucket", STR, "Bucket name", &[]),
            attr("prefix", STR, "Key prefix", &[]),
            attr(
                "max_age",
                STR,
                "Age the newest export may reach, from the configuration (e.g. `26h`)",
                &[],
            )
            .or_none("the rule's default"),
            attr(
                "latest_object_time",
                TIME,
                "Last-modified time of the newest object",
                &[],
            )
            .or_none("no objects")
            .live_only(),
            attr(
                "object_count",
                INT,
                "Number of objects under the prefix",
                &[],
            )
            .live_only(),
            attr(
                "total_bytes",
                INT,
                "Total size of the objects under the prefix",
                &[],
            )
            .live_only(),
        ],
    },
    ResourceType {
        name: ECR_REPOSITORY,
        doc: "An ECR container image repository",
        listing: &[&ECR_DESCRIBE_REPOSITORIES],
        tag_calls: &[&ECR_LIST_TAGS],
        attributes: &[
            attr(
                "tag_mutability",
                AttrType::Str {
                    values: &[
                        "MUTABLE",
                        "IMMUTABLE",
                        "MUTABLE_WITH_EXCLUSION",
                        "IMMUTABLE_WITH_EXCLUSION",
                    ],
                },
                "Whether image tags can be overwritten",
                &[],
            ),
            attr("scan_on_push", BOOL, "Images are scanned when pushed", &[]),
            attr(
                "encryption",
                AttrType::Str {
                    values: &["AES256", "KMS", "KMS_DSSE"],
                },
                "Encryption type",
                &[],
            ),
            attr("kms_key_id", STR, "KMS key (when encryption is KMS)", &[])
                .or_none("not encrypted with KMS"),
            attr(
                "lifecycle_policy",
                BOOL,
                "A lifecycle policy exists",
                &[&ECR_GET_LIFECYCLE_POLICY],
            ),
            attr(
                "lifecycle_rules",
                AttrType::ObjectList(ECR_LIFECYCLE_RULE_FIELDS),
                "The lifecycle policy's rules",
                &[&ECR_GET_LIFECYCLE_POLICY],
            ),
            attr(
                "replication_regions",
                STR_LIST,
                "Regions the registry's replication rules copy this repository to",
                &[&ECR_DESCRIBE_REGISTRY],
            ),
        ],
    },
    ResourceType {
        name: LOG_GROUP,
        doc: "A CloudWatch Logs log group",
        listing: &[&LOGS_DESCRIBE_LOG_GROUPS],
        tag_calls: &[&LOGS_LIST_TAGS],
        attributes: &[
            attr("retention_days", INT, "Days events are kept", &[]).or_none("events never expire"),
            attr("kms_key_id", STR, "KMS key that encrypts the log data", &[])
                .or_none("not encrypted with a KMS key"),
            attr("stored_bytes", INT, "Bytes stored", &[]).live_only(),
            attr(
                "subscription_destinations",
                STR_LIST,
                "ARNs that subscription filters send events to: the group's own filters and the \
                 account-level subscription filter policies that cover it",
                &[
                    &LOGS_DESCRIBE_SUBSCRIPTION_FILTERS,
                    &LOGS_DESCRIBE_ACCOUNT_POLICIES,
                ],
            ),
        ],
    },
    ResourceType {
        name: SECRET,
        doc: "A Secrets Manager secret (scheduled deletions included; a replica is listed in its \
              own region with the primary's region in primary_region)",
        listing: &[&SECRETS_LIST_SECRETS],
        tag_calls: &[],
        attributes: &[
            attr("name", STR, "The secret's name", &[]),
            attr("kms_key_id", STR, "KMS key that encrypts the secret", &[])
                .or_none("encrypted with the AWS managed key aws/secretsmanager"),
            attr(
                "primary_region",
                STR,
                "Region of the primary secret: its own region, unless this is a replica of a \
                 secret in another region",
                &[],
            ),
            attr(
                "replica_regions",
                STR_LIST,
                "Regions holding an in-sync replica of the secret (empty: not replicated)",
                &[&SECRETS_DESCRIBE_SECRET],
            ),
            attr(
                "replicas",
                AttrType::ObjectList(SECRET_REPLICA_FIELDS),
                "Every replica of the secret with its replication status, failed ones included \
                 (empty: not replicated)",
                &[&SECRETS_DESCRIBE_SECRET],
            )
            .live_only(),
            attr(
                "deleted_date",
                TIME,
                "When its deletion was requested: it is deleted for good at the end of its \
                 recovery window (7 to 30 days later) unless restored",
                &[],
            )
            .or_none("not scheduled for deletion"),
            attr(
                "rotation_enabled",
                BOOL,
                "Automatic rotation is turned on",
                &[],
            ),
        ],
    },
    ResourceType {
        name: BACKUP_PLAN,
        doc: "An AWS Backup plan",
        listing: &[&BACKUP_LIST_BACKUP_PLANS],
        tag_calls: &[],
        attributes: &[
            attr("name", STR, "The plan's name", &[]),
            attr(
                "rules",
                AttrType::ObjectList(BACKUP_PLAN_RULE_FIELDS),
                "The plan's backup rules",
                &[&BACKUP_GET_BACKUP_PLAN],
            ),
            attr(
                "has_selections",
                BOOL,
                "At least one resource selection assigns resources to the plan",
                &[&BACKUP_LIST_BACKUP_SELECTIONS],
            ),
            attr(
                "protected_resource_arns",
                STR_LIST,
                "ARNs of the audited RDS instances and clusters and S3 buckets its selections \
                 assign (resources of other services are not listed); unknown when a selection \
                 could not be read or depends on tags that could not be read",
                &[
                    &BACKUP_LIST_BACKUP_SELECTIONS,
                    &BACKUP_GET_BACKUP_SELECTION,
                    &RDS_DESCRIBE_DB_INSTANCES,
                    &RDS_DESCRIBE_DB_CLUSTERS,
                    &S3_LIST_BUCKETS,
                    &S3_GET_BUCKET_LOCATION,
                    &S3_GET_BUCKET_TAGGING,
                ],
            )
            .live_only(),
        ],
    },
    ResourceType {
        name: BACKUP_VAULT,
        doc: "An AWS Backup vault",
        listing: &[&BACKUP_LIST_BACKUP_VAULTS],
        tag_calls: &[],
        attributes: &[
            attr("name", STR, "The vault's name", &[]),
            attr(
                "encryption_key_arn",
                STR,
                "KMS key that encrypts its recovery points",
                &[],
            )
            .or_none("AWS names no key (an AWS-owned key)"),
            attr(
                "kms_key_managed_by",
                KEY_MANAGERS,
                "Who manages that KMS key: AWS or CUSTOMER",
                &[&KMS_DESCRIBE_KEY],
            )
            .or_none("no KMS key named"),
            attr(
                "locked",
                BOOL,
                "Vault Lock applies: recovery points cannot be deleted before their retention ends",
                &[&BACKUP_DESCRIBE_BACKUP_VAULT],
            ),
            attr(
                "lock_min_retention_days",
                INT,
                "Shortest retention the vault lock allows",
                &[&BACKUP_DESCRIBE_BACKUP_VAULT],
            )
            .or_none("no vault lock, or one without a minimum"),
            attr(
                "lock_max_retention_days",
                INT,
                "Longest retention the vault lock allows",
                &[&BACKUP_DESCRIBE_BACKUP_VAULT],
            )
            .or_none("no vault lock, or one without a maximum"),
            attr(
                "lock_date",
                TIME,
                "When the vault lock became (or becomes) immutable: from then on nobody, \
                 the account's administrators included, can remove it (compliance mode)",
                &[&BACKUP_DESCRIBE_BACKUP_VAULT],
            )
            .or_none(
                "no vault lock, or a governance-mode lock that anyone allowed to call \
                 DeleteBackupVaultLockConfiguration can remove",
            )
            .live_only(),
            attr(
                "recovery_points",
                INT,
                "Number of recovery points it holds",
                &[],
            )
            .live_only(),
        ],
    },
    ResourceType {
        name: BACKUP_PROTECTED_RESOURCE,
        doc: "A resource AWS Backup has backed up in this region (id: its ARN)",
        listing: &[&BACKUP_LIST_PROTECTED_RESOURCES],
        tag_calls: &[],
        attributes: &[
            attr("resource_arn", STR, "ARN of the backed-up resource", &[]).live_only(),
            attr(
                "resource_type",
                STR,
                "AWS Backup's name for its type (RDS, Aurora, EBS, DynamoDB, S3, ...)",
                &[],
            )
            .live_only(),
            attr(
                "last_backup_time",
                TIME,
                "When AWS Backup last backed it up",
                &[],
            )
            .live_only(),
            attr(
                "last_recovery_point_time",
                TIME,
                "Creation time of its newest COMPLETED recovery point in this region",
                &[&BACKUP_LIST_RECOVERY_POINTS_BY_RESOURCE],
            )
            .or_none("no completed recovery point in this region")
            .live_only(),
            attr(
                "plan_ids",
                STR_LIST,
                "Backup plans whose backup jobs backed it up, as far back as AWS Backup lists \
                 jobs (empty: on-demand backups only)",
                &[&BACKUP_LIST_BACKUP_JOBS],
            )
            .live_only(),
            attr(
                "last_restore_job_time",
                TIME,
                "Completion time of its newest finished restore job (COMPLETED, FAILED or \
                 ABORTED), as far back as AWS Backup lists restore jobs",
                &[&BACKUP_LIST_RESTORE_JOBS_BY_PROTECTED_RESOURCE],
            )
            .or_none("no finished restore job")
            .live_only(),
            attr(
                "last_restore_job_status",
                AttrType::Str {
                    values: &["COMPLETED", "FAILED", "ABORTED"],
                },
                "Status of that restore job",
                &[&BACKUP_LIST_RESTORE_JOBS_BY_PROTECTED_RESOURCE],
            )
            .or_none("no finished restore job")
            .live_only(),
            attr(
                "last_restore_duration_seconds",
                INT,
                "Seconds from creation to completion of that restore job",
                &[&BACKUP_LIST_RESTORE_JOBS_BY_PROTECTED_RESOURCE],
            )
            .in_unit(TimeUnit::Seconds)
            .or_none("no finished restore job, or the last one did not complete")
            .live_only(),
        ],
    },
];

pub fn resource_type(name: &str) -> Option<&'static ResourceType> {
    RESOURCE_TYPES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_and_attribute_names_are_unique() {
        let mut types: Vec<_> = RESOURCE_TYPES.iter().map(|t| t.name).collect();
        types.sort();
        types.dedup();
        assert_eq!(types.len(), RESOURCE_TYPES.len());
        for ty in RESOURCE_TYPES {
            let mut names: Vec<_> = ty.attributes.iter().map(|a| a.name).collect();
            names.extend(COMMON_ATTRIBUTES.iter().map(|a| a.name));
            let n = names.len();
            names.sort();
            names.dedup();
            assert_eq!(n, names.len(), "duplicate attribute in {}", ty.name);
        }
    }

    #[test]
    fn every_operation_is_read_only() {
        for op in ops::ALL {
            // AssumeRole changes nothing in the account: it hands out
            // temporary credentials of a role the account's owner made for
            // the audit.
            let enters_an_account = std::ptr::eq(*op, &ops::STS_ASSUME_ROLE);
            assert!(
                enters_an_account
                    || ["Describe", "Get", "List", "Head"]
                        .iter()
                        .any(|p| op.name.starts_with(p)),
                "{} is not a Describe/Get/List/Head call",
                op.name
            );
        }
    }

    /// Cluster snapshots are `aws.rds.db_snapshot`s: a rule on the type
    /// lists both kinds, and reading who may restore a snapshot takes both
    /// attribute calls.
    #[test]
    fn snapshot_rules_cover_cluster_snapshots() {
        let snapshot = resource_type(DB_SNAPSHOT).unwrap();
        assert_eq!(
            snapshot.operations_for(["public"], false),
            [
                &RDS_DESCRIBE_DB_SNAPSHOTS,
                &RDS_DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
                &RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS,
                &RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES,
            ]
            .into_iter()
            .collect()
        );
        assert_eq!(
            snapshot.operations_for(["encrypted", "snapshot_type"], false),
            [
                &RDS_DESCRIBE_DB_SNAPSHOTS,
                &RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS
            ]
            .into_iter()
            .collect()
        );
        // An instance's cross-region copies are instance snapshots only.
        let instance = resource_type(DB_INSTANCE).unwrap();
        assert!(
            !instance
                .operations_for(["cross_region_copy_time"], false)
                .contains(&RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS)
        );
    }
}
