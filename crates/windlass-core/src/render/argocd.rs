//! `render --format argocd`: the same plan as an app-of-apps. Pure: the caller
//! writes the files.
//!
//! ```text
//! clusters/<cluster>/root.yaml                the Application to create by hand (app of apps)
//! clusters/<cluster>/apps/                    one Application per unit, kustomization.yaml listing them
//! clusters/<cluster>/argocd-cm-health.yaml    the health check Argo CD needs for Applications
//! units/<cluster>/<unit dir>/                 the units' objects (as for Flux)
//! ```
//!
//! Each Application carries `argocd.argoproj.io/sync-wave` = its depth in the
//! unit graph (a unit's wave is one more than the deepest of its needs), so the
//! root syncs them wave by wave. Argo CD waits for a wave's Applications to be
//! Healthy only when `argocd-cm` has a health check for Applications (Argo CD
//! removed the built-in one): the tree carries it, and the README says where it goes.
//! A component's Application has two sources, its chart (the values `up` gives
//! helm) and its unit directory (namespace, Secrets the release reads); its
//! objects of CRD-defined kinds are a `-config` Application one wave later.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::flux::{config_dir, unit_path};
use super::object::Object;
use crate::components::{Component, CrdSource};
use crate::model::Platform;
use crate::plan::Plan;
use crate::unit::UnitId;

/// Where Argo CD runs and its Applications live.
pub const ARGOCD_NAMESPACE: &str = "argocd";
const IN_CLUSTER: &str = "https://kubernetes.default.svc";

#[derive(Debug, Clone, Default)]
pub struct ArgoOptions {
    pub cluster: String,
    /// The Git repository (URL) holding this tree, and its revision.
    pub repo_url: String,
    pub revision: String,
}

/// Each unit's wave: 0 without needs, else one more than its deepest need (a CRD
/// unit folds into its component; a component with config objects counts its
/// `-config` Application, one wave after it).
pub fn waves(plan: &Plan, configs: &BTreeSet<UnitId>) -> BTreeMap<UnitId, u32> {
    let mut out: BTreeMap<UnitId, u32> = BTreeMap::new();
    // Folding CRD units into their components can raise a component's wave after a
    // unit that needs it was seen: repeat until nothing changes (the graph is acyclic).
    loop {
        let mut changed = false;
        for unit in plan.up() {
            let id = super::flux::folded(&unit.id);
            let mut wave = out.get(&id).copied().unwrap_or(0);
            for need in &unit.needs {
                let n = super::flux::folded(need);
                if n == id {
                    continue;
                }
                let w = out.get(&n).copied().unwrap_or(0);
                // Needing a component (not just its CRDs) means needing its config, a wave later.
                let step = if !matches!(need, UnitId::Crds(_)) && configs.contains(&n) {
                    2
                } else {
                    1
                };
                wave = wave.max(w + step);
            }
            if out.get(&id) != Some(&wave) {
                out.insert(id, wave);
                changed = true;
            }
        }
        if !changed {
            return out;
        }
    }
}

/// The Application name of a unit (as the Flux Kustomization's).
pub fn application_name(platform: &Platform, unit: &UnitId) -> String {
    super::flux::kustomization_name(platform, unit)
}

fn application(
    platform: &Platform,
    name: String,
    unit: &UnitId,
    wave: u32,
    sources: Vec<Value>,
    namespace: Option<&str>,
    server_side: bool,
) -> Object {
    let mut options = vec!["SkipDryRunOnMissingResource=true", "PruneLast=true"];
    if server_side {
        options.push("ServerSideApply=true");
    }
    let mut destination = json!({"server": IN_CLUSTER});
    if let Some(ns) = namespace {
        destination["namespace"] = json!(ns);
    }
    let mut spec = json!({
        "project": "default",
        "destination": destination,
        "syncPolicy": {
            "automated": {"prune": true, "selfHeal": true},
            "syncOptions": options,
            "retry": {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}},
        },
    });
    if sources.len() == 1 {
        spec["source"] = sources.into_iter().next().unwrap_or_default();
    } else {
        spec["sources"] = Value::Array(sources);
    }
    Object(json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": ARGOCD_NAMESPACE,
            "annotations": {"argocd.argoproj.io/sync-wave": wave.to_string()},
            "labels": {
                "app.kubernetes.io/managed-by": "windlass",
                "windlass.dev/platform": platform.name,
                "windlass.dev/unit": unit.to_string(),
            },
            // Deleting an Application deletes what it applied.
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": spec,
    }))
}

/// The chart source of a component: an OCI chart as `HOST/PATH` with `chart`,
/// an HTTP repository as its URL; values as `up` gives them to helm, with the
/// chart's CRD templates switched on (Argo CD installs them with the release).
fn chart_source(c: &Component) -> Value {
    let mut values = c.values.clone();
    if let CrdSource::Template(switch) = c.crds {
        super::flux::set_path(&mut values, switch, Value::Bool(true));
    }
    let repo = c.chart.repository.trim_start_matches("oci://").trim_end_matches('/');
    json!({
        "repoURL": repo,
        "chart": c.chart.name,
        "targetRevision": c.chart.version,
        "helm": {"releaseName": c.release, "valuesObject": values},
    })
}

/// One Application per unit, in `up` order, with its wave.
pub fn applications(
    platform: &Platform,
    plan: &Plan,
    opts: &ArgoOptions,
    dir: impl Fn(&UnitId) -> String,
    has_objects: impl Fn(&UnitId) -> bool,
    configs: &BTreeSet<UnitId>,
) -> Vec<Object> {
    let waves = waves(plan, configs);
    let dir_source = |path: String| json!({"repoURL": opts.repo_url, "targetRevision": opts.revision, "path": path, "directory": {"recurse": false}});
    let mut out = Vec::new();
    for unit in plan.up().iter().filter(|u| super::flux::has_kustomization(&u.id)) {
        let wave = waves.get(&unit.id).copied().unwrap_or(0);
        let path = unit_path(&opts.cluster, &dir(&unit.id));
        let name = application_name(platform, &unit.id);
        let component = match &unit.id {
            UnitId::Component(c) => c.parse().ok().and_then(|n| platform.component(n)),
            _ => None,
        };
        match component {
            Some(c) => {
                let mut sources = vec![chart_source(c)];
                if has_objects(&unit.id) {
                    sources.push(dir_source(path.clone()));
                }
                out.push(application(
                    platform,
                    name,
                    &unit.id,
                    wave,
                    sources,
                    Some(&c.namespace),
                    true,
                ));
                if configs.contains(&unit.id) {
                    out.push(application(
                        platform,
                        super::flux::config_kustomization_name(platform, c.name.as_str()),
                        &unit.id,
                        wave + 1,
                        vec![dir_source(config_dir(&path))],
                        None,
                        true,
                    ));
                }
            }
            None => out.push(application(
                platform,
                name,
                &unit.id,
                wave,
                vec![dir_source(path)],
                None,
                true,
            )),
        }
    }
    out
}

/// The root Application: syncs `clusters/<cluster>/apps`, the units' Applications.
pub fn root(platform: &Platform, opts: &ArgoOptions) -> Object {
    let mut app = application(
        platform,
        format!("{}-{}", platform.name, opts.cluster),
        &UnitId::Platform,
        0,
        vec![json!({
            "repoURL": opts.repo_url,
            "targetRevision": opts.revision,
            "path": format!("clusters/{}/apps", opts.cluster),
        })],
        Some(ARGOCD_NAMESPACE),
        false,
    );
    if let Some(m) = app.0["metadata"].as_object_mut() {
        m.remove("annotations");
        if let Some(l) = m.get_mut("labels").and_then(Value::as_object_mut) {
            l.remove("windlass.dev/unit");
        }
    }
    app
}

/// Argo CD's health check for Applications (in `argocd-cm`): an Application is
/// as healthy as its own status says, so a wave waits for the one before it.
pub fn health_config() -> Object {
    let lua = "local hs = {status = \"Progressing\", message = \"\"}\n\
               if obj.status ~= nil and obj.status.health ~= nil then\n  \
               hs.status = obj.status.health.status\n  \
               if obj.status.health.message ~= nil then hs.message = obj.status.health.message end\n\
               end\n\
               return hs\n";
    Object(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "argocd-cm",
            "namespace": ARGOCD_NAMESPACE,
            "labels": {"app.kubernetes.io/name": "argocd-cm", "app.kubernetes.io/part-of": "argocd"},
        },
        "data": {"resource.customizations.health.argoproj.io_Application": lua},
    }))
}
