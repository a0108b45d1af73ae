//! A serde `Deserializer` over the located tree that reports every type error of
//! a document in one run: each failure (unknown field, wrong type, bad value)
//! is recorded with the line, column and field path of the node that caused it.
//!
//! Recovery: a mistake the deserializer can see from serde's type hint (a string
//! where a number belongs, a list where a mapping belongs, an unknown field) is
//! recorded and a neutral value is substituted, so reading goes on. A mistake only
//! the target type can see (a missing field, an unknown name, a bad short form)
//! aborts the read; the node is then left out and the document read again, until
//! it reads through. Diagnostics of all passes are merged.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::node::{Key, Node, Value};
use super::path::{FieldPath, Segment};
use crate::diagnostics::{Diagnostic, did_you_mean};

/// Reads after which a document with ever more aborting mistakes is given up on.
const MAX_PASSES: usize = 500;

/// Deserialises `T` from `node`, whose own path in the document is `at`; on failure,
/// every diagnostic found, in document order.
pub fn from_node<'a, T: de::Deserialize<'a>>(node: &'a Node, at: &FieldPath) -> Result<T, Vec<Diagnostic>> {
    let mut skip: HashSet<usize> = HashSet::new();
    let mut found: Vec<Diagnostic> = Vec::new();
    let mut seen: HashSet<(usize, String, String)> = HashSet::new();
    for _ in 0..MAX_PASSES {
        let ctx = Ctx {
            skip,
            diags: RefCell::new(Vec::new()),
        };
        let path = Path::Root(at);
        let result = T::deserialize(NodeDe {
            node,
            path: &path,
            ctx: &ctx,
        });
        for d in ctx.diags.into_inner() {
            let key = (d.loc.map_or(0, |l| l.offset), d.path.to_string(), d.message.clone());
            if seen.insert(key) {
                found.push(d);
            }
        }
        skip = ctx.skip;
        match result {
            Ok(value) if found.is_empty() => return Ok(value),
            Ok(_) => return Err(sorted(found)),
            Err(DeError::Abort { skip: s }) if s != addr(node) && skip.insert(s) => {}
            Err(DeError::Abort { .. }) => return Err(sorted(found)),
            Err(DeError::Fresh { diag, .. }) => {
                // Unreachable in practice: every error passes through a node that locates it.
                found.push(diag.at(node.loc));
                return Err(sorted(found));
            }
        }
    }
    found.push(
        Diagnostic::new(
            at.clone(),
            format!("stopped after {MAX_PASSES} errors; there may be more"),
        )
        .help("fix these and run again"),
    );
    Err(sorted(found))
}

fn sorted(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by_key(|d| d.loc.map_or(usize::MAX, |l| l.offset));
    diags
}

/// Node identity within one tree (the tree is not changed while it is read).
fn addr(node: &Node) -> usize {
    std::ptr::from_ref(node) as usize
}

struct Ctx {
    /// Nodes left out of this pass because an earlier pass aborted on them.
    skip: HashSet<usize>,
    diags: RefCell<Vec<Diagnostic>>,
}

impl Ctx {
    fn report(&self, d: Diagnostic) {
        self.diags.borrow_mut().push(d);
    }

    fn skipped(&self, node: &Node) -> bool {
        !self.skip.is_empty() && self.skip.contains(&addr(node))
    }
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
pub enum DeError {
    /// Raised by a visitor; not yet located or recorded.
    Fresh {
        diag: Diagnostic,
        /// Set for "missing field", which is not reported when the field was left out on purpose.
        missing: Option<&'static str>,
    },
    /// Recorded already; the read stops, and the next pass leaves out the node at `skip`.
    Abort { skip: usize },
}

impl DeError {
    fn fresh(diag: Diagnostic) -> Self {
        DeError::Fresh { diag, missing: None }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeError::Fresh { diag, .. } => f.write_str(&diag.message),
            DeError::Abort { .. } => f.write_str("reading stopped at an error reported earlier"),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        // Typed spec values (`spec::values`) append their fix after a separator.
        let msg = msg.to_string();
        match msg.split_once(crate::spec::values::HELP_SEPARATOR) {
            Some((message, help)) => DeError::fresh(Diagnostic::new(FieldPath::root(), message).help(help)),
            None => DeError::fresh(Diagnostic::new(FieldPath::root(), msg)),
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError::fresh(unknown_field(field, expected))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError::fresh(unknown_variant(variant, expected))
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::Fresh {
            diag: Diagnostic::new(FieldPath::root(), format!("missing required field `{field}`"))
                .help(format!("add `{field}:` here")),
            missing: Some(field),
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let expected = expected_words(&exp.to_string());
        DeError::fresh(
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
        DeError::fresh(
            Diagnostic::new(
                FieldPath::root(),
                format!("expected {expected}, found {}", unexpected_word(&unexp)),
            )
            .help(format!("write {expected} here")),
        )
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        let expected = expected_words(&exp.to_string());
        DeError::fresh(
            Diagnostic::new(FieldPath::root(), format!("expected {expected}, found {len} items"))
                .help(format!("write {expected} here")),
        )
    }
}

fn unknown_field(field: &str, expected: &[&str]) -> Diagnostic {
    let help = match did_you_mean(field, expected.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if expected.is_empty() => "remove it: this mapping takes no fields".to_string(),
        None => format!("remove it, or use one of: {}", expected.join(", ")),
    };
    Diagnostic::new(FieldPath::root(), format!("unknown field `{field}`")).help(help)
}

fn unknown_variant(variant: &str, expected: &[&str]) -> Diagnostic {
    let help = match did_you_mean(variant, expected.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? (one of: {})", expected.join(", ")),
        None => format!("use one of: {}", expected.join(", ")),
    };
    Diagnostic::new(FieldPath::root(), format!("unknown value `{variant}`")).help(help)
}

/// Serde describes expectations the Rust way (`u16`, `struct AppSpec`, `a map`); say what a person would write.
fn expected_words(exp: &str) -> String {
    match exp {
        "u8" => "an integer from 0 to 255".to_string(),
        "u16" => "an integer from 0 to 65535".to_string(),
        "u32" => "a whole number from 0 to 4294967295".to_string(),
        "u64" | "usize" => "a whole number (0 or more)".to_string(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer".to_string(),
        "f32" | "f64" => "a number".to_string(),
        "a boolean" | "bool" => "`true` or `false`".to_string(),
        "a string" | "a borrowed string" | "string" => "a string".to_string(),
        "a sequence" => "a list".to_string(),
        "a map" => "a mapping".to_string(),
        other => match other.strip_prefix("struct ") {
            Some(name) => format!("a mapping of {}", settings_words(name)),
            None => match other.strip_prefix("enum ") {
                Some(_) => "one of the names listed in the docs".to_string(),
                None => other.to_string(),
            },
        },
    }
}

/// `AppSpec` -> "app settings", `SecretKeyRef` -> "secret key reference settings".
fn settings_words(type_name: &str) -> String {
    let base = type_name.strip_suffix("Spec").unwrap_or(type_name);
    if base == "PlatformFile" {
        return "platform spec settings (`apiVersion`, `kind`, `platform`, `apps`)".to_string();
    }
    let mut words = String::new();
    for (i, c) in base.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    let words = words.replace(" ref", " reference");
    format!("{words} settings")
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
        de::Unexpected::Char(c) => format!("character `{c}`"),
        de::Unexpected::Bytes(_) => "binary data".to_string(),
        de::Unexpected::Option => "an optional value".to_string(),
        de::Unexpected::NewtypeStruct | de::Unexpected::Other(_) => "a value of another kind".to_string(),
        de::Unexpected::Enum
        | de::Unexpected::UnitVariant
        | de::Unexpected::NewtypeVariant
        | de::Unexpected::TupleVariant
        | de::Unexpected::StructVariant => "a named choice".to_string(),
    }
}

/// What a node holds, in the words of "expected X, found Y".
fn found_word(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Int(i) => format!("integer `{i}`"),
        Value::UInt(u) => format!("integer `{u}`"),
        Value::Float(f) => format!("number `{f}`"),
        Value::Str(s) => format!("string \"{s}\""),
        Value::Seq(_) => "a list".to_string(),
        Value::Map(_) => "a mapping".to_string(),
    }
}

#[derive(Clone, Copy)]
struct NodeDe<'a, 'p> {
    node: &'a Node,
    path: &'p Path<'p>,
    ctx: &'p Ctx,
}

impl<'de> NodeDe<'de, '_> {
    /// Locates and records an error raised while reading this node, then aborts the pass.
    fn wrap<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|e| match e {
            DeError::Abort { .. } => e,
            DeError::Fresh { mut diag, missing } => {
                let left_out = match (missing, &self.node.value) {
                    // Left out after its own error, or misspelt (the unknown field's error suggests it).
                    (Some(field), Value::Map(entries)) => entries.iter().any(|(k, v)| {
                        (k.name == field && self.ctx.skipped(v)) || did_you_mean(&k.name, [field]).is_some()
                    }),
                    // A mapping expected but something else found: that was reported, not its missing fields.
                    (Some(_), _) => true,
                    (None, _) => false,
                };
                if !left_out {
                    if diag.loc.is_none() {
                        diag.loc = Some(self.node.loc);
                        diag.path = self.path.to_field_path();
                    }
                    self.ctx.report(diag);
                }
                DeError::Abort { skip: addr(self.node) }
            }
        })
    }

    /// Records a type mismatch seen from the hint; the caller substitutes a neutral value.
    fn mismatch(&self, expected: &str, help: String) {
        self.ctx.report(
            Diagnostic::new(
                self.path.to_field_path(),
                format!("expected {expected}, found {}", found_word(&self.node.value)),
            )
            .help(help)
            .at(self.node.loc),
        );
    }

    fn scalar_mismatch(&self, expected: &str) {
        self.mismatch(
            expected,
            format!("write {expected} here (quote text that looks like a number or boolean)"),
        );
    }

    fn int_in(&self, lo: i128, hi: i128) -> Option<i128> {
        let v = match self.node.value {
            Value::Int(i) => i128::from(i),
            Value::UInt(u) => i128::from(u),
            _ => return None,
        };
        (lo..=hi).contains(&v).then_some(v)
    }

    fn unsigned<V: Visitor<'de>>(self, max: u64, expected: &str, visitor: V) -> Result<V::Value, DeError> {
        let r = match self.int_in(0, i128::from(max)) {
            Some(v) => visitor.visit_u64(u64::try_from(v).unwrap_or(0)),
            None => {
                self.scalar_mismatch(expected);
                visitor.visit_u64(0)
            }
        };
        self.wrap(r)
    }

    fn signed<V: Visitor<'de>>(self, lo: i64, hi: i64, visitor: V) -> Result<V::Value, DeError> {
        let r = match self.int_in(i128::from(lo), i128::from(hi)) {
            Some(v) => visitor.visit_i64(i64::try_from(v).unwrap_or(0)),
            None => {
                self.scalar_mismatch(&format!("an integer from {lo} to {hi}"));
                visitor.visit_i64(0)
            }
        };
        self.wrap(r)
    }
}

impl<'de, 'p> NodeDe<'de, 'p> {
    fn child<'q>(&self, path: &'q Path<'q>, node: &'de Node) -> NodeDe<'de, 'q>
    where
        'p: 'q,
    {
        NodeDe {
            node,
            path,
            ctx: self.ctx,
        }
    }

    /// The entries of a mapping node still in play this pass.
    fn map_entries(&self) -> Vec<&'de (Key, Node)> {
        match &self.node.value {
            Value::Map(entries) => entries.iter().filter(|(_, v)| !self.ctx.skipped(v)).collect(),
            _ => Vec::new(),
        }
    }

    fn seq_items(&self) -> Vec<(usize, &'de Node)> {
        match &self.node.value {
            Value::Seq(items) => items.iter().enumerate().filter(|(_, n)| !self.ctx.skipped(n)).collect(),
            _ => Vec::new(),
        }
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
            Value::Seq(_) => visitor.visit_seq(SeqDe {
                items: self.seq_items().into_iter(),
                parent: self,
            }),
            Value::Map(_) => visitor.visit_map(MapDe {
                entries: self.map_entries().into_iter(),
                pending: None,
                parent: self,
            }),
        };
        self.wrap(r)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match self.node.value {
            Value::Bool(b) => visitor.visit_bool(b),
            _ => {
                self.scalar_mismatch("`true` or `false`");
                visitor.visit_bool(false)
            }
        };
        self.wrap(r)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.unsigned(u64::from(u8::MAX), "an integer from 0 to 255", visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.unsigned(u64::from(u16::MAX), "an integer from 0 to 65535", visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.unsigned(u64::from(u32::MAX), "a whole number from 0 to 4294967295", visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.unsigned(u64::MAX, "a whole number (0 or more)", visitor)
    }
    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.signed(i64::from(i8::MIN), i64::from(i8::MAX), visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.signed(i64::from(i16::MIN), i64::from(i16::MAX), visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.signed(i64::from(i32::MIN), i64::from(i32::MAX), visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.signed(i64::MIN, i64::MAX, visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        #[allow(clippy::cast_precision_loss)]
        let r = match self.node.value {
            Value::Float(f) => visitor.visit_f64(f),
            Value::Int(i) => visitor.visit_f64(i as f64),
            Value::UInt(u) => visitor.visit_f64(u as f64),
            _ => {
                self.scalar_mismatch("a number");
                visitor.visit_f64(0.0)
            }
        };
        self.wrap(r)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Str(s) => visitor.visit_borrowed_str(s),
            _ => {
                self.scalar_mismatch("a string");
                visitor.visit_borrowed_str("")
            }
        };
        self.wrap(r)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
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

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if !matches!(self.node.value, Value::Seq(_)) {
            self.mismatch(
                "a list",
                "write a list, e.g. `[a, b]` or one `- item` per line".to_string(),
            );
        }
        let r = visitor.visit_seq(SeqDe {
            items: self.seq_items().into_iter(),
            parent: self,
        });
        self.wrap(r)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if !matches!(self.node.value, Value::Map(_)) {
            self.mismatch("a mapping", "write `name: value` pairs here".to_string());
        }
        let r = visitor.visit_map(MapDe {
            entries: self.map_entries().into_iter(),
            pending: None,
            parent: self,
        });
        self.wrap(r)
    }

    /// Only a mapping fills a struct: a list is never taken field by field in order.
    /// Unknown fields are reported here, all of them, and left out.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let entries = match &self.node.value {
            Value::Map(_) => {
                let mut kept = Vec::new();
                for entry in self.map_entries() {
                    if fields.contains(&entry.0.name.as_str()) {
                        kept.push(entry);
                    } else {
                        let mut d = unknown_field(&entry.0.name, fields).at(entry.0.loc);
                        d.path = Path::Child(self.path, Seg::Key(&entry.0.name)).to_field_path();
                        self.ctx.report(d);
                    }
                }
                kept
            }
            _ => {
                let what = settings_words(name);
                let help = if fields.is_empty() {
                    "write a mapping here".to_string()
                } else {
                    format!(
                        "write `field: value` pairs here, with fields from: {}",
                        fields.join(", ")
                    )
                };
                self.mismatch(&format!("a mapping of {what}"), help);
                Vec::new()
            }
        };
        let r = visitor.visit_map(MapDe {
            entries: entries.into_iter(),
            pending: None,
            parent: self,
        });
        self.wrap(r)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Str(s) if variants.contains(&s.as_str()) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Str(s) => Err(DeError::fresh(unknown_variant(s, variants))),
            Value::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                visitor.visit_enum(EnumDe {
                    key,
                    value,
                    parent: self,
                })
            }
            other => Err(DeError::fresh(
                Diagnostic::new(
                    FieldPath::root(),
                    format!("expected one of {}, found {}", variants.join(", "), found_word(other)),
                )
                .help(format!("write one of: {}", variants.join(", "))),
            )),
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
        i128 u128 char bytes byte_buf unit_struct tuple tuple_struct identifier
    }
}

struct SeqDe<'a, 'p> {
    items: std::vec::IntoIter<(usize, &'a Node)>,
    parent: NodeDe<'a, 'p>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'de, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, node)) => {
                let path = Path::Child(self.parent.path, Seg::Index(i));
                let child = self.parent.child(&path, node);
                child.wrap(seed.deserialize(child)).map(Some)
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'a, 'p> {
    entries: std::vec::IntoIter<&'a (Key, Node)>,
    pending: Option<&'a (Key, Node)>,
    parent: NodeDe<'a, 'p>,
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
                    .map_err(|e| key_error(e, entry, &self.parent))
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, node)) = self.pending.take() else {
            return Err(de::Error::custom("a value was read before its key"));
        };
        let path = Path::Child(self.parent.path, Seg::Key(&key.name));
        let child = self.parent.child(&path, node);
        child.wrap(seed.deserialize(child))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An error about a mapping key is reported at the key; the entry is left out next pass.
fn key_error(e: DeError, entry: &(Key, Node), parent: &NodeDe<'_, '_>) -> DeError {
    match e {
        DeError::Abort { .. } => e,
        DeError::Fresh { mut diag, .. } => {
            diag.loc = Some(entry.0.loc);
            diag.path = Path::Child(parent.path, Seg::Key(&entry.0.name)).to_field_path();
            parent.ctx.report(diag);
            DeError::Abort { skip: addr(&entry.1) }
        }
    }
}

struct EnumDe<'a, 'p> {
    key: &'a Key,
    value: &'a Node,
    parent: NodeDe<'a, 'p>,
}

impl<'de, 'p> de::EnumAccess<'de> for EnumDe<'de, 'p> {
    type Error = DeError;
    type Variant = NodeDe<'de, 'p>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant), DeError> {
        let name: &'de str = &self.key.name;
        let v = seed
            .deserialize(de::value::BorrowedStrDeserializer::<DeError>::new(name))
            .map_err(|e| match e {
                DeError::Fresh { mut diag, missing } => {
                    diag.loc = Some(self.key.loc);
                    diag.path = Path::Child(self.parent.path, Seg::Key(name)).to_field_path();
                    DeError::Fresh { diag, missing }
                }
                abort @ DeError::Abort { .. } => abort,
            })?;
        Ok((
            v,
            NodeDe {
                node: self.value,
                path: self.parent.path,
                ctx: self.parent.ctx,
            },
        ))
    }
}

impl<'de> de::VariantAccess<'de> for NodeDe<'de, '_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        self.wrap(Err(DeError::fresh(
            Diagnostic::new(FieldPath::root(), "this value takes no settings").help("write just the name"),
        )))
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
        #[serde(default)]
        resources: Option<Resources>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Resources {
        cpu: Option<String>,
        memory: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        apps: indexmap::IndexMap<String, App>,
    }

    fn errs(yaml: &str) -> Vec<String> {
        let node = parse_yaml(yaml).expect("yaml");
        from_node::<Doc>(&node, &FieldPath::root())
            .expect_err("must fail")
            .iter()
            .map(|d| {
                let loc = d.loc.map(|l| format!("{}:{}", l.line, l.column)).unwrap_or_default();
                format!("{loc} {}: {} | {}", d.path, d.message, d.help.as_deref().unwrap_or(""))
            })
            .collect()
    }

    #[test]
    fn unknown_field_points_at_the_key_and_suggests() {
        assert_eq!(
            errs("apps:\n  web:\n    image: x:1\n    imag: x:1\n"),
            ["4:5 apps.web.imag: unknown field `imag` | did you mean `image`?"]
        );
    }

    #[test]
    fn wrong_type_points_at_the_value() {
        assert_eq!(
            errs("apps:\n  web:\n    image: x:1\n    port: eighty\n"),
            [
                "4:11 apps.web.port: expected an integer from 0 to 65535, found string \"eighty\" | write an integer from 0 to 65535 here (quote text that looks like a number or boolean)"
            ]
        );
    }

    #[test]
    fn out_of_range_and_list_items_are_located() {
        assert_eq!(
            errs("apps:\n  web:\n    image: x:1\n    port: 70000\n    hosts: [a, [b]]\n"),
            [
                "4:11 apps.web.port: expected an integer from 0 to 65535, found integer `70000` | write an integer from 0 to 65535 here (quote text that looks like a number or boolean)",
                "5:16 apps.web.hosts[1]: expected a string, found a list | write a string here (quote text that looks like a number or boolean)",
            ]
        );
    }

    #[test]
    fn missing_field_points_at_the_mapping() {
        assert_eq!(
            errs("apps:\n  web:\n    port: 80\n"),
            ["3:5 apps.web: missing required field `image` | add `image:` here"]
        );
    }

    #[test]
    fn a_list_never_fills_a_struct_by_position() {
        assert_eq!(
            errs("apps:\n  web:\n    image: x:1\n    resources: [\"3\", 5Gi]\n"),
            [
                "4:16 apps.web.resources: expected a mapping of resources settings, found a list | write `field: value` pairs here, with fields from: cpu, memory"
            ]
        );
    }

    #[test]
    fn every_error_of_every_app_in_one_run() {
        let yaml = "apps:\n  a:\n    port: 1\n  b:\n    image: x:1\n    port: no\n    colour: red\n  c:\n    image: [x]\n    hosts: {a: b}\n";
        assert_eq!(
            errs(yaml),
            [
                "3:5 apps.a: missing required field `image` | add `image:` here",
                "6:11 apps.b.port: expected an integer from 0 to 65535, found string \"no\" | write an integer from 0 to 65535 here (quote text that looks like a number or boolean)",
                "7:5 apps.b.colour: unknown field `colour` | remove it, or use one of: image, port, hosts, resources",
                "9:12 apps.c.image: expected a string, found a list | write a string here (quote text that looks like a number or boolean)",
                "10:12 apps.c.hosts: expected a list, found a mapping | write a list, e.g. `[a, b]` or one `- item` per line",
            ]
        );
    }

    #[test]
    fn a_missing_field_caused_by_a_reported_one_is_not_repeated() {
        assert_eq!(
            errs("apps: [1]\n"),
            ["1:7 apps: expected a mapping, found a list | write `name: value` pairs here"]
        );
        let node = parse_yaml("apps:\n  web:\n    image: x:1\n").expect("yaml");
        assert!(from_node::<Doc>(&node, &FieldPath::root()).is_ok());
    }
}
