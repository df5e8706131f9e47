//! The JSON report: the [`Report`] struct's serde form is the pinned
//! `backstop.report/v1` schema, so the weekly diff can read last week's file
//! back with [`Report::from_json`].

use std::io;

use crate::report::Report;

pub fn render(report: &Report) -> String {
    let mut text = Vec::new();
    write(report, &mut text).expect("writing to memory cannot fail");
    String::from_utf8(text).expect("serde_json writes UTF-8")
}

/// The report as [`render`] gives it, written as it is serialized: a
/// 100,000-resource audit's report is hundreds of megabytes of text that
/// need never be in memory at once.
pub fn write(report: &Report, out: &mut impl io::Write) -> io::Result<()> {
    // Every field is a string, number, list or string-keyed map: the only
    // possible failure is the writer's.
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
