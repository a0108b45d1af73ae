//! Prometheus alerting and recording rules, one file per concern. Each alert
//! is built from its defaults and the spec's tuning, and ships with the
//! scenarios (`promtool test rules` inputs) that prove it fires on the
//! incident it exists for and stays quiet on healthy series.

pub mod app_health;
pub mod platform;
pub mod slo;
pub mod traffic;
pub mod uptime;

use std::collections::BTreeMap;

use super::crds::Rule;
use super::defaults::RUNBOOK_BASE;
use super::scenarios::Scenario;
use crate::spec::observability::Severity;
use crate::spec::values::Duration;

/// One alerting rule before it is written out.
#[derive(Debug, Clone)]
pub struct Alert {
    pub name: &'static str,
    pub expr: String,
    pub for_: Duration,
    pub severity: Severity,
    pub summary: String,
    /// May use `{{ $labels.NAME }}` only (scenarios expand it to check annotations).
    pub description: String,
    /// Labels added to every firing alert (`app`, `namespace` for app alerts).
    pub labels: BTreeMap<String, String>,
}

impl Alert {
    pub fn rule(&self) -> Rule {
        let mut labels = self.labels.clone();
        labels.insert("severity".to_string(), self.severity.as_str().to_string());
        Rule {
            alert: Some(self.name.to_string()),
            record: None,
            expr: self.expr.clone(),
            for_: Some(self.for_.to_string()),
            labels,
            annotations: BTreeMap::from([
                ("summary".to_string(), self.summary.clone()),
                ("description".to_string(), self.description.clone()),
                ("runbook_url".to_string(), runbook_url(self.name)),
            ]),
        }
    }
}

pub fn runbook_url(alert: &str) -> String {
    format!("{RUNBOOK_BASE}{}", alert.to_ascii_lowercase())
}

/// Rules and the scenarios proving them.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub rules: Vec<Rule>,
    pub scenarios: Vec<Scenario>,
}

impl Checked {
    pub fn alert(&mut self, alert: Alert) {
        self.rules.push(alert.rule());
    }
    pub fn extend(&mut self, other: Checked) {
        self.rules.extend(other.rules);
        self.scenarios.extend(other.scenarios);
    }
}

/// A number as PromQL writes it, without float noise (`0.05`, `1209600`, `0.0144`).
pub fn num(v: f64) -> String {
    // Whole numbers (most thresholds and sample counts) skip the exact decimal expansion.
    if v.fract() == 0.0 && v.abs() < 1e15 {
        #[allow(clippy::cast_possible_truncation)]
        return format!("{}", v as i64);
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// A label matcher list: `{a="x", b=~"y"}` without the braces' spacing.
pub fn sel(matchers: &[(&str, &str, &str)]) -> String {
    let mut out = String::with_capacity(64);
    out.push('{');
    for (i, (k, op, v)) in matchers.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push_str(op);
        out.push('"');
        for c in v.chars() {
            if c == '\\' || c == '"' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// Regex metacharacters escaped, for a name inside a PromQL regex matcher.
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_print_without_noise() {
        assert_eq!(super::num(0.05), "0.05");
        assert_eq!(super::num(14.4 * 0.001), "0.0144");
        assert_eq!(super::num(1_209_600.0), "1209600");
        assert_eq!(super::num(0.0), "0");
    }
}

/// The app an alert watches: where its series live and the labels its alerts carry.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub app: &'a crate::model::App,
    pub platform: &'a crate::model::Platform,
}

impl Target<'_> {
    pub fn name(&self) -> &str {
        &self.app.name
    }
    pub fn namespace(&self) -> &str {
        &self.app.namespace
    }
    /// Regex matching exactly the app's pod names, from how its controller names pods.
    pub fn pod_regex(&self) -> String {
        let n = regex_escape(&self.app.name);
        match self.app.kind {
            crate::spec::AppKind::Web | crate::spec::AppKind::Worker => {
                format!("{n}-[a-z0-9]{{5,10}}-[a-z0-9]{{5}}")
            }
            crate::spec::AppKind::Statefulset => format!("{n}-[0-9]+"),
            crate::spec::AppKind::Cron => format!("{n}-[0-9]+-[a-z0-9]{{5}}"),
        }
    }
    /// A pod name the regex matches, for scenarios.
    pub fn sample_pod(&self) -> String {
        match self.app.kind {
            crate::spec::AppKind::Web | crate::spec::AppKind::Worker => {
                format!("{}-7d9f8b6c5d-x2k4p", self.app.name)
            }
            crate::spec::AppKind::Statefulset => format!("{}-0", self.app.name),
            crate::spec::AppKind::Cron => format!("{}-29130000-q8z2m", self.app.name),
        }
    }
    /// Labels on every alert of the app, for routing.
    pub fn labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("app".to_string(), self.app.name.clone()),
            ("namespace".to_string(), self.app.namespace.clone()),
        ])
    }
    pub fn alerts(&self) -> &crate::model::AppAlerts {
        &self.app.alerts
    }
}

/// Whole minutes of a `for:` duration (rounded up), to time scenarios after it. Capped far
/// beyond any real `for:` so scenario arithmetic cannot overflow on an absurd one.
pub fn minutes(duration: Duration) -> u32 {
    const CAP: u64 = 1 << 30;
    u32::try_from(duration.whole_minutes_ceil().min(CAP)).unwrap_or(u32::MAX)
}

/// Scenario timing for an alert with `for_`: when it must fire, and how many samples to feed.
pub fn timing(for_: Duration) -> (String, u32) {
    let f = minutes(for_);
    (format!("{}m", f.saturating_add(5)), f.saturating_add(30))
}
