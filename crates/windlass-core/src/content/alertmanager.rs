//! The Alertmanager configuration: receivers (credentials read from mounted
//! Secret files, never inlined), routes by severity and namespace, grouping,
//! inhibition, and the Watchdog heartbeat. Rendered as the Secret
//! kube-prometheus-stack's Alertmanager reads (`alertmanagerSpec.configSecret`);
//! the Secrets holding credentials must be listed in `alertmanagerSpec.secrets`
//! (see `AlertmanagerConfig::mounted_secrets`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use serde::Serialize;

use super::defaults as d;
use super::{content_labels, meta, yaml};
use crate::model::{Alerting, Platform, ReceiverKind, SecretRef};
use crate::render::Object;
use crate::spec::observability::{NULL_RECEIVER, Severity};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertmanagerConfig {
    pub global: Global,
    pub route: Route,
    pub inhibit_rules: Vec<InhibitRule>,
    pub receivers: Vec<Receiver>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Global {
    pub resolve_timeout: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Route {
    pub receiver: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InhibitRule {
    pub source_matchers: Vec<String>,
    pub target_matchers: Vec<String>,
    pub equal: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Receiver {
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slack_configs: Vec<SlackConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pagerduty_configs: Vec<PagerdutyConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub email_configs: Vec<EmailConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webhook_configs: Vec<WebhookConfig>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SlackConfig {
    pub api_url_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub send_resolved: bool,
    pub title: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PagerdutyConfig {
    pub routing_key_file: String,
    pub send_resolved: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EmailConfig {
    pub to: String,
    pub from: String,
    pub smarthost: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_password_file: Option<String>,
    pub send_resolved: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WebhookConfig {
    pub url: String,
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpConfig>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HttpConfig {
    pub authorization: Authorization,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Authorization {
    pub credentials_file: String,
}

/// Where the Alertmanager sees a Secret key listed in `alertmanagerSpec.secrets`.
pub fn secret_path(r: &SecretRef) -> String {
    format!("{}/{}/{}", d::ALERTMANAGER_SECRETS_DIR, r.secret, r.key)
}

fn matcher(label: &str, value: &str) -> String {
    format!("{label}=\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn config(spec: &Alerting) -> AlertmanagerConfig {
    let mut routes = vec![Route {
        receiver: spec.heartbeat_receiver.clone(),
        matchers: vec![matcher("alertname", d::WATCHDOG)],
        group_wait: Some("0s".to_string()),
        group_interval: Some(d::HEARTBEAT_REPEAT_INTERVAL.to_string()),
        repeat_interval: Some(d::HEARTBEAT_REPEAT_INTERVAL.to_string()),
        ..Route::default()
    }];
    for r in &spec.routes {
        let mut matchers = Vec::new();
        if let Some(s) = r.severity {
            matchers.push(matcher("severity", s.as_str()));
        }
        if !r.namespaces.is_empty() {
            let alternatives: Vec<String> = r.namespaces.iter().map(|n| super::alerts::regex_escape(n)).collect();
            matchers.push(format!("namespace=~\"{}\"", alternatives.join("|")));
        }
        routes.push(Route {
            receiver: r.receiver.clone(),
            matchers,
            repeat_interval: (r.severity == Some(Severity::Critical)).then(|| d::REPEAT_INTERVAL_CRITICAL.to_string()),
            ..Route::default()
        });
    }
    let mut receivers = vec![Receiver {
        name: NULL_RECEIVER.to_string(),
        ..Receiver::default()
    }];
    receivers.extend(spec.receivers.iter().map(|r| receiver(&r.name, &r.kind)));
    AlertmanagerConfig {
        global: Global {
            resolve_timeout: d::RESOLVE_TIMEOUT.to_string(),
        },
        route: Route {
            receiver: spec.default_receiver.clone(),
            group_by: d::GROUP_BY.iter().map(|s| s.to_string()).collect(),
            group_wait: Some(d::GROUP_WAIT.to_string()),
            group_interval: Some(d::GROUP_INTERVAL.to_string()),
            repeat_interval: Some(d::REPEAT_INTERVAL.to_string()),
            routes,
            ..Route::default()
        },
        inhibit_rules: vec![
            InhibitRule {
                source_matchers: vec![matcher("severity", "critical")],
                target_matchers: vec!["severity=~\"warning|info\"".to_string()],
                equal: d::GROUP_BY.iter().map(|s| s.to_string()).collect(),
            },
            InhibitRule {
                source_matchers: vec![matcher("severity", "warning")],
                target_matchers: vec![matcher("severity", "info")],
                equal: d::GROUP_BY.iter().map(|s| s.to_string()).collect(),
            },
        ],
        receivers,
    }
}

fn receiver(name: &str, kind: &ReceiverKind) -> Receiver {
    let mut out = Receiver {
        name: name.to_string(),
        ..Receiver::default()
    };
    match kind {
        ReceiverKind::Slack { webhook_url, channel } => out.slack_configs.push(SlackConfig {
            api_url_file: secret_path(webhook_url),
            channel: channel.clone(),
            send_resolved: true,
            title: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})".to_string(),
            text: "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n{{ .Annotations.runbook_url }}\n{{ end }}"
                .to_string(),
        }),
        ReceiverKind::Pagerduty { routing_key } => out.pagerduty_configs.push(PagerdutyConfig {
            routing_key_file: secret_path(routing_key),
            send_resolved: true,
        }),
        ReceiverKind::Email {
            to,
            from,
            smarthost,
            username,
            password,
        } => out.email_configs.push(EmailConfig {
            to: to.clone(),
            from: from.clone(),
            smarthost: smarthost.clone(),
            auth_username: username.clone(),
            auth_password_file: password.as_ref().map(secret_path),
            send_resolved: true,
        }),
        ReceiverKind::Webhook { url, token } => out.webhook_configs.push(WebhookConfig {
            url: url.clone(),
            send_resolved: true,
            http_config: token.as_ref().map(|t| HttpConfig {
                authorization: Authorization {
                    credentials_file: secret_path(t),
                },
            }),
        }),
    }
    out
}

/// Names of the Secrets the configuration reads files from: list them in the
/// kube-prometheus-stack value `alertmanager.alertmanagerSpec.secrets`.
pub fn mounted_secrets(spec: &Alerting) -> Vec<String> {
    let mut names: Vec<String> = spec
        .receivers
        .iter()
        .flat_map(|r| r.kind.secrets())
        .map(|s| s.secret.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

impl AlertmanagerConfig {
    pub fn yaml(&self) -> String {
        yaml(self)
    }

    pub fn object(&self, platform: &Platform) -> Object {
        Object::from_typed(&Secret {
            metadata: meta(
                d::ALERTMANAGER_CONFIG_SECRET,
                &platform.monitoring.namespace,
                content_labels(platform, None),
            ),
            string_data: Some(BTreeMap::from([(d::ALERTMANAGER_CONFIG_KEY.to_string(), self.yaml())])),
            type_: Some("Opaque".to_string()),
            ..Secret::default()
        })
    }
}
