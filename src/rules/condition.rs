//! The condition language: compiled once from YAML, evaluated per resource.
//!
//! A condition is a mapping of `subject: {operator: operand, ...}` entries
//! (all must hold), combined with `all:`, `any:` and `not:`. Subjects are the
//! resource type's attributes, the common fields (`id`, `arn`, `account`,
//! `region`), `tags.KEY`, or a `$param`. Operands are literals, `$param`
//! references, or `$self.ATTR` (an attribute of the resource being judged,
//! useful inside `any:` over a list).
//!
//! Everything is type-checked against the schema when the rule compiles, so
//! evaluation never meets a type it does not expect. Truth has three values:
//! a test of an unknown fact (not read, not sent) is *unknown*, and `not:`
//! leaves it unknown, so it can neither pass nor fail a rule. A known
//! absence is a fact: `absent` holds on it, `eq` is false and `ne` true.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use globset::{Glob, GlobSet, GlobSetBuilder};
use jiff::{SignedDuration, Timestamp};
use regex::Regex;

use crate::lang::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::lang::duration;
use crate::lang::yaml::{Mark, Node, NodeKind, Scalar};
use crate::model::schema::{AttrType, Attribute, COMMON_ATTRIBUTES, ResourceType};
use crate::model::{Resource, Value};

pub const OPERATORS: &[&str] = &[
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "not_in",
    "present",
    "absent",
    "matches",
    "glob",
    "contains",
    "length",
    "any",
    "all",
    "none",
    "newer_than",
    "older_than",
];

const COMBINATORS: &[&str] = &["all", "any", "not"];

/// A compiled condition.
#[derive(Debug)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    Check { subject: Subject, tests: Vec<Test> },
}

#[derive(Debug)]
pub enum Subject {
    /// An attribute of the resource, by its index in the schema.
    Attr {
        index: usize,
        name: &'static str,
    },
    Common(Common),
    Tag(String),
    /// A field of the list element being examined by `any`/`all`/`none`.
    Field(&'static Attribute),
    /// A `$param` used as a subject: its value is known at compile time.
    Param {
        name: String,
        value: Value,
    },
}

#[derive(Debug, Clone, Copy)]
pub enum Common {
    Id,
    Arn,
    Account,
    Region,
}

#[derive(Debug)]
pub enum Test {
    Compare {
        op: CmpOp,
        operand: Operand,
    },
    In {
        negated: bool,
        values: Vec<Value>,
    },
    Present(bool),
    Matches(Regex),
    Glob {
        set: GlobSet,
        patterns: Vec<String>,
    },
    Contains(Operand),
    Length(Vec<Test>),
    Quantified {
        quantifier: Quantifier,
        element: Element,
    },
    /// `newer_than` / `older_than`. `overrides` are `$self.ATTR` duration
    /// strings tried first (from `[$self.max_age, $max_age]`); `limit` applies
    /// when none is present.
    Age {
        newer: bool,
        limit: SignedDuration,
        overrides: Vec<Subject>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Debug, Clone, Copy)]
pub enum Quantifier {
    Any,
    All,
    None,
}

#[derive(Debug)]
pub enum Element {
    /// Elements of a list of strings, tested directly.
    Scalar(Vec<Test>),
    /// Elements of a list of objects, tested by a condition over their fields.
    Object(Box<Condition>),
}

#[derive(Debug)]
pub enum Operand {
    Const(Value),
    /// `$self.ATTR`: read from the resource under evaluation.
    OfResource(Subject),
}

/// What a condition is evaluated against.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub resource: &'a Resource,
    pub now: Timestamp,
    element: Option<&'a BTreeMap<String, Value>>,
}

impl<'a> Env<'a> {
    pub fn new(resource: &'a Resource, now: Timestamp) -> Self {
        Env {
            resource,
            now,
            element: None,
        }
    }
}

// ---------------------------------------------------------------------------
// Compilation

/// Where a condition's keys are looked up.
#[derive(Clone, Copy)]
enum Scope {
    Resource,
    Object(&'static [Attribute]),
}

/// Compiles conditions of one rule, collecting every diagnostic.
pub struct Compiler<'a> {
    pub file: &'a str,
    pub kind: &'static ResourceType,
    /// Parameter values by name (rule defaults, possibly overridden).
    pub params: &'a BTreeMap<String, ParamValue>,
    pub diagnostics: Vec<Diagnostic>,
    /// Attributes read, by name: decides which calls collection must make and
    /// which collection errors make a result `error`.
    pub reads: BTreeSet<&'static str>,
    pub reads_tags: bool,
    /// Params referenced, to warn about unused ones.
    pub used_params: BTreeSet<String>,
    /// Conditions and operator mappings being compiled, one inside another.
    depth: usize,
}

/// Deepest nesting of conditions and operator mappings compiled. Files
/// cannot nest deeper than the YAML parser allows; this also holds for
/// trees built in code, and bounds evaluation, which recurses the same way.
pub const MAX_CONDITION_DEPTH: usize = crate::lang::yaml::MAX_DEPTH;

impl<'a> Compiler<'a> {
    pub fn new(
        file: &'a str,
        kind: &'static ResourceType,
        params: &'a BTreeMap<String, ParamValue>,
    ) -> Self {
        Compiler {
            file,
            kind,
            params,
            diagnostics: Vec::new(),
            reads: BTreeSet::new(),
            reads_tags: false,
            used_params: BTreeSet::new(),
            depth: 0,
        }
    }

    /// Enters one more level of nesting; false (with a diagnostic) when
    /// that is too deep. Each `true` is paired with a `leave`.
    fn enter(&mut self, mark: Mark) -> bool {
        if self.depth >= MAX_CONDITION_DEPTH {
            self.error(
                mark,
                Code::InvalidCondition,
                format!("conditions nested deeper than {MAX_CONDITION_DEPTH} levels"),
            );
            return false;
        }
        self.depth += 1;
        true
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn error(&mut self, mark: Mark, code: Code, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(self.file, mark, code, message));
    }

    /// An error in an operand, which may come from a param set in another file.
    fn error_at(&mut self, at: &Derived, code: Code, message: impl Into<String>) {
        let from = at
            .param
            .as_ref()
            .map(|p| format!(" (from `${p}`)"))
            .unwrap_or_default();
        self.diagnostics.push(Diagnostic::new(
            &at.file,
            at.node.mark,
            code,
            format!("{}{from}", message.into()),
        ));
    }

    fn error_help(
        &mut self,
        mark: Mark,
        code: Code,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let mut d = Diagnostic::new(self.file, mark, code, message);
        d.help = help;
        self.diagnostics.push(d);
    }

    /// Compiles a top-level condition (`when:` or `assert:`).
    pub fn condition(&mut self, node: &Node) -> Option<Condition> {
        self.condition_in(node, Scope::Resource)
    }

    fn condition_in(&mut self, node: &Node, scope: Scope) -> Option<Condition> {
        if !self.enter(node.mark) {
            return None;
        }
        let compiled = self.condition_entries(node, scope);
        self.leave();
        compiled
    }

    fn condition_entries(&mut self, node: &Node, scope: Scope) -> Option<Condition> {
        let Some(entries) = node.as_map() else {
            self.error(
                node.mark,
                Code::InvalidCondition,
                format!(
                    "a condition must be a mapping of `attribute: {{operator: value}}`, found {}",
                    node.describe()
                ),
            );
            return None;
        };
        if entries.is_empty() {
            self.error(
                node.mark,
                Code::InvalidCondition,
                "a condition must not be empty",
            );
            return None;
        }
        let mut parts = Vec::new();
        let mut ok = true;
        for (key, value) in entries {
            let Some(name) = key.text() else {
                self.error(
                    key.mark,
                    Code::InvalidCondition,
                    "condition keys must be strings",
                );
                ok = false;
                continue;
            };
            let part = match name {
                "all" | "any" => self.combination(name, value, scope),
                "not" => self
                    .condition_in(value, scope)
                    .map(|c| Condition::Not(Box::new(c))),
                _ => self.check(key, name, value, scope),
            };
            match part {
                Some(p) => parts.push(p),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        Some(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Condition::All(parts)
        })
    }

    fn combination(&mut self, name: &str, node: &Node, scope: Scope) -> Option<Condition> {
        let Some(items) = node.as_seq() else {
            self.error(
                node.mark,
                Code::InvalidCondition,
                format!(
                    "`{name}:` takes a list of conditions, found {}",
                    node.describe()
                ),
            );
            return None;
        };
        if items.is_empty() {
            self.error(
                node.mark,
                Code::InvalidCondition,
                format!("`{name}:` must not be empty"),
            );
            return None;
        }
        let compiled: Vec<_> = items.iter().map(|i| self.condition_in(i, scope)).collect();
        let compiled: Option<Vec<_>> = compiled.into_iter().collect();
        let compiled = compiled?;
        Some(if name == "all" {
            Condition::All(compiled)
        } else {
            Condition::Any(compiled)
        })
    }

    fn check(&mut self, key: &Node, name: &str, tests: &Node, scope: Scope) -> Option<Condition> {
        // A param referenced where compilation fails is not also "unused".
        self.note_params(tests);
        let (subject, ty) = self.subject(key, name, scope)?;
        let tests = self.tests(tests, &ty, &subject_name(&subject))?;
        Some(Condition::Check { subject, tests })
    }

    fn note_params(&mut self, node: &Node) {
        // A loop over a stack, not recursion: the operand may be any tree.
        let mut pending = vec![node];
        while let Some(node) = pending.pop() {
            match &node.kind {
                NodeKind::Scalar { .. } => {
                    if let Some(name) = node.as_str().and_then(|s| s.strip_prefix('$'))
                        && !name.starts_with("self.")
                    {
                        self.used_params.insert(name.to_string());
                    }
                }
                NodeKind::Seq(items) => pending.extend(items),
                NodeKind::Map(entries) => {
                    pending.extend(entries.iter().flat_map(|(k, v)| [k, v]));
                }
            }
        }
    }

    fn subject(&mut self, key: &Node, name: &str, scope: Scope) -> Option<(Subject, AttrType)> {
        if let Some(param) = name.strip_prefix('$') {
            let p = self.param(key.mark, param)?;
            let derived = Derived {
                node: p.node,
                file: p.file,
                param: Some(param.to_string()),
            };
            let (value, ty) = self.param_value(&derived)?;
            return Some((
                Subject::Param {
                    name: param.to_string(),
                    value,
                },
                ty,
            ));
        }
        match scope {
            Scope::Object(fields) => match fields.iter().find(|f| f.name == name) {
                Some(f) => Some((Subject::Field(f), f.ty)),
                None => {
                    let help = did_you_mean(
                        name,
                        fields
                            .iter()
                            .map(|f| f.name)
                            .chain(COMBINATORS.iter().copied()),
                    );
                    self.error_help(
                        key.mark,
                        Code::UnknownAttribute,
                        format!(
                            "unknown field `{name}`; list elements have: {}",
                            fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
                        ),
                        help,
                    );
                    None
                }
            },
            Scope::Resource => self.resource_subject(key, name),
        }
    }

    fn resource_subject(&mut self, key: &Node, name: &str) -> Option<(Subject, AttrType)> {
        if let Some(tag) = name.strip_prefix("tags.") {
            if tag.is_empty() {
                self.error(
                    key.mark,
                    Code::UnknownAttribute,
                    "`tags.` needs a tag key, e.g. `tags.backup`",
                );
                return None;
            }
            self.reads_tags = true;
            return Some((Subject::Tag(tag.to_string()), AttrType::STR));
        }
        let common = match name {
            "id" => Some(Common::Id),
            "arn" => Some(Common::Arn),
            "account" => Some(Common::Account),
            "region" => Some(Common::Region),
            _ => None,
        };
        if let Some(c) = common {
            return Some((Subject::Common(c), AttrType::STR));
        }
        if let Some(index) = self.kind.attributes.iter().position(|a| a.name == name) {
            let attr = &self.kind.attributes[index];
            self.reads.insert(attr.name);
            return Some((
                Subject::Attr {
                    index,
                    name: attr.name,
                },
                attr.ty,
            ));
        }
        let candidates = self
            .kind
            .attributes
            .iter()
            .chain(COMMON_ATTRIBUTES)
            .map(|a| a.name)
            .chain(COMBINATORS.iter().copied());
        let help = if OPERATORS.contains(&name) {
            Some("operators go inside an attribute: `attribute: { op: value }`".into())
        } else {
            did_you_mean(name, candidates)
        };
        self.error_help(
            key.mark,
            Code::UnknownAttribute,
            format!("{} has no attribute `{name}`", self.kind.name),
            help.or_else(|| {
                Some(format!(
                    "`backstop schema {}` lists its attributes",
                    self.kind.name
                ))
            }),
        );
        None
    }

    fn param(&mut self, mark: Mark, name: &str) -> Option<ParamValue> {
        self.used_params.insert(name.to_string());
        match self.params.get(name) {
            Some(p) => Some(p.clone()),
            None => {
                // The param a typo was taken for is not also "unused".
                let keys = self.params.keys().map(String::as_str);
                if let Some(meant) = crate::model::schema::suggest(name, keys) {
                    self.used_params.insert(meant.to_string());
                }
                let help = did_you_mean(name, self.params.keys().map(String::as_str))
                    .or_else(|| Some("declare it under `params:`".into()));
                self.error_help(
                    mark,
                    Code::UnknownParam,
                    format!("unknown param `${name}`"),
                    help,
                );
                None
            }
        }
    }

    /// A param used as a subject: its type follows from its value.
    fn param_value(&mut self, at: &Derived) -> Option<(Value, AttrType)> {
        let node = &at.node;
        if let Some(items) = node.as_seq() {
            let strings: Option<Vec<_>> = items
                .iter()
                .map(|i| i.as_str().map(|s| Value::Str(s.into())))
                .collect();
            return match strings {
                Some(s) => Some((Value::List(s), AttrType::StrList)),
                None => {
                    self.error_at(at, Code::TypeMismatch, "list params must hold strings");
                    None
                }
            };
        }
        match node.scalar() {
            Some(Scalar::Bool(b)) => Some((Value::Bool(b), AttrType::Bool)),
            Some(Scalar::Int(i)) => Some((Value::Int(i), AttrType::Int)),
            Some(Scalar::Str(s)) => Some((Value::Str(s.into()), AttrType::STR)),
            _ => {
                let message = format!(
                    "params must be booleans, integers, strings or lists of strings, found {}",
                    node.describe()
                );
                self.error_at(at, Code::TypeMismatch, message);
                None
            }
        }
    }

    /// Resolves a `$param` operand to the param's value; other nodes unchanged.
    fn deref(&mut self, node: &Node) -> Option<Derived> {
        match node.as_str().and_then(|s| s.strip_prefix('$')) {
            Some(name) if !name.starts_with("self.") => {
                let p = self.param(node.mark, name)?;
                Some(Derived {
                    node: p.node,
                    file: p.file,
                    param: Some(name.to_string()),
                })
            }
            _ => Some(Derived {
                node: node.clone(),
                file: self.file.to_string(),
                param: None,
            }),
        }
    }

    fn tests(&mut self, node: &Node, ty: &AttrType, subject: &str) -> Option<Vec<Test>> {
        if !self.enter(node.mark) {
            return None;
        }
        let compiled = self.test_entries(node, ty, subject);
        self.leave();
        compiled
    }

    fn test_entries(&mut self, node: &Node, ty: &AttrType, subject: &str) -> Option<Vec<Test>> {
        let Some(entries) = node.as_map() else {
            self.error_help(
                node.mark,
                Code::InvalidCondition,
                format!(
                    "`{subject}` needs a mapping of operators, found {}",
                    node.describe()
                ),
                Some(format!("write `{subject}: {{ eq: value }}`")),
            );
            return None;
        };
        if entries.is_empty() {
            self.error(
                node.mark,
                Code::InvalidCondition,
                format!("`{subject}` has no operator"),
            );
            return None;
        }
        let mut tests = Vec::new();
        let mut ok = true;
        for (key, operand) in entries {
            match self.test(key, operand, ty, subject) {
                Some(t) => tests.push(t),
                None => ok = false,
            }
        }
        ok.then_some(tests)
    }

    fn test(&mut self, key: &Node, operand: &Node, ty: &AttrType, subject: &str) -> Option<Test> {
        let op = key.text().unwrap_or_default();
        let not_for = |c: &mut Self, what: &str| {
            c.error(
                key.mark,
                Code::TypeMismatch,
                format!(
                    "`{op}` does not apply to `{subject}`, which is {}{what}",
                    article(ty.name())
                ),
            );
            None
        };
        match op {
            "eq" | "ne" | "gt" | "gte" | "lt" | "lte" => {
                let cmp = match op {
                    "eq" => CmpOp::Eq,
                    "ne" => CmpOp::Ne,
                    "gt" => CmpOp::Gt,
                    "gte" => CmpOp::Gte,
                    "lt" => CmpOp::Lt,
                    _ => CmpOp::Lte,
                };
                let ordered = !matches!(cmp, CmpOp::Eq | CmpOp::Ne);
                match ty {
                    AttrType::StrList => not_for(self, "; use `contains`, `length` or `any`"),
                    AttrType::ObjectList(_) => {
                        not_for(self, "; use `length`, `any`, `all` or `none`")
                    }
                    AttrType::Bool | AttrType::Str { .. } if ordered => not_for(self, ""),
                    _ => {
                        let operand = self.operand(operand, ty)?;
                        Some(Test::Compare { op: cmp, operand })
                    }
                }
            }
            "in" | "not_in" => {
                if !matches!(ty, AttrType::Str { .. } | AttrType::Int) {
                    return not_for(self, "");
                }
                let at = self.deref(operand)?;
                let Some(items) = at.node.as_seq() else {
                    let message = format!("`{op}` takes a list, found {}", at.node.describe());
                    self.error_at(&at, Code::TypeMismatch, message);
                    return None;
                };
                let values: Option<Vec<_>> = items
                    .iter()
                    .map(|i| match at.param {
                        // Written in the rule: an item may be a `$param`.
                        None => self.literal(i, ty),
                        Some(_) => self.literal_in(at.with(i), ty),
                    })
                    .collect();
                Some(Test::In {
                    negated: op == "not_in",
                    values: values?,
                })
            }
            "present" | "absent" => {
                let at = self.deref(operand)?;
                match at.node.scalar() {
                    Some(Scalar::Bool(b)) => {
                        Some(Test::Present(if op == "present" { b } else { !b }))
                    }
                    _ => {
                        let message =
                            format!("`{op}` takes true or false, found {}", at.node.describe());
                        self.error_at(&at, Code::TypeMismatch, message);
                        None
                    }
                }
            }
            "matches" => {
                if !matches!(ty, AttrType::Str { .. }) {
                    return not_for(self, "");
                }
                let at = self.deref(operand)?;
                let pattern = self.string(&at, op)?;
                match Regex::new(&pattern) {
                    Ok(re) => Some(Test::Matches(re)),
                    Err(e) => {
                        self.error_at(
                            &at,
                            Code::InvalidRegex,
                            format!("invalid regex: {}", regex_problem(&e)),
                        );
                        None
                    }
                }
            }
            "glob" => {
                if !matches!(ty, AttrType::Str { .. }) {
                    return not_for(self, "");
                }
                let at = self.deref(operand)?;
                let items: Vec<Derived> = match (at.node.as_seq(), &at.param) {
                    (Some(items), None) => {
                        items.iter().map(|i| self.deref(i)).collect::<Option<_>>()?
                    }
                    (Some(items), Some(_)) => items.iter().map(|i| at.with(i)).collect(),
                    (None, _) => vec![at.clone()],
                };
                let mut builder = GlobSetBuilder::new();
                let mut patterns = Vec::new();
                for item in &items {
                    let p = self.string(item, op)?;
                    match Glob::new(&p) {
                        Ok(g) => {
                            builder.add(g);
                            patterns.push(p);
                        }
                        Err(e) => {
                            self.error_at(
                                item,
                                Code::InvalidGlob,
                                format!("invalid glob {p:?}: {}", e.kind()),
                            );
                            return None;
                        }
                    }
                }
                let set = match builder.build() {
                    Ok(set) => set,
                    Err(e) => {
                        self.error_at(
                            &at,
                            Code::InvalidGlob,
                            format!("invalid globs: {}", e.kind()),
                        );
                        return None;
                    }
                };
                Some(Test::Glob { set, patterns })
            }
            "contains" => match ty {
                AttrType::StrList | AttrType::Str { .. } => {
                    let operand = self.operand(operand, &AttrType::STR)?;
                    Some(Test::Contains(operand))
                }
                _ => not_for(self, ""),
            },
            "length" => match ty {
                AttrType::StrList | AttrType::ObjectList(_) | AttrType::Str { .. } => {
                    let inner =
                        self.tests(operand, &AttrType::Int, &format!("length of {subject}"))?;
                    Some(Test::Length(inner))
                }
                _ => not_for(self, ""),
            },
            "any" | "all" | "none" => {
                let quantifier = match op {
                    "any" => Quantifier::Any,
                    "all" => Quantifier::All,
                    _ => Quantifier::None,
                };
                let element = match ty {
                    AttrType::StrList => Element::Scalar(self.tests(
                        operand,
                        &AttrType::STR,
                        &format!("element of {subject}"),
                    )?),
                    AttrType::ObjectList(fields) => Element::Object(Box::new(
                        self.condition_in(operand, Scope::Object(fields))?,
                    )),
                    _ => return not_for(self, ""),
                };
                Some(Test::Quantified {
                    quantifier,
                    element,
                })
            }
            "newer_than" | "older_than" => {
                if !matches!(ty, AttrType::Time) {
                    return not_for(self, "");
                }
                let mut overrides = Vec::new();
                let fallback = match operand.as_seq() {
                    Some([first @ .., last]) => {
                        for item in first {
                            let Some(attr) = item.as_str().and_then(|s| s.strip_prefix("$self."))
                            else {
                                self.error(
                                    item.mark,
                                    Code::TypeMismatch,
                                    format!("in a list after `{op}`, all but the last item must be `$self.ATTR` references"),
                                );
                                return None;
                            };
                            let (subject, found) = self.resource_subject(item, attr)?;
                            if !matches!(found, AttrType::Str { .. }) {
                                self.error(item.mark, Code::TypeMismatch, format!("`$self.{attr}` must be a string attribute holding a duration"));
                                return None;
                            }
                            overrides.push(subject);
                        }
                        last
                    }
                    _ => operand,
                };
                let at = self.deref(fallback)?;
                let text = self.string(&at, op)?;
                match duration::parse(&text) {
                    Ok(limit) => Some(Test::Age {
                        newer: op == "newer_than",
                        limit,
                        overrides,
                    }),
                    Err(e) => {
                        self.error_at(&at, Code::InvalidDuration, e);
                        None
                    }
                }
            }
            _ => {
                let help = did_you_mean(op, OPERATORS.iter().copied())
                    .or_else(|| Some(format!("operators: {}", OPERATORS.join(", "))));
                self.error_help(
                    key.mark,
                    Code::UnknownOperator,
                    format!("unknown operator `{op}`"),
                    help,
                );
                None
            }
        }
    }

    fn string(&mut self, at: &Derived, op: &str) -> Option<String> {
        match at.node.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                let message = format!("`{op}` takes a string, found {}", at.node.describe());
                self.error_at(at, Code::TypeMismatch, message);
                None
            }
        }
    }

    fn operand(&mut self, node: &Node, ty: &AttrType) -> Option<Operand> {
        if let Some(attr) = node.as_str().and_then(|s| s.strip_prefix("$self.")) {
            let (subject, found) = self.resource_subject(node, attr)?;
            if !same_type(&found, ty) {
                self.error(
                    node.mark,
                    Code::TypeMismatch,
                    format!(
                        "`$self.{attr}` is {}, expected {}",
                        article(found.name()),
                        article(ty.name())
                    ),
                );
                return None;
            }
            return Some(Operand::OfResource(subject));
        }
        self.literal(node, ty).map(Operand::Const)
    }

    /// A literal of type `ty`, or a `$param` holding one.
    fn literal(&mut self, node: &Node, ty: &AttrType) -> Option<Value> {
        let at = self.deref(node)?;
        self.literal_in(at, ty)
    }

    fn literal_in(&mut self, at: Derived, ty: &AttrType) -> Option<Value> {
        let node = &at.node;
        if at.param.is_none()
            && let Some(attr) = node.as_str().and_then(|s| s.strip_prefix("$self."))
        {
            self.error(
                node.mark,
                Code::InvalidOperand,
                format!(
                    "`$self.{attr}` cannot be used here; `$self.ATTR` is an operand of eq, ne, gt, gte, lt, lte and contains"
                ),
            );
            return None;
        }
        let mismatch = |c: &mut Self| {
            let message = format!("expected {}, found {}", article(ty.name()), node.describe());
            c.error_at(&at, Code::TypeMismatch, message);
            None
        };
        match (ty, node.scalar()) {
            (AttrType::Bool, Some(Scalar::Bool(b))) => Some(Value::Bool(b)),
            (AttrType::Int, Some(Scalar::Int(i))) => Some(Value::Int(i)),
            (AttrType::Str { values }, Some(Scalar::Str(s))) => {
                if !values.is_empty() && !values.contains(&s) {
                    let help = did_you_mean(s, values.iter().copied());
                    let message = format!(
                        "{s:?} never occurs here; possible values: {}",
                        values.join(", ")
                    );
                    self.error_at(&at, Code::UnknownValue, message);
                    if let (Some(help), Some(last)) = (help, self.diagnostics.last_mut()) {
                        last.help = Some(help);
                    }
                    return None;
                }
                Some(Value::Str(s.to_string()))
            }
            (AttrType::Time, Some(Scalar::Str(s))) => match s.parse::<Timestamp>() {
                Ok(t) => Some(Value::Time(t)),
                Err(_) => {
                    let message = format!("expected an RFC 3339 timestamp, found {s:?}");
                    self.error_at(&at, Code::TypeMismatch, message);
                    None
                }
            },
            _ => mismatch(self),
        }
    }
}

/// A param's value and the file that set it (the rule, or a config override).
#[derive(Debug, Clone)]
pub struct ParamValue {
    pub node: Node,
    pub file: String,
}

/// An operand node after `$param` resolution, with where it was written.
#[derive(Clone)]
struct Derived {
    node: Node,
    file: String,
    param: Option<String>,
}

impl Derived {
    /// A child node written in the same place.
    fn with(&self, node: &Node) -> Derived {
        Derived {
            node: node.clone(),
            file: self.file.clone(),
            param: self.param.clone(),
        }
    }
}

fn same_type(a: &AttrType, b: &AttrType) -> bool {
    matches!(
        (a, b),
        (AttrType::Bool, AttrType::Bool)
            | (AttrType::Int, AttrType::Int)
            | (AttrType::Str { .. }, AttrType::Str { .. })
            | (AttrType::Time, AttrType::Time)
    )
}

fn article(name: &str) -> String {
    match name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {name}"),
        _ => format!("a {name}"),
    }
}

/// The problem without the regex crate's multi-line caret diagram: `unclosed group`.
fn regex_problem(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(text) => {
            let last = text.lines().last().unwrap_or(text);
            last.trim_start_matches("error: ").to_string()
        }
        other => one_line(&other.to_string()),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn subject_name(s: &Subject) -> String {
    match s {
        Subject::Attr { name, .. } => (*name).to_string(),
        Subject::Field(field) => field.name.to_string(),
        Subject::Common(c) => c.name().to_string(),
        Subject::Tag(t) => format!("tags.{t}"),
        Subject::Param { name, .. } => format!("${name}"),
    }
}

impl Common {
    fn name(self) -> &'static str {
        match self {
            Common::Id => "id",
            Common::Arn => "arn",
            Common::Account => "account",
            Common::Region => "region",
        }
    }
}

// ---------------------------------------------------------------------------
// Evaluation

impl Subject {
    /// The schema's words for a known absence of this subject.
    fn none_meaning(&self, env: &Env) -> Option<&'static str> {
        match self {
            Subject::Attr { index, .. } => env.resource.kind.attributes[*index].none,
            Subject::Field(field) => field.none,
            Subject::Common(_) | Subject::Tag(_) | Subject::Param { .. } => None,
        }
    }

    fn collect_reads(&self, out: &mut BTreeSet<&'static str>) {
        match self {
            Subject::Attr { name, .. } => {
                out.insert(name);
            }
            Subject::Tag(_) => {
                out.insert("tags");
            }
            Subject::Common(_) | Subject::Field(_) | Subject::Param { .. } => {}
        }
    }

    fn value<'a>(&'a self, env: &Env<'a>) -> Cow<'a, Value> {
        let r = env.resource;
        match self {
            Subject::Attr { index, .. } => Cow::Borrowed(r.value_at(*index)),
            Subject::Common(c) => {
                let s = match c {
                    Common::Id => &r.id,
                    Common::Arn => &r.arn,
                    Common::Account => &r.account,
                    Common::Region => &r.region,
                };
                Cow::Owned(Value::Str(s.clone()))
            }
            Subject::Tag(key) => Cow::Owned(r.tag(key)),
            // A list element was read whole: a field it lacks is a known
            // absence where the schema allows one, and unknown otherwise.
            Subject::Field(field) => match env.element.and_then(|o| o.get(field.name)) {
                Some(Value::Null) | None if field.none.is_none() => Cow::Borrowed(&UNKNOWN),
                Some(v) => Cow::Borrowed(v),
                None => Cow::Borrowed(&NULL),
            },
            Subject::Param { value, .. } => Cow::Borrowed(value),
        }
    }
}

static NULL: Value = Value::Null;
static UNKNOWN: Value = Value::Unknown;

/// Three-valued truth. A test of an unknown fact is unknown, and `not`
/// leaves it unknown, so an unknown fact never makes a condition hold or
/// fail however it is phrased. A known absence is a fact like any other:
/// `eq` on it is false, `ne` true, `absent` true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Truth {
    False,
    Unknown,
    True,
}

impl Truth {
    fn of(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }

    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    /// `all`: false if any is false, else unknown if any is unknown.
    fn all(items: impl IntoIterator<Item = Truth>) -> Truth {
        items.into_iter().min().unwrap_or(Truth::True)
    }

    /// `any`: true if any is true, else unknown if any is unknown.
    fn any(items: impl IntoIterator<Item = Truth>) -> Truth {
        items.into_iter().max().unwrap_or(Truth::False)
    }
}

impl Condition {
    pub fn holds(&self, env: &Env) -> bool {
        self.truth(env) == Truth::True
    }

    /// Definitely false: unknown facts do not count as false here.
    pub fn excludes(&self, env: &Env) -> bool {
        self.truth(env) == Truth::False
    }

    pub fn truth(&self, env: &Env) -> Truth {
        match self {
            Condition::All(parts) => Truth::all(parts.iter().map(|p| p.truth(env))),
            Condition::Any(parts) => Truth::any(parts.iter().map(|p| p.truth(env))),
            Condition::Not(inner) => inner.truth(env).not(),
            Condition::Check { subject, tests } => {
                let value = subject.value(env);
                Truth::all(tests.iter().map(|t| t.truth(&value, env)))
            }
        }
    }

    /// The attributes the condition reads (`tags` for any tag), `$self`
    /// operands included: which collection errors leave it undecided.
    pub fn reads(&self) -> BTreeSet<&'static str> {
        let mut out = BTreeSet::new();
        self.collect_reads(&mut out);
        out
    }

    fn collect_reads(&self, out: &mut BTreeSet<&'static str>) {
        match self {
            Condition::All(parts) | Condition::Any(parts) => {
                parts.iter().for_each(|p| p.collect_reads(out))
            }
            Condition::Not(inner) => inner.collect_reads(out),
            Condition::Check { subject, tests } => {
                subject.collect_reads(out);
                tests.iter().for_each(|t| t.collect_reads(out));
            }
        }
    }

    /// True when the condition fails whatever the resource: it tests only
    /// params (e.g. `$require_kms: {eq: false}` with the param set to true).
    /// Such an alternative of an `any:` explains nothing.
    fn cannot_hold(&self, env: &Env) -> bool {
        match self {
            Condition::All(parts) => parts.iter().any(|p| p.cannot_hold(env)),
            Condition::Any(parts) => parts.iter().all(|p| p.cannot_hold(env)),
            Condition::Not(inner) => inner.is_constant() && inner.holds(env),
            Condition::Check { .. } => self.is_constant() && !self.holds(env),
        }
    }

    fn is_constant(&self) -> bool {
        match self {
            Condition::All(parts) | Condition::Any(parts) => {
                parts.iter().all(Condition::is_constant)
            }
            Condition::Not(inner) => inner.is_constant(),
            Condition::Check { subject, tests } => {
                matches!(subject, Subject::Param { .. }) && tests.iter().all(Test::is_constant)
            }
        }
    }

    /// "x is 1, y is absent": the values a failed `not:` saw.
    fn facts(&self, env: &Env, out: &mut Vec<String>) {
        match self {
            Condition::All(parts) | Condition::Any(parts) => {
                parts.iter().for_each(|p| p.facts(env, out))
            }
            Condition::Not(inner) => inner.facts(env, out),
            Condition::Check { subject, .. } => {
                if !matches!(subject, Subject::Param { .. }) {
                    let fact = format!("{} is {}", subject_name(subject), subject.value(env));
                    if !out.contains(&fact) {
                        out.push(fact);
                    }
                }
            }
        }
    }

    /// Which facts left the condition undecided, for `error` messages:
    /// `multi_az`, `replication_rules[0].destination_region`. Call only when
    /// `truth` is unknown.
    pub fn unknown_facts(&self, env: &Env) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_unknowns(env, "", &mut out);
        out
    }

    fn collect_unknowns(&self, env: &Env, prefix: &str, out: &mut Vec<String>) {
        match self {
            Condition::All(parts) | Condition::Any(parts) => {
                for part in parts {
                    if part.truth(env) == Truth::Unknown {
                        part.collect_unknowns(env, prefix, out);
                    }
                }
            }
            Condition::Not(inner) => inner.collect_unknowns(env, prefix, out),
            Condition::Check { subject, tests } => {
                let value = subject.value(env);
                let name = format!("{prefix}{}", subject_name(subject));
                if value.is_unknown() {
                    if !out.contains(&name) {
                        out.push(name);
                    }
                    return;
                }
                for test in tests {
                    if test.truth(&value, env) == Truth::Unknown {
                        test.collect_unknowns(&value, env, &name, out);
                    }
                }
            }
        }
    }

    /// Why the condition does not hold. Call only when `holds` is false.
    pub fn explain(&self, env: &Env) -> String {
        match self {
            Condition::All(parts) => {
                // The parts that are false explain a failure; unknown ones
                // did not decide it.
                let false_parts = parts.iter().filter(|p| p.excludes(env)).count();
                parts
                    .iter()
                    .filter(|p| {
                        if false_parts > 0 {
                            p.excludes(env)
                        } else {
                            !p.holds(env)
                        }
                    })
                    .map(|p| p.explain(env))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            Condition::Any(parts) => {
                // Any one alternative would do; those that cannot hold for any
                // resource (params only) are left out.
                let mut shown: Vec<_> = parts.iter().filter(|p| !p.cannot_hold(env)).collect();
                if shown.is_empty() {
                    shown = parts.iter().collect();
                }
                shown
                    .iter()
                    .map(|p| p.explain(env))
                    .collect::<Vec<_>>()
                    .join("; or ")
            }
            Condition::Not(inner) => {
                let mut facts = Vec::new();
                inner.facts(env, &mut facts);
                facts.push(format!("expected not ({})", inner.describe_in(Some(env))));
                facts.join(", ")
            }
            Condition::Check { subject, tests } => {
                let value = subject.value(env);
                let failed = tests.iter().find(|t| t.truth(&value, env) != Truth::True);
                let expected = failed.map(|t| t.expectation(env)).unwrap_or_default();
                let shown = match (&*value, failed) {
                    (Value::Time(t), Some(Test::Age { .. })) => {
                        format!("{t} ({} ago)", duration::age(env.now.duration_since(*t)))
                    }
                    // What AWS's "none" means for this attribute.
                    (Value::Null, _) => match subject.none_meaning(env) {
                        Some(meaning) => format!("absent ({meaning})"),
                        None => "absent".to_string(),
                    },
                    (v, _) => v.to_string(),
                };
                format!("{} is {shown}, expected {expected}", subject_name(subject))
            }
        }
    }

    /// What the condition requires, for pass messages and `explain`.
    pub fn describe(&self) -> String {
        self.describe_in(None)
    }

    /// With an environment, `$self` operands show their values.
    fn describe_in(&self, env: Option<&Env>) -> String {
        match self {
            Condition::All(parts) => parts
                .iter()
                .map(|p| p.describe_in(env))
                .collect::<Vec<_>>()
                .join(" and "),
            Condition::Any(parts) => {
                let inner: Vec<_> = parts
                    .iter()
                    .map(|p| match p {
                        // `a and b` inside `or` needs its own parentheses.
                        Condition::All(_) => format!("({})", p.describe_in(env)),
                        Condition::Check { tests, .. } if tests.len() > 1 => {
                            format!("({})", p.describe_in(env))
                        }
                        _ => p.describe_in(env),
                    })
                    .collect();
                format!("({})", inner.join(" or "))
            }
            Condition::Not(inner) => format!("not ({})", inner.describe_in(env)),
            Condition::Check { subject, tests } => {
                let name = subject_name(subject);
                tests
                    .iter()
                    .map(|t| format!("{name} {}", t.describe(env)))
                    .collect::<Vec<_>>()
                    .join(" and ")
            }
        }
    }
}

impl Operand {
    fn value<'a>(&'a self, env: &Env<'a>) -> Cow<'a, Value> {
        match self {
            Operand::Const(v) => Cow::Borrowed(v),
            Operand::OfResource(subject) => {
                // `$self` always means the resource, even inside a list element.
                let outer = Env {
                    element: None,
                    ..*env
                };
                Cow::Owned(subject.value(&outer).into_owned())
            }
        }
    }

    fn describe(&self, env: Option<&Env>) -> String {
        match (self, env) {
            (Operand::Const(v), _) => v.to_string(),
            (Operand::OfResource(s), Some(env)) => match &*self.value(env) {
                Value::Str(v) => format!("its {} ({v})", subject_name(s)),
                other => format!("its {} ({other})", subject_name(s)),
            },
            (Operand::OfResource(s), None) => format!("its {}", subject_name(s)),
        }
    }
}

impl Test {
    /// Unknown when the value (or a `$self` operand) is unknown. A known
    /// absence has no size, time or text: only `absent`, `ne`, `not_in` and
    /// `none` hold on it.
    fn truth(&self, value: &Value, env: &Env) -> Truth {
        if value.is_unknown() {
            return Truth::Unknown;
        }
        if let Test::Present(want) = self {
            return Truth::of(value.is_null() != *want);
        }
        if value.is_null() {
            return self.truth_of_absence(env);
        }
        match self {
            Test::Present(_) => unreachable!("handled above"),
            Test::Compare { op, operand } => {
                let other = operand.value(env);
                if other.is_unknown() {
                    return Truth::Unknown;
                }
                if other.is_null() {
                    return Truth::of(*op == CmpOp::Ne);
                }
                Truth::of(compare(value, *op, &other))
            }
            Test::In { negated, values } => Truth::of(values.contains(value) != *negated),
            Test::Matches(re) => Truth::of(value.as_str().is_some_and(|s| re.is_match(s))),
            Test::Glob { set, .. } => Truth::of(value.as_str().is_some_and(|s| set.is_match(s))),
            Test::Contains(operand) => {
                let needle = operand.value(env);
                Truth::of(match (value, &*needle) {
                    (_, Value::Unknown) => return Truth::Unknown,
                    (_, Value::Null) => false,
                    (Value::List(items), n) => items.contains(n),
                    (Value::Str(s), Value::Str(n)) => s.contains(n.as_str()),
                    _ => false,
                })
            }
            Test::Length(tests) => {
                let len = match value {
                    Value::List(items) => items.len(),
                    Value::Str(s) => s.chars().count(),
                    _ => return Truth::False,
                };
                let len = Value::Int(len as i64);
                Truth::all(tests.iter().map(|t| t.truth(&len, env)))
            }
            Test::Quantified {
                quantifier,
                element,
            } => {
                let Some(items) = value.as_list() else {
                    return Truth::False;
                };
                let matching = items.iter().map(|item| element.truth(item, env));
                match quantifier {
                    Quantifier::Any => Truth::any(matching),
                    Quantifier::All => Truth::all(matching),
                    Quantifier::None => Truth::any(matching).not(),
                }
            }
            Test::Age { newer, .. } => match (value, self.age_limit(env)) {
                (_, None) => Truth::Unknown,
                (Value::Time(t), Some(limit)) => {
                    let age = env.now.duration_since(*t);
                    Truth::of(if *newer { age < limit } else { age > limit })
                }
                _ => Truth::False,
            },
        }
    }

    /// The test on a known absence: an absent value equals nothing, so only
    /// the negative tests hold; a `$self` operand that is unknown leaves it
    /// unknown.
    fn truth_of_absence(&self, env: &Env) -> Truth {
        match self {
            Test::Compare { op, operand } => {
                if operand.value(env).is_unknown() {
                    Truth::Unknown
                } else {
                    Truth::of(*op == CmpOp::Ne)
                }
            }
            Test::Contains(operand) if operand.value(env).is_unknown() => Truth::Unknown,
            Test::In { negated, .. } => Truth::of(*negated),
            Test::Quantified {
                quantifier: Quantifier::None,
                ..
            } => Truth::True,
            _ => Truth::False,
        }
    }

    fn collect_unknowns(&self, value: &Value, env: &Env, name: &str, out: &mut Vec<String>) {
        let mut push = |fact: String| {
            if !out.contains(&fact) {
                out.push(fact);
            }
        };
        match self {
            Test::Compare { operand, .. } | Test::Contains(operand) => {
                if let Operand::OfResource(subject) = operand {
                    push(subject_name(subject));
                }
            }
            Test::Age { overrides, .. } => {
                let outer = Env {
                    element: None,
                    ..*env
                };
                for subject in overrides {
                    if !matches!(&*subject.value(&outer), Value::Null) {
                        push(subject_name(subject));
                        break;
                    }
                }
            }
            Test::Quantified {
                element: Element::Object(condition),
                ..
            } => {
                for (i, item) in value.as_list().unwrap_or_default().iter().enumerate() {
                    let Value::Object(fields) = item else {
                        continue;
                    };
                    let inner = Env {
                        element: Some(fields),
                        ..*env
                    };
                    if condition.truth(&inner) == Truth::Unknown {
                        condition.collect_unknowns(&inner, &format!("{name}[{i}]."), out);
                    }
                }
            }
            _ => push(name.to_string()),
        }
    }

    /// Whether the test's outcome depends only on its subject (no `$self`).
    fn is_constant(&self) -> bool {
        match self {
            Test::Compare { operand, .. } | Test::Contains(operand) => {
                matches!(operand, Operand::Const(_))
            }
            Test::Length(tests) => tests.iter().all(Test::is_constant),
            Test::Quantified { element, .. } => match element {
                Element::Scalar(tests) => tests.iter().all(Test::is_constant),
                Element::Object(_) => false,
            },
            Test::Age { overrides, .. } => overrides.is_empty(),
            Test::In { .. } | Test::Present(_) | Test::Matches(_) | Test::Glob { .. } => true,
        }
    }

    fn collect_reads(&self, out: &mut BTreeSet<&'static str>) {
        match self {
            Test::Compare { operand, .. } | Test::Contains(operand) => {
                if let Operand::OfResource(subject) = operand {
                    subject.collect_reads(out);
                }
            }
            Test::Length(tests) => tests.iter().for_each(|t| t.collect_reads(out)),
            Test::Quantified { element, .. } => match element {
                Element::Scalar(tests) => tests.iter().for_each(|t| t.collect_reads(out)),
                Element::Object(condition) => condition.collect_reads(out),
            },
            Test::Age { overrides, .. } => overrides.iter().for_each(|s| s.collect_reads(out)),
            Test::In { .. } | Test::Present(_) | Test::Matches(_) | Test::Glob { .. } => {}
        }
    }

    /// The requirement, after "expected".
    fn expectation(&self, env: &Env) -> String {
        match self {
            Test::Compare {
                op: CmpOp::Eq,
                operand,
            } => operand.describe(Some(env)),
            Test::Compare {
                op: CmpOp::Ne,
                operand,
            } => format!("not {}", operand.describe(Some(env))),
            Test::Compare { op, operand } => {
                format!("{} {}", op.symbol(), operand.describe(Some(env)))
            }
            Test::Length(tests) => {
                let parts: Vec<_> = tests.iter().map(|t| t.expectation(env)).collect();
                format!("length {}", parts.join(" and "))
            }
            _ => self.phrase(Some(env)),
        }
    }

    /// The requirement, after the subject's name.
    fn describe(&self, env: Option<&Env>) -> String {
        self.phrase(env)
    }

    fn phrase(&self, env: Option<&Env>) -> String {
        match self {
            Test::Compare { op, operand } => format!("{} {}", op.symbol(), operand.describe(env)),
            Test::In {
                negated: false,
                values,
            } => format!("one of {}", Value::List(values.clone())),
            Test::In {
                negated: true,
                values,
            } => format!("none of {}", Value::List(values.clone())),
            Test::Present(true) => "present".into(),
            Test::Present(false) => "absent".into(),
            Test::Matches(re) => format!("matching /{}/", re.as_str()),
            Test::Glob { patterns, .. } => format!("matching {}", patterns.join(" or ")),
            Test::Contains(operand) => format!("containing {}", operand.describe(env)),
            Test::Length(tests) => {
                let parts: Vec<_> = tests.iter().map(|t| t.phrase(env)).collect();
                format!("length {}", parts.join(" and "))
            }
            Test::Quantified {
                quantifier,
                element,
            } => {
                let which = match quantifier {
                    Quantifier::Any => "at least one element",
                    Quantifier::All => "every element",
                    Quantifier::None => "no element",
                };
                format!("{which} {}", element.describe(env))
            }
            Test::Age {
                newer,
                limit,
                overrides,
            } => {
                let word = if *newer { "newer than" } else { "older than" };
                let limit = match env {
                    Some(env) => self
                        .age_limit(env)
                        .map_or_else(|| "an unknown or invalid duration".into(), duration::format),
                    None if overrides.is_empty() => duration::format(*limit),
                    None => {
                        let names: Vec<_> = overrides.iter().map(subject_name).collect();
                        format!(
                            "{} (default {})",
                            names.join(" or "),
                            duration::format(*limit)
                        )
                    }
                };
                format!("{word} {limit}")
            }
        }
    }
}

impl Test {
    /// The age limit for this resource: the first present override, else the
    /// fixed limit. `None` when it cannot be known: an override is unknown
    /// (falling back to the default could pass what the override fails) or
    /// not a valid duration.
    fn age_limit(&self, env: &Env) -> Option<SignedDuration> {
        let Test::Age {
            limit, overrides, ..
        } = self
        else {
            return None;
        };
        let outer = Env {
            element: None,
            ..*env
        };
        for subject in overrides {
            match &*subject.value(&outer) {
                Value::Str(text) => return duration::parse(text).ok(),
                Value::Null => continue,
                _ => return None,
            }
        }
        Some(*limit)
    }
}

impl Element {
    fn truth(&self, item: &Value, env: &Env) -> Truth {
        match self {
            Element::Scalar(tests) => Truth::all(tests.iter().map(|t| t.truth(item, env))),
            Element::Object(condition) => match item {
                Value::Object(fields) => condition.truth(&Env {
                    element: Some(fields),
                    ..*env
                }),
                _ => Truth::False,
            },
        }
    }

    fn describe(&self, env: Option<&Env>) -> String {
        match self {
            Element::Scalar(tests) => tests
                .iter()
                .map(|t| t.describe(env))
                .collect::<Vec<_>>()
                .join(" and "),
            Element::Object(condition) => format!("where {}", condition.describe_in(env)),
        }
    }
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
        }
    }
}

fn compare(a: &Value, op: CmpOp, b: &Value) -> bool {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Time(x), Value::Time(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    };
    let Some(ord) = ordering else {
        return false;
    };
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Gte => ord != Ordering::Less,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Lte => ord != Ordering::Greater,
    }
}
