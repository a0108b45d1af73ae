//! ServiceAccount and Services of an app.

use k8s_openapi::api::core::v1::{Service, ServiceAccount, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labels::{app_meta, app_port_meta, selector_labels};
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
        metadata: app_port_meta(platform, app, &app.name),
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
            metadata: app_port_meta(platform, app, headless_service_name(app)),
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

#[cfg(test)]
mod tests {
    use crate::check::invariants;
    use crate::model::Platform;
    use crate::plan::Plan;
    use crate::render::render;

    #[test]
    fn http_declared_on_a_database_port_is_the_users_choice_and_says_so() {
        let text = "apiVersion: windlass.dev/v1alpha1\nkind: Platform\nplatform: {name: shop, domain: example.com, email: ops@example.com}\napps:\n  \
                    web: {image: 'ghcr.io/acme/web:1.0.0', port: 5432, health: /healthz}\n";
        let spec = crate::spec::load("windlass.yaml", text).expect("valid spec");
        let (env, file) = spec.environment(None).expect("environment");
        let platform = Platform::build(file, env);
        let rendered = render(&platform, &Plan::new(&platform, &[]).expect("plan"));
        let objects: Vec<_> = rendered.objects().cloned().collect();
        let rules: Vec<&str> = invariants(&objects).iter().map(|f| f.rule).collect();
        assert!(!rules.contains(&"port-protocol-mismatch"), "{rules:?}");
        let service = objects
            .iter()
            .find(|o| o.kind() == "Service" && o.name() == "web")
            .expect("service");
        assert_eq!(
            service.at(&["metadata", "annotations", "windlass.dev/ignore.port-protocol-mismatch"]),
            Some(&serde_json::json!("windlass.yaml serves HTTP on port 5432 (apps.web)"))
        );
        // Without the annotation, the rule reports the port.
        let mut bare = service.clone();
        bare.0["metadata"]["annotations"] = serde_json::json!({});
        assert!(invariants([&bare]).iter().any(|f| f.rule == "port-protocol-mismatch"));
    }
}
