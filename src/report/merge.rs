//! Several reports (accounts, regions) combined into one.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::{Finding, FindingKey, Report};
use crate::model::{AccountSource, Source};

/// Combines reports from several accounts or regions into one. A result that
/// appears in more than one input (same rule and resource) is kept once: the
/// one from the most recent report, later arguments winning ties.
///
/// Inputs from several accounts (a matrix of one audit per account) give a
/// report that lists them all in `source.accounts`, and a failed call that
/// named no account takes its input's, so that it stays attributable.
pub fn merge(reports: &[Report]) -> Report {
    let mut order: Vec<usize> = (0..reports.len()).collect();
    order.sort_by_key(|&i| (reports[i].generated_at, i));
    let several_accounts = reports
        .iter()
        .flat_map(|r| {
            let listed = r.source.accounts.iter().map(|a| a.id.as_str());
            listed.chain(r.source.account.as_deref())
        })
        .collect::<BTreeSet<_>>()
        .len()
        > 1;
    let mut listed: Vec<AccountSource> = Vec::new();
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
            let mut e = e.clone();
            if several_accounts && e.account.is_none() {
                e.account.clone_from(&r.source.account);
            }
            if !errors.contains(&e) {
                errors.push(e);
            }
        }
        let inputs_accounts = match (&r.source.accounts[..], &r.source.account) {
            ([], Some(id)) if several_accounts => vec![AccountSource {
                id: id.clone(),
                regions: r.source.regions.clone(),
                ..AccountSource::default()
            }],
            (accounts, _) => accounts.to_vec(),
        };
        for account in inputs_accounts {
            list_account(&mut listed, account);
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
    // By id: which input was written first says nothing about the accounts.
    listed.sort_by(|a, b| a.id.cmp(&b.id));
    let source = Source {
        kind: "merged".into(),
        account: if accounts.len() == 1 {
            accounts.into_iter().next()
        } else {
            None
        },
        regions: regions.into_iter().collect(),
        accounts: listed,
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

/// Adds `account` to `listed`; an account listed already is replaced by
/// the later report's view of it, over the regions of both, keeping the
/// names only the earlier one had.
fn list_account(listed: &mut Vec<AccountSource>, mut account: AccountSource) {
    match listed.iter_mut().find(|a| a.id == account.id) {
        Some(earlier) => {
            let regions: BTreeSet<String> =
                earlier.regions.drain(..).chain(account.regions).collect();
            account.regions = regions.into_iter().collect();
            account.alias = account.alias.or(earlier.alias.take());
            account.name = account.name.or(earlier.name.take());
            account.role_arn = account.role_arn.or(earlier.role_arn.take());
            *earlier = account;
        }
        None => listed.push(account),
    }
}
