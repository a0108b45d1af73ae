//! One pass of spec text through the whole core pipeline, as the CLI runs it:
//! load (every environment) -> model -> plan -> render -> invariants -> k8s-openapi
//! round trip. Shared by the proptest suite and the coverage-guided fuzz targets.

use windlass_core::check::{invariants, round_trips};
use windlass_core::diagnostics::SpecError;
use windlass_core::model::Platform;
use windlass_core::plan::Plan;
use windlass_core::render::{Object, render};

/// The file name diagnostics are reported against.
pub const FILE: &str = "windlass.yaml";

/// What the pipeline made of one input.
#[derive(Debug)]
pub enum Outcome {
    /// The spec was refused with these diagnostics.
    Rejected(SpecError),
    /// The spec was accepted: the rendered objects of each environment, in file order.
    Accepted(Vec<(String, Vec<Object>)>),
}

/// A disagreement inside the pipeline: never acceptable, whatever the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defect(pub String);

/// Runs `text` through every stage. A panic propagates to the caller (the fuzzers
/// catch it); every other way the stages disagree with each other is a `Defect`.
pub fn run(text: &str) -> Result<Outcome, Defect> {
    let spec = match windlass_core::spec::load(FILE, text) {
        Ok(spec) => spec,
        Err(e) => {
            // An empty document has no place to point at; anything else must be located.
            let blank = text.trim().is_empty();
            // The count of repeated errors ("... and N more errors like this") is a summary, not an error.
            let summary = |d: &&windlass_core::diagnostics::Diagnostic| d.message.starts_with("... and ");
            if let Some(d) = e.diagnostics.iter().find(|d| d.loc.is_none() && !blank && !summary(d)) {
                return Err(Defect(format!("diagnostic without a line and column: {}", d.message)));
            }
            if e.diagnostics.is_empty() {
                return Err(Defect("spec refused without a diagnostic".into()));
            }
            return Ok(Outcome::Rejected(e));
        }
    };
    let mut out = Vec::new();
    for (env, file) in &spec.environments {
        let platform = Platform::build(file, env);
        let plan = Plan::new(&platform, &[]).map_err(|e| Defect(format!("environment {env}: plan failed: {e}")))?;
        let objects: Vec<Object> = render(&platform, &plan).objects().cloned().collect();
        // `liveness-checks-dependencies` is the spec's own choice (one health path); every other rule must hold.
        let findings = invariants(&objects);
        if let Some(f) = findings.iter().find(|f| f.rule != "liveness-checks-dependencies") {
            return Err(Defect(format!(
                "environment {env}: {} breaks invariant {}: {}",
                f.object, f.rule, f.message
            )));
        }
        for o in &objects {
            if let Err(e) = round_trips(o) {
                return Err(Defect(format!(
                    "environment {env}: {} changes in the round trip: {e}",
                    o.id()
                )));
            }
        }
        out.push((env.clone(), objects));
    }
    Ok(Outcome::Accepted(out))
}
