//! Property tests of the three loaders of untrusted input: rule files,
//! backstop.yaml and inventories. Inputs are random bytes, or real files
//! (the built-in rules, src/starter.yaml, the demo inventory) mutated:
//! bytes inserted, replaced and deleted, YAML/JSON tokens inserted, lines
//! duplicated (duplicate keys) and swapped, values nested deep, pieces of
//! other files spliced in, the whole truncated.
//!
//! Whatever the input, a loader never panics and never hangs (each case
//! runs on its own thread under a time limit), and either loads or fails
//! with a position: `file:line:col` diagnostics for YAML (line and column
//! within the file), `line N column M` for JSON syntax. What loads is then
//! compiled and audited against the demo account, which must not panic
//! either. A few cases go through the binary: exit 2 with a position.
//!
//! Cases per property: `PROPTEST_CASES` (default [`DEFAULT_CASES`], kept
//! small for the suite). `scripts/fuzz` runs them much longer.

#[path = "support/bounded.rs"]
mod bounded;

use std::path::{Path, PathBuf};

use std::sync::mpsc;
use std::time::{Duration, Instant};

use backstop::config::Config;
use backstop::lang::Diagnostics;
use backstop::model::{Inventory, InventoryError};
use backstop::rules::{RuleSet, Settings};
use jiff::Timestamp;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError};

/// Cases per property in the normal suite.
const DEFAULT_CASES: u32 = 48;
/// Cases per property that run the binary (a process each).
const DEFAULT_CLI_CASES: u32 = 8;
/// Longest one case may take before it counts as a hang. Real cases take
/// milliseconds; this leaves room for a loaded debug build.
const CASE_TIME_LIMIT: Duration = Duration::from_secs(20);

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default),
        // Failing inputs are printed (shrunk); nothing is written to disk.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs `f` on its own thread: a panic or a run past the time limit fails
/// the case (a hung thread is left behind; the test fails all the same).
fn guarded<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, TestCaseError> {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::Builder::new()
        .name(what.to_string())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .unwrap();
    match rx.recv_timeout(CASE_TIME_LIMIT) {
        Ok(value) => Ok(value),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(TestCaseError::fail(format!(
            "{what}: no answer after {:?} (a hang)",
            started.elapsed()
        ))),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(TestCaseError::fail(format!("{what}: panicked")))
        }
    }
}

// ---------------------------------------------------------------------------
// Inputs

/// The built-in rule files: (path relative to the repository, text).
fn rule_seeds() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![repo("rules")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let name = path
                    .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                    .unwrap()
                    .display()
                    .to_string();
                out.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    assert!(out.len() >= 20, "the built-in rules are the seeds");
    out
}

/// src/starter.yaml as written, and with its commented-out examples
/// (scope, export locations, waivers, ...) switched on.
fn config_seeds() -> Vec<String> {
    let starter = std::fs::read_to_string(repo("src/starter.yaml")).unwrap();
    let everything: String = starter
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest)
                if !rest.starts_with("rules:")
                    && (rest.starts_with(' ')
                        || rest.split(':').next().is_some_and(|k| {
                            !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        })) =>
            {
                rest
            }
            _ => line,
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let config = Config::parse("everything.yaml", &everything, Path::new("."))
        .unwrap_or_else(|d| panic!("the switched-on starter must load:\n{d}\n{everything}"));
    assert!(!config.waivers.is_empty() && !config.export_locations.is_empty());
    vec![starter, everything]
}

fn inventory_seed() -> String {
    std::fs::read_to_string(repo("demo/sales-scorecard.json")).unwrap()
}

/// Tokens that mean something to YAML or JSON, or to backstop.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ": ",
    "- ",
    "-",
    "? ",
    "#",
    "&a ",
    "*a",
    "<<: *a",
    "!!str ",
    "!!binary ",
    "!tag ",
    "|",
    "|-",
    ">",
    "'",
    "\"",
    "\\",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "\u{feff}",
    "\0",
    "\u{85}",
    "\u{2028}",
    "\u{1b}[31m",
    "$",
    "$min_days",
    "$self.",
    "$self.max_age",
    "tags.",
    "not:",
    "any:",
    "all:",
    "eq:",
    "null",
    "~",
    "true",
    "yes",
    "NaN",
    ".inf",
    "-.inf",
    "1e400",
    "-0",
    "0x1F",
    "0o17",
    "9223372036854775808",
    "-9223372036854775809",
    "2026-13-45T99:00:00Z",
    "26h",
    "0s",
    "-1h",
    "999999999999h",
    "*",
    "**/[",
    "(?",
    "\\u0000",
    "\\ud800",
    "\"\\ud800\"",
    "\"resources\"",
    "\"attributes\"",
    "\"errors\"",
    "\"tags\"",
    "\"type\"",
    "\"aws.rds.db_instance\"",
    "\"aws.s3.bucket\"",
    "\"collected_at\"",
    "\"schema\"",
];

#[derive(Debug, Clone)]
enum Mutation {
    InsertToken(Index, Index),
    InsertBytes(Index, Vec<u8>),
    ReplaceByte(Index, u8),
    Delete(Index, usize),
    Truncate(Index),
    /// A line repeated right after itself: duplicate keys, or list items.
    DuplicateLine(Index),
    SwapLines(Index, Index),
    /// `depth` levels of `[`/`{` (flow) or `- ` (block) at a place.
    Nest(Index, usize, u8),
    /// A piece of another seed spliced in.
    Splice(Index, Index, Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), any::<Index>()).prop_map(|(a, t)| Mutation::InsertToken(a, t)),
        2 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(a, b)| Mutation::InsertBytes(a, b)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(a, b)| Mutation::ReplaceByte(a, b)),
        2 => (any::<Index>(), 1..64usize).prop_map(|(a, n)| Mutation::Delete(a, n)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => (any::<Index>(), prop_oneof![1..8usize, 60..70usize, 250..300usize, 2000..5000usize], 0..4u8)
            .prop_map(|(a, d, s)| Mutation::Nest(a, d, s)),
        1 => (any::<Index>(), any::<Index>(), any::<Index>(), 1..200usize)
            .prop_map(|(a, s, f, n)| Mutation::Splice(a, s, f, n)),
    ]
}

/// Line start offsets of `bytes`.
fn lines(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push((start, bytes.len()));
    }
    out
}

fn apply(seed: &[u8], mutations: &[Mutation], others: &[&[u8]]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for m in mutations {
        let at = |i: &Index, b: &Vec<u8>| i.index(b.len() + 1);
        match m {
            Mutation::InsertToken(a, t) => {
                let p = at(a, &b);
                let token = TOKENS[t.index(TOKENS.len())].as_bytes();
                b.splice(p..p, token.iter().copied());
            }
            Mutation::InsertBytes(a, bytes) => {
                let p = at(a, &b);
                b.splice(p..p, bytes.iter().copied());
            }
            Mutation::ReplaceByte(a, byte) => {
                if !b.is_empty() {
                    let p = a.index(b.len());
                    b[p] = *byte;
                }
            }
            Mutation::Delete(a, n) => {
                let p = at(a, &b);
                let end = (p + n).min(b.len());
                b.drain(p..end);
            }
            Mutation::Truncate(a) => {
                let p = at(a, &b);
                b.truncate(p);
            }
            Mutation::DuplicateLine(a) => {
                let ls = lines(&b);
                if !ls.is_empty() {
                    let (s, e) = ls[a.index(ls.len())];
                    let line = b[s..e].to_vec();
                    b.splice(e..e, line);
                }
            }
            Mutation::SwapLines(x, y) => {
                let ls = lines(&b);
                if ls.len() >= 2 {
                    let (i, j) = (x.index(ls.len()), y.index(ls.len()));
                    let (i, j) = (i.min(j), i.max(j));
                    if i != j {
                        let (a, c) = (ls[i], ls[j]);
                        let mut out = b[..a.0].to_vec();
                        out.extend_from_slice(&b[c.0..c.1]);
                        out.extend_from_slice(&b[a.1..c.0]);
                        out.extend_from_slice(&b[a.0..a.1]);
                        out.extend_from_slice(&b[c.1..]);
                        b = out;
                    }
                }
            }
            Mutation::Nest(a, depth, style) => {
                let p = at(a, &b);
                let nested = match style {
                    0 => format!("{}x{}", "[".repeat(*depth), "]".repeat(*depth)),
                    1 => format!("{}x{}", "{a: ".repeat(*depth), "}".repeat(*depth)),
                    2 => format!("\n{}x\n", "- ".repeat(*depth)),
                    _ => format!("{}{}", "[".repeat(*depth), "{\"a\": 1}"),
                };
                b.splice(p..p, nested.into_bytes());
            }
            Mutation::Splice(a, s, f, n) => {
                if !others.is_empty() {
                    let from = others[f.index(others.len())];
                    let start = s.index(from.len() + 1);
                    let end = (start + n).min(from.len());
                    let p = at(a, &b);
                    b.splice(p..p, from[start..end].iter().copied());
                }
            }
        }
    }
    b
}

/// A seed index, mutations, or nothing but random bytes.
fn input() -> impl Strategy<Value = (Option<Index>, Vec<Mutation>, Vec<u8>)> {
    prop_oneof![
        6 => (any::<Index>(), prop::collection::vec(mutation(), 1..6))
            .prop_map(|(s, m)| (Some(s), m, Vec::new())),
        1 => prop::collection::vec(any::<u8>(), 0..400).prop_map(|b| (None, Vec::new(), b)),
    ]
}

/// The last line a position may point at: YAML's line breaks are `\n`,
/// `\r\n` and a lone `\r`, and a diagnostic at the end of the file names
/// the line after the last break.
fn max_line(text: &str) -> usize {
    text.replace("\r\n", "\n").matches(['\n', '\r']).count() + 1
}

fn check_positions(
    file: &str,
    text: &str,
    d: &Diagnostics,
    allow_unpositioned: &[&str],
) -> Result<(), TestCaseError> {
    prop_assert!(!d.0.is_empty(), "an error without diagnostics");
    for diag in &d.0 {
        prop_assert!(!diag.message.is_empty(), "{diag}");
        if allow_unpositioned.contains(&diag.code.as_str()) && diag.line == 0 {
            continue;
        }
        prop_assert_eq!(&diag.file, file, "{}", diag);
        prop_assert!(
            diag.line >= 1 && diag.line <= max_line(text) && diag.col >= 1,
            "position outside the file ({} lines): {}\n{:?}",
            max_line(text),
            diag,
            text.chars().take(2000).collect::<String>()
        );
    }
    Ok(())
}

fn demo_inventory() -> Inventory {
    backstop::demo::inventory().unwrap()
}

fn now() -> Timestamp {
    "2026-11-27T09:00:00Z".parse().unwrap()
}

// ---------------------------------------------------------------------------
// Rule files

/// Loads one (mutated) rule file under its seed's name and, when it
/// loads, compiles and audits the demo account with it.
fn rule_case(file: String, text: String) -> Result<(), TestCaseError> {
    let outcome = guarded("rule file", {
        let (file, text) = (file.clone(), text.clone());
        move || {
            let mut set = RuleSet::default();
            set.add_source(&file, &text)?;
            let engine = set.compile(&Settings::default())?;
            let report = engine.audit(&demo_inventory(), now());
            Ok::<usize, Diagnostics>(report.results.len())
        }
    })?;
    if let Err(d) = outcome {
        check_positions(&file, &text, &d, &[])?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(DEFAULT_CASES))]

    #[test]
    fn rule_files_load_or_fail_with_a_position((seed, mutations, random) in input()) {
        let seeds = rule_seeds();
        let (file, bytes) = match seed {
            Some(s) => {
                let (name, text) = &seeds[s.index(seeds.len())];
                let others: Vec<&[u8]> = seeds.iter().map(|(_, t)| t.as_bytes()).collect();
                (name.clone(), apply(text.as_bytes(), &mutations, &others))
            }
            None => ("rules/random.yaml".to_string(), random),
        };
        // Text: what add_source takes. Bytes that are not UTF-8 are the
        // file reader's business (below, and in the CLI cases).
        rule_case(file, String::from_utf8_lossy(&bytes).into_owned())?;
    }

    #[test]
    fn rule_folders_load_or_fail_with_a_position((seed, mutations, random) in input()) {
        let seeds = rule_seeds();
        let (name, bytes) = match seed {
            Some(s) => {
                let (name, text) = &seeds[s.index(seeds.len())];
                (name.clone(), apply(text.as_bytes(), &mutations, &[]))
            }
            None => ("rules/random.yaml".to_string(), random),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(Path::new(&name).file_name().unwrap());
        std::fs::write(&path, &bytes).unwrap();
        let shown = path.display().to_string();
        let outcome = guarded("rule folder", {
            let dir = dir.path().to_path_buf();
            move || RuleSet::default().add_dir(&dir).map(|_| ())
        })?;
        if let Err(d) = outcome {
            let text = String::from_utf8_lossy(&bytes);
            check_positions(&shown, &text, &d, &[])?;
        }
    }
}

// ---------------------------------------------------------------------------
// backstop.yaml

proptest! {
    #![proptest_config(config(DEFAULT_CASES))]

    #[test]
    fn configs_load_or_fail_with_a_position((seed, mutations, random) in input()) {
        let seeds = config_seeds();
        let bytes = match seed {
            Some(s) => {
                let others: Vec<&[u8]> = seeds.iter().map(|t| t.as_bytes()).collect();
                apply(seeds[s.index(seeds.len())].as_bytes(), &mutations, &others)
            }
            None => random,
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        const FILE: &str = "backstop.yaml";
        let outcome = guarded("config", {
            let text = text.clone();
            move || {
                let config = Config::parse(FILE, &text, Path::new("/nonexistent"))?;
                // Rule folders named in the file do not exist: an `io`
                // diagnostic each, without a position.
                let (_, engine) = backstop::audit::load_rules(&config, &[])?;
                let report = backstop::audit::run(&engine, demo_inventory(), &config, now());
                Ok::<usize, Diagnostics>(report.results.len())
            }
        })?;
        if let Err(d) = outcome {
            let d = Diagnostics(d.0.into_iter().filter(|d| d.code != "io").collect());
            if !d.0.is_empty() {
                check_positions(FILE, &text, &d, &[])?;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Inventories

proptest! {
    #![proptest_config(config(DEFAULT_CASES))]

    #[test]
    fn inventories_load_or_fail_with_a_position((seed, mutations, random) in input()) {
        let seed_text = inventory_seed();
        let bytes = match seed {
            Some(_) => apply(seed_text.as_bytes(), &mutations, &[]),
            None => random,
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let outcome = guarded("inventory", {
            let text = text.clone();
            move || {
                let inventory = Inventory::from_json(&text, "inv.json")?;
                let engine = RuleSet::builtin()
                    .unwrap()
                    .compile(&Settings::default())
                    .unwrap();
                let report = engine.audit(&inventory, now());
                Ok::<usize, InventoryError>(report.results.len())
            }
        })?;
        if let Err(e) = outcome {
            let message = e.to_string();
            prop_assert!(message.starts_with("inv.json"), "{}", message);
            if let InventoryError::Json { source, .. } = &e {
                // serde_json's own errors carry line and column; an I/O
                // error cannot happen on a string.
                prop_assert!(source.line() >= 1, "{}", message);
                prop_assert!(source.line() <= max_line(&text), "{}", message);
                prop_assert!(message.contains(" at line "), "{}", message);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Through the binary: raw bytes, exit 0 or 2, never a hang.

fn backstop(dir: &Path, args: &[&str]) -> Result<(i32, String), TestCaseError> {
    let out = bounded::run(dir, args, CASE_TIME_LIMIT)
        .ok_or_else(|| TestCaseError::fail(format!("`backstop {}` hung", args.join(" "))))?;
    let code = out.status.code().unwrap_or(-1);
    Ok((code, String::from_utf8_lossy(&out.stderr).into_owned()))
}

/// `file:line:col: error[` with line and col of at least 1.
fn has_position(stderr: &str, file: &str) -> bool {
    stderr.lines().any(|l| {
        l.strip_prefix("error: ")
            .unwrap_or(l)
            .strip_prefix(file)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|rest| {
                let mut parts = rest.splitn(3, ':');
                let n = |p: Option<&str>| p.and_then(|p| p.parse::<usize>().ok()).unwrap_or(0);
                n(parts.next()) >= 1 && n(parts.next()) >= 1
            })
    })
}

proptest! {
    #![proptest_config(config(DEFAULT_CLI_CASES))]

    #[test]
    fn rules_check_exits_0_or_2_with_a_position((seed, mutations, random) in input()) {
        let seeds = rule_seeds();
        let (name, bytes) = match seed {
            Some(s) => {
                let (name, text) = &seeds[s.index(seeds.len())];
                (name.clone(), apply(text.as_bytes(), &mutations, &[]))
            }
            None => ("rules/random.yaml".to_string(), random),
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("extra")).unwrap();
        let file = format!("extra/{}", Path::new(&name).file_name().unwrap().to_str().unwrap());
        std::fs::write(dir.path().join(&file), &bytes).unwrap();
        let (code, stderr) = backstop(dir.path(), &["rules", "check", "extra"])?;
        prop_assert!(code == 0 || code == 2, "exit {}: {}", code, stderr);
        if code == 2 {
            prop_assert!(has_position(&stderr, &file), "no {}:line:col in:\n{}", file, stderr);
        }
    }

    #[test]
    fn a_config_file_exits_0_or_2_with_a_position((seed, mutations, random) in input()) {
        let seeds = config_seeds();
        let bytes = match seed {
            Some(s) => apply(seeds[s.index(seeds.len())].as_bytes(), &mutations, &[]),
            None => random,
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("backstop.yaml"), &bytes).unwrap();
        let (code, stderr) = backstop(dir.path(), &["rules", "list"])?;
        prop_assert!(code == 0 || code == 2, "exit {}: {}", code, stderr);
        if code == 2 && !stderr.contains("error[io]: cannot read rule folder") {
            prop_assert!(
                has_position(&stderr, "backstop.yaml"),
                "no backstop.yaml:line:col in:\n{}",
                stderr
            );
        }
    }

    #[test]
    fn an_inventory_file_exits_0_1_or_2((seed, mutations, random) in input()) {
        let bytes = match seed {
            Some(_) => apply(inventory_seed().as_bytes(), &mutations, &[]),
            None => random,
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("inv.json"), &bytes).unwrap();
        let (code, stderr) = backstop(dir.path(), &["audit", "--inventory", "inv.json"])?;
        prop_assert!((0..=2).contains(&code), "exit {}: {}", code, stderr);
        if code == 2 {
            prop_assert!(stderr.contains("inv.json"), "{}", stderr);
        }
    }
}
