//! The ServiceMonitor that makes the monitoring stack scrape an app.

use std::collections::BTreeMap;

use super::crds::{ServiceMonitor, ServiceMonitorEndpoint, ServiceMonitorSpec};
use super::labels::{app_meta, selector};
use super::object::Object;
use crate::defaults as d;
use crate::model::{App, Platform};

/// The label kube-prometheus-stack's ServiceMonitor and PrometheusRule selectors match.
pub const RELEASE_LABEL: &str = "release";

pub fn service_monitor(platform: &Platform, app: &App) -> Option<Object> {
    let m = app.metrics.as_ref()?;
    let mut meta = app_meta(platform, app, &app.name);
    meta.labels
        .get_or_insert_with(BTreeMap::new)
        .insert(RELEASE_LABEL.to_string(), platform.monitoring.release.clone());
    Some(Object::from_typed(&ServiceMonitor::new(
        meta,
        ServiceMonitorSpec {
            selector: selector(platform, app),
            endpoints: vec![ServiceMonitorEndpoint {
                port: m.port_name.to_string(),
                path: m.path.clone(),
                interval: d::SCRAPE_INTERVAL.to_string(),
                scrape_timeout: d::SCRAPE_TIMEOUT.to_string(),
            }],
        },
    )))
}
