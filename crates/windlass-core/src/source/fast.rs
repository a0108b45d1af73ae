//! The common case of [`parse_yaml`](super::parse_yaml), built straight from
//! the YAML parser's events: mappings, lists and scalars whose type is plain
//! to see. Anything else (anchors, aliases, tags, merge keys, duplicate keys,
//! numbers in other notations, errors, limits) returns `None`, and the full
//! deserialiser reads the text instead, with its rules and its messages.
//!
//! It exists for speed: a 10,000-app spec parses in a third of the time. A
//! property test below holds it to the full path: whenever it returns a tree,
//! the full path returns the same tree, locations included.

use serde_saphyr::granit_parser::{Event, Marker, Options, Parser, ScalarStyle};

use super::node::{Key, Limits, Loc, Node, Value};

/// A collection being read.
enum Frame {
    Seq {
        loc: Loc,
        items: Vec<Node>,
    },
    Map {
        loc: Loc,
        entries: Vec<(Key, Node)>,
        /// The key read, waiting for its value.
        key: Option<Key>,
    },
}

/// The tree of `text`, or `None` when the full deserialiser must decide.
pub(super) fn parse(text: &str, limits: Limits) -> Option<Node> {
    let mut options = Options::default();
    options.set_emit_comments(false);
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    // Counted as the full path's budget counts them (nodes are scalars, keys
    // included, and collection starts), so a tree built here is never one the
    // full path would refuse as too large.
    let mut nodes = 0usize;
    let mut events = 0usize;
    while let Some(item) = parser.next_event() {
        let (event, span) = item.ok()?;
        events += 1;
        if events > 2 * limits.nodes - 8 || nodes > limits.nodes {
            return None;
        }
        let loc = loc_of(span.start);
        let is_seq = matches!(event, Event::SequenceStart(..));
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => continue,
            Event::DocumentStart(_, version) => {
                documents += 1;
                if documents > 1 || version.is_some() {
                    return None;
                }
                continue;
            }
            Event::Scalar(value, style, anchor, tag) => {
                nodes += 1;
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                if let Some(Frame::Map { key: key @ None, .. }) = stack.last_mut() {
                    *key = Some(Key {
                        name: key_name(&value, style)?,
                        loc,
                    });
                    continue;
                }
                Node {
                    value: scalar(&value, style)?,
                    loc,
                }
            }
            Event::SequenceStart(_, anchor, tag) | Event::MappingStart(_, anchor, tag) => {
                nodes += 1;
                let is_key = matches!(stack.last(), Some(Frame::Map { key: None, .. }));
                if anchor != 0 || tag.is_some() || is_key || stack.len() >= limits.depth / 2 {
                    return None;
                }
                stack.push(if is_seq {
                    Frame::Seq { loc, items: Vec::new() }
                } else {
                    Frame::Map {
                        loc,
                        entries: Vec::new(),
                        key: None,
                    }
                });
                continue;
            }
            Event::SequenceEnd => match stack.pop()? {
                Frame::Seq { loc, items } => Node {
                    value: Value::Seq(items),
                    loc,
                },
                Frame::Map { .. } => return None,
            },
            Event::MappingEnd => match stack.pop()? {
                Frame::Map {
                    loc,
                    entries,
                    key: None,
                } if unique_keys(&entries) => Node {
                    value: Value::Map(entries),
                    loc,
                },
                Frame::Map { .. } | Frame::Seq { .. } => return None,
            },
            _ => return None,
        };
        match stack.last_mut() {
            None if root.is_none() => root = Some(node),
            None => return None,
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => entries.push((key.take()?, node)),
        }
    }
    if !stack.is_empty() || nodes > limits.nodes {
        return None;
    }
    root
}

fn loc_of(m: Marker) -> Loc {
    Loc {
        line: u32::try_from(m.line()).unwrap_or(u32::MAX),
        column: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
        offset: m.byte_offset().unwrap_or(0),
    }
}

/// A scalar whose type is certain: null, `true`/`false`, a decimal integer or
/// a plain decimal fraction, or text. `None` for anything a number could be
/// spelled as in some notation (`0x1F`, `1e3`, `0755`, `.inf`, `1_000`).
fn scalar(text: &str, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::Str(text.to_string()));
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    let bytes = text.as_bytes();
    let numeric_start = bytes
        .first()
        .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'));
    if !numeric_start {
        return Some(Value::Str(text.to_string()));
    }
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let canonical_whole = digits(whole) && (whole == "0" || !whole.starts_with('0'));
    match fraction {
        None if canonical_whole && whole.len() <= 18 => text.parse().ok().map(Value::Int),
        Some(f) if canonical_whole && digits(f) && text.len() <= 24 => {
            text.parse::<f64>().ok().filter(|v| v.is_finite()).map(Value::Float)
        }
        // Made only of what integers and floats are written with in some
        // notation: the full path knows which it is.
        _ if bytes.iter().all(|b| {
            b.is_ascii_hexdigit()
                || matches!(b, b'x' | b'X' | b'o' | b'O' | b'_' | b'.' | b'+' | b'-' | b':')
                || matches!(b, b'i' | b'I' | b'n' | b'N')
        }) =>
        {
            None
        }
        _ => Some(Value::Str(text.to_string())),
    }
}

/// A mapping key's text, when it is plainly text (`3000:`, `~:` and `<<:` are left to the full path).
fn key_name(text: &str, style: ScalarStyle) -> Option<String> {
    match scalar(text, style)? {
        Value::Str(s) if s != "<<" => Some(s),
        _ => None,
    }
}

/// Whether every key of a mapping is different (a duplicate is the full path's error to report).
fn unique_keys(entries: &[(Key, Node)]) -> bool {
    if entries.len() <= 8 {
        return entries
            .iter()
            .enumerate()
            .all(|(i, (k, _))| entries[..i].iter().all(|(o, _)| o.name != k.name));
    }
    let mut names: Vec<&str> = entries.iter().map(|(k, _)| k.name.as_str()).collect();
    names.sort_unstable();
    names.windows(2).all(|w| w[0] != w[1])
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::source::node::{SPEC_LIMITS, parse_yaml_full};

    /// The fast tree, when there is one, is the full path's tree.
    fn agrees(text: &str) -> Result<(), String> {
        let Some(fast) = parse(text, SPEC_LIMITS) else {
            return Ok(());
        };
        match parse_yaml_full(text, SPEC_LIMITS) {
            Ok(full) if full == fast => Ok(()),
            Ok(full) => Err(format!("{text:?}\nfast: {fast:?}\nfull: {full:?}")),
            Err(e) => Err(format!(
                "{text:?}: fast path accepted what the full path refuses: {}",
                e.message
            )),
        }
    }

    #[test]
    fn the_common_cases_take_the_fast_path_and_agree() {
        let texts = [
            "a: 1\nb:\n  c: [x, y]\n",
            "apps:\n  web:\n    image: ghcr.io/a/b:1.0.0\n    port: 8080\n    resources: {cpu: 100m, memory: 256Mi}\n",
            "l:\n- a\n- {b: c}\n- [1, -2, 0.5, -0.25]\n- \"q\"\n- 'single'\n- |\n  block\n  text\n- >\n  folded\n",
            "n: ~\nm: null\nt: true\nf: FALSE\ne:\ns: yes\no: off\nk: \"3000\"\n",
            "x: 99999999999999999\ny: 0\nz: -0\nw: 10.0.0.0/8\nv: 1.0.0-rc1\n",
            "---\na: b\n",
            "a: b\n...\n",
            "\u{feff}a: b\n",
            "grüße: \"über\"\nemoji: 🚢\n",
            "multi: this is\n  folded plain\n",
        ];
        for text in texts {
            assert!(parse(text, SPEC_LIMITS).is_some(), "{text:?} should take the fast path");
            assert_eq!(agrees(text), Ok(()));
        }
    }

    #[test]
    fn everything_else_is_left_to_the_full_path() {
        let texts = [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "<<: {a: 1}\n",
            "a: 1\na: 2\n",
            "a: 0x1F\n",
            "a: 1e3\n",
            "a: 0755\n",
            "a: .inf\n",
            "a: 1_000\n",
            "a: +1\n",
            "? [a]\n: 1\n",
            "3000: x\n",
            "a: 1\n---\nb: 2\n",
            "a: [1, 2\n",
            "%YAML 1.2\n---\na: 1\n",
        ];
        for text in texts {
            assert_eq!(parse(text, SPEC_LIMITS), None, "{text:?}");
        }
    }

    fn scalar_text() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "0",
                "-0",
                "00",
                "01",
                "1",
                "-1",
                "+1",
                "1.5",
                "-1.5",
                "1.",
                ".5",
                "1.5.2",
                "0.0",
                "00.5",
                "1e3",
                "0x1f",
                "0o7",
                "0b1",
                "1_0",
                "1:2",
                ".inf",
                "-.Inf",
                ".nan",
                "inf",
                "nan",
                "NaN",
                "y",
                "yes",
                "no",
                "on",
                "off",
                "true",
                "True",
                "tRue",
                "null",
                "~",
                "Null",
                "nULL",
                "<<",
                "-",
                "--",
                "-a",
                "a-",
                "100m",
                "256Mi",
                "1Gi",
                "2h",
                "30s",
                "99.9",
                "1.0.0",
                "v1",
                "a b",
                "é",
                "日本",
                "🚢",
                "99999999999999999999",
                "-9223372036854775808",
                "9223372036854775807",
                "18446744073709551615",
                "123456789012345678.5",
            ])
            .prop_map(str::to_string),
            "[a-z0-9.+_:-]{1,6}",
        ]
    }

    fn quoted(s: &str, style: u8) -> String {
        match style {
            0 => s.to_string(),
            1 => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
            _ => format!("'{}'", s.replace('\'', "''")),
        }
    }

    /// Random block/flow documents over the scalars above.
    fn document() -> impl Strategy<Value = String> {
        let entry = (scalar_text(), 0u8..3, scalar_text(), 0u8..3);
        let flow_list = prop::collection::vec((scalar_text(), 0u8..3), 0..4);
        prop::collection::vec((entry, flow_list, 0u8..4), 1..8).prop_map(|entries| {
            let mut out = String::new();
            for ((k, ks, v, vs), list, shape) in entries {
                let key = quoted(&k, ks);
                let value = quoted(&v, vs);
                let items: Vec<String> = list.iter().map(|(s, st)| quoted(s, *st)).collect();
                match shape {
                    0 => out.push_str(&format!("{key}: {value}\n")),
                    1 => out.push_str(&format!("{key}: [{}]\n", items.join(", "))),
                    2 => out.push_str(&format!("{key}:\n  inner: {value}\n  list:\n  - {value}\n")),
                    _ => out.push_str(&format!("{key}: {{x: {value}, y: [{}]}}\n", items.join(", "))),
                }
            }
            out
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn the_fast_tree_is_the_full_tree(text in document()) {
            prop_assert_eq!(agrees(&text), Ok(()));
        }

        #[test]
        fn every_scalar_resolves_as_the_full_path_does(s in scalar_text()) {
            prop_assert_eq!(agrees(&format!("k: {s}\n")), Ok(()));
            prop_assert_eq!(agrees(&format!("{s}: v\n")), Ok(()));
            prop_assert_eq!(agrees(&format!("- [{s}]\n")), Ok(()));
        }
    }
}
