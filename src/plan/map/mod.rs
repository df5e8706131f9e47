//! From Terraform resource types to the model's: one file per service, each
//! mapping its resource types and the split-out resources that configure
//! them (joined through the configuration's references).
//!
//! What a fact is after apply follows one rule everywhere: the plan's value
//! when it states one; "known after apply" when the plan computes it at
//! apply; for a new resource, AWS's default for what the configuration
//! leaves unset; for an existing one, unknown when this configuration does
//! not manage it (the account knows: audit the plan over it).

mod backup;
mod ecr;
mod logs;
pub mod outside;
mod rds;
mod s3;
mod secrets;

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::view::{Fact, KNOWN_AFTER_APPLY, NOT_IN_PLAN, NOT_MANAGED, PlanView, Planned};
use crate::model::schema::{self, AttrType};
use crate::model::{Planned as PlannedOrigin, Resource, Value};

/// Why the account of a plan's new resource is unknown.
const NOT_IN_PLAN_ACCOUNT: &str = "not in the plan (audit the plan over the account, with \
     --live or --inventory, to know it)";

/// Why a live-only fact of a plan's resource is unknown.
const LIVE_ONLY: &str = "known only once the resource exists (read live)";

/// Every planned resource of a mapped type, as a model resource, with the
/// index of the planned resource it came from.
pub fn resources(plan: &PlanView) -> Vec<(usize, Resource)> {
    let mut out = Vec::new();
    rds::map(plan, &mut out);
    s3::map(plan, &mut out);
    ecr::map(plan, &mut out);
    logs::map(plan, &mut out);
    secrets::map(plan, &mut out);
    backup::map(plan, &mut out);
    out
}

/// One model resource being built from a planned one.
pub struct Draft<'p, 'a> {
    pub resource: Resource,
    pub planned: &'p Planned<'a>,
}

impl<'p, 'a> Draft<'p, 'a> {
    /// A resource of `resource_type` named by the fact at `id_path`, or by
    /// its address while that is known only after apply.
    pub fn new(planned: &'p Planned<'a>, resource_type: &str, id_path: &str) -> Draft<'p, 'a> {
        let kind = schema::resource_type(resource_type).expect("a model type");
        let name = planned.fact(id_path).str();
        let id = name.unwrap_or(planned.address()).to_string();
        let mut resource = Resource::new(kind, id);
        resource.region = planned.region.clone();
        if let Some(arn) = planned.fact("arn").str() {
            resource.arn = arn.to_string();
            resource.account = arn.split(':').nth(4).unwrap_or_default().to_string();
        }
        let mut unknown_because = BTreeMap::new();
        if name.is_none() {
            unknown_because.insert("id", KNOWN_AFTER_APPLY);
        }
        if resource.account.is_empty() {
            unknown_because.insert("account", NOT_IN_PLAN_ACCOUNT);
        }
        resource.planned = Some(Box::new(PlannedOrigin {
            address: planned.address().to_string(),
            location: None,
            id_known_after_apply: name.is_none(),
            unknown_because,
            has_live_facts: false,
        }));
        // Terraform leaves map entries computed at apply out of `after`.
        let tags_partly_unknown = planned.unknown_at("tags_all").is_some_and(|u| {
            u.as_object()
                .is_some_and(|o| o.values().any(|v| v != &Json::Bool(false)))
        });
        let tags = match planned.fact("tags_all") {
            Fact::Known(Json::Object(tags)) if !tags_partly_unknown => Some(tags),
            _ => None,
        };
        if let Some(tags) = tags {
            resource.set_tags(
                tags.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect(),
            );
        } else if let (Fact::Absent, Fact::Absent) =
            (planned.fact("tags_all"), planned.fact("tags"))
        {
            resource.set_tags(BTreeMap::new());
        }
        Draft { resource, planned }
    }

    /// Sets `attribute` from a fact, converted to the attribute's type.
    pub fn put(&mut self, attribute: &str, fact: Fact) -> &mut Self {
        match fact {
            Fact::Known(json) => match typed(self.attribute_type(attribute), json) {
                Some(value) => self.value(attribute, value),
                None => self.unknown(attribute, NOT_IN_PLAN),
            },
            Fact::Absent => self.value(attribute, Value::Null),
            Fact::AfterApply => self.unknown(attribute, KNOWN_AFTER_APPLY),
        }
    }

    /// Sets `attribute` from the fact at `path`.
    pub fn put_path(&mut self, attribute: &str, path: &str) -> &mut Self {
        let fact = self.planned.fact(path);
        self.put(attribute, fact)
    }

    /// Sets a value; a null for an attribute that cannot be none is a fact
    /// the plan did not state.
    pub fn value(&mut self, attribute: &str, value: Value) -> &mut Self {
        let can_be_none = self
            .resource
            .resource_type
            .attribute(attribute)
            .is_some_and(|a| a.none.is_some());
        if value == Value::Null && !can_be_none {
            return self.unknown(attribute, NOT_IN_PLAN);
        }
        if value.is_unknown() {
            return self.unknown(attribute, KNOWN_AFTER_APPLY);
        }
        self.resource.set(attribute, value);
        self
    }

    pub fn unknown(&mut self, attribute: &str, why: &'static str) -> &mut Self {
        self.resource.set_unknown(attribute, why);
        self
    }

    /// A setting split out to its own resource type: `found` when a planned
    /// resource configures it, else AWS's `default` for a new resource, else
    /// (an existing one) unknown: the account may have any value.
    /// With `loose` (see [`PlanView::has_loose`]) a missing setting is unknown.
    pub fn split_setting(
        &mut self,
        attribute: &str,
        found: Option<Value>,
        loose: bool,
        default: Value,
    ) {
        match found {
            Some(value) => self.value(attribute, value),
            None if loose => self.unknown(attribute, KNOWN_AFTER_APPLY),
            None if self.planned.is_new() => self.value(attribute, default),
            None => self.unknown(attribute, NOT_MANAGED),
        };
    }

    fn attribute_type(&self, attribute: &str) -> AttrType {
        self.resource
            .resource_type
            .attribute(attribute)
            .map(|a| a.ty)
            .unwrap_or(AttrType::STR)
    }

    /// The finished resource: every fact still unknown says why.
    pub fn finish(mut self) -> Resource {
        let kind = self.resource.resource_type;
        for (i, attribute) in kind.attributes.iter().enumerate() {
            let explained = self
                .resource
                .planned
                .as_ref()
                .is_some_and(|p| p.unknown_because.contains_key(attribute.name));
            if !self.resource.value_at(i).is_unknown() || explained {
                continue;
            }
            let why = if attribute.live_only {
                LIVE_ONLY
            } else {
                NOT_IN_PLAN
            };
            self.resource.set_unknown(attribute.name, why);
        }
        self.resource
    }
}

/// A plan's JSON value as a value of the attribute's type; `None` when it is
/// not of that type.
pub fn typed(ty: AttrType, json: &Json) -> Option<Value> {
    Some(match (ty, json) {
        (_, Json::Null) => Value::Null,
        (AttrType::Bool, Json::Bool(b)) => Value::Bool(*b),
        // Terraform writes numbers as JSON numbers; strings ("7") occur for
        // values passed through string variables.
        (AttrType::Int, Json::Number(n)) => Value::Int(n.as_i64()?),
        (AttrType::Int, Json::String(s)) => Value::Int(s.parse().ok()?),
        (AttrType::Str { values }, Json::String(s)) => {
            if !values.is_empty() && !values.contains(&s.as_str()) {
                return None;
            }
            Value::Str(s.clone())
        }
        (AttrType::Time, Json::String(s)) => Value::Time(s.parse().ok()?),
        (AttrType::StrList, Json::Array(items)) => Value::List(
            items
                .iter()
                .map(|i| i.as_str().map(|s| Value::Str(s.to_string())))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// An object of a list attribute, from (field, value) pairs.
pub fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// A fact as a value for a field of a listed object: unknown when the plan
/// computes it at apply (object fields carry no reasons of their own).
pub fn field(fact: Fact, ty: AttrType) -> Value {
    match fact {
        Fact::Known(json) => typed(ty, json).unwrap_or(Value::Unknown),
        Fact::Absent => Value::Null,
        Fact::AfterApply => Value::Unknown,
    }
}

/// Who manages the KMS key of `planned`'s `key_argument`: `CUSTOMER` when
/// it refers to a key the plan creates, `AWS` when it is unset (the service
/// then uses its AWS managed key) or an `alias/aws/...` alias; else unknown
/// (only the key itself can say).
pub fn key_manager(planned: &Planned, key_argument: &str) -> Option<Value> {
    let refers_to_key = planned
        .references(&[key_argument])
        .iter()
        .any(|r| r.resource_type == "aws_kms_key");
    let fact = planned.fact(key_argument);
    // `var.cmk ? aws_kms_key.k.arn : null` refers to a key and may set none.
    if refers_to_key && fact != Fact::Absent {
        return Some(Value::from("CUSTOMER"));
    }
    let set = planned.config.is_some_and(|c| c.sets(key_argument));
    match fact {
        Fact::Known(Json::String(key)) if key.contains("alias/aws/") => Some(Value::from("AWS")),
        Fact::Absent | Fact::AfterApply if !set && planned.is_new() => Some(Value::from("AWS")),
        _ => None,
    }
}

/// The model type and the identifier argument of a Terraform type that
/// stands for a whole resource (not a setting split out of one).
pub fn identity(tf_type: &str) -> Option<(&'static str, &'static str)> {
    Some(match tf_type {
        "aws_db_instance" | "aws_rds_cluster_instance" => (schema::DB_INSTANCE, "identifier"),
        "aws_rds_cluster" => (schema::DB_CLUSTER, "cluster_identifier"),
        "aws_db_snapshot" => (schema::DB_SNAPSHOT, "db_snapshot_identifier"),
        "aws_db_cluster_snapshot" => (schema::DB_SNAPSHOT, "db_cluster_snapshot_identifier"),
        "aws_s3_bucket" => (schema::S3_BUCKET, "bucket"),
        "aws_ecr_repository" => (schema::ECR_REPOSITORY, "name"),
        "aws_cloudwatch_log_group" => (schema::LOG_GROUP, "name"),
        "aws_secretsmanager_secret" => (schema::SECRET, "name"),
        "aws_backup_plan" => (schema::BACKUP_PLAN, "id"),
        "aws_backup_vault" => (schema::BACKUP_VAULT, "name"),
        _ => return None,
    })
}
