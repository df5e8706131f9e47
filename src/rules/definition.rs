//! A rule file: its metadata, params and (not yet compiled) conditions.

use std::collections::BTreeMap;

use super::condition::ParamValue;
use crate::lang::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::lang::yaml::{self, Mark, Node};
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

/// A rule as written, validated except for its conditions.
#[derive(Debug, Clone)]
pub struct RuleDef {
    pub id: String,
    pub title: String,
    pub kind: &'static ResourceType,
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
        let mut diags = Vec::new();
        let Some(entries) = root.as_map() else {
            return Err(vec![Diagnostic::new(
                file,
                root.mark,
                Code::InvalidRule,
                format!("a rule file must be a mapping, found {}", root.describe()),
            )]);
        };
        // Where the mapping starts: a block mapping's own mark is at the colon
        // after its first key.
        let start = entries.first().map_or(root.mark, |(key, _)| {
            if (key.mark.line, key.mark.col) < (root.mark.line, root.mark.col) {
                key.mark
            } else {
                root.mark
            }
        });
        let mut fields: BTreeMap<&str, (&Node, &Node)> = BTreeMap::new();
        // Fields a misspelt key was taken for: not reported missing as well.
        let mut misspelt: Vec<&str> = Vec::new();
        for (key, value) in entries {
            let name = key.text().unwrap_or_default();
            if FIELDS.contains(&name) {
                fields.insert(name, (key, value));
            } else if key.as_str().is_none_or(str::is_empty) {
                diags.push(Diagnostic::new(
                    file,
                    key.mark,
                    Code::UnknownField,
                    format!("expected a field name, found {}", key.describe()),
                ));
            } else {
                let mut d = Diagnostic::new(
                    file,
                    key.mark,
                    Code::UnknownField,
                    format!("unknown field `{name}`"),
                );
                misspelt.extend(schema::suggest(name, FIELDS.iter().copied()));
                d.help = did_you_mean(name, FIELDS.iter().copied())
                    .or_else(|| Some(format!("rule fields: {}", FIELDS.join(", "))));
                diags.push(d);
            }
        }
        let string = |name: &str, diags: &mut Vec<Diagnostic>| -> Option<(String, Mark)> {
            match fields.get(name) {
                None if misspelt.contains(&name) => None,
                None => {
                    diags.push(Diagnostic::new(
                        file,
                        start,
                        Code::MissingField,
                        format!("missing required field `{name}`"),
                    ));
                    None
                }
                Some((key, value)) => match value.text().filter(|_| !value.is_null()) {
                    Some(text) if !text.trim().is_empty() => {
                        Some((text.trim().to_string(), value.mark))
                    }
                    _ => {
                        // An empty value's mark is wherever the next token is.
                        let mark = if value.is_null() {
                            key.mark
                        } else {
                            value.mark
                        };
                        diags.push(Diagnostic::new(
                            file,
                            mark,
                            Code::TypeMismatch,
                            format!(
                                "`{name}` must be a non-empty string, found {}",
                                value.describe()
                            ),
                        ));
                        None
                    }
                },
            }
        };
        let id = string("id", &mut diags);
        let title = string("title", &mut diags);
        let resource = string("resource", &mut diags);
        let severity = string("severity", &mut diags);
        let category = string("category", &mut diags);
        let rationale = string("rationale", &mut diags);
        let remediation = string("remediation", &mut diags);

        if let Some((id, mark)) = &id {
            if id != stem {
                diags.push(
                    Diagnostic::new(
                        file,
                        *mark,
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
                diags.push(Diagnostic::new(
                    file,
                    *mark,
                    Code::InvalidId,
                    format!("rule id `{id}` must be lowercase letters, digits and dashes"),
                ));
            }
        }
        let kind = resource.and_then(|(name, mark)| match schema::resource_type(&name) {
            Some(kind) => Some(kind),
            None => {
                let mut d = Diagnostic::new(
                    file,
                    mark,
                    Code::UnknownResourceType,
                    format!("unknown resource type `{name}`"),
                );
                d.help = did_you_mean(&name, RESOURCE_TYPES.iter().map(|t| t.name))
                    .or_else(|| Some("`backstop schema` lists the resource types".into()));
                diags.push(d);
                None
            }
        });
        let severity = severity.and_then(|(s, mark)| match s.parse::<Severity>() {
            Ok(sev) => Some(sev),
            Err(message) => {
                let mut d = Diagnostic::new(file, mark, Code::InvalidSeverity, message);
                d.help = did_you_mean(&s, Severity::ALL.iter().map(|s| s.as_str()));
                diags.push(d);
                None
            }
        });
        let category = category.and_then(|(c, mark)| {
            if CATEGORIES.iter().any(|(id, _)| *id == c) {
                Some(c)
            } else {
                let mut d = Diagnostic::new(
                    file,
                    mark,
                    Code::InvalidCategory,
                    format!(
                        "unknown category `{c}`; categories: {}",
                        CATEGORIES
                            .iter()
                            .map(|(id, _)| *id)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                d.help = did_you_mean(&c, CATEGORIES.iter().map(|(id, _)| *id));
                diags.push(d);
                None
            }
        });

        let mut params = BTreeMap::new();
        if let Some((_, node)) = fields.get("params") {
            match node.as_map() {
                Some(entries) => {
                    for (key, value) in entries {
                        params.insert(
                            key.text().unwrap_or_default().to_string(),
                            ParamValue {
                                node: value.clone(),
                                file: file.to_string(),
                            },
                        );
                    }
                }
                None if node.is_null() => {}
                None => diags.push(Diagnostic::new(
                    file,
                    node.mark,
                    Code::TypeMismatch,
                    format!("`params` must be a mapping, found {}", node.describe()),
                )),
            }
        }
        let mut references = Vec::new();
        if let Some((_, node)) = fields.get("references") {
            match node.as_seq() {
                Some(items) => {
                    for item in items {
                        match item.text() {
                            Some(t) if item.as_map().is_none() => references.push(t.to_string()),
                            _ => diags.push(Diagnostic::new(
                                file,
                                item.mark,
                                Code::TypeMismatch,
                                "references must be strings",
                            )),
                        }
                    }
                }
                None => diags.push(Diagnostic::new(
                    file,
                    node.mark,
                    Code::TypeMismatch,
                    format!("`references` must be a list, found {}", node.describe()),
                )),
            }
        }
        let assert = match fields.get("assert") {
            Some((_, node)) => Some((*node).clone()),
            None if misspelt.contains(&"assert") => None,
            None => {
                diags.push(Diagnostic::new(
                    file,
                    start,
                    Code::MissingField,
                    "missing required field `assert`",
                ));
                None
            }
        };
        let when = fields.get("when").map(|(_, node)| (*node).clone());

        match (
            id,
            title,
            kind,
            severity,
            category,
            rationale,
            remediation,
            assert,
        ) {
            (
                Some((id, id_mark)),
                Some((title, _)),
                Some(kind),
                Some(severity),
                Some(category),
                Some((rationale, _)),
                Some((remediation, _)),
                Some(assert),
            ) if diags.is_empty() => Ok(RuleDef {
                id,
                title,
                kind,
                severity,
                category,
                params,
                when,
                assert,
                rationale,
                remediation,
                references,
                file: file.to_string(),
                id_mark,
            }),
            _ => Err(diags),
        }
    }
}
