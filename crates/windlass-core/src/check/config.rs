//! The check configuration file (`.windlass-check.yaml` by default):
//!
//! ```yaml
//! failOn: warning            # the --fail-on default for this repository
//! rules:
//!   image-tag-latest: error  # a rule's severity: error | warning | info
//!   ephemeral-storage-unbounded: off
//! ```
//!
//! Read through the spec's located YAML, so a mistake is reported at
//! file:line:col with the fix.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{RULES, Severity, rule};
use crate::diagnostics::{Diagnostic, SpecError, did_you_mean};
use crate::source::{FieldPath, from_node, parse_yaml};

/// The words a rule's setting may be.
pub const SEVERITIES: &[&str] = &["error", "warning", "info", "off"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Per rule: `None` switches it off, `Some` sets its severity.
    rules: BTreeMap<&'static str, Option<Severity>>,
    pub fail_on: Option<Severity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct File {
    #[serde(default)]
    fail_on: Option<String>,
    #[serde(default)]
    rules: BTreeMap<String, String>,
}

impl Config {
    /// What windlass holds its own objects while it renders them, a unit at a
    /// time: every rule at its default severity, except those that follow
    /// references across objects (a unit is not the whole platform, and the
    /// components' charts create what some references name). Those run over
    /// the whole rendered platform in the tests (`example_platform.rs`).
    pub fn windlass() -> Config {
        Config {
            rules: super::rules::REFERENCES.iter().map(|id| (*id, None)).collect(),
            fail_on: Some(Severity::Error),
        }
    }

    pub fn enabled(&self, id: &str) -> bool {
        !matches!(self.rules.get(id), Some(None))
    }

    /// The configured severity of a rule, when the file sets one.
    pub fn severity(&self, id: &str) -> Option<Severity> {
        self.rules.get(id).copied().flatten()
    }

    /// Reads a configuration file's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Config, SpecError> {
        let fail = |diagnostics: Vec<Diagnostic>| SpecError {
            file: file.to_string(),
            source_text: text.to_string(),
            diagnostics,
        };
        let root = parse_yaml(text).map_err(|d| fail(vec![d]))?;
        if matches!(root.value, crate::source::Value::Null) {
            return Ok(Config::default());
        }
        let parsed: File = from_node(&root, &FieldPath::root()).map_err(fail)?;
        let mut diags = Vec::new();
        let word = |path: FieldPath, value: &str, allowed: &[&str]| -> Result<Option<Severity>, Diagnostic> {
            match value {
                "off" if allowed.contains(&"off") => Ok(None),
                v => Severity::parse(v).map(Some).ok_or_else(|| {
                    Diagnostic::new(path.clone(), format!("`{v}` is not a severity"))
                        .help(format!("use one of: {}", allowed.join(", ")))
                        .at(root.locate(&path))
                }),
            }
        };
        let mut config = Config::default();
        if let Some(f) = &parsed.fail_on {
            match word(FieldPath::root().key("failOn"), f, &SEVERITIES[..3]) {
                Ok(s) => config.fail_on = s,
                Err(d) => diags.push(d),
            }
        }
        for (id, setting) in &parsed.rules {
            let path = FieldPath::root().key("rules").key(id.clone());
            let Some(r) = rule(id) else {
                let mut d = Diagnostic::new(path.clone(), format!("no rule is called `{id}`"));
                d = match did_you_mean(id, RULES.iter().map(|r| r.id)) {
                    Some(near) => d.help(format!(
                        "did you mean `{near}`? (`windlass check --list-rules` lists them)"
                    )),
                    None => d.help("`windlass check --list-rules` lists the rules"),
                };
                let key_loc = root.get("rules").and_then(|r| r.key_loc(id));
                diags.push(d.at(key_loc.unwrap_or_else(|| root.locate(&path))));
                continue;
            };
            match word(path, setting, SEVERITIES) {
                Ok(s) => {
                    config.rules.insert(r.id, s);
                }
                Err(d) => diags.push(d),
            }
        }
        if diags.is_empty() { Ok(config) } else { Err(fail(diags)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_severities_and_switches() {
        let c = Config::parse(
            "c.yaml",
            "failOn: warning\nrules:\n  image-tag-latest: error\n  probes-identical: off\n",
        )
        .expect("valid");
        assert_eq!(c.fail_on, Some(Severity::Warning));
        assert_eq!(c.severity("image-tag-latest"), Some(Severity::Error));
        assert!(!c.enabled("probes-identical"));
        assert!(c.enabled("probe-not-local"));
        assert_eq!(c.severity("probe-not-local"), None);
    }

    #[test]
    fn mistakes_are_located_with_the_fix() {
        let e = Config::parse("c.yaml", "rules:\n  image-tag-lates: error\n  probes-identical: loud\n")
            .expect_err("must fail");
        assert_eq!(
            e.to_string(),
            "c.yaml:2:3: rules.image-tag-lates: no rule is called `image-tag-lates`\n  help: did you mean `image-tag-latest`? (`windlass check --list-rules` lists them)\n\
             c.yaml:3:21: rules.probes-identical: `loud` is not a severity\n  help: use one of: error, warning, info, off"
        );
        let e = Config::parse("c.yaml", "rule: {}\n").expect_err("must fail");
        assert!(e.to_string().starts_with("c.yaml:1:1: "), "{e}");
    }
}
