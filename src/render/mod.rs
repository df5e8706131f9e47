//! The report's output formats, one file each: every one takes a
//! [`Report`](crate::report::Report) (or a [`Diff`](crate::report::Diff))
//! and returns text.

pub mod diff;
mod escape;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod table;

use crate::report::Finding;

/// The resource a finding is about, on one line: the ARN when there is one;
/// otherwise `REGION/ID`, which for a failed listing reads `REGION/*`. Not
/// escaped.
fn resource_label(finding: &Finding) -> String {
    let resource = &finding.resource;
    if !resource.arn.is_empty() && !finding.covers_whole_listing() {
        resource.arn.clone()
    } else if resource.region.is_empty() {
        resource.id.clone()
    } else {
        format!("{}/{}", resource.region, resource.id)
    }
}
