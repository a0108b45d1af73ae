//! Why a rollout is stuck: each unready pod's containers (waiting and terminated
//! reasons, last state, restarts) and the recent Events about the workload and
//! its pods, as lines under the failure.

use k8s_openapi::api::core::v1::{Event as KubeEvent, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::Api;
use kube::api::ListParams;
use serde_json::Value;
use windlass_core::check;

use super::Ctx;
use super::wait::is_workload;
use crate::inventory::ObjectRef;
use crate::retry::with_retry;

/// Why a unit's workloads are not ready: each unready pod's containers (waiting
/// and terminated reasons, last state, restarts) and the recent Events.
pub(super) async fn diagnose(ctx: &Ctx, objects: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for o in objects {
        let r = ObjectRef::of(o);
        if !is_workload(&r.kind) {
            continue;
        }
        let Some(labels) = o.pointer("/spec/selector/matchLabels").and_then(Value::as_object) else {
            continue;
        };
        let selector: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        let pods: Api<Pod> = Api::namespaced(ctx.applier.client().clone(), &r.namespace);
        let params = ListParams::default().labels(&selector.join(","));
        let Ok(list) = with_retry(|| pods.list(&params)).await else {
            continue;
        };
        let mut names = vec![r.name.clone()];
        for pod in list.items.iter().filter(|p| !pod_ready(p)).take(5) {
            let name = pod.metadata.name.clone().unwrap_or_default();
            out.extend(describe_pod(pod));
            names.push(name);
        }
        out.extend(recent_events(ctx, &r.namespace, &names).await);
    }
    out
}

fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn describe_pod(pod: &Pod) -> Vec<String> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let ready = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .map(|c| {
            let why = c.reason.clone().or(c.message.clone()).unwrap_or_default();
            format!(
                "Ready={}{}",
                c.status,
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({why})")
                }
            )
        })
        .unwrap_or_else(|| "no Ready condition".into());
    let mut out = vec![format!(
        "pod {name}: {} {ready}",
        status.phase.as_deref().unwrap_or("Unknown")
    )];
    for c in status.container_statuses.iter().flatten() {
        let state = c.state.as_ref();
        let now = if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
            format!("waiting: {}", w.reason.as_deref().unwrap_or("unknown"))
        } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
            format!(
                "terminated: {} (exit {})",
                t.reason.as_deref().unwrap_or("unknown"),
                t.exit_code
            )
        } else if state.and_then(|s| s.running.as_ref()).is_some() {
            "running".to_string()
        } else {
            "unknown state".to_string()
        };
        let last = c
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(|t| {
                format!(
                    "; last state: terminated {} (exit {})",
                    t.reason.as_deref().unwrap_or("unknown"),
                    t.exit_code
                )
            })
            .unwrap_or_default();
        out.push(format!(
            "  container {}: {now}, ready={}, restarts={}{last}",
            c.name, c.ready, c.restart_count
        ));
    }
    out
}

async fn recent_events(ctx: &Ctx, namespace: &str, names: &[String]) -> Vec<String> {
    let api: Api<KubeEvent> = Api::namespaced(ctx.applier.client().clone(), namespace);
    let params = ListParams::default();
    let Ok(list) = with_retry(|| api.list(&params)).await else {
        return Vec::new();
    };
    let mut events: Vec<&KubeEvent> = list
        .items
        .iter()
        .filter(|e| {
            e.involved_object
                .name
                .as_ref()
                .is_some_and(|n| names.iter().any(|m| n == m || n.starts_with(&format!("{m}-"))))
        })
        .collect();
    events.sort_by_key(|e| {
        e.last_timestamp
            .as_ref()
            .map(|t| t.0)
            .or(e.event_time.as_ref().map(|t| t.0))
    });
    events
        .iter()
        .rev()
        .take(8)
        .rev()
        .map(|e| {
            format!(
                "event {} {} {}/{}: {}",
                e.type_.as_deref().unwrap_or(""),
                e.reason.as_deref().unwrap_or(""),
                e.involved_object.kind.as_deref().unwrap_or(""),
                e.involved_object.name.as_deref().unwrap_or(""),
                e.message.as_deref().unwrap_or("").trim()
            )
        })
        .collect()
}

/// The rules whose findings mean a unit can never become ready without a change:
/// `up` fails the unit on them at once instead of waiting for the timeout.
const NEVER_READY: &[&str] = &[
    "crash-loop",
    "image-pull-failing",
    "container-cannot-start",
    "pvc-unbound",
];

/// Why a unit can never become ready, if its pods or claims say so: the doctor's
/// live rules over the workloads' pods, the namespace's claims and the StorageClasses.
pub(super) async fn never_ready(ctx: &Ctx, objects: &[Value]) -> Option<String> {
    let client = ctx.applier.client().clone();
    let mut live: Vec<windlass_core::render::Object> = Vec::new();
    let mut namespaces: Vec<String> = Vec::new();
    for o in objects {
        let r = ObjectRef::of(o);
        if !is_workload(&r.kind) {
            continue;
        }
        let Some(labels) = o.pointer("/spec/selector/matchLabels").and_then(Value::as_object) else {
            continue;
        };
        let selector: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        let pods: Api<Pod> = Api::namespaced(client.clone(), &r.namespace);
        let params = ListParams::default().labels(&selector.join(","));
        let list = with_retry(|| pods.list(&params)).await.ok()?;
        for p in list.items {
            let v = serde_json::to_value(p).ok()?;
            live.push(windlass_core::render::Object(crate::doctor::reduce("Pod", "v1", v)));
        }
        if !namespaces.contains(&r.namespace) {
            namespaces.push(r.namespace.clone());
        }
    }
    if live.is_empty() {
        return None;
    }
    let all = ListParams::default();
    for ns in &namespaces {
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
        for c in with_retry(|| claims.list(&all)).await.ok()?.items {
            let v = serde_json::to_value(c).ok()?;
            live.push(windlass_core::render::Object(crate::doctor::reduce(
                "PersistentVolumeClaim",
                "v1",
                v,
            )));
        }
    }
    let classes: Api<StorageClass> = Api::all(client);
    for c in with_retry(|| classes.list(&all)).await.ok()?.items {
        let v = serde_json::to_value(c).ok()?;
        live.push(windlass_core::render::Object(crate::doctor::reduce(
            "StorageClass",
            "storage.k8s.io/v1",
            v,
        )));
    }
    let refs: Vec<&windlass_core::render::Object> = live.iter().collect();
    let now = jiff::Timestamp::now();
    let findings = check::run(&refs, check::Source::Live { now }, &check::Config::default());
    findings
        .into_iter()
        .find(|f| NEVER_READY.contains(&f.rule))
        .map(|f| format!("{} can never become ready: {} [{}]", f.object, f.message, f.rule))
}
