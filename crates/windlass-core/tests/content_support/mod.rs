//! Shared by the content tests: a small platform built from a spec string, and
//! the real tools (promtool, amtool, logqlcheck) found on PATH or in the test
//! bed's bin directory.

#![allow(dead_code, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

use windlass_core::content::{self, Pack};
use windlass_core::model::{App, Platform};

/// A platform with one app of every kind, both traffic sources, SLOs and log alerts.
pub const SPEC: &str = r##"
apiVersion: windlass.dev/v1alpha1
kind: Platform
platform:
  name: shop
  domain: example.com
  email: ops@example.com
apps:
  web:
    image: ghcr.io/acme/web:1.4.2
    port: 3000
    health: /healthz
    metrics: /metrics
    hosts: [www]
    autoscaling: {min: 2, max: 10}
    alerts:
      errorRate: {threshold: 2%, for: 5m}
      latency: {threshold: 800ms}
      slo:
        availability: 99.9
        latency: {threshold: 300ms, objective: 99}
      logs:
        fatal: {preset: php-fatal, severity: critical}
  worker:
    kind: worker
    image: ghcr.io/acme/worker:1.4.2
    alerts:
      notReady: {for: 30m, severity: info}
      oomKilled: {enabled: false}
  postgres:
    kind: statefulset
    image: docker.io/library/postgres:17.2
    port: 5432
    namespace: data
    persistence: {size: 10Gi}
    alerts:
      crashLoop: {severity: critical}
  mariadb:
    kind: statefulset
    image: docker.io/library/mariadb:11.4
    port: 3306
    namespace: data
    persistence: {size: 10Gi}
    alerts:
      logs:
        innodb-io: {preset: mariadb-innodb-io, severity: critical, window: 10m}
  backup:
    kind: cron
    image: ghcr.io/acme/backup:1.0.0
    schedule: "0 3 * * *"
observability:
  alerting:
    receivers:
      pager: {pagerduty: {routingKey: alertmanager-receivers/pagerduty}}
      chat: {slack: {webhookUrl: alertmanager-receivers/slack, channel: "#alerts"}}
      mail:
        email: {to: ops@example.com, from: alerts@example.com, smarthost: "smtp.example.com:587", username: alerts, password: alertmanager-receivers/smtp}
      heartbeat: {webhook: {url: "https://hc-ping.example.com/windlass", token: alertmanager-receivers/heartbeat}}
    routes:
      - {severity: critical, namespaces: [shop, data], receiver: pager}
      - {severity: critical, receiver: chat}
      - {severity: warning, receiver: chat}
    default: mail
    heartbeat: heartbeat
  logAlerts:
    oom-messages:
      selector: '{namespace=~"shop|data"}'
      match: 'Out of memory: Killed process'
      threshold: 2
  uptime:
    urls: [https://status.example.com/, http://legacy.example.com/ping]
    slow: 1500ms
"##;

pub struct Fixture {
    pub platform: Platform,
}

impl Fixture {
    pub fn new(text: &str) -> Fixture {
        let spec = match windlass_core::spec::load("test.yaml", text) {
            Ok(s) => s,
            Err(e) => panic!("the test spec does not load: {e:?}"),
        };
        let (env, file) = spec.environment(None).expect("default environment");
        Fixture {
            platform: Platform::build(file, env),
        }
    }
    pub fn apps(&self) -> Vec<&App> {
        self.platform.apps.iter().collect()
    }
    pub fn pack(&self) -> Pack {
        content::build(&self.platform, &self.apps())
    }
}

/// A tool from the test bed's bin directory or PATH. Missing: a failure when the test bed is
/// required (CI), otherwise a note and None so the test returns early.
pub fn tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(bin) = std::env::var_os("WINDLASS_TESTBED_BIN") {
        dirs.push(PathBuf::from(bin));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    if let Some(found) = dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file()) {
        return Some(found);
    }
    if std::env::var("WINDLASS_REQUIRE_TESTBED").as_deref() == Ok("1") {
        panic!("`{name}` is required (WINDLASS_REQUIRE_TESTBED=1) but not on PATH or in WINDLASS_TESTBED_BIN");
    }
    eprintln!("note: `{name}` not found; skipping (run `cargo xtask testbed env` and export its output)");
    None
}

/// Runs `tool args...` in `dir`: whether it succeeded, and stdout and stderr together.
fn run_tool(tool: &Path, args: &[&str], dir: &Path) -> (bool, String) {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs `tool args...` in `dir`, failing the test with the tool's output unless it succeeds.
pub fn run(tool: &Path, args: &[&str], dir: &Path) -> String {
    let (ok, text) = run_tool(tool, args, dir);
    assert!(ok, "`{} {}` failed:\n{text}", tool.display(), args.join(" "));
    text
}

/// Runs a tool expecting failure; returns its output.
pub fn run_failing(tool: &Path, args: &[&str], dir: &Path) -> String {
    let (ok, text) = run_tool(tool, args, dir);
    assert!(
        !ok,
        "`{} {}` unexpectedly succeeded:\n{text}",
        tool.display(),
        args.join(" ")
    );
    text
}

/// The LogQL expressions of a pack's Loki ruler groups.
pub fn log_rule_exprs(pack: &windlass_core::content::Pack) -> Vec<String> {
    pack.log_rules
        .iter()
        .flat_map(|l| {
            l.file
                .groups
                .iter()
                .flat_map(|g| g.rules.iter().map(|r| r.expr.clone()))
        })
        .collect()
}

/// The LogQL expressions of a pack's dashboard panels.
pub fn dashboard_logql(pack: &windlass_core::content::Pack) -> Vec<String> {
    pack.dashboards
        .iter()
        .flat_map(|d| {
            d.queries()
                .into_iter()
                .filter(|(kind, _)| *kind == "loki")
                .map(|(_, e)| e.to_string())
        })
        .collect()
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write file");
    p
}
