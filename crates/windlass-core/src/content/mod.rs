//! The observability content pack: alert rules, log alerts, uptime probes,
//! Alertmanager routing, SLOs and dashboards, rendered from the model.

use std::collections::BTreeMap;

use crate::model::{App, Platform};
use crate::render::Object;

/// Content objects: platform-wide ones, and per app (keyed by app name).
#[derive(Debug, Clone, Default)]
pub struct ContentObjects {
    pub platform: Vec<Object>,
    pub apps: BTreeMap<String, Vec<Object>>,
}

/// Renders the content pack for `apps` (the selected apps, in deploy order) of `platform`.
pub fn render(_platform: &Platform, _apps: &[&App]) -> ContentObjects {
    ContentObjects::default()
}
