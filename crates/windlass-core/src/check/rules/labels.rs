//! Labels: selectors that name a version.

use serde_json::Value;

use super::{Ctx, Out};
use crate::source::FieldPath;

/// Label keys whose value changes from one release to the next.
const VERSION_LABELS: &[&str] = &[
    "app.kubernetes.io/version",
    "version",
    "helm.sh/chart",
    "chart",
    "pod-template-hash",
    "controller-revision-hash",
];

pub(super) fn run(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for w in cx.index.workloads.iter().filter(|w| !w.owned) {
        if matches!(w.kind, "Pod" | "CronJob" | "Job" | "ReplicaSet") {
            continue;
        }
        let sel = FieldPath::root().key("spec").key("selector");
        for (k, _) in w
            .object
            .at(&["spec", "selector", "matchLabels"])
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if VERSION_LABELS.contains(&k.as_str()) {
                out.report(
                    w.index,
                    "selector-version-label",
                    sel.key("matchLabels").key(k.clone()),
                    format!("the selector includes `{k}`, which changes with every release"),
                );
            }
        }
        for (e, x) in w.object.list(&["spec", "selector", "matchExpressions"]).enumerate() {
            if let Some(k) = x
                .get("key")
                .and_then(Value::as_str)
                .filter(|k| VERSION_LABELS.contains(k))
            {
                out.report(
                    w.index,
                    "selector-version-label",
                    sel.key("matchExpressions").index(e),
                    format!("the selector includes `{k}`, which changes with every release"),
                );
            }
        }
    }
    for (i, s) in cx.index.of_kind("Service") {
        for (k, _) in s
            .at(&["spec", "selector"])
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if VERSION_LABELS.contains(&k.as_str()) {
                out.report(
                    i,
                    "selector-version-label",
                    FieldPath::root().key("spec").key("selector").key(k.clone()),
                    format!("the selector includes `{k}`: during a rollout it selects only one version's pods"),
                );
            }
        }
    }
}
