//! What the binary says about itself: shell completion scripts, the man
//! page, and the end of `backstop audit --help`. Scripts and pages are
//! checked by the real shells and formatter where the machine has them.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use backstop::cli::Cli;
use clap::Parser;

fn backstop(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_backstop"))
        .args(args)
        .output()
        .expect("backstop runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "backstop {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(args: &[&str]) -> String {
    String::from_utf8(backstop(args).stdout).expect("UTF-8")
}

/// True when `program` runs on this machine.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Runs `program args` with `input` on stdin; its output, or `None` when
/// the program is not installed.
fn feed(program: &str, args: &[&str], input: &str) -> Option<Output> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    Some(child.wait_with_output().unwrap())
}

/// Checks `script`'s syntax with `shell check_flags FILE` when the shell is
/// installed; says so on stderr when it is not.
fn syntax_ok(shell: &str, check_flags: &[&str], script: &str, dir: &Path) {
    if !installed(shell) {
        eprintln!("note: {shell} is not installed; its completion script's syntax is not checked");
        return;
    }
    let file = dir.join(format!("backstop.{shell}"));
    std::fs::write(&file, script).unwrap();
    let out = Command::new(shell)
        .args(check_flags)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{shell} {check_flags:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_shell_completes_the_audit_and_its_flags() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = stdout(&["completions", shell]);
        assert!(script.contains("audit"), "{shell}:\n{script}");
        assert!(script.contains("fail-on"), "{shell}:\n{script}");
        assert!(script.contains("csv"), "{shell}:\n{script}");
        match shell {
            "bash" => {
                // bash is always there: its check is never skipped.
                assert!(installed("bash"), "bash is required by the test suite");
                syntax_ok("bash", &["-n"], &script, dir.path());
            }
            "zsh" => syntax_ok("zsh", &["-n"], &script, dir.path()),
            "fish" => syntax_ok("fish", &["--no-execute"], &script, dir.path()),
            _ => {}
        }
    }
}

#[test]
fn bash_completes_the_subcommands_and_the_audit_flags() {
    let script = stdout(&["completions", "bash"]);
    // Source the script, then ask its function what follows a partial word,
    // as bash does on TAB.
    let ask = |words: &str| {
        let line = format!(
            "{script}\nCOMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; \
             _backstop backstop \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = feed("bash", &["-s"], &line).expect("bash is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let subcommands = ask("backstop au");
    assert_eq!(subcommands.trim(), "audit", "{subcommands}");
    let flags = ask("backstop audit --fa");
    assert_eq!(flags.trim(), "--fail-on", "{flags}");
    let flags = ask("backstop audit --cs");
    assert_eq!(flags.trim(), "--csv", "{flags}");
}

#[test]
fn the_man_page_covers_every_command() {
    let page = stdout(&["man"]);
    // One page per command, in one stream.
    for name in [
        "backstop",
        "backstop-audit",
        "backstop-diff",
        "backstop-rules-check",
        "backstop-man",
    ] {
        assert!(page.contains(&format!("\n.TH {name} 1 ")), "{name}");
    }
    // The audit's flags (roff writes `-` as `\-`) and its examples.
    for flag in ["fail\\-on", "baseline", "csv", "sarif", "allow\\-errors"] {
        assert!(
            page.contains(&format!("\\-\\-{flag}")),
            "--{flag} not in the page"
        );
    }
    assert!(page.contains("Exit statuses:"), "{page}");
}

#[test]
fn the_man_page_renders() {
    let page = stdout(&["man"]);
    // scripts/test installs groff (Debian's groff-base) when it is missing.
    assert!(
        installed("groff"),
        "groff is missing: run scripts/test, which installs it (apt-get install groff-base)"
    );
    // -ww: every warning; groff exits non-zero on none of them, so they are
    // read from stderr.
    let out = feed("groff", &["-man", "-Tutf8", "-ww"], &page).unwrap();
    assert!(out.status.success());
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(warnings.trim().is_empty(), "groff warns:\n{warnings}");
    let rendered = String::from_utf8_lossy(&out.stdout).into_owned();
    // Overstrike bold (`c\bc`) would hide the words: drop it.
    let text = strip_overstrike(&rendered);
    for heading in ["NAME", "SYNOPSIS", "OPTIONS", "EXTRA", "backstop-audit(1)"] {
        assert!(text.contains(heading), "{heading} not in:\n{text}");
    }
    assert!(text.contains("--fail-on <LEVEL>"), "{text}");
}

fn strip_overstrike(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    // ANSI SGR, when the formatter prefers it to overstrike.
    regex::Regex::new("\u{1b}\\[[0-9;]*m")
        .unwrap()
        .replace_all(&out, "")
        .into_owned()
}

#[test]
fn man_out_writes_one_file_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = backstop(&["man", "--out", dir.path().to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("man pages"));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.contains(&"backstop.1".to_string()), "{names:?}");
    assert!(names.contains(&"backstop-audit.1".to_string()), "{names:?}");
    assert!(
        names.contains(&"backstop-rules-list.1".to_string()),
        "{names:?}"
    );
    // The same pages as on stdout, one file each.
    let joined: String = stdout(&["man"]);
    let audit = std::fs::read_to_string(dir.path().join("backstop-audit.1")).unwrap();
    assert!(audit.contains("\n.TH backstop-audit 1 "), "{audit}");
    assert!(joined.contains(&audit));
    assert_eq!(names.len(), joined.matches("\n.TH ").count(), "{names:?}");
}

/// The help's examples run as written, and its exit statuses say what the
/// README's "Exit statuses" table says.
#[test]
fn audit_help_ends_with_examples_and_the_exit_statuses() {
    let help = stdout(&["audit", "--help"]);
    let tail = &help[help.find("Examples:").expect("examples")..];
    let exits = tail.find("Exit statuses:").expect("exit statuses");
    let examples: Vec<&str> = tail[..exits]
        .lines()
        .filter_map(|l| l.trim().strip_prefix("backstop "))
        .collect();
    assert!((2..=3).contains(&examples.len()), "{tail}");
    for example in examples {
        let args = std::iter::once("backstop").chain(example.split_whitespace());
        if let Err(e) = Cli::try_parse_from(args) {
            panic!("`backstop {example}` does not parse: {e}");
        }
    }
    let statuses: Vec<(&str, &str)> = tail[exits..]
        .lines()
        .skip(1)
        .filter_map(|l| l.trim().split_once("  "))
        .collect();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme.find("## Exit statuses").unwrap()..];
    let section = &section[..section[3..].find("\n## ").unwrap()];
    let table: Vec<(String, String)> = section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", status, meaning, ""] if status.parse::<u8>().is_ok() => {
                    Some((status.to_string(), meaning.replace('`', "")))
                }
                _ => None,
            }
        })
        .collect();
    assert_eq!(table.len(), 4, "{section}");
    let statuses: Vec<(String, String)> = statuses
        .into_iter()
        .map(|(s, m)| (s.to_string(), m.trim().to_string()))
        .collect();
    assert_eq!(statuses, table);
    // The help ends there.
    assert!(help.trim_end().ends_with(&table[3].1), "{help}");
}
