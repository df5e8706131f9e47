//! YAML with a position on every node.
//!
//! Validation errors must point at the offending key, not only at syntax
//! errors, so rule and config files are read into this small tree built from
//! yaml-rust2's event parser. The files are untrusted: document size and
//! alias expansion are capped so a "billion laughs" file fails fast.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Largest rule or config file accepted.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;
/// Most nodes a document may expand to, aliases included.
pub const MAX_NODES: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// 1-based.
    pub line: usize,
    /// 1-based.
    pub col: usize,
}

impl From<Marker> for Mark {
    fn from(m: Marker) -> Self {
        Mark {
            line: m.line(),
            col: m.col() + 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub mark: Mark,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar; `plain` is false when it was quoted or a block scalar, so
    /// `"true"` stays a string.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A plain scalar's YAML 1.2 core-schema reading.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl Node {
    pub fn scalar(&self) -> Option<Scalar<'_>> {
        let NodeKind::Scalar { text, plain } = &self.kind else {
            return None;
        };
        if !plain {
            return Some(Scalar::Str(text));
        }
        Some(match text.as_str() {
            "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
            "true" | "True" | "TRUE" => Scalar::Bool(true),
            "false" | "False" | "FALSE" => Scalar::Bool(false),
            t => {
                if let Ok(i) = t.parse::<i64>() {
                    Scalar::Int(i)
                } else if let Some(f) = t
                    .parse::<f64>()
                    .ok()
                    .filter(|_| t.chars().any(|c| c.is_ascii_digit()))
                {
                    Scalar::Float(f)
                } else {
                    Scalar::Str(t)
                }
            }
        })
    }

    /// The text of a scalar of any style (`7` gives "7").
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.scalar()? {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.scalar(), Some(Scalar::Null))
    }

    /// What kind of node this is, for "expected a mapping, found a list".
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
            NodeKind::Scalar { .. } => match self.scalar() {
                Some(Scalar::Null) => "nothing (null)",
                Some(Scalar::Bool(_)) => "a boolean",
                Some(Scalar::Int(_)) => "an integer",
                Some(Scalar::Float(_)) => "a number",
                _ => "a string",
            },
        }
    }

    fn size(&self) -> usize {
        match &self.kind {
            NodeKind::Scalar { .. } => 1,
            NodeKind::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            NodeKind::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub mark: Mark,
    pub message: String,
}

enum Frame {
    Seq(Mark, usize, Vec<Node>),
    Map(Mark, usize, Vec<(Node, Node)>, Option<Node>),
}

/// Parses one YAML document. An empty document is a null scalar.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(YamlError {
            mark: Mark { line: 1, col: 1 },
            message: format!(
                "file is {} bytes; the limit is {MAX_DOCUMENT_BYTES}",
                text.len()
            ),
        });
    }
    // yaml-rust2 stops at a NUL byte as if the file ended there, which would
    // silently drop the rest of a rule.
    if let Some(index) = text.find('\0') {
        let line = text[..index].matches('\n').count() + 1;
        let col = text[..index].rfind('\n').map_or(index, |nl| index - nl - 1) + 1;
        return Err(YamlError {
            mark: Mark { line, col },
            message: "NUL byte in the file; YAML files are text".into(),
        });
    }
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut nodes = 0usize;
    let mut root: Option<Node> = None;
    loop {
        let (event, marker) = parser.next_token().map_err(|e| YamlError {
            mark: (*e.marker()).into(),
            message: e.info().to_string(),
        })?;
        let mark: Mark = marker.into();
        let finished = match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                if root.is_some() {
                    return Err(YamlError {
                        mark,
                        message: "only one YAML document per file is allowed".into(),
                    });
                }
                None
            }
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => None,
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(mark, anchor, Vec::new()));
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(mark, anchor, Vec::new(), None));
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(mark, anchor, items)) => Some((
                    Node {
                        mark,
                        kind: NodeKind::Seq(items),
                    },
                    anchor,
                )),
                _ => unreachable!("yaml-rust2 emits balanced sequence events"),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(mark, anchor, entries, _)) => Some((
                    Node {
                        // A block mapping's start event is marked after its
                        // first key; point at the key, where a person looks.
                        mark: entries
                            .first()
                            .map(|(k, _)| k.mark)
                            .filter(|k| (k.line, k.col) < (mark.line, mark.col))
                            .unwrap_or(mark),
                        kind: NodeKind::Map(entries),
                    },
                    anchor,
                )),
                _ => unreachable!("yaml-rust2 emits balanced mapping events"),
            },
            Event::Scalar(text, style, anchor, _) => Some((
                Node {
                    mark,
                    kind: NodeKind::Scalar {
                        text,
                        plain: style == TScalarStyle::Plain,
                    },
                },
                anchor,
            )),
            Event::Alias(anchor) => {
                let (node, size) = anchors.get(&anchor).cloned().ok_or(YamlError {
                    mark,
                    message: "alias to an unknown anchor".into(),
                })?;
                // Counted here, before the copy is attached, so an expansion
                // bomb stops at the limit instead of exhausting memory.
                nodes += size;
                if nodes > MAX_NODES {
                    return Err(too_many_nodes(mark));
                }
                Some((Node { mark, ..node }, 0))
            }
        };
        let Some((node, anchor)) = finished else {
            continue;
        };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(too_many_nodes(mark));
        }
        if anchor != 0 {
            let size = node.size();
            anchors.insert(anchor, (node.clone(), size));
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, entries, pending)) => match pending.take() {
                None => {
                    if let Some(key) = node.text()
                        && entries.iter().any(|(k, _)| k.text() == Some(key))
                    {
                        return Err(YamlError {
                            mark: node.mark,
                            message: format!("duplicate key `{key}`"),
                        });
                    }
                    *pending = Some(node);
                }
                Some(key) => entries.push((key, node)),
            },
        }
    }
    Ok(root.unwrap_or(Node {
        mark: Mark { line: 1, col: 1 },
        kind: NodeKind::Scalar {
            text: String::new(),
            plain: true,
        },
    }))
}

fn too_many_nodes(mark: Mark) -> YamlError {
    YamlError {
        mark,
        message: format!(
            "document expands to more than {MAX_NODES} nodes (alias expansion is capped)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_every_node() {
        let doc = parse("id: x\nassert:\n  multi_az: { eq: true }\n").unwrap();
        let map = doc.as_map().unwrap();
        assert_eq!(map[0].0.mark, Mark { line: 1, col: 1 });
        let inner = map[1].1.as_map().unwrap();
        assert_eq!(inner[0].0.mark, Mark { line: 3, col: 3 });
        let ops = inner[0].1.as_map().unwrap();
        assert_eq!(ops[0].0.text(), Some("eq"));
        assert_eq!(ops[0].1.scalar(), Some(Scalar::Bool(true)));
        assert_eq!(ops[0].0.mark, Mark { line: 3, col: 15 });
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        let doc = parse("a: \"true\"\nb: true\nc: '7'\nd: 7\ne: ~\n").unwrap();
        let values: Vec<_> = doc
            .as_map()
            .unwrap()
            .iter()
            .map(|(_, v)| v.scalar().unwrap())
            .collect();
        assert_eq!(
            values,
            vec![
                Scalar::Str("true"),
                Scalar::Bool(true),
                Scalar::Str("7"),
                Scalar::Int(7),
                Scalar::Null
            ]
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.mark.line >= 1, "{err:?}");
        let err = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.message, "duplicate key `a`");
        assert_eq!(err.mark, Mark { line: 2, col: 1 });
    }

    #[test]
    fn billion_laughs_fails_fast() {
        let mut doc = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse(&doc).unwrap_err();
        assert!(err.message.contains("alias expansion is capped"), "{err:?}");
    }

    #[test]
    fn oversized_documents_are_refused() {
        let doc = "a: ".to_string() + &"x".repeat(MAX_DOCUMENT_BYTES);
        assert!(parse(&doc).unwrap_err().message.contains("limit"));
    }

    #[test]
    fn nul_bytes_are_refused_not_truncated() {
        let err = parse("a: 1\nb: x\0y\n").unwrap_err();
        assert_eq!(err.mark, Mark { line: 2, col: 5 });
        assert!(err.message.contains("NUL"));
    }

    #[test]
    fn second_document_is_an_error() {
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
    }
}
