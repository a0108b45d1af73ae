//! The observability settings with every default decided: alert policies per
//! app and for the platform, SLOs, log alerts, uptime checks, alert routing and
//! cost prices. The content pack reads only these.

use crate::content::defaults as d;
use crate::spec::observability::{
    AlertSwitch, AlertTuning, AlertingSpec, AppAlertsSpec, LogAlertSpec, LogPreset, NULL_RECEIVER, ObservabilitySpec,
    ReceiverSpec, Severity,
};
use crate::spec::values::{Duration, Latency, Ratio};

use super::SecretRef;

/// Platform-wide observability.
#[derive(Debug, Clone, PartialEq)]
pub struct Observability {
    pub alerting: Alerting,
    /// Log alerts on any stream (`observability.logAlerts`).
    pub log_alerts: Vec<LogAlert>,
    pub uptime: Uptime,
    /// Window SLO objectives are measured over.
    pub slo_window: Duration,
    pub alerts: PlatformAlerts,
    pub cost: Cost,
}

/// One alert as it is rendered: `None` where an alert is disabled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertPolicy {
    /// In the alert's own unit: a ratio, seconds, or a count (0 for alerts without a threshold).
    pub threshold: f64,
    pub for_: Duration,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlatformAlerts {
    /// Threshold: seconds left.
    pub certificate_expiry: Option<AlertPolicy>,
    /// Threshold: free-space ratio.
    pub volume_space: Option<AlertPolicy>,
    /// Threshold: ratio of a job's targets down.
    pub target_down: Option<AlertPolicy>,
    pub node_not_ready: Option<AlertPolicy>,
    pub uptime_failing: Option<AlertPolicy>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Uptime {
    /// Probe every app's public hosts.
    pub public_hosts: bool,
    /// Extra URLs to probe.
    pub urls: Vec<String>,
    pub interval: Duration,
    /// A probe slower than this alerts.
    pub slow: AlertPolicy,
}

/// Prices per hour, for the cost dashboard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    pub cpu_core_hour: f64,
    pub memory_gib_hour: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alerting {
    pub receivers: Vec<Receiver>,
    /// First match wins.
    pub routes: Vec<AlertRoute>,
    /// Receiver of alerts no route matches.
    pub default_receiver: String,
    /// Receiver of the Watchdog heartbeat.
    pub heartbeat_receiver: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receiver {
    pub name: String,
    pub kind: ReceiverKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReceiverKind {
    Slack {
        webhook_url: SecretRef,
        channel: Option<String>,
    },
    Pagerduty {
        routing_key: SecretRef,
    },
    Email {
        to: String,
        from: String,
        smarthost: String,
        username: Option<String>,
        password: Option<SecretRef>,
    },
    Webhook {
        url: String,
        token: Option<SecretRef>,
    },
}

impl ReceiverKind {
    /// The Secret keys the receiver reads its credentials from.
    pub fn secrets(&self) -> Vec<&SecretRef> {
        match self {
            ReceiverKind::Slack { webhook_url, .. } => vec![webhook_url],
            ReceiverKind::Pagerduty { routing_key } => vec![routing_key],
            ReceiverKind::Email { password, .. } => password.iter().collect(),
            ReceiverKind::Webhook { token, .. } => token.iter().collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertRoute {
    pub severity: Option<Severity>,
    pub namespaces: Vec<String>,
    pub receiver: String,
}

/// A log-pattern alert for the Loki ruler.
#[derive(Debug, Clone, PartialEq)]
pub struct LogAlert {
    pub name: String,
    /// LogQL stream selector.
    pub selector: String,
    /// RE2 pattern a line must match.
    pub pattern: String,
    pub window: Duration,
    /// Alert when more lines than this match within the window.
    pub threshold: u32,
    pub for_: Duration,
    pub severity: Severity,
    pub summary: String,
}

/// An app's alerts, each `None` when disabled.
#[derive(Debug, Clone, PartialEq)]
pub struct AppAlerts {
    /// Threshold: restarts per hour.
    pub crash_loop: Option<AlertPolicy>,
    pub oom_killed: Option<AlertPolicy>,
    pub not_ready: Option<AlertPolicy>,
    pub replicas_mismatch: Option<AlertPolicy>,
    pub rollout_stuck: Option<AlertPolicy>,
    pub hpa_maxed_out: Option<AlertPolicy>,
    pub pdb_unhealthy: Option<AlertPolicy>,
    pub job_failed: Option<AlertPolicy>,
    /// Threshold: 5xx ratio.
    pub error_rate: Option<AlertPolicy>,
    /// Threshold: p99 latency in seconds.
    pub latency: Option<AlertPolicy>,
    pub slo: Option<Slo>,
    pub logs: Vec<LogAlert>,
    /// Label of the HTTP status code on the app's own `http_requests_total`.
    pub status_label: String,
}

/// Service-level objectives of one app.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slo {
    /// Share of requests allowed to fail (5xx).
    pub availability_budget: f64,
    pub latency: Option<LatencySlo>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySlo {
    pub threshold: Latency,
    /// Share of requests allowed to be slower than `threshold`.
    pub budget: f64,
}

/// A threshold in the unit its alert reads.
trait Threshold {
    fn value(&self) -> f64;
}

impl Threshold for u32 {
    fn value(&self) -> f64 {
        f64::from(*self)
    }
}

impl Threshold for Ratio {
    fn value(&self) -> f64 {
        self.get()
    }
}

impl Threshold for Latency {
    fn value(&self) -> f64 {
        self.as_secs_f64()
    }
}

impl Threshold for Duration {
    fn value(&self) -> f64 {
        self.as_secs_f64()
    }
}

fn tuned<T: Threshold>(default: AlertPolicy, t: &AlertTuning<T>) -> Option<AlertPolicy> {
    t.enabled.unwrap_or(true).then(|| AlertPolicy {
        threshold: t.threshold.as_ref().map_or(default.threshold, Threshold::value),
        for_: t.for_.unwrap_or(default.for_),
        severity: t.severity.unwrap_or(default.severity),
    })
}

fn switched(default: AlertPolicy, t: &AlertSwitch) -> Option<AlertPolicy> {
    t.enabled.unwrap_or(true).then(|| AlertPolicy {
        threshold: default.threshold,
        for_: t.for_.unwrap_or(default.for_),
        severity: t.severity.unwrap_or(default.severity),
    })
}

pub(super) fn observability(spec: &ObservabilitySpec) -> Observability {
    let a = &spec.alerts;
    Observability {
        alerting: alerting(&spec.alerting),
        log_alerts: spec
            .log_alerts
            .iter()
            .filter_map(|(name, la)| {
                // Validation requires a selector on platform log alerts.
                let selector = la.selector.as_deref()?;
                log_alert(name, la, selector)
            })
            .collect(),
        uptime: Uptime {
            public_hosts: spec.uptime.enabled,
            urls: spec.uptime.urls.clone(),
            interval: spec.uptime.interval.unwrap_or(d::UPTIME_INTERVAL),
            slow: AlertPolicy {
                threshold: spec.uptime.slow.map_or(d::UPTIME_SLOW.threshold, Latency::as_secs_f64),
                ..d::UPTIME_SLOW
            },
        },
        slo_window: spec.slo.window.unwrap_or(d::SLO_WINDOW),
        alerts: PlatformAlerts {
            certificate_expiry: tuned(d::CERTIFICATE_EXPIRY, &a.certificate_expiry),
            volume_space: tuned(d::VOLUME_SPACE, &a.volume_space),
            target_down: tuned(d::TARGET_DOWN, &a.target_down),
            node_not_ready: switched(d::NODE_NOT_READY, &a.node_not_ready),
            uptime_failing: switched(d::UPTIME_FAILING, &a.uptime_failing),
        },
        cost: Cost {
            cpu_core_hour: spec.cost.cpu_core_hour.unwrap_or(d::CPU_CORE_HOUR_PRICE),
            memory_gib_hour: spec.cost.memory_gib_hour.unwrap_or(d::MEMORY_GIB_HOUR_PRICE),
        },
    }
}

fn secret(r: &crate::spec::SecretKeyRef) -> SecretRef {
    SecretRef {
        secret: r.secret.clone(),
        key: r.key.clone(),
    }
}

fn alerting(spec: &AlertingSpec) -> Alerting {
    Alerting {
        receivers: spec
            .receivers
            .iter()
            .filter_map(|(name, r)| {
                receiver_kind(r).map(|kind| Receiver {
                    name: name.clone(),
                    kind,
                })
            })
            .collect(),
        routes: spec
            .routes
            .iter()
            .map(|r| AlertRoute {
                severity: r.severity,
                namespaces: r.namespaces.clone(),
                receiver: r.receiver.clone(),
            })
            .collect(),
        default_receiver: spec.default.clone().unwrap_or_else(|| NULL_RECEIVER.to_string()),
        heartbeat_receiver: spec.heartbeat.clone().unwrap_or_else(|| NULL_RECEIVER.to_string()),
    }
}

/// Validation requires exactly one kind per receiver.
fn receiver_kind(r: &ReceiverSpec) -> Option<ReceiverKind> {
    if let Some(s) = &r.slack {
        return Some(ReceiverKind::Slack {
            webhook_url: secret(&s.webhook_url.0),
            channel: s.channel.clone(),
        });
    }
    if let Some(p) = &r.pagerduty {
        return Some(ReceiverKind::Pagerduty {
            routing_key: secret(&p.routing_key.0),
        });
    }
    if let Some(e) = &r.email {
        return Some(ReceiverKind::Email {
            to: e.to.clone(),
            from: e.from.clone(),
            smarthost: e.smarthost.clone(),
            username: e.username.clone(),
            password: e.password.as_ref().map(|p| secret(&p.0)),
        });
    }
    r.webhook.as_ref().map(|w| ReceiverKind::Webhook {
        url: w.url.clone(),
        token: w.token.as_ref().map(|t| secret(&t.0)),
    })
}

/// Validation requires `match` or `preset` on every log alert.
fn log_alert(name: &str, la: &LogAlertSpec, default_selector: &str) -> Option<LogAlert> {
    let pattern = match (&la.pattern, la.preset) {
        (Some(p), _) => p.as_str(),
        (None, Some(LogPreset::MariadbInnodbIo)) => d::PRESET_MARIADB_INNODB_IO,
        (None, Some(LogPreset::PhpFatal)) => d::PRESET_PHP_FATAL,
        (None, None) => return None,
    };
    Some(LogAlert {
        name: name.to_string(),
        selector: la.selector.as_deref().unwrap_or(default_selector).trim().to_string(),
        pattern: pattern.to_string(),
        window: la.window.unwrap_or(d::LOG_WINDOW),
        threshold: la.threshold.unwrap_or(d::LOG_ALERT_THRESHOLD),
        for_: la.for_.unwrap_or(d::LOG_ALERT.for_),
        severity: la.severity.unwrap_or(d::LOG_ALERT.severity),
        summary: la
            .summary
            .clone()
            .unwrap_or_else(|| format!("Log lines matching `{name}`")),
    })
}

/// The app's alerts; `own_streams` selects the app's own log streams.
pub(super) fn app_alerts(spec: &AppAlertsSpec, own_streams: &str) -> AppAlerts {
    AppAlerts {
        crash_loop: tuned(d::CRASH_LOOP, &spec.crash_loop),
        oom_killed: switched(d::OOM_KILLED, &spec.oom_killed),
        not_ready: switched(d::NOT_READY, &spec.not_ready),
        replicas_mismatch: switched(d::REPLICAS_MISMATCH, &spec.replicas_mismatch),
        rollout_stuck: switched(d::ROLLOUT_STUCK, &spec.rollout_stuck),
        hpa_maxed_out: switched(d::HPA_MAXED_OUT, &spec.hpa_maxed_out),
        pdb_unhealthy: switched(d::PDB_UNHEALTHY, &spec.pdb_unhealthy),
        job_failed: switched(d::JOB_FAILED, &spec.job_failed),
        error_rate: tuned(d::ERROR_RATE, &spec.error_rate),
        latency: tuned(d::LATENCY, &spec.latency),
        slo: spec.slo.as_ref().map(|s| Slo {
            availability_budget: s.availability.budget(),
            latency: s.latency.as_ref().map(|l| LatencySlo {
                threshold: l.threshold,
                budget: l.objective.budget(),
            }),
        }),
        logs: spec
            .logs
            .iter()
            .filter_map(|(name, la)| log_alert(name, la, own_streams))
            .collect(),
        status_label: spec.status_label.clone().unwrap_or_else(|| d::STATUS_LABEL.to_string()),
    }
}
