//! Spec of the observability content pack: alert routing, log alerts, uptime
//! checks (platform level) and per-app alert overrides and SLOs.

use schemars::JsonSchema;
use serde::Deserialize;

use super::types::PlatformFile;
use crate::source::FieldPath;

/// Platform-wide observability settings (`observability:` at the top level).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObservabilitySpec {}

/// Per-app alert overrides and objectives (`apps.NAME.alerts`, `apps.NAME.slo`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppAlertsSpec {}

/// Semantic checks of the observability settings: (field path, problem, fix).
pub fn validate(_spec: &PlatformFile) -> Vec<(FieldPath, String, String)> {
    Vec::new()
}
