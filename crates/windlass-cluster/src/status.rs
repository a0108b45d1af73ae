//! The status snapshot: per app unit, its revision and last deploy (from the
//! history in the cluster), images, desired/ready replicas and rollout state
//! (from the live workload, read with retries), and URLs (from its routes).

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
        };
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
