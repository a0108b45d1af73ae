//! Spec of the observability content pack: alert routing, log alerts, uptime
//! checks and platform alert tuning (`observability:`), and per-app alert
//! tuning, log patterns and SLOs (`apps.NAME.alerts`). The value formats
//! (durations, ratios, latencies) are parsed here, once, for validation and
//! for the content renderer.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::shorthand::{Scalar, Shorthand};
use super::types::{AppSpec, PlatformFile, SecretKeyRef};
use crate::source::FieldPath;

/// Receiver name windlass reserves for alerts nobody is notified of.
pub const NULL_RECEIVER: &str = "null";

/// Platform-wide observability settings (`observability:` at the top level).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObservabilitySpec {
    /// Where alerts are sent: receivers and routes by severity and namespace.
    #[serde(default)]
    pub alerting: AlertingSpec,
    /// Log-pattern alerts on any log stream, by name. (Alerts on one app's own logs are
    /// shorter to write under `apps.NAME.alerts.logs`.)
    #[serde(default)]
    pub log_alerts: IndexMap<String, LogAlertSpec>,
    /// External uptime checks: every public host is probed; add more URLs here.
    #[serde(default)]
    pub uptime: UptimeSpec,
    /// Service-level objective settings shared by every app's `alerts.slo`.
    #[serde(default)]
    pub slo: SloSettings,
    /// Tuning of the platform alerts (certificates, volumes, nodes, scrape targets).
    #[serde(default)]
    pub alerts: PlatformAlertsSpec,
    /// Prices for the cost dashboard (OpenCost-style: resource requests x price).
    #[serde(default)]
    pub cost: CostSpec,
}

/// Alert routing: named receivers and the rules choosing one.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AlertingSpec {
    /// Receivers by name, each with exactly one of `slack`, `pagerduty`, `email`, `webhook`.
    /// Credentials are `secret-name/key` references: Alertmanager reads them from the mounted
    /// Secret file, so they never appear in the configuration.
    #[serde(default)]
    pub receivers: IndexMap<String, ReceiverSpec>,
    /// Routes, first match wins: e.g. `{severity: critical, namespaces: [shop], receiver: pager}`.
    #[serde(default)]
    pub routes: Vec<AlertRouteSpec>,
    /// Receiver for alerts no route matches (default: nobody, the `null` receiver).
    #[serde(default)]
    pub default: Option<String>,
    /// Receiver of the always-firing `Watchdog` heartbeat (a dead man's switch such as a
    /// webhook to healthchecks.io). Default: nobody.
    #[serde(default)]
    pub heartbeat: Option<String>,
}

/// One receiver. Set exactly one kind.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReceiverSpec {
    /// Post to a Slack channel through an incoming webhook.
    #[serde(default)]
    pub slack: Option<SlackReceiver>,
    /// Open PagerDuty incidents (Events API v2).
    #[serde(default)]
    pub pagerduty: Option<PagerdutyReceiver>,
    /// Send e-mail through an SMTP server.
    #[serde(default)]
    pub email: Option<EmailReceiver>,
    /// POST the Alertmanager webhook payload to a URL.
    #[serde(default)]
    pub webhook: Option<WebhookReceiver>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SlackReceiver {
    /// Secret holding the incoming-webhook URL: `secret-name/key` or `{secret, key}`.
    pub webhook_url: Shorthand<SecretKeyRef>,
    /// Channel, e.g. `#alerts` (default: the webhook's channel).
    #[serde(default)]
    pub channel: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PagerdutyReceiver {
    /// Secret holding the Events API v2 integration (routing) key: `secret-name/key`.
    pub routing_key: Shorthand<SecretKeyRef>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmailReceiver {
    /// Recipient address(es), comma separated.
    pub to: String,
    /// Sender address.
    pub from: String,
    /// SMTP server as `host:port`, e.g. `smtp.example.com:587`.
    pub smarthost: String,
    /// SMTP user name (default: no authentication).
    #[serde(default)]
    pub username: Option<String>,
    /// Secret holding the SMTP password: `secret-name/key`.
    #[serde(default)]
    pub password: Option<Shorthand<SecretKeyRef>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhookReceiver {
    /// URL receiving the POST (put no credentials in it; use `token`).
    pub url: String,
    /// Secret holding a bearer token sent in the `Authorization` header: `secret-name/key`.
    #[serde(default)]
    pub token: Option<Shorthand<SecretKeyRef>>,
}

/// A routing rule: alerts matching every given condition go to `receiver`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AlertRouteSpec {
    /// Only alerts of this severity (default: any).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Only alerts from these namespaces (default: any).
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Receiver name (one of `receivers`, or `null` to drop the alerts).
    pub receiver: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Someone must act now (paging).
    Critical,
    /// Needs attention within working hours (chat, ticket).
    Warning,
    /// For dashboards and context; silenced by a warning or critical of the same alert.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A log-pattern alert: count matching lines over a window in Loki.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogAlertSpec {
    /// LogQL stream selector, e.g. `{namespace="shop", container="mariadb"}`. Under
    /// `apps.NAME.alerts.logs` it defaults to the app's own streams.
    #[serde(default)]
    pub selector: Option<String>,
    /// RE2 regular expression a line must match, e.g. `PHP Fatal error`.
    #[serde(default, rename = "match")]
    pub pattern: Option<String>,
    /// A built-in pattern instead of `match`: `mariadb-innodb-io` (InnoDB I/O and operating
    /// system errors) or `php-fatal` (PHP fatal errors).
    #[serde(default)]
    pub preset: Option<LogPreset>,
    /// Window lines are counted over (default `5m`).
    #[serde(default)]
    pub window: Option<String>,
    /// Alert when more than this many lines match within the window (default 0: any line).
    #[serde(default)]
    pub threshold: Option<u32>,
    /// How long the condition must hold before the alert fires (default `0m`: at once).
    #[serde(default, rename = "for")]
    pub for_: Option<String>,
    /// `critical`, `warning` (default) or `info`.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// What the alert means, shown as its summary (default: derived from the name).
    #[serde(default)]
    pub summary: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LogPreset {
    /// MariaDB/MySQL InnoDB I/O errors (the disk fails while the site answers 504).
    MariadbInnodbIo,
    /// PHP fatal errors (a white page for the visitor, a 200 or 500 in the access log).
    PhpFatal,
}

/// External uptime checks (blackbox-exporter Probes).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UptimeSpec {
    /// Probe the public hosts of every app (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Extra URLs to probe, e.g. `https://status.example.com/` or a partner API.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Probe interval (default `1m`).
    #[serde(default)]
    pub interval: Option<String>,
    /// A response slower than this is an alert, e.g. `2s` (default `2s`).
    #[serde(default)]
    pub slow: Option<Scalar>,
}

impl Default for UptimeSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            urls: Vec::new(),
            interval: None,
            slow: None,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SloSettings {
    /// Window objectives are measured over (default `30d`); burn-rate thresholds scale with it.
    #[serde(default)]
    pub window: Option<String>,
}

/// Tuning of the platform alerts.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlatformAlertsSpec {
    /// Certificate expiry (cert-manager and the public endpoints): `threshold` is the time left, default `14d`.
    #[serde(default)]
    pub certificate_expiry: AlertTuning,
    /// Persistent volume free space: `threshold` is the free ratio, default `15%`.
    #[serde(default)]
    pub volume_space: AlertTuning,
    /// Scrape targets down: `threshold` is the ratio of a job's targets down, default `10%`.
    #[serde(default)]
    pub target_down: AlertTuning,
    /// Node not ready.
    #[serde(default)]
    pub node_not_ready: AlertTuning,
    /// Uptime probe failing (the public URL does not answer 2xx).
    #[serde(default)]
    pub uptime_failing: AlertTuning,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CostSpec {
    /// Price of one CPU core for one hour (default 0.031611, OpenCost's default).
    #[serde(default)]
    pub cpu_core_hour: Option<f64>,
    /// Price of one GiB of memory for one hour (default 0.004237).
    #[serde(default)]
    pub memory_gib_hour: Option<f64>,
}

/// Changes to one alert. Every field is optional; unset ones keep windlass's defaults.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AlertTuning {
    /// Set `false` to not render this alert.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The alert's threshold: a ratio (`5%`), a latency (`500ms`), a time left (`14d`) or a count (`3`),
    /// as the alert's documentation says.
    #[serde(default)]
    pub threshold: Option<Scalar>,
    /// How long the condition must hold before the alert fires, e.g. `15m`.
    #[serde(default, rename = "for")]
    pub for_: Option<String>,
    /// `critical`, `warning` or `info`.
    #[serde(default)]
    pub severity: Option<Severity>,
}

impl AlertTuning {
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }
}

/// Per-app alert tuning, log patterns and objectives (`apps.NAME.alerts`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppAlertsSpec {
    /// Container crash-looping; `threshold` is restarts per hour (default 3).
    #[serde(default)]
    pub crash_loop: AlertTuning,
    /// Container killed for exceeding its memory limit.
    #[serde(default)]
    pub oom_killed: AlertTuning,
    /// Pod not ready.
    #[serde(default)]
    pub not_ready: AlertTuning,
    /// Fewer replicas available than desired (Deployment or StatefulSet).
    #[serde(default)]
    pub replicas_mismatch: AlertTuning,
    /// Deployment rollout stopped progressing.
    #[serde(default)]
    pub rollout_stuck: AlertTuning,
    /// Autoscaler at its maximum for a long time.
    #[serde(default)]
    pub hpa_maxed_out: AlertTuning,
    /// Disruption budget without enough healthy pods.
    #[serde(default)]
    pub pdb_unhealthy: AlertTuning,
    /// A run of the CronJob failed.
    #[serde(default)]
    pub job_failed: AlertTuning,
    /// Share of 5xx responses; `threshold` is a ratio (default `5%`).
    #[serde(default)]
    pub error_rate: AlertTuning,
    /// 99th percentile response time; `threshold` is a latency (default `1s`).
    #[serde(default)]
    pub latency: AlertTuning,
    /// Service-level objectives; burn-rate alerts page before the error budget is gone.
    #[serde(default)]
    pub slo: Option<SloSpec>,
    /// Log-pattern alerts on this app's logs, by name, e.g. `fatal: {preset: php-fatal}`.
    #[serde(default)]
    pub logs: IndexMap<String, LogAlertSpec>,
    /// Label read for the HTTP status code from the app's own `http_requests_total` (default `code`;
    /// `status_code` for express-prom-bundle).
    #[serde(default)]
    pub status_label: Option<String>,
}

/// Service-level objectives of one app.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SloSpec {
    /// Availability objective in percent of requests without a 5xx, e.g. `99.9`.
    pub availability: f64,
    /// Latency objective: `objective` percent of requests faster than `threshold`.
    #[serde(default)]
    pub latency: Option<LatencyObjective>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LatencyObjective {
    /// Response time, e.g. `300ms` or `0.3s`; must be a bucket boundary (`le`) of the app's
    /// `http_request_duration_seconds` histogram.
    pub threshold: Scalar,
    /// Percent of requests that must be faster, e.g. `99`.
    pub objective: f64,
}

// --- value formats ---------------------------------------------------------

/// A Prometheus duration (`30s`, `5m`, `1h30m`, `14d`) in seconds, or None when malformed.
pub fn duration_seconds(s: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: f64 = rest[..digits].parse().ok()?;
        let unit_end = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .map_or(rest.len(), |i| i + digits);
        let factor = match &rest[digits..unit_end] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            "w" => 604_800.0,
            "y" => 31_536_000.0,
            _ => return None,
        };
        total += n * factor;
        rest = &rest[unit_end..];
    }
    Some(total)
}

/// A latency: `300ms`, `0.3s`, `2s` or a bare number of seconds, in seconds.
pub fn latency_seconds(s: &str) -> Option<f64> {
    let s = s.trim();
    let v = if let Some(ms) = s.strip_suffix("ms") {
        ms.trim().parse::<f64>().ok()? / 1000.0
    } else if let Some(sec) = s.strip_suffix('s') {
        sec.trim().parse::<f64>().ok()?
    } else {
        s.parse::<f64>().ok()?
    };
    (v.is_finite() && v > 0.0).then_some(v)
}

/// A ratio: `5%` or a bare number between 0 and 1.
pub fn ratio(s: &str) -> Option<f64> {
    let s = s.trim();
    let v = match s.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().ok()? / 100.0,
        None => s.parse::<f64>().ok()?,
    };
    (v.is_finite() && v > 0.0 && v < 1.0).then_some(v)
}

/// A count: a non-negative whole number.
pub fn count(s: &str) -> Option<f64> {
    s.trim().parse::<u32>().ok().map(f64::from)
}

/// How an alert reads its `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdKind {
    Ratio,
    Latency,
    TimeLeft,
    Count,
    None,
}

impl ThresholdKind {
    pub fn parse(self, s: &str) -> Option<f64> {
        match self {
            ThresholdKind::Ratio => ratio(s),
            ThresholdKind::Latency => latency_seconds(s),
            ThresholdKind::TimeLeft => duration_seconds(s),
            ThresholdKind::Count => count(s),
            ThresholdKind::None => None,
        }
    }

    fn example(self) -> &'static str {
        match self {
            ThresholdKind::Ratio => "a percentage such as `5%`",
            ThresholdKind::Latency => "a latency such as `500ms` or `1.5s`",
            ThresholdKind::TimeLeft => "a duration such as `14d`",
            ThresholdKind::Count => "a whole number such as `3`",
            ThresholdKind::None => "nothing: this alert has no threshold",
        }
    }
}

impl AppAlertsSpec {
    /// Every tunable app alert with its spec key and how its threshold reads.
    pub fn tunings(&self) -> [(&'static str, &AlertTuning, ThresholdKind); 10] {
        [
            ("crashLoop", &self.crash_loop, ThresholdKind::Count),
            ("oomKilled", &self.oom_killed, ThresholdKind::None),
            ("notReady", &self.not_ready, ThresholdKind::None),
            ("replicasMismatch", &self.replicas_mismatch, ThresholdKind::None),
            ("rolloutStuck", &self.rollout_stuck, ThresholdKind::None),
            ("hpaMaxedOut", &self.hpa_maxed_out, ThresholdKind::None),
            ("pdbUnhealthy", &self.pdb_unhealthy, ThresholdKind::None),
            ("jobFailed", &self.job_failed, ThresholdKind::None),
            ("errorRate", &self.error_rate, ThresholdKind::Ratio),
            ("latency", &self.latency, ThresholdKind::Latency),
        ]
    }
}

impl PlatformAlertsSpec {
    pub fn tunings(&self) -> [(&'static str, &AlertTuning, ThresholdKind); 5] {
        [
            ("certificateExpiry", &self.certificate_expiry, ThresholdKind::TimeLeft),
            ("volumeSpace", &self.volume_space, ThresholdKind::Ratio),
            ("targetDown", &self.target_down, ThresholdKind::Ratio),
            ("nodeNotReady", &self.node_not_ready, ThresholdKind::None),
            ("uptimeFailing", &self.uptime_failing, ThresholdKind::None),
        ]
    }
}

// --- validation --------------------------------------------------------------

type Finding = (FieldPath, String, String);

/// Semantic checks of the observability settings: (field path, problem, fix).
pub fn validate(spec: &PlatformFile) -> Vec<Finding> {
    let mut out = Vec::new();
    let root = FieldPath::root().key("observability");
    let obs = &spec.observability;
    alerting(&obs.alerting, &root.key("alerting"), &mut out);
    for (name, la) in &obs.log_alerts {
        log_alert(name, la, true, &root.key("logAlerts").key(name), &mut out);
    }
    let up = root.key("uptime");
    for (i, url) in obs.uptime.urls.iter().enumerate() {
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(char::is_whitespace) {
            out.push((
                up.key("urls").index(i),
                format!("`{url}` is not an http(s) URL"),
                "write the full URL, e.g. `https://status.example.com/`".to_string(),
            ));
        }
    }
    if let Some(iv) = &obs.uptime.interval {
        check_duration(iv, up.key("interval"), &mut out);
    }
    if let Some(slow) = &obs.uptime.slow
        && latency_seconds(&slow.0).is_none()
    {
        out.push((
            up.key("slow"),
            format!("`{}` is not a latency", slow.0),
            "write e.g. `2s` or `800ms`".to_string(),
        ));
    }
    if let Some(w) = &obs.slo.window {
        match duration_seconds(w) {
            Some(s) if s >= 86400.0 * 7.0 => {}
            _ => out.push((
                root.key("slo").key("window"),
                format!("SLO window `{w}` is not a duration of at least 7 days"),
                "write e.g. `30d` or `28d`".to_string(),
            )),
        }
    }
    for (key, t, kind) in obs.alerts.tunings() {
        tuning(t, kind, &root.key("alerts").key(key), &mut out);
    }
    let cost = root.key("cost");
    for (key, v) in [
        ("cpuCoreHour", obs.cost.cpu_core_hour),
        ("memoryGibHour", obs.cost.memory_gib_hour),
    ] {
        if v.is_some_and(|p| !p.is_finite() || p < 0.0) {
            out.push((
                cost.key(key),
                "a price must be zero or positive".to_string(),
                "write e.g. `0.03`".to_string(),
            ));
        }
    }
    for (name, app) in &spec.apps {
        app_alerts(app, &FieldPath::root().key("apps").key(name).key("alerts"), &mut out);
    }
    out
}

fn alerting(a: &AlertingSpec, path: &FieldPath, out: &mut Vec<Finding>) {
    for (name, r) in &a.receivers {
        let rp = path.key("receivers").key(name);
        if name == NULL_RECEIVER {
            out.push((
                rp.clone(),
                "the receiver name `null` is reserved (it drops alerts)".to_string(),
                "choose another name, e.g. `chat` or `pager`".to_string(),
            ));
        }
        let kinds = [
            r.slack.is_some(),
            r.pagerduty.is_some(),
            r.email.is_some(),
            r.webhook.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            out.push((
                rp.clone(),
                format!("receiver `{name}` must set exactly one of `slack`, `pagerduty`, `email`, `webhook`"),
                "split it into one receiver per destination and route to each".to_string(),
            ));
        }
        if let Some(w) = &r.webhook
            && !(w.url.starts_with("https://") || w.url.starts_with("http://"))
        {
            out.push((
                rp.key("webhook").key("url"),
                format!("`{}` is not an http(s) URL", w.url),
                "write the full URL, e.g. `https://hooks.example.com/alertmanager`".to_string(),
            ));
        }
        if let Some(e) = &r.email {
            if !e.smarthost.contains(':') {
                out.push((
                    rp.key("email").key("smarthost"),
                    format!("`{}` has no port", e.smarthost),
                    "write `host:port`, e.g. `smtp.example.com:587`".to_string(),
                ));
            }
            if e.password.is_some() && e.username.is_none() {
                out.push((
                    rp.key("email").key("username"),
                    "a password is set but no user name".to_string(),
                    "add `username:` (the SMTP login)".to_string(),
                ));
            }
        }
    }
    let known = |r: &str| r == NULL_RECEIVER || a.receivers.contains_key(r);
    let names = || a.receivers.keys().map(String::as_str).chain([NULL_RECEIVER]);
    let unknown = |r: &str, p: FieldPath, out: &mut Vec<Finding>| {
        let help = match crate::diagnostics::did_you_mean(r, names()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("name one of: {}", names().collect::<Vec<_>>().join(", ")),
        };
        out.push((p, format!("no receiver named `{r}`"), help));
    };
    for (i, route) in a.routes.iter().enumerate() {
        if !known(&route.receiver) {
            unknown(&route.receiver, path.key("routes").index(i).key("receiver"), out);
        }
    }
    for (key, r) in [("default", &a.default), ("heartbeat", &a.heartbeat)] {
        if let Some(r) = r
            && !known(r)
        {
            unknown(r, path.key(key), out);
        }
    }
}

fn log_alert(name: &str, la: &LogAlertSpec, needs_selector: bool, path: &FieldPath, out: &mut Vec<Finding>) {
    if !crate::spec::names::is_dns1123_label(name) {
        out.push((
            path.clone(),
            format!("log alert name `{name}` is not a DNS-1123 label"),
            "use lowercase letters, digits and `-`, e.g. `php-fatal`".to_string(),
        ));
    }
    match (&la.pattern, &la.preset) {
        (Some(_), Some(_)) => out.push((
            path.key("preset"),
            "both `match` and `preset` are set".to_string(),
            "keep one: `preset` is a built-in `match`".to_string(),
        )),
        (None, None) => out.push((
            path.clone(),
            "a log alert needs `match` (a regular expression) or `preset`".to_string(),
            "add e.g. `match: 'PHP Fatal error'` or `preset: php-fatal`".to_string(),
        )),
        (Some(p), None) if p.is_empty() => out.push((
            path.key("match"),
            "`match` is empty: every line would match".to_string(),
            "write the pattern of the lines to alert on".to_string(),
        )),
        _ => {}
    }
    match &la.selector {
        Some(s) => {
            let t = s.trim();
            if !(t.starts_with('{') && t.ends_with('}') && t.contains('=')) {
                out.push((
                    path.key("selector"),
                    format!("`{s}` is not a LogQL stream selector"),
                    "write e.g. `{namespace=\"shop\", container=\"mariadb\"}`".to_string(),
                ));
            }
        }
        None if needs_selector => out.push((
            path.key("selector"),
            "a platform log alert needs a `selector`".to_string(),
            "write e.g. `selector: '{namespace=\"shop\"}'`, or move it under `apps.NAME.alerts.logs`".to_string(),
        )),
        None => {}
    }
    if let Some(w) = &la.window {
        check_duration(w, path.key("window"), out);
    }
    if let Some(f) = &la.for_ {
        check_duration(f, path.key("for"), out);
    }
}

fn check_duration(s: &str, path: FieldPath, out: &mut Vec<Finding>) {
    if duration_seconds(s).is_none() {
        out.push((
            path,
            format!("`{s}` is not a duration"),
            "write e.g. `30s`, `5m`, `1h` or `2d`".to_string(),
        ));
    }
}

fn tuning(t: &AlertTuning, kind: ThresholdKind, path: &FieldPath, out: &mut Vec<Finding>) {
    if let Some(th) = &t.threshold
        && kind.parse(&th.0).is_none()
    {
        out.push((
            path.key("threshold"),
            format!("`{}` is not a valid threshold for this alert", th.0),
            format!("write {}", kind.example()),
        ));
    }
    if let Some(f) = &t.for_ {
        check_duration(f, path.key("for"), out);
    }
}

fn app_alerts(app: &AppSpec, path: &FieldPath, out: &mut Vec<Finding>) {
    let a = &app.alerts;
    for (key, t, kind) in a.tunings() {
        tuning(t, kind, &path.key(key), out);
    }
    for (name, la) in &a.logs {
        log_alert(name, la, false, &path.key("logs").key(name), out);
    }
    if let Some(l) = &a.status_label
        && (l.is_empty()
            || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || l.starts_with(|c: char| c.is_ascii_digit()))
    {
        out.push((
            path.key("statusLabel"),
            format!("`{l}` is not a Prometheus label name"),
            "write e.g. `code` or `status_code`".to_string(),
        ));
    }
    if let Some(slo) = &a.slo {
        let sp = path.key("slo");
        if !(slo.availability > 0.0 && slo.availability < 100.0) {
            out.push((
                sp.key("availability"),
                format!(
                    "availability objective {} is not a percentage between 0 and 100",
                    slo.availability
                ),
                "write e.g. `99.9` (100 leaves no error budget)".to_string(),
            ));
        }
        if app.metrics.is_none() && app.hosts.is_empty() {
            out.push((
                sp.clone(),
                "an SLO needs request metrics, but the app has neither `metrics` nor public `hosts`".to_string(),
                "add `metrics: /metrics` (an `http_requests_total` counter) or public `hosts`".to_string(),
            ));
        }
        if let Some(l) = &slo.latency {
            if latency_seconds(&l.threshold.0).is_none() {
                out.push((
                    sp.key("latency").key("threshold"),
                    format!("`{}` is not a latency", l.threshold.0),
                    "write e.g. `300ms` or `0.3s`".to_string(),
                ));
            }
            if !(l.objective > 0.0 && l.objective < 100.0) {
                out.push((
                    sp.key("latency").key("objective"),
                    format!(
                        "latency objective {} is not a percentage between 0 and 100",
                        l.objective
                    ),
                    "write e.g. `99`".to_string(),
                ));
            }
            if app.metrics.is_none() {
                out.push((
                    sp.key("latency"),
                    "a latency objective needs the app's `http_request_duration_seconds` histogram".to_string(),
                    "add `metrics: /metrics` to the app, or drop the latency objective".to_string(),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_value_formats() {
        assert_eq!(duration_seconds("1h30m"), Some(5400.0));
        assert_eq!(duration_seconds("14d"), Some(14.0 * 86400.0));
        assert_eq!(duration_seconds("5"), None);
        assert_eq!(duration_seconds("m"), None);
        assert_eq!(duration_seconds(""), None);
        assert_eq!(latency_seconds("300ms"), Some(0.3));
        assert_eq!(latency_seconds("1.5s"), Some(1.5));
        assert_eq!(latency_seconds("0"), None);
        assert_eq!(ratio("5%"), Some(0.05));
        assert_eq!(ratio("0.02"), Some(0.02));
        assert_eq!(ratio("5"), None);
        assert_eq!(count("3"), Some(3.0));
    }
}
