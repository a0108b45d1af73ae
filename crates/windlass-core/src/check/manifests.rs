//! Kubernetes manifests as text (multi-document YAML, JSON, `List` kinds) read
//! into objects that remember where every field was written, so a finding is
//! reported at file:line:col. Pure: the caller reads the files.

use serde_json::{Map, Number, Value as Json};

use crate::diagnostics::{Diagnostic, SpecError};
use crate::render::Object;
use crate::source::{FieldPath, Limits, Loc, Node, Value, parse_yaml_with};

/// Manifests nest deeper than a spec (CRD schemas); anything deeper is not a
/// Kubernetes object.
const LIMITS_DEPTH: usize = 96;

/// One object read from a file: the object, and which document (and `List`
/// item) of the file it is, so a [`Locator`] can find its fields' positions
/// again. Only objects with findings are ever located: the located trees are
/// several times the size of the objects, and are not kept.
#[derive(Debug, Clone)]
pub struct Located {
    pub object: Object,
    /// The document's index among the file's documents.
    pub doc: usize,
    /// The item's index when the document is a `List`.
    pub item: Option<usize>,
}

/// Positions of fields in one file's objects, parsing each document again on
/// first use.
pub struct Locator {
    docs: Vec<(u32, usize, String)>,
    parsed: std::collections::HashMap<usize, Option<Node>>,
}

impl Locator {
    pub fn new(text: &str) -> Locator {
        Locator {
            docs: documents(text),
            parsed: std::collections::HashMap::new(),
        }
    }

    /// Where a field of the object was written; a field that is absent is
    /// reported at its nearest written parent (line 0 if the file changed).
    pub fn locate(&mut self, object: &Located, path: &FieldPath) -> Loc {
        let docs = &self.docs;
        let node = self.parsed.entry(object.doc).or_insert_with(|| {
            let (line, offset, text) = docs.get(object.doc)?;
            let mut node = parse_yaml_with(text, limits(text)).ok()?;
            shift(&mut node, line - 1, *offset);
            Some(node)
        });
        let Some(node) = node.as_ref() else {
            return Loc::default();
        };
        let node = match (object.item, node.get("items")) {
            (
                Some(i),
                Some(Node {
                    value: Value::Seq(items),
                    ..
                }),
            ) => match items.get(i) {
                Some(n) => n,
                None => return Loc::default(),
            },
            _ => node,
        };
        node.locate(path)
    }
}

fn limits(text: &str) -> Limits {
    Limits {
        depth: LIMITS_DEPTH,
        // Every value takes at least a byte, so only aliases could exceed this.
        nodes: text.len() + 1024,
    }
}

/// The documents of a YAML stream: `(first line, byte offset, text)`, the
/// `---` marker blanked so the content keeps its columns.
fn documents(text: &str) -> Vec<(u32, usize, String)> {
    let mut out = Vec::new();
    let mut start_line = 1u32;
    let mut start_offset = 0usize;
    let mut current = String::new();
    let mut offset = 0usize;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let bare = line.trim_end_matches(['\n', '\r']);
        let marker = bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t");
        let end = bare == "..." || bare.starts_with("... ");
        if marker || end {
            out.push((start_line, start_offset, std::mem::take(&mut current)));
            start_line = line_no;
            start_offset = offset;
            if marker {
                current.push_str(&" ".repeat(3));
                current.push_str(&line[3..]);
            } else {
                current.push('\n');
            }
        } else {
            current.push_str(line);
        }
        offset += line.len();
    }
    out.push((start_line, start_offset, current));
    out
}

fn shift(node: &mut Node, lines: u32, offset: usize) {
    node.loc.line += lines;
    node.loc.offset += offset;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| shift(n, lines, offset)),
        Value::Map(entries) => {
            for (k, v) in entries {
                k.loc.line += lines;
                k.loc.offset += offset;
                shift(v, lines, offset);
            }
        }
        _ => {}
    }
}

/// A located tree as JSON, the form rules read.
pub fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number((*i).into()),
        Value::UInt(u) => Json::Number((*u).into()),
        Value::Float(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s.clone()),
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (k.name.clone(), to_json(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}

/// The object without the payloads no rule reads (ConfigMap and Secret data,
/// alerting rules, CRD schemas): a rendered platform is mostly dashboards and
/// schemas, and the objects are kept until the report is written.
fn for_rules(mut v: Json) -> Json {
    let kind = v.get("kind").and_then(Json::as_str).unwrap_or("").to_string();
    let Some(o) = v.as_object_mut() else { return v };
    match kind.as_str() {
        "ConfigMap" | "Secret" => {
            for k in ["data", "binaryData", "stringData"] {
                o.remove(k);
            }
        }
        "PrometheusRule" => {
            o.remove("spec");
        }
        "CustomResourceDefinition" => {
            if let Some(versions) = o
                .get_mut("spec")
                .and_then(|s| s.get_mut("versions"))
                .and_then(Json::as_array_mut)
            {
                for version in versions.iter_mut().filter_map(Json::as_object_mut) {
                    version.remove("schema");
                }
            }
        }
        _ => {}
    }
    v
}

/// Reads every object of one file. Empty documents are skipped; a `List`'s
/// items are objects of their own. `file` names the input in errors.
pub fn parse(file: &str, text: &str) -> Result<Vec<Located>, SpecError> {
    parse_with(file, text, true).map(|(objects, _)| objects)
}

/// [`parse`], or with `strict` false (files found by walking a directory, where
/// values files and other YAML sit beside the manifests): documents that are
/// not Kubernetes objects are skipped and counted instead of refused.
pub fn parse_with(file: &str, text: &str, strict: bool) -> Result<(Vec<Located>, usize), SpecError> {
    let mut skipped = 0;
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    for (index, (line, offset, doc)) in documents(text).into_iter().enumerate() {
        let mut node = match parse_yaml_with(&doc, limits(&doc)) {
            Ok(n) => n,
            Err(mut d) => {
                if let Some(l) = &mut d.loc {
                    l.line += line - 1;
                    l.offset += offset;
                }
                diagnostics.push(d);
                continue;
            }
        };
        shift(&mut node, line - 1, offset);
        match &node.value {
            Value::Null => continue,
            Value::Map(_) => {}
            _ if !strict => {
                skipped += 1;
                continue;
            }
            other => {
                diagnostics.push(
                    Diagnostic::new(
                        FieldPath::root(),
                        format!("this document is {}, not a Kubernetes object", other.kind()),
                    )
                    .help("each document must be a mapping with apiVersion, kind and metadata")
                    .at(node.loc),
                );
                continue;
            }
        }
        let is_list = node
            .get("kind")
            .and_then(|k| match &k.value {
                Value::Str(s) => Some(s.ends_with("List")),
                _ => None,
            })
            .unwrap_or(false)
            && node.get("items").is_some();
        let items: Vec<(Option<usize>, &Node)> = match (is_list, node.get("items").map(|n| &n.value)) {
            (true, Some(Value::Seq(items))) => items.iter().enumerate().map(|(i, n)| (Some(i), n)).collect(),
            (true, _) => Vec::new(),
            (false, _) => vec![(None, &node)],
        };
        for (item_index, item) in items {
            let kind_ok = matches!(item.get("kind").map(|k| &k.value), Some(Value::Str(s)) if !s.is_empty());
            let api_ok = matches!(item.get("apiVersion").map(|k| &k.value), Some(Value::Str(s)) if !s.is_empty());
            if !(kind_ok && api_ok) {
                if !strict {
                    skipped += 1;
                    continue;
                }
                let missing = if kind_ok { "apiVersion" } else { "kind" };
                diagnostics.push(
                    Diagnostic::new(
                        FieldPath::root(),
                        format!("this document has no `{missing}`: it is not a Kubernetes object"),
                    )
                    .help("check only Kubernetes manifests (helm template, kustomize build and kubectl output all are)")
                    .at(item.loc),
                );
                continue;
            }
            out.push(Located {
                object: Object(for_rules(to_json(item))),
                doc: index,
                item: item_index,
            });
        }
    }
    if diagnostics.is_empty() {
        Ok((out, skipped))
    } else {
        Err(SpecError {
            file: file.to_string(),
            source_text: text.to_string(),
            diagnostics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_objects_across_documents_and_lists() {
        let text = "# Source: chart/templates/a.yaml\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\n\n--- {\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"b\"}}]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: c\nspec:\n  replicas: 2\n...\n";
        let objects = parse("f.yaml", text).expect("valid");
        let ids: Vec<String> = objects.iter().map(|o| o.object.id()).collect();
        assert_eq!(ids.len(), 3, "{ids:?}");
        let mut at = Locator::new(text);
        assert_eq!(at.locate(&objects[0], &FieldPath::parse("metadata.name")).line, 6);
        let cm = at.locate(&objects[1], &FieldPath::parse("metadata.name"));
        assert_eq!((cm.line, cm.column), (9, 115));
        let r = at.locate(&objects[2], &FieldPath::parse("spec.replicas"));
        assert_eq!((r.line, r.column), (16, 13));
        assert_eq!(objects[2].object.at(&["spec", "replicas"]), Some(&Json::from(2)));
        // Absent fields are reported at their nearest parent.
        assert_eq!(at.locate(&objects[2], &FieldPath::parse("spec.template.spec")).line, 16);
    }

    #[test]
    fn what_is_not_an_object_is_an_error_at_its_line() {
        let e = parse(
            "f.yaml",
            "apiVersion: v1\nkind: ConfigMap\n---\n- a\n---\nreplicas: 3\n---\nkind: [\n",
        )
        .expect_err("must fail");
        let text = e.to_string();
        assert!(text.contains("f.yaml:4:1: this document is a list"), "{text}");
        assert!(text.contains("f.yaml:6:1: this document has no `kind`"), "{text}");
        assert!(text.contains("f.yaml:8:"), "{text}");
    }
}
