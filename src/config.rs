//! `backstop.yaml`: regions, rule settings, scope, export locations, the gate
//! threshold and waivers. Validated like rule files: every problem is
//! reported with file, line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use jiff::civil::Date;

use crate::lang::diagnostic::did_you_mean;
use crate::lang::yaml::{self, Mark, Node};
use crate::lang::{Code, Diagnostic, Diagnostics, duration};
use crate::report::Severity;
use crate::rules::{ParamValue, RuleSet, Settings};

/// The file looked for in the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "backstop.yaml";

/// What `backstop init` writes: every field, commented.
pub const STARTER: &str = include_str!("starter.yaml");

const FIELDS: &[&str] = &[
    "regions",
    "fail_on",
    "rules",
    "disable",
    "severity",
    "params",
    "scope",
    "export_locations",
    "waivers",
];

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
    pub fail_on: Option<FailOn>,
    /// Extra rule folders, resolved against the config file's folder.
    pub rule_dirs: Vec<PathBuf>,
    pub settings: Settings,
    pub scope: Scope,
    pub export_locations: Vec<ExportLocationConfig>,
    pub waivers: Vec<Waiver>,
    /// Rule ids the file refers to, with where, checked once rules are loaded.
    rule_refs: Vec<(String, String, Mark)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportLocationConfig {
    pub bucket: String,
    pub prefix: String,
    /// Overrides `s3-exports-fresh`'s `max_age` for this location.
    pub max_age: Option<String>,
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
        let mut p = Parser {
            file,
            diags: Vec::new(),
        };
        let mut config = Config::default();
        if root.is_null() {
            return Ok(config);
        }
        let Some(entries) = p.map(&root, "the config file") else {
            return Err(Diagnostics(p.diags));
        };
        for (key, value) in entries {
            let name = key.text().unwrap_or_default();
            match name {
                "regions" => {
                    for (region, mark) in p.strings_marked(value, "regions") {
                        match check_region(&region) {
                            Ok(()) => config.regions.push(region),
                            Err(m) => p.error(mark, Code::InvalidRegion, m),
                        }
                    }
                }
                "fail_on" => {
                    if let Some(s) = p.string(value, "fail_on") {
                        match s.parse::<FailOn>() {
                            Ok(f) => config.fail_on = Some(f),
                            Err(m) => p.error(value.mark, Code::InvalidValue, m),
                        }
                    }
                }
                "rules" => {
                    config.rule_dirs = p
                        .strings(value, "rules")
                        .into_iter()
                        .map(|d| base.join(d))
                        .collect();
                }
                "disable" => {
                    for (id, mark) in p.strings_marked(value, "disable") {
                        config.rule_refs.push((id.clone(), file.to_string(), mark));
                        config.settings.disabled.insert(id);
                    }
                }
                "severity" => {
                    for (k, v) in p.map(value, "severity").unwrap_or_default() {
                        let id = k.text().unwrap_or_default().to_string();
                        config
                            .rule_refs
                            .push((id.clone(), file.to_string(), k.mark));
                        if let Some(s) = p.string(v, "a severity") {
                            match s.parse::<Severity>() {
                                Ok(sev) => {
                                    config.settings.severity.insert(id, sev);
                                }
                                Err(m) => p.error(v.mark, Code::InvalidSeverity, m),
                            }
                        }
                    }
                }
                "params" => {
                    for (k, v) in p.map(value, "params").unwrap_or_default() {
                        let id = k.text().unwrap_or_default().to_string();
                        config
                            .rule_refs
                            .push((id.clone(), file.to_string(), k.mark));
                        let mut params = BTreeMap::new();
                        for (pk, pv) in p.map(v, "a rule's params").unwrap_or_default() {
                            params.insert(
                                pk.text().unwrap_or_default().to_string(),
                                ParamValue {
                                    node: pv.clone(),
                                    file: file.to_string(),
                                },
                            );
                        }
                        config.settings.params.insert(id, params);
                    }
                }
                "scope" => config.scope = p.scope(value),
                "export_locations" => config.export_locations = p.export_locations(value),
                "waivers" => config.waivers = p.waivers(value, &mut config.rule_refs),
                other => {
                    let mut d = Diagnostic::new(
                        file,
                        key.mark,
                        Code::UnknownField,
                        format!("unknown config field `{other}`"),
                    );
                    d.help = did_you_mean(other, FIELDS.iter().copied())
                        .or_else(|| Some(format!("config fields: {}", FIELDS.join(", "))));
                    p.diags.push(d);
                }
            }
        }
        if p.diags.is_empty() {
            Ok(config)
        } else {
            Err(Diagnostics(p.diags))
        }
    }

    /// Checks that every rule id the config names exists.
    pub fn check_rule_ids(&self, rules: &RuleSet) -> Result<(), Diagnostics> {
        let diags: Vec<Diagnostic> = self
            .rule_refs
            .iter()
            .filter(|(id, _, _)| rules.get(id).is_none())
            .map(|(id, file, mark)| {
                let mut d = Diagnostic::new(
                    file,
                    *mark,
                    Code::UnknownRule,
                    format!("unknown rule `{id}`"),
                );
                d.help = did_you_mean(id, rules.rules().iter().map(|r| r.id.as_str()))
                    .or_else(|| Some("`backstop rules list` shows the rule ids".into()));
                d
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

/// A region name as AWS spells them (`eu-west-1`, `us-gov-east-1`), so a
/// typo is reported here rather than as a DNS failure for every call.
pub fn check_region(region: &str) -> Result<(), String> {
    static REGION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$").expect("valid regex")
    });
    if REGION.is_match(region) {
        Ok(())
    } else {
        Err(format!(
            "{region:?} is not an AWS region name (like eu-west-1)"
        ))
    }
}

/// An AWS account id: exactly 12 digits (quote it in YAML to keep leading
/// zeros).
pub fn check_account(account: &str) -> Result<(), String> {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "{account:?} is not an AWS account id (12 digits, like \"123456789012\")"
        ))
    }
}

struct Parser<'a> {
    file: &'a str,
    diags: Vec<Diagnostic>,
}

impl<'a> Parser<'a> {
    fn error(&mut self, mark: Mark, code: Code, message: impl Into<String>) {
        self.diags
            .push(Diagnostic::new(self.file, mark, code, message));
    }

    fn map<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [(Node, Node)]> {
        if node.is_null() {
            return Some(&[]);
        }
        let m = node.as_map();
        if m.is_none() {
            self.error(
                node.mark,
                Code::TypeMismatch,
                format!("{what} must be a mapping, found {}", node.describe()),
            );
        }
        m
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match node.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.error(
                    node.mark,
                    Code::TypeMismatch,
                    format!("{what} must be a string, found {}", node.describe()),
                );
                None
            }
        }
    }

    /// The items of a list (none for an empty value), or an error.
    fn list<'n>(&mut self, node: &'n Node, what: &str) -> &'n [Node] {
        if node.is_null() {
            return &[];
        }
        match node.as_seq() {
            Some(items) => items,
            None => {
                self.error(
                    node.mark,
                    Code::TypeMismatch,
                    format!("`{what}` must be a list, found {}", node.describe()),
                );
                &[]
            }
        }
    }

    fn strings_marked(&mut self, node: &Node, what: &str) -> Vec<(String, Mark)> {
        self.list(node, what)
            .iter()
            .filter_map(|i| {
                self.string(i, &format!("each item of `{what}`"))
                    .map(|s| (s, i.mark))
            })
            .collect()
    }

    /// Account ids as written: `123456789012` unquoted is a YAML integer,
    /// but its text is the id.
    fn account_ids(&mut self, node: &Node) -> Vec<(String, Mark)> {
        self.list(node, "accounts")
            .iter()
            .filter_map(|i| match i.text() {
                Some(text) => Some((text.to_string(), i.mark)),
                None => {
                    self.error(
                        i.mark,
                        Code::TypeMismatch,
                        format!(
                            "each item of `accounts` must be an account id, found {}",
                            i.describe()
                        ),
                    );
                    None
                }
            })
            .collect()
    }

    fn strings(&mut self, node: &Node, what: &str) -> Vec<String> {
        self.strings_marked(node, what)
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    }

    fn glob(&mut self, pattern: &str, mark: Mark) -> Option<GlobMatcher> {
        match Glob::new(pattern) {
            Ok(g) => Some(g.compile_matcher()),
            Err(e) => {
                self.error(
                    mark,
                    Code::InvalidGlob,
                    format!("invalid glob {pattern:?}: {}", e.kind()),
                );
                None
            }
        }
    }

    /// Fields of an object-like item, rejecting unknown ones.
    fn fields<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> BTreeMap<&'n str, &'n Node> {
        let mut out = BTreeMap::new();
        for (k, v) in self.map(node, what).unwrap_or_default() {
            let name = k.text().unwrap_or_default();
            if allowed.contains(&name) {
                out.insert(name, v);
            } else {
                let mut d = Diagnostic::new(
                    self.file,
                    k.mark,
                    Code::UnknownField,
                    format!("unknown field `{name}` in {what}"),
                );
                d.help = did_you_mean(name, allowed.iter().copied())
                    .or_else(|| Some(format!("fields: {}", allowed.join(", "))));
                self.diags.push(d);
            }
        }
        out
    }

    fn scope(&mut self, node: &Node) -> Scope {
        let fields = self.fields(node, "`scope`", &["include", "exclude"]);
        Scope {
            include: fields
                .get("include")
                .map(|n| self.filter(n, "`scope.include`"))
                .unwrap_or_default(),
            exclude: fields
                .get("exclude")
                .map(|n| self.filter(n, "`scope.exclude`"))
                .unwrap_or_default(),
        }
    }

    fn filter(&mut self, node: &Node, what: &str) -> Filter {
        let fields = self.fields(node, what, &["tags", "names", "regions", "accounts"]);
        let mut filter = Filter::default();
        if let Some(tags) = fields.get("tags") {
            for (k, v) in self.map(tags, "`tags`").unwrap_or_default() {
                let key = k.text().unwrap_or_default().to_string();
                if let Some(value) = self.string(v, "a tag value")
                    && let Some(g) = self.glob(&value, v.mark)
                {
                    filter.tags.push((key, g));
                }
            }
        }
        if let Some(names) = fields.get("names") {
            for (n, mark) in self.strings_marked(names, "names") {
                if let Some(g) = self.glob(&n, mark) {
                    filter.names.push(g);
                }
            }
        }
        if let Some(regions) = fields.get("regions") {
            // A misspelt region would match nothing: an include would
            // silently empty the audit, an exclude silently do nothing.
            for (region, mark) in self.strings_marked(regions, "regions") {
                match check_region(&region) {
                    Ok(()) => filter.regions.push(region),
                    Err(m) => self.error(mark, Code::InvalidRegion, m),
                }
            }
        }
        if let Some(accounts) = fields.get("accounts") {
            for (account, mark) in self.account_ids(accounts) {
                match check_account(&account) {
                    Ok(()) => filter.accounts.push(account),
                    Err(m) => self.error(mark, Code::InvalidAccount, m),
                }
            }
        }
        filter
    }

    fn export_locations(&mut self, node: &Node) -> Vec<ExportLocationConfig> {
        let Some(items) = node.as_seq() else {
            if !node.is_null() {
                self.error(
                    node.mark,
                    Code::TypeMismatch,
                    format!(
                        "`export_locations` must be a list, found {}",
                        node.describe()
                    ),
                );
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let fields = self.fields(item, "an export location", &["bucket", "prefix", "max_age"]);
            let Some(bucket_node) = fields.get("bucket") else {
                self.error(
                    item.mark,
                    Code::MissingField,
                    "an export location needs `bucket`",
                );
                continue;
            };
            let Some(bucket) = self.string(bucket_node, "`bucket`") else {
                continue;
            };
            let prefix = fields
                .get("prefix")
                .and_then(|n| self.string(n, "`prefix`"))
                .unwrap_or_default();
            let max_age = match fields.get("max_age") {
                Some(n) => match self.string(n, "`max_age`") {
                    Some(s) => match duration::parse(&s) {
                        Ok(_) => Some(s),
                        Err(m) => {
                            self.error(n.mark, Code::InvalidDuration, m);
                            None
                        }
                    },
                    None => None,
                },
                None => None,
            };
            out.push(ExportLocationConfig {
                bucket,
                prefix,
                max_age,
            });
        }
        out
    }

    fn waivers(&mut self, node: &Node, rule_refs: &mut Vec<(String, String, Mark)>) -> Vec<Waiver> {
        let Some(items) = node.as_seq() else {
            if !node.is_null() {
                self.error(
                    node.mark,
                    Code::TypeMismatch,
                    format!("`waivers` must be a list, found {}", node.describe()),
                );
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let fields = self.fields(
                item,
                "a waiver",
                &["rule", "resource", "reason", "owner", "expires"],
            );
            let required = |name: &str, p: &mut Self| match fields.get(name) {
                Some(n) => match p.string(n, &format!("`{name}`")) {
                    // An empty field would leave the waiver matching nothing
                    // (or waiving without a reason): refuse it.
                    Some(s) if s.trim().is_empty() => {
                        p.error(
                            n.mark,
                            Code::EmptyField,
                            format!("a waiver's `{name}` must not be empty"),
                        );
                        None
                    }
                    Some(s) => Some((s, n.mark)),
                    None => None,
                },
                None => {
                    p.error(
                        item.mark,
                        Code::MissingField,
                        format!("a waiver needs `{name}`"),
                    );
                    None
                }
            };
            let rule = required("rule", self);
            let resource = required("resource", self);
            let reason = required("reason", self);
            let owner = fields
                .get("owner")
                .and_then(|n| self.string(n, "`owner`"))
                .unwrap_or_default();
            let expires = match fields.get("expires") {
                None => None,
                Some(n) => match n.text().map(str::parse::<Date>) {
                    Some(Ok(d)) => Some(d),
                    _ => {
                        self.error(
                            n.mark,
                            Code::InvalidDate,
                            format!(
                                "`expires` must be a date like 2026-12-31, found {:?}",
                                n.text().unwrap_or_default()
                            ),
                        );
                        continue;
                    }
                },
            };
            let (Some((rule, rule_mark)), Some((resource, res_mark)), Some((reason, _))) =
                (rule, resource, reason)
            else {
                continue;
            };
            let Some(matcher) = self.glob(&resource, res_mark) else {
                continue;
            };
            rule_refs.push((rule.clone(), self.file.to_string(), rule_mark));
            out.push(Waiver {
                rule,
                resource,
                matcher,
                reason,
                owner,
                expires,
                file: self.file.to_string(),
                mark: item.mark,
            });
        }
        out
    }
}
