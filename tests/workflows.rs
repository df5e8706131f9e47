//! The GitHub Action and example workflows pass actionlint (installed into
//! .venv-moto by scripts/test), which also checks the workflows' use of the
//! local action against action.yml's inputs and outputs.

use std::path::Path;
use std::process::Command;

#[test]
fn workflows_pass_actionlint() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let actionlint = root.join(".venv-moto/bin/actionlint");
    assert!(
        actionlint.exists(),
        "{} is missing: run scripts/test, which installs it",
        actionlint.display()
    );
    let workflows: Vec<_> = std::fs::read_dir(root.join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    assert!(workflows.len() >= 2, "the gate and weekly workflows exist");
    let out = Command::new(&actionlint)
        .arg("-color=false")
        .args(&workflows)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn actionlint_rejects_a_wrong_input_of_the_local_action() {
    // Proves the check above reads action.yml: a misspelt input is caught.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    // actionlint finds local actions relative to the repository root.
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(git.success());
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::copy(root.join("action.yml"), dir.path().join("action.yml")).unwrap();
    let workflow = dir.path().join(".github/workflows/bad.yml");
    std::fs::write(
        &workflow,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./\n        with:\n          fail_on: high\n",
    )
    .unwrap();
    let out = Command::new(root.join(".venv-moto/bin/actionlint"))
        .arg("-color=false")
        .arg(&workflow)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("fail_on"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The `run` script of the action's step `id`.
fn action_step_script(id: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    let steps = docs[0]["runs"]["steps"].as_vec().unwrap();
    let step = steps
        .iter()
        .find(|s| s["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no step {id}"));
    step["run"].as_str().unwrap().to_string()
}

/// Runs the action's audit step as the runner would, with `inputs`
/// (`INPUT_*`), and returns its exit status and `$GITHUB_OUTPUT` lines.
fn run_audit_step(dir: &Path, inputs: &[(&str, &str)]) -> (i32, Vec<String>) {
    let bin = Path::new(env!("CARGO_BIN_EXE_backstop")).parent().unwrap();
    let output = dir.join("github_output");
    let summary = dir.join("step_summary");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut cmd = Command::new("bash");
    cmd.args(["-e", "-c", &action_step_script("audit")])
        .current_dir(dir)
        .env("PATH", path)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("INPUT_REPORT_DIR", "report")
        .env("INPUT_STEP_SUMMARY", "true");
    for name in [
        "CONFIG",
        "REGIONS",
        "FAIL_ON",
        "BASELINE",
        "INVENTORY",
        "ARGS",
    ] {
        cmd.env(format!("INPUT_{name}"), "");
    }
    for (name, value) in inputs {
        cmd.env(format!("INPUT_{name}"), value);
    }
    let status = cmd.output().unwrap().status;
    let lines = std::fs::read_to_string(&output)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    (status.code().unwrap(), lines)
}

#[test]
fn the_action_gives_counts_to_branch_on() {
    let dir = tempfile::tempdir().unwrap();
    let now = "--demo --now 2026-12-01T00:00:00Z";
    let (status, outputs) = run_audit_step(dir.path(), &[("ARGS", now), ("FAIL_ON", "never")]);
    assert_eq!(status, 0, "{outputs:?}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report/backstop.json")).unwrap(),
    )
    .unwrap();
    let summary = &report["summary"];
    for (name, value) in [
        ("failed", summary["fail"].clone()),
        ("errors", summary["error"].clone()),
        ("waived", summary["waived"].clone()),
    ] {
        assert!(
            outputs.contains(&format!("{name}={value}")),
            "{name}: {outputs:?}"
        );
    }
    // Without a baseline everything failing is new.
    let failing = summary["fail"].as_u64().unwrap() + summary["error"].as_u64().unwrap();
    assert!(outputs.contains(&format!("new={failing}")), "{outputs:?}");
    // Against itself as the baseline nothing is new, and the gate passes.
    std::fs::copy(
        dir.path().join("report/backstop.json"),
        dir.path().join("base.json"),
    )
    .unwrap();
    let (status, outputs) = run_audit_step(dir.path(), &[("ARGS", now), ("BASELINE", "base.json")]);
    assert_eq!(status, 0, "{outputs:?}");
    assert!(outputs.contains(&"new=0".to_string()), "{outputs:?}");
    assert!(
        std::fs::read_to_string(dir.path().join("step_summary"))
            .unwrap()
            .contains("**backstop:")
    );
}

/// Runs the action's "choose how to install" step; its status and outputs.
fn choose_install(version: &str, action_ref: &str) -> (i32, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("github_output");
    let out = Command::new("bash")
        .args(["-e", "-c", &action_step_script("install-plan")])
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_ACTION_PATH", root)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("INPUT_VERSION", version)
        .env("ACTION_REF", action_ref)
        // No backstop on PATH: what is installed does not decide.
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let lines = std::fs::read_to_string(&output)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    (out.status.code().unwrap(), lines)
}

#[test]
fn the_action_installs_the_release_of_its_own_tag_else_builds() {
    let version = |v: &str, r: &str| {
        let (status, lines) = choose_install(v, r);
        assert_eq!(status, 0, "{v} {r}: {lines:?}");
        lines
            .iter()
            .find_map(|l| l.strip_prefix("version=").map(str::to_string))
            .unwrap()
    };
    assert_eq!(version("", "v1.2.3"), "v1.2.3");
    assert_eq!(version("", "main"), "source");
    assert_eq!(version("", "v1"), "source");
    assert_eq!(version("0.9.0", "v1.2.3"), "0.9.0");
    assert_eq!(version("source", "v1.2.3"), "source");
    let (status, _) = choose_install("latest-ish", "v1.2.3");
    assert_eq!(
        status, 2,
        "a version that is neither a release nor `source`"
    );
}
