//! Errors in rule and config files, each pointing at a file, line and column.

use std::fmt;

use super::yaml::{Mark, YamlError};

/// What kind of problem a [`Diagnostic`] reports. The kebab-case name
/// (`type-mismatch`) is printed and is stable: users and tests match on it,
/// so a variant is never renamed, only added.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Code {
    DuplicateId,
    EmptyField,
    IdMismatch,
    InvalidAccount,
    InvalidCategory,
    InvalidCondition,
    InvalidDate,
    InvalidDuration,
    InvalidGlob,
    InvalidId,
    InvalidOperand,
    InvalidRegex,
    InvalidRegion,
    InvalidRule,
    InvalidSeverity,
    InvalidValue,
    InvalidWindow,
    Io,
    MissingField,
    TypeMismatch,
    UnknownAttribute,
    UnknownField,
    UnknownOperator,
    UnknownParam,
    UnknownResourceType,
    UnknownRule,
    UnknownValue,
    UnusedParam,
    YamlSyntax,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One problem found while loading rules or configuration.
///
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub code: Code,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &str, mark: Mark, code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_string(),
            line: mark.line,
            col: mark.col,
            code,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Helps with "did you mean `x`?" when one of `candidates` is close to
    /// `wrong`.
    pub fn suggesting<'a>(
        mut self,
        wrong: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        if let Some(help) = did_you_mean(wrong, candidates) {
            self.help = Some(help);
        }
        self
    }

    /// Helps with `help` when nothing else does (no close suggestion).
    pub fn or_help(mut self, help: impl Into<String>) -> Self {
        self.help.get_or_insert_with(|| help.into());
        self
    }

    pub fn yaml(file: &str, error: YamlError) -> Self {
        Diagnostic::new(file, error.mark, Code::YamlSyntax, error.message)
    }

    /// A file that could not be read (`what`: "cannot read rule file"). Code
    /// `io`, at the offending place when there is one (a byte that is not
    /// UTF-8), else at 0:0.
    pub fn read_error(file: &str, what: &str, error: &crate::input::ReadError) -> Self {
        let (line, col) = error.position().unwrap_or((0, 0));
        Diagnostic {
            file: file.to_string(),
            line,
            col,
            code: Code::Io,
            message: format!("{what}: {error}"),
            help: None,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error[{}]: {}",
            self.file, self.line, self.col, self.code, self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// All diagnostics of a failed load, so the user fixes them in one pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// "did you mean `x`?" when a close candidate exists.
pub fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    super::suggest::closest(wrong, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::Code;

    /// The printed codes are an interface: a change here breaks users' scripts.
    #[test]
    fn codes_are_stable() {
        let names: Vec<&str> = Code::VARIANTS.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "duplicate-id",
                "empty-field",
                "id-mismatch",
                "invalid-account",
                "invalid-category",
                "invalid-condition",
                "invalid-date",
                "invalid-duration",
                "invalid-glob",
                "invalid-id",
                "invalid-operand",
                "invalid-regex",
                "invalid-region",
                "invalid-rule",
                "invalid-severity",
                "invalid-value",
                "invalid-window",
                "io",
                "missing-field",
                "type-mismatch",
                "unknown-attribute",
                "unknown-field",
                "unknown-operator",
                "unknown-param",
                "unknown-resource-type",
                "unknown-rule",
                "unknown-value",
                "unused-param",
                "yaml-syntax",
            ]
        );
    }
}
