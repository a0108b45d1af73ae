//! JSON documents in and out, as sops's JSON store sees them: a top-level object,
//! keys in order, integers within i64 as ints and every other number as a float,
//! written with tab indentation as sops writes it.

use crate::error::{Result, SopsError};
use crate::tree::{Entry, ListItem, Value};

/// Parses a JSON document (a top-level object) into its root map.
pub fn parse(text: &str) -> Result<Vec<Entry>> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| SopsError::Syntax {
        format: "JSON",
        line: e.line(),
        column: e.column(),
        reason: match e.classify() {
            serde_json::error::Category::Eof => "the document ends too early".into(),
            _ => "unexpected character".into(),
        },
    })?;
    match from_json(value) {
        Value::Map(entries) => Ok(entries),
        other => Err(SopsError::Shape {
            problem: format!(
                "the JSON document is a {}, and sops needs a top-level object",
                other.kind()
            ),
            fix: "wrap it in an object, e.g. {\"data\": ...}".into(),
        }),
    }
}

fn from_json(value: serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::Str(s),
        serde_json::Value::Array(items) => {
            Value::List(items.into_iter().map(|v| ListItem::Value(from_json(v))).collect())
        }
        serde_json::Value::Object(map) => {
            Value::Map(map.into_iter().map(|(k, v)| Entry::Pair(k, from_json(v))).collect())
        }
    }
}

/// Writes a root map as JSON (comments are dropped: JSON has none).
pub fn emit(root: &[Entry]) -> String {
    let mut out = String::new();
    emit_map(&mut out, root, 0);
    out.push('\n');
    out
}

/// One value as JSON text.
pub fn emit_value_text(value: &Value) -> String {
    let mut out = String::new();
    emit_value(&mut out, value, 0);
    out.push('\n');
    out
}

fn tabs(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n('\t', n));
}

fn emit_map(out: &mut String, entries: &[Entry], depth: usize) {
    let pairs: Vec<(&String, &Value)> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Pair(k, v) => Some((k, v)),
            Entry::Comment(_) => None,
        })
        .collect();
    if pairs.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (i, (k, v)) in pairs.iter().enumerate() {
        tabs(out, depth + 1);
        out.push_str(&serde_json::Value::String((*k).clone()).to_string());
        out.push_str(": ");
        emit_value(out, v, depth + 1);
        if i + 1 < pairs.len() {
            out.push(',');
        }
        out.push('\n');
    }
    tabs(out, depth);
    out.push('}');
}

fn emit_value(out: &mut String, value: &Value, depth: usize) {
    match value {
        Value::Map(entries) => emit_map(out, entries, depth),
        Value::List(items) => {
            let values: Vec<&Value> = items
                .iter()
                .filter_map(|i| match i {
                    ListItem::Value(v) => Some(v),
                    ListItem::Comment(_) => None,
                })
                .collect();
            if values.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push_str("[\n");
            for (i, v) in values.iter().enumerate() {
                tabs(out, depth + 1);
                emit_value(out, v, depth + 1);
                if i + 1 < values.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            tabs(out, depth);
            out.push(']');
        }
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => out.push_str(&n.to_string()),
            None => out.push_str("null"),
        },
        Value::Str(s) | Value::Time(s) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_number_types_are_kept() {
        let root =
            parse(r#"{"b": 1, "a": {"c": [1, 2.5, true, "x", null, 9223372036854775808]}, "e": "", "f": {}, "g": []}"#)
                .expect("parses");
        assert_eq!(
            emit(&root),
            "{\n\t\"b\": 1,\n\t\"a\": {\n\t\t\"c\": [\n\t\t\t1,\n\t\t\t2.5,\n\t\t\ttrue,\n\t\t\t\"x\",\n\t\t\tnull,\n\t\t\t9.223372036854776e+18\n\t\t]\n\t},\n\t\"e\": \"\",\n\t\"f\": {},\n\t\"g\": []\n}\n"
        );
    }

    #[test]
    fn non_objects_and_bad_syntax_are_refused() {
        assert!(
            parse("[1]")
                .expect_err("array")
                .to_string()
                .contains("top-level object")
        );
        assert!(matches!(parse("{\"a\": ").expect_err("eof"), SopsError::Syntax { .. }));
    }
}
