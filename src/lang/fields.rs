//! Reading YAML mappings as declared fields of known types.
//!
//! Rule files and `backstop.yaml` are read through one [`Reader`]: a mapping
//! is read against its [`Fields`] (unknown keys are reported with a
//! did-you-mean, required ones when missing) and each value with a typed
//! getter that reports a mismatch at the value's position. Nothing stops at
//! the first problem, so a file's every diagnostic comes out of one pass.

use std::borrow::Cow;
use std::cell::RefCell;
use std::str::FromStr;

use jiff::SignedDuration;
use jiff::civil::Date;

use super::diagnostic::{Code, Diagnostic};
use super::duration;
use super::suggest;
use super::yaml::{Mark, Node};

/// The fields a mapping may have, and how messages name them.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    /// How messages name the mapping: "a waiver" gives "a waiver must be a
    /// mapping" and "a waiver needs `rule`".
    name: &'a str,
    names: &'a [&'a str],
    /// Set when the mapping is a whole file.
    whole_file: Option<WholeFile<'a>>,
    strict_keys: bool,
}

/// How a file's own fields are named: "unknown config field `x`", and
/// "config fields: …" in the help that lists them.
#[derive(Debug, Clone, Copy)]
struct WholeFile<'a> {
    field: &'a str,
    listed: &'a str,
}

impl<'a> Fields<'a> {
    /// A mapping inside a file: "unknown field `x` in a waiver", "a waiver
    /// needs `rule`".
    pub const fn nested(name: &'a str, names: &'a [&'a str]) -> Self {
        Fields {
            name,
            names,
            whole_file: None,
            strict_keys: false,
        }
    }

    /// The mapping that is a whole file, whose fields messages call `field`
    /// ("unknown config field `x`") and `listed` ("config fields: …"). A
    /// required field is "missing required field `id`", unless a misspelt
    /// key was taken for it: that is reported once, as the unknown key.
    pub const fn whole_file(names: &'a [&'a str], field: &'a str, listed: &'a str) -> Self {
        Fields {
            // What is not a mapping is seldom a file of this kind at all:
            // callers say what they expected before reading it as a record.
            name: "the file",
            names,
            whole_file: Some(WholeFile { field, listed }),
            strict_keys: false,
        }
    }

    /// Keys that are not strings, or are empty, are reported as not being
    /// field names at all rather than as unknown fields.
    pub const fn strict_keys(self) -> Self {
        Fields {
            strict_keys: true,
            ..self
        }
    }
}

/// Reads the nodes of one file, collecting a diagnostic for every problem.
///
/// Getters take `&self` so that a nested value can be read while the
/// mapping around it is still borrowed; the diagnostics sit in a `RefCell`
/// for that.
pub struct Reader {
    file: String,
    diagnostics: RefCell<Vec<Diagnostic>>,
}

impl Reader {
    /// A reader whose diagnostics name `file`.
    pub fn new(file: &str) -> Self {
        Reader {
            file: file.to_string(),
            diagnostics: RefCell::new(Vec::new()),
        }
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// `node`, to be read as one type; `what` names it in messages
    /// ("`bucket`", "a tag value").
    pub fn value<'a>(&'a self, node: &'a Node, what: impl Into<Cow<'a, str>>) -> Value<'a> {
        Value {
            reader: self,
            node,
            what: what.into(),
            field: None,
        }
    }

    /// `node` as a mapping of `fields`; every unknown key is reported now.
    /// An empty value is an empty mapping.
    pub fn record<'a>(&'a self, node: &'a Node, fields: &'a Fields<'a>) -> Record<'a> {
        let mut record = Record {
            reader: self,
            node,
            fields,
            known: Vec::new(),
            misspelt: Vec::new(),
        };
        for (key, value) in self.value(node, fields.name).mapping().unwrap_or_default() {
            let name = key.text().unwrap_or_default();
            if fields.names.contains(&name) {
                record.known.push((name, key, value));
            } else if let Some(meant) = self.unknown_field(key, fields)
                && fields.whole_file.is_some()
            {
                record.misspelt.push(meant);
            }
        }
        record
    }

    /// Reports `key` as no field of `fields`, and returns the field it is
    /// probably a misspelling of.
    pub fn unknown_field<'f>(&self, key: &Node, fields: &Fields<'f>) -> Option<&'f str> {
        if fields.strict_keys && key.as_str().is_none_or(str::is_empty) {
            self.error(
                key.mark,
                Code::UnknownField,
                format!("expected a field name, found {}", key.describe()),
            );
            return None;
        }
        let name = key.text().unwrap_or_default();
        let (message, listed) = match fields.whole_file {
            Some(file) => (format!("unknown {} `{name}`", file.field), file.listed),
            None => (
                format!("unknown field `{name}` in {}", fields.name),
                "fields",
            ),
        };
        let meant = suggest::closest(name, fields.names.iter().copied());
        self.report(
            self.diagnostic(key.mark, Code::UnknownField, message)
                .suggesting(name, fields.names.iter().copied())
                .or_help(format!("{listed}: {}", fields.names.join(", "))),
        );
        meant
    }

    /// A diagnostic in this reader's file, to report once complete.
    pub fn diagnostic(&self, mark: Mark, code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.file, mark, code, message)
    }

    pub fn report(&self, diagnostic: Diagnostic) {
        self.diagnostics.borrow_mut().push(diagnostic);
    }

    pub fn error(&self, mark: Mark, code: Code, message: impl Into<String>) {
        self.report(self.diagnostic(mark, code, message));
    }

    /// `value` when nothing was reported, else every diagnostic.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<Diagnostic>> {
        let diagnostics = self.into_diagnostics();
        if diagnostics.is_empty() {
            Ok(value)
        } else {
            Err(diagnostics)
        }
    }

    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics.into_inner()
    }
}

/// A mapping read against its [`Fields`].
pub struct Record<'a> {
    reader: &'a Reader,
    node: &'a Node,
    fields: &'a Fields<'a>,
    /// The declared fields present: name, key and value.
    known: Vec<(&'a str, &'a Node, &'a Node)>,
    /// Fields that a misspelt key was taken for.
    misspelt: Vec<&'a str>,
}

impl<'a> Record<'a> {
    /// The field's value, if present; messages name it "`name`".
    pub fn optional(&self, name: &'a str) -> Option<Value<'a>> {
        debug_assert!(self.fields.names.contains(&name), "undeclared field {name}");
        let &(_, key, node) = self.known.iter().find(|(known, _, _)| *known == name)?;
        Some(Value {
            reader: self.reader,
            node,
            what: Cow::Owned(format!("`{name}`")),
            field: Some(FieldOf {
                key,
                record: self.fields.name,
            }),
        })
    }

    /// The field's value, reported missing when absent.
    pub fn required(&self, name: &'a str) -> Option<Value<'a>> {
        let value = self.optional(name);
        if value.is_none() && !self.misspelt.contains(&name) {
            let message = match self.fields.whole_file {
                Some(_) => format!("missing required field `{name}`"),
                None => format!("{} needs `{name}`", self.fields.name),
            };
            self.reader
                .error(self.node.mark, Code::MissingField, message);
        }
        value
    }
}

/// A node to read as one type, and how messages name it.
#[derive(Clone)]
pub struct Value<'a> {
    reader: &'a Reader,
    pub node: &'a Node,
    /// "`bucket`", "a tag value", "each item of `regions`".
    what: Cow<'a, str>,
    field: Option<FieldOf<'a>>,
}

/// Where a value is a record's field.
#[derive(Clone, Copy)]
struct FieldOf<'a> {
    key: &'a Node,
    /// The record's name: "a waiver".
    record: &'a str,
}

/// One entry of a mapping whose keys are the user's names (rule ids, tag
/// keys, param names) rather than declared fields.
pub struct Entry<'a> {
    /// The key's text; empty for a key that is not a scalar.
    pub name: &'a str,
    pub key: &'a Node,
    pub value: &'a Node,
}

impl<'a> Value<'a> {
    pub fn mark(&self) -> Mark {
        self.node.mark
    }

    /// The reader, to report what only the caller can check.
    pub fn reader(&self) -> &'a Reader {
        self.reader
    }

    fn mismatch(&self, expected: &str) {
        self.reader.error(
            self.node.mark,
            Code::TypeMismatch,
            format!(
                "{} must be {expected}, found {}",
                self.what,
                self.node.describe()
            ),
        );
    }

    /// Reports `result`'s error at this value, as `code`.
    pub fn check<T>(&self, code: Code, result: Result<T, String>) -> Option<T> {
        result
            .map_err(|message| self.reader.error(self.node.mark, code, message))
            .ok()
    }

    /// A string: a plain `7` or `true` is not one.
    pub fn string(&self) -> Option<&'a str> {
        let string = self.node.as_str();
        if string.is_none() {
            self.mismatch("a string");
        }
        string
    }

    /// A string with more than whitespace in it, as written.
    pub fn non_empty_string(&self) -> Option<&'a str> {
        let string = self.string()?;
        if string.trim().is_empty() {
            let whose = match self.field {
                Some(field) => format!("{}'s {}", field.record, self.what),
                None => self.what.to_string(),
            };
            self.reader.error(
                self.node.mark,
                Code::EmptyField,
                format!("{whose} must not be empty"),
            );
            return None;
        }
        Some(string)
    }

    /// A scalar's text without surrounding whitespace, which must not be
    /// empty: a number or a boolean is read as written (`title: 7`).
    pub fn non_empty_text(&self) -> Option<(&'a str, Mark)> {
        match self
            .node
            .text()
            .filter(|_| !self.node.is_null())
            .map(str::trim)
        {
            Some(text) if !text.is_empty() => Some((text, self.node.mark)),
            _ => {
                // An empty value's mark is wherever the next token is: point
                // at its key instead.
                let mark = match self.field {
                    Some(field) if self.node.is_null() => field.key.mark,
                    _ => self.node.mark,
                };
                self.reader.error(
                    mark,
                    Code::TypeMismatch,
                    format!(
                        "{} must be a non-empty string, found {}",
                        self.what,
                        self.node.describe()
                    ),
                );
                None
            }
        }
    }

    /// A scalar's text whatever YAML makes of it (`123456789012` is an
    /// integer to YAML, an account id to us); `expected` names what it is.
    pub fn text_as(&self, expected: &str) -> Option<&'a str> {
        let text = self.node.text();
        if text.is_none() {
            self.mismatch(expected);
        }
        text
    }

    /// A string converted by `parse`, whose error is reported as `code`.
    pub fn parse_with<T>(
        &self,
        code: Code,
        parse: impl FnOnce(&'a str) -> Result<T, String>,
    ) -> Option<T> {
        let string = self.string()?;
        self.check(code, parse(string))
    }

    /// A string naming one of `T`'s values (`high`, `never`); `T`'s own
    /// message is reported as `code`.
    pub fn parse<T: FromStr<Err = String>>(&self, code: Code) -> Option<T> {
        self.parse_with(code, str::parse)
    }

    /// A duration like `26h` or `1h30m`.
    pub fn duration(&self) -> Option<SignedDuration> {
        self.parse_with(Code::InvalidDuration, duration::parse)
    }

    /// A date like 2026-12-31.
    pub fn date(&self) -> Option<Date> {
        let text = self.node.text();
        let date = text.and_then(|t| t.parse::<Date>().ok());
        if date.is_none() {
            self.reader.error(
                self.node.mark,
                Code::InvalidDate,
                format!(
                    "{} must be a date like 2026-12-31, found {:?}",
                    self.what,
                    text.unwrap_or_default()
                ),
            );
        }
        date
    }

    /// A mapping's entries; an empty value is an empty mapping. `None`
    /// (reported) for anything else.
    pub fn mapping(&self) -> Option<&'a [(Node, Node)]> {
        if self.node.is_null() {
            return Some(&[]);
        }
        let entries = self.node.as_map();
        if entries.is_none() {
            self.mismatch("a mapping");
        }
        entries
    }

    /// The entries of a mapping of the user's names; none for anything but
    /// a mapping.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'a>> + use<'a> {
        self.mapping()
            .unwrap_or_default()
            .iter()
            .map(|(key, value)| Entry {
                name: key.text().unwrap_or_default(),
                key,
                value,
            })
    }

    /// A list, which must be written out: an empty value is not one.
    pub fn list(&self) -> Option<&'a [Node]> {
        let items = self.node.as_seq();
        if items.is_none() {
            self.mismatch("a list");
        }
        items
    }

    /// The items of a list that `read` accepts, each with its value. Every
    /// item is read before the caller checks any, so type errors come first.
    pub fn items_as<T>(&self, read: impl Fn(&Value<'a>) -> Option<T>) -> Vec<(T, Value<'a>)> {
        self.items()
            .filter_map(|item| Some((read(&item)?, item)))
            .collect()
    }

    /// A list of strings, each with its value.
    pub fn strings(&self) -> Vec<(&'a str, Value<'a>)> {
        self.items_as(Value::string)
    }

    /// A list of strings, each converted by `parse`, whose errors are
    /// reported as `code` after every item's type.
    pub fn parse_each<T>(
        &self,
        code: Code,
        parse: impl Fn(&'a str) -> Result<T, String>,
    ) -> Vec<T> {
        self.strings()
            .into_iter()
            .filter_map(|(string, item)| item.check(code, parse(string)))
            .collect()
    }

    /// The items of a list, each named "each item of …"; an empty value has
    /// none, and so (reported) has anything but a list.
    pub fn items(&self) -> impl Iterator<Item = Value<'a>> + use<'a> {
        let items = if self.node.is_null() {
            &[]
        } else {
            self.list().unwrap_or_default()
        };
        let reader = self.reader;
        let what = format!("each item of {}", self.what);
        items.iter().map(move |node| Value {
            reader,
            node,
            what: Cow::Owned(what.clone()),
            field: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::yaml;

    const WAIVER: Fields = Fields::nested("a waiver", &["rule", "reason", "expires"]);
    const RULE: Fields = Fields::whole_file(&["id", "title"], "field", "rule fields").strict_keys();

    fn messages(reader: Reader) -> Vec<String> {
        reader
            .into_diagnostics()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn nested_records_name_themselves() {
        let doc = yaml::parse("rul: x\nreason: \" \"\nexpires: soon\n").unwrap();
        let reader = Reader::new("f.yaml");
        let waiver = reader.record(&doc, &WAIVER);
        assert!(waiver.required("rule").is_none());
        assert!(
            waiver
                .required("reason")
                .unwrap()
                .non_empty_string()
                .is_none()
        );
        assert!(waiver.optional("expires").unwrap().date().is_none());
        assert_eq!(
            messages(reader),
            [
                "f.yaml:1:1: error[unknown-field]: unknown field `rul` in a waiver\n  help: did you mean `rule`?",
                "f.yaml:1:1: error[missing-field]: a waiver needs `rule`",
                "f.yaml:2:9: error[empty-field]: a waiver's `reason` must not be empty",
                "f.yaml:3:10: error[invalid-date]: `expires` must be a date like 2026-12-31, found \"soon\"",
            ]
        );
    }

    #[test]
    fn a_file_reports_a_misspelt_field_once() {
        let doc = yaml::parse("idd: x\n7: y\ntitle:\n").unwrap();
        let reader = Reader::new("r.yaml");
        let rule = reader.record(&doc, &RULE);
        assert!(rule.required("id").is_none());
        assert!(rule.required("title").unwrap().non_empty_text().is_none());
        assert_eq!(
            messages(reader),
            [
                "r.yaml:1:1: error[unknown-field]: unknown field `idd`\n  help: did you mean `id`?",
                "r.yaml:2:1: error[unknown-field]: expected a field name, found an integer",
                "r.yaml:3:1: error[type-mismatch]: `title` must be a non-empty string, found nothing (null)",
            ]
        );
    }

    #[test]
    fn typed_getters_report_where_the_value_is() {
        let doc = yaml::parse("a: [x, 7]\nb: 26h\nc: ~\nd: {k: v}\n").unwrap();
        let reader = Reader::new("f.yaml");
        let map = doc.as_map().unwrap();
        let value = |i: usize, what: &'static str| reader.value(&map[i].1, what);
        let strings: Vec<_> = value(0, "`a`")
            .strings()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(strings, ["x"]);
        assert_eq!(value(1, "`b`").duration().unwrap().as_secs(), 26 * 3600);
        assert_eq!(value(2, "`c`").items().count(), 0);
        assert!(value(2, "`c`").list().is_none());
        let entries: Vec<_> = value(3, "`d`").entries().map(|e| e.name).collect();
        assert_eq!(entries, ["k"]);
        assert!(value(3, "`d`").string().is_none());
        assert_eq!(
            messages(reader),
            [
                "f.yaml:1:8: error[type-mismatch]: each item of `a` must be a string, found an integer",
                "f.yaml:3:4: error[type-mismatch]: `c` must be a list, found nothing (null)",
                "f.yaml:4:4: error[type-mismatch]: `d` must be a string, found a mapping",
            ]
        );
    }
}
