//! Deterministic YAML for rendered objects.

use super::object::Object;

/// One object as a YAML document (no leading `---`), ending in a newline.
pub fn to_yaml(object: &Object) -> String {
    let mut out = match serde_saphyr::to_string(&object.0) {
        Ok(s) => s,
        Err(e) => panic!("windlass bug: a rendered object failed to serialise as YAML: {e}"),
    };
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Several objects as one multi-document stream.
pub fn to_yaml_stream<'a>(objects: impl IntoIterator<Item = &'a Object>) -> String {
    let mut out = String::new();
    for o in objects {
        out.push_str("---\n");
        out.push_str(&to_yaml(o));
    }
    out
}
