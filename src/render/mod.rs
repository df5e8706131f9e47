//! The report's output formats, one file each: every one takes a
//! [`Report`](crate::report::Report) (or a [`Diff`](crate::report::Diff))
//! and returns text.

pub mod diff;
mod escape;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod table;
