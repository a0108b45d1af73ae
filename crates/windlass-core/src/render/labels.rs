//! The labels every object carries, and the (never changing) selector labels.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::defaults as d;
use crate::model::{App, Platform};
use crate::spec::AppKind;

/// Selector labels: name and instance only. A version or tier in a selector
/// would make the next deploy fail with `field is immutable`.
pub fn selector_labels(platform: &Platform, app: &App) -> BTreeMap<String, String> {
    BTreeMap::from([
        (d::LABEL_NAME.to_string(), app.name.clone()),
        (d::LABEL_INSTANCE.to_string(), platform.name.clone()),
    ])
}

pub fn selector(platform: &Platform, app: &App) -> LabelSelector {
    LabelSelector {
        match_labels: Some(selector_labels(platform, app)),
        ..LabelSelector::default()
    }
}

/// Labels shared by platform-level objects.
pub fn platform_labels(platform: &Platform) -> BTreeMap<String, String> {
    BTreeMap::from([
        (d::LABEL_PART_OF.to_string(), platform.name.clone()),
        (d::LABEL_MANAGED_BY.to_string(), d::MANAGER.to_string()),
        (d::LABEL_ENVIRONMENT.to_string(), platform.environment.clone()),
    ])
}

/// Labels on every object of an app: selector labels, version, component, user labels.
pub fn app_labels(platform: &Platform, app: &App) -> BTreeMap<String, String> {
    let mut labels = platform_labels(platform);
    labels.extend(selector_labels(platform, app));
    if let Some(v) = &app.version {
        labels.insert(d::LABEL_VERSION.to_string(), v.clone());
    }
    labels.insert(d::LABEL_COMPONENT.to_string(), component(app.kind).to_string());
    labels.extend(app.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    labels
}

fn component(kind: AppKind) -> &'static str {
    match kind {
        AppKind::Web => "web",
        AppKind::Worker => "worker",
        AppKind::Cron => "cron",
        AppKind::Statefulset => "statefulset",
    }
}

/// Metadata of a namespaced app object.
pub fn app_meta(platform: &Platform, app: &App, name: impl Into<String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(app.namespace.clone()),
        labels: Some(app_labels(platform, app)),
        ..ObjectMeta::default()
    }
}

/// Metadata of an app's Service or workload: [`app_meta`], and when the spec
/// declares HTTP on a port `windlass check` knows for another protocol (a web
/// app on 5432), the suppression of `port-protocol-mismatch` saying the user chose it.
pub fn app_port_meta(platform: &Platform, app: &App, name: impl Into<String>) -> ObjectMeta {
    let mut meta = app_meta(platform, app, name);
    let declared: Vec<String> = app
        .ports()
        .iter()
        .filter(|p| p.app_protocol.is_some() && crate::check::non_http_protocol(i64::from(p.number)).is_some())
        .map(|p| p.number.to_string())
        .collect();
    if !declared.is_empty() {
        meta.annotations.get_or_insert_with(Default::default).insert(
            format!("{}port-protocol-mismatch", crate::check::SUPPRESS_PREFIX),
            format!(
                "windlass.yaml serves HTTP on port {} (apps.{})",
                declared.join(", "),
                app.name
            ),
        );
    }
    meta
}

/// Metadata of a platform object (`namespace` `None` for cluster-scoped ones).
pub fn platform_meta(platform: &Platform, name: impl Into<String>, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(str::to_string),
        labels: Some(platform_labels(platform)),
        ..ObjectMeta::default()
    }
}
