//! Rules over a cluster too large to hold at once (`windlass doctor`).
//!
//! Pods are the one kind whose count grows with the cluster (20,000 on a
//! 1,000-node cluster), and the only rules that read a pod's spec and status
//! are rules about that pod. Every other object is read first as the context;
//! then pods arrive a page at a time, and each page goes through every rule
//! with the context, keeping the findings about its own pods. What stays of a
//! pod afterwards is a skeleton: its name, namespace, labels and owners, all
//! that rules about other objects read from pods (which pods a Service, a
//! PodDisruptionBudget or a NetworkPolicy selects, and how many). A last run
//! over the context and the skeletons keeps the findings about the context.
//!
//! The findings are the same as [`run`] over the context followed by the pods
//! (a test holds the two together), with memory bounded by one page of whole
//! pods plus the skeletons.

use serde_json::{Map, Value};

use super::{Config, Finding, Source, run};
use crate::render::Object;

/// The kind that arrives in pages.
pub const PAGED_KIND: &str = "Pod";

/// Findings gathered page by page; see the module documentation.
pub struct Paged<'c> {
    context: Vec<Object>,
    /// One skeleton per pod read so far, in the order read.
    pods: Vec<Object>,
    /// Findings about pods, indexed as in [`Paged::finish`]'s objects.
    findings: Vec<Finding>,
    source: Source,
    config: &'c Config,
}

impl<'c> Paged<'c> {
    /// `context`: every object the rules read except pods.
    pub fn new(context: Vec<Object>, source: Source, config: &'c Config) -> Paged<'c> {
        Paged {
            context,
            pods: Vec::new(),
            findings: Vec::new(),
            source,
            config,
        }
    }

    /// Runs the rules over one page of pods, keeps their findings and the pods' skeletons.
    pub fn page(&mut self, pods: Vec<Object>) {
        let context = self.context.len();
        let offset = self.pods.len();
        let objects: Vec<&Object> = self.context.iter().chain(&pods).collect();
        for mut f in run(&objects, self.source, self.config) {
            if f.index >= context {
                f.index += offset;
                self.findings.push(f);
            }
        }
        self.pods.extend(pods.iter().map(skeleton));
    }

    /// The objects (the context, then one skeleton per pod) and every finding,
    /// in object order.
    pub fn finish(self) -> (Vec<Object>, Vec<Finding>) {
        let context = self.context.len();
        let mut objects = self.context;
        objects.extend(self.pods);
        let refs: Vec<&Object> = objects.iter().collect();
        let mut findings: Vec<Finding> = run(&refs, self.source, self.config)
            .into_iter()
            .filter(|f| f.index < context)
            .collect();
        findings.extend(self.findings);
        // Stable: a pod's findings keep the order the rules gave them.
        findings.sort_by_key(|f| f.index);
        (objects, findings)
    }
}

/// What rules about other objects read from a pod.
fn skeleton(pod: &Object) -> Object {
    let mut meta = Map::new();
    for key in ["name", "namespace", "labels", "ownerReferences"] {
        if let Some(v) = pod.at(&["metadata", key]) {
            meta.insert(key.into(), v.clone());
        }
    }
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String("v1".into()));
    out.insert("kind".into(), Value::String(PAGED_KIND.into()));
    out.insert("metadata".into(), Value::Object(meta));
    // A pod spec, empty: the pod still counts as a workload for selectors.
    out.insert("spec".into(), Value::Object(Map::new()));
    Object(Value::Object(out))
}
