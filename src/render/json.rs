//! The JSON report: the [`Report`] struct's serde form is the pinned
//! `backstop.report/v1` schema, so the weekly diff can read last week's file
//! back with [`parse`].

use serde::Deserialize;
use serde::de::Error as _;

use crate::report::{REPORT_SCHEMA, Report};

pub fn render(report: &Report) -> String {
    // Every field is a string, number, list or string-keyed map: nothing
    // here can fail to serialize.
    let mut text = serde_json::to_string_pretty(report).expect("a report always serializes");
    text.push('\n');
    text
}

/// Reads a report written by [`render`]. A report of another schema version
/// is refused rather than half-read.
pub fn parse(text: &str) -> Result<Report, serde_json::Error> {
    // The version first: another version's fields would fail with a less
    // helpful message, or worse, parse into something subtly different.
    #[derive(Deserialize)]
    struct Header {
        schema: String,
    }
    let header: Header = serde_json::from_str(text)?;
    if header.schema != REPORT_SCHEMA {
        return Err(serde_json::Error::custom(format!(
            "report schema is {:?}; this backstop reads {REPORT_SCHEMA:?}",
            header.schema
        )));
    }
    serde_json::from_str(text)
}
