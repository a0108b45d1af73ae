//! Fuzz target: the located YAML parser alone. It must answer any text with a
//! tree or a located error, never a panic, and every node it returns must point
//! inside the text.

use windlass_core::source::{Node, Value, parse_yaml};

fn check(node: &Node, len: usize) {
    assert!(
        node.loc.offset <= len,
        "node offset {} past the end ({len})",
        node.loc.offset
    );
    assert!(node.loc.line >= 1 && node.loc.column >= 1, "node at {}", node.loc);
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|n| check(n, len)),
        Value::Map(entries) => entries.iter().for_each(|(_, n)| check(n, len)),
        _ => {}
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        // Broken bytes become U+FFFD: the parser only ever sees text.
        let text = String::from_utf8_lossy(data);
        let text = text.as_ref();
        match parse_yaml(text) {
            Ok(root) => check(&root, text.len()),
            Err(d) => {
                assert!(!d.message.is_empty(), "empty parse error");
                assert!(d.loc.is_some(), "parse error without a position: {}", d.message);
            }
        }
    });
}
