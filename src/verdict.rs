//! The vocabulary shared by rules and reports: severities, statuses and the
//! gap categories of the backup strategy.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    // Declared from most to least severe so that sorting puts the worst first.
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// True when `self` is at least as severe as `threshold`.
    pub fn at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("unknown severity {s:?}: expected critical, high, medium, low or info")
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    // Declared in the order reports list them: what needs action first.
    Fail,
    Error,
    Waived,
    Pass,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Waived => "waived",
            Status::Pass => "pass",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The gap categories of a backup strategy, in report order: (id, heading).
pub static CATEGORIES: &[(&str, &str)] = &[
    ("retention", "Backup retention"),
    ("deletion-protection", "Deletion protection"),
    ("availability", "Availability and failover"),
    ("encryption", "Encryption"),
    ("cross-region", "Cross-region copies"),
    ("recovery-point", "Recovery point freshness"),
    ("lifecycle", "Image lifecycle"),
    ("logging", "Log retention and centralization"),
    ("exposure", "Public exposure"),
];

/// Heading for a category id (the id itself when unknown).
pub fn category_heading(id: &str) -> &str {
    CATEGORIES
        .iter()
        .find(|(c, _)| *c == id)
        .map_or(id, |(_, heading)| heading)
}

/// Position of a category in report order; unknown ones sort last.
pub fn category_rank(id: &str) -> usize {
    CATEGORIES
        .iter()
        .position(|(c, _)| *c == id)
        .unwrap_or(CATEGORIES.len())
}
