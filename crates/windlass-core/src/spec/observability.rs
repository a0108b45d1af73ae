//! Spec of the observability content pack: alert routing, log alerts, uptime
//! checks and platform alert tuning (`observability:`), and per-app alert
//! tuning, log patterns and SLOs (`apps.NAME.alerts`). Values are typed
//! (`spec::values`): each alert's threshold has the type its alert reads.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::shorthand::Shorthand;
use super::types::{AppSpec, PlatformFile, SecretKeyRef};
use super::values::{Duration, Latency, LogPattern, Objective, Ratio};
use crate::source::FieldPath;

/// Receiver name windlass reserves for alerts nobody is notified of.
pub const NULL_RECEIVER: &str = "null";

/// The shortest SLO window: shorter ones make the burn-rate windows meaningless.
const MIN_SLO_WINDOW: Duration = Duration::days(7);

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
    pub pattern: Option<LogPattern>,
    /// A built-in pattern instead of `match`: `mariadb-innodb-io` (InnoDB I/O and operating
    /// system errors) or `php-fatal` (PHP fatal errors).
    #[serde(default)]
    pub preset: Option<LogPreset>,
    /// Window lines are counted over (default `5m`).
    #[serde(default)]
    pub window: Option<Duration>,
    /// Alert when more than this many lines match within the window (default 0: any line).
    #[serde(default)]
    pub threshold: Option<u32>,
    /// How long the condition must hold before the alert fires (default `0s`: at once).
    #[serde(default, rename = "for")]
    pub for_: Option<Duration>,
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
    pub interval: Option<Duration>,
    /// A response slower than this is an alert, e.g. `2s` or `800ms` (default `2s`).
    #[serde(default)]
    pub slow: Option<Latency>,
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
    pub window: Option<Duration>,
}

/// Tuning of the platform alerts.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlatformAlertsSpec {
    /// Certificate expiry (cert-manager and the public endpoints): `threshold` is the time left, default `14d`.
    #[serde(default)]
    pub certificate_expiry: AlertTuning<Duration>,
    /// Persistent volume free space: `threshold` is the free ratio, default `15%`.
    #[serde(default)]
    pub volume_space: AlertTuning<Ratio>,
    /// Scrape targets down: `threshold` is the ratio of a job's targets down, default `10%`.
    #[serde(default)]
    pub target_down: AlertTuning<Ratio>,
    /// Node not ready.
    #[serde(default)]
    pub node_not_ready: AlertSwitch,
    /// Uptime probe failing (the public URL does not answer 2xx).
    #[serde(default)]
    pub uptime_failing: AlertSwitch,
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

/// Changes to one alert with a threshold. Every field is optional; unset ones keep windlass's defaults.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    bound(deserialize = "T: Deserialize<'de>")
)]
pub struct AlertTuning<T> {
    /// Set `false` to not render this alert.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The alert's threshold: a ratio (`5%`), a latency (`500ms`), a time left (`14d`) or a count (`3`),
    /// as the alert's documentation says.
    #[serde(default)]
    pub threshold: Option<T>,
    /// How long the condition must hold before the alert fires, e.g. `15m`.
    #[serde(default, rename = "for")]
    pub for_: Option<Duration>,
    /// `critical`, `warning` or `info`.
    #[serde(default)]
    pub severity: Option<Severity>,
}

impl<T> Default for AlertTuning<T> {
    fn default() -> Self {
        Self {
            enabled: None,
            threshold: None,
            for_: None,
            severity: None,
        }
    }
}

/// Changes to one alert without a threshold. Every field is optional; unset ones keep windlass's defaults.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AlertSwitch {
    /// Set `false` to not render this alert.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// How long the condition must hold before the alert fires, e.g. `15m`.
    #[serde(default, rename = "for")]
    pub for_: Option<Duration>,
    /// `critical`, `warning` or `info`.
    #[serde(default)]
    pub severity: Option<Severity>,
}

/// Per-app alert tuning, log patterns and objectives (`apps.NAME.alerts`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppAlertsSpec {
    /// Container crash-looping; `threshold` is restarts per hour (default 3).
    #[serde(default)]
    pub crash_loop: AlertTuning<u32>,
    /// Container killed for exceeding its memory limit.
    #[serde(default)]
    pub oom_killed: AlertSwitch,
    /// Pod not ready.
    #[serde(default)]
    pub not_ready: AlertSwitch,
    /// Fewer replicas available than desired (Deployment or StatefulSet).
    #[serde(default)]
    pub replicas_mismatch: AlertSwitch,
    /// Deployment rollout stopped progressing.
    #[serde(default)]
    pub rollout_stuck: AlertSwitch,
    /// Autoscaler at its maximum for a long time.
    #[serde(default)]
    pub hpa_maxed_out: AlertSwitch,
    /// Disruption budget without enough healthy pods.
    #[serde(default)]
    pub pdb_unhealthy: AlertSwitch,
    /// A run of the CronJob failed.
    #[serde(default)]
    pub job_failed: AlertSwitch,
    /// Share of 5xx responses; `threshold` is a ratio (default `5%`).
    #[serde(default)]
    pub error_rate: AlertTuning<Ratio>,
    /// 99th percentile response time; `threshold` is a latency with its unit (default `1s`).
    #[serde(default)]
    pub latency: AlertTuning<Latency>,
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
    pub availability: Objective,
    /// Latency objective: `objective` percent of requests faster than `threshold`.
    #[serde(default)]
    pub latency: Option<LatencyObjective>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LatencyObjective {
    /// Response time with its unit, e.g. `300ms` or `0.3s`; must be a bucket boundary (`le`) of the
    /// app's `http_request_duration_seconds` histogram.
    pub threshold: Latency,
    /// Percent of requests that must be faster, e.g. `99`.
    pub objective: Objective,
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
    if let Some(iv) = obs.uptime.interval {
        positive(iv, up.key("interval"), &mut out);
    }
    if let Some(w) = obs.slo.window
        && w < MIN_SLO_WINDOW
    {
        out.push((
            root.key("slo").key("window"),
            format!("SLO window `{w}` is shorter than {MIN_SLO_WINDOW}"),
            "write e.g. `30d` or `28d`".to_string(),
        ));
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
    if let Some(w) = la.window {
        positive(w, path.key("window"), out);
    }
}

/// A window or interval of zero selects nothing.
fn positive(d: Duration, path: FieldPath, out: &mut Vec<Finding>) {
    if d.is_zero() {
        out.push((
            path,
            "a window or interval of zero never sees a sample".to_string(),
            "write a duration above zero, e.g. `5m`".to_string(),
        ));
    }
}

fn app_alerts(app: &AppSpec, path: &FieldPath, out: &mut Vec<Finding>) {
    let a = &app.alerts;
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
        if app.metrics.is_none() && app.hosts.is_empty() {
            out.push((
                sp.clone(),
                "an SLO needs request metrics, but the app has neither `metrics` nor public `hosts`".to_string(),
                "add `metrics: /metrics` (an `http_requests_total` counter) or public `hosts`".to_string(),
            ));
        }
        if slo.latency.is_some() && app.metrics.is_none() {
            out.push((
                sp.key("latency"),
                "a latency objective needs the app's `http_request_duration_seconds` histogram".to_string(),
                "add `metrics: /metrics` to the app, or drop the latency objective".to_string(),
            ));
        }
    }
}
