//! A YAML document parsed (by serde-saphyr) into a tree where every node and
//! every mapping key remembers where it was written.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::path::{FieldPath, Segment};
use crate::diagnostics::Diagnostic;

/// A position in the source text: 1-based line and column, and the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loc {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
}

impl From<serde_saphyr::Location> for Loc {
    fn from(l: serde_saphyr::Location) -> Self {
        Loc {
            line: u32::try_from(l.line()).unwrap_or(u32::MAX),
            column: u32::try_from(l.column()).unwrap_or(u32::MAX),
            offset: l
                .span()
                .byte_offset()
                .and_then(|o| usize::try_from(o).ok())
                .unwrap_or(0),
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in source order; keys are unique (the parser rejects duplicates).
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub loc: Loc,
}

impl Value {
    /// The word used in "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::UInt(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn key_loc(&self, key: &str) -> Option<Loc> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(k, _)| k.loc),
            _ => None,
        }
    }

    /// The location of the deepest node on `path` that exists: a field that was
    /// defaulted (absent from the file) is reported at its nearest written parent.
    pub fn locate(&self, path: &FieldPath) -> Loc {
        let mut node = self;
        for seg in &path.0 {
            let next = match (seg, &node.value) {
                (Segment::Key(k), Value::Map(_)) => node.get(k),
                (Segment::Index(i), Value::Seq(items)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node.loc
    }

    /// Applies an environment overlay: mappings merge key by key, every other
    /// value (lists included) is replaced, and an explicit `null` removes the key.
    pub fn merge(&mut self, overlay: &Node) {
        match (&mut self.value, &overlay.value) {
            (Value::Map(base), Value::Map(over)) => {
                for (key, value) in over {
                    let existing = base.iter().position(|(k, _)| k.name == key.name);
                    match (existing, &value.value) {
                        (Some(i), Value::Null) => {
                            base.remove(i);
                        }
                        (Some(i), _) => base[i].1.merge(value),
                        (None, Value::Null) => {}
                        (None, _) => base.push((key.clone(), value.clone())),
                    }
                }
            }
            _ => *self = overlay.clone(),
        }
    }
}

/// The deepest nesting of lists and mappings a spec may have.
pub const MAX_DEPTH: usize = 32;
/// Values (scalars, lists, mappings) one spec may hold: a million, 40 times what a
/// 10,000-app platform needs, and reached within the size limit only by lists of
/// one-character values.
pub const MAX_NODES: usize = crate::spec::MAX_SPEC_BYTES / 4;

/// Parses one YAML document into a located tree. Errors say what is wrong with
/// the YAML in plain words, where, and how to fix it.
pub fn parse_yaml(text: &str) -> Result<Node, Diagnostic> {
    parse_yaml_with(text, SPEC_LIMITS)
}

/// How deep and how large one document may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub depth: usize,
    pub nodes: usize,
}

/// A spec's limits.
pub const SPEC_LIMITS: Limits = Limits {
    depth: MAX_DEPTH,
    nodes: MAX_NODES,
};

/// [`parse_yaml`] under other limits (Kubernetes manifests nest deeper than a spec: CRD schemas).
pub fn parse_yaml_with(text: &str, limits: Limits) -> Result<Node, Diagnostic> {
    match super::fast::parse(text, limits) {
        Some(node) => Ok(node),
        None => parse_yaml_full(text, limits),
    }
}

/// [`parse_yaml`] by the full deserialiser: every YAML feature, every error.
pub(super) fn parse_yaml_full(text: &str, limits: Limits) -> Result<Node, Diagnostic> {
    if text.trim().is_empty() {
        return Ok(Node {
            value: Value::Null,
            loc: Loc {
                line: 1,
                column: 1,
                offset: 0,
            },
        });
    }
    // YAML 1.2 core schema: `yes`, `no`, `on`, `y` stay strings, and `0755` is not an octal number.
    // A spec needs fewer than 10 levels; a low nesting limit keeps every recursive
    // pass over the tree (parsing, merging, typing) far from the end of a thread's stack.
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        // Comments are never read; capturing them is a tenth of the parse of a large spec.
        emit_comments: false,
        // The input is already at most MAX_SPEC_BYTES, and every value takes at least a
        // byte or two: these bounds only stop alias tricks, never a real platform.
        budget: serde_saphyr::budget! {
            max_depth: limits.depth,
            max_nodes: limits.nodes,
            max_events: 2 * limits.nodes,
        },
    };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|e| {
        let (message, help) = describe(&e);
        let mut d = Diagnostic::new(FieldPath::root(), message).help(help);
        d.loc = e.location().map(Loc::from);
        d
    })
}

/// The parser's error in a user's words: what is wrong and the fix. The
/// parser's own wording names its API (options, budgets), so it is never shown
/// except for plain syntax errors, whose text describes the YAML.
fn describe(e: &serde_saphyr::Error) -> (String, String) {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    const TOO_BIG: &str = "a spec this large is not needed: split the platform into several specs";
    let mut e = e.without_snippet();
    while let E::AliasError { error, .. } = e {
        e = error.without_snippet();
    }
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    match e {
        E::MultipleDocuments { .. }
        | E::Budget {
            breach: B::Documents { .. },
            ..
        } => s(
            "the file has more than one YAML document (a `---` line starts another); a windlass spec is one document",
            "remove the `---` line and what follows it, or merge the documents into one",
        ),
        E::DuplicateMappingKey { key: Some(k), .. } => (
            format!("duplicate key `{k}`"),
            format!("a mapping holds each key once: remove one `{k}`, or merge the two"),
        ),
        E::DuplicateMappingKey { key: None, .. } => s(
            "duplicate key in a mapping",
            "a mapping holds each key once: remove one of them",
        ),
        E::Budget {
            breach: B::Depth { .. },
            ..
        } => s(
            "the spec is nested too deeply (more than 32 levels of lists and mappings)",
            "a windlass spec needs fewer than 10 levels: check the indentation here",
        ),
        E::Budget {
            breach: B::Aliases { .. } | B::Anchors { .. },
            ..
        }
        | E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => s(
            "the spec's YAML aliases (`*name`) expand to too much data",
            "write the values out, or use fewer aliases",
        ),
        E::Budget { .. } => (
            format!("the spec is too large: more than {MAX_NODES} values"),
            TOO_BIG.to_string(),
        ),
        E::RecursiveReferencesRequireWeakTypes { .. } => s(
            "a YAML alias (`*name`) refers to the anchor (`&name`) that contains it, so the value would never end",
            "remove the alias from inside its own anchor",
        ),
        E::UnknownAnchor { .. } => s(
            "a YAML alias (`*name`) refers to an anchor that is not defined above it",
            "define the anchor (`&name`) before the alias, or write the value out",
        ),
        E::MergeKeyNotAllowed { .. } | E::MergeValueNotMapOrSeqOfMaps { .. } => s(
            "a YAML merge key (`<<`) must merge a mapping or a list of mappings",
            "merge an anchored mapping (`<<: *defaults`), or write the keys out",
        ),
        E::InvalidUtf8Input | E::BinaryNotUtf8 { .. } => s("the file is not UTF-8 text", "save the spec as UTF-8"),
        E::Eof { .. } => s(
            "the file ends in the middle of a value",
            "close the open bracket, brace or quote",
        ),
        E::NonFiniteFloat { value, .. } => (
            format!("`{value}` is not a finite number"),
            "write a number, or quote the text".to_string(),
        ),
        E::InvalidBinaryBase64 { .. }
        | E::TaggedScalarCannotDeserializeIntoString { .. }
        | E::TaggedEnumMismatch { .. }
        | E::UnsupportedTag { .. }
        | E::TaggedStructFieldName { .. } => s(
            "YAML tags (`!name`, `!!type`) are not used in a windlass spec",
            "remove the tag and write the plain value",
        ),
        E::SerdeInvalidType { .. } | E::ExpectedStringKeyForExternallyTaggedEnum { .. } => s(
            "a mapping key must be a plain name, not a list or a mapping",
            "write the key as text, e.g. `web:`",
        ),
        E::Message { msg, .. } | E::ExternalMessage { msg, .. } if !msg.trim().is_empty() => (
            format!("invalid YAML: {}", first_line(msg)),
            "fix the YAML syntax at this position (indentation, quotes, brackets)".to_string(),
        ),
        _ => s(
            "invalid YAML at this position",
            "fix the YAML syntax here (indentation, quotes, brackets)",
        ),
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or("invalid YAML").trim().to_string()
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<Value>::deserialize(d)?;
        Ok(Node {
            value: s.value,
            loc: s.referenced.into(),
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::UInt(v),
        })
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        u64::try_from(v)
            .map(|u| self.visit_u64::<E>(u).unwrap_or(Value::UInt(u)))
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(Key, Node)> = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyName>>()? {
            let value = map.next_value::<Node>()?;
            entries.push((
                Key {
                    name: key.value.0,
                    loc: key.referenced.into(),
                },
                value,
            ));
        }
        Ok(Value::Map(entries))
    }
}

/// A mapping key: scalars are accepted and kept as their text (`3000: x` is key "3000").
struct KeyName(String);

impl<'de> Deserialize<'de> for KeyName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<KeyName, E> {
                Ok(KeyName("null".to_string()))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_line_and_column_of_values_and_keys() {
        let n = parse_yaml("a: 1\nb:\n  c: [x, y]\n").expect("valid");
        assert_eq!(n.key_loc("b").map(|l| (l.line, l.column)), Some((2, 1)));
        let c = n.get("b").and_then(|b| b.get("c")).expect("c");
        assert_eq!((c.loc.line, c.loc.column), (3, 6));
        let y = n.locate(&FieldPath::parse("b.c[1]"));
        assert_eq!((y.line, y.column), (3, 10));
        assert_eq!(y.offset, "a: 1\nb:\n  c: [x, ".len());
    }

    #[test]
    fn overlay_merges_maps_replaces_lists_and_null_deletes() {
        let mut base = parse_yaml("a: {x: 1, y: 2}\nl: [1, 2]\nz: 3\n").expect("base");
        let over = parse_yaml("a: {y: 5, w: 6}\nl: [9]\nz: null\n").expect("over");
        base.merge(&over);
        let expect = parse_yaml("a: {x: 1, y: 5, w: 6}\nl: [9]\n").expect("expect");
        let strip = |n: &Node| format!("{:?}", n.value).replace(char::is_whitespace, "");
        // compare shapes ignoring locations
        assert_eq!(
            strip(&base).matches("Int").count(),
            strip(&expect).matches("Int").count()
        );
        assert!(base.get("z").is_none());
        assert!(matches!(base.get("l").map(|l| &l.value), Some(Value::Seq(v)) if v.len() == 1));
        assert!(matches!(
            base.get("a").and_then(|a| a.get("y")).map(|y| &y.value),
            Some(Value::Int(5))
        ));
        assert!(matches!(
            base.get("a").and_then(|a| a.get("x")).map(|y| &y.value),
            Some(Value::Int(1))
        ));
    }

    #[test]
    fn syntax_errors_have_a_location() {
        let d = parse_yaml("a: [1, 2\nb: 3\n").expect_err("invalid");
        assert!(d.message.starts_with("invalid YAML: "), "{}", d.message);
        assert!(d.loc.is_some());
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        assert!(parse_yaml("a: 1\na: 2\n").is_err());
    }
}
