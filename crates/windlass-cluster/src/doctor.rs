//! The live source of `windlass doctor`: every kind the rules read, listed a
//! page at a time (`limit`/`continue`), each object reduced at once to the
//! fields rules read (no env, no managedFields, no CA bundles, no node image
//! lists, no Secret data: Secrets are listed as metadata only). Pods, the kind
//! that grows with the cluster, come last and go through the rules a page at a
//! time (`windlass_core::check::Paged`), so memory holds the reduced context,
//! one page of pods and a skeleton per pod, never a copy of the cluster.

use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::{Client, Resource};
use serde::Deserialize;
use serde_json::{Map, Value};
use windlass_core::check::{PAGED_KIND, Paged};
use windlass_core::render::Object;

use crate::ClusterError;
use crate::retry::with_retry;

/// Objects per list request: large enough to keep round trips few, small
/// enough that one page of pods stays a few megabytes.
const PAGE: u32 = 500;

/// (group, version, kind, plural, namespaced)
const KINDS: &[(&str, &str, &str, &str, bool)] = &[
    ("", "v1", "Namespace", "namespaces", false),
    ("", "v1", "Node", "nodes", false),
    ("storage.k8s.io", "v1", "StorageClass", "storageclasses", false),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
    ("apiregistration.k8s.io", "v1", "APIService", "apiservices", false),
    ("", "v1", "Pod", "pods", true),
    ("", "v1", "Service", "services", true),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true),
    ("", "v1", "Secret", "secrets", true),
    ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true),
    ("apps", "v1", "Deployment", "deployments", true),
    ("apps", "v1", "StatefulSet", "statefulsets", true),
    ("apps", "v1", "DaemonSet", "daemonsets", true),
    ("batch", "v1", "CronJob", "cronjobs", true),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    ),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", true),
    ("cert-manager.io", "v1", "Certificate", "certificates", true),
    ("monitoring.coreos.com", "v1", "Prometheus", "prometheuses", true),
    ("monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors", true),
    ("monitoring.coreos.com", "v1", "PodMonitor", "podmonitors", true),
    ("monitoring.coreos.com", "v1", "Probe", "probes", true),
    ("monitoring.coreos.com", "v1", "PrometheusRule", "prometheusrules", true),
    ("gateway.networking.k8s.io", "v1", "Gateway", "gateways", true),
    ("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes", true),
];

/// One page of a list, as the apiserver sends it.
#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    metadata: PageMeta,
    /// `null` in an empty metadata-only list.
    #[serde(default)]
    items: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
struct PageMeta {
    #[serde(rename = "continue", default)]
    continue_: Option<String>,
}

/// What doctor read and found.
pub struct Collected<'c> {
    /// The rules' findings so far, every object read (pods as skeletons).
    pub paged: Paged<'c>,
    /// Objects read per kind.
    pub counts: Vec<(&'static str, usize)>,
    /// Kinds not read, and why (not served by this cluster, forbidden).
    pub skipped: Vec<(&'static str, String)>,
}

/// Lists every kind (namespaced kinds in `namespace` only, when given),
/// reducing each object as its page arrives: every kind but pods into the
/// context `start` turns into the rules' [`Paged`] run, then pods a page at a
/// time through it, so memory never holds more than one page of whole pods.
pub async fn collect<'c>(
    client: &Client,
    namespace: Option<&str>,
    start: impl FnOnce(Vec<Object>) -> Paged<'c>,
) -> Result<Collected<'c>, ClusterError> {
    let mut counts = Vec::new();
    let mut skipped = Vec::new();
    let mut context = Vec::new();
    for kind in KINDS.iter().filter(|k| k.2 != PAGED_KIND) {
        list(client, namespace, *kind, &mut counts, &mut skipped, |page| {
            context.extend(page)
        })
        .await?;
    }
    let mut paged = start(context);
    for kind in KINDS.iter().filter(|k| k.2 == PAGED_KIND) {
        list(client, namespace, *kind, &mut counts, &mut skipped, |page| {
            paged.page(page)
        })
        .await?;
    }
    Ok(Collected { paged, counts, skipped })
}

/// Lists one kind a page at a time, each page reduced and handed to `on_page`.
/// The next page is requested before this one is processed, so the apiserver
/// encodes it while doctor reduces and judges this one.
async fn list(
    client: &Client,
    namespace: Option<&str>,
    (group, version, kind, plural, namespaced): (&str, &str, &'static str, &str, bool),
    counts: &mut Vec<(&'static str, usize)>,
    skipped: &mut Vec<(&'static str, String)>,
    mut on_page: impl FnMut(Vec<Object>),
) -> Result<(), ClusterError> {
    let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    let url = match (namespaced, namespace) {
        (true, Some(ns)) => DynamicObject::url_path(&resource, Some(ns)),
        _ => DynamicObject::url_path(&resource, None),
    };
    let api_version = resource.api_version.clone();
    let fetch = |token: Option<String>| {
        let client = client.clone();
        let url = url.clone();
        tokio::spawn(async move { page(&client, url, kind, token).await })
    };
    let mut pending = Some(fetch(None));
    let mut count = 0;
    while let Some(handle) = pending.take() {
        let answer = handle
            .await
            .map_err(|e| ClusterError::api(format!("listing {plural}"), kube::Error::Service(Box::new(e))))?;
        let (items, next) = match answer {
            Ok(p) => p,
            Err(kube::Error::Api(s)) if s.code == 404 => {
                skipped.push((kind, "not served by this cluster".to_string()));
                break;
            }
            Err(kube::Error::Api(s)) if s.code == 403 => {
                skipped.push((kind, format!("forbidden: {}", s.message)));
                break;
            }
            Err(e) => return Err(ClusterError::api(format!("listing {plural}"), e)),
        };
        if let Some(t) = next.filter(|t| !t.is_empty()) {
            pending = Some(fetch(Some(t)));
        }
        count += items.len();
        on_page(
            items
                .into_iter()
                .map(|item| Object(reduce(kind, &api_version, item)))
                .collect(),
        );
    }
    counts.push((kind, count));
    Ok(())
}

/// One page of a list, straight into JSON values (no typed copy in between);
/// Secrets as metadata only.
async fn page(
    client: &Client,
    url: String,
    kind: &str,
    token: Option<String>,
) -> Result<(Vec<Value>, Option<String>), kube::Error> {
    let request = kube::core::Request::new(url);
    let mut lp = ListParams::default().limit(PAGE);
    if let Some(t) = &token {
        lp = lp.continue_token(t);
    }
    with_retry(|| async {
        let req = if kind == "Secret" {
            request.list_metadata(&lp)
        } else {
            request.list(&lp)
        }
        .map_err(kube::Error::BuildRequest)?;
        client.request::<Page>(req).await
    })
    .await
    .map(|p| (p.items.unwrap_or_default(), p.metadata.continue_))
}

/// Annotations rules read; every other annotation (last-applied configurations,
/// checksums) is dropped.
fn kept_annotation(key: &str) -> bool {
    key.starts_with(windlass_core::check::SUPPRESS_PREFIX)
        || key.starts_with("cert-manager.io/")
        || key == "storageclass.kubernetes.io/is-default-class"
}

fn take(from: &mut Map<String, Value>, key: &str) -> Option<Value> {
    from.remove(key).filter(|v| !v.is_null())
}

/// The object reduced to the fields rules read.
pub fn reduce(kind: &str, api_version: &str, mut v: Value) -> Value {
    let owned = windlass_core::check::controlled(&v);
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String(api_version.to_string()));
    out.insert("kind".into(), Value::String(kind.to_string()));
    let Some(o) = v.as_object_mut() else {
        return Value::Object(out);
    };
    if let Some(Value::Object(mut m)) = o.remove("metadata") {
        let mut meta = Map::new();
        for key in [
            "name",
            "namespace",
            "labels",
            "creationTimestamp",
            "deletionTimestamp",
            "finalizers",
        ] {
            if let Some(x) = take(&mut m, key) {
                meta.insert(key.into(), x);
            }
        }
        if let Some(Value::Object(a)) = m.remove("annotations") {
            let kept: Map<String, Value> = a.into_iter().filter(|(k, _)| kept_annotation(k)).collect();
            if !kept.is_empty() {
                meta.insert("annotations".into(), Value::Object(kept));
            }
        }
        if let Some(Value::Array(refs)) = m.remove("ownerReferences") {
            let refs: Vec<Value> = refs
                .into_iter()
                .map(|r| serde_json::json!({"kind": r.get("kind"), "name": r.get("name"), "controller": r.get("controller")}))
                .collect();
            meta.insert("ownerReferences".into(), Value::Array(refs));
        }
        out.insert("metadata".into(), Value::Object(meta));
    }
    match kind {
        "Node" => {
            let conditions = o
                .get_mut("status")
                .and_then(|s| s.get_mut("conditions"))
                .map(Value::take);
            if let Some(c) = conditions {
                out.insert("status".into(), serde_json::json!({ "conditions": c }));
            }
            return Value::Object(out);
        }
        "EndpointSlice" => {
            let endpoints: Vec<Value> = o
                .get("endpoints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|e| serde_json::json!({"conditions": e.get("conditions")}))
                .collect();
            out.insert("endpoints".into(), Value::Array(endpoints));
            return Value::Object(out);
        }
        "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration" => {
            if let Some(Value::Array(mut hooks)) = o.remove("webhooks") {
                for h in &mut hooks {
                    if let Some(cc) = h.get_mut("clientConfig").and_then(Value::as_object_mut) {
                        cc.remove("caBundle");
                    }
                }
                out.insert("webhooks".into(), Value::Array(hooks));
            }
            return Value::Object(out);
        }
        "PrometheusRule" => return Value::Object(out),
        _ => {}
    }
    if let Some(mut spec) = o.remove("spec") {
        if let Some(s) = spec.as_object_mut() {
            s.remove("caBundle");
            if kind == "Pod" {
                reduce_pod_spec(s, owned);
            }
        }
        strip_containers(&mut spec);
        out.insert("spec".into(), spec);
    }
    if let Some(mut status) = o.remove("status") {
        if let Some(st) = status.as_object_mut() {
            reduce_status(kind, st);
        }
        out.insert("status".into(), status);
    }
    Value::Object(out)
}

/// A pod's spec without what no rule reads; a pod a controller made keeps only
/// its containers' memory limits and its claims (its owner's template is judged).
fn reduce_pod_spec(s: &mut Map<String, Value>, owned: bool) {
    if owned {
        let containers: Vec<Value> = s
            .get("containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| {
                let mut kept = Map::new();
                if let Some(n) = c.get("name") {
                    kept.insert("name".into(), n.clone());
                }
                if let Some(m) = c.pointer("/resources/limits/memory") {
                    kept.insert("resources".into(), serde_json::json!({"limits": {"memory": m}}));
                }
                Value::Object(kept)
            })
            .collect();
        let claims: Vec<Value> = s
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|v| v.get("persistentVolumeClaim").is_some())
            .cloned()
            .collect();
        s.clear();
        s.insert("containers".into(), Value::Array(containers));
        if !claims.is_empty() {
            s.insert("volumes".into(), Value::Array(claims));
        }
        return;
    }
    for drop in [
        "tolerations",
        "dnsPolicy",
        "dnsConfig",
        "schedulerName",
        "terminationGracePeriodSeconds",
        "restartPolicy",
        "serviceAccountName",
        "serviceAccount",
        "enableServiceLinks",
        "preemptionPolicy",
        "priority",
        "priorityClassName",
        "nodeName",
        "hostname",
        "subdomain",
        "affinity",
        "topologySpreadConstraints",
        "readinessGates",
        "imagePullSecrets",
        "nodeSelector",
        "overhead",
        "runtimeClassName",
    ] {
        s.remove(drop);
    }
}

/// Status without what no rule reads: only the condition fields, container
/// states and counts, no addresses, images or IDs.
fn reduce_status(kind: &str, st: &mut Map<String, Value>) {
    if let Some(Value::Array(conditions)) = st.get_mut("conditions") {
        if kind == "Pod" {
            conditions.retain(|c| matches!(c.get("type").and_then(Value::as_str), Some("Ready" | "PodScheduled")));
        }
        for c in conditions.iter_mut().filter_map(Value::as_object_mut) {
            c.remove("lastProbeTime");
            c.remove("lastHeartbeatTime");
            c.remove("lastUpdateTime");
            c.remove("observedGeneration");
        }
    }
    if kind == "Pod" {
        for drop in [
            "hostIP",
            "hostIPs",
            "podIP",
            "podIPs",
            "qosClass",
            "initContainerStatuses",
            "observedGeneration",
        ] {
            st.remove(drop);
        }
    }
    if let Some(cs) = st.get_mut("containerStatuses").and_then(Value::as_array_mut) {
        for c in cs.iter_mut().filter_map(Value::as_object_mut) {
            for drop in [
                "image",
                "imageID",
                "containerID",
                "volumeMounts",
                "allocatedResources",
                "user",
                "started",
                "ready",
                "resources",
            ] {
                c.remove(drop);
            }
        }
    }
}

/// Drops what no rule reads from every container below `v`: env, args, commands, mounts.
fn strip_containers(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for key in ["containers", "initContainers", "ephemeralContainers"] {
                if let Some(Value::Array(cs)) = m.get_mut(key) {
                    for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                        for drop in [
                            "env",
                            "envFrom",
                            "args",
                            "command",
                            "volumeMounts",
                            "volumeDevices",
                            "lifecycle",
                            "terminationMessagePath",
                            "terminationMessagePolicy",
                            "imagePullPolicy",
                            "workingDir",
                        ] {
                            c.remove(drop);
                        }
                    }
                }
            }
            for (k, child) in m.iter_mut() {
                if !matches!(k.as_str(), "containers" | "initContainers" | "ephemeralContainers") {
                    strip_containers(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_containers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reduce_keeps_what_rules_read_and_drops_the_rest() {
        let pod = json!({
            "metadata": {"name": "p", "namespace": "n", "labels": {"a": "b"}, "managedFields": [{"manager": "x"}],
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}", "windlass.dev/ignore.crash-loop": "known"},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "uid": "u", "controller": true, "apiVersion": "apps/v1"}]},
            "spec": {"containers": [{"name": "c", "image": "c:1", "env": [{"name": "SECRET", "value": "x"}], "resources": {"limits": {"memory": "1Gi"}}}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "c", "imageID": "sha", "restartCount": 3}]}
        });
        assert_eq!(
            reduce("Pod", "v1", pod),
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": "n", "labels": {"a": "b"},
                             "annotations": {"windlass.dev/ignore.crash-loop": "known"},
                             "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "controller": true}]},
                // A controller's pod: only what live rules read (its owner's template is judged).
                "spec": {"containers": [{"name": "c", "resources": {"limits": {"memory": "1Gi"}}}]},
                "status": {"phase": "Running", "containerStatuses": [{"name": "c", "restartCount": 3}]}
            })
        );
        let node = json!({"metadata": {"name": "n1"}, "status": {"images": [{"names": ["big"]}], "conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(
            reduce("Node", "v1", node),
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
        );
    }
}
