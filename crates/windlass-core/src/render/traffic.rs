//! How public traffic reaches an app: HTTPRoutes on the platform Gateway (with
//! an Envoy Gateway SecurityPolicy for source-IP allow lists), or Ingress
//! objects. Also the shared Gateway with one HTTPS listener per host.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    IngressTLS, ServiceBackendPort,
};

use super::crds::*;
use super::labels::{app_meta, platform_meta};
use super::object::Object;
use super::tls::{cluster_issuer_name, tls_secret_name};
use crate::model::{App, Platform, Route};
use crate::spec::TrafficMode;

const INGRESS_ALLOW_ANNOTATION: &str = "nginx.ingress.kubernetes.io/whitelist-source-range";
const CLUSTER_ISSUER_ANNOTATION: &str = "cert-manager.io/cluster-issuer";

/// The listener name for a host: a DNS-1123-ish name derived from it, unique per host.
fn listener_name(host: &str) -> String {
    const PREFIX: &str = "https-";
    let mut name: String = host.replace('.', "-");
    // Gateway API: a listener name is at most 253 characters (the spec refuses hosts that need more).
    name.truncate(253 - PREFIX.len());
    format!("{PREFIX}{name}")
}

/// The platform's Gateways: the first with plain HTTP on 80 (ACME challenges,
/// redirects) and HTTPS per host; more hosts than one Gateway holds continue on
/// `NAME-2`, `NAME-3`, ... (HTTPS only), which the controller merges onto the
/// first one's address (`merged_gateways`).
pub fn gateway(platform: &Platform, apps: &[&App]) -> Vec<Object> {
    if platform.traffic.mode != TrafficMode::Gateway {
        return Vec::new();
    }
    let mut hosts: Vec<(String, String)> = apps
        .iter()
        .flat_map(|a| a.hosts.iter().map(move |h| (h.clone(), tls_secret_name(platform, a))))
        .collect();
    if let Some(grafana) = grafana(platform) {
        hosts.push((grafana.host, grafana.secret));
    }
    hosts.sort();
    if hosts.is_empty() {
        return Vec::new();
    }
    let mut shards: Vec<Vec<Listener>> = vec![Vec::new(); platform.traffic.gateway_count()];
    shards[0].push(Listener {
        name: "http".to_string(),
        hostname: None,
        port: 80,
        protocol: "HTTP",
        tls: None,
        allowed_routes: AllowedRoutes {
            namespaces: RouteNamespaces { from: "All" },
        },
    });
    for (host, secret) in hosts {
        let shard = platform.traffic.gateway_index(&host);
        shards[shard].push(Listener {
            name: listener_name(&host),
            hostname: Some(host),
            port: 443,
            protocol: "HTTPS",
            tls: Some(ListenerTls {
                mode: "Terminate",
                certificate_refs: vec![SecretRef {
                    kind: "Secret",
                    name: secret,
                }],
            }),
            allowed_routes: AllowedRoutes {
                namespaces: RouteNamespaces { from: "All" },
            },
        });
    }
    // Certificates are rendered explicitly (tls.rs) rather than through cert-manager's gateway-shim.
    shards
        .into_iter()
        .enumerate()
        .filter(|(_, listeners)| !listeners.is_empty())
        .map(|(i, listeners)| {
            let name = platform.traffic.gateway_name_at(i);
            Object::from_typed(&Gateway::new(
                platform_meta(platform, &name, Some(&platform.traffic.namespace)),
                GatewaySpec {
                    gateway_class_name: platform.traffic.class.clone(),
                    listeners,
                },
            ))
        })
        .collect()
}

/// The route parent for `host`: its listener on the Gateway that serves it.
fn host_parent(platform: &Platform, host: &str) -> ParentRef {
    ParentRef {
        name: platform.traffic.gateway_for(host),
        namespace: platform.traffic.namespace.clone(),
        section_name: Some(listener_name(host)),
    }
}

/// Plain HTTP on the Gateway only redirects to HTTPS. (cert-manager's ACME
/// challenge routes match exact paths, which win over this catch-all.)
pub fn https_redirect(platform: &Platform) -> Option<Object> {
    if platform.traffic.mode != TrafficMode::Gateway || platform.apps.iter().all(|a| a.hosts.is_empty()) {
        return None;
    }
    Some(Object::from_typed(&HttpRoute::new(
        platform_meta(platform, "https-redirect", Some(&platform.traffic.namespace)),
        HttpRouteSpec {
            parent_refs: vec![ParentRef {
                name: platform.traffic.gateway_name.clone(),
                namespace: platform.traffic.namespace.clone(),
                section_name: Some("http".to_string()),
            }],
            hostnames: Vec::new(),
            rules: vec![HttpRouteRule {
                matches: Vec::new(),
                filters: vec![HttpRouteFilter {
                    type_: "RequestRedirect",
                    request_redirect: RequestRedirect {
                        scheme: "https",
                        status_code: 301,
                    },
                }],
                backend_refs: Vec::new(),
            }],
        },
    )))
}

/// Route objects for an app: one for open paths, one per restricted path (so a policy can target it).
pub fn routes(platform: &Platform, app: &App) -> Vec<Object> {
    let Some(port) = app.port.map(|p| p.number) else {
        return Vec::new();
    };
    if app.hosts.is_empty() {
        return Vec::new();
    }
    let open: Vec<&Route> = app.routes.iter().filter(|r| r.allow_from.is_empty()).collect();
    let restricted: Vec<&Route> = app.routes.iter().filter(|r| !r.allow_from.is_empty()).collect();
    match platform.traffic.mode {
        TrafficMode::Gateway => {
            let mut out = Vec::new();
            if !open.is_empty() {
                out.push(http_route(platform, app, app.name.clone(), &open, port));
            }
            for r in restricted {
                let name = restricted_route_name(app, r);
                out.push(http_route(platform, app, name.clone(), &[r], port));
                out.push(Object::from_typed(&SecurityPolicy::new(
                    app_meta(platform, app, &name),
                    SecurityPolicySpec {
                        target_refs: vec![PolicyTargetRef {
                            group: "gateway.networking.k8s.io",
                            kind: "HTTPRoute",
                            name: name.clone(),
                        }],
                        authorization: Authorization {
                            default_action: "Deny",
                            rules: vec![AuthorizationRule {
                                name: "allow-listed-sources".to_string(),
                                action: "Allow",
                                principal: Principal {
                                    client_cidrs: r.allow_from.clone(),
                                },
                            }],
                        },
                    },
                )));
            }
            out
        }
        TrafficMode::Ingress => {
            let mut out = Vec::new();
            if !open.is_empty() {
                out.push(ingress(platform, app, app.name.clone(), &open, None));
            }
            for r in restricted {
                let name = restricted_route_name(app, r);
                out.push(ingress(platform, app, name, &[r], Some(r.allow_from.join(","))));
            }
            out
        }
    }
}

/// Names of the route objects (HTTPRoute or Ingress) of an app: one for its
/// open paths, one per restricted path. Alerts and dashboards select on these.
pub fn route_names(app: &App) -> Vec<String> {
    let mut names = Vec::new();
    if app.routes.iter().any(|r| r.allow_from.is_empty()) {
        names.push(app.name.clone());
    }
    names.extend(
        app.routes
            .iter()
            .filter(|r| !r.allow_from.is_empty())
            .map(|r| restricted_route_name(app, r)),
    );
    names
}

fn restricted_route_name(app: &App, route: &Route) -> String {
    format!("{}-{}", app.name, path_slug(&route.path))
}

/// `/admin/users` -> `admin-users`; `/` -> `root`.
fn path_slug(path: &str) -> String {
    let slug: String = path
        .trim_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches('-').to_string();
    if slug.is_empty() { "root".to_string() } else { slug }
}

fn http_route(platform: &Platform, app: &App, name: String, routes: &[&Route], port: u16) -> Object {
    Object::from_typed(&HttpRoute::new(
        app_meta(platform, app, name),
        HttpRouteSpec {
            parent_refs: app.hosts.iter().map(|h| host_parent(platform, h)).collect(),
            hostnames: app.hosts.clone(),
            rules: vec![HttpRouteRule {
                matches: routes
                    .iter()
                    .map(|r| HttpRouteMatch {
                        path: HttpPathMatch {
                            type_: "PathPrefix",
                            value: r.path.clone(),
                        },
                    })
                    .collect(),
                filters: Vec::new(),
                backend_refs: vec![BackendRef {
                    name: app.name.clone(),
                    port: i32::from(port),
                }],
            }],
        },
    ))
}

fn ingress(platform: &Platform, app: &App, name: String, routes: &[&Route], allow: Option<String>) -> Object {
    let mut meta = app_meta(platform, app, name);
    let mut annotations = BTreeMap::from([(
        CLUSTER_ISSUER_ANNOTATION.to_string(),
        cluster_issuer_name(platform.tls).to_string(),
    )]);
    if let Some(a) = allow {
        annotations.insert(INGRESS_ALLOW_ANNOTATION.to_string(), a);
    }
    meta.annotations = Some(annotations);
    let paths: Vec<HTTPIngressPath> = routes
        .iter()
        .map(|r| HTTPIngressPath {
            path: Some(r.path.clone()),
            path_type: "Prefix".to_string(),
            backend: IngressBackend {
                service: Some(IngressServiceBackend {
                    name: app.name.clone(),
                    port: Some(ServiceBackendPort {
                        name: Some(app.port.map_or(crate::defaults::PORT_HTTP, |p| p.name).to_string()),
                        ..ServiceBackendPort::default()
                    }),
                }),
                ..IngressBackend::default()
            },
        })
        .collect();
    Object::from_typed(&Ingress {
        metadata: meta,
        spec: Some(IngressSpec {
            ingress_class_name: Some(platform.traffic.class.clone()),
            tls: Some(vec![IngressTLS {
                hosts: Some(app.hosts.clone()),
                secret_name: Some(tls_secret_name(platform, app)),
            }]),
            rules: Some(
                app.hosts
                    .iter()
                    .map(|h| IngressRule {
                        host: Some(h.clone()),
                        http: Some(HTTPIngressRuleValue { paths: paths.clone() }),
                    })
                    .collect(),
            ),
            ..IngressSpec::default()
        }),
        status: None,
    })
}

/// Grafana of the monitoring stack, served through the platform's Gateway.
pub struct GrafanaRoute {
    pub host: String,
    /// The TLS Secret of its listener (in the Gateway's namespace).
    pub secret: String,
    service: String,
    namespace: String,
}

/// Grafana's host, when windlass installs the monitoring stack in gateway mode.
pub fn grafana(platform: &Platform) -> Option<GrafanaRoute> {
    use crate::components::{ComponentName, values};
    if platform.traffic.mode != TrafficMode::Gateway {
        return None;
    }
    let kps = platform.component(ComponentName::KubePrometheusStack)?;
    Some(GrafanaRoute {
        host: values::grafana_host(platform),
        secret: format!("{}-grafana-tls", platform.name),
        service: values::grafana_service(platform),
        namespace: kps.namespace.clone(),
    })
}

/// Grafana's Certificate (next to the Gateway) and HTTPRoute (next to Grafana).
pub fn grafana_objects(platform: &Platform) -> Vec<Object> {
    let Some(g) = grafana(platform) else {
        return Vec::new();
    };
    let certificate = super::tls::host_certificate(platform, &g.secret, std::slice::from_ref(&g.host), None);
    let mut meta = platform_meta(platform, "grafana", Some(&g.namespace));
    // `windlass check` on the rendered files alone cannot see the chart's Service.
    meta.annotations.get_or_insert_with(Default::default).insert(
        format!("{}backend-service-missing", crate::check::SUPPRESS_PREFIX),
        format!("the kube-prometheus-stack release creates Service {}", g.service),
    );
    let route = Object::from_typed(&HttpRoute::new(
        meta,
        HttpRouteSpec {
            parent_refs: vec![host_parent(platform, &g.host)],
            hostnames: vec![g.host.clone()],
            rules: vec![HttpRouteRule {
                matches: Vec::new(),
                filters: Vec::new(),
                backend_refs: vec![BackendRef {
                    name: g.service.clone(),
                    port: i32::from(crate::components::values::GRAFANA_PORT),
                }],
            }],
        },
    ));
    vec![certificate, route]
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(super::path_slug("/admin"), "admin");
        assert_eq!(super::path_slug("/admin/Users/"), "admin-users");
        assert_eq!(super::path_slug("/"), "root");
    }
}
