//! The observability content pack: alert rules, log alerts, uptime probes,
//! Alertmanager routing, SLOs and dashboards, rendered from the model only
//! (`model::Observability` and each app's `alerts`). `build` returns the typed pack (what the
//! tests feed to promtool, amtool and the LogQL parser); `render` turns it
//! into Kubernetes objects.

pub mod alertmanager;
pub mod alerts;
pub mod crds;
pub mod dashboards;
pub mod defaults;
pub mod logs;
pub mod probes;
pub mod scenarios;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use self::alerts::{Checked, Target};
use self::crds::{PrometheusRule, RuleFile, RuleGroup};
use self::scenarios::Scenario;
use crate::defaults as core;
use crate::model::{App, Platform};
use crate::render::Object;

/// Content objects: platform-wide ones, and per app (keyed by app name).
#[derive(Debug, Clone, Default)]
pub struct ContentObjects {
    pub platform: Vec<Object>,
    pub apps: BTreeMap<String, Vec<Object>>,
}

/// One PrometheusRule's content and the scenarios proving its alerts.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// The app it belongs to (None: platform rules).
    pub app: Option<String>,
    pub name: String,
    pub namespace: String,
    pub file: RuleFile,
    pub scenarios: Vec<Scenario>,
}

/// The content pack as typed values, before it becomes objects.
#[derive(Debug, Clone)]
pub struct Pack {
    pub rules: Vec<RuleSet>,
    pub log_rules: Vec<logs::LogRules>,
    pub probes: Vec<probes::UptimeProbe>,
    pub blackbox: probes::BlackboxConfig,
    pub alertmanager: alertmanager::AlertmanagerConfig,
    pub dashboards: Vec<dashboards::DashboardConfig>,
}

/// Renders the content pack for `apps` (the selected apps, in deploy order) of `platform`.
pub fn render(platform: &Platform, apps: &[&App]) -> ContentObjects {
    build(platform, apps).objects(platform)
}

/// Builds the typed content pack (with the scenarios that prove its alerts).
pub fn build(platform: &Platform, apps: &[&App]) -> Pack {
    let obs = &platform.observability;
    let mut rules: Vec<RuleSet> = apps.iter().map(|app| app_rules(platform, app)).collect();
    rules.push(platform_rules(platform));
    let mut dashboards = dashboards::platform_dashboards(platform, apps);
    dashboards.extend(apps.iter().map(|a| dashboards::app_dashboard(platform, a)));
    Pack {
        rules,
        log_rules: logs::rules(platform, apps),
        probes: probes::probes(platform, apps),
        blackbox: probes::blackbox_config(),
        alertmanager: alertmanager::config(&obs.alerting),
        dashboards,
    }
}

/// The platform-wide content objects for the selected `apps`, in apply order.
pub fn platform_objects(platform: &Platform, apps: &[&App]) -> Vec<Object> {
    let mut out = vec![platform_rules(platform).object(platform)];
    out.extend(
        logs::rules(platform, &[])
            .iter()
            .filter(|l| l.app.is_none())
            .map(|l| l.object(platform)),
    );
    out.extend(
        probes::probes(platform, &[])
            .iter()
            .filter(|p| p.app.is_none())
            .map(|p| p.object(platform)),
    );
    out.push(probes::blackbox_config().object(platform));
    out.push(alertmanager::config(&platform.observability.alerting).object(platform));
    out.extend(
        dashboards::platform_dashboards(platform, apps)
            .iter()
            .map(|d| d.object(platform)),
    );
    out
}

/// One app's content objects (rules, log rules, uptime probe, dashboard), in apply order.
pub fn app_objects(platform: &Platform, app: &App) -> Vec<Object> {
    let mut out = vec![app_rules(platform, app).object(platform)];
    out.extend(
        logs::rules(platform, &[app])
            .iter()
            .filter(|l| l.app.is_some())
            .map(|l| l.object(platform)),
    );
    out.extend(
        probes::probes(platform, &[app])
            .iter()
            .filter(|p| p.app.is_some())
            .map(|p| p.object(platform)),
    );
    out.push(dashboards::app_dashboard(platform, app).object(platform));
    out
}

/// An app's alert rules: health, traffic and SLO groups.
fn app_rules(platform: &Platform, app: &App) -> RuleSet {
    let t = Target { app, platform };
    let mut groups = Vec::new();
    let mut scenarios = Vec::new();
    for (concern, checked) in [
        ("health", alerts::app_health::rules(&t)),
        ("traffic", alerts::traffic::rules(&t)),
        ("slo", alerts::slo::rules(&t, platform.observability.slo_window)),
    ] {
        push_group(&mut groups, &mut scenarios, format!("{}.{concern}", app.name), checked);
    }
    RuleSet {
        app: Some(app.name.clone()),
        name: format!("{}-alerts", app.name),
        namespace: app.namespace.clone(),
        file: RuleFile { groups },
        scenarios,
    }
}

/// The platform's own alert rules (and uptime rules when probes run).
fn platform_rules(platform: &Platform) -> RuleSet {
    let obs = &platform.observability;
    let mut groups = Vec::new();
    let mut scenarios = Vec::new();
    push_group(
        &mut groups,
        &mut scenarios,
        "windlass.platform".to_string(),
        alerts::platform::rules(&obs.alerts),
    );
    if obs.uptime.public_hosts || !obs.uptime.urls.is_empty() {
        push_group(
            &mut groups,
            &mut scenarios,
            "windlass.uptime".to_string(),
            alerts::uptime::rules(obs),
        );
    }
    RuleSet {
        app: None,
        name: "windlass-platform-alerts".to_string(),
        namespace: platform.monitoring.namespace.clone(),
        file: RuleFile { groups },
        scenarios,
    }
}

fn push_group(groups: &mut Vec<RuleGroup>, scenarios: &mut Vec<Scenario>, name: String, checked: Checked) {
    if checked.rules.is_empty() {
        return;
    }
    groups.push(RuleGroup {
        name,
        interval: None,
        rules: checked.rules,
    });
    scenarios.extend(checked.scenarios);
}

impl Pack {
    pub fn objects(&self, platform: &Platform) -> ContentObjects {
        let mut out = ContentObjects::default();
        for set in &self.rules {
            push(&mut out, set.app.as_deref(), set.object(platform));
        }
        for l in &self.log_rules {
            push(&mut out, l.app.as_deref(), l.object(platform));
        }
        for p in &self.probes {
            push(&mut out, p.app.as_deref(), p.object(platform));
        }
        out.platform.push(self.blackbox.object(platform));
        out.platform.push(self.alertmanager.object(platform));
        for dash in &self.dashboards {
            push(&mut out, dash.app.as_deref(), dash.object(platform));
        }
        out
    }
}

impl RuleSet {
    /// The PrometheusRule, labelled for the monitoring stack's rule selector.
    pub fn object(&self, platform: &Platform) -> Object {
        let mut labels = content_labels(platform, self.app.as_deref());
        labels.insert(
            crate::render::RELEASE_LABEL.to_string(),
            platform.monitoring.release.clone(),
        );
        Object::from_typed(&PrometheusRule::new(
            meta(&self.name, &self.namespace, labels),
            self.file.groups.clone(),
        ))
    }
}

fn push(out: &mut ContentObjects, app: Option<&str>, obj: Object) {
    match app {
        Some(a) => out.apps.entry(a.to_string()).or_default().push(obj),
        None => out.platform.push(obj),
    }
}

/// Labels on every content object: part-of, managed-by, environment, and the app's name for app content.
pub fn content_labels(platform: &Platform, app: Option<&str>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (core::LABEL_PART_OF.to_string(), platform.name.clone()),
        (core::LABEL_MANAGED_BY.to_string(), core::MANAGER.to_string()),
        (core::LABEL_ENVIRONMENT.to_string(), platform.environment.clone()),
    ]);
    if let Some(a) = app {
        labels.insert(core::LABEL_NAME.to_string(), a.to_string());
        labels.insert(core::LABEL_INSTANCE.to_string(), platform.name.clone());
    }
    labels
}

pub fn meta(name: &str, namespace: &str, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(namespace.to_string()),
        labels: Some(labels),
        ..ObjectMeta::default()
    }
}

/// YAML of a typed value (rule files, test files, configs embedded in objects).
pub fn yaml<T: serde::Serialize>(value: &T) -> String {
    match serde_saphyr::to_string(value) {
        Ok(s) => s,
        Err(e) => panic!("windlass bug: content failed to serialise as YAML: {e}"),
    }
}
