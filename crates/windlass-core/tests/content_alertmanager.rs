//! The rendered Alertmanager configuration passes `amtool check-config`, and
//! `amtool config routes test` sends each alert where the spec says.

mod content_support;

use content_support::{Fixture, SPEC, run, run_failing, tool, write};
use windlass_core::content::alertmanager::mounted_secrets;

#[test]
fn alertmanager_config_passes_amtool_and_routes_by_severity_and_namespace() {
    let Some(amtool) = tool("amtool") else { return };
    let fixture = Fixture::new(SPEC);
    let config = fixture.pack().alertmanager.yaml();
    assert!(
        !config.contains("hooks.slack.com") && config.contains("api_url_file"),
        "credentials must be file references"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "alertmanager.yaml", &config);
    run(&amtool, &["check-config", "alertmanager.yaml"], dir.path());

    let routes = |receiver: &str, labels: &[&str]| {
        let mut args = vec!["config", "routes", "test", "--config.file=alertmanager.yaml"];
        let verify = format!("--verify.receivers={receiver}");
        args.push(&verify);
        args.extend_from_slice(labels);
        run(&amtool, &args, dir.path());
    };
    // A critical alert from a production namespace pages; elsewhere it goes to chat.
    routes(
        "pager",
        &["alertname=AppCrashLooping", "severity=critical", "namespace=data"],
    );
    routes(
        "pager",
        &["alertname=AppErrorBudgetBurn", "severity=critical", "namespace=shop"],
    );
    routes(
        "chat",
        &["alertname=AppCrashLooping", "severity=critical", "namespace=shop-dev"],
    );
    // Warnings go to chat, whatever the namespace.
    routes(
        "chat",
        &["alertname=AppPodNotReady", "severity=warning", "namespace=shop"],
    );
    // Anything else reaches the default receiver; the Watchdog the heartbeat.
    routes("mail", &["alertname=AppPodNotReady", "severity=info", "namespace=shop"]);
    routes("heartbeat", &["alertname=Watchdog", "severity=info"]);
    // The test can fail: a warning never pages.
    let mut args = vec![
        "config",
        "routes",
        "test",
        "--config.file=alertmanager.yaml",
        "--verify.receivers=pager",
    ];
    args.extend_from_slice(&["alertname=AppPodNotReady", "severity=warning", "namespace=shop"]);
    run_failing(&amtool, &args, dir.path());

    assert_eq!(
        mounted_secrets(&fixture.platform.observability.alerting),
        vec!["alertmanager-receivers".to_string()]
    );
}

#[test]
fn without_receivers_everything_goes_to_the_null_receiver() {
    let Some(amtool) = tool("amtool") else { return };
    let spec = SPEC.split("observability:").next().expect("spec head");
    let config = Fixture::new(spec).pack().alertmanager.yaml();
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "alertmanager.yaml", &config);
    run(&amtool, &["check-config", "alertmanager.yaml"], dir.path());
    run(
        &amtool,
        &[
            "config",
            "routes",
            "test",
            "--config.file=alertmanager.yaml",
            "--verify.receivers=null",
            "severity=critical",
        ],
        dir.path(),
    );
}
