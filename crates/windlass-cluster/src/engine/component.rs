//! Platform component units: `crds.<name>` (the chart's CRDs, server-side
//! applied and waited for until Established) and `component.<name>` (the
//! component's namespace and windlass objects, then its Helm release, then the
//! semantic gates that prove it works). Both record a revision in the unit's
//! history like any unit; an unchanged unit is not touched: a CRD unit whose
//! chart is the one last applied is skipped without fetching it, and a release
//! whose inputs are unchanged and which helm reports `deployed` is not run.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};
use windlass_core::components::{Component, GateKind};

use super::{ApplyUnit, Ctx, Event, UnitResult, apply};
use crate::ClusterError;
use crate::helm::{Helm, ReleaseState};
use crate::history::{self, History, Outcome, Revision};
use crate::inventory::ObjectRef;
use crate::retry::with_retry;

fn failure(unit: &ApplyUnit, ctx: &Ctx, reason: String, details: Vec<String>) -> UnitResult {
    ctx.emit(Event::Failed {
        unit: unit.id.clone(),
        reason,
        details,
    });
    UnitResult {
        unit: unit.id.clone(),
        ok: false,
        changed: false,
        revision: None,
    }
}

fn ready(unit: &ApplyUnit, ctx: &Ctx, revision: u32, changed: bool, started: Instant) -> UnitResult {
    ctx.emit(Event::Ready {
        unit: unit.id.clone(),
        revision,
        changed,
        seconds: started.elapsed().as_secs_f64(),
    });
    UnitResult {
        unit: unit.id.clone(),
        ok: true,
        changed,
        revision: Some(revision),
    }
}

/// What decides whether a `crds.NAME` unit applies again: the chart it takes them from.
pub(crate) fn crds_digest(c: &Component) -> String {
    history::digest(&[json!({
        "repository": c.chart.repository,
        "chart": c.chart.name,
        "version": c.chart.version,
    })])
}

/// What decides whether a release must run again: the unit's own (marked)
/// objects, the chart and every value.
pub(crate) fn release_digest(objects: &[Value], c: &Component) -> String {
    let mut digested = objects.to_vec();
    digested.push(release_inputs(c));
    history::digest(&digested)
}

fn release_inputs(c: &Component) -> Value {
    json!({
        "repository": c.chart.repository,
        "chart": c.chart.name,
        "version": c.chart.version,
        "release": c.release,
        "namespace": c.namespace,
        "values": c.values,
    })
}

/// `crds.<name>`: the chart's CRDs, applied and Established.
pub(super) async fn crds(ctx: &Ctx, unit: ApplyUnit, component: &Component, timeout: Duration) -> UnitResult {
    let started = Instant::now();
    let mut history = match ctx.store.load(&unit.id).await {
        Ok(h) => h,
        Err(e) => return failure(&unit, ctx, e.to_string(), Vec::new()),
    };
    let digest = crds_digest(component);
    if let Some(r) = history
        .latest()
        .filter(|r| r.result == Outcome::Deployed && r.digest == digest)
    {
        let revision = r.revision;
        return ready(&unit, ctx, revision, false, started);
    }
    let helm = match ctx.helm().await {
        Ok(h) => h,
        Err(e) => return failure(&unit, ctx, e, Vec::new()),
    };
    let package = match helm.fetch(&component.chart).await {
        Ok(p) => p,
        Err(e) => return failure(&unit, ctx, e.to_string(), Vec::new()),
    };
    let crds = match helm.crds(component, &package).await {
        Ok(c) => c,
        Err(e) => return failure(&unit, ctx, e.to_string(), Vec::new()),
    };
    let number = history.next_number();
    // Marked as this unit's, so `down --purge` finds them.
    let crds = apply::unit_objects(&history, &crds);
    // Only references are kept: the prometheus-operator CRDs alone are several MiB.
    let refs: Vec<Value> = crds.iter().map(reference).collect();
    history.push(Revision::pending(number, digest, String::new(), refs));
    if let Err(e) = ctx.store.save(&history).await {
        return failure(&unit, ctx, e.to_string(), Vec::new());
    }
    ctx.emit(Event::Applying {
        unit: unit.id.clone(),
        objects: crds.len(),
        revision: number,
    });
    if let Err(e) = apply::apply_all(ctx, &crds).await {
        apply::set_result(&mut history, number, Outcome::Failed, e.to_string());
        let _ = ctx.store.save(&history).await;
        return failure(&unit, ctx, e.to_string(), Vec::new());
    }
    let names: Vec<String> = crds
        .iter()
        .filter_map(|c| c.pointer("/metadata/name").and_then(Value::as_str).map(str::to_string))
        .collect();
    if let Err(reason) = wait_established(ctx, &unit, &names, timeout).await {
        apply::set_result(&mut history, number, Outcome::Failed, reason.clone());
        let _ = ctx.store.save(&history).await;
        return failure(&unit, ctx, reason, Vec::new());
    }
    apply::set_result(&mut history, number, Outcome::Deployed, String::new());
    if let Err(e) = ctx.store.save(&history).await {
        return failure(&unit, ctx, e.to_string(), Vec::new());
    }
    ready(&unit, ctx, number, true, started)
}

fn reference(o: &Value) -> Value {
    json!({
        "apiVersion": o.get("apiVersion").cloned().unwrap_or(Value::Null),
        "kind": o.get("kind").cloned().unwrap_or(Value::Null),
        "metadata": {"name": o.pointer("/metadata/name").cloned().unwrap_or(Value::Null)},
    })
}

async fn wait_established(ctx: &Ctx, unit: &ApplyUnit, names: &[String], timeout: Duration) -> Result<(), String> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let api: Api<CustomResourceDefinition> = Api::all(ctx.applier.client().clone());
    let start = Instant::now();
    loop {
        let mut waiting = Vec::new();
        for n in names {
            let crd = with_retry(|| api.get_opt(n)).await.map_err(|e| e.to_string())?;
            let established = crd
                .and_then(|c| c.status)
                .and_then(|s| s.conditions)
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Established" && c.status == "True"));
            if !established {
                waiting.push(n.clone());
            }
        }
        if waiting.is_empty() {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(format!(
                "CRDs not Established within {}s: {}",
                timeout.as_secs(),
                waiting.join(", ")
            ));
        }
        ctx.emit(Event::Waiting {
            unit: unit.id.clone(),
            message: format!("{} CRDs not Established yet", waiting.len()),
        });
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The newest revision helm stores for `release` (its release Secrets' labels).
pub(crate) async fn release_state(
    ctx: &Ctx,
    release: &str,
    namespace: &str,
) -> Result<Option<ReleaseState>, ClusterError> {
    let api: Api<Secret> = Api::namespaced(ctx.applier.client().clone(), namespace);
    let lp = ListParams::default().labels(&format!("owner=helm,name={release}"));
    let list = with_retry(|| api.list_metadata(&lp))
        .await
        .map_err(|e| ClusterError::api(format!("helm releases in {namespace}"), e))?;
    Ok(list
        .items
        .iter()
        .filter_map(|s| {
            let labels = s.metadata.labels.as_ref()?;
            Some(ReleaseState {
                revision: labels.get("version")?.parse().ok()?,
                status: labels.get("status")?.clone(),
            })
        })
        .max_by_key(|s| s.revision))
}

/// A component unit's own objects as it applies them: its namespace(s) unmarked
/// (shared by the components in it, never pruned with one of them), the rest
/// marked as members of the unit's applyset.
pub(crate) fn own_objects(unit: &ApplyUnit, history: &History) -> (Vec<Value>, Vec<Value>) {
    let (namespaces, objects): (Vec<Value>, Vec<Value>) = unit
        .objects
        .iter()
        .cloned()
        .chain(unit.namespace.clone())
        .partition(|o| o.get("kind").and_then(Value::as_str) == Some("Namespace"));
    (namespaces, apply::unit_objects(history, &objects))
}

/// `component.<name>`: namespace, windlass objects, the release, the gates.
pub(super) async fn release(ctx: &Ctx, unit: ApplyUnit, component: &Component, timeout: Duration) -> UnitResult {
    let started = Instant::now();
    let mut history = match ctx.store.load(&unit.id).await {
        Ok(h) => h,
        Err(e) => return failure(&unit, ctx, e.to_string(), Vec::new()),
    };
    let id = history.applyset_id();
    let (namespaces, objects) = own_objects(&unit, &history);
    let digest = release_digest(&objects, component);
    let state = match release_state(ctx, &component.release, &component.namespace).await {
        Ok(s) => s,
        Err(e) => return failure(&unit, ctx, e.to_string(), Vec::new()),
    };
    let deployed = state.as_ref().is_some_and(|s| s.status == "deployed");
    let recorded = history
        .latest()
        .is_some_and(|r| r.result == Outcome::Deployed && r.digest == digest);
    if recorded && deployed {
        // Unchanged inputs and a deployed release: helm does not run. windlass's own
        // objects are re-applied only when someone changed them.
        for set in [&namespaces, &objects] {
            if !apply::in_sync(ctx, set).await
                && let Err(e) = apply::apply_all(ctx, set).await
            {
                return failure(&unit, ctx, e.to_string(), Vec::new());
            }
        }
        let revision = history.latest().map_or(1, |r| r.revision);
        return ready(&unit, ctx, revision, false, started);
    }
    let number = history.next_number();
    history.push(Revision::pending(number, digest, String::new(), objects.clone()));
    if let Err(e) = ctx.store.save(&history).await {
        return failure(&unit, ctx, e.to_string(), Vec::new());
    }
    ctx.emit(Event::Applying {
        unit: unit.id.clone(),
        objects: objects.len() + namespaces.len(),
        revision: number,
    });
    let outcome = install(ctx, &unit, component, &namespaces, &objects, timeout).await;
    match outcome {
        Ok(()) => {
            let stale = apply::stale_refs(&history, &objects);
            if let Err(e) = super::prune::remove_owned(ctx, &unit.id, &stale, &id, true, timeout).await {
                return failure(&unit, ctx, format!("pruning: {e}"), Vec::new());
            }
            apply::set_result(&mut history, number, Outcome::Deployed, String::new());
            if let Err(e) = ctx.store.save(&history).await {
                return failure(&unit, ctx, e.to_string(), Vec::new());
            }
            ready(&unit, ctx, number, true, started)
        }
        Err(reason) => {
            apply::set_result(&mut history, number, Outcome::Failed, reason.clone());
            let mut details = Vec::new();
            if let Err(e) = ctx.store.save(&history).await {
                details.push(format!("recording the failed revision: {e}"));
            }
            failure(&unit, ctx, reason, details)
        }
    }
}

async fn install(
    ctx: &Ctx,
    unit: &ApplyUnit,
    component: &Component,
    namespaces: &[Value],
    objects: &[Value],
    timeout: Duration,
) -> Result<(), String> {
    for ns in namespaces {
        if !apply::in_sync(ctx, std::slice::from_ref(ns)).await {
            ctx.applier.apply(ns, false).await.map_err(|e| e.to_string())?;
        }
    }
    apply::apply_all(ctx, objects).await.map_err(|e| e.to_string())?;
    let helm = ctx.helm().await?;
    let package = helm.fetch(&component.chart).await.map_err(|e| e.to_string())?;
    ctx.emit(Event::Waiting {
        unit: unit.id.clone(),
        message: format!(
            "helm upgrade --install {} ({} {})",
            component.release, component.chart.name, component.chart.version
        ),
    });
    helm.upgrade(component, &package, timeout, ctx.applier.force_conflicts())
        .await
        .map_err(|e| e.to_string())?;
    gates(ctx, unit, component, timeout).await
}

/// The component's semantic gates, each retried until it passes or `timeout` ends.
async fn gates(ctx: &Ctx, unit: &ApplyUnit, component: &Component, timeout: Duration) -> Result<(), String> {
    let start = Instant::now();
    for gate in &component.gates {
        let mut last = String::new();
        loop {
            let check = match gate {
                GateKind::WebhookAdmits => webhook_admits(ctx, component).await,
                GateKind::ApiServiceAvailable(name) => api_service_available(ctx, name).await,
            };
            match check {
                Ok(()) => break,
                Err(why) => {
                    if start.elapsed() > timeout {
                        return Err(format!(
                            "{}: {} within {}s: {why}",
                            component.name,
                            gate_title(gate),
                            timeout.as_secs()
                        ));
                    }
                    if why != last {
                        ctx.emit(Event::Waiting {
                            unit: unit.id.clone(),
                            message: format!("{}: {why}", gate_title(gate)),
                        });
                        last = why;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }
    Ok(())
}

fn gate_title(gate: &GateKind) -> String {
    match gate {
        GateKind::WebhookAdmits => "its admission webhook did not admit".to_string(),
        GateKind::ApiServiceAvailable(name) => format!("APIService {name} did not become Available"),
    }
}

/// A server-side dry run of an object the component's webhook intercepts is admitted.
async fn webhook_admits(ctx: &Ctx, component: &Component) -> Result<(), String> {
    let Some(probe) = windlass_core::components::webhook_probe(component) else {
        return Ok(());
    };
    match ctx.applier.apply(&probe, true).await {
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

async fn api_service_available(ctx: &Ctx, name: &str) -> Result<(), String> {
    let r = ObjectRef {
        api_version: "apiregistration.k8s.io/v1".into(),
        kind: "APIService".into(),
        namespace: String::new(),
        name: name.to_string(),
    };
    let live = ctx.applier.get(&r).await.map_err(|e| e.to_string())?;
    let Some(live) = live else {
        return Err("it does not exist".into());
    };
    let live = serde_json::to_value(&live).unwrap_or_default();
    let available = live
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Available"));
    match available {
        Some(c) if c["status"] == "True" => Ok(()),
        Some(c) => Err(format!(
            "{}: {}",
            c["reason"].as_str().unwrap_or("not available"),
            c["message"].as_str().unwrap_or_default()
        )),
        None => Err("no Available condition yet".into()),
    }
}

/// Before anything else in an `up`: a release a killed run left `pending-*`
/// (`state`) goes back to its last deployed revision, or is uninstalled when it never deployed.
pub(crate) async fn recover_pending(
    helm: &Helm,
    component: &Component,
    state: &ReleaseState,
    timeout: Duration,
) -> Result<(), crate::helm::HelmError> {
    if state.revision > 1 {
        helm.rollback(&component.release, &component.namespace, timeout).await
    } else {
        helm.uninstall(&component.release, &component.namespace, timeout).await
    }
}
