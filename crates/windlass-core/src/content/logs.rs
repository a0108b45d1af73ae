//! Log-pattern alerts for the Loki ruler: LogQL `count_over_time` of the
//! lines matching a pattern, as rule files in ConfigMaps the Loki chart's
//! rules sidecar loads. One ConfigMap per app with log alerts, one for the
//! platform's own.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::alerts::runbook_url;
use super::crds::{Rule, RuleFile, RuleGroup};
use super::defaults as d;
use super::{content_labels, meta, yaml};
use crate::model::{App, LogAlert, Platform};
use crate::render::Object;

pub const LOG_ALERT: &str = "LogPatternMatched";

#[derive(Debug, Clone, PartialEq)]
pub struct LogRules {
    pub app: Option<String>,
    pub name: String,
    pub namespace: String,
    pub file: RuleFile,
}

pub fn rules(platform: &Platform, apps: &[&App]) -> Vec<LogRules> {
    let mut out = Vec::new();
    for app in apps {
        let logs = &app.alerts.logs;
        if logs.is_empty() {
            continue;
        }
        let rules = logs
            .iter()
            .map(|la| rule(la, Some((&app.name, &app.namespace))))
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
    let platform_alerts = &platform.observability.log_alerts;
    if !platform_alerts.is_empty() {
        let rules = platform_alerts.iter().map(|la| rule(la, None)).collect();
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

/// The stream selector of an app's own logs, as the log collector labels them.
pub fn own_streams(namespace: &str, app: &str) -> String {
    format!(
        "{{{}=\"{}\", {}=\"{}\"}}",
        d::LOG_LABEL_NAMESPACE,
        logql_escape(namespace),
        d::LOG_LABEL_APP,
        logql_escape(app)
    )
}

/// The LogQL expression of a log alert.
pub fn expr(la: &LogAlert) -> String {
    format!(
        "sum by (namespace, pod) (count_over_time({} |~ {} [{}])) > {}",
        la.selector,
        logql_string(&la.pattern),
        la.window,
        la.threshold
    )
}

fn rule(la: &LogAlert, app: Option<(&str, &str)>) -> Rule {
    let mut labels = BTreeMap::from([
        ("severity".to_string(), la.severity.as_str().to_string()),
        ("log_alert".to_string(), la.name.clone()),
    ]);
    if let Some((a, ns)) = app {
        labels.insert("app".to_string(), a.to_string());
        labels.insert("namespace".to_string(), ns.to_string());
    }
    Rule {
        alert: Some(LOG_ALERT.to_string()),
        record: None,
        expr: expr(la),
        for_: Some(la.for_.to_string()),
        labels,
        annotations: BTreeMap::from([
            ("summary".to_string(), la.summary.clone()),
            (
                "description".to_string(),
                format!(
                    "Pod {{{{ $labels.namespace }}}}/{{{{ $labels.pod }}}} logged more than {} line(s) matching `{}` in {}.",
                    la.threshold, la.pattern, la.window
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
