//! `windlass status`: per app of the environment, its revision and last deploy
//! (from the history in the cluster), images, desired/ready replicas and rollout
//! state (from the live workload), and URLs (from its routes).

use std::process::ExitCode;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use kube::Api;
use serde_json::Value;
use windlass_cluster::gates::{self, Rollout};

use super::load_platform;
use super::units::{app_unit, runtime, session};
use crate::cli::{OutputFormat, StatusArgs};
use crate::error::CliError;
use crate::output::print;
use windlass_core::plan::Plan;

#[derive(Debug, serde::Serialize)]
struct AppStatus {
    app: String,
    namespace: String,
    revision: Option<u32>,
    last_deploy: Option<String>,
    last_result: Option<String>,
    images: Vec<String>,
    desired: Option<i32>,
    ready: Option<i32>,
    rollout: String,
    urls: Vec<String>,
}

pub fn run(args: &StatusArgs) -> Result<ExitCode, CliError> {
    let platform = load_platform(&args.spec)?;
    let plan = Plan::new(&platform, &args.selection.only)?;
    let apps = runtime()?.block_on(async {
        let session = session(&args.cluster, &platform, false).await?;
        let client = session.applier.client().clone();
        let mut out = Vec::new();
        for name in &plan.apps {
            let Some(app) = platform.app(name) else { continue };
            let history = session.store.load(&app_unit(&app.namespace, &app.name)).await?;
            let latest = history.latest();
            let objects: Vec<Value> = history.last_deployed().map(|r| r.objects.clone()).unwrap_or_default();
            let mut status = AppStatus {
                app: app.name.clone(),
                namespace: app.namespace.clone(),
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
            let ns = &app.namespace;
            match kind {
                Some("Deployment") => {
                    let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
                    if let Some(d) = api.get_opt(&app.name).await.map_err(|e| cluster(&app.name, e))? {
                        status.images = images(d.spec.as_ref().and_then(|s| s.template.spec.as_ref()));
                        status.desired = d.spec.as_ref().and_then(|s| s.replicas);
                        status.ready = Some(d.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0));
                        status.rollout = rollout(gates::deployment(&d));
                    } else {
                        status.rollout = "missing".into();
                    }
                }
                Some("StatefulSet") => {
                    let api: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
                    if let Some(s) = api.get_opt(&app.name).await.map_err(|e| cluster(&app.name, e))? {
                        status.images = images(s.spec.as_ref().and_then(|s| s.template.spec.as_ref()));
                        status.desired = s.spec.as_ref().and_then(|s| s.replicas);
                        status.ready = Some(s.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0));
                        status.rollout = rollout(gates::stateful_set(&s));
                    } else {
                        status.rollout = "missing".into();
                    }
                }
                Some("CronJob") => {
                    let api: Api<CronJob> = Api::namespaced(client.clone(), ns);
                    if let Some(c) = api.get_opt(&app.name).await.map_err(|e| cluster(&app.name, e))? {
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
                    } else {
                        status.rollout = "missing".into();
                    }
                }
                _ => {}
            }
            out.push(status);
        }
        Ok::<_, CliError>(out)
    })?;
    match args.output {
        OutputFormat::Json => print(&format!(
            "{}\n",
            serde_json::json!({"environment": platform.environment, "apps": apps})
        ))?,
        OutputFormat::Text => print(&text(&platform.environment, &apps))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn cluster(app: &str, e: kube::Error) -> CliError {
    CliError::Cluster(windlass_cluster::ClusterError::api(format!("app {app}"), e))
}

fn rollout(r: Rollout) -> String {
    match r {
        Rollout::Ready => "ready".into(),
        Rollout::Progressing(m) => format!("progressing: {m}"),
        Rollout::Failed(m) => format!("failed: {m}"),
    }
}

fn images(spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> Vec<String> {
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

fn text(environment: &str, apps: &[AppStatus]) -> String {
    let mut s = format!("environment `{environment}`\n");
    s.push_str(&format!(
        "{:<14} {:<4} {:<9} {:<28} {:<22} {}\n",
        "APP", "REV", "READY", "ROLLOUT", "LAST DEPLOY", "IMAGES / URLS"
    ));
    for a in apps {
        let ready = match (a.ready, a.desired) {
            (Some(r), Some(d)) => format!("{r}/{d}"),
            (Some(r), None) => format!("{r}"),
            _ => "-".into(),
        };
        let last = match (&a.last_deploy, &a.last_result) {
            (Some(t), Some(r)) => format!("{t} {}", r.split(':').next().unwrap_or(r)),
            _ => "never".into(),
        };
        s.push_str(&format!(
            "{:<14} {:<4} {:<9} {:<28} {:<22} {}\n",
            a.app,
            a.revision.map_or("-".into(), |r| r.to_string()),
            ready,
            a.rollout,
            last,
            a.images.join(", ")
        ));
        for u in &a.urls {
            s.push_str(&format!("{:<92}{u}\n", ""));
        }
    }
    s
}
