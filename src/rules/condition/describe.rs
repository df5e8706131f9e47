//! Conditions in words: what a condition requires, and why it failed for a
//! resource.

use super::evaluate::age_limit;
use super::{Condition, Element, Env, Operand, Operator, Subject, Test, Truth, Window, push_once};
use crate::lang::duration;
use crate::model::Value;

impl Condition {
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
                    // A window reads as the operand's windows do.
                    (Value::Str(window), Some(Test::Windows(_))) => window.clone(),
                    // What AWS's "none" means for this attribute.
                    (Value::Null, _) => match subject.none_meaning(env) {
                        Some(meaning) => format!("absent ({meaning})"),
                        None => "absent".to_string(),
                    },
                    (v, _) => v.to_string(),
                };
                format!("{} is {shown}, expected {expected}", subject.name())
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
            Condition::All(parts) => conjunction(parts.iter().map(|p| p.describe_in(env))),
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
                let name = subject.name();
                conjunction(tests.iter().map(|t| format!("{name} {}", t.describe(env))))
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
                    push_once(out, format!("{} is {}", subject.name(), subject.value(env)));
                }
            }
        }
    }
}

impl Subject {
    /// The schema's words for a known absence of this subject.
    fn none_meaning(&self, env: &Env) -> Option<&'static str> {
        match self {
            Subject::Attr { index, .. } => env.resource.resource_type.attributes[*index].none,
            Subject::Field(field) => field.none,
            Subject::Common(_) | Subject::Tag(_) | Subject::Param { .. } => None,
        }
    }
}

impl Test {
    /// Whether the test's outcome depends only on its subject (no `$self`).
    fn is_constant(&self) -> bool {
        match self {
            Test::Compare { operand, .. } | Test::Contains(operand) => {
                matches!(operand, Operand::Const(_) | Operand::Measure { .. })
            }
            Test::Length(tests) => tests.iter().all(Test::is_constant),
            Test::Quantified { element, .. } => match element {
                Element::Scalar(tests) => tests.iter().all(Test::is_constant),
                Element::Object(_) => false,
            },
            Test::Age { overrides, .. } => overrides.is_empty(),
            Test::In { .. }
            | Test::Presence(_)
            | Test::Matches(_)
            | Test::Glob { .. }
            | Test::Windows(_) => true,
        }
    }

    /// The requirement, after "expected".
    fn expectation(&self, env: &Env) -> String {
        match self {
            Test::Compare {
                op: Operator::Eq,
                operand,
            } => operand.describe(Some(env)),
            Test::Compare {
                op: Operator::Ne,
                operand,
            } => format!("not {}", operand.describe(Some(env))),
            Test::Length(tests) => {
                let parts = conjunction(tests.iter().map(|t| t.expectation(env)));
                format!("{} {parts}", Operator::Length.phrase())
            }
            _ => self.describe(Some(env)),
        }
    }

    /// The requirement, after the subject's name.
    fn describe(&self, env: Option<&Env>) -> String {
        let words = self.operator().phrase();
        match self {
            Test::Compare { operand, .. } | Test::Contains(operand) => {
                format!("{words} {}", operand.describe(env))
            }
            Test::In { values, .. } => format!("{words} {}", Value::List(values.clone())),
            Test::Presence(_) => words.to_string(),
            Test::Matches(re) => format!("{words} /{}/", re.as_str()),
            Test::Glob { patterns, .. } => format!("{words} {}", patterns.join(" or ")),
            Test::Windows(allowed) => {
                let windows: Vec<String> = allowed.iter().map(Window::to_string).collect();
                format!("{words} {}", windows.join(" or "))
            }
            Test::Length(tests) => format!("{words} {}", describe_all(tests, env)),
            Test::Quantified { element, .. } => format!("{words} {}", element.describe(env)),
            Test::Age {
                limit, overrides, ..
            } => {
                let limit = match env {
                    Some(env) => age_limit(*limit, overrides, env)
                        .map_or_else(|| "an unknown or invalid duration".into(), duration::format),
                    None if overrides.is_empty() => duration::format(*limit),
                    None => {
                        let names: Vec<_> = overrides.iter().map(Subject::name).collect();
                        format!(
                            "{} (default {})",
                            names.join(" or "),
                            duration::format(*limit)
                        )
                    }
                };
                format!("{words} {limit}")
            }
        }
    }
}

impl Operand {
    fn describe(&self, env: Option<&Env>) -> String {
        match (self, env) {
            (Operand::Const(v), _) => v.to_string(),
            (Operand::Measure { amount, written }, _) => format!("{amount} ({written})"),
            (Operand::OfResource(s), Some(env)) => match &*self.value(env) {
                Value::Str(v) => format!("its {} ({v})", s.name()),
                other => format!("its {} ({other})", s.name()),
            },
            (Operand::OfResource(s), None) => format!("its {}", s.name()),
        }
    }
}

impl Element {
    fn describe(&self, env: Option<&Env>) -> String {
        match self {
            Element::Scalar(tests) => describe_all(tests, env),
            Element::Object(condition) => format!("where {}", condition.describe_in(env)),
        }
    }
}

/// Tests that must all hold, in words.
fn describe_all(tests: &[Test], env: Option<&Env>) -> String {
    conjunction(tests.iter().map(|t| t.describe(env)))
}

/// "a and b": requirements that must all hold.
fn conjunction(parts: impl Iterator<Item = String>) -> String {
    parts.collect::<Vec<_>>().join(" and ")
}
