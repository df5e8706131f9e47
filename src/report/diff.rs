//! Week over week: how each finding's status changed between two JSON
//! reports, and which resources appeared or disappeared.
//!
//! A finding is matched across the reports by its [`FindingKey`]. Its
//! status in the old report (or its absence) and in the new one decide the
//! one section it is listed in, as it is now; "—" is unchanged:
//!
//! | old \ new | pass  | waived       | fail           | error          |
//! |-----------|-------|--------------|----------------|----------------|
//! | absent    | —     | newly_waived | newly_failing  | newly_failing  |
//! | pass      | —     | newly_waived | newly_failing  | newly_failing  |
//! | waived    | fixed | —            | waiver_expired | fail_to_error  |
//! | fail      | fixed | newly_waived | still_failing  | fail_to_error  |
//! | error     | fixed | newly_waived | error_to_fail  | still_failing  |
//!
//! The waiver note does not move a finding: a waived gap that fails again
//! is `waiver_expired` whether its waiver expired (the note says so) or was
//! removed, and a fail whose waiver had already expired last week is still
//! failing. A waived gap that can no longer be read is `fail_to_error`: a
//! waiver accepts a known gap, never an unread one, and an unread check is
//! never fixed. A gap that is new and waived at once is `newly_waived`, so a
//! waiver cannot hide a regression. A finding only in the old report is
//! listed, as it was, in `no_longer_checked` when it was failing or waived
//! and its resource is still judged (the rule was disabled, scoped out or
//! no longer applies): a gap must not leave the report unsaid. When nothing
//! judges its resource any more, the resource is in `disappeared`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Finding, FindingKey, Report, Status};
use crate::model::{ResourceRef, Text};

pub const DIFF_SCHEMA: &str = "backstop.diff/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub schema: String,
    pub old_generated_at: Timestamp,
    pub new_generated_at: Timestamp,
    /// Failing (fail or error) now; passing or absent before.
    pub newly_failing: Vec<Finding>,
    /// Passing now; failing or waived before.
    pub fixed: Vec<Finding>,
    /// Failing now with the same status as before.
    pub still_failing: Vec<Finding>,
    // The sections below were added to `backstop.diff/v1`: a diff written
    // before them reads back with them empty.
    /// Waived now; not waived before.
    #[serde(default)]
    pub newly_waived: Vec<Finding>,
    /// Failing now; waived before (the waiver expired or no longer applies).
    #[serde(default)]
    pub waiver_expired: Vec<Finding>,
    /// Failing now; an error before: the facts became readable and show a gap.
    #[serde(default)]
    pub error_to_fail: Vec<Finding>,
    /// An error now; failing or waived before: the gap can no longer be read.
    #[serde(default)]
    pub fail_to_error: Vec<Finding>,
    /// Failing or waived before, as it was then; no result now although its
    /// resource is still judged.
    #[serde(default)]
    pub no_longer_checked: Vec<Finding>,
    pub appeared: Vec<ResourceRef>,
    pub disappeared: Vec<ResourceRef>,
}

/// Resources a report judged, without the "whole listing" placeholders.
fn resources(report: &Report) -> BTreeMap<(Text, Text, Text, String), ResourceRef> {
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
                ResourceRef::clone(r),
            )
        })
        .collect()
}

/// The section of a diff a finding is listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    NewlyFailing,
    Fixed,
    StillFailing,
    NewlyWaived,
    WaiverExpired,
    ErrorToFail,
    FailToError,
}

/// The table of the module documentation, row by row; `None` is unchanged.
fn section(old: Option<Status>, new: Status) -> Option<Section> {
    use Status::{Error, Fail, Pass, Waived};
    match (old, new) {
        (None | Some(Pass), Pass) => None,
        (None | Some(Pass), Waived) => Some(Section::NewlyWaived),
        (None | Some(Pass), Fail | Error) => Some(Section::NewlyFailing),
        (Some(Waived), Pass) => Some(Section::Fixed),
        (Some(Waived), Waived) => None,
        (Some(Waived), Fail) => Some(Section::WaiverExpired),
        (Some(Waived), Error) => Some(Section::FailToError),
        (Some(Fail), Pass) => Some(Section::Fixed),
        (Some(Fail), Waived) => Some(Section::NewlyWaived),
        (Some(Fail), Fail) => Some(Section::StillFailing),
        (Some(Fail), Error) => Some(Section::FailToError),
        (Some(Error), Pass) => Some(Section::Fixed),
        (Some(Error), Waived) => Some(Section::NewlyWaived),
        (Some(Error), Fail) => Some(Section::ErrorToFail),
        (Some(Error), Error) => Some(Section::StillFailing),
    }
}

impl Diff {
    pub fn between(old: &Report, new: &Report) -> Diff {
        let old_status: BTreeMap<FindingKey, Status> =
            old.results.iter().map(|f| (f.key(), f.status)).collect();
        let mut diff = Diff {
            schema: DIFF_SCHEMA.to_string(),
            old_generated_at: old.generated_at,
            new_generated_at: new.generated_at,
            newly_failing: Vec::new(),
            fixed: Vec::new(),
            still_failing: Vec::new(),
            newly_waived: Vec::new(),
            waiver_expired: Vec::new(),
            error_to_fail: Vec::new(),
            fail_to_error: Vec::new(),
            no_longer_checked: Vec::new(),
            appeared: Vec::new(),
            disappeared: Vec::new(),
        };
        for f in &new.results {
            if let Some(section) = section(old_status.get(&f.key()).copied(), f.status) {
                diff.section_mut(section).push(f.clone());
            }
        }
        let old_resources = resources(old);
        let new_resources = resources(new);
        diff.appeared = new_resources
            .iter()
            .filter(|(k, _)| !old_resources.contains_key(*k))
            .map(|(_, r)| r.clone())
            .collect();
        diff.disappeared = old_resources
            .iter()
            .filter(|(k, _)| !new_resources.contains_key(*k))
            .map(|(_, r)| r.clone())
            .collect();
        let judged_now: std::collections::BTreeSet<FindingKey> =
            new.results.iter().map(Finding::key).collect();
        diff.no_longer_checked = old
            .results
            .iter()
            .filter(|f| f.status != Status::Pass && !judged_now.contains(&f.key()))
            .filter(|f| {
                let r = &f.resource;
                let place = (
                    r.resource_type.clone(),
                    r.account.clone(),
                    r.region.clone(),
                    r.id.clone(),
                );
                new_resources.contains_key(&place)
            })
            .cloned()
            .collect();
        diff
    }

    fn section_mut(&mut self, section: Section) -> &mut Vec<Finding> {
        match section {
            Section::NewlyFailing => &mut self.newly_failing,
            Section::Fixed => &mut self.fixed,
            Section::StillFailing => &mut self.still_failing,
            Section::NewlyWaived => &mut self.newly_waived,
            Section::WaiverExpired => &mut self.waiver_expired,
            Section::ErrorToFail => &mut self.error_to_fail,
            Section::FailToError => &mut self.fail_to_error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Severity, WaiverNote};
    use Status::{Error, Fail, Pass, Waived};
    use std::sync::Arc;

    fn finding(status: Status, waiver: Option<WaiverNote>) -> Finding {
        Finding {
            rule: "rds-backup-retention".into(),
            title: "Backups kept long enough".into(),
            severity: Severity::High,
            category: "retention".into(),
            status,
            message: Text::default(),
            remediation: String::new(),
            resource: Arc::new(ResourceRef {
                resource_type: "aws.rds.db_instance".into(),
                id: "orders".into(),
                arn: String::new(),
                region: "eu-west-1".into(),
                account: "111122223333".into(),
                address: None,
            }),
            location: None,
            waiver: waiver.map(Box::new),
        }
    }

    fn report(results: Vec<Finding>, at: &str) -> Report {
        Report::new(at.parse().unwrap(), Default::default(), results, vec![])
    }

    fn note(expired: bool) -> WaiverNote {
        WaiverNote {
            reason: "legacy, replaced in Q3".into(),
            owner: "team-data".into(),
            expires: Some("2026-10-01".parse().unwrap()),
            expired,
            location: None,
        }
    }

    /// Every section by name, so that a test sees where a finding went.
    fn sections(diff: &Diff) -> [(&'static str, &[Finding]); 7] {
        [
            ("newly_failing", &diff.newly_failing),
            ("fixed", &diff.fixed),
            ("still_failing", &diff.still_failing),
            ("newly_waived", &diff.newly_waived),
            ("waiver_expired", &diff.waiver_expired),
            ("error_to_fail", &diff.error_to_fail),
            ("fail_to_error", &diff.fail_to_error),
        ]
    }

    /// The table of the module documentation, written out again.
    const EXPECTED: [(Option<Status>, Status, Option<&str>); 20] = [
        (None, Pass, None),
        (None, Waived, Some("newly_waived")),
        (None, Fail, Some("newly_failing")),
        (None, Error, Some("newly_failing")),
        (Some(Pass), Pass, None),
        (Some(Pass), Waived, Some("newly_waived")),
        (Some(Pass), Fail, Some("newly_failing")),
        (Some(Pass), Error, Some("newly_failing")),
        (Some(Waived), Pass, Some("fixed")),
        (Some(Waived), Waived, None),
        (Some(Waived), Fail, Some("waiver_expired")),
        (Some(Waived), Error, Some("fail_to_error")),
        (Some(Fail), Pass, Some("fixed")),
        (Some(Fail), Waived, Some("newly_waived")),
        (Some(Fail), Fail, Some("still_failing")),
        (Some(Fail), Error, Some("fail_to_error")),
        (Some(Error), Pass, Some("fixed")),
        (Some(Error), Waived, Some("newly_waived")),
        (Some(Error), Fail, Some("error_to_fail")),
        (Some(Error), Error, Some("still_failing")),
    ];

    /// Each (old status, new status) pair, with no waiver note, a live one
    /// or an expired one on either side, lands in the section of the table
    /// and in no other; a finding listed is the new one, note and all.
    #[test]
    fn every_transition_lands_in_exactly_its_section() {
        let notes = [None, Some(note(false)), Some(note(true))];
        let mut checked = 0;
        for (old_status, new_status, expected) in EXPECTED {
            for old_note in &notes {
                for new_note in &notes {
                    let old_results = old_status
                        .map(|s| vec![finding(s, old_note.clone())])
                        .unwrap_or_default();
                    let new_finding = finding(new_status, new_note.clone());
                    let diff = Diff::between(
                        &report(old_results, "2026-11-20T09:00:00Z"),
                        &report(vec![new_finding.clone()], "2026-11-27T09:00:00Z"),
                    );
                    let listed: Vec<_> = sections(&diff)
                        .into_iter()
                        .filter(|(_, findings)| !findings.is_empty())
                        .collect();
                    let case =
                        format!("{old_status:?} ({old_note:?}) -> {new_status:?} ({new_note:?})");
                    match expected {
                        None => assert!(listed.is_empty(), "{case}: {listed:?}"),
                        Some(name) => {
                            assert_eq!(listed.len(), 1, "{case}: {listed:?}");
                            assert_eq!(listed[0].0, name, "{case}");
                            assert_eq!(listed[0].1, [new_finding], "{case}");
                        }
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 5 * 4 * 3 * 3);
    }

    /// The table covers every pair once, and its promises hold: a changed
    /// status is never silent, an unread check is never fixed, and the
    /// sections the gate's readers knew keep their meaning.
    #[test]
    fn the_table_is_complete_and_keeps_its_promises() {
        let olds = [None, Some(Pass), Some(Waived), Some(Fail), Some(Error)];
        for old in olds {
            for new in [Pass, Waived, Fail, Error] {
                let rows: Vec<_> = EXPECTED
                    .iter()
                    .filter(|(o, n, _)| *o == old && *n == new)
                    .collect();
                assert_eq!(rows.len(), 1, "{old:?} -> {new:?}");
                let section = rows[0].2;
                // Absent before counts as passing: its resource is listed as
                // appeared when it is new.
                let changed = old.unwrap_or(Pass) != new;
                let still_failing = old == Some(new) && new.is_failing();
                assert_eq!(
                    section.is_some(),
                    changed || still_failing,
                    "{old:?} -> {new:?}"
                );
                if new == Error {
                    assert_ne!(section, Some("fixed"), "{old:?} -> error");
                }
                if section == Some("fixed") {
                    assert_eq!(new, Pass);
                }
                if section == Some("newly_failing") {
                    assert!(new.is_failing() && matches!(old, None | Some(Pass)));
                }
            }
        }
    }

    /// Findings in both reports go to their sections side by side; the
    /// resources judged in only one report appear or disappear.
    #[test]
    fn sections_and_resources_of_a_whole_report() {
        let with = |id: &str, status, waiver| {
            let mut f = finding(status, waiver);
            Arc::make_mut(&mut f.resource).id = id.into();
            f
        };
        let old = report(
            vec![
                with("waived-then-expired", Waived, Some(note(false))),
                with("failing-then-waived", Fail, None),
                with("unread-then-failing", Error, None),
                with("failing-then-unread", Fail, None),
                with("gone", Fail, None),
            ],
            "2026-11-20T09:00:00Z",
        );
        let new = report(
            vec![
                with("waived-then-expired", Fail, Some(note(true))),
                with("failing-then-waived", Waived, Some(note(false))),
                with("unread-then-failing", Fail, None),
                with("failing-then-unread", Error, None),
                with("new", Pass, None),
            ],
            "2026-11-27T09:00:00Z",
        );
        let diff = Diff::between(&old, &new);
        let ids = |findings: &[Finding]| {
            findings
                .iter()
                .map(|f| f.resource.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&diff.waiver_expired), ["waived-then-expired"]);
        assert_eq!(ids(&diff.newly_waived), ["failing-then-waived"]);
        assert_eq!(ids(&diff.error_to_fail), ["unread-then-failing"]);
        assert_eq!(ids(&diff.fail_to_error), ["failing-then-unread"]);
        assert!(diff.newly_failing.is_empty() && diff.fixed.is_empty());
        assert!(diff.still_failing.is_empty());
        assert_eq!(diff.appeared.len(), 1);
        assert_eq!(diff.appeared[0].id, "new");
        assert_eq!(diff.disappeared.len(), 1);
        assert_eq!(diff.disappeared[0].id, "gone");
    }

    /// A diff written before the four transition sections existed still
    /// reads back, with them empty.
    #[test]
    fn an_older_diff_reads_back() {
        let text = r#"{"schema":"backstop.diff/v1",
            "old_generated_at":"2026-11-20T09:00:00Z","new_generated_at":"2026-11-27T09:00:00Z",
            "newly_failing":[],"fixed":[],"still_failing":[],"appeared":[],"disappeared":[]}"#;
        let diff: Diff = serde_json::from_str(text).unwrap();
        assert!(diff.newly_waived.is_empty() && diff.fail_to_error.is_empty());
    }
}
