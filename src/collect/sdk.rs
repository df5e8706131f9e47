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

/// Where the account-wide calls go when every region is audited and no
/// region is configured.
const ALL_REGIONS_HOME: &str = "us-east-1";

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
            // With every enabled region to be listed, any region can ask.
            None if options.all_regions => vec![ALL_REGIONS_HOME.to_string()],
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

    /// The same configuration with another account's credentials, for
    /// `regions` of it.
    pub fn with_credentials(
        &self,
        credentials: aws_credential_types::provider::SharedCredentialsProvider,
        regions: Vec<String>,
    ) -> Setup {
        Setup {
            base: self
                .base
                .to_builder()
                .credentials_provider(credentials)
                .build(),
            path_style: self.path_style,
            regions,
        }
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
            .interceptor(CompleteXml)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    fn rds_client(&self, region: &str) -> aws_sdk_rds::Client {
        let config = aws_sdk_rds::config::Builder::from(&self.for_region(region))
            .interceptor(CompleteXml)
            .build();
        aws_sdk_rds::Client::from_conf(config)
    }

    fn sns_client(&self, region: &str) -> aws_sdk_sns::Client {
        let config = aws_sdk_sns::config::Builder::from(&self.for_region(region))
            .interceptor(CompleteXml)
            .build();
        aws_sdk_sns::Client::from_conf(config)
    }
}

/// Refuses an XML answer that stops before its root element closes.
///
/// The SDK's XML deserializers accept a cut-off document in a well-framed
/// answer and fill what is missing with defaults, so a listing could lose
/// its last items, or a setting read its default, without any error. The
/// JSON services' parser is strict already.
#[derive(Debug)]
struct CompleteXml;

impl aws_sdk_rds::config::Intercept for CompleteXml {
    fn name(&self) -> &'static str {
        "CompleteXml"
    }

    fn read_after_deserialization(
        &self,
        context: &aws_sdk_rds::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_rds::config::RuntimeComponents,
        _cfg: &mut aws_sdk_rds::config::ConfigBag,
    ) -> Result<(), aws_sdk_rds::error::BoxError> {
        if context.output_or_error().is_err() {
            return Ok(());
        }
        match context.response().body().bytes() {
            Some(body) if !is_complete_xml(body) => {
                Err("the answer was cut off: its XML document is incomplete".into())
            }
            _ => Ok(()),
        }
    }
}

/// Whether `body` is empty or an XML document whose root element closes at
/// its end. Not a validation: just enough to tell a whole answer from the
/// first part of one.
pub(crate) fn is_complete_xml(body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let text = text.trim();
    if text.is_empty() {
        return true;
    }
    let mut rest = text;
    // The declaration, processing instructions and comments before the root.
    loop {
        let (open, close) = if rest.starts_with("<?") {
            ("<?", "?>")
        } else if rest.starts_with("<!--") {
            ("<!--", "-->")
        } else {
            break;
        };
        match rest[open.len()..].find(close) {
            Some(end) => rest = rest[open.len() + end + close.len()..].trim_start(),
            None => return false,
        }
    }
    let Some(root) = rest.strip_prefix('<') else {
        return false;
    };
    let name_len = root
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(root.len());
    let name = &root[..name_len];
    if name.is_empty() {
        return false;
    }
    if let Some(tag_end) = root.find('>')
        && root[..tag_end].ends_with('/')
    {
        return root[tag_end + 1..].trim().is_empty();
    }
    text.strip_suffix('>')
        .map(str::trim_end)
        .and_then(|t| t.strip_suffix(name))
        .is_some_and(|t| t.ends_with("</"))
}

/// One region's service clients.
#[derive(Clone)]
pub(crate) struct Clients {
    pub rds: aws_sdk_rds::Client,
    pub s3: aws_sdk_s3::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub kms: aws_sdk_kms::Client,
    pub backup: aws_sdk_backup::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub sns: aws_sdk_sns::Client,
}

impl Clients {
    pub fn new(setup: &Setup, region: &str) -> Clients {
        let config = setup.for_region(region);
        Clients {
            rds: setup.rds_client(region),
            s3: setup.s3_client(region),
            ecr: aws_sdk_ecr::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            kms: aws_sdk_kms::Client::new(&config),
            backup: aws_sdk_backup::Client::new(&config),
            secrets: aws_sdk_secretsmanager::Client::new(&config),
            sns: setup.sns_client(region),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_complete_xml;

    #[test]
    fn cut_off_xml_answers_are_told_apart() {
        let whole = "<?xml version=\"1.0\"?>\n<DescribeDBInstancesResponse xmlns=\"x\"><A>1</A></DescribeDBInstancesResponse>\n";
        assert!(is_complete_xml(whole.as_bytes()));
        assert!(is_complete_xml(b""));
        assert!(is_complete_xml(b"<LocationConstraint xmlns=\"x\"/>"));
        assert!(is_complete_xml(b"<!-- c --><R></R >"));
        for cut in [20, 60, whole.len() - 3] {
            assert!(!is_complete_xml(&whole.as_bytes()[..cut]), "{cut}");
        }
        assert!(!is_complete_xml(b"<R><X/>"));
        assert!(!is_complete_xml(b"<?xml version=\"1.0\""));
        assert!(!is_complete_xml(b"not xml"));
    }
}
