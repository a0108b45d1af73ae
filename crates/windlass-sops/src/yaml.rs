//! YAML documents in and out, as sops's YAML store sees them: a stream of documents
//! whose roots are maps, keys in order, aliases expanded, comments kept as entries of
//! the map or list they sit in (a comment less indented than the collection it ends
//! belongs to the enclosing one, as go-yaml decides by indentation). Output is block
//! style with sops's 4-space indentation, so a file sops rewrites changes little.

use std::collections::{HashMap, HashSet};

use granit_parser::{Event, Parser, Placement, ScalarStyle, Span};

use crate::error::{Result, SopsError};
use crate::scalar::{needs_quotes, resolve_plain, yaml_float};
use crate::tree::{Comment, Entry, ListItem, Value};

const INDENT: usize = 4;

/// Parses a YAML stream into one root map per document.
pub fn parse(text: &str) -> Result<Vec<Vec<Entry>>> {
    let mut events = Vec::new();
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| SopsError::Syntax {
            format: "YAML",
            line: e.marker().line(),
            column: e.marker().col() + 1,
            reason: e.info().to_string(),
        })?;
        events.push((event, span));
    }
    let mut docs = Builder {
        events,
        pos: 0,
        anchors: HashMap::new(),
    }
    .stream()?;
    for doc in &mut docs {
        place_trailing_comments(doc, true);
    }
    Ok(docs)
}

/// Moves comments that end a nested map or list after a nested collection to where
/// go-yaml (and so sops) attaches them when more follows at a lower indentation —
/// which in an encrypted file is always so, the `sops` key comes last: into the
/// deepest last collection of that entry. A comment's place decides its additional
/// data, so sops then decrypts every comment windlass encrypts. The root's own
/// trailing comments stay (they head the `sops` key, at the root).
fn place_trailing_comments(entries: &mut Vec<Entry>, is_root: bool) {
    let last_pair = entries.iter().rposition(|e| matches!(e, Entry::Pair(..)));
    for entry in entries.iter_mut() {
        if let Entry::Pair(_, value) = entry {
            place_in_value(value);
        }
    }
    let Some(last) = last_pair else { return };
    if is_root || last + 1 == entries.len() {
        return;
    }
    let Entry::Pair(_, value) = &mut entries[last] else {
        return;
    };
    if !has_data(value) {
        return;
    }
    let trailing: Vec<Comment> = entries
        .drain(last + 1..)
        .filter_map(|e| match e {
            Entry::Comment(c) => Some(c),
            Entry::Pair(..) => None,
        })
        .collect();
    let Entry::Pair(_, value) = &mut entries[last] else {
        return;
    };
    push_deepest(value, trailing);
}

fn place_in_value(value: &mut Value) {
    match value {
        Value::Map(entries) => place_trailing_comments(entries, false),
        Value::List(items) => {
            let last = items.iter().rposition(|i| matches!(i, ListItem::Value(_)));
            for item in items.iter_mut() {
                if let ListItem::Value(v) = item {
                    place_in_value(v);
                }
            }
            let Some(last) = last else { return };
            if last + 1 == items.len() {
                return;
            }
            if !matches!(&items[last], ListItem::Value(v) if has_data(v)) {
                return;
            }
            let trailing: Vec<Comment> = items
                .drain(last + 1..)
                .filter_map(|i| match i {
                    ListItem::Comment(c) => Some(c),
                    ListItem::Value(_) => None,
                })
                .collect();
            if let ListItem::Value(v) = &mut items[last] {
                push_deepest(v, trailing);
            }
        }
        _ => {}
    }
}

fn has_data(value: &Value) -> bool {
    match value {
        Value::Map(entries) => entries.iter().any(|e| matches!(e, Entry::Pair(..))),
        Value::List(items) => items.iter().any(|i| matches!(i, ListItem::Value(_))),
        _ => false,
    }
}

/// Appends comments to the deepest last non-empty collection of `value`.
fn push_deepest(value: &mut Value, comments: Vec<Comment>) {
    match value {
        Value::Map(entries) => {
            let last = entries.iter_mut().rev().find_map(|e| match e {
                Entry::Pair(_, v) => Some(v),
                Entry::Comment(_) => None,
            });
            match last {
                Some(v) if has_data(v) => push_deepest(v, comments),
                _ => entries.extend(comments.into_iter().map(Entry::Comment)),
            }
        }
        Value::List(items) => {
            let last = items.iter_mut().rev().find_map(|i| match i {
                ListItem::Value(v) => Some(v),
                ListItem::Comment(_) => None,
            });
            match last {
                Some(v) if has_data(v) => push_deepest(v, comments),
                _ => items.extend(comments.into_iter().map(ListItem::Comment)),
            }
        }
        _ => {}
    }
}

/// A comment waiting for the next entry of its collection, with its column.
struct Pending {
    col: usize,
    comment: Comment,
}

struct Builder<'a> {
    events: Vec<(Event<'a>, Span)>,
    pos: usize,
    anchors: HashMap<usize, Value>,
}

fn shape(problem: impl Into<String>, fix: impl Into<String>) -> SopsError {
    SopsError::Shape {
        problem: problem.into(),
        fix: fix.into(),
    }
}

fn comment_of(text: &str, placement: Placement) -> Comment {
    Comment {
        text: text.to_string(),
        inline: placement == Placement::Right,
    }
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span)> {
        let item = self
            .events
            .get(self.pos)
            .cloned()
            .ok_or_else(|| shape("the YAML stream ended inside a document", "complete the document"))?;
        self.pos += 1;
        Ok(item)
    }

    fn stream(&mut self) -> Result<Vec<Vec<Entry>>> {
        let mut docs: Vec<Vec<Entry>> = Vec::new();
        let mut loose = Vec::new();
        while self.pos < self.events.len() {
            let (event, _) = self.next()?;
            match event {
                Event::DocumentStart(..) => {
                    let mut doc = std::mem::take(&mut loose);
                    doc.extend(self.document()?);
                    docs.push(doc);
                }
                Event::Comment(text, placement) => loose.push(Entry::Comment(comment_of(&text, placement))),
                _ => {}
            }
        }
        if !loose.is_empty() {
            match docs.last_mut() {
                Some(last) => last.extend(loose),
                None => docs.push(loose),
            }
        }
        Ok(docs)
    }

    fn document(&mut self) -> Result<Vec<Entry>> {
        let mut entries = Vec::new();
        let mut root_seen = false;
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::DocumentEnd => return Ok(entries),
                Event::Comment(text, placement) => entries.push(Entry::Comment(comment_of(&text, placement))),
                Event::MappingStart(_, anchor, _) if !root_seen => {
                    root_seen = true;
                    let (value, bubbled) = self.mapping()?;
                    if anchor != 0 {
                        self.anchors.insert(anchor, value.clone());
                    }
                    if let Value::Map(map) = value {
                        entries.extend(map);
                    }
                    entries.extend(bubbled.into_iter().map(|p| Entry::Comment(p.comment)));
                }
                Event::Scalar(ref text, style, _, _)
                    if !root_seen && style == ScalarStyle::Plain && matches!(resolve_plain(text), Value::Null) =>
                {
                    root_seen = true;
                }
                Event::SequenceStart(..) => {
                    return Err(shape(
                        format!(
                            "line {}: a YAML document whose top level is a list is not supported (sops needs a map)",
                            span.start.line()
                        ),
                        "wrap the list in a key, e.g. `items: [...]`",
                    ));
                }
                _ => {
                    return Err(shape(
                        format!(
                            "line {}: a YAML document whose top level is a single value is not supported (sops needs a map)",
                            span.start.line()
                        ),
                        "make the document a map of keys to values",
                    ));
                }
            }
        }
    }

    /// A node; `owner_col` is the column of the key or `-` that holds it.
    fn node(&mut self, event: Event<'a>, span: Span, owner_col: usize) -> Result<(Value, Vec<Pending>)> {
        let (value, bubbled, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => (scalar(&text, style, tag.as_deref()), Vec::new(), anchor),
            Event::MappingStart(_, anchor, _) => {
                let (v, b) = self.mapping()?;
                (v, b, anchor)
            }
            Event::SequenceStart(_, anchor, _) => {
                let (v, b) = self.sequence(span.start.col(), owner_col)?;
                (v, b, anchor)
            }
            Event::Alias(id) => {
                let v = self.anchors.get(&id).cloned().ok_or_else(|| {
                    shape(
                        format!(
                            "line {}: an alias refers to an anchor that is not defined before it",
                            span.start.line()
                        ),
                        "define the anchor (`&name`) before its alias (`*name`)",
                    )
                })?;
                (v, Vec::new(), 0)
            }
            _ => {
                return Err(shape(
                    format!("line {}: unexpected YAML structure", span.start.line()),
                    "check the file with a YAML linter",
                ));
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        Ok((value, bubbled))
    }

    /// The next data event, with the comments met before it.
    fn data_event(&mut self) -> Result<(Vec<Comment>, Event<'a>, Span)> {
        let mut comments = Vec::new();
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::Comment(text, placement) => comments.push(comment_of(&text, placement)),
                other => return Ok((comments, other, span)),
            }
        }
    }

    fn mapping(&mut self) -> Result<(Value, Vec<Pending>)> {
        let mut entries = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        let mut col: Option<usize> = None;
        let mut seen = HashSet::new();
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::MappingEnd => break,
                Event::Comment(text, placement) => {
                    let comment = comment_of(&text, placement);
                    if comment.inline && pending.is_empty() && !entries.is_empty() {
                        entries.push(Entry::Comment(comment));
                    } else {
                        pending.push(Pending {
                            col: span.start.col(),
                            comment,
                        });
                    }
                }
                key_event => {
                    let key = key_text(key_event, span)?;
                    col.get_or_insert(span.start.col());
                    entries.extend(pending.drain(..).map(|p| Entry::Comment(p.comment)));
                    let (between, event, vspan) = self.data_event()?;
                    // Own-line comments between a key and its block collection head
                    // that collection (go-yaml makes them its first key's head comment).
                    let collection = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
                    let (inside, before): (Vec<Comment>, Vec<Comment>) =
                        between.into_iter().partition(|c| collection && !c.inline);
                    entries.extend(before.into_iter().map(Entry::Comment));
                    let (mut value, bubbled) = self.node(event, vspan, span.start.col())?;
                    prepend_comments(&mut value, inside);
                    if !seen.insert(key.clone()) {
                        return Err(shape(
                            format!("line {}: the key `{key}` appears twice in one map", span.start.line()),
                            "remove or rename one of them",
                        ));
                    }
                    entries.push(Entry::Pair(key, value));
                    pending.extend(bubbled);
                }
            }
        }
        Ok(settle(entries, pending, col, Entry::Comment, Value::Map))
    }

    fn sequence(&mut self, start_col: usize, owner_col: usize) -> Result<(Value, Vec<Pending>)> {
        let mut items = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::SequenceEnd => break,
                Event::Comment(text, placement) => {
                    let comment = comment_of(&text, placement);
                    if comment.inline && pending.is_empty() && !items.is_empty() {
                        items.push(ListItem::Comment(comment));
                    } else {
                        pending.push(Pending {
                            col: span.start.col(),
                            comment,
                        });
                    }
                }
                item_event => {
                    items.extend(pending.drain(..).map(|p| ListItem::Comment(p.comment)));
                    let (value, bubbled) = self.node(item_event, span, start_col)?;
                    items.push(ListItem::Value(value));
                    pending.extend(bubbled);
                }
            }
        }
        // A comment at the `-` column of a list not indented under its key belongs to
        // the key's map, as go-yaml reads it.
        let col = if start_col > owner_col {
            start_col
        } else {
            owner_col + 1
        };
        Ok(settle(items, pending, Some(col), ListItem::Comment, Value::List))
    }
}

fn prepend_comments(value: &mut Value, comments: Vec<Comment>) {
    if comments.is_empty() {
        return;
    }
    match value {
        Value::Map(entries) => {
            entries.splice(0..0, comments.into_iter().map(Entry::Comment));
        }
        Value::List(items) => {
            items.splice(0..0, comments.into_iter().map(ListItem::Comment));
        }
        _ => {}
    }
}

/// Comments left at a collection's end stay in it when indented at least as deep as
/// its entries, and move to the enclosing collection otherwise.
fn settle<T>(
    mut items: Vec<T>,
    pending: Vec<Pending>,
    col: Option<usize>,
    wrap: fn(Comment) -> T,
    build: fn(Vec<T>) -> Value,
) -> (Value, Vec<Pending>) {
    let mut bubbled = Vec::new();
    for p in pending {
        if col.is_none_or(|c| p.col >= c) && bubbled.is_empty() {
            items.push(wrap(p.comment));
        } else {
            bubbled.push(p);
        }
    }
    (build(items), bubbled)
}

fn key_text(event: Event<'_>, span: Span) -> Result<String> {
    let line = span.start.line();
    match event {
        Event::Scalar(text, style, _, tag) => match scalar(&text, style, tag.as_deref()) {
            Value::Str(s) => Ok(s),
            other => Err(shape(
                format!(
                    "line {line}: the key `{text}` is a {}, and sops supports string keys only",
                    other.kind()
                ),
                format!("quote it: \"{text}\""),
            )),
        },
        _ => Err(shape(
            format!("line {line}: a map key is a map or a list, and sops supports string keys only"),
            "use a plain string key",
        )),
    }
}

fn scalar(text: &str, style: ScalarStyle, tag: Option<&granit_parser::Tag>) -> Value {
    if let Some(tag) = tag {
        if tag.is_yaml_core_schema() {
            return match tag.suffix() {
                "str" => Value::Str(text.to_string()),
                "binary" => {
                    use base64::Engine as _;
                    let compact: String = text.split_whitespace().collect();
                    match base64::engine::general_purpose::STANDARD.decode(compact) {
                        Ok(bytes) => Value::Str(String::from_utf8_lossy(&bytes).into_owned()),
                        Err(_) => Value::Str(text.to_string()),
                    }
                }
                _ => resolve_plain(text),
            };
        }
        return Value::Str(text.to_string());
    }
    if style == ScalarStyle::Plain {
        resolve_plain(text)
    } else {
        Value::Str(text.to_string())
    }
}

/// Writes documents as a YAML stream.
pub fn emit(docs: &[Vec<Entry>]) -> String {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        if doc.iter().all(|e| matches!(e, Entry::Comment(_))) {
            out.push_str("{}\n");
        }
        emit_entries(&mut out, doc, 0, 0);
    }
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Writes entries at `indent`; their nested content goes at `base` + 4 (`base` is
/// the `-` column for a map in a list, as go-yaml indents it).
fn emit_entries(out: &mut String, entries: &[Entry], indent: usize, base: usize) {
    let mut i = 0;
    while i < entries.len() {
        match &entries[i] {
            Entry::Comment(c) => {
                pad(out, indent);
                out.push('#');
                out.push_str(&c.text);
                out.push('\n');
            }
            Entry::Pair(key, value) => {
                pad(out, indent);
                out.push_str(&key_scalar(key));
                out.push(':');
                let inline = match entries.get(i + 1) {
                    Some(Entry::Comment(c)) if c.inline => Some(c),
                    _ => None,
                };
                if emit_after_indicator(out, value, base, inline) {
                    i += 1;
                }
            }
        }
        i += 1;
    }
}

fn emit_list(out: &mut String, items: &[ListItem], indent: usize) {
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            ListItem::Comment(c) => {
                pad(out, indent);
                out.push('#');
                out.push_str(&c.text);
                out.push('\n');
            }
            ListItem::Value(value) => {
                let inline = match items.get(i + 1) {
                    Some(ListItem::Comment(c)) if c.inline => Some(c),
                    _ => None,
                };
                match value {
                    Value::Map(entries) if matches!(entries.first(), Some(Entry::Pair(..))) => {
                        let mut nested = String::new();
                        emit_entries(&mut nested, entries, indent + 2, indent);
                        pad(out, indent);
                        out.push_str("- ");
                        out.push_str(&nested[indent + 2..]);
                    }
                    _ => {
                        pad(out, indent);
                        out.push('-');
                        if emit_after_indicator(out, value, indent, inline) {
                            i += 1;
                        }
                    }
                }
            }
        }
        i += 1;
    }
}

/// Writes a value after `key:` or `-`; returns whether it used the inline comment.
fn emit_after_indicator(out: &mut String, value: &Value, indent: usize, inline: Option<&Comment>) -> bool {
    let has_data = |entries: &[Entry]| entries.iter().any(|e| matches!(e, Entry::Pair(..)));
    match value {
        Value::Map(entries) if has_data(entries) => {
            out.push('\n');
            emit_entries(out, entries, indent + INDENT, indent + INDENT);
            false
        }
        Value::List(items) if !items.is_empty() => {
            out.push('\n');
            emit_list(out, items, indent + INDENT);
            false
        }
        Value::Map(entries) => {
            out.push_str(" {}\n");
            emit_entries(out, entries, indent + INDENT, indent + INDENT);
            false
        }
        Value::List(_) => {
            out.push_str(" []\n");
            false
        }
        Value::Str(s) if literal_block_fits(s) => {
            let chomp = if !s.ends_with('\n') {
                "-"
            } else if s.ends_with("\n\n") {
                "+"
            } else {
                ""
            };
            out.push_str(" |");
            out.push_str(chomp);
            out.push('\n');
            let body = s.strip_suffix('\n').unwrap_or(s);
            for line in body.split('\n') {
                if !line.is_empty() {
                    pad(out, indent + INDENT);
                    out.push_str(line);
                }
                out.push('\n');
            }
            false
        }
        scalar_value => {
            out.push(' ');
            out.push_str(&scalar_text(scalar_value));
            match inline {
                Some(c) => {
                    out.push_str(" #");
                    out.push_str(&c.text);
                    out.push('\n');
                    true
                }
                None => {
                    out.push('\n');
                    false
                }
            }
        }
    }
}

fn literal_block_fits(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with(['\n', ' ', '\t'])
        && !s
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{feff}' || c == '\u{85}')
        && !s.split('\n').any(|l| !l.is_empty() && l.trim().is_empty())
}

/// One value as YAML text: a map or list as a block, a scalar on its line.
pub fn emit_value(value: &Value) -> String {
    match value {
        Value::Map(entries) => {
            let mut out = String::new();
            emit_entries(&mut out, entries, 0, 0);
            if out.is_empty() { "{}\n".into() } else { out }
        }
        Value::List(items) if !items.is_empty() => {
            let mut out = String::new();
            emit_list(&mut out, items, 0);
            out
        }
        Value::List(_) => "[]\n".into(),
        scalar => format!("{}\n", scalar_text(scalar)),
    }
}

/// A scalar value in YAML notation (strings quoted when they must be).
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => yaml_float(*f),
        Value::Time(t) => t.clone(),
        Value::Str(s) => string_scalar(s),
        Value::Map(_) | Value::List(_) => String::new(),
    }
}

fn key_scalar(key: &str) -> String {
    if key == "<<" {
        key.to_string()
    } else {
        string_scalar(key)
    }
}

fn string_scalar(s: &str) -> String {
    if !needs_quotes(s) {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str) -> String {
        emit(&parse(text).expect("parses"))
    }

    #[test]
    fn keys_order_types_and_comments_survive_a_round_trip() {
        let text = "# top\nb: 1 # right\na:\n    # head of c\n    c: x\n    d:\n        - 1\n        # in list\n        - true\n        - k: v\n          l: 2.5\n# foot\n";
        assert_eq!(roundtrip(text), text);
        let docs = parse(text).expect("parses");
        let Entry::Pair(k, Value::Int(1)) = &docs[0][1] else {
            panic!("{:?}", docs[0])
        };
        assert_eq!(k, "b");
    }

    #[test]
    fn a_comment_ending_a_nested_map_at_a_lower_indent_belongs_to_the_outer_map() {
        let docs = parse("a:\n  b: 1\n# outer\nc: 2\n").expect("parses");
        assert!(
            matches!(&docs[0][1], Entry::Comment(c) if c.text == " outer"),
            "{:?}",
            docs[0]
        );
        let docs = parse("a:\n  b: 1\n  # inner\nc: 2\n").expect("parses");
        let Entry::Pair(_, Value::Map(inner)) = &docs[0][0] else {
            panic!()
        };
        assert!(
            matches!(&inner[1], Entry::Comment(c) if c.text == " inner"),
            "{inner:?}"
        );
    }

    #[test]
    fn comments_ending_a_map_after_a_nested_collection_go_where_go_yaml_puts_them() {
        // Followed by more content: into the deepest last collection (as sops reads it).
        let docs = parse("a:\n  b:\n    c: 1\n  # end of a\nd: 2\n").expect("parses");
        assert_eq!(emit(&docs), "a:\n    b:\n        c: 1\n        # end of a\nd: 2\n");
        let docs = parse("a:\n  l:\n    - 1\n  # end of a\nd: 2\n").expect("parses");
        assert_eq!(emit(&docs), "a:\n    l:\n        - 1\n        # end of a\nd: 2\n");
        let docs = parse("l:\n  - x: 1\n  # end of list\nd: 2\n").expect("parses");
        assert_eq!(emit(&docs), "l:\n    - x: 1\n      # end of list\nd: 2\n");
        let docs = parse("l:\n- 1\n# head of d\nd: 2\n").expect("parses");
        assert_eq!(emit(&docs), "l:\n    - 1\n# head of d\nd: 2\n");
        // At the end of the document too: the encrypted file ends with the `sops` key.
        let docs = parse("a:\n  b:\n    c: 1\n  # end of a\n").expect("parses");
        assert_eq!(emit(&docs), "a:\n    b:\n        c: 1\n        # end of a\n");
        // After a scalar, and at the root: where it is.
        for text in [
            "a:\n    b: 1\n    # end of a\nd: 2\n",
            "a:\n    b:\n        c: 1\n# root\n",
        ] {
            assert_eq!(emit(&parse(text).expect("parses")), text);
        }
    }

    #[test]
    fn strings_that_look_like_other_types_stay_strings() {
        let docs = parse("a: '123'\nb: \"true\"\nc: 'on'\nd: |\n  line1\n  line2\n").expect("parses");
        let out = emit(&docs);
        assert_eq!(parse(&out).expect("reparses"), docs, "{out}");
        assert!(
            out.contains("a: \"123\"") && out.contains("c: \"on\"") && out.contains("d: |\n"),
            "{out}"
        );
    }

    #[test]
    fn multi_document_streams_and_aliases() {
        let docs = parse("a: &x {k: 1}\nb: *x\n---\nc: 3\n").expect("parses");
        assert_eq!(docs.len(), 2);
        assert_eq!(crate::tree::map_get(&docs[0], "b"), crate::tree::map_get(&docs[0], "a"));
        assert_eq!(emit(&docs), "a:\n    k: 1\nb:\n    k: 1\n---\nc: 3\n");
    }

    #[test]
    fn unsupported_shapes_are_refused_clearly() {
        let err = parse("- a\n- b\n").expect_err("a list root");
        assert!(err.to_string().contains("top level is a list"), "{err}");
        let err = parse("1: a\n").expect_err("an int key");
        assert!(err.to_string().contains("string keys only"), "{err}");
        let err = parse("a: 1\na: 2\n").expect_err("a duplicate");
        assert!(err.to_string().contains("appears twice"), "{err}");
        let err = parse("a: [\n").expect_err("bad syntax");
        assert!(matches!(err, SopsError::Syntax { .. }), "{err}");
    }

    #[test]
    fn awkward_strings_read_back_unchanged() {
        for s in [
            "",
            " x",
            "a\n",
            "a\n\n",
            "a\nb",
            "\nlead",
            "tab\there",
            "quote's",
            "back\\slash \"q\"",
            "x\u{7}y",
            "  \n",
        ] {
            let docs = vec![vec![Entry::Pair("k".into(), Value::Str(s.into()))]];
            let out = emit(&docs);
            assert_eq!(parse(&out).expect("reparses"), docs, "{s:?} -> {out}");
        }
    }
}
