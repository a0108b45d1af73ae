//! The document tree both formats parse into: maps keep key order, comments are
//! entries of the map or list they sit in (as sops models them), scalars keep the
//! type sops gives them. `Debug` never shows a scalar, only its kind and length.

use std::fmt;

use zeroize::Zeroize;

/// One value of a document.
#[derive(Clone, PartialEq)]
pub enum Value {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A YAML timestamp, as Go's `time.Time` marshals it (`2024-01-01T00:00:00Z`).
    Time(String),
    Map(Vec<Entry>),
    List(Vec<ListItem>),
}

/// An entry of a map: a key and its value, or a comment line.
#[derive(Clone, PartialEq)]
pub enum Entry {
    Pair(String, Value),
    Comment(Comment),
}

/// An item of a list: a value or a comment line.
#[derive(Clone, PartialEq)]
pub enum ListItem {
    Value(Value),
    Comment(Comment),
}

/// A YAML comment: the text after `#`, and whether it ended a line of content.
#[derive(Clone, PartialEq)]
pub struct Comment {
    pub text: String,
    pub inline: bool,
}

/// One step of a path into a document: a map key or a list index (comments not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

impl fmt::Display for PathSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSegment::Key(k) => write!(f, "[{}]", serde_json::Value::String(k.clone())),
            PathSegment::Index(i) => write!(f, "[{i}]"),
        }
    }
}

impl Value {
    /// The kind of value, for messages that must not show the value itself.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Str(_) => "string",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Bool(_) => "boolean",
            Value::Time(_) => "timestamp",
            Value::Map(_) => "map",
            Value::List(_) => "list",
        }
    }

    /// The value at `key` when this is a map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => map_get(entries, key),
            _ => None,
        }
    }

    /// The string, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The values of a list, comments left out.
    pub fn list_values(&self) -> Option<impl Iterator<Item = &Value>> {
        match self {
            Value::List(items) => Some(items.iter().filter_map(|i| match i {
                ListItem::Value(v) => Some(v),
                ListItem::Comment(_) => None,
            })),
            _ => None,
        }
    }
}

/// The value of `key` in a map's entries.
pub fn map_get<'a>(entries: &'a [Entry], key: &str) -> Option<&'a Value> {
    entries.iter().find_map(|e| match e {
        Entry::Pair(k, v) if k == key => Some(v),
        _ => None,
    })
}

/// Follows `path` from a document's root map.
pub fn lookup<'a>(root: &'a [Entry], path: &[PathSegment]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let PathSegment::Key(k) = first else { return None };
    let mut current = map_get(root, k)?;
    for seg in rest {
        current = match (seg, current) {
            (PathSegment::Key(k), Value::Map(entries)) => map_get(entries, k)?,
            (PathSegment::Index(i), v @ Value::List(_)) => v.list_values()?.nth(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Parses a sops `--extract` path: `["a"]["b"][0]` (double or single quotes).
pub fn parse_extract_path(text: &str) -> Option<Vec<PathSegment>> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        rest = rest.strip_prefix('[')?.trim_start();
        // A quoted key may contain `]`: find the matching quote first.
        if let Some(q @ ('"' | '\'')) = rest.chars().next() {
            let body = &rest[1..];
            let end = body.find(q)?;
            out.push(PathSegment::Key(body[..end].to_string()));
            rest = body[end + 1..].trim_start().strip_prefix(']')?;
        } else {
            let close = rest.find(']')?;
            out.push(PathSegment::Index(rest[..close].trim().parse().ok()?));
            rest = &rest[close + 1..];
        }
        rest = rest.trim_start();
    }
    Some(out)
}

impl Zeroize for Value {
    fn zeroize(&mut self) {
        match self {
            Value::Str(s) | Value::Time(s) => s.zeroize(),
            Value::Int(i) => i.zeroize(),
            Value::Float(f) => f.zeroize(),
            Value::Bool(b) => *b = false,
            Value::Map(entries) => entries.iter_mut().for_each(Zeroize::zeroize),
            Value::List(items) => items.iter_mut().for_each(Zeroize::zeroize),
            Value::Null => {}
        }
    }
}

impl Zeroize for Entry {
    fn zeroize(&mut self) {
        match self {
            Entry::Pair(k, v) => {
                k.zeroize();
                v.zeroize();
            }
            Entry::Comment(c) => c.text.zeroize(),
        }
    }
}

impl Zeroize for ListItem {
    fn zeroize(&mut self) {
        match self {
            ListItem::Value(v) => v.zeroize(),
            ListItem::Comment(c) => c.text.zeroize(),
        }
    }
}

// Debug shows structure and key names, never a scalar or a comment's text.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Map(entries) => f.debug_list().entries(entries).finish(),
            Value::List(items) => f.debug_list().entries(items).finish(),
            Value::Null => f.write_str("null"),
            Value::Str(s) | Value::Time(s) => write!(f, "<{} of {} bytes>", self.kind(), s.len()),
            other => write!(f, "<{}>", other.kind()),
        }
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Pair(k, v) => write!(f, "{k:?}: {v:?}"),
            Entry::Comment(c) => c.fmt(f),
        }
    }
}

impl fmt::Debug for ListItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListItem::Value(v) => v.fmt(f),
            ListItem::Comment(c) => c.fmt(f),
        }
    }
}

impl fmt::Debug for Comment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<comment of {} bytes>", self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_value() {
        let v = Value::Map(vec![
            Entry::Pair("password".into(), Value::Str("hunter2".into())),
            Entry::Comment(Comment {
                text: "secret note".into(),
                inline: false,
            }),
            Entry::Pair("n".into(), Value::Int(42)),
        ]);
        let shown = format!("{v:?}");
        assert!(shown.contains("password"), "{shown}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("secret note") && !shown.contains("42"),
            "{shown}"
        );
    }

    #[test]
    fn extract_paths_parse_like_sops() {
        assert_eq!(
            parse_extract_path(r#"["a"]['b'][2]"#),
            Some(vec![
                PathSegment::Key("a".into()),
                PathSegment::Key("b".into()),
                PathSegment::Index(2)
            ])
        );
        assert_eq!(
            parse_extract_path(r#"["a]b"]"#),
            Some(vec![PathSegment::Key("a]b".into())])
        );
        assert_eq!(parse_extract_path("a.b"), None);
        assert_eq!(parse_extract_path(""), None);
    }
}
