//! Grafana dashboards as typed values (the dashboard JSON model, only the
//! fields windlass sets): cluster overview, traffic, one per app, SLOs and
//! cost. Queries reference the Prometheus and Loki datasources by uid.

mod app;
mod cluster;
mod cost;
mod slo;
mod traffic;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use serde::Serialize;

use super::defaults as d;
use super::{content_labels, meta};
use crate::model::{App, Platform};
use crate::render::Object;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
    pub tags: Vec<String>,
    pub timezone: &'static str,
    pub schema_version: u32,
    pub editable: bool,
    pub refresh: &'static str,
    pub time: TimeRange,
    pub panels: Vec<Panel>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TimeRange {
    pub from: &'static str,
    pub to: &'static str,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Panel {
    pub id: u32,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub grid_pos: GridPos,
    pub datasource: Datasource,
    pub targets: Vec<Query>,
    pub field_config: FieldConfig,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct GridPos {
    pub h: u32,
    pub w: u32,
    pub x: u32,
    pub y: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Datasource {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub uid: &'static str,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    pub ref_id: String,
    pub expr: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub legend_format: String,
    pub datasource: Datasource,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldConfig {
    pub defaults: FieldDefaults,
    pub overrides: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldDefaults {
    pub unit: &'static str,
}

pub fn prometheus() -> Datasource {
    Datasource {
        kind: "prometheus",
        uid: d::PROMETHEUS_DATASOURCE_UID,
    }
}

pub fn loki() -> Datasource {
    Datasource {
        kind: "loki",
        uid: d::LOKI_DATASOURCE_UID,
    }
}

/// Builds a dashboard panel by panel, placing them left to right in Grafana's 24-column grid.
pub struct Builder {
    dashboard: Dashboard,
    x: u32,
    y: u32,
    row_h: u32,
}

/// Panel width and height in grid units.
#[derive(Clone, Copy)]
pub enum Size {
    Third,
    Half,
    Full,
}

impl Builder {
    pub fn new(uid: String, title: String, tags: &[&str]) -> Self {
        Self {
            dashboard: Dashboard {
                uid,
                title,
                tags: tags
                    .iter()
                    .map(|t| t.to_string())
                    .chain(["windlass".to_string()])
                    .collect(),
                timezone: "browser",
                schema_version: 39,
                editable: false,
                refresh: "1m",
                time: TimeRange {
                    from: "now-6h",
                    to: "now",
                },
                panels: Vec::new(),
            },
            x: 0,
            y: 0,
            row_h: 0,
        }
    }

    fn place(&mut self, size: Size, h: u32) -> GridPos {
        let w = match size {
            Size::Third => 8,
            Size::Half => 12,
            Size::Full => 24,
        };
        if self.x + w > 24 {
            self.x = 0;
            self.y += self.row_h;
            self.row_h = 0;
        }
        let pos = GridPos {
            h,
            w,
            x: self.x,
            y: self.y,
        };
        self.x += w;
        self.row_h = self.row_h.max(h);
        pos
    }

    /// A Prometheus panel (`timeseries` or `stat`) with (query, legend) pairs.
    pub fn metrics(
        &mut self,
        kind: &'static str,
        title: &str,
        unit: &'static str,
        size: Size,
        queries: &[(String, &str)],
    ) -> &mut Self {
        let grid_pos = self.place(size, 8);
        let id = self.dashboard.panels.len() as u32 + 1;
        self.dashboard.panels.push(Panel {
            id,
            kind,
            title: title.to_string(),
            grid_pos,
            datasource: prometheus(),
            targets: queries
                .iter()
                .enumerate()
                .map(|(i, (expr, legend))| Query {
                    ref_id: ref_id(i),
                    expr: expr.clone(),
                    legend_format: legend.to_string(),
                    datasource: prometheus(),
                })
                .collect(),
            field_config: FieldConfig {
                defaults: FieldDefaults { unit },
                overrides: Vec::new(),
            },
        });
        self
    }

    pub fn timeseries(&mut self, title: &str, unit: &'static str, size: Size, queries: &[(String, &str)]) -> &mut Self {
        self.metrics("timeseries", title, unit, size, queries)
    }

    pub fn stat(&mut self, title: &str, unit: &'static str, size: Size, queries: &[(String, &str)]) -> &mut Self {
        self.metrics("stat", title, unit, size, queries)
    }

    /// A Loki logs panel.
    pub fn logs(&mut self, title: &str, expr: String) -> &mut Self {
        self.loki_panel("logs", title, Size::Full, 12, expr, "", "none")
    }

    /// A LogQL metric query panel (e.g. matching lines per minute).
    pub fn log_rate(&mut self, title: &str, size: Size, expr: String, legend: &str) -> &mut Self {
        self.loki_panel("timeseries", title, size, 8, expr, legend, "short")
    }

    /// A panel with one LogQL query against the Loki datasource.
    #[allow(clippy::too_many_arguments)]
    fn loki_panel(
        &mut self,
        kind: &'static str,
        title: &str,
        size: Size,
        height: u32,
        expr: String,
        legend: &str,
        unit: &'static str,
    ) -> &mut Self {
        let grid_pos = self.place(size, height);
        let id = self.dashboard.panels.len() as u32 + 1;
        self.dashboard.panels.push(Panel {
            id,
            kind,
            title: title.to_string(),
            grid_pos,
            datasource: loki(),
            targets: vec![Query {
                ref_id: ref_id(0),
                expr,
                legend_format: legend.to_string(),
                datasource: loki(),
            }],
            field_config: FieldConfig {
                defaults: FieldDefaults { unit },
                overrides: Vec::new(),
            },
        });
        self
    }

    pub fn build(&mut self) -> Dashboard {
        self.dashboard.clone()
    }
}

fn ref_id(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (letters[i % 26] as char).to_string()
}

/// A dashboard and where it belongs.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardConfig {
    /// The app it shows (None: platform dashboards).
    pub app: Option<String>,
    pub dashboard: Dashboard,
}

impl DashboardConfig {
    pub fn config_map_name(&self) -> String {
        format!("dashboard-{}", self.dashboard.uid)
    }
    pub fn json(&self) -> String {
        // An app's dashboard is ~16 KB: sized up front, not regrown by doubling.
        let mut out = Vec::with_capacity(24 * 1024);
        match serde_json::to_writer_pretty(&mut out, &self.dashboard) {
            Ok(()) => String::from_utf8(out).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }
    /// The ConfigMap Grafana's dashboard sidecar loads, in the monitoring namespace.
    pub fn object(&self, platform: &Platform) -> Object {
        let mut labels = content_labels(platform, self.app.as_deref());
        labels.insert(d::DASHBOARD_LABEL.to_string(), d::DASHBOARD_LABEL_VALUE.to_string());
        let mut m = meta(&self.config_map_name(), &platform.monitoring.namespace, labels);
        m.annotations = Some(BTreeMap::from([(
            d::DASHBOARD_FOLDER_ANNOTATION.to_string(),
            d::DASHBOARD_FOLDER.to_string(),
        )]));
        let mut object = Object::from_typed(&ConfigMap {
            metadata: m,
            ..ConfigMap::default()
        });
        // The JSON goes in by move, not through a typed copy: it is most of the bytes `render` writes.
        if let serde_json::Value::Object(fields) = &mut object.0 {
            let data = serde_json::Map::from_iter([(
                format!("{}.json", self.dashboard.uid),
                serde_json::Value::String(self.json()),
            )]);
            fields.shift_insert(2, "data".to_string(), serde_json::Value::Object(data));
        }
        object
    }
    /// Every query with its datasource type (`prometheus` or `loki`), for checking.
    pub fn queries(&self) -> Vec<(&'static str, &str)> {
        self.dashboard
            .panels
            .iter()
            .flat_map(|p| p.targets.iter().map(|t| (t.datasource.kind, t.expr.as_str())))
            .collect()
    }
}

/// A Grafana uid (at most 40 characters) for a name. A longer name keeps its
/// first 31 characters and ends in 8 hex digits of a hash of the whole, so two
/// names that differ only past the cut (two apps of one long platform name)
/// still get two uids, and two ConfigMaps.
pub fn uid(parts: &[&str]) -> String {
    let s = parts.join("-");
    if s.len() <= 40 {
        s
    } else {
        let hash = crate::render::fnv1a(parts.iter().copied());
        format!("{}-{:08x}", s[..31].trim_end_matches('-'), hash & 0xffff_ffff)
    }
}

/// The platform dashboards (cluster, traffic, cost, and SLOs of the `apps` that have one).
pub fn platform_dashboards(platform: &Platform, apps: &[&App]) -> Vec<DashboardConfig> {
    let mut out = vec![
        DashboardConfig {
            app: None,
            dashboard: cluster::dashboard(platform),
        },
        DashboardConfig {
            app: None,
            dashboard: traffic::dashboard(platform),
        },
        DashboardConfig {
            app: None,
            dashboard: cost::dashboard(platform),
        },
    ];
    if let Some(s) = slo::dashboard(platform, apps) {
        out.push(DashboardConfig {
            app: None,
            dashboard: s,
        });
    }
    out
}

/// One app's dashboard.
pub fn app_dashboard(platform: &Platform, app: &App) -> DashboardConfig {
    DashboardConfig {
        app: Some(app.name.clone()),
        dashboard: app::dashboard(platform, app),
    }
}

#[cfg(test)]
mod tests {
    use super::uid;

    #[test]
    fn long_uids_stay_distinct_and_within_40_characters() {
        let platform = "aaa0a0aaaaa00a000aaaa00aa0aaa00aaa00aaa0a0a0a0aaa00";
        let a = uid(&["windlass-app", platform, "aa"]);
        let b = uid(&["windlass-app", platform, "a0"]);
        assert_ne!(a, b);
        assert!(a.len() <= 40 && b.len() <= 40, "{a} {b}");
        assert!(a.starts_with("windlass-app-aaa0a0aaaaa00a000a"), "{a}");
        // Short names are kept as they are.
        assert_eq!(uid(&["windlass-app", "shop", "web"]), "windlass-app-shop-web");
    }
}
