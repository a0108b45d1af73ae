//! The incidents the content pack exists for, written by hand and run with
//! `promtool test rules` against the rendered rules: the Postgres StatefulSet
//! crash-looping for days, a certificate close to expiry, and an SLO burning
//! its error budget.

mod content_support;

use content_support::{Fixture, SPEC, run, tool, write};
use windlass_core::content::crds::Rule;
use windlass_core::content::scenarios::{self, Scenario, stepping};
use windlass_core::content::{RuleSet, yaml};
use windlass_core::spec::observability::Severity;

fn rule_set(name: &str) -> RuleSet {
    let pack = Fixture::new(SPEC).pack();
    pack.rules.into_iter().find(|s| s.name == name).expect("rule set")
}

/// Runs `scenarios` with promtool against the rendered rule set.
fn prove(set: &RuleSet, scenarios: &[Scenario]) {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let rules_file = format!("{}.yaml", set.name);
    write(dir.path(), &rules_file, &yaml(&set.file));
    let all: Vec<Rule> = set.file.groups.iter().flat_map(|g| g.rules.clone()).collect();
    let suite = scenarios::test_file(&[rules_file], &all, scenarios).expect("scenarios match the rules");
    write(dir.path(), "incident.test.yaml", &yaml(&suite));
    run(&promtool, &["test", "rules", "incident.test.yaml"], dir.path());
}

#[test]
fn postgres_crash_looping_for_days_fires_crash_loop_and_statefulset_mismatch() {
    let set = rule_set("postgres-alerts");
    // Three days at 5-minute samples: CrashLoopBackOff throughout, 45 restarts, 0 of 1 replicas ready.
    let samples = 3 * 24 * 12;
    let pod = r#"namespace="data", pod="postgres-0", container="postgres""#;
    let sts = r#"namespace="data", statefulset="postgres""#;
    let incident = Scenario::new("postgres crash-looping for 3 days with 45 restarts", "5m")
        .series(
            format!(r#"kube_pod_container_status_waiting_reason{{{pod}, reason="CrashLoopBackOff"}}"#),
            format!("1x{samples}"),
        )
        .series(
            format!("kube_pod_container_status_restarts_total{{{pod}}}"),
            stepping(45, 19, samples - 45 * 19),
        )
        .series(format!("kube_statefulset_replicas{{{sts}}}"), format!("1x{samples}"))
        .series(
            format!("kube_statefulset_status_replicas_ready{{{sts}}}"),
            format!("0x{samples}"),
        )
        .series(
            format!("kube_statefulset_status_replicas_updated{{{sts}}}"),
            format!("1x{samples}"),
        )
        .fires(
            "72h",
            "AppCrashLooping",
            // The spec raises the database's crash loop to critical.
            Severity::Critical,
            &[("namespace", "data"), ("pod", "postgres-0"), ("container", "postgres")],
        )
        .fires(
            "72h",
            "AppStatefulSetReplicasMismatch",
            Severity::Warning,
            &[("namespace", "data"), ("statefulset", "postgres")],
        )
        .fires(
            "30m",
            "AppCrashLooping",
            Severity::Critical,
            &[("namespace", "data"), ("pod", "postgres-0"), ("container", "postgres")],
        );
    // The same metrics for a pod of another app in the namespace must not fire postgres's alerts.
    let neighbour = r#"namespace="data", pod="postgres-exporter-0", container="exporter""#;
    let other = Scenario::new("another app's crash loop does not fire postgres's alert", "5m")
        .series(
            format!(r#"kube_pod_container_status_waiting_reason{{{neighbour}, reason="CrashLoopBackOff"}}"#),
            "1x100",
        )
        .quiet("6h", "AppCrashLooping");
    prove(&set, &[incident, other]);
}

#[test]
fn certificate_13_days_from_expiry_fires_and_20_days_does_not() {
    let set = rule_set("windlass-platform-alerts");
    let series = r#"certmanager_certificate_expiration_timestamp_seconds{namespace="shop", name="www-tls"}"#;
    let days = |d: u32| format!("{}x200", d * 86400);
    let labels = [("namespace", "shop"), ("name", "www-tls")];
    prove(
        &set,
        &[
            Scenario::new("13 days left", "1m")
                .series(series, days(13))
                .quiet("30m", "CertificateExpiringSoon")
                .fires("2h", "CertificateExpiringSoon", Severity::Warning, &labels),
            Scenario::new("20 days left", "1m")
                .series(series, days(20))
                .quiet("3h", "CertificateExpiringSoon"),
        ],
    );
}

#[test]
fn burn_rate_pages_for_2_percent_errors_against_99_9_and_not_for_0_05_percent() {
    let set = rule_set("web-alerts");
    let requests = |code: &str| format!(r#"http_requests_total{{namespace="shop", job="web", code="{code}"}}"#);
    // 1000 requests a minute.
    let burning = Scenario::new("2% errors", "1m")
        .series(requests("500"), "0+20x240")
        .series(requests("200"), "0+980x240")
        .quiet("1m", "AppErrorBudgetBurn")
        // Within the paging window (1h/5m at 14.4x), well before the budget is gone.
        .fires("10m", "AppErrorBudgetBurn", Severity::Critical, &[])
        .fires("1h", "AppErrorBudgetBurn", Severity::Critical, &[])
        .fires("1h", "AppErrorBudgetBurn", Severity::Warning, &[]);
    let healthy = Scenario::new("0.05% errors", "1m")
        .series(requests("500"), "0+0.5x240")
        .series(requests("200"), "0+999.5x240")
        .quiet("10m", "AppErrorBudgetBurn")
        .quiet("1h", "AppErrorBudgetBurn")
        .quiet("4h", "AppErrorBudgetBurn");
    prove(&set, &[burning, healthy]);
}
