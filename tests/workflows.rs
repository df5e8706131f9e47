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
