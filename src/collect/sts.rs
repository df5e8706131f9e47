//! Who are we: resolves credentials and the account id, or explains why
//! nothing can be audited.

use aws_sdk_sts::config::ProvideCredentials;

use super::CollectError;
use super::accounts::Caller;
use super::errors::{CallFailure, error_chain};
use super::sdk::Setup;

/// Error codes meaning the credentials themselves are bad.
const REJECTED_CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "AccessDenied",
    // GetCallerIdentity needs no permission: a 403 whose code the SDK could
    // not parse (from a proxy or an AWS-compatible service) still means the
    // credentials failed.
    "HTTP403",
];

/// How long the credential chain may take (SSO and credential processes
/// included) before the audit gives up with exit status 3.
const CREDENTIALS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Resolves credentials, then calls STS GetCallerIdentity in the first
/// audited region: whose account the credentials are, in which partition.
pub(crate) async fn caller(setup: &Setup, profile: Option<&str>) -> Result<Caller, CollectError> {
    let region = &setup.regions[0];
    let Some(provider) = setup.base().credentials_provider() else {
        return Err(CollectError::NoCredentials {
            detail: "no credentials provider is configured".to_string(),
        });
    };
    // Called directly, the chain has no time limit of its own: a hanging
    // credential_process or SSO helper would hang the audit.
    let limit = CREDENTIALS_TIMEOUT;
    let outcome = tokio::time::timeout(limit, provider.provide_credentials()).await;
    let failure = match outcome {
        Ok(Ok(_)) => None,
        Ok(Err(err)) => Some(error_chain(&err)),
        Err(_) => Some(format!(
            "loading credentials took longer than {}s",
            limit.as_secs()
        )),
    };
    if let Some(mut detail) = failure {
        if let Some(profile) = profile {
            detail = format!("profile {profile}: {detail}");
        }
        return Err(CollectError::NoCredentials { detail });
    }

    let client = aws_sdk_sts::Client::new(&setup.for_region(region));
    match client.get_caller_identity().send().await {
        Ok(identity) => {
            let account = identity.account().ok_or_else(|| CollectError::Identity {
                region: region.clone(),
                code: "ResponseError".to_string(),
                message: "the answer holds no account id".to_string(),
            })?;
            // `arn:PARTITION:...`; the commercial partition when unsaid.
            let partition = identity
                .arn()
                .and_then(|arn| arn.split(':').nth(1))
                .filter(|p| !p.is_empty())
                .unwrap_or("aws");
            Ok(Caller {
                account: account.to_string(),
                partition: partition.to_string(),
            })
        }
        Err(err) => {
            let CallFailure { code, message } = CallFailure::from_sdk(&err);
            Err(match code.as_str() {
                "DispatchFailure" | "Timeout" => CollectError::Unreachable {
                    endpoint: setup.endpoint_description(region),
                    code,
                    detail: message,
                },
                c if REJECTED_CREDENTIALS.contains(&c) => {
                    CollectError::InvalidCredentials { code, message }
                }
                _ => CollectError::Identity {
                    region: region.clone(),
                    code,
                    message,
                },
            })
        }
    }
}
