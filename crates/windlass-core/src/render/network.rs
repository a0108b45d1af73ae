//! NetworkPolicies: each namespace denies everything by default and allows
//! DNS; each app then admits exactly its expected traffic (the gateway to the
//! app port, monitoring to the metrics port, apps that `need` it) and may call
//! exactly what it `needs` plus declared egress.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labels::{app_meta, platform_meta, selector_labels};
use super::object::Object;
use crate::defaults as d;
use crate::model::{App, Platform};

fn namespace_selector(ns: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([(d::LABEL_NAMESPACE_NAME.to_string(), ns.to_string())])),
        ..LabelSelector::default()
    }
}

fn tcp(port: u16) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(i32::from(port))),
        protocol: Some("TCP".to_string()),
        ..NetworkPolicyPort::default()
    }
}

fn both_policy_types() -> Option<Vec<String>> {
    Some(vec!["Ingress".to_string(), "Egress".to_string()])
}

/// Default deny and DNS egress for every pod of a namespace.
pub fn namespace_policies(platform: &Platform, ns: &str) -> Vec<Object> {
    let deny = NetworkPolicy {
        metadata: platform_meta(platform, "default-deny", Some(ns)),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: both_policy_types(),
            ..NetworkPolicySpec::default()
        }),
    };
    let dns = NetworkPolicy {
        metadata: platform_meta(platform, "allow-dns", Some(ns)),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Egress".to_string()]),
            egress: Some(vec![NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    namespace_selector: Some(namespace_selector("kube-system")),
                    pod_selector: Some(LabelSelector {
                        match_labels: Some(BTreeMap::from([("k8s-app".to_string(), "kube-dns".to_string())])),
                        ..LabelSelector::default()
                    }),
                    ..NetworkPolicyPeer::default()
                }]),
                ports: Some(
                    ["UDP", "TCP"]
                        .into_iter()
                        .map(|proto| NetworkPolicyPort {
                            port: Some(IntOrString::Int(53)),
                            protocol: Some(proto.to_string()),
                            ..NetworkPolicyPort::default()
                        })
                        .collect(),
                ),
            }]),
            ..NetworkPolicySpec::default()
        }),
    };
    vec![Object::from_typed(&deny), Object::from_typed(&dns)]
}

fn app_peer(platform: &Platform, app: &App) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(namespace_selector(&app.namespace)),
        pod_selector: Some(LabelSelector {
            match_labels: Some(selector_labels(platform, app)),
            ..LabelSelector::default()
        }),
        ..NetworkPolicyPeer::default()
    }
}

/// The app's own policy. Dependents are taken from the whole platform, so the
/// object is the same whichever apps `--only` selected.
pub fn app_policy(platform: &Platform, app: &App) -> Object {
    let mut ingress = Vec::new();
    if let Some(port) = app.port.map(|p| p.number) {
        if !app.hosts.is_empty() {
            ingress.push(NetworkPolicyIngressRule {
                from: Some(vec![NetworkPolicyPeer {
                    namespace_selector: Some(namespace_selector(&platform.traffic.namespace)),
                    ..NetworkPolicyPeer::default()
                }]),
                ports: Some(vec![tcp(port)]),
            });
        }
        let dependents: Vec<NetworkPolicyPeer> = platform
            .dependents(&app.name)
            .map(|other| app_peer(platform, other))
            .collect();
        if !dependents.is_empty() {
            ingress.push(NetworkPolicyIngressRule {
                from: Some(dependents),
                ports: Some(vec![tcp(port)]),
            });
        }
    }
    if let Some(m) = &app.metrics {
        ingress.push(NetworkPolicyIngressRule {
            from: Some(vec![NetworkPolicyPeer {
                namespace_selector: Some(namespace_selector(&platform.monitoring.namespace)),
                ..NetworkPolicyPeer::default()
            }]),
            ports: Some(vec![tcp(m.port)]),
        });
    }
    let mut egress = Vec::new();
    for need in &app.needs {
        if let Some(target) = platform.app(need)
            && let Some(port) = target.port.map(|p| p.number)
        {
            egress.push(NetworkPolicyEgressRule {
                to: Some(vec![app_peer(platform, target)]),
                ports: Some(vec![tcp(port)]),
            });
        }
    }
    for e in &app.egress {
        egress.push(NetworkPolicyEgressRule {
            to: Some(vec![NetworkPolicyPeer {
                ip_block: Some(IPBlock {
                    cidr: e.cidr.clone(),
                    except: None,
                }),
                ..NetworkPolicyPeer::default()
            }]),
            ports: (!e.ports.is_empty()).then(|| e.ports.iter().map(|p| tcp(*p)).collect()),
        });
    }
    Object::from_typed(&NetworkPolicy {
        metadata: app_meta(platform, app, &app.name),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(selector_labels(platform, app)),
                ..LabelSelector::default()
            }),
            policy_types: both_policy_types(),
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: (!egress.is_empty()).then_some(egress),
        }),
    })
}
