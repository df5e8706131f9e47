//! The bundled demo account: the "sales scorecard" account of the backup
//! strategy document, for trying backstop without AWS credentials.

use crate::model::{Inventory, InventoryError};

/// The inventory JSON, embedded at build time.
pub const INVENTORY_JSON: &str = include_str!("../demo/sales-scorecard.json");

pub fn inventory() -> Result<Inventory, InventoryError> {
    Inventory::from_json(INVENTORY_JSON, "demo/sales-scorecard.json")
}
