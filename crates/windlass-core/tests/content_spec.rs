//! The observability spec: mistakes are reported with the field and a fix.

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
        Err(e) => format!("{e:?}"),
    }
}

#[test]
fn a_valid_observability_section_loads() {
    let e = errors(
        r#"
    alerts:
      latency: {threshold: 500ms, for: 10m}
      slo: {availability: 99.5}
      logs:
        fatal: {preset: php-fatal}
    hosts: [www]
observability:
  alerting:
    receivers:
      chat: {slack: {webhookUrl: am/slack}}
    routes: [{severity: warning, receiver: chat}]
"#,
    );
    assert_eq!(e, "");
}

#[test]
fn unknown_receivers_bad_thresholds_and_unmeasurable_slos_are_reported() {
    let e = errors(
        r#"
    alerts:
      errorRate: {threshold: 5}
      slo: {availability: 100}
      logs:
        broken: {window: 5 minutes}
observability:
  alerting:
    receivers:
      chat: {slack: {webhookUrl: am/slack}, webhook: {url: "https://x.example.com"}}
    routes: [{severity: critical, receiver: pagr}]
  uptime: {urls: [status.example.com]}
"#,
    );
    for needle in [
        "exactly one of",
        "no receiver named `pagr`",
        "not a valid threshold",
        "not a percentage between 0 and 100",
        "neither `metrics` nor public `hosts`",
        "needs `match`",
        "`5 minutes` is not a duration",
        "not an http(s) URL",
    ] {
        assert!(e.contains(needle), "missing `{needle}` in {e}");
    }
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
