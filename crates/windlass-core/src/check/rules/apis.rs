//! APIs: apiVersions removed from, or deprecated in, the Kubernetes versions
//! windlass supports (1.31 to 1.36). Facts from the Kubernetes deprecation guide.

use super::{Ctx, Out};
use crate::check::Severity;
use crate::source::FieldPath;

/// The oldest and newest Kubernetes minor versions windlass supports.
pub const SUPPORTED: (u32, u32) = (31, 36);

/// (apiVersion, kind or "*" for every kind of the group version, deprecated in, removed in, replacement)
const TABLE: &[(&str, &str, u32, Option<u32>, &str)] = &[
    ("extensions/v1beta1", "Ingress", 14, Some(22), "networking.k8s.io/v1"),
    (
        "extensions/v1beta1",
        "*",
        9,
        Some(16),
        "apps/v1 (workloads) or networking.k8s.io/v1",
    ),
    ("apps/v1beta1", "*", 9, Some(16), "apps/v1"),
    ("apps/v1beta2", "*", 9, Some(16), "apps/v1"),
    ("networking.k8s.io/v1beta1", "*", 19, Some(22), "networking.k8s.io/v1"),
    (
        "admissionregistration.k8s.io/v1beta1",
        "*",
        16,
        Some(22),
        "admissionregistration.k8s.io/v1",
    ),
    (
        "apiextensions.k8s.io/v1beta1",
        "*",
        16,
        Some(22),
        "apiextensions.k8s.io/v1",
    ),
    (
        "apiregistration.k8s.io/v1beta1",
        "*",
        19,
        Some(22),
        "apiregistration.k8s.io/v1",
    ),
    (
        "authentication.k8s.io/v1beta1",
        "*",
        19,
        Some(22),
        "authentication.k8s.io/v1",
    ),
    (
        "authorization.k8s.io/v1beta1",
        "*",
        19,
        Some(22),
        "authorization.k8s.io/v1",
    ),
    (
        "certificates.k8s.io/v1beta1",
        "*",
        19,
        Some(22),
        "certificates.k8s.io/v1",
    ),
    (
        "coordination.k8s.io/v1beta1",
        "*",
        19,
        Some(22),
        "coordination.k8s.io/v1",
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "*",
        17,
        Some(22),
        "rbac.authorization.k8s.io/v1",
    ),
    ("scheduling.k8s.io/v1beta1", "*", 14, Some(22), "scheduling.k8s.io/v1"),
    (
        "storage.k8s.io/v1beta1",
        "CSIStorageCapacity",
        24,
        Some(27),
        "storage.k8s.io/v1",
    ),
    ("storage.k8s.io/v1beta1", "*", 19, Some(22), "storage.k8s.io/v1"),
    ("batch/v1beta1", "CronJob", 21, Some(25), "batch/v1"),
    (
        "discovery.k8s.io/v1beta1",
        "EndpointSlice",
        21,
        Some(25),
        "discovery.k8s.io/v1",
    ),
    ("events.k8s.io/v1beta1", "Event", 19, Some(25), "events.k8s.io/v1"),
    (
        "autoscaling/v2beta1",
        "HorizontalPodAutoscaler",
        22,
        Some(25),
        "autoscaling/v2",
    ),
    (
        "autoscaling/v2beta2",
        "HorizontalPodAutoscaler",
        23,
        Some(26),
        "autoscaling/v2",
    ),
    ("policy/v1beta1", "PodDisruptionBudget", 21, Some(25), "policy/v1"),
    (
        "policy/v1beta1",
        "PodSecurityPolicy",
        21,
        Some(25),
        "Pod Security admission (namespace labels)",
    ),
    ("node.k8s.io/v1beta1", "RuntimeClass", 20, Some(25), "node.k8s.io/v1"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "*",
        23,
        Some(26),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "*",
        26,
        Some(29),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "*",
        29,
        Some(32),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    ("v1", "Endpoints", 33, None, "discovery.k8s.io/v1 EndpointSlice"),
];

pub(super) fn run(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for (i, o) in cx.objects.iter().enumerate() {
        let (api, kind) = (o.api_version(), o.kind());
        let Some((_, _, dep, removed, instead)) =
            TABLE.iter().find(|(a, k, ..)| *a == api && (*k == kind || *k == "*"))
        else {
            continue;
        };
        let at = FieldPath::root().key("apiVersion");
        match removed {
            Some(r) if *r <= SUPPORTED.1 => out.report_as(
                i,
                "api-removed",
                if *r <= SUPPORTED.0 {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                at,
                format!("{api} {kind} was removed in Kubernetes 1.{r}; use {instead}"),
            ),
            _ => out.report(
                i,
                "api-deprecated",
                at,
                format!("{api} {kind} is deprecated since Kubernetes 1.{dep}; move to {instead}"),
            ),
        }
    }
}
