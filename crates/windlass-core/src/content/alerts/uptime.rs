//! Uptime: the blackbox exporter's view of every public URL. Failing, slow,
//! and the TLS certificate the public actually sees expiring.

use std::collections::BTreeMap;

use super::{Alert, Checked, num, sel};
use crate::content::defaults as d;
use crate::content::scenarios::Scenario;
use crate::model::{AlertPolicy, Observability};

pub const FAILING: &str = "UptimeProbeFailing";
pub const SLOW: &str = "UptimeProbeSlow";
pub const CERT_EXPIRING: &str = "UptimeCertificateExpiring";

pub fn rules(obs: &Observability) -> Checked {
    let mut out = Checked::default();
    let job = sel(&[("job", "=", d::UPTIME_JOB)]);
    let by = "by (instance, namespace, app)";
    let url = "https://www.example.com/";
    let base = format!(
        "job=\"{}\", instance=\"{url}\", namespace=\"shop\", app=\"web\"",
        d::UPTIME_JOB
    );
    let labels = [("instance", url), ("namespace", "shop"), ("app", "web")];
    if let Some(c) = &obs.alerts.uptime_failing {
        out.alert(alert(
            FAILING,
            format!("max {by} (probe_success{job}) == 0"),
            c,
            "A public URL is down",
            "{{ $labels.instance }} has not answered with a 2xx status over TLS for a while, seen from the blackbox exporter.",
        ));
        let probe =
            |v: &str| Scenario::new(format!("probe_success {v}"), "1m").series(format!("probe_success{{{base}}}"), v);
        out.scenarios
            .push(probe("0x20").fires("10m", FAILING, c.severity, &labels));
        out.scenarios.push(probe("1x20").quiet("10m", FAILING));
    }
    let slow = obs.uptime.slow;
    out.alert(alert(
        SLOW,
        format!(
            "max {by} (avg_over_time(probe_duration_seconds{job}[5m])) > {}",
            num(slow.threshold)
        ),
        &slow,
        "A public URL responds slowly",
        "{{ $labels.instance }} takes longer than the uptime `slow` limit to answer.",
    ));
    let duration = |v: f64| {
        Scenario::new(format!("probe_duration_seconds {}", num(v)), "1m")
            .series(format!("probe_duration_seconds{{{base}}}"), format!("{}x30", num(v)))
    };
    out.scenarios
        .push(duration(slow.threshold * 2.0).fires("20m", SLOW, slow.severity, &labels));
    out.scenarios.push(duration(slow.threshold / 4.0).quiet("20m", SLOW));
    if let Some(c) = &obs.alerts.certificate_expiry {
        out.alert(alert(
            CERT_EXPIRING,
            format!(
                "min {by} (probe_ssl_earliest_cert_expiry{job} - time()) < {}",
                num(c.threshold)
            ),
            c,
            "The certificate a public URL serves expires soon",
            "The certificate served at {{ $labels.instance }} expires soon, whatever cert-manager believes: \
             check which certificate the gateway serves.",
        ));
        let expiry = |days: f64| {
            Scenario::new(format!("served certificate {} days from expiry", num(days)), "1m").series(
                format!("probe_ssl_earliest_cert_expiry{{{base}}}"),
                format!("{}x100", num(days * 86400.0)),
            )
        };
        out.scenarios
            .push(expiry(c.threshold / 86400.0 - 1.0).fires("70m", CERT_EXPIRING, c.severity, &labels));
        out.scenarios
            .push(expiry(c.threshold / 86400.0 + 6.0).quiet("70m", CERT_EXPIRING));
    }
    out
}

fn alert(name: &'static str, expr: String, c: &AlertPolicy, summary: &str, description: &str) -> Alert {
    Alert {
        name,
        expr,
        for_: c.for_,
        severity: c.severity,
        summary: summary.to_string(),
        description: description.to_string(),
        labels: BTreeMap::new(),
    }
}
