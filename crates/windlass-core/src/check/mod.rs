//! The rule engine behind `windlass check`, `doctor`, `render` and `up`.
//!
//! Objects (windlass's own, `helm template` output, anyone's YAML, or a live
//! cluster's objects reduced to the fields rules read) go in as a slice; an
//! [`Index`] across them answers the cross-object questions (which pods does
//! this Service select, which Secret backs this TLS host); every rule is a pure
//! function over the objects and the index that reports [`Finding`]s at an
//! object and a field path. Suppressions (an annotation with a reason) and a
//! [`Config`] (severities, disabled rules) are applied last. Locations in files
//! are the caller's: a finding names the object's position in the slice and the
//! field, which [`manifests`] turns into file:line:col. See docs/design/check.md.

mod config;
mod index;
pub mod manifests;
mod paged;
pub mod report;
mod rules;
mod typed;

use serde::Serialize;

pub use config::{Config, SEVERITIES};
pub use index::{Index, Workload, controlled, selector_matches};
pub use paged::{PAGED_KIND, Paged};
pub use rules::non_http_protocol;
pub use typed::round_trips;

use crate::render::Object;
use crate::source::FieldPath;

/// How much a finding matters; `--fail-on` compares against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// What the objects are: rules that only make sense on one side ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Files: what a user or a tool wrote, before the cluster defaulted anything.
    Manifests,
    /// A live cluster read at `now` (given by the edge: the core has no clock):
    /// controllers have set `replicas`, defaults are filled in, and status says
    /// what happened, with timestamps durations are measured from.
    Live { now: jiff::Timestamp },
}

/// One rule: its id (used in suppressions, config and every output), its
/// default severity, why it matters in one line, and the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub why: &'static str,
    pub fix: &'static str,
}

/// Every rule the engine knows, in the order outputs list them.
pub const RULES: &[Rule] = rules::RULES;

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The annotation prefix that suppresses a rule on one object:
/// `windlass.dev/ignore.<rule-id>: "<why it does not apply here>"`.
pub const SUPPRESS_PREFIX: &str = "windlass.dev/ignore.";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// The object's position in the slice given to [`run`].
    #[serde(skip)]
    pub index: usize,
    /// `Kind/namespace/name` (`Kind/name` when cluster-scoped).
    pub object: String,
    /// The field the finding is about, from the object's root.
    #[serde(serialize_with = "display")]
    pub path: FieldPath,
    pub message: String,
}

fn display<S: serde::Serializer>(p: &FieldPath, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(p)
}

impl Finding {
    pub fn rule(&self) -> &'static Rule {
        rule(self.rule).unwrap_or(&rules::UNKNOWN)
    }
}

/// What rules read: the objects, the index across them, and where they came from.
pub(crate) struct Ctx<'a> {
    pub objects: &'a [&'a Object],
    pub index: Index<'a>,
    pub source: Source,
}

/// Where rules write findings.
pub(crate) struct Out<'a> {
    objects: &'a [&'a Object],
    findings: Vec<Finding>,
}

impl Out<'_> {
    pub fn report(&mut self, i: usize, rule: &'static str, path: FieldPath, message: impl Into<String>) {
        let severity = self::rule(rule).map_or(Severity::Error, |r| r.severity);
        self.report_as(i, rule, severity, path, message);
    }

    pub fn report_as(
        &mut self,
        i: usize,
        rule: &'static str,
        severity: Severity,
        path: FieldPath,
        message: impl Into<String>,
    ) {
        self.findings.push(Finding {
            rule,
            severity,
            index: i,
            object: self.objects[i].id(),
            path,
            message: message.into(),
        });
    }
}

/// Runs every rule enabled by `config` over `objects`: findings in object
/// order, suppressions honoured, severities as configured.
pub fn run(objects: &[&Object], source: Source, config: &Config) -> Vec<Finding> {
    let cx = Ctx {
        objects,
        index: Index::new(objects),
        source,
    };
    let mut out = Out {
        objects,
        findings: Vec::new(),
    };
    rules::run_all(&cx, &mut out);
    let mut out = out.findings;
    out.retain(|f| config.enabled(f.rule));
    for f in &mut out {
        if let Some(s) = config.severity(f.rule) {
            f.severity = s;
        }
    }
    let mut out = suppress(objects, out);
    out.sort_by_key(|f| f.index);
    out
}

/// The rules every object windlass renders must pass before it is written or
/// applied: all of them, at any severity, on the objects of one unit or more.
pub fn invariants<'a>(objects: impl IntoIterator<Item = &'a Object>) -> Vec<Finding> {
    let objects: Vec<&Object> = objects.into_iter().collect();
    run(&objects, Source::Manifests, &Config::windlass())
}

/// Drops the findings an object suppresses with a reason (`bad-suppression`
/// reports the annotations that give none, or name no rule).
fn suppress(objects: &[&Object], mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.retain(|f| {
        objects[f.index]
            .at(&["metadata", "annotations", &format!("{SUPPRESS_PREFIX}{}", f.rule)])
            .and_then(|v| v.as_str())
            .is_none_or(|reason| reason.trim().is_empty())
    });
    findings
}

#[cfg(test)]
mod tests;
