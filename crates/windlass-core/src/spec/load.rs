//! From source text to one typed, validated `PlatformFile` per environment.

use indexmap::IndexMap;

use super::types::{EnvironmentOverlay, PlatformFile};
use super::validate::validate;
use crate::diagnostics::{Diagnostic, SpecError, did_you_mean};
use crate::source::{FieldPath, Node, Value, from_node, parse_yaml};

/// The environment name used when a spec declares no `environments`.
pub const IMPLICIT_ENVIRONMENT: &str = "default";

/// A spec whose every environment parsed and validated.
#[derive(Debug, Clone)]
pub struct Spec {
    pub file: String,
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

/// Parses and validates `text` (read from `file`). All environments are checked,
/// so a broken production overlay is caught while rendering development.
pub fn load(file: &str, text: &str) -> Result<Spec, SpecError> {
    let fail = |diagnostics: Vec<Diagnostic>| SpecError {
        file: file.to_string(),
        source_text: text.to_string(),
        diagnostics,
    };
    let root = parse_yaml(text).map_err(|(message, loc)| {
        let mut d = Diagnostic::new(FieldPath::root(), format!("invalid YAML: {message}"))
            .help("fix the YAML syntax at this position (indentation, quotes, brackets)");
        d.loc = loc;
        fail(vec![d])
    })?;
    let Value::Map(entries) = &root.value else {
        return Err(fail(vec![
            Diagnostic::new(
                FieldPath::root(),
                format!(
                    "expected a mapping with `apiVersion`, `kind`, `platform` and `apps`, found {}",
                    root.value.kind()
                ),
            )
            .at(root.loc)
            .help("start from `windlass init`, which writes a commented example"),
        ]));
    };

    // The base is everything but `environments`; each overlay is merged into a copy of it.
    let mut base = root.clone();
    if let Value::Map(base_entries) = &mut base.value {
        base_entries.retain(|(k, _)| k.name != "environments");
    }
    let env_node = entries.iter().find(|(k, _)| k.name == "environments").map(|(_, v)| v);
    let env_path = FieldPath::root().key("environments");
    let overlays: Vec<(String, Option<&Node>)> = match env_node.map(|n| &n.value) {
        None | Some(Value::Null) => vec![(IMPLICIT_ENVIRONMENT.to_string(), None)],
        Some(Value::Map(envs)) if !envs.is_empty() => {
            let mut diags = Vec::new();
            for (k, v) in envs {
                let path = env_path.key(&k.name);
                if let Err(d) = from_node::<EnvironmentOverlay>(v, &path) {
                    diags.push(d);
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
                return Err(fail(diags));
            }
            envs.iter().map(|(k, v)| (k.name.clone(), Some(v))).collect()
        }
        Some(_) => {
            let n = env_node.map_or(root.loc, |n| n.loc);
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
    for (name, overlay) in &overlays {
        let merged = match overlay {
            Some(o) => {
                let mut m = base.clone();
                m.merge(o);
                m
            }
            None => base.clone(),
        };
        let result = from_node::<PlatformFile>(&merged, &FieldPath::root())
            .map_err(|d| vec![d])
            .and_then(|typed| {
                let diags = validate(&typed, &merged, &overlays);
                if diags.is_empty() { Ok(typed) } else { Err(diags) }
            });
        match result {
            Ok(typed) => {
                environments.insert(name.clone(), typed);
            }
            Err(diags) => {
                for d in diags {
                    match diagnostics.iter_mut().find(|(seen, _)| *seen == d) {
                        Some((_, envs)) => envs.push(name.clone()),
                        None => diagnostics.push((d, vec![name.clone()])),
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
        return Err(fail(list));
    }

    let default_environment = match environments.values().next().and_then(|p| p.default_environment.clone()) {
        Some(d) => d,
        None => overlays[0].0.clone(),
    };
    Ok(Spec {
        file: file.to_string(),
        default_environment,
        environments,
    })
}
