//! Turning SDK failures into truthful [`CollectionError`]s.
//!
//! Every failed call becomes a recorded error, except the documented "not
//! configured" answers, which the collectors turn into facts (the setting is
//! absent) with [`NotConfigured`]. Nothing here ever defaults a failure to
//! an empty value.

use std::error::Error as StdError;

use super::{ProvideErrorMetadata, SdkError};
use crate::model::CollectionError;
use crate::model::schema::{Operation, ResourceType};

/// Why an AWS call failed: the AWS error code (or a transport kind) and a
/// message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallFailure {
    pub code: String,
    pub message: String,
}

impl CallFailure {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> CallFailure {
        CallFailure {
            code: code.into(),
            message: message.into(),
        }
    }

    /// The same failure, its message prefixed with what it left unknown.
    pub fn context(self, unknown: impl std::fmt::Display) -> CallFailure {
        CallFailure::new(self.code, format!("{unknown}: {}", self.message))
    }

    /// Classifies an SDK error: the service's error code when the service
    /// answered, else `Timeout`, `DispatchFailure` (connection refused, DNS,
    /// TLS, credentials), `ResponseError` (unparseable answer) or
    /// `ConstructionFailure`.
    pub fn from_sdk<E>(err: &SdkError<E>) -> CallFailure
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        let context = || error_chain(err);
        match err {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let code = match service.err().code() {
                    Some(code) if !code.is_empty() => code.to_string(),
                    _ => format!("HTTP{status}"),
                };
                let message = match service.err().message() {
                    Some(message) if !message.is_empty() => message.to_string(),
                    // No parseable error (an HTML page from a proxy, a
                    // service answering in another protocol): show the body.
                    _ => {
                        let body = service
                            .raw()
                            .body()
                            .bytes()
                            .map(String::from_utf8_lossy)
                            .unwrap_or_default();
                        let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
                        let mut snippet: String = body.chars().take(300).collect();
                        if snippet.len() < body.len() {
                            snippet.push('…');
                        }
                        format!("HTTP {status} without an AWS error code: {snippet}")
                    }
                };
                CallFailure::new(code, message)
            }
            SdkError::TimeoutError(_) => CallFailure::new("Timeout", context()),
            SdkError::DispatchFailure(dispatch) if dispatch.is_timeout() => {
                CallFailure::new("Timeout", context())
            }
            SdkError::DispatchFailure(_) => CallFailure::new("DispatchFailure", context()),
            SdkError::ResponseError(_) => CallFailure::new("ResponseError", context()),
            SdkError::ConstructionFailure(_) => CallFailure::new("ConstructionFailure", context()),
            _ => CallFailure::new("Unknown", context()),
        }
    }
}

/// An error and its sources by their Display texts, without the Debug dumps
/// of `DisplayErrorContext` (messages end up in reports).
pub(crate) fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = vec![without_debug_dump(&err.to_string())];
    let mut source = err.source();
    while let Some(e) = source {
        let text = without_debug_dump(&e.to_string());
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// Some SDK errors append a `Debug` dump of their source to their Display
/// text (` (ProviderError(ProviderError { source: ... }))`); users need the
/// sentence, not the struct.
fn without_debug_dump(text: &str) -> String {
    static DUMP: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\s\([A-Z][A-Za-z]*(\(|\s\{).*$").expect("valid regex")
    });
    DUMP.replace(text, "").into_owned()
}

/// True when the service answered with one of `codes`: a documented "not
/// configured" answer, which is a fact about the resource, not a failure.
pub(crate) fn is_not_configured<E>(err: &SdkError<E>, codes: &[&str]) -> bool
where
    E: ProvideErrorMetadata,
{
    matches!(err, SdkError::ServiceError(_)) && err.code().is_some_and(|code| codes.contains(&code))
}

/// How a detail call's service says that the setting it reads is absent.
pub(crate) enum NotConfigured<T> {
    /// Every error answer is a failure.
    Never,
    /// An answer with one of these error codes is the known absence `T`.
    When(&'static [&'static str], T),
}

impl<T> NotConfigured<T> {
    /// The known absence `err` stands for, or `err` as a failure.
    pub fn absence<E>(self, err: &SdkError<E>) -> Result<T, CallFailure>
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        match self {
            NotConfigured::When(codes, absent) if is_not_configured(err, codes) => Ok(absent),
            _ => Err(CallFailure::from_sdk(err)),
        }
    }
}

/// Whose attributes a detail call reads: one resource, or every resource
/// of a type in a region. A failed call leaves them unknown there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub resource_type: &'static ResourceType,
    pub region: &'a str,
    /// `None`: every resource of `resource_type` in `region`.
    pub id: Option<&'a str>,
}

impl<'a> Target<'a> {
    pub fn resource(
        resource_type: &'static ResourceType,
        region: &'a str,
        id: &'a str,
    ) -> Target<'a> {
        Target {
            resource_type,
            region,
            id: Some(id),
        }
    }

    pub fn every(resource_type: &'static ResourceType, region: &'a str) -> Target<'a> {
        Target {
            resource_type,
            region,
            id: None,
        }
    }
}

/// The names of the attributes of `kind` that `op` fills (from the schema's
/// `calls`), for a detail failure's `attributes`.
pub(crate) fn attributes_filled_by(kind: &ResourceType, op: &Operation) -> Vec<String> {
    let mut names: Vec<String> = kind
        .attributes
        .iter()
        .filter(|a| a.calls.contains(&op))
        .map(|a| a.name.to_string())
        .collect();
    if kind.tag_calls.contains(&op) {
        names.push(TAGS.to_string());
    }
    names
}

/// The attribute name recorded when a resource's tags could not be read
/// (`tags.KEY` conditions and tag scopes depend on it).
pub(crate) const TAGS: &str = "tags";

/// A failed listing: nothing of `kind` in `region` is known.
pub(crate) fn listing_error(
    op: &Operation,
    region: &str,
    kind: &ResourceType,
    failure: CallFailure,
) -> CollectionError {
    error(op, region, kind, None, failure, Vec::new())
}

/// A failed detail call: the attributes `op` fills are unknown for the
/// target.
pub(crate) fn detail_error(
    op: &Operation,
    target: Target<'_>,
    failure: CallFailure,
) -> CollectionError {
    error(
        op,
        target.region,
        target.resource_type,
        target.id,
        failure,
        attributes_filled_by(target.resource_type, op),
    )
}

fn error(
    op: &Operation,
    region: &str,
    kind: &ResourceType,
    id: Option<&str>,
    failure: CallFailure,
    attributes: Vec<String>,
) -> CollectionError {
    CollectionError {
        account: None,
        service: op.service.to_string(),
        region: region.to_string(),
        operation: op.name.to_string(),
        code: failure.code,
        message: failure.message,
        resource_type: kind.name.to_string(),
        resource_id: id.map(str::to_string),
        attributes,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_dumps_are_cut_from_messages() {
        assert_eq!(
            super::without_debug_dump(
                "failed to load IMDS session token: request forbidden (ProviderError(ProviderError { source: X }))"
            ),
            "failed to load IMDS session token: request forbidden"
        );
        assert_eq!(
            super::without_debug_dump("plain (see docs)"),
            "plain (see docs)"
        );
    }

    use super::*;
    use crate::model::schema::{self, ops};

    #[test]
    fn attributes_come_from_the_schema() {
        let bucket = schema::resource_type(schema::S3_BUCKET).unwrap();
        assert_eq!(
            attributes_filled_by(bucket, &ops::S3_GET_BUCKET_ENCRYPTION),
            ["encryption", "kms_key_id"]
        );
        // Tag-based backup selections decide which plans assign a bucket.
        assert_eq!(
            attributes_filled_by(bucket, &ops::S3_GET_BUCKET_TAGGING),
            ["backup_plan_ids", "tags"]
        );
        let snapshot = schema::resource_type(schema::DB_SNAPSHOT).unwrap();
        assert_eq!(
            attributes_filled_by(snapshot, &ops::RDS_DESCRIBE_DB_SNAPSHOT_ATTRIBUTES),
            ["public", "shared_with"]
        );
        let instance = schema::resource_type(schema::DB_INSTANCE).unwrap();
        assert_eq!(
            attributes_filled_by(instance, &ops::RDS_DESCRIBE_DB_SNAPSHOTS),
            ["cross_region_copy_time"]
        );
    }
}
