//! Errors in rule and config files, each pointing at a file, line and column.

use std::fmt;

use super::yaml::{Mark, YamlError};

/// One problem found while loading rules or configuration.
///
/// `code` is stable: tests and users may match on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &str, mark: Mark, code: &'static str, message: impl Into<String>) -> Self {
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

    pub fn yaml(file: &str, error: YamlError) -> Self {
        Diagnostic::new(file, error.mark, "yaml-syntax", error.message)
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
            code: "io",
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
    crate::model::schema::suggest(wrong, candidates).map(|c| format!("did you mean `{c}`?"))
}
