//! Week over week: what is newly failing, fixed, still failing, and which
//! resources appeared or disappeared between two JSON reports.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Finding, Report, escape};
use crate::model::ResourceRef;
use crate::verdict::Status;

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

type Key = (String, String, String, String, String);

fn key(f: &Finding) -> Key {
    crate::gate::identity(f)
}

fn failing(f: &Finding) -> bool {
    matches!(f.status, Status::Fail | Status::Error)
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
                    r.kind.clone(),
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
        let old_by_key: BTreeMap<Key, &Finding> = old.results.iter().map(|f| (key(f), f)).collect();
        let mut newly_failing = Vec::new();
        let mut fixed = Vec::new();
        let mut still_failing = Vec::new();
        for f in &new.results {
            let before = old_by_key.get(&key(f)).copied();
            match (before.is_some_and(failing), failing(f)) {
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

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("diff serializes");
        text.push('\n');
        text
    }

    /// Plain text for the terminal. Every name from the reports is shown
    /// on one line without control characters, as in the table report.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "backstop diff {} -> {}: {} newly failing, {} fixed, {} still failing, {} resources appeared, {} disappeared",
            self.old_generated_at,
            self.new_generated_at,
            self.newly_failing.len(),
            self.fixed.len(),
            self.still_failing.len(),
            self.appeared.len(),
            self.disappeared.len()
        );
        let sections: [(&str, &[Finding]); 3] = [
            ("Newly failing", &self.newly_failing),
            ("Fixed", &self.fixed),
            ("Still failing", &self.still_failing),
        ];
        for (title, findings) in sections {
            if findings.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{title}:");
            for f in findings {
                let _ = writeln!(
                    out,
                    "  {:<6} {:<8} {:<32} {} ({})",
                    f.status.as_str(),
                    f.severity.as_str(),
                    escape::one_line(&f.rule),
                    escape::one_line(&f.resource.id),
                    escape::one_line(&f.resource.region)
                );
            }
        }
        for (title, list) in [
            ("Appeared", &self.appeared),
            ("Disappeared", &self.disappeared),
        ] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{title}:");
            for r in list {
                let _ = writeln!(
                    out,
                    "  {} {} ({})",
                    escape::one_line(&r.kind),
                    escape::one_line(&r.id),
                    escape::one_line(&r.region)
                );
            }
        }
        out
    }

    /// Markdown for a weekly issue or step summary. Every name from the
    /// reports is escaped as in the Markdown report: no HTML, no forged
    /// headings or list items, no @mentions.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "**backstop weekly diff: {} newly failing, {} fixed, {} still failing**\n",
            self.newly_failing.len(),
            self.fixed.len(),
            self.still_failing.len()
        );
        let _ = writeln!(
            out,
            "From {} to {}.",
            self.old_generated_at, self.new_generated_at
        );
        let sections: [(&str, &[Finding], &str); 3] = [
            ("Newly failing", &self.newly_failing, "- [ ]"),
            ("Fixed", &self.fixed, "- [x]"),
            ("Still failing", &self.still_failing, "- [ ]"),
        ];
        for (title, findings, mark) in sections {
            let _ = writeln!(out, "\n## {title} ({})\n", findings.len());
            if findings.is_empty() {
                let _ = writeln!(out, "None.");
            }
            for f in findings {
                let _ = writeln!(
                    out,
                    "{mark} **{}** ({}, {}): {} in {}: {}",
                    escape::markdown(&f.title),
                    f.severity,
                    escape::markdown_code(&f.rule),
                    escape::markdown(&f.resource.id),
                    escape::markdown(&f.resource.region),
                    escape::markdown(&f.message)
                );
            }
        }
        let lists: [(&str, &[ResourceRef]); 2] = [
            ("Appeared", &self.appeared),
            ("Disappeared", &self.disappeared),
        ];
        for (title, list) in lists {
            let _ = writeln!(out, "\n## {title} ({})\n", list.len());
            if list.is_empty() {
                let _ = writeln!(out, "None.");
            }
            for r in list {
                let _ = writeln!(
                    out,
                    "- {} {} in {}",
                    escape::markdown_code(&r.kind),
                    escape::markdown(&r.id),
                    escape::markdown(&r.region)
                );
            }
        }
        out
    }
}

/// Combines reports from several accounts or regions into one. A result that
/// appears in more than one input (same rule and resource) is kept once: the
/// one from the most recent report, later arguments winning ties.
pub fn merge(reports: &[Report]) -> Report {
    let mut order: Vec<usize> = (0..reports.len()).collect();
    order.sort_by_key(|&i| (reports[i].generated_at, i));
    let mut results: BTreeMap<Key, Finding> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut unused = Vec::new();
    let mut regions = BTreeSet::new();
    let mut accounts = BTreeSet::new();
    for &i in &order {
        let r = &reports[i];
        for f in &r.results {
            results.insert(key(f), f.clone());
        }
        for e in &r.collection_errors {
            if !errors.contains(e) {
                errors.push(e.clone());
            }
        }
        for w in &r.unused_waivers {
            if !unused.contains(w) {
                unused.push(w.clone());
            }
        }
        regions.extend(r.source.regions.iter().cloned());
        accounts.extend(r.source.account.iter().cloned());
    }
    let generated_at = order
        .last()
        .map_or_else(Timestamp::now, |&i| reports[i].generated_at);
    let source = crate::model::Source {
        kind: "merged".into(),
        account: if accounts.len() == 1 {
            accounts.into_iter().next()
        } else {
            None
        },
        regions: regions.into_iter().collect(),
    };
    let mut report = Report::new(
        generated_at,
        source,
        results.into_values().collect(),
        errors,
    );
    report.unused_waivers = unused;
    report
}
