//! Spec errors: what is wrong, where (file, line, column, field path) and how to fix it.
//!
//! Every stage that rejects input (YAML syntax, typed deserialisation, semantic
//! validation, environment selection) produces `Diagnostic`s; the CLI renders them once.

use std::fmt;

use crate::source::{FieldPath, Loc};

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Where the offending text is; `None` only when the file is empty or the error is not about a place.
    pub loc: Option<Loc>,
    pub path: FieldPath,
    pub message: String,
    /// The fix, phrased as an instruction.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(path: FieldPath, message: impl Into<String>) -> Self {
        Self {
            loc: None,
            path,
            message: message.into(),
            help: None,
        }
    }

    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    #[must_use]
    pub fn at(mut self, loc: Loc) -> Self {
        self.loc = Some(loc);
        self
    }
}

/// All the problems found in one spec file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct SpecError {
    pub file: String,
    pub source_text: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for SpecError {
    /// Plain, line-oriented form: `file:line:col: field: message` then `  help: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match d.loc {
                Some(loc) => write!(f, "{}:{}:{}: ", self.file, loc.line, loc.column)?,
                None => write!(f, "{}: ", self.file)?,
            }
            if !d.path.is_root() {
                write!(f, "{}: ", d.path)?;
            }
            write!(f, "{}", d.message)?;
            if let Some(help) = &d.help {
                write!(f, "\n  help: {help}")?;
            }
        }
        Ok(())
    }
}

/// "did you mean" for a misspelt name, when one candidate is close enough.
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&given.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("imag", ["image", "port", "hosts"]), Some("image"));
        assert_eq!(did_you_mean("replcas", ["replicas", "resources"]), Some("replicas"));
        assert_eq!(did_you_mean("zzz", ["image", "port"]), None);
    }
}
