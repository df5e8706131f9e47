//! Several reports (accounts, regions) combined into one.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::{Finding, FindingKey, Report};
use crate::model::Source;

/// Combines reports from several accounts or regions into one. A result that
/// appears in more than one input (same rule and resource) is kept once: the
/// one from the most recent report, later arguments winning ties.
pub fn merge(reports: &[Report]) -> Report {
    let mut order: Vec<usize> = (0..reports.len()).collect();
    order.sort_by_key(|&i| (reports[i].generated_at, i));
    let mut results: BTreeMap<FindingKey, &Finding> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut unused = Vec::new();
    let mut not_evaluated: Vec<super::NotEvaluated> = Vec::new();
    let mut regions = BTreeSet::new();
    let mut accounts = BTreeSet::new();
    for &i in &order {
        let r = &reports[i];
        for f in &r.results {
            results.insert(f.key(), f);
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
        for n in &r.not_evaluated {
            match not_evaluated.iter_mut().find(|m| m.rule == n.rule) {
                Some(m) => m.resources += n.resources,
                None => not_evaluated.push(n.clone()),
            }
        }
        regions.extend(r.source.regions.iter().cloned());
        accounts.extend(r.source.account.iter().cloned());
    }
    let generated_at = order
        .last()
        .map_or_else(Timestamp::now, |&i| reports[i].generated_at);
    let source = Source {
        kind: "merged".into(),
        account: if accounts.len() == 1 {
            accounts.into_iter().next()
        } else {
            None
        },
        regions: regions.into_iter().collect(),
        accounts: Vec::new(),
    };
    let mut report = Report::new(
        generated_at,
        source,
        results.into_values().cloned().collect(),
        errors,
    );
    report.unused_waivers = unused;
    report.not_evaluated = not_evaluated;
    report
}
