//! The command line: parse, call the library, map the outcome to an exit status.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;

use backstop::config::{Config, FailOn};
use backstop::gate::{self, GateOptions};
use backstop::lang::Diagnostics;
use backstop::model::{Inventory, schema};
use backstop::render;
use backstop::report::{self, Diff, Report};
use backstop::rules::RuleSet;
use backstop::{audit, collect, demo, describe, input};

/// Exit statuses (pinned in DESIGN.md).
const EXIT_GATE_FAILED: u8 = 1;
const EXIT_INVALID: u8 = 2;
const EXIT_UNAVAILABLE: u8 = 3;

#[derive(Parser)]
#[command(
    name = "backstop",
    version,
    about = "Audits the backup and disaster-recovery posture of an AWS account"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate the rules against live AWS, a saved inventory, or the demo account.
    Audit(AuditArgs),
    /// Read the live account and save the inventory for a later `audit --inventory`.
    Collect(CollectArgs),
    /// List or check rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Explain a rule: what it checks, why, and how to fix a failure.
    Explain {
        rule_id: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// List the resource types, or the attributes of one type.
    Schema {
        /// A resource type, e.g. aws.rds.db_instance.
        #[arg(value_name = "TYPE")]
        type_name: Option<String>,
    },
    /// Print the least-privilege IAM policy for the enabled rules.
    IamPolicy {
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Write a commented starter backstop.yaml.
    Init {
        /// Where to write it.
        #[arg(default_value = "backstop.yaml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Compare two JSON reports: newly failing, fixed, still failing, appeared, disappeared.
    Diff(DiffArgs),
    /// Combine JSON reports (several accounts or regions) into one.
    Merge {
        /// The reports to combine.
        #[arg(required = true, num_args = 2..)]
        reports: Vec<PathBuf>,
        /// Where to write the combined JSON report.
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
    },
}

#[derive(Args)]
struct DiffArgs {
    /// Last week's JSON report.
    old: PathBuf,
    /// This week's JSON report.
    new: PathBuf,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Also write the diff as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write the diff as Markdown (`-` for stdout instead of --format).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// List the enabled rules.
    List {
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Validate the rule files in DIR (together with the built-in pack).
    Check { dir: PathBuf },
}

#[derive(Args)]
struct RuleArgs {
    /// Configuration file [default: ./backstop.yaml when present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// An extra folder of rule files (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    rule_dirs: Vec<PathBuf>,
}

#[derive(Args)]
struct AwsArgs {
    /// Regions to audit, comma-separated [default: the config's, else the AWS profile's].
    #[arg(long, value_delimiter = ',', value_name = "R,..", value_parser = parse_region)]
    regions: Vec<String>,
    /// AWS named profile.
    #[arg(long, value_name = "P")]
    profile: Option<String>,
    /// Most per-resource AWS calls in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Time limit of one AWS call including retries, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Markdown,
}

#[derive(Args)]
struct AuditArgs {
    #[command(flatten)]
    rules: RuleArgs,
    #[command(flatten)]
    aws: AwsArgs,
    /// Audit a saved inventory instead of live AWS.
    #[arg(long, value_name = "FILE", conflicts_with = "demo")]
    inventory: Option<PathBuf>,
    /// Audit the bundled demo account (no AWS needed).
    #[arg(long)]
    demo: bool,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a JSON report.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a Markdown report (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// What to print on stdout [default: table].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Lowest severity that fails the gate [default: the config's, else high].
    #[arg(long, value_name = "LEVEL", value_parser = parse_fail_on)]
    fail_on: Option<FailOn>,
    /// `error` results (unreadable resources) do not fail the gate.
    #[arg(long)]
    allow_errors: bool,
    /// A previous JSON report: only results not already failing in it can fail the gate.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// The audit clock, RFC 3339 [default: the inventory's collection time, else now].
    #[arg(long, value_name = "RFC3339", value_parser = parse_timestamp)]
    now: Option<Timestamp>,
    /// Show passing and waived results in the table too.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Args)]
struct CollectArgs {
    #[command(flatten)]
    rules: RuleArgs,
    #[command(flatten)]
    aws: AwsArgs,
    /// Where to write the inventory JSON.
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
}

fn parse_region(s: &str) -> Result<String, String> {
    backstop::config::check_region(s).map(|()| s.to_string())
}

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    s.parse()
}

fn parse_timestamp(s: &str) -> Result<Timestamp, String> {
    s.parse::<Timestamp>()
        .map_err(|e| format!("expected an RFC 3339 time like 2026-11-27T09:00:00Z ({e})"))
}

/// Why a command stopped early; each maps to one exit status.
enum Failure {
    /// Bad invocation, config, rules or input file (exit 2).
    Invalid(String),
    /// Nothing could be audited: no credentials, endpoint unreachable (exit 3).
    Unavailable(String),
}

impl From<Diagnostics> for Failure {
    fn from(d: Diagnostics) -> Self {
        let n = d.0.len();
        Failure::Invalid(format!(
            "{d}\n{n} error{} in rules or configuration",
            if n == 1 { "" } else { "s" }
        ))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let outcome = match cli.command {
        Command::Audit(args) => run_audit(args),
        Command::Collect(args) => run_collect(args).map(|()| true),
        Command::Rules(RulesCommand::List { rules }) => {
            load_engine(&rules).map(|(_, _, engine)| print(&describe::rules_table(&engine)))
        }
        Command::Rules(RulesCommand::Check { dir }) => check_rules(&dir),
        Command::Explain { rule_id, rules } => explain(&rule_id, &rules),
        Command::Schema { type_name } => show_schema(type_name.as_deref()),
        Command::IamPolicy { rules } => load_engine(&rules)
            .map(|(_, _, engine)| print(&describe::iam_policy(&engine.required_operations()))),
        Command::Init { path, force } => init(&path, force),
        Command::Diff(args) => diff(&args),
        Command::Merge { reports, output } => merge(&reports, &output),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_GATE_FAILED),
        Err(Failure::Invalid(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_INVALID)
        }
        Err(Failure::Unavailable(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_UNAVAILABLE)
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
        .try_init();
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn print(text: &str) -> bool {
    let _ = std::io::stdout().write_all(text.as_bytes());
    true
}

fn load_engine(args: &RuleArgs) -> Result<(Config, RuleSet, backstop::rules::Engine), Failure> {
    let config = Config::discover(args.config.as_deref())?;
    let (rules, engine) = audit::load_rules(&config, &args.rule_dirs)?;
    Ok((config, rules, engine))
}

fn run_audit(args: AuditArgs) -> Result<bool, Failure> {
    let (config, _, engine) = load_engine(&args.rules)?;
    let baseline = args.baseline.as_deref().map(read_report).transpose()?;
    let inventory = if args.demo {
        demo::inventory().map_err(|e| Failure::Invalid(e.to_string()))?
    } else if let Some(path) = &args.inventory {
        Inventory::from_json(&read(path)?, &path.display().to_string())
            .map_err(|e| Failure::Invalid(e.to_string()))?
    } else {
        collect_live(&args.aws, &config, audit::collection_plan(&engine, &config))?
    };
    audit::check_scope_reaches(&config.scope, &inventory.source.regions)
        .map_err(Failure::Invalid)?;
    let now = args
        .now
        .or(inventory.collected_at)
        .unwrap_or_else(Timestamp::now);
    let report = audit::run(&engine, inventory, &config, now);

    for unused in &report.unused_waivers {
        eprintln!(
            "warning[unused-waiver]: {}: waiver for rule `{}` and resource `{}` matched no failing result; remove it",
            unused.location, unused.rule, unused.resource
        );
    }
    write_reports(&args, &report)?;

    let options = GateOptions {
        fail_on: args.fail_on.or(config.fail_on),
        allow_errors: args.allow_errors,
    };
    let blocking = gate::blocking(&report, options, baseline.as_ref());
    if !blocking.is_empty() {
        let level = match options.fail_on.unwrap_or(gate::DEFAULT_FAIL_ON) {
            FailOn::Severity(s) => s.to_string(),
            FailOn::Never => "never".into(),
        };
        eprintln!(
            "backstop: gate failed: {} result{} at or above `{level}`{} (see --fail-on{})",
            blocking.len(),
            if blocking.len() == 1 { "" } else { "s" },
            if baseline.is_some() {
                " that are new since the baseline"
            } else {
                ""
            },
            if options.allow_errors {
                ""
            } else {
                " and --allow-errors"
            }
        );
    }
    Ok(blocking.is_empty())
}

fn write_reports(args: &AuditArgs, report: &Report) -> Result<(), Failure> {
    let markdown_to_stdout = args.markdown.as_deref() == Some(Path::new("-"));
    if let Some(path) = &args.junit {
        write(path, &render::junit::render(report))?;
    }
    if let Some(path) = &args.json {
        write(path, &render::json::render(report))?;
    }
    if let Some(path) = args.markdown.as_deref().filter(|_| !markdown_to_stdout) {
        write(path, &render::markdown::render(report))?;
    }
    let format = match (args.format, markdown_to_stdout) {
        (Some(f), _) => Some(f),
        (None, true) => None,
        (None, false) => Some(Format::Table),
    };
    if markdown_to_stdout {
        print(&render::markdown::render(report));
    }
    match format {
        Some(Format::Table) => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            print(&render::table::render(
                report,
                &render::table::TableOptions {
                    verbose: args.verbose,
                    color,
                },
            ));
        }
        Some(Format::Json) => {
            print(&render::json::render(report));
        }
        Some(Format::Markdown) if !markdown_to_stdout => {
            print(&render::markdown::render(report));
        }
        Some(Format::Markdown) | None => {}
    }
    Ok(())
}

fn collect_live(aws: &AwsArgs, config: &Config, plan: collect::Plan) -> Result<Inventory, Failure> {
    let options = collect::CollectOptions {
        regions: if aws.regions.is_empty() {
            config.regions.clone()
        } else {
            aws.regions.clone()
        },
        profile: aws.profile.clone(),
        concurrency: aws.concurrency.into(),
        operation_timeout: Duration::from_secs(aws.timeout),
        plan,
        export_locations: config
            .export_locations
            .iter()
            .map(|l| collect::ExportLocation {
                bucket: l.bucket.clone(),
                prefix: l.prefix.clone(),
            })
            .collect(),
        progress: std::io::stderr().is_terminal(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Unavailable(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(collect::collect(&options))
        .map_err(|e| Failure::Unavailable(e.to_string()))
}

fn run_collect(args: CollectArgs) -> Result<(), Failure> {
    let config = Config::discover(args.rules.config.as_deref())?;
    // Everything, not just what today's rules read: the saved inventory may
    // be audited later with other rules or params.
    let inventory = collect_live(&args.aws, &config, collect::Plan::everything())?;
    write(&args.output, &inventory.to_json())?;
    eprintln!(
        "backstop: saved {} resources ({} failed calls) to {}",
        inventory.resources.len(),
        inventory.errors.len(),
        args.output.display()
    );
    Ok(())
}

fn check_rules(dir: &Path) -> Result<bool, Failure> {
    let mut rules = RuleSet::builtin()?;
    let before = rules.rules().len();
    rules.add_dir(dir)?;
    print(&format!(
        "{}: {} rule file{} OK\n",
        dir.display(),
        rules.rules().len() - before,
        if rules.rules().len() - before == 1 {
            ""
        } else {
            "s"
        }
    ));
    Ok(true)
}

fn explain(rule_id: &str, args: &RuleArgs) -> Result<bool, Failure> {
    let config = Config::discover(args.config.as_deref())?;
    let mut config_all_enabled = config.clone();
    // Explaining a disabled rule is still useful.
    config_all_enabled.settings.disabled.clear();
    let (rules, engine) = audit::load_rules(&config_all_enabled, &args.rule_dirs)?;
    match engine.rules().iter().find(|r| r.id() == rule_id) {
        Some(rule) => Ok(print(&describe::explain(rule))),
        None => {
            let hint = backstop::lang::diagnostic::did_you_mean(
                rule_id,
                rules.rules().iter().map(|r| r.id.as_str()),
            )
            .unwrap_or_else(|| "`backstop rules list` shows the rule ids".into());
            Err(Failure::Invalid(format!(
                "unknown rule `{rule_id}`; {hint}"
            )))
        }
    }
}

fn show_schema(type_name: Option<&str>) -> Result<bool, Failure> {
    match type_name {
        None => Ok(print(&describe::schema(None))),
        Some(name) => match schema::resource_type(name) {
            Some(kind) => Ok(print(&describe::schema(Some(kind)))),
            None => {
                let hint = backstop::lang::diagnostic::did_you_mean(
                    name,
                    schema::RESOURCE_TYPES.iter().map(|t| t.name),
                )
                .unwrap_or_else(|| "`backstop schema` lists the types".into());
                Err(Failure::Invalid(format!(
                    "unknown resource type `{name}`; {hint}"
                )))
            }
        },
    }
}

fn init(path: &Path, force: bool) -> Result<bool, Failure> {
    if path.exists() && !force {
        return Err(Failure::Invalid(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    write(path, backstop::config::STARTER)?;
    eprintln!(
        "backstop: wrote {}; `backstop audit` reads it from this folder",
        path.display()
    );
    Ok(true)
}

fn read_report(path: &Path) -> Result<Report, Failure> {
    render::json::parse(&read(path)?).map_err(|e| {
        Failure::Invalid(format!(
            "{}: not a backstop JSON report: {e}",
            path.display()
        ))
    })
}

fn diff(args: &DiffArgs) -> Result<bool, Failure> {
    let diff = Diff::between(&read_report(&args.old)?, &read_report(&args.new)?);
    if let Some(path) = &args.json {
        write(path, &render::diff::json(&diff))?;
    }
    let markdown_to_stdout = args.markdown.as_deref() == Some(Path::new("-"));
    if let Some(path) = args.markdown.as_deref().filter(|_| !markdown_to_stdout) {
        write(path, &render::diff::markdown(&diff))?;
    }
    let text = match (markdown_to_stdout, args.format) {
        (true, _) | (false, Format::Markdown) => render::diff::markdown(&diff),
        (false, Format::Json) => render::diff::json(&diff),
        (false, Format::Table) => render::diff::text(&diff),
    };
    Ok(print(&text))
}

fn merge(inputs: &[PathBuf], output: &Path) -> Result<bool, Failure> {
    let reports = inputs
        .iter()
        .map(|p| read_report(p))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = report::merge(&reports);
    write(output, &render::json::render(&merged))?;
    eprintln!(
        "backstop: merged {} reports ({} results) into {}",
        reports.len(),
        merged.results.len(),
        output.display()
    );
    Ok(true)
}

/// Reads an inventory or JSON report: a regular file, at most
/// [`input::DATA_FILE_LIMIT`] bytes.
fn read(path: &Path) -> Result<String, Failure> {
    input::read_text(path, input::DATA_FILE_LIMIT).map_err(|e| {
        Failure::Invalid(match e.position() {
            Some((line, col)) => format!("{}:{line}:{col}: cannot read: {e}", path.display()),
            None => format!("cannot read {}: {e}", path.display()),
        })
    })
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|e| Failure::Invalid(format!("cannot write {}: {e}", path.display())))
}
