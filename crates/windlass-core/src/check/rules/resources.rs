//! Resources: requests and a memory limit; bounded ephemeral storage.

use crate::check::index::items;
use serde_json::Value;

use super::{Ctx, Out, containers};

pub(super) fn run(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for w in cx.index.workloads.iter().filter(|w| !w.owned) {
        for c in containers(w) {
            let r = c.spec.get("resources");
            let has = |p: &str| r.and_then(|r| r.pointer(p)).is_some_and(|v| !v.is_null());
            let mut missing = Vec::new();
            if !has("/requests/cpu") && !has("/requests/memory") {
                missing.push("requests");
            }
            if !has("/limits/memory") {
                missing.push("memory limit");
            }
            if !missing.is_empty() {
                out.report(
                    w.index,
                    "resources-missing",
                    c.path.key("resources"),
                    format!("container `{}` has no {}", c.name, missing.join(" and no ")),
                );
            }
            if !has("/limits/ephemeral-storage") {
                out.report(
                    w.index,
                    "ephemeral-storage-unbounded",
                    c.path.key("resources"),
                    format!("container `{}` has no ephemeral-storage limit", c.name),
                );
            }
        }
        for (v, vol) in items(w.pod, "volumes").enumerate() {
            if let Some(e) = vol.get("emptyDir")
                && e.get("sizeLimit").is_none_or(Value::is_null)
            {
                let name = vol.get("name").and_then(Value::as_str).unwrap_or("?");
                out.report(
                    w.index,
                    "ephemeral-storage-unbounded",
                    w.pod_path.key("volumes").index(v).key("emptyDir"),
                    format!("emptyDir volume `{name}` has no sizeLimit"),
                );
            }
        }
    }
}
