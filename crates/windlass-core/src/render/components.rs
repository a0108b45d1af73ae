//! The objects of a component unit that windlass renders itself, applied before
//! the component's Helm release: its namespace (with the Pod Security level the
//! component needs), and the windlass objects the release reads at start (the
//! Alertmanager configuration Secret, the blackbox modules Secret) or that only
//! make sense with it (the GatewayClass of the gateway controller). The release
//! itself is installed by the edge from `Component`.

use k8s_openapi::api::core::v1::Namespace;

use super::crds::{EnvoyProxy, EnvoyProxySpec, GatewayClass, GatewayClassSpec, ParametersRef};
use super::labels::platform_meta;
use super::object::Object;
use crate::components::{Component, ComponentName};
use crate::model::Platform;
use crate::spec::TrafficMode;

/// The EnvoyProxy that merges the platform's Gateways (more hosts than one holds).
pub const MERGED_GATEWAYS: &str = "windlass-merged-gateways";

/// The controller name Envoy Gateway reconciles GatewayClasses for.
pub const ENVOY_GATEWAY_CONTROLLER: &str = "gateway.envoyproxy.io/gatewayclass-controller";

/// The component's own objects, in apply order. A namespace several components
/// share is written once, with the first of them in catalog order; the cluster
/// side ensures it for each (`component_namespace`) and never prunes it with a unit.
pub fn component_objects(platform: &Platform, component: &Component) -> Vec<Object> {
    let mut out = Vec::new();
    let first_here = platform
        .components
        .iter()
        .find(|c| c.namespace == component.namespace)
        .is_some_and(|c| c.name == component.name);
    if first_here {
        out.extend(component_namespace(platform, component));
    }
    match component.name {
        ComponentName::KubePrometheusStack => {
            out.push(crate::content::alertmanager::config(&platform.observability.alerting).object(platform))
        }
        ComponentName::BlackboxExporter => out.push(crate::content::probes::blackbox_config().object(platform)),
        ComponentName::EnvoyGateway if platform.traffic.mode == TrafficMode::Gateway => {
            // More hosts than one Gateway holds: the Gateways share one Envoy fleet
            // and one address, so every host keeps resolving to the same place.
            let merged = platform.traffic.gateway_count() > 1;
            let parameters_ref = merged.then(|| ParametersRef {
                group: "gateway.envoyproxy.io",
                kind: "EnvoyProxy",
                name: MERGED_GATEWAYS.to_string(),
                namespace: component.namespace.clone(),
            });
            if merged {
                out.push(Object::from_typed(&EnvoyProxy::new(
                    platform_meta(platform, MERGED_GATEWAYS, Some(&component.namespace)),
                    EnvoyProxySpec { merge_gateways: true },
                )));
            }
            out.push(Object::from_typed(&GatewayClass::new(
                platform_meta(platform, &platform.traffic.class, None),
                GatewayClassSpec {
                    controller_name: ENVOY_GATEWAY_CONTROLLER.to_string(),
                    parameters_ref,
                },
            )));
        }
        _ => {}
    }
    out
}

/// Whether a platform-unit object belongs to an enabled component's unit instead.
pub fn moved_to_component(platform: &Platform, object: &Object) -> bool {
    let in_monitoring = object.namespace() == platform.monitoring.namespace && object.kind() == "Secret";
    in_monitoring
        && match object.name() {
            n if n == crate::content::defaults::ALERTMANAGER_CONFIG_SECRET => {
                platform.component(ComponentName::KubePrometheusStack).is_some()
            }
            n if n == crate::content::defaults::BLACKBOX_CONFIG_SECRET => {
                platform.component(ComponentName::BlackboxExporter).is_some()
            }
            _ => false,
        }
}

/// The component's namespace with its Pod Security level; `None` for Kubernetes' own.
pub fn component_namespace(platform: &Platform, component: &Component) -> Option<Object> {
    component
        .owns_namespace()
        .then(|| namespace(platform, &component.namespace, component.pod_security.as_str()))
}

fn namespace(platform: &Platform, name: &str, level: &str) -> Object {
    let mut meta = platform_meta(platform, name, None);
    if let Some(labels) = meta.labels.as_mut() {
        for mode in ["enforce", "audit", "warn"] {
            labels.insert(format!("pod-security.kubernetes.io/{mode}"), level.to_string());
            labels.insert(
                format!("pod-security.kubernetes.io/{mode}-version"),
                "latest".to_string(),
            );
        }
    }
    Object::from_typed(&Namespace {
        metadata: meta,
        ..Namespace::default()
    })
}
