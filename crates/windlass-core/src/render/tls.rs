//! TLS through cert-manager: the platform's ClusterIssuers (Let's Encrypt over
//! HTTP-01, or a self-signed CA) and, in gateway mode, one Certificate per app
//! next to the Gateway that terminates TLS.

use std::collections::BTreeMap;

use super::crds::*;
use super::labels::platform_meta;
use super::object::Object;
use crate::defaults as d;
use crate::model::{App, Platform};
use crate::spec::{TlsIssuer, TrafficMode};

pub fn cluster_issuer_name(tls: TlsIssuer) -> &'static str {
    match tls {
        TlsIssuer::LetsencryptProd => "letsencrypt-prod",
        TlsIssuer::LetsencryptStaging => "letsencrypt-staging",
        TlsIssuer::SelfSigned => d::SELF_SIGNED_CA_ISSUER,
    }
}

/// The Secret holding an app's certificate. In gateway mode it lives in the
/// Gateway's namespace, shared by all apps, so the namespace is part of the name.
pub fn tls_secret_name(platform: &Platform, app: &App) -> String {
    match platform.traffic.mode {
        TrafficMode::Gateway => format!("{}-{}-tls", app.namespace, app.name),
        TrafficMode::Ingress => format!("{}-tls", app.name),
    }
}

fn issuer_ref(name: &str) -> IssuerRef {
    IssuerRef {
        name: name.to_string(),
        kind: "ClusterIssuer",
        group: "cert-manager.io",
    }
}

fn private_key() -> PrivateKey {
    PrivateKey {
        algorithm: "ECDSA",
        size: 256,
        rotation_policy: "Always",
    }
}

/// The issuer the platform uses (and, for self-signed, the bootstrap issuer and CA certificate).
pub fn cluster_issuers(platform: &Platform) -> Vec<Object> {
    let solver = match platform.traffic.mode {
        TrafficMode::Gateway => Http01Solver::GatewayHttpRoute {
            parent_refs: vec![ParentRef {
                name: platform.traffic.gateway_name.clone(),
                namespace: platform.traffic.namespace.clone(),
                section_name: Some("http".to_string()),
            }],
        },
        TrafficMode::Ingress => Http01Solver::Ingress {
            ingress_class_name: platform.traffic.class.clone(),
        },
    };
    let acme = |server: &'static str, name: &str| {
        Object::from_typed(&ClusterIssuer::new(
            platform_meta(platform, name, None),
            ClusterIssuerSpec::Acme(AcmeIssuer {
                server,
                email: platform.email.clone().unwrap_or_default(),
                private_key_secret_ref: NamedSecret {
                    name: format!("{name}-account-key"),
                },
                solvers: vec![AcmeSolver { http01: solver.clone() }],
            }),
        ))
    };
    match platform.tls {
        TlsIssuer::LetsencryptProd => vec![acme(d::LETSENCRYPT_PROD_SERVER, "letsencrypt-prod")],
        TlsIssuer::LetsencryptStaging => vec![acme(d::LETSENCRYPT_STAGING_SERVER, "letsencrypt-staging")],
        TlsIssuer::SelfSigned => {
            let ca_secret = format!("{}-root", d::SELF_SIGNED_CA_ISSUER);
            vec![
                Object::from_typed(&ClusterIssuer::new(
                    platform_meta(platform, d::SELF_SIGNED_BOOTSTRAP_ISSUER, None),
                    ClusterIssuerSpec::SelfSigned(BTreeMap::new()),
                )),
                Object::from_typed(&Certificate::new(
                    platform_meta(
                        platform,
                        format!("{}-root", d::SELF_SIGNED_CA_ISSUER),
                        Some(d::CERT_MANAGER_NAMESPACE),
                    ),
                    CertificateSpec {
                        secret_name: ca_secret.clone(),
                        common_name: Some(format!("{} root CA", platform.name)),
                        dns_names: Vec::new(),
                        is_ca: Some(true),
                        issuer_ref: issuer_ref(d::SELF_SIGNED_BOOTSTRAP_ISSUER),
                        private_key: private_key(),
                        renew_before: None,
                    },
                )),
                Object::from_typed(&ClusterIssuer::new(
                    platform_meta(platform, d::SELF_SIGNED_CA_ISSUER, None),
                    ClusterIssuerSpec::Ca(CaIssuer { secret_name: ca_secret }),
                )),
            ]
        }
    }
}

/// Gateway mode: the app's Certificate in the Gateway namespace. (Ingress mode
/// uses the cluster-issuer annotation on the Ingress instead.)
pub fn certificate(platform: &Platform, app: &App) -> Option<Object> {
    if platform.traffic.mode != TrafficMode::Gateway || app.hosts.is_empty() {
        return None;
    }
    Some(host_certificate(
        platform,
        &tls_secret_name(platform, app),
        &app.hosts,
        Some(&app.name),
    ))
}

/// A Certificate for `hosts` into Secret `secret`, next to the Gateway that serves them.
/// `app` labels it as the app's.
pub fn host_certificate(platform: &Platform, secret: &str, hosts: &[String], app: Option<&str>) -> Object {
    let mut meta = platform_meta(platform, secret, Some(&platform.traffic.namespace));
    if let (Some(labels), Some(app)) = (meta.labels.as_mut(), app) {
        labels.insert(d::LABEL_NAME.to_string(), app.to_string());
    }
    Object::from_typed(&Certificate::new(
        meta,
        CertificateSpec {
            secret_name: secret.to_string(),
            common_name: None,
            dns_names: hosts.to_vec(),
            is_ca: None,
            issuer_ref: issuer_ref(cluster_issuer_name(platform.tls)),
            private_key: private_key(),
            renew_before: Some("720h".to_string()),
        },
    ))
}
