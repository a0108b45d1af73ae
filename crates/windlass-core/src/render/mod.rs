//! Rendering: the model becomes typed Kubernetes objects, grouped in units
//! (the platform, each namespace, each app) that sinks write or apply in order.

mod config;
mod crds;
mod labels;
mod monitoring;
mod namespace;
mod network;
mod object;
mod scaling;
mod service;
mod tls;
mod traffic;
mod workload;
mod yaml;

pub use labels::{app_labels, selector_labels};
pub use monitoring::RELEASE_LABEL;
pub use object::Object;
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

pub fn render(platform: &Platform, plan: &Plan) -> Rendered {
    let apps: Vec<&App> = plan.apps.iter().filter_map(|n| platform.app(n)).collect();
    // The content pack (rules, dashboards) is as much work as the workloads and
    // independent of them: build both at once.
    let (mut content, app_objects) = std::thread::scope(|s| {
        let content = s.spawn(|| crate::content::render(platform, &apps));
        let app_objects: Vec<Vec<Object>> = apps.iter().map(|app| app_objects(platform, app)).collect();
        let content = content.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (content, app_objects)
    });

    let mut platform_objects = tls::cluster_issuers(platform);
    // The Gateway lists every host of the environment, whatever `--only` selected: it is shared.
    let all_apps: Vec<&App> = platform.apps.iter().collect();
    platform_objects.extend(traffic::gateway(platform, &all_apps));
    platform_objects.extend(traffic::https_redirect(platform));
    platform_objects.append(&mut content.platform);
    let mut units = vec![Unit {
        kind: UnitId::Platform,
        dir: PLATFORM_DIR.to_string(),
        objects: platform_objects,
    }];

    let mut namespaces: Vec<&str> = apps.iter().map(|a| a.namespace.as_str()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    for ns in namespaces {
        units.push(Unit {
            kind: UnitId::Namespace(ns.to_string()),
            dir: ns.to_string(),
            objects: namespace::namespace_objects(platform, ns),
        });
    }
    for (app, mut objects) in apps.into_iter().zip(app_objects) {
        objects.extend(content.apps.remove(&app.name).unwrap_or_default());
        units.push(Unit {
            kind: UnitId::App {
                namespace: app.namespace.clone(),
                name: app.name.clone(),
            },
            dir: format!("{}/{}", app.namespace, app.name),
            objects,
        });
    }
    Rendered { units }
}

/// An app's own objects, in apply order.
fn app_objects(platform: &Platform, app: &App) -> Vec<Object> {
    let mut objects = vec![service::service_account(platform, app)];
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
