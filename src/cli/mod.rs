//! The command line: its flags (clap), how they and `backstop.yaml` are
//! settled into one request, and the commands that run it. `main.rs` only
//! parses, calls [`run`] and maps the outcome to an exit status.

mod commands;
mod request;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;

use crate::config::FailOn;

pub use commands::{CommandError, EXIT_GATE_FAILED, EXIT_INVALID, EXIT_UNAVAILABLE, run};
pub use request::{AuditRequest, Input, Outputs, StdoutFormat};

#[derive(Parser)]
#[command(
    name = "backstop",
    version,
    about = "Audits the backup and disaster-recovery posture of an AWS account"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Evaluate the rules against live AWS, a saved inventory, or the demo account.
    // Boxed: the audit's flags are many times the other commands' size.
    #[command(after_help = AUDIT_AFTER_HELP)]
    Audit(Box<AuditArgs>),
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
        #[command(flatten)]
        org: IamPolicyOrgArgs,
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
    /// Print a shell completion script, e.g. `backstop completions bash > /etc/bash_completion.d/backstop`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `backstop man | man -l -`.
    Man {
        /// Write one page per command (backstop.1, backstop-audit.1, ...) into DIR instead.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Write a self-contained HTML page from JSON reports: the headline,
    /// trend charts over all of them, the checklist and the change since the
    /// previous report.
    Report(ReportArgs),
}

/// `iam-policy --org`: the documents an organisation audit needs.
#[derive(Args)]
pub struct IamPolicyOrgArgs {
    /// Print the three documents of an organisation audit instead: the
    /// member-account role's permission policy, its trust policy, and the
    /// auditing credentials' policy (Organizations listings, AssumeRole).
    #[arg(long)]
    pub org: bool,
    /// With --org: the account that runs backstop, trusted by the role.
    #[arg(long, value_name = "ID", requires = "org")]
    pub caller_account: Option<String>,
    /// With --org: the role backstop assumes in every member account.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "BackstopAudit",
        requires = "org"
    )]
    pub role_name: String,
    /// With --org: the external id the role's trust policy demands.
    #[arg(long, value_name = "X", requires = "org")]
    pub external_id: Option<String>,
}

#[derive(Args)]
pub struct ReportArgs {
    /// Where to write the HTML page.
    #[arg(long, value_name = "OUT.html")]
    pub html: PathBuf,
    /// This week's JSON report.
    #[arg(value_name = "CURRENT.json")]
    pub current: PathBuf,
    /// Earlier JSON reports, in any order (dated by their `generated_at`).
    #[arg(value_name = "OLDER.json")]
    pub older: Vec<PathBuf>,
}

/// The end of `backstop audit --help`: examples, and the exit statuses as
/// the README's "Exit statuses" table gives them (a test holds them equal).
const AUDIT_AFTER_HELP: &str = "\
Examples:
  backstop audit --demo --csv demo.csv
  backstop audit --regions eu-west-1,us-east-1 --json this-week.json
  backstop audit --plan plan.json --baseline last-week.json --fail-on medium

Exit statuses:
  0  the gate passed
  1  the gate failed: a fail, or an error, at or above --fail-on (default high)
  2  invalid invocation, configuration, rules or input file (with file:line:col)
  3  nothing could be audited: no credentials, no region, endpoint unreachable";

#[derive(Args)]
pub struct DiffArgs {
    /// Last week's JSON report.
    pub old: PathBuf,
    /// This week's JSON report.
    pub new: PathBuf,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Also write the diff as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the diff as Markdown (`-` for stdout instead of --format).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// List the enabled rules.
    List {
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Validate the rule files in DIR (together with the built-in pack).
    Check { dir: PathBuf },
}

#[derive(Args)]
pub struct RuleArgs {
    /// Configuration file [default: ./backstop.yaml when present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// An extra folder of rule files (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rule_dirs: Vec<PathBuf>,
}

#[derive(Args)]
pub struct AwsArgs {
    /// Regions to audit, comma-separated, or `all`: every region enabled for
    /// each account, asked of AWS [default: the config's, else the AWS profile's].
    #[arg(long, value_delimiter = ',', value_name = "R,..|all", value_parser = parse_region_or_all)]
    pub regions: Vec<String>,
    /// AWS named profile.
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Audit the account of this role, entered with STS AssumeRole from the
    /// calling credentials (repeatable: one per account).
    #[arg(long = "role-arn", value_name = "ARN", value_parser = parse_role_arn, conflicts_with = "org")]
    pub role_arns: Vec<String>,
    /// Audit every active account of the AWS organisation (listed through
    /// AWS Organizations from the calling credentials), each through
    /// --role-name.
    #[arg(long, requires = "role_name")]
    pub org: bool,
    /// With --org: the role to assume in each account.
    #[arg(long, value_name = "NAME", requires = "org", value_parser = parse_role_name)]
    pub role_name: Option<String>,
    /// With --org: only the accounts of this organisational unit and the
    /// units below it (or a root id).
    #[arg(long, value_name = "OU_ID", requires = "org")]
    pub ou: Option<String>,
    /// The external id the roles' trust policy asks for.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// Most AWS calls in flight at once, over all accounts and regions.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Most AWS calls in flight at once per account, region and service
    /// (AWS throttles each separately).
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency_per_service: u16,
    /// Time limit of one AWS call including retries, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

#[derive(Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Audit a saved inventory instead of live AWS.
    #[arg(long, value_name = "FILE", conflicts_with = "demo")]
    pub inventory: Option<PathBuf>,
    /// Audit the bundled demo account (no AWS needed).
    #[arg(long)]
    pub demo: bool,
    /// A Terraform/OpenTofu plan (`terraform show -json PLANFILE`): audit its
    /// resources as they will be after apply. With --inventory or --live,
    /// audit the account as it will be after apply.
    #[arg(long, value_name = "PLAN.json", conflicts_with = "demo")]
    pub plan: Option<PathBuf>,
    /// The folder of the plan's root module, to find each resource's `.tf`
    /// line [default: the plan file's folder].
    #[arg(long, value_name = "DIR", requires = "plan")]
    pub plan_root: Option<PathBuf>,
    /// With --plan: read the live account too, and lay the plan over it.
    #[arg(long, requires = "plan", conflicts_with = "inventory")]
    pub live: bool,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a Markdown report (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Cap of the Markdown report in characters, under GitHub's comment and
    /// job summary limits; past it, items are left out and a last line says so.
    #[arg(long, value_name = "CHARS", default_value_t = crate::render::markdown::DEFAULT_MAX_CHARS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2_000..))]
    pub markdown_max_chars: usize,
    /// Write a SARIF 2.1.0 log of what needs action, for GitHub code scanning.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Write a CSV file (RFC 4180) with one row per result, for spreadsheets.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write a self-contained HTML page of this report (`backstop report
    /// --html` adds trends over earlier reports).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// What to print on stdout [default: table].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Lowest severity that fails the gate [default: the config's, else high].
    #[arg(long, value_name = "LEVEL", value_parser = parse_fail_on)]
    pub fail_on: Option<FailOn>,
    /// `error` results (unreadable resources) do not fail the gate.
    #[arg(long)]
    pub allow_errors: bool,
    /// A previous JSON report: only results not already failing in it can fail the gate.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// The audit clock, RFC 3339 [default: the inventory's collection time, else now].
    #[arg(long, value_name = "RFC3339", value_parser = parse_timestamp)]
    pub now: Option<Timestamp>,
    /// Show passing and waived results in the table too.
    #[arg(long, short)]
    pub verbose: bool,
    /// Colour the table: `auto` colours a terminal unless NO_COLOR is set
    /// and not empty; CLICOLOR_FORCE (set, not 0) colours elsewhere too.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// When the table is coloured (`--color`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Where to write the inventory JSON.
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
}

/// `all` as the whole of `--regions` is resolved with the request.
fn parse_region_or_all(s: &str) -> Result<String, String> {
    if s == ALL_REGIONS {
        return Ok(s.to_string());
    }
    crate::model::names::check_region(s).map(|()| s.to_string())
}

/// `--regions all`.
pub const ALL_REGIONS: &str = "all";

fn parse_role_name(s: &str) -> Result<String, String> {
    crate::model::names::check_role_name(s).map(|()| s.to_string())
}

fn parse_role_arn(s: &str) -> Result<String, String> {
    crate::collect::account_of_role(s)
        .map(|_| s.to_string())
        .ok_or_else(|| {
            format!(
                "{s:?} is not an IAM role ARN (like arn:aws:iam::123456789012:role/BackstopAudit)"
            )
        })
}

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    s.parse()
}

fn parse_timestamp(s: &str) -> Result<Timestamp, String> {
    s.parse::<Timestamp>()
        .map_err(|e| format!("expected an RFC 3339 time like 2026-11-27T09:00:00Z ({e})"))
}
