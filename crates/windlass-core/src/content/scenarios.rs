//! Alert scenarios: input series and the alerts expected at given times,
//! written out as `promtool test rules` files. Every alert windlass ships
//! carries at least one firing and one quiet scenario; the expected labels
//! and annotations are derived from the rendered rule, so a test compares
//! the real rule text against the incident.

use std::collections::BTreeMap;

use serde::Serialize;

use super::crds::Rule;
use crate::spec::observability::Severity;

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    /// Spacing of the input samples, e.g. `1m`.
    pub interval: String,
    /// (series selector, promtool expanding notation), e.g. (`up{job="x"}`, `1x60`).
    pub series: Vec<(String, String)>,
    pub expect: Vec<Expect>,
}

/// At `at`, exactly `firing` alerts named `alert` fire (none: the alert is quiet).
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub at: String,
    pub alert: String,
    pub firing: Vec<Firing>,
}

/// One firing alert: its severity (choosing the rule variant) and the labels its expression yields.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub severity: Severity,
    pub labels: BTreeMap<String, String>,
}

impl Scenario {
    pub fn new(name: impl Into<String>, interval: &str) -> Self {
        Self {
            name: name.into(),
            interval: interval.to_string(),
            series: Vec::new(),
            expect: Vec::new(),
        }
    }
    #[must_use]
    pub fn series(mut self, series: impl Into<String>, values: impl Into<String>) -> Self {
        self.series.push((series.into(), values.into()));
        self
    }
    #[must_use]
    pub fn fires(mut self, at: &str, alert: &str, severity: Severity, labels: &[(&str, &str)]) -> Self {
        let firing = Firing {
            severity,
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        match self.expect.iter_mut().find(|e| e.at == at && e.alert == alert) {
            Some(e) => e.firing.push(firing),
            None => self.expect.push(Expect {
                at: at.to_string(),
                alert: alert.to_string(),
                firing: vec![firing],
            }),
        }
        self
    }
    #[must_use]
    pub fn quiet(mut self, at: &str, alert: &str) -> Self {
        self.expect.push(Expect {
            at: at.to_string(),
            alert: alert.to_string(),
            firing: Vec::new(),
        });
        self
    }
}

/// A `promtool test rules` file.
#[derive(Debug, Clone, Serialize)]
pub struct TestFile {
    pub rule_files: Vec<String>,
    pub evaluation_interval: String,
    pub tests: Vec<TestGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestGroup {
    pub name: String,
    pub interval: String,
    pub input_series: Vec<InputSeries>,
    pub alert_rule_test: Vec<AlertRuleTest>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputSeries {
    pub series: String,
    pub values: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertRuleTest {
    pub eval_time: String,
    pub alertname: String,
    pub exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExpAlert {
    pub exp_labels: BTreeMap<String, String>,
    pub exp_annotations: BTreeMap<String, String>,
}

/// Builds the promtool test file for `scenarios` against `rules` (read from `rule_files`).
/// Fails when a scenario names an alert (or severity) no rule defines.
pub fn test_file(rule_files: &[String], rules: &[Rule], scenarios: &[Scenario]) -> Result<TestFile, String> {
    let mut tests = Vec::new();
    for s in scenarios {
        let mut alert_rule_test = Vec::new();
        for e in &s.expect {
            let variants: Vec<&Rule> = rules
                .iter()
                .filter(|r| r.alert.as_deref() == Some(e.alert.as_str()))
                .collect();
            if variants.is_empty() {
                return Err(format!("scenario `{}`: no alert `{}` among the rules", s.name, e.alert));
            }
            let mut exp_alerts = Vec::new();
            for f in &e.firing {
                let rule = variants
                    .iter()
                    .find(|r| r.labels.get("severity").map(String::as_str) == Some(f.severity.as_str()))
                    .ok_or_else(|| {
                        format!(
                            "scenario `{}`: no {} variant of `{}`",
                            s.name,
                            f.severity.as_str(),
                            e.alert
                        )
                    })?;
                let mut labels = f.labels.clone();
                labels.extend(rule.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
                let annotations = rule
                    .annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), expand(v, &labels)))
                    .collect();
                exp_alerts.push(ExpAlert {
                    exp_labels: labels,
                    exp_annotations: annotations,
                });
            }
            alert_rule_test.push(AlertRuleTest {
                eval_time: e.at.clone(),
                alertname: e.alert.clone(),
                exp_alerts,
            });
        }
        tests.push(TestGroup {
            name: s.name.clone(),
            interval: s.interval.clone(),
            input_series: s
                .series
                .iter()
                .map(|(k, v)| InputSeries {
                    series: k.clone(),
                    values: v.clone(),
                })
                .collect(),
            alert_rule_test,
        });
    }
    Ok(TestFile {
        rule_files: rule_files.to_vec(),
        evaluation_interval: "1m".to_string(),
        tests,
    })
}

/// Expands `{{ $labels.NAME }}` the way Prometheus's template does for a plain label lookup.
pub fn expand(template: &str, labels: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = rest[start + 2..start + end].trim();
        match inner.strip_prefix("$labels.") {
            Some(name) => out.push_str(labels.get(name).map_or("", String::as_str)),
            None => out.push_str(&rest[start..start + end + 2]),
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

/// Promtool values for a counter stepping up by one every `every` samples, `steps` times,
/// then holding for `hold` samples: `0x3 1x3 2x3 ...`.
pub fn stepping(steps: u32, every: u32, hold: u32) -> String {
    let mut parts: Vec<String> = (0..steps).map(|i| format!("{i}x{}", every.saturating_sub(1))).collect();
    parts.push(format!("{steps}x{hold}"));
    parts.join(" ")
}
