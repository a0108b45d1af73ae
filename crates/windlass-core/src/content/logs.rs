//! Log-pattern alerts for the Loki ruler: LogQL `count_over_time` of the
//! lines matching a pattern, as rule files in ConfigMaps the Loki chart's
//! rules sidecar loads. One ConfigMap per app with log alerts, one for the
//! platform's own.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::alerts::{num, runbook_url};
use super::crds::{Rule, RuleFile, RuleGroup};
use super::defaults as d;
use super::{content_labels, meta, yaml};
use crate::model::{App, Platform};
use crate::render::Object;
use crate::spec::observability::{LogAlertSpec, LogPreset, ObservabilitySpec};

pub const LOG_ALERT: &str = "LogPatternMatched";

#[derive(Debug, Clone, PartialEq)]
pub struct LogRules {
    pub app: Option<String>,
    pub name: String,
    pub namespace: String,
    pub file: RuleFile,
}

pub fn rules(platform: &Platform, obs: &ObservabilitySpec, apps: &[&App]) -> Vec<LogRules> {
    let mut out = Vec::new();
    for app in apps {
        let logs = &app.spec.alerts.logs;
        if logs.is_empty() {
            continue;
        }
        let own = format!(
            "{{{}=\"{}\", {}=\"{}\"}}",
            d::LOG_LABEL_NAMESPACE,
            logql_escape(&app.namespace),
            d::LOG_LABEL_APP,
            logql_escape(&app.name)
        );
        let rules = logs
            .iter()
            .map(|(name, spec)| rule(name, spec, &own, Some((&app.name, &app.namespace))))
            .collect();
        out.push(LogRules {
            app: Some(app.name.clone()),
            name: format!("{}-log-alerts", app.name),
            namespace: platform.monitoring.namespace.clone(),
            file: RuleFile {
                groups: vec![RuleGroup {
                    name: format!("{}.logs", app.name),
                    interval: None,
                    rules,
                }],
            },
        });
    }
    if !obs.log_alerts.is_empty() {
        let rules = obs
            .log_alerts
            .iter()
            .map(|(name, spec)| rule(name, spec, "{namespace=~\".+\"}", None))
            .collect();
        out.push(LogRules {
            app: None,
            name: "windlass-log-alerts".to_string(),
            namespace: platform.monitoring.namespace.clone(),
            file: RuleFile {
                groups: vec![RuleGroup {
                    name: "windlass.logs".to_string(),
                    interval: None,
                    rules,
                }],
            },
        });
    }
    out
}

/// The regex a log alert matches lines with.
pub fn pattern(spec: &LogAlertSpec) -> String {
    match (&spec.pattern, spec.preset) {
        (Some(p), _) => p.clone(),
        (None, Some(LogPreset::MariadbInnodbIo)) => d::PRESET_MARIADB_INNODB_IO.to_string(),
        (None, Some(LogPreset::PhpFatal)) => d::PRESET_PHP_FATAL.to_string(),
        // Validation requires one of them; an empty pattern would match every line.
        (None, None) => ".+".to_string(),
    }
}

/// The LogQL expression of a log alert.
pub fn expr(spec: &LogAlertSpec, default_selector: &str) -> String {
    let selector = spec.selector.as_deref().unwrap_or(default_selector).trim();
    let window = spec.window.as_deref().unwrap_or(d::LOG_WINDOW);
    let threshold = spec.threshold.unwrap_or(0);
    format!(
        "sum by (namespace, pod) (count_over_time({selector} |~ {} [{window}])) > {threshold}",
        logql_string(&pattern(spec))
    )
}

fn rule(name: &str, spec: &LogAlertSpec, default_selector: &str, app: Option<(&str, &str)>) -> Rule {
    let severity = spec.severity.unwrap_or(d::LOG_ALERT.severity);
    let mut labels = BTreeMap::from([
        ("severity".to_string(), severity.as_str().to_string()),
        ("log_alert".to_string(), name.to_string()),
    ]);
    if let Some((a, ns)) = app {
        labels.insert("app".to_string(), a.to_string());
        labels.insert("namespace".to_string(), ns.to_string());
    }
    let window = spec.window.as_deref().unwrap_or(d::LOG_WINDOW);
    let summary = spec
        .summary
        .clone()
        .unwrap_or_else(|| format!("Log lines matching `{name}`"));
    Rule {
        alert: Some(LOG_ALERT.to_string()),
        record: None,
        expr: expr(spec, default_selector),
        for_: Some(spec.for_.clone().unwrap_or_else(|| d::LOG_ALERT.for_.to_string())),
        labels,
        annotations: BTreeMap::from([
            ("summary".to_string(), summary),
            (
                "description".to_string(),
                format!(
                    "Pod {{{{ $labels.namespace }}}}/{{{{ $labels.pod }}}} logged more than {} line(s) matching `{}` in {window}.",
                    num(f64::from(spec.threshold.unwrap_or(0))),
                    pattern(spec)
                ),
            ),
            ("runbook_url".to_string(), runbook_url(LOG_ALERT)),
        ]),
    }
}

/// A LogQL string literal: a raw backtick string unless the text holds a backtick.
pub fn logql_string(s: &str) -> String {
    if s.contains('`') {
        format!("\"{}\"", logql_escape(s))
    } else {
        format!("`{s}`")
    }
}

fn logql_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl LogRules {
    pub fn object(&self, platform: &Platform) -> Object {
        let mut labels = content_labels(platform, self.app.as_deref());
        labels.insert(d::LOKI_RULE_LABEL.to_string(), d::LOKI_RULE_LABEL_VALUE.to_string());
        Object::from_typed(&ConfigMap {
            metadata: meta(&self.name, &self.namespace, labels),
            data: Some(BTreeMap::from([(format!("{}.yaml", self.name), yaml(&self.file))])),
            ..ConfigMap::default()
        })
    }
}
