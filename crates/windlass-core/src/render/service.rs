//! ServiceAccount and Services of an app.

use k8s_openapi::api::core::v1::{Service, ServiceAccount, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labels::{app_meta, selector_labels};
use super::object::Object;
use super::workload::headless_service_name;
use crate::model::{App, AppPort, Platform};
use crate::spec::AppKind;

/// The pod's identity, without an API token: apps do not talk to the apiserver.
pub fn service_account(platform: &Platform, app: &App) -> Object {
    Object::from_typed(&ServiceAccount {
        metadata: app_meta(platform, app, &app.name),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    })
}

fn named_port(port: &AppPort) -> ServicePort {
    ServicePort {
        name: Some(port.name.to_string()),
        port: i32::from(port.number),
        target_port: Some(IntOrString::String(port.name.to_string())),
        protocol: Some("TCP".to_string()),
        app_protocol: port.app_protocol.map(str::to_string),
        ..ServicePort::default()
    }
}

/// The ClusterIP Service (and for a StatefulSet the headless one giving each replica a DNS name).
pub fn services(platform: &Platform, app: &App) -> Vec<Object> {
    let ports: Vec<ServicePort> = app.ports().iter().map(named_port).collect();
    if ports.is_empty() {
        return Vec::new();
    }
    let mut out = vec![Object::from_typed(&Service {
        metadata: app_meta(platform, app, &app.name),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_string()),
            selector: Some(selector_labels(platform, app)),
            ports: Some(ports.clone()),
            ..ServiceSpec::default()
        }),
        status: None,
    })];
    if app.kind == AppKind::Statefulset {
        out.push(Object::from_typed(&Service {
            metadata: app_meta(platform, app, headless_service_name(app)),
            spec: Some(ServiceSpec {
                cluster_ip: Some("None".to_string()),
                selector: Some(selector_labels(platform, app)),
                ports: Some(ports),
                // Peers must find each other before they are Ready (cluster bootstrap).
                publish_not_ready_addresses: Some(true),
                ..ServiceSpec::default()
            }),
            status: None,
        }));
    }
    out
}
