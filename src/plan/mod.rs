//! Terraform and OpenTofu plans as a source of resources: the JSON of
//! `terraform show -json PLANFILE` becomes an inventory of the resources as
//! they will be after apply, judged by the same rules as the live account.
//!
//! `format` reads the file, `view` answers "what is this fact after apply"
//! and joins split-out resources to the one they configure, `map` turns
//! Terraform types into the model's, and `locate` finds each resource's
//! block in the `.tf` files. [`overlay`] lays a plan over the live account
//! (or an inventory): the account as it will be after apply.

mod address;
mod format;
mod locate;
mod map;
mod view;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::model::inventory::strip_position;
use crate::model::{CollectionError, Inventory, Location, Resource, Source, Value};
use format::{Action, ConfigResource, PlanFile, ResourceChange};
use view::PlanView;

/// How to read a plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Where the root module's `.tf` files are (`--plan-root`); by default
    /// the plan file's folder.
    pub root: Option<PathBuf>,
    /// The region of resources whose provider configuration names none: the
    /// one Terraform took from the environment (`AWS_REGION`), or `--regions`.
    pub default_region: Option<String>,
}

/// A plan's resources as they will be after apply, and what it deletes.
#[derive(Debug)]
pub struct PlannedChanges {
    pub inventory: Inventory,
    /// (model type, region, id) of the resources apply destroys, including
    /// those it replaces: their live facts no longer hold.
    pub replaced_or_deleted: Vec<(String, String, String)>,
    /// Settings apply changes on resources the plan does not hold.
    pub changed_outside: Vec<map::outside::ChangedOutside>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{origin}:{line}:{col}: not valid plan JSON: {message}")]
    Json {
        origin: String,
        line: usize,
        col: usize,
        message: String,
    },
    #[error(
        "{origin}:{line}:{col}: not a Terraform plan ({why}); write one with `terraform show -json PLANFILE > plan.json`"
    )]
    NotAPlan {
        origin: String,
        line: usize,
        col: usize,
        why: String,
    },
    #[error(
        "{origin}:{line}:{col}: format_version is {found:?}; this backstop reads the plan formats 0.x and 1.x of `terraform show -json`"
    )]
    Version {
        origin: String,
        line: usize,
        col: usize,
        found: String,
    },
    #[error(
        "{origin}: the region of {address} is not in the plan (its provider configuration names none, or through an expression backstop does not follow); pass the region Terraform used: --regions REGION, or AWS_REGION"
    )]
    Region { origin: String, address: String },
    #[error(
        "{origin}:{line}:{col}: {address} has the change actions {actions:?}, which this backstop does not know; its resource cannot be judged (a newer backstop may read them)"
    )]
    Actions {
        origin: String,
        line: usize,
        col: usize,
        address: String,
        actions: Vec<String>,
    },
}

/// Reads a plan file's text; `origin` names it in messages and, without
/// [`PlanOptions::root`], its folder is where the `.tf` files are looked for.
pub fn read(text: &str, origin: &Path, options: &PlanOptions) -> Result<PlannedChanges, PlanError> {
    let name = origin.display().to_string();
    let plan: PlanFile = serde_json::from_str(text).map_err(|e| {
        let (line, col) = (e.line(), e.column());
        if e.is_data() && e.to_string().contains("missing field") {
            PlanError::NotAPlan {
                origin: name.clone(),
                line,
                col,
                why: strip_position(&e),
            }
        } else {
            PlanError::Json {
                origin: name.clone(),
                line,
                col,
                message: strip_position(&e),
            }
        }
    })?;
    if !plan.version_is_known() {
        let (line, col) = position_of(text, "\"format_version\"");
        return Err(PlanError::Version {
            origin: name,
            line,
            col,
            found: plan.format_version,
        });
    }
    if !plan.looks_like_a_plan() {
        return Err(PlanError::NotAPlan {
            origin: name,
            line: 1,
            col: 1,
            why: "it has no planned_values: is it the JSON of a state instead of a plan?".into(),
        });
    }

    // A change whose actions are not known would drop out of the audit
    // unsaid: refuse the plan instead.
    let unknown_actions = plan
        .resource_changes
        .iter()
        .find(|c| c.mode == "managed" && c.change.action().is_none());
    if let Some(change) = unknown_actions {
        // Its entry in `resource_changes` (`planned_values` names it too).
        let from = text.find("\"resource_changes\"").unwrap_or(0);
        let at = text[from..]
            .find(&format!("{:?}", change.address))
            .map_or(0, |i| from + i);
        let (line, col) = line_col(text, at);
        return Err(PlanError::Actions {
            origin: name,
            line,
            col,
            address: change.address.clone(),
            actions: change.change.actions.clone(),
        });
    }

    let default_region = options.default_region.clone();
    let unresolved = std::cell::RefCell::new(BTreeSet::new());
    let view = PlanView::new(&plan, |change, config| {
        let region = match region_of(&plan, change, config) {
            Region::Known(region) => Some(region),
            // No region in the provider block: the environment's, as the
            // provider takes it.
            Region::Unset => default_region.clone(),
            // An expression backstop cannot follow: a guess could turn a
            // same-region copy into a cross-region one.
            Region::Unfollowed => None,
        };
        region.unwrap_or_else(|| {
            unresolved.borrow_mut().insert(change.address.clone());
            String::new()
        })
    });
    let mapped = map::resources(&view);
    let unresolved = unresolved.into_inner();
    // Only a mapped resource needs its region.
    if let Some((i, _)) = mapped
        .iter()
        .find(|(i, _)| unresolved.contains(view.resources[*i].address()))
    {
        return Err(PlanError::Region {
            origin: name,
            address: view.resources[*i].address().to_string(),
        });
    }

    let root = options.root.clone().unwrap_or_else(|| {
        origin
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    let mut locator = locate::Locator::new(root);
    let mut resources = Vec::with_capacity(mapped.len());
    for (i, mut resource) in mapped {
        let planned = &view.resources[i];
        let modules: Vec<&str> = planned.modules.iter().map(String::as_str).collect();
        let location = locator
            .locate(&modules, planned.tf_type(), &planned.change.name)
            .map(|l| Location {
                file: l.file,
                line: l.line,
            });
        if let Some(origin) = &mut resource.planned {
            origin.location = location;
        }
        resources.push(resource);
    }

    let replaced_or_deleted = destroyed(&plan, &view, options.default_region.as_deref());
    let accounts: BTreeSet<&str> = resources
        .iter()
        .map(|r| r.account.as_str())
        .filter(|a| !a.is_empty())
        .collect();
    let source = Source {
        kind: Source::TERRAFORM_PLAN.to_string(),
        account: match accounts.len() {
            1 => accounts.into_iter().next().map(str::to_string),
            _ => None,
        },
        regions: resources
            .iter()
            .map(|r| r.region.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        accounts: Vec::new(),
    };
    Ok(PlannedChanges {
        inventory: Inventory {
            source,
            collected_at: None,
            resources,
            errors: Vec::new(),
        },
        replaced_or_deleted,
        changed_outside: map::outside::changed_outside(&view, &view.deleted),
    })
}

/// What the plan says of a resource's region.
enum Region {
    Known(String),
    /// No provider block names one.
    Unset,
    /// Named by an expression backstop cannot follow (a local, a module
    /// variable).
    Unfollowed,
}

/// The region of a planned resource: its own `region` argument (AWS
/// provider v6), else its provider configuration's, as a constant or a
/// root variable.
fn region_of(plan: &PlanFile, change: &ResourceChange, config: Option<&ConfigResource>) -> Region {
    if let Some(Json::String(region)) = change.change.after.get("region") {
        return Region::Known(region.clone());
    }
    let key = config
        .and_then(|c| c.provider_config_key.as_deref())
        .unwrap_or("aws");
    let providers = &plan.configuration.provider_config;
    // A module's resources name their provider `module.NAME:aws`; without a
    // provider block of its own (an entry without expressions) the module
    // inherits the root's.
    let inherited = key.rsplit_once(':').map(|(_, local)| local);
    let Some(region) = [Some(key), inherited, Some("aws")]
        .into_iter()
        .flatten()
        .find_map(|k| providers.get(k)?.expressions.get("region"))
    else {
        return Region::Unset;
    };
    match region.get("constant_value") {
        Some(Json::String(constant)) => return Region::Known(constant.clone()),
        // `region = null`: as if unset.
        Some(Json::Null) => return Region::Unset,
        _ => {}
    }
    let followed = region
        .get("references")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .find_map(|r| {
            let variable = r.strip_prefix("var.")?;
            plan.variables
                .get(variable)?
                .value
                .as_str()
                .map(str::to_string)
        });
    followed.map_or(Region::Unfollowed, Region::Known)
}

/// The resources apply destroys (deleted, or replaced by a new one), as
/// (model type, region, id) from their state before the change.
fn destroyed(
    plan: &PlanFile,
    view: &PlanView,
    default_region: Option<&str>,
) -> Vec<(String, String, String)> {
    plan.resource_changes
        .iter()
        .filter(|c| c.mode == "managed")
        .filter(|c| matches!(c.change.action(), Some(Action::Delete | Action::Replace)))
        .filter_map(|c| {
            let (model_type, id_field) = map::identity(&c.resource_type)?;
            let id = c.change.before.get(id_field)?.as_str()?;
            // A replaced resource is where its successor is (same address,
            // same provider); a deleted one where its state says.
            let successor = view
                .resources
                .iter()
                .find(|r| r.address() == c.address)
                .map(|r| r.region.clone())
                .filter(|r| !r.is_empty());
            let before = |field: &str| c.change.before.get(field).and_then(Json::as_str);
            let region = successor
                .or_else(|| before("region").map(str::to_string))
                .or_else(|| {
                    before("arn")
                        .and_then(|arn| arn.split(':').nth(3))
                        .filter(|r| !r.is_empty())
                        .map(str::to_string)
                })
                .or_else(|| match region_of(plan, c, None) {
                    Region::Known(region) => Some(region),
                    Region::Unset => default_region.map(str::to_string),
                    Region::Unfollowed => None,
                })?;
            Some((model_type.to_string(), region, id.to_string()))
        })
        .collect()
}

/// The account as it will be after apply: `base` (live or an inventory)
/// with the plan's resources in place of their counterparts (same type,
/// region and id), the resources apply destroys taken out, and the new ones
/// added. A planned resource that replaces an existing one keeps the
/// existing one's facts that the plan leaves to the account (what it does
/// not manage, and what only exists live); what the plan computes at apply
/// stays unknown.
pub fn overlay(mut base: Inventory, planned: PlannedChanges) -> Inventory {
    let destroyed: BTreeSet<(&str, &str, &str)> = planned
        .replaced_or_deleted
        .iter()
        .map(|(t, r, i)| (t.as_str(), r.as_str(), i.as_str()))
        .collect();
    let mut live: Vec<Option<Resource>> = base.resources.drain(..).map(Some).collect();
    let by_identity: std::collections::HashMap<(&str, String, String), usize> = live
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let r = r.as_ref()?;
            Some(((r.resource_type.name, r.region.clone(), r.id.clone()), i))
        })
        .collect();
    let mut resources = Vec::with_capacity(live.len() + planned.inventory.resources.len());
    for mut resource in planned.inventory.resources {
        let identity = (
            resource.resource_type.name,
            resource.region.clone(),
            resource.id.clone(),
        );
        let counterpart = by_identity.get(&identity).and_then(|&i| live[i].take());
        match counterpart {
            Some(existing) => {
                let renewed = destroyed.contains(&(
                    existing.resource_type.name,
                    &existing.region,
                    &existing.id,
                ));
                if !renewed {
                    resource = merged(existing, resource);
                } else if resource.account.is_empty() {
                    resource.account = existing.account.clone();
                }
            }
            None => {
                if resource.account.is_empty() {
                    resource.account = base.source.account.clone().unwrap_or_default();
                }
            }
        }
        if !resource.account.is_empty()
            && let Some(origin) = &mut resource.planned
        {
            origin.unknown_because.remove("account");
        }
        resources.push(resource);
    }
    for resource in live.into_iter().flatten() {
        let gone =
            destroyed.contains(&(resource.resource_type.name, &resource.region, &resource.id));
        if gone {
            continue;
        }
        // A setting apply changes on a resource the plan does not hold: what
        // the account says of it now no longer holds.
        for changed in planned
            .changed_outside
            .iter()
            .filter(|c| c.applies_to(&resource))
        {
            base.errors.push(CollectionError {
                account: None,
                service: "terraform".into(),
                region: resource.region.clone(),
                operation: "plan".into(),
                code: "ChangedByPlan".into(),
                message: format!(
                    "{} changes it at apply, and the plan does not hold {} itself",
                    changed.by, resource.id
                ),
                resource_type: resource.resource_type.name.to_string(),
                resource_id: Some(resource.id.clone()),
                attributes: changed.attributes.iter().map(|a| a.to_string()).collect(),
            });
        }
        resources.push(resource);
    }
    base.resources = resources;
    let mut regions: BTreeSet<String> = base.source.regions.iter().cloned().collect();
    regions.extend(planned.inventory.source.regions);
    base.source.regions = regions.into_iter().collect();
    base.source.kind = Source::LIVE_PLUS_PLAN.to_string();
    base
}

/// An existing resource changed by the plan: the plan's facts, the
/// existing one's where the plan leaves them to the account.
fn merged(existing: Resource, mut planned: Resource) -> Resource {
    let kind = planned.resource_type;
    for (i, attribute) in kind.attributes.iter().enumerate() {
        // Only what the configuration leaves to the account, and what only
        // exists live; what the plan states unreadably stays unknown.
        let keep_existing = planned.value_at(i).is_unknown()
            && (attribute.live_only
                || planned.unknown_because(attribute.name) == Some(view::NOT_MANAGED));
        if keep_existing {
            let value: Value = existing.value_at(i).clone();
            if value.is_unknown() {
                continue;
            }
            planned.set(attribute.name, value);
            if let Some(origin) = &mut planned.planned {
                origin.unknown_because.remove(attribute.name);
            }
        }
    }
    if !planned.tags_read && existing.tags_read {
        planned.set_tags(existing.tags.clone());
    }
    if planned.arn.is_empty() {
        planned.arn = existing.arn.clone();
    }
    if planned.account.is_empty() {
        planned.account = existing.account.clone();
    }
    if let Some(origin) = &mut planned.planned {
        origin.has_live_facts = true;
        origin.unknown_because.remove("account");
    }
    planned
}

/// The 1-based line and column where `needle` first occurs.
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    line_col(text, text.find(needle).unwrap_or(0))
}

/// The 1-based line and column of the byte `offset` of `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
