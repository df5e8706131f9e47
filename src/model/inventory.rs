//! The inventory: every resource that was read, and every call that failed.
//!
//! Live collection produces it, `backstop collect` saves it, `--inventory`
//! loads it; the rule engine never knows which.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::schema::{self, AttrType, Attribute, ResourceType};
use super::text::Text;
use super::value::Value;
use crate::lang::suggest;

pub const INVENTORY_SCHEMA: &str = "backstop.inventory/v1";

/// One AWS resource with its attributes, typed against the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub resource_type: &'static ResourceType,
    pub id: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    /// The tags as read; meaningful only when `tags_read` (see [`Resource::set_tags`]).
    pub tags: BTreeMap<String, String>,
    /// Whether the tag set was read: a key missing from a tag set that was
    /// read is a known absence, from one that was not, unknown.
    pub tags_read: bool,
    /// Indexed like `resource_type.attributes`; `Value::Unknown` until read.
    values: Vec<Value>,
    /// Set when the resource comes from a Terraform plan: boxed, as most
    /// resources are read live and a report may hold hundreds of thousands.
    pub planned: Option<Box<Planned>>,
}

/// Why a fact of a plan's resource is unknown when the plan gave no more
/// precise reason (a field of a listed object).
const PLANNED_UNKNOWN: &str =
    "not known from the plan (computed at apply, or outside this configuration)";

/// What a Terraform plan says about a resource beyond its facts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Planned {
    /// Its Terraform address (`module.db.aws_db_instance.main`).
    pub address: String,
    /// Where its `resource` block is, when the configuration was found.
    pub location: Option<Location>,
    /// True when its name is computed at apply (`bucket_prefix`, no
    /// `identifier`): `id` then holds the address, and rules see it unknown.
    pub id_known_after_apply: bool,
    /// Why some of its unknown facts are unknown (`known after apply`), by
    /// attribute: the plan knows, where a live read would not have.
    pub unknown_because: BTreeMap<&'static str, &'static str>,
    /// False for a resource only the plan knows (it is being created, or no
    /// live account was read): facts that only exist once a resource has
    /// run (`schema::Attribute::live_only`) are then not there to judge.
    pub has_live_facts: bool,
}

/// A place in a source file (a `.tf` file's resource block).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

impl Resource {
    /// A resource of which nothing but its identity is known yet.
    pub fn new(resource_type: &'static ResourceType, id: impl Into<String>) -> Self {
        Resource {
            resource_type,
            id: id.into(),
            arn: String::new(),
            account: String::new(),
            region: String::new(),
            tags: BTreeMap::new(),
            tags_read: false,
            values: vec![Value::Unknown; resource_type.attributes.len()],
            planned: None,
        }
    }

    /// Value of the attribute at `index` in `resource_type.attributes`.
    pub fn value_at(&self, index: usize) -> &Value {
        &self.values[index]
    }

    /// Value of a named attribute (`Unknown` until set).
    ///
    /// # Panics
    /// When `name` is not an attribute of this resource type: that is a bug
    /// in a collector, never a consequence of user input.
    pub fn get(&self, name: &str) -> &Value {
        let index = self.index_of(name);
        &self.values[index]
    }

    /// Sets a named attribute. `Null` (e.g. from a `None` that AWS sent)
    /// is a known absence only for attributes the schema says can be none;
    /// for the others AWS did not send the fact, so it stays unknown. See
    /// [`Resource::get`] for the panic.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        let index = self.index_of(name);
        self.values[index] = fact(&self.resource_type.attributes[index], value.into());
        self
    }

    /// Leaves a named attribute unknown, and says why (a plan's "known
    /// after apply"). See [`Resource::get`] for the panic.
    pub fn set_unknown(&mut self, name: &str, why: &'static str) -> &mut Self {
        let index = self.index_of(name);
        self.values[index] = Value::Unknown;
        if let Some(planned) = &mut self.planned {
            planned
                .unknown_because
                .insert(self.resource_type.attributes[index].name, why);
        }
        self
    }

    /// Why the attribute `name` (or a field of its objects) is unknown,
    /// when its source said.
    pub fn unknown_because(&self, name: &str) -> Option<&'static str> {
        let planned = self.planned.as_ref()?;
        Some(
            planned
                .unknown_because
                .get(name)
                .copied()
                .unwrap_or(PLANNED_UNKNOWN),
        )
    }

    /// True for a resource only a plan knows: its live-only facts cannot be judged.
    pub fn lacks_live_facts(&self) -> bool {
        self.planned.as_ref().is_some_and(|p| !p.has_live_facts)
    }

    /// Records the tag set as read.
    pub fn set_tags(&mut self, tags: BTreeMap<String, String>) -> &mut Self {
        self.tags = tags;
        self.tags_read = true;
        self
    }

    /// A tag's value: `Null` when the read tag set lacks the key, `Unknown`
    /// when the tags were not read.
    pub fn tag(&self, key: &str) -> Value {
        match self.tags.get(key) {
            Some(v) => Value::Str(v.clone()),
            None if self.tags_read => Value::Null,
            None => Value::Unknown,
        }
    }

    fn index_of(&self, name: &str) -> usize {
        self.resource_type
            .attributes
            .iter()
            .position(|a| a.name == name)
            .unwrap_or_else(|| panic!("{} has no attribute {name}", self.resource_type.name))
    }

    /// Where the resource is defined, when a plan's configuration said.
    pub fn location(&self) -> Option<&Location> {
        self.planned.as_ref()?.location.as_ref()
    }
}

/// A value as a fact about `attribute`: an absence it cannot have is
/// unknown, in the fields of listed objects too.
fn fact(attribute: &Attribute, value: Value) -> Value {
    match (value, &attribute.ty) {
        (Value::Null, _) if attribute.none.is_none() => Value::Unknown,
        (Value::List(items), AttrType::ObjectList(fields)) => Value::List(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(object) => Value::Object(
                        object
                            .into_iter()
                            .map(|(key, v)| match fields.iter().find(|f| f.name == key) {
                                Some(field) => (key, fact(field, v)),
                                None => (key, v),
                            })
                            .collect(),
                    ),
                    other => other,
                })
                .collect(),
        ),
        (value, _) => value,
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl From<Timestamp> for Value {
    fn from(v: Timestamp) -> Self {
        Value::Time(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::List(v.into_iter().map(Value::Str).collect())
    }
}
impl From<Vec<BTreeMap<String, Value>>> for Value {
    fn from(v: Vec<BTreeMap<String, Value>>) -> Self {
        Value::List(v.into_iter().map(Value::Object).collect())
    }
}

/// How reports name a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub resource_type: Text,
    pub id: String,
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub region: Text,
    #[serde(default)]
    pub account: Text,
    /// The Terraform address, for a resource read from a plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// A call that failed after retries. Results that depend on it become `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionError {
    /// The account the call was made in; `None`: the inventory's account
    /// (`source.account`), as in every single-account inventory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub service: String,
    pub region: String,
    pub operation: String,
    /// AWS error code (`AccessDeniedException`, `ThrottlingException`, ...),
    /// or a transport-level kind (`Timeout`, `DispatchFailure`).
    pub code: String,
    pub message: String,
    /// The resource type whose data is missing.
    #[serde(rename = "resource_type")]
    pub resource_type: String,
    /// `None`: every resource of the type in `region` is affected.
    #[serde(default)]
    pub resource_id: Option<String>,
    /// The attributes that could not be read; empty means the listing itself
    /// failed, so nothing of this type in this region is known.
    #[serde(default)]
    pub attributes: Vec<String>,
}

impl CollectionError {
    /// The code of a plan's resource that a scope could not place because
    /// its name or account is made at apply.
    pub const NAME_KNOWN_AFTER_APPLY: &'static str = "KnownAfterApply";

    pub fn is_listing_failure(&self) -> bool {
        self.attributes.is_empty()
    }
}

impl fmt::Display for CollectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} failed in {}: {}: {}",
            self.service, self.operation, self.region, self.code, self.message
        )
    }
}

/// Where an inventory came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// `live`, `inventory`, `demo`, `terraform-plan`, or `live+plan` (a
    /// plan over the live account or an inventory).
    pub kind: String,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    /// Every account of a multi-account audit (`--role-arn`, `accounts:`,
    /// `--org`), read or not; empty for a single account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountSource>,
}

/// One account of a multi-account audit: who it is and how it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSource {
    pub id: String,
    /// The IAM account alias, where it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The account's name in AWS Organizations (`--org`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The role assumed to read it; `None`: the calling credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The regions audited in it.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Why the account could not be read at all (its role could not be
    /// assumed, its regions could not be listed); every rule then has an
    /// `error` result for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AccountSource {
    /// How reports name the account: `alias (id)`, or the id.
    pub fn label(&self) -> String {
        match self.alias.as_deref().or(self.name.as_deref()) {
            Some(name) => format!("{name} ({})", self.id),
            None => self.id.clone(),
        }
    }
}

impl Source {
    /// The kind of a Terraform plan's resources alone.
    pub const TERRAFORM_PLAN: &'static str = "terraform-plan";
    /// The kind of a plan applied over the live account or an inventory.
    pub const LIVE_PLUS_PLAN: &'static str = "live+plan";
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    pub source: Source,
    pub collected_at: Option<Timestamp>,
    pub resources: Vec<Resource>,
    pub errors: Vec<CollectionError>,
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{origin}: not valid inventory JSON: {source}")]
    Json {
        origin: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{origin}: schema is {found:?}; this backstop reads {INVENTORY_SCHEMA:?}")]
    Version { origin: String, found: String },
    #[error("{origin}:{line}:{col}: resources[{index}] ({id}): {message}")]
    Resource {
        origin: String,
        line: usize,
        col: usize,
        index: usize,
        id: String,
        message: String,
    },
}

/// The file as read: resources stay raw until each is checked, so an error
/// can name the line and column it was found at.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryFileIn<'a> {
    schema: String,
    #[serde(default)]
    source: Source,
    #[serde(default)]
    collected_at: Option<Timestamp>,
    #[serde(borrow)]
    resources: Vec<&'a RawValue>,
    #[serde(default)]
    errors: Vec<CollectionError>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceIn<'a> {
    #[serde(rename = "type")]
    resource_type: String,
    id: String,
    #[serde(default)]
    arn: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    region: String,
    /// Absent: the tags were not read.
    #[serde(default)]
    tags: Option<UniqueMap<String>>,
    #[serde(default, borrow)]
    attributes: UniqueMap<&'a RawValue>,
}

/// A JSON object whose keys must be unique: with a repeated key, which
/// value AWS reported would be a guess.
struct UniqueMap<V>(BTreeMap<String, V>);

impl<V> Default for UniqueMap<V> {
    fn default() -> Self {
        UniqueMap(BTreeMap::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Visit<V> {
            type Value = UniqueMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((key, value)) = map.next_entry::<String, V>()? {
                    if out.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
                    }
                    out.insert(key, value);
                }
                Ok(UniqueMap(out))
            }
        }
        deserializer.deserialize_map(Visit(std::marker::PhantomData))
    }
}

#[derive(Serialize)]
struct InventoryFileOut<'a> {
    schema: &'static str,
    source: &'a Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    collected_at: Option<Timestamp>,
    resources: Vec<ResourceOut<'a>>,
    errors: &'a [CollectionError],
}

#[derive(Serialize)]
struct ResourceOut<'a> {
    #[serde(rename = "type")]
    resource_type: &'static str,
    id: &'a str,
    arn: &'a str,
    account: &'a str,
    region: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a BTreeMap<String, String>>,
    attributes: BTreeMap<&'static str, serde_json::Value>,
}

impl Inventory {
    /// Parses an inventory file; `origin` names it in error messages.
    ///
    /// An attribute missing from a resource is unknown (not read); `null`
    /// is a known absence for attributes that can be none and unknown for
    /// the others. A resource without `tags` had its tags not read.
    pub fn from_json(text: &str, origin: &str) -> Result<Inventory, InventoryError> {
        let file: InventoryFileIn =
            serde_json::from_str(text).map_err(|source| InventoryError::Json {
                origin: origin.to_string(),
                source,
            })?;
        if file.schema != INVENTORY_SCHEMA {
            return Err(InventoryError::Version {
                origin: origin.to_string(),
                found: file.schema,
            });
        }
        let mut resources = Vec::with_capacity(file.resources.len());
        for (index, raw) in file.resources.into_iter().enumerate() {
            let fail_at =
                |(line, col): (usize, usize), id: &str, message: String| InventoryError::Resource {
                    origin: origin.to_string(),
                    line,
                    col,
                    index,
                    id: id.to_string(),
                    message,
                };
            let fail =
                |at: &RawValue, id: &str, message: String| fail_at(line_col(text, at), id, message);
            // serde_json counts from the start of the part it was given.
            let json_error = |at: &RawValue, id: &str, e: serde_json::Error| {
                let (line, col) = line_col(text, at);
                let position = if e.line() <= 1 {
                    (line, col + e.column().saturating_sub(1))
                } else {
                    (line + e.line() - 1, e.column())
                };
                fail_at(position, id, strip_position(&e))
            };
            let parsed: ResourceIn =
                serde_json::from_str(raw.get()).map_err(|e| json_error(raw, "?", e))?;
            let resource_type = schema::resource_type(&parsed.resource_type).ok_or_else(|| {
                fail(
                    raw,
                    &parsed.id,
                    format!("unknown resource type {:?}", parsed.resource_type),
                )
            })?;
            let mut resource = Resource::new(resource_type, parsed.id.clone());
            resource.arn = parsed.arn;
            resource.account = parsed.account;
            resource.region = parsed.region;
            if let Some(tags) = parsed.tags {
                resource.set_tags(tags.0);
            }
            for (name, json) in parsed.attributes.0 {
                let index = resource_type
                    .attributes
                    .iter()
                    .position(|a| a.name == name)
                    .ok_or_else(|| {
                        let known: Vec<_> =
                            resource_type.attributes.iter().map(|a| a.name).collect();
                        let hint = suggest::closest(&name, known.iter().copied())
                            .map(|s| format!(" (did you mean {s:?}?)"))
                            .unwrap_or_default();
                        fail(
                            json,
                            &resource.id,
                            format!("{} has no attribute {name:?}{hint}", resource_type.name),
                        )
                    })?;
                let attribute = &resource_type.attributes[index];
                let value: serde_json::Value = serde_json::from_str(json.get())
                    .map_err(|e| json_error(json, &resource.id, e))?;
                let typed = typed(&attribute.ty, &value)
                    .map_err(|m| fail(json, &resource.id, format!("attribute {name}: {m}")))?;
                resource.values[index] = fact(attribute, typed);
            }
            resources.push(resource);
        }
        Ok(Inventory {
            source: file.source,
            collected_at: file.collected_at,
            resources,
            errors: file.errors,
        })
    }

    /// The inventory as JSON: unknown attributes are left out, known
    /// absences are `null`, and unread tags leave out `tags`.
    pub fn to_json(&self) -> String {
        let file = InventoryFileOut {
            schema: INVENTORY_SCHEMA,
            source: &self.source,
            collected_at: self.collected_at,
            resources: self
                .resources
                .iter()
                .map(|r| ResourceOut {
                    resource_type: r.resource_type.name,
                    id: &r.id,
                    arn: &r.arn,
                    account: &r.account,
                    region: &r.region,
                    tags: r.tags_read.then_some(&r.tags),
                    attributes: r
                        .resource_type
                        .attributes
                        .iter()
                        .zip(&r.values)
                        .filter(|(_, v)| !v.is_unknown())
                        .map(|(a, v)| (a.name, v.to_json()))
                        .collect(),
                })
                .collect(),
            errors: &self.errors,
        };
        let mut text = serde_json::to_string_pretty(&file).expect("inventory serializes");
        text.push('\n');
        text
    }
}

/// 1-based line and column of `part`, a slice of `text`.
fn line_col(text: &str, part: &RawValue) -> (usize, usize) {
    let offset = (part.get().as_ptr() as usize)
        .saturating_sub(text.as_ptr() as usize)
        .min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// serde_json's message without its "at line 1 column 9", which counts from
/// the start of the resource, not of the file.
pub(crate) fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn typed(ty: &AttrType, json: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    let mismatch = || format!("expected {}, found {json}", ty.name());
    Ok(match (ty, json) {
        (_, J::Null) => Value::Null,
        (AttrType::Bool, J::Bool(b)) => Value::Bool(*b),
        (AttrType::Int, J::Number(n)) => Value::Int(n.as_i64().ok_or_else(mismatch)?),
        (AttrType::Str { values }, J::String(s)) => {
            if !values.is_empty() && !values.contains(&s.as_str()) {
                return Err(format!("{s:?} is not one of {values:?}"));
            }
            Value::Str(s.clone())
        }
        (AttrType::Time, J::String(s)) => Value::Time(
            s.parse::<Timestamp>()
                .map_err(|e| format!("{s:?} is not an RFC 3339 timestamp: {e}"))?,
        ),
        (AttrType::StrList, J::Array(items)) => Value::List(
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(|s| Value::Str(s.to_string()))
                        .ok_or_else(mismatch)
                })
                .collect::<Result<_, _>>()?,
        ),
        (AttrType::ObjectList(fields), J::Array(items)) => Value::List(
            items
                .iter()
                .map(|item| {
                    let object = item.as_object().ok_or_else(mismatch)?;
                    let mut out = BTreeMap::new();
                    for (key, v) in object {
                        let field = fields
                            .iter()
                            .find(|f| f.name == key)
                            .ok_or_else(|| format!("unknown field {key:?}"))?;
                        out.insert(key.clone(), typed(&field.ty, v)?);
                    }
                    Ok(Value::Object(out))
                })
                .collect::<Result<_, String>>()?,
        ),
        _ => return Err(mismatch()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let kind = schema::resource_type(schema::DB_INSTANCE).unwrap();
        let mut r = Resource::new(kind, "db-1");
        r.region = "eu-west-1".into();
        r.set("backup_retention_days", 7)
            .set(
                "latest_restorable_time",
                "2026-01-01T00:00:00Z".parse::<Timestamp>().unwrap(),
            )
            .set("backup_replication_regions", vec!["us-east-1".to_string()]);
        let inv = Inventory {
            resources: vec![r],
            ..Default::default()
        };
        let back = Inventory::from_json(&inv.to_json(), "t").unwrap();
        assert_eq!(back, inv);
    }

    #[test]
    fn rejects_wrong_types_and_unknown_attributes() {
        let text = r#"{"schema":"backstop.inventory/v1","resources":[
            {"type":"aws.rds.db_instance","id":"a","attributes":{"multi_az":"yes"}}]}"#;
        let err = Inventory::from_json(text, "inv.json")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "inv.json:2:77: resources[0] (a): attribute multi_az: expected bool, found \"yes\""
        );
        let text = r#"{"schema":"backstop.inventory/v1","resources":[
            {"type":"aws.rds.db_instance","id":"a","attributes":{"multiaz":true}}]}"#;
        let err = Inventory::from_json(text, "inv.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("has no attribute \"multiaz\""), "{err}");
        let err = Inventory::from_json(r#"{"schema":"x/v9","resources":[]}"#, "i").unwrap_err();
        assert!(err.to_string().contains("backstop.inventory/v1"));
    }
}
