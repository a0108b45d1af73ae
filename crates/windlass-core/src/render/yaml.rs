//! Deterministic YAML for rendered objects. Objects are serialised on all
//! cores (each document is independent); the output order never changes.

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
