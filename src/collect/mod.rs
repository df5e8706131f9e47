//! Live collection: reads AWS accounts into an [`Inventory`].
//!
//! The calling credentials' own account, or several accounts entered with
//! AssumeRole (`accounts`). One SDK configuration per account and audited
//! region; every account × region × service runs concurrently, and every
//! call waits for a slot under one global limit and one per (account,
//! region, service) (`limits`). The [`Plan`] decides which calls are made
//! at all. A call that fails after retries is recorded as a
//! [`CollectionError`] (its results become `error`, never pass); the
//! documented "not configured" answers are facts; an account that cannot be
//! entered is an error for every rule there. [`collect`] itself fails only
//! when nothing can be audited (no region, no credentials, STS or
//! Organizations unreachable).

mod accounts;
mod backup_plans;
mod backup_points;
mod calls;
mod ecr;
mod errors;
mod limits;
mod logs;
mod plan;
mod progress;
mod rds;
mod s3;
mod sdk;
mod secrets;
mod sns;
mod sts;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use crate::model::schema::{self, AttrType, Operation, ResourceType};
use crate::model::{
    AccountSource, CollectionError, ExportLocation, Inventory, Resource, Source, Value,
};

pub use accounts::account_of_role;
use limits::Limits;
pub use plan::{CopyRegions, Plan};
use progress::Progress;
pub use progress::ProgressDisplay;

/// Credentials type accepted by [`SdkOverrides`] (the SDK's static credentials).
#[doc(hidden)]
pub use aws_sdk_sts::config::Credentials;

// Every service crate re-exports the same smithy types (errors, raw
// answers, timestamps); they are named once, here, for all services.
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::primitives::DateTime;

/// What to collect and how.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Regions to audit; empty: the region of the standard config chain
    /// (`AWS_REGION`, the profile), an error when there is none. With
    /// `all_regions`, the first (else the chain's, else us-east-1) is only
    /// where the account-wide calls go.
    pub regions: Vec<String>,
    /// Audit every region enabled for each account (asked of EC2).
    pub all_regions: bool,
    /// Which accounts to audit.
    pub accounts: AccountsToAudit,
    /// Named profile (otherwise `AWS_PROFILE` or `default`).
    pub profile: Option<String>,
    /// Most AWS calls in flight at once, over all accounts and regions.
    pub concurrency: usize,
    /// Most AWS calls in flight at once per (account, region, service),
    /// where AWS counts its rate limits.
    pub concurrency_per_service: usize,
    /// Time limit of one call including its retries; one attempt gets at
    /// most 10 s of it.
    pub operation_timeout: Duration,
    /// Which calls to make.
    pub plan: Plan,
    /// Where scheduled exports land (`aws.s3.export_location`).
    pub export_locations: Vec<ExportLocation>,
    /// How to show progress on stderr.
    pub progress: ProgressDisplay,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            regions: Vec::new(),
            all_regions: false,
            accounts: AccountsToAudit::Caller,
            profile: None,
            concurrency: 16,
            concurrency_per_service: 4,
            operation_timeout: Duration::from_secs(30),
            plan: Plan::everything(),
            export_locations: Vec::new(),
            progress: ProgressDisplay::Off,
        }
    }
}

/// Which accounts an audit reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AccountsToAudit {
    /// The calling credentials' own account.
    #[default]
    Caller,
    /// One account per role (`--role-arn`).
    Roles {
        role_arns: Vec<String>,
        external_id: Option<String>,
    },
    /// These accounts, each through the role of this name (`accounts:` in
    /// backstop.yaml).
    Listed {
        ids: Vec<String>,
        role_name: String,
        external_id: Option<String>,
    },
    /// Every active account of the organisation, or of one organisational
    /// unit and the units below it (`--org`), each through the role of this
    /// name.
    Organization {
        role_name: String,
        external_id: Option<String>,
        unit: Option<String>,
    },
}

/// Nothing could be audited. The message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(
        "no AWS region configured: pass --regions, set AWS_REGION, or set a region in the \
         AWS profile (or run with --demo)"
    )]
    NoRegion,
    #[error(
        "no AWS credentials found ({detail}): set AWS_PROFILE or AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY, run `aws sso login` for an SSO profile, or run with --demo"
    )]
    NoCredentials { detail: String },
    #[error(
        "AWS rejected the credentials ({code}: {message}): refresh them (e.g. `aws sso \
         login`) or choose another profile with --profile / AWS_PROFILE"
    )]
    InvalidCredentials { code: String, message: String },
    #[error(
        "cannot reach AWS at {endpoint} ({code}: {detail}): check the network, proxy \
         settings and AWS_ENDPOINT_URL, or run with --demo"
    )]
    Unreachable {
        endpoint: String,
        code: String,
        detail: String,
    },
    #[error(
        "cannot identify the AWS account: STS GetCallerIdentity failed in {region} \
         ({code}: {message}); check the credentials and try again"
    )]
    Identity {
        region: String,
        code: String,
        message: String,
    },
    #[error(
        "cannot list the organisation's accounts: Organizations {operation} failed ({code}: \
         {message}); run from the management account or a delegated administrator with \
         organizations:ListAccounts (`backstop iam-policy --org` prints the policy), or name \
         the accounts with --role-arn"
    )]
    Organization {
        operation: String,
        code: String,
        message: String,
    },
    #[error(
        "cannot list the account's enabled regions for --regions all: EC2 DescribeRegions \
         failed in {region} ({code}: {message}); allow ec2:DescribeRegions or name the regions \
         with --regions"
    )]
    Regions {
        region: String,
        code: String,
        message: String,
    },
    #[error("no account to audit: {0}")]
    NoAccounts(String),
}

/// Test hooks: how the tests point collection at a local endpoint without
/// touching the process environment (tests run in parallel threads). The
/// CLI uses the standard chain (`AWS_ENDPOINT_URL`, `AWS_PROFILE`, ...).
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct SdkOverrides {
    pub endpoint_url: Option<String>,
    pub credentials: Option<Credentials>,
    /// Attempts per call (default: the config chain's, else 3).
    pub max_attempts: Option<u32>,
    /// Page size of every paginated listing (clamped to each API's limits),
    /// so pagination can be exercised with few resources.
    pub page_size: Option<i32>,
}

/// The inventory plus how many calls each operation took (pages counted
/// individually; SDK retries not counted).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Collected {
    pub inventory: Inventory,
    /// `service:Operation` → calls.
    pub calls: BTreeMap<String, u64>,
}

impl Collected {
    pub fn calls_to(&self, op: &Operation) -> u64 {
        self.calls.get(&call_key(op)).copied().unwrap_or(0)
    }
}

/// Reads the account: every resource the plan needs in every audited region.
pub async fn collect(options: &CollectOptions) -> Result<Inventory, CollectError> {
    collect_with(options, &SdkOverrides::default())
        .await
        .map(|c| c.inventory)
}

/// [`collect`] with test overrides, also returning call counts.
#[doc(hidden)]
pub async fn collect_with(
    options: &CollectOptions,
    overrides: &SdkOverrides,
) -> Result<Collected, CollectError> {
    let setup = sdk::load(options, overrides).await?;
    let caller = sts::caller(&setup, options.profile.as_deref()).await?;
    let run = Run {
        plan: &options.plan,
        export_locations: &options.export_locations,
        concurrency: options.concurrency.max(1),
        page_size: overrides.page_size,
        caller_account: caller.account.clone(),
        limits: Limits::new(options.concurrency, options.concurrency_per_service),
        calls: Mutex::new(BTreeMap::from([(
            call_key(&schema::ops::STS_GET_CALLER_IDENTITY),
            1,
        )])),
        progress: Progress::start(options.progress),
    };
    let read = if options.accounts == AccountsToAudit::Caller {
        run.own_account(setup, &caller.account, options.all_regions)
            .await?
    } else {
        let targets = accounts::targets(&run, &setup, &caller, &options.accounts).await?;
        let each = targets
            .iter()
            .map(|target| run.other_account(&setup, target, options.all_regions));
        Read::all(futures::future::join_all(each).await)
    };
    run.progress.finish();

    let Read {
        mut resources,
        mut errors,
        regions,
        accounts,
    } = read;
    let order = |r: &Resource| {
        schema::RESOURCE_TYPES
            .iter()
            .position(|t| std::ptr::eq(t, r.resource_type))
    };
    resources.sort_by(|a, b| {
        (order(a), &a.account, &a.region, &a.id).cmp(&(order(b), &b.account, &b.region, &b.id))
    });
    errors.sort_by(|a, b| {
        (
            &a.account,
            &a.resource_type,
            &a.region,
            &a.resource_id,
            &a.operation,
        )
            .cmp(&(
                &b.account,
                &b.resource_type,
                &b.region,
                &b.resource_id,
                &b.operation,
            ))
    });
    let calls = run.calls.into_inner().expect("no panics while locked");
    tracing::debug!(?calls, "AWS calls made");
    let account = match accounts.as_slice() {
        [] => Some(caller.account),
        [one] => Some(one.id.clone()),
        _ => None,
    };
    Ok(Collected {
        inventory: Inventory {
            source: Source {
                kind: "live".to_string(),
                account,
                regions,
                accounts,
            },
            collected_at: Some(Timestamp::now()),
            resources,
            errors,
        },
        calls,
    })
}

/// What a run read.
struct Read {
    resources: Vec<Resource>,
    errors: Vec<CollectionError>,
    /// Every audited region, in any account.
    regions: Vec<String>,
    /// The accounts of a multi-account run; empty for the caller's own.
    accounts: Vec<AccountSource>,
}

impl Read {
    /// One read of several accounts.
    fn all(each: Vec<(Vec<Resource>, Vec<CollectionError>, AccountSource)>) -> Read {
        let mut read = Read {
            resources: Vec::new(),
            errors: Vec::new(),
            regions: Vec::new(),
            accounts: Vec::new(),
        };
        for (resources, errors, source) in each {
            read.resources.extend(resources);
            read.errors.extend(errors);
            read.regions.extend(source.regions.iter().cloned());
            read.accounts.push(source);
        }
        read.regions.sort();
        read.regions.dedup();
        read
    }
}

/// What every account's collection shares: the plan, the call limits,
/// the call counts and the progress display.
pub(crate) struct Run<'a> {
    plan: &'a Plan,
    export_locations: &'a [ExportLocation],
    /// Bound of concurrently polled per-resource futures in one collector.
    concurrency: usize,
    page_size: Option<i32>,
    /// The calling credentials' account, where AssumeRole calls count.
    caller_account: String,
    limits: Limits,
    calls: Mutex<BTreeMap<String, u64>>,
    progress: Progress,
}

impl Run<'_> {
    /// Counts one call (or one page) of `op`.
    fn count(&self, op: &Operation) {
        *self
            .calls
            .lock()
            .expect("no panics while locked")
            .entry(call_key(op))
            .or_default() += 1;
        self.progress.call();
    }

    /// The collection context of `account`, with `clients` per region.
    fn ctx<'r>(
        &'r self,
        setup: &'r sdk::Setup,
        account: &str,
        clients: BTreeMap<String, sdk::Clients>,
    ) -> Ctx<'r> {
        Ctx {
            run: self,
            plan: self.plan,
            concurrency: self.concurrency,
            progress: &self.progress,
            account: account.to_string(),
            setup,
            clients,
            errors: Mutex::new(Vec::new()),
        }
    }

    /// A context for single calls in `account` outside its collection
    /// (entering it, listing its regions); its errors are not kept.
    fn lone_ctx_for<'r>(&'r self, setup: &'r sdk::Setup, account: &str) -> Ctx<'r> {
        self.ctx(setup, account, BTreeMap::new())
    }

    /// [`Run::lone_ctx_for`] the calling account.
    fn lone_ctx<'r>(&'r self, setup: &'r sdk::Setup) -> Ctx<'r> {
        self.lone_ctx_for(setup, &self.caller_account)
    }

    /// Reads the calling credentials' own account.
    async fn own_account(
        &self,
        mut setup: sdk::Setup,
        account: &str,
        all_regions: bool,
    ) -> Result<Read, CollectError> {
        if all_regions {
            let home = setup.regions[0].clone();
            let listed = {
                let ctx = self.lone_ctx_for(&setup, account);
                accounts::enabled_regions(&ctx, &setup, &home).await
            };
            // Without them nothing tells where the resources are.
            setup.regions = listed.map_err(|failure| CollectError::Regions {
                region: home,
                code: failure.code,
                message: failure.message,
            })?;
        }
        let (resources, errors) = self.account(&setup, account).await;
        Ok(Read {
            resources,
            errors,
            regions: setup.regions.clone(),
            accounts: Vec::new(),
        })
    }

    /// Enters another account and reads it; one that cannot be entered
    /// gives an error for every resource type the plan reads, in every
    /// region asked for.
    async fn other_account(
        &self,
        base: &sdk::Setup,
        target: &accounts::Target,
        all_regions: bool,
    ) -> (Vec<Resource>, Vec<CollectionError>, AccountSource) {
        match accounts::enter(self, base, target, all_regions).await {
            accounts::Entry::Readable { setup, source } => {
                let (resources, mut errors) = self.account(&setup, &source.id).await;
                for error in &mut errors {
                    error.account = Some(source.id.clone());
                }
                (resources, errors, source)
            }
            accounts::Entry::Unreadable {
                source,
                operation,
                failure,
            } => {
                // The regions asked for, or, when they were to be listed,
                // all of them at once.
                let regions = if source.regions.is_empty() {
                    vec!["*".to_string()]
                } else {
                    source.regions.clone()
                };
                let mut errors = Vec::new();
                for kind in schema::RESOURCE_TYPES
                    .iter()
                    .filter(|t| self.plan.needs_type(t))
                {
                    for region in &regions {
                        let mut error =
                            errors::listing_error(operation, region, kind, failure.clone());
                        error.account = Some(source.id.clone());
                        errors.push(error);
                    }
                }
                (Vec::new(), errors, source)
            }
        }
    }

    /// Reads one account: every resource the plan needs in its regions.
    async fn account(
        &self,
        setup: &sdk::Setup,
        account: &str,
    ) -> (Vec<Resource>, Vec<CollectionError>) {
        let clients = setup
            .regions
            .iter()
            .map(|r| (r.clone(), sdk::Clients::new(setup, r)))
            .collect();
        let ctx = self.ctx(setup, account, clients);
        let ctx = &ctx;
        let regions = &setup.regions;
        let rds = futures::future::join_all(regions.iter().map(|r| rds::collect_region(ctx, r)));
        let ecr = futures::future::join_all(regions.iter().map(|r| ecr::collect_region(ctx, r)));
        let logs = futures::future::join_all(regions.iter().map(|r| logs::collect_region(ctx, r)));
        let copies = rds::copy_region_snapshots(ctx);
        let s3 = s3::collect(ctx, self.export_locations);
        let secrets =
            futures::future::join_all(regions.iter().map(|r| secrets::collect_region(ctx, r)));
        let backup_plans =
            futures::future::join_all(regions.iter().map(|r| backup_plans::collect_region(ctx, r)));
        let backup_points = futures::future::join_all(
            regions
                .iter()
                .map(|r| backup_points::collect_region(ctx, r)),
        );
        let (rds, copies, ecr, logs, s3, secrets, backup_plans, backup_points) = futures::join!(
            rds,
            copies,
            ecr,
            logs,
            s3,
            secrets,
            backup_plans,
            backup_points
        );

        let mut resources = rds::finish(ctx, rds, copies);
        let protected = backup_points::finish(ctx, backup_points, &mut resources);
        resources.extend(protected);
        resources.extend(ecr.into_iter().flatten());
        resources.extend(logs.into_iter().flatten());
        resources.extend(s3);
        resources.extend(secrets.into_iter().flatten());
        // Which plans assign which resources: known once RDS and S3 are read.
        let backup = backup_plans::finish(ctx, backup_plans, &mut resources);
        resources.extend(backup);
        let errors = std::mem::take(&mut *ctx.errors.lock().expect("no panics while locked"));
        (resources, errors)
    }
}

fn call_key(op: &Operation) -> String {
    format!("{}:{}", op.service, op.name)
}

/// The state of one account's collection.
pub(crate) struct Ctx<'a> {
    run: &'a Run<'a>,
    pub plan: &'a Plan,
    /// Bound of concurrently polled per-resource futures in one collector.
    pub concurrency: usize,
    pub progress: &'a Progress,
    pub account: String,
    setup: &'a sdk::Setup,
    clients: BTreeMap<String, sdk::Clients>,
    errors: Mutex<Vec<CollectionError>>,
}

impl Ctx<'_> {
    pub fn regions(&self) -> &[String] {
        &self.setup.regions
    }

    pub fn is_audited(&self, region: &str) -> bool {
        self.setup.regions.iter().any(|r| r == region)
    }

    /// The clients of an audited region.
    pub fn clients(&self, region: &str) -> &sdk::Clients {
        &self.clients[region]
    }

    /// An S3 client for any region (export buckets may live outside the
    /// audited ones).
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        match self.clients.get(region) {
            Some(clients) => clients.s3.clone(),
            None => self.setup.s3_client(region),
        }
    }

    /// An RDS client for any region (replicated backups and snapshot copies
    /// may live outside the audited ones).
    pub fn rds(&self, region: &str) -> aws_sdk_rds::Client {
        match self.clients.get(region) {
            Some(clients) => clients.rds.clone(),
            None => aws_sdk_rds::Client::new(&self.setup.for_region(region)),
        }
    }

    /// An AWS Backup client for any region (AWS Backup copies land in
    /// vaults outside the audited ones).
    pub fn backup(&self, region: &str) -> aws_sdk_backup::Client {
        match self.clients.get(region) {
            Some(clients) => clients.backup.clone(),
            None => aws_sdk_backup::Client::new(&self.setup.for_region(region)),
        }
    }

    /// Page size for a listing whose API accepts `min..=max` (None: the
    /// API's default).
    pub fn page_size(&self, min: i32, max: i32) -> Option<i32> {
        self.run.page_size.map(|n| n.clamp(min, max))
    }

    /// Whether a listing of `kind` failed in `region` (or failed to place
    /// a resource of `kind` in any region): not every such resource is known.
    pub fn listing_failed(&self, kind: &ResourceType, region: &str) -> bool {
        let errors = self.errors.lock().expect("no panics while locked");
        errors.iter().any(|e| {
            e.resource_type == kind.name
                && e.is_listing_failure()
                && (e.region == region || e.resource_id.is_some())
        })
    }

    pub fn record(&self, error: CollectionError) {
        tracing::debug!("{error}");
        let mut errors = self.errors.lock().expect("no panics while locked");
        errors.push(error);
        self.run.progress.failed();
    }

    /// A resource of `kind` owned by the audited account.
    pub fn resource(
        &self,
        kind: &'static ResourceType,
        id: impl Into<String>,
        arn: impl Into<String>,
        region: &str,
    ) -> Resource {
        let mut resource = Resource::new(kind, id);
        resource.arn = arn.into();
        resource.account = self.account.clone();
        resource.region = region.to_string();
        resource
    }
}

/// The region a client calls, by name (where its calls count against the
/// limits).
pub(crate) fn client_region(region: Option<&aws_config::Region>) -> String {
    region.map(ToString::to_string).unwrap_or_default()
}

/// The schema entry of a resource type.
pub(crate) fn known_type(name: &str) -> &'static ResourceType {
    schema::resource_type(name).unwrap_or_else(|| panic!("{name} is in the schema"))
}

/// Converts an SDK timestamp.
pub(crate) fn timestamp(t: &DateTime) -> Option<Timestamp> {
    Timestamp::new(t.secs(), t.subsec_nanos().try_into().ok()?).ok()
}

/// Sets a string attribute whose schema lists its possible values; a value
/// outside the list (a new AWS enum member) is left unknown with a warning,
/// so the inventory stays loadable and no rule judges a value it does not know.
pub(crate) fn set_enum(resource: &mut Resource, name: &str, value: Option<&str>) {
    let Some(value) = value else {
        resource.set(name, Value::Null);
        return;
    };
    let allowed = match resource.resource_type.attribute(name).map(|a| a.ty) {
        Some(AttrType::Str { values }) => values,
        _ => &[][..],
    };
    if allowed.is_empty() || allowed.contains(&value) {
        resource.set(name, value);
    } else {
        tracing::warn!(
            "{} {}: {name} is {value:?}, which backstop does not know; left unknown",
            resource.resource_type.name,
            resource.id
        );
        resource.set(name, Value::Unknown);
    }
}

/// Who manages a KMS key, `AWS` or `CUSTOMER` (KMS DescribeKey, in the
/// key's region when its ARN names an audited one, else in `region`).
pub(crate) async fn key_manager(
    ctx: &Ctx<'_>,
    region: &str,
    key: &str,
) -> Result<Option<String>, errors::CallFailure> {
    let op = &schema::ops::KMS_DESCRIBE_KEY;
    let key_region = arn_region(key)
        .filter(|r| ctx.is_audited(r))
        .unwrap_or(region);
    let call = ctx
        .clients(key_region)
        .kms
        .describe_key()
        .key_id(key)
        .send();
    // Without KeyManager the attribute would be absent and a rule would fail
    // for a reason that is not the key's: an error instead.
    ctx.ask(
        op,
        region,
        call,
        errors::NotConfigured::Never,
        |out| match out.key_metadata().and_then(|m| m.key_manager()) {
            Some(manager) if ["AWS", "CUSTOMER"].contains(&manager.as_str()) => {
                Ok(Some(manager.as_str().to_string()))
            }
            other => Err(errors::CallFailure::new(
                "ResponseError",
                format!(
                    "DescribeKey answered without a known KeyManager ({})",
                    other.map_or("none", |m| m.as_str())
                ),
            )),
        },
    )
    .await
}

/// The region field of an ARN (`arn:partition:service:REGION:...`).
pub(crate) fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next() == Some("arn"))
        .then(|| parts.nth(2))
        .flatten()
        .filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_regions() {
        assert_eq!(
            arn_region("arn:aws:rds:eu-west-1:123456789012:auto-backup:ab-1"),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("arn:aws:s3:::bucket"), None);
        assert_eq!(arn_region("snapshot-1"), None);
    }

    #[test]
    fn unknown_enum_values_are_left_unknown() {
        let mut r = Resource::new(known_type(schema::S3_BUCKET), "b");
        set_enum(&mut r, "versioning", Some("Enabled"));
        assert_eq!(r.get("versioning"), &Value::from("Enabled"));
        set_enum(&mut r, "versioning", Some("Sideways"));
        assert!(r.get("versioning").is_unknown());
    }
}
