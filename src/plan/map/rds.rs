//! RDS: `aws_db_instance`, `aws_rds_cluster_instance`, `aws_rds_cluster`,
//! `aws_db_instance_automated_backups_replication`, `aws_db_snapshot` and
//! `aws_db_cluster_snapshot`.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::{Draft, key_manager};
use crate::model::schema::{DB_CLUSTER, DB_INSTANCE, DB_SNAPSHOT};
use crate::model::{Resource, Value};
use crate::plan::view::{Fact, KNOWN_AFTER_APPLY, PlanView, Planned};

pub fn map(plan: &PlanView, out: &mut Vec<(usize, Resource)>) {
    for (i, planned) in plan.of_type("aws_db_instance") {
        out.push((i, instance(plan, i, planned)));
    }
    for (i, planned) in plan.of_type("aws_rds_cluster_instance") {
        out.push((i, cluster_member(plan, planned)));
    }
    for (i, planned) in plan.of_type("aws_rds_cluster") {
        out.push((i, cluster(plan, i, planned)));
    }
    for tf_type in ["aws_db_snapshot", "aws_db_cluster_snapshot"] {
        for (i, planned) in plan.of_type(tf_type) {
            out.push((i, snapshot(plan, planned)));
        }
    }
}

/// What instances and clusters share.
fn common(draft: &mut Draft, backup_window: &str, maintenance_window: &str) {
    draft
        .put_path("engine", "engine")
        .put_path("engine_version", "engine_version")
        .put_path("backup_retention_days", "backup_retention_period")
        .put_path("backup_window", backup_window)
        .put_path("maintenance_window", maintenance_window)
        .put_path("storage_encrypted", "storage_encrypted")
        .put_path("deletion_protection", "deletion_protection")
        .put_path("copy_tags_to_snapshot", "copy_tags_to_snapshot");
    encryption_key(draft);
}

/// The storage key and who manages it; an unencrypted resource has neither.
fn encryption_key(draft: &mut Draft) {
    if draft.planned.fact("storage_encrypted") == Fact::Known(&Json::Bool(false)) {
        draft
            .value("kms_key_id", Value::Null)
            .value("kms_key_managed_by", Value::Null);
        return;
    }
    draft.put_path("kms_key_id", "kms_key_id");
    match key_manager(draft.planned, "kms_key_id") {
        Some(manager) => draft.value("kms_key_managed_by", manager),
        None => draft.unknown("kms_key_managed_by", KNOWN_AFTER_APPLY),
    };
}

fn instance(plan: &PlanView, i: usize, planned: &Planned) -> Resource {
    let mut draft = Draft::new(planned, DB_INSTANCE, "identifier");
    common(&mut draft, "backup_window", "maintenance_window");
    draft
        .put_path("instance_class", "instance_class")
        .put_path("multi_az", "multi_az")
        .put_path("publicly_accessible", "publicly_accessible")
        .value("cluster_id", Value::Null);
    let regions: Vec<String> = plan
        .of_type("aws_db_instance_automated_backups_replication")
        .filter(|(_, r)| {
            plan.target_of(r, "source_db_instance_arn", "aws_db_instance", "arn") == Some(i)
        })
        .map(|(_, r)| r.region.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let found = (!regions.is_empty()).then(|| Value::from(regions));
    let loose = plan.has_loose(
        "aws_db_instance_automated_backups_replication",
        "source_db_instance_arn",
        "aws_db_instance",
        "arn",
    );
    draft.split_setting(
        "backup_replication_regions",
        found,
        loose,
        Value::List(Vec::new()),
    );
    draft.finish()
}

/// An Aurora cluster member: a DB instance whose backups are the cluster's.
fn cluster_member(plan: &PlanView, planned: &Planned) -> Resource {
    let mut draft = Draft::new(planned, DB_INSTANCE, "identifier");
    draft
        .put_path("engine", "engine")
        .put_path("engine_version", "engine_version")
        .put_path("instance_class", "instance_class")
        .put_path("publicly_accessible", "publicly_accessible")
        .put_path("copy_tags_to_snapshot", "copy_tags_to_snapshot")
        .put_path("cluster_id", "cluster_identifier");
    if draft.resource.get("cluster_id").is_unknown() {
        // Created with its cluster: the cluster's identifier may be in the plan.
        let cluster = plan
            .target_of(
                planned,
                "cluster_identifier",
                "aws_rds_cluster",
                "cluster_identifier",
            )
            .map(|c| plan.resources[c].fact("cluster_identifier"));
        if let Some(fact @ Fact::Known(_)) = cluster {
            draft.put("cluster_id", fact);
        }
    }
    draft.finish()
}

fn cluster(plan: &PlanView, i: usize, planned: &Planned) -> Resource {
    let mut draft = Draft::new(planned, DB_CLUSTER, "cluster_identifier");
    common(
        &mut draft,
        "preferred_backup_window",
        "preferred_maintenance_window",
    );
    draft.value("cluster_id", Value::Null);
    let members: Vec<&Planned> = plan
        .of_type("aws_rds_cluster_instance")
        .filter(|(_, m)| {
            plan.target_of(
                m,
                "cluster_identifier",
                "aws_rds_cluster",
                "cluster_identifier",
            ) == Some(i)
        })
        .map(|(_, m)| m)
        .collect();
    let identifiers: Option<Vec<String>> = members
        .iter()
        .map(|m| m.fact("identifier").str().map(str::to_string))
        .collect();
    match identifiers {
        Some(ids) => draft.value("members", Value::from(ids)),
        None => draft.unknown("members", KNOWN_AFTER_APPLY),
    };
    draft.value("multi_az", cluster_multi_az(planned, &members));
    draft.finish()
}

/// A Multi-AZ DB cluster (it has a cluster instance class) always spans
/// three zones; an Aurora cluster spans more than one when its members sit
/// in different zones, which AWS picks at apply unless they are set.
fn cluster_multi_az(planned: &Planned, members: &[&Planned]) -> Value {
    if let Fact::Known(Json::String(_)) = planned.fact("db_cluster_instance_class") {
        return Value::Bool(true);
    }
    if members.len() < 2 {
        return if planned.is_new() || !members.is_empty() {
            Value::Bool(false)
        } else {
            Value::Unknown
        };
    }
    let zones: Option<BTreeSet<&str>> = members
        .iter()
        .map(|m| m.fact("availability_zone").str())
        .collect();
    match zones {
        Some(zones) => Value::Bool(zones.len() > 1),
        None => Value::Unknown,
    }
}

fn snapshot(plan: &PlanView, planned: &Planned) -> Resource {
    let of_cluster = planned.tf_type() == "aws_db_cluster_snapshot";
    let (id, source, source_type, source_key, encrypted_key) = if of_cluster {
        (
            "db_cluster_snapshot_identifier",
            "db_cluster_identifier",
            "aws_rds_cluster",
            "cluster_identifier",
            "storage_encrypted",
        )
    } else {
        (
            "db_snapshot_identifier",
            "db_instance_identifier",
            "aws_db_instance",
            "identifier",
            "encrypted",
        )
    };
    let mut draft = Draft::new(planned, DB_SNAPSHOT, id);
    draft
        .value("snapshot_type", Value::from("manual"))
        .value(
            "source_kind",
            Value::from(if of_cluster { "cluster" } else { "instance" }),
        )
        .value("source_region", Value::Null)
        .put_path("source_id", source)
        .put_path("encrypted", encrypted_key)
        .put_path("kms_key_id", "kms_key_id");
    // A snapshot of a resource created in the same plan has its identifier
    // and its encryption.
    if let Some(origin) = plan.target_of(planned, source, source_type, source_key) {
        let origin = &plan.resources[origin];
        if draft.resource.get("source_id").is_unknown() {
            draft.put("source_id", origin.fact(source_key));
        }
        if draft.resource.get("encrypted").is_unknown() {
            draft.put("encrypted", origin.fact("storage_encrypted"));
        }
    }
    match planned.fact("shared_accounts") {
        Fact::Known(Json::Array(accounts)) => {
            let accounts: Vec<String> = accounts
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            draft.value("public", Value::Bool(accounts.iter().any(|a| a == "all")));
            let shared: Vec<String> = accounts.into_iter().filter(|a| a != "all").collect();
            draft.value("shared_with", Value::from(shared));
        }
        // Not shared unless the configuration says so.
        Fact::Absent => {
            draft
                .value("public", Value::Bool(false))
                .value("shared_with", Value::List(Vec::new()));
        }
        fact => {
            draft.put("public", fact).put("shared_with", fact);
        }
    }
    draft.finish()
}
