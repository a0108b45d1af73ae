//! The status snapshot: per app unit, its revision and last deploy (from the
//! history in the cluster), images, desired/ready replicas and rollout state
//! (from the live workload, read with retries), URLs (from its routes) and
//! whether its Certificates are issued.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::PodSpec;
use kube::Api;
use serde::Serialize;
use serde_json::Value;
use windlass_core::unit::UnitId;

use crate::ClusterError;
use crate::engine::Ctx;
use crate::gates::{self, Rollout};
use crate::retry::with_retry;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppStatus {
    pub app: String,
    pub namespace: String,
    pub revision: Option<u32>,
    pub last_deploy: Option<String>,
    pub last_result: Option<String>,
    pub images: Vec<String>,
    pub desired: Option<i32>,
    pub ready: Option<i32>,
    pub rollout: String,
    pub urls: Vec<String>,
    /// Each of the app's Certificates and where its issuance stands (`ready`,
    /// `progressing: ...`, `failed: ...`): an ACME Certificate that `up` does not
    /// wait for shows here until it is issued.
    pub certificates: Vec<CertificateStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertificateStatus {
    pub name: String,
    /// `ready`, `progressing: ...` or `failed: ...`.
    pub state: String,
}

pub(crate) async fn snapshot(ctx: &Ctx, apps: &[UnitId]) -> Result<Vec<AppStatus>, ClusterError> {
    let mut out = Vec::new();
    for unit in apps {
        let UnitId::App { namespace, name } = unit else {
            continue;
        };
        let history = ctx.store.load(unit).await?;
        let latest = history.latest();
        let objects: Vec<Value> = history.last_deployed().map(|r| r.objects.clone()).unwrap_or_default();
        let mut status = AppStatus {
            app: name.clone(),
            namespace: namespace.clone(),
            revision: history.last_deployed().map(|r| r.revision),
            last_deploy: latest.map(|r| r.at.clone()),
            last_result: latest.map(|r| {
                if r.message.is_empty() {
                    r.result.to_string()
                } else {
                    format!("{}: {}", r.result, r.message)
                }
            }),
            images: Vec::new(),
            desired: None,
            ready: None,
            rollout: "not deployed".into(),
            urls: urls(&objects),
            certificates: Vec::new(),
        };
        for c in objects.iter().filter(|o| {
            o.get("kind").and_then(Value::as_str) == Some("Certificate")
                && o.get("apiVersion").and_then(Value::as_str) == Some("cert-manager.io/v1")
        }) {
            let r = crate::inventory::ObjectRef::of(c);
            let live = ctx.applier.get(&r).await?;
            let state = match live {
                Some(o) => rollout(gates::certificate(&serde_json::to_value(&o).unwrap_or_default())),
                None => "missing".into(),
            };
            status.certificates.push(CertificateStatus { name: r.name, state });
        }
        let kind = objects
            .iter()
            .filter_map(|o| o.get("kind").and_then(Value::as_str))
            .find(|k| matches!(*k, "Deployment" | "StatefulSet" | "CronJob"));
        let client = ctx.applier.client().clone();
        let what = |kind: &str| format!("{kind}/{namespace}/{name}");
        match kind {
            Some("Deployment") => {
                let api: Api<Deployment> = Api::namespaced(client, namespace);
                let live = with_retry(|| api.get_opt(name))
                    .await
                    .map_err(|e| ClusterError::api(what("Deployment"), e))?;
                match live {
                    Some(d) => {
                        status.images = images(d.spec.as_ref().and_then(|s| s.template.spec.as_ref()));
                        status.desired = d.spec.as_ref().and_then(|s| s.replicas);
                        status.ready = Some(d.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0));
                        status.rollout = rollout(gates::deployment(&d));
                    }
                    None => status.rollout = "missing".into(),
                }
            }
            Some("StatefulSet") => {
                let api: Api<StatefulSet> = Api::namespaced(client, namespace);
                let live = with_retry(|| api.get_opt(name))
                    .await
                    .map_err(|e| ClusterError::api(what("StatefulSet"), e))?;
                match live {
                    Some(s) => {
                        status.images = images(s.spec.as_ref().and_then(|s| s.template.spec.as_ref()));
                        status.desired = s.spec.as_ref().and_then(|s| s.replicas);
                        status.ready = Some(s.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0));
                        status.rollout = rollout(gates::stateful_set(&s));
                    }
                    None => status.rollout = "missing".into(),
                }
            }
            Some("CronJob") => {
                let api: Api<CronJob> = Api::namespaced(client, namespace);
                let live = with_retry(|| api.get_opt(name))
                    .await
                    .map_err(|e| ClusterError::api(what("CronJob"), e))?;
                match live {
                    Some(c) => {
                        status.images = images(
                            c.spec
                                .as_ref()
                                .and_then(|s| s.job_template.spec.as_ref())
                                .and_then(|s| s.template.spec.as_ref()),
                        );
                        let last = c.status.as_ref().and_then(|s| s.last_schedule_time.as_ref());
                        status.rollout = match last {
                            Some(t) => format!("scheduled, last run {}", t.0),
                            None => "scheduled, not run yet".into(),
                        };
                    }
                    None => status.rollout = "missing".into(),
                }
            }
            _ => {}
        }
        out.push(status);
    }
    Ok(out)
}

fn rollout(r: Rollout) -> String {
    match r {
        Rollout::Ready => "ready".into(),
        Rollout::Progressing(m) => format!("progressing: {m}"),
        Rollout::Failed(m) => format!("failed: {m}"),
    }
}

fn images(spec: Option<&PodSpec>) -> Vec<String> {
    spec.map(|s| s.containers.iter().filter_map(|c| c.image.clone()).collect())
        .unwrap_or_default()
}

/// `https://<host>` for every hostname the app's HTTPRoutes and Ingresses serve.
fn urls(objects: &[Value]) -> Vec<String> {
    let mut hosts = Vec::new();
    for o in objects {
        match o.get("kind").and_then(Value::as_str) {
            Some("HTTPRoute") => {
                for h in o
                    .pointer("/spec/hostnames")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    hosts.extend(h.as_str().map(str::to_string));
                }
            }
            Some("Ingress") => {
                for r in o.pointer("/spec/rules").and_then(Value::as_array).into_iter().flatten() {
                    hosts.extend(r.get("host").and_then(Value::as_str).map(str::to_string));
                }
            }
            _ => {}
        }
    }
    hosts.sort();
    hosts.dedup();
    hosts.into_iter().map(|h| format!("https://{h}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_come_from_routes_and_ingresses_once_each() {
        let objects = [
            json!({"kind": "HTTPRoute", "spec": {"hostnames": ["b.example.com", "a.example.com"]}}),
            json!({"kind": "Ingress", "spec": {"rules": [{"host": "a.example.com"}, {"host": "c.example.com"}]}}),
            json!({"kind": "Service", "spec": {"hostnames": ["x"]}}),
        ];
        assert_eq!(
            urls(&objects),
            [
                "https://a.example.com",
                "https://b.example.com",
                "https://c.example.com"
            ]
        );
    }
}

/// One platform component: its chart, helm's view of its release, and how many
/// of its workloads are ready.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentStatus {
    pub component: String,
    pub namespace: String,
    pub chart: String,
    pub version: String,
    /// helm's release revision and status (`deployed`, `failed`, `pending-upgrade`, ...); `None`: not installed.
    pub release_revision: Option<u32>,
    pub release_status: Option<String>,
    /// Workloads of the release (Deployments, StatefulSets, DaemonSets) ready, of all.
    pub workloads_ready: usize,
    pub workloads: usize,
    pub urls: Vec<String>,
}

pub(crate) async fn components(
    ctx: &Ctx,
    components: &[(windlass_core::components::Component, Vec<String>)],
) -> Result<Vec<ComponentStatus>, ClusterError> {
    use k8s_openapi::api::apps::v1::DaemonSet;
    use kube::api::ListParams;
    let mut out = Vec::new();
    for (c, urls) in components {
        let state = crate::engine::release_state(ctx, &c.release, &c.namespace).await?;
        let lp = ListParams::default().labels(&format!("app.kubernetes.io/instance={}", c.release));
        let client = ctx.applier.client().clone();
        let mut ready = 0;
        let mut total = 0;
        macro_rules! count {
            ($t:ty, $gate:path) => {{
                let api: Api<$t> = Api::namespaced(client.clone(), &c.namespace);
                let list = with_retry(|| api.list(&lp))
                    .await
                    .map_err(|e| ClusterError::api(format!("workloads of {} in {}", c.release, c.namespace), e))?;
                for w in &list.items {
                    total += 1;
                    if $gate(w) == Rollout::Ready {
                        ready += 1;
                    }
                }
            }};
        }
        count!(Deployment, gates::deployment);
        count!(StatefulSet, gates::stateful_set);
        count!(DaemonSet, gates::daemon_set);
        out.push(ComponentStatus {
            component: c.name.to_string(),
            namespace: c.namespace.clone(),
            chart: c.chart.name.clone(),
            version: c.chart.version.clone(),
            release_revision: state.as_ref().map(|s| s.revision),
            release_status: state.map(|s| s.status),
            workloads_ready: ready,
            workloads: total,
            urls: urls.clone(),
        });
    }
    Ok(out)
}
