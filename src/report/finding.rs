//! One rule's verdict on one resource, and what identifies it across runs.

use std::cmp::Ordering;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Severity, Status};
use crate::model::{Location, ResourceRef, Text};

/// One rule's verdict on one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: Text,
    pub title: Text,
    pub severity: Severity,
    pub category: Text,
    pub status: Status,
    /// Why: the failed assertion, or the call that could not be made.
    pub message: Text,
    /// What to do, with the resource's id filled in; empty on a pass.
    pub remediation: String,
    /// Shared by the results of one resource (several rules judge each):
    /// its names are kept once, not once per result. `Arc::make_mut`
    /// changes one result's copy.
    #[serde(with = "shared")]
    pub resource: Arc<ResourceRef>,
    /// The `.tf` block that defines the resource, for a plan's resources.
    /// Boxed, as most results have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Box<Location>>,
    /// Boxed: most results have none, and an inline one would make every
    /// result larger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<Box<WaiverNote>>,
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

    /// Which finding this is, for matching it across runs and reports.
    pub fn key(&self) -> FindingKey<'_> {
        FindingKey {
            rule: &self.rule,
            resource_type: &self.resource.resource_type,
            account: &self.resource.account,
            region: &self.resource.region,
            id: &self.resource.id,
        }
    }
}

/// Serde for a shared value: the value's own form (serde's `rc` feature
/// would do the same, at the cost of rebuilding every crate that uses serde).
mod shared {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        value: &Arc<T>,
        out: S,
    ) -> Result<S::Ok, S::Error> {
        T::serialize(value, out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        input: D,
    ) -> Result<Arc<T>, D::Error> {
        T::deserialize(input).map(Arc::new)
    }
}

/// What makes two results "the same finding" across runs: the rule and the
/// resource it judged. The baseline gate, the diff and the merge all match
/// findings by it. Everything else may change between runs: the message and
/// status with the facts, the title and severity with the rule files, and
/// the ARN is empty on a result for a resource that could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FindingKey<'a> {
    // The derived order follows the field order. `merge` hands results to
    // `Report::new` in this order, and its stable sort keeps it for ties.
    pub rule: &'a str,
    pub resource_type: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub id: &'a str,
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
    /// Where the waiver is written (`backstop.yaml` and its line): SARIF
    /// anchors a waived finding there. Absent in reports from before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn finding() -> Finding {
        Finding {
            rule: "rds-backup-retention".into(),
            title: "Backups kept long enough".into(),
            severity: Severity::High,
            category: "retention".into(),
            status: Status::Fail,
            message: "backup_retention_period is 1".into(),
            remediation: "Raise it".into(),
            resource: Arc::new(ResourceRef {
                resource_type: "db_instance".into(),
                id: "orders".into(),
                arn: "arn:aws:rds:eu-west-1:111122223333:db:orders".into(),
                region: "eu-west-1".into(),
                account: "111122223333".into(),
                address: None,
            }),
            location: None,
            waiver: None,
        }
    }

    #[test]
    fn key_is_the_rule_and_the_resource() {
        let f = finding();
        assert_eq!(
            f.key(),
            FindingKey {
                rule: "rds-backup-retention",
                resource_type: "db_instance",
                account: "111122223333",
                region: "eu-west-1",
                id: "orders",
            }
        );
    }

    #[test]
    fn key_ignores_what_may_change_between_runs() {
        let before = finding();
        let mut after = finding();
        after.title = "Renamed".into();
        after.severity = Severity::Low;
        after.category = "availability".into();
        after.status = Status::Error;
        after.message = "could not read backup_retention_period".into();
        after.remediation = String::new();
        Arc::make_mut(&mut after.resource).arn = String::new();
        assert_eq!(before.key(), after.key());
    }

    #[test]
    fn key_tells_resources_apart() {
        let base = finding();
        let changes: [fn(&mut Finding); 5] = [
            |f| f.rule = "rds-deletion-protection".into(),
            |f| Arc::make_mut(&mut f.resource).resource_type = "db_cluster".into(),
            |f| Arc::make_mut(&mut f.resource).account = "444455556666".into(),
            |f| Arc::make_mut(&mut f.resource).region = "us-east-1".into(),
            |f| Arc::make_mut(&mut f.resource).id = "billing".into(),
        ];
        for change in changes {
            let mut other = finding();
            change(&mut other);
            assert_ne!(base.key(), other.key(), "{other:?}");
        }
    }
}
