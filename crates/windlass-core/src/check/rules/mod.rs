//! The rules, by family. Each family's `run` walks the objects (or the index)
//! and reports through [`Ctx`]; the table below gives every rule its id,
//! default severity, why and fix, and is what outputs and `--list-rules` show.

mod apis;
mod disruption;
mod images;
mod labels;
mod live;
mod podsecurity;
mod ports;

pub use ports::non_http_protocol;
mod probes;
mod references;
mod resources;

use serde_json::Value;

use super::index::Workload;
use super::{Ctx, Out, Rule, SUPPRESS_PREFIX, Severity, Source};
use crate::source::FieldPath;

const fn rule(id: &'static str, severity: Severity, why: &'static str, fix: &'static str) -> Rule {
    Rule { id, severity, why, fix }
}

use Severity::{Error, Info, Warning};

pub(super) const UNKNOWN: Rule = rule("unknown", Error, "", "");

pub(super) const RULES: &[Rule] = &[
    rule(
        "probe-not-local",
        Error,
        "a probe that calls a Service or another host fails whenever that Service has no ready endpoints, and the pod it guards is why: it never becomes Ready (a deadlock), or liveness restarts it forever",
        "probe the container itself: no `host` (the pod IP is the default), `localhost` or 127.0.0.1 in exec commands",
    ),
    rule(
        "probe-timeout-default",
        Warning,
        "a database or an exec probe answers in more than the 1 s default timeout under load, and each timeout counts as a failure",
        "set `timeoutSeconds` to 5 or more on this probe",
    ),
    rule(
        "liveness-too-eager",
        Warning,
        "a liveness probe with a short timeout or few failures restarts a process that is slow but alive, turning load into an outage",
        "give liveness `timeoutSeconds` >= 5 and `failureThreshold` >= 3",
    ),
    rule(
        "probes-identical",
        Warning,
        "identical liveness and readiness probes without a startup probe kill a slow starter before it is ready, and restart a pod that only needed to leave the load balancer",
        "make liveness shallower (or slower) than readiness, and add a startupProbe for slow starts",
    ),
    rule(
        "liveness-checks-dependencies",
        Warning,
        "a liveness probe on the readiness endpoint fails when a dependency fails, and restarting every pod does not fix a dependency",
        "point liveness at a shallow endpoint that only says the process is alive (e.g. /livez)",
    ),
    rule(
        "pdb-blocks-drain",
        Error,
        "a PodDisruptionBudget that allows no disruption blocks every node drain and cluster upgrade",
        "set minAvailable below the replicas (and below the HPA minimum), or maxUnavailable to 1 or more",
    ),
    rule(
        "replicas-with-hpa",
        Error,
        "`replicas` on a workload an HPA scales resets the count on every deploy, and the autoscaler fights back",
        "remove `spec.replicas`; the HPA's minReplicas sets the floor",
    ),
    rule(
        "selector-matches-nothing",
        Warning,
        "a selector that matches no pods (or no Services) is a typo or a leftover: traffic, budgets, policies or scrapes silently do nothing",
        "make the selector match the labels of the pods (or Services) it is meant for, or remove the object",
    ),
    rule(
        "hpa-target-missing",
        Error,
        "an HPA whose target does not exist scales nothing",
        "point `scaleTargetRef` at an existing Deployment or StatefulSet",
    ),
    rule(
        "backend-service-missing",
        Error,
        "an Ingress or HTTPRoute backend that names a missing Service or port answers 503 for every request",
        "name an existing Service and one of its ports",
    ),
    rule(
        "tls-secret-missing",
        Error,
        "a TLS Secret that nothing creates (no Secret, no Certificate, no cert-manager annotation) leaves the host without HTTPS",
        "add a cert-manager Certificate (or the issuer annotation) for the Secret, or create the Secret",
    ),
    rule(
        "statefulset-service-missing",
        Error,
        "a StatefulSet's pods get stable DNS names only through its headless Service",
        "create a Service with `clusterIP: None` named as `spec.serviceName`, selecting the StatefulSet's pods",
    ),
    rule(
        "servicemonitor-port-missing",
        Error,
        "a ServiceMonitor endpoint whose port name is not on the Services it selects is never scraped",
        "use the name of the Service port that serves metrics",
    ),
    rule(
        "not-selected-by-prometheus",
        Warning,
        "a monitoring object no Prometheus selects is never loaded: no scrape, no alert",
        "give it the labels the Prometheus selector asks for (kube-prometheus-stack: `release: <release name>`)",
    ),
    rule(
        "port-protocol-mismatch",
        Warning,
        "a port named or marked as HTTP that serves another protocol (5432 is PostgreSQL) makes meshes, gateways and probes speak HTTP to it",
        "name the port after its protocol (e.g. `postgres`, `tcp-postgres`) and drop `appProtocol: http`",
    ),
    rule(
        "image-tag-latest",
        Warning,
        "`latest` or no tag moves under you: rollouts and rollbacks are not reproducible",
        "pin a version tag or a digest",
    ),
    rule(
        "resources-missing",
        Warning,
        "a container without requests is scheduled blind and evicted first; one without a memory limit can take its node's memory",
        "set `resources.requests` (cpu, memory) and `resources.limits.memory`",
    ),
    rule(
        "ephemeral-storage-unbounded",
        Info,
        "logs, caches and emptyDirs without a bound fill the node's disk and get pods evicted",
        "set `resources.limits.ephemeral-storage`, and `sizeLimit` on every emptyDir",
    ),
    rule(
        "pod-security-restricted",
        Warning,
        "the pod breaks the Pod Security `restricted` profile: a namespace that enforces it rejects the pod",
        "run as non-root, drop ALL capabilities, no privilege escalation, RuntimeDefault seccomp, no host namespaces, ports or paths",
    ),
    rule(
        "api-removed",
        Error,
        "the apiVersion is removed from the Kubernetes versions windlass supports: the apiserver refuses the object",
        "use the replacement apiVersion named in the finding",
    ),
    rule(
        "api-deprecated",
        Warning,
        "the apiVersion is deprecated and will be removed",
        "move to the replacement named in the finding",
    ),
    rule(
        "selector-version-label",
        Error,
        "a selector with a version label breaks the next upgrade (`field is immutable`) or sends traffic to no pods during a rollout",
        "select on stable labels only (app.kubernetes.io/name, app.kubernetes.io/instance)",
    ),
    // Live: what only a running cluster shows (doctor).
    rule(
        "crash-loop",
        Error,
        "a container that keeps exiting never serves, and its restarts hide the cause: the last exit is in lastState, not in Events (kept one hour)",
        "read the previous logs (`kubectl logs --previous`); fix the crash, its probe or its limits",
    ),
    rule(
        "oom-killed",
        Error,
        "the kernel killed the container for going over its memory limit; it restarts and is killed again",
        "raise the memory limit to the working set plus headroom, or find the leak",
    ),
    rule(
        "pod-pending",
        Error,
        "a pod that cannot be scheduled never runs",
        "fix the reason given: the unbound claim, the resources or labels no node offers, the taints nothing tolerates",
    ),
    rule(
        "image-pull-failing",
        Error,
        "a container whose image cannot be pulled never starts; kubelet only backs off",
        "fix the image reference (repository, tag, digest) or the pull secret, or make the registry reachable",
    ),
    rule(
        "container-cannot-start",
        Error,
        "the container cannot be created: a ConfigMap, Secret or key it names is missing, or its settings are refused",
        "create what the message names, or fix the reference",
    ),
    rule(
        "pod-not-ready",
        Warning,
        "a running pod that never becomes Ready receives no traffic and holds back its rollout",
        "check its readiness probe and what the probe needs; `windlass check` reads the probe",
    ),
    rule(
        "pvc-unbound",
        Error,
        "a claim that nothing can ever bind (its StorageClass does not exist, or it names none and there is no default) keeps every pod using it Pending",
        "name an existing StorageClass, mark one as the default, or create a matching PersistentVolume",
    ),
    rule(
        "pvc-pending",
        Warning,
        "a claim waits for its StorageClass's provisioner to make a volume; pods using it stay Pending until then",
        "check the provisioner of the StorageClass (its pods and events)",
    ),
    rule(
        "rollout-stuck",
        Error,
        "a Deployment past its progress deadline stopped rolling out: old and new pods run side by side",
        "fix what keeps the new pods from becoming Ready, or roll back",
    ),
    rule(
        "certificate-not-ready",
        Error,
        "a Certificate that is not Ready leaves its Secret missing or stale: TLS fails or expires",
        "read the Certificate's and its CertificateRequest's conditions: the issuer, the ACME challenge, DNS",
    ),
    rule(
        "certificate-expiring",
        Warning,
        "the certificate's notAfter is near and renewal has not replaced it",
        "check cert-manager's renewal: the issuer, the challenge, the controller's logs",
    ),
    rule(
        "webhook-no-endpoints",
        Error,
        "an admission webhook whose Service has no ready endpoints refuses (failurePolicy Fail) or skips (Ignore) every request it covers",
        "bring the webhook's pods back, or delete the webhook configuration of a removed component",
    ),
    rule(
        "apiservice-unavailable",
        Error,
        "an aggregated API that is unavailable fails every request for its group (metrics.k8s.io: HPAs and `kubectl top`), and discovery with it",
        "bring its backend back, or delete the APIService of a removed component",
    ),
    rule(
        "stuck-terminating",
        Warning,
        "an object deleted but held by finalizers no controller removes stays forever, and so does its namespace",
        "bring back the controller that owns the finalizer, or remove the finalizer once its cleanup is done by hand",
    ),
    rule(
        "hpa-cannot-scale",
        Error,
        "an HPA that cannot read its metrics or its target holds the replica count where it is",
        "fix the reason given: metrics-server or the adapter, the target's resource requests, the scale subresource",
    ),
    rule(
        "pdb-no-disruptions",
        Warning,
        "a budget that has allowed no disruption for a long time blocks every drain of its pods' nodes",
        "make its pods healthy, or lower minAvailable / raise maxUnavailable",
    ),
    rule(
        "cronjob-not-succeeding",
        Error,
        "a CronJob that has not succeeded for several schedules is silently not doing its job",
        "read the failed Jobs' pods; fix the job or its schedule",
    ),
    rule(
        "node-not-ready",
        Error,
        "a NotReady node runs nothing new, and its pods are evicted after the toleration timeout",
        "check the kubelet and the node's network; drain and replace it",
    ),
    rule(
        "node-pressure",
        Warning,
        "a node under memory, disk or PID pressure evicts pods and refuses new ones",
        "free the resource, or move load away from the node",
    ),
    rule(
        "bad-suppression",
        Error,
        "a suppression without a reason (or naming no rule) hides nothing and explains nothing",
        "write `windlass.dev/ignore.<rule-id>: \"<why the rule does not apply here>\"`",
    ),
];

/// The rules that follow references from one object to another.
pub(super) const REFERENCES: &[&str] = &[
    "selector-matches-nothing",
    "hpa-target-missing",
    "backend-service-missing",
    "tls-secret-missing",
    "statefulset-service-missing",
    "servicemonitor-port-missing",
    "not-selected-by-prometheus",
];

/// Runs every family.
pub(super) fn run_all(cx: &Ctx<'_>, out: &mut Out<'_>) {
    probes::run(cx, out);
    disruption::run(cx, out);
    references::run(cx, out);
    ports::run(cx, out);
    images::run(cx, out);
    resources::run(cx, out);
    podsecurity::run(cx, out);
    apis::run(cx, out);
    labels::run(cx, out);
    if let Source::Live { now } = cx.source {
        live::run(cx, out, now);
    }
    suppressions(cx, out);
}

/// A container of a workload, with its path.
pub(super) struct Container<'a> {
    pub spec: &'a Value,
    pub path: FieldPath,
    pub name: &'a str,
}

/// Init containers then containers of a workload's pod spec.
/// None for a workload a controller made: its owner's template is judged instead.
pub(super) fn containers<'a>(w: &Workload<'a>) -> Vec<Container<'a>> {
    let mut out = Vec::new();
    if w.owned {
        return out;
    }
    for key in ["initContainers", "containers"] {
        for (i, c) in super::index::items(w.pod, key).enumerate() {
            out.push(Container {
                spec: c,
                path: w.pod_path.key(key).index(i),
                name: c.get("name").and_then(Value::as_str).unwrap_or("?"),
            });
        }
    }
    out
}

/// `windlass.dev/ignore.*` annotations that give no reason or name no rule.
fn suppressions(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for (i, o) in cx.objects.iter().enumerate() {
        let Some(a) = o.at(&["metadata", "annotations"]).and_then(Value::as_object) else {
            continue;
        };
        for (key, value) in a {
            let Some(id) = key.strip_prefix(SUPPRESS_PREFIX) else {
                continue;
            };
            let path = FieldPath::root().key("metadata").key("annotations").key(key.clone());
            if super::rule(id).is_none() {
                out.report(
                    i,
                    "bad-suppression",
                    path,
                    format!("`{key}` names no rule windlass knows"),
                );
            } else if value.as_str().unwrap_or("").trim().is_empty() {
                out.report(
                    i,
                    "bad-suppression",
                    path,
                    format!("`{key}` gives no reason, so it suppresses nothing"),
                );
            }
        }
    }
}
