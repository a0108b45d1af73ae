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
    for (r, pods) in workload_pods(ctx, objects).await {
        let Ok(pods) = pods else { continue };
        let mut names = vec![r.name.clone()];
        for pod in pods.iter().filter(|p| !pod_ready(p)).take(5) {
            let name = pod.metadata.name.clone().unwrap_or_default();
            out.extend(describe_pod(pod));
            names.push(name);
        }
        out.extend(recent_events(ctx, &r.namespace, &names).await);
    }
    out
}

/// Each workload among `objects` with its pods (those its `matchLabels` selects).
async fn workload_pods(ctx: &Ctx, objects: &[Value]) -> Vec<(ObjectRef, Result<Vec<Pod>, kube::Error>)> {
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
        let list = with_retry(|| pods.list(&params)).await.map(|l| l.items);
        out.push((r, list));
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

/// A typed object as the doctor's live rules read it.
fn reduced(kind: &str, api_version: &str, typed: impl serde::Serialize) -> Option<windlass_core::render::Object> {
    let v = serde_json::to_value(typed).ok()?;
    Some(windlass_core::render::Object(crate::doctor::reduce(
        kind,
        api_version,
        v,
    )))
}

/// Why a unit can never become ready, if its pods or claims say so: the doctor's
/// live rules over the workloads' pods, the claims those pods mount and (when
/// there are any) the StorageClasses that would provision them.
pub(super) async fn never_ready(ctx: &Ctx, objects: &[Value]) -> Option<String> {
    let mut live: Vec<windlass_core::render::Object> = Vec::new();
    let mut claims: Vec<(String, String)> = Vec::new();
    for (r, pods) in workload_pods(ctx, objects).await {
        for pod in pods.ok()? {
            let mounted = pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
            for claim in mounted.filter_map(|v| v.persistent_volume_claim.as_ref()) {
                let key = (r.namespace.clone(), claim.claim_name.clone());
                if !claims.contains(&key) {
                    claims.push(key);
                }
            }
            live.push(reduced("Pod", "v1", pod)?);
        }
    }
    if live.is_empty() {
        return None;
    }
    let client = ctx.applier.client().clone();
    for (ns, name) in &claims {
        let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
        if let Some(c) = with_retry(|| api.get_opt(name)).await.ok()? {
            live.push(reduced("PersistentVolumeClaim", "v1", c)?);
        }
    }
    if !claims.is_empty() {
        let classes: Api<StorageClass> = Api::all(client);
        let all = ListParams::default();
        for c in with_retry(|| classes.list(&all)).await.ok()?.items {
            live.push(reduced("StorageClass", "storage.k8s.io/v1", c)?);
        }
    }
    let refs: Vec<&windlass_core::render::Object> = live.iter().collect();
    let now = jiff::Timestamp::now();
    let findings = check::run(&refs, check::Source::Live { now }, &check::Config::default());
    findings
        .into_iter()
        .find(|f| NEVER_READY.contains(&f.rule))
        .map(|f| format!("{} can never become ready: {} [{}]", f.object, f.message, f.rule))
}
