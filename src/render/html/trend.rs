//! Trend charts over the given reports, oldest first: failing results
//! (fail or error) per gap category and per severity, as inline SVG drawn
//! by plotters.
//!
//! Plotters is built without a font feature: its layout then estimates text
//! sizes instead of reading font files, and the SVG backend writes labels
//! as `<text>`, which the browser draws with its own fonts. It escapes that
//! text as XML; labels are put on one line first ([`one_line`]), as in
//! every other report.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::day;
use crate::render::escape::{html_text, one_line};
use crate::report::{Report, Severity, category_rank};

const SIZE: (u32, u32) = (590, 340);

/// Room right of the plot for the legend, so that it hides no line.
const LEGEND_WIDTH: u32 = 160;

/// One line of a chart: its label, colour, and one count per report.
struct Series {
    label: String,
    color: RGBColor,
    counts: Vec<usize>,
}

/// Categories cycle through these; severities have their own.
const PALETTE: [RGBColor; 12] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 127),
    RGBColor(0, 0, 128),
    RGBColor(128, 128, 0),
];

fn severity_color(severity: Severity) -> RGBColor {
    match severity {
        Severity::Critical => RGBColor(130, 7, 30),
        Severity::High => RGBColor(207, 34, 46),
        Severity::Medium => RGBColor(251, 133, 0),
        Severity::Low => RGBColor(191, 170, 0),
        Severity::Info => RGBColor(9, 105, 218),
    }
}

/// The trend section: both charts, then their numbers as tables.
pub(super) fn section(history: &[&Report]) -> String {
    let dates: Vec<String> = history.iter().map(|r| day(r)).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<section id=\"trend\">\n<h2>Trend</h2>\n<p>Failing results (fail or error) in {}, {} to {}.</p>\n<div class=\"trend\">",
        crate::render::markdown::plural(history.len(), "report", "reports"),
        dates.first().map_or("", String::as_str),
        dates.last().map_or("", String::as_str),
    );
    let charts = [
        (
            "trend-category",
            "Failing results per category",
            by_category(history),
        ),
        (
            "trend-severity",
            "Failing results per severity",
            by_severity(history),
        ),
    ];
    for (id, caption, series) in &charts {
        let _ = writeln!(
            out,
            "<figure id=\"{id}\" data-series=\"{}\">\n<figcaption>{caption}</figcaption>\n{}</figure>",
            series.len(),
            chart(&dates, series)
        );
    }
    out.push_str("</div>\n");
    for (_, caption, series) in &charts {
        numbers(&mut out, caption, &dates, series);
    }
    out.push_str("</section>\n");
    out
}

/// One series per category that any report has results in, in report
/// order; a category with no failing result still gets its flat line.
fn by_category(history: &[&Report]) -> Vec<Series> {
    let categories: BTreeSet<&str> = history
        .iter()
        .flat_map(|r| r.summary.by_category.keys())
        .map(String::as_str)
        .collect();
    let mut categories: Vec<&str> = categories.into_iter().collect();
    categories.sort_by_key(|c| (category_rank(c), *c));
    categories
        .iter()
        .enumerate()
        .map(|(i, category)| Series {
            label: one_line(category).into_owned(),
            color: PALETTE[i % PALETTE.len()],
            counts: history
                .iter()
                .map(|r| {
                    r.summary
                        .by_category
                        .get(*category)
                        .map_or(0, |c| c.fail + c.error)
                })
                .collect(),
        })
        .collect()
}

/// One series per severity, every severity, so that the chart's lines are
/// the same each week.
fn by_severity(history: &[&Report]) -> Vec<Series> {
    Severity::ALL
        .iter()
        .map(|&severity| Series {
            label: severity.to_string(),
            color: severity_color(severity),
            counts: history
                .iter()
                .map(|r| {
                    r.results
                        .iter()
                        .filter(|f| f.severity == severity && f.status.is_failing())
                        .count()
                })
                .collect(),
        })
        .collect()
}

/// The chart as an SVG element: the x axis is the reports in order,
/// labelled with their dates; each series one line with a dot per report.
fn chart(dates: &[String], series: &[Series]) -> String {
    let mut svg = String::new();
    draw(&mut svg, dates, series).expect("plotters draws into a string without font files");
    svg
}

fn draw(
    svg: &mut String,
    dates: &[String],
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot, legend) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
    let highest = series
        .iter()
        .flat_map(|s| s.counts.iter().copied())
        .max()
        .unwrap_or(0);
    let top = (highest as f64 * 1.1).ceil() as i32 + 1;
    let last = dates.len().saturating_sub(1).max(1) as i32;
    let mut chart = ChartBuilder::on(&plot)
        .margin(10)
        // The last date's label is centred on the right edge.
        .margin_right(40)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(0..last, 0..top)?;
    let label_of = |i: &i32| dates.get(*i as usize).cloned().unwrap_or_default();
    chart
        .configure_mesh()
        .x_labels(dates.len().max(2))
        .x_label_formatter(&label_of)
        .y_labels(6)
        .label_style(("sans-serif", 14))
        .disable_x_mesh()
        .light_line_style(WHITE)
        .draw()?;
    let label_style = ("sans-serif", 14).into_font();
    for (i, s) in series.iter().enumerate() {
        chart.draw_series(
            LineSeries::new(
                s.counts
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| (i as i32, n as i32)),
                s.color.stroke_width(2),
            )
            .point_size(3),
        )?;
        // The legend beside the plot, where it hides no line; a square,
        // not a line, so that the chart's only polylines are its series.
        let y = 16 + 20 * i as i32;
        legend.draw(&Rectangle::new([(0, y - 5), (10, y + 5)], s.color.filled()))?;
        legend.draw_text(
            &s.label,
            &label_style
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
            (16, y),
        )?;
    }
    root.present()?;
    Ok(())
}

/// A chart's numbers as a table, for screen readers and for copying.
fn numbers(out: &mut String, caption: &str, dates: &[String], series: &[Series]) {
    let _ = write!(
        out,
        "<details><summary>{caption}, in numbers</summary>\n<table>\n<tr><th></th>"
    );
    for date in dates {
        let _ = write!(out, "<th>{date}</th>");
    }
    out.push_str("</tr>\n");
    for s in series {
        let _ = write!(out, "<tr><th>{}</th>", html_text(&s.label));
        for n in &s.counts {
            let _ = write!(out, "<td class=\"n\">{n}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n</details>\n");
}
