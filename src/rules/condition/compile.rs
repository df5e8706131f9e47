//! From YAML to a [`Condition`], type-checked against the resource type's
//! schema, with a diagnostic for every mistake found.

use std::collections::{BTreeMap, BTreeSet};

use globset::{Glob, GlobSetBuilder};
use jiff::Timestamp;
use regex::Regex;
use strum::VariantArray;

use super::syntax::{Combinator, Keyword, Operator, Reference};
use super::{
    Common, Condition, Element, MAX_CONDITION_DEPTH, Operand, ParamValue, Subject, Test, Window,
};
use crate::lang::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::lang::duration;
use crate::lang::suggest::closest;
use crate::lang::yaml::{Mark, Node, NodeKind, Scalar};
use crate::model::Value;
use crate::model::schema::{AttrType, Attribute, COMMON_ATTRIBUTES, ResourceType, TimeUnit};

/// Where a condition's keys are looked up.
#[derive(Clone, Copy)]
enum Scope {
    Resource,
    Object(&'static [Attribute]),
}

/// Compiles conditions of one rule, collecting every diagnostic.
pub struct Compiler<'a> {
    pub file: &'a str,
    pub resource_type: &'static ResourceType,
    /// Parameter values by name (rule defaults, possibly overridden).
    pub params: &'a BTreeMap<String, ParamValue>,
    pub diagnostics: Vec<Diagnostic>,
    /// Attributes read, by name: decides which calls collection must make and
    /// which collection errors make a result `error`.
    pub reads: BTreeSet<&'static str>,
    pub reads_tags: bool,
    /// Params referenced, to warn about unused ones.
    pub used_params: BTreeSet<String>,
    /// Params whose value was read as the operand of a comparison of an
    /// integer measuring time, and those read anywhere else: a param only
    /// ever so read may be set as a duration or as an integer of the unit.
    pub params_as_measures: BTreeSet<String>,
    pub params_otherwise: BTreeSet<String>,
    /// Whether the operand being resolved is such a measure.
    measuring: bool,
    /// Conditions and operator mappings being compiled, one inside another.
    depth: usize,
}

impl<'a> Compiler<'a> {
    pub fn new(
        file: &'a str,
        resource_type: &'static ResourceType,
        params: &'a BTreeMap<String, ParamValue>,
    ) -> Self {
        Compiler {
            file,
            resource_type,
            params,
            diagnostics: Vec::new(),
            reads: BTreeSet::new(),
            reads_tags: false,
            used_params: BTreeSet::new(),
            params_as_measures: BTreeSet::new(),
            params_otherwise: BTreeSet::new(),
            measuring: false,
            depth: 0,
        }
    }

    /// Compiles a top-level condition (`when:` or `assert:`).
    pub fn condition(&mut self, node: &Node) -> Option<Condition> {
        self.condition_in(node, Scope::Resource)
    }

    /// A diagnostic at `mark` in the rule's file.
    fn diagnostic(&self, mark: Mark, code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.file, mark, code, message)
    }

    /// A node of the wrong shape: "`all:` takes a list of conditions, found
    /// a mapping".
    fn wrong_shape(&self, node: &Node, expected: &str) -> Diagnostic {
        let message = format!("{expected}, found {}", node.describe());
        self.diagnostic(node.mark, Code::InvalidCondition, message)
    }

    /// Records why part of a condition does not compile; that part is then
    /// missing, so the rule does not load.
    fn reject<T>(&mut self, diagnostic: Diagnostic) -> Option<T> {
        self.diagnostics.push(diagnostic);
        None
    }

    /// Rejects with a diagnostic at `mark` in the rule's file.
    fn error<T>(&mut self, mark: Mark, code: Code, message: impl Into<String>) -> Option<T> {
        self.reject(self.diagnostic(mark, code, message))
    }

    /// Compiles one more level of nesting, or rejects it as too deep.
    fn nested<T>(&mut self, mark: Mark, compile: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= MAX_CONDITION_DEPTH {
            let message = format!("conditions nested deeper than {MAX_CONDITION_DEPTH} levels");
            return self.error(mark, Code::InvalidCondition, message);
        }
        self.depth += 1;
        let compiled = compile(self);
        self.depth -= 1;
        compiled
    }

    fn condition_in(&mut self, node: &Node, scope: Scope) -> Option<Condition> {
        self.nested(node.mark, |c| c.condition_entries(node, scope))
    }

    fn condition_entries(&mut self, node: &Node, scope: Scope) -> Option<Condition> {
        let Some(entries) = node.as_map() else {
            return self.reject(self.wrong_shape(
                node,
                "a condition must be a mapping of `attribute: {operator: value}`",
            ));
        };
        if entries.is_empty() {
            return self.error(
                node.mark,
                Code::InvalidCondition,
                "a condition must not be empty",
            );
        }
        let mut parts = every(
            entries
                .iter()
                .map(|(key, value)| self.condition_entry(key, value, scope)),
        )?;
        Some(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Condition::All(parts)
        })
    }

    fn condition_entry(&mut self, key: &Node, value: &Node, scope: Scope) -> Option<Condition> {
        let Some(name) = key.text() else {
            return self.error(
                key.mark,
                Code::InvalidCondition,
                "condition keys must be strings",
            );
        };
        match Combinator::parse(name) {
            Some(Combinator::Not) => self
                .condition_in(value, scope)
                .map(|c| Condition::Not(Box::new(c))),
            Some(Combinator::All) => self
                .combination(Combinator::All, value, scope)
                .map(Condition::All),
            Some(Combinator::Any) => self
                .combination(Combinator::Any, value, scope)
                .map(Condition::Any),
            None => self.check(key, name, value, scope),
        }
    }

    /// The conditions of `all:` or `any:`.
    fn combination(
        &mut self,
        combinator: Combinator,
        node: &Node,
        scope: Scope,
    ) -> Option<Vec<Condition>> {
        let Some(items) = node.as_seq() else {
            let expected = format!("`{combinator}:` takes a list of conditions");
            return self.reject(self.wrong_shape(node, &expected));
        };
        if items.is_empty() {
            let message = format!("`{combinator}:` must not be empty");
            return self.error(node.mark, Code::InvalidCondition, message);
        }
        every(items.iter().map(|i| self.condition_in(i, scope)))
    }

    fn check(&mut self, key: &Node, name: &str, tests: &Node, scope: Scope) -> Option<Condition> {
        // A param referenced where compilation fails is not also "unused".
        self.note_params(tests);
        let (subject, ty) = self.subject(key, name, scope)?;
        let unit = self.unit_of(&subject);
        let tests = self.tests(tests, &ty, unit, &subject.name())?;
        Some(Condition::Check { subject, tests })
    }

    /// The unit of time the subject measures, if it is such an integer.
    fn unit_of(&self, subject: &Subject) -> Option<TimeUnit> {
        match subject {
            Subject::Attr { index, .. } => self.resource_type.attributes[*index].unit,
            Subject::Field(field) => field.unit,
            Subject::Common(_) | Subject::Tag(_) | Subject::Param { .. } => None,
        }
    }

    fn note_params(&mut self, node: &Node) {
        // A loop over a stack, not recursion: the operand may be any tree.
        let mut pending = vec![node];
        while let Some(node) = pending.pop() {
            match &node.kind {
                NodeKind::Scalar { .. } => {
                    if let Some(Reference::Param(name)) = Reference::of(node) {
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
            let at = self.param(key.mark, param)?;
            let (value, ty) = self.param_value(&at)?;
            let name = param.to_string();
            return Some((Subject::Param { name, value }, ty));
        }
        match scope {
            Scope::Object(fields) => self.field_subject(key, name, fields),
            Scope::Resource => self.resource_subject(key, name),
        }
    }

    fn field_subject(
        &mut self,
        key: &Node,
        name: &str,
        fields: &'static [Attribute],
    ) -> Option<(Subject, AttrType)> {
        if let Some(field) = fields.iter().find(|f| f.name == name) {
            return Some((Subject::Field(field), field.ty));
        }
        let names = || fields.iter().map(|f| f.name);
        let message = format!(
            "unknown field `{name}`; list elements have: {}",
            names().collect::<Vec<_>>().join(", ")
        );
        self.reject(Diagnostic {
            help: did_you_mean(name, names().chain(Combinator::names())),
            ..self.diagnostic(key.mark, Code::UnknownAttribute, message)
        })
    }

    fn resource_subject(&mut self, key: &Node, name: &str) -> Option<(Subject, AttrType)> {
        if let Some(tag) = name.strip_prefix("tags.") {
            if tag.is_empty() {
                return self.error(
                    key.mark,
                    Code::UnknownAttribute,
                    "`tags.` needs a tag key, e.g. `tags.backup`",
                );
            }
            self.reads_tags = true;
            return Some((Subject::Tag(tag.to_string()), AttrType::STR));
        }
        if let Ok(common) = name.parse::<Common>() {
            return Some((Subject::Common(common), AttrType::STR));
        }
        let attributes = self.resource_type.attributes;
        if let Some(index) = attributes.iter().position(|a| a.name == name) {
            let attr = &attributes[index];
            self.reads.insert(attr.name);
            let name = attr.name;
            return Some((Subject::Attr { index, name }, attr.ty));
        }
        let kind = self.resource_type.name;
        let help = if Operator::parse(name).is_some() {
            "operators go inside an attribute: `attribute: { op: value }`".to_string()
        } else {
            let candidates = attributes
                .iter()
                .chain(COMMON_ATTRIBUTES)
                .map(|a| a.name)
                .chain(Combinator::names());
            did_you_mean(name, candidates)
                .unwrap_or_else(|| format!("`backstop schema {kind}` lists its attributes"))
        };
        let message = format!("{kind} has no attribute `{name}`");
        self.reject(
            self.diagnostic(key.mark, Code::UnknownAttribute, message)
                .with_help(help),
        )
    }

    /// The value of param `name`, which is now used.
    fn param(&mut self, mark: Mark, name: &str) -> Option<Resolved> {
        self.used_params.insert(name.to_string());
        if self.measuring {
            self.params_as_measures.insert(name.to_string());
        } else {
            self.params_otherwise.insert(name.to_string());
        }
        if let Some(p) = self.params.get(name) {
            return Some(Resolved {
                node: p.node.clone(),
                file: p.file.clone(),
                param: Some(name.to_string()),
            });
        }
        let keys = || self.params.keys().map(String::as_str);
        // The param a typo was taken for is not also "unused".
        if let Some(meant) = closest(name, keys()) {
            self.used_params.insert(meant.to_string());
        }
        let help =
            did_you_mean(name, keys()).unwrap_or_else(|| "declare it under `params:`".into());
        let message = format!("unknown param `${name}`");
        self.reject(
            self.diagnostic(mark, Code::UnknownParam, message)
                .with_help(help),
        )
    }

    /// A param used as a subject: its type follows from its value.
    fn param_value(&mut self, at: &Resolved) -> Option<(Value, AttrType)> {
        let node = &at.node;
        if let Some(items) = node.as_seq() {
            let strings: Option<Vec<_>> = items
                .iter()
                .map(|i| i.as_str().map(|s| Value::Str(s.into())))
                .collect();
            return match strings {
                Some(s) => Some((Value::List(s), AttrType::StrList)),
                None => {
                    self.reject(at.diagnostic(Code::TypeMismatch, "list params must hold strings"))
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
                self.reject(at.diagnostic(Code::TypeMismatch, message))
            }
        }
    }

    /// Resolves a `$param` operand to the param's value; other nodes unchanged.
    fn resolve(&mut self, node: &Node) -> Option<Resolved> {
        match Reference::of(node) {
            Some(Reference::Param(name)) => self.param(node.mark, name),
            _ => Some(Resolved {
                node: node.clone(),
                file: self.file.to_string(),
                param: None,
            }),
        }
    }

    /// The tests of a subject of type `ty`, measuring time in `unit` if any.
    fn tests(
        &mut self,
        node: &Node,
        ty: &AttrType,
        unit: Option<TimeUnit>,
        subject: &str,
    ) -> Option<Vec<Test>> {
        self.nested(node.mark, |c| c.test_entries(node, ty, unit, subject))
    }

    fn test_entries(
        &mut self,
        node: &Node,
        ty: &AttrType,
        unit: Option<TimeUnit>,
        subject: &str,
    ) -> Option<Vec<Test>> {
        let Some(entries) = node.as_map() else {
            let expected = format!("`{subject}` needs a mapping of operators");
            let help = format!("write `{subject}: {{ {}: value }}`", Operator::Eq);
            return self.reject(self.wrong_shape(node, &expected).with_help(help));
        };
        if entries.is_empty() {
            let message = format!("`{subject}` has no operator");
            return self.error(node.mark, Code::InvalidCondition, message);
        }
        every(
            entries
                .iter()
                .map(|(key, operand)| self.test(key, operand, ty, unit, subject)),
        )
    }

    fn test(
        &mut self,
        key: &Node,
        operand: &Node,
        ty: &AttrType,
        unit: Option<TimeUnit>,
        subject: &str,
    ) -> Option<Test> {
        let name = key.text().unwrap_or_default();
        let Some(op) = Operator::parse(name) else {
            return self.unknown_operator(key.mark, name);
        };
        if !op.applies_to(ty) {
            return self.inapplicable(key.mark, op, ty, subject);
        }
        match op {
            Operator::Eq
            | Operator::Ne
            | Operator::Gt
            | Operator::Gte
            | Operator::Lt
            | Operator::Lte => {
                let operand = match unit {
                    Some(unit) => self.measure(op, operand, ty, unit, subject)?,
                    None => self.operand(operand, ty)?,
                };
                Some(Test::Compare { op, operand })
            }
            Operator::In | Operator::NotIn => self.membership(op, operand, ty),
            Operator::Present | Operator::Absent => self.presence(op, operand),
            Operator::Matches => self.regex(operand),
            Operator::Glob => self.glob(operand),
            Operator::Contains => self.operand(operand, &AttrType::STR).map(Test::Contains),
            Operator::Length => {
                let subject = format!("length of {subject}");
                self.tests(operand, &AttrType::Int, None, &subject)
                    .map(Test::Length)
            }
            Operator::Any | Operator::All | Operator::None => {
                self.quantified(op, operand, ty, subject)
            }
            Operator::NewerThan | Operator::OlderThan => self.age(op, operand),
            Operator::WithinWindows => self.windows(op, operand),
        }
    }

    fn unknown_operator<T>(&mut self, mark: Mark, name: &str) -> Option<T> {
        let help = did_you_mean(name, Operator::names()).unwrap_or_else(|| {
            let all: Vec<_> = Operator::names().collect();
            format!("operators: {}", all.join(", "))
        });
        let message = format!("unknown operator `{name}`");
        self.reject(
            self.diagnostic(mark, Code::UnknownOperator, message)
                .with_help(help),
        )
    }

    /// "`gte` does not apply to `multi_az`, which is a bool".
    fn inapplicable<T>(
        &mut self,
        mark: Mark,
        op: Operator,
        ty: &AttrType,
        subject: &str,
    ) -> Option<T> {
        let instead = match comparison_alternatives(op, ty) {
            [] => String::new(),
            alternatives => {
                let names = alternatives.iter().map(|alt| format!("`{alt}`"));
                format!("; use {}", listing(names, "or"))
            }
        };
        let message = format!(
            "`{op}` does not apply to `{subject}`, which is {}{instead}",
            article(ty.name())
        );
        self.error(mark, Code::TypeMismatch, message)
    }

    /// `in` or `not_in`.
    fn membership(&mut self, op: Operator, operand: &Node, ty: &AttrType) -> Option<Test> {
        let at = self.resolve(operand)?;
        let Some(items) = at.node.as_seq() else {
            return self.wrong_operand(&at, op, "a list");
        };
        let values: Option<Vec<_>> = items
            .iter()
            .map(|i| match at.param {
                // Written in the rule: an item may be a `$param`.
                None => self.literal(i, ty),
                Some(_) => self.literal_in(at.with(i), ty),
            })
            .collect();
        let values = values?;
        Some(Test::In { op, values })
    }

    /// `present` or `absent`.
    fn presence(&mut self, op: Operator, operand: &Node) -> Option<Test> {
        let at = self.resolve(operand)?;
        let Some(Scalar::Bool(b)) = at.node.scalar() else {
            return self.wrong_operand(&at, op, "true or false");
        };
        let wants_present = b == (op == Operator::Present);
        Some(Test::Presence(if wants_present {
            Operator::Present
        } else {
            Operator::Absent
        }))
    }

    fn regex(&mut self, operand: &Node) -> Option<Test> {
        let at = self.resolve(operand)?;
        let pattern = self.string_operand(&at, Operator::Matches)?;
        match Regex::new(&pattern) {
            Ok(re) => Some(Test::Matches(re)),
            Err(e) => {
                let message = format!("invalid regex: {}", regex_problem(&e));
                self.reject(at.diagnostic(Code::InvalidRegex, message))
            }
        }
    }

    fn glob(&mut self, operand: &Node) -> Option<Test> {
        let at = self.resolve(operand)?;
        let items: Vec<Resolved> = match at.node.as_seq() {
            Some(items) => self.items(&at, items)?,
            None => vec![at.clone()],
        };
        let mut builder = GlobSetBuilder::new();
        let mut patterns = Vec::new();
        for item in &items {
            let p = self.string_operand(item, Operator::Glob)?;
            match Glob::new(&p) {
                Ok(g) => {
                    builder.add(g);
                    patterns.push(p);
                }
                Err(e) => {
                    let message = format!("invalid glob {p:?}: {}", e.kind());
                    return self.reject(item.diagnostic(Code::InvalidGlob, message));
                }
            }
        }
        match builder.build() {
            Ok(set) => Some(Test::Glob { set, patterns }),
            Err(e) => {
                let message = format!("invalid globs: {}", e.kind());
                self.reject(at.diagnostic(Code::InvalidGlob, message))
            }
        }
    }

    /// `within_windows`: a list of `HH:MM-HH:MM` windows, each checked.
    fn windows(&mut self, op: Operator, operand: &Node) -> Option<Test> {
        let at = self.resolve(operand)?;
        let Some(items) = at.node.as_seq() else {
            return self.wrong_operand(&at, op, "a list of time windows like [\"00:00-06:00\"]");
        };
        if items.is_empty() {
            let message = format!("`{op}` needs at least one time window");
            return self.reject(at.diagnostic(Code::InvalidWindow, message));
        }
        let items = self.items(&at, items)?;
        every(items.iter().map(|item| {
            let text = self.string_operand(item, op)?;
            match Window::parse(&text) {
                Ok(window) => Some(window),
                Err(message) => self.reject(item.diagnostic(Code::InvalidWindow, message)),
            }
        }))
        .map(Test::Windows)
    }

    /// The items of the list operand `at`: written in the rule, each may be
    /// a `$param`; from a param, each is where the param was set.
    fn items(&mut self, at: &Resolved, items: &[Node]) -> Option<Vec<Resolved>> {
        match at.param {
            None => items.iter().map(|i| self.resolve(i)).collect(),
            Some(_) => Some(items.iter().map(|i| at.with(i)).collect()),
        }
    }

    /// `any`, `all` or `none`, over a list.
    fn quantified(
        &mut self,
        op: Operator,
        operand: &Node,
        ty: &AttrType,
        subject: &str,
    ) -> Option<Test> {
        let element = match ty {
            AttrType::ObjectList(fields) => {
                Element::Object(Box::new(self.condition_in(operand, Scope::Object(fields))?))
            }
            // The operator applies to lists only: this one holds strings.
            _ => {
                let subject = format!("element of {subject}");
                Element::Scalar(self.tests(operand, &AttrType::STR, None, &subject)?)
            }
        };
        Some(Test::Quantified { op, element })
    }

    /// `newer_than` or `older_than`: a duration, or a list of `$self.ATTR`
    /// overrides ending in the duration that applies when none is present.
    fn age(&mut self, op: Operator, operand: &Node) -> Option<Test> {
        let mut overrides = Vec::new();
        let fallback = match operand.as_seq() {
            Some([first @ .., last]) => {
                for item in first {
                    let Some(Reference::OfResource(attr)) = Reference::of(item) else {
                        let message = format!(
                            "in a list after `{op}`, all but the last item must be `$self.ATTR` references"
                        );
                        return self.error(item.mark, Code::TypeMismatch, message);
                    };
                    let (subject, found) = self.resource_subject(item, attr)?;
                    if !matches!(found, AttrType::Str { .. }) {
                        let message =
                            format!("`$self.{attr}` must be a string attribute holding a duration");
                        return self.error(item.mark, Code::TypeMismatch, message);
                    }
                    overrides.push(subject);
                }
                last
            }
            _ => operand,
        };
        let at = self.resolve(fallback)?;
        let text = self.string_operand(&at, op)?;
        match duration::parse(&text) {
            Ok(limit) => Some(Test::Age {
                op,
                limit,
                overrides,
            }),
            Err(e) => self.reject(at.diagnostic(Code::InvalidDuration, e)),
        }
    }

    /// "`in` takes a list, found a string".
    fn wrong_operand<T>(&mut self, at: &Resolved, op: Operator, expected: &str) -> Option<T> {
        let message = format!("`{op}` takes {expected}, found {}", at.node.describe());
        self.reject(at.diagnostic(Code::TypeMismatch, message))
    }

    fn string_operand(&mut self, at: &Resolved, op: Operator) -> Option<String> {
        match at.node.as_str() {
            Some(s) => Some(s.to_string()),
            None => self.wrong_operand(at, op, "a string"),
        }
    }

    /// A literal of type `ty`, or `$self.ATTR` of that type.
    fn operand(&mut self, node: &Node, ty: &AttrType) -> Option<Operand> {
        let Some(Reference::OfResource(attr)) = Reference::of(node) else {
            return self.literal(node, ty).map(Operand::Const);
        };
        let (subject, found) = self.resource_subject(node, attr)?;
        if !same_type(&found, ty) {
            let message = format!(
                "`$self.{attr}` is {}, expected {}",
                article(found.name()),
                article(ty.name())
            );
            return self.error(node.mark, Code::TypeMismatch, message);
        }
        Some(Operand::OfResource(subject))
    }

    /// The operand of comparison `op` of `subject`, an integer measuring
    /// time in `unit`: an integer in that unit, `$self.ATTR`, or a duration
    /// (written, or a `$param` holding one) converted to the unit. A
    /// duration that is not a whole number of the unit is rounded so that
    /// the comparison of the integer decides as the exact one would: down
    /// for `lte` and `gt`, up for `lt` and `gte`; `eq` and `ne` refuse it.
    fn measure(
        &mut self,
        op: Operator,
        node: &Node,
        ty: &AttrType,
        unit: TimeUnit,
        subject: &str,
    ) -> Option<Operand> {
        if let Some(Reference::OfResource(_)) = Reference::of(node) {
            return self.operand(node, ty);
        }
        self.measuring = true;
        let at = self.resolve(node);
        self.measuring = false;
        let at = at?;
        let text = match at.node.scalar() {
            Some(Scalar::Int(_)) => return self.literal_in(at, ty).map(Operand::Const),
            Some(Scalar::Str(text)) => text.trim().to_string(),
            _ => {
                let message = format!(
                    "expected a duration like `24h` or an integer ({}), found {}",
                    unit.name(),
                    at.node.describe()
                );
                return self.reject(at.diagnostic(Code::TypeMismatch, message));
            }
        };
        let seconds = match duration::parse(&text) {
            Ok(d) => d.as_secs(),
            Err(e) => return self.reject(at.diagnostic(Code::InvalidDuration, e)),
        };
        let (whole, rest) = (seconds / unit.seconds(), seconds % unit.seconds());
        let amount = match op {
            _ if rest == 0 => whole,
            Operator::Lte | Operator::Gt => whole,
            Operator::Lt | Operator::Gte => whole + 1,
            _ => {
                let message = format!(
                    "`{subject}` counts whole {unit}, and `{text}` is not a whole number of {unit}: \
                     `{op}` would never decide on it",
                    unit = unit.name()
                );
                return self.reject(at.diagnostic(Code::InvalidOperand, message));
            }
        };
        Some(Operand::Measure {
            amount: Value::Int(amount),
            written: text,
        })
    }

    /// A literal of type `ty`, or a `$param` holding one.
    fn literal(&mut self, node: &Node, ty: &AttrType) -> Option<Value> {
        let at = self.resolve(node)?;
        self.literal_in(at, ty)
    }

    fn literal_in(&mut self, at: Resolved, ty: &AttrType) -> Option<Value> {
        let node = &at.node;
        if at.param.is_none()
            && let Some(Reference::OfResource(attr)) = Reference::of(node)
        {
            let takers = Operator::VARIANTS
                .iter()
                .filter(|op| op.takes_self_operand())
                .map(Operator::to_string);
            let message = format!(
                "`$self.{attr}` cannot be used here; `$self.ATTR` is an operand of {}",
                listing(takers, "and")
            );
            return self.error(node.mark, Code::InvalidOperand, message);
        }
        match (ty, node.scalar()) {
            (AttrType::Bool, Some(Scalar::Bool(b))) => Some(Value::Bool(b)),
            (AttrType::Int, Some(Scalar::Int(i))) => Some(Value::Int(i)),
            (AttrType::Str { values }, Some(Scalar::Str(s))) => {
                if !values.is_empty() && !values.contains(&s) {
                    let message = format!(
                        "{s:?} never occurs here; possible values: {}",
                        values.join(", ")
                    );
                    return self.reject(Diagnostic {
                        help: did_you_mean(s, values.iter().copied()),
                        ..at.diagnostic(Code::UnknownValue, message)
                    });
                }
                Some(Value::Str(s.to_string()))
            }
            (AttrType::Time, Some(Scalar::Str(s))) => match s.parse::<Timestamp>() {
                Ok(t) => Some(Value::Time(t)),
                Err(_) => {
                    let message = format!("expected an RFC 3339 timestamp, found {s:?}");
                    self.reject(at.diagnostic(Code::TypeMismatch, message))
                }
            },
            _ => {
                let message = format!("expected {}, found {}", article(ty.name()), node.describe());
                self.reject(at.diagnostic(Code::TypeMismatch, message))
            }
        }
    }
}

/// An operand node after `$param` resolution, with where it was written.
#[derive(Clone)]
struct Resolved {
    node: Node,
    file: String,
    /// The param it came from, if any.
    param: Option<String>,
}

impl Resolved {
    /// A child node written in the same place.
    fn with(&self, node: &Node) -> Resolved {
        Resolved {
            node: node.clone(),
            file: self.file.clone(),
            param: self.param.clone(),
        }
    }

    /// A diagnostic at the operand, which may come from a param set in
    /// another file: it names the param, so the rule's use of it is found.
    fn diagnostic(&self, code: Code, message: impl Into<String>) -> Diagnostic {
        let from = self
            .param
            .as_ref()
            .map(|p| format!(" (from `${p}`)"))
            .unwrap_or_default();
        let message = format!("{}{from}", message.into());
        Diagnostic::new(&self.file, self.node.mark, code, message)
    }
}

/// Every item compiled, or `None` when any failed. Each is compiled either
/// way, so that every mistake is reported at once.
fn every<T>(compiled: impl Iterator<Item = Option<T>>) -> Option<Vec<T>> {
    let compiled: Vec<Option<T>> = compiled.collect();
    compiled.into_iter().collect()
}

/// What to use instead of comparison `op` on a list, which no comparison
/// applies to.
fn comparison_alternatives(op: Operator, ty: &AttrType) -> &'static [Operator] {
    match ty {
        _ if !op.is_comparison() => &[],
        AttrType::StrList => &[Operator::Contains, Operator::Length, Operator::Any],
        AttrType::ObjectList(_) => &[
            Operator::Length,
            Operator::Any,
            Operator::All,
            Operator::None,
        ],
        _ => &[],
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

/// "a, b or c", with `conjunction` before the last word.
fn listing(words: impl Iterator<Item = String>, conjunction: &str) -> String {
    let mut words: Vec<String> = words.collect();
    match words.pop() {
        None => String::new(),
        Some(last) if words.is_empty() => last,
        Some(last) => format!("{} {conjunction} {last}", words.join(", ")),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::Compiler;
    use crate::lang::diagnostic::Diagnostic;
    use crate::lang::yaml;
    use crate::model::schema;

    fn diagnostics(condition: &str) -> Vec<Diagnostic> {
        let node = yaml::parse(condition).expect("valid YAML");
        let kind = schema::resource_type("aws.rds.db_instance").expect("known type");
        let params = BTreeMap::new();
        let mut compiler = Compiler::new("rule.yaml", kind, &params);
        assert!(compiler.condition(&node).is_none());
        compiler.diagnostics
    }

    #[test]
    fn an_unrecognisable_operator_gets_the_list_of_operators() {
        let [d] = &diagnostics("multi_az: {zzz: true}")[..] else {
            panic!("one diagnostic expected")
        };
        assert_eq!(d.message, "unknown operator `zzz`");
        assert_eq!(
            d.help.as_deref(),
            Some(
                "operators: eq, ne, gt, gte, lt, lte, in, not_in, present, absent, matches, \
                 glob, contains, length, any, all, none, newer_than, older_than, within_windows"
            )
        );
    }

    #[test]
    fn every_entry_is_compiled_so_every_mistake_is_reported() {
        let found = diagnostics("{multi_az: {gte: 1}, engine: {zzz: 1}, nope: {eq: 1}}");
        let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`gte` does not apply to `multi_az`, which is a bool",
                "unknown operator `zzz`",
                "aws.rds.db_instance has no attribute `nope`",
            ]
        );
    }
}
