//! Deterministic YAML for rendered objects. Objects are serialised on all
//! cores (each document is independent); the output order never changes.
//!
//! The emitter is our own because it is the hot loop of `render`: a 10,000-app
//! platform writes ~350 MB, most of it dashboard JSON held in ConfigMaps, and a
//! general serialiser re-scans every string several times to pick a style. Here
//! each string is scanned once and gets one of three styles:
//!
//! - plain, only when no YAML 1.1 or 1.2 reader could take it for anything but
//!   the same string (no indicators, no `: ` or ` #`, nothing that resolves to a
//!   null, bool, number or timestamp);
//! - a literal block (`|`, `|-`, `|+`) for printable multi-line text, so
//!   dashboards and alert expressions stay readable;
//! - double-quoted with escapes for everything else.
//!
//! The round trip (emit, parse, compare) is a property test below.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::object::Object;

/// One object as a YAML document (no leading `---`), ending in a newline.
pub fn to_yaml(object: &Object) -> String {
    // Most objects fit; a dashboard grows it a few times.
    let mut out = String::with_capacity(4096);
    write_document(&mut out, &object.0);
    out
}

/// Every object as a YAML document, in order, serialised in parallel.
pub fn to_yaml_all(objects: &[&Object]) -> Vec<String> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    if threads < 2 || objects.len() < 64 {
        return objects.iter().map(|o| to_yaml(o)).collect();
    }
    let chunk = objects.len().div_ceil(threads);
    std::thread::scope(|s| {
        let workers: Vec<_> = objects
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|o| to_yaml(o)).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// Several objects as one multi-document stream.
pub fn to_yaml_stream<'a>(objects: impl IntoIterator<Item = &'a Object>) -> String {
    let objects: Vec<&Object> = objects.into_iter().collect();
    let docs = to_yaml_all(&objects);
    let mut out = String::with_capacity(docs.iter().map(|d| d.len() + 4).sum());
    for d in docs {
        out.push_str("---\n");
        out.push_str(&d);
    }
    out
}

/// A whole document: a top-level mapping or sequence starts at column 0.
fn write_document(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) if !map.is_empty() => write_map(out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(out, items, 0),
        scalar => {
            write_inline(out, scalar, 2);
            out.push('\n');
        }
    }
}

/// Mapping entries, each on its own line at `indent`. The caller has already
/// written the indentation of the first line (so it can follow `- `).
fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        }
        write_key(out, key, indent);
        match value {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                pad(out, indent + 2);
                write_map(out, m, indent + 2);
            }
            // Sequences under a key sit at the key's column, as kubectl writes them.
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                pad(out, indent);
                write_seq(out, items, indent);
            }
            scalar => {
                out.push(' ');
                write_inline(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }
}

/// Sequence items, each `- ` at `indent` (the first one's indentation already written).
fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_map(out, m, indent + 2),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, indent + 2),
            scalar => {
                write_inline(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }
}

/// A key and its colon. An implicit key is at most 1024 characters as
/// written (escapes count); a longer one (never rendered today, but the
/// emitter takes any value) becomes an explicit `? key`.
fn write_key(out: &mut String, key: &str, indent: usize) {
    let start = out.len();
    match scalar_style(key) {
        Style::Plain => out.push_str(key),
        Style::Literal | Style::Quoted => write_quoted(out, key),
    }
    if out.len() - start > 1000 {
        let written = out.split_off(start);
        out.push_str("? ");
        out.push_str(&written);
        out.push('\n');
        pad(out, indent);
    }
    out.push(':');
}

/// A scalar (or an empty collection) after `key: ` or `- `; block text is
/// indented to `indent`. Does not end the line.
fn write_inline(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => match scalar_style(s) {
            Style::Plain => out.push_str(s),
            Style::Literal => write_literal(out, s, indent),
            Style::Quoted => write_quoted(out, s),
        },
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn pad(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > 0 {
        let step = n.min(SPACES.len());
        out.push_str(&SPACES[..step]);
        n -= step;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Literal,
    Quoted,
}

/// Picks the style of a string: one pass over its bytes that the compiler can
/// vectorise (no early exit), then cheap looks at its ends and, only for
/// non-ASCII text, at the multi-byte characters that need escapes.
fn scalar_style(s: &str) -> Style {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Style::Quoted;
    };
    // Most keys and values are names (`apiVersion`, `app.kubernetes.io/name`):
    // a letter first, then letters, digits and `.-_/`, which no resolver reads
    // as anything but text, except the few words below.
    if first.is_ascii_alphabetic()
        && bytes.len() <= 64
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'))
    {
        return if s.len() <= 5 && RESERVED_WORDS.contains(&s) {
            Style::Quoted
        } else {
            Style::Plain
        };
    }
    let flags = byte_flags(bytes);
    let (newline, tab, control, high) = (flags & NEWLINE, flags & TAB, flags & CONTROL, flags & HIGH);
    if control != 0 || (high != 0 && has_unprintable(bytes)) {
        return Style::Quoted;
    }
    let blank = |b: u8| b == b' ' || b == b'\t';
    if newline != 0 {
        // Trailing blanks on a line of block text would be kept but are
        // invisible in review: quote instead.
        let blank_line_end = pairs(bytes).fold(0u8, |acc, (&a, &b)| {
            acc | u8::from((b == b'\n') & ((a == b' ') | (a == b'\t')))
        });
        return if blank_line_end == 0 && !first.is_ascii_whitespace() && !blank(last) {
            Style::Literal
        } else {
            Style::Quoted
        };
    }
    let plain = tab == 0
        && !is_indicator(first)
        && first != b' '
        && last != b' '
        && last != b':'
        && pairs(bytes).fold(0u8, |acc, (&a, &b)| {
            acc | u8::from(((a == b':') & (b == b' ')) | ((a == b' ') & (b == b'#')))
        }) == 0;
    if plain && !resolves_to_other_type(s) {
        Style::Plain
    } else {
        Style::Quoted
    }
}

const NEWLINE: u8 = 1;
const TAB: u8 = 2;
const CONTROL: u8 = 4;
const HIGH: u8 = 8;

/// Which kinds of byte a string holds. Set without branches, and kept out of
/// line, so the compiler runs the loop on wide registers: dashboards put
/// 16 KB strings through here.
#[inline(never)]
fn byte_flags(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, &b| {
        acc | u8::from(b == b'\n')
            | (u8::from(b == b'\t') << 1)
            | (u8::from(((b < 0x20) & (b != b'\n') & (b != b'\t')) | (b == 0x7f)) << 2)
            | ((b >> 7) << 3)
    })
}

/// Each byte with the next one.
fn pairs(bytes: &[u8]) -> impl Iterator<Item = (&u8, &u8)> {
    bytes.iter().zip(bytes.get(1..).unwrap_or_default())
}

/// The C1 controls (NEL among them), the BOM, the line and paragraph
/// separators and the non-characters U+FFFE/U+FFFF: not printable in YAML, or
/// line breaks to a YAML 1.1 reader.
fn has_unprintable(bytes: &[u8]) -> bool {
    bytes.windows(3).any(|w| {
        matches!(
            w,
            [0xc2, 0x80..=0x9f, _] | [0xe2, 0x80, 0xa8 | 0xa9] | [0xef, 0xbb, 0xbf] | [0xef, 0xbf, 0xbe | 0xbf]
        )
    }) || matches!(bytes, [.., 0xc2, 0x80..=0x9f])
}

/// Characters that start something other than a plain scalar.
fn is_indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// Plain words a YAML 1.1 or 1.2 reader takes for a null, a bool, or (`=`, `<<`) a key type.
const RESERVED_WORDS: &[&str] = &[
    "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y", "Y", "yes", "Yes", "YES", "n",
    "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "=", "<<",
];

/// Whether a YAML 1.1 or 1.2 reader (Kubernetes' own reads 1.1 booleans)
/// would resolve the plain scalar to a null, bool, number or timestamp.
/// Errs on the side of quoting: `1a` is quoted although no resolver reads it
/// as a number.
fn resolves_to_other_type(s: &str) -> bool {
    if (s.len() <= 5 && RESERVED_WORDS.contains(&s)) || s.starts_with("...") {
        return true;
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned.eq_ignore_ascii_case(".inf") || unsigned.eq_ignore_ascii_case(".nan") {
        return true;
    }
    let b = unsigned.as_bytes();
    let numeric_start = match b {
        [d, ..] if d.is_ascii_digit() => true,
        [b'.', d, ..] if d.is_ascii_digit() => true,
        _ => false,
    };
    // Ints (decimal, 0x, 0o, 0b, with `_`), floats (with exponents), 1.1's
    // base-60 numbers (`1:20`) and timestamps (`2001-12-14 21:59:43.10 -5`)
    // are all made of these characters.
    numeric_start
        && b.iter().all(|c| {
            c.is_ascii_hexdigit()
                || matches!(
                    c,
                    b'_' | b'.' | b':' | b'+' | b'-' | b'x' | b'X' | b'o' | b'O' | b' ' | b'T' | b't' | b'Z' | b'z'
                )
        })
}

/// A literal block: `|` keeps one final newline, `|-` none, `|+` several.
fn write_literal(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
    }
    // The first final newline ends the last content line; the rest are kept lines.
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// A double-quoted scalar; every character that is not printable is escaped.
fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
            | '\u{fffe}'
            | '\u{ffff}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn yaml(v: &Value) -> String {
        let mut out = String::new();
        write_document(&mut out, v);
        out
    }

    fn parse(text: &str) -> Value {
        match serde_saphyr::from_str::<Value>(text) {
            Ok(v) => v,
            Err(e) => panic!("emitted YAML does not parse: {e}\n{text}"),
        }
    }

    #[test]
    fn an_object_reads_like_kubectl_output() {
        let v = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "web", "labels": {"app.kubernetes.io/version": "1.0.0", "replicas": "3"}},
            "data": {"dash.json": "{\n  \"a\": 1\n}", "empty": "", "rule": "up == 0\n"},
            "list": [{"name": "a", "ports": [80, 443]}, [], {}, ["x", ["y"]]],
            "flags": {"on": "on", "t": true, "n": null, "f": 0.5},
        });
        let expected = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: web
  labels:
    app.kubernetes.io/version: "1.0.0"
    replicas: "3"
data:
  dash.json: |-
    {
      "a": 1
    }
  empty: ""
  rule: |
    up == 0
list:
- name: a
  ports:
  - 80
  - 443
- []
- {}
- - x
  - - "y"
flags:
  "on": "on"
  t: true
  "n": null
  f: 0.5
"#;
        assert_eq!(yaml(&v), expected);
        assert_eq!(parse(expected), v);
    }

    #[test]
    fn strings_that_read_as_other_types_are_quoted() {
        let table = [
            ("yes", "\"yes\""),
            ("Off", "\"Off\""),
            ("~", "\"~\""),
            ("null", "\"null\""),
            ("1.0.0", "\"1.0.0\""),
            ("0x1F", "\"0x1F\""),
            ("0o17", "\"0o17\""),
            ("1_000", "\"1_000\""),
            ("1e3", "\"1e3\""),
            ("-.inf", "\"-.inf\""),
            (".NaN", "\".NaN\""),
            ("1:20", "\"1:20\""),
            ("2001-12-14", "\"2001-12-14\""),
            ("2001-12-14t21:59:43.10-05:00", "\"2001-12-14t21:59:43.10-05:00\""),
            ("- x", "\"- x\""),
            ("a: b", "\"a: b\""),
            ("a #b", "\"a #b\""),
            ("a:", "\"a:\""),
            (" a", "\" a\""),
            ("a ", "\"a \""),
            ("...", "\"...\""),
            ("{{ $labels.pod }}", "\"{{ $labels.pod }}\""),
            ("tab\there", "\"tab\\there\""),
            ("nel\u{85}", "\"nel\\u0085\""),
            ("ls\u{2028}", "\"ls\\u2028\""),
            ("\u{feff}bom", "\"\\ufeffbom\""),
            // Plain, as before.
            ("256Mi", "256Mi"),
            ("100m", "100m"),
            ("25%", "25%"),
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("a:b", "a:b"),
            ("a#b", "a#b"),
            ("High error rate", "High error rate"),
            ("grüße", "grüße"),
            ("/healthz", "/healthz"),
        ];
        let mut wrong = Vec::new();
        for (input, want) in table {
            let mut got = String::new();
            write_inline(&mut got, &Value::String(input.into()), 0);
            if got != want {
                wrong.push(format!("{input:?}: got {got}, want {want}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn literal_blocks_keep_their_final_newlines() {
        for s in ["a\nb", "a\nb\n", "a\nb\n\n\n", "a\n\n  b\n", "x\n\ty"] {
            let v = json!({"k": s, "l": [s]});
            let text = yaml(&v);
            assert!(text.contains('|'), "{s:?} should be a literal block:\n{text}");
            assert_eq!(parse(&text), v, "{s:?}:\n{text}");
        }
    }

    #[test]
    fn keys_too_long_for_an_implicit_key_are_explicit() {
        let plain = "k".repeat(1500);
        let escaped = "\u{1}".repeat(300);
        let short_escaped = "\u{1}".repeat(100);
        for key in [plain.as_str(), escaped.as_str(), short_escaped.as_str()] {
            let v = json!({ key: {"a": [1, "x\ny"]}, "b": key });
            let text = yaml(&v);
            assert_eq!(text.starts_with("? "), key.len() > 170, "{key:?}");
            assert_eq!(parse(&text), v, "{text}");
        }
    }

    fn any_string() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ -~\n\t]{0,12}",
            prop::sample::select(vec![
                "yes",
                "No",
                "1.5",
                "-1",
                "0x10",
                "a: b",
                "- a",
                "#c",
                "\n",
                " x\n",
                "x\n\n",
                "|",
                "&a",
                "*a",
                "!t",
                "%d",
                "@x",
                "`x",
                "\"q\"",
                "'q'",
                "a\u{2028}b",
                "\u{85}",
                "\u{feff}",
                "...",
                "---",
                "? x",
                "<<",
            ])
            .prop_map(str::to_string),
        ]
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e12f64..1e12).prop_map(Value::from),
            any_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((any_string(), inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn every_value_reads_back_as_itself(v in any_value()) {
            let text = yaml(&v);
            prop_assert_eq!(parse(&text), v, "{}", text);
        }
    }
}
