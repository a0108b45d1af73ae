//! Cluster errors as a user meets them, through the real binary: a sentence with
//! the object, the cause and the fix, never a debug dump. The kubeconfig case
//! needs no cluster; the missing-namespace case runs on the test bed.

mod common;

use common::{platform_header, text, windlass};
use windlass_testbed::TestBed;

fn spec(name: &str, apps_ns: &str, gw: &str, mon: &str) -> String {
    platform_header(name, apps_ns, gw, mon)
        + "  web:\n    image: ghcr.io/example/web:1.0.0\n    port: 8080\n    health: /healthz\n"
}

#[test]
fn a_missing_kubeconfig_is_named_with_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("windlass.yaml"), spec("p", "apps", "gw", "mon")).expect("write spec");
    let kubeconfig = dir.path().join("no-such-kubeconfig");
    let args = ["status"];
    let out = windlass(dir.path(), &kubeconfig, &args);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let k = kubeconfig.display();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: cannot read the kubeconfig {k}: it does not exist\n  \
             help: check that the file exists and is a kubeconfig (`kubectl config view --kubeconfig {k}`)\n"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_monitoring_namespace_names_the_spec_key_and_the_fix() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let gw = bed.namespace("we-gw").await.expect("namespace");
    let suffix = gw.name().trim_start_matches("we-gw-").to_string();
    // Never created: the platform unit's monitoring objects have nowhere to go.
    let mon = format!("we-mon-missing-{suffix}");
    let apps_ns = format!("we-apps-{suffix}");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("windlass.yaml"),
        spec(&format!("e{suffix}"), &apps_ns, gw.name(), &mon),
    )
    .expect("write spec");
    let out = windlass(dir.path(), bed.kubeconfig(), &["up", "--timeout", "60"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    // Both units with objects in that namespace fail on it, each with the fix: the
    // platform (its rules) and the app (its dashboard). The app's namespace uses
    // nothing of the monitoring stack and goes in.
    let expected_end = format!("cannot be created: namespace `{mon}` does not exist");
    let help = format!(
        "  help: it belongs to the monitoring stack, which the spec switches off under `platform.components` (the cluster runs its own): \
         install the monitoring stack there, or create the namespace with `kubectl create namespace {mon}`, \
         or set `platform.monitoring.namespace` to the namespace where it runs"
    );
    let lines: Vec<&str> = all.lines().collect();
    let failed = lines.iter().filter(|l| l.starts_with("✗ ")).count();
    assert_eq!(failed, 2, "{all}");
    for unit in ["platform", "app web"] {
        let line = format!("✗ {unit:<24} failed: ");
        let at = lines
            .iter()
            .position(|l| l.starts_with(&line))
            .unwrap_or_else(|| panic!("{all}"));
        assert!(lines[at].ends_with(&expected_end), "{all}");
        assert_eq!(lines.get(at + 1).copied(), Some(help.as_str()), "{all}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("✓ namespace {apps_ns} ready"))),
        "{all}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("- ")), "nothing skipped: {all}");
    for leak in ["Status {", "ApiError", "Some(", "NotFound ("] {
        assert!(!all.contains(leak), "a debug dump leaked:\n{all}");
    }
}
