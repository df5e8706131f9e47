//! A report that covers several accounts (an organisation audit, or the
//! merge of one report per account) is read account by account: the
//! table, the Markdown and the HTML page show one group each, headed by
//! the account's name and counts, and say prominently when an account
//! could not be read at all. A single-account report has no groups.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{AccountSource, CollectionError};
use crate::report::{Counts, Finding, Report};

/// One account's share of a report. Nothing here is escaped.
pub(super) struct AccountGroup<'a> {
    /// `alias (id)`, `Organizations name (id)`, or the id.
    pub label: String,
    /// Why the account could not be read at all.
    pub error: Option<&'a str>,
    pub counts: Counts,
    /// Its results, in the report's order.
    pub results: Vec<&'a Finding>,
    /// The calls that failed in it.
    pub collection_errors: Vec<&'a CollectionError>,
}

impl AccountGroup<'_> {
    /// `3 fail, 1 error, 0 waived, 12 pass`.
    pub fn counts_line(&self) -> String {
        let c = &self.counts;
        format!(
            "{} fail, {} error, {} waived, {} pass",
            c.fail, c.error, c.waived, c.pass
        )
    }
}

/// The report's accounts, in the order the audit listed them and then by
/// id; `None` when it covers a single account, which renders as it
/// always has. Every result and failed call belongs to exactly one group,
/// so grouping drops nothing.
pub(super) fn by_account(report: &Report) -> Option<Vec<AccountGroup<'_>>> {
    let listed = &report.source.accounts;
    // A call without an account was made in the inventory's own account;
    // it counts towards "several accounts" only through that account.
    let error_account = |e: &CollectionError| -> String {
        e.account
            .clone()
            .or_else(|| report.source.account.clone())
            .unwrap_or_default()
    };
    let mut groups: BTreeMap<String, AccountGroup<'_>> = BTreeMap::new();
    for account in listed {
        group_of(&mut groups, &account.id, listed);
    }
    for finding in &report.results {
        let group = group_of(&mut groups, &finding.resource.account, listed);
        group.counts.add(finding.status);
        group.results.push(finding);
    }
    let explicit_error_accounts = report
        .collection_errors
        .iter()
        .filter_map(|e| e.account.as_deref());
    let several = listed.len() > 1
        || groups
            .keys()
            .map(String::as_str)
            .chain(explicit_error_accounts)
            .collect::<BTreeSet<_>>()
            .len()
            > 1;
    if !several {
        return None;
    }
    for e in &report.collection_errors {
        group_of(&mut groups, &error_account(e), listed)
            .collection_errors
            .push(e);
    }
    let mut ordered = Vec::with_capacity(groups.len());
    for account in listed {
        if let Some(group) = groups.remove(&account.id) {
            ordered.push(group);
        }
    }
    ordered.extend(groups.into_values());
    Some(ordered)
}

fn group_of<'g, 'a>(
    groups: &'g mut BTreeMap<String, AccountGroup<'a>>,
    id: &str,
    listed: &'a [AccountSource],
) -> &'g mut AccountGroup<'a> {
    if !groups.contains_key(id) {
        let group = new_group(id, listed.iter().find(|a| a.id == id));
        groups.insert(id.to_string(), group);
    }
    groups.get_mut(id).expect("inserted above")
}

fn new_group<'a>(id: &str, listed: Option<&'a AccountSource>) -> AccountGroup<'a> {
    let label = match listed {
        Some(account) => account.label(),
        None if id.is_empty() => "account not known".to_string(),
        None => id.to_string(),
    };
    AccountGroup {
        label,
        error: listed.and_then(|a| a.error.as_deref()),
        counts: Counts::default(),
        results: Vec::new(),
        collection_errors: Vec::new(),
    }
}
