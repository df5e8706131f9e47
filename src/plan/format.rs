//! The parts of Terraform's plan JSON (`terraform show -json PLANFILE`,
//! HashiCorp's "JSON Output Format"; OpenTofu writes the same) that an
//! audit reads. Unknown fields are ignored: each Terraform release adds some.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

/// A plan file, as `terraform show -json` writes it.
#[derive(Debug, Deserialize)]
pub struct PlanFile {
    pub format_version: String,
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    /// Absent only when nothing is planned at all: then there are also no
    /// `planned_values` resources, which [`PlanFile::looks_like_a_plan`] checks.
    #[serde(default)]
    pub resource_changes: Vec<ResourceChange>,
    #[serde(default)]
    pub planned_values: Option<Json>,
    #[serde(default)]
    pub configuration: Configuration,
}

impl PlanFile {
    /// The major versions of the format this reader knows (Terraform 0.12
    /// to 1.x write `0.1` to `1.2`; a new major may change meanings).
    pub fn version_is_known(&self) -> bool {
        matches!(self.format_version.split('.').next(), Some("0" | "1"))
    }

    /// A plan has `planned_values` (a `terraform show -json` of a state
    /// file has `values` instead, and other JSON neither).
    pub fn looks_like_a_plan(&self) -> bool {
        self.planned_values.is_some()
    }
}

#[derive(Debug, Deserialize)]
pub struct Variable {
    #[serde(default)]
    pub value: Json,
}

/// One resource instance's planned change.
#[derive(Debug, Deserialize)]
pub struct ResourceChange {
    pub address: String,
    /// `module.env["prod"].module.db`; absent in the root module.
    #[serde(default)]
    pub module_address: Option<String>,
    /// `managed` or `data`.
    pub mode: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
    pub change: Change,
}

#[derive(Debug, Deserialize)]
pub struct Change {
    /// `["create"]`, `["update"]`, `["no-op"]`, `["delete"]`, `["read"]`,
    /// `["delete","create"]` or `["create","delete"]` (a replace).
    pub actions: Vec<String>,
    #[serde(default)]
    pub before: Json,
    #[serde(default)]
    pub after: Json,
    /// Mirrors `after`: `true` where the value is known only after apply.
    #[serde(default)]
    pub after_unknown: Json,
}

/// What will happen to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    /// Destroyed and created again: a new resource, as for `Create`.
    Replace,
    NoOp,
    Delete,
    /// A data source read: not a resource the plan manages.
    Read,
}

impl Change {
    pub fn action(&self) -> Option<Action> {
        let actions: Vec<&str> = self.actions.iter().map(String::as_str).collect();
        Some(match actions[..] {
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["no-op"] => Action::NoOp,
            ["delete"] => Action::Delete,
            ["read"] => Action::Read,
            ["delete", "create"] | ["create", "delete"] => Action::Replace,
            // Terraform 1.7+ `forget` (removed blocks) leaves the resource
            // in AWS, no longer managed: the plan says nothing of it, and an
            // overlay keeps the account's.
            ["forget"] => Action::Read,
            ["create", "forget"] => Action::Create,
            _ => return None,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Configuration {
    #[serde(default)]
    pub provider_config: BTreeMap<String, ProviderConfig>,
    #[serde(default)]
    pub root_module: ConfigModule,
}

#[derive(Debug, Default, Deserialize)]
pub struct ProviderConfig {
    #[serde(default)]
    pub expressions: BTreeMap<String, Json>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfigModule {
    #[serde(default)]
    pub resources: Vec<ConfigResource>,
    #[serde(default)]
    pub module_calls: BTreeMap<String, ModuleCall>,
}

#[derive(Debug, Deserialize)]
pub struct ModuleCall {
    #[serde(default)]
    pub module: ConfigModule,
}

/// A resource block of the configuration: its arguments as expressions,
/// with the addresses each one refers to.
#[derive(Debug, Deserialize)]
pub struct ConfigResource {
    #[serde(default)]
    pub mode: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
    #[serde(default)]
    pub provider_config_key: Option<String>,
    #[serde(default)]
    pub expressions: serde_json::Map<String, Json>,
}

impl ConfigModule {
    /// The module reached through the calls `path` (module names, without
    /// instance keys).
    pub fn descend(&self, path: &[&str]) -> Option<&ConfigModule> {
        let mut module = self;
        for name in path {
            module = &module.module_calls.get(*name)?.module;
        }
        Some(module)
    }

    pub fn resource(&self, resource_type: &str, name: &str) -> Option<&ConfigResource> {
        self.resources
            .iter()
            .find(|r| r.mode != "data" && r.resource_type == resource_type && r.name == name)
    }
}

impl ConfigResource {
    /// The addresses the argument at `path` refers to (`references` of its
    /// expression, searched through nested blocks, or one block where the
    /// path gives its index: `rule.0.destination.bucket`):
    /// `["aws_s3_bucket.b.id", "aws_s3_bucket.b"]`.
    pub fn references(&self, path: &[&str]) -> Vec<&str> {
        let mut out = Vec::new();
        let Some((first, rest)) = path.split_first() else {
            return out;
        };
        if let Some(expression) = self.expressions.get(*first) {
            collect_references(expression, rest, &mut out);
        }
        out
    }

    /// True when the configuration sets the argument `name` at all.
    pub fn sets(&self, name: &str) -> bool {
        self.expressions.contains_key(name)
    }
}

/// The references under `expression`, following `path` through nested
/// blocks (lists of objects of expressions); every block's when it branches.
fn collect_references<'a>(expression: &'a Json, path: &[&str], out: &mut Vec<&'a str>) {
    match expression {
        Json::Array(blocks) => match path.first().map(|step| step.parse::<usize>()) {
            Some(Ok(i)) => {
                if let Some(block) = blocks.get(i) {
                    collect_references(block, &path[1..], out);
                }
            }
            _ => {
                for block in blocks {
                    collect_references(block, path, out);
                }
            }
        },
        Json::Object(fields) => match path.split_first() {
            Some((first, rest)) => {
                if let Some(inner) = fields.get(*first) {
                    collect_references(inner, rest, out);
                }
            }
            None => {
                if let Some(Json::Array(references)) = fields.get("references") {
                    out.extend(references.iter().filter_map(Json::as_str));
                } else {
                    for inner in fields.values() {
                        collect_references(inner, &[], out);
                    }
                }
            }
        },
        _ => {}
    }
}
