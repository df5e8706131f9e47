//! Keeps the layout ARCHITECTURE.md describes true: the top-level modules
//! depend on each other without cycles, and the folder table's file counts
//! match the tree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module → the top-level modules its code names through `crate::`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut files_of: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str();
        let top = top.to_string_lossy().trim_end_matches(".rs").to_string();
        if top != "lib" && top != "main" {
            files_of.entry(top).or_default().push(file);
        }
    }
    let comment = Regex::new(r"//[^\n]*").unwrap();
    let path = Regex::new(r"\bcrate::(\w+)").unwrap();
    let group = Regex::new(r"\bcrate::\{([^}]*)\}").unwrap();
    let word = Regex::new(r"\w+").unwrap();
    let mut graph = BTreeMap::new();
    for (module, files) in &files_of {
        let mut uses = BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(file).unwrap();
            let code = comment.replace_all(&text, "");
            let named = path.captures_iter(&code).map(|c| c[1].to_string()).chain(
                group.captures_iter(&code).flat_map(|c| {
                    word.find_iter(&c[1])
                        .map(|w| w.as_str().to_string())
                        .collect::<Vec<_>>()
                }),
            );
            uses.extend(named.filter(|n| n != module && files_of.contains_key(n)));
        }
        graph.insert(module.clone(), uses);
    }
    graph
}

/// A cycle through `from`, if there is one: the path back to it.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![(from.to_string(), vec![from.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((module, path)) = stack.pop() {
        for next in &graph[&module] {
            if next == from {
                let mut cycle = path.clone();
                cycle.push(from.to_string());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn top_level_modules_depend_on_each_other_without_cycles() {
    let graph = module_graph();
    assert!(graph.contains_key("report") && graph.contains_key("rules"));
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_through(&graph, m))
        .map(|c| c.join(" -> "))
        .collect();
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
    // The report is data: it knows nothing of how it is rendered or gated.
    for outsider in ["render", "gate", "cli", "audit", "rules", "config"] {
        assert!(
            !graph["report"].contains(outsider),
            "report uses {outsider}"
        );
    }
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(m, uses)| {
        (
            m.to_string(),
            uses.into_iter().map(str::to_string).collect(),
        )
    })
    .collect();
    assert_eq!(cycle_through(&graph, "a").unwrap(), ["a", "b", "c", "a"]);
    assert_eq!(cycle_through(&graph, "d"), None);
}

#[test]
fn the_folder_table_counts_the_files_there_are() {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let row = Regex::new(r"(?m)^\| `(src/\w+/)` \| (\d+) \|").unwrap();
    let mut checked = 0;
    for caps in row.captures_iter(&text) {
        let mut files = Vec::new();
        rust_files(&root().join(&caps[1]), &mut files);
        assert_eq!(
            files.len().to_string(),
            &caps[2],
            "ARCHITECTURE.md says {} holds {} files",
            &caps[1],
            &caps[2]
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} folder rows found");

    let tests_row = Regex::new(r"(?m)^\| `tests/` \| (\d+) \+ (\d+) \|").unwrap();
    let caps = tests_row.captures(&text).expect("a `tests/` row");
    let count = |dir: &str| {
        std::fs::read_dir(root().join(dir))
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
            .count()
            .to_string()
    };
    assert_eq!(
        (count("tests"), count("tests/support")),
        (caps[1].to_string(), caps[2].to_string()),
        "ARCHITECTURE.md's `tests/` row"
    );
}
