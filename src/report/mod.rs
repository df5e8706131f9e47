//! The report: every verdict of one audit, and what can be computed from
//! reports alone (the week-over-week [`Diff`], the [`merge`] of several).
//!
//! Data only: turning a report into text is the renderers' business, and
//! judging it is the gate's, so nothing here knows about either.

mod category;
mod diff;
mod finding;
mod merge;
mod severity;
mod status;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::de::Error as _;
use serde::{Deserialize, Serialize};

use crate::model::{CollectionError, Source};

pub use category::{CATEGORIES, category_heading, category_rank};
pub use diff::{DIFF_SCHEMA, Diff};
pub use finding::{Finding, FindingKey, WaiverNote};
pub use merge::merge;
pub use severity::Severity;
pub use status::Status;

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
    /// Rules not judged on some resources because the facts they read exist
    /// only in a live account (a plan's resources): listed once per rule, so
    /// that nothing drops out of a report unsaid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_evaluated: Vec<NotEvaluated>,
}

/// A rule that was not judged on some resources, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEvaluated {
    pub rule: String,
    /// Why: the live-only facts it reads.
    pub reason: String,
    /// How many resources it was not judged on.
    pub resources: usize,
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
            match by_category.get_mut(finding.category.as_str()) {
                Some(counts) => counts.add(finding.status),
                None => by_category
                    .entry(finding.category.to_string())
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

impl Report {
    /// Reads a JSON report (as `render::json` writes it). A report of
    /// another schema version is refused rather than half-read.
    pub fn from_json(text: &str) -> Result<Report, serde_json::Error> {
        // The version first: another version's fields would fail with a less
        // helpful message, or worse, parse into something subtly different.
        #[derive(Deserialize)]
        struct Header {
            schema: String,
        }
        let header: Header = serde_json::from_str(text)?;
        if header.schema != REPORT_SCHEMA {
            return Err(serde_json::Error::custom(format!(
                "report schema is {:?}; this backstop reads {REPORT_SCHEMA:?}",
                header.schema
            )));
        }
        serde_json::from_str(text)
    }

    pub fn new(
        generated_at: Timestamp,
        source: Source,
        mut results: Vec<Finding>,
        collection_errors: Vec<CollectionError>,
    ) -> Report {
        // Sorted as positions, then moved into place: sorting the results
        // themselves would take a scratch copy of half of them, the largest
        // allocation of a large audit.
        let mut order: Vec<usize> = (0..results.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&results[a], &results[b]);
            (&a.rule, &a.resource.region, &a.resource.id, &a.resource.arn).cmp(&(
                &b.rule,
                &b.resource.region,
                &b.resource.id,
                &b.resource.arn,
            ))
        });
        permute(&mut results, &mut order);
        Report {
            schema: REPORT_SCHEMA.to_string(),
            generated_at,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            source,
            summary: Summary::of(&results),
            results,
            collection_errors,
            unused_waivers: Vec::new(),
            not_evaluated: Vec::new(),
        }
    }
}

/// Rearranges `items` so that position `i` holds what was at `order[i]`,
/// in place: each cycle of the permutation is followed once. `order` is
/// used up.
fn permute<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..items.len() {
        let mut at = start;
        while order[at] != start && order[at] != at {
            let from = order[at];
            items.swap(at, from);
            order[at] = at;
            at = from;
        }
        order[at] = at;
    }
}

#[cfg(test)]
mod tests {
    use super::permute;

    #[test]
    fn permute_puts_each_item_where_the_order_says() {
        let orders: [&[usize]; 5] = [&[], &[0], &[1, 0], &[2, 0, 1], &[3, 1, 4, 0, 2]];
        for order in orders {
            let mut items: Vec<char> = ('a'..).take(order.len()).collect();
            let expected: Vec<char> = order.iter().map(|&i| items[i]).collect();
            permute(&mut items, &mut order.to_vec());
            assert_eq!(items, expected, "{order:?}");
        }
    }
}
