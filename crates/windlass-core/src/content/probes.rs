//! Uptime probes: a blackbox-exporter `Probe` for every app's public hosts
//! (in the app's namespace) and for the spec's extra URLs (in the monitoring
//! namespace), and the blackbox module config they use.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use serde::Serialize;

use super::crds::{Probe, ProbeSpec, ProbeTargets, Prober, StaticConfig};
use super::defaults as d;
use super::{content_labels, meta, yaml};
use crate::model::{App, Platform};
use crate::render::Object;

#[derive(Debug, Clone, PartialEq)]
pub struct UptimeProbe {
    pub app: Option<String>,
    pub name: String,
    pub namespace: String,
    pub module: &'static str,
    pub interval: String,
    pub targets: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

pub fn probes(platform: &Platform, apps: &[&App]) -> Vec<UptimeProbe> {
    let uptime = &platform.observability.uptime;
    let interval = uptime.interval.to_string();
    let mut out = Vec::new();
    if uptime.public_hosts {
        for app in apps.iter().filter(|a| !a.hosts.is_empty() && a.port.is_some()) {
            out.push(UptimeProbe {
                app: Some(app.name.clone()),
                name: format!("{}-uptime", app.name),
                namespace: app.namespace.clone(),
                module: d::BLACKBOX_MODULE_HTTPS,
                interval: interval.clone(),
                targets: app.hosts.iter().map(|h| format!("https://{h}/")).collect(),
                labels: BTreeMap::from([
                    ("app".to_string(), app.name.clone()),
                    ("namespace".to_string(), app.namespace.clone()),
                ]),
            });
        }
    }
    for (module, scheme) in [
        (d::BLACKBOX_MODULE_HTTPS, "https://"),
        (d::BLACKBOX_MODULE_HTTP, "http://"),
    ] {
        let targets: Vec<String> = uptime.urls.iter().filter(|u| u.starts_with(scheme)).cloned().collect();
        if !targets.is_empty() {
            out.push(UptimeProbe {
                app: None,
                name: format!("windlass-uptime-{}", module.replace('_', "-")),
                namespace: platform.monitoring.namespace.clone(),
                module,
                interval: interval.clone(),
                targets,
                labels: BTreeMap::new(),
            });
        }
    }
    out
}

impl UptimeProbe {
    pub fn object(&self, platform: &Platform) -> Object {
        let mut labels = content_labels(platform, self.app.as_deref());
        labels.insert(
            crate::render::RELEASE_LABEL.to_string(),
            platform.monitoring.release.clone(),
        );
        Object::from_typed(&Probe::new(
            meta(&self.name, &self.namespace, labels),
            ProbeSpec {
                job_name: d::UPTIME_JOB.to_string(),
                interval: self.interval.clone(),
                scrape_timeout: d::BLACKBOX_TIMEOUT.to_string(),
                module: self.module.to_string(),
                prober: Prober {
                    url: format!(
                        "{}.{}.svc:{}",
                        d::BLACKBOX_SERVICE,
                        platform.monitoring.namespace,
                        d::BLACKBOX_PORT
                    ),
                    path: "/probe".to_string(),
                },
                targets: ProbeTargets {
                    static_config: StaticConfig {
                        targets: self.targets.clone(),
                        labels: self.labels.clone(),
                    },
                },
            },
        ))
    }
}

/// The blackbox exporter's `blackbox.yaml`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BlackboxConfig {
    pub modules: BTreeMap<String, BlackboxModule>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BlackboxModule {
    pub prober: &'static str,
    pub timeout: &'static str,
    pub http: HttpModule,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HttpModule {
    /// Empty: any 2xx.
    pub valid_status_codes: Vec<u16>,
    pub valid_http_versions: Vec<&'static str>,
    pub follow_redirects: bool,
    pub preferred_ip_protocol: &'static str,
    pub fail_if_not_ssl: bool,
}

pub fn blackbox_config() -> BlackboxConfig {
    let module = |tls: bool| BlackboxModule {
        prober: "http",
        // Below the Probe's scrape timeout, so a slow site is a failed probe, not a failed scrape.
        timeout: "8s",
        http: HttpModule {
            valid_status_codes: Vec::new(),
            valid_http_versions: vec!["HTTP/1.1", "HTTP/2.0"],
            follow_redirects: true,
            preferred_ip_protocol: "ip4",
            fail_if_not_ssl: tls,
        },
    };
    BlackboxConfig {
        modules: BTreeMap::from([
            (d::BLACKBOX_MODULE_HTTPS.to_string(), module(true)),
            (d::BLACKBOX_MODULE_HTTP.to_string(), module(false)),
        ]),
    }
}

impl BlackboxConfig {
    /// A Secret, as the prometheus-blackbox-exporter chart's `configExistingSecretName` expects.
    pub fn object(&self, platform: &Platform) -> Object {
        Object::from_typed(&Secret {
            metadata: meta(
                d::BLACKBOX_CONFIG_SECRET,
                &platform.monitoring.namespace,
                content_labels(platform, None),
            ),
            string_data: Some(BTreeMap::from([(d::BLACKBOX_CONFIG_KEY.to_string(), yaml(self))])),
            type_: Some("Opaque".to_string()),
            ..Secret::default()
        })
    }
}
