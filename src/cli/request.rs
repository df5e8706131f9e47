//! `backstop audit`'s flags and `backstop.yaml` settled once into one value:
//! each option (regions, gate threshold, outputs, scope, the AWS calls to
//! make) is decided here, and the commands only carry it out.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;

use super::commands::{CommandError, read_report};
use super::{AuditArgs, AwsArgs, Format, RuleArgs};
use crate::audit;
use crate::collect::{CollectOptions, Plan};
use crate::config::Config;
use crate::gate::{DEFAULT_FAIL_ON, GateOptions};
use crate::plan::PlanOptions;
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
    Live(CollectOptions),
}

/// Report files, and what goes to stdout (in this order).
pub struct Outputs {
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    /// The Markdown report's cap in characters (file and stdout alike).
    pub markdown_max_chars: usize,
    pub sarif: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub stdout: Vec<StdoutFormat>,
}

pub enum StdoutFormat {
    Table { verbose: bool, color: bool },
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
/// (else, inside collection, the AWS profile's).
pub fn collect_options(aws: &AwsArgs, config: &Config, plan: Plan) -> CollectOptions {
    CollectOptions {
        regions: if aws.regions.is_empty() {
            config.regions.clone()
        } else {
            aws.regions.clone()
        },
        profile: aws.profile.clone(),
        concurrency: aws.concurrency.into(),
        operation_timeout: Duration::from_secs(aws.timeout),
        plan,
        export_locations: config.export_locations.clone(),
        progress: std::io::stderr().is_terminal(),
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
            Input::Live(collect_options(&args.aws, &config, plan))
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
        let files = [&args.junit, &args.json, &args.markdown, &args.html]
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
            Some(Format::Table) => stdout.push(StdoutFormat::Table {
                verbose: args.verbose,
                color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            }),
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
            html: args.html.clone(),
            stdout,
        })
    }
}
