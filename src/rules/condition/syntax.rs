//! The words of the condition language: operators, combinators and the
//! references an operand may make instead of being a literal.

use std::str::FromStr;

use strum::VariantArray;

use crate::lang::yaml::Node;
use crate::model::schema::AttrType;

/// An operator, as in `subject: {operator: operand}`. Its name comes from
/// the variant, so the names the compiler accepts, those listed for a
/// misspelling and the words of descriptions cannot drift apart. The
/// variants' order is the order in which operators are listed.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum Operator {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    NotIn,
    Present,
    Absent,
    Matches,
    Glob,
    Contains,
    Length,
    Any,
    All,
    None,
    NewerThan,
    OlderThan,
    WithinWindows,
}

/// A word of the language, named after its variant.
pub(super) trait Keyword:
    Copy + FromStr + VariantArray + Into<&'static str> + 'static
{
    fn parse(name: &str) -> Option<Self> {
        name.parse().ok()
    }

    /// Every name, in the variants' order: what a misspelled word is
    /// matched against.
    fn names() -> impl Iterator<Item = &'static str> {
        Self::VARIANTS.iter().map(|&word| word.into())
    }
}

impl Keyword for Operator {}

impl Keyword for Combinator {}

impl Operator {
    pub(super) fn is_comparison(self) -> bool {
        matches!(
            self,
            Operator::Eq
                | Operator::Ne
                | Operator::Gt
                | Operator::Gte
                | Operator::Lt
                | Operator::Lte
        )
    }

    /// Whether the operator can test a subject of type `ty`; a rule that
    /// applies it to anything else does not compile.
    pub(super) fn applies_to(self, ty: &AttrType) -> bool {
        let list = matches!(ty, AttrType::StrList | AttrType::ObjectList(_));
        let string = matches!(ty, AttrType::Str { .. });
        match self {
            Operator::Eq | Operator::Ne => !list,
            Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte => {
                matches!(ty, AttrType::Int | AttrType::Time)
            }
            Operator::In | Operator::NotIn => string || matches!(ty, AttrType::Int),
            Operator::Present | Operator::Absent => true,
            Operator::Matches | Operator::Glob | Operator::WithinWindows => string,
            Operator::Contains => string || matches!(ty, AttrType::StrList),
            Operator::Length => string || list,
            Operator::Any | Operator::All | Operator::None => list,
            Operator::NewerThan | Operator::OlderThan => matches!(ty, AttrType::Time),
        }
    }

    /// Whether the operand may be `$self.ATTR`, another attribute of the
    /// resource being judged.
    pub(super) fn takes_self_operand(self) -> bool {
        self.is_comparison() || self == Operator::Contains
    }

    /// How a test with this operator reads after its subject's name, before
    /// its operand: `size >= 3`, `name matching /^db-/`, `tags.backup present`.
    pub(super) fn phrase(self) -> &'static str {
        match self {
            Operator::Eq => "==",
            Operator::Ne => "!=",
            Operator::Gt => ">",
            Operator::Gte => ">=",
            Operator::Lt => "<",
            Operator::Lte => "<=",
            Operator::In => "one of",
            Operator::NotIn => "none of",
            Operator::Present | Operator::Absent => self.into(),
            Operator::Matches | Operator::Glob => "matching",
            Operator::Contains => "containing",
            Operator::Length => "length",
            Operator::Any => "at least one element",
            Operator::All => "every element",
            Operator::None => "no element",
            Operator::NewerThan => "newer than",
            Operator::OlderThan => "older than",
            Operator::WithinWindows => "within",
        }
    }
}

/// A condition key that combines conditions rather than naming a subject.
#[derive(
    Debug, Clone, Copy, strum::Display, strum::EnumString, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "lowercase")]
pub(super) enum Combinator {
    All,
    Any,
    Not,
}

/// A string operand that refers to a value rather than being one.
pub(super) enum Reference<'a> {
    /// `$name`: a param of the rule.
    Param(&'a str),
    /// `$self.ATTR`: an attribute of the resource being judged.
    OfResource(&'a str),
}

impl<'a> Reference<'a> {
    pub(super) fn of(node: &'a Node) -> Option<Reference<'a>> {
        let name = node.as_str()?.strip_prefix('$')?;
        Some(match name.strip_prefix("self.") {
            Some(attr) => Reference::OfResource(attr),
            None => Reference::Param(name),
        })
    }
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::{Combinator, Keyword, Operator};

    /// Operator names are the language itself: renaming a variant must not
    /// rename an operator, and the listed order is what users are shown.
    #[test]
    fn operator_names_are_stable() {
        let names: Vec<&str> = Operator::names().collect();
        assert_eq!(
            names,
            [
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
                "within_windows",
            ]
        );
        assert_eq!(
            Combinator::names().collect::<Vec<_>>(),
            ["all", "any", "not"]
        );
    }

    #[test]
    fn every_name_parses_back_to_its_operator() {
        for op in Operator::VARIANTS {
            assert_eq!(Operator::parse(op.into()), Some(*op));
            assert_eq!(op.to_string(), <&str>::from(op));
        }
        assert_eq!(Operator::parse("Eq"), None);
        assert_eq!(Operator::parse("not in"), None);
    }
}
