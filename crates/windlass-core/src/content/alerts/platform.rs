//! Platform alerts: certificates, persistent volumes, nodes, scrape targets
//! and the always-firing Watchdog that proves the alerting pipeline works.

use std::collections::BTreeMap;

use super::{Alert, Checked, minutes, num, timing};
use crate::content::defaults as d;
use crate::content::scenarios::Scenario;
use crate::model::{AlertPolicy, PlatformAlerts};
use crate::spec::observability::Severity;
use crate::spec::values::Duration;

pub const CERT_EXPIRING: &str = "CertificateExpiringSoon";
pub const CERT_NOT_READY: &str = "CertificateNotReady";
pub const VOLUME_FILLING: &str = "PersistentVolumeFillingUp";
pub const NODE_NOT_READY: &str = "NodeNotReady";
pub const NODE_PRESSURE: &str = "NodeUnderPressure";
pub const TARGET_DOWN: &str = "TargetDown";

pub fn rules(spec: &PlatformAlerts) -> Checked {
    let mut out = Checked::default();
    if let Some(c) = &spec.certificate_expiry {
        out.extend(certificate_expiry(c));
        out.extend(certificate_not_ready());
    }
    if let Some(c) = &spec.volume_space {
        out.extend(volume(c));
    }
    if let Some(c) = &spec.node_not_ready {
        out.extend(nodes(c));
    }
    if let Some(c) = &spec.target_down {
        out.extend(target_down(c));
    }
    out.extend(watchdog());
    out
}

fn alert(
    name: &'static str,
    expr: String,
    for_: Duration,
    severity: Severity,
    summary: &str,
    description: &str,
) -> Alert {
    Alert {
        name,
        expr,
        for_,
        severity,
        summary: summary.to_string(),
        description: description.to_string(),
        labels: BTreeMap::new(),
    }
}

fn days(seconds: f64) -> String {
    num(seconds / 86400.0)
}

fn certificate_expiry(c: &AlertPolicy) -> Checked {
    let left =
        "min by (namespace, exported_namespace, name) (certmanager_certificate_expiration_timestamp_seconds - time())";
    let mut out = Checked::default();
    let desc = "Certificate {{ $labels.name }} expires soon and cert-manager has not renewed it. \
                Check `kubectl describe certificate` and the ACME challenge.";
    out.alert(alert(
        CERT_EXPIRING,
        format!("{left} < {}", num(c.threshold)),
        c.for_,
        c.severity,
        &format!("A certificate expires in less than {} days", days(c.threshold)),
        desc,
    ));
    let critical = d::CERTIFICATE_EXPIRY_CRITICAL_SECONDS.min(c.threshold);
    out.alert(alert(
        CERT_EXPIRING,
        format!("{left} < {}", num(critical)),
        c.for_,
        Severity::Critical,
        &format!("A certificate expires in less than {} days", days(critical)),
        desc,
    ));
    let cert = |days_left: f64| {
        // time() is 0 at the start of a promtool test, so the timestamp is the time left.
        format!("{}x{}", num(days_left * 86400.0), minutes(c.for_) + 60)
    };
    let series = "certmanager_certificate_expiration_timestamp_seconds{namespace=\"shop\", name=\"web-tls\"}";
    let at = format!("{}m", minutes(c.for_) + 30);
    let at = at.as_str();
    let labels = [("namespace", "shop"), ("name", "web-tls")];
    let warn_days = (c.threshold / 86400.0 - 1.0).max(critical / 86400.0 + 0.5);
    out.scenarios.push(
        Scenario::new(
            format!(
                "a certificate {} days from expiry fires the warning only",
                num(warn_days)
            ),
            "1m",
        )
        .series(series, cert(warn_days))
        .fires(at, CERT_EXPIRING, c.severity, &labels),
    );
    out.scenarios.push(
        Scenario::new("a certificate 2 days from expiry fires warning and critical", "1m")
            .series(series, cert(2.0))
            .fires(at, CERT_EXPIRING, c.severity, &labels)
            .fires(at, CERT_EXPIRING, Severity::Critical, &labels),
    );
    out.scenarios.push(
        Scenario::new(
            format!(
                "a certificate {} days from expiry stays quiet",
                num(c.threshold / 86400.0 + 6.0)
            ),
            "1m",
        )
        .series(series, cert(c.threshold / 86400.0 + 6.0))
        .quiet(at, CERT_EXPIRING),
    );
    out
}

fn certificate_not_ready() -> Checked {
    let c = d::CERTIFICATE_NOT_READY;
    let mut out = Checked::default();
    out.alert(alert(
        CERT_NOT_READY,
        "max by (namespace, exported_namespace, name) (certmanager_certificate_ready_status{condition=\"False\"}) == 1"
            .to_string(),
        c.for_,
        c.severity,
        "A certificate is not ready",
        "Certificate {{ $labels.name }} is not ready: its host is served without a valid certificate. \
         Check the Certificate's events and the issuer.",
    ));
    let series = |cond: &str| {
        format!("certmanager_certificate_ready_status{{namespace=\"shop\", name=\"web-tls\", condition=\"{cond}\"}}")
    };
    out.scenarios.push(
        Scenario::new("a certificate with Ready=False fires", "1m")
            .series(series("False"), "1x30")
            .series(series("True"), "0x30")
            .fires(
                "20m",
                CERT_NOT_READY,
                c.severity,
                &[("namespace", "shop"), ("name", "web-tls")],
            ),
    );
    out.scenarios.push(
        Scenario::new("a ready certificate stays quiet", "1m")
            .series(series("False"), "0x30")
            .series(series("True"), "1x30")
            .quiet("20m", CERT_NOT_READY),
    );
    out
}

fn volume(c: &AlertPolicy) -> Checked {
    let by = "max by (namespace, persistentvolumeclaim)";
    let free = format!(
        "(\n  {by} (kubelet_volume_stats_available_bytes)\n  /\n  {by} (kubelet_volume_stats_capacity_bytes)\n) < {}",
        num(c.threshold)
    );
    let mut out = Checked::default();
    let desc = "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is running out of space. \
                Grow the PVC (`persistence.size`) or clean up.";
    out.alert(alert(
        VOLUME_FILLING,
        free.clone(),
        c.for_,
        c.severity,
        &format!("A volume has less than {}% free space", num(c.threshold * 100.0)),
        desc,
    ));
    out.alert(alert(
        VOLUME_FILLING,
        format!(
            "{free}\nand on (namespace, persistentvolumeclaim)\n{by} (predict_linear(kubelet_volume_stats_available_bytes[{}], {})) < 0",
            d::VOLUME_TREND_WINDOW,
            num(d::VOLUME_FULL_WITHIN_SECONDS)
        ),
        d::VOLUME_FULL_FOR,
        Severity::Critical,
        &format!("A volume will be full within {} hours", num(d::VOLUME_FULL_WITHIN_SECONDS / 3600.0)),
        desc,
    ));
    let lbl = "namespace=\"shop\", persistentvolumeclaim=\"data-postgres-0\"";
    let labels = [("namespace", "shop"), ("persistentvolumeclaim", "data-postgres-0")];
    let capacity = 100_000.0;
    let low = num(capacity * c.threshold * 0.6);
    // Free space falls from 40% by 0.2% a minute; it crosses the threshold at `cross` minutes.
    let cross = ((40_000.0 - capacity * c.threshold) / 200.0).max(0.0).ceil();
    let mut filling = Scenario::new("a volume filling at a steady rate fires warning then critical", "1m")
        .series(format!("kubelet_volume_stats_capacity_bytes{{{lbl}}}"), "100000x600")
        .series(
            format!("kubelet_volume_stats_available_bytes{{{lbl}}}"),
            "40000-200x200 0x400",
        );
    if cross >= 10.0 {
        filling = filling.quiet(&format!("{}m", num(cross - 5.0)), VOLUME_FILLING);
    }
    let late = format!("{}m", num(cross + 40.0 + f64::from(minutes(c.for_)).max(60.0)));
    out.scenarios
        .push(filling.fires(&late, VOLUME_FILLING, c.severity, &labels).fires(
            &late,
            VOLUME_FILLING,
            Severity::Critical,
            &labels,
        ));
    out.scenarios.push(
        Scenario::new("a volume low on space but not filling fires the warning only", "1m")
            .series(format!("kubelet_volume_stats_capacity_bytes{{{lbl}}}"), "100000x600")
            .series(
                format!("kubelet_volume_stats_available_bytes{{{lbl}}}"),
                format!("{low}x600"),
            )
            .fires(
                &format!("{}m", minutes(c.for_) + 60),
                VOLUME_FILLING,
                c.severity,
                &labels,
            ),
    );
    out.scenarios.push(
        Scenario::new("a half-empty volume stays quiet", "1m")
            .series(format!("kubelet_volume_stats_capacity_bytes{{{lbl}}}"), "100000x600")
            .series(format!("kubelet_volume_stats_available_bytes{{{lbl}}}"), "50000x600")
            .quiet("200m", VOLUME_FILLING),
    );
    out
}

fn nodes(c: &AlertPolicy) -> Checked {
    let (at, n) = timing(c.for_);
    let mut out = Checked::default();
    out.alert(alert(
        NODE_NOT_READY,
        "max by (node) (kube_node_status_condition{condition=\"Ready\", status=\"true\"}) == 0".to_string(),
        c.for_,
        c.severity,
        "A node is not ready",
        "Node {{ $labels.node }} has not been Ready for a while: its pods are being evicted or are unreachable.",
    ));
    let p = d::NODE_PRESSURE;
    out.alert(alert(
        NODE_PRESSURE,
        "max by (node, condition) (kube_node_status_condition{condition=~\"MemoryPressure|DiskPressure|PIDPressure\", status=\"true\"}) == 1"
            .to_string(),
        p.for_,
        p.severity,
        "A node is under resource pressure",
        "Node {{ $labels.node }} reports {{ $labels.condition }}: the kubelet is evicting pods.",
    ));
    let ready = |v: &str| {
        Scenario::new(format!("node Ready={v}"), "1m").series(
            "kube_node_status_condition{node=\"node-1\", condition=\"Ready\", status=\"true\"}",
            if v == "true" {
                format!("1x{n}")
            } else {
                format!("0x{n}")
            },
        )
    };
    out.scenarios
        .push(ready("false").fires(&at, NODE_NOT_READY, c.severity, &[("node", "node-1")]));
    out.scenarios.push(ready("true").quiet(&at, NODE_NOT_READY));
    let pressure =
        |v: &str| format!("kube_node_status_condition{{node=\"node-1\", condition=\"DiskPressure\", status=\"{v}\"}}");
    out.scenarios.push(
        Scenario::new("a node with DiskPressure fires", "1m")
            .series(pressure("true"), "1x30")
            .series(pressure("false"), "0x30")
            .fires(
                "10m",
                NODE_PRESSURE,
                p.severity,
                &[("node", "node-1"), ("condition", "DiskPressure")],
            ),
    );
    out.scenarios.push(
        Scenario::new("a node without pressure stays quiet", "1m")
            .series(pressure("true"), "0x30")
            .series(pressure("false"), "1x30")
            .quiet("10m", NODE_PRESSURE),
    );
    out
}

fn target_down(c: &AlertPolicy) -> Checked {
    let (at, n) = timing(c.for_);
    let mut out = Checked::default();
    out.alert(alert(
        TARGET_DOWN,
        format!(
            "(\n  count by (namespace, job) (up == 0)\n  /\n  count by (namespace, job) (up)\n) > {}",
            num(c.threshold)
        ),
        c.for_,
        c.severity,
        "Prometheus cannot scrape some targets",
        "Some targets of job {{ $labels.job }} in {{ $labels.namespace }} are down: their metrics, and the alerts \
         on them, are missing.",
    ));
    let up = |pod: &str| format!("up{{namespace=\"shop\", job=\"web\", pod=\"{pod}\"}}");
    out.scenarios.push(
        Scenario::new("one of two targets down fires TargetDown", "1m")
            .series(up("web-a"), format!("1x{n}"))
            .series(up("web-b"), format!("0x{n}"))
            .fires(&at, TARGET_DOWN, c.severity, &[("namespace", "shop"), ("job", "web")]),
    );
    out.scenarios.push(
        Scenario::new("all targets up stays quiet", "1m")
            .series(up("web-a"), format!("1x{n}"))
            .series(up("web-b"), format!("1x{n}"))
            .quiet(&at, TARGET_DOWN),
    );
    out
}

fn watchdog() -> Checked {
    let mut out = Checked::default();
    out.alert(alert(
        d::WATCHDOG,
        "vector(1)".to_string(),
        Duration::ZERO,
        Severity::Info,
        "The alerting pipeline works",
        "This alert always fires. If the heartbeat receiver stops getting it, Prometheus or the Alertmanager is down.",
    ));
    out.scenarios
        .push(Scenario::new("the Watchdog always fires", "1m").fires("5m", d::WATCHDOG, Severity::Info, &[]));
    out
}
