//! Text for people: `explain`, `rules list`, `schema` and `iam-policy`.

use std::collections::BTreeSet;
use std::fmt::Write;

use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};

use crate::model::schema::{
    AttrType, Attribute, COMMON_ATTRIBUTES, Operation, RESOURCE_TYPES, ResourceType, ops,
};
use crate::rules::{Engine, Rule};

/// `backstop explain ID`, in the manner of `ruff rule`.
pub fn explain(rule: &Rule) -> String {
    let def = &rule.def;
    let mut out = String::new();
    let _ = writeln!(out, "# {} ({})\n", def.title, def.id);
    let _ = writeln!(out, "Severity:  {}", rule.severity);
    let _ = writeln!(out, "Category:  {}", def.category);
    let _ = writeln!(out, "Resource:  {}", def.resource_type_names());
    let every = match def.resource_types.len() {
        1 => "every resource of that type",
        _ => "every resource of those types",
    };
    let _ = writeln!(
        out,
        "Applies:   {}",
        rule.applicability().unwrap_or_else(|| every.into())
    );
    let _ = writeln!(out, "Passes:    {}", rule.expectation());
    if !def.params.is_empty() {
        let params: Vec<String> = def
            .params
            .iter()
            .map(|(name, p)| format!("{name} = {}", render_node(&p.node)))
            .collect();
        let _ = writeln!(
            out,
            "Params:    {} (set in backstop.yaml under params.{})",
            params.join(", "),
            def.id
        );
    }
    let _ = writeln!(out, "Source:    {}", def.file);
    let _ = writeln!(out, "\n## Why it matters\n\n{}", def.rationale);
    let _ = writeln!(out, "\n## How to fix\n\n{}", def.remediation);
    if !def.references.is_empty() {
        let _ = writeln!(out, "\n## References\n");
        for r in &def.references {
            let _ = writeln!(out, "- {r}");
        }
    }
    let ops: Vec<&str> = rule.operations().iter().map(|o| o.iam_action).collect();
    let _ = writeln!(out, "\n## Permissions it needs\n\n{}", ops.join(", "));
    out
}

fn render_node(node: &crate::lang::yaml::Node) -> String {
    match node.as_seq() {
        Some(items) => format!(
            "[{}]",
            items.iter().map(render_node).collect::<Vec<_>>().join(", ")
        ),
        None => node.text().unwrap_or_default().to_string(),
    }
}

/// `backstop rules list`.
pub fn rules_table(engine: &Engine) -> String {
    let mut table = Table::new();
    table
        .force_no_tty()
        .load_style(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec!["id", "severity", "category", "resource", "title"]);
    for rule in engine.rules() {
        table.add_row(vec![
            rule.def.id.as_str(),
            rule.severity.as_str(),
            rule.def.category.as_str(),
            &rule.def.resource_type_names(),
            rule.def.title.as_str(),
        ]);
    }
    format!("{table}\n{} rules\n", engine.rules().len())
}

/// `backstop schema` (all types) or `backstop schema TYPE`.
pub fn schema(kind: Option<&ResourceType>) -> String {
    let mut out = String::new();
    match kind {
        None => {
            for t in RESOURCE_TYPES {
                let _ = writeln!(out, "{:<26} {}", t.name, t.doc);
            }
            let _ = writeln!(out, "\n`backstop schema TYPE` lists a type's attributes.");
        }
        Some(t) => {
            let _ = writeln!(out, "{}: {}\n", t.name, t.doc);
            let mut table = Table::new();
            table
                .force_no_tty()
                .load_style(UTF8_BORDERS_ONLY)
                .set_content_arrangement(ContentArrangement::Disabled)
                .set_header(vec![
                    "attribute",
                    "type",
                    "description",
                    "when none",
                    "needs",
                ]);
            let listing: Vec<&str> = t.listing.iter().map(|o| o.iam_action).collect();
            for a in COMMON_ATTRIBUTES {
                table.add_row(attribute_row(a, &listing));
            }
            table.add_row(vec![
                "tags.KEY".to_string(),
                "string".to_string(),
                "The value of tag KEY".to_string(),
                "the tag set that was read has no KEY".to_string(),
                actions(t.tag_calls, &listing),
            ]);
            for a in t.attributes {
                table.add_row(attribute_row(a, &listing));
            }
            let _ = writeln!(out, "{table}");
            let _ = writeln!(
                out,
                "\"when none\": what it means when AWS says there is none (a known absence, judged \
                 like a value: `absent` holds, `eq` is false). `-`: the attribute always has a value \
                 once read. A fact that was not read, or that AWS did not send, is unknown: a rule \
                 that needs it reports `error`, never pass or fail. In a list of objects, fields \
                 marked `?` can be none."
            );
        }
    }
    out
}

fn attribute_row(a: &Attribute, listing: &[&str]) -> Vec<String> {
    let ty = match a.ty {
        AttrType::Str { values } if !values.is_empty() => format!("string: {}", values.join(" | ")),
        AttrType::ObjectList(fields) => {
            format!(
                "list of {{{}}}",
                fields
                    .iter()
                    .map(|f| match f.none {
                        Some(_) => format!("{}?", f.name),
                        None => f.name.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        other => other.name().to_string(),
    };
    let doc = if a.live_only {
        format!(
            "{} [live only: not judged on a Terraform plan's new resources]",
            a.doc
        )
    } else {
        a.doc.to_string()
    };
    vec![
        a.name.to_string(),
        ty,
        doc,
        a.none.unwrap_or("-").to_string(),
        actions(a.calls, listing),
    ]
}

fn actions(calls: &[&Operation], listing: &[&str]) -> String {
    let mut all: BTreeSet<&str> = listing.iter().copied().collect();
    all.extend(calls.iter().map(|o| o.iam_action));
    all.into_iter().collect::<Vec<_>>().join(", ")
}

/// `backstop iam-policy`: the least-privilege policy for the enabled rules.
pub fn iam_policy(operations: &BTreeSet<&'static Operation>) -> String {
    let actions: BTreeSet<&str> = operations.iter().map(|o| o.iam_action).collect();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "BackstopReadOnlyAudit",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*"
        }]
    });
    pretty(&policy)
}

/// Who an organisation audit runs as: the account that runs backstop and
/// the role it assumes in every member account (`iam-policy --org`).
pub struct OrgAudit<'a> {
    /// The auditing account; `None`: a placeholder the user replaces.
    pub caller_account: Option<&'a str>,
    pub role_name: &'a str,
    /// The `sts:ExternalId` the role demands, if any.
    pub external_id: Option<&'a str>,
}

/// Stands for the auditing account in the trust policy until replaced.
pub const AUDIT_ACCOUNT_PLACEHOLDER: &str = "<AUDIT_ACCOUNT_ID>";

/// `backstop iam-policy --org`: the three documents an organisation audit
/// needs, each a JSON document after `#` comment lines that say where it
/// goes.
pub fn iam_policy_for_org(operations: &BTreeSet<&'static Operation>, org: &OrgAudit<'_>) -> String {
    // Read in every member account whatever the rules: its alias names it
    // in the reports, and `--regions all` asks it which regions are enabled.
    let mut member_operations = operations.clone();
    member_operations.insert(&ops::IAM_LIST_ACCOUNT_ALIASES);
    member_operations.insert(&ops::EC2_DESCRIBE_REGIONS);
    let role = org.role_name;
    let account = org.caller_account.unwrap_or(AUDIT_ACCOUNT_PLACEHOLDER);

    let mut trust = serde_json::json!({
        "Sid": "BackstopAuditingAccount",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
        "Action": ops::STS_ASSUME_ROLE.iam_action,
    });
    if let Some(external_id) = org.external_id {
        trust["Condition"] = serde_json::json!({"StringEquals": {"sts:ExternalId": external_id}});
    }
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [trust]});

    let listings: Vec<&str> = [
        &ops::ORGANIZATIONS_LIST_ACCOUNTS,
        &ops::ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT,
        &ops::ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT,
    ]
    .iter()
    .map(|o| o.iam_action)
    .collect();
    let caller = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BackstopListOrganisationAccounts",
                "Effect": "Allow",
                "Action": listings,
                "Resource": "*"
            },
            {
                "Sid": "BackstopEnterMemberAccounts",
                "Effect": "Allow",
                "Action": ops::STS_ASSUME_ROLE.iam_action,
                "Resource": format!("arn:aws:iam::*:role/{role}")
            }
        ]
    });

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# 1. Permission policy of the role {role} in every member account (read-only):"
    );
    out.push_str(&iam_policy(&member_operations));
    let _ = writeln!(
        out,
        "\n# 2. Trust policy of the role {role} in every member account: lets the auditing account assume it."
    );
    if org.caller_account.is_none() {
        let _ = writeln!(
            out,
            "#    Replace {AUDIT_ACCOUNT_PLACEHOLDER} with the id of the account that runs backstop (or give --caller-account)."
        );
    }
    out.push_str(&pretty(&trust));
    let _ = writeln!(
        out,
        "\n# 3. Permission policy of the credentials that run backstop, in the auditing account:\n\
         #    list the organisation's accounts and assume {role} in each."
    );
    out.push_str(&pretty(&caller));
    out
}

fn pretty(document: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(document).expect("policy serializes");
    text.push('\n');
    text
}
