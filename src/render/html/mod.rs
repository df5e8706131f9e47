//! The HTML report: one self-contained page for people who would rather
//! look than read, opened from CI artifacts and mail. The headline (gate
//! verdict, counts, change since the previous report), trend charts over
//! every report given, the checklist and the diff as the Markdown has them,
//! and a table of every result with a filter.
//!
//! Nothing is fetched: no scripts, fonts or images by URL, and a Content
//! Security Policy forbids the page to load any. Everything is in the HTML
//! as sent, so the page shows all of it with JavaScript disabled; the one
//! small script only hides table rows that do not match the filter, and
//! only through `textContent` and `hidden`.
//!
//! Every string from the account, the rule files or the waivers goes
//! through [`html_text`] / [`html_block`]; the charts' labels go through
//! `escape::one_line` and plotters, which escapes SVG text itself.

mod checklist;
mod trend;

use std::fmt::Write as _;

use super::escape::html_text;
use super::markdown::plural;
use crate::config::FailOn;
use crate::gate::{self, GateOptions};
use crate::report::{Diff, Finding, Report, Severity, Status};

/// The page for `current`, with `older` reports (in any order) for the
/// trend and the change since the most recent of them. The headline's
/// gate verdict is `gate` applied to `current` alone, without a baseline.
pub fn render(current: &Report, older: &[Report], gate: GateOptions) -> String {
    let mut history: Vec<&Report> = older.iter().collect();
    history.sort_by_key(|r| r.generated_at);
    let previous = history.last().copied();
    history.push(current);
    let diff = previous.map(|p| Diff::between(p, current));

    let mut out = String::new();
    page_head(&mut out, current);
    headline(&mut out, current, previous, diff.as_ref(), gate);
    out.push_str(&trend::section(&history));
    out.push_str(&checklist::section(current));
    out.push_str(&checklist::changes(diff.as_ref()));
    results_table(&mut out, current);
    out.push_str(PAGE_END);
    out
}

/// The date of a report as the page shows it.
fn day(report: &Report) -> String {
    report.generated_at.strftime("%Y-%m-%d").to_string()
}

const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 2rem; color: #1f2328; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; margin-top: 2rem; }
.context { color: #59636e; margin-top: 0; }
.verdict { font-size: 1.3rem; font-weight: bold; padding: .6rem 1rem; border-radius: 6px; }
.verdict.failed { background: #ffebe9; color: #82071e; border: 1px solid #ff8182; }
.verdict.passed { background: #dafbe1; color: #116329; border: 1px solid #4ac26b; }
.counts { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1rem 0; }
.count { border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem 1rem; min-width: 6rem; }
.count b { display: block; font-size: 1.8rem; }
.count.fail b { color: #cf222e; } .count.error b { color: #9a6700; }
.count.waived b { color: #59636e; } .count.pass b { color: #1a7f37; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.n { text-align: right; }
.trend { display: flex; flex-wrap: wrap; gap: 1rem; }
.trend figure { margin: 0; }
.trend figcaption { font-weight: bold; }
ul.checklist { list-style: none; padding-left: 0; }
ul.checklist > li { margin: .4rem 0; padding: .3rem .6rem; border-left: 4px solid #d0d7de; }
li.fail { border-left-color: #cf222e !important; } li.error { border-left-color: #bf8700 !important; }
li.waived { border-left-color: #8c959f !important; color: #59636e; } li.pass { border-left-color: #1a7f37 !important; }
pre { background: #f6f8fa; padding: .5rem; white-space: pre-wrap; overflow-wrap: anywhere; margin: .3rem 0; }
.status { font-weight: bold; text-transform: uppercase; font-size: .8rem; }
.meaning { color: #59636e; }
tr.fail td.status { color: #cf222e; } tr.error td.status { color: #9a6700; }
tr.waived td.status { color: #59636e; } tr.pass td.status { color: #1a7f37; }
#filters { margin: .5rem 0; display: flex; gap: 1rem; flex-wrap: wrap; }
";

/// Lets the page load nothing from anywhere: inline styles, the inline
/// script, and images only from the page itself.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

fn page_head(out: &mut String, report: &Report) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>backstop report {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        day(report)
    );
}

fn headline(
    out: &mut String,
    current: &Report,
    previous: Option<&Report>,
    diff: Option<&Diff>,
    gate: GateOptions,
) {
    out.push_str(
        "<header id=\"headline\">\n<h1>backstop: backup and disaster-recovery posture</h1>\n",
    );
    let _ = writeln!(
        out,
        "<p class=\"context\">Audited {}.</p>",
        super::audited(current, html_text)
    );

    let blocking = gate::blocking(current, gate, None);
    let threshold = match gate.fail_on {
        FailOn::Severity(s) => format!("{s} and above"),
        FailOn::Never => "never".to_string(),
    };
    let errors = if gate.allow_errors {
        "fails"
    } else {
        "fails and errors"
    };
    let (class, verdict) = if blocking.is_empty() {
        ("passed", "Gate passed")
    } else {
        ("failed", "Gate failed")
    };
    let _ = writeln!(
        out,
        "<p class=\"verdict {class}\" id=\"verdict\">{verdict}: {} at {threshold} ({errors} count).</p>",
        plural(blocking.len(), "result", "results"),
    );

    out.push_str("<div class=\"counts\" id=\"status-counts\">\n");
    let s = &current.summary;
    for (status, n) in [
        (Status::Fail, s.fail),
        (Status::Error, s.error),
        (Status::Waived, s.waived),
        (Status::Pass, s.pass),
    ] {
        let _ = writeln!(
            out,
            "<div class=\"count {status}\" data-status=\"{status}\"><b>{n}</b>{status}</div>"
        );
    }
    out.push_str("</div>\n");
    severity_table(out, current);
    accounts_table(out, current);
    change_since(out, current, previous, diff);
    out.push_str("</header>\n");
}

fn severity_table(out: &mut String, report: &Report) {
    out.push_str(
        "<table id=\"by-severity\">\n<tr><th>Severity</th><th>Fail</th><th>Error</th><th>Waived</th><th>Pass</th></tr>\n",
    );
    for severity in Severity::ALL {
        let _ = write!(out, "<tr data-severity=\"{severity}\"><th>{severity}</th>");
        for status in [Status::Fail, Status::Error, Status::Waived, Status::Pass] {
            let n = report
                .results
                .iter()
                .filter(|f| f.severity == severity && f.status == status)
                .count();
            let _ = write!(out, "<td class=\"n\">{n}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// Each account's counts, for a report of several, and why an account
/// could not be read.
fn accounts_table(out: &mut String, report: &Report) {
    let Some(accounts) = super::accounts::by_account(report) else {
        return;
    };
    out.push_str(
        "<table id=\"by-account\">\n<tr><th>Account</th><th>Fail</th><th>Error</th><th>Waived</th><th>Pass</th><th>Not read</th></tr>\n",
    );
    for account in accounts {
        let c = &account.counts;
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"not-read\">{}</td></tr>",
            html_text(&account.label),
            c.fail,
            c.error,
            c.waived,
            c.pass,
            html_text(account.error.unwrap_or_default()),
        );
    }
    out.push_str("</table>\n");
}

/// How many more or fewer results fail than in the previous report, and
/// the diff's count per section.
fn change_since(
    out: &mut String,
    current: &Report,
    previous: Option<&Report>,
    diff: Option<&Diff>,
) {
    let (Some(previous), Some(diff)) = (previous, diff) else {
        out.push_str("<p id=\"change\">No previous report given: nothing to compare with.</p>\n");
        return;
    };
    let failing = |r: &Report| r.summary.fail + r.summary.error;
    let delta = failing(current) as i64 - failing(previous) as i64;
    let _ = writeln!(
        out,
        "<p id=\"change\">Since {} ({}): {delta:+} failing (fail or error), {} now; {}.</p>",
        day(previous),
        previous.generated_at,
        failing(current),
        super::diff::counts(diff),
    );
}

/// Every result, what needs action first, with a filter the script shows.
fn results_table(out: &mut String, report: &Report) {
    let mut results: Vec<&Finding> = report.results.iter().collect();
    results.sort_by(|a, b| a.action_order(b));
    let _ = writeln!(
        out,
        "<section id=\"results\">\n<h2>All results ({})</h2>",
        results.len()
    );
    // Hidden until the script runs: without it, a filter that cannot
    // filter would only mislead.
    out.push_str(
        "<div id=\"filters\" hidden>\n\
         <label>Search <input type=\"search\" id=\"filter-text\" placeholder=\"rule, resource, account, region\"></label>\n\
         <label>Severity <select id=\"filter-severity\"><option value=\"\">any</option>",
    );
    for severity in Severity::ALL {
        let _ = write!(out, "<option>{severity}</option>");
    }
    out.push_str(
        "</select></label>\n<label>Status <select id=\"filter-status\"><option value=\"\">any</option>",
    );
    for status in [Status::Fail, Status::Error, Status::Waived, Status::Pass] {
        let _ = write!(out, "<option>{status}</option>");
    }
    out.push_str(
        "</select></label>\n<span id=\"filter-shown\"></span>\n</div>\n\
         <table id=\"results-table\">\n<thead><tr><th>Status</th><th>Severity</th><th>Rule</th>\
         <th>Resource</th><th>Account</th><th>Region</th></tr></thead>\n<tbody>\n",
    );
    for f in results {
        let _ = writeln!(
            out,
            "<tr class=\"{status}\"><td class=\"status\">{status}</td><td class=\"severity\">{}</td>\
             <td class=\"rule\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.severity,
            html_text(&f.rule),
            html_text(&super::resource_label(f)),
            html_text(&f.resource.account),
            html_text(&f.resource.region),
            status = f.status,
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// The filter: hides the rows that do not match. It reads cells through
/// `textContent` and writes only `hidden` and a count, so no text from the
/// report is ever parsed as HTML.
const PAGE_END: &str = r##"<script>
(function () {
  var filters = document.getElementById("filters");
  var text = document.getElementById("filter-text");
  var severity = document.getElementById("filter-severity");
  var status = document.getElementById("filter-status");
  var shown = document.getElementById("filter-shown");
  var rows = document.querySelectorAll("#results-table tbody tr");
  function apply() {
    var words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0;
    rows.forEach(function (row) {
      var cells = row.cells;
      var all = row.textContent.toLowerCase();
      var match = (!severity.value || cells[1].textContent === severity.value) &&
        (!status.value || cells[0].textContent === status.value) &&
        words.every(function (w) { return all.indexOf(w) !== -1; });
      row.hidden = !match;
      if (match) { count++; }
    });
    shown.textContent = count + " of " + rows.length + " shown";
  }
  [text, severity, status].forEach(function (input) { input.addEventListener("input", apply); });
  filters.hidden = false;
  apply();
})();
</script>
</body>
</html>
"##;
