//! The collection plan: which AWS operations a run needs.
//!
//! The rule engine builds it from the attributes the enabled rules read; the
//! collectors consult it before every listing and detail call, so an audit
//! with no RDS rule makes no RDS call and one that never reads S3 lifecycle
//! rules never calls `GetBucketLifecycleConfiguration`.

use std::collections::BTreeSet;

use crate::model::schema::{self, DB_INSTANCE, Operation, ResourceType, ops};
use crate::rules::Engine;

/// Where snapshot copies of the audited instances are looked for
/// (`cross_region_copy_time`), besides the audited regions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CopyRegions {
    /// The audited regions only.
    #[default]
    Audited,
    /// Also these regions.
    Also(BTreeSet<String>),
    /// Every region RDS can copy snapshots between (DescribeSourceRegions in
    /// each audited region).
    Enabled,
}

/// A set of operations the collectors may call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    ops: BTreeSet<&'static Operation>,
    /// Where snapshot copies are looked for, when cross_region_copy_time is
    /// read.
    pub copy_regions: CopyRegions,
}

impl Plan {
    /// Every operation backstop knows: a full inventory (`backstop collect`),
    /// snapshot copies looked for in every region.
    pub fn everything() -> Plan {
        let mut plan = Plan::new(ops::ALL.iter().copied());
        plan.copy_regions = CopyRegions::Enabled;
        plan
    }

    /// These operations; snapshot copies looked for in the audited regions
    /// only (see [`Plan::for_engine`] for the rules' `copy_regions`).
    pub fn new(ops: impl IntoIterator<Item = &'static Operation>) -> Plan {
        Plan {
            ops: ops.into_iter().collect(),
            copy_regions: CopyRegions::Audited,
        }
    }

    /// What the enabled rules need: their operations, and snapshot copies
    /// looked for in the regions of the `copy_regions` param of every rule
    /// reading `cross_region_copy_time` (every region when one of them
    /// leaves it empty or has no such param).
    pub fn for_engine(engine: &Engine) -> Plan {
        let mut plan = Plan::new(engine.required_operations());
        let copy_time = schema::COLLECTION_PARAMS
            .iter()
            .find(|p| p.name == "copy_regions")
            .expect("copy_regions is a collection param");
        let mut regions = BTreeSet::new();
        let mut everywhere = false;
        for rule in engine.rules() {
            let reads_copies = rule.def.applies_to(DB_INSTANCE)
                && rule.operations().contains(&ops::RDS_DESCRIBE_DB_SNAPSHOTS);
            if !reads_copies {
                continue;
            }
            let listed: Vec<String> = rule
                .def
                .params
                .get(copy_time.name)
                .and_then(|p| p.node.as_seq())
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.text().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if listed.is_empty() {
                everywhere = true;
            }
            regions.extend(listed);
        }
        plan.copy_regions = if everywhere {
            CopyRegions::Enabled
        } else if regions.is_empty() {
            CopyRegions::Audited
        } else {
            CopyRegions::Also(regions)
        };
        plan
    }

    /// Adds what reading `attributes` of `kind` takes (see
    /// [`ResourceType::operations_for`]).
    pub fn add_type<'a>(
        &mut self,
        kind: &'static ResourceType,
        attributes: impl IntoIterator<Item = &'a str>,
        tags: bool,
    ) -> &mut Self {
        self.ops.extend(kind.operations_for(attributes, tags));
        self
    }

    pub fn insert(&mut self, op: &'static Operation) -> &mut Self {
        self.ops.insert(op);
        self
    }

    pub fn needs(&self, op: &Operation) -> bool {
        self.ops.contains(op)
    }

    /// True when any of the type's listing calls is planned.
    pub fn needs_type(&self, kind: &ResourceType) -> bool {
        kind.listing.iter().any(|op| self.needs(op))
    }

    pub fn operations(&self) -> impl Iterator<Item = &'static Operation> + '_ {
        self.ops.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

impl Extend<&'static Operation> for Plan {
    fn extend<I: IntoIterator<Item = &'static Operation>>(&mut self, iter: I) {
        self.ops.extend(iter);
    }
}

impl FromIterator<&'static Operation> for Plan {
    fn from_iter<I: IntoIterator<Item = &'static Operation>>(iter: I) -> Self {
        Plan::new(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::schema;
    use crate::model::schema::{S3_BUCKET, resource_type};

    #[test]
    fn add_type_takes_listing_attribute_and_tag_calls() {
        let bucket = resource_type(S3_BUCKET).unwrap();
        let mut plan = Plan::default();
        plan.add_type(bucket, ["versioning", "id"], false);
        assert!(plan.needs_type(bucket));
        assert!(plan.needs(&ops::S3_GET_BUCKET_VERSIONING));
        assert!(plan.needs(&ops::S3_GET_BUCKET_LOCATION));
        assert!(!plan.needs(&ops::S3_GET_BUCKET_LIFECYCLE));
        assert!(!plan.needs(&ops::S3_GET_BUCKET_TAGGING));
        plan.add_type(bucket, [], true);
        assert!(plan.needs(&ops::S3_GET_BUCKET_TAGGING));
    }

    #[test]
    fn everything_needs_every_type() {
        let plan = Plan::everything();
        for kind in schema::RESOURCE_TYPES {
            assert!(plan.needs_type(kind), "{}", kind.name);
        }
        assert!(!Plan::default().needs_type(&schema::RESOURCE_TYPES[0]));
    }
}
