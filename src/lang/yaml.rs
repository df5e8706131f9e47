//! YAML with a position on every node.
//!
//! Validation errors must point at the offending key, not only at syntax
//! errors, so rule and config files are read into this small tree built from
//! yaml-rust2's event parser. The files are untrusted: document size, nesting
//! depth and alias expansion are capped so a "billion laughs" file fails fast
//! and no later walk over the tree (cloning, dropping, compiling conditions)
//! can run out of stack.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Largest rule or config file accepted, also when given as text.
pub const MAX_DOCUMENT_BYTES: usize = crate::input::YAML_FILE_LIMIT as usize;
/// Most nodes a document may expand to, aliases included.
pub const MAX_NODES: usize = 100_000;
/// Deepest nesting of lists and mappings. Rule and config files need a
/// dozen levels at most; every walk over the tree is recursive, so this
/// bounds their stack use.
pub const MAX_DEPTH: usize = 64;

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

    /// Levels of lists and mappings: 0 for a scalar.
    fn height(&self) -> usize {
        match &self.kind {
            NodeKind::Scalar { .. } => 0,
            NodeKind::Seq(items) => 1 + items.iter().map(Node::height).max().unwrap_or(0),
            NodeKind::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.height().max(v.height()))
                    .max()
                    .unwrap_or(0)
            }
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
    // Anchored nodes with their size and height.
    let mut anchors: HashMap<usize, (Node, usize, usize)> = HashMap::new();
    let mut nodes = 0usize;
    let mut root: Option<Node> = None;
    let end = end_of(text);
    loop {
        let (event, marker) = parser.next_token().map_err(|e| YamlError {
            mark: within((*e.marker()).into(), end),
            // The scanner's own cap on `[{` nesting (255 levels), reached
            // when it reads ahead of the events checked below.
            message: if e.info() == "recursion limit exceeded" {
                too_deep(Mark::default()).message
            } else {
                e.info().to_string()
            },
        })?;
        let mark = within(marker.into(), end);
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
                check_depth(stack.len(), mark)?;
                stack.push(Frame::Seq(mark, anchor, Vec::new()));
                None
            }
            Event::MappingStart(anchor, _) => {
                check_depth(stack.len(), mark)?;
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
                let (node, size, height) = anchors.get(&anchor).cloned().ok_or(YamlError {
                    mark,
                    message: "alias to an unknown anchor".into(),
                })?;
                // Counted here, before the copy is attached, so an expansion
                // bomb stops at the limit instead of exhausting memory.
                nodes += size;
                if nodes > MAX_NODES {
                    return Err(too_many_nodes(mark));
                }
                // A copy is as deep as its anchor: attached deep down, it
                // nests deeper than any list or mapping opened in the text.
                if stack.len() + height > MAX_DEPTH {
                    return Err(too_deep(mark));
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
            let (size, height) = (node.size(), node.height());
            anchors.insert(anchor, (node.clone(), size, height));
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

/// Where the text ends: after its last character.
fn end_of(text: &str) -> Mark {
    let breaks = text.replace("\r\n", "\n").matches(['\n', '\r']).count();
    let last = text.rsplit(['\n', '\r']).next().unwrap_or_default();
    Mark {
        line: breaks + 1,
        col: last.chars().count() + 1,
    }
}

/// `mark`, or `end` when it lies past that: at the end of a file without a
/// final line break, yaml-rust2 names the line after it (for an error, or
/// an empty value at the end).
fn within(mark: Mark, end: Mark) -> Mark {
    if (mark.line, mark.col) > (end.line, end.col) {
        end
    } else {
        mark
    }
}

/// Refuses a list or mapping opened inside `open` others when that is one
/// too many.
fn check_depth(open: usize, mark: Mark) -> Result<(), YamlError> {
    if open >= MAX_DEPTH {
        return Err(too_deep(mark));
    }
    Ok(())
}

fn too_deep(mark: Mark) -> YamlError {
    YamlError {
        mark,
        message: format!("nesting deeper than {MAX_DEPTH} levels of lists and mappings"),
    }
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

    fn nested_lists(levels: usize) -> String {
        format!("a:\n{}x\n", "- ".repeat(levels))
    }

    #[test]
    fn nesting_at_the_limit_is_accepted() {
        // `a:` is one mapping; the lists make up the rest.
        let doc = parse(&nested_lists(MAX_DEPTH - 1)).unwrap();
        assert_eq!(doc.height(), MAX_DEPTH);
        let flow = format!("{}x{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(parse(&flow).unwrap().height(), MAX_DEPTH);
    }

    #[test]
    fn nesting_past_the_limit_is_refused_where_it_happens() {
        let too_deep = format!("nesting deeper than {MAX_DEPTH} levels of lists and mappings");
        let err = parse(&nested_lists(MAX_DEPTH)).unwrap_err();
        assert_eq!(err.message, too_deep);
        // The 64th `- ` on line 2 opens the 65th level.
        assert_eq!(err.mark, Mark { line: 2, col: 127 });

        // 60,000 levels (120 KB) used to overflow the stack.
        let err = parse(&nested_lists(60_000)).unwrap_err();
        assert_eq!(
            (err.message.as_str(), err.mark.line),
            (too_deep.as_str(), 2)
        );
        let flow = format!("a: {}{}", "[".repeat(60_000), "]".repeat(60_000));
        assert_eq!(parse(&flow).unwrap_err().message, too_deep);
        let flow_maps = format!("{}{}", "{a: ".repeat(60_000), "}".repeat(60_000));
        assert_eq!(parse(&flow_maps).unwrap_err().message, too_deep);
        let block_maps: String = (0..200).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let err = parse(&block_maps).unwrap_err();
        assert_eq!(err.message, too_deep);
        // The 65th mapping starts at its first key.
        assert_eq!(err.mark.line, MAX_DEPTH + 1);
    }

    #[test]
    fn aliases_cannot_nest_past_the_limit() {
        let half = MAX_DEPTH / 2 + 1;
        let doc = format!(
            "a: &deep {}x{}\nb: {}*deep{}\n",
            "[".repeat(half),
            "]".repeat(half),
            "[".repeat(half),
            "]".repeat(half)
        );
        let err = parse(&doc).unwrap_err();
        assert!(err.message.starts_with("nesting deeper than"), "{err:?}");
        assert_eq!(err.mark.line, 2);
        // The same copy higher up is fine.
        let doc = format!(
            "a: &deep {}x{}\nb: *deep\n",
            "[".repeat(half),
            "]".repeat(half)
        );
        assert!(parse(&doc).is_ok());
    }

    #[test]
    fn oversized_documents_are_refused() {
        let doc = "a: ".to_string() + &"x".repeat(MAX_DOCUMENT_BYTES);
        assert!(parse(&doc).unwrap_err().message.contains("limit"));
    }

    #[test]
    fn errors_at_the_end_of_a_file_stay_inside_it() {
        // Without a final line break: the end of the last line.
        let err = parse("a: 1\nb: {").unwrap_err();
        assert_eq!(err.mark, Mark { line: 2, col: 5 }, "{err:?}");
        // With one: the start of the (empty) line after it.
        let err = parse("a: 1\nb: {\n").unwrap_err();
        assert_eq!(err.mark, Mark { line: 3, col: 1 }, "{err:?}");
        // An empty value last in the file.
        let doc = parse("a: 1\nb:").unwrap();
        assert_eq!(doc.as_map().unwrap()[1].1.mark, Mark { line: 2, col: 3 });
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
