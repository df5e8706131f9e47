//! One audit, from an inventory to a finished report: scope, evaluation and
//! waivers. Where the inventory came from is the caller's business.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::config::{Config, Filter, ResourceFacts, Scope, Waiver};
use crate::lang::Diagnostics;
use crate::model::{CollectionError, Inventory, Location, Resource, schema};
use crate::report::{Report, Status, Summary, UnusedWaiver, WaiverNote};
use crate::rules::{Engine, RuleSet};

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

/// Drops the resources the configured scope leaves out, and the collection
/// errors about them.
///
/// A resource whose tags could not be read cannot be placed by a tag scope:
/// unless other criteria already leave it out, it is replaced by a per-resource
/// collection failure, so every rule for its type reports `error` on it
/// instead of the resource silently dropping out of the audit.
///
/// Export locations carry no tags of their own: they are in scope exactly
/// when their bucket is (its name, region, account and tags), and get the
/// same `error` when the bucket's tags are unknown.
///
/// Errors follow the resources: a per-resource error is dropped when its
/// resource is out of scope (or, for a resource that could not be read at
/// all, when its id, region or account alone leave it out). Errors about a
/// whole listing (`*`) are kept unless their region or account is out of
/// scope: they may hide resources that are in scope.
pub fn apply_scope(inventory: &mut Inventory, scope: &Scope) {
    let account = inventory.source.account.clone().unwrap_or_default();
    let judge = Judge {
        scope,
        account: &account,
        buckets: inventory
            .resources
            .iter()
            .filter(|b| b.resource_type.name == schema::S3_BUCKET)
            .map(|b| (b.id.as_str(), b))
            .collect(),
        errors: &inventory.errors,
        tag_errors: inventory
            .errors
            .iter()
            .filter(|e| e.attributes.iter().any(|a| a == "tags"))
            .collect(),
        by_place: only(scope, false, true, true),
        by_account: only(scope, false, false, true),
        by_name: only(scope, true, false, false),
    };
    let mut undecidable = Vec::new();
    // (type, account, region, id) → whether the resource's errors stay.
    let mut decided: HashMap<(&str, &str, &str, &str), bool> = HashMap::new();
    let mut keep = Vec::with_capacity(inventory.resources.len());
    for r in &inventory.resources {
        let (stays, errors_stay) = match judge.resource(r) {
            Decision::In => (true, true),
            Decision::Out => (false, false),
            Decision::Unknown { base, why } => {
                undecidable.push(CollectionError {
                    account: Some(judge.account_of(r).to_string()).filter(|a| !a.is_empty()),
                    resource_type: r.resource_type.name.to_string(),
                    resource_id: Some(r.id.clone()),
                    region: r.region.clone(),
                    attributes: Vec::new(),
                    message: format!(
                        "{why}, so whether it is in scope is unknown: {}",
                        base.message
                    ),
                    ..*base
                });
                (false, true)
            }
        };
        keep.push(stays);
        decided.insert(
            (r.resource_type.name, judge.account_of(r), &r.region, &r.id),
            errors_stay,
        );
    }
    let errors_kept: Vec<bool> = inventory
        .errors
        .iter()
        .map(|e| judge.keeps_error(e, &decided))
        .collect();
    let mut keep = keep.into_iter();
    inventory.resources.retain(|_| keep.next().unwrap_or(true));
    let mut kept = errors_kept.into_iter();
    inventory.errors.retain(|_| kept.next().unwrap_or(true));
    inventory.errors.extend(undecidable);
}

/// Where a resource stands with the scope.
enum Decision {
    In,
    Out,
    /// Only unknown facts (its tags) could decide: `base` is the failure
    /// that left them unknown, `why` says whose tags.
    Unknown {
        base: Box<CollectionError>,
        why: String,
    },
}

struct Judge<'a> {
    scope: &'a Scope,
    account: &'a str,
    /// The inventory's buckets by name, for their export locations.
    buckets: HashMap<&'a str, &'a Resource>,
    errors: &'a [CollectionError],
    /// The errors that left some resource's tags unread.
    tag_errors: Vec<&'a CollectionError>,
    /// The scope's region and account criteria, its account criteria, and
    /// its name criteria: what places an error whose resource is unknown.
    by_place: Scope,
    by_account: Scope,
    by_name: Scope,
}

impl Judge<'_> {
    fn account_of<'r>(&'r self, r: &'r Resource) -> &'r str {
        if r.account.is_empty() {
            self.account
        } else {
            &r.account
        }
    }

    /// The account a failed call was made in (a single-account inventory's
    /// errors name none: its own).
    fn account_of_error<'e>(&'e self, e: &'e CollectionError) -> &'e str {
        e.account.as_deref().unwrap_or(self.account)
    }

    fn resource(&self, r: &Resource) -> Decision {
        if r.resource_type.name == schema::S3_EXPORT_LOCATION {
            let bucket = r
                .get("bucket")
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| bucket_of_location(&r.id).to_string());
            return self.export_location(&bucket, &r.region);
        }
        // A plan's new resource may have no name or account yet: a scope
        // that selects by them cannot place it.
        if let Some(planned) = &r.planned {
            let by_name =
                !self.scope.include.names.is_empty() || !self.scope.exclude.names.is_empty();
            let by_account =
                !self.scope.include.accounts.is_empty() || !self.scope.exclude.accounts.is_empty();
            let unknown = if by_name && planned.id_known_after_apply {
                Some("its name")
            } else if by_account && self.account_of(r).is_empty() {
                Some("its account")
            } else {
                None
            };
            if let Some(what) = unknown {
                let scope_after_apply = CollectionError {
                    account: None,
                    service: "terraform".into(),
                    operation: "plan".into(),
                    code: CollectionError::NAME_KNOWN_AFTER_APPLY.into(),
                    message: format!("{what} is known only after apply"),
                    ..not_collected(r.resource_type.name, &r.id, &r.region)
                };
                return Decision::Unknown {
                    base: Box::new(scope_after_apply),
                    why: format!("{what} is known only after apply"),
                };
            }
        }
        self.decide(
            r.resource_type.name,
            &r.id,
            &r.region,
            self.account_of(r),
            Some(r.tags_read.then_some(&r.tags)),
        )
    }

    /// An export location follows its bucket.
    fn export_location(&self, bucket: &str, region: &str) -> Decision {
        let found = self.buckets.get(bucket).copied();
        let decision = match found {
            Some(b) => self.decide(
                schema::S3_BUCKET,
                &b.id,
                &b.region,
                self.account_of(b),
                Some(b.tags_read.then_some(&b.tags)),
            ),
            None => self.decide(schema::S3_BUCKET, bucket, region, self.account, None),
        };
        match decision {
            Decision::Unknown { base, .. } => Decision::Unknown {
                base,
                why: format!("the tags of its bucket `{bucket}` could not be read"),
            },
            other => other,
        }
    }

    /// `collected` is `None` when the resource was not collected at all, and
    /// `Some(None)` when it was but its tags were not read.
    fn decide(
        &self,
        kind: &str,
        id: &str,
        region: &str,
        account: &str,
        collected: Option<Option<&BTreeMap<String, String>>>,
    ) -> Decision {
        let tags = collected.flatten();
        let no_tags = BTreeMap::new();
        let facts = ResourceFacts {
            id,
            region,
            account,
            tags: tags.unwrap_or(&no_tags),
        };
        let verdict = |admitted: bool| {
            if admitted {
                Decision::In
            } else {
                Decision::Out
            }
        };
        if !self.scope.reads_tags() {
            return verdict(self.scope.admits(&facts));
        }
        let tag_error = self.tag_errors.iter().copied().find(|e| {
            e.resource_type == kind
                && self.account_of_error(e) == account
                && e.region == region
                && e.resource_id.as_deref().is_none_or(|e| e == id)
        });
        if tags.is_some() && tag_error.is_none() {
            return verdict(self.scope.admits(&facts));
        }
        if !self.scope.admits_ignoring_tags(&facts) {
            return Decision::Out;
        }
        let base = tag_error
            .or_else(|| {
                // Not collected: because its listing failed, if it did.
                self.errors.iter().find(|e| {
                    e.resource_type == kind
                        && self.account_of_error(e) == account
                        && e.is_listing_failure()
                        && e.resource_id.as_deref().is_none_or(|e| e == id)
                })
            })
            .cloned()
            .unwrap_or_else(|| match collected {
                Some(_) => tags_not_read(kind, id, region),
                None => not_collected(kind, id, region),
            });
        let base = Box::new(base);
        Decision::Unknown {
            base,
            why: "its tags could not be read".into(),
        }
    }

    /// Whether a collection error stays in the audit.
    fn keeps_error(
        &self,
        e: &CollectionError,
        decided: &HashMap<(&str, &str, &str, &str), bool>,
    ) -> bool {
        // A bucket whose location failed is recorded where the question was
        // asked; where it lives is unknown, so no region criterion can
        // leave it out.
        let region_unknown = e.resource_type == schema::S3_BUCKET
            && e.operation == schema::ops::S3_GET_BUCKET_LOCATION.name
            && e.is_listing_failure();
        let no_tags = BTreeMap::new();
        let facts = ResourceFacts {
            id: e.resource_id.as_deref().unwrap_or("*"),
            region: &e.region,
            account: self.account_of_error(e),
            tags: &no_tags,
        };
        let placed = if region_unknown {
            &self.by_account
        } else {
            &self.by_place
        };
        if !placed.admits(&facts) {
            return false;
        }
        let Some(id) = e.resource_id.as_deref().filter(|id| *id != "*") else {
            return true;
        };
        if e.resource_type == schema::S3_EXPORT_LOCATION {
            return !matches!(
                self.export_location(bucket_of_location(id), &e.region),
                Decision::Out
            );
        }
        let place = (
            e.resource_type.as_str(),
            self.account_of_error(e),
            e.region.as_str(),
            id,
        );
        if let Some(&admitted) = decided.get(&place) {
            return admitted;
        }
        // Not collected: only what is known of it (its id) can leave it out.
        self.by_name.admits(&facts)
    }
}

/// The scope reduced to the criteria asked for (names, regions, accounts);
/// tags are always left out.
fn only(scope: &Scope, names: bool, regions: bool, accounts: bool) -> Scope {
    let part = |f: &Filter| Filter {
        tags: Vec::new(),
        names: if names { f.names.clone() } else { Vec::new() },
        regions: if regions {
            f.regions.clone()
        } else {
            Vec::new()
        },
        accounts: if accounts {
            f.accounts.clone()
        } else {
            Vec::new()
        },
    };
    Scope {
        include: part(&scope.include),
        exclude: part(&scope.exclude),
    }
}

/// An export location's id is `bucket/prefix`; bucket names hold no `/`.
fn bucket_of_location(id: &str) -> &str {
    id.split_once('/').map_or(id, |(bucket, _)| bucket)
}

/// The failure to cite when a resource a tag scope needs was never read.
/// A resource in the inventory whose tags were not read (an inventory
/// collected without them, or written by hand).
fn tags_not_read(kind: &str, id: &str, region: &str) -> CollectionError {
    CollectionError {
        account: None,
        message: format!("the tags of {kind} `{id}` were not collected"),
        code: "TagsNotCollected".into(),
        ..not_collected(kind, id, region)
    }
}

fn not_collected(kind: &str, id: &str, region: &str) -> CollectionError {
    CollectionError {
        account: None,
        service: kind.split('.').nth(1).unwrap_or_default().to_string(),
        region: region.to_string(),
        operation: "collect".into(),
        code: "NotCollected".into(),
        message: format!(
            "{kind} `{id}` is not in the inventory (not in an audited region, or it does not exist)"
        ),
        resource_type: kind.to_string(),
        resource_id: Some(id.to_string()),
        attributes: Vec::new(),
    }
}

/// The AWS calls a live audit makes: what the enabled rules read, plus the
/// tags a tag scope needs to place each audited resource (for export
/// locations, their bucket's tags).
pub fn collection_plan(engine: &Engine, config: &Config) -> crate::collect::Plan {
    let mut plan = crate::collect::Plan::for_engine(engine);
    if config.scope.reads_tags() {
        for rule in engine.rules() {
            for resource_type in &rule.def.resource_types {
                plan.extend(resource_type.operations_for([], true));
            }
            if rule.def.applies_to(schema::S3_EXPORT_LOCATION)
                && let Some(bucket) = schema::resource_type(schema::S3_BUCKET)
            {
                plan.extend(bucket.operations_for([], true));
            }
        }
    }
    plan
}

/// A scope whose regions leave out every audited region would audit
/// nothing and pass: that is a configuration mistake, said before auditing.
pub fn check_scope_reaches(scope: &Scope, audited_regions: &[String]) -> Result<(), String> {
    let admitted = |region: &String| {
        (scope.include.regions.is_empty() || scope.include.regions.contains(region))
            && !scope.exclude.regions.contains(region)
    };
    if audited_regions.is_empty() || audited_regions.iter().any(admitted) {
        return Ok(());
    }
    Err(format!(
        "the scope's regions (include: [{}], exclude: [{}]) leave out every audited region \
         ([{}]), so nothing would be audited: fix `scope.*.regions` in the configuration or \
         the audited regions (--regions, `regions`)",
        scope.include.regions.join(", "),
        scope.exclude.regions.join(", "),
        audited_regions.join(", ")
    ))
}

/// Runs the whole audit of one inventory.
pub fn run(engine: &Engine, mut inventory: Inventory, config: &Config, now: Timestamp) -> Report {
    tracing::debug_span!("scope").in_scope(|| {
        apply_scope(&mut inventory, &config.scope);
        apply_export_max_ages(&mut inventory, config);
    });
    let mut report = engine.audit(&inventory, now);
    tracing::debug_span!("free inventory").in_scope(|| drop(inventory));
    tracing::debug_span!("waivers").in_scope(|| apply_waivers(&mut report, &config.waivers, now));
    report
}

/// The configuration, not the inventory, decides how old an export may be:
/// a saved inventory is audited with today's expectations.
fn apply_export_max_ages(inventory: &mut Inventory, config: &Config) {
    for resource in &mut inventory.resources {
        if resource.resource_type.name != schema::S3_EXPORT_LOCATION {
            continue;
        }
        let configured = config
            .export_locations
            .iter()
            .find(|l| l.id() == resource.id);
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
        if !finding.status.is_failing() {
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
        finding.waiver = Some(Box::new(WaiverNote {
            reason: waiver.reason.clone(),
            owner: waiver.owner.clone(),
            expires: waiver.expires,
            expired,
            location: Some(Location {
                file: waiver.file.clone(),
                line: waiver.mark.line,
            }),
        }));
        if expired {
            let date = waiver.expires.map(|d| d.to_string()).unwrap_or_default();
            finding.message = format!(
                "{} (was waived until {date}: {})",
                finding.message, waiver.reason
            )
            .into();
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
