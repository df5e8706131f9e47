//! A plan's resource changes as the mappers see them: what each resource
//! will be after apply, fact by fact, and how split-out resources
//! (`aws_s3_bucket_versioning`, ...) find the resource they configure.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::address::{self, Reference};
use super::format::{Action, ConfigResource, PlanFile, ResourceChange};

/// Why a fact of a planned resource is unknown: the plan computes it at apply.
pub const KNOWN_AFTER_APPLY: &str = "known after apply";
/// Why a fact of a resource that already exists is unknown: the configuration
/// does not manage it, so only the account knows it.
pub const NOT_MANAGED: &str = "not managed by this configuration (audit the plan over the \
     account, with --live or --inventory, to read it)";
/// Why a fact is unknown that a plan could state but does not in a form
/// backstop reads (an expression it cannot follow, an unexpected shape).
pub const NOT_IN_PLAN: &str = "not stated by the plan";

/// A fact of a planned resource.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fact<'a> {
    Known(&'a Json),
    /// Null or missing: not set.
    Absent,
    /// Known only after apply.
    AfterApply,
}

impl<'a> Fact<'a> {
    pub fn str(self) -> Option<&'a str> {
        match self {
            Fact::Known(j) => j.as_str(),
            _ => None,
        }
    }
}

/// One resource instance that exists after apply.
#[derive(Debug)]
pub struct Planned<'a> {
    pub change: &'a ResourceChange,
    pub action: Action,
    pub config: Option<&'a ConfigResource>,
    /// Module names from the root, without instance keys.
    pub modules: Vec<String>,
    pub region: String,
}

impl<'a> Planned<'a> {
    /// True when apply makes a new resource (created or replaced): what the
    /// configuration leaves unset takes AWS's default for a new resource.
    pub fn is_new(&self) -> bool {
        matches!(self.action, Action::Create | Action::Replace)
    }

    pub fn tf_type(&self) -> &'a str {
        &self.change.resource_type
    }

    pub fn address(&self) -> &'a str {
        &self.change.address
    }

    fn module_address(&self) -> &'a str {
        self.change.module_address.as_deref().unwrap_or("")
    }

    /// The fact at `path` (`versioning.0.enabled`: object keys and list
    /// indexes) of the resource after apply.
    pub fn fact(&self, path: &str) -> Fact<'a> {
        fact_at(
            &self.change.change.after,
            &self.change.change.after_unknown,
            path,
        )
    }

    /// The fact at `path` in each element of the list at `list`.
    pub fn each(&self, list: &str) -> Vec<Element<'a>> {
        elements(
            &self.change.change.after,
            &self.change.change.after_unknown,
            list,
        )
    }

    /// `after_unknown` at `path`: `true`, or the shape of what is unknown inside.
    pub fn unknown_at(&self, path: &str) -> Option<&'a Json> {
        lookup(&self.change.change.after_unknown, path)
    }

    /// What the resource was before the change (its state), at `path`.
    pub fn before(&self, path: &str) -> Option<&'a Json> {
        lookup(&self.change.change.before, path).filter(|j| !j.is_null())
    }

    /// The module-local references of the argument at `path` (through
    /// nested blocks: `rule.destination.bucket`).
    pub fn references(&self, path: &[&str]) -> Vec<Reference> {
        self.config
            .map(|c| c.references(path))
            .unwrap_or_default()
            .into_iter()
            .filter_map(Reference::parse)
            .collect()
    }
}

/// One element of a list attribute or block.
#[derive(Debug, Clone, Copy)]
pub struct Element<'a> {
    after: &'a Json,
    unknown: &'a Json,
}

impl<'a> Element<'a> {
    pub fn fact(&self, path: &str) -> Fact<'a> {
        fact_at(self.after, self.unknown, path)
    }

    pub fn each(&self, list: &str) -> Vec<Element<'a>> {
        elements(self.after, self.unknown, list)
    }
}

/// The elements of the list at `list`, each with its part of `after_unknown`.
fn elements<'a>(after: &'a Json, unknown: &'a Json, list: &str) -> Vec<Element<'a>> {
    let unknown = lookup(unknown, list);
    match lookup(after, list) {
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| Element {
                after: item,
                unknown: unknown.and_then(|u| u.get(i)).unwrap_or(&Json::Null),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn lookup<'a>(json: &'a Json, path: &str) -> Option<&'a Json> {
    let mut at = json;
    for step in path.split('.').filter(|s| !s.is_empty()) {
        at = match step.parse::<usize>() {
            Ok(i) => at.get(i)?,
            Err(_) => at.get(step)?,
        };
    }
    Some(at)
}

fn fact_at<'a>(after: &'a Json, unknown: &'a Json, path: &str) -> Fact<'a> {
    let (mut a, mut u) = (Some(after), Some(unknown));
    for step in path.split('.').filter(|s| !s.is_empty()) {
        if u == Some(&Json::Bool(true)) {
            return Fact::AfterApply;
        }
        let next = |j: Option<&'a Json>| match step.parse::<usize>() {
            Ok(i) => j.and_then(|j| j.get(i)),
            Err(_) => j.and_then(|j| j.get(step)),
        };
        a = next(a);
        u = next(u);
    }
    if u == Some(&Json::Bool(true)) {
        return Fact::AfterApply;
    }
    match a {
        None | Some(Json::Null) => Fact::Absent,
        Some(json) => Fact::Known(json),
    }
}

/// Every resource the plan keeps after apply, and the lookups between them.
pub struct PlanView<'a> {
    pub resources: Vec<Planned<'a>>,
    /// Managed resources apply destroys (not replaces).
    pub deleted: Vec<&'a ResourceChange>,
    /// (module address, type, name) → indexes into `resources`.
    by_name: HashMap<(&'a str, &'a str, &'a str), Vec<usize>>,
}

impl<'a> PlanView<'a> {
    /// The managed resources that exist after apply (deleted ones and data
    /// sources left out), each with its configuration block and region.
    /// `region_of` decides a resource's region.
    pub fn new(
        plan: &'a PlanFile,
        region_of: impl Fn(&ResourceChange, Option<&ConfigResource>) -> String,
    ) -> PlanView<'a> {
        let mut resources = Vec::new();
        let mut deleted = Vec::new();
        for change in &plan.resource_changes {
            if change.mode != "managed" {
                continue;
            }
            // `read` refuses a plan with change actions it does not know.
            let Some(action) = change.change.action() else {
                continue;
            };
            if action == Action::Delete {
                deleted.push(change);
            }
            if matches!(action, Action::Delete | Action::Read) {
                continue;
            }
            let modules = address::module_names(change.module_address.as_deref().unwrap_or(""));
            let names: Vec<&str> = modules.iter().map(String::as_str).collect();
            let config = plan
                .configuration
                .root_module
                .descend(&names)
                .and_then(|m| m.resource(&change.resource_type, &change.name));
            let region = region_of(change, config);
            resources.push(Planned {
                change,
                action,
                config,
                modules,
                region,
            });
        }
        let mut by_name: HashMap<_, Vec<usize>> = HashMap::new();
        for (i, r) in resources.iter().enumerate() {
            by_name
                .entry((r.module_address(), r.tf_type(), r.change.name.as_str()))
                .or_default()
                .push(i);
        }
        PlanView {
            resources,
            deleted,
            by_name,
        }
    }

    /// The planned resources of a Terraform type.
    pub fn of_type(&self, tf_type: &str) -> impl Iterator<Item = (usize, &Planned<'a>)> {
        self.resources
            .iter()
            .enumerate()
            .filter(move |(_, r)| r.tf_type() == tf_type)
    }

    /// True when a resource of `tf_type` (a setting split out of a `target`)
    /// may change some target without being found as its: the plan deletes
    /// one, or one refers to its target in a way backstop cannot follow
    /// (`each.value.id`, a module output). A target with no such setting of
    /// its own then cannot be given the default or its current value.
    pub fn has_loose(&self, tf_type: &str, argument: &str, target: &str, target_key: &str) -> bool {
        self.deleted.iter().any(|c| c.resource_type == tf_type)
            || self
                .of_type(tf_type)
                .any(|(_, s)| self.target_of(s, argument, target, target_key).is_none())
    }

    /// The resource of type `target` that `split` configures through its
    /// argument `argument`: the one whose `target_key` equals the argument's
    /// value when that is known (an existing resource, a literal name), else
    /// the one the argument's expression refers to, which is how a resource
    /// created in the same plan is found before its name or id exist.
    pub fn target_of(
        &self,
        split: &Planned<'a>,
        argument: &str,
        target: &str,
        target_key: &str,
    ) -> Option<usize> {
        self.find(
            split,
            split.fact(argument).str(),
            argument,
            target,
            target_key,
        )
    }

    /// The resource of type `target` whose `target_key` is `value`, else the
    /// one `from`'s argument at `argument` (`rule.0.destination.0.bucket`)
    /// refers to. See [`PlanView::target_of`].
    pub fn find(
        &self,
        split: &Planned<'a>,
        value: Option<&str>,
        argument: &str,
        target: &str,
        target_key: &str,
    ) -> Option<usize> {
        self.by_value(split, value, target, target_key)
            .or_else(|| self.referenced(split, argument, target).into_iter().next())
    }

    /// As [`PlanView::find`] for an argument inside blocks of a set
    /// (`aws_backup_plan.rule`, ...): the configuration lists a set's blocks
    /// in another order than the plan, so `argument` names no block index,
    /// and the reference counts only when all the blocks agree on it.
    pub fn find_in_set(
        &self,
        split: &Planned<'a>,
        value: Option<&str>,
        argument: &str,
        target: &str,
        target_key: &str,
    ) -> Option<usize> {
        if let Some(found) = self.by_value(split, value, target, target_key) {
            return Some(found);
        }
        match self.referenced(split, argument, target)[..] {
            [only] => Some(only),
            _ => None,
        }
    }

    /// The one resource of `target` whose `target_key` is `value`.
    fn by_value(
        &self,
        split: &Planned<'a>,
        value: Option<&str>,
        target: &str,
        target_key: &str,
    ) -> Option<usize> {
        let value = value?;
        let by_value: Vec<usize> = self
            .of_type(target)
            .filter(|(_, t)| t.fact(target_key).str() == Some(value))
            // Names are per region, but for S3's global bucket names.
            .filter(|(_, t)| target == "aws_s3_bucket" || t.region == split.region)
            .map(|(i, _)| i)
            .collect();
        match by_value[..] {
            [only] => Some(only),
            _ => None,
        }
    }

    /// The resources of `target` that `split`'s argument at `argument`
    /// refers to, in the order of the references, each once.
    fn referenced(&self, split: &Planned<'a>, argument: &str, target: &str) -> Vec<usize> {
        let own_key = address::instance_key(split.address());
        let path: Vec<&str> = argument.split('.').collect();
        let mut found = Vec::new();
        for reference in split.references(&path) {
            if reference.resource_type != target {
                continue;
            }
            let Some(candidates) = self.by_name.get(&(
                split.module_address(),
                reference.resource_type.as_str(),
                reference.name.as_str(),
            )) else {
                continue;
            };
            // `aws_s3_bucket.b[count.index].id` is reported as the references
            // `aws_s3_bucket.b` and `count.index`: a keyless reference to a
            // resource with several instances means the referrer's own one.
            let follows =
                reference.follows_referrer() || (reference.key.is_none() && candidates.len() > 1);
            let wanted = if follows {
                own_key.clone()
            } else {
                reference.key.clone()
            };
            let hit = candidates.iter().copied().find(|&i| {
                let key = address::instance_key(self.resources[i].address());
                candidates.len() == 1 && wanted.is_none() || key == wanted
            });
            if let Some(i) = hit.filter(|i| !found.contains(i)) {
                found.push(i);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn facts_follow_after_unknown() {
        let after = json!({"a": 1, "b": null, "blocks": [{"x": "y"}]});
        let unknown = json!({"c": true, "blocks": [{"z": true}], "d": [true]});
        assert_eq!(fact_at(&after, &unknown, "a"), Fact::Known(&json!(1)));
        assert_eq!(fact_at(&after, &unknown, "b"), Fact::Absent);
        assert_eq!(fact_at(&after, &unknown, "c"), Fact::AfterApply);
        assert_eq!(fact_at(&after, &unknown, "blocks.0.z"), Fact::AfterApply);
        assert_eq!(fact_at(&after, &unknown, "d.0.anything"), Fact::AfterApply);
        assert_eq!(
            fact_at(&after, &unknown, "blocks.0.x"),
            Fact::Known(&json!("y"))
        );
        assert_eq!(fact_at(&after, &unknown, "missing.0"), Fact::Absent);
    }
}
