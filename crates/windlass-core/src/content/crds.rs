//! Typed custom resources of the content pack (prometheus-operator
//! PrometheusRule and Probe) and the Prometheus rule-file model they embed,
//! with only the fields windlass sets.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusRule {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: RuleFile,
}

impl PrometheusRule {
    pub fn new(metadata: ObjectMeta, groups: Vec<RuleGroup>) -> Self {
        Self {
            api_version: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata,
            spec: RuleFile { groups },
        }
    }
}

/// A Prometheus (or Loki ruler) rule file: what `promtool check rules` reads.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleFile {
    pub groups: Vec<RuleGroup>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleGroup {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    pub expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: ProbeSpec,
}

impl Probe {
    pub fn new(metadata: ObjectMeta, spec: ProbeSpec) -> Self {
        Self {
            api_version: "monitoring.coreos.com/v1",
            kind: "Probe",
            metadata,
            spec,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeSpec {
    pub job_name: String,
    pub interval: String,
    pub scrape_timeout: String,
    pub module: String,
    pub prober: Prober,
    pub targets: ProbeTargets,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prober {
    /// `host:port` of the blackbox exporter.
    pub url: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeTargets {
    pub static_config: StaticConfig,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaticConfig {
    #[serde(rename = "static")]
    pub targets: Vec<String>,
    pub labels: BTreeMap<String, String>,
}
