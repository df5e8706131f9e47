//! `backstop audit`'s flags and `backstop.yaml` settled once into one value:
//! each option (regions, gate threshold, outputs, scope, the AWS calls to
//! make) is decided here, and the commands only carry it out.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;

use super::commands::{CommandError, read_report};
use super::{ALL_REGIONS, AuditArgs, AwsArgs, ColorChoice, Format, RuleArgs};
use crate::audit;
use crate::collect::{AccountsToAudit, CollectOptions, Plan, ProgressDisplay};
use crate::config::Config;
use crate::gate::{DEFAULT_FAIL_ON, GateOptions};
use crate::plan::PlanOptions;
use crate::render::table::{TableOptions, terminal_width};
use crate::report::Report;
use crate::rules::{Engine, RuleSet};

/// One audit, ready to run.
pub struct AuditRequest {
    /// Scope, waivers and export locations come from here.
    pub config: Config,
    pub engine: Engine,
    pub input: Input,
    /// A Terraform plan laid over the input (or audited alone).
    pub plan: Option<(PathBuf, PlanOptions)>,
    /// The threshold is always set: flag, else config, else the default.
    pub gate: GateOptions,
    pub baseline: Option<Report>,
    /// `--now`; when `None`, the inventory's collection time, else the
    /// current time (only known once the inventory is read).
    pub clock: Option<Timestamp>,
    pub outputs: Outputs,
}

/// Where the resources come from.
pub enum Input {
    /// Nothing but the plan: its resources alone.
    PlanOnly,
    Demo,
    Inventory(PathBuf),
    /// Live AWS, reading exactly what the enabled rules and the scope need.
    Live(Box<CollectOptions>),
}

/// Report files, and what goes to stdout (in this order).
pub struct Outputs {
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    /// The Markdown report's cap in characters (file and stdout alike).
    pub markdown_max_chars: usize,
    pub sarif: Option<PathBuf>,
    pub csv: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub stdout: Vec<StdoutFormat>,
}

pub enum StdoutFormat {
    Table(TableOptions),
    Json,
    Markdown,
}

/// The configuration and the compiled rules a command works with.
pub fn load_rules(args: &RuleArgs) -> Result<(Config, RuleSet, Engine), CommandError> {
    let config = Config::discover(args.config.as_deref())?;
    let (rules, engine) = audit::load_rules(&config, &args.rule_dirs)?;
    Ok((config, rules, engine))
}

/// How to read live AWS: regions from the flag, else the configuration
/// (else, inside collection, the AWS profile's); accounts from the flags,
/// else the configuration's `accounts:`, else the caller's own.
pub fn collect_options(
    aws: &AwsArgs,
    config: &Config,
    plan: Plan,
) -> Result<CollectOptions, CommandError> {
    let all_regions = aws.regions.iter().any(|r| r == ALL_REGIONS);
    if all_regions && aws.regions.len() > 1 {
        return Err(CommandError::Invalid(
            "--regions all stands alone: it audits every region enabled for each account".into(),
        ));
    }
    let regions = if all_regions {
        Vec::new()
    } else if aws.regions.is_empty() {
        config.regions.clone()
    } else {
        aws.regions.clone()
    };
    let accounts = if aws.org {
        AccountsToAudit::Organization {
            role_name: aws.role_name.clone().unwrap_or_default(),
            external_id: aws.external_id.clone(),
            unit: aws.ou.clone(),
        }
    } else if !aws.role_arns.is_empty() {
        AccountsToAudit::Roles {
            role_arns: aws.role_arns.clone(),
            external_id: aws.external_id.clone(),
        }
    } else if let Some(listed) = &config.accounts {
        AccountsToAudit::Listed {
            ids: listed.ids.clone(),
            role_name: listed.role_name.clone(),
            external_id: aws.external_id.clone().or(listed.external_id.clone()),
        }
    } else {
        if aws.external_id.is_some() {
            return Err(CommandError::Invalid(
                "--external-id is for the roles of other accounts: give --role-arn, --org, or `accounts:` in backstop.yaml".into(),
            ));
        }
        AccountsToAudit::Caller
    };
    Ok(CollectOptions {
        regions,
        all_regions,
        accounts,
        profile: aws.profile.clone(),
        concurrency: aws.concurrency.into(),
        concurrency_per_service: aws.concurrency_per_service.into(),
        operation_timeout: Duration::from_secs(aws.timeout),
        plan,
        export_locations: config.export_locations.clone(),
        progress: progress_display(
            std::io::stderr().is_terminal(),
            std::env::var("BACKSTOP_PROGRESS_INTERVAL_MS")
                .ok()
                .as_deref(),
        ),
    })
}

/// How often a log (stderr not a terminal) hears that collection is alive.
const PROGRESS_LINE_INTERVAL: Duration = Duration::from_secs(10);

/// A bar on a terminal, else a line every ten seconds;
/// `BACKSTOP_PROGRESS_INTERVAL_MS` shortens that interval, for the tests.
fn progress_display(stderr_is_terminal: bool, interval_ms: Option<&str>) -> ProgressDisplay {
    if stderr_is_terminal {
        return ProgressDisplay::Bar;
    }
    let every = interval_ms
        .and_then(|ms| ms.parse().ok())
        .filter(|&ms| ms > 0)
        .map_or(PROGRESS_LINE_INTERVAL, Duration::from_millis);
    ProgressDisplay::Lines { every }
}

/// The environment variables that bear on colour (<https://no-color.org>,
/// <https://bixense.com/clicolors/>).
#[derive(Debug, Default)]
pub struct ColorEnv {
    pub no_color: Option<OsString>,
    pub clicolor_force: Option<OsString>,
}

impl ColorEnv {
    pub fn from_process() -> ColorEnv {
        ColorEnv {
            no_color: std::env::var_os("NO_COLOR"),
            clicolor_force: std::env::var_os("CLICOLOR_FORCE"),
        }
    }
}

/// Whether the table gets ANSI colours. `always` and `never` decide alone.
/// `auto` colours a terminal; a non-empty NO_COLOR turns that off (an empty
/// one does not, per no-color.org) and wins over CLICOLOR_FORCE, which
/// (set and not `0`) colours output that is not a terminal.
pub fn use_color(choice: ColorChoice, stdout_is_terminal: bool, env: &ColorEnv) -> bool {
    let no_color = env.no_color.as_ref().is_some_and(|v| !v.is_empty());
    let forced = env.clicolor_force.as_ref().is_some_and(|v| v != "0");
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && (stdout_is_terminal || forced),
    }
}

impl AuditRequest {
    pub fn resolve(args: AuditArgs) -> Result<AuditRequest, CommandError> {
        let (config, _, engine) = load_rules(&args.rules)?;
        let baseline = args.baseline.as_deref().map(read_report).transpose()?;
        let outputs = Outputs::resolve(&args)?;
        let plan = args.plan.clone().map(|path| {
            let options = PlanOptions {
                root: args.plan_root.clone(),
                default_region: plan_default_region(&args.aws, &config),
            };
            (path, options)
        });
        let input = if args.demo {
            Input::Demo
        } else if let Some(path) = args.inventory {
            Input::Inventory(path)
        } else if plan.is_some() && !args.live {
            Input::PlanOnly
        } else {
            let plan = audit::collection_plan(&engine, &config);
            Input::Live(Box::new(collect_options(&args.aws, &config, plan)?))
        };
        let gate = GateOptions {
            fail_on: args.fail_on.or(config.fail_on).unwrap_or(DEFAULT_FAIL_ON),
            allow_errors: args.allow_errors,
        };
        Ok(AuditRequest {
            config,
            engine,
            input,
            plan,
            gate,
            baseline,
            clock: args.now,
            outputs,
        })
    }
}

/// The region of a plan's resources whose provider names none: the one
/// region given (flag, else configuration), else the environment's, as the
/// AWS provider itself falls back to it.
fn plan_default_region(aws: &AwsArgs, config: &Config) -> Option<String> {
    let given = if aws.regions.is_empty() {
        &config.regions
    } else if aws.regions.iter().any(|r| r == ALL_REGIONS) {
        &Vec::new()
    } else {
        &aws.regions
    };
    match given.as_slice() {
        [one] => Some(one.clone()),
        _ => ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|r| !r.is_empty())),
    }
}

impl Outputs {
    /// `--markdown -` prints the Markdown on stdout; the table is printed
    /// unless another stdout format was asked for. Two formats cannot share
    /// stdout, and a report file in a folder that does not exist is refused
    /// now, not after the whole collection.
    fn resolve(args: &AuditArgs) -> Result<Outputs, CommandError> {
        let markdown_to_stdout = args.markdown.as_deref() == Some(Path::new("-"));
        if markdown_to_stdout && matches!(args.format, Some(Format::Json | Format::Table)) {
            return Err(CommandError::Invalid(
                "--markdown - and --format json|table would both write to stdout; write one of them to a file".into(),
            ));
        }
        let files = [
            &args.junit,
            &args.json,
            &args.markdown,
            &args.sarif,
            &args.csv,
            &args.html,
        ]
        .into_iter()
        .flatten()
        .filter(|p| p.as_path() != Path::new("-"));
        for path in files {
            let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
            if let Some(folder) = folder.filter(|f| !f.is_dir()) {
                return Err(CommandError::Invalid(format!(
                    "cannot write {}: the folder {} does not exist",
                    path.display(),
                    folder.display()
                )));
            }
        }
        let mut stdout = Vec::new();
        if markdown_to_stdout {
            stdout.push(StdoutFormat::Markdown);
        }
        match args
            .format
            .or((!markdown_to_stdout).then_some(Format::Table))
        {
            Some(Format::Table) => {
                let is_terminal = std::io::stdout().is_terminal();
                stdout.push(StdoutFormat::Table(TableOptions {
                    verbose: args.verbose,
                    color: use_color(args.color, is_terminal, &ColorEnv::from_process()),
                    // Off a terminal, rows stay whole lines for grep and logs.
                    width: if is_terminal { terminal_width() } else { None },
                }));
            }
            Some(Format::Json) => stdout.push(StdoutFormat::Json),
            Some(Format::Markdown) if !markdown_to_stdout => stdout.push(StdoutFormat::Markdown),
            Some(Format::Markdown) | None => {}
        }
        Ok(Outputs {
            junit: args.junit.clone(),
            json: args.json.clone(),
            markdown: args.markdown.clone().filter(|_| !markdown_to_stdout),
            markdown_max_chars: args.markdown_max_chars,
            sarif: args.sarif.clone(),
            csv: args.csv.clone(),
            html: args.html.clone(),
            stdout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_follows_the_flag_then_the_environment_then_the_terminal() {
        use ColorChoice::{Always, Auto, Never};
        // (flag, stdout is a terminal, NO_COLOR, CLICOLOR_FORCE, coloured)
        let cases = [
            (Auto, true, None, None, true),
            (Auto, false, None, None, false),
            (Auto, true, Some("1"), None, false),
            // no-color.org: an empty NO_COLOR does not disable colour.
            (Auto, true, Some(""), None, true),
            (Auto, false, None, Some("1"), true),
            (Auto, false, None, Some(""), true),
            (Auto, false, None, Some("0"), false),
            (Auto, true, None, Some("0"), true),
            (Auto, false, Some("1"), Some("1"), false),
            (Auto, false, Some(""), Some("1"), true),
            (Always, false, None, None, true),
            (Always, true, Some("1"), Some("0"), true),
            (Never, true, None, None, false),
            (Never, false, None, Some("1"), false),
        ];
        for (choice, terminal, no_color, force, coloured) in cases {
            let env = ColorEnv {
                no_color: no_color.map(OsString::from),
                clicolor_force: force.map(OsString::from),
            };
            assert_eq!(
                use_color(choice, terminal, &env),
                coloured,
                "{choice:?}, terminal {terminal}, {env:?}"
            );
        }
    }

    #[test]
    fn progress_is_a_bar_on_a_terminal_else_a_line_every_ten_seconds() {
        assert_eq!(progress_display(true, Some("5")), ProgressDisplay::Bar);
        let every = |ms| match progress_display(false, ms) {
            ProgressDisplay::Lines { every } => every,
            other => panic!("{other:?}"),
        };
        assert_eq!(every(None), Duration::from_secs(10));
        assert_eq!(every(Some("250")), Duration::from_millis(250));
        for unusable in ["0", "-5", "soon", ""] {
            assert_eq!(every(Some(unusable)), Duration::from_secs(10), "{unusable}");
        }
    }
}
