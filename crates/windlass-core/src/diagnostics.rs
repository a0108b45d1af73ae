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

/// How many errors of one kind are shown before the rest are counted.
const SHOWN_PER_KIND: usize = 3;

/// Keeps the first few errors of each kind (same message and fix, names aside)
/// and replaces the rest with one line counting them, so 200 apps with the same
/// mistake give a readable report.
pub fn cap_repeats(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let kind = |d: &Diagnostic| (without_names(&d.message), d.help.as_deref().map(without_names));
    let mut counts: Vec<((String, Option<String>), usize, usize)> = Vec::new();
    let mut out: Vec<Diagnostic> = Vec::new();
    for d in diags {
        let k = kind(&d);
        match counts.iter_mut().find(|(seen, _, _)| *seen == k) {
            Some((_, n, last)) => {
                *n += 1;
                if *n <= SHOWN_PER_KIND {
                    out.push(d);
                    *last = out.len() - 1;
                }
            }
            None => {
                out.push(d);
                counts.push((k, 1, out.len() - 1));
            }
        }
    }
    // Insert the counts after the last shown error of their kind, back to front so indices stay valid.
    counts.sort_by_key(|(_, _, last)| std::cmp::Reverse(*last));
    for (_, n, last) in counts {
        if n > SHOWN_PER_KIND {
            let more = n - SHOWN_PER_KIND;
            let noun = if more == 1 { "error" } else { "errors" };
            out.insert(
                last + 1,
                Diagnostic::new(FieldPath::root(), format!("... and {more} more {noun} like this")),
            );
        }
    }
    out
}

/// The message with quoted names and numbers blanked: "unknown app `a`" and "unknown app `b`" are one kind.
fn without_names(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut quoted = false;
    for c in s.chars() {
        if c == '`' {
            quoted = !quoted;
            out.push(c);
        } else if !quoted && !c.is_ascii_digit() {
            out.push(c);
        }
    }
    out
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

/// For table tests: fails listing every case whose report differed (`name\tgot`), not just the first.
#[cfg(test)]
pub(crate) fn assert_no_differing_cases(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_errors_are_counted_after_three() {
        let d = |app: &str, msg: &str| Diagnostic::new(FieldPath::parse(app), msg).help("fix it");
        let mut diags: Vec<Diagnostic> = (0..200)
            .map(|i| d(&format!("apps.a{i}"), "unknown field `imag`"))
            .collect();
        diags.insert(1, d("platform", "other"));
        let capped = cap_repeats(diags);
        let lines: Vec<String> = capped.iter().map(|d| format!("{}: {}", d.path, d.message)).collect();
        assert_eq!(
            lines,
            [
                "apps.a0: unknown field `imag`",
                "platform: other",
                "apps.a1: unknown field `imag`",
                "apps.a2: unknown field `imag`",
                "(document): ... and 197 more errors like this",
            ]
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("imag", ["image", "port", "hosts"]), Some("image"));
        assert_eq!(did_you_mean("replcas", ["replicas", "resources"]), Some("replicas"));
        assert_eq!(did_you_mean("zzz", ["image", "port"]), None);
    }
}
