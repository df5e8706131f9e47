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
//!
//! One module per stage: `syntax` holds the language's words, `compile`
//! turns YAML into the types below, `evaluate` judges a resource with them
//! and `describe` puts a condition, or why it failed, into words.

mod compile;
mod describe;
mod evaluate;
mod syntax;

use globset::GlobSet;
use jiff::SignedDuration;
use regex::Regex;

use crate::lang::yaml::Node;
use crate::model::Value;
use crate::model::schema::Attribute;

pub use compile::Compiler;
pub use evaluate::{Env, Truth};
pub use syntax::Operator;

/// Deepest nesting of conditions and operator mappings compiled. Files
/// cannot nest deeper than the YAML parser allows; this also holds for
/// trees built in code, and bounds evaluation, which recurses the same way.
pub const MAX_CONDITION_DEPTH: usize = crate::lang::yaml::MAX_DEPTH;

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

/// The fields every resource has, whatever its type.
#[derive(Debug, Clone, Copy, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Common {
    Id,
    Arn,
    Account,
    Region,
}

/// One `operator: operand` entry. Where several operators compile to one
/// variant, it keeps the operator, which decides both its outcome and its
/// words.
#[derive(Debug)]
pub enum Test {
    /// `eq`, `ne`, `gt`, `gte`, `lt` or `lte`.
    Compare {
        op: Operator,
        operand: Operand,
    },
    /// `in` or `not_in`.
    In {
        op: Operator,
        values: Vec<Value>,
    },
    /// `present` or `absent`; `present: false` compiles to `absent`.
    Presence(Operator),
    Matches(Regex),
    Glob {
        set: GlobSet,
        patterns: Vec<String>,
    },
    Contains(Operand),
    Length(Vec<Test>),
    /// `any`, `all` or `none`.
    Quantified {
        op: Operator,
        element: Element,
    },
    /// `newer_than` or `older_than`. `overrides` are `$self.ATTR` duration
    /// strings tried first (from `[$self.max_age, $max_age]`); `limit`
    /// applies when none is present.
    Age {
        op: Operator,
        limit: SignedDuration,
        overrides: Vec<Subject>,
    },
    /// `within_windows`: the subject's window lies inside one of these.
    Windows(Vec<Window>),
}

/// A daily time window in UTC, written `HH:MM-HH:MM` as RDS writes its
/// backup and maintenance windows; it may wrap midnight (`22:00-02:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Minutes after midnight.
    start: u16,
    /// Never zero, less than a day.
    minutes: u16,
}

const MINUTES_PER_DAY: u16 = 24 * 60;

impl Window {
    /// `22:00-02:00`; anything else, an empty window included, is an error
    /// saying what was expected.
    pub fn parse(text: &str) -> Result<Window, String> {
        let expected = || {
            format!(
                "expected a time window like \"00:00-06:00\" (HH:MM-HH:MM, UTC), found {text:?}"
            )
        };
        let (start, end) = text.split_once('-').ok_or_else(expected)?;
        let (Some(start), Some(end)) = (minute_of_day(start), minute_of_day(end)) else {
            return Err(expected());
        };
        if start == end {
            return Err(format!(
                "the time window {text:?} is empty: it ends where it starts"
            ));
        }
        Ok(Window {
            start,
            minutes: (end + MINUTES_PER_DAY - start) % MINUTES_PER_DAY,
        })
    }

    /// Whether every minute of this window is also in `outer`; both may
    /// wrap midnight, so both are measured from where `outer` starts.
    pub fn lies_within(self, outer: Window) -> bool {
        let offset = (self.start + MINUTES_PER_DAY - outer.start) % MINUTES_PER_DAY;
        offset + self.minutes <= outer.minutes
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let end = (self.start + self.minutes) % MINUTES_PER_DAY;
        let clock = |minute: u16| format!("{:02}:{:02}", minute / 60, minute % 60);
        write!(f, "{}-{}", clock(self.start), clock(end))
    }
}

/// `07:30` as minutes after midnight: two digits each, as AWS writes them.
fn minute_of_day(text: &str) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    let two_digits = |s: &str| {
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u16>().ok())
            .flatten()
    };
    let (hours, minutes) = (two_digits(hours)?, two_digits(minutes)?);
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

/// What leaves a condition undecided on a resource, for `error` messages.
#[derive(Debug, Default)]
pub struct Undecided {
    /// Facts not read, or not sent by AWS: `multi_az`,
    /// `replication_rules[0].destination_region`.
    pub unknown: Vec<String>,
    /// Facts read in a form their test cannot judge, each saying so:
    /// `backup_window is "soon", not a time window (HH:MM-HH:MM)`.
    pub unjudgeable: Vec<String>,
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
    /// A duration (`24h`) compared with an integer measuring time: `amount`
    /// is it in the integer's unit, `written` as the rule or param wrote it.
    Measure {
        amount: Value,
        written: String,
    },
}

/// A param's value and the file that set it (the rule, or a config override).
#[derive(Debug, Clone)]
pub struct ParamValue {
    pub node: Node,
    pub file: String,
}

impl Subject {
    /// The subject as a rule writes it: `multi_az`, `tags.backup`, `$param`.
    fn name(&self) -> String {
        match self {
            Subject::Attr { name, .. } => (*name).to_string(),
            Subject::Field(field) => field.name.to_string(),
            Subject::Common(c) => <&str>::from(c).to_string(),
            Subject::Tag(t) => format!("tags.{t}"),
            Subject::Param { name, .. } => format!("${name}"),
        }
    }
}

impl Test {
    /// The operator as written, except that `present: false` is `absent`
    /// (and `absent: false` is `present`).
    fn operator(&self) -> Operator {
        match self {
            Test::Compare { op, .. }
            | Test::In { op, .. }
            | Test::Presence(op)
            | Test::Quantified { op, .. }
            | Test::Age { op, .. } => *op,
            Test::Matches(_) => Operator::Matches,
            Test::Glob { .. } => Operator::Glob,
            Test::Contains(_) => Operator::Contains,
            Test::Length(_) => Operator::Length,
            Test::Windows(_) => Operator::WithinWindows,
        }
    }
}

/// Adds `fact` to the facts listed for a message unless it is there already.
fn push_once(facts: &mut Vec<String>, fact: String) {
    if !facts.contains(&fact) {
        facts.push(fact);
    }
}
