//! `scripts/install-backstop` (what the GitHub Action runs to install a
//! release) against a fake release folder: the right asset for each OS and
//! architecture, checksums enforced, unknown platforms refused by name.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The release targets, as `.github/workflows/release.yml` builds them, with
/// the `uname -s` / `uname -m` answers of a machine each one is for.
const TARGETS: [(&str, &str, &str); 4] = [
    ("Linux", "x86_64", "x86_64-unknown-linux-musl"),
    ("Linux", "aarch64", "aarch64-unknown-linux-musl"),
    ("Darwin", "arm64", "aarch64-apple-darwin"),
    ("Darwin", "x86_64", "x86_64-apple-darwin"),
];

const VERSION: &str = "1.2.3";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn asset(target: &str) -> String {
    format!("backstop-{VERSION}-{target}.tar.gz")
}

fn run(program: &str, args: &[&str], dir: &Path) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{program} {args:?}: {out:?}");
}

/// A release folder as the release workflow lays it out: one tarball per
/// target, each holding a `backstop` that prints its target, and SHA256SUMS.
fn fake_release(dir: &Path) -> PathBuf {
    let release = dir.join("release");
    std::fs::create_dir(&release).unwrap();
    for (_, _, target) in TARGETS {
        let staging = dir.join(format!("staging-{target}"));
        std::fs::create_dir(&staging).unwrap();
        std::fs::write(
            staging.join("backstop"),
            format!("#!/bin/sh\necho {target}\n"),
        )
        .unwrap();
        run("chmod", &["755", "backstop"], &staging);
        std::fs::write(staging.join("README.md"), "# backstop\n").unwrap();
        let tarball = release.join(asset(target));
        run(
            "tar",
            &["-czf", tarball.to_str().unwrap(), "backstop", "README.md"],
            &staging,
        );
    }
    let mut names: Vec<String> = TARGETS.iter().map(|(_, _, t)| asset(t)).collect();
    names.sort();
    let mut args = vec!["sha256sum".to_string()];
    args.extend(names);
    let sums = Command::new("sh")
        .arg("-c")
        .arg(args.join(" "))
        .current_dir(&release)
        .output()
        .unwrap();
    assert!(sums.status.success());
    std::fs::write(release.join("SHA256SUMS"), sums.stdout).unwrap();
    release
}

fn install(base: &str, os: &str, arch: &str, version: &str, dest: &Path) -> Output {
    Command::new(root().join("scripts/install-backstop"))
        .args([version, dest.to_str().unwrap()])
        .env("BACKSTOP_RELEASE_BASE", base)
        .env("BACKSTOP_OS", os)
        .env("BACKSTOP_ARCH", arch)
        .env_remove("BACKSTOP_REPOSITORY")
        .env_remove("GITHUB_REPOSITORY")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What the installed binary says it is built for.
fn installed_target(dest: &Path) -> String {
    let out = Command::new(dest.join("backstop")).output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn says(out: &Output, message: &str) {
    assert!(stderr(out).contains(message), "{}", stderr(out));
}

fn refused(out: &Output, message: &str, dest: &Path) {
    assert!(!out.status.success(), "installed: {out:?}");
    says(out, message);
    assert!(
        !dest.join("backstop").exists(),
        "nothing is installed when the install is refused"
    );
}

#[test]
fn installs_the_asset_of_each_platform() {
    let dir = tempfile::tempdir().unwrap();
    let release = fake_release(dir.path());
    let spellings = TARGETS.iter().copied().chain([
        ("Linux", "arm64", "aarch64-unknown-linux-musl"),
        ("Linux", "amd64", "x86_64-unknown-linux-musl"),
        ("Darwin", "aarch64", "aarch64-apple-darwin"),
    ]);
    for (os, arch, target) in spellings {
        let dest = dir.path().join(format!("bin-{os}-{arch}"));
        let out = install(release.to_str().unwrap(), os, arch, VERSION, &dest);
        assert!(out.status.success(), "{os} {arch}: {}", stderr(&out));
        assert_eq!(installed_target(&dest), target, "{os} {arch}");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains(&format!("{target}) at {}", dest.join("backstop").display())),
            "{said}"
        );
        assert_eq!(
            std::fs::read_dir(&dest).unwrap().count(),
            1,
            "only the binary lands in the destination"
        );
    }
}

#[test]
fn accepts_a_tag_and_downloads_through_curl() {
    let dir = tempfile::tempdir().unwrap();
    let release = fake_release(dir.path());
    let dest = dir.path().join("bin");
    let url = format!("file://{}", release.display());
    let out = install(&url, "Linux", "x86_64", "v1.2.3", &dest);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(installed_target(&dest), "x86_64-unknown-linux-musl");

    // A version that was never released: curl --fail, not an HTML error page.
    let missing = install(&url, "Linux", "x86_64", "9.9.9", &dir.path().join("none"));
    refused(&missing, "could not download", &dir.path().join("none"));
}

#[test]
fn refuses_a_checksum_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let release = fake_release(dir.path());
    // The tarball changed after SHA256SUMS was written.
    let tarball = release.join(asset("aarch64-apple-darwin"));
    let mut bytes = std::fs::read(&tarball).unwrap();
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&tarball, bytes).unwrap();
    let dest = dir.path().join("bin");
    let out = install(release.to_str().unwrap(), "Darwin", "arm64", VERSION, &dest);
    refused(
        &out,
        "checksum mismatch for backstop-1.2.3-aarch64-apple-darwin.tar.gz",
        &dest,
    );
    // The other platforms' assets are still good.
    let out = install(
        release.to_str().unwrap(),
        "Darwin",
        "x86_64",
        VERSION,
        &dest,
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn refuses_an_asset_missing_from_the_sums() {
    let dir = tempfile::tempdir().unwrap();
    let release = fake_release(dir.path());
    let sums_path = release.join("SHA256SUMS");
    let sums = std::fs::read_to_string(&sums_path).unwrap();
    let without: String = sums
        .lines()
        .filter(|line| !line.contains("x86_64-unknown-linux-musl"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(without.lines().count(), 3);
    std::fs::write(&sums_path, without).unwrap();
    let dest = dir.path().join("bin");
    let out = install(release.to_str().unwrap(), "Linux", "x86_64", VERSION, &dest);
    refused(
        &out,
        "SHA256SUMS has no line for backstop-1.2.3-x86_64-unknown-linux-musl.tar.gz",
        &dest,
    );

    std::fs::remove_file(&sums_path).unwrap();
    let out = install(
        release.to_str().unwrap(),
        "Linux",
        "aarch64",
        VERSION,
        &dest,
    );
    refused(&out, "SHA256SUMS does not exist", &dest);
}

#[test]
fn names_the_supported_platforms_for_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let release = fake_release(dir.path());
    let dest = dir.path().join("bin");
    for (os, arch, unknown) in [
        ("MINGW64_NT-10.0", "x86_64", "OS 'MINGW64_NT-10.0'"),
        ("Windows_NT", "x86_64", "OS 'Windows_NT'"),
        ("FreeBSD", "amd64", "OS 'FreeBSD'"),
        ("Linux", "riscv64", "architecture 'riscv64'"),
        ("Darwin", "i386", "architecture 'i386'"),
    ] {
        let out = install(release.to_str().unwrap(), os, arch, VERSION, &dest);
        refused(&out, &format!("no backstop release for {unknown}"), &dest);
        says(
            &out,
            "supported: Linux x86_64, Linux aarch64 (arm64), macOS x86_64, macOS arm64 (aarch64)",
        );
    }
}

#[test]
fn refuses_what_is_not_a_release_version() {
    let dir = tempfile::tempdir().unwrap();
    let release = fake_release(dir.path());
    let dest = dir.path().join("bin");
    for version in ["main", "1.2", "../1.2.3", "1.2.3/../../x"] {
        let out = install(release.to_str().unwrap(), "Linux", "x86_64", version, &dest);
        assert_eq!(out.status.code(), Some(2), "{version}: {out:?}");
        says(&out, "is not a release version");
    }
}

#[test]
fn the_release_workflow_builds_every_target_the_script_installs() {
    let workflow = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    for (_, _, target) in TARGETS {
        assert!(
            workflow.contains(&format!("target: {target}")),
            "release.yml builds no {target}"
        );
    }
    assert!(workflow.contains("backstop-${version}-${TARGET}.tar.gz"));
    assert!(workflow.contains("SHA256SUMS"));
}
