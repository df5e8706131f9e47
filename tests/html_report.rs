//! The HTML report as people see it: `backstop report --html` over four
//! demo reports, opened in headless Chromium. The screenshot must not be
//! blank, the DOM must hold the counts and the charts, and the page must
//! show everything but the filter with its script blocked.
//!
//! Chromium is required: `scripts/test` installs it (Debian's `chromium`),
//! and these tests fail, not skip, when it is missing.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regex::Regex;

/// Four weekly audits of the demo account, the last one with three more
/// failures (recovery points grow old).
const DATES: [&str; 4] = [
    "2026-11-06T09:00:00Z",
    "2026-11-13T09:00:00Z",
    "2026-11-20T09:00:00Z",
    "2026-11-27T09:00:00Z",
];

fn backstop(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_backstop"))
        .args(args)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .expect("backstop runs")
}

/// The page of the last demo report with the three before it (given out of
/// order), in `dir`.
fn demo_page(dir: &Path) -> PathBuf {
    let mut reports = Vec::new();
    for date in DATES {
        let path = dir.join(format!("{}.json", &date[..10]));
        let out = backstop(&[
            "audit",
            "--demo",
            "--now",
            date,
            "--json",
            path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "the demo has gaps");
        reports.push(path.display().to_string());
    }
    let page = dir.join("report.html");
    let out = backstop(&[
        "report",
        "--html",
        page.to_str().unwrap(),
        &reports[3],
        &reports[1],
        &reports[0],
        &reports[2],
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    page
}

/// The text of the element that `open` starts, up to the next `close`.
fn element<'a>(html: &'a str, open: &str, close: &str) -> &'a str {
    let start = html
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in the page"));
    let end = start + html[start..].find(close).expect("the element closes");
    &html[start..end]
}

/// The data lines of one chart: plotters draws each series as a polyline
/// 2 pixels wide (axes and ticks are 1 pixel), with one point per report.
fn series_points(figure: &str) -> Vec<usize> {
    let polyline = Regex::new(r#"<polyline [^>]*stroke-width="2"[^>]*points="([^"]*)""#).unwrap();
    polyline
        .captures_iter(figure)
        .map(|c| c[1].split_whitespace().count())
        .collect()
}

fn declared_series(figure: &str) -> usize {
    let declared = Regex::new(r#"data-series="(\d+)""#).unwrap();
    declared.captures(figure).unwrap()[1].parse().unwrap()
}

#[test]
fn four_reports_give_four_points_per_trend_series() {
    let dir = tempfile::tempdir().unwrap();
    let html = std::fs::read_to_string(demo_page(dir.path())).unwrap();
    for id in ["trend-category", "trend-severity"] {
        let figure = element(&html, &format!("<figure id=\"{id}\""), "</figure>");
        assert!(figure.contains("<svg"), "{id} is an inline SVG");
        let points = series_points(figure);
        assert_eq!(points.len(), declared_series(figure), "{id}");
        assert!(points.iter().all(|&n| n == 4), "{id}: {points:?}");
    }
    // The demo's 11 categories, and all 5 severities.
    let severity = element(&html, "<figure id=\"trend-severity\"", "</figure>");
    assert_eq!(declared_series(severity), 5);
    // The numbers behind the lines: high rises from 5 to 8 in the last week.
    let trend = element(&html, "<section id=\"trend\">", "</section>");
    assert!(
        trend.contains(
            "<tr><th>high</th><td class=\"n\">5</td><td class=\"n\">5</td><td class=\"n\">5</td><td class=\"n\">8</td></tr>"
        ),
        "{trend}"
    );
    // Oldest first, whatever the order on the command line.
    assert!(
        trend.contains("4 reports, 2026-11-06 to 2026-11-27"),
        "{trend}"
    );
    // The change since the previous report (2026-11-20).
    let headline = element(&html, "<header id=\"headline\">", "</header>");
    assert!(
        headline.contains("Since 2026-11-20 (2026-11-20T09:00:00Z): +3 failing"),
        "{headline}"
    );
    assert!(headline.contains("3 newly failing"), "{headline}");
    // Nothing to fetch: no URL outside the page.
    for reference in ["src=", "href=", "url(", "@import"] {
        assert!(!html.contains(reference), "{reference} in the page");
    }
}

/// Chromium from Debian; a clear failure when it is missing.
fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        let found = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
            .map(|dir| dir.join(name))
            .find(|path| path.is_file());
        if let Some(path) = found {
            return path;
        }
    }
    panic!(
        "chromium is not installed: these tests need it to check the HTML report in a real \
         browser (scripts/test installs it: apt-get install -y chromium)"
    );
}

/// Runs headless Chromium on `page` and returns what it printed; `args` say
/// what to make (a screenshot or the DOM). As root it needs `--no-sandbox`.
fn browse(page: &Path, args: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium())
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    // Read while it runs: a DOM larger than the pipe would block it.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "chromium failed: {status:?}");
    reader.join().unwrap().expect("chromium's output is UTF-8")
}

/// A screenshot of the page's first 1280x2400 pixels: (pixels that are not
/// white, distinct colours).
fn screenshot(page: &Path, dir: &Path) -> (usize, usize) {
    let png = dir.join("shot.png");
    let _ = std::fs::remove_file(&png);
    browse(
        page,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,2400",
        ],
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("chromium wrote the screenshot"),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), (1280, 2400));
    let channels = frame.color_type.samples();
    let mut colours = std::collections::BTreeSet::new();
    let mut not_white = 0;
    for pixel in pixels[..frame.buffer_size()].chunks(channels) {
        let rgb = (pixel[0], pixel[1], pixel[2]);
        if rgb != (255, 255, 255) {
            not_white += 1;
        }
        colours.insert(rgb);
    }
    (not_white, colours.len())
}

/// What the page shows once the browser has built it: the counts, the
/// charts with one line per series, every result, and the checklist.
fn assert_shows_everything(dom: &str) {
    let headline = element(dom, "<header id=\"headline\">", "</header>");
    assert!(
        headline.contains("Gate failed: 8 results at high and above"),
        "{headline}"
    );
    for (status, n) in [("fail", 27), ("error", 0), ("waived", 0), ("pass", 18)] {
        let count = format!("<div class=\"count {status}\" data-status=\"{status}\"><b>{n}</b>");
        assert!(headline.contains(&count), "{count} in {headline}");
    }
    for id in ["trend-category", "trend-severity"] {
        let figure = element(dom, &format!("<figure id=\"{id}\""), "</figure>");
        assert!(figure.contains("<svg"), "{id}");
        let points = series_points(figure);
        assert_eq!(points.len(), declared_series(figure), "{id}");
        assert!(points.iter().all(|&n| n == 4), "{id}: {points:?}");
    }
    let checklist = element(dom, "<section id=\"checklist\">", "</section>");
    assert_eq!(checklist.matches("<li class=\"fail\">").count(), 27);
    assert!(
        checklist.contains("Fix:<pre><code>aws "),
        "remediation shown"
    );
    let results = element(dom, "<table id=\"results-table\">", "</table>");
    assert_eq!(results.matches("<tr class=").count(), 45, "every result");
}

#[test]
fn the_page_renders_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let page = demo_page(dir.path());
    let dom = browse(&page, &["--dump-dom"]);
    assert_shows_everything(&dom);
    // The script ran: the filter is shown and counts the rows.
    assert!(dom.contains("<div id=\"filters\">"), "filter shown");
    assert!(dom.contains("<span id=\"filter-shown\">45 of 45 shown</span>"));

    let (not_white, colours) = screenshot(&page, dir.path());
    let pixels = 1280 * 2400;
    assert!(
        not_white > pixels / 20,
        "the screenshot is nearly blank: {not_white} of {pixels} pixels are not white"
    );
    assert!(
        colours > 50,
        "only {colours} colours: no text or charts drawn"
    );
}

/// With its script blocked, the page shows the same content; only the
/// filter, which needs the script, stays hidden. (Chromium's
/// `--blink-settings=scriptEnabled=false` also stops headless Chromium from
/// dumping the DOM or taking a screenshot, so the page's own Content
/// Security Policy blocks its script instead.)
#[test]
fn without_its_script_the_page_shows_everything_but_the_filter() {
    let dir = tempfile::tempdir().unwrap();
    let page = demo_page(dir.path());
    let html = std::fs::read_to_string(&page).unwrap();
    let allowed = "script-src 'unsafe-inline'";
    assert!(html.contains(allowed));
    let blocked = dir.path().join("no-script.html");
    std::fs::write(&blocked, html.replace(allowed, "script-src 'none'")).unwrap();

    let dom = browse(&blocked, &["--dump-dom"]);
    assert_shows_everything(&dom);
    assert!(
        dom.contains("<div id=\"filters\" hidden=\"\">"),
        "filter hidden"
    );
    assert!(
        dom.contains("<span id=\"filter-shown\"></span>"),
        "script blocked"
    );

    let (not_white, colours) = screenshot(&blocked, dir.path());
    assert!(not_white > 1280 * 2400 / 20 && colours > 50);
}

/// `audit --html` writes the page of that audit alone: one point per
/// series, and nothing to compare with. A file that is not a report is
/// bad input (exit 2), as for `diff`.
#[test]
fn audit_writes_the_page_of_one_report_and_report_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("audit.html");
    let out = backstop(&["audit", "--demo", "--html", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "the demo has gaps");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("No previous report given"));
    let severity = element(&html, "<figure id=\"trend-severity\"", "</figure>");
    assert_eq!(series_points(severity), [1; 5]);

    let not_a_report = dir.path().join("inventory.json");
    std::fs::write(&not_a_report, "{\"schema\": \"backstop.inventory/v1\"}").unwrap();
    let out = backstop(&[
        "report",
        "--html",
        dir.path().join("x.html").to_str().unwrap(),
        not_a_report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a backstop JSON report"));
}
