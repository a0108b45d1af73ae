//! A serde `Deserializer` over the located tree, so typed spec structs are filled
//! from it and every failure (unknown field, wrong type, bad value) carries the
//! line, column and field path of the node that caused it.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::node::{Key, Node, Value};
use super::path::{FieldPath, Segment};
use crate::diagnostics::{Diagnostic, did_you_mean};

/// Deserialises `T` from `node`, whose own path in the document is `at`.
pub fn from_node<'a, T: de::Deserialize<'a>>(node: &'a Node, at: &FieldPath) -> Result<T, Diagnostic> {
    let path = Path::Root(at);
    T::deserialize(NodeDe { node, path: &path }).map_err(|e| e.0)
}

/// The path to the node being read, built on the stack and only materialised on error.
enum Path<'p> {
    Root(&'p FieldPath),
    Child(&'p Path<'p>, Seg<'p>),
}

#[derive(Clone, Copy)]
enum Seg<'p> {
    Key(&'p str),
    Index(usize),
}

impl Path<'_> {
    fn to_field_path(&self) -> FieldPath {
        match self {
            Path::Root(p) => (*p).clone(),
            Path::Child(parent, seg) => {
                let mut fp = parent.to_field_path();
                fp.0.push(match seg {
                    Seg::Key(k) => Segment::Key((*k).to_string()),
                    Seg::Index(i) => Segment::Index(*i),
                });
                fp
            }
        }
    }
}

#[derive(Debug)]
pub struct DeError(Diagnostic);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        // Typed spec values (`spec::values`) append their fix after a separator.
        let msg = msg.to_string();
        match msg.split_once(crate::spec::values::HELP_SEPARATOR) {
            Some((message, help)) => DeError(Diagnostic::new(FieldPath::root(), message).help(help)),
            None => DeError(Diagnostic::new(FieldPath::root(), msg)),
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let help = match did_you_mean(field, expected.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if expected.is_empty() => "remove it: this mapping takes no fields".to_string(),
            None => format!("remove it, or use one of: {}", expected.join(", ")),
        };
        DeError(Diagnostic::new(FieldPath::root(), format!("unknown field `{field}`")).help(help))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let help = match did_you_mean(variant, expected.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? (one of: {})", expected.join(", ")),
            None => format!("use one of: {}", expected.join(", ")),
        };
        DeError(Diagnostic::new(FieldPath::root(), format!("unknown value `{variant}`")).help(help))
    }

    fn missing_field(field: &'static str) -> Self {
        DeError(
            Diagnostic::new(FieldPath::root(), format!("missing required field `{field}`"))
                .help(format!("add `{field}:` here")),
        )
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let expected = expected_words(&exp.to_string());
        DeError(
            Diagnostic::new(
                FieldPath::root(),
                format!("expected {expected}, found {}", unexpected_word(&unexp)),
            )
            .help(format!(
                "write {expected} here (quote text that looks like a number or boolean)"
            )),
        )
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let expected = expected_words(&exp.to_string());
        DeError(
            Diagnostic::new(
                FieldPath::root(),
                format!("expected {expected}, found {}", unexpected_word(&unexp)),
            )
            .help(format!("write {expected} here")),
        )
    }
}

/// Serde names primitive types the Rust way (`u16`); say what a person would write.
fn expected_words(exp: &str) -> String {
    match exp {
        "u8" => "an integer from 0 to 255".to_string(),
        "u16" => "an integer from 0 to 65535".to_string(),
        "u32" | "u64" | "usize" => "a whole number (0 or more)".to_string(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer".to_string(),
        "f32" | "f64" => "a number".to_string(),
        other => other.to_string(),
    }
}

fn unexpected_word(u: &de::Unexpected<'_>) -> String {
    match u {
        de::Unexpected::Bool(b) => format!("boolean `{b}`"),
        de::Unexpected::Unsigned(n) => format!("integer `{n}`"),
        de::Unexpected::Signed(n) => format!("integer `{n}`"),
        de::Unexpected::Float(n) => format!("number `{n}`"),
        de::Unexpected::Str(s) => format!("string \"{s}\""),
        de::Unexpected::Unit => "null".to_string(),
        de::Unexpected::Seq => "a list".to_string(),
        de::Unexpected::Map => "a mapping".to_string(),
        other => other.to_string(),
    }
}

impl DeError {
    /// Attaches the position of the node being read unless a deeper node already did.
    fn locate(mut self, node: &Node, path: &Path<'_>) -> Self {
        if self.0.loc.is_none() {
            self.0.loc = Some(node.loc);
            self.0.path = path.to_field_path();
        }
        self
    }

    fn locate_key(mut self, key: &Key, path: &Path<'_>) -> Self {
        if self.0.loc.is_none() {
            self.0.loc = Some(key.loc);
            self.0.path = Path::Child(path, Seg::Key(&key.name)).to_field_path();
        }
        self
    }
}

#[derive(Clone, Copy)]
struct NodeDe<'a, 'p> {
    node: &'a Node,
    path: &'p Path<'p>,
}

impl<'de> NodeDe<'de, '_> {
    fn wrap<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|e| e.locate(self.node, self.path))
    }
}

impl<'de> de::Deserializer<'de> for NodeDe<'de, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::UInt(u) => visitor.visit_u64(*u),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => visitor.visit_seq(SeqDe {
                items: items.iter().enumerate(),
                path: self.path,
            }),
            Value::Map(entries) => visitor.visit_map(MapDe {
                entries: entries.iter(),
                pending: None,
                path: self.path,
            }),
        };
        self.wrap(r)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match self.node.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        };
        self.wrap(r)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        let r = visitor.visit_newtype_struct(self);
        self.wrap(r)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Str(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                visitor.visit_enum(EnumDe {
                    key,
                    value,
                    path: self.path,
                })
            }
            other => Err(DeError(Diagnostic::new(
                FieldPath::root(),
                format!("expected a name or a single-key mapping, found {}", other.kind()),
            ))),
        };
        self.wrap(r)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct SeqDe<'a, 'p, I: Iterator<Item = (usize, &'a Node)>> {
    items: I,
    path: &'p Path<'p>,
}

impl<'de, 'p, I: Iterator<Item = (usize, &'de Node)>> de::SeqAccess<'de> for SeqDe<'de, 'p, I> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, node)) => {
                let path = Path::Child(self.path, Seg::Index(i));
                seed.deserialize(NodeDe { node, path: &path })
                    .map(Some)
                    .map_err(|e| e.locate(node, &path))
            }
        }
    }
}

struct MapDe<'a, 'p> {
    entries: std::slice::Iter<'a, (Key, Node)>,
    pending: Option<&'a (Key, Node)>,
    path: &'p Path<'p>,
}

impl<'de> de::MapAccess<'de> for MapDe<'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            None => Ok(None),
            Some(entry) => {
                self.pending = Some(entry);
                let key: &'de str = &entry.0.name;
                seed.deserialize(de::value::BorrowedStrDeserializer::<DeError>::new(key))
                    .map(Some)
                    .map_err(|e| e.locate_key(&entry.0, self.path))
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, node)) = self.pending.take() else {
            return Err(de::Error::custom("value requested before key"));
        };
        let path = Path::Child(self.path, Seg::Key(&key.name));
        seed.deserialize(NodeDe { node, path: &path })
            .map_err(|e| e.locate(node, &path))
    }
}

struct EnumDe<'a, 'p> {
    key: &'a Key,
    value: &'a Node,
    path: &'p Path<'p>,
}

impl<'de, 'p> de::EnumAccess<'de> for EnumDe<'de, 'p> {
    type Error = DeError;
    type Variant = NodeDe<'de, 'p>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant), DeError> {
        let name: &'de str = &self.key.name;
        let v = seed
            .deserialize(de::value::BorrowedStrDeserializer::<DeError>::new(name))
            .map_err(|e| e.locate_key(self.key, self.path))?;
        Ok((
            v,
            NodeDe {
                node: self.value,
                path: self.path,
            },
        ))
    }
}

impl<'de> de::VariantAccess<'de> for NodeDe<'de, '_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Err(DeError(Diagnostic::new(FieldPath::root(), "this value takes no settings")).locate(self.node, self.path))
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_any(self, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::source::parse_yaml;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct App {
        image: String,
        #[serde(default)]
        port: Option<u16>,
        #[serde(default)]
        hosts: Vec<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        apps: indexmap::IndexMap<String, App>,
    }

    fn err(yaml: &str) -> Diagnostic {
        let node = parse_yaml(yaml).expect("yaml");
        from_node::<Doc>(&node, &FieldPath::root()).expect_err("must fail")
    }

    #[test]
    fn unknown_field_points_at_the_key_and_suggests() {
        let d = err("apps:\n  web:\n    imag: x:1\n");
        assert_eq!(d.path.to_string(), "apps.web.imag");
        assert_eq!(d.loc.map(|l| (l.line, l.column)), Some((3, 5)));
        assert_eq!(d.help.as_deref(), Some("did you mean `image`?"));
    }

    #[test]
    fn wrong_type_points_at_the_value() {
        let d = err("apps:\n  web:\n    image: x:1\n    port: eighty\n");
        assert_eq!(d.path.to_string(), "apps.web.port");
        assert_eq!(d.loc.map(|l| (l.line, l.column)), Some((4, 11)));
        assert!(
            d.message.contains("expected an integer from 0 to 65535"),
            "{}",
            d.message
        );
    }

    #[test]
    fn out_of_range_and_list_items_are_located() {
        let d = err("apps:\n  web:\n    image: x:1\n    port: 70000\n");
        assert_eq!(d.path.to_string(), "apps.web.port");
        let d = err("apps:\n  web:\n    image: x:1\n    hosts: [a, [b]]\n");
        assert_eq!(d.path.to_string(), "apps.web.hosts[1]");
    }

    #[test]
    fn missing_field_points_at_the_mapping() {
        let d = err("apps:\n  web:\n    port: 80\n");
        assert_eq!(d.path.to_string(), "apps.web");
        assert_eq!(d.loc.map(|l| l.line), Some(3));
        assert!(d.message.contains("`image`"));
    }
}
