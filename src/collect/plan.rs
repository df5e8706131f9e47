//! The collection plan: which AWS operations a run needs.
//!
//! The rule engine builds it from the attributes the enabled rules read; the
//! collectors consult it before every listing and detail call, so an audit
//! with no RDS rule makes no RDS call and one that never reads S3 lifecycle
//! rules never calls `GetBucketLifecycleConfiguration`.

use std::collections::BTreeSet;

use crate::model::schema::{Operation, ResourceType, ops};

/// A set of operations the collectors may call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    ops: BTreeSet<&'static Operation>,
}

impl Plan {
    /// Every operation backstop knows: a full inventory (`backstop collect`).
    pub fn everything() -> Plan {
        Plan::new(ops::ALL.iter().copied())
    }

    pub fn new(ops: impl IntoIterator<Item = &'static Operation>) -> Plan {
        Plan {
            ops: ops.into_iter().collect(),
        }
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
