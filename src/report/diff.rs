//! Week over week: what is newly failing, fixed, still failing, and which
//! resources appeared or disappeared between two JSON reports.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Finding, FindingKey, Report};
use crate::model::ResourceRef;

pub const DIFF_SCHEMA: &str = "backstop.diff/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub schema: String,
    pub old_generated_at: Timestamp,
    pub new_generated_at: Timestamp,
    /// Failing (fail or error) now, and not before.
    pub newly_failing: Vec<Finding>,
    /// Failing before; passing or waived now. Listed as they are now.
    pub fixed: Vec<Finding>,
    pub still_failing: Vec<Finding>,
    pub appeared: Vec<ResourceRef>,
    pub disappeared: Vec<ResourceRef>,
}

/// Resources a report judged, without the "whole listing" placeholders.
fn resources(report: &Report) -> BTreeMap<(String, String, String, String), ResourceRef> {
    report
        .results
        .iter()
        .filter(|f| !f.covers_whole_listing())
        .map(|f| {
            let r = &f.resource;
            (
                (
                    r.resource_type.clone(),
                    r.account.clone(),
                    r.region.clone(),
                    r.id.clone(),
                ),
                r.clone(),
            )
        })
        .collect()
}

impl Diff {
    pub fn between(old: &Report, new: &Report) -> Diff {
        let old_by_key: BTreeMap<FindingKey, &Finding> =
            old.results.iter().map(|f| (f.key(), f)).collect();
        let mut newly_failing = Vec::new();
        let mut fixed = Vec::new();
        let mut still_failing = Vec::new();
        for f in &new.results {
            let before = old_by_key.get(&f.key()).copied();
            match (
                before.is_some_and(|b| b.status.is_failing()),
                f.status.is_failing(),
            ) {
                (false, true) => newly_failing.push(f.clone()),
                (true, true) => still_failing.push(f.clone()),
                (true, false) => fixed.push(f.clone()),
                (false, false) => {}
            }
        }
        let old_resources = resources(old);
        let new_resources = resources(new);
        let appeared = new_resources
            .iter()
            .filter(|(k, _)| !old_resources.contains_key(*k))
            .map(|(_, r)| r.clone())
            .collect();
        let disappeared = old_resources
            .iter()
            .filter(|(k, _)| !new_resources.contains_key(*k))
            .map(|(_, r)| r.clone())
            .collect();
        Diff {
            schema: DIFF_SCHEMA.to_string(),
            old_generated_at: old.generated_at,
            new_generated_at: new.generated_at,
            newly_failing,
            fixed,
            still_failing,
            appeared,
            disappeared,
        }
    }
}
