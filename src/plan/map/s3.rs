//! S3: `aws_s3_bucket` with the inline blocks of AWS provider v3, and the
//! resources v4 split out of it (`aws_s3_bucket_versioning`,
//! `_server_side_encryption_configuration`, `_lifecycle_configuration`,
//! `_replication_configuration`, `_public_access_block`), which win over
//! the bucket's own (computed) blocks.

use serde_json::Value as Json;

use super::{Draft, field, object};
use crate::model::schema::{AttrType, S3_BUCKET};
use crate::model::{Resource, Value};
use crate::plan::view::{Element, Fact, KNOWN_AFTER_APPLY, NOT_MANAGED, PlanView, Planned};

pub fn map(plan: &PlanView, out: &mut Vec<(usize, Resource)>) {
    for (i, planned) in plan.of_type("aws_s3_bucket") {
        out.push((i, bucket(plan, i, planned)));
    }
}

/// The split-out resource of `tf_type` that configures bucket `i`.
fn split<'p, 'a>(plan: &'p PlanView<'a>, i: usize, tf_type: &str) -> Option<&'p Planned<'a>> {
    plan.of_type(tf_type)
        .find(|(_, s)| plan.target_of(s, "bucket", "aws_s3_bucket", "bucket") == Some(i))
        .map(|(_, s)| s)
}

/// See [`PlanView::has_loose`].
fn loose(plan: &PlanView, tf_type: &str) -> bool {
    plan.has_loose(tf_type, "bucket", "aws_s3_bucket", "bucket")
}

/// A bucket setting from its v3 inline block: the value it gives, or none.
enum Inline {
    Known(Value),
    /// The block is not there.
    Absent,
    /// The block's content is computed at apply.
    AfterApply,
}

/// A setting: the split-out resource's value; else the inline block's;
/// else, for a new bucket whose configuration does not set the block, AWS's
/// default for a new bucket.
#[allow(clippy::too_many_arguments)]
fn setting(
    draft: &mut Draft,
    attribute: &str,
    from_split: Option<Value>,
    loose: bool,
    inline: Inline,
    block: &str,
    default: Value,
) {
    if let Some(value) = from_split {
        draft.value(attribute, value);
        return;
    }
    if loose {
        draft.unknown(attribute, KNOWN_AFTER_APPLY);
        return;
    }
    let configured = draft.planned.config.is_some_and(|c| c.sets(block));
    match inline {
        Inline::Known(value) => {
            draft.value(attribute, value);
        }
        _ if draft.planned.is_new() && !configured => {
            draft.value(attribute, default);
        }
        Inline::AfterApply => {
            draft.unknown(attribute, KNOWN_AFTER_APPLY);
        }
        Inline::Absent => {
            draft.unknown(attribute, NOT_MANAGED);
        }
    }
}

fn inline(fact: Fact, convert: impl FnOnce(&Json) -> Option<Value>) -> Inline {
    match fact {
        Fact::Known(json) => convert(json).map_or(Inline::Absent, Inline::Known),
        Fact::Absent => Inline::Absent,
        Fact::AfterApply => Inline::AfterApply,
    }
}

fn bucket(plan: &PlanView, i: usize, planned: &Planned) -> Resource {
    let mut draft = Draft::new(planned, S3_BUCKET, "bucket");
    if draft.resource.arn.is_empty()
        && let Some(name) = planned.fact("bucket").str()
    {
        draft.resource.arn = format!("arn:aws:s3:::{name}");
    }

    // Versioning.
    let from_split = split(plan, i, "aws_s3_bucket_versioning")
        .map(|v| field(v.fact("versioning_configuration.0.status"), status_type()));
    let was_enabled = planned.before("versioning.0.enabled") == Some(&Json::Bool(true));
    let v3 = inline(planned.fact("versioning.0.enabled"), |j| {
        Some(Value::from(match j.as_bool()? {
            true => "Enabled",
            false if was_enabled => "Suspended",
            false => "Disabled",
        }))
    });
    setting(
        &mut draft,
        "versioning",
        from_split,
        loose(plan, "aws_s3_bucket_versioning"),
        v3,
        "versioning",
        Value::from("Disabled"),
    );

    // Default encryption: SSE-S3 for every new bucket since January 2023.
    let sse = split(
        plan,
        i,
        "aws_s3_bucket_server_side_encryption_configuration",
    );
    let algorithm = |rules: Vec<Element>| {
        rules.first().map(|r| {
            field(
                r.fact("apply_server_side_encryption_by_default.0.sse_algorithm"),
                AttrType::STR,
            )
        })
    };
    let key = |rules: Vec<Element>| {
        rules.first().map(|r| {
            field(
                r.fact("apply_server_side_encryption_by_default.0.kms_master_key_id"),
                AttrType::STR,
            )
        })
    };
    let v3_rules = || planned.each("server_side_encryption_configuration.0.rule");
    let v3_fact = planned.fact("server_side_encryption_configuration.0.rule");
    setting(
        &mut draft,
        "encryption",
        sse.map(|s| algorithm(s.each("rule")).unwrap_or(Value::Unknown)),
        loose(plan, "aws_s3_bucket_server_side_encryption_configuration"),
        inline(v3_fact, |_| algorithm(v3_rules())),
        "server_side_encryption_configuration",
        Value::from("AES256"),
    );
    setting(
        &mut draft,
        "kms_key_id",
        sse.map(|s| key(s.each("rule")).unwrap_or(Value::Unknown)),
        loose(plan, "aws_s3_bucket_server_side_encryption_configuration"),
        inline(v3_fact, |_| key(v3_rules())),
        "server_side_encryption_configuration",
        Value::Null,
    );

    // Lifecycle rules.
    let from_split = split(plan, i, "aws_s3_bucket_lifecycle_configuration")
        .map(|l| Value::List(l.each("rule").iter().map(split_lifecycle_rule).collect()));
    let v3 = inline(planned.fact("lifecycle_rule"), |_| {
        Some(Value::List(
            planned
                .each("lifecycle_rule")
                .iter()
                .map(v3_lifecycle_rule)
                .collect(),
        ))
    });
    setting(
        &mut draft,
        "lifecycle_rules",
        from_split,
        loose(plan, "aws_s3_bucket_lifecycle_configuration"),
        v3,
        "lifecycle_rule",
        Value::List(Vec::new()),
    );

    // Replication rules.
    let from_split = split(plan, i, "aws_s3_bucket_replication_configuration").map(|r| {
        Value::List(
            r.each("rule")
                .iter()
                .enumerate()
                .map(|(n, rule)| {
                    replication_rule(
                        plan,
                        r,
                        rule,
                        Destination::InList(format!("rule.{n}.destination.0.bucket")),
                    )
                })
                .collect(),
        )
    });
    let v3 = inline(planned.fact("replication_configuration"), |_| {
        Some(Value::List(
            planned
                .each("replication_configuration.0.rules")
                .iter()
                .map(|rule| {
                    // `rules` is a set in v3: see `PlanView::find_in_set`.
                    replication_rule(
                        plan,
                        planned,
                        rule,
                        Destination::InSet("replication_configuration.rules.destination.bucket"),
                    )
                })
                .collect(),
        ))
    });
    setting(
        &mut draft,
        "replication_rules",
        from_split,
        loose(plan, "aws_s3_bucket_replication_configuration"),
        v3,
        "replication_configuration",
        Value::List(Vec::new()),
    );

    // Object Lock: an argument since v4, a block in v3.
    let v3 = match planned.fact("object_lock_enabled") {
        Fact::Known(Json::Bool(b)) => Inline::Known(Value::Bool(*b)),
        Fact::AfterApply => Inline::AfterApply,
        _ => inline(
            planned.fact("object_lock_configuration.0.object_lock_enabled"),
            |j| Some(Value::Bool(j.as_str()? == "Enabled")),
        ),
    };
    setting(
        &mut draft,
        "object_lock_enabled",
        None,
        false,
        v3,
        "object_lock_enabled",
        Value::Bool(false),
    );

    // Public access block: on for every new bucket since April 2023.
    let from_split = split(plan, i, "aws_s3_bucket_public_access_block").map(|b| {
        let flags = [
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ]
        .map(|f| b.fact(f));
        if flags.iter().all(|f| *f == Fact::Known(&Json::Bool(true))) {
            Value::Bool(true)
        } else if flags
            .iter()
            .any(|f| matches!(f, Fact::Known(Json::Bool(false)) | Fact::Absent))
        {
            Value::Bool(false)
        } else {
            Value::Unknown
        }
    });
    setting(
        &mut draft,
        "public_access_blocked",
        from_split,
        loose(plan, "aws_s3_bucket_public_access_block"),
        Inline::Absent,
        "",
        Value::Bool(true),
    );
    draft.finish()
}

fn status_type() -> AttrType {
    AttrType::Str {
        values: &["Enabled", "Suspended", "Disabled"],
    }
}

/// Unset in the plan: null, an empty string, or 0 (the size filters).
fn unset(fact: Fact) -> bool {
    match fact {
        Fact::Absent => true,
        Fact::Known(Json::String(s)) => s.is_empty(),
        Fact::Known(Json::Number(n)) => n.as_i64() == Some(0),
        Fact::Known(Json::Array(a)) => a.is_empty(),
        Fact::Known(Json::Object(o)) => o.is_empty(),
        _ => false,
    }
}

fn text(fact: Fact) -> Option<String> {
    match fact {
        Fact::Known(Json::String(s)) => Some(s.clone()),
        Fact::Absent => Some(String::new()),
        _ => None,
    }
}

/// The key prefix a split-out lifecycle or replication rule covers, as the
/// live collector reads it: from its filter, else the legacy rule prefix;
/// none when a tag or size narrows it; unknown when computed at apply.
fn filter_prefix(rule: &Element) -> Value {
    let prefix = |fact: Fact| text(fact).map_or(Value::Unknown, Value::Str);
    if rule.fact("filter") == Fact::AfterApply {
        return Value::Unknown;
    }
    let filters = rule.each("filter");
    let Some(filter) = filters.first() else {
        return prefix(rule.fact("prefix"));
    };
    let narrowed = [
        "tag",
        "tags",
        "object_size_greater_than",
        "object_size_less_than",
    ]
    .iter()
    .any(|f| !unset(filter.fact(f)));
    if narrowed {
        return Value::Null;
    }
    match filter.each("and").first() {
        Some(and) => {
            let narrowed = ["tags", "object_size_greater_than", "object_size_less_than"]
                .iter()
                .any(|f| !unset(and.fact(f)));
            if narrowed {
                Value::Null
            } else {
                prefix(and.fact("prefix"))
            }
        }
        None => match filter.fact("prefix") {
            Fact::Known(Json::String(s)) if !s.is_empty() => Value::Str(s.clone()),
            _ => prefix(rule.fact("prefix")),
        },
    }
}

fn enabled(fact: Fact) -> Value {
    match fact {
        Fact::Known(Json::String(s)) => Value::Bool(s == "Enabled"),
        Fact::Known(Json::Bool(b)) => Value::Bool(*b),
        _ => Value::Unknown,
    }
}

fn split_lifecycle_rule(rule: &Element) -> Value {
    object([
        ("id", field(rule.fact("id"), AttrType::STR)),
        ("enabled", enabled(rule.fact("status"))),
        ("prefix", filter_prefix(rule)),
        ("expiration_days", days(rule, "expiration", "days")),
        (
            "noncurrent_expiration_days",
            days(rule, "noncurrent_version_expiration", "noncurrent_days"),
        ),
    ])
}

fn v3_lifecycle_rule(rule: &Element) -> Value {
    let narrowed = !unset(rule.fact("tags"));
    object([
        ("id", field(rule.fact("id"), AttrType::STR)),
        ("enabled", enabled(rule.fact("enabled"))),
        (
            "prefix",
            if narrowed {
                Value::Null
            } else {
                text(rule.fact("prefix")).map_or(Value::Unknown, Value::Str)
            },
        ),
        ("expiration_days", days(rule, "expiration", "days")),
        (
            "noncurrent_expiration_days",
            days(rule, "noncurrent_version_expiration", "days"),
        ),
    ])
}

/// Days of an expiration block; none without the block (or with a 0, which
/// the provider writes for an unset number).
fn days(rule: &Element, block: &str, name: &str) -> Value {
    match rule.each(block).first() {
        None => Value::Null,
        Some(b) => match b.fact(name) {
            Fact::Known(Json::Number(n)) if n.as_i64() == Some(0) => Value::Null,
            fact => field(fact, AttrType::Int),
        },
    }
}

/// Where a replication rule's destination argument is in the configuration.
enum Destination<'p> {
    /// In a block of a list: its path names the block.
    InList(String),
    /// In a block of a set: the path names no block.
    InSet(&'p str),
}

/// A replication rule; its destination's region is the destination bucket's
/// when the plan holds that bucket (by name, or through the reference at
/// `destination`), else unknown.
fn replication_rule(
    plan: &PlanView,
    owner: &Planned,
    rule: &Element,
    destination: Destination,
) -> Value {
    let arn = rule.fact("destination.0.bucket");
    let name = arn
        .str()
        .map(|arn| arn.rsplit_once(":::").map_or(arn, |(_, name)| name));
    let target = ("aws_s3_bucket", "bucket");
    let found = match &destination {
        Destination::InList(path) => plan.find(owner, name, path, target.0, target.1),
        Destination::InSet(path) => plan.find_in_set(owner, name, path, target.0, target.1),
    }
    .map(|b| &plan.resources[b]);
    let region = found.map_or(Value::Unknown, |b| Value::from(b.region.as_str()));
    let destination_bucket = match name.or_else(|| found?.fact("bucket").str()) {
        Some(name) => Value::from(name),
        None => Value::Unknown,
    };
    object([
        ("id", field(rule.fact("id"), AttrType::STR)),
        ("enabled", enabled(rule.fact("status"))),
        ("destination_bucket", destination_bucket),
        ("destination_region", region),
        ("prefix", filter_prefix(rule)),
    ])
}
