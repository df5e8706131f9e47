//! The resource model: types, attribute schema, typed values and the inventory.

pub mod ecr_lifecycle;
pub mod export_location;
pub mod inventory;
pub mod names;
pub mod schedule;
pub mod schema;
mod text;
pub mod value;

pub use export_location::ExportLocation;
pub use inventory::{
    AccountSource, CollectionError, Inventory, InventoryError, Location, Planned, Resource,
    ResourceRef, Source,
};
pub use schema::{AttrType, Attribute, Operation, ResourceType};
pub use text::Text;
pub use value::Value;
