//! The report: every verdict of one audit, and its renderings.
//!
//! One file per output format; each takes a [`Report`] and returns text.

pub mod diff;
mod escape;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod table;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{CollectionError, ResourceRef, Source};
use crate::verdict::{Severity, Status, category_rank};

pub const REPORT_SCHEMA: &str = "backstop.report/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub generated_at: Timestamp,
    pub tool_version: String,
    pub source: Source,
    pub summary: Summary,
    pub results: Vec<Finding>,
    /// Calls that failed after retries: why some results are `error`.
    #[serde(default)]
    pub collection_errors: Vec<CollectionError>,
    /// Waivers that matched no failing result: stale, or mistyped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unused_waivers: Vec<UnusedWaiver>,
}

/// A configured waiver that matched nothing (cargo-deny's unmatched allowance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnusedWaiver {
    pub rule: String,
    pub resource: String,
    pub reason: String,
    /// `file:line:col` of the waiver.
    pub location: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub waived: usize,
}

impl Counts {
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Error => self.error += 1,
            Status::Waived => self.waived += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.pass + self.fail + self.error + self.waived
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub waived: usize,
    pub by_category: BTreeMap<String, Counts>,
}

impl Summary {
    pub fn of(results: &[Finding]) -> Summary {
        let mut total = Counts::default();
        let mut by_category: BTreeMap<String, Counts> = BTreeMap::new();
        for finding in results {
            total.add(finding.status);
            // Looked up before inserting: a handful of categories, hundreds
            // of thousands of results.
            match by_category.get_mut(&finding.category) {
                Some(counts) => counts.add(finding.status),
                None => by_category
                    .entry(finding.category.clone())
                    .or_default()
                    .add(finding.status),
            }
        }
        Summary {
            pass: total.pass,
            fail: total.fail,
            error: total.error,
            waived: total.waived,
            by_category,
        }
    }

    /// The categories that have results, in report order (see
    /// [`category_rank`]); unknown ones last, by id.
    pub fn categories_in_order(&self) -> Vec<(&str, &Counts)> {
        let mut categories: Vec<_> = self
            .by_category
            .iter()
            .map(|(id, counts)| (id.as_str(), counts))
            .collect();
        categories.sort_by_key(|(id, _)| (category_rank(id), *id));
        categories
    }
}

/// One rule's verdict on one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub category: String,
    pub status: Status,
    /// Why: the failed assertion, or the call that could not be made.
    pub message: String,
    /// What to do, with the resource's id filled in; empty on a pass.
    pub remediation: String,
    pub resource: ResourceRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<WaiverNote>,
}

impl Finding {
    /// The order in which reports list findings: what needs action first
    /// (fail, error, waived, pass), the worst severity first, then by rule and
    /// resource so that the output is stable.
    pub fn action_order(&self, other: &Finding) -> Ordering {
        (self.status, self.severity, &self.rule, &self.resource).cmp(&(
            other.status,
            other.severity,
            &other.rule,
            &other.resource,
        ))
    }

    /// True for the one `error` a rule gets when a listing failed: it stands
    /// for every resource of the type in its region, so its id is `*`.
    pub fn covers_whole_listing(&self) -> bool {
        self.resource.id == "*"
    }
}

/// The waiver behind a `waived` status, or one that has expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverNote {
    pub reason: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<jiff::civil::Date>,
    /// True when the waiver has expired and no longer applies.
    #[serde(default)]
    pub expired: bool,
}

impl WaiverNote {
    /// One line for reports: `waived: REASON (OWNER, expires DATE)`, or
    /// `waiver expired DATE: REASON (OWNER)`. Not escaped.
    pub fn describe(&self) -> String {
        let mut details = Vec::new();
        if !self.owner.is_empty() {
            details.push(self.owner.clone());
        }
        let head = match (self.expired, self.expires) {
            (true, Some(date)) => format!("waiver expired {date}"),
            (true, None) => "waiver expired".to_string(),
            (false, expires) => {
                details.extend(expires.map(|date| format!("expires {date}")));
                "waived".to_string()
            }
        };
        if details.is_empty() {
            format!("{head}: {}", self.reason)
        } else {
            format!("{head}: {} ({})", self.reason, details.join(", "))
        }
    }
}

impl Report {
    pub fn new(
        generated_at: Timestamp,
        source: Source,
        mut results: Vec<Finding>,
        collection_errors: Vec<CollectionError>,
    ) -> Report {
        results.sort_by(|a, b| {
            (&a.rule, &a.resource.region, &a.resource.id, &a.resource.arn).cmp(&(
                &b.rule,
                &b.resource.region,
                &b.resource.id,
                &b.resource.arn,
            ))
        });
        Report {
            schema: REPORT_SCHEMA.to_string(),
            generated_at,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            source,
            summary: Summary::of(&results),
            results,
            collection_errors,
            unused_waivers: Vec::new(),
        }
    }
}
