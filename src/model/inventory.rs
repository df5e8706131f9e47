//! The inventory: every resource that was read, and every call that failed.
//!
//! Live collection produces it, `backstop collect` saves it, `--inventory`
//! loads it; the rule engine never knows which.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::schema::{self, AttrType, Attribute, ResourceType};
use super::value::Value;

pub const INVENTORY_SCHEMA: &str = "backstop.inventory/v1";

/// One AWS resource with its attributes, typed against the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub kind: &'static ResourceType,
    pub id: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    pub tags: BTreeMap<String, String>,
    /// Indexed like `kind.attributes`; `Value::Null` when absent.
    values: Vec<Value>,
}

impl Resource {
    pub fn new(kind: &'static ResourceType, id: impl Into<String>) -> Self {
        Resource {
            kind,
            id: id.into(),
            arn: String::new(),
            account: String::new(),
            region: String::new(),
            tags: BTreeMap::new(),
            values: vec![Value::Null; kind.attributes.len()],
        }
    }

    /// Value of the attribute at `index` in `kind.attributes`.
    pub fn value_at(&self, index: usize) -> &Value {
        &self.values[index]
    }

    /// Value of a named attribute (`Null` when absent).
    ///
    /// # Panics
    /// When `name` is not an attribute of this resource type: that is a bug
    /// in a collector, never a consequence of user input.
    pub fn get(&self, name: &str) -> &Value {
        let index = self.index_of(name);
        &self.values[index]
    }

    /// Sets a named attribute. See [`Resource::get`] for the panic.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        let index = self.index_of(name);
        self.values[index] = value.into();
        self
    }

    fn index_of(&self, name: &str) -> usize {
        self.kind
            .attributes
            .iter()
            .position(|a| a.name == name)
            .unwrap_or_else(|| panic!("{} has no attribute {name}", self.kind.name))
    }

    pub fn reference(&self) -> ResourceRef {
        ResourceRef {
            kind: self.kind.name.to_string(),
            id: self.id.clone(),
            arn: self.arn.clone(),
            region: self.region.clone(),
            account: self.account.clone(),
        }
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub account: String,
}

/// A call that failed after retries. Results that depend on it become `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionError {
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
    /// `live`, `inventory` or `demo`.
    pub kind: String,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub regions: Vec<String>,
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
    #[error("{origin}: resources[{index}] ({id}): {message}")]
    Resource {
        origin: String,
        index: usize,
        id: String,
        message: String,
    },
}

#[derive(Serialize, Deserialize)]
struct InventoryFile {
    schema: String,
    #[serde(default)]
    source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    collected_at: Option<Timestamp>,
    resources: Vec<ResourceFile>,
    #[serde(default)]
    errors: Vec<CollectionError>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceFile {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    #[serde(default)]
    arn: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    attributes: BTreeMap<String, serde_json::Value>,
}

impl Inventory {
    /// Parses an inventory file; `origin` names it in error messages.
    pub fn from_json(text: &str, origin: &str) -> Result<Inventory, InventoryError> {
        let file: InventoryFile =
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
            let fail = |message: String| InventoryError::Resource {
                origin: origin.to_string(),
                index,
                id: raw.id.clone(),
                message,
            };
            let kind = schema::resource_type(&raw.kind)
                .ok_or_else(|| fail(format!("unknown resource type {:?}", raw.kind)))?;
            let mut resource = Resource::new(kind, raw.id.clone());
            resource.arn = raw.arn.clone();
            resource.account = raw.account.clone();
            resource.region = raw.region.clone();
            resource.tags = raw.tags.clone();
            for (name, json) in &raw.attributes {
                let index = kind
                    .attributes
                    .iter()
                    .position(|a| a.name == name)
                    .ok_or_else(|| fail(format!("{} has no attribute {name:?}", kind.name)))?;
                resource.values[index] = typed_value(&kind.attributes[index], json)
                    .map_err(|m| fail(format!("attribute {name}: {m}")))?;
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

    pub fn to_json(&self) -> String {
        let file = InventoryFile {
            schema: INVENTORY_SCHEMA.to_string(),
            source: self.source.clone(),
            collected_at: self.collected_at,
            resources: self
                .resources
                .iter()
                .map(|r| ResourceFile {
                    kind: r.kind.name.to_string(),
                    id: r.id.clone(),
                    arn: r.arn.clone(),
                    account: r.account.clone(),
                    region: r.region.clone(),
                    tags: r.tags.clone(),
                    attributes: r
                        .kind
                        .attributes
                        .iter()
                        .zip(&r.values)
                        .filter(|(_, v)| !v.is_null())
                        .map(|(a, v)| (a.name.to_string(), v.to_json()))
                        .collect(),
                })
                .collect(),
            errors: self.errors.clone(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("inventory serializes");
        text.push('\n');
        text
    }
}

fn typed_value(attribute: &Attribute, json: &serde_json::Value) -> Result<Value, String> {
    typed(&attribute.ty, json)
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
            "inv.json: resources[0] (a): attribute multi_az: expected bool, found \"yes\""
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
