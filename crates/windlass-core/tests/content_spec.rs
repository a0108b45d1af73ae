//! The observability spec: mistakes are reported with the place, the field and a fix.

use windlass_core::spec::load;

const HEAD: &str = r#"
apiVersion: windlass.dev/v1alpha1
kind: Platform
platform: {name: shop, domain: example.com, email: ops@example.com}
apps:
  web:
    image: ghcr.io/acme/web:1.0.0
    port: 3000
    health: /healthz
"#;

fn errors(tail: &str) -> String {
    match load("t.yaml", &format!("{HEAD}{tail}")) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_valid_observability_section_loads() {
    let e = errors(
        r#"
    alerts:
      latency: {threshold: 500ms, for: 10m}
      errorRate: {threshold: 0.02}
      crashLoop: {threshold: 5}
      slo: {availability: 99.5%, latency: {threshold: 0.3s, objective: 99}}
      logs:
        fatal: {preset: php-fatal}
        panics: {match: 'panic: .*(?i:nil pointer)', window: 10m, for: 1m30s}
    hosts: [www]
    metrics: /metrics
    resources: {cpu: 0.5, memory: 256Mi, limits: {cpu: 1}}
observability:
  alerting:
    receivers:
      chat: {slack: {webhookUrl: am/slack}}
    routes: [{severity: warning, receiver: chat}]
  uptime: {slow: 800ms, interval: 30s}
  slo: {window: 28d}
  alerts:
    certificateExpiry: {threshold: 21d}
    volumeSpace: {threshold: 10%}
"#,
    );
    assert_eq!(e, "");
}

#[test]
fn semantic_mistakes_are_all_reported_at_once() {
    let e = errors(
        r#"
    alerts:
      slo: {availability: 99}
      logs:
        broken: {window: 0m}
observability:
  alerting:
    receivers:
      chat: {slack: {webhookUrl: am/slack}, webhook: {url: "https://x.example.com"}}
    routes: [{severity: critical, receiver: pagr}]
  uptime: {urls: [status.example.com]}
  slo: {window: 3d}
"#,
    );
    assert_eq!(
        e,
        "t.yaml:18:13: observability.alerting.receivers.chat: receiver `chat` must set exactly one of `slack`, `pagerduty`, `email`, `webhook`
  help: split it into one receiver per destination and route to each
t.yaml:19:45: observability.alerting.routes[0].receiver: no receiver named `pagr`
  help: name one of: chat, null
t.yaml:20:19: observability.uptime.urls[0]: `status.example.com` is not an http(s) URL
  help: write the full URL, e.g. `https://status.example.com/`
t.yaml:21:17: observability.slo.window: SLO window `3d` is shorter than 7d
  help: write e.g. `30d` or `28d`
t.yaml:14:17: apps.web.alerts.logs.broken: a log alert needs `match` (a regular expression) or `preset`
  help: add e.g. `match: 'PHP Fatal error'` or `preset: php-fatal`
t.yaml:14:26: apps.web.alerts.logs.broken.window: a window or interval of zero never sees a sample
  help: write a duration above zero, e.g. `5m`
t.yaml:12:12: apps.web.alerts.slo: an SLO needs request metrics, but the app has neither `metrics` nor public `hosts`
  help: add `metrics: /metrics` (an `http_requests_total` counter) or public `hosts`"
    );
}

/// A value of the wrong form is refused where it is written, with the fix.
#[test]
fn malformed_values_are_located_with_a_fix() {
    let cases = [
        (
            "    alerts:\n      latency: {threshold: 800}\n",
            "t.yaml:11:28: apps.web.alerts.latency.threshold: latency `800` has no unit\n  help: write `800ms` or `800s`",
        ),
        (
            "    alerts:\n      errorRate: {threshold: 5}\n",
            "t.yaml:11:30: apps.web.alerts.errorRate.threshold: `5` is not a ratio between 0 and 1 (0% and 100%)\n  help: write a percentage such as `5%`, or a fraction such as `0.05`",
        ),
        (
            "    alerts:\n      notReady: {for: 5 minutes}\n",
            "t.yaml:11:23: apps.web.alerts.notReady.for: `5 minutes` is not a duration\n  help: write a whole number and a unit (ms, s, m, h, d, w, y), largest unit first, e.g. `30s`, `5m`, `1h30m` or `14d`",
        ),
        (
            "    alerts:\n      oomKilled: {threshold: 3}\n",
            "t.yaml:11:19: apps.web.alerts.oomKilled.threshold: unknown field `threshold`\n  help: remove it, or use one of: enabled, for, severity",
        ),
        (
            "    alerts:\n      slo: {availability: 100}\n",
            "t.yaml:11:27: apps.web.alerts.slo.availability: objective `100` is not a percentage between 0 and 100\n  help: write the percentage of good requests, e.g. `99.9` or `99.9%` (100 leaves no error budget)",
        ),
        (
            "    alerts:\n      logs:\n        retry: {match: 'error(?!: retrying)'}\n",
            "t.yaml:12:24: apps.web.alerts.logs.retry.match: `error(?!: retrying)` is not an RE2 regular expression: look-around, including look-ahead and look-behind, is not supported\n  help: Loki reads RE2: no look-around, no backreferences; escape special characters with `\\`",
        ),
        (
            "observability:\n  uptime: {slow: 2}\n",
            "t.yaml:11:18: observability.uptime.slow: latency `2` has no unit\n  help: write `2ms` or `2s`",
        ),
        (
            "    resources: {cpu: 10 Gi}\n",
            "t.yaml:10:22: apps.web.resources.cpu: `10 Gi` is not a quantity\n  help: write CPU as cores or millicores (`0.5`, `250m`) and sizes with a unit (`256Mi`, `10Gi`)",
        ),
        (
            "    egress: [{cidr: 0.0.0.0/0, ports: [0]}]\n",
            "t.yaml:10:40: apps.web.egress[0].ports[0]: port 0 is not a valid port\n  help: use a port between 1 and 65535",
        ),
    ];
    let actual: Vec<String> = cases.iter().map(|(tail, _)| errors(tail)).collect();
    let expected: Vec<&str> = cases.iter().map(|(_, e)| *e).collect();
    assert_eq!(actual, expected);
}

#[test]
fn inline_credentials_are_not_accepted() {
    let e = errors(
        r#"
observability:
  alerting:
    receivers:
      chat: {slack: {webhookUrl: "https://hooks.slack.com/services/T0/B0/xyz"}}
"#,
    );
    assert!(e.contains("secret-name/key"), "{e}");
}
