//! What each command does, given settled options.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use jiff::Timestamp;

use super::request::{AuditRequest, Input, Outputs, StdoutFormat, collect_options, load_rules};
use super::{
    Cli, CollectArgs, Command, DiffArgs, Format, IamPolicyOrgArgs, ReportArgs, RuleArgs,
    RulesCommand,
};
use crate::collect::{self, CollectOptions};
use crate::config::{Config, FailOn};
use crate::gate::{self, GateOptions};
use crate::lang::Diagnostics;
use crate::model::{Inventory, names, schema};
use crate::report::{self, Report};
use crate::rules::{Rule, RuleSet};
use crate::{audit, demo, describe, input, plan, render};

/// Exit statuses: they are an interface, CI scripts branch on them.
pub const EXIT_GATE_FAILED: u8 = 1;
pub const EXIT_INVALID: u8 = 2;
pub const EXIT_UNAVAILABLE: u8 = 3;

/// Why a command stopped early; each maps to one exit status.
#[derive(Debug)]
pub enum CommandError {
    /// Bad invocation, config, rules or input file (exit 2).
    Invalid(String),
    /// Nothing could be audited: no credentials, endpoint unreachable (exit 3).
    Unavailable(String),
}

impl CommandError {
    pub fn exit_status(&self) -> u8 {
        match self {
            CommandError::Invalid(_) => EXIT_INVALID,
            CommandError::Unavailable(_) => EXIT_UNAVAILABLE,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            CommandError::Invalid(m) | CommandError::Unavailable(m) => m,
        }
    }
}

impl From<Diagnostics> for CommandError {
    fn from(d: Diagnostics) -> Self {
        let n = d.0.len();
        CommandError::Invalid(format!(
            "{d}\n{n} error{} in rules or configuration",
            if n == 1 { "" } else { "s" }
        ))
    }
}

/// Runs one command. `Ok(false)`: it ran, and the gate failed.
pub fn run(cli: Cli) -> Result<bool, CommandError> {
    match cli.command {
        Command::Audit(args) => audit(AuditRequest::resolve(*args)?),
        Command::Collect(args) => collect(args).map(|()| true),
        Command::Rules(RulesCommand::List { rules }) => {
            load_rules(&rules).map(|(_, _, engine)| print(&describe::rules_table(&engine)))
        }
        Command::Rules(RulesCommand::Check { dir }) => check_rules(&dir),
        Command::Explain { rule_id, rules } => explain(&rule_id, &rules),
        Command::Schema { type_name } => show_schema(type_name.as_deref()),
        Command::IamPolicy { rules, org } => iam_policy(&rules, &org),
        Command::Init { path, force } => init(&path, force),
        Command::Diff(args) => diff(&args),
        Command::Merge { reports, output } => merge(&reports, &output),
        Command::Completions { shell } => Ok(completions(shell)),
        Command::Man { out } => man(out.as_deref()),
        Command::Report(args) => html_report(&args),
    }
}

/// `iam-policy`: the audit role's policy, or with `--org` the three
/// documents of an organisation audit.
fn iam_policy(rules: &RuleArgs, org: &IamPolicyOrgArgs) -> Result<bool, CommandError> {
    let (_, _, engine) = load_rules(rules)?;
    let operations = engine.required_operations();
    if !org.org {
        return Ok(print(&describe::iam_policy(&operations)));
    }
    if let Some(account) = &org.caller_account {
        names::check_account(account)
            .map_err(|e| CommandError::Invalid(format!("--caller-account: {e}")))?;
    }
    names::check_role_name(&org.role_name)
        .map_err(|e| CommandError::Invalid(format!("--role-name: {e}")))?;
    let audit = describe::OrgAudit {
        caller_account: org.caller_account.as_deref(),
        role_name: &org.role_name,
        external_id: org.external_id.as_deref(),
    };
    Ok(print(&describe::iam_policy_for_org(&operations, &audit)))
}

fn audit(request: AuditRequest) -> Result<bool, CommandError> {
    // The plan first: a bad plan file is exit 2 before any AWS call.
    let planned = match &request.plan {
        Some((path, options)) => Some(
            plan::read(&read(path)?, path, options)
                .map_err(|e| CommandError::Invalid(e.to_string()))?,
        ),
        None => None,
    };
    let inventory = match &request.input {
        Input::PlanOnly => Inventory::default(),
        Input::Demo => demo::inventory().map_err(|e| CommandError::Invalid(e.to_string()))?,
        Input::Inventory(path) => tracing::debug_span!("read inventory").in_scope(|| {
            Inventory::from_json(&read(path)?, &path.display().to_string())
                .map_err(|e| CommandError::Invalid(e.to_string()))
        })?,
        Input::Live(options) => collect_live(options)?,
    };
    let inventory = match (planned, &request.input) {
        (Some(planned), Input::PlanOnly) => planned.inventory,
        (Some(planned), _) => plan::overlay(inventory, planned),
        (None, _) => inventory,
    };
    audit::check_scope_reaches(&request.config.scope, &inventory.source.regions)
        .map_err(CommandError::Invalid)?;
    let now = request
        .clock
        .or(inventory.collected_at)
        .unwrap_or_else(Timestamp::now);
    let report = audit::run(&request.engine, inventory, &request.config, now);

    for unused in &report.unused_waivers {
        eprintln!(
            "warning[unused-waiver]: {}: waiver for rule `{}` and resource `{}` matched no failing result; remove it",
            unused.location, unused.rule, unused.resource
        );
    }
    write_reports(&request.outputs, &report, request.engine.rules())?;
    if let Some(path) = &request.outputs.html {
        write(path, &render::html::render(&report, &[], request.gate))?;
    }

    let blocking = gate::blocking(&report, request.gate, request.baseline.as_ref());
    if !blocking.is_empty() {
        let level = match request.gate.fail_on {
            FailOn::Severity(s) => s.to_string(),
            FailOn::Never => "never".into(),
        };
        eprintln!(
            "backstop: gate failed: {} result{} at or above `{level}`{} (see --fail-on{})",
            blocking.len(),
            if blocking.len() == 1 { "" } else { "s" },
            if request.baseline.is_some() {
                " that are new since the baseline"
            } else {
                ""
            },
            if request.gate.allow_errors {
                ""
            } else {
                " and --allow-errors"
            }
        );
    }
    Ok(blocking.is_empty())
}

/// Writes every requested report. The files are written side by side, each
/// on a thread of its own, while stdout gets its formats in order: they only
/// read the report, and a large audit's JSON and JUnit take about as long
/// to write as the audit took.
fn write_reports(outputs: &Outputs, report: &Report, rules: &[Rule]) -> Result<(), CommandError> {
    type Job<'a> = Box<dyn FnOnce() -> Result<(), CommandError> + Send + 'a>;
    let mut files: Vec<(&str, Job<'_>)> = Vec::new();
    if let Some(path) = &outputs.junit {
        files.push((
            "junit",
            Box::new(|| write_streamed(path, |out| render::junit::write(report, rules, out))),
        ));
    }
    if let Some(path) = &outputs.json {
        files.push((
            "json",
            Box::new(|| write_streamed(path, |out| render::json::write(report, out))),
        ));
    }
    if let Some(path) = &outputs.markdown {
        let max_chars = outputs.markdown_max_chars;
        files.push((
            "markdown",
            Box::new(move || write(path, &render::markdown::render(report, max_chars))),
        ));
    }
    if let Some(path) = &outputs.sarif {
        files.push((
            "sarif",
            Box::new(|| write_streamed(path, |out| render::sarif::write(report, rules, out))),
        ));
    }
    if let Some(path) = &outputs.csv {
        files.push((
            "csv",
            Box::new(|| write_streamed(path, |out| render::csv::write(report, out))),
        ));
    }
    std::thread::scope(|scope| {
        let written: Vec<_> = files
            .into_iter()
            .map(|(format, job)| {
                scope.spawn(move || tracing::debug_span!("report", format).in_scope(job))
            })
            .collect();
        for format in &outputs.stdout {
            let _timed = tracing::debug_span!("stdout report").entered();
            match *format {
                StdoutFormat::Table(options) => print(&render::table::render(report, &options)),
                StdoutFormat::Json => print_streamed(|out| render::json::write(report, out)),
                StdoutFormat::Markdown => print(&render::markdown::render(
                    report,
                    outputs.markdown_max_chars,
                )),
            };
        }
        // The scope waits for every file before the first failure returns.
        written.into_iter().try_for_each(|thread| {
            thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    })
}

fn collect_live(options: &CollectOptions) -> Result<Inventory, CommandError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::Unavailable(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(collect::collect(options))
        .map_err(|e| CommandError::Unavailable(e.to_string()))
}

fn collect(args: CollectArgs) -> Result<(), CommandError> {
    let config = Config::discover(args.rules.config.as_deref())?;
    // Everything, not just what today's rules read: the saved inventory may
    // be audited later with other rules or params.
    let inventory = collect_live(&collect_options(
        &args.aws,
        &config,
        collect::Plan::everything(),
    )?)?;
    write(&args.output, &inventory.to_json())?;
    eprintln!(
        "backstop: saved {} resources ({} failed calls) to {}",
        inventory.resources.len(),
        inventory.errors.len(),
        args.output.display()
    );
    Ok(())
}

fn check_rules(dir: &Path) -> Result<bool, CommandError> {
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

fn explain(rule_id: &str, args: &RuleArgs) -> Result<bool, CommandError> {
    let config = Config::discover(args.config.as_deref())?;
    let mut config_all_enabled = config.clone();
    // Explaining a disabled rule is still useful.
    config_all_enabled.settings.disabled.clear();
    let (rules, engine) = audit::load_rules(&config_all_enabled, &args.rule_dirs)?;
    match engine.rules().iter().find(|r| r.id() == rule_id) {
        Some(rule) => Ok(print(&describe::explain(rule))),
        None => {
            let hint = crate::lang::diagnostic::did_you_mean(
                rule_id,
                rules.rules().iter().map(|r| r.id.as_str()),
            )
            .unwrap_or_else(|| "`backstop rules list` shows the rule ids".into());
            Err(CommandError::Invalid(format!(
                "unknown rule `{rule_id}`; {hint}"
            )))
        }
    }
}

fn show_schema(type_name: Option<&str>) -> Result<bool, CommandError> {
    match type_name {
        None => Ok(print(&describe::schema(None))),
        Some(name) => match schema::resource_type(name) {
            Some(kind) => Ok(print(&describe::schema(Some(kind)))),
            None => {
                let hint = crate::lang::diagnostic::did_you_mean(
                    name,
                    schema::RESOURCE_TYPES.iter().map(|t| t.name),
                )
                .unwrap_or_else(|| "`backstop schema` lists the types".into());
                Err(CommandError::Invalid(format!(
                    "unknown resource type `{name}`; {hint}"
                )))
            }
        },
    }
}

fn init(path: &Path, force: bool) -> Result<bool, CommandError> {
    if path.exists() && !force {
        return Err(CommandError::Invalid(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    write(path, crate::config::STARTER)?;
    eprintln!(
        "backstop: wrote {}; `backstop audit` reads it from this folder",
        path.display()
    );
    Ok(true)
}

pub(super) fn read_report(path: &Path) -> Result<Report, CommandError> {
    Report::from_json(&read(path)?).map_err(|e| {
        CommandError::Invalid(format!(
            "{}: not a backstop JSON report: {e}",
            path.display()
        ))
    })
}

fn diff(args: &DiffArgs) -> Result<bool, CommandError> {
    let diff = report::Diff::between(&read_report(&args.old)?, &read_report(&args.new)?);
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

fn merge(inputs: &[PathBuf], output: &Path) -> Result<bool, CommandError> {
    let reports = inputs
        .iter()
        .map(|p| read_report(p))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = report::merge(&reports);
    write_streamed(output, |out| render::json::write(&merged, out))?;
    eprintln!(
        "backstop: merged {} reports ({} results) into {}",
        reports.len(),
        merged.results.len(),
        output.display()
    );
    Ok(true)
}

fn completions(shell: clap_complete::Shell) -> bool {
    // Into memory first: clap_complete panics on a failed write, and a
    // closed pipe is not an error.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "backstop", &mut script);
    print(&String::from_utf8_lossy(&script))
}

/// One page per command, as `git` and `cargo` ship them. On stdout they
/// follow each other in one stream, each from its own `.TH`, which `man -l`
/// and groff show in turn: one installed file covers every command.
fn man(out: Option<&Path>) -> Result<bool, CommandError> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut pages = Vec::new();
    man_pages(command, &mut pages);
    let roff = |page: &clap_mangen::Man| {
        let mut roff = Vec::new();
        page.render(&mut roff).expect("writing to memory");
        String::from_utf8_lossy(&roff).into_owned()
    };
    match out {
        Some(dir) => {
            for page in &pages {
                write(&dir.join(page.get_filename()), &roff(page))?;
            }
            eprintln!(
                "backstop: wrote {} man pages to {}",
                pages.len(),
                dir.display()
            );
            Ok(true)
        }
        None => Ok(print(&pages.iter().map(roff).collect::<String>())),
    }
}

/// The command's page, then its subcommands' (depth first).
fn man_pages(command: clap::Command, pages: &mut Vec<clap_mangen::Man>) {
    let subcommands: Vec<_> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    // Subcommands carry no version of their own: name the tool's in each footer.
    let source = format!("backstop {}", env!("CARGO_PKG_VERSION"));
    pages.push(clap_mangen::Man::new(command).source(source));
    for sub in subcommands {
        man_pages(sub, pages);
    }
}

/// The HTML page of the current report, with trends over the older ones.
/// Its gate verdict is at the default threshold: these are reports, not an
/// audit with a configuration.
fn html_report(args: &ReportArgs) -> Result<bool, CommandError> {
    let current = read_report(&args.current)?;
    let older = args
        .older
        .iter()
        .map(|p| read_report(p))
        .collect::<Result<Vec<_>, _>>()?;
    write(
        &args.html,
        &render::html::render(&current, &older, GateOptions::default()),
    )?;
    eprintln!(
        "backstop: wrote {} from {} report{}",
        args.html.display(),
        older.len() + 1,
        if older.is_empty() { "" } else { "s" }
    );
    Ok(true)
}

/// Reads an inventory or JSON report: a regular file, at most
/// [`input::DATA_FILE_LIMIT`] bytes.
fn read(path: &Path) -> Result<String, CommandError> {
    input::read_text(path, input::DATA_FILE_LIMIT).map_err(|e| {
        CommandError::Invalid(match e.position() {
            Some((line, col)) => format!("{}:{line}:{col}: cannot read: {e}", path.display()),
            None => format!("cannot read {}: {e}", path.display()),
        })
    })
}

fn write(path: &Path, text: &str) -> Result<(), CommandError> {
    std::fs::write(path, text)
        .map_err(|e| CommandError::Invalid(format!("cannot write {}: {e}", path.display())))
}

/// Bytes a streamed report gathers before each write: a few hundred
/// megabytes of report in few system calls.
const STREAM_BUFFER: usize = 1 << 16;

/// Writes a large report as it is rendered, without holding its text.
fn write_streamed(
    path: &Path,
    render: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), CommandError> {
    let failed =
        |e: std::io::Error| CommandError::Invalid(format!("cannot write {}: {e}", path.display()));
    let mut out = std::io::BufWriter::with_capacity(
        STREAM_BUFFER,
        std::fs::File::create(path).map_err(failed)?,
    );
    render(&mut out).and_then(|()| out.flush()).map_err(failed)
}

/// Prints a large report as it is rendered; a closed pipe is not an error.
fn print_streamed(
    render: impl FnOnce(&mut std::io::BufWriter<std::io::StdoutLock>) -> std::io::Result<()>,
) -> bool {
    let mut out = std::io::BufWriter::with_capacity(STREAM_BUFFER, std::io::stdout().lock());
    let _ = render(&mut out).and_then(|()| out.flush());
    true
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn print(text: &str) -> bool {
    let _ = std::io::stdout().write_all(text.as_bytes());
    true
}
