//! The command line: parse, run, map the outcome to an exit status.

use std::process::ExitCode;

use backstop::cli::{self, Cli, EXIT_GATE_FAILED};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match cli::run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_GATE_FAILED),
        Err(error) => {
            eprintln!("error: {}", error.message());
            ExitCode::from(error.exit_status())
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BACKSTOP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("backstop=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        // `BACKSTOP_LOG=backstop=debug` times each phase of an audit (its
        // spans are debug-level): how a slow run is taken apart.
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .try_init();
}
