//! Rules: loading and validating YAML rule files, the condition language, and
//! evaluation against an inventory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub mod condition;
pub mod definition;
pub mod evaluate;

pub use condition::ParamValue;
pub use definition::RuleDef;
use evaluate::Conditions;
pub use evaluate::{Engine, Evaluation, Rule, Verdict};

use crate::lang::diagnostic;
use crate::lang::yaml;
use crate::lang::{Code, Diagnostic, Diagnostics};
use crate::model::schema;
use crate::report::Severity;
use condition::Compiler;

/// The built-in rule pack, embedded at build time: (path, text).
static BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Rule definitions from the built-in pack and any `--rules` folders.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    defs: Vec<RuleDef>,
}

/// How the configuration adjusts the rules of one audit.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub disabled: BTreeSet<String>,
    pub severity: BTreeMap<String, Severity>,
    /// Param overrides per rule id.
    pub params: BTreeMap<String, BTreeMap<String, ParamValue>>,
}

impl RuleSet {
    /// The built-in pack alone.
    pub fn builtin() -> Result<RuleSet, Diagnostics> {
        let mut set = RuleSet::default();
        let mut diags = Vec::new();
        for (path, text) in BUILTIN {
            if let Err(d) = set.add_source(&format!("builtin:{path}"), text) {
                diags.extend(d.0);
            }
        }
        if diags.is_empty() {
            Ok(set)
        } else {
            Err(Diagnostics(diags))
        }
    }

    /// Adds every `*.yaml` / `*.yml` file under `dir`, recursively, except
    /// case files (see [`CASE_FILE_SUFFIX`]).
    pub fn add_dir(&mut self, dir: &Path) -> Result<usize, Diagnostics> {
        let mut files = Vec::new();
        collect_yaml_files(dir, &mut files).map_err(|e| {
            Diagnostics(vec![Diagnostic {
                file: dir.display().to_string(),
                line: 0,
                col: 0,
                code: Code::Io,
                message: format!("cannot read rule folder: {e}"),
                help: None,
            }])
        })?;
        files.sort();
        let mut diags = Vec::new();
        for path in &files {
            let shown = path.display().to_string();
            match crate::input::read_text(path, crate::input::YAML_FILE_LIMIT) {
                Ok(text) => {
                    if let Err(d) = self.add_source(&shown, &text) {
                        diags.extend(d.0);
                    }
                }
                Err(e) => diags.push(Diagnostic::read_error(&shown, "cannot read rule file", &e)),
            }
        }
        if diags.is_empty() {
            Ok(files.len())
        } else {
            Err(Diagnostics(diags))
        }
    }

    /// Parses and validates one rule file; `file` names it in diagnostics.
    pub fn add_source(&mut self, file: &str, text: &str) -> Result<(), Diagnostics> {
        let stem = Path::new(file.trim_start_matches("builtin:"))
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let def = RuleDef::parse(file, &stem, text).map_err(Diagnostics)?;
        if let Some(first) = self.get(&def.id) {
            return Err(Diagnostics(vec![
                Diagnostic::new(
                    file,
                    def.id_mark,
                    Code::DuplicateId,
                    format!("rule id `{}` is already defined", def.id),
                )
                .with_help(format!(
                    "first defined at {}:{}:{}",
                    first.file, first.id_mark.line, first.id_mark.col
                )),
            ]));
        }
        compile(&def, &def.params, None).map_err(Diagnostics)?;
        self.defs.push(def);
        Ok(())
    }

    pub fn rules(&self) -> &[RuleDef] {
        &self.defs
    }

    pub fn get(&self, id: &str) -> Option<&RuleDef> {
        self.defs.iter().find(|d| d.id == id)
    }

    /// Compiles the enabled rules with the configured params and severities.
    pub fn compile(&self, settings: &Settings) -> Result<Engine, Diagnostics> {
        let mut rules = Vec::new();
        let mut diags = Vec::new();
        for def in &self.defs {
            if settings.disabled.contains(&def.id) {
                continue;
            }
            let mut params = def.params.clone();
            if let Some(overrides) = settings.params.get(&def.id) {
                for (name, value) in overrides {
                    match def.params.get(name) {
                        Some(default)
                            if same_shape(&default.node, &value.node)
                                || measure_in_units(def, name, &default.node, &value.node) =>
                        {
                            params.insert(name.clone(), value.clone());
                        }
                        Some(default) => diags.push(Diagnostic::new(
                            &value.file,
                            value.node.mark,
                            Code::TypeMismatch,
                            format!(
                                "param `{name}` of rule `{}` takes {} (default: {}), found {}",
                                def.id,
                                default.node.describe(),
                                default.node.text().unwrap_or("a list"),
                                value.node.describe()
                            ),
                        )),
                        None => {
                            let mut d = Diagnostic::new(
                                &value.file,
                                value.node.mark,
                                Code::UnknownParam,
                                format!("rule `{}` has no param `{name}`", def.id),
                            );
                            d.help = diagnostic::did_you_mean(
                                name,
                                def.params.keys().map(String::as_str),
                            )
                            .or_else(|| {
                                Some(format!("`backstop explain {}` lists its params", def.id))
                            });
                            diags.push(d);
                        }
                    }
                }
            }
            match compile(def, &params, settings.severity.get(&def.id).copied()) {
                Ok(rule) => rules.push(rule),
                Err(d) => diags.extend(d),
            }
        }
        if diags.is_empty() {
            Ok(Engine::new(rules))
        } else {
            Err(Diagnostics(diags))
        }
    }
}

fn compile(
    def: &RuleDef,
    params: &BTreeMap<String, ParamValue>,
    severity: Option<Severity>,
) -> Result<Rule, Vec<Diagnostic>> {
    // The conditions compile against each type the rule judges: an attribute
    // one of them lacks is reported naming that type. A mistake every type
    // shares is reported once.
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut reads = BTreeSet::new();
    let mut reads_tags = false;
    let mut used_params = BTreeSet::new();
    let mut compiled = Vec::new();
    for &resource_type in &def.resource_types {
        let mut compiler = Compiler::new(&def.file, resource_type, params);
        let when = def.when.as_ref().map(|w| compiler.condition(w));
        let assert = compiler.condition(&def.assert);
        for diagnostic in compiler.diagnostics {
            if !diagnostics.contains(&diagnostic) {
                diagnostics.push(diagnostic);
            }
        }
        reads.extend(compiler.reads);
        reads_tags |= compiler.reads_tags;
        used_params.extend(compiler.used_params);
        // `when` is optional: absent is fine, present but not compiled is not.
        let when = match when {
            None => Some(None),
            Some(compiled) => compiled.map(Some),
        };
        compiled.push(
            assert
                .zip(when)
                .map(|(assert, when)| Conditions { when, assert }),
        );
    }
    let is_collection_param = |name: &str| {
        def.resource_types
            .iter()
            .any(|t| schema::collection_param(t.name, &reads, name).is_some())
    };
    for (name, value) in params {
        if !used_params.contains(name) && is_collection_param(name) {
            check_region_list(name, value, &mut diagnostics);
        }
    }
    for (name, value) in &def.params {
        if !used_params.contains(name) && !is_collection_param(name) {
            diagnostics.push(
                Diagnostic::new(
                    &value.file,
                    value.node.mark,
                    Code::UnusedParam,
                    format!("param `{name}` is never used"),
                )
                .with_help(format!(
                    "refer to it as `${name}` in `when` or `assert`, or remove it"
                )),
            );
        }
    }
    let Some(conditions) = compiled.into_iter().collect::<Option<Vec<_>>>() else {
        if diagnostics.is_empty() {
            // Every failing path reports why; this guards the promise that a
            // bad rule never loads silently half-compiled.
            diagnostics.push(Diagnostic::new(
                &def.file,
                def.id_mark,
                Code::InvalidCondition,
                "this rule's conditions could not be compiled",
            ));
        }
        return Err(diagnostics);
    };
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    // The rule carries its effective params: collection params reach the
    // collection plan from there.
    let mut effective = def.clone();
    effective.params = params.clone();
    Ok(Rule::new(
        effective,
        severity.unwrap_or(def.severity),
        conditions,
        reads,
        reads_tags,
    ))
}

/// A collection param holding region names: a list of strings, each
/// shaped like a region (`eu-west-1`), so a typo is an error, not a region
/// silently never searched.
fn check_region_list(name: &str, value: &ParamValue, diagnostics: &mut Vec<Diagnostic>) {
    let Some(items) = value.node.as_seq() else {
        diagnostics.push(Diagnostic::new(
            &value.file,
            value.node.mark,
            Code::TypeMismatch,
            format!(
                "param `{name}` takes a list of region names, found {}",
                value.node.describe()
            ),
        ));
        return;
    };
    for item in items {
        match item.scalar() {
            Some(yaml::Scalar::Str(region)) if crate::model::names::is_region(region) => {}
            _ => diagnostics.push(
                Diagnostic::new(
                    &value.file,
                    item.mark,
                    Code::InvalidRegion,
                    format!(
                        "param `{name}`: {} is not a region name",
                        item.text()
                            .map_or_else(|| item.describe().to_string(), |t| format!("{t:?}"))
                    ),
                )
                .with_help("region names look like `eu-west-1` or `us-gov-west-1`"),
            ),
        }
    }
}

/// Whether an override has the same kind of value as the default.
fn same_shape(default: &yaml::Node, value: &yaml::Node) -> bool {
    use yaml::Scalar;
    match (default.scalar(), value.scalar()) {
        (Some(a), Some(b)) => matches!(
            (a, b),
            (Scalar::Bool(_), Scalar::Bool(_))
                | (Scalar::Int(_), Scalar::Int(_))
                | (Scalar::Str(_), Scalar::Str(_))
        ),
        (None, None) => default.as_seq().is_some() && value.as_seq().is_some(),
        _ => false,
    }
}

/// Whether `value`, an integer overriding the duration `default` of param
/// `name`, is fine: the rule compares the param only with integers that
/// measure time, and an integer is then a number of their unit (as such
/// params were once written, so saved configs keep working).
fn measure_in_units(def: &RuleDef, name: &str, default: &yaml::Node, value: &yaml::Node) -> bool {
    let (Some(yaml::Scalar::Str(d)), Some(yaml::Scalar::Int(_))) =
        (default.scalar(), value.scalar())
    else {
        return false;
    };
    if crate::lang::duration::parse(d).is_err() {
        return false;
    }
    def.resource_types.iter().all(|&resource_type| {
        let mut compiler = Compiler::new(&def.file, resource_type, &def.params);
        if let Some(when) = &def.when {
            compiler.condition(when);
        }
        compiler.condition(&def.assert);
        compiler.params_as_measures.contains(name) && !compiler.params_otherwise.contains(name)
    })
}

/// Deepest folder nesting searched for rule files below a `--rules` folder.
/// A symlink to a parent folder would otherwise be followed round and round.
pub const MAX_FOLDER_DEPTH: usize = 16;

/// How the name of a rule's case file ends (`rds-multi-az.cases.yaml` next
/// to `rds-multi-az.yaml`). A case file holds resources the rule must pass,
/// fail or leave out, for the rule's tests; it is no rule, so a rule folder
/// may keep its rules' cases beside them.
pub const CASE_FILE_SUFFIX: &str = ".cases.yaml";

/// A case file: named `<id>.cases.yaml` beside its rule `<id>.yaml`. A file
/// so named without its rule is read as a rule, so a rule that merely has
/// an unlucky name fails loudly instead of being skipped.
fn is_case_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.strip_suffix(CASE_FILE_SUFFIX)
        .is_some_and(|id| path.with_file_name(format!("{id}.yaml")).is_file())
}

/// Every `*.yaml` / `*.yml` below `dir` but case files. Anything else with
/// such a name (a FIFO, a device, a broken link) is listed too, so reading
/// it reports it; it is never silently skipped.
fn collect_yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    collect_yaml_files_below(dir, out, 0)
}

fn collect_yaml_files_below(
    dir: &Path,
    out: &mut Vec<std::path::PathBuf>,
    depth: usize,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if depth >= MAX_FOLDER_DEPTH {
                return Err(std::io::Error::other(format!(
                    "{} is nested deeper than {MAX_FOLDER_DEPTH} folders (a symlink loop?)",
                    path.display()
                )));
            }
            collect_yaml_files_below(&path, out, depth + 1)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) && !is_case_file(&path)
        {
            out.push(path);
        }
    }
    Ok(())
}
