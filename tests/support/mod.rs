//! Shared test support. Use from an integration test with `mod support;`.

// Each test binary uses a different subset of the helpers.
#![allow(dead_code)]

pub mod http1;
pub mod moto;
pub mod proxy;
pub mod seed;
pub mod stub;

/// Runs the `backstop` binary in `home` against `endpoint` with these
/// credentials only: no profile, config file or instance metadata of the
/// machine running the tests can leak in.
pub fn isolated_backstop(
    home: &std::path::Path,
    endpoint: &str,
    credentials: &backstop::collect::Credentials,
) -> std::process::Command {
    let missing = home.join("no-such-aws-file");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_backstop"));
    command
        .current_dir(home)
        .env_clear()
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", &missing)
        .env("AWS_SHARED_CREDENTIALS_FILE", &missing)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", credentials.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key())
        .env("AWS_REGION", "us-east-1")
        .env("NO_COLOR", "1");
    command
}
