//! Three-valued evaluation of a compiled condition against one resource,
//! and which facts leave it undecided.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};

use super::{
    Common, Condition, Element, Operand, Operator, Subject, Test, Undecided, Window, push_once,
};
use crate::lang::duration;
use crate::model::{Resource, Value};

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

    /// Inside `any`/`all`/`none` over a list of objects: fields are read
    /// from `element`.
    fn within(self, element: &'a BTreeMap<String, Value>) -> Env<'a> {
        Env {
            element: Some(element),
            ..self
        }
    }

    /// `$self` always means the resource, even inside a list element.
    fn of_resource(self) -> Env<'a> {
        Env {
            element: None,
            ..self
        }
    }
}

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

    /// Which facts left the condition undecided, for `error` messages:
    /// `multi_az`, `replication_rules[0].destination_region`, or a value
    /// its test cannot judge. Call only when `truth` is unknown.
    pub fn undecided(&self, env: &Env) -> Undecided {
        let mut out = Undecided::default();
        self.collect_unknowns(env, "", &mut out);
        out
    }

    fn collect_unknowns(&self, env: &Env, prefix: &str, out: &mut Undecided) {
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
                let name = format!("{prefix}{}", subject.name());
                if value.is_unknown() {
                    push_once(&mut out.unknown, name);
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
}

static NULL: Value = Value::Null;
static UNKNOWN: Value = Value::Unknown;

impl Subject {
    pub(super) fn value<'a>(&'a self, env: &Env<'a>) -> Cow<'a, Value> {
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
                // A plan does not know every resource's name, ARN or account
                // before apply: an empty one is unknown there, not "".
                let unknown_in_plan = r.planned.as_ref().is_some_and(|p| {
                    s.is_empty() || (matches!(c, Common::Id) && p.id_known_after_apply)
                });
                if unknown_in_plan {
                    return Cow::Borrowed(&UNKNOWN);
                }
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
}

impl Operand {
    pub(super) fn value<'a>(&'a self, env: &Env<'a>) -> Cow<'a, Value> {
        match self {
            Operand::Const(v) | Operand::Measure { amount: v, .. } => Cow::Borrowed(v),
            Operand::OfResource(subject) => {
                Cow::Owned(subject.value(&env.of_resource()).into_owned())
            }
        }
    }
}

impl Test {
    /// Unknown when the value (or a `$self` operand) is unknown. A known
    /// absence has no size, time or text: only `absent`, `ne`, `not_in` and
    /// `none` hold on it.
    pub(super) fn truth(&self, value: &Value, env: &Env) -> Truth {
        if value.is_unknown() {
            return Truth::Unknown;
        }
        if let Test::Presence(op) = self {
            return Truth::of(value.is_null() == (*op == Operator::Absent));
        }
        if value.is_null() {
            return self.truth_of_absence(env);
        }
        match self {
            Test::Presence(_) => unreachable!("handled above"),
            Test::Compare { op, operand } => {
                let other = operand.value(env);
                if other.is_unknown() {
                    return Truth::Unknown;
                }
                if other.is_null() {
                    return Truth::of(*op == Operator::Ne);
                }
                Truth::of(compare(value, *op, &other))
            }
            Test::In { op, values } => {
                let found = values.contains(value);
                Truth::of(match op {
                    Operator::In => found,
                    Operator::NotIn => !found,
                    other => unreachable!("`{other}` compiled as a membership test"),
                })
            }
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
            Test::Quantified { op, element } => {
                let Some(items) = value.as_list() else {
                    return Truth::False;
                };
                let matching = items.iter().map(|item| element.truth(item, env));
                match op {
                    Operator::Any => Truth::any(matching),
                    Operator::All => Truth::all(matching),
                    Operator::None => Truth::any(matching).not(),
                    other => unreachable!("`{other}` compiled as a quantifier"),
                }
            }
            Test::Windows(allowed) => match value {
                // Not a window: AWS sent what the test cannot judge.
                Value::Str(text) => match Window::parse(text) {
                    Ok(window) => Truth::of(allowed.iter().any(|&a| window.lies_within(a))),
                    Err(_) => Truth::Unknown,
                },
                _ => Truth::False,
            },
            Test::Age {
                op,
                limit,
                overrides,
            } => match (value, age_limit(*limit, overrides, env)) {
                (_, None) => Truth::Unknown,
                (Value::Time(t), Some(limit)) => {
                    let age = env.now.duration_since(*t);
                    Truth::of(match op {
                        Operator::NewerThan => age < limit,
                        Operator::OlderThan => age > limit,
                        other => unreachable!("`{other}` compiled as an age test"),
                    })
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
                    Truth::of(*op == Operator::Ne)
                }
            }
            Test::Contains(operand) if operand.value(env).is_unknown() => Truth::Unknown,
            Test::In { op, .. } => Truth::of(*op == Operator::NotIn),
            Test::Quantified {
                op: Operator::None, ..
            } => Truth::True,
            _ => Truth::False,
        }
    }

    fn collect_unknowns(&self, value: &Value, env: &Env, name: &str, out: &mut Undecided) {
        match self {
            Test::Compare { operand, .. } | Test::Contains(operand) => {
                if let Operand::OfResource(subject) = operand {
                    push_once(&mut out.unknown, subject.name());
                }
            }
            Test::Age { overrides, .. } => {
                if let Some((subject, _)) = deciding_override(overrides, env) {
                    push_once(&mut out.unknown, subject.name());
                }
            }
            Test::Windows(_) => push_once(
                &mut out.unjudgeable,
                format!("{name} is {value}, not a time window (HH:MM-HH:MM)"),
            ),
            Test::Quantified {
                element: Element::Scalar(tests),
                ..
            } => {
                for (i, item) in value.as_list().unwrap_or_default().iter().enumerate() {
                    for test in tests {
                        if test.truth(item, env) == Truth::Unknown {
                            test.collect_unknowns(item, env, &format!("{name}[{i}]"), out);
                        }
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
                    let inner = env.within(fields);
                    if condition.truth(&inner) == Truth::Unknown {
                        condition.collect_unknowns(&inner, &format!("{name}[{i}]."), out);
                    }
                }
            }
            _ => push_once(&mut out.unknown, name.to_string()),
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
            Test::In { .. }
            | Test::Presence(_)
            | Test::Matches(_)
            | Test::Glob { .. }
            | Test::Windows(_) => {}
        }
    }
}

impl Element {
    fn truth(&self, item: &Value, env: &Env) -> Truth {
        match self {
            Element::Scalar(tests) => Truth::all(tests.iter().map(|t| t.truth(item, env))),
            Element::Object(condition) => match item {
                Value::Object(fields) => condition.truth(&env.within(fields)),
                _ => Truth::False,
            },
        }
    }
}

fn compare(a: &Value, op: Operator, b: &Value) -> bool {
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
        Operator::Eq => ord.is_eq(),
        Operator::Ne => ord.is_ne(),
        Operator::Gt => ord.is_gt(),
        Operator::Gte => ord.is_ge(),
        Operator::Lt => ord.is_lt(),
        Operator::Lte => ord.is_le(),
        other => unreachable!("`{other}` compiled as a comparison"),
    }
}

/// The age limit for this resource: the first present override, else the
/// fixed limit. `None` when it cannot be known: an override is unknown
/// (falling back to the default could pass what the override fails) or
/// not a valid duration.
pub(super) fn age_limit(
    limit: SignedDuration,
    overrides: &[Subject],
    env: &Env,
) -> Option<SignedDuration> {
    match deciding_override(overrides, env) {
        None => Some(limit),
        Some((_, value)) => match &*value {
            Value::Str(text) => duration::parse(text).ok(),
            _ => None,
        },
    }
}

/// The first override the resource does not lack, with its value: it
/// decides the limit, whether or not it is known.
fn deciding_override<'a>(
    overrides: &'a [Subject],
    env: &Env<'a>,
) -> Option<(&'a Subject, Cow<'a, Value>)> {
    let env = env.of_resource();
    overrides.iter().find_map(|subject| {
        let value = subject.value(&env);
        (!value.is_null()).then_some((subject, value))
    })
}
