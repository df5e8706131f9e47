//! The CI gate: does this report fail the build?

use std::collections::BTreeSet;

use crate::config::FailOn;
use crate::report::{Finding, Report, Severity, Status};

#[derive(Debug, Clone, Copy)]
pub struct GateOptions {
    pub fail_on: FailOn,
    /// `error` results do not count (they still show in the reports).
    pub allow_errors: bool,
}

/// The gate's threshold when neither the command line nor the config sets one.
pub const DEFAULT_FAIL_ON: FailOn = FailOn::Severity(Severity::High);

impl Default for GateOptions {
    fn default() -> Self {
        GateOptions {
            fail_on: DEFAULT_FAIL_ON,
            allow_errors: false,
        }
    }
}

/// The results that fail the gate: fails (and errors, unless allowed) at or
/// above the threshold, and, with a baseline, only those not already known
/// from it. A result is known only when the baseline holds the same finding
/// with the same status: an `error` that is now a `fail` (the facts were read
/// and show a gap) is new, and so is a `fail` that is now an `error` (the gap
/// may have grown, nobody can tell).
pub fn blocking<'a>(
    report: &'a Report,
    options: GateOptions,
    baseline: Option<&Report>,
) -> Vec<&'a Finding> {
    let threshold = match options.fail_on {
        FailOn::Never => return Vec::new(),
        FailOn::Severity(s) => s,
    };
    let known: BTreeSet<_> = baseline
        .map(|b| {
            b.results
                .iter()
                .filter(|f| f.status.is_failing())
                .map(|f| (f.key(), f.status))
                .collect()
        })
        .unwrap_or_default();
    report
        .results
        .iter()
        .filter(|f| match f.status {
            Status::Fail => true,
            Status::Error => !options.allow_errors,
            Status::Pass | Status::Waived => false,
        })
        .filter(|f| f.severity.at_least(threshold))
        .filter(|f| !known.contains(&(f.key(), f.status)))
        .collect()
}
