//! Where scheduled exports land: configured by the user, since AWS has no
//! listing of them, and audited as `aws.s3.export_location` resources.

/// A bucket and key prefix that should keep receiving exports.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExportLocation {
    pub bucket: String,
    pub prefix: String,
    /// Overrides `s3-exports-fresh`'s `max_age` for this location, as
    /// written in the configuration.
    pub max_age: Option<String>,
}

impl ExportLocation {
    /// The id of its resource: `bucket/prefix`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.bucket, self.prefix)
    }
}
