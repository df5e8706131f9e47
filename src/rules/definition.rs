//! A rule file: its metadata, params and (not yet compiled) conditions.

use std::collections::BTreeMap;

use super::ParamValue;
use crate::lang::fields::{Fields, Reader, Value};
use crate::lang::yaml::{self, Mark, Node};
use crate::lang::{Code, Diagnostic};
use crate::model::schema::{self, RESOURCE_TYPES, ResourceType};
use crate::report::{CATEGORIES, Severity};

const FIELDS: &[&str] = &[
    "id",
    "title",
    "resource",
    "severity",
    "category",
    "params",
    "when",
    "assert",
    "rationale",
    "remediation",
    "references",
];

const RULE_FILE: Fields = Fields::whole_file(FIELDS, "field", "rule fields").strict_keys();

/// A rule as written, validated except for its conditions.
#[derive(Debug, Clone)]
pub struct RuleDef {
    pub id: String,
    pub title: String,
    /// The types it judges, as listed (`resource:` names one or a list);
    /// never empty, no type twice.
    pub resource_types: Vec<&'static ResourceType>,
    pub severity: Severity,
    pub category: String,
    /// Defaults, in declaration order of names.
    pub params: BTreeMap<String, ParamValue>,
    pub when: Option<Node>,
    pub assert: Node,
    pub rationale: String,
    /// May contain `{id}`, `{region}`, `{arn}`, `{account}`.
    pub remediation: String,
    pub references: Vec<String>,
    /// Where it was loaded from (`builtin:rules/rds/x.yaml` for the pack).
    pub file: String,
    pub id_mark: Mark,
}

impl RuleDef {
    /// Parses one rule file. `stem` is the file name without extension,
    /// which must equal the rule id.
    pub fn parse(file: &str, stem: &str, text: &str) -> Result<RuleDef, Vec<Diagnostic>> {
        let root = yaml::parse(text).map_err(|e| vec![Diagnostic::yaml(file, e)])?;
        if root.as_map().is_none() {
            return Err(vec![Diagnostic::new(
                file,
                root.mark,
                Code::InvalidRule,
                format!("a rule file must be a mapping, found {}", root.describe()),
            )]);
        }
        let r = Reader::new(file);
        let rule = r.record(&root, &RULE_FILE);
        // Every text field is read before any is checked: what is missing or
        // of the wrong type is reported first.
        let text = |name| rule.required(name).and_then(|value| value.non_empty_text());
        let id = text("id");
        let title = text("title");
        let resource = rule
            .required("resource")
            .and_then(|value| resource_names(&value));
        let severity = text("severity");
        let category = text("category");
        let rationale = text("rationale");
        let remediation = text("remediation");

        if let Some((id, mark)) = id {
            check_id(&r, id, stem, mark);
        }
        let kinds = resource.and_then(|names| resource_types(&r, &names));
        let severity = severity.and_then(|(name, mark)| severity_named(&r, name, mark));
        let category = category.and_then(|(name, mark)| category_named(&r, name, mark));
        let params = rule.optional("params").map(params).unwrap_or_default();
        let references = rule
            .optional("references")
            .map(references)
            .unwrap_or_default();
        let assert = rule.required("assert").map(|value| value.node.clone());
        let when = rule.optional("when").map(|value| value.node.clone());

        let (
            Some((id, id_mark)),
            Some((title, _)),
            Some(kinds),
            Some(severity),
            Some(category),
            Some((rationale, _)),
            Some((remediation, _)),
            Some(assert),
        ) = (
            id,
            title,
            kinds,
            severity,
            category,
            rationale,
            remediation,
            assert,
        )
        else {
            return Err(r.into_diagnostics());
        };
        let def = RuleDef {
            id: id.to_string(),
            title: title.to_string(),
            resource_types: kinds,
            severity,
            category: category.to_string(),
            params,
            when,
            assert,
            rationale: rationale.to_string(),
            remediation: remediation.to_string(),
            references,
            file: file.to_string(),
            id_mark,
        };
        r.finish(def)
    }

    /// Whether the rule judges resources of the type named `resource_type`.
    pub fn applies_to(&self, resource_type: &str) -> bool {
        self.resource_types.iter().any(|t| t.name == resource_type)
    }

    /// Its types as `rules list` and `explain` show them: `aws.rds.db_instance`,
    /// or `aws.rds.db_instance, aws.rds.db_cluster`.
    pub fn resource_type_names(&self) -> String {
        let names: Vec<&str> = self.resource_types.iter().map(|t| t.name).collect();
        names.join(", ")
    }
}

/// The params of a rule, or a config file's overrides of them, by name.
pub fn params(mapping: Value<'_>) -> BTreeMap<String, ParamValue> {
    mapping
        .entries()
        .map(|param| {
            let value = ParamValue {
                node: param.value.clone(),
                file: mapping.reader().file().to_string(),
            };
            (param.name.to_string(), value)
        })
        .collect()
}

/// `resource:` names one resource type, or a list of them.
fn resource_names<'a>(value: &Value<'a>) -> Option<Vec<(&'a str, Mark)>> {
    if value.node.as_seq().is_none() {
        return value.non_empty_text().map(|name| vec![name]);
    }
    // Every item is read before any is checked, so every mistake is reported.
    let names: Vec<Option<(&str, Mark)>> =
        value.items().map(|item| item.non_empty_text()).collect();
    if names.is_empty() {
        value.reader().error(
            value.mark(),
            Code::EmptyField,
            "`resource` must name at least one resource type",
        );
        return None;
    }
    names.into_iter().collect()
}

/// The named types, each known and named once.
fn resource_types(r: &Reader, names: &[(&str, Mark)]) -> Option<Vec<&'static ResourceType>> {
    let kinds: Vec<Option<&'static ResourceType>> = names
        .iter()
        .map(|&(name, mark)| resource_type(r, name, mark))
        .collect();
    let mut listed = Vec::new();
    for &(name, mark) in names {
        if listed.contains(&name) {
            r.error(
                mark,
                Code::InvalidRule,
                format!("resource type `{name}` is listed twice"),
            );
            return None;
        }
        listed.push(name);
    }
    kinds.into_iter().collect()
}

fn resource_type(r: &Reader, name: &str, mark: Mark) -> Option<&'static ResourceType> {
    let kind = schema::resource_type(name);
    if kind.is_none() {
        r.report(
            r.diagnostic(
                mark,
                Code::UnknownResourceType,
                format!("unknown resource type `{name}`"),
            )
            .suggesting(name, RESOURCE_TYPES.iter().map(|t| t.name))
            .or_help("`backstop schema` lists the resource types"),
        );
    }
    kind
}

fn severity_named(r: &Reader, name: &str, mark: Mark) -> Option<Severity> {
    name.parse()
        .map_err(|message| {
            r.report(
                r.diagnostic(mark, Code::InvalidSeverity, message)
                    .suggesting(name, Severity::ALL.iter().map(|s| s.as_str())),
            );
        })
        .ok()
}

fn category_named<'a>(r: &Reader, name: &'a str, mark: Mark) -> Option<&'a str> {
    let categories = || CATEGORIES.iter().map(|(id, _)| *id);
    if categories().any(|c| c == name) {
        return Some(name);
    }
    let listed = categories().collect::<Vec<_>>().join(", ");
    r.report(
        r.diagnostic(
            mark,
            Code::InvalidCategory,
            format!("unknown category `{name}`; categories: {listed}"),
        )
        .suggesting(name, categories()),
    );
    None
}

fn references(list: Value) -> Vec<String> {
    list.list()
        .unwrap_or_default()
        .iter()
        .filter_map(|item| {
            let text = item.text();
            if text.is_none() {
                list.reader()
                    .error(item.mark, Code::TypeMismatch, "references must be strings");
            }
            text.map(str::to_string)
        })
        .collect()
}

/// The id names the file and is usable on a command line.
fn check_id(r: &Reader, id: &str, stem: &str, mark: Mark) {
    if id != stem {
        r.report(
            r.diagnostic(
                mark,
                Code::IdMismatch,
                format!("rule id `{id}` differs from its file name `{stem}`"),
            )
            .with_help(format!(
                "rename the file to `{id}.yaml` or the id to `{stem}`"
            )),
        );
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        r.error(
            mark,
            Code::InvalidId,
            format!("rule id `{id}` must be lowercase letters, digits and dashes"),
        );
    }
}
