//! An ECR lifecycle policy document, read into the `lifecycle_rules` of a
//! repository. Live collection reads the document from GetLifecyclePolicy and
//! a Terraform plan from `aws_ecr_lifecycle_policy`: one reading for both.

use std::collections::BTreeMap;

use super::Value;
use super::schema::{AttrType, ECR_REPOSITORY, resource_type};

fn text(v: Option<&serde_json::Value>) -> Option<&str> {
    v.and_then(|v| v.as_str())
}

/// A lifecycle policy document's rules, typed against the schema.
pub fn lifecycle_rules(policy: &str) -> Result<Vec<BTreeMap<String, Value>>, String> {
    let doc: serde_json::Value = serde_json::from_str(policy).map_err(|e| e.to_string())?;
    let rules = doc
        .get("rules")
        .and_then(|r| r.as_array())
        .ok_or("the policy has no \"rules\" list")?;
    let fields = match resource_type(ECR_REPOSITORY)
        .expect("the repository type is in the schema")
        .attribute("lifecycle_rules")
        .map(|a| a.ty)
    {
        Some(AttrType::ObjectList(fields)) => fields,
        _ => &[][..],
    };
    // Only values the schema knows are kept (a new AWS value stays absent).
    let known = |field: &str, value: Option<&str>| -> Value {
        let allowed = fields
            .iter()
            .find(|f| f.name == field)
            .and_then(|f| match f.ty {
                AttrType::Str { values } => Some(values),
                _ => None,
            })
            .unwrap_or(&[]);
        match value {
            Some(v) if allowed.is_empty() || allowed.contains(&v) => Value::from(v),
            _ => Value::Null,
        }
    };
    Ok(rules
        .iter()
        .map(|rule| {
            let selection = rule.get("selection");
            BTreeMap::from([
                (
                    "priority".to_string(),
                    Value::from(rule.get("rulePriority").and_then(|p| p.as_i64())),
                ),
                (
                    "description".to_string(),
                    Value::from(text(rule.get("description"))),
                ),
                (
                    "tag_status".to_string(),
                    known(
                        "tag_status",
                        text(selection.and_then(|s| s.get("tagStatus"))),
                    ),
                ),
                (
                    "count_type".to_string(),
                    known(
                        "count_type",
                        text(selection.and_then(|s| s.get("countType"))),
                    ),
                ),
                (
                    "count_number".to_string(),
                    Value::from(
                        selection
                            .and_then(|s| s.get("countNumber"))
                            .and_then(|n| n.as_i64()),
                    ),
                ),
            ])
        })
        .collect())
}
