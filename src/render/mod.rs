//! The report's output formats, one file each: every one takes a
//! [`Report`](crate::report::Report) (or a [`Diff`](crate::report::Diff))
//! and returns text.

mod accounts;
pub mod csv;
pub mod diff;
mod escape;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod table;

use crate::model::Location;
use crate::report::{Finding, Status};
use crate::rules::Rule;

/// Where to fix a finding, for viewers that annotate files (SARIF, JUnit):
/// the plan's `.tf` block, else the waiver that accepts it, else the rule's
/// file (the pack's as `rules/<service>/<id>.yaml`). Line 0: not known.
fn anchor<'a>(finding: &'a Finding, rule: Option<&'a Rule>) -> Option<(&'a str, usize)> {
    let waiver_at = finding
        .waiver
        .as_ref()
        .filter(|_| finding.status == Status::Waived)
        .and_then(|w| w.location.as_ref());
    match (finding.location.as_deref(), waiver_at, rule) {
        (Some(Location { file, line }), _, _) | (None, Some(Location { file, line }), _) => {
            Some((file.as_str(), *line))
        }
        (None, None, Some(rule)) => Some((
            rule.def.file.trim_start_matches("builtin:"),
            rule.def.id_mark.line,
        )),
        (None, None, None) => None,
    }
}

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

/// What was audited and when, as "account A, regions R, source S,
/// generated T", each name through the format's `escape`.
fn audited(report: &crate::report::Report, escape: fn(&str) -> String) -> String {
    let source = &report.source;
    let mut context = Vec::new();
    if let Some(account) = &source.account {
        context.push(format!("account {}", escape(account)));
    }
    if !source.regions.is_empty() {
        context.push(format!("regions {}", escape(&source.regions.join(", "))));
    }
    if !source.kind.is_empty() {
        context.push(format!("source {}", escape(&source.kind)));
    }
    context.push(format!("generated {}", report.generated_at));
    context.join(", ")
}
