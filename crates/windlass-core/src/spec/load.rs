//! From source text to one typed, validated `PlatformFile` per environment.

use indexmap::IndexMap;

use super::types::{EnvironmentOverlay, PlatformFile};
use super::validate::validate;
use crate::diagnostics::{Diagnostic, SpecError, cap_repeats, did_you_mean};
use crate::source::{FieldPath, Loc, Node, Value, from_node, parse_yaml};

/// The largest spec windlass reads (4 MiB); a larger file is refused before parsing.
/// Readers need take at most one byte more than this to know a file is too large.
pub const MAX_SPEC_BYTES: usize = 4 * 1024 * 1024;

/// The environment name used when a spec declares no `environments`.
pub const IMPLICIT_ENVIRONMENT: &str = "default";

/// A spec whose every environment parsed and validated.
#[derive(Debug, Clone)]
pub struct Spec {
    pub file: String,
    /// The text read, for locating errors found after loading (`error_at`).
    pub text: std::sync::Arc<str>,
    pub default_environment: String,
    /// The merged, typed spec of each environment, in file order.
    pub environments: IndexMap<String, PlatformFile>,
}

impl Spec {
    /// The platform for `--env NAME`, or the default environment.
    pub fn environment(&self, name: Option<&str>) -> Result<(&str, &PlatformFile), SpecError> {
        let name = name.unwrap_or(&self.default_environment);
        match self.environments.get_key_value(name) {
            Some((k, v)) => Ok((k.as_str(), v)),
            None => {
                let known: Vec<&str> = self.environments.keys().map(String::as_str).collect();
                let help = match did_you_mean(name, known.iter().copied()) {
                    Some(s) => format!("did you mean `--env {s}`?"),
                    None => format!("use one of: {}", known.join(", ")),
                };
                Err(SpecError {
                    file: self.file.clone(),
                    source_text: String::new(),
                    diagnostics: vec![
                        Diagnostic::new(
                            FieldPath::root().key("environments"),
                            format!("no environment named `{name}`"),
                        )
                        .help(help),
                    ],
                })
            }
        }
    }
}

impl Spec {
    /// Errors found after loading (a reference the secrets file does not hold),
    /// located where environment `env` takes each path from: its overlay, else the base.
    pub fn error_at(&self, env: &str, found: Vec<(FieldPath, String, String)>) -> SpecError {
        let merged = parse_yaml(&self.text).ok().map(|root| {
            let overlay = root.get("environments").and_then(|e| e.get(env)).cloned();
            let mut base = root;
            if let Value::Map(entries) = &mut base.value {
                entries.retain(|(k, _)| k.name != "environments");
            }
            if let Some(o) = overlay {
                base.merge(&o);
            }
            base
        });
        let diagnostics = found
            .into_iter()
            .map(|(path, message, help)| {
                let d = Diagnostic::new(path.clone(), message).help(help);
                match &merged {
                    Some(node) => d.at(node.locate(&path)),
                    None => d,
                }
            })
            .collect();
        SpecError {
            file: self.file.clone(),
            source_text: self.text.to_string(),
            diagnostics: cap_repeats(diagnostics),
        }
    }
}

/// Checks raw file content (size, binary, UTF-8) and then loads it as `load` does.
/// `bytes` may be cut short after `MAX_SPEC_BYTES + 1` bytes: anything longer is refused.
pub fn load_bytes(file: &str, bytes: &[u8]) -> Result<Spec, SpecError> {
    let fail = |d: Diagnostic| SpecError {
        file: file.to_string(),
        source_text: String::new(),
        diagnostics: vec![d],
    };
    if bytes.len() > MAX_SPEC_BYTES {
        return Err(fail(
            Diagnostic::new(
                FieldPath::root(),
                format!(
                    "the file is larger than {} MiB, the limit for a spec",
                    MAX_SPEC_BYTES >> 20
                ),
            )
            .help("check that `-f` names the spec; split a platform this large into several specs"),
        ));
    }
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(fail(
            Diagnostic::new(
                FieldPath::root(),
                format!("the file is binary, not a YAML spec: it has a NUL byte at byte offset {at}"),
            )
            .at(loc_of(bytes, at))
            .help("check that `-f` names the spec (a text file such as windlass.yaml)"),
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => load(file, text),
        Err(e) => {
            let at = e.valid_up_to();
            Err(fail(
                Diagnostic::new(
                    FieldPath::root(),
                    format!(
                        "the file is not UTF-8 text: byte 0x{:02x} at byte offset {at} is not valid UTF-8",
                        bytes[at]
                    ),
                )
                .at(loc_of(bytes, at))
                .help("save the spec as UTF-8"),
            ))
        }
    }
}

/// The line and column of byte `at`, counting characters of the valid UTF-8 before it.
fn loc_of(bytes: &[u8], at: usize) -> Loc {
    let before = String::from_utf8_lossy(&bytes[..at]);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Loc {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
        offset: at,
    }
}

/// Parses and validates `text` (read from `file`). All environments are checked,
/// so a broken production overlay is caught while rendering development.
pub fn load(file: &str, text: &str) -> Result<Spec, SpecError> {
    let fail = |diagnostics: Vec<Diagnostic>| SpecError {
        file: file.to_string(),
        source_text: text.to_string(),
        diagnostics,
    };
    let root = parse_yaml(text).map_err(|d| fail(vec![d]))?;
    let root_loc = root.loc;
    let mut entries = match root.value {
        Value::Map(entries) => entries,
        other => {
            return Err(fail(vec![
                Diagnostic::new(
                    FieldPath::root(),
                    format!(
                        "expected a mapping with `apiVersion`, `kind`, `platform` and `apps`, found {}",
                        other.kind()
                    ),
                )
                .at(root_loc)
                .help("start from `windlass init`, which writes a commented example"),
            ]));
        }
    };

    // The base is everything but `environments`; each overlay is merged into a copy of it
    // (the last one into the base itself: a 10,000-app spec is not held twice).
    let env_node = entries
        .iter()
        .position(|(k, _)| k.name == "environments")
        .map(|i| entries.remove(i).1);
    let env_node = env_node.as_ref();
    let mut base = Node {
        value: Value::Map(entries),
        loc: root_loc,
    };
    let env_path = FieldPath::root().key("environments");
    let overlays: Vec<(String, Option<&Node>)> = match env_node.map(|n| &n.value) {
        None | Some(Value::Null) => vec![(IMPLICIT_ENVIRONMENT.to_string(), None)],
        Some(Value::Map(envs)) if !envs.is_empty() => {
            let mut diags = Vec::new();
            for (k, v) in envs {
                let path = env_path.key(&k.name);
                if let Err(d) = from_node::<EnvironmentOverlay>(v, &path) {
                    diags.extend(d);
                }
                if !super::names::is_dns1123_label(&k.name) {
                    diags.push(
                        Diagnostic::new(path, format!("environment name `{}` is not a DNS-1123 label", k.name))
                            .at(k.loc)
                            .help("use lowercase letters, digits and `-`, e.g. `production`"),
                    );
                }
            }
            if !diags.is_empty() {
                return Err(fail(cap_repeats(diags)));
            }
            envs.iter().map(|(k, v)| (k.name.clone(), Some(v))).collect()
        }
        Some(_) => {
            let n = env_node.map_or(root_loc, |n| n.loc);
            return Err(fail(vec![
                Diagnostic::new(env_path, "expected a mapping of environment name to overlay")
                    .at(n)
                    .help("write e.g. `environments: {development: {}, production: {apps: {...}}}`"),
            ]));
        }
    };

    let mut environments = IndexMap::new();
    // Errors are keyed by (place, message) so a mistake in the base is reported once, not once per environment.
    let mut diagnostics: Vec<(Diagnostic, Vec<String>)> = Vec::new();
    let mut index: std::collections::HashMap<(Option<usize>, String, String), usize> = std::collections::HashMap::new();
    for (i, (name, overlay)) in overlays.iter().enumerate() {
        let mut merged = if i + 1 == overlays.len() {
            std::mem::replace(
                &mut base,
                Node {
                    value: Value::Null,
                    loc: root_loc,
                },
            )
        } else {
            base.clone()
        };
        if let Some(o) = overlay {
            merged.merge(o);
        }
        let result = from_node::<PlatformFile>(&merged, &FieldPath::root()).and_then(|typed| {
            let diags = validate(&typed, &merged, &overlays);
            if diags.is_empty() { Ok(typed) } else { Err(diags) }
        });
        match result {
            Ok(typed) => {
                environments.insert(name.clone(), typed);
            }
            Err(diags) => {
                for d in diags {
                    let key = (d.loc.map(|l| l.offset), d.path.to_string(), d.message.clone());
                    match index.get(&key) {
                        Some(&i) => diagnostics[i].1.push(name.clone()),
                        None => {
                            index.insert(key, diagnostics.len());
                            diagnostics.push((d, vec![name.clone()]));
                        }
                    }
                }
            }
        }
    }
    if !diagnostics.is_empty() {
        let all = overlays.len();
        let list = diagnostics
            .into_iter()
            .map(|(mut d, envs)| {
                if envs.len() < all && overlays.len() > 1 {
                    d.message = format!("{} (environment {})", d.message, envs.join(", "));
                }
                d
            })
            .collect();
        return Err(fail(cap_repeats(list)));
    }

    let default_environment = match environments.values().next().and_then(|p| p.default_environment.clone()) {
        Some(d) => d,
        None => overlays[0].0.clone(),
    };
    Ok(Spec {
        file: file.to_string(),
        text: std::sync::Arc::from(text),
        default_environment,
        environments,
    })
}

#[cfg(test)]
mod tests {
    //! Each class of input the parser or the reader refuses, with the complete message.

    use super::*;

    fn report(bytes: &[u8]) -> String {
        match load_bytes("w.yaml", bytes) {
            Ok(_) => "ok".to_string(),
            Err(e) => e.to_string(),
        }
    }

    const HEAD: &str = "apiVersion: windlass.dev/v1alpha1\nkind: Platform\n";

    #[test]
    fn every_class_of_unreadable_input_in_plain_words() {
        let deep = format!("{HEAD}platform: {}{}\n", "[".repeat(70), "]".repeat(70));
        let many = format!("{HEAD}apps: [{}]\n", vec!["1"; crate::source::MAX_NODES + 1].join(","));
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "duplicate key",
                format!("{HEAD}kind: Platform\n").into_bytes(),
                "w.yaml:3:1: duplicate key `kind`\n  help: a mapping holds each key once: remove one `kind`, or merge the two",
            ),
            (
                "two documents",
                format!("{HEAD}---\nkind: Platform\n").into_bytes(),
                "w.yaml:4:1: the file has more than one YAML document (a `---` line starts another); a windlass spec is one document\n  help: remove the `---` line and what follows it, or merge the documents into one",
            ),
            (
                "too deep",
                deep.into_bytes(),
                "w.yaml:3:42: the spec is nested too deeply (more than 32 levels of lists and mappings)\n  help: a windlass spec needs fewer than 10 levels: check the indentation here",
            ),
            (
                "too many values",
                many.into_bytes(),
                "w.yaml:3:2097146: the spec is too large: more than 1048576 values\n  help: a spec this large is not needed: split the platform into several specs",
            ),
            (
                "recursive alias",
                format!("{HEAD}platform: &p [*p]\n").into_bytes(),
                "w.yaml:3:15: a YAML alias (`*name`) refers to the anchor (`&name`) that contains it, so the value would never end\n  help: remove the alias from inside its own anchor",
            ),
            (
                "unknown anchor",
                format!("{HEAD}platform: *p\n").into_bytes(),
                "w.yaml:3:11: a YAML alias (`*name`) refers to an anchor that is not defined above it\n  help: define the anchor (`&name`) before the alias, or write the value out",
            ),
            (
                "syntax",
                format!("{HEAD}platform: [a\n").into_bytes(),
                "w.yaml:3:11: invalid YAML: unclosed bracket '['\n  help: fix the YAML syntax at this position (indentation, quotes, brackets)",
            ),
            (
                "not a mapping",
                b"- a\n- b\n".to_vec(),
                "w.yaml:1:1: expected a mapping with `apiVersion`, `kind`, `platform` and `apps`, found a list\n  help: start from `windlass init`, which writes a commented example",
            ),
            (
                "list for a struct",
                format!("{HEAD}platform: [demo, example.com]\n").into_bytes(),
                "w.yaml:3:11: platform: expected a mapping of platform settings, found a list\n  help: write `field: value` pairs here, with fields from: name, domain, email, tls, traffic, namespace, monitoring, components, charts, vault, secrets",
            ),
            (
                "binary",
                b"kind: x\n\x00".to_vec(),
                "w.yaml:2:1: the file is binary, not a YAML spec: it has a NUL byte at byte offset 8\n  help: check that `-f` names the spec (a text file such as windlass.yaml)",
            ),
            (
                "non-UTF-8",
                b"kind: x\n  caf\xe9\n".to_vec(),
                "w.yaml:2:6: the file is not UTF-8 text: byte 0xe9 at byte offset 13 is not valid UTF-8\n  help: save the spec as UTF-8",
            ),
            (
                "too large",
                vec![b'#'; MAX_SPEC_BYTES + 1],
                "w.yaml: the file is larger than 4 MiB, the limit for a spec\n  help: check that `-f` names the spec; split a platform this large into several specs",
            ),
        ];
        let mut failures = Vec::new();
        for (name, bytes, expected) in cases {
            let got = report(&bytes);
            if got != expected {
                failures.push(format!("{name}\t{got:?}"));
            }
        }
        crate::diagnostics::assert_no_differing_cases(&failures);
    }
}
