//! Typed attribute values.
//!
//! Inventories store attributes as JSON; they are converted to [`Value`] once,
//! against the schema, so the evaluator never parses a timestamp twice and
//! every comparison is between values of a known type.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;

/// A fact about a resource.
///
/// `Null` and `Unknown` are different answers: `Null` is a *known absence*
/// (AWS was asked and said there is none: no KMS key, no retention, not in a
/// cluster), which rules judge like any value; `Unknown` means the fact was
/// not read, the call failed, or AWS did not send it, and no rule may pass or
/// fail on it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Not read, or not sent by AWS.
    Unknown,
    /// Read: there is none.
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Time(Timestamp),
    List(Vec<Value>),
    Object(BTreeMap<String, Value>),
}

impl Value {
    /// A known absence.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Not read or not sent.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The JSON form used in inventories: timestamps as RFC 3339 strings.
    /// Unknown facts are left out of inventories, so they never reach here
    /// from a resource; inside a list they are written as `null`, which an
    /// inventory reads back as unknown for a field that cannot be none.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Unknown | Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Str(s) => s.clone().into(),
            Value::Time(t) => t.to_string().into(),
            Value::List(items) => items.iter().map(Value::to_json).collect(),
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }
}

/// Human form used in failure explanations: `backup_retention_days is 1`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unknown => f.write_str("unknown"),
            Value::Null => f.write_str("absent"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "\"{s}\""),
            Value::Time(t) => write!(f, "{t}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Object(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}
