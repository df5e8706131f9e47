//! `backstop.yaml`: regions, rule settings, scope, export locations, the gate
//! threshold and waivers. Validated like rule files: every problem is
//! reported with file, line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use jiff::civil::Date;

use crate::lang::fields::{Fields, Reader, Value};
use crate::lang::yaml::{self, Mark, Node};
use crate::lang::{Code, Diagnostic, Diagnostics};
use crate::model::ExportLocation;
use crate::model::names::{check_account, check_region, check_role_name};
use crate::report::Severity;
use crate::rules::{RuleSet, Settings, definition};

/// The file looked for in the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "backstop.yaml";

/// What `backstop init` writes: every field, commented.
pub const STARTER: &str = include_str!("starter.yaml");

const FIELDS: &[&str] = &[
    "regions",
    "accounts",
    "fail_on",
    "rules",
    "disable",
    "severity",
    "params",
    "scope",
    "export_locations",
    "waivers",
];

const CONFIG_FILE: Fields = Fields::whole_file(FIELDS, "config field", "config fields");
const SCOPE: Fields = Fields::nested("`scope`", &["include", "exclude"]);
const FILTER_FIELDS: &[&str] = &["tags", "names", "regions", "accounts"];
const INCLUDE: Fields = Fields::nested("`scope.include`", FILTER_FIELDS);
const EXCLUDE: Fields = Fields::nested("`scope.exclude`", FILTER_FIELDS);
const EXPORT_LOCATION: Fields =
    Fields::nested("an export location", &["bucket", "prefix", "max_age"]);
const ACCOUNTS: Fields = Fields::nested("`accounts`", &["ids", "role_name", "external_id"]);
const WAIVER: Fields = Fields::nested(
    "a waiver",
    &["rule", "resource", "reason", "owner", "expires"],
);

/// The gate threshold: results at or above it fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Severity(Severity),
    Never,
}

impl std::str::FromStr for FailOn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "never" => Ok(FailOn::Never),
            "info" => Err(
                "`info` is not a gate level: expected critical, high, medium, low or never".into(),
            ),
            other => other
                .parse::<Severity>()
                .map(FailOn::Severity)
                .map_err(|_| {
                    format!(
                        "unknown level {other:?}: expected critical, high, medium, low or never"
                    )
                }),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from; `None` for the defaults.
    pub file: Option<PathBuf>,
    pub regions: Vec<String>,
    /// Other accounts to audit, each through a role.
    pub accounts: Option<Accounts>,
    pub fail_on: Option<FailOn>,
    /// Extra rule folders, resolved against the config file's folder.
    pub rule_dirs: Vec<PathBuf>,
    pub settings: Settings,
    pub scope: Scope,
    pub export_locations: Vec<ExportLocation>,
    pub waivers: Vec<Waiver>,
    /// Rule ids the file refers to, with where, checked once rules are loaded.
    rule_refs: Vec<(String, String, Mark)>,
}

/// `accounts:`: the accounts to audit and the role that enters each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accounts {
    pub ids: Vec<String>,
    pub role_name: String,
    pub external_id: Option<String>,
}

/// Which resources are audited.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub include: Filter,
    pub exclude: Filter,
}

/// A resource matches a filter when it matches each criterion given:
/// every tag (value globs), any name glob, any region, any account.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub tags: Vec<(String, GlobMatcher)>,
    pub names: Vec<GlobMatcher>,
    pub regions: Vec<String>,
    pub accounts: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Waiver {
    pub rule: String,
    /// Resource id, ARN, or a glob over either.
    pub resource: String,
    matcher: GlobMatcher,
    pub reason: String,
    pub owner: String,
    pub expires: Option<Date>,
    pub file: String,
    pub mark: Mark,
}

impl Waiver {
    pub fn matches(&self, rule: &str, id: &str, arn: &str) -> bool {
        self.rule == rule
            && (self.matcher.is_match(id) || (!arn.is_empty() && self.matcher.is_match(arn)))
    }

    /// True once the audit date is past `expires` (a waiver holds through its last day).
    pub fn expired_on(&self, today: Date) -> bool {
        self.expires.is_some_and(|e| today > e)
    }
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
            && self.names.is_empty()
            && self.regions.is_empty()
            && self.accounts.is_empty()
    }

    /// Every given criterion holds.
    pub fn matches_all(&self, r: &ResourceFacts) -> bool {
        self.tags
            .iter()
            .all(|(k, v)| r.tags.get(k).is_some_and(|t| v.is_match(t)))
            && (self.names.is_empty() || self.names.iter().any(|g| g.is_match(r.id)))
            && (self.regions.is_empty() || self.regions.iter().any(|x| x == r.region))
            && (self.accounts.is_empty() || self.accounts.iter().any(|x| x == r.account))
    }

    /// Some given criterion holds.
    pub fn matches_any(&self, r: &ResourceFacts) -> bool {
        self.tags
            .iter()
            .any(|(k, v)| r.tags.get(k).is_some_and(|t| v.is_match(t)))
            || self.names.iter().any(|g| g.is_match(r.id))
            || self.regions.iter().any(|x| x == r.region)
            || self.accounts.iter().any(|x| x == r.account)
    }
}

/// What scope filters look at.
pub struct ResourceFacts<'a> {
    pub id: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub tags: &'a BTreeMap<String, String>,
}

impl Scope {
    pub fn admits(&self, r: &ResourceFacts) -> bool {
        (self.include.is_empty() || self.include.matches_all(r)) && !self.exclude.matches_any(r)
    }

    /// Whether the criteria other than tags admit the resource: then only
    /// its tags could leave it out.
    pub fn admits_ignoring_tags(&self, r: &ResourceFacts) -> bool {
        let untagged = |f: &Filter| Filter {
            tags: Vec::new(),
            ..f.clone()
        };
        let include = untagged(&self.include);
        let exclude = untagged(&self.exclude);
        (include.is_empty() || include.matches_all(r)) && !exclude.matches_any(r)
    }

    /// Whether tags are needed to decide scope (so collection reads them).
    pub fn reads_tags(&self) -> bool {
        !self.include.tags.is_empty() || !self.exclude.tags.is_empty()
    }
}

impl Config {
    /// Loads `path`, or `backstop.yaml` in the working directory if it exists,
    /// or the defaults.
    pub fn discover(path: Option<&Path>) -> Result<Config, Diagnostics> {
        match path {
            Some(p) => Config::load(p),
            // Anything by that name is loaded, so a FIFO or a broken link
            // is an error rather than silently the defaults.
            None if std::fs::symlink_metadata(DEFAULT_FILE).is_ok() => {
                Config::load(Path::new(DEFAULT_FILE))
            }
            None => Ok(Config::default()),
        }
    }

    pub fn load(path: &Path) -> Result<Config, Diagnostics> {
        let shown = path.display().to_string();
        let text = crate::input::read_text(path, crate::input::YAML_FILE_LIMIT).map_err(|e| {
            Diagnostics(vec![Diagnostic::read_error(
                &shown,
                "cannot read config file",
                &e,
            )])
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut config = Config::parse(&shown, &text, base)?;
        config.file = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses config text; relative rule folders are resolved against `base`.
    pub fn parse(file: &str, text: &str, base: &Path) -> Result<Config, Diagnostics> {
        let root = yaml::parse(text).map_err(|e| Diagnostics(vec![Diagnostic::yaml(file, e)]))?;
        let mut config = Config::default();
        if root.is_null() {
            return Ok(config);
        }
        let r = Reader::new(file);
        let Some(entries) = r.value(&root, "the config file").mapping() else {
            return Err(Diagnostics(r.into_diagnostics()));
        };
        // Read in the order written, so diagnostics come out in that order.
        for (key, value) in entries {
            match key.text().unwrap_or_default() {
                "regions" => config.regions = regions(r.value(value, "`regions`")),
                "accounts" => config.accounts = accounts(&r, value),
                "fail_on" => config.fail_on = r.value(value, "fail_on").parse(Code::InvalidValue),
                "rules" => {
                    config.rule_dirs = r
                        .value(value, "`rules`")
                        .strings()
                        .into_iter()
                        .map(|(dir, _)| base.join(dir))
                        .collect();
                }
                "disable" => {
                    for (id, rule) in r.value(value, "`disable`").strings() {
                        config.refer_to_rule(id, file, rule.mark());
                        config.settings.disabled.insert(id.to_string());
                    }
                }
                "severity" => {
                    for rule in r.value(value, "severity").entries() {
                        config.refer_to_rule(rule.name, file, rule.key.mark);
                        let severity = r.value(rule.value, "a severity");
                        if let Some(severity) = severity.parse(Code::InvalidSeverity) {
                            config
                                .settings
                                .severity
                                .insert(rule.name.to_string(), severity);
                        }
                    }
                }
                "params" => {
                    for rule in r.value(value, "params").entries() {
                        config.refer_to_rule(rule.name, file, rule.key.mark);
                        let params = definition::params(r.value(rule.value, "a rule's params"));
                        config.settings.params.insert(rule.name.to_string(), params);
                    }
                }
                "scope" => config.scope = scope(&r, value),
                "export_locations" => {
                    config.export_locations = r
                        .value(value, "`export_locations`")
                        .items()
                        .filter_map(|item| export_location(&r, item.node))
                        .collect();
                }
                "waivers" => {
                    for item in r.value(value, "`waivers`").items() {
                        if let Some((waiver, rule_mark)) = waiver(&r, item.node) {
                            config.refer_to_rule(&waiver.rule, file, rule_mark);
                            config.waivers.push(waiver);
                        }
                    }
                }
                _ => {
                    r.unknown_field(key, &CONFIG_FILE);
                }
            }
        }
        r.finish(config).map_err(Diagnostics)
    }

    /// Notes a rule id the file names, to check once the rules are loaded.
    fn refer_to_rule(&mut self, id: &str, file: &str, mark: Mark) {
        self.rule_refs
            .push((id.to_string(), file.to_string(), mark));
    }

    /// Checks that every rule id the config names exists.
    pub fn check_rule_ids(&self, rules: &RuleSet) -> Result<(), Diagnostics> {
        let diags: Vec<Diagnostic> = self
            .rule_refs
            .iter()
            .filter(|(id, _, _)| rules.get(id).is_none())
            .map(|(id, file, mark)| {
                Diagnostic::new(
                    file,
                    *mark,
                    Code::UnknownRule,
                    format!("unknown rule `{id}`"),
                )
                .suggesting(id, rules.rules().iter().map(|r| r.id.as_str()))
                .or_help("`backstop rules list` shows the rule ids")
            })
            .collect();
        if diags.is_empty() {
            Ok(())
        } else {
            Err(Diagnostics(diags))
        }
    }

    /// Rule ids disabled by the config.
    pub fn disabled(&self) -> &BTreeSet<String> {
        &self.settings.disabled
    }
}

/// Region names, each checked: a misspelt one would match nothing.
fn regions(list: Value) -> Vec<String> {
    list.parse_each(Code::InvalidRegion, |name| {
        check_region(name).map(|()| name.to_string())
    })
}

fn accounts(r: &Reader, node: &Node) -> Option<Accounts> {
    let record = r.record(node, &ACCOUNTS);
    let ids = record.required("ids").map(account_ids);
    let role_name = record.required("role_name").and_then(|name| {
        let text = name.non_empty_string()?;
        name.check(Code::InvalidValue, check_role_name(text).map(|()| text))
    });
    let external_id = record
        .optional("external_id")
        .and_then(|id| id.non_empty_string());
    Some(Accounts {
        ids: ids?,
        role_name: role_name?.to_string(),
        external_id: external_id.map(str::to_string),
    })
}

fn account_ids(list: Value) -> Vec<String> {
    list.items_as(|account| account.text_as("an account id"))
        .into_iter()
        .filter_map(|(id, account)| {
            account.check(
                Code::InvalidAccount,
                check_account(id).map(|()| id.to_string()),
            )
        })
        .collect()
}

fn glob(pattern: &str) -> Result<GlobMatcher, String> {
    Glob::new(pattern)
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("invalid glob {pattern:?}: {}", e.kind()))
}

fn scope(r: &Reader, node: &Node) -> Scope {
    let record = r.record(node, &SCOPE);
    let filter_in = |name, fields| {
        record
            .optional(name)
            .map(|value| filter(r, value.node, fields))
            .unwrap_or_default()
    };
    Scope {
        include: filter_in("include", &INCLUDE),
        exclude: filter_in("exclude", &EXCLUDE),
    }
}

fn filter(r: &Reader, node: &Node, fields: &Fields) -> Filter {
    let record = r.record(node, fields);
    Filter {
        tags: record
            .optional("tags")
            .into_iter()
            .flat_map(|tags| tags.entries())
            .filter_map(|tag| {
                let pattern = r.value(tag.value, "a tag value");
                let matcher = pattern.parse_with(Code::InvalidGlob, glob)?;
                Some((tag.name.to_string(), matcher))
            })
            .collect(),
        names: record
            .optional("names")
            .map(|names| names.parse_each(Code::InvalidGlob, glob))
            .unwrap_or_default(),
        // A misspelt region would match nothing: an include would silently
        // empty the audit, an exclude silently do nothing.
        regions: record.optional("regions").map(regions).unwrap_or_default(),
        accounts: record
            .optional("accounts")
            .map(account_ids)
            .unwrap_or_default(),
    }
}

fn export_location(r: &Reader, item: &Node) -> Option<ExportLocation> {
    let location = r.record(item, &EXPORT_LOCATION);
    let bucket = location.required("bucket")?.string()?;
    let prefix = location.optional("prefix").and_then(|p| p.string());
    // Kept as written: it reaches `s3-exports-fresh` as the bucket's
    // `max_age` attribute.
    let max_age = location
        .optional("max_age")
        .and_then(|age| age.duration().and(age.node.as_str()));
    Some(ExportLocation {
        bucket: bucket.to_string(),
        prefix: prefix.unwrap_or_default().to_string(),
        max_age: max_age.map(str::to_string),
    })
}

/// A waiver, and where its rule id is.
fn waiver(r: &Reader, item: &Node) -> Option<(Waiver, Mark)> {
    let record = r.record(item, &WAIVER);
    // An empty field would leave the waiver matching nothing (or waiving
    // without a reason): refuse it.
    let required = |name| {
        let value = record.required(name)?;
        Some((value.non_empty_string()?, value))
    };
    let rule = required("rule");
    let resource = required("resource");
    let reason = required("reason");
    let owner = record.optional("owner").and_then(|o| o.string());
    let expires = match record.optional("expires") {
        Some(date) => Some(date.date()?),
        None => None,
    };
    let (Some((rule, rule_value)), Some((resource, resource_value)), Some((reason, _))) =
        (rule, resource, reason)
    else {
        return None;
    };
    let matcher = resource_value.check(Code::InvalidGlob, glob(resource))?;
    let waiver = Waiver {
        rule: rule.to_string(),
        resource: resource.to_string(),
        matcher,
        reason: reason.to_string(),
        owner: owner.unwrap_or_default().to_string(),
        expires,
        file: r.file().to_string(),
        mark: item.mark,
    };
    Some((waiver, rule_value.mark()))
}
