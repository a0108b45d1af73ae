//! Disruption: PodDisruptionBudgets that allow no eviction, and `replicas` on
//! a workload an HPA scales.

use serde_json::Value;

use super::{Ctx, Out};
use crate::check::Source;
use crate::source::FieldPath;

pub(super) fn run(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if cx.source == Source::Manifests {
        for w in &cx.index.workloads {
            if w.replicas.is_some()
                && let Some((_, hpa)) = cx.index.hpa_for(w)
            {
                out.report(
                    w.index,
                    "replicas-with-hpa",
                    FieldPath::root().key("spec").key("replicas"),
                    format!("sets `replicas` while HorizontalPodAutoscaler {} scales it", hpa.name()),
                );
            }
        }
    }
    for (i, pdb) in cx.index.of_kind("PodDisruptionBudget") {
        let spec = FieldPath::root().key("spec");
        if let Some(mu) = pdb.at(&["spec", "maxUnavailable"])
            && (mu.as_i64() == Some(0) || mu.as_str().is_some_and(|s| s.trim_end_matches('%') == "0"))
        {
            out.report(
                i,
                "pdb-blocks-drain",
                spec.key("maxUnavailable"),
                "maxUnavailable 0 allows no eviction: every node drain blocks",
            );
            continue;
        }
        let Some(min) = pdb.at(&["spec", "minAvailable"]) else {
            continue;
        };
        if min.as_str() == Some("100%") {
            out.report(
                i,
                "pdb-blocks-drain",
                spec.key("minAvailable"),
                "minAvailable 100% allows no eviction: every node drain blocks",
            );
            continue;
        }
        let Some(min) = min.as_i64() else { continue };
        let selector = pdb.at(&["spec", "selector"]).unwrap_or(&Value::Null);
        // The pods the budget covers, at their lowest steady count: an HPA's minimum when one scales the workload.
        let mut floor = 0;
        let mut why = Vec::new();
        let mut any = false;
        for w in cx.index.selected_by(pdb.namespace(), selector).filter(|w| !w.owned) {
            let hpa_min = cx
                .index
                .hpa_for(w)
                .map(|(_, h)| h.at(&["spec", "minReplicas"]).and_then(Value::as_i64).unwrap_or(1));
            let Some(n) = hpa_min.or(w.steady_replicas()) else {
                continue;
            };
            any = true;
            floor += n;
            why.push(match hpa_min {
                Some(m) => format!("{} {} scales down to {m} (HPA minReplicas)", w.kind, w.name),
                None => format!("{} {} runs {n}", w.kind, w.name),
            });
        }
        if any && min >= floor {
            out.report(
                i,
                "pdb-blocks-drain",
                spec.key("minAvailable"),
                format!(
                    "minAvailable {min} >= the {floor} pods it covers ({}): no eviction is ever allowed",
                    why.join(", ")
                ),
            );
        }
    }
}
