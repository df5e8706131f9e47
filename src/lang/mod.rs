//! The input language shared by rule files and `backstop.yaml`: a YAML tree
//! that keeps every node's position, one reader of its mappings as typed
//! fields, diagnostics with stable codes that point at a file, line and
//! column, durations, and did-you-mean suggestions.

pub mod diagnostic;
pub mod duration;
pub mod fields;
pub mod suggest;
pub mod yaml;

pub use diagnostic::{Code, Diagnostic, Diagnostics};
pub use fields::{Fields, Reader};
