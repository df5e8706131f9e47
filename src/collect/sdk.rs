//! AWS SDK setup: one shared config, specialised per region.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use super::{CollectError, CollectOptions, SdkOverrides};

/// The SDK's own default connect timeout, kept when we replace its timeouts.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);
/// Upper bound of one attempt (the operation timeout bounds all of them).
const MAX_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per call unless `AWS_MAX_ATTEMPTS` (or the profile) says otherwise.
const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The loaded configuration and the regions to audit.
pub(crate) struct Setup {
    base: SdkConfig,
    /// S3 path-style addressing: on whenever a custom endpoint is set.
    path_style: bool,
    pub regions: Vec<String>,
}

pub(crate) async fn load(
    options: &CollectOptions,
    overrides: &SdkOverrides,
) -> Result<Setup, CollectError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(first) = options.regions.first() {
        loader = loader.region(Region::new(first.clone()));
    }
    if let Some(url) = &overrides.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(credentials) = &overrides.credentials {
        loader = loader.credentials_provider(credentials.clone());
    }
    let loaded = loader.load().await;

    let regions = if options.regions.is_empty() {
        match loaded.region() {
            Some(region) => vec![region.to_string()],
            None => return Err(CollectError::NoRegion),
        }
    } else {
        let mut regions: Vec<String> = Vec::new();
        for region in &options.regions {
            if !regions.contains(region) {
                regions.push(region.clone());
            }
        }
        regions
    };

    // Standard retries with exponential backoff: aws-config's default, and
    // what AWS_RETRY_MODE / the profile's retry_mode choose otherwise. Not
    // adaptive by default: its client-side rate limiter was measured here to
    // stretch an audit with a few throttled calls from seconds to over a
    // minute (tests/live_audit.rs), close to the per-call timeout.
    let loaded_retry = loaded.retry_config().cloned();
    let max_attempts = overrides.max_attempts.unwrap_or_else(|| {
        loaded_retry
            .as_ref()
            .map_or(DEFAULT_MAX_ATTEMPTS, RetryConfig::max_attempts)
    });
    let retry = loaded_retry
        .unwrap_or_else(RetryConfig::standard)
        .with_max_attempts(max_attempts);

    let connect = loaded
        .timeout_config()
        .and_then(TimeoutConfig::connect_timeout)
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let timeout = TimeoutConfig::builder()
        .connect_timeout(connect)
        .operation_timeout(options.operation_timeout)
        .operation_attempt_timeout(options.operation_timeout.min(MAX_ATTEMPT_TIMEOUT))
        .build();

    let path_style = loaded.endpoint_url().is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
    let base = loaded
        .to_builder()
        .retry_config(retry)
        .timeout_config(timeout)
        .build();
    Ok(Setup {
        base,
        path_style,
        regions,
    })
}

impl Setup {
    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    pub fn for_region(&self, region: &str) -> SdkConfig {
        self.base
            .to_builder()
            .region(Region::new(region.to_string()))
            .build()
    }

    /// Where STS is reached, for error messages.
    pub fn endpoint_description(&self, region: &str) -> String {
        match self.base.endpoint_url() {
            Some(url) => url.to_string(),
            None => format!("https://sts.{region}.amazonaws.com"),
        }
    }

    pub fn s3_client(&self, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.for_region(region))
            .force_path_style(self.path_style)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

/// One region's service clients.
#[derive(Clone)]
pub(crate) struct Clients {
    pub rds: aws_sdk_rds::Client,
    pub s3: aws_sdk_s3::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub kms: aws_sdk_kms::Client,
}

impl Clients {
    pub fn new(setup: &Setup, region: &str) -> Clients {
        let config = setup.for_region(region);
        Clients {
            rds: aws_sdk_rds::Client::new(&config),
            s3: setup.s3_client(region),
            ecr: aws_sdk_ecr::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            kms: aws_sdk_kms::Client::new(&config),
        }
    }
}
