//! One audit, from an inventory to a finished report: scope, evaluation and
//! waivers. Where the inventory came from is the caller's business.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::config::{Config, ResourceFacts, Scope, Waiver};
use crate::model::{CollectionError, Inventory, schema};
use crate::report::{Report, Summary, UnusedWaiver, WaiverNote};
use crate::rules::{Diagnostics, Engine, RuleSet};
use crate::verdict::Status;

/// Loads the built-in pack plus the config's and the command line's rule
/// folders, checks the config's rule ids, and compiles the enabled rules.
pub fn load_rules(
    config: &Config,
    extra_dirs: &[std::path::PathBuf],
) -> Result<(RuleSet, Engine), Diagnostics> {
    let mut rules = RuleSet::builtin()?;
    let mut diags = Vec::new();
    for dir in config.rule_dirs.iter().chain(extra_dirs) {
        if let Err(d) = rules.add_dir(dir) {
            diags.extend(d.0);
        }
    }
    if let Err(d) = config.check_rule_ids(&rules) {
        diags.extend(d.0);
    }
    if !diags.is_empty() {
        return Err(Diagnostics(diags));
    }
    let engine = rules.compile(&config.settings)?;
    Ok((rules, engine))
}

/// Drops the resources the configured scope leaves out.
///
/// A resource whose tags could not be read cannot be placed by a tag scope:
/// unless other criteria already leave it out, it is replaced by a per-resource
/// collection failure, so every rule for its type reports `error` on it
/// instead of the resource silently dropping out of the audit.
pub fn apply_scope(inventory: &mut Inventory, scope: &Scope) {
    let account = inventory.source.account.clone().unwrap_or_default();
    let untagged: Vec<CollectionError> = if scope.reads_tags() {
        inventory
            .errors
            .iter()
            .filter(|e| e.attributes.iter().any(|a| a == "tags"))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let mut undecidable = Vec::new();
    inventory.resources.retain(|r| {
        let facts = ResourceFacts {
            id: &r.id,
            region: &r.region,
            account: if r.account.is_empty() {
                &account
            } else {
                &r.account
            },
            tags: &r.tags,
        };
        let tag_error = untagged.iter().find(|e| {
            e.resource_type == r.kind.name
                && e.region == r.region
                && e.resource_id.as_ref().is_none_or(|id| *id == r.id)
        });
        match tag_error {
            Some(error) if scope.admits_ignoring_tags(&facts) => {
                undecidable.push(CollectionError {
                    resource_id: Some(r.id.clone()),
                    attributes: Vec::new(),
                    message: format!(
                        "its tags could not be read, so whether it is in scope is unknown: {}",
                        error.message
                    ),
                    ..error.clone()
                });
                false
            }
            _ => scope.admits(&facts),
        }
    });
    let no_tags = Default::default();
    inventory.errors.retain(|e| {
        // Errors are kept unless their region or account is out of scope: an
        // unreadable resource's name or tags are unknown, so they cannot be
        // excluded by those.
        let facts = ResourceFacts {
            id: e.resource_id.as_deref().unwrap_or("*"),
            region: &e.region,
            account: &account,
            tags: &no_tags,
        };
        let region_ok =
            scope.include.regions.is_empty() || scope.include.regions.contains(&e.region);
        let account_ok =
            scope.include.accounts.is_empty() || scope.include.accounts.contains(&account);
        region_ok
            && account_ok
            && !scope.exclude.regions.contains(&e.region)
            && !scope.exclude.accounts.contains(&account)
            && !(e.resource_id.is_some()
                && scope.exclude.names.iter().any(|g| g.is_match(facts.id)))
    });
    inventory.errors.extend(undecidable);
}

/// Runs the whole audit of one inventory.
pub fn run(engine: &Engine, mut inventory: Inventory, config: &Config, now: Timestamp) -> Report {
    apply_scope(&mut inventory, &config.scope);
    apply_export_max_ages(&mut inventory, config);
    let mut report = engine.audit(&inventory, now);
    apply_waivers(&mut report, &config.waivers, now);
    report
}

/// The configuration, not the inventory, decides how old an export may be:
/// a saved inventory is audited with today's expectations.
fn apply_export_max_ages(inventory: &mut Inventory, config: &Config) {
    for resource in &mut inventory.resources {
        if resource.kind.name != schema::S3_EXPORT_LOCATION {
            continue;
        }
        let configured = config
            .export_locations
            .iter()
            .find(|l| format!("{}/{}", l.bucket, l.prefix) == resource.id);
        if let Some(location) = configured {
            resource.set("max_age", location.max_age.clone());
        }
    }
}

/// Marks failing results covered by a live waiver as `waived`; an expired
/// waiver leaves the failure standing with a note. Waivers that matched no
/// failing or erroring result are listed as unused.
pub fn apply_waivers(report: &mut Report, waivers: &[Waiver], now: Timestamp) {
    let today = now.to_zoned_datetime(TimeZone::UTC).date();
    let mut used = vec![false; waivers.len()];
    for finding in &mut report.results {
        if !matches!(finding.status, Status::Fail | Status::Error) {
            continue;
        }
        let matching = waivers
            .iter()
            .enumerate()
            .find(|(_, w)| w.matches(&finding.rule, &finding.resource.id, &finding.resource.arn));
        let Some((i, waiver)) = matching else {
            continue;
        };
        used[i] = true;
        // A waiver accepts a known gap; it never hides that the facts could
        // not be read, so an `error` stays an error (and the waiver is not
        // "unused": the resource may still have the gap).
        if finding.status == Status::Error {
            continue;
        }
        let expired = waiver.expired_on(today);
        finding.waiver = Some(WaiverNote {
            reason: waiver.reason.clone(),
            owner: waiver.owner.clone(),
            expires: waiver.expires,
            expired,
        });
        if expired {
            let date = waiver.expires.map(|d| d.to_string()).unwrap_or_default();
            finding.message = format!(
                "{} (was waived until {date}: {})",
                finding.message, waiver.reason
            );
        } else {
            finding.status = Status::Waived;
        }
    }
    report.unused_waivers = waivers
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(w, _)| UnusedWaiver {
            rule: w.rule.clone(),
            resource: w.resource.clone(),
            reason: w.reason.clone(),
            location: format!("{}:{}:{}", w.file, w.mark.line, w.mark.col),
        })
        .collect();
    report.summary = Summary::of(&report.results);
}
