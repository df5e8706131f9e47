//! The JSON report: the [`Report`] struct's serde form is the pinned
//! `backstop.report/v1` schema, so the weekly diff can read last week's file
//! back with [`Report::from_json`].

use crate::report::Report;

pub fn render(report: &Report) -> String {
    // Every field is a string, number, list or string-keyed map: nothing
    // here can fail to serialize.
    let mut text = serde_json::to_string_pretty(report).expect("a report always serializes");
    text.push('\n');
    text
}
