//! Which accounts an audit reads, and how it enters each: the roles given
//! (`--role-arn`, `accounts:`), or every active account of the organisation
//! (`--org`, optionally one organisational unit and the units below it).
//!
//! An account is entered with STS AssumeRole from the calling credentials.
//! Its credentials come from the SDK's identity cache, which asks STS again
//! before they expire, so a long audit never runs on expired credentials.
//! An account that cannot be entered, or whose regions cannot be listed,
//! is not skipped: it is an [`Entry::Unreadable`] whose reason becomes an
//! `error` result of every rule there.

use std::collections::BTreeSet;
use std::sync::Mutex;

use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::future;
use aws_sdk_sts::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};

use std::task::{Context, Poll};

use super::{Ctx, HttpResponse, ProvideErrorMetadata, SdkError};

use super::errors::CallFailure;
use super::sdk::Setup;
use super::{AccountsToAudit, CollectError, Run};
use crate::model::AccountSource;
use crate::model::Operation;
use crate::model::schema::ops;

/// The session name AWS CloudTrail shows for backstop's calls.
pub(crate) const SESSION_NAME: &str = "backstop";

/// One account to audit and the role that enters it.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub id: String,
    /// Its name in AWS Organizations.
    pub name: Option<String>,
    pub role_arn: String,
    pub external_id: Option<String>,
}

/// Who the calling credentials are.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub account: String,
    /// `aws`, `aws-cn`, `aws-us-gov`: where role ARNs are made.
    pub partition: String,
}

/// The accounts named by `accounts`, with the role that enters each.
pub(crate) async fn targets(
    run: &Run<'_>,
    setup: &Setup,
    caller: &Caller,
    accounts: &AccountsToAudit,
) -> Result<Vec<Target>, CollectError> {
    let role_in =
        |id: &str, role_name: &str| format!("arn:{}:iam::{id}:role/{role_name}", caller.partition);
    let mut targets = match accounts {
        AccountsToAudit::Caller => Vec::new(),
        AccountsToAudit::Roles {
            role_arns,
            external_id,
        } => role_arns
            .iter()
            .map(|arn| Target {
                id: account_of_role(arn).unwrap_or_default().to_string(),
                name: None,
                role_arn: arn.clone(),
                external_id: external_id.clone(),
            })
            .collect(),
        AccountsToAudit::Listed {
            ids,
            role_name,
            external_id,
        } => ids
            .iter()
            .map(|id| Target {
                id: id.clone(),
                name: None,
                role_arn: role_in(id, role_name),
                external_id: external_id.clone(),
            })
            .collect(),
        AccountsToAudit::Organization {
            role_name,
            external_id,
            unit,
        } => organization_accounts(run, setup, unit.as_deref())
            .await?
            .into_iter()
            .map(|(id, name)| Target {
                role_arn: role_in(&id, role_name),
                id,
                name,
                external_id: external_id.clone(),
            })
            .collect(),
    };
    let mut seen = BTreeSet::new();
    targets.retain(|t| seen.insert(t.role_arn.clone()));
    if targets.is_empty() {
        // An audit of no account would pass the gate without reading anything.
        return Err(CollectError::NoAccounts(match accounts {
            AccountsToAudit::Organization {
                unit: Some(unit), ..
            } => {
                format!("the organisational unit {unit} holds no active account")
            }
            AccountsToAudit::Organization { unit: None, .. } => {
                "the organisation lists no active account".to_string()
            }
            _ => "`accounts.ids` in backstop.yaml is empty".to_string(),
        }));
    }
    Ok(targets)
}

/// The account id in a role ARN (`arn:aws:iam::123456789012:role/name`).
pub fn account_of_role(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let named_role = resource
        .strip_prefix("role/")
        .is_some_and(|name| !name.is_empty());
    (named_role && crate::model::names::check_account(account).is_ok()).then_some(account)
}

/// Active accounts (id, name) of the organisation, or of `unit` and every
/// unit below it.
async fn organization_accounts(
    run: &Run<'_>,
    setup: &Setup,
    unit: Option<&str>,
) -> Result<Vec<(String, Option<String>)>, CollectError> {
    let region = setup.regions[0].clone();
    let client = aws_sdk_organizations::Client::new(&setup.for_region(&region));
    let ctx = run.lone_ctx(setup);
    let ctx = &ctx;
    let mut listed = Vec::new();
    match unit {
        None => {
            let mut paginator = client.list_accounts().into_paginator().send();
            let op = &ops::ORGANIZATIONS_LIST_ACCOUNTS;
            let found = all_pages(
                ctx,
                op,
                &region,
                |cx| paginator.poll_next(cx),
                |p| p.next_token(),
            )
            .await?;
            listed.extend(
                found
                    .into_iter()
                    .flat_map(|p| p.accounts.unwrap_or_default()),
            );
        }
        Some(unit) => {
            // Depth first through the units below `unit`.
            let mut units = vec![unit.to_string()];
            while let Some(parent) = units.pop() {
                let request = client.list_accounts_for_parent().parent_id(&parent);
                let mut paginator = request.into_paginator().send();
                let op = &ops::ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT;
                let found = all_pages(
                    ctx,
                    op,
                    &region,
                    |cx| paginator.poll_next(cx),
                    |p| p.next_token(),
                )
                .await?;
                listed.extend(
                    found
                        .into_iter()
                        .flat_map(|p| p.accounts.unwrap_or_default()),
                );

                let request = client
                    .list_organizational_units_for_parent()
                    .parent_id(&parent);
                let mut paginator = request.into_paginator().send();
                let op = &ops::ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT;
                let found = all_pages(
                    ctx,
                    op,
                    &region,
                    |cx| paginator.poll_next(cx),
                    |p| p.next_token(),
                )
                .await?;
                units.extend(
                    found
                        .into_iter()
                        .flat_map(|p| p.organizational_units.unwrap_or_default())
                        .filter_map(|u| u.id),
                );
            }
        }
    }
    let mut accounts = Vec::new();
    for account in listed {
        let Some(id) = account.id() else { continue };
        // `State` replaces the deprecated `Status`; either says ACTIVE.
        let active = match (account.state(), account.status()) {
            (Some(state), _) => state.as_str() == "ACTIVE",
            (None, Some(status)) => status.as_str() == "ACTIVE",
            (None, None) => false,
        };
        if active {
            accounts.push((id.to_string(), account.name().map(str::to_string)));
        } else {
            tracing::info!("account {id} is not active in the organisation: not audited");
        }
    }
    accounts.sort();
    accounts.dedup();
    Ok(accounts)
}

/// Every page of an Organizations listing, or why the audit cannot go on.
async fn all_pages<P, E>(
    ctx: &Ctx<'_>,
    op: &'static Operation,
    region: &str,
    poll_page: impl FnMut(&mut Context<'_>) -> Poll<Option<Result<P, SdkError<E>>>>,
    next: impl Fn(&P) -> Option<&str>,
) -> Result<Vec<P>, CollectError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    ctx.all_pages(op, region, poll_page, next)
        .await
        .map_err(|e| {
            let failure = CallFailure::from_sdk(&e);
            CollectError::Organization {
                operation: op.name.to_string(),
                code: failure.code,
                message: failure.message,
            }
        })
}

/// An account after trying to enter it.
pub(crate) enum Entry {
    /// Entered: its credentials, its audited regions and what is known of it.
    Readable {
        setup: Box<Setup>,
        source: AccountSource,
    },
    /// Not entered (or its regions not listed): why.
    Unreadable {
        source: AccountSource,
        /// The failed call, for the error results.
        operation: &'static crate::model::Operation,
        failure: CallFailure,
    },
}

/// Enters `target` with AssumeRole and reads its alias and, with
/// `all_regions`, its enabled regions.
pub(crate) async fn enter(
    run: &Run<'_>,
    base: &Setup,
    target: &Target,
    all_regions: bool,
) -> Entry {
    let mut source = AccountSource {
        id: target.id.clone(),
        name: target.name.clone(),
        role_arn: Some(target.role_arn.clone()),
        regions: if all_regions {
            Vec::new()
        } else {
            base.regions.clone()
        },
        ..AccountSource::default()
    };
    let region = base.regions[0].clone();
    let mut role = AssumeRoleProvider::builder(&target.role_arn).session_name(SESSION_NAME);
    if let Some(external_id) = &target.external_id {
        role = role.external_id(external_id);
    }
    let role = role.configure(base.base()).build().await;
    let op = &ops::STS_ASSUME_ROLE;
    let first = {
        let _slot = run
            .limits
            .slot(&run.caller_account, &region, op.service)
            .await;
        let first = role.provide_credentials().await;
        run.count(op);
        first
    };
    let first = match first {
        Ok(credentials) => credentials,
        Err(err) => {
            let failure = assume_role_failure(&err);
            source.error = Some(format!(
                "could not assume {} ({}: {})",
                target.role_arn, failure.code, failure.message
            ));
            return Entry::Unreadable {
                source,
                operation: op,
                failure,
            };
        }
    };
    let provider = SharedCredentialsProvider::new(EnteredRole {
        first: Mutex::new(Some(first)),
        role,
    });
    let mut setup = base.with_credentials(provider, source.regions.clone());
    if all_regions {
        let listed = {
            let ctx = run.lone_ctx_for(&setup, &target.id);
            enabled_regions(&ctx, &setup, &region).await
        };
        match listed {
            Ok(regions) => {
                source.regions = regions.clone();
                setup.regions = regions;
            }
            Err(failure) => {
                source.error = Some(format!(
                    "could not list the enabled regions ({}: {})",
                    failure.code, failure.message
                ));
                return Entry::Unreadable {
                    source,
                    operation: &ops::EC2_DESCRIBE_REGIONS,
                    failure,
                };
            }
        }
    }
    source.alias = alias(&run.lone_ctx_for(&setup, &target.id), &setup, &region).await;
    Entry::Readable {
        setup: Box::new(setup),
        source,
    }
}

/// The regions enabled for the account whose credentials `setup` holds,
/// in the caller's partition.
pub(crate) async fn enabled_regions(
    ctx: &super::Ctx<'_>,
    setup: &Setup,
    home: &str,
) -> Result<Vec<String>, CallFailure> {
    let op = &ops::EC2_DESCRIBE_REGIONS;
    let client = aws_sdk_ec2::Client::new(&setup.for_region(home));
    // Without AllRegions, EC2 lists the regions enabled for the account;
    // the opt-in status is checked as well, in case a region it lists is
    // not opted in.
    let call = client.describe_regions().send();
    let answer = ctx
        .detail(op, home, call)
        .await
        .map_err(|e| CallFailure::from_sdk(&e))?;
    let partition = partition_of(home);
    let mut regions: Vec<String> = answer
        .regions()
        .iter()
        .filter(|r| r.opt_in_status() != Some("not-opted-in"))
        .filter_map(|r| r.region_name())
        .filter(|r| partition_of(r) == partition && crate::model::names::is_region(r))
        .map(str::to_string)
        .collect();
    regions.sort();
    regions.dedup();
    if regions.is_empty() {
        return Err(CallFailure::new(
            "ResponseError",
            "DescribeRegions listed no enabled region".to_string(),
        ));
    }
    Ok(regions)
}

/// The partition a region belongs to.
fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// The account's IAM alias, when it has one and may be read: only a
/// name for reports, so a refusal is logged, not an error result.
async fn alias(ctx: &super::Ctx<'_>, setup: &Setup, home: &str) -> Option<String> {
    let op = &ops::IAM_LIST_ACCOUNT_ALIASES;
    let client = aws_sdk_iam::Client::new(&setup.for_region(home));
    match ctx
        .detail(op, home, client.list_account_aliases().send())
        .await
    {
        Ok(answer) => answer.account_aliases().first().cloned(),
        Err(err) => {
            let failure = CallFailure::from_sdk(&err);
            tracing::info!(
                "account {}: no alias read ({}: {})",
                ctx.account,
                failure.code,
                failure.message
            );
            None
        }
    }
}

/// Why AssumeRole failed: STS's own error code when it answered.
fn assume_role_failure(err: &CredentialsError) -> CallFailure {
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(sdk) = e.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>() {
            return CallFailure::from_sdk(sdk);
        }
        source = e.source();
    }
    CallFailure::new("CredentialsError", super::errors::error_chain(err))
}

/// The credentials of an entered account: those AssumeRole gave when the
/// account was entered, then fresh ones each time the SDK's identity cache
/// finds them close to expiry.
#[derive(Debug)]
struct EnteredRole {
    first: Mutex<Option<Credentials>>,
    role: AssumeRoleProvider,
}

impl ProvideCredentials for EnteredRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let first = self.first.lock().expect("no panics while locked").take();
        match first {
            Some(credentials) => future::ProvideCredentials::ready(Ok(credentials)),
            None => self.role.provide_credentials(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::account_of_role;

    #[test]
    fn role_arns_name_their_account() {
        assert_eq!(
            account_of_role("arn:aws:iam::123456789012:role/BackstopAudit"),
            Some("123456789012")
        );
        assert_eq!(
            account_of_role("arn:aws-cn:iam::123456789012:role/path/Audit"),
            Some("123456789012")
        );
        for bad in [
            "arn:aws:iam::123456789012:user/someone",
            "arn:aws:iam::12345:role/x",
            "arn:aws:sts::123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
            "BackstopAudit",
        ] {
            assert_eq!(account_of_role(bad), None, "{bad}");
        }
    }
}
