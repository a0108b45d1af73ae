//! Every default of the content pack, defined once: alert thresholds and
//! durations, routing timings, probe settings, datasource uids and the labels
//! the chart sidecars select on.

use crate::model::AlertPolicy;
use crate::spec::observability::Severity;
use crate::spec::values::Duration;

/// An alert's defaults; the spec's tuning overrides each part.
pub type AlertDefault = AlertPolicy;

const fn alert(threshold: f64, for_: Duration, severity: Severity) -> AlertDefault {
    AlertPolicy {
        threshold,
        for_,
        severity,
    }
}

const fn m(n: u64) -> Duration {
    Duration::minutes(n)
}

use Severity::{Critical, Warning};

// App health. Thresholds without meaning are 0.
/// Restarts per hour that count as crash-looping even between CrashLoopBackOff phases.
pub const CRASH_LOOP: AlertDefault = alert(3.0, m(15), Warning);
pub const OOM_KILLED: AlertDefault = alert(0.0, m(0), Warning);
pub const NOT_READY: AlertDefault = alert(0.0, m(15), Warning);
pub const REPLICAS_MISMATCH: AlertDefault = alert(0.0, m(15), Warning);
pub const ROLLOUT_STUCK: AlertDefault = alert(0.0, m(15), Warning);
pub const HPA_MAXED_OUT: AlertDefault = alert(0.0, m(15), Warning);
pub const PDB_UNHEALTHY: AlertDefault = alert(0.0, m(15), Warning);
pub const JOB_FAILED: AlertDefault = alert(0.0, m(15), Warning);
// Traffic.
/// Share of 5xx responses.
pub const ERROR_RATE: AlertDefault = alert(0.05, m(10), Critical);
/// p99 latency in seconds.
pub const LATENCY: AlertDefault = alert(1.0, m(10), Warning);
/// The quantile the latency alert watches.
pub const LATENCY_QUANTILE: f64 = 0.99;
/// Rate window of the traffic alerts.
pub const TRAFFIC_WINDOW: &str = "5m";
/// Label of the HTTP status code on an app's own `http_requests_total`.
pub const STATUS_LABEL: &str = "code";

// Platform.
/// Warn this long (seconds) before a certificate expires.
pub const CERTIFICATE_EXPIRY: AlertDefault = alert(14.0 * 86400.0, Duration::hours(1), Warning);
/// Page when this little time (seconds) is left.
pub const CERTIFICATE_EXPIRY_CRITICAL_SECONDS: f64 = 3.0 * 86400.0;
pub const CERTIFICATE_NOT_READY: AlertDefault = alert(0.0, m(15), Warning);
/// Free-space ratio below which a volume is filling up.
pub const VOLUME_SPACE: AlertDefault = alert(0.15, m(30), Warning);
/// The volume is critical when the last `VOLUME_TREND_WINDOW` predicts it full within this many seconds.
pub const VOLUME_FULL_WITHIN_SECONDS: f64 = 24.0 * 3600.0;
pub const VOLUME_TREND_WINDOW: &str = "6h";
pub const VOLUME_FULL_FOR: Duration = Duration::hours(1);
pub const NODE_NOT_READY: AlertDefault = alert(0.0, m(15), Warning);
pub const NODE_PRESSURE: AlertDefault = alert(0.0, m(5), Warning);
/// Ratio of a job's targets down.
pub const TARGET_DOWN: AlertDefault = alert(0.1, m(10), Warning);

// Uptime (blackbox-exporter).
pub const UPTIME_FAILING: AlertDefault = alert(0.0, m(3), Critical);
/// Response time in seconds above which a probe is slow.
pub const UPTIME_SLOW: AlertDefault = alert(2.0, m(10), Warning);
pub const UPTIME_INTERVAL: Duration = Duration::minutes(1);
pub const UPTIME_JOB: &str = "windlass-uptime";
/// Service of the prometheus-blackbox-exporter chart in the monitoring namespace.
pub const BLACKBOX_SERVICE: &str = "prometheus-blackbox-exporter";
pub const BLACKBOX_PORT: u16 = 9115;
/// Secret holding the blackbox module config (the chart's `configExistingSecretName`).
pub const BLACKBOX_CONFIG_SECRET: &str = "windlass-blackbox-config";
pub const BLACKBOX_CONFIG_KEY: &str = "blackbox.yaml";
pub const BLACKBOX_MODULE_HTTPS: &str = "https_2xx";
pub const BLACKBOX_MODULE_HTTP: &str = "http_2xx";
pub const BLACKBOX_TIMEOUT: &str = "10s";

// SLOs (the SRE workbook's multi-window, multi-burn-rate alerts).
pub const SLO_WINDOW: Duration = Duration::days(30);
/// (long window, short window, share of the error budget spent in the long window, severity).
/// For a 30-day window these are the workbook's burn rates 14.4, 6, 3 and 1.
pub const BURN_RATE_WINDOWS: [(Duration, Duration, f64, Severity); 4] = [
    (Duration::hours(1), m(5), 0.02, Critical),
    (Duration::hours(6), m(30), 0.05, Critical),
    (Duration::days(1), Duration::hours(2), 0.10, Warning),
    (Duration::days(3), Duration::hours(6), 0.10, Warning),
];
/// `for:` of the paging and the ticketing burn-rate alerts.
pub const BURN_RATE_FOR: [Duration; 2] = [m(2), m(15)];

// Logs (Loki ruler).
pub const LOG_WINDOW: Duration = Duration::minutes(5);
pub const LOG_ALERT: AlertDefault = alert(0.0, Duration::ZERO, Warning);
/// Alert when more lines than this match (0: any line).
pub const LOG_ALERT_THRESHOLD: u32 = 0;
/// The Loki chart's rules sidecar loads ConfigMaps with this label (any value).
pub const LOKI_RULE_LABEL: &str = "loki_rule";
pub const LOKI_RULE_LABEL_VALUE: &str = "1";
/// Stream labels the log collector (Alloy) sets on every pod's logs.
pub const LOG_LABEL_NAMESPACE: &str = "namespace";
pub const LOG_LABEL_APP: &str = "app";
pub const PRESET_MARIADB_INNODB_IO: &str =
    r"InnoDB: .*(Operating system error|Input/output error|I/O error|Cannot read|Tried to read)";
pub const PRESET_PHP_FATAL: &str = r"PHP Fatal error|Fatal error: (Uncaught|Allowed memory size)";

// Alertmanager.
/// Secret the Alertmanager reads its configuration from (kube-prometheus-stack
/// `alertmanager.alertmanagerSpec.configSecret`), key `alertmanager.yaml`.
pub const ALERTMANAGER_CONFIG_SECRET: &str = "windlass-alertmanager";
pub const ALERTMANAGER_CONFIG_KEY: &str = "alertmanager.yaml";
/// Where the Alertmanager mounts the Secrets listed in `alertmanagerSpec.secrets`.
pub const ALERTMANAGER_SECRETS_DIR: &str = "/etc/alertmanager/secrets";
pub const GROUP_BY: [&str; 2] = ["alertname", "namespace"];
pub const GROUP_WAIT: &str = "30s";
pub const GROUP_INTERVAL: &str = "5m";
pub const REPEAT_INTERVAL: &str = "4h";
pub const REPEAT_INTERVAL_CRITICAL: &str = "1h";
pub const HEARTBEAT_REPEAT_INTERVAL: &str = "1m";
pub const RESOLVE_TIMEOUT: &str = "5m";
pub const WATCHDOG: &str = "Watchdog";

// Rules and dashboards.
pub const RUNBOOK_BASE: &str = "https://windlass.dev/runbooks/";
pub const PROMETHEUS_DATASOURCE_UID: &str = "prometheus";
pub const LOKI_DATASOURCE_UID: &str = "loki";
/// The Grafana sidecar loads ConfigMaps with this label as dashboards.
pub const DASHBOARD_LABEL: &str = "grafana_dashboard";
pub const DASHBOARD_LABEL_VALUE: &str = "1";
pub const DASHBOARD_FOLDER_ANNOTATION: &str = "grafana_folder";
pub const DASHBOARD_FOLDER: &str = "windlass";
/// OpenCost's default list prices, per hour.
pub const CPU_CORE_HOUR_PRICE: f64 = 0.031611;
pub const MEMORY_GIB_HOUR_PRICE: f64 = 0.004237;
