//! Rendering: the model becomes typed Kubernetes objects, grouped in units
//! (the platform, each namespace, each app) that sinks write or apply in order.

mod components;
mod config;
pub use config::fnv1a;
pub mod argocd;
mod crds;
pub mod flux;
mod labels;
mod monitoring;
mod namespace;
mod network;
mod object;
mod scaling;
mod service;
pub mod sops;
mod stream;
mod tls;
mod traffic;
mod vault;
mod workload;
mod yaml;

pub use components::{ENVOY_GATEWAY_CONTROLLER, component_namespace, component_objects};
pub use labels::{app_labels, selector_labels};
pub use monitoring::RELEASE_LABEL;
pub use object::Object;
pub use stream::{Document, UnitDocuments, documents, for_each_unit, map_units};
pub use traffic::route_names;
pub use yaml::{to_yaml, to_yaml_all, to_yaml_stream};

use crate::model::{App, Platform};
use crate::plan::Plan;
pub use crate::unit::UnitId;

#[derive(Debug, Clone)]
pub struct Unit {
    pub kind: UnitId,
    /// Directory (relative, `/`-separated) the unit's files go in.
    pub dir: String,
    /// Objects in apply order.
    pub objects: Vec<Object>,
}

#[derive(Debug, Clone)]
pub struct Rendered {
    /// Platform unit, then namespaces, then apps in dependency order.
    pub units: Vec<Unit>,
}

impl Rendered {
    pub fn objects(&self) -> impl Iterator<Item = &Object> {
        self.units.iter().flat_map(|u| u.objects.iter())
    }
}

/// The directory of the platform-wide unit.
pub const PLATFORM_DIR: &str = "_platform";
/// The directory of the component units (`_components/<name>`).
pub const COMPONENTS_DIR: &str = "_components";

/// What a plan renders to, before any object is built: the units in order.
/// Each unit is built on its own (`unit`), so a sink can build, check and
/// serialise one unit at a time and never hold the whole platform.
pub struct Outline<'a> {
    platform: &'a Platform,
    /// Selected apps in dependency order.
    apps: Vec<&'a App>,
    units: Vec<UnitId>,
}

impl<'a> Outline<'a> {
    pub fn new(platform: &'a Platform, plan: &Plan) -> Outline<'a> {
        let apps: Vec<&App> = plan.apps.iter().filter_map(|n| platform.app(n)).collect();
        let units = plan.up().iter().map(|u| u.id.clone()).collect();
        Outline { platform, apps, units }
    }

    /// The units, in the plan's apply order: the platform, then namespaces, then apps in dependency order.
    pub fn units(&self) -> &[UnitId] {
        &self.units
    }

    pub fn platform(&self) -> &'a Platform {
        self.platform
    }

    /// Builds one unit's objects, in apply order.
    pub fn unit(&self, kind: &UnitId) -> Unit {
        let platform = self.platform;
        match kind {
            // A component's CRDs come from its chart: the edge extracts them.
            UnitId::Crds(name) => Unit {
                kind: kind.clone(),
                dir: format!("{COMPONENTS_DIR}/{name}/crds"),
                objects: Vec::new(),
            },
            UnitId::Component(name) => Unit {
                kind: kind.clone(),
                dir: format!("{COMPONENTS_DIR}/{name}"),
                objects: name
                    .parse()
                    .ok()
                    .and_then(|c| platform.component(c))
                    .map(|c| components::component_objects(platform, c))
                    .unwrap_or_default(),
            },
            UnitId::Platform => {
                let mut objects = tls::cluster_issuers(platform);
                // The Gateway lists every host of the environment, whatever `--only` selected: it is shared.
                let all_apps: Vec<&App> = platform.apps.iter().collect();
                objects.extend(traffic::gateway(platform, &all_apps));
                objects.extend(traffic::https_redirect(platform));
                objects.extend(traffic::grafana_objects(platform));
                objects.extend(
                    crate::content::platform_objects(platform, &self.apps)
                        .into_iter()
                        .filter(|o| !components::moved_to_component(platform, o)),
                );
                Unit {
                    kind: kind.clone(),
                    dir: PLATFORM_DIR.to_string(),
                    objects,
                }
            }
            UnitId::Namespace(ns) => Unit {
                kind: kind.clone(),
                dir: ns.clone(),
                objects: namespace::namespace_objects(platform, ns),
            },
            UnitId::App { namespace, name } => {
                let mut objects = Vec::new();
                if let Some(app) = platform.app(name) {
                    objects = app_objects(platform, app);
                    objects.extend(crate::content::app_objects(platform, app));
                }
                Unit {
                    kind: kind.clone(),
                    dir: format!("{namespace}/{name}"),
                    objects,
                }
            }
        }
    }
}

/// Every unit of the plan, built and held at once (the cluster commands apply them as a graph).
pub fn render(platform: &Platform, plan: &Plan) -> Rendered {
    let outline = Outline::new(platform, plan);
    let units = stream::map_units(&outline, |unit| unit);
    Rendered { units }
}

/// An app's own objects, in apply order.
fn app_objects(platform: &Platform, app: &App) -> Vec<Object> {
    let mut objects = vec![service::service_account(platform, app)];
    objects.extend(vault::objects(platform, app));
    objects.extend(sops::objects(platform, app));
    objects.extend(config::config_map(platform, app));
    objects.extend(workload::deployment_pvc(platform, app));
    objects.extend(service::services(platform, app));
    objects.push(workload::workload(platform, app));
    objects.extend(scaling::hpa(platform, app));
    objects.extend(scaling::pdb(platform, app));
    objects.push(network::app_policy(platform, app));
    objects.extend(monitoring::service_monitor(platform, app));
    objects.extend(tls::certificate(platform, app));
    objects.extend(traffic::routes(platform, app));
    objects
}
